"""Routes for the rule scorecard and pauses, ledger exports (台账 .xlsx) and the enforcement record (执法记录)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from fundguard.service import ledgers as ledger_service
from fundguard.service import record as record_service
from fundguard.service import scorecard as scorecard_service
from fundguard.service.schemas import RecordPage, ScorecardRow, Verification
from fundguard.supervision.roles import RECORD_VIEW

from .deps import CtxDep, PageQ, SizeQ
from .routes_clues import attachment

router = APIRouter(prefix="/api", tags=["规则、台账与记录 rules, ledgers, record"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RuleId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class PauseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


@router.get("/rules/scorecard", summary="规则成效 / per-rule scorecard", response_model=list[ScorecardRow])
def scorecard(ctx: CtxDep) -> Any:
    with ctx.session() as (s, actor):
        return scorecard_service.scorecard(s, actor)


@router.post("/rules/{rule_id}/pause", summary="暂停规则 / pause a rule", response_model=ScorecardRow)
def pause_rule(rule_id: RuleId, body: PauseIn, ctx: CtxDep) -> Any:
    with ctx.session() as (s, actor):
        return scorecard_service.pause_rule(s, actor, rule_id, body.reason, ctx.workspace)


@router.post("/rules/{rule_id}/resume", summary="恢复规则 / resume a rule", response_model=ScorecardRow)
def resume_rule(rule_id: RuleId, ctx: CtxDep) -> Any:
    with ctx.session() as (s, actor):
        return scorecard_service.resume_rule(s, actor, rule_id, ctx.workspace)


@router.get("/ledgers/{name}", summary="导出台账 / export a ledger (.xlsx)")
def ledger(name: Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")], ctx: CtxDep) -> Response:
    with ctx.session() as (s, actor):
        filename, data = ledger_service.export_ledger(s, actor, name)
        ctx.log(s, actor.username, "ledger.export", f"ledger:{name}")
    return Response(data, media_type=XLSX, headers=attachment(filename))


@router.get("/record", summary="执法全过程记录 / the enforcement record", response_model=RecordPage)
def record(ctx: CtxDep, page: PageQ = 1, size: SizeQ = 50) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return record_service.list_record(s, actor, page, size)


@router.get("/record/verify", summary="校验记录哈希链 / verify the hash chain", response_model=Verification)
def verify(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        actor.require(RECORD_VIEW)
        return record_service.verify(s)
