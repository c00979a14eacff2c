"""Clue routes (线索): list with filters, detail, flag-flow actions, the institution's appeal with uploads,
appeal files, and the dashboard figures.

Uploads are checked before they are read: the declared request size, then each part's size and type
(PDF/JPEG/PNG by extension, declared type and magic bytes), so a 2 GB upload never reaches memory.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from fundguard.service import clues as clue_service
from fundguard.service.errors import BadUpload

from .deps import CtxDep, PageQ, SizeQ

router = APIRouter(prefix="/api", tags=["线索 clues"])

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
# Multipart overhead on top of the files themselves (boundaries, headers, the reason text).
MAX_REQUEST_BYTES = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024
ALLOWED = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
Short = Annotated[str | None, Query(max_length=64)]


class ActionIn(BaseModel):
    """A flag-flow or case action; any further fields the action needs (see ``actions[].fields``) go alongside."""

    model_config = ConfigDict(extra="allow")
    action: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1, le=2**31 - 1)
    comment: str = Field(default="", max_length=4000)

    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


@router.get("/dashboard", summary="仪表盘 / dashboard figures")
def dashboard(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return clue_service.dashboard(s, actor)


@router.get("/clues", summary="线索列表 / list clues")
def list_clues(
    ctx: CtxDep,
    status: Short = None,
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
            rule_id=rule_id or None,
            fixmedins_code=fixmedins_code or None,
            admdvs=admdvs or None,
            month=month or None,
            q=q or None,
            overdue=overdue,
            page=page,
            size=size,
        )


@router.get("/clues/{clue_id}", summary="线索详情 / clue detail")
def get_clue(clue_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return clue_service.get_clue(s, actor, clue_id, workspace=ctx.workspace)


@router.post("/clues/{clue_id}/actions", summary="线索办理 / act on a clue")
def act_on_clue(clue_id: IdPath, body: ActionIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return clue_service.act_on_clue(
            s, actor, clue_id, body.action, body.version, comment=body.comment, **body.fields()
        )


def _check_upload(upload: UploadFile) -> None:
    name = PurePath(upload.filename or "").name
    ext = PurePath(name).suffix.lower()
    if ext not in ALLOWED:
        raise BadUpload(
            f"不支持的文件类型：{name or '（无文件名）'}，仅接受 PDF、JPG、PNG",
            f"unsupported file type: {name or '(no name)'}; only PDF, JPG, PNG are accepted",
        )
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise BadUpload(f"文件 {name} 超过 10 MB", f"file {name} is larger than 10 MB", too_large=True)
    declared, magics = ALLOWED[ext]
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in ("", "application/octet-stream", declared):
        raise BadUpload(
            f"文件 {name} 的类型 {content_type} 与扩展名不符",
            f"file {name}: type {content_type} does not match its extension",
        )
    head = upload.file.read(16)
    upload.file.seek(0)
    if not any(head.startswith(m) for m in magics):
        raise BadUpload(
            f"文件 {name} 的内容不是有效的 {ext[1:].upper()} 文件",
            f"file {name} is not a valid {ext[1:].upper()} file",
        )


@router.post("/clues/{clue_id}/appeal", summary="机构申诉 / the institution appeals a flag")
def appeal(
    clue_id: IdPath,
    request: Request,
    ctx: CtxDep,
    version: Annotated[int, Form(ge=1, le=2**31 - 1)],
    reason: Annotated[str, Form(min_length=1, max_length=4000)],
    files: Annotated[list[UploadFile] | None, File(description="PDF/JPG/PNG，每个 ≤ 10 MB")] = None,
) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise BadUpload("上传内容过大", "upload too large", too_large=True)
    uploads = [f for f in (files or []) if f.filename]
    if len(uploads) > MAX_FILES:
        raise BadUpload(f"一次最多上传 {MAX_FILES} 个文件", f"at most {MAX_FILES} files", too_large=True)
    for f in uploads:
        _check_upload(f)
    payload = []
    for f in uploads:
        data = f.file.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:  # the part had no declared size
            raise BadUpload(
                f"文件 {f.filename} 超过 10 MB", f"file {f.filename} is larger than 10 MB", too_large=True
            )
        payload.append(
            (PurePath(f.filename or "").name, ALLOWED[PurePath(f.filename or "").suffix.lower()][0], data)
        )
    with ctx.session() as (s, actor):
        return clue_service.submit_appeal(s, actor, clue_id, version, reason, payload)


@router.get("/appeal-files/{file_id}", summary="申诉材料下载 / an appeal file")
def appeal_file(file_id: IdPath, ctx: CtxDep) -> Response:
    with ctx.session() as (s, actor):
        filename, content_type, data = clue_service.appeal_file(s, actor, file_id)
    return Response(data, media_type=content_type, headers=attachment(filename))


def attachment(filename: str) -> dict[str, str]:
    """A Content-Disposition that keeps a Chinese file name (RFC 5987) with an ASCII fallback."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "download"
    return {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    }
