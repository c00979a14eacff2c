"""Model lead routes (大数据模型线索): the ranked leads of a model run per entity type, and one lead with its
peer comparison and group graph. Scoped and masked in ``service.leads``; reading one lead is logged (it may
name an insured person)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from fundguard.service import leads as lead_service
from fundguard.service.leads.schemas import LeadDetail, LeadPage

from .deps import CtxDep, PageQ, SizeQ

router = APIRouter(prefix="/api", tags=["模型线索 leads"])

RunQ = Annotated[
    str | None, Query(pattern=r"^[0-9A-Za-z_.-]{1,64}$", description="模型运行编号 / model run id")
]
EntityType = Literal["institution", "department", "doctor", "person", "pharmacy", "group"]


@router.get("/leads", summary="模型线索列表 / ranked model leads", response_model=LeadPage)
def list_leads(
    ctx: CtxDep,
    entity_type: Annotated[EntityType | None, Query(description="对象类型 / entity type")] = None,
    run_id: RunQ = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: PageQ = 1,
    size: SizeQ = 20,
) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return lead_service.list_leads(
            s, actor, ctx.workspace, entity_type=entity_type, run_id=run_id, q=q or None, page=page, size=size
        )


@router.get("/leads/{key}", summary="模型线索详情 / one lead with peer chart and group graph",
            response_model=LeadDetail)  # fmt: skip
def get_lead(
    key: Annotated[str, Path(pattern=r"^[0-9a-f]{20}$")], ctx: CtxDep, run_id: RunQ = None
) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        detail = lead_service.lead_detail(s, actor, ctx.workspace, key, run_id)
        ctx.log(s, actor.username, "lead.read", f"lead:{key}")
        return detail
