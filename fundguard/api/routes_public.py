"""The public side (``/api/public/…``): no login, every route rate-limited per client (``public_guard``). This
module is the shell — the router, the guard and the shared look-ups; each public concept adds its routes in a
module of its own (``routes_public_reports``: 举报投诉; disclosure pages beside it) and one line below."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from fundguard.service.models import Region
from fundguard.service.reports.schemas import Region as RegionOut

from . import routes_public_reports
from .deps import CtxDep
from .public_guard import PublicGuard, client_of, guard_of

router = APIRouter(prefix="/api/public", tags=["公众服务 public (no login)"])


@router.get("/regions", summary="医保部门（区划）列表 / regions", response_model=list[RegionOut])
def regions(request: Request, ctx: CtxDep) -> list[dict[str, Any]]:
    guard_of(request).limit("pages", client_of(request))
    with ctx.session(authenticated=False) as (s, _):
        rows = s.execute(select(Region).order_by(Region.code)).scalars()
        return [{"code": r.code, "name": r.name, "level": r.level} for r in rows]


# the public concepts, each in its own module
router.include_router(routes_public_reports.router)

__all__ = ["PublicGuard", "router"]
