"""Staff registry and points service functions: register (登记备案) and sites, the person's file, scoring from
decided cases and 协议处理, the statement process, and the qualification on any day (nationwide: local records
and other regions' imported suspensions)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from fundguard.service import record, workflow
from fundguard.service.errors import InvalidTransition, ValidationFailed, forbidden, not_found
from fundguard.service.models import (
    Case,
    ExternalQualification,
    Institution,
    PointEvent,
    PointRecord,
    Staff,
    StaffSite,
)
from fundguard.service.points.documents import links
from fundguard.service.points.process import POINTS, rules, statement_due
from fundguard.service.points.process import events as _events
from fundguard.service.scope import (
    Actor,
    mask_id,
    mask_name,
    mask_text,
    paged,
    require_sees,
    scope_filter,
    sees,
)
from fundguard.service.timing import today
from fundguard.supervision import points as pts
from fundguard.supervision import workflow as wf
from fundguard.supervision.penalties import BEHAVIOURS
from fundguard.supervision.roles import POINTS_MANAGE, POINTS_VIEW

ID_NO = re.compile(r"^\d{17}[\dXx]$")
_RANK = {"normal": 0, "suspended": 1, "terminated": 2}


# ---------------------------------------------------------------- qualification (settlement, lookup)


def _external(session: Session, national_code: str, day: dt.date) -> ExternalQualification | None:
    rows = session.execute(
        select(ExternalQualification).where(
            ExternalQualification.national_code == national_code,
            ExternalQualification.since <= day,
            or_(ExternalQualification.until.is_(None), ExternalQualification.until >= day),
        )
    ).scalars()
    return max(rows, key=lambda e: _RANK.get(e.status, 0), default=None)


def qualification_status(session: Session, national_code: str, on_date: dt.date | None = None) -> dict:
    """The person's 医保支付资格 on ``on_date`` (the service day; default today), for settlement and lookups:
    ``status`` normal / suspended / terminated, the year's points, the period and a Chinese reason; ``warn``
    when the year's points reached the 事前 warning level; ``source`` says which region decided it. A code
    nobody registered answers ``status: unknown``."""
    day = on_date or today()
    cfg = rules()
    staff = session.execute(select(Staff).where(Staff.national_code == national_code)).scalar_one_or_none()
    own = (
        pts.standing(_events(session, staff.id), day, cfg, staff.registered_on)
        if staff is not None
        else pts.Standing("normal", 0)
    )
    out = {
        "national_code": national_code, "registered": staff is not None, "status": own.status,
        "status_zh": own.status_zh, "points_year": own.year_points, "since": own.since, "until": own.until,
        "bar_until": own.bar_until, "reason_zh": own.reason_zh, "source_admdvs": staff.admdvs if staff else "",
        "warn": own.year_points >= cfg.warn_at and own.status == "normal", "on_date": day,
    }  # fmt: skip
    ext = _external(session, national_code, day)
    if ext is not None and _RANK.get(ext.status, 0) > _RANK[own.status]:
        out.update(status=ext.status, status_zh=pts.STATUS_ZH[ext.status], since=ext.since, until=ext.until,
                   bar_until=ext.bar_until, source_admdvs=ext.source_admdvs,
                   reason_zh=f"{ext.reason}（{ext.source_admdvs} 医保部门通报）")  # fmt: skip
    if staff is None and ext is None:
        out.update(status="unknown", status_zh="未登记备案", reason_zh="该编码未在本地登记备案，也无外地通报")
    return out


def settles(
    session: Session, national_code: str, on_date: dt.date, medical_type: str = ""
) -> tuple[bool, str]:
    """Whether the fund may pay a line this person ordered or performed on ``on_date``: not while suspended or
    terminated, except emergency and rescue lines (configured ``exempt_medical_types``). Returns (pay, reason)."""
    q = qualification_status(session, national_code, on_date)
    if q["status"] not in ("suspended", "terminated"):
        return True, ""
    if medical_type and medical_type in rules().exempt_medical_types:
        return True, f"{q['status_zh']}，但急诊、抢救服务照常结算"
    return False, f"{national_code} {q['status_zh']}（{q['reason_zh']}），医保基金不予支付"


DOCTOR_FIELDS = {
    "bilg_dr_code": "开单医生",
    "acord_dr_code": "受单医生",
}  # fee_list_d: who ordered / performed


def check_lines(session: Session, lines: Iterable[Mapping[str, Any]], day: dt.date) -> list[dict]:
    """事中 for one claim: each fee line whose ordering or performing doctor may not be paid on the line's day
    (``fee_ocur_time``, else ``day``), with the Chinese reason for the 3101 answer; emergency lines (``med_type``
    13/24 or the configured kinds) pass with a note. Returns ``[{index, national_code, role_zh, pay,
    reason_zh}]`` for the lines that involve a suspended or terminated person only."""
    out, cache = [], {}
    for i, line in enumerate(lines):
        when = str(line.get("fee_ocur_time") or "")[:10]
        on = dt.date.fromisoformat(when) if len(when) == 10 else day
        for field, role_zh in DOCTOR_FIELDS.items():
            code = str(line.get(field) or "").strip()
            if not code:
                continue
            key = (code, on, str(line.get("med_type") or ""))
            if key not in cache:
                cache[key] = settles(session, code, on, key[2])
            pay, why = cache[key]
            if why:
                out.append({"index": i, "national_code": code, "role_zh": role_zh, "pay": pay,
                            "reason_zh": f"{role_zh} {why}" if not pay else why})  # fmt: skip
    return out


# ---------------------------------------------------------------- registry (一人一档)


def _site(s: StaffSite) -> dict:
    return {"fixmedins_code": s.fixmedins_code, "admdvs": s.admdvs, "department": s.department}


def _person(st: Staff, actor: Actor, session: Session | None = None) -> dict:
    q = qualification_status(session, st.national_code) if session is not None else None
    return {
        "id": st.id, "national_code": st.national_code,
        "name": mask_name(st.name) if actor.masked else st.name,
        "id_no": mask_id(st.id_no) if actor.masked else st.id_no, "category": st.category,
        "fixmedins_code": st.fixmedins_code, "admdvs": st.admdvs, "pledge_on": st.pledge_on.isoformat(),
        "registered_on": st.registered_on.isoformat(), "version": st.version,
        "status": q["status"] if q else "", "status_zh": q["status_zh"] if q else "",
        "points_year": q["points_year"] if q else 0,
    }  # fmt: skip


def _require_manage(actor: Actor, admdvs: str, fixmedins_code: str) -> None:
    """The bureau registers and scores in its scope; a hospital registers its own staff only."""
    actor.require(POINTS_VIEW)
    if not (actor.can(POINTS_MANAGE) or actor.role == "hospital"):
        raise forbidden("无权登记备案", "not allowed to register staff")
    require_sees(actor, admdvs, fixmedins_code, "该机构", "this institution")


def _institution(session: Session, code: str) -> Institution:
    inst = session.get(Institution, code)
    if inst is None:
        raise not_found("定点机构", "institution", code)
    return inst


def register_staff(session: Session, actor: Actor, *, national_code: str, id_no: str, name: str, category: str,
                   fixmedins_code: str, pledge_on: dt.date, department: str = "") -> dict:  # fmt: skip
    """登记备案 with the 服务承诺 at the registering institution (its first practice site). A terminated person
    registers again only after the bar (1 or 3 years); earlier points then no longer count."""
    national_code, id_no, name = national_code.strip(), id_no.strip().upper(), name.strip()
    if not re.fullmatch(r"[A-Za-z0-9]{6,30}", national_code):
        raise ValidationFailed("国家医保编码应为 6–30 位字母或数字", "national code: 6-30 letters or digits")
    if not ID_NO.match(id_no):
        raise ValidationFailed("身份证号应为 18 位", "ID number must have 18 characters")
    if not name:
        raise ValidationFailed("姓名不能为空", "name is required")
    if category not in pts.STAFF_CATEGORIES:
        raise ValidationFailed(
            f"人员类别应为 {'、'.join(pts.STAFF_CATEGORIES)} 之一", f"bad category {category!r}"
        )
    inst = _institution(session, fixmedins_code)
    _require_manage(actor, inst.admdvs, inst.fixmedins_code)
    day = today()
    st = session.execute(select(Staff).where(Staff.national_code == national_code)).scalar_one_or_none()
    if st is not None:
        q = qualification_status(session, national_code, day)
        if q["status"] != "terminated":
            raise ValidationFailed(
                f"编码 {national_code} 已登记备案", f"{national_code} is already registered"
            )
        if q["bar_until"] and day <= q["bar_until"]:
            raise InvalidTransition(
                f"{name} 已被终止医保支付资格，{q['bar_until']} 前不得再次登记备案",
                f"{national_code} is barred from registering again until {q['bar_until']}",
            )
        st.registered_on, st.pledge_on, st.fixmedins_code, st.admdvs = (
            day,
            pledge_on,
            inst.fixmedins_code,
            inst.admdvs,
        )
        action = "points.reregister"
    else:
        st = Staff(national_code=national_code, id_no=id_no, name=name, category=category,
                   fixmedins_code=inst.fixmedins_code, admdvs=inst.admdvs, pledge_on=pledge_on, registered_on=day,
                   created_by=actor.username)  # fmt: skip
        session.add(st)
        action = "points.register"
    session.flush()
    _add_site(session, st, inst, department)
    record.append(session, actor.username, action, "staff", st.id,
                  {"national_code": national_code, "fixmedins_code": inst.fixmedins_code})  # fmt: skip
    return get_staff(session, actor, st.id)


def _add_site(session: Session, st: Staff, inst: Institution, department: str) -> None:
    known = session.execute(
        select(StaffSite).where(StaffSite.staff_id == st.id, StaffSite.fixmedins_code == inst.fixmedins_code)
    ).scalar_one_or_none()
    if known is None:
        session.add(StaffSite(staff_id=st.id, fixmedins_code=inst.fixmedins_code, admdvs=inst.admdvs,
                              department=department))  # fmt: skip
        session.flush()


def add_site(
    session: Session, actor: Actor, staff_id: int, fixmedins_code: str, department: str = ""
) -> dict:
    """多点执业: another institution where the person practises (its scope registers it)."""
    st = _load_staff(session, actor, staff_id)
    inst = _institution(session, fixmedins_code)
    _require_manage(actor, inst.admdvs, inst.fixmedins_code)
    _add_site(session, st, inst, department)
    record.append(session, actor.username, "points.site", "staff", st.id, {"fixmedins_code": fixmedins_code})
    return get_staff(session, actor, st.id)


def _visible(actor: Actor):  # type: ignore[no-untyped-def]
    """A person is visible where any of their practice sites is in the actor's scope."""
    return exists().where(StaffSite.staff_id == Staff.id,
                          scope_filter(actor, StaffSite.admdvs, StaffSite.fixmedins_code))  # fmt: skip


def _load_staff(session: Session, actor: Actor, staff_id: int) -> Staff:
    actor.require(POINTS_VIEW)
    st = session.execute(select(Staff).where(Staff.id == int(staff_id), _visible(actor))).scalar_one_or_none()
    if st is None:
        raise not_found("人员档案", "staff file", staff_id)  # out of scope reads as absent
    return st


def list_staff(session: Session, actor: Actor, *, q: str = "", page: int = 1, size: int = 20) -> dict:
    conds = (
        [or_(Staff.national_code == q.strip(), Staff.name.contains(q.strip(), autoescape=True))] if q else []
    )
    return paged(session, actor, Staff, POINTS_VIEW, conds, Staff.id.desc(),
                 lambda st: _person(st, actor, session), page, size, visible=_visible(actor))  # fmt: skip


def _record_item(session: Session, r: PointRecord, actor: Actor) -> dict:
    events = workflow.timeline(session, wf.POINTS_FLOW, session.execute(
        select(PointEvent).where(PointEvent.record_id == r.id).order_by(PointEvent.id)).scalars())  # fmt: skip
    free_text = lambda text: text  # noqa: E731
    if actor.masked:  # the person's name and ID typed into reasons, statements and comments
        st = session.get(Staff, r.staff_id)
        free_text = lambda text: mask_text(text, names=[st.name], ids=[st.id_no])  # noqa: E731
    for e in events:
        e["comment"] = free_text(e["comment"])
    return {
        "id": r.id, "staff_id": r.staff_id, "case_id": r.case_id, "fixmedins_code": r.fixmedins_code,
        "behaviour_code": r.behaviour_code, "behaviour_zh": BEHAVIOURS.get(r.behaviour_code, r.behaviour_code),
        "band": r.band, "responsibility": r.responsibility, "adjustment": r.adjustment,
        "adjustment_zh": pts.ADJUSTMENTS.get(r.adjustment, r.adjustment), "points": r.points, "reduced": r.reduced,
        "reason": free_text(r.reason), "decided_on": r.decided_on.isoformat(),
        "statement_due": r.statement_due.isoformat(),
        "effective_on": r.effective_on.isoformat() if r.effective_on else None, "statement": free_text(r.statement),
        "status": r.status, "status_zh": wf.POINTS_STATES.get(r.status, r.status), "version": r.version,
        "actions": POINTS.actions(session, r, actor) if sees(actor, r.admdvs, r.fixmedins_code) else [],
        "events": events,
        "documents": links(session, r, actor),
    }  # fmt: skip


def get_staff(session: Session, actor: Actor, staff_id: int) -> dict:
    """The person's file: registration, sites, today's qualification, and every point record (nationwide)."""
    st = _load_staff(session, actor, staff_id)
    sites = session.execute(
        select(StaffSite).where(StaffSite.staff_id == st.id).order_by(StaffSite.id)
    ).scalars()
    recs = session.execute(select(PointRecord).where(PointRecord.staff_id == st.id)
                           .order_by(PointRecord.decided_on.desc(), PointRecord.id.desc())).scalars()  # fmt: skip
    q = qualification_status(session, st.national_code)
    return {
        **_person(st, actor), "status": q["status"], "status_zh": q["status_zh"], "points_year": q["points_year"],
        "qualification": _jsonable(q), "sites": [_site(s) for s in sites],
        "records": [_record_item(session, r, actor) for r in recs],
    }  # fmt: skip


def _jsonable(d: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in d.items()}


def lookup(session: Session, actor: Actor, *, national_code: str = "", id_no: str = "") -> dict:
    """全国联网查询: any institution's person by national code or ID number; the status answers for everyone
    with points access, the name and ID number stay masked outside the actor's scope."""
    actor.require(POINTS_VIEW)
    st = None
    if id_no.strip():
        st = session.execute(select(Staff).where(Staff.id_no == id_no.strip().upper())).scalars().first()
        national_code = st.national_code if st else ""
    elif national_code.strip():
        national_code = national_code.strip()
        st = session.execute(select(Staff).where(Staff.national_code == national_code)).scalar_one_or_none()
    if not national_code:
        raise not_found("人员", "person", id_no or national_code)
    q = _jsonable(qualification_status(session, national_code))
    mine = st is not None and session.execute(select(_visible(actor).where(Staff.id == st.id))).scalar()
    name = "" if st is None else (st.name if mine and not actor.masked else mask_name(st.name))
    return {**q, "name": name, "in_scope": bool(mine), "staff_id": st.id if st is not None and mine else None}


# ---------------------------------------------------------------- scoring


def score(session: Session, actor: Actor, *, national_code: str, fixmedins_code: str, band: int,
          responsibility: str, adjustment: str = "none", decided_on: dt.date, reason: str,
          behaviour_code: str = "", case_id: int | None = None) -> dict:  # fmt: skip
    """One scoring (from a case or a 协议处理 decision): the person is notified (记分告知书) and the points take
    effect only after the statement period or the 陈述申辩 review."""
    actor.require(POINTS_MANAGE)
    inst = _institution(session, fixmedins_code)
    require_sees(actor, inst.admdvs, inst.fixmedins_code, "该机构", "this institution")
    st = session.execute(
        select(Staff).where(Staff.national_code == national_code.strip())
    ).scalar_one_or_none()
    if st is None:
        raise not_found("登记备案人员", "registered person", national_code)
    cfg = rules()
    if int(band) not in cfg.bands:
        raise ValidationFailed(
            f"记分档次应为 {sorted(cfg.bands)} 之一", f"band must be one of {sorted(cfg.bands)}"
        )
    if responsibility not in pts.RESPONSIBILITIES or adjustment not in pts.ADJUSTMENTS:
        raise ValidationFailed(f"责任程度应为 {'、'.join(pts.RESPONSIBILITIES)} 之一，情节应为从轻/从重/无",
                               f"bad responsibility {responsibility!r} or adjustment {adjustment!r}")  # fmt: skip
    points = cfg.points(int(band), responsibility, adjustment)
    if not reason.strip():
        raise ValidationFailed("记分事由不能为空", "a reason is required")
    day = today()
    r = PointRecord(staff_id=st.id, case_id=case_id, fixmedins_code=inst.fixmedins_code, admdvs=inst.admdvs,
                    behaviour_code=behaviour_code, band=int(band), responsibility=responsibility,
                    adjustment=adjustment, points=points, reduced=0, reason=reason.strip(), decided_on=decided_on,
                    statement_due=statement_due(day), status="notified", step_started=day,
                    created_by=actor.username)  # fmt: skip
    session.add(r)
    session.flush()
    record.append(session, actor.username, "points.score", "point record", r.id,
                  {"national_code": st.national_code, "points": points, "band": r.band, "case_id": case_id,
                   "decided_on": decided_on.isoformat()})  # fmt: skip
    return _record_item(session, r, actor)


def score_case(session: Session, actor: Actor, case_id: int, persons: list[dict[str, Any]],
               band: int | None = None) -> list[dict]:  # fmt: skip
    """Apportion a decided case to its responsible staff: the band from the behaviour (or given), the points
    within it by each person's responsibility and facts; the score date is the decision date."""
    c = session.get(Case, int(case_id))
    if c is None:
        raise not_found("案件", "case", case_id)
    require_sees(actor, c.admdvs, c.fixmedins_code, "该案件", "this case")
    decided = json.loads(c.decision_json or "{}").get("decided_on")
    if not decided:
        raise InvalidTransition("案件尚未作出决定，不能记分", "the case has no decision yet")
    band = band or rules().band_of(c.behaviour_code)
    if band is None:
        raise ValidationFailed(f"违法行为 {c.behaviour_code} 不在记分范围内，请指定档次",
                               f"behaviour {c.behaviour_code} has no band; give one")  # fmt: skip
    if not persons:
        raise ValidationFailed("请指定责任人员", "name the responsible staff")
    reason = f"案件 {c.number}：{BEHAVIOURS.get(c.behaviour_code, c.title)}"
    return [score(session, actor, national_code=p["national_code"], fixmedins_code=c.fixmedins_code, band=band,
                  responsibility=p.get("responsibility", "一般"), adjustment=p.get("adjustment", "none"),
                  decided_on=dt.date.fromisoformat(decided), reason=reason, behaviour_code=c.behaviour_code,
                  case_id=c.id) for p in persons]  # fmt: skip


def list_records(session: Session, actor: Actor, *, status: str | None = None, page: int = 1,
                 size: int = 20) -> dict:  # fmt: skip
    """Point records in scope (a hospital: its own pending notices)."""
    conds = [PointRecord.status == status] if status else []
    return paged(session, actor, PointRecord, POINTS_VIEW, conds, PointRecord.id.desc(),
                 lambda r: _record_item(session, r, actor), page, size)  # fmt: skip


def get_record(session: Session, actor: Actor, record_id: int) -> dict:
    return _record_item(session, workflow.load(session, actor, POINTS, record_id), actor)


def act_on_record(session: Session, actor: Actor, record_id: int, action: str, version: int,
                  **fields: Any) -> dict:  # fmt: skip
    """submit_statement / waive (the hospital for its staff) / confirm / uphold / reduce / adopt / repair."""
    workflow.act(session, actor, POINTS, record_id, action, version, fields)
    return get_record(session, actor, record_id)
