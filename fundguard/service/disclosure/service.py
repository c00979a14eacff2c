"""Disclosure functions: draft an item of a kind (its masked content composed now), list and read them in
scope, move them on the process, and the public reads (published items only, no login)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service import record, workflow
from fundguard.service.disclosure import compose
from fundguard.service.disclosure.process import DISCLOSURE
from fundguard.service.errors import ValidationFailed, not_found
from fundguard.service.models import Disclosure, DisclosureEvent
from fundguard.service.scope import Actor, paged
from fundguard.service.timing import today
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import DISCLOSURE_MANAGE, DISCLOSURE_VIEW

MAX_TEXT = 8000


def _item(d: Disclosure) -> dict[str, Any]:
    return {
        "id": d.id, "kind": d.kind, "kind_zh": compose.KINDS.get(d.kind, d.kind), "title": d.title,
        "year": d.year, "status": d.status, "status_zh": wf.DISCLOSURE_STATES.get(d.status, d.status),
        "admdvs": d.admdvs, "fixmedins_code": d.fixmedins_code, "source_type": d.source_type,
        "source_id": d.source_id, "created_by": d.created_by, "created_at": d.created_at.isoformat(),
        "published_at": d.published_at.isoformat() if d.published_at else None,
        "withdrawn_at": d.withdrawn_at.isoformat() if d.withdrawn_at else None, "version": d.version,
    }  # fmt: skip


def create_disclosure(session: Session, actor: Actor, *, kind: str, case_id: int | None = None,
                      draw_id: int | None = None, fixmedins_code: str = "", year: int | None = None,
                      text: str = "", workspace: Path | None = None) -> dict:  # fmt: skip
    """A draft of ``kind`` with its content composed and masked now (the snapshot that is reviewed)."""
    actor.require(DISCLOSURE_MANAGE)
    if kind not in compose.KINDS:
        raise ValidationFailed(f"公开类别应为 {'、'.join(compose.KINDS.values())} 之一",
                               f"kind must be one of {list(compose.KINDS)}")  # fmt: skip
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"说明文字不能超过 {MAX_TEXT} 字", f"text longer than {MAX_TEXT} characters")
    if year is None and kind == "fund_use":
        year = compose.latest_year(workspace)  # the store's latest year, not the calendar's
    year = int(year or today().year)
    if not 2000 <= year <= 2100:
        raise ValidationFailed("年度应在 2000–2100 之间", "year must be within 2000–2100")
    admdvs, inst, source_type, source_id = actor.admdvs, "", "", ""
    if kind == "typical_case":
        if case_id is None:
            raise ValidationFailed("典型案例须指定已结案的案件", "a typical case needs a closed case")
        content, case = compose.typical_case(session, actor, int(case_id), text)
        admdvs, inst, source_type, source_id = case.admdvs, case.fixmedins_code, "case", str(case.id)
    elif kind == "flight_notice":
        if not text:
            raise ValidationFailed("请填写公告正文", "the announcement needs its text")
        content, source_type, source_id = compose.flight_notice(session, actor, year, text), "year", str(year)
    elif kind == "draw":
        if draw_id is None:
            raise ValidationFailed("须指定已公开的抽取记录", "give a published draw")
        content, d = compose.draw_record(session, actor, int(draw_id))
        admdvs, source_type, source_id = d.admdvs, "draw", str(d.id)
    elif kind == "fund_use":
        if not fixmedins_code:
            raise ValidationFailed("须指定定点机构", "give an institution")
        content, i = compose.fund_use(session, actor, fixmedins_code, year, workspace)
        admdvs, inst, source_type, source_id = i.admdvs, i.fixmedins_code, "institution", i.fixmedins_code
    else:
        content = compose.joint_punishment(session, actor)
    d = Disclosure(kind=kind, title=content["title"][:300], content_json=json.dumps(content, ensure_ascii=False),
                   source_type=source_type, source_id=source_id, year=year, status="draft", admdvs=admdvs,
                   fixmedins_code=inst, created_by=actor.username)  # fmt: skip
    session.add(d)
    session.flush()
    record.append(session, actor.username, "disclosure.create", "disclosure", d.id,
                  {"kind": kind, "source_type": source_type, "source_id": source_id})  # fmt: skip
    return get_disclosure(session, actor, d.id)


def get_disclosure(session: Session, actor: Actor, disclosure_id: int) -> dict:
    d = workflow.load(session, actor, DISCLOSURE, disclosure_id)
    events = session.execute(select(DisclosureEvent).where(DisclosureEvent.disclosure_id == d.id)
                             .order_by(DisclosureEvent.id)).scalars()  # fmt: skip
    return {**_item(d), "content": json.loads(d.content_json), "actions": DISCLOSURE.actions(session, d, actor),
            "events": [{"action": e.action, "action_zh": wf.DISCLOSURE_FLOW.label(e.action), "actor": e.actor,
                        "to_status_zh": wf.DISCLOSURE_STATES.get(e.to_status, e.to_status), "comment": e.comment,
                        "at": e.at.isoformat()} for e in events]}  # fmt: skip


def list_disclosures(session: Session, actor: Actor, *, status: str | None = None, kind: str | None = None,
                     page: int = 1, size: int = 20) -> dict:  # fmt: skip
    conds = [Disclosure.status == status] if status else []
    if kind:
        conds.append(Disclosure.kind == kind)
    return paged(session, actor, Disclosure, DISCLOSURE_VIEW, conds, Disclosure.id.desc(), _item, page, size)


def act_on_disclosure(session: Session, actor: Actor, disclosure_id: int, action: str, version: int,
                      **fields: Any) -> dict:  # fmt: skip
    """submit / return / approve (the head, not the drafter) / publish / withdraw."""
    workflow.act(session, actor, DISCLOSURE, disclosure_id, action, version, fields)
    return get_disclosure(session, actor, disclosure_id)


def _public(d: Disclosure) -> dict[str, Any]:
    return {"id": d.id, "kind": d.kind, "kind_zh": compose.KINDS.get(d.kind, d.kind), "title": d.title,
            "year": d.year, "published_at": d.published_at.isoformat() if d.published_at else ""}  # fmt: skip


def public_items(session: Session, kind: str | None = None) -> list[dict]:
    """What the public page lists: published items only (drafts, approved-not-published and withdrawn never)."""
    stmt = select(Disclosure).where(Disclosure.status == "published")
    if kind:
        stmt = stmt.where(Disclosure.kind == kind)
    return [_public(d) for d in session.execute(stmt.order_by(Disclosure.published_at.desc(), Disclosure.id.desc())
                                                .limit(500)).scalars()]  # fmt: skip


def public_item(session: Session, disclosure_id: int) -> dict:
    """One published item with its content; anything else answers as missing."""
    d = session.get(Disclosure, int(disclosure_id))
    if d is None or d.status != "published":
        raise not_found("公开事项", "disclosure", disclosure_id)
    return {**_public(d), "content": json.loads(d.content_json)}
