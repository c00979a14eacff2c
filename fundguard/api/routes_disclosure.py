"""信息公开 in the workbench: draft an item of a kind, read it, move it on the disclosure process (submit → the
head approves → publish → withdraw). The public side is ``routes_public_disclosure``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fundguard.service import disclosure as disclosure_service
from fundguard.service.disclosure.schemas import DisclosureDetail, DisclosurePage

from .deps import CtxDep, PageQ, SizeQ
from .routes_clues import ActionIn, IdPath

router = APIRouter(prefix="/api", tags=["信息公开 disclosure"])

Kind = Literal["typical_case", "flight_notice", "draw", "fund_use", "joint_punishment"]


class DisclosureIn(BaseModel):
    kind: Kind
    case_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    draw_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    fixmedins_code: str = Field(default="", max_length=30)
    year: int | None = Field(default=None, ge=2000, le=2100)
    text: str = Field(default="", max_length=8000, description="典型案例说明或公告正文（将自动脱敏）")


@router.post("/disclosures", summary="起草公开事项 / draft a disclosure", response_model=DisclosureDetail)
def create_disclosure(body: DisclosureIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return disclosure_service.create_disclosure(
            s, actor, kind=body.kind, case_id=body.case_id, draw_id=body.draw_id,
            fixmedins_code=body.fixmedins_code, year=body.year, text=body.text, workspace=ctx.workspace,
        )  # fmt: skip


@router.get("/disclosures", summary="公开事项列表 / list disclosures", response_model=DisclosurePage)
def list_disclosures(
    ctx: CtxDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    page: PageQ = 1,
    size: SizeQ = 20,
) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return disclosure_service.list_disclosures(s, actor, status=status or None, kind=kind or None,
                                                   page=page, size=size)  # fmt: skip


@router.get("/disclosures/{disclosure_id}", summary="公开事项详情 / disclosure detail",
            response_model=DisclosureDetail)  # fmt: skip
def get_disclosure(disclosure_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return disclosure_service.get_disclosure(s, actor, disclosure_id)


@router.post("/disclosures/{disclosure_id}/actions", summary="公开事项办理（提交、审批、发布、撤回）/ act",
             response_model=DisclosureDetail)  # fmt: skip
def act_on_disclosure(disclosure_id: IdPath, body: ActionIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return disclosure_service.act_on_disclosure(
            s, actor, disclosure_id, body.action, body.version, comment=body.comment, **body.fields()
        )
