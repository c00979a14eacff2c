"""Data readiness: whether a workspace's stored data can feed each rule (``fundguard rules coverage -w``).

Bureau extracts arrive with varying columns: a person file without a death date silently switches the
dead-card rule off, a fee file without 追溯码 the traceability rules. A rule *needs* every column its SQL
names — of ``claim_lines`` (each traced to the stored column(s) it comes from; any one filled suffices where
the view falls back, e.g. sex from the visit or else the person) and of every canonical table it reads
directly (``invt_chg_d_valid`` …). A needed column is *absent* when no stored row fills it. The same
word-level reading of the SQL decides which ``claim_lines`` columns the batch builds (``engine.batch``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fundguard.data import schema
from fundguard.data.store import Store
from fundguard.rules.base import CLAIM_LINES_SQL
from fundguard.rules.spec import RuleSet

STATUS_ZH = {"ready": "可支撑", "missing": "缺少数据列", "no_data": "无数据"}

DERIVED: dict[str, tuple[tuple[str, str], ...]] = {
    "fee_date": (("fee_list_d", "fee_ocur_time"),),
    "scene": (("mdtrt_d", "med_type"), ("fee_list_d", "med_type")),
    "med_type": (("mdtrt_d", "med_type"), ("fee_list_d", "med_type")),
    "gend": (("mdtrt_d", "gend"), ("psn_info_b", "gend")),
    "age_years": (("mdtrt_d", "brdy"), ("psn_info_b", "brdy"), ("mdtrt_d", "age")),
    "die_date": (("psn_info_b", "die_date"),),
    "hosp_lv": (("mdtrt_d", "hosp_lv"), ("medins_info_b", "hosp_lv")),
    "hosp_level": (("mdtrt_d", "hosp_lv"), ("medins_info_b", "hosp_lv")),
    "chrgitm_lv": (("fee_list_d", "chrgitm_lv"), ("hilist_b", "chrgitm_lv")),
    "in_catalogue": (("hilist_b", "hilist_code"),),
    "pric_uplmt_amt": (("fee_list_d", "pric_uplmt_amt"), ("hilist_b", "pric_uplmt_amt")),
    "catalogue_pric_uplmt_amt": (("hilist_b", "pric_uplmt_amt"),),
    "inet_mdtrt_flag": (("mdtrt_d", "inet_mdtrt_flag"), ("medins_info_b", "inet_hosp_flag")),
}
"""``claim_lines`` columns computed from, or falling back over, several stored columns."""


NOT_NEEDED = {"vali_flag", "init_setl_id", "refd_setl_flag", "init_feedetl_sn"}
"""Columns whose absence means the ordinary case (in force, not reversed, not a refund), not a gap."""

EITHER: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("setl_d", "fund_pay_sumamt"): (("setl_d", "fund_pay_sumamt"), ("setl_d", "hifp_pay")),
    ("setl_d", "hifp_pay"): (("setl_d", "fund_pay_sumamt"), ("setl_d", "hifp_pay")),
}
"""Stored columns a rule reads through COALESCE: either one filled suffices."""

_CARRIED = re.compile(r"\(SELECT mdtrt_id, any_value\(psn_no\).*?FROM mdtrt_d_valid", re.S)
"""The column list of ``stay_common.visits``: carried for every visit rule, needed by none in particular."""


@dataclass(frozen=True)
class RuleReadiness:
    rule_id: str
    name_zh: str
    status: str
    """``ready`` | ``missing`` (a needed column no stored row fills) | ``no_data`` (a table it reads is empty)."""
    missing: tuple[str, ...]
    """Each absent need as ``table.column（中文名）``, alternatives joined by ``或``."""
    note: str = ""


def _label(table: str, column: str) -> str:
    return f"{table}.{column}（{schema.table(table).field(column).name_zh}）"


def _needs(sql: str, line_columns: set[str]) -> tuple[list[tuple[tuple[str, str], ...]], set[str]]:
    """The needs of one rule's SQL: alternatives of (table, column), and the tables it reads directly.

    Each word of the SQL that names a column is traced once: a computed or fallback ``claim_lines`` column
    to its sources (``DERIVED``); a fee-line column to ``fee_list_d``; else the directly read tables that
    have it (any one filled suffices); else a visit column of ``claim_lines`` to ``mdtrt_d``."""
    words = set(re.findall(r"\w+", _CARRIED.sub("(SELECT FROM mdtrt_d_valid", sql))) - NOT_NEEDED
    tables = {n for n in schema.tables() if n in words or f"{n}_valid" in words} | {"fee_list_d"}
    fee = set(schema.table("fee_list_d").columns)
    direct = sorted(tables - {"fee_list_d"})
    needs: list[tuple[tuple[str, str], ...]] = []
    for w in sorted(words):
        if w in DERIVED and (w in line_columns or any(w in schema.table(t).columns for t in direct)):
            needs.append(DERIVED[w])
        elif w in fee and (w in line_columns or "fee_list_d" in words or "fee_list_d_valid" in words):
            needs.append((("fee_list_d", w),))
        elif owners := [t for t in direct if w in schema.table(t).columns]:
            alts = tuple(a for t in owners for a in EITHER.get((t, w), ((t, w),)))
            needs.append(tuple(dict.fromkeys(alts)))
        elif w in line_columns and w in schema.table("mdtrt_d").columns:
            needs.append((("mdtrt_d", w),))
    return list(dict.fromkeys(needs)), tables


def _filled(store: Store, wanted: dict[str, set[str]]) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Rows per table and the (table, column) pairs that at least one valid stored row fills."""
    counts = store.row_counts()
    filled: set[tuple[str, str]] = set()
    con = store.connect()
    try:
        for t, cols in wanted.items():
            if not counts.get(t) or not cols:
                continue
            cs = sorted(cols)
            row = con.execute(
                "SELECT "
                + ", ".join(f"count(NULLIF(CAST(\"{c}\" AS VARCHAR), ''))" for c in cs)
                + f' FROM "{t}_valid"'
            ).fetchone()
            filled |= {(t, c) for c, n in zip(cs, row or (), strict=True) if n}
    finally:
        con.close()
    return counts, filled


def line_columns(store: Store) -> set[str]:
    con = store.connect()
    try:
        return {d[0] for d in con.execute(f"SELECT * FROM ({CLAIM_LINES_SQL}) WHERE false").description}
    finally:
        con.close()


def readiness(ruleset: RuleSet, workspace: Path) -> list[RuleReadiness]:
    """One row per enabled rule: can the workspace's stored data feed it, and which columns are absent."""
    store = Store(Path(workspace))
    cols = line_columns(store)
    per_rule = {r.id: _needs(r.sql(), cols) for r in ruleset.enabled()}
    wanted: dict[str, set[str]] = {}
    for needs, _ in per_rule.values():
        for alts in needs:
            for t, c in alts:
                wanted.setdefault(t, set()).add(c)
    counts, filled = _filled(store, wanted)
    out = []
    for r in ruleset.enabled():
        needs, tables = per_rule[r.id]
        empty = sorted(t for t in tables if not counts.get(t) and t in ("fee_list_d", "invt_chg_d", "setl_d"))
        if empty:
            names = "、".join(f"{t}（{schema.table(t).name_zh}）" for t in empty)
            out.append(RuleReadiness(r.id, r.name_zh, "no_data", (), f"无 {names} 数据"))
            continue
        missing = tuple(
            " 或 ".join(_label(t, c) for t, c in alts) for alts in needs if not any(a in filled for a in alts)
        )
        out.append(RuleReadiness(r.id, r.name_zh, "missing" if missing else "ready", missing))
    return out
