"""Credit service functions: count each subject's facts for a natural year from the service database (decided
cases by article, confirmed clues, staff suspended or terminated, points), grade them with the scheme, keep the
history with reasons, enter and leave the blacklist, and answer the consequences (双随机 draw weights, payment
measures) and the dashboard distribution."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.core.settings import settings
from fundguard.service import record
from fundguard.service.clues import CONFIRMED_OUTCOMES
from fundguard.service.errors import ValidationFailed, forbidden, not_found
from fundguard.service.models import (
    BlacklistEntry,
    Case,
    Clue,
    CreditGrade,
    CreditRepair,
    Institution,
    PointRecord,
    Staff,
    StaffSite,
)
from fundguard.service.points import qualification_status, rules
from fundguard.service.points.service import _events
from fundguard.service.scope import (
    Actor,
    mask_id,
    mask_name,
    paged,
    region_prefix,
    require_sees,
    scope_filter,
    sees,
)
from fundguard.service.timing import today
from fundguard.supervision import credit as cr
from fundguard.supervision import points as pts
from fundguard.supervision.roles import CREDIT_MANAGE, CREDIT_VIEW

from . import insured


def scheme() -> cr.Scheme:
    """The credit scheme in force: the province's file (``FUNDGUARD_CREDIT_SCHEME``) or the default."""
    return _scheme(settings().credit_scheme)


@functools.cache
def _scheme(path: str) -> cr.Scheme:
    return cr.load_scheme(path or None)


def _article(code: str) -> str:
    """A38_2 → 38, A41_F → 41_fraud."""
    return "41_fraud" if code == "A41_F" else code[1:3]


def _decided_cases(session: Session, actor: Actor, year: int) -> list[Case]:
    rows = session.execute(select(Case).where(Case.decision_json != "{}", Case.decision_json != "",
                                              scope_filter(actor, Case.admdvs, Case.fixmedins_code))).scalars()  # fmt: skip
    out = []
    for c in rows:
        day = json.loads(c.decision_json or "{}").get("decided_on", "")
        if day[:4] == str(year) and c.behaviour_code:
            out.append(c)
    return out


def _staff_periods(session: Session, st: Staff, year: int) -> set[str]:
    """Which of suspended / terminated began for the person in ``year``."""
    return {
        p.status
        for p in pts.periods(_events(session, st.id), rules(), st.registered_on)
        if p.since.year == year
    }


def _facts(session: Session, actor: Actor, year: int) -> dict[tuple[str, str], dict[str, Any]]:
    """(subject_type, subject_id) → {name, admdvs, fixmedins_code, counts}."""
    facts: dict[tuple[str, str], dict[str, Any]] = {}

    def slot(kind: str, key: str, name: str, admdvs: str, inst: str) -> Counter:
        f = facts.setdefault((kind, key), {"name": name, "admdvs": admdvs, "fixmedins_code": inst,
                                           "counts": Counter()})  # fmt: skip
        return f["counts"]

    for inst in session.execute(select(Institution).where(
            scope_filter(actor, Institution.admdvs, Institution.fixmedins_code))).scalars():  # fmt: skip
        slot("institution", inst.fixmedins_code, inst.name, inst.admdvs, inst.fixmedins_code)
    for c in _decided_cases(session, actor, year):
        art = _article(c.behaviour_code)
        if c.party_type == "individual" and c.party_id:
            slot("insured", c.party_id, c.party_name, c.admdvs, c.fixmedins_code)[f"case_article_{art}"] += 1
        elif ("institution", c.fixmedins_code) in facts:
            facts[("institution", c.fixmedins_code)]["counts"][f"case_article_{art}"] += 1
    confirmed = session.execute(
        select(Clue.fixmedins_code, func.count()).where(Clue.outcome.in_(CONFIRMED_OUTCOMES),
                                                        Clue.period.startswith(str(year)))
        .group_by(Clue.fixmedins_code)).all()  # fmt: skip
    for code, n in confirmed:
        if ("institution", code) in facts:
            facts[("institution", code)]["counts"]["clue_confirmed"] += n
    staff_at: dict[str, set[int]] = defaultdict(set)
    for sid, code in session.execute(select(StaffSite.staff_id, StaffSite.fixmedins_code)).all():
        staff_at[code].add(sid)
    hit: dict[int, set[str]] = {}
    for st in session.execute(select(Staff).where(Staff.id.in_(
            select(PointRecord.staff_id).where(PointRecord.status == "effective")))).scalars():  # fmt: skip
        hit[st.id] = _staff_periods(session, st, year)
    for st in session.execute(select(Staff)).scalars():
        if not any(("institution", code) in facts for code, ids in staff_at.items() if st.id in ids):
            continue
        q = qualification_status(session, st.national_code, min(today(), dt.date(year, 12, 31)))
        counts = slot("staff", st.national_code, st.name, st.admdvs, st.fixmedins_code)
        counts["points"] += q["points_year"]
        for status in hit.get(st.id, ()):
            counts[status] += 1
    ratio = rules().institution_ratio
    for (kind, code), f in facts.items():
        if kind != "institution" or not staff_at.get(code):
            continue
        for status in ("suspended", "terminated"):
            f["counts"][f"staff_{status}"] += sum(status in hit.get(sid, ()) for sid in staff_at[code])
        bad = sum(bool(hit.get(sid)) for sid in staff_at[code])
        if bad / len(staff_at[code]) > ratio:
            f["counts"]["staff_share_over_ratio"] = 1
    return facts


def _listed(session: Session, day: dt.date) -> set[tuple[str, str]]:
    rows = session.execute(select(BlacklistEntry.subject_type, BlacklistEntry.subject_id).where(
        BlacklistEntry.left_on.is_(None), BlacklistEntry.entered_on <= day, BlacklistEntry.until >= day)).all()  # fmt: skip
    return {(t, i) for t, i in rows}


def _latest(session: Session) -> dict[tuple[str, str], CreditGrade]:
    last = select(func.max(CreditGrade.id)).group_by(CreditGrade.subject_type, CreditGrade.subject_id)
    rows = session.execute(select(CreditGrade).where(CreditGrade.id.in_(last))).scalars()
    return {(g.subject_type, g.subject_id): g for g in rows}


def recompute(session: Session, actor: Actor, year: int | None = None) -> dict:
    """Grade every subject in the actor's scope for ``year`` (default this year): a history row for each, the
    blacklist entered where the scheme's entry rules say so. Returns counts by subject and the grade changes."""
    actor.require(CREDIT_MANAGE)
    year, sch = year or today().year, scheme()
    facts, listed, latest = _facts(session, actor, year), _listed(session, today()), _latest(session)
    changed, by_type = [], Counter()
    # 信用修复 approved in or after this year: the facts it repaired no longer put the subject back on the list
    repaired = {(t, i) for t, i in session.execute(select(CreditRepair.subject_type, CreditRepair.subject_id).where(
        CreditRepair.status == "approved", CreditRepair.decided_on >= dt.date(year, 1, 1))).all()}  # fmt: skip
    for (kind, key), f in sorted(facts.items()):
        g = cr.grade(sch, kind, dict(f["counts"]), (kind, key) in listed)
        if (kind, key) in repaired and (kind, key) not in listed and g.blacklisted:
            g = cr.Grade(g.score, cr.grade_of_score(sch, g.score), sch.grade_name(cr.grade_of_score(sch, g.score)),
                         [{"item": "repair", "label_zh": "已信用修复，不再列入严重失信名单", "count": 1, "deduct": 0},
                          *g.reasons[1:]], False, [])  # fmt: skip
        if g.entry_items and (kind, key) not in listed:
            items = "、".join(sch.items[kind][i]["label_zh"] for i in g.entry_items)
            _enter(session, actor, kind, key, f["name"], f"{year}年：{items}", f["admdvs"], f["fixmedins_code"],
                   public=sch.disclose_blacklist)  # fmt: skip
        before = latest.get((kind, key))
        prev = before.grade if before else ""
        session.add(CreditGrade(subject_type=kind, subject_id=key, subject_name=f["name"], year=year, score=g.score,
                                grade=g.grade, previous=prev, reasons_json=json.dumps(g.reasons, ensure_ascii=False),
                                fixmedins_code=f["fixmedins_code"], admdvs=f["admdvs"],
                                computed_by=actor.username))  # fmt: skip
        by_type[kind] += 1
        if prev and prev != g.grade:
            changed.append({"subject_type": kind, "subject_id": key, "from": prev, "to": g.grade})
    session.flush()
    record.append(session, actor.username, "credit.recompute", "credit", str(year),
                  {"subjects": dict(by_type), "changed": len(changed), "scheme": sch.name_zh})  # fmt: skip
    return {"year": year, "subjects": dict(by_type), "changed": changed}


def _visible(actor: Actor, kind: str | None):  # type: ignore[no-untyped-def]
    """Scope; a hospital never sees insured persons' grades."""
    cond = scope_filter(actor, CreditGrade.admdvs, CreditGrade.fixmedins_code)
    return cond & (CreditGrade.subject_type != "insured") if actor.role == "hospital" else cond


def _grade_item(g: CreditGrade, actor: Actor, session: Session | None = None) -> dict:
    """A grade row as shown: persons masked for masked roles; the grade's payment measures from the scheme; for
    an insured person (with a session) whether their 联网结算 is suspended today and why."""
    sch = scheme()
    person = g.subject_type != "institution"
    measures = sch.measures(g.grade)
    settlement = None
    if g.subject_type == "insured" and session is not None:
        settlement = insured.settlement_standing(session, sch, g.subject_id, today())
    return {
        "id": g.id, "subject_type": g.subject_type, "subject_type_zh": cr.SUBJECTS.get(g.subject_type, g.subject_type),
        "subject_id": mask_id(g.subject_id) if person and actor.masked else g.subject_id,
        "subject_name": mask_name(g.subject_name) if person and actor.masked else g.subject_name,
        "year": g.year, "score": g.score, "grade": g.grade, "grade_zh": sch.grade_name(g.grade),
        "previous": g.previous, "reasons": json.loads(g.reasons_json), "fixmedins_code": g.fixmedins_code,
        "admdvs": g.admdvs, "computed_at": g.computed_at.isoformat(),
        "consequence": settlement["status_zh"] if settlement and settlement["suspended"] else measures["measure_zh"],
        "measures": measures, "settlement": settlement,
    }  # fmt: skip


def list_grades(session: Session, actor: Actor, *, subject_type: str = "institution", grade: str = "",
                page: int = 1, size: int = 20) -> dict:  # fmt: skip
    """Each subject's latest grade, in scope."""
    if subject_type not in cr.SUBJECTS:
        raise ValidationFailed(f"对象应为 {'、'.join(cr.SUBJECTS)} 之一", f"unknown subject {subject_type!r}")
    last = select(func.max(CreditGrade.id)).group_by(CreditGrade.subject_type, CreditGrade.subject_id)
    conds = [CreditGrade.id.in_(last), CreditGrade.subject_type == subject_type]
    if grade:
        conds.append(CreditGrade.grade == grade)
    return paged(session, actor, CreditGrade, CREDIT_VIEW, conds, (CreditGrade.score, CreditGrade.id),
                 lambda g: _grade_item(g, actor, session), page, size, visible=_visible(actor, subject_type))  # fmt: skip


def history(session: Session, actor: Actor, subject_type: str, subject_id: str) -> list[dict]:
    """A subject's grade history with reasons, newest first."""
    actor.require(CREDIT_VIEW)
    rows = session.execute(select(CreditGrade).where(
        CreditGrade.subject_type == subject_type, CreditGrade.subject_id == subject_id, _visible(actor, subject_type))
        .order_by(CreditGrade.id.desc())).scalars()  # fmt: skip
    out = [_grade_item(g, actor, session) for g in rows]
    if not out:
        raise not_found("信用记录", "credit history", subject_id)
    return out


def _in_region(actor: Actor, region: str, admdvs_col, inst_col):  # type: ignore[no-untyped-def]
    """The actor's scope, narrowed to ``region`` (a 6-digit 医保区划 the actor covers) when one is asked for."""
    cond = scope_filter(actor, admdvs_col, inst_col)
    if not region:
        return cond
    if len(region) != 6 or not region.isdigit():
        raise ValidationFailed(
            "区划应为 6 位医保区划代码", f"region must be a 6-digit admdvs code: {region!r}"
        )
    if actor.role == "hospital" or not sees(actor, region, None):
        raise forbidden("无权查看该区划", f"region {region} is outside your scope")
    return cond & admdvs_col.startswith(region_prefix(region), autoescape=True)


def distribution(session: Session, actor: Actor, region: str = "") -> dict[str, dict[str, int]]:
    """Latest grades counted by subject and grade (dashboard charts), in scope and, if asked, in ``region``."""
    actor.require(CREDIT_VIEW)
    last = select(func.max(CreditGrade.id)).group_by(CreditGrade.subject_type, CreditGrade.subject_id)
    where = _visible(actor, None) & _in_region(actor, region, CreditGrade.admdvs, CreditGrade.fixmedins_code)
    rows = session.execute(select(CreditGrade.subject_type, CreditGrade.grade, func.count())
                           .where(CreditGrade.id.in_(last), where)
                           .group_by(CreditGrade.subject_type, CreditGrade.grade)).all()  # fmt: skip
    out: dict[str, dict[str, int]] = {k: {g: 0 for g, _, _ in scheme().grades} for k in cr.SUBJECTS}
    for kind, g, n in rows:
        out.setdefault(kind, {})[g] = n
    return out


def measures_table() -> list[dict[str, Any]]:
    """The scheme's payment measures per grade (and, for insured persons, the 联网结算 suspension), as configured."""
    sch = scheme()
    out = []
    for g, name, floor in sch.grades:
        months, insured_zh = sch.insured_suspension(g, False)
        out.append({"grade": g, "grade_zh": name, "floor": floor, **sch.measures(g),
                    "insured_suspend_months": months, "insured_measure_zh": insured_zh})  # fmt: skip
    return out


def insured_standing(session: Session, actor: Actor, psn_no: str) -> dict[str, Any]:
    """An insured person's credit file: latest grade, whether 联网结算 is suspended today and why, the grade
    history with reasons. Never for a hospital; persons masked for masked roles; only in the actor's region."""
    actor.require(CREDIT_VIEW)
    if actor.role == "hospital":
        raise forbidden("医院不能查看参保人员信用", "a hospital cannot read insured persons' credit")
    psn_no = psn_no.strip()
    rows = list(session.execute(select(CreditGrade).where(
        CreditGrade.subject_type == "insured", CreditGrade.subject_id == psn_no,
        scope_filter(actor, CreditGrade.admdvs, CreditGrade.fixmedins_code)).order_by(CreditGrade.id.desc())
    ).scalars())  # fmt: skip
    listed = session.execute(select(BlacklistEntry).where(
        BlacklistEntry.subject_type == "insured", BlacklistEntry.subject_id == psn_no,
        scope_filter(actor, BlacklistEntry.admdvs, BlacklistEntry.fixmedins_code))).scalars().first()  # fmt: skip
    if not rows and listed is None:
        raise not_found("参保人员信用记录", "insured person's credit record", psn_no)
    name = rows[0].subject_name if rows else listed.subject_name  # type: ignore[union-attr]
    standing = insured.settlement_standing(session, scheme(), psn_no, today())
    return {
        "psn_no": mask_id(psn_no) if actor.masked else psn_no,
        "name": mask_name(name) if actor.masked else name,
        "grade": _grade_item(rows[0], actor, session) if rows else None,
        "settlement": standing,
        "history": [_grade_item(g, actor) for g in rows],
    }


def draw_weights(session: Session, actor: Actor) -> dict[str, int]:
    """双随机 weights by institution: each institution's latest grade's ``draw_weight`` (lower grades drawn more
    often); an ungraded institution weighs as the second-best grade."""
    actor.require(CREDIT_VIEW)
    sch = scheme()
    default = sch.consequences.get(sch.grades[min(1, len(sch.grades) - 1)][0], {}).get("draw_weight", 1)
    latest = {k[1]: g.grade for k, g in _latest(session).items() if k[0] == "institution"}
    insts = session.execute(select(Institution.fixmedins_code).where(
        scope_filter(actor, Institution.admdvs, Institution.fixmedins_code))).scalars()  # fmt: skip
    return {
        code: int(sch.consequences.get(latest.get(code, ""), {}).get("draw_weight", default))
        for code in insts
    }


# ---------------------------------------------------------------- blacklist (严重失信名单, 联合惩戒)


def _enter(session: Session, actor: Actor, kind: str, key: str, name: str, reason: str, admdvs: str, inst: str,
           public: bool) -> BlacklistEntry:  # fmt: skip
    day = today()
    e = BlacklistEntry(subject_type=kind, subject_id=key, subject_name=name, reason=reason, entered_on=day,
                       until=pts.add_years(day, scheme().blacklist_years), public=public, fixmedins_code=inst,
                       admdvs=admdvs, created_by=actor.username)  # fmt: skip
    session.add(e)
    session.flush()
    record.append(session, actor.username, "credit.blacklist_enter", "blacklist", e.id,
                  {"subject_type": kind, "subject_id": key, "reason": reason})  # fmt: skip
    return e


def _entry_item(e: BlacklistEntry, actor: Actor | None) -> dict:
    person = e.subject_type != "institution"
    hide = actor is None or actor.masked
    return {
        "id": e.id, "subject_type": e.subject_type, "subject_type_zh": cr.SUBJECTS.get(e.subject_type, e.subject_type),
        "subject_id": mask_id(e.subject_id) if person and hide else e.subject_id,
        "subject_name": mask_name(e.subject_name) if person and hide else e.subject_name, "reason": e.reason,
        "entered_on": e.entered_on.isoformat(), "until": e.until.isoformat(),
        "left_on": e.left_on.isoformat() if e.left_on else None, "left_reason": e.left_reason, "public": e.public,
        "fixmedins_code": e.fixmedins_code, "admdvs": e.admdvs,
    }  # fmt: skip


def add_to_blacklist(session: Session, actor: Actor, *, subject_type: str, subject_id: str, reason: str,
                     public: bool = False) -> dict:  # fmt: skip
    """An officer lists an institution (in scope) or a person by hand, with the reason."""
    actor.require(CREDIT_MANAGE)
    if subject_type not in cr.SUBJECTS or not reason.strip() or not subject_id.strip():
        raise ValidationFailed("须指定对象类型、编码和列入理由", "subject type, id and a reason are required")
    name, admdvs, inst = "", actor.admdvs, ""
    if subject_type == "institution":
        i = session.get(Institution, subject_id)
        if i is None:
            raise not_found("定点机构", "institution", subject_id)
        name, admdvs, inst = i.name, i.admdvs, i.fixmedins_code
    elif subject_type == "staff":
        st = session.execute(select(Staff).where(Staff.national_code == subject_id)).scalar_one_or_none()
        if st is None:
            raise not_found("登记备案人员", "registered person", subject_id)
        name, admdvs, inst = st.name, st.admdvs, st.fixmedins_code
    require_sees(actor, admdvs, inst or None, "该对象", "this subject")
    return _entry_item(_enter(session, actor, subject_type, subject_id, name, reason.strip(), admdvs, inst, public),
                       actor)  # fmt: skip


def _sees_entry(actor: Actor, e: BlacklistEntry) -> bool:
    return sees(actor, e.admdvs, e.fixmedins_code or None) and not (
        actor.role == "hospital" and e.subject_type == "insured")  # fmt: skip


def list_blacklist(
    session: Session, actor: Actor, *, current: bool = True, page: int = 1, size: int = 20
) -> dict:
    conds = [BlacklistEntry.left_on.is_(None), BlacklistEntry.until >= today()] if current else []
    vis = scope_filter(actor, BlacklistEntry.admdvs, BlacklistEntry.fixmedins_code)
    if actor.role == "hospital":
        vis = vis & (BlacklistEntry.subject_type != "insured")
    return paged(session, actor, BlacklistEntry, CREDIT_VIEW, conds, BlacklistEntry.id.desc(),
                 lambda e: _entry_item(e, actor), page, size, visible=vis)  # fmt: skip


def public_blacklist(session: Session) -> list[dict]:
    """公开: the current entries marked public, persons masked (no login needed)."""
    rows = session.execute(select(BlacklistEntry).where(
        BlacklistEntry.public.is_(True), BlacklistEntry.left_on.is_(None), BlacklistEntry.until >= today())
        .order_by(BlacklistEntry.id)).scalars()  # fmt: skip
    return [_entry_item(e, None) for e in rows]
