"""Case routes (案件): open a case from a clue, list, detail, procedure actions and the case documents (.docx)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from fundguard.service import cases as case_service
from fundguard.service.cases.schemas import CaseDetail, CasePage

from .deps import CtxDep, PageQ, SizeQ
from .process_routes import IdPath, process_routes
from .routes_clues import attachment

router = APIRouter(prefix="/api", tags=["案件 cases"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"


class OpenCaseIn(BaseModel):
    clue_id: int = Field(ge=1, le=2**31 - 1)
    clue_version: int = Field(ge=1, le=2**31 - 1)
    psn_no: str = Field(
        default="", max_length=64, description="对参保个人立案（条例第四十一条）/ an individual party"
    )


@router.post("/cases", summary="立案 / open a case from a clue", response_model=CaseDetail)
def open_case(body: OpenCaseIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return case_service.open_case(s, actor, body.clue_id, body.clue_version, body.psn_no)


@router.get("/cases", summary="案件列表 / list cases", response_model=CasePage)
def list_cases(
    ctx: CtxDep,
    status: Annotated[str | None, Query(max_length=64)] = None,
    page: PageQ = 1,
    size: SizeQ = 20,
) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return case_service.list_cases(s, actor, status=status or None, page=page, size=size)


process_routes(router, "/cases/{case_id}", what=("案件", "case"), model=CaseDetail, get=case_service.get_case,
               act=case_service.act_on_case, read_log="case.read")  # fmt: skip


@router.get("/cases/{case_id}/documents/{kind}", summary="案件文书 / a case document (.docx or PDF)")
def case_document(
    case_id: IdPath,
    kind: Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")],
    ctx: CtxDep,
    format: Annotated[Literal["docx", "pdf"], Query(description="docx 或 pdf")] = "docx",
) -> Response:
    with ctx.session() as (s, actor):
        filename, data = case_service.case_document(s, actor, case_id, kind, format)
        ctx.log(s, actor.username, "document.read", f"case:{case_id}:{kind}")
    return Response(data, media_type=PDF if format == "pdf" else DOCX, headers=attachment(filename))
