"""The engine-neutral rule plan: what a rule reads, joins, keeps of history and yields, declared once.

``plan(rule)`` asks the rule's template and returns a ``RulePlan``. Engines read facts about rules only
from plans, never from template names:

- ``reads`` — ``lines`` (judges fee lines) or ``visits`` (judges visits / stays);
- ``knowledge`` and ``knowledge_keys`` — the knowledge table joined and the code columns that join it to
  billed codes (a real-time claim loads only the rows of its codes); ``knowledge_by_code`` False when the
  rows are not found by billed codes (the whole table is loaded, the rule never skipped for want of rows);
- ``history_days`` — how far back the rule looks at the person's other visits (0: the claim's visit
  alone; None: the person's whole history); ``keeps_history(row, institution)`` — which stored lines it
  reads there, and ``history_columns`` their columns; ``keeps_visits(visit)`` — which stored visits;
- ``batch_history_days`` — how many days around a visit the batch hits on it read the person's other
  lines (0: its own; None: the whole history), and ``batch_history_where`` which of them (SQL): what the
  incremental audit (``engine.incremental``) reads around new lines;
- ``batch_institution_days`` — for a population rule, the days around a visit's admission within which its
  batch hit reads its institution's other visits, or ``batch_population_keys`` the keys (trace codes) whose
  other lines it reads (None: the whole population);
- ``population`` — the rule compares against the whole population (batch only, never real time);
- ``amount_rule`` and ``evidence`` (an ``evidence.Evidence`` template over the hit's values);
- ``sql`` — the DuckDB SELECT of the hits (set-based engines: DuckDB batch, Spark via sqlglot);
- ``gated`` — a hit needs a billed code with a knowledge row (real time skips claims billing none);
- ``evaluator(rule, claim)`` — the compiled in-memory evaluator over one ``claim.Claim`` (real time); None when
  the template has none yet (the real-time engine then runs ``sql`` over the claim).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import Evidence, money

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


@dataclass(frozen=True)
class RulePlan:
    rule: Rule
    reads: str
    knowledge: str | None
    knowledge_keys: tuple[str, ...]
    knowledge_by_code: bool
    history_days: int | None
    population: bool
    evidence: tuple[Evidence, ...]
    keeps_history: Callable[[Row, Callable[[str | None], Row | None]], bool] | None
    history_columns: tuple[str, ...]
    keeps_visits: Callable[[Row], bool] | None
    evaluator: Callable[[Rule, Claim], list[dict]] | None
    gated: bool = False
    """A hit needs a billed code with a row in ``knowledge`` passing the rule's ``kp_filter`` (first key
    column for pairs): real time skips the rule for claims billing none (``Template.knowledge_gate``)."""
    batch_history_days: int | None = 0
    """Days around a visit whose lines of the same person the batch hits on it read (None: all)."""
    batch_history_where: str | None = None
    """Which of those lines, as an SQL condition over ``claim_lines`` alias ``l`` (None: all)."""
    batch_institution_days: int | None = None
    """Population rules: days around a visit's admission within which its hit reads its institution's
    other visits (None: the whole population)."""
    batch_population_keys: str | None = None
    """Population rules: the keys of a line (SQL list over ``l``) whose sharers alone its hit reads."""

    @property
    def amount_rule(self) -> str:
        return self.rule.amount_rule

    @property
    def sql(self) -> str:
        return self.rule.sql()

    @property
    def compiled(self) -> bool:
        return self.evaluator is not None


def plan(rule: Rule) -> RulePlan:
    """The plan of ``rule`` (from its template)."""
    from fundguard.rules.templates import TEMPLATES

    t = TEMPLATES[rule.template]
    keeps = t.keeps_history(rule)
    return RulePlan(
        rule=rule,
        reads=t.reads,
        knowledge=rule.knowledge,
        knowledge_keys=t.knowledge_keys.get(rule.knowledge or "", ("code",)),
        knowledge_by_code=t.knowledge_by_code,
        history_days=t.history_days(rule) if keeps is not None else 0,
        population=t.population,
        evidence=tuple(t.evidence.values()),
        keeps_history=keeps,
        history_columns=t.history_columns,
        keeps_visits=t.keeps_visits(rule),
        evaluator=t.evaluate,
        gated=bool(getattr(t, "gated", lambda r: False)(rule)) and bool(rule.knowledge),
        batch_history_days=t.batch_history_days(rule),
        batch_history_where=t.batch_history_where(rule),
        batch_institution_days=t.batch_institution_days(rule) if t.population else None,
        batch_population_keys=t.batch_population_keys(rule) if t.population else None,
    )


def hit(
    rule: Rule,
    row: Row,
    bkkp_sn: list[str],
    amount: Any,
    evidence: str | None,
    *,
    hilist_code: str | None = None,
    kp_id: str | None = None,
    **over: Any,
) -> dict:
    """One hit (``base.HIT_COLUMNS``) taking mdtrt_id / setl_id / psn_no / fixmedins_code from ``row``
    unless ``over`` gives them; the amount cast to two decimals as the SQL does."""
    return {
        "rule_id": rule.id,
        "mdtrt_id": over.get("mdtrt_id", row.get("mdtrt_id")),
        "setl_id": over.get("setl_id", row.get("setl_id")),
        "psn_no": over.get("psn_no", row.get("psn_no")),
        "fixmedins_code": over.get("fixmedins_code", row.get("fixmedins_code")),
        "bkkp_sn": bkkp_sn,
        "hilist_code": hilist_code,
        "amount": money(amount) if amount is not None else None,
        "evidence_zh": evidence,
        "kp_id": kp_id,
    }
