"""公众查询 (no login): a person's payment-qualification status by national code, JSON for other systems and the
plain page ``/public/points.html``. Rate-limited per client address (the public guard's own ``points`` count,
``FUNDGUARD_PUBLIC_LIMIT_POINTS``) and overall (429 with ``Retry-After``) so the registry cannot be walked; each lookup is in the access log (anonymous, with the client address)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from fundguard.api.realtime_guard import RateLimiter
from fundguard.service.errors import TooManyAttempts
from fundguard.service.points.public import public_status
from fundguard.service.schemas import Model

from .deps import CtxDep
from .public_guard import guard_of

router = APIRouter(prefix="/api/public/points", tags=["公众查询 public"])
# Overall: 20 a second for the whole site (per address: the public guard's ``points`` limit).
OVERALL = (20, 40)


class PublicStatus(Model):
    national_code: str
    name: str
    status: str
    status_zh: str
    until: str | None
    on_date: str


def _admit(request: Request, client: str) -> None:
    guard_of(request).limit("points", client or "-")
    state = request.app.state
    if not hasattr(state, "public_points_overall"):  # one per app (tests build several apps)
        state.public_points_overall = RateLimiter(*OVERALL)
    wait = state.public_points_overall.take("all")
    if wait:
        raise TooManyAttempts(
            "查询过于频繁，请稍后再试", "too many lookups; retry later", retry_after=max(1, round(wait + 0.5))
        )


@router.get("/status", summary="医保支付资格公众查询 / public status by national code", response_model=PublicStatus,
            responses={429: {"description": "查询过于频繁 / rate limited, see Retry-After"}})  # fmt: skip
def status(
    request: Request,
    ctx: CtxDep,
    national_code: Annotated[str, Query(min_length=1, max_length=30, description="国家医保编码")],
) -> dict[str, Any]:
    _admit(request, ctx.client)
    with ctx.session(authenticated=False) as (s, _):
        out = public_status(s, national_code)
        ctx.log(s, "-", "public.points_lookup", out["national_code"], out["status"])
    return out
