"""The public side of 信息公开, no login: JSON under ``/api/public/disclosure`` and the same items as plain HTML
pages under ``/public/disclosure/`` (no JavaScript; the renderer the static export uses). Only published items
exist here: a draft, an approved-but-unpublished or a withdrawn item answers 404 like a missing one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, PlainTextResponse

from fundguard.service import disclosure as disclosure_service
from fundguard.service.disclosure.export import CSS, render_index_html
from fundguard.service.disclosure.schemas import PublicDisclosure, PublicDisclosureDetail

from .deps import CtxDep

router = APIRouter(tags=["信息公开（公众）public disclosure"])

PublicId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Kind = Literal["typical_case", "flight_notice", "draw", "fund_use", "joint_punishment"]


@router.get("/api/public/disclosure", summary="已发布的公开事项 / published items (no login)",
            response_model=list[PublicDisclosure])  # fmt: skip
def public_list(ctx: CtxDep, kind: Annotated[Kind | None, Query()] = None) -> list[dict[str, Any]]:
    with ctx.session(authenticated=False) as (s, _):
        return disclosure_service.public_items(s, kind)


@router.get("/api/public/disclosure/{item_id}", summary="已发布的公开事项详情 / a published item (no login)",
            response_model=PublicDisclosureDetail)  # fmt: skip
def public_detail(item_id: PublicId, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session(authenticated=False) as (s, _):
        return disclosure_service.public_item(s, item_id)


@router.get("/public/disclosure/", include_in_schema=False, response_class=HTMLResponse)
@router.get("/public/disclosure/index.html", include_in_schema=False, response_class=HTMLResponse)
def public_index_page(ctx: CtxDep) -> HTMLResponse:
    with ctx.session(authenticated=False) as (s, _):
        return HTMLResponse(render_index_html(disclosure_service.public_items(s)))


@router.get("/public/disclosure/style.css", include_in_schema=False)
def public_css() -> PlainTextResponse:
    return PlainTextResponse(CSS, media_type="text/css")


@router.get("/public/disclosure/{item_id}.html", include_in_schema=False, response_class=HTMLResponse)
def public_item_page(item_id: PublicId, ctx: CtxDep) -> HTMLResponse:
    with ctx.session(authenticated=False) as (s, _):
        return HTMLResponse(disclosure_service.render_item_html(disclosure_service.public_item(s, item_id)))
