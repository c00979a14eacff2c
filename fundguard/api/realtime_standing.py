"""Who is worth a look in the API layer's checks of a real-time claim (``realtime_points``,
``realtime_insured``), kept in memory for a few seconds instead of queried per call (issue 11: the endpoint
adds ≤ 2 ms over the audit).

Almost every claim names only doctors in good standing and a patient with no credit file: then the answer
needs no database at all. ``StandingCache`` holds the two small sets that decide it — national codes of staff
with effective points or another region's record, and insured persons with a credit grade, a listing or a
case — and reloads them when ``TTL_SECONDS`` have passed or when a session of this process has committed a
change to one of the tables they come from (``_touched``), so a suspension decided in the workbench applies
to the next claim, and one imported by another process within ``TTL_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from sqlalchemy import event, exists, select
from sqlalchemy.orm import ORMExecuteState, Session

from fundguard.service.db import Database
from fundguard.service.models import (
    BlacklistEntry,
    Case,
    CreditGrade,
    ExternalQualification,
    PointRecord,
    Staff,
)

TTL_SECONDS = 5.0
MAX_INSURED = 200_000
"""Past this many insured persons on file the set is not kept: each call then asks the database."""
_WATCHED = (PointRecord, ExternalQualification, Staff, CreditGrade, BlacklistEntry, Case)
_generation = 0
"""Bumped after a commit that changed a watched table in this process: every cache reloads."""


def _mark(session: Session, classes: Iterable[type]) -> None:
    if any(issubclass(c, _WATCHED) for c in classes):
        session.info["fundguard_standing_touched"] = True


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _ctx: object, _instances: object) -> None:
    _mark(session, (type(o) for o in (*session.new, *session.dirty, *session.deleted)))


@event.listens_for(Session, "do_orm_execute")
def _on_bulk(state: ORMExecuteState) -> None:  # ``query(...).delete()`` / ``update(...)`` skip the flush
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        _mark(state.session, (state.bind_mapper.class_,))


@event.listens_for(Session, "after_commit")
def _touched(session: Session) -> None:
    global _generation
    if session.info.pop("fundguard_standing_touched", False):
        _generation += 1


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop("fundguard_standing_touched", None)


class StandingCache:
    """The flagged doctors and the insured persons on file of one service database, a few seconds old at most."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._at = -TTL_SECONDS
        self._generation = -1
        self.doctors: frozenset[str] = frozenset()
        self.insured: frozenset[str] | None = None
        """``None`` when too many to keep (``MAX_INSURED``)."""

    def fresh(self) -> bool:
        return self._generation == _generation and time.monotonic() - self._at < TTL_SECONDS

    def refresh(self) -> None:
        """Reload both sets if stale (blocking: call it off the event loop)."""
        with self._lock:
            if self.fresh():
                return
            generation, at = _generation, time.monotonic()
            scored = select(Staff.national_code).where(
                exists().where(PointRecord.staff_id == Staff.id, PointRecord.status == "effective")
            )
            graded = select(CreditGrade.subject_id).where(CreditGrade.subject_type == "insured")
            listed = select(BlacklistEntry.subject_id).where(BlacklistEntry.subject_type == "insured")
            cases = select(Case.party_id).where(Case.party_type == "individual")
            with self.db.session() as s:
                doctors = set(s.execute(scored.union(select(ExternalQualification.national_code))).scalars())
                rows = s.execute(graded.union(listed, cases).limit(MAX_INSURED + 1)).scalars().all()
            self.doctors = frozenset(c for c in doctors if c)
            self.insured = frozenset(p for p in rows if p) if len(rows) <= MAX_INSURED else None
            self._generation, self._at = generation, at

    def may_concern(self, claims: list[dict]) -> bool:
        """Whether any of ``claims`` (``realtime_worker.who``: the patient and the doctors) names a flagged
        doctor or a patient on file — only then do the checks need the database. Call after ``refresh``."""
        insured = self.insured
        for claim in claims:
            if insured is None or claim["psn_no"] in insured or not self.doctors.isdisjoint(claim["doctors"]):
                return True
        return False


__all__ = ["TTL_SECONDS", "StandingCache"]
