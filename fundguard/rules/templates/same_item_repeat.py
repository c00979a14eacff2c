"""``same_item_repeat``: the same item billed more than allowed per visit in a time window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundguard.rules.base import hits, in_list, money, rule_lines, source_note
from fundguard.rules.templates.base import KP_FILTER, Param, Template, kp_where

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

WINDOWS = {
    "same_time": ("l.fee_ocur_time", "同一时间"),
    "same_day": ("l.fee_date", "同日"),
    "same_visit": ("l.mdtrt_id", "同次就诊"),
}


class SameItemRepeat(Template):
    """The same item billed more than its limit per visit and window (同一时间 / 同日 / 同次就诊).

    The limit is ``max_count`` for the ``codes`` listed (or every item when none is listed), or, with the
    ``kb_frequency`` knowledge table, each code's ``limit_qty`` for daily units (日/天/小时). ``count_by``
    counts lines or sums quantities. The money at issue is the excess × the average unit amount.
    """

    name = "same_item_repeat"
    title_zh = "同一项目重复计费/超限定频次"
    knowledge = ("kb_frequency",)
    amount_rules = ("excess_over_limit", "duplicate_line")
    params = (
        Param("window", "str", "Counting window / 计数时间窗", default="same_day", choices=tuple(WINDOWS)),
        Param(
            "max_count",
            "float",
            "Allowed count per window when no knowledge table / 每个时间窗允许的次数",
            default=1,
        ),
        Param(
            "count_by",
            "str",
            "Count lines or sum quantities (cnt) / 按明细条数或数量计",
            default="quantity",
            choices=("lines", "quantity"),
        ),
        Param(
            "codes",
            "str_list",
            "Only these hilist codes (empty: all) / 仅限这些医保目录编码（空为全部）",
            default=[],
        ),
        Param(
            "list_types",
            "str_list",
            "Only these list_type codes (empty: all) / 仅限这些目录类别（空为全部）",
            default=[],
        ),
        KP_FILTER,
    )

    def sql(self, rule: Rule) -> str:
        p = rule.params
        key, window_zh = WINDOWS[p["window"]]
        cond = []
        if p["codes"]:
            cond.append(f"l.hilist_code IN {in_list(p['codes'])}")
        if p["list_types"]:
            cond.append(f"l.list_type IN {in_list(p['list_types'])}")
        if rule.knowledge:
            src = f"""(SELECT l.*, k.kp_id, CAST(k.limit_qty AS DOUBLE) AS lim FROM {rule_lines(rule)} l
                JOIN (SELECT code, min(kp_id) AS kp_id, min(limit_qty) AS limit_qty FROM kb_frequency k
                      WHERE {kp_where(rule)} AND k.limit_qty IS NOT NULL AND k.limit_unit IN ('日', '天', '小时')
                      GROUP BY code) k ON k.code = l.hilist_code)"""
        else:
            src = f"(SELECT l.*, CAST(NULL AS VARCHAR) AS kp_id, {float(p['max_count'])} AS lim FROM {rule_lines(rule)} l)"
        where = f"WHERE {' AND '.join(cond)}" if cond else ""
        qty = "count(*)" if p["count_by"] == "lines" else "sum(l.cnt)"
        unit = (
            "sum(l.det_item_fee_sumamt) / count(*)"
            if p["count_by"] == "lines"
            else "sum(l.det_item_fee_sumamt) / sum(l.cnt)"
        )
        group = f"l.mdtrt_id, l.hilist_code, {key}"
        # the lines twice rather than a CTE: DuckDB would materialise all their columns (slower than 2 scans)
        lines = f"(SELECT l.* FROM {src} l {where})"
        inner = f"""
-- the groups over the limit first, by counts alone: ordered line lists for every group cost most
WITH over AS (
    SELECT l.mdtrt_id AS k1, l.hilist_code AS k2, {key} AS k3 FROM {lines} l GROUP BY {group}
    HAVING {qty} > any_value(l.lim)
)
SELECT any_value(l.mdtrt_id) AS mdtrt_id, any_value(l.setl_id) AS setl_id, any_value(l.psn_no) AS psn_no,
       any_value(l.fixmedins_code) AS fixmedins_code,
       list(l.bkkp_sn ORDER BY l.fee_ocur_time, l.bkkp_sn) AS bkkp_sn,
       l.hilist_code AS hilist_code,
       ({qty} - any_value(l.lim)) * {unit} AS amount,
       {window_zh!r} || '“' || any_value(l.hilist_name) || '”计费' || CAST(CAST({qty} AS DOUBLE) AS VARCHAR)
         || '（' || CAST(count(*) AS VARCHAR) || '条明细，' || strftime(min(l.fee_ocur_time), '%Y-%m-%d %H:%M')
         || '），限' || CAST(any_value(l.lim) AS VARCHAR) || '，超出部分' || {money(f"({qty} - any_value(l.lim)) * {unit}")}
         || '元' || {source_note(rule)} AS evidence_zh,
       any_value(l.kp_id) AS kp_id
FROM {lines} l SEMI JOIN over ON over.k1 IS NOT DISTINCT FROM l.mdtrt_id
    AND over.k2 IS NOT DISTINCT FROM l.hilist_code AND over.k3 IS NOT DISTINCT FROM {key}
GROUP BY {group}
HAVING {qty} > any_value(l.lim)
"""
        return hits(rule, inner.replace(f"{window_zh!r}", "'" + window_zh + "'"))
