"""Dates for the service: today's date (overridable for tests and demos through ``FUNDGUARD_TODAY``) and the
due dates of flag-flow steps and cases, from the time limits in ``supervision.deadlines``."""

from __future__ import annotations

import datetime as dt
import functools

from fundguard.core.settings import settings
from fundguard.supervision import workflow as wf


def today() -> dt.date:
    return settings().today or dt.date.today()


@functools.cache
def limits():  # type: ignore[no-untyped-def]
    from fundguard.supervision.deadlines import load_time_limits

    return load_time_limits(settings().time_limits or None)


def due_date_for(machine: str, state: str, start: dt.date) -> dt.date | None:
    """When the step a clue (``machine == "flag"``) is in must be done; ``None`` for final states."""
    from fundguard.supervision.deadlines import due

    step = wf.MACHINES[machine].steps.get(state)
    return due(start, step, limits()) if step else None


def flag_warning(due_date: dt.date | None, day: dt.date) -> str:
    from fundguard.supervision.deadlines import warning

    return (warning(due_date, day) or "") if due_date else ""


def step_due(start: dt.date, step: str) -> dt.date:
    """Due date of a configured step (key or Chinese name) counted from ``start``."""
    from fundguard.supervision.deadlines import due

    return due(start, step, limits())


def case_deadline(opened: dt.date, extensions: list | tuple = ()) -> dt.date:
    """The 90-day clock from 立案 plus approved extensions (``deadlines.Extension``; checked there)."""
    from fundguard.supervision.deadlines import due

    return due(opened, "case_decision", limits(), extensions=tuple(extensions))
