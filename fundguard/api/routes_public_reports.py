"""Public 举报投诉 routes (no login): the form's choices and a proof-of-work challenge, filing a report (the
tracking code is answered once), the status by code (status and reply only; every unknown or malformed code is
the same 404), and claiming a notified reward with the code and an identity check."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from fundguard.service import reports
from fundguard.service.errors import ValidationFailed
from fundguard.service.reports.schemas import Challenge, Filed, PublicForm, PublicReward, PublicStatus
from fundguard.supervision import reports as rules

from .deps import CtxDep
from .public_guard import client_of, guard_of

router = APIRouter(prefix="/reports")
CodePath = Annotated[str, Path(min_length=1, max_length=40, description="查询码 / tracking code")]
MAX_BODY = 8 * 1024 * 1024  # three 2 MB attachments, base64


class IdentityIn(BaseModel):
    name: str = Field(default="", max_length=50)
    phone: str = Field(default="", max_length=20)
    id_no: str = Field(default="", max_length=18)
    address: str = Field(default="", max_length=200)


class AttachmentIn(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: Literal["image/jpeg", "image/png", "application/pdf"]
    data_base64: str = Field(min_length=4, max_length=3_000_000)


class ReportIn(BaseModel):
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
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=3)
    challenge: str = Field(max_length=200)
    solution: str = Field(max_length=20)


class ClaimIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    id_no: str = Field(min_length=1, max_length=18)
    phone: str = Field(default="", max_length=20)
    challenge: str = Field(max_length=200)
    solution: str = Field(max_length=20)


@router.get("/form", summary="举报表单选项 / the form's choices", response_model=PublicForm)
def form(request: Request, ctx: CtxDep) -> dict[str, Any]:
    from sqlalchemy import select

    from fundguard.service.models import Region

    guard_of(request).limit("pages", client_of(request))
    with ctx.session(authenticated=False) as (s, _):
        regions = [{"code": r.code, "name": r.name, "level": r.level}
                   for r in s.execute(select(Region).order_by(Region.code)).scalars()]  # fmt: skip
    return {"regions": regions,
            "target_kinds": [{"value": k, "label_zh": v} for k, v in rules.TARGETS.items()],
            "violation_types": [{"value": k, "label_zh": v} for k, v in rules.VIOLATION_TYPES.items()]}  # fmt: skip


@router.get("/challenge", summary="防刷验证（工作量证明）/ proof-of-work challenge", response_model=Challenge)
def challenge(request: Request) -> dict[str, Any]:
    guard = guard_of(request)
    guard.limit("challenge", client_of(request))
    return {"challenge": guard.issue(), "bits": guard.bits,
            "question_zh": "浏览器将自动完成一次计算验证（约 1 秒），无需联网"}  # fmt: skip


def _decode(a: AttachmentIn) -> tuple[str, str, bytes]:
    try:
        return a.filename, a.content_type, base64.b64decode(a.data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("附件编码无效", "attachment is not valid base64") from None


@router.post("", summary="提交举报（返回查询码，仅显示一次）/ file a report", response_model=Filed)
def file_report(body: ReportIn, request: Request, ctx: CtxDep) -> dict[str, Any]:
    guard = guard_of(request)
    guard.limit("file", client_of(request))
    guard.check(body.challenge, body.solution)
    fields = body.model_dump(exclude={"challenge", "solution", "attachments", "identity"})
    with ctx.session(authenticated=False) as (s, _):
        return reports.file_report(s, **fields, identity=body.identity.model_dump() if body.identity else None,
                                   attachments=[_decode(a) for a in body.attachments])  # fmt: skip


@router.get(
    "/{code}", summary="凭查询码查询办理状态与答复 / status by tracking code", response_model=PublicStatus
)
def status(code: CodePath, request: Request, ctx: CtxDep) -> dict[str, Any]:
    guard_of(request).limit("track", client_of(request))
    with ctx.session(authenticated=False) as (s, _):
        return reports.public_status(s, code)


@router.post(
    "/{code}/claim", summary="领取举报奖励（查询码 + 身份核验）/ claim a reward", response_model=PublicReward
)
def claim(code: CodePath, body: ClaimIn, request: Request, ctx: CtxDep) -> dict[str, Any]:
    guard = guard_of(request)
    guard.limit("claim", client_of(request))
    guard.check(body.challenge, body.solution)
    with ctx.session(authenticated=False) as (s, _):
        return reports.claim(s, code, name=body.name, id_no=body.id_no, phone=body.phone)
