"""The per-rule scorecard (flags, confirmed, overturned on appeal, money confirmed, per rule and version) and
pausing a rule (usually one whose confirmation rate is under the floor; always with a reason).

Precision comes from real outcomes (``Clue.outcome``, written back by the flag flow and by the case decision):
confirmed, penalised or settled by agreement count for the rule; dismissed, overturned on appeal or not
punished without a loss count against it.

A pause is written to ``<workspace>/rules/paused.yaml`` as rule overrides (``- override: ID`` /
``enabled: false``) that ``fundguard audit --local <workspace>/rules/paused.yaml`` (and the demo) load; the
database keeps who paused what, when and why. The floor is ``FUNDGUARD_RULE_FLOOR`` (default 0.3); a rule
needs ``FUNDGUARD_RULE_MIN_DECIDED`` (default 5) decided clues before its rate counts.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fundguard.core.settings import settings
from fundguard.core.workspace import Workspace
from fundguard.service import record
from fundguard.service.clues import CONFIRMED_OUTCOMES, REFUTED_OUTCOMES
from fundguard.service.errors import InvalidTransition, ValidationFailed
from fundguard.service.models import Clue, RulePause, money, utcnow
from fundguard.service.scope import Actor, scope_filter
from fundguard.supervision.roles import CLUE_VIEW, RULE_PAUSE


def floor() -> Decimal:
    return settings().rule_floor


def min_decided() -> int:
    return settings().rule_min_decided


def paused_file(workspace: Path) -> Path:
    return Workspace(workspace).paused_rules


def _rows(session: Session, actor: Actor | None) -> list[dict]:
    confirmed = Clue.outcome.in_(CONFIRMED_OUTCOMES)
    stmt = select(
        Clue.rule_id,
        Clue.rule_version,
        func.max(Clue.rule_name),
        func.count(),
        func.sum(Clue.hits),
        func.sum(case((confirmed, 1), else_=0)),
        func.sum(case((Clue.outcome == "overturned", 1), else_=0)),
        func.sum(case((Clue.outcome.in_(REFUTED_OUTCOMES), 1), else_=0)),
        func.coalesce(func.sum(case((confirmed, Clue.confirmed_amount), else_=None)), 0),
        func.coalesce(func.sum(Clue.amount), 0),
    ).where(Clue.source == "rule")
    if actor is not None:
        stmt = stmt.where(scope_filter(actor, Clue.admdvs, Clue.fixmedins_code))
        if actor.role == "hospital":  # an institution counts only the flags it was told of
            stmt = stmt.where(Clue.notified.is_(True))
    rows = session.execute(stmt.group_by(Clue.rule_id, Clue.rule_version).order_by(Clue.rule_id)).all()
    pauses = {p.rule_id: p for p in session.execute(select(RulePause)).scalars()}
    out = []
    for rid, ver, name, n, hits, conf, over, dismissed, money_conf, amount in rows:
        decided = int(conf) + int(dismissed)
        rate = (Decimal(int(conf)) / decided).quantize(Decimal("0.001")) if decided else None
        p = pauses.get(rid)
        out.append({
            "rule_id": rid, "rule_version": ver, "rule_name": name, "flags": n, "hits": int(hits or 0),
            "confirmed": int(conf), "dismissed": int(dismissed), "overturned": int(over), "decided": decided,
            "confirmation_rate": None if rate is None else str(rate), "money_at_issue": str(money(amount)),
            "money_confirmed": str(money(money_conf)),
            "below_floor": rate is not None and decided >= min_decided() and rate < floor(),
            "paused": bool(p and p.paused), "paused_reason": p.reason if p and p.paused else "",
            "paused_by": p.by if p and p.paused else "",
        })  # fmt: skip
    return out


def scorecard(session: Session, actor: Actor) -> list[dict]:
    actor.require(CLUE_VIEW)
    return _rows(session, None if actor.can(RULE_PAUSE) else actor)


def _write_paused(session: Session, workspace: Path) -> Path:
    path = paused_file(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    paused = session.execute(
        select(RulePause).where(RulePause.paused.is_(True)).order_by(RulePause.rule_id)
    ).scalars()
    entries = [{"override": p.rule_id, "enabled": False} for p in paused]
    header = "# 由 FundGuard 规则评分卡生成：低确认率暂停的规则（fundguard audit --local 本文件）\n"
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(
        header + (yaml.safe_dump(entries, allow_unicode=True, sort_keys=False) if entries else "[]\n"),
        "utf-8",
    )
    tmp.replace(path)  # atomic: the audit never reads half a file
    return path


def pause_rule(session: Session, actor: Actor, rule_id: str, reason: str, workspace: Path) -> dict:
    """Pause ``rule_id`` with a reason; returns its scorecard row. A rate under the floor is what usually
    prompts it, but a maintainer may pause any rule (a policy change, a rule found wrong): the record keeps the
    reason and whether the rate was under the floor."""
    actor.require(RULE_PAUSE)
    if not (reason or "").strip():
        raise ValidationFailed("暂停规则须说明理由", "a pause needs a reason")
    row = next((r for r in _rows(session, None) if r["rule_id"] == rule_id and not r["paused"]), None)
    if row is None:
        raise InvalidTransition(
            f"规则 {rule_id} 没有线索或已暂停", f"rule {rule_id} has no clues or is already paused"
        )
    p = session.get(RulePause, rule_id) or RulePause(rule_id=rule_id)
    p.paused, p.reason, p.by, p.at = True, reason.strip(), actor.username, utcnow()
    p.confirmation_rate = row["confirmation_rate"] or ""
    session.add(p)
    session.flush()
    path = _write_paused(session, workspace)
    record.append(session, actor.username, "rule.pause", "rule", rule_id,
                  {"reason": p.reason, "confirmation_rate": p.confirmation_rate, "below_floor": row["below_floor"],
                   "file": str(path)})  # fmt: skip
    return {**row, "paused": True, "paused_reason": p.reason, "paused_by": actor.username, "file": str(path)}


def resume_rule(session: Session, actor: Actor, rule_id: str, workspace: Path, reason: str = "") -> dict:
    actor.require(RULE_PAUSE)
    p = session.get(RulePause, rule_id)
    if p is None or not p.paused:
        raise InvalidTransition(f"规则 {rule_id} 未暂停", f"rule {rule_id} is not paused")
    p.paused, p.by, p.at, p.reason = False, actor.username, utcnow(), reason
    session.flush()
    path = _write_paused(session, workspace)
    record.append(
        session, actor.username, "rule.resume", "rule", rule_id, {"reason": reason, "file": str(path)}
    )
    row = next((r for r in _rows(session, None) if r["rule_id"] == rule_id), {"rule_id": rule_id})
    return {**row, "file": str(path)}
