"""Clue routes (线索): list with filters, detail, flag-flow actions, the institution's appeal with uploads,
appeal files, and the dashboard figures.

Uploads: the app refuses a body over ``MAX_REQUEST_BYTES`` before parsing (``app.BodyLimit``); here each
part's name and declared size are checked before it is read, and at most 10 MB + 1 byte of it is read; the
service then checks type and content (PDF/JPEG/PNG magic bytes) in full.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fundguard.service import cases as case_service
from fundguard.service import clues as clue_service
from fundguard.service.clues import MAX_FILE_BYTES, MAX_FILES, UPLOAD_TYPES
from fundguard.service.clues.schemas import ClueDetail, CluePage, Dashboard
from fundguard.service.errors import BadUpload

from .deps import CtxDep, PageQ, SizeQ

router = APIRouter(prefix="/api", tags=["线索 clues"])

# Multipart overhead on top of the files themselves (boundaries, part headers, the reason text).
MAX_REQUEST_BYTES = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
Short = Annotated[str | None, Query(max_length=64)]


class ActionIn(BaseModel):
    """A flag-flow or case action; any further fields the action needs (see ``actions[].fields``) go alongside."""

    model_config = ConfigDict(extra="allow")
    action: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1, le=2**31 - 1)
    comment: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _no_reserved_fields(self) -> ActionIn:
        # the extra fields become keyword arguments of the service call: a name of its own parameters (e.g.
        # "actor") would collide there and answer 500
        clash = sorted(set(self.model_extra or {}) & RESERVED_FIELDS)
        if clash:
            raise ValueError(f"字段名不可用 reserved field names: {', '.join(clash)}")
        return self

    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


RESERVED_FIELDS = frozenset(
    {
        "session",
        "actor",
        "clue_id",
        "case_id",
        "referral_id",
        "transfer_id",
        "flight_id",
        "campaign_id",
        "return_id",
        "record_id",
        "fields",
    }
)


@router.get("/dashboard", summary="仪表盘 / dashboard figures", response_model=Dashboard)
def dashboard(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return clue_service.dashboard(s, actor)


@router.get("/clues", summary="线索列表 / list clues", response_model=CluePage)
def list_clues(
    ctx: CtxDep,
    status: Short = None,
    source: Short = None,
    rule_id: Short = None,
    fixmedins_code: Short = None,
    admdvs: Annotated[str | None, Query(pattern=r"^\d{2,6}$")] = None,
    month: Month = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    overdue: Annotated[bool | None, Query(description="只看超期 / overdue only")] = None,
    page: PageQ = 1,
    size: SizeQ = 20,
) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return clue_service.list_clues(
            s,
            actor,
            status=status or None,
            source=source or None,
            rule_id=rule_id or None,
            fixmedins_code=fixmedins_code or None,
            admdvs=admdvs or None,
            month=month or None,
            q=q or None,
            overdue=overdue,
            page=page,
            size=size,
        )


@router.get("/clues/{clue_id}", summary="线索详情 / clue detail", response_model=ClueDetail)
def get_clue(clue_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        ctx.log(s, actor.username, "clue.read", f"clue:{clue_id}")
        return clue_service.get_clue(s, actor, clue_id, workspace=ctx.workspace)


@router.post("/clues/{clue_id}/actions", summary="线索办理 / act on a clue", response_model=ClueDetail)
def act_on_clue(clue_id: IdPath, body: ActionIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        if body.action == "open_case":  # 立案 creates the case (and moves the clue)
            case_service.open_case(s, actor, clue_id, body.version, str(body.fields().get("psn_no") or ""))
            return clue_service.get_clue(s, actor, clue_id, workspace=ctx.workspace)
        return clue_service.act_on_clue(
            s, actor, clue_id, body.action, body.version, comment=body.comment, **body.fields()
        )


def _precheck(upload: UploadFile) -> str:
    """Refuse by name and declared size before reading; the service checks type and content in full."""
    name = PurePath(upload.filename or "").name
    if PurePath(name).suffix.lower() not in UPLOAD_TYPES:
        raise BadUpload(
            f"不支持的文件类型：{name or '（无文件名）'}，仅接受 PDF、JPG、PNG",
            f"unsupported file type: {name or '(no name)'}; only PDF, JPG, PNG",
        )
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise BadUpload(f"文件 {name} 超过 10 MB", f"file {name} is larger than 10 MB", too_large=True)
    return name


@router.post(
    "/clues/{clue_id}/appeal", summary="机构申诉 / the institution appeals a flag", response_model=ClueDetail
)
def appeal(
    clue_id: IdPath,
    ctx: CtxDep,
    version: Annotated[int, Form(ge=1, le=2**31 - 1)],
    reason: Annotated[str, Form(min_length=1, max_length=4000)],
    files: Annotated[list[UploadFile] | None, File(description="PDF/JPG/PNG，每个 ≤ 10 MB")] = None,
) -> dict[str, Any]:
    uploads = [f for f in (files or []) if f.filename]
    if len(uploads) > MAX_FILES:
        raise BadUpload(f"一次最多上传 {MAX_FILES} 个文件", f"at most {MAX_FILES} files", too_large=True)
    names = [_precheck(f) for f in uploads]
    # at most one byte over the limit is read, so a part without a declared size cannot grow memory
    payload = [
        (n, f.content_type or "", f.file.read(MAX_FILE_BYTES + 1))
        for n, f in zip(names, uploads, strict=True)
    ]
    with ctx.session() as (s, actor):
        return clue_service.submit_appeal(s, actor, clue_id, version, reason, payload)


@router.get("/appeal-files/{file_id}", summary="申诉材料下载 / an appeal file")
def appeal_file(file_id: IdPath, ctx: CtxDep) -> Response:
    with ctx.session() as (s, actor):
        filename, content_type, data = clue_service.appeal_file(s, actor, file_id)
        ctx.log(s, actor.username, "appeal_file.read", f"appeal_file:{file_id}")
    return Response(data, media_type=content_type, headers=attachment(filename))


def attachment(filename: str) -> dict[str, str]:
    """A Content-Disposition that keeps a Chinese file name (RFC 5987) with an ASCII fallback."""
    suffix = PurePath(filename).suffix
    fallback = "".join(ch for ch in filename if ch.isascii() and (ch.isalnum() or ch in "-_.")).strip(".")
    if not fallback or fallback == suffix.lstrip("."):
        fallback = f"download{suffix}" if suffix.isascii() else "download"
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"}
