"""医保支付资格记分 routes: the staff registry (一人一档: register, sites, Excel/CSV import), the person's file,
scoring a decided case or a 协议处理 decision, the 陈述申辩 process on each record, the nationwide lookup by
national code or ID number, and the exchange file in and out."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path as FilePath
from pathlib import PurePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from fundguard.service import points as points_service
from fundguard.service.errors import BadUpload
from fundguard.service.points.schemas import (
    ImportResult,
    Lookup,
    PointPage,
    PointRecord,
    StaffFile,
    StaffPage,
)
from fundguard.supervision.roles import POINTS_MANAGE

from .deps import CtxDep, PageQ, SizeQ, read_upload
from .process_routes import IdPath, process_routes
from .routes_cases import DOCX, PDF
from .routes_clues import attachment

router = APIRouter(prefix="/api/points", tags=["医保支付资格记分 points"])
Code = Annotated[str, Field(min_length=1, max_length=30)]


class StaffIn(BaseModel):
    national_code: Code
    id_no: Code
    name: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=20)
    fixmedins_code: Code
    pledge_on: dt.date
    department: str = Field(default="", max_length=60)


class SiteIn(BaseModel):
    fixmedins_code: Code
    department: str = Field(default="", max_length=60)


class PersonIn(BaseModel):
    national_code: Code
    responsibility: Literal["一般", "重要", "主要"] = "一般"
    adjustment: Literal["none", "mitigate", "aggravate"] = "none"


class CaseScoreIn(BaseModel):
    case_id: int = Field(ge=1, le=2**31 - 1)
    persons: list[PersonIn] = Field(min_length=1, max_length=50)
    band: int | None = Field(default=None, ge=1, le=4)


class ScoreIn(PersonIn):
    fixmedins_code: Code
    band: int = Field(ge=1, le=4)
    decided_on: dt.date
    reason: str = Field(min_length=1, max_length=4000)


@router.get("/staff", summary="人员档案列表 / staff files", response_model=StaffPage)
def list_staff(ctx: CtxDep, q: Annotated[str, Query(max_length=60)] = "", page: PageQ = 1,
               size: SizeQ = 20) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return points_service.list_staff(s, actor, q=q, page=page, size=size)


@router.post("/staff", summary="登记备案 / register a person", response_model=StaffFile)
def register_staff(body: StaffIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return points_service.register_staff(s, actor, **body.model_dump())


async def _saved(upload: UploadFile, tmp: str) -> FilePath:
    name = PurePath(upload.filename or "").name
    if PurePath(name).suffix.lower() not in (".csv", ".xlsx"):
        raise BadUpload("仅支持 CSV 或 Excel（.xlsx）文件", "only CSV or .xlsx files")
    data = read_upload(upload)
    path = FilePath(tmp) / name
    path.write_bytes(data)
    return path


@router.post("/staff/import", summary="批量登记备案（Excel/CSV）/ import staff", response_model=ImportResult)
async def import_staff(ctx: CtxDep, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = await _saved(file, tmp)
        with ctx.session() as (s, actor):
            return points_service.import_staff(s, actor, path)


@router.get("/staff/{staff_id}", summary="人员档案 / a person's file", response_model=StaffFile)
def get_staff(staff_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return points_service.get_staff(s, actor, staff_id)


@router.post(
    "/staff/{staff_id}/sites", summary="增加执业机构 / add a practice site", response_model=StaffFile
)
def add_site(staff_id: IdPath, body: SiteIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return points_service.add_site(s, actor, staff_id, body.fixmedins_code, body.department)


@router.get("/lookup", summary="全国联网查询 / qualification by national code or ID", response_model=Lookup)
def lookup(ctx: CtxDep, national_code: Annotated[str, Query(max_length=30)] = "",
           id_no: Annotated[str, Query(max_length=30)] = "") -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return points_service.lookup(s, actor, national_code=national_code, id_no=id_no)


@router.get("/records", summary="记分记录（含待陈述申辩）/ point records", response_model=PointPage)
def list_records(ctx: CtxDep, status: Annotated[str | None, Query(max_length=20)] = None, page: PageQ = 1,
                 size: SizeQ = 20) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return points_service.list_records(s, actor, status=status or None, page=page, size=size)


@router.post("/records", summary="记分（协议处理等）/ score a person", response_model=PointRecord)
def score(body: ScoreIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return points_service.score(s, actor, **body.model_dump())


@router.post("/cases", summary="按已决定案件记分 / score a decided case", response_model=list[PointRecord])
def score_case(body: CaseScoreIn, ctx: CtxDep) -> list[dict[str, Any]]:
    with ctx.session() as (s, actor):
        persons = [p.model_dump() for p in body.persons]
        return points_service.score_case(s, actor, body.case_id, persons, body.band)


process_routes(router, "/records/{record_id}", what=("记分", "point record"), model=PointRecord,
               get=points_service.get_record, act=points_service.act_on_record,
               act_summary="陈述申辩、复核、修复 / act on a point record")  # fmt: skip


@router.get("/exchange", summary="导出全国交换文件 / export the exchange file")
def export_exchange(ctx: CtxDep) -> Response:
    with ctx.session() as (s, actor):
        actor.require(POINTS_MANAGE)
        text = points_service.export_exchange(s)
    return Response(("\ufeff" + text).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="points-exchange.csv"'})  # fmt: skip


@router.post("/exchange", summary="导入外地通报 / import an exchange file", response_model=ImportResult)
async def import_exchange(ctx: CtxDep, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = await _saved(file, tmp)
        with ctx.session() as (s, actor):
            return points_service.import_exchange(s, actor, path)


@router.get("/records/{record_id}/documents/{kind}", summary="记分文书 / a points document (.docx or PDF)")
def points_document(
    record_id: IdPath,
    kind: Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")],
    ctx: CtxDep,
    format: Annotated[Literal["docx", "pdf"], Query(description="docx 或 pdf")] = "docx",
) -> Response:
    with ctx.session() as (s, actor):
        filename, data = points_service.points_document(s, actor, record_id, kind, format)
        ctx.log(s, actor.username, "document.read", f"points:{record_id}:{kind}")
    return Response(data, media_type=PDF if format == "pdf" else DOCX, headers=attachment(filename))
