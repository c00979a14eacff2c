"""What a template is: a name, a params schema, the knowledge tables it accepts, its plan facts
(``rules.plan``), ``sql(rule)`` for set-based engines and ``evaluate(rule, claim)`` for real time."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from fundguard.core.memo import BoundedMemo
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import Evidence

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

_TYPES = {
    "str": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "str_list": list,
    "dict": dict,
    "date": dt.date,
}


@dataclass(frozen=True)
class Param:
    """One template parameter: ``doc`` is English then Chinese (``English / 中文``)."""

    name: str
    type: str
    doc: str
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()

    def check(self, value: Any) -> str | None:
        """None when ``value`` fits, else the reason (English / 中文)."""
        want = _TYPES[self.type]
        if self.type in ("int", "float") and isinstance(value, bool):
            return f"expected {self.type} / 应为{self.type}"
        if not isinstance(value, want):
            return f"expected {self.type}, got {type(value).__name__} / 应为 {self.type}"
        if self.type == "str_list" and not all(isinstance(v, str) for v in value):
            return "expected a list of strings (quote codes) / 应为字符串列表（编码请加引号）"
        if self.choices and value not in self.choices:
            return f"must be one of {list(self.choices)} / 取值须为 {list(self.choices)}"
        return None


class Template:
    """A rule template: subclasses set the class attributes and implement ``sql``."""

    name: ClassVar[str]
    title_zh: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    knowledge: ClassVar[tuple[str, ...]] = ()
    """Knowledge tables a rule of this template may name (empty: none)."""
    knowledge_required: ClassVar[bool] = False
    amount_rules: ClassVar[tuple[str, ...]] = ("line_amount", "fund_amount")
    reads: ClassVar[str] = "lines"
    """``lines`` (judges fee lines) or ``visits`` (judges visits / stays)."""
    population: ClassVar[bool] = False
    """Compares against the whole population (an institution's stock, many people): batch only."""
    knowledge_keys: ClassVar[dict[str, tuple[str, ...]]] = {}
    """Knowledge table → the code columns joining it to billed codes (default ``("code",)``)."""
    knowledge_by_code: ClassVar[bool] = True
    """Whether the knowledge rows a claim needs are found by its billed codes (``knowledge_keys``); False when
    the template matches them otherwise (diagnosis prefixes, name fragments, absence from a code list), so a
    per-claim engine must load the whole table and may never skip the rule for want of rows (issue 12)."""
    shares_work: ClassVar[bool] = False
    """Its rules share a line set or aggregate (``sql_group`` overridden): the batch runs them as one query
    rather than one query per rule (``batch.template_queries``)."""
    evidence: ClassVar[dict[str, Evidence]] = {}
    """The evidence templates the template renders (by name)."""
    evaluate: ClassVar[Callable[[Rule, Claim], list[dict]] | None] = None
    """The real-time evaluator over one claim (a method ``evaluate(self, rule, claim)``), when compiled."""

    knowledge_gate: ClassVar[bool] = False
    """True when a hit needs a billed code (a line's ``hilist_code``; the first key column of a pair) with a
    row in the rule's knowledge table that passes its ``kp_filter``: real time then skips the rule for a
    claim billing none of those codes (``gated``; a template may refine it by rule)."""

    def gated(self, rule: Rule) -> bool:
        """Whether ``knowledge_gate`` holds for ``rule`` (default: the template's flag, when the rule names a
        knowledge table)."""
        return self.knowledge_gate and bool(rule.knowledge)

    def keeps_history(self, rule: Rule) -> Callable[[Row, Callable[[str | None], Row | None]], bool] | None:
        """Which stored lines of the person's other visits the rule reads (None: none), as a predicate over
        a ``claim_lines`` row and the institution lookup (``Claim.institution``)."""
        return None

    history_columns: ClassVar[tuple[str, ...]] = ()
    """The ``claim_lines`` columns the look-back reads in those lines (the history keeps only these)."""

    def keeps_visits(self, rule: Rule) -> Callable[[Row], bool] | None:
        """Which of the person's other stored visits (``visits`` rows) the rule reads (None: none)."""
        return None

    def history_days(self, rule: Rule) -> int | None:
        """How many days back those lines matter (None: the whole history)."""
        return None

    def batch_history_days(self, rule: Rule) -> int | None:
        """How many days before and after a visit the batch's hits on it (or naming its lines) read the
        person's other lines: 0 the visit's lines alone, None the person's whole history. The incremental
        audit (``engine.incremental``) reads that much around the audited lines; the person's visit rows
        (``mdtrt_d``, one per visit) it reads whole, as real time keeps them (``keeps_visits``), so only lines
        are windowed. Default: the real-time line window (``history_days``) when the template keeps lines, so
        a template overrides it where its batch hit reaches further than what decides a new claim."""
        return self.history_days(rule) if self.keeps_history(rule) is not None else 0

    def batch_institution_days(self, rule: Rule) -> int | None:
        """For a ``population`` template whose batch hit on a visit reads only the visits of its institution
        admitted within so many days of its own (and their lines): those days; None: the whole population.
        The incremental audit then reads the audited visits' institutions around their dates alone."""
        return None

    def batch_population_keys(self, rule: Rule) -> str | None:
        """For a ``population`` template whose batch hit on a line reads only the lines sharing one of its keys
        (a drug trace code): the keys of a ``claim_lines`` row ``l`` as an SQL list expression; None: the
        whole population. The incremental audit then reads the lines sharing a key with the audited ones."""
        return None

    def batch_history_where(self, rule: Rule) -> str | None:
        """Which of the person's other lines the batch reads, as an SQL condition over ``claim_lines`` alias
        ``l`` (None: all): the SQL form of ``keeps_history``, so an incremental audit's look-back reads those
        lines alone (a rule's own visit's lines are always read whole)."""
        return None

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        """Cross-field problems of ``rule`` beyond the params schema: [(field, 'English / 中文')]."""
        return []

    def sql(self, rule: Rule) -> str:
        raise NotImplementedError

    def sql_group(self, rules: list[Rule]) -> str:
        """One query yielding the hits of several rules of this template. By default their queries UNION
        ALL'ed (the batch then runs them one by one: ``batch.template_queries``); a template whose rules read
        the same line set or aggregate overrides it so that they share it (``SharedCtes``): one scan, not one
        per rule, and says so with ``shares_work`` (the batch then runs this one query)."""
        return "\nUNION ALL\n".join(f"({self.sql(r)})" for r in rules)

    def describe(self) -> dict:
        """The template's documentation as data (for ``fundguard rules`` listings)."""
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "doc": (self.__doc__ or "").strip(),
            "knowledge": list(self.knowledge),
            "amount_rules": list(self.amount_rules),
            "params": [
                {"name": p.name, "type": p.type, "required": p.required, "default": p.default, "doc": p.doc}
                for p in self.params
            ],
        }


class SharedCtes:
    """The common table expressions several rules of one template share: ``name(prefix, definition)`` gives
    the one name of a definition (equal definitions get the same name, so rules with the same scenes and
    parameters read one materialised result), ``sql(parts)`` puts them before the rules' UNION ALL."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.defs: dict[str, str] = {}

    def name(self, kind: str, definition: str) -> str:
        got = self.defs.get(definition)
        if got is None:
            got = self.defs[definition] = f"{self.prefix}_{kind}{len(self.defs)}"
        return got

    def sql(self, parts: list[str]) -> str:
        union = "\nUNION ALL\n".join(f"({p})" for p in parts)
        if not self.defs:
            return union
        ctes = ",\n".join(f"{n} AS ({d})" for d, n in self.defs.items())
        # a SELECT like every rule's query, with the shared expressions inside
        return f"SELECT * FROM (\nWITH {ctes}\nSELECT * FROM (\n{union}\n)\n)"


KP_FILTER = Param(
    "kp_filter",
    "dict",
    "Equality filter on knowledge-table columns, e.g. {rule_class: 药品区分性别使用} / 知识表列的等值筛选",
    default={},
)


def kp_where(rule: Rule) -> str:
    """SQL conditions of the rule's ``kp_filter`` ('TRUE' when empty)."""
    from fundguard.rules.base import lit

    f = rule.params.get("kp_filter") or {}
    return " AND ".join(f'k."{c}" = {lit(v)}' for c, v in f.items()) or "TRUE"


_KP_INDEX: dict[tuple[int, str], tuple[dict, dict]] = {}


def kp_index(rule: Rule, claim: Claim, table: str) -> dict:
    """The claim's knowledge rows of ``table`` that pass the rule's ``kp_filter``, by key (filtered once per
    table and filter, not per claim)."""
    index = claim.knowledge(table)
    f = rule.params.get("kp_filter") or {}
    if not f:
        return index
    memo = rule_memo(rule, index, "kp_index")  # the rule's own: no filter key to write out per claim
    mine = memo.get("index")
    if mine is None:
        key = (id(index), json.dumps(f, sort_keys=True, ensure_ascii=False))
        got = _KP_INDEX.get(key)
        if got is None or got[0] is not index:  # held with its index: a reloaded table never meets an old id
            out = {k: rows for k, v in index.items() if (rows := [r for r in v if kp_match(rule, r)])}
            got = _KP_INDEX[key] = (index, out)
        mine = memo["index"] = got[1]
    return mine


def forget_knowledge() -> None:
    """Drop what evaluators derived from knowledge tables (a new knowledge version is being loaded)."""
    _KP_INDEX.clear()
    _RULE_MEMO.clear()


_RULE_MEMO = BoundedMemo(size=10_000)
"""(rule, knowledge index, name) → (rule, index, the memo): ``rule_memo``."""


def rule_memo(rule: Rule, index: Any, name: str) -> dict:
    """A dict an evaluator keeps across claims for one rule and one knowledge index (e.g. code → limit):
    knowledge and rule are fixed while the auditor holds them, so what is derived from them is worked out
    once, not per claim. A reloaded rule or knowledge table is a new object and gets a new memo."""
    key = (id(rule), id(index), name)
    got = _RULE_MEMO.get(key)
    if got is None or got[0] is not rule or got[1] is not index:
        got = _RULE_MEMO.remember(key, (rule, index, {}))
    return got[2]


def kp_match(rule: Rule, row: dict) -> bool:
    """Python form of ``kp_where`` on one knowledge row."""
    return all(row.get(c) == v for c, v in (rule.params.get("kp_filter") or {}).items())


def line_amount(rule: Rule, line: dict):
    """Python form of ``base.amount_expr``."""
    if rule.amount_rule == "fund_amount":
        return line["inscp_amt"] if line["inscp_amt"] is not None else 0
    return line["det_item_fee_sumamt"]


def sql_round(x: float, digits: int) -> float:
    """DuckDB ``round(double, n)``: half away from zero on x × 10ⁿ."""
    m = 10.0**digits
    v = x * m
    return float(int(v + 0.5) if v >= 0 else -int(-v + 0.5)) / m


def sql_min(values):
    """SQL ``min``: the least non-NULL value, else NULL."""
    return min((v for v in values if v is not None), default=None)


def sql_int(x: float) -> int:
    """DuckDB ``CAST(double AS INTEGER)``: rounds half away from zero."""
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)
