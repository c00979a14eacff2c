"""Referral routes (移送 公安/纪检监察/卫生健康/市场监管, with approval, receipts and time limits) and clue
transfers between departments and regions (移交 in/out, accept or return)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fundguard.service import referrals as referral_service
from fundguard.service.referrals.schemas import Referral, ReferralPage, Transfer

from .deps import CtxDep, PageQ, SizeQ
from .process_routes import IdPath, process_routes

router = APIRouter(prefix="/api", tags=["移送与移交 referrals, transfers"])


class ReferralIn(BaseModel):
    target: str = Field(
        min_length=1, max_length=20, description="公安 / 纪检监察 / 卫生健康 / 市场监管 / 药品监管 / 财政"
    )
    reason: str = Field(min_length=1, max_length=4000)
    case_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    clue_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class TransferAnswerIn(BaseModel):
    accept: bool
    comment: str = Field(default="", max_length=4000)


@router.post("/referrals", summary="发起移送 / refer a case or clue", response_model=Referral)
def create_referral(body: ReferralIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return referral_service.create_referral(
            s, actor, target=body.target, reason=body.reason, case_id=body.case_id, clue_id=body.clue_id
        )


@router.get("/referrals", summary="移送列表 / list referrals", response_model=ReferralPage)
def list_referrals(
    ctx: CtxDep,
    status: Annotated[str | None, Query(max_length=64)] = None,
    page: PageQ = 1,
    size: SizeQ = 20,
) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return referral_service.list_referrals(s, actor, status=status or None, page=page, size=size)


process_routes(router, "/referrals/{referral_id}", what=("移送", "referral"), model=Referral,
               get=referral_service.get_referral, act=referral_service.act_on_referral,
               act_summary="移送办理（审批、移送、回执…）/ act on a referral")  # fmt: skip


@router.get(
    "/transfers", summary="线索移交（移入/移出）/ clue transfers in or out", response_model=list[Transfer]
)
def list_transfers(ctx: CtxDep, direction: Literal["in", "out"] = "in") -> list[dict[str, Any]]:
    with ctx.session() as (s, actor):
        return referral_service.list_transfers(s, actor, direction)


@router.post(
    "/transfers/{transfer_id}/answer",
    summary="接收或退回移交 / accept or return a transfer",
    response_model=Transfer,
)
def answer_transfer(transfer_id: IdPath, body: TransferAnswerIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        return referral_service.answer_transfer(s, actor, transfer_id, body.accept, body.comment)
