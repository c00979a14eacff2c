"""Special-campaign routes (专项整治): plan, list and read campaigns, act on them, the institutions' 自查自纠
returns and the bureau's re-checks, the campaign's figures, its 问题清零 ledger (Excel) and its summary report
(专项整治总结报告, .docx/PDF)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from fundguard.service import campaigns as svc
from fundguard.service import oversight
from fundguard.service.campaigns.schemas import (
    Campaign,
    CampaignPage,
    CampaignReturn,
    CampaignStats,
    InspectionOverview,
    ProblemSummary,
    ReturnPage,
)

from .deps import CtxDep, PageQ, SizeQ
from .routes_cases import DOCX, PDF
from .routes_clues import ActionIn, IdPath, attachment

router = APIRouter(prefix="/api/campaigns", tags=["专项整治 campaigns"])

Theme = Literal["三假", "骨科耗材", "血液透析", "异地就医", "医学影像", "康复理疗", "药品串换", "其他"]


class CampaignIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    theme: Theme
    focus_areas: list[str] = Field(default_factory=list, max_length=20, description="整治重点")
    targets: list[str] = Field(default_factory=list, max_length=100, description="针对的规则/模型编号")
    institutions: list[str] = Field(default_factory=list, max_length=5000,
                                    description="整治范围（机构编码）；空则为本辖区全部机构")  # fmt: skip
    fixmedins_type: str | None = Field(default=None, max_length=10, description="按机构类别划定范围")
    rectify_days: int = Field(default=30, ge=1, le=365, description="问题整改期限（天）")


@router.get("", summary="专项整治列表 / campaigns", response_model=CampaignPage)
def list_campaigns(ctx: CtxDep, page: PageQ = 1, size: SizeQ = 20) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.list_campaigns(s, actor, page=page, size=size)


@router.post("", summary="制定专项整治方案 / plan a campaign", response_model=Campaign)
def create_campaign(body: CampaignIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.create_campaign(s, actor, **body.model_dump())


@router.get("/{campaign_id}", summary="专项整治详情 / a campaign", response_model=Campaign)
def get_campaign(campaign_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.get_campaign(s, actor, campaign_id)


@router.post("/{campaign_id}/actions", summary="专项整治办理 / act on a campaign", response_model=Campaign)
def act_on_campaign(campaign_id: IdPath, body: ActionIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.act_on_campaign(s, actor, campaign_id, body.action, body.version, comment=body.comment,
                                   **body.fields())  # fmt: skip


@router.get("/{campaign_id}/stats", summary="专项整治统计 / campaign figures", response_model=CampaignStats)
def campaign_stats(campaign_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.campaign_stats(s, actor, campaign_id)


@router.get(
    "/{campaign_id}/returns", summary="自查自纠与复查 / returns and re-checks", response_model=ReturnPage
)
def list_returns(campaign_id: IdPath, ctx: CtxDep, status: Literal["pending", "reported", "checked", "confirmed"]
                 | None = None, selected: bool | None = None, page: PageQ = 1, size: SizeQ = 50) -> dict[str, Any]:  # fmt: skip
    with ctx.session() as (s, actor):
        return svc.list_returns(s, actor, campaign_id, status=status, selected=selected, page=page, size=size)


@router.get("/returns/{return_id}", summary="机构自查自纠报告 / one return", response_model=CampaignReturn)
def get_return(return_id: IdPath, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.get_return(s, actor, return_id)


@router.post("/returns/{return_id}/actions", summary="报送自查/登记复查/复核 / act on a return",
             response_model=CampaignReturn)  # fmt: skip
def act_on_return(return_id: IdPath, body: ActionIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return svc.act_on_return(s, actor, return_id, body.action, body.version, comment=body.comment,
                                 **body.fields())  # fmt: skip


@router.get("/{campaign_id}/problems.xlsx", summary="导出专项整治问题清零台账 / the campaign's ledger",
            response_class=Response)  # fmt: skip
def campaign_ledger(campaign_id: IdPath, ctx: CtxDep) -> Response:
    with ctx.session() as (s, actor):
        data = svc.campaign_ledger(s, actor, campaign_id)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''campaign-problems.xlsx"})  # fmt: skip


@router.get("/{campaign_id}/report", summary="专项整治总结报告（docx/pdf）/ the campaign's summary report",
            response_class=Response)  # fmt: skip
def campaign_report(
    campaign_id: IdPath,
    ctx: CtxDep,
    format: Annotated[Literal["docx", "pdf"], Query(description="docx 或 pdf")] = "docx",
) -> Response:
    with ctx.session() as (s, actor):
        filename, data = svc.campaign_report(s, actor, campaign_id, format)
        ctx.log(s, actor.username, "document.read", f"campaign:{campaign_id}:report")
    return Response(data, media_type=PDF if format == "pdf" else DOCX, headers=attachment(filename))


overview_router = APIRouter(prefix="/api/inspections", tags=["监督检查 inspections"])


@overview_router.get("/overview", summary="监督检查概览（仪表盘）/ inspection figures for the dashboard",
                     response_model=InspectionOverview)  # fmt: skip
def inspection_overview(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return oversight.inspection_overview(s, actor)


@overview_router.get("/problems/summary", summary="问题清单（举一反三）/ problems across inspections, grouped",
                     response_model=ProblemSummary)  # fmt: skip
def problem_summary(
    ctx: CtxDep, source: Literal["flight", "plan", "campaign"] | None = None
) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return oversight.problem_summary(s, actor, source=source)
