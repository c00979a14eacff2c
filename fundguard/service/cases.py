"""Cases (案件): the administrative-penalty procedure from 立案 to 结案 over a confirmed clue.

立案 → 调查取证 (≥ 2 officers) → 案件审核 (proposed penalty checked against the 条例 ranges and the provincial
discretion table) → 法制审核 when the thresholds apply → 事先告知 → 陈述申辩 / 听证 (where the thresholds apply:
request within 5 days, hearing notified 7 days before) → 决定 (集体讨论 first for major cases) → 送达 → 执行
(refunds to the fund and fines to the treasury recorded in separate ledgers) → 结案, with the 90-day clock from
立案 and recorded extensions. Intent (主观故意) is recorded apart from the behaviour. Thresholds are
configuration (``CaseThresholds``; YAML at ``$FUNDGUARD_CASE_THRESHOLDS`` overrides the defaults).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from fundguard.core.errors import InputError
from fundguard.service import clues, process, record
from fundguard.service.errors import (
    InvalidTransition,
    PermissionDenied,
    ValidationFailed,
    from_workflow,
    not_found,
)
from fundguard.service.models import (
    Appeal,
    AppealFile,
    Case,
    CaseExtension,
    CaseStep,
    Clue,
    ClueHit,
    FundRefund,
    Institution,
    Measure,
    Penalty,
    Referral,
    Region,
    TreasuryFine,
    User,
    money,
)
from fundguard.service.scope import Actor, paged, region_prefix
from fundguard.service.timing import case_deadline, step_due, today
from fundguard.supervision import workflow as wf
from fundguard.supervision.penalties import ARTICLES_ZH, BEHAVIOURS
from fundguard.supervision.roles import CASE_VIEW

DOCUMENT_KINDS = {
    "case_filing": "立案审批表",
    "prior_notice": "行政处罚事先告知书",
    "penalty_decision": "行政处罚决定书",
    "agreement_notice": "协议处理通知书",
}
# which documents exist once the case has reached a state
_DOC_FROM = {"case_filing": "investigating", "prior_notice": "statement", "penalty_decision": "serving",
             "agreement_notice": "serving"}  # fmt: skip
_ORDER = list(wf.CASE_STATES)


@dataclasses.dataclass(frozen=True)
class CaseThresholds:
    """When a case is major (集体讨论 before the decision). 法制审核 and 听证 thresholds are the discretion
    table's (``supervision.penalties``)."""

    major_amount: Decimal = Decimal("500000")  # recovery + fine from which the heads decide collectively
    # 法制审核 for every penalty decision (many provinces require it); false: only above the discretion
    # table's thresholds
    legal_review_all_penalties: bool = True


@functools.cache
def thresholds(path: str | None = None) -> CaseThresholds:
    path = path or os.environ.get("FUNDGUARD_CASE_THRESHOLDS") or None
    if not path:
        return CaseThresholds()
    raw = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    known = {f.name: f.type for f in dataclasses.fields(CaseThresholds)}
    bad = sorted(set(raw) - set(known))
    if bad:
        raise InputError(f"案件阈值配置 {path} 有未知项 {bad}", f"case thresholds {path}: unknown keys {bad}")
    conv = {"int": int, "bool": bool}
    return CaseThresholds(
        **{k: conv.get(str(known[k]), lambda x: Decimal(str(x)))(v) for k, v in raw.items()}
    )


def _load(session: Session, actor: Actor, case_id: int, *, for_update: bool = False) -> Case:
    c = process.load(session, actor, CASE, case_id, for_update=for_update)
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能查看案件", "hospital users cannot see cases")
    return c


def open_case(session: Session, actor: Actor, clue_id: int, clue_version: int, psn_no: str = "") -> dict:
    """立案 on a clue in 调查核实 or 待处理 (the clue moves to 已立案). With ``psn_no`` the party is that insured
    person (条例 Art. 41), one of the clue's patients; otherwise the institution."""
    clue = process.load(session, actor, clues.FLAG, clue_id, for_update=True)
    process.check_version(clues.FLAG, clue, clue_version)
    values = process.move(session, actor, clues.FLAG, clue, "open_case", {"psn_no": psn_no}).values
    day = today()
    inst = session.get(Institution, clue.fixmedins_code)
    party = (inst.name if inst else clue.fixmedins_name, "organisation", "")
    if values.get("psn_no"):
        name = session.execute(
            select(ClueHit.psn_name).where(ClueHit.clue_id == clue.id, ClueHit.psn_no == values["psn_no"])
        ).scalars().first()  # fmt: skip
        if name is None:
            raise ValidationFailed(f"人员 {values['psn_no']} 不在本线索的疑点明细中",
                                   f"person {values['psn_no']} is not among this clue's hits")  # fmt: skip
        party = (name or values["psn_no"], "individual", values["psn_no"])
    c = Case(
        number=f"待编号-{uuid.uuid4().hex}", clue_id=clue.id,
        title=f"{party[0]}涉嫌{clue.rule_name}案", status="filed",
        fixmedins_code=clue.fixmedins_code, party_name=party[0], party_type=party[1], party_id=party[2],
        admdvs=clue.admdvs, opened_at=day, deadline=case_deadline(day),
        amount_at_issue=money(clue.confirmed_amount if clue.confirmed_amount is not None else clue.amount),
        step_started=day, created_by=actor.username,
    )  # fmt: skip
    session.add(c)
    process.flush(session, CASE)
    c.number = f"医保立〔{day.year}〕{c.id:04d}号"  # from the row id: two officers filing at once never clash
    session.add(CaseStep(case_id=c.id, step="立案", action="open", to_status="filed", actor=actor.username,
                         comment=f"由线索 {clue.id} 立案", due=c.deadline))  # fmt: skip
    process.flush(session, CASE)
    record.append(session, actor.username, "case.open", "case", c.id,
                  {"number": c.number, "clue_id": clue.id, "deadline": c.deadline.isoformat(),
                   "party_type": c.party_type, "amount_at_issue": str(c.amount_at_issue)})  # fmt: skip
    return get_case(session, actor, c.id)


def list_cases(session: Session, actor: Actor, *, status: str | None = None, fixmedins_code: str | None = None,
               overdue: bool | None = None, page: int = 1, size: int = 20) -> dict:  # fmt: skip
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能查看案件", "hospital users cannot see cases")
    conds = []
    if status:
        conds.append(Case.status == status)
    if fixmedins_code:
        conds.append(Case.fixmedins_code == fixmedins_code)
    if overdue:
        conds.append(and_(Case.status != "closed", Case.deadline < today()))
    return paged(session, actor, Case, CASE_VIEW, conds, Case.id.desc(), _summary, page, size)


def _summary(c: Case) -> dict:
    day = today()
    open_ = c.status != "closed"
    return {
        "id": c.id, "number": c.number, "title": c.title, "status": c.status,
        "status_zh": wf.CASE_STATES.get(c.status, c.status), "fixmedins_code": c.fixmedins_code,
        "party": {"fixmedins_code": c.fixmedins_code, "name": c.party_name, "type": c.party_type,
                  "type_zh": PARTY_TYPES.get(c.party_type, c.party_type), "id": c.party_id},
        "admdvs": c.admdvs, "opened_at": c.opened_at.isoformat(), "deadline": c.deadline.isoformat(),
        "days_left": (c.deadline - day).days if open_ else None, "overdue": open_ and c.deadline < day,
        "amount_at_issue": str(c.amount_at_issue), "version": c.version,
    }  # fmt: skip


PARTY_TYPES = {"organisation": "定点医药机构", "individual": "参保个人"}


def _officer_users(session: Session, c: Case) -> list[User]:
    names = json.loads(c.officers_json or "[]")
    if not names:
        return []
    users = {u.username: u for u in session.execute(select(User).where(User.username.in_(names))).scalars()}
    return [users[n] for n in names if n in users]


def execution(session: Session, c: Case) -> dict[str, Any]:
    """What the decision orders paid and what is registered: refund to the fund's account, fine to the
    treasury and the late-payment surcharge (加处罚款, 3 % of the fine unpaid at the deadline per day late,
    at most the fine; 行政处罚法 Art. 72), counted from the payment deadline after service."""
    penalty = session.execute(select(Penalty).where(Penalty.case_id == c.id)).scalars().first()
    refund_due = penalty.refund_amount if penalty else Decimal(0)
    fine = penalty.fine_amount if penalty else Decimal(0)
    refunds = session.execute(select(FundRefund.amount).where(FundRefund.case_id == c.id)).scalars().all()
    fines = session.execute(
        select(TreasuryFine.amount, TreasuryFine.paid_on).where(TreasuryFine.case_id == c.id).order_by(TreasuryFine.paid_on)
    ).all()  # fmt: skip
    refund_paid, fine_paid = money(sum(refunds, Decimal(0))), money(sum((a for a, _ in fines), Decimal(0)))
    payment_due = step_due(c.served_on, "fine_payment") if c.served_on else None
    surcharge = Decimal(0)
    if fine > 0 and payment_due:
        unpaid_at_due = fine - sum((a for a, d in fines if d <= payment_due), Decimal(0))
        paid_up = next((d for d, total in _running(fines) if total >= fine), None)
        end = paid_up or today()
        late = max((end - payment_due).days, 0)
        if unpaid_at_due > 0 and late:
            surcharge = min(fine, money(unpaid_at_due * Decimal("0.03") * late))
    fine_total = money(fine + surcharge)
    complete = refund_paid >= refund_due and fine_paid >= fine_total
    return {
        "refund_due": str(money(refund_due)), "refund_paid": str(refund_paid), "fine_due": str(money(fine)),
        "surcharge": str(money(surcharge)), "fine_total_due": str(fine_total), "fine_paid": str(fine_paid),
        "payment_due": payment_due.isoformat() if payment_due else None, "complete": complete,
        "payment_overdue": bool(payment_due and today() > payment_due and not complete),
    }  # fmt: skip


def _running(fines: list) -> list[tuple[dt.date, Decimal]]:
    total, out = Decimal(0), []
    for amount, day in fines:
        total += amount
        out.append((day, total))
    return out


def _ctx(session: Session, c: Case) -> dict[str, Any]:
    day = today()
    hearing_due = step_due(c.notice_date, "hearing_request") if c.notice_date else None
    statement_due = step_due(c.notice_date, "statement_defence") if c.notice_date else None
    decision = json.loads(c.decision_json or "{}")
    return {
        "officers": json.loads(c.officers_json or "[]"),
        "officer_names": [u.display_name for u in _officer_users(session, c)],
        "party_type": c.party_type,
        "needs_legal_review": c.needs_legal_review,
        "hearing_eligible": c.hearing_eligible,
        "hearing_request_overdue": bool(hearing_due and day > hearing_due),
        "hearing_notice_days": 7,
        "statement_open": bool(statement_due and day <= statement_due),
        "major": c.major,
        "collective_discussed": c.collective_discussed,
        "decision_type": decision.get("type"),
        "execution": execution(session, c) if c.status == "executing" else {},
        "referred": bool(session.execute(select(Referral.id).where(Referral.case_id == c.id)).first()),
    }


def _history(session: Session, c: Case) -> list[tuple[str, str]]:
    rows = session.execute(
        select(CaseStep.action, CaseStep.actor).where(CaseStep.case_id == c.id).order_by(CaseStep.id)
    )
    return [(a, u) for a, u in rows.all()]


def _log(session: Session, c: Case, m: process.Move) -> None:
    due = m.extra.pop("_due", None)
    session.add(CaseStep(case_id=c.id, step=m.transition.step_zh or m.transition.label_zh, action=m.action,
                         from_status=m.before, to_status=m.after, actor=m.actor.username, comment=m.comment, due=due,
                         fields_json=json.dumps({**m.stored, **m.extra}, ensure_ascii=False, default=str)))  # fmt: skip


def get_case(session: Session, actor: Actor, case_id: int) -> dict:
    c = _load(session, actor, case_id)
    out = _summary(c)
    steps = session.execute(select(CaseStep).where(CaseStep.case_id == c.id).order_by(CaseStep.id)).scalars()
    exts = session.execute(
        select(CaseExtension).where(CaseExtension.case_id == c.id).order_by(CaseExtension.id)
    )
    penalty = session.execute(select(Penalty).where(Penalty.case_id == c.id)).scalars().first()
    reached = _ORDER.index(c.status) if c.status in _ORDER else 0
    users = {u.username: u for u in session.execute(select(User)).scalars()}
    out.update(
        clue_id=c.clue_id,
        loss_amount=None if c.loss_amount is None else str(c.loss_amount),
        behaviour_code=c.behaviour_code,
        behaviour_zh=BEHAVIOURS.get(c.behaviour_code, c.behaviour_code),
        findings=c.findings,
        intent=c.intent,
        intent_zh=wf.INTENT_ZH.get(c.intent, c.intent),
        intent_evidence=c.intent_evidence,
        officers=[_person(users, n) for n in json.loads(c.officers_json or "[]")],
        proposal=json.loads(c.proposal_json or "{}"),
        decision=json.loads(c.decision_json or "{}"),
        needs_legal_review=c.needs_legal_review,
        hearing_eligible=c.hearing_eligible,
        major=c.major,
        collective_discussed=c.collective_discussed,
        notice_date=c.notice_date.isoformat() if c.notice_date else None,
        hearing_date=c.hearing_date.isoformat() if c.hearing_date else None,
        served_on=c.served_on.isoformat() if c.served_on else None,
        closed_at=c.closed_at.isoformat() if c.closed_at else None,
        closing_grounds=c.closing_grounds,
        closing_grounds_zh=wf.CLOSING_GROUNDS.get(c.closing_grounds, ""),
        execution=execution(session, c),
        extensions=[
            {
                "days": e.days,
                "reason": e.reason,
                "approved_by": e.approved_by,
                "collective": e.collective,
                "at": e.at.isoformat(),
                "new_deadline": e.new_deadline.isoformat(),
            }
            for e in exts.scalars()
        ],
        timeline=[
            {
                "step": s.step,
                "step_zh": s.step,
                "action": s.action,
                "action_zh": "立案"
                if s.action == "open"
                else wf.CASE_FLOW.label(s.action)
                if s.action
                else s.step,
                "from_status": s.from_status,
                "to_status": s.to_status,
                "to_status_zh": wf.CASE_STATES.get(s.to_status, s.to_status),
                "at": s.at.isoformat(),
                "actor": s.actor,
                "actor_name": _person(users, s.actor)["name"],
                "comment": s.comment,
                "due": s.due.isoformat() if s.due else None,
                "fields": json.loads(s.fields_json or "{}"),
            }
            for s in steps
        ],
        documents=[
            {
                "kind": k,
                "name_zh": zh,
                "url": f"/api/cases/{c.id}/documents/{k}",
                "pdf_url": f"/api/cases/{c.id}/documents/{k}?format=pdf",
            }
            for k, zh in DOCUMENT_KINDS.items()
            if reached >= _ORDER.index(_DOC_FROM[k]) and _doc_applies(session, c, k)
        ],
        measures=[
            {
                "code": m.code,
                "name_zh": m.name_zh,
                "amount": None if m.amount is None else str(m.amount),
                "at": m.at.isoformat(),
                "by": m.by,
            }
            for m in session.execute(select(Measure).where(Measure.case_id == c.id)).scalars()
        ],
        penalty=None
        if penalty is None
        else {
            "article": penalty.article,
            "article_zh": ARTICLES_ZH.get(penalty.article, penalty.article),
            "circumstance": penalty.circumstance,
            "loss_amount": str(penalty.loss_amount),
            "refund_amount": str(penalty.refund_amount),
            "fine_amount": str(penalty.fine_amount),
            "suspension_months": penalty.suspension_months,
            "basis_zh": penalty.basis_zh,
            "intent": penalty.intent,
            "intent_zh": wf.INTENT_ZH.get(penalty.intent, penalty.intent),
            "decided_at": penalty.decided_at.isoformat(),
        },
        refunds=[
            {"amount": str(r.amount), "paid_on": r.paid_on.isoformat(), "voucher_no": r.voucher_no}
            for r in session.execute(select(FundRefund).where(FundRefund.case_id == c.id)).scalars()
        ],
        fines=[
            {"amount": str(f.amount), "paid_on": f.paid_on.isoformat(), "voucher_no": f.voucher_no}
            for f in session.execute(select(TreasuryFine).where(TreasuryFine.case_id == c.id)).scalars()
        ],
        referrals=[
            {
                "id": r.id,
                "target": r.target,
                "status": r.status,
                "status_zh": wf.REFERRAL_STATES.get(r.status, r.status),
                "receipt_no": r.receipt_no,
            }
            for r in session.execute(select(Referral).where(Referral.case_id == c.id)).scalars()
        ],
        actions=_with_sources(session, actor, c, CASE.actions(session, c, actor)),
    )
    return out


def _person(users: dict[str, User], username: str) -> dict[str, str]:
    u = users.get(username)
    return {
        "username": username,
        "name": u.display_name if u else username,
        "cert_no": u.cert_no if u else "",
    }


def officer_choices(session: Session, actor: Actor, c: Case) -> list[dict[str, str]]:
    """Users who may investigate this case: active supervisors holding a 执法证号 whose region covers it."""
    rows = session.execute(
        select(User).where(User.active.is_(True), User.cert_no != "", User.role.in_(wf.SUPERVISORS)).order_by(User.username)
    ).scalars()  # fmt: skip
    return [
        {"value": u.username, "label_zh": f"{u.display_name}（执法证号 {u.cert_no}）"}
        for u in rows
        if c.admdvs.startswith(region_prefix(u.admdvs))
    ]


def _with_sources(session: Session, actor: Actor, c: Case, actions: list[dict]) -> list[dict]:
    for a in actions:
        for f in a["fields"]:
            if f.get("source") == "officers":
                f["choices"] = officer_choices(session, actor, c)
    return actions


def _doc_applies(session: Session, c: Case, kind: str) -> bool:
    proposal = json.loads(c.proposal_json or "{}")
    if kind == "agreement_notice":
        return bool(proposal.get("measures"))
    if kind in ("prior_notice", "penalty_decision"):
        return not proposal.get("no_penalty")
    return True


def act_on_case(
    session: Session, actor: Actor, case_id: int, action: str, version: int, **fields: Any
) -> dict:
    """One step of the procedure; returns the updated case (as ``get_case``)."""
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能查看案件", "hospital users cannot see cases")
    process.act(session, actor, CASE, case_id, action, version, fields)
    return get_case(session, actor, case_id)


# ---------------------------------------------------------------- per-action effects


def _start(session: Session, c: Case, m: process.Move) -> None:
    officers = list(dict.fromkeys(m.values["officers"]))
    allowed = {o["value"] for o in officer_choices(session, m.actor, c)}
    unknown = [o for o in officers if o not in allowed]
    if unknown:
        raise ValidationFailed(f"执法人员须为本辖区持执法证的监管人员（用户名），以下不符：{'、'.join(unknown)}",
                               f"officers must be certified supervisors of this region: {unknown}")  # fmt: skip
    c.officers_json = json.dumps(officers, ensure_ascii=False)


def _finish(session: Session, c: Case, m: process.Move) -> None:
    v = m.values
    c.findings, c.behaviour_code = v["findings"], v["behaviour_code"]
    c.loss_amount = money(v["loss_amount"])
    c.intent, c.intent_evidence = v["intent"], v.get("intent_evidence", "")
    m.extra["evidence"] = v["evidence"]


def _propose(session: Session, c: Case, m: process.Move) -> None:
    """Check the proposed penalty against the 条例 and the discretion table; decide legal review, hearing, major."""
    from fundguard.supervision import penalties

    v = m.values
    article = str(v["article"]).strip()
    loss = money(c.loss_amount or 0)
    if c.intent == "以骗取为目的" and article == "38":
        raise InvalidTransition("已认定以骗取为目的，应适用条例第四十条（骗取医保基金）而非第三十八条",
                                "intent to defraud found: Art. 40 applies, not Art. 38")  # fmt: skip
    if c.intent == "none" and article in ("40", "41_fraud"):
        raise InvalidTransition(
            "未认定骗取故意，不能适用骗保条款", "no intent to defraud: fraud articles do not apply"
        )
    if (c.party_type == "individual") != (article in penalties.INDIVIDUAL_ARTICLES):
        raise InvalidTransition(
            "参保个人适用条例第四十一条，定点医药机构适用第三十八至四十条",
            "individuals fall under Art. 41, institutions under Arts 38–40",
        )
    no_penalty = bool(v.get("no_penalty"))
    fine = money(v.get("fine_amount") or 0)
    refund = money(v.get("refund_amount") if v.get("refund_amount") is not None else loss)
    months = int(v.get("suspension_months") or 0)
    circumstance = v.get("circumstance") or None
    try:
        rng = penalties.penalty_range(article, loss, circumstance=circumstance)
        if not no_penalty:
            penalties.check_fine(article, loss, fine, circumstance)
            if months:
                penalties.check_suspension(article, months, circumstance)
    except InputError as e:
        raise ValidationFailed(e.zh, e.en) from None
    codes = list(v.get("measures") or [])
    th = thresholds()
    listed = list(codes)
    if months:
        listed.append("suspend_network_settlement" if article.startswith("41") else "suspend_dept_services")
    total = (fine if not no_penalty else Decimal(0)) + refund
    c.needs_legal_review = (th.legal_review_all_penalties and not no_penalty) or penalties.legal_review_required(
        refund, fine if not no_penalty else 0, party_type=c.party_type, measures=listed
    )  # fmt: skip
    c.hearing_eligible = not no_penalty and penalties.hearing_required(
        fine, party_type=c.party_type, measures=listed
    )
    c.major = total >= th.major_amount or "terminate_agreement" in codes or article in ("40", "41_fraud")
    proposal = {"article": article, "circumstance": rng.circumstance, "loss_amount": str(loss),
                "fine_amount": str(fine if not no_penalty else Decimal(0)), "refund_amount": str(refund),
                "suspension_months": months, "measures": codes, "no_penalty": no_penalty, "basis_zh": rng.basis_zh,
                "fine_range": [str(rng.fine_min), str(rng.fine_max)] if rng.has_fine else None}  # fmt: skip
    c.proposal_json = json.dumps(proposal, ensure_ascii=False)
    m.extra.update(
        needs_legal_review=c.needs_legal_review, hearing_eligible=c.hearing_eligible, major=c.major
    )
    if no_penalty and not c.needs_legal_review:
        m.extra["_target"] = "deciding"  # no penalty: nothing to notify in advance


def _notice(session: Session, c: Case, m: process.Move) -> None:
    c.notice_date = m.values["notice_date"]
    m.extra.update(hearing_eligible=c.hearing_eligible,
                   statement_due=str(step_due(c.notice_date, "statement_defence")),
                   hearing_request_due=str(step_due(c.notice_date, "hearing_request")) if c.hearing_eligible else None,
                   _due=step_due(c.notice_date, "statement_defence"))  # fmt: skip


def _hearing(session: Session, c: Case, m: process.Move) -> None:
    notify_by = step_due(
        m.values["hearing_date"], "hearing_notice"
    )  # counted back from the hearing (working days)
    if notify_by < today():
        raise InvalidTransition(f"听证通知须在听证 7 个工作日前送达（最迟 {notify_by}），请另定听证日期",
                                f"the hearing must be notified by {notify_by}; choose a later date")  # fmt: skip
    c.hearing_date = m.values["hearing_date"]
    m.extra["notify_by"] = notify_by.isoformat()


def _collective(session: Session, c: Case, m: process.Move) -> None:
    if len(m.values["participants"]) < 3:
        raise InvalidTransition(
            "集体讨论须有 3 名以上负责人参加", "a collective discussion needs 3 or more heads"
        )
    c.collective_discussed = True


def _decide(session: Session, c: Case, m: process.Move) -> None:
    from fundguard.supervision.penalties import MEASURES

    proposal = json.loads(c.proposal_json or "{}")
    kind = m.values["decision_type"]
    if kind == "处罚" and (not proposal or proposal.get("no_penalty")):
        raise InvalidTransition("拟处理意见为不予处罚，不能作出处罚决定", "the proposal is no penalty")
    c.decision_json = json.dumps(
        {"type": kind, "decided_on": today().isoformat(), "decided_by": m.actor.username, **proposal},
        ensure_ascii=False,
    )
    for code in proposal.get("measures") or []:
        session.add(Measure(case_id=c.id, clue_id=c.clue_id, fixmedins_code=c.fixmedins_code, admdvs=c.admdvs,
                            code=code, name_zh=MEASURES[code], by=m.actor.username,
                            amount=money(proposal["refund_amount"]) if code == "recover" else None))  # fmt: skip
    if kind == "处罚":
        session.add(Penalty(case_id=c.id, fixmedins_code=c.fixmedins_code, admdvs=c.admdvs,
                            article=proposal["article"], circumstance=proposal["circumstance"],
                            loss_amount=money(proposal["loss_amount"]), refund_amount=money(proposal["refund_amount"]),
                            fine_amount=money(proposal["fine_amount"]),
                            suspension_months=int(proposal.get("suspension_months") or 0),
                            basis_zh=proposal.get("basis_zh", ""), intent=c.intent, decided_at=today()))  # fmt: skip
    _flow_back(session, c, "penalised" if kind == "处罚" else "no_penalty")
    if kind == "移送司法机关":
        from fundguard.service import referrals

        referrals.create_referral(
            session, m.actor, case_id=c.id, target="公安", reason=m.comment or c.findings
        )
        c.closing_grounds, c.closed_at = "referred", today()
        m.extra["_target"] = "closed"


def _flow_back(session: Session, c: Case, outcome: str) -> None:
    """The decided outcome and confirmed amount go back to the clue and its hits (scorecard, dashboard,
    ledgers). A decision not to punish where a loss was found still confirms the flag."""
    clue = session.get(Clue, c.clue_id) if c.clue_id else None
    if clue is None:
        return
    loss = money(c.loss_amount or 0)
    if outcome == "no_penalty" and loss > 0:
        outcome = "confirmed"
    clues.set_outcome(session, clue, outcome, loss if outcome != "dismissed" else None)


def _serve(session: Session, c: Case, m: process.Move) -> None:
    c.served_on = m.values["served_on"]
    m.extra["payment_due"] = str(step_due(c.served_on, "fine_payment"))


def _refund(session: Session, c: Case, m: process.Move) -> None:
    v = m.values
    session.add(FundRefund(case_id=c.id, clue_id=c.clue_id, fixmedins_code=c.fixmedins_code, admdvs=c.admdvs,
                           amount=money(v["amount"]), paid_on=v["paid_on"], voucher_no=v["voucher_no"],
                           recorded_by=m.actor.username))  # fmt: skip
    m.extra["ledger"] = "fund_refunds"


def _fine(session: Session, c: Case, m: process.Move) -> None:
    v = m.values
    ex = execution(session, c)
    if Decimal(ex["fine_due"]) <= 0:
        raise InvalidTransition("本案未决定罚款，不能登记罚款", "no fine was decided in this case")
    if Decimal(ex["fine_paid"]) + money(v["amount"]) > Decimal(ex["fine_total_due"]):
        raise InvalidTransition(f"登记罚款合计超过决定的罚款及加处罚款 {ex['fine_total_due']} 元",
                                f"fines recorded would exceed the decided fine and surcharge {ex['fine_total_due']}")  # fmt: skip
    session.add(TreasuryFine(case_id=c.id, fixmedins_code=c.fixmedins_code, admdvs=c.admdvs,
                             amount=money(v["amount"]), paid_on=v["paid_on"], voucher_no=v["voucher_no"],
                             recorded_by=m.actor.username))  # fmt: skip
    m.extra["ledger"] = "treasury_fines"


def _close(session: Session, c: Case, m: process.Move) -> None:
    c.closed_at = today()
    c.closing_grounds = m.values.get("grounds", "")
    if m.action == "close":
        m.extra["execution"] = execution(session, c)


def _terminate(session: Session, c: Case, m: process.Move) -> None:
    c.closed_at = today()
    c.closing_grounds = "terminated"
    _flow_back(session, c, "dismissed")


def _closed(session: Session, c: Case, m: process.Move) -> None:
    """Once the case is closed, its clue is done too."""
    if m.after != "closed" or not c.clue_id:
        return
    clue = session.get(Clue, c.clue_id)
    if clue is not None and clue.status == "case_opened":
        process.move(session, m.actor, clues.FLAG, clue, "case_closed", {}, role="system")


def _extend(session: Session, c: Case, m: process.Move) -> None:
    """Extend the 90-day clock: each extension and who approved it is checked by ``deadlines.due``."""
    from fundguard.supervision.deadlines import Extension

    v = m.values
    past = session.execute(
        select(CaseExtension).where(CaseExtension.case_id == c.id).order_by(CaseExtension.id)
    )
    exts = [Extension(e.days, "collective" if e.collective else "head") for e in past.scalars()]
    collective = bool(v.get("collective"))
    exts.append(Extension(int(v["days"]), "collective" if collective else "head", v["comment"]))
    try:
        c.deadline = case_deadline(c.opened_at, exts)
    except InputError as e:
        raise from_workflow(e) from None
    session.add(CaseExtension(case_id=c.id, days=int(v["days"]), reason=v["comment"],
                              approved_by=m.actor.display_name, collective=collective, new_deadline=c.deadline))  # fmt: skip
    m.extra["new_deadline"] = c.deadline.isoformat()


CASE = process.Process(
    machine=wf.CASE_FLOW,
    model=Case,
    view=CASE_VIEW,
    what=("案件", "case"),
    record_action="case.action",
    context=_ctx,
    history=_history,
    log=_log,
    effects={
        "start_investigation": _start,
        "finish_investigation": _finish,
        "propose": _propose,
        "issue_notice": _notice,
        "request_hearing": _hearing,
        "collective_discussion": _collective,
        "decide": _decide,
        "serve": _serve,
        "record_refund": _refund,
        "record_fine": _fine,
        "close": _close,
        "terminate": _terminate,
        "extend": _extend,
    },
    after={"close": _closed, "terminate": _closed, "decide": _closed},
)


# ---------------------------------------------------------------- documents


def case_document(
    session: Session, actor: Actor, case_id: int, kind: str, fmt: str = "docx"
) -> tuple[str, bytes]:
    """The .docx (or, with ``fmt="pdf"``, the PDF through LibreOffice) of one key step (立案审批表, 事先告知书,
    行政处罚决定书, 协议处理通知书)."""
    from fundguard.supervision.documents import render_document, render_pdf

    c = _load(session, actor, case_id)
    if kind not in DOCUMENT_KINDS:
        raise not_found("文书类型", "document kind", kind)
    if fmt not in ("docx", "pdf"):
        raise ValidationFailed("文书格式应为 docx 或 pdf", "format must be docx or pdf")
    reached = _ORDER.index(c.status) if c.status in _ORDER else 0
    if reached < _ORDER.index(_DOC_FROM[kind]) or not _doc_applies(session, c, kind):
        raise InvalidTransition(f"案件尚未到达可出具「{DOCUMENT_KINDS[kind]}」的环节",
                                f"the case has not reached the step for {kind}")  # fmt: skip
    render = render_pdf if fmt == "pdf" else render_document
    try:
        data = render(kind, document_data(session, c, kind))
    except InputError as e:
        raise ValidationFailed(e.zh, e.en) from None
    return f"{c.number}-{DOCUMENT_KINDS[kind]}.{fmt}", data


def bureau(session: Session, username: str) -> str:
    """The issuing authority: the handling user's own bureau (region name + department)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    region = session.get(Region, user.admdvs) if user else None
    department = user.department if user else "医保局"
    return f"{region.name if region else ''}{'医疗保障局' if department == '医保局' else department}"


def document_data(session: Session, c: Case, kind: str) -> dict[str, Any]:
    """The fields ``supervision.documents.render_document`` needs for ``kind``, from the case and its clue.
    Evidence lists only what was recorded: the flagged lines, the officers' evidence list, the appeal files."""
    from fundguard.supervision.penalties import MEASURES

    proposal = json.loads(c.proposal_json or "{}")
    decision = json.loads(c.decision_json or "{}")
    clue = session.get(Clue, c.clue_id) if c.clue_id else None
    officers = [f"{u.display_name}（执法证号 {u.cert_no}）" for u in _officer_users(session, c)]
    clue_facts = (
        f"经智能审核，{c.party_name}在{clue.period}期间有 {clue.hits} 条费用记录命中规则“{clue.rule_name}”"
        f"（{clue.rule_id}），涉及医保基金 {clue.amount} 元。"
        if clue
        else c.title
    )
    evidence = [f"智能审核疑点明细 {clue.hits} 条（线索编号 {clue.id}）"] if clue and clue.hits else []
    for s in session.execute(
        select(CaseStep).where(CaseStep.case_id == c.id, CaseStep.action == "finish_investigation").order_by(CaseStep.id.desc())
    ).scalars():  # fmt: skip
        evidence += json.loads(s.fields_json or "{}").get("evidence") or []
        break  # the latest investigation report's list
    if clue:
        evidence += [
            f"当事人申诉材料：{name}"
            for (name,) in session.execute(
                select(AppealFile.filename).join(Appeal, Appeal.id == AppealFile.appeal_id).where(Appeal.clue_id == clue.id)
            ).all()
        ]  # fmt: skip
    fine = Decimal(proposal.get("fine_amount") or 0)
    refund = Decimal(proposal.get("refund_amount") or 0)
    penalty_lines = []
    if refund > 0:
        penalty_lines.append(f"责令退回医保基金 {refund} 元")
    if fine > 0:
        penalty_lines.append(f"处罚款 {fine} 元")
    if proposal.get("suspension_months"):
        what = (
            "暂停医疗费用联网结算"
            if c.party_type == "individual"
            else "暂停相关责任部门涉及医保基金使用的医药服务"
        )
        penalty_lines.append(f"{what} {proposal['suspension_months']} 个月")
    defence = [s.comment for s in session.execute(
        select(CaseStep).where(CaseStep.case_id == c.id, CaseStep.step.in_(("陈述申辩", "听证"))).order_by(CaseStep.id)
    ).scalars() if s.comment]  # fmt: skip
    behaviour = BEHAVIOURS.get(c.behaviour_code)
    common = {
        "authority": bureau(session, c.created_by),
        "date": today(),
        "party_name": c.party_name,
        "party_type": c.party_type,
        "facts": c.findings or clue_facts,
        "evidence": evidence or ["（尚未登记证据）"],
        "basis": proposal.get("basis_zh") or "《医疗保障基金使用监督管理条例》",
        "fine": fine,
        "violated": f"《医疗保障基金使用监督管理条例》关于“{behaviour}”的规定" if behaviour else "",
    }
    party_code = c.party_id if c.party_type == "individual" else c.fixmedins_code
    if kind == "case_filing":
        return {
            **common, "case_number": c.number, "case_title": c.title, "source": "智能监管系统疑点线索",
            "facts": clue_facts, "amount": c.amount_at_issue, "handlers": officers, "party_code": party_code,
            "handler_opinion": "经初步核查，当事人涉嫌违法违规使用医保基金，符合立案条件，建议立案调查。",
            "legal_basis": (clue and rule_basis(clue.rule_id)) or "",
        }  # fmt: skip
    number = c.number.replace("立", "罚")
    if kind == "prior_notice":
        return {**common, "doc_number": number.replace("罚", "罚告"), "proposed_penalty": penalty_lines or ["不予罚款"],
                "measures": proposal.get("measures") or [], "hearing": c.hearing_eligible, "officers": officers}  # fmt: skip
    if kind == "penalty_decision":
        return {**common, "doc_number": number, "decision": penalty_lines or ["不予行政处罚"], "refund": refund,
                "party_code": party_code, "case_opened": c.opened_at, "notice_date": c.notice_date,
                "defence_result": "；".join(defence) or "当事人在规定期限内未提出陈述、申辩。",
                "decided_on": decision.get("decided_on", ""), "officers": officers}  # fmt: skip
    return {**common, "authority": common["authority"].replace("医疗保障局", "医疗保障事业管理中心"),
            "doc_number": number.replace("罚", "协处"),
            "measures": [MEASURES.get(m, m) for m in proposal.get("measures") or []],
            "amount": refund if refund > 0 else None}  # fmt: skip


def rule_basis(rule_id: str) -> str:
    from fundguard.service.clues import rule_set

    rule = rule_set().rules.get(rule_id)
    return rule.legal_basis if rule else ""
