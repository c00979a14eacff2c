"""The one place where a supervision item moves along its process (``supervision.workflow``).

``act`` loads the item through the region-scope choke point (``scope.load_in_scope``), checks the optimistic
``version``, and ``move`` applies one transition in the caller's transaction: the role and the separation-of-
duties rules of the transition (with the item's history of who did what), required fields and guards, the
process's effects for that action, the new state and its time limit, the process's own event row, and the
hash-chained record entry. Clues, cases and referrals are ``Process`` values; a new supervision process is a
new ``Machine`` plus a ``Process`` naming its table, its facts (``context``), its history, its event row and
its effects — no new machinery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from fundguard.service import record
from fundguard.service.errors import StaleVersion, from_workflow, not_found
from fundguard.service.models import User, utcnow
from fundguard.service.scope import Actor, load_in_scope
from fundguard.service.timing import today
from fundguard.supervision import workflow as wf


@dataclass
class Move:
    """One applied transition, as the event writer and the effects see it."""

    action: str
    before: str
    after: str
    values: dict[str, Any]
    transition: wf.Transition
    actor: Actor
    day: dt.date
    extra: dict[str, Any] = field(default_factory=dict)  # what effects decided (stored with the event)

    @property
    def stored(self) -> dict[str, Any]:
        """The fields as JSON-ready values, without the comment (kept apart)."""
        return {
            k: (str(v) if isinstance(v, Decimal | dt.date) else v)
            for k, v in self.values.items()
            if k != "comment"
        }

    @property
    def comment(self) -> str:
        return str(self.values.get("comment") or "")


def names_of(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """Display names for a timeline's actors (an officer reads 张三, not zhangsan); unknown ones keep the
    username (e.g. ``system``)."""
    wanted = set(usernames)
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all()
    return {u: u for u in wanted} | dict(rows)


def timeline(session: Session, machine: wf.Machine, events: Iterable[Any]) -> list[dict[str, Any]]:
    """A process's event rows (``at``, ``action``, ``actor``, ``to_status``, ``comment``) as the timeline a
    person reads: step and state in Chinese, who acted by name."""
    events = list(events)
    names = names_of(session, (e.actor for e in events))
    return [
        {"at": e.at.isoformat(), "action": e.action, "action_zh": machine.label(e.action), "actor_name": names[e.actor],
         "to_status": e.to_status, "to_status_zh": machine.states.get(e.to_status, e.to_status), "comment": e.comment}
        for e in events
    ]  # fmt: skip


Effect = Callable[[Session, Any, Move], None]  # (session, row, move): may set move.after / move.extra


def _nothing(session: Session, row: Any) -> Any:
    return {}


@dataclass(frozen=True)
class Process:
    """A supervision process bound to its table: what ``move`` needs beyond the machine itself."""

    machine: wf.Machine
    model: type  # ORM class with id, status, version, admdvs, fixmedins_code
    view: str  # the permission to read an item (scope is checked too)
    what: tuple[str, str]  # ("线索", "clue")
    record_action: str  # the record entry's action, e.g. "clue.action"
    effects: Mapping[str, Effect] = field(default_factory=dict)  # before the state is written
    after: Mapping[str, Effect] = field(default_factory=dict)  # once the new state is flushed
    context: Callable[[Session, Any], dict] = _nothing  # facts the guards need
    history: Callable[[Session, Any], list[tuple[str, str]]] = _nothing  # [(action, username)] oldest first
    log: Callable[[Session, Any, Move], None] | None = None  # the process's own event row
    enter: Callable[[Any, Move], None] | None = None  # time limits on entering a state
    hidden: Callable[[Actor, Any], bool] | None = None  # in scope but not shown (yet) to this actor

    def ctx(self, session: Session, row: Any, actor: Actor) -> dict[str, Any]:
        return {
            **self.context(session, row),
            "actor": actor.username,
            "actor_names": (actor.display_name,),
            "history": list(self.history(session, row) or ()),
            "today": today(),
        }

    def actions(self, session: Session, row: Any, actor: Actor) -> list[dict]:
        """What ``actor`` may do on ``row`` now; refused ones say why (``blocked_zh``)."""
        return wf.allowed_actions(self.machine, row.status, actor.role, self.ctx(session, row, actor))


def load(session: Session, actor: Actor, process: Process, key: int, *, for_update: bool = False) -> Any:
    zh, en = process.what
    row = load_in_scope(session, actor, process.model, key, process.view, zh, en, for_update=for_update)
    if process.hidden and process.hidden(actor, row):
        raise not_found(zh, en, key)  # e.g. a flag not yet told to the institution does not exist for it
    return row


def check_version(process: Process, row: Any, version: int) -> None:
    if int(version) != row.version:
        raise StaleVersion(
            f"{process.what[0]}已被他人修改（当前版本 {row.version}，您提交的是 {version}），请刷新后重试",
            f"{process.what[1]} changed meanwhile (version {row.version}, you sent {version}); reload and retry",
        )


def flush(session: Session, process: Process) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion(
            f"{process.what[0]}已被他人修改，请刷新后重试",
            f"{process.what[1]} changed meanwhile; reload and retry",
        ) from None


def act(session: Session, actor: Actor, process: Process, key: int, action: str, version: int,
        fields: Mapping[str, Any]) -> Any:  # fmt: skip
    """Load ``key`` in the actor's scope (row-locked), check ``version``, apply ``action``; returns the row."""
    row = load(session, actor, process, key, for_update=True)
    check_version(process, row, version)
    move(session, actor, process, row, action, fields)
    return row


def move(session: Session, actor: Actor, process: Process, row: Any, action: str, fields: Mapping[str, Any],
         *, role: str | None = None) -> Move:  # fmt: skip
    """Apply ``action`` to a loaded ``row`` (``role="system"`` for a consequence of another item's step)."""
    try:
        return _move(session, actor, process, row, action, fields, role)
    except StaleDataError:  # any flush on the way (effects query, too) may find the row changed meanwhile
        raise StaleVersion(
            f"{process.what[0]}已被他人修改，请刷新后重试",
            f"{process.what[1]} changed meanwhile; reload and retry",
        ) from None


def _move(session: Session, actor: Actor, process: Process, row: Any, action: str, fields: Mapping[str, Any],
          role: str | None) -> Move:  # fmt: skip
    ctx = process.ctx(session, row, actor)
    try:
        target, values, t = wf.apply(process.machine, row.status, action, role or actor.role, fields, ctx)
    except wf.InvalidTransition as e:
        raise from_workflow(e) from None
    m = Move(action, row.status, target, values, t, actor, today())
    effect = process.effects.get(action)
    if effect:
        effect(session, row, m)
        if callable(t.target) and "_target" not in m.extra:  # the route may depend on what the effect decided
            m.after = t.target(values, {**ctx, **process.context(session, row)})
        m.after = m.extra.pop("_target", m.after)
    if m.after != m.before:
        row.status = m.after
        if hasattr(row, "step_started"):
            row.step_started = m.day
    if hasattr(row, "updated_at"):
        row.updated_at = utcnow()
    if process.enter:
        process.enter(row, m)
    if process.log:
        process.log(session, row, m)
    flush(session, process)
    record.append(session, actor.username, process.record_action, process.what[1], row.id,
                  {"action": action, "from": m.before, "to": m.after, "comment": m.comment, "fields": m.stored,
                   "effects": m.extra, "version": row.version})  # fmt: skip
    after = process.after.get(action)
    if after:
        after(session, row, m)
    return m
