"""The case process bound to the ``cases`` table: thresholds, the facts guards need, execution and the
late-payment surcharge, the step log and every action's effect, including the outcome written back to clues."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.core.errors import InputError
from fundguard.core.settings import settings
from fundguard.service import clues, workflow
from fundguard.service.errors import (
    InvalidTransition,
    ValidationFailed,
    from_workflow,
)
from fundguard.service.models import (
    Case,
    CaseExtension,
    CaseStep,
    Clue,
    FundRefund,
    Measure,
    Penalty,
    Referral,
    TreasuryFine,
    User,
    money,
)
from fundguard.service.scope import Actor, region_prefix
from fundguard.service.timing import case_deadline, step_due, today
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import CASE_VIEW


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
    path = path or settings().case_thresholds or None
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
        "closing_grounds": c.closing_grounds,
    }


def _history(session: Session, c: Case) -> list[tuple[str, str]]:
    rows = session.execute(
        select(CaseStep.action, CaseStep.actor).where(CaseStep.case_id == c.id).order_by(CaseStep.id)
    )
    return [(a, u) for a, u in rows.all()]


def _log(session: Session, c: Case, m: workflow.Move) -> None:
    due = m.extra.pop("_due", None)
    session.add(CaseStep(case_id=c.id, step=m.transition.step_zh or m.transition.label_zh, action=m.action,
                         from_status=m.before, to_status=m.after, actor=m.actor.username, comment=m.comment, due=due,
                         fields_json=json.dumps({**m.stored, **m.extra}, ensure_ascii=False, default=str)))  # fmt: skip


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


def _start(session: Session, c: Case, m: workflow.Move) -> None:
    officers = list(dict.fromkeys(m.values["officers"]))
    allowed = {o["value"] for o in officer_choices(session, m.actor, c)}
    unknown = [o for o in officers if o not in allowed]
    if unknown:
        raise ValidationFailed(f"执法人员须为本辖区持执法证的监管人员（用户名），以下不符：{'、'.join(unknown)}",
                               f"officers must be certified supervisors of this region: {unknown}")  # fmt: skip
    c.officers_json = json.dumps(officers, ensure_ascii=False)


def _finish(session: Session, c: Case, m: workflow.Move) -> None:
    v = m.values
    c.findings, c.behaviour_code = v["findings"], v["behaviour_code"]
    c.loss_amount = money(v["loss_amount"])
    c.intent, c.intent_evidence = v["intent"], v.get("intent_evidence", "")
    m.extra["evidence"] = v["evidence"]


def _propose(session: Session, c: Case, m: workflow.Move) -> None:
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


def _notice(session: Session, c: Case, m: workflow.Move) -> None:
    c.notice_date = m.values["notice_date"]
    m.extra.update(hearing_eligible=c.hearing_eligible,
                   statement_due=str(step_due(c.notice_date, "statement_defence")),
                   hearing_request_due=str(step_due(c.notice_date, "hearing_request")) if c.hearing_eligible else None,
                   _due=step_due(c.notice_date, "statement_defence"))  # fmt: skip


def _hearing(session: Session, c: Case, m: workflow.Move) -> None:
    notify_by = step_due(
        m.values["hearing_date"], "hearing_notice"
    )  # counted back from the hearing (working days)
    if notify_by < today():
        raise InvalidTransition(f"听证通知须在听证 7 个工作日前送达（最迟 {notify_by}），请另定听证日期",
                                f"the hearing must be notified by {notify_by}; choose a later date")  # fmt: skip
    c.hearing_date = m.values["hearing_date"]
    m.extra["notify_by"] = notify_by.isoformat()


def _collective(session: Session, c: Case, m: workflow.Move) -> None:
    if len(m.values["participants"]) < 3:
        raise InvalidTransition(
            "集体讨论须有 3 名以上负责人参加", "a collective discussion needs 3 or more heads"
        )
    c.collective_discussed = True


def _decide(session: Session, c: Case, m: workflow.Move) -> None:
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


def _serve(session: Session, c: Case, m: workflow.Move) -> None:
    c.served_on = m.values["served_on"]
    m.extra["payment_due"] = str(step_due(c.served_on, "fine_payment"))


def _refund(session: Session, c: Case, m: workflow.Move) -> None:
    v = m.values
    session.add(FundRefund(case_id=c.id, clue_id=c.clue_id, fixmedins_code=c.fixmedins_code, admdvs=c.admdvs,
                           amount=money(v["amount"]), paid_on=v["paid_on"], voucher_no=v["voucher_no"],
                           recorded_by=m.actor.username))  # fmt: skip
    m.extra["ledger"] = "fund_refunds"


def _fine(session: Session, c: Case, m: workflow.Move) -> None:
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


def _close(session: Session, c: Case, m: workflow.Move) -> None:
    c.closed_at = today()
    c.closing_grounds = m.values.get("grounds", "")
    if m.action == "close":
        m.extra["execution"] = execution(session, c)


def _resume(session: Session, c: Case, m: workflow.Move) -> None:
    """The court's ruling reopens execution: what it collects is registered as payments, and the case closes
    again as executed (or, refused, on the grounds that then apply)."""
    c.closed_at, c.closing_grounds = None, ""
    m.extra["court_ruling_zh"] = wf.COURT_RULINGS[m.values["ruling"]]


def _terminate(session: Session, c: Case, m: workflow.Move) -> None:
    c.closed_at = today()
    c.closing_grounds = "terminated"
    _flow_back(session, c, "dismissed")


def _closed(session: Session, c: Case, m: workflow.Move) -> None:
    """Once the case is closed, its clue is done too."""
    if m.after != "closed" or not c.clue_id:
        return
    clue = session.get(Clue, c.clue_id)
    if clue is not None and clue.status == "case_opened":
        workflow.move(session, m.actor, clues.FLAG, clue, "case_closed", {}, role="system")


def _extend(session: Session, c: Case, m: workflow.Move) -> None:
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


CASE = workflow.Process(
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
        "resume_execution": _resume,
        "terminate": _terminate,
        "extend": _extend,
    },
    after={"close": _closed, "terminate": _closed, "decide": _closed},
)
