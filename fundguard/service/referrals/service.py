"""Referral and transfer service functions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fundguard.service import clues, record, workflow
from fundguard.service.errors import InvalidTransition, ValidationFailed, not_found
from fundguard.service.models import Case, Clue, ClueTransfer, Referral, utcnow
from fundguard.service.referrals.process import (
    REFERRAL,
    _datetime_due,
)
from fundguard.service.scope import Actor, paged, region_prefix, require_sees, sees
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import CLUE_REGISTER, CLUE_VIEW, REFERRAL_VIEW


def _item(r: Referral) -> dict:
    now = utcnow()
    final = r.status in wf.REFERRAL_FLOW.final
    return {
        "id": r.id, "case_id": r.case_id, "clue_id": r.clue_id, "fixmedins_code": r.fixmedins_code,
        "admdvs": r.admdvs, "target": r.target, "reason": r.reason, "status": r.status,
        "status_zh": wf.REFERRAL_STATES.get(r.status, r.status), "created_at": r.created_at.isoformat(),
        "approved_at": r.approved_at.isoformat() if r.approved_at else None,
        "sent_at": r.sent_at.isoformat() if r.sent_at else None,
        "due_at": None if final or not r.due_at else r.due_at.isoformat(),
        "overdue": bool(not final and r.due_at and r.due_at < now),
        "receipt_no": r.receipt_no, "receipt_by": r.receipt_by,
        "receipt_at": r.receipt_at.isoformat() if r.receipt_at else None, "outcome": r.outcome,
        "version": r.version,
        "actions": [],
    }  # fmt: skip


def create_referral(session: Session, actor: Actor, *, target: str, reason: str, case_id: int | None = None,
                    clue_id: int | None = None) -> dict:  # fmt: skip
    """A referral awaiting the head's approval (3 days), from a case or a clue the actor can see."""
    actor.require(REFERRAL_VIEW)
    if target not in wf.REFERRAL_TARGETS:
        raise ValidationFailed(
            f"移送对象应为 {'、'.join(wf.REFERRAL_TARGETS)} 之一",
            f"target must be one of {wf.REFERRAL_TARGETS}",
        )
    if not (reason or "").strip():
        raise ValidationFailed("移送理由不能为空", "a referral needs a reason")
    if case_id is not None:
        owner = session.get(Case, int(case_id))
        if owner is None:
            raise not_found("案件", "case", case_id)
        clue_id = owner.clue_id
    elif clue_id is not None:
        owner = session.get(Clue, int(clue_id))
        if owner is None:
            raise not_found("线索", "clue", clue_id)
    else:
        raise ValidationFailed("须指定案件或线索", "give a case or a clue")
    require_sees(actor, owner.admdvs, owner.fixmedins_code, "该案件或线索", "this case or clue")
    now = utcnow()
    r = Referral(case_id=case_id, clue_id=clue_id, fixmedins_code=owner.fixmedins_code, admdvs=owner.admdvs,
                 target=target, reason=reason.strip(), status="pending_approval", created_at=now,
                 due_at=_datetime_due(now, "referral_head_decision"), created_by=actor.username)  # fmt: skip
    session.add(r)
    session.flush()
    record.append(session, actor.username, "referral.create", "referral", r.id,
                  {"target": target, "case_id": case_id, "clue_id": clue_id, "reason": r.reason})  # fmt: skip
    return get_referral(session, actor, r.id)


def get_referral(session: Session, actor: Actor, referral_id: int) -> dict:
    r = workflow.load(session, actor, REFERRAL, referral_id)
    return {**_item(r), "actions": REFERRAL.actions(session, r, actor)}


def list_referrals(
    session: Session, actor: Actor, *, status: str | None = None, page: int = 1, size: int = 20
) -> dict:
    conds = [Referral.status == status] if status else []
    return paged(session, actor, Referral, REFERRAL_VIEW, conds, Referral.id.desc(), _item, page, size)


def act_on_referral(
    session: Session, actor: Actor, referral_id: int, action: str, version: int, **fields: Any
) -> dict:
    """approve / reject (the head) / send / receipt / accept / decline / request_reconsideration."""
    workflow.act(session, actor, REFERRAL, referral_id, action, version, fields)
    return get_referral(session, actor, referral_id)


def _transfer_item(t: ClueTransfer, clue: Clue | None) -> dict:
    return {
        "id": t.id, "clue_id": t.clue_id, "from_admdvs": t.from_admdvs, "to_admdvs": t.to_admdvs,
        "from_department": t.from_department, "to_department": t.to_department, "reason": t.reason,
        "status": t.status, "sent_at": t.sent_at.isoformat(), "sent_by": t.sent_by,
        "answered_at": t.answered_at.isoformat() if t.answered_at else None, "answered_by": t.answered_by,
        "clue": None if clue is None else {"rule_name": clue.rule_name, "fixmedins_name": clue.fixmedins_name,
                                           "period": clue.period, "amount": str(clue.amount)},
    }  # fmt: skip


def list_transfers(session: Session, actor: Actor, direction: str = "in") -> list[dict]:
    """Transfers into the actor's region (``in``) or out of it (``out``)."""
    actor.require(CLUE_VIEW)
    if actor.role == "hospital":
        return []
    col = ClueTransfer.to_admdvs if direction == "in" else ClueTransfer.from_admdvs
    rows = session.execute(
        select(ClueTransfer, Clue)
        .join(Clue, Clue.id == ClueTransfer.clue_id)
        .where(or_(col.startswith(region_prefix(actor.admdvs), autoescape=True)))
        .order_by(ClueTransfer.id.desc())
    ).all()
    return [_transfer_item(t, c) for t, c in rows]


def answer_transfer(
    session: Session, actor: Actor, transfer_id: int, accept: bool, comment: str = ""
) -> dict:
    """The receiver accepts (the clue moves to its region and department, back to 待初审) or returns it."""
    actor.require(CLUE_REGISTER)
    t = session.get(ClueTransfer, int(transfer_id))
    if t is None:
        raise not_found("移交", "transfer", transfer_id)
    if not t.to_admdvs.startswith(region_prefix(actor.admdvs)) or actor.department != t.to_department:
        raise InvalidTransition(
            "只有接收地区、接收部门的人员可以答复移交",
            "only the receiving region and department can answer a transfer",
        )
    if t.status != "sent":
        raise InvalidTransition("该移交已答复", "this transfer was already answered")
    clue = session.get(Clue, t.clue_id)
    t.status = "accepted" if accept else "returned"
    t.answered_at, t.answered_by = utcnow(), actor.username
    if accept:
        clue.admdvs, clue.department = t.to_admdvs, t.to_department
    workflow.move(session, actor, clues.FLAG, clue, "transfer_accepted" if accept else "transfer_returned",
                 {"comment": comment}, role="system")  # fmt: skip
    record.append(session, actor.username, "clue.transfer_answer", "transfer", t.id,
                  {"clue_id": clue.id, "accepted": accept, "comment": comment})  # fmt: skip
    out = _transfer_item(t, clue)
    out["clue_visible"] = sees(actor, clue.admdvs, clue.fixmedins_code)
    return out
