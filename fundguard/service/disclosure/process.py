"""The disclosure process bound to the ``disclosures`` table: its history (separation of duties: the head who
approves is not the drafter who submitted) and event rows, and the publication dates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service import workflow
from fundguard.service.models import Disclosure, DisclosureEvent, utcnow
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import DISCLOSURE_VIEW


def _history(session: Session, d: Disclosure) -> list[tuple[str, str]]:
    rows = session.execute(
        select(DisclosureEvent.action, DisclosureEvent.actor)
        .where(DisclosureEvent.disclosure_id == d.id)
        .order_by(DisclosureEvent.id)
    )
    return [(a, u) for a, u in rows.all()]


def _log(session: Session, d: Disclosure, m: workflow.Move) -> None:
    session.add(DisclosureEvent(disclosure_id=d.id, action=m.action, from_status=m.before, to_status=m.after,
                                actor=m.actor.username, comment=m.comment))  # fmt: skip


def _enter(d: Disclosure, m: workflow.Move) -> None:
    if m.after == "published":
        d.published_at = utcnow()
    elif m.after == "withdrawn":
        d.withdrawn_at = utcnow()


DISCLOSURE = workflow.Process(
    machine=wf.DISCLOSURE_FLOW,
    model=Disclosure,
    view=DISCLOSURE_VIEW,
    what=("公开事项", "disclosure"),
    record_action="disclosure.action",
    history=_history,
    log=_log,
    enter=_enter,
)
