"""部门协同 and 异地就医 routes: the exchange log, export and import of exchange files (format version 1.0, JSON
body), and the cross-region views for the place of treatment and the place of insurance with joint handling."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field

from fundguard.service import crossregion
from fundguard.service import exchange as exchange_service
from fundguard.service.exchange.format import Envelope
from fundguard.service.schemas import Model

from .deps import CtxDep, read_upload
from .routes_clues import IdPath

router = APIRouter(prefix="/api", tags=["部门协同与异地就医 exchange, cross-region"])


class ExchangeMessageOut(Model):
    id: int
    message_id: str
    direction: str
    direction_zh: str
    kind: str
    kind_zh: str
    partner: str
    referral_id: int | None
    clue_id: int | None
    admdvs: str
    at: str
    by: str


class ImportResult(Model):
    imported: int
    skipped: int
    clues: list[int]
    referrals: list[int]


class CrossRegionRow(Model):
    fixmedins_code: str
    fixmedins_name: str
    admdvs: str
    settlements: int
    out_settlements: int
    out_persons: int
    out_fund: str
    share: float
    small: bool
    flag: str
    flag_zh: str


class InsuredRow(Model):
    fixmedins_code: str
    fixmedins_name: str
    admdvs: str
    settlements: int
    persons: int
    fund: str


class Indicator(Model):
    threshold: float
    treatment: list[CrossRegionRow]
    insurance: list[InsuredRow]


class LinkOut(Model):
    id: int
    side: str
    side_zh: str
    clue_id: int
    rule_name: str
    fixmedins_code: str
    fixmedins_name: str
    admdvs: str
    period: str
    status_zh: str
    insu_admdvs: str
    visits: int
    persons: int
    amount: str
    joint_status: str
    joint_status_zh: str
    joint_note: str
    clue_visible: bool


class Summary(Model):
    treatment: int
    insurance: int
    joint_requested: int
    amount: str
    treatment_settlements: int  # 就医地: out-of-region settlements at the region's institutions
    treatment_fund: str
    treatment_flagged: int  # institutions the indicator flags
    insurance_settlements: int  # 参保地: the region's insured persons' settlements elsewhere
    insurance_persons: int
    insurance_fund: str


class FlaggedClues(Model):
    flagged: int
    created: list[int]
    existing: list[int]
    links: int


class JointIn(BaseModel):
    note: str = Field(min_length=1, max_length=4000)


class JointAnswerIn(BaseModel):
    accept: bool
    note: str = Field(default="", max_length=4000)


@router.get("/exchange/messages", summary="交换记录 / exchange log", response_model=list[ExchangeMessageOut])
def list_messages(ctx: CtxDep) -> list[dict[str, Any]]:
    with ctx.session() as (s, actor):
        return exchange_service.list_messages(s, actor)


@router.get("/exchange/export", summary="导出交换文件（JSON，格式 1.0，见 docs/exchange）/ export",
            response_model=Envelope)  # fmt: skip
def export(ctx: CtxDep, partner: Annotated[str | None, Query(max_length=20)] = None) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return exchange_service.export_envelope(s, actor, partner or None)


@router.post("/exchange/import", summary="导入对方部门的交换文件 / import", response_model=ImportResult)
def import_(body: dict[str, Any], ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return exchange_service.import_envelope(s, actor, body)


@router.post("/exchange/import-file", summary="上传对方部门的交换文件（Excel/JSON）/ import a file",
             response_model=ImportResult,
             responses={422: {"description": "不符合格式的行（detail.rows：行号、消息号、原因），未导入任何消息"}})  # fmt: skip
def import_file(
    file: Annotated[UploadFile, File(description="交换文件 .xlsx（工作表“说明”“消息”）或 .json，格式 1.0")],
    ctx: CtxDep,
) -> dict[str, Any]:
    content = read_upload(file, "交换文件", "the exchange file")
    with ctx.session() as (s, actor):
        return exchange_service.import_file(s, actor, file.filename or "", content)


@router.get("/crossregion/indicator", summary="异地就医指标（就医地/参保地）/ out-of-region indicator",
            response_model=Indicator)  # fmt: skip
def indicator(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return crossregion.indicator(s, actor, ctx.workspace)


@router.get("/crossregion/clues", summary="异地就医线索 / cross-region clues", response_model=list[LinkOut])
def linked(ctx: CtxDep, side: Literal["treatment", "insurance"] = "insurance") -> list[dict[str, Any]]:
    with ctx.session() as (s, actor):
        return crossregion.list_linked(s, actor, side)


@router.post("/crossregion/flagged-clues", summary="异常异地就医机构转为线索（幂等）/ flagged institutions as clues",
             response_model=FlaggedClues)  # fmt: skip
def flagged_clues(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return crossregion.flag_clues(s, actor, ctx.workspace)


@router.get(
    "/crossregion/summary", summary="异地就医概况（仪表盘）/ dashboard figures", response_model=Summary
)
def summary(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return crossregion.summary(s, actor, ctx.workspace)


@router.post("/crossregion/links/{link_id}/joint", summary="参保地请求联合办案 / request joint handling",
             response_model=LinkOut)  # fmt: skip
def request_joint(link_id: IdPath, body: JointIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return crossregion.request_joint(s, actor, link_id, body.note)


@router.post("/crossregion/links/{link_id}/answer", summary="就医地答复联合办案 / answer joint handling",
             response_model=LinkOut)  # fmt: skip
def answer_joint(link_id: IdPath, body: JointAnswerIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return crossregion.answer_joint(s, actor, link_id, body.accept, body.note)
