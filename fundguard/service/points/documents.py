"""The documents of a point record, issued from the workbench: 记分告知书 (from notification), 陈述申辩复核结果
告知书 (once a statement was reviewed) and 暂停/终止医保支付资格决定书 (when the record, in force, started a
suspension or the termination). .docx or PDF; refused to masked roles (they name the person)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.core.errors import InputError
from fundguard.service import workflow
from fundguard.service.errors import InvalidTransition, PermissionDenied, ValidationFailed, not_found
from fundguard.service.models import Institution, PointEvent, PointRecord, Region, Staff, User
from fundguard.service.points.process import POINTS, rules
from fundguard.service.points.process import events as _events
from fundguard.service.scope import Actor
from fundguard.service.timing import today
from fundguard.supervision import points as pts
from fundguard.supervision.points_documents import (
    OUTCOMES,
    POINTS_DOCUMENT_KINDS,
    render_points_document,
    title,
)


def _bureau(session: Session, username: str) -> str:
    """The issuing authority: the scoring user's bureau (region name + department)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    region = session.get(Region, user.admdvs) if user else None
    dept = user.department if user else "医保局"
    return f"{region.name if region else ''}{'医疗保障局' if dept == '医保局' else dept}"


def _review(session: Session, r: PointRecord) -> tuple[str, str] | None:
    """(outcome action, reason) of the 陈述申辩 review, None when no statement was reviewed."""
    rows = session.execute(select(PointEvent).where(PointEvent.record_id == r.id, PointEvent.action.in_(OUTCOMES))
                           .order_by(PointEvent.id.desc())).scalars().first()  # fmt: skip
    if rows is None:
        return None
    fields = json.loads(rows.fields_json or "{}")
    return rows.action, str(fields.get("reason") or rows.comment or "")


def _period(session: Session, r: PointRecord) -> pts.Period | None:
    """The suspension or termination this record started (in force on the day it took effect)."""
    if r.status != "effective" or r.effective_on is None:
        return None
    st = session.get(Staff, r.staff_id)
    periods = pts.periods(_events(session, r.staff_id), rules(), st.registered_on if st else None)
    return next((p for p in periods if p.since == r.effective_on), None)


def available(session: Session, r: PointRecord) -> list[str]:
    """The document kinds this record has reached."""
    kinds = ["points_notice"]
    if _review(session, r) is not None:
        kinds.append("statement_outcome")
    if _period(session, r) is not None:
        kinds.append("qualification_decision")
    return kinds


def links(session: Session, r: PointRecord, actor: Actor) -> list[dict]:
    if actor.masked:
        return []
    out = []
    for k in available(session, r):
        name = POINTS_DOCUMENT_KINDS[k]
        if k == "qualification_decision":
            p = _period(session, r)
            name = title(k, {"status": p.status if p else ""})
        base = f"/api/points/records/{r.id}/documents/{k}"
        out.append({"kind": k, "name_zh": name, "url": base, "pdf_url": f"{base}?format=pdf"})
    return out


def _band_zh(band: int) -> str:
    values = sorted(rules().bands.get(band, {}).values())
    return f"第{band}档（{values[0]}–{values[-1]}分）" if values else f"第{band}档"


def _year_lines(session: Session, r: PointRecord, year: int) -> list[str]:
    rows = session.execute(select(PointRecord).where(
        PointRecord.staff_id == r.staff_id, PointRecord.status == "effective").order_by(PointRecord.decided_on,
                                                                                      PointRecord.id)).scalars()  # fmt: skip
    return [f"{x.decided_on.year}年{x.decided_on.month}月{x.decided_on.day}日，{x.reason}，"
            f"记{x.points - x.reduced}分" + (f"（已修复{x.reduced}分）" if x.reduced else "")
            for x in rows if x.decided_on.year == year]  # fmt: skip


def document_data(session: Session, r: PointRecord, kind: str) -> dict[str, Any]:
    st = session.get(Staff, r.staff_id)
    inst = session.get(Institution, r.fixmedins_code)
    year = r.decided_on.year
    common = {
        "authority": _bureau(session, r.created_by), "date": today(), "person_name": st.name if st else "",
        "national_code": st.national_code if st else "",
        "institution": inst.name if inst else r.fixmedins_code, "contact": "",
    }  # fmt: skip
    if kind == "points_notice":
        before = sum(e.points for e in _events(session, r.staff_id) if e.decided.year == year)
        own = r.points - r.reduced if r.status == "effective" else 0
        return {**common, "doc_number": f"{r.admdvs}医保记告〔{year}〕{r.id}号", "facts": [r.reason],
                "decided_on": r.decided_on, "points": r.points, "band_zh": _band_zh(r.band),
                "responsibility": r.responsibility, "adjustment_zh": pts.ADJUSTMENTS.get(r.adjustment, ""),
                "statement_due": r.statement_due,
                "year_points": min(before - own + r.points, rules().annual_cap)}  # fmt: skip
    if kind == "statement_outcome":
        outcome, reason = _review(session, r) or ("", "")
        return {**common, "doc_number": f"{r.admdvs}医保申复〔{year}〕{r.id}号", "statement": r.statement,
                "outcome": outcome, "reason": reason, "points": r.points - r.reduced}  # fmt: skip
    p = _period(session, r)
    review = _review(session, r)
    if review:
        defence = f"你于陈述申辩期内提出陈述申辩，经复核，{OUTCOMES[review[0]]}（{review[1]}）。"
    elif r.statement:
        defence = "你提出了陈述申辩，经复核未予采纳。"
    else:
        defence = "你在规定期限内未提出陈述、申辩。"
    return {**common, "doc_number": f"{r.admdvs}医保资格〔{year}〕{r.id}号", "status": p.status if p else "",
            "since": p.since if p else "", "until": p.until if p else None, "bar_until": p.bar_until if p else None,
            "reason_zh": p.reason_zh if p else "", "records": _year_lines(session, r, year),
            "defence_result": defence}  # fmt: skip


def points_document(
    session: Session, actor: Actor, record_id: int, kind: str, fmt: str = "docx"
) -> tuple[str, bytes]:
    """(filename, bytes) of one document of a point record in the actor's scope."""
    from fundguard.supervision.documents import docx_to_pdf

    r = workflow.load(session, actor, POINTS, record_id)
    if actor.masked:
        raise PermissionDenied("文书载有人员身份信息，第三方检查员不可查看",
                               "documents identify the person; third-party inspectors cannot open them")  # fmt: skip
    if kind not in POINTS_DOCUMENT_KINDS:
        raise not_found("文书类型", "document kind", kind)
    if fmt not in ("docx", "pdf"):
        raise ValidationFailed("文书格式应为 docx 或 pdf", "format must be docx or pdf")
    if kind not in available(session, r):
        raise InvalidTransition(f"该记分尚未到达可出具「{POINTS_DOCUMENT_KINDS[kind]}」的环节",
                                f"the record has not reached the step for {kind}")  # fmt: skip
    data = document_data(session, r, kind)
    try:
        docx = render_points_document(kind, data)
        out = docx_to_pdf(docx, kind) if fmt == "pdf" else docx
    except InputError as e:
        raise ValidationFailed(e.zh, e.en) from None
    stamp = dt.date.today().strftime("%Y%m%d")
    return f"记分{r.id}-{title(kind, data)}-{stamp}.{fmt}", out
