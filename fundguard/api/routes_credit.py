"""医保信用 routes: grades by subject with reasons, a subject's history, recompute, the distribution for the
dashboard (by region), 双随机 draw weights, payment measures by grade, an insured person's credit and 联网结算
standing, and the 严重失信名单 (list, enter, export for partner departments, public disclosure). A subject leaves
the list only through 信用修复 (``/repairs``): the old direct ``POST /blacklist/{id}/leave`` is gone."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from fundguard.service import credit as credit_service
from fundguard.service.credit.schemas import (
    BlacklistEntry,
    BlacklistPage,
    CreditGrade,
    CreditRepair,
    Distribution,
    DrawWeights,
    GradeMeasures,
    GradePage,
    InsuredCredit,
    Recomputed,
    RepairPage,
)
from fundguard.supervision.roles import CREDIT_VIEW

from .deps import CtxDep, PageQ, SizeQ
from .process_routes import ActionIn, IdPath
from .routes_clues import attachment

router = APIRouter(prefix="/api/credit", tags=["医保信用 credit"])
Subject = Literal["institution", "staff", "insured"]
RegionQ = Annotated[str, Query(pattern=r"^(\d{6})?$", description="医保区划（6 位，须在本人范围内）")]


class RecomputeIn(BaseModel):
    year: int | None = Field(default=None, ge=2000, le=2100)


class BlacklistIn(BaseModel):
    subject_type: Subject
    subject_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=4000)
    public: bool = False


@router.get("/grades", summary="信用等级 / latest grades", response_model=GradePage)
def list_grades(ctx: CtxDep, subject_type: Subject = "institution",
                grade: Annotated[str, Query(max_length=4)] = "", page: PageQ = 1, size: SizeQ = 20) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return credit_service.list_grades(
            s, actor, subject_type=subject_type, grade=grade, page=page, size=size
        )


@router.get("/history/{subject_type}/{subject_id}", summary="信用等级历史 / grade history",
            response_model=list[CreditGrade])  # fmt: skip
def history(subject_type: Subject, subject_id: str, ctx: CtxDep) -> list[dict[str, Any]]:
    with ctx.session() as (s, actor):
        return credit_service.history(s, actor, subject_type, subject_id)


@router.post("/recompute", summary="重新评价 / recompute the grades", response_model=Recomputed)
def recompute(body: RecomputeIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return credit_service.recompute(s, actor, body.year)


@router.get("/distribution", summary="等级分布 / grade distribution", response_model=Distribution)
def distribution(ctx: CtxDep, region: RegionQ = "") -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return credit_service.distribution(s, actor, region)


@router.get("/draw-weights", summary="双随机抽取权重 / draw weights", response_model=DrawWeights)
def draw_weights(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return {"weights": credit_service.draw_weights(s, actor)}


@router.get("/blacklist", summary="严重失信名单 / the blacklist", response_model=BlacklistPage)
def list_blacklist(ctx: CtxDep, current: bool = True, page: PageQ = 1, size: SizeQ = 20) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return credit_service.list_blacklist(s, actor, current=current, page=page, size=size)


@router.post("/blacklist", summary="列入失信名单 / list a subject", response_model=BlacklistEntry)
def add_to_blacklist(body: BlacklistIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return credit_service.add_to_blacklist(s, actor, **body.model_dump())


@router.get("/blacklist/public", summary="失信名单公开 / public disclosure (no login)",
            response_model=list[BlacklistEntry])  # fmt: skip
def public_blacklist(ctx: CtxDep) -> list[dict[str, Any]]:
    with ctx.session(authenticated=False) as (s, _):
        return credit_service.public_blacklist(s)


@router.get("/blacklist/export", summary="失信联合惩戒名单 / the list for partner departments")
def export_blacklist(ctx: CtxDep, region: RegionQ = "",
                     form: Annotated[Literal["xlsx", "json", "csv"], Query(alias="format")] = "xlsx") -> Response:  # fmt: skip
    """The current list in the documented format ``fundguard-joint-punishment`` 1.0 (docs/exchange/joint-punishment.md),
    as Excel (default), JSON or CSV, unmasked, scoped to the officer's region (or ``region`` within it); the export
    is recorded with who made it."""
    with ctx.session() as (s, actor):
        doc = credit_service.punishment.build(s, actor, region=region, form=form)
    name = f"失信联合惩戒名单-{doc['region']}-{doc['as_of']}"
    if form == "json":
        return Response(credit_service.punishment.to_json(doc).encode("utf-8"),
                        media_type="application/json; charset=utf-8", headers=attachment(f"{name}.json"))  # fmt: skip
    if form == "csv":
        return Response(("\ufeff" + credit_service.punishment.to_csv(doc)).encode("utf-8"),
                        media_type="text/csv; charset=utf-8", headers=attachment(f"{name}.csv"))  # fmt: skip
    return Response(credit_service.punishment.to_xlsx(doc), headers=attachment(f"{name}.xlsx"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip


@router.get(
    "/measures", summary="各等级结算措施 / payment measures by grade", response_model=list[GradeMeasures]
)
def measures(ctx: CtxDep) -> list[dict[str, Any]]:
    with ctx.session() as (_, actor):
        actor.require(CREDIT_VIEW)
        return credit_service.measures_table()


@router.get("/insured/{psn_no}", summary="参保人员信用与联网结算状态 / an insured person's credit",
            response_model=InsuredCredit)  # fmt: skip
def insured(psn_no: Annotated[str, Path(min_length=1, max_length=64)], ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return credit_service.insured_standing(s, actor, psn_no)


class RepairIn(BaseModel):
    subject_type: Subject
    subject_id: str = Field(min_length=1, max_length=64)
    rectification: str = Field(min_length=1, max_length=4000, description="整改情况说明")
    evidence: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=20)
    pledge: str = Field(min_length=1, max_length=2000, description="信用承诺")


@router.get("/repairs", summary="信用修复申请 / credit repair applications", response_model=RepairPage)
def list_repairs(ctx: CtxDep, status: Annotated[str, Query(max_length=20)] = "", page: PageQ = 1,
                 size: SizeQ = 20) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return credit_service.list_repairs(s, actor, status=status, page=page, size=size)


@router.post("/repairs", summary="申请信用修复 / apply for credit repair", response_model=CreditRepair)
def apply_repair(body: RepairIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return credit_service.apply_repair(s, actor, **body.model_dump())


@router.get(
    "/repairs/{repair_id}", summary="信用修复详情 / a repair application", response_model=CreditRepair
)
def get_repair(repair_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return credit_service.get_repair(s, actor, repair_id)


@router.post(
    "/repairs/{repair_id}/actions", summary="受理、审核、审批 / act on a repair", response_model=CreditRepair
)
def act_on_repair(repair_id: IdPath, body: ActionIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return credit_service.act_on_repair(s, actor, repair_id, body.action, body.version,
                                            comment=body.comment, **body.fields())  # fmt: skip
