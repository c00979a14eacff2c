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
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from fundguard.core.errors import InputError
from fundguard.service import record
from fundguard.service.errors import (
    InvalidTransition,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
    from_workflow,
    not_found,
)
from fundguard.service.models import (
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
    money,
)
from fundguard.service.scope import Actor, load_in_scope, scope_filter
from fundguard.service.timing import case_deadline, step_due, today
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import AGREEMENT, CASE_HANDLE, CASE_LEGAL_REVIEW, CASE_VIEW

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
    return CaseThresholds(
        **{k: (int(v) if known[k] in ("int", int) else Decimal(str(v))) for k, v in raw.items()}
    )


def _load(session: Session, actor: Actor, case_id: int, *, for_update: bool = False) -> Case:
    return load_in_scope(session, actor, Case, case_id, CASE_VIEW, "案件", "case", for_update=for_update)


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion(
            "案件已被他人修改，请刷新后重试", "case changed meanwhile; reload and retry"
        ) from None


def open_case(session: Session, actor: Actor, clue_id: int, clue_version: int) -> dict:
    """立案 on a clue in 调查核实 or 待处理; the clue moves to 已立案."""
    from fundguard.service import clues

    actor.require(CASE_HANDLE)
    clue = clues._load(session, actor, clue_id, for_update=True)
    clues._check_version(clue, clue_version)
    clues.transition(session, actor, clue, "open_case", {})
    day = today()
    inst = session.get(Institution, clue.fixmedins_code)
    c = Case(
        number=f"待编号-{uuid.uuid4().hex}", clue_id=clue.id,
        title=f"{clue.fixmedins_name}涉嫌{clue.rule_name}案", status="filed",
        fixmedins_code=clue.fixmedins_code, party_name=inst.name if inst else clue.fixmedins_name,
        party_type="organisation", admdvs=clue.admdvs, opened_at=day, deadline=case_deadline(day),
        amount_at_issue=money(clue.confirmed_amount if clue.confirmed_amount is not None else clue.amount),
        step_started=day, created_by=actor.username,
    )  # fmt: skip
    session.add(c)
    _flush(session)
    c.number = f"医保立〔{day.year}〕{c.id:04d}号"  # from the row id: two officers filing at once never clash
    session.add(CaseStep(case_id=c.id, step="立案", to_status="filed", actor=actor.username,
                         comment=f"由线索 {clue.id} 立案", due=c.deadline))  # fmt: skip
    _flush(session)
    record.append(session, actor.username, "case.open", "case", c.id,
                  {"number": c.number, "clue_id": clue.id, "deadline": c.deadline.isoformat(),
                   "amount_at_issue": str(c.amount_at_issue)})  # fmt: skip
    return get_case(session, actor, c.id)


def list_cases(session: Session, actor: Actor, *, status: str | None = None, fixmedins_code: str | None = None,
               overdue: bool | None = None, page: int = 1, size: int = 20) -> dict:  # fmt: skip
    actor.require(CASE_VIEW)
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能查看案件", "hospital users cannot see cases")
    page, size = max(int(page), 1), min(max(int(size), 1), 500)
    conds = [scope_filter(actor, Case.admdvs, Case.fixmedins_code)]
    if status:
        conds.append(Case.status == status)
    if fixmedins_code:
        conds.append(Case.fixmedins_code == fixmedins_code)
    if overdue:
        conds.append(and_(Case.status != "closed", Case.deadline < today()))
    where = and_(*conds)
    total = session.execute(select(func.count()).select_from(Case).where(where)).scalar_one()
    rows = session.execute(
        select(Case).where(where).order_by(Case.id.desc()).offset((page - 1) * size).limit(size)
    )
    return {"items": [_summary(c) for c in rows.scalars()], "total": total, "page": page, "size": size}


def _summary(c: Case) -> dict:
    day = today()
    open_ = c.status != "closed"
    return {
        "id": c.id, "number": c.number, "title": c.title, "status": c.status,
        "status_zh": wf.CASE_STATES.get(c.status, c.status), "fixmedins_code": c.fixmedins_code,
        "party": {"fixmedins_code": c.fixmedins_code, "name": c.party_name, "type": c.party_type},
        "admdvs": c.admdvs, "opened_at": c.opened_at.isoformat(), "deadline": c.deadline.isoformat(),
        "days_left": (c.deadline - day).days if open_ else None, "overdue": open_ and c.deadline < day,
        "amount_at_issue": str(c.amount_at_issue), "version": c.version,
    }  # fmt: skip


def _ctx(c: Case) -> dict[str, Any]:
    day = today()
    hearing_due = step_due(c.notice_date, "hearing_request") if c.notice_date else None
    statement_due = step_due(c.notice_date, "statement_defence") if c.notice_date else None
    return {
        "officers": json.loads(c.officers_json or "[]"),
        "needs_legal_review": c.needs_legal_review,
        "hearing_eligible": c.hearing_eligible,
        "hearing_request_overdue": bool(hearing_due and day > hearing_due),
        "hearing_notice_days": 7,
        "statement_open": bool(statement_due and day <= statement_due),
        "major": c.major,
        "collective_discussed": c.collective_discussed,
        "today": day,
    }


def get_case(session: Session, actor: Actor, case_id: int) -> dict:
    c = _load(session, actor, case_id)
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能查看案件", "hospital users cannot see cases")
    out = _summary(c)
    steps = session.execute(select(CaseStep).where(CaseStep.case_id == c.id).order_by(CaseStep.id)).scalars()
    exts = session.execute(
        select(CaseExtension).where(CaseExtension.case_id == c.id).order_by(CaseExtension.id)
    )
    penalty = session.execute(select(Penalty).where(Penalty.case_id == c.id)).scalars().first()
    reached = _ORDER.index(c.status) if c.status in _ORDER else 0
    out.update(
        clue_id=c.clue_id,
        loss_amount=None if c.loss_amount is None else str(c.loss_amount),
        behaviour_code=c.behaviour_code,
        findings=c.findings,
        intent=c.intent,
        intent_evidence=c.intent_evidence,
        officers=json.loads(c.officers_json or "[]"),
        proposal=json.loads(c.proposal_json or "{}"),
        decision=json.loads(c.decision_json or "{}"),
        needs_legal_review=c.needs_legal_review,
        hearing_eligible=c.hearing_eligible,
        major=c.major,
        collective_discussed=c.collective_discussed,
        notice_date=c.notice_date.isoformat() if c.notice_date else None,
        hearing_date=c.hearing_date.isoformat() if c.hearing_date else None,
        closed_at=c.closed_at.isoformat() if c.closed_at else None,
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
                "from_status": s.from_status,
                "to_status": s.to_status,
                "at": s.at.isoformat(),
                "actor": s.actor,
                "comment": s.comment,
                "due": s.due.isoformat() if s.due else None,
                "fields": json.loads(s.fields_json or "{}"),
            }
            for s in steps
        ],
        documents=[
            {"kind": k, "name_zh": zh, "url": f"/api/cases/{c.id}/documents/{k}"}
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
            "circumstance": penalty.circumstance,
            "loss_amount": str(penalty.loss_amount),
            "refund_amount": str(penalty.refund_amount),
            "fine_amount": str(penalty.fine_amount),
            "suspension_months": penalty.suspension_months,
            "basis_zh": penalty.basis_zh,
            "intent": penalty.intent,
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
            {"id": r.id, "target": r.target, "status": r.status, "receipt_no": r.receipt_no}
            for r in session.execute(select(Referral).where(Referral.case_id == c.id)).scalars()
        ],
        actions=[
            a for a in wf.allowed_actions(wf.CASE_FLOW, c.status, actor.role) if _may(actor, a["action"])
        ],
    )
    return out


def _doc_applies(session: Session, c: Case, kind: str) -> bool:
    proposal = json.loads(c.proposal_json or "{}")
    if kind == "agreement_notice":
        return bool(proposal.get("measures"))
    if kind in ("prior_notice", "penalty_decision"):
        return not proposal.get("no_penalty")
    return True


def _may(actor: Actor, action: str) -> bool:
    if action in ("legal_review_pass",):
        return actor.can(CASE_LEGAL_REVIEW)
    if action == "return_investigation":
        return actor.can(CASE_LEGAL_REVIEW) or actor.can(CASE_HANDLE)
    if action == "record_refund":  # the handling agency collects recovered money too
        return actor.can(CASE_HANDLE) or actor.can(AGREEMENT)
    return actor.can(CASE_HANDLE)


def act_on_case(
    session: Session, actor: Actor, case_id: int, action: str, version: int, **fields: Any
) -> dict:
    """One step of the procedure; returns the updated case (as ``get_case``)."""
    c = _load(session, actor, case_id, for_update=True)
    if not _may(actor, action):
        raise PermissionDenied(
            f"角色「{actor.role_zh}」不能执行此案件操作", f"role {actor.role} cannot {action}"
        )
    if int(version) != c.version:
        raise StaleVersion(
            f"案件已被他人修改（当前版本 {c.version}，您提交的是 {version}），请刷新后重试",
            f"case changed meanwhile (version {c.version}, you sent {version}); reload and retry",
        )
    ctx = _ctx(c)
    try:
        target, values, t = wf.apply(wf.CASE_FLOW, c.status, action, actor.role, fields, ctx)
    except wf.InvalidTransition as e:
        raise from_workflow(e) from None
    before = c.status
    effect = _EFFECTS.get(action)
    extra: dict[str, Any] = {}
    if effect:
        extra = effect(session, actor, c, values) or {}
        if callable(t.target):  # the route depends on what the effect decided (e.g. 法制审核 needed)
            target = t.target(values, _ctx(c))
        target = extra.pop("_target", target)
    day = today()
    due = None
    if target != before:
        c.status = target
        c.step_started = day
    if action == "issue_notice":
        due = step_due(c.notice_date, "statement_defence")
    stored = {
        k: (str(v) if isinstance(v, Decimal | dt.date) else v) for k, v in values.items() if k != "comment"
    }
    session.add(CaseStep(case_id=c.id, step=t.step_zh or t.label_zh, from_status=before, to_status=target,
                         actor=actor.username, comment=str(values.get("comment") or ""), due=due,
                         fields_json=json.dumps({**stored, **extra}, ensure_ascii=False, default=str)))  # fmt: skip
    _flush(session)
    record.append(session, actor.username, "case.action", "case", c.id,
                  {"action": action, "from": before, "to": target, "fields": stored, "effects": extra,
                   "version": c.version})  # fmt: skip
    if target == "closed" and c.clue_id:
        from fundguard.service import clues

        clue = session.get(Clue, c.clue_id)
        if clue is not None and clue.status == "case_opened":
            clues.transition(session, actor, clue, "case_closed", {}, role="system")
    return get_case(session, actor, c.id)


# ---------------------------------------------------------------- per-action effects


def _start(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    officers = list(dict.fromkeys(v["officers"]))
    c.officers_json = json.dumps(officers, ensure_ascii=False)
    return {}


def _finish(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    c.findings, c.behaviour_code = v["findings"], v["behaviour_code"].strip().upper()
    c.loss_amount = money(v["loss_amount"])
    c.intent, c.intent_evidence = v["intent"], v.get("intent_evidence", "")
    return {}


def _propose(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    """Check the proposed penalty against the 条例 and the discretion table; decide legal review, hearing, major."""
    from fundguard.supervision import penalties

    article = str(v["article"]).strip()
    loss = money(c.loss_amount or 0)
    if c.intent == "以骗取为目的" and article == "38":
        raise InvalidTransition("已认定以骗取为目的，应适用条例第四十条（骗取医保基金）而非第三十八条",
                                "intent to defraud found: Art. 40 applies, not Art. 38")  # fmt: skip
    if c.intent == "none" and article in ("40", "41_fraud"):
        raise InvalidTransition(
            "未认定骗取故意，不能适用骗保条款", "no intent to defraud: fraud articles do not apply"
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
    codes = []
    for m in v.get("measures") or []:
        code = m if m in penalties.MEASURES else {zh: k for k, zh in penalties.MEASURES.items()}.get(m)
        if code is None:
            raise ValidationFailed(f"未知的协议处理措施：{m}", f"unknown agreement measure {m}")
        codes.append(code)
    th = thresholds()
    party = c.party_type
    listed = list(codes)
    if months:
        listed.append("suspend_network_settlement" if article.startswith("41") else "suspend_dept_services")
    total = (fine if not no_penalty else Decimal(0)) + refund
    c.needs_legal_review = penalties.legal_review_required(refund, fine if not no_penalty else 0, party_type=party,
                                                           measures=listed)  # fmt: skip
    c.hearing_eligible = not no_penalty and penalties.hearing_required(
        fine, party_type=party, measures=listed
    )
    c.major = total >= th.major_amount or "terminate_agreement" in codes or article in ("40", "41_fraud")
    proposal = {"article": article, "circumstance": rng.circumstance, "loss_amount": str(loss),
                "fine_amount": str(fine if not no_penalty else Decimal(0)), "refund_amount": str(refund),
                "suspension_months": months, "measures": codes, "no_penalty": no_penalty, "basis_zh": rng.basis_zh,
                "fine_range": [str(rng.fine_min), str(rng.fine_max)] if rng.has_fine else None}  # fmt: skip
    c.proposal_json = json.dumps(proposal, ensure_ascii=False)
    out = {
        "needs_legal_review": c.needs_legal_review,
        "hearing_eligible": c.hearing_eligible,
        "major": c.major,
    }
    if no_penalty and not c.needs_legal_review:
        out["_target"] = "deciding"  # no penalty: nothing to notify in advance
    return out


def _notice(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    c.notice_date = v["notice_date"]
    return {"hearing_eligible": c.hearing_eligible, "statement_due": str(step_due(c.notice_date, "statement_defence")),
            "hearing_request_due": str(step_due(c.notice_date, "hearing_request")) if c.hearing_eligible else None}  # fmt: skip


def _hearing(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    if v["host"].strip() in json.loads(c.officers_json or "[]"):
        raise InvalidTransition(
            "听证主持人不得为本案调查人员", "the hearing host must not be an investigator"
        )
    notify_by = step_due(v["hearing_date"], "hearing_notice")  # counted back from the hearing (working days)
    if notify_by < today():
        raise InvalidTransition(f"听证通知须在听证 7 个工作日前送达（最迟 {notify_by}），请另定听证日期",
                                f"the hearing must be notified by {notify_by}; choose a later date")  # fmt: skip
    c.hearing_date = v["hearing_date"]
    return {"notify_by": notify_by.isoformat()}


def _collective(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    if len(v["participants"]) < 3:
        raise InvalidTransition(
            "集体讨论须有 3 名以上负责人参加", "a collective discussion needs 3 or more heads"
        )
    c.collective_discussed = True
    return {}


def _decide(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    proposal = json.loads(c.proposal_json or "{}")
    kind = v["decision_type"]
    if kind == "处罚" and (not proposal or proposal.get("no_penalty")):
        raise InvalidTransition("拟处理意见为不予处罚，不能作出处罚决定", "the proposal is no penalty")
    c.decision_json = json.dumps(
        {"type": kind, "decided_on": today().isoformat(), **proposal}, ensure_ascii=False
    )
    for code in proposal.get("measures") or []:
        from fundguard.supervision.penalties import MEASURES

        session.add(Measure(case_id=c.id, clue_id=c.clue_id, fixmedins_code=c.fixmedins_code, admdvs=c.admdvs,
                            code=code, name_zh=MEASURES[code], by=actor.username,
                            amount=money(proposal["refund_amount"]) if code == "recover" else None))  # fmt: skip
    if kind == "处罚":
        session.add(Penalty(case_id=c.id, fixmedins_code=c.fixmedins_code, admdvs=c.admdvs,
                            article=proposal["article"], circumstance=proposal["circumstance"],
                            loss_amount=money(proposal["loss_amount"]), refund_amount=money(proposal["refund_amount"]),
                            fine_amount=money(proposal["fine_amount"]),
                            suspension_months=int(proposal.get("suspension_months") or 0),
                            basis_zh=proposal.get("basis_zh", ""), intent=c.intent, decided_at=today()))  # fmt: skip
    if kind == "移送司法机关":
        from fundguard.service import referrals

        referrals.create_referral(
            session, actor, case_id=c.id, target="公安", reason=v.get("comment") or c.findings
        )
        return {"_target": "closed"}
    return {}


def _serve(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    return {"payment_due": str(step_due(v["served_on"], "fine_payment"))}


def _refund(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    session.add(FundRefund(case_id=c.id, clue_id=c.clue_id, fixmedins_code=c.fixmedins_code, admdvs=c.admdvs,
                           amount=money(v["amount"]), paid_on=v["paid_on"], voucher_no=v.get("voucher_no", ""),
                           recorded_by=actor.username))  # fmt: skip
    return {"ledger": "fund_refunds"}


def _fine(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    penalty = session.execute(select(Penalty).where(Penalty.case_id == c.id)).scalars().first()
    if penalty is None or penalty.fine_amount <= 0:
        raise InvalidTransition("本案未决定罚款，不能登记罚款", "no fine was decided in this case")
    paid = session.execute(
        select(func.coalesce(func.sum(TreasuryFine.amount), 0)).where(TreasuryFine.case_id == c.id)
    ).scalar_one()
    if money(paid) + money(v["amount"]) > penalty.fine_amount:
        raise InvalidTransition(f"登记罚款合计超过决定的罚款 {penalty.fine_amount} 元",
                                f"fines recorded would exceed the decided fine {penalty.fine_amount}")  # fmt: skip
    session.add(TreasuryFine(case_id=c.id, fixmedins_code=c.fixmedins_code, admdvs=c.admdvs,
                             amount=money(v["amount"]), paid_on=v["paid_on"], voucher_no=v.get("voucher_no", ""),
                             recorded_by=actor.username))  # fmt: skip
    return {"ledger": "treasury_fines"}


def _close(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    c.closed_at = today()
    return {}


def _extend(session: Session, actor: Actor, c: Case, v: dict) -> dict:
    """Extend the 90-day clock: each extension and who approved it is checked by ``deadlines.due``."""
    from fundguard.supervision.deadlines import Extension

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
    session.add(CaseExtension(case_id=c.id, days=int(v["days"]), reason=v["comment"], approved_by=v["approved_by"],
                              collective=collective, new_deadline=c.deadline))  # fmt: skip
    return {"new_deadline": c.deadline.isoformat()}


_EFFECTS = {
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
    "terminate": _close,
    "extend": _extend,
}


# ---------------------------------------------------------------- documents


def case_document(session: Session, actor: Actor, case_id: int, kind: str) -> tuple[str, bytes]:
    """The .docx of one key step (立案审批表, 事先告知书, 行政处罚决定书, 协议处理通知书)."""
    from fundguard.supervision.documents import render_document

    c = _load(session, actor, case_id)
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能查看案件", "hospital users cannot see cases")
    if kind not in DOCUMENT_KINDS:
        raise not_found("文书类型", "document kind", kind)
    reached = _ORDER.index(c.status) if c.status in _ORDER else 0
    if reached < _ORDER.index(_DOC_FROM[kind]) or not _doc_applies(session, c, kind):
        raise InvalidTransition(f"案件尚未到达可出具「{DOCUMENT_KINDS[kind]}」的环节",
                                f"the case has not reached the step for {kind}")  # fmt: skip
    try:
        data = render_document(kind, document_data(session, c, kind))
    except InputError as e:
        raise ValidationFailed(e.zh, e.en) from None
    return f"{c.number}-{DOCUMENT_KINDS[kind]}.docx", data


def document_data(session: Session, c: Case, kind: str) -> dict[str, Any]:
    """The fields ``supervision.documents.render_document`` needs for ``kind``, from the case and its clue."""
    from fundguard.supervision.penalties import MEASURES

    proposal = json.loads(c.proposal_json or "{}")
    decision = json.loads(c.decision_json or "{}")
    clue = session.get(Clue, c.clue_id) if c.clue_id else None
    region = session.get(Region, c.admdvs)
    place = region.name if region else ""
    officers = json.loads(c.officers_json or "[]") or [c.created_by]
    clue_facts = (
        f"经智能审核，{c.party_name}在{clue.period}期间有 {clue.hits} 条费用记录命中规则“{clue.rule_name}”"
        f"（{clue.rule_id}），涉及医保基金 {clue.amount} 元。"
        if clue
        else c.title
    )
    evidence = [f"智能审核疑点明细 {clue.hits} 条（线索编号 {clue.id}）"] if clue else []
    hits = session.execute(select(ClueHit.evidence_zh).where(ClueHit.clue_id == c.clue_id).limit(3)).scalars()
    evidence += [e for e in hits if e]
    evidence += ["现场检查笔录、询问笔录", "医疗费用结算单据及病历资料"]
    fine = Decimal(proposal.get("fine_amount") or 0)
    refund = Decimal(proposal.get("refund_amount") or 0)
    penalty_lines = []
    if refund > 0:
        penalty_lines.append(f"责令退回医保基金 {refund} 元")
    if fine > 0:
        penalty_lines.append(f"处罚款 {fine} 元")
    if proposal.get("suspension_months"):
        penalty_lines.append(
            f"暂停相关责任部门涉及医保基金使用的医药服务 {proposal['suspension_months']} 个月"
        )
    defence = [s.comment for s in session.execute(
        select(CaseStep).where(CaseStep.case_id == c.id, CaseStep.step.in_(("陈述申辩", "听证"))).order_by(CaseStep.id)
    ).scalars() if s.comment]  # fmt: skip
    common = {
        "authority": f"{place}医疗保障局",
        "date": today(),
        "party_name": c.party_name,
        "party_type": c.party_type,
        "facts": c.findings or clue_facts,
        "evidence": evidence,
        "basis": proposal.get("basis_zh") or "《医疗保障基金使用监督管理条例》",
        "fine": fine,
    }
    if kind == "case_filing":
        return {
            **common, "case_number": c.number, "case_title": c.title, "source": "智能监管系统疑点线索",
            "facts": clue_facts, "amount": c.amount_at_issue, "handlers": officers, "party_code": c.fixmedins_code,
            "handler_opinion": "经初步核查，当事人涉嫌违法违规使用医保基金，符合立案条件，建议立案调查。",
            "legal_basis": (clue and rule_basis(clue.rule_id)) or "",
        }  # fmt: skip
    number = c.number.replace("立", "罚")
    if kind == "prior_notice":
        return {**common, "doc_number": number.replace("罚", "罚告"), "proposed_penalty": penalty_lines or ["不予罚款"],
                "measures": proposal.get("measures") or [], "hearing": c.hearing_eligible}  # fmt: skip
    if kind == "penalty_decision":
        return {**common, "doc_number": number, "decision": penalty_lines or ["不予行政处罚"], "refund": refund,
                "party_code": c.fixmedins_code, "case_opened": c.opened_at, "notice_date": c.notice_date,
                "defence_result": "；".join(defence) or "当事人在规定期限内未提出陈述、申辩。",
                "decided_on": decision.get("decided_on", "")}  # fmt: skip
    return {**common, "authority": f"{place}医疗保障事业管理中心", "doc_number": number.replace("罚", "协处"),
            "measures": [MEASURES.get(m, m) for m in proposal.get("measures") or []],
            "amount": refund if refund > 0 else None}  # fmt: skip


def rule_basis(rule_id: str) -> str:
    from fundguard.service.clues import rule_set

    rule = rule_set().rules.get(rule_id)
    return rule.legal_basis if rule else ""
