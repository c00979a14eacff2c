"""The points process bound to the ``point_records`` table: 告知 → 陈述申辩 → 复核 → 生效 (→ 修复)."""

from __future__ import annotations

import datetime as dt
import functools
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.core.settings import settings
from fundguard.service import workflow
from fundguard.service.errors import InvalidTransition
from fundguard.service.models import PointEvent, PointRecord, utcnow
from fundguard.supervision import points as pts
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import POINTS_VIEW


def rules() -> pts.PointsRules:
    """The points rules in force: the province's file (``FUNDGUARD_POINTS_RULES``) or the defaults."""
    return _rules(settings().points_rules)


@functools.cache
def _rules(path: str) -> pts.PointsRules:
    return pts.load_rules(path or None)


def events(session: Session, staff_id: int) -> list[pts.Event]:
    """A person's records in force, as the pure rules take them (points net of repair)."""
    rows = session.execute(
        select(PointRecord).where(PointRecord.staff_id == staff_id, PointRecord.status == "effective")
    ).scalars()
    return [pts.Event(r.decided_on, r.effective_on or r.decided_on, r.points - r.reduced) for r in rows]


def _context(session: Session, r: PointRecord) -> dict:
    return {"statement_due": r.statement_due}


def _history(session: Session, r: PointRecord) -> list[tuple[str, str]]:
    rows = session.execute(select(PointEvent.action, PointEvent.actor).where(PointEvent.record_id == r.id)
                           .order_by(PointEvent.id)).all()  # fmt: skip
    return [(a, who) for a, who in rows]


def _log(session: Session, r: PointRecord, m: workflow.Move) -> None:
    session.add(PointEvent(record_id=r.id, action=m.action, from_status=m.before, to_status=m.after,
                           actor=m.actor.username, at=utcnow(), comment=m.comment,
                           fields_json=json.dumps({**m.stored, **m.extra}, ensure_ascii=False)))  # fmt: skip


def _statement(session: Session, r: PointRecord, m: workflow.Move) -> None:
    r.statement = m.values["statement"]


def _reduce(session: Session, r: PointRecord, m: workflow.Move) -> None:
    new = int(m.values["points"])
    if not 0 < new < r.points:
        raise InvalidTransition(
            f"调整后分值应在 1 至 {r.points - 1} 之间", f"new points must be 1..{r.points - 1}"
        )
    m.extra["points_before"], r.points = r.points, new


def _repair(session: Session, r: PointRecord, m: workflow.Move) -> None:
    """修复: the configured credit for the activity, within the person's yearly repair limit and this record."""
    cfg = rules()
    credit = cfg.repair.get(m.values["kind"], 0)
    year = m.day.year
    used = session.execute(
        select(PointEvent.fields_json)
        .join(PointRecord, PointRecord.id == PointEvent.record_id)
        .where(PointRecord.staff_id == r.staff_id, PointEvent.action == "repair")
    ).scalars()
    done = sum(json.loads(f).get("credit", 0) for f in used if json.loads(f).get("year") == year)
    credit = min(credit, cfg.repair_max_per_year - done, r.points - r.reduced)
    if credit <= 0:
        raise InvalidTransition(
            f"本年度修复已达上限（{cfg.repair_max_per_year} 分）或该记分已全部修复",
            "the yearly repair limit is reached or this record is fully repaired",
        )
    r.reduced += credit
    m.extra.update(credit=credit, year=year)


def _enter(r: PointRecord, m: workflow.Move) -> None:
    if m.after == "effective" and r.effective_on is None:
        r.effective_on = m.day


def statement_due(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=rules().statement_days)


POINTS = workflow.Process(
    machine=wf.POINTS_FLOW,
    model=PointRecord,
    view=POINTS_VIEW,
    what=("记分", "point record"),
    record_action="points.update",
    effects={"submit_statement": _statement, "reduce": _reduce, "repair": _repair},
    context=_context,
    history=_history,
    log=_log,
    enter=_enter,
)
