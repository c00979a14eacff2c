"""Evidence sentences: one template over a hit's values, rendered the same by every engine.

A template is a ``str.format``-style string whose fields name the hit's values with an optional kind,
e.g. ``'“{hilist_name}”单价{pric:money}元'``. The kinds are defined here, once, in both forms:

- ``money`` — two decimals (DuckDB ``CAST(CAST(x AS DECIMAL(16,2)) AS VARCHAR)``; a double rounds half away
  from zero on ``x × 100``, as DuckDB's cast does);
- ``num`` — a double as DuckDB prints it (shortest round-trip, which is Python's ``repr``);
- ``date`` / ``minute`` — ``%Y-%m-%d`` / ``%Y-%m-%d %H:%M``;
- none — the value as text (``int`` → its digits).

``Evidence.sql(rule, exprs)`` compiles the template to one DuckDB string expression over the engine's
value expressions (set-based engines); ``Evidence.render(rule, values)`` formats Python values (the
real-time evaluator). Like SQL ``||``, a NULL value makes the whole sentence NULL. The rule's knowledge
source is appended by both.
"""

from __future__ import annotations

import datetime as dt
import math
import string
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from fundguard.core.memo import BoundedMemo
from fundguard.core.sql import literal as lit

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

CENT = Decimal("0.01")


def money(v: Any) -> Decimal:
    """``CAST(v AS DECIMAL(16,2))`` as DuckDB computes it (decimals half up, doubles half away on v × 100)."""
    if isinstance(v, float):
        x = v * 100
        return Decimal(int(math.floor(x + 0.5) if x >= 0 else math.ceil(x - 0.5))).scaleb(-2)
    return Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP)


def num(v: Any) -> str:
    """``CAST(CAST(v AS DOUBLE) AS VARCHAR)``."""
    return repr(float(v))


_SQL: dict[str, Callable[[str], str]] = {
    "": lambda e: f"CAST({e} AS VARCHAR)",
    "money": lambda e: f"CAST(CAST({e} AS DECIMAL(16,2)) AS VARCHAR)",
    "num": lambda e: f"CAST(CAST({e} AS DOUBLE) AS VARCHAR)",
    "date": lambda e: f"strftime({e}, '%Y-%m-%d')",
    "minute": lambda e: f"strftime({e}, '%Y-%m-%d %H:%M')",
}


def _formatted(fmt: str) -> Callable[[Any], str]:
    """``v.strftime(fmt)`` through a memo: a claim's hits repeat the same few times and days, and strftime
    costs microseconds where a dict lookup costs tens of nanoseconds. Keyed by class too: a date and a
    datetime may hash alike."""
    memo = BoundedMemo(lambda key: key[1].strftime(fmt), 100_000)
    return lambda v: memo[v.__class__, v]


_PY: dict[str, Callable[[Any], str]] = {
    "": str,
    "money": lambda v: format(money(v), "f"),
    "num": num,
    "date": _formatted("%Y-%m-%d"),
    "minute": _formatted("%Y-%m-%d %H:%M"),
}


def note(rule: Rule) -> str:
    """'（<knowledge_source>）', or '' when the rule has none."""
    return f"（{rule.knowledge_source}）" if rule.knowledge_source else ""


class Evidence:
    """A parsed evidence template (see the module docstring)."""

    def __init__(self, template: str):
        self.template = template
        self.parts: list[tuple[str, str | None, str]] = []
        for text, name, kind, _ in string.Formatter().parse(template):
            if kind and kind not in _PY:
                raise ValueError(f"unknown evidence kind {kind!r} in {template!r}")
            self.parts.append((text, name, kind or ""))
        self._py = [(text, name, _PY[kind]) for text, name, kind in self.parts]

    @property
    def fields(self) -> list[str]:
        return [n for _, n, _ in self.parts if n]

    def sql(self, rule: Rule, exprs: Mapping[str, str]) -> str:
        """One SQL string expression; ``exprs`` maps each field to a SQL expression."""
        out = []
        for text, name, kind in self.parts:
            if text:
                out.append(lit(text))
            if name:
                out.append(_SQL[kind](f"({exprs[name]})"))
        out.append(lit(note(rule)))
        return "(" + " || ".join(out) + ")"

    def render(self, rule: Rule, values: Mapping[str, Any]) -> str | None:
        """The sentence from Python values (None when a value is None, as SQL ``||`` gives NULL)."""
        out = []
        for text, name, fmt in self._py:
            out.append(text)
            if name:
                v = values[name]
                if v is None:
                    return None
                out.append(fmt(v))
        out.append(f"（{rule.knowledge_source}）" if rule.knowledge_source else "")  # note(rule)
        return "".join(out)


def sex_zh(code: str | None) -> str:
    return {"1": "男", "2": "女"}.get(code or "", "未知")


SEX_SQL = "CASE {} WHEN '1' THEN '男' WHEN '2' THEN '女' ELSE '未知' END"


def as_date(v: dt.date | dt.datetime) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v
