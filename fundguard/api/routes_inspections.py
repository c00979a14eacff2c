"""Inspection routes: the registries (检查对象、检查人员/专家/第三方人员、第三方机构) with history and Excel/CSV
import, and 双随机一公开 draws (draw, redraw citing the old one, publish, the sealed record, verification)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from fundguard.service import inspections as svc
from fundguard.service.draw_weights import pool_weights
from fundguard.service.focus import focus_targets
from fundguard.service.inspections.schemas import (
    Agency,
    Change,
    Draw,
    DrawCheck,
    DrawPage,
    DrawRecord,
    Flight,
    FlightPage,
    ImportResult,
    Inspector,
    InspectorPage,
    PlanCoverage,
    PlanItem,
    PlanItemPage,
    Problem,
    ProblemPage,
    Target,
    TargetImportResult,
    TargetPage,
)

from .deps import CtxDep, PageQ, SizeQ, read_upload
from .process_routes import IdPath, process_routes
from .routes_cases import DOCX, PDF
from .routes_clues import attachment

router = APIRouter(prefix="/api/inspections", tags=["监督检查 inspections"])


class TargetIn(BaseModel):
    risk_weight: int | None = Field(default=None, ge=1, le=10)
    eligible: bool | None = None
    note: str | None = Field(default=None, max_length=2000)
    last_inspected: dt.date | None = None


class InspectorIn(BaseModel):
    kind: Literal["officer", "expert", "agency_staff"] = "officer"
    name: str = Field(min_length=1, max_length=100)
    cert_no: str = Field(default="", max_length=40)
    admdvs: str = Field(default="", max_length=6)
    department: str = Field(default="", max_length=100)
    speciality: str = Field(default="", max_length=200)
    agency_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    available: bool = True
    former_employers: str = Field(default="", max_length=2000, description="机构编码，分号分隔")
    relatives_at: str = Field(default="", max_length=2000, description="机构编码，分号分隔")


class AgencyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(default="", max_length=18)
    admdvs: str = Field(default="", max_length=6)
    speciality: str = Field(default="", max_length=200)
    contact: str = Field(default="", max_length=200)


class RulesIn(BaseModel):
    ratio: float = Field(default=0.1, gt=0, le=1)
    min_per_stratum: int = Field(default=1, ge=0, le=1000)
    strata: list[Literal["fixmedins_type", "hosp_lv", "admdvs"]] = ["fixmedins_type", "hosp_lv", "admdvs"]
    risk_weighted: bool = True
    team_size: int = Field(default=2, ge=2, le=20)
    max_per_inspector: int = Field(default=0, ge=0, le=1000)
    recuse_same_county: bool = True


class DrawIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    seed_value: str = Field(
        min_length=1, max_length=200, description="抽取前已确定的值（公开数字、见证人录入值）"
    )
    rules: RulesIn = RulesIn()
    previous_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="重抽时被替代的抽取")
    reason: str = Field(default="", max_length=4000)
    focus: list[Literal["crossregion"]] = Field(default_factory=list, max_length=5,
                                                description="重点领域（crossregion：异地就医），加权并注明原因")  # fmt: skip


@router.get("/targets", summary="检查对象名录库 / inspection targets", response_model=TargetPage)
def list_targets(ctx: CtxDep, q: Annotated[str, Query(max_length=100)] = "", page: PageQ = 1,
                 size: SizeQ = 50) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return svc.list_targets(s, actor, page=page, size=size, q=q)


@router.patch("/targets/{code}", summary="修改检查对象 / edit a target", response_model=Target)
def update_target(code: Annotated[str, Path(max_length=30)], body: TargetIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.update_target(s, actor, code, **body.model_dump())


@router.get(
    "/people", summary="检查人员、专家与第三方人员 / inspectors and experts", response_model=InspectorPage
)
def list_people(ctx: CtxDep, kind: Literal["officer", "expert", "agency_staff"] | None = None, page: PageQ = 1,
                size: SizeQ = 50) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return svc.list_inspectors(s, actor, kind=kind, page=page, size=size)


@router.post("/people", summary="新增人员 / add a person", response_model=Inspector)
def create_person(body: InspectorIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.save_inspector(s, actor, body.model_dump())


@router.put("/people/{person_id}", summary="修改人员 / edit a person", response_model=Inspector)
def update_person(person_id: IdPath, body: InspectorIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.save_inspector(s, actor, body.model_dump(), person_id)


@router.post("/targets/import", summary="从 Excel/CSV 导入检查对象名录 / import the target registry",
             response_model=TargetImportResult)  # fmt: skip
def import_targets(
    file: Annotated[
        UploadFile, File(description=".xlsx 或 .csv（列：机构编码、风险权重、纳入抽查、最近检查日期、备注）")
    ],
    ctx: CtxDep,
) -> dict[str, Any]:
    content = read_upload(file)
    with ctx.session() as (s, actor):
        return svc.import_targets(s, actor, file.filename or "", content)


@router.post("/people/import", summary="从 Excel/CSV 导入人员 / import people", response_model=ImportResult)
def import_people(
    file: Annotated[UploadFile, File(description=".xlsx 或 .csv")], ctx: CtxDep
) -> dict[str, Any]:
    content = read_upload(file)
    with ctx.session() as (s, actor):
        return svc.import_inspectors(s, actor, file.filename or "", content)


@router.get(
    "/history/{registry}/{key}", summary="名录库修改历史 / registry history", response_model=list[Change]
)
def registry_history(registry: Literal["target", "inspector", "agency"],
                     key: Annotated[str, Path(max_length=40)], ctx: CtxDep) -> list[dict[str, Any]]:  # fmt: skip
    with ctx.session() as (s, actor):
        return svc.history(s, actor, registry, key)


@router.get("/agencies", summary="第三方机构 / third-party agencies", response_model=list[Agency])
def list_agencies(ctx: CtxDep) -> list[dict[str, Any]]:
    with ctx.session() as (s, actor):
        return svc.list_agencies(s, actor)


@router.post("/agencies", summary="新增第三方机构 / add an agency", response_model=Agency)
def create_agency(body: AgencyIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.save_agency(s, actor, body.model_dump())


@router.get("/draws", summary="双随机抽取（监管人员：全部；其他：已公开）/ draws", response_model=DrawPage)
def list_draws(ctx: CtxDep, page: PageQ = 1, size: SizeQ = 20) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.list_draws(s, actor, page=page, size=size)


@router.post("/draws", summary="抽取或重抽 / draw (or redraw)", response_model=Draw)
def make_draw(body: DrawIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.make_draw(s, actor, title=body.title, seed_value=body.seed_value,
                             rules=body.rules.model_dump(), previous_id=body.previous_id, reason=body.reason,
                             weigh=pool_weights(ctx.workspace, focus=body.focus, actor=actor))  # fmt: skip


@router.get("/draws/{draw_id}", summary="抽取详情 / a draw", response_model=Draw)
def get_draw(draw_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.get_draw(s, actor, draw_id)


@router.post("/draws/{draw_id}/publish", summary="公开抽取结果 / publish a draw", response_model=Draw)
def publish_draw(draw_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.publish_draw(s, actor, draw_id)


@router.get("/draws/{draw_id}/record", summary="封存的抽取记录（JSON）/ the sealed draw record",
            response_model=DrawRecord)  # fmt: skip
def draw_record(draw_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.draw_record(s, actor, draw_id)


@router.get("/draws/{draw_id}/verify", summary="校验抽取记录 / verify a draw", response_model=DrawCheck)
def verify_draw(draw_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.verify_draw(s, actor, draw_id)


class FlightIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    trigger: Literal["annual_plan", "major_report", "model_lead", "media", "upper_assignment"]
    fixmedins_code: str = Field(min_length=1, max_length=30)
    scope: str = Field(default="", max_length=4000, description="检查范围与重点")
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    draw_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="年度计划检查引用的双随机抽取")


@router.get("/flights", summary="飞行检查列表 / flight inspections", response_model=FlightPage)
def list_flights(ctx: CtxDep, page: PageQ = 1, size: SizeQ = 20) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.list_flights(s, actor, page=page, size=size)


@router.post("/flights", summary="制定飞行检查方案 / plan a flight inspection", response_model=Flight)
def create_flight(body: FlightIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.create_flight(s, actor, **body.model_dump())


process_routes(router, "/flights/{flight_id}", what=("飞行检查", "flight inspection"), model=Flight, get=svc.get_flight,
               act=svc.act_on_flight)  # fmt: skip


class PlanIn(BaseModel):
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=1, max_length=300)
    seed_value: str = Field(min_length=1, max_length=200, description="随机抽查的种子值（事先确定）")
    top_n: int = Field(default=30, ge=0, le=10_000, description="上年基金支付前 N 名现场检查（省级可配置）")
    sample_ratio: float = Field(default=0.1, ge=0, le=1, description="随机抽查比例（不低于 10%，省级可配置）")
    assigned: list[str] = Field(
        default_factory=list, max_length=5000, description="上级交办的检查对象（机构编码）"
    )
    focus: list[Literal["crossregion"]] = Field(default_factory=list, max_length=5,
                                                description="重点领域（crossregion：异地就医），其异常机构列入现场检查并注明原因")  # fmt: skip


class CheckIn(BaseModel):
    result: str = Field(min_length=1, max_length=4000)


class ProblemIn(BaseModel):
    fixmedins_code: str = Field(min_length=1, max_length=30)
    description: str = Field(min_length=1, max_length=4000)
    owner: str = Field(min_length=1, max_length=100)
    deadline: dt.date
    category: str = Field(default="", max_length=60)
    amount: float = Field(default=0, ge=0, le=1e12)


class CloseIn(BaseModel):
    evidence: str = Field(min_length=1, max_length=4000)


@router.post(
    "/plans", summary="制定年度监督检查计划（全覆盖）/ make the annual plan", response_model=PlanCoverage
)
def create_plan(body: PlanIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.create_plan(s, actor, year=body.year, title=body.title, seed_value=body.seed_value,
                               workspace=ctx.workspace, config=svc.PlanConfig(body.top_n, body.sample_ratio),
                               assigned=body.assigned, focus=focus_targets(s, actor, ctx.workspace, body.focus))  # fmt: skip


@router.get(
    "/plans/{plan_id}", summary="计划覆盖进度（按区划）/ plan coverage by region", response_model=PlanCoverage
)
def plan_coverage(plan_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.coverage(s, actor, plan_id)


@router.get("/plans/{plan_id}/items", summary="计划检查对象 / plan items", response_model=PlanItemPage)
def plan_items(plan_id: IdPath, ctx: CtxDep, mode: Literal["onsite", "review"] | None = None, page: PageQ = 1,
               size: SizeQ = 50) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return svc.list_items(s, actor, plan_id, mode=mode, page=page, size=size)


@router.post("/plan-items/{item_id}/check", summary="登记检查完成 / record a check", response_model=PlanItem)
def complete_item(item_id: IdPath, body: CheckIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.complete_item(s, actor, item_id, result=body.result)


@router.get("/problems", summary="问题清零台账 / problem ledger", response_model=ProblemPage)
def list_problems(ctx: CtxDep, status: Literal["open", "closed"] | None = None, page: PageQ = 1,
                  size: SizeQ = 50) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return svc.list_problems(s, actor, status=status, page=page, size=size)


@router.post("/problems", summary="登记问题 / add a problem", response_model=Problem)
def add_problem(body: ProblemIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.add_problem(s, actor, **body.model_dump())


@router.post(
    "/problems/{problem_id}/close", summary="问题清零 / close a problem with evidence", response_model=Problem
)
def close_problem(problem_id: IdPath, body: CloseIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.close_problem(s, actor, problem_id, body.evidence)


@router.get("/problems.xlsx", summary="导出问题清零台账（Excel）/ export the ledger", response_class=Response)
def problem_ledger(ctx: CtxDep) -> Response:
    with ctx.session() as (s, actor):
        data = svc.problem_ledger(s, actor)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''problems.xlsx"})  # fmt: skip


# ---------------------------------------------------------------- inspection documents (.docx or PDF)

DocKind = Annotated[
    Literal["notice", "record", "feedback", "rectification", "handover"], Path(description="文书类型")
]
DocFormat = Annotated[Literal["docx", "pdf"], Query(description="docx 或 pdf")]


@router.get("/flights/{flight_id}/documents/{kind}", summary="飞行检查文书 / a flight-inspection document")
def flight_document(flight_id: IdPath, kind: DocKind, ctx: CtxDep, format: DocFormat = "docx") -> Response:
    with ctx.session() as (s, actor):
        filename, data = svc.flight_document(s, actor, flight_id, kind, format)
        ctx.log(s, actor.username, "document.read", f"flight:{flight_id}:{kind}")
    return Response(data, media_type=PDF if format == "pdf" else DOCX, headers=attachment(filename))


@router.get("/flights/{flight_id}/leads.xlsx", summary="导出疑点清单（检查组）/ the team's list of suspicions",
            response_class=Response)  # fmt: skip
def flight_leads(flight_id: IdPath, ctx: CtxDep) -> Response:
    with ctx.session() as (s, actor):
        filename, data = svc.flight_leads(s, actor, flight_id)
        ctx.log(s, actor.username, "ledger.export", f"flight:{flight_id}:leads")
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers=attachment(filename))  # fmt: skip


@router.get("/plan-items/{item_id}/documents/{kind}", summary="日常监督检查文书 / a daily-check document")
def plan_item_document(item_id: IdPath, kind: DocKind, ctx: CtxDep, format: DocFormat = "docx") -> Response:
    with ctx.session() as (s, actor):
        filename, data = svc.plan_item_document(s, actor, item_id, kind, format)
        ctx.log(s, actor.username, "document.read", f"plan-item:{item_id}:{kind}")
    return Response(data, media_type=PDF if format == "pdf" else DOCX, headers=attachment(filename))
