"""信用修复 on the workflow engine (``supervision.workflow.CREDIT_REPAIR_FLOW``): a subject that rectified applies
with its rectification, evidence and a credit pledge; the bureau accepts and reviews (not the applicant), the
负责人 approves (not the reviewer) once the configured clean period since the last adverse fact has run; the
approval takes the subject off the 严重失信名单 and records a restored grade (the score's grade, without the
listing) — so the 双随机 weights and payment measures follow. Every step is an event row and a record entry."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service import record, workflow
from fundguard.service.errors import InvalidTransition, ValidationFailed, forbidden, not_found
from fundguard.service.models import (
    BlacklistEntry,
    Case,
    CreditGrade,
    CreditRepair,
    CreditRepairEvent,
    PointRecord,
    Staff,
    utcnow,
)
from fundguard.service.scope import Actor, mask_id, mask_name, paged, require_sees
from fundguard.service.timing import today
from fundguard.supervision import credit as cr
from fundguard.supervision import points as pts
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import CREDIT_MANAGE, CREDIT_VIEW

from .service import scheme

OPEN = ("applied", "reviewing", "proposed")


def _current_entry(session: Session, kind: str, key: str, day: dt.date) -> BlacklistEntry | None:
    return session.execute(select(BlacklistEntry).where(
        BlacklistEntry.subject_type == kind, BlacklistEntry.subject_id == key, BlacklistEntry.left_on.is_(None),
        BlacklistEntry.until >= day).order_by(BlacklistEntry.id.desc())).scalars().first()  # fmt: skip


def _latest_grade(session: Session, kind: str, key: str) -> CreditGrade | None:
    return session.execute(select(CreditGrade).where(
        CreditGrade.subject_type == kind, CreditGrade.subject_id == key).order_by(CreditGrade.id.desc())
    ).scalars().first()  # fmt: skip


def last_adverse(session: Session, kind: str, key: str) -> dt.date | None:
    """The day of the subject's latest adverse fact: a decided case against it, a point record (staff), or
    its blacklist entry. The clean period runs from here."""
    days: list[dt.date] = []
    cases = select(Case.decision_json).where(Case.decision_json != "{}", Case.decision_json != "")
    if kind == "institution":
        cases = cases.where(Case.fixmedins_code == key, Case.party_type != "individual")
    elif kind == "insured":
        cases = cases.where(Case.party_id == key, Case.party_type == "individual")
    else:
        cases = None  # type: ignore[assignment]
        last = session.execute(select(func.max(PointRecord.decided_on)).join(Staff, Staff.id == PointRecord.staff_id)
                               .where(Staff.national_code == key, PointRecord.status == "effective")).scalar()  # fmt: skip
        if last:
            days.append(last)
    if cases is not None:
        for (text,) in session.execute(cases).all():
            day = json.loads(text or "{}").get("decided_on", "")
            if len(day) >= 10:
                days.append(dt.date.fromisoformat(day[:10]))
    entered = session.execute(select(func.max(BlacklistEntry.entered_on)).where(
        BlacklistEntry.subject_type == kind, BlacklistEntry.subject_id == key)).scalar()  # fmt: skip
    if entered:
        days.append(entered)
    return max(days) if days else None


def eligible_on(session: Session, r: CreditRepair) -> dt.date:
    last = last_adverse(session, r.subject_type, r.subject_id) or r.clean_since
    return pts.add_months(max(last, r.clean_since), scheme().repair_clean_months)


def _working_days(start: dt.date, n: int) -> dt.date:
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _context(session: Session, r: CreditRepair) -> dict:
    return {"eligible_on": eligible_on(session, r)}


def _history(session: Session, r: CreditRepair) -> list[tuple[str, str]]:
    rows = session.execute(select(CreditRepairEvent.action, CreditRepairEvent.actor)
                           .where(CreditRepairEvent.repair_id == r.id).order_by(CreditRepairEvent.id)).all()  # fmt: skip
    return [(a, who) for a, who in rows]


def _log(session: Session, r: CreditRepair, m: workflow.Move) -> None:
    session.add(CreditRepairEvent(repair_id=r.id, action=m.action, from_status=m.before, to_status=m.after,
                                  actor=m.actor.username, at=utcnow(), comment=m.comment,
                                  fields_json=json.dumps({**m.stored, **m.extra}, ensure_ascii=False)))  # fmt: skip


def _approve(session: Session, r: CreditRepair, m: workflow.Move) -> None:
    """Off the list, and a restored grade row: the latest grade's facts scored again without the listing."""
    sch, day = scheme(), m.day
    entry = _current_entry(session, r.subject_type, r.subject_id, day)
    if entry is not None:
        entry.left_on, entry.left_reason = (
            day,
            f"信用修复（申请 #{r.id}，{m.actor.display_name or m.actor.username}批准）",
        )
        record.append(session, m.actor.username, "credit.blacklist_leave", "blacklist", entry.id,
                      {"reason": entry.left_reason, "repair_id": r.id})  # fmt: skip
    last = _latest_grade(session, r.subject_type, r.subject_id)
    reasons = (
        [x for x in json.loads(last.reasons_json) if x["item"] not in ("blacklist", "repair")] if last else []
    )
    score = max(sch.base - sum(int(x.get("deduct", 0)) for x in reasons), 0)
    grade = cr.grade_of_score(sch, score)
    reasons.insert(0, {"item": "repair", "label_zh": f"信用修复（申请 #{r.id}），移出严重失信名单并按得分评级",
                       "count": 1, "deduct": 0})  # fmt: skip
    session.add(CreditGrade(subject_type=r.subject_type, subject_id=r.subject_id, subject_name=r.subject_name,
                            year=day.year, score=score, grade=grade, previous=last.grade if last else "",
                            reasons_json=json.dumps(reasons, ensure_ascii=False), fixmedins_code=r.fixmedins_code,
                            admdvs=r.admdvs, computed_by=m.actor.username))  # fmt: skip
    r.grade_after, r.decided_on = grade, day
    m.extra.update(grade_before=r.grade_before, grade_after=grade, left_blacklist=entry.id if entry else None)


def _decided(session: Session, r: CreditRepair, m: workflow.Move) -> None:
    r.decided_on = m.day


CREDIT_REPAIR = workflow.Process(
    machine=wf.CREDIT_REPAIR_FLOW,
    model=CreditRepair,
    view=CREDIT_VIEW,
    what=("信用修复申请", "credit repair"),
    record_action="credit.repair",
    effects={"approve": _approve, "reject": _decided},
    context=_context,
    history=_history,
    log=_log,
    hidden=lambda actor, r: actor.role == "hospital" and r.subject_type == "insured",
)


def _subject(session: Session, kind: str, key: str) -> tuple[str, str, str]:
    """(name, admdvs, fixmedins_code) of a graded subject."""
    g = _latest_grade(session, kind, key)
    if g is not None:
        return g.subject_name, g.admdvs, g.fixmedins_code
    e = _current_entry(session, kind, key, today())
    if e is not None:
        return e.subject_name, e.admdvs, e.fixmedins_code
    raise not_found("信用评价对象", "credit subject", key)


def apply_repair(session: Session, actor: Actor, *, subject_type: str, subject_id: str, rectification: str,
                 evidence: list[str], pledge: str) -> dict:  # fmt: skip
    """The application: a hospital for its own institution or staff, the bureau for any subject in scope."""
    actor.require(CREDIT_VIEW)
    if subject_type not in cr.SUBJECTS:
        raise ValidationFailed(f"对象应为 {'、'.join(cr.SUBJECTS)} 之一", f"unknown subject {subject_type!r}")
    if actor.role == "hospital" and subject_type == "insured":
        raise forbidden("医院不能代参保人申请信用修复", "a hospital cannot apply for an insured person")
    if not actor.can(CREDIT_MANAGE) and actor.role != "hospital":
        raise forbidden("无权提交信用修复申请", "not allowed to apply for credit repair")
    if not rectification.strip() or not pledge.strip():
        raise ValidationFailed("须提交整改情况说明和信用承诺", "the rectification and a pledge are required")
    evidence = [e.strip() for e in evidence if e and e.strip()]
    if not evidence:
        raise ValidationFailed("须列明整改佐证材料", "list the evidence of rectification")
    name, admdvs, inst = _subject(session, subject_type, subject_id)
    require_sees(actor, admdvs, inst or None, "该对象", "this subject")
    day = today()
    entry = _current_entry(session, subject_type, subject_id, day)
    last = _latest_grade(session, subject_type, subject_id)
    top = scheme().grades[0][0]
    if entry is None and (last is None or last.grade == top):
        raise InvalidTransition("该对象未列入失信名单且信用等级无需修复", "nothing to repair")
    if session.execute(select(CreditRepair.id).where(CreditRepair.subject_type == subject_type,
                                                     CreditRepair.subject_id == subject_id,
                                                     CreditRepair.status.in_(OPEN))).first():  # fmt: skip
        raise InvalidTransition("该对象已有办理中的信用修复申请", "an application is already open")
    since = last_adverse(session, subject_type, subject_id) or day
    r = CreditRepair(subject_type=subject_type, subject_id=subject_id, subject_name=name,
                     blacklist_id=entry.id if entry else None, grade_before=last.grade if last else "",
                     rectification=rectification.strip(), evidence_json=json.dumps(evidence, ensure_ascii=False),
                     pledge=pledge.strip(), clean_since=since, applied_on=day,
                     decide_by=_working_days(day, scheme().repair_decide_working_days), status="applied",
                     fixmedins_code=inst, admdvs=admdvs, created_by=actor.username)  # fmt: skip
    session.add(r)
    session.flush()
    session.add(CreditRepairEvent(repair_id=r.id, action="apply", from_status="", to_status="applied",
                                  actor=actor.username, at=utcnow(), comment="",
                                  fields_json=json.dumps({"evidence": evidence}, ensure_ascii=False)))  # fmt: skip
    record.append(session, actor.username, "credit.repair_apply", "credit repair", r.id,
                  {"subject_type": subject_type, "subject_id": subject_id, "blacklist_id": r.blacklist_id})  # fmt: skip
    return get_repair(session, actor, r.id)


def _item(session: Session, r: CreditRepair, actor: Actor, *, full: bool = False) -> dict:
    person = r.subject_type != "institution"
    out: dict[str, Any] = {
        "id": r.id, "subject_type": r.subject_type, "subject_type_zh": cr.SUBJECTS.get(r.subject_type, ""),
        "subject_id": mask_id(r.subject_id) if person and actor.masked else r.subject_id,
        "subject_name": mask_name(r.subject_name) if person and actor.masked else r.subject_name,
        "blacklist_id": r.blacklist_id, "grade_before": r.grade_before, "grade_after": r.grade_after,
        "rectification": r.rectification, "evidence": json.loads(r.evidence_json), "pledge": r.pledge,
        "clean_since": r.clean_since.isoformat(), "eligible_on": eligible_on(session, r).isoformat(),
        "applied_on": r.applied_on.isoformat(), "decide_by": r.decide_by.isoformat(),
        "decided_on": r.decided_on.isoformat() if r.decided_on else None, "status": r.status,
        "status_zh": wf.REPAIR_STATES.get(r.status, r.status), "fixmedins_code": r.fixmedins_code,
        "admdvs": r.admdvs, "version": r.version, "actions": [], "timeline": [],
    }  # fmt: skip
    if full:
        out["actions"] = CREDIT_REPAIR.actions(session, r, actor)
        rows = session.execute(select(CreditRepairEvent).where(CreditRepairEvent.repair_id == r.id)
                               .order_by(CreditRepairEvent.id)).scalars()  # fmt: skip
        out["timeline"] = [{"action": e.action, "action_zh": "提出申请" if e.action == "apply" else
                            wf.CREDIT_REPAIR_FLOW.label(e.action), "actor": e.actor, "at": e.at.isoformat(),
                            "to_status_zh": wf.REPAIR_STATES.get(e.to_status, e.to_status), "comment": e.comment}
                           for e in rows]  # fmt: skip
    return out


def list_repairs(session: Session, actor: Actor, *, status: str = "", page: int = 1, size: int = 20) -> dict:
    conds = [CreditRepair.status == status] if status else []
    if actor.role == "hospital":
        conds.append(CreditRepair.subject_type != "insured")
    return paged(session, actor, CreditRepair, CREDIT_VIEW, conds, CreditRepair.id.desc(),
                 lambda r: _item(session, r, actor), page, size)  # fmt: skip


def get_repair(session: Session, actor: Actor, repair_id: int) -> dict:
    return _item(session, workflow.load(session, actor, CREDIT_REPAIR, repair_id), actor, full=True)


def act_on_repair(
    session: Session, actor: Actor, repair_id: int, action: str, version: int, **fields: Any
) -> dict:
    """accept / withdraw / recommend / approve / reject."""
    workflow.act(session, actor, CREDIT_REPAIR, repair_id, action, version, fields)
    return get_repair(session, actor, repair_id)
