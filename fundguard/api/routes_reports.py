"""举报处理与奖励, the handlers' side: reports in scope (facts only), recording a phone/letter/visit report, the
process actions, reward exclusions, the designated role's decryption of the identity (with a reason, logged),
attachments, statistics; rewards (compute, approve, notify, pay) and the payment ledger (.xlsx)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from fundguard.service import reports
from fundguard.service.reports.schemas import (
    Filed,
    Identity,
    ReportDetail,
    ReportPage,
    RewardDetail,
    RewardPage,
    Statistics,
)

from .deps import CtxDep, PageQ, SizeQ
from .routes_clues import ActionIn, IdPath
from .routes_public_reports import IdentityIn

router = APIRouter(prefix="/api", tags=["举报处理与奖励 reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RecordIn(BaseModel):
    """A report taken by phone, letter, fax or visit, recorded by the officer (令第5号: non-written reports)."""

    channel: Literal["phone", "letter", "fax", "visit", "internet"]
    target_kind: str = Field(max_length=20)
    violation_type: str = Field(max_length=30)
    target_name: str = Field(max_length=200)
    description: str = Field(max_length=5000)
    happened: str = Field(default="", max_length=100)
    place: str = Field(default="", max_length=200)
    admdvs: str = Field(max_length=6)
    real_name: bool = False
    identity: IdentityIn | None = None
    insider: bool = False


class RevealIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class ExclusionIn(BaseModel):
    excluded: Literal["", "staff", "self_reporting", "already_known"]
    version: int = Field(ge=1, le=2**31 - 1)


class RewardIn(BaseModel):
    grade: int = Field(ge=1, le=3)
    insider: bool | None = None


@router.get("/reports", summary="举报列表 / reports", response_model=ReportPage)
def list_reports(ctx: CtxDep, status: Annotated[str, Query(max_length=20)] = "", overdue: bool = False,
                 page: PageQ = 1, size: SizeQ = 20) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return reports.list_reports(s, actor, status=status, overdue=overdue, page=page, size=size)


@router.post("/reports", summary="登记电话、信函、来访举报 / record a report", response_model=Filed)
def record_report(body: RecordIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        fields = body.model_dump(exclude={"identity"})
        return reports.file_report(s, **fields, identity=body.identity.model_dump() if body.identity else None,
                                   actor=actor)  # fmt: skip


@router.get("/reports/statistics", summary="举报统计 / statistics", response_model=Statistics)
def statistics(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return reports.statistics(s, actor)


@router.get(
    "/reports/{report_id}", summary="举报详情（不含举报人信息）/ report detail", response_model=ReportDetail
)
def get_report(report_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return reports.get_report(s, actor, report_id)


@router.post(
    "/reports/{report_id}/actions",
    summary="受理、移交、转线索、办结、告知 / act",
    response_model=ReportDetail,
)
def act(report_id: IdPath, body: ActionIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return reports.act_on_report(s, actor, report_id, body.action, body.version, comment=body.comment,
                                     **body.fields())  # fmt: skip


@router.post(
    "/reports/{report_id}/exclusion",
    summary="认定奖励排除情形 / mark an exclusion",
    response_model=ReportDetail,
)
def exclusion(report_id: IdPath, body: ExclusionIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return reports.set_exclusion(s, actor, report_id, body.excluded, body.version)


@router.post("/reports/{report_id}/identity", summary="解密举报人信息（须写明理由，记入日志）/ reveal the identity",
             response_model=Identity)  # fmt: skip
def identity(report_id: IdPath, body: RevealIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return reports.reveal_identity(s, actor, report_id, body.reason, ctx.client)


@router.get("/reports/{report_id}/attachments/{attachment_id}", summary="下载附件 / an attachment")
def attachment(report_id: IdPath, attachment_id: IdPath, ctx: CtxDep) -> Response:
    with ctx.session() as (s, actor):
        name, ctype, data = reports.attachment(s, actor, report_id, attachment_id)
        ctx.log(s, actor.username, "report.attachment", f"report:{report_id}")
    return Response(data, media_type=ctype,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})  # fmt: skip


@router.post(
    "/reports/{report_id}/reward", summary="核定举报奖励 / compute the reward", response_model=RewardDetail
)
def compute_reward(report_id: IdPath, body: RewardIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        w = reports.compute(s, actor, report_id, grade=body.grade, insider=body.insider)
        return reports.get_reward(s, actor, w["id"])


@router.get("/rewards", summary="举报奖励列表 / rewards", response_model=RewardPage)
def list_rewards(ctx: CtxDep, page: PageQ = 1, size: SizeQ = 20) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return reports.list_rewards(s, actor, page=page, size=size)


@router.get(
    "/rewards/ledger.xlsx", summary="举报奖励发放台账（Excel）/ payment ledger", response_class=Response
)
def reward_ledger(ctx: CtxDep) -> Response:
    with ctx.session() as (s, actor):
        data = reports.payment_ledger(s, actor)
        ctx.log(s, actor.username, "ledger.export", "ledger:report_rewards")
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''report_rewards.xlsx"})  # fmt: skip


@router.get("/rewards/{reward_id}", summary="举报奖励详情 / reward", response_model=RewardDetail)
def get_reward(reward_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return reports.get_reward(s, actor, reward_id)


@router.post(
    "/rewards/{reward_id}/actions", summary="审批、通知、发放 / act on a reward", response_model=RewardDetail
)
def act_on_reward(reward_id: IdPath, body: ActionIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return reports.act_on_reward(s, actor, reward_id, body.action, body.version, comment=body.comment,
                                     **body.fields())  # fmt: skip
