"""``same_item_repeat``: the same item billed more than allowed per visit in a time window."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import PRECOUNT_PASSES, hits, in_list, lit, over_limit_groups, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import KP_FILTER, Param, Template, kp_match, kp_where, rule_memo

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

WINDOWS = {
    "same_time": ("l.fee_ocur_time", "同一时间"),
    "same_day": ("l.fee_date", "同日"),
    "same_visit": ("l.mdtrt_id", "同次就诊"),
}
_UNITS = ("日", "天", "小时")
_UNSEEN = object()
_ZERO = Decimal(0)


class SameItemRepeat(Template):
    """The same item billed more than its limit per visit and window (同一时间 / 同日 / 同次就诊).

    The limit is ``max_count`` for the ``codes`` listed (or every item when none is listed), or, with the
    ``kb_frequency`` knowledge table, each code's ``limit_qty`` for daily units (日/天/小时). ``count_by``
    counts lines or sums quantities. The money at issue is the excess × the average unit amount.
    """

    name = "same_item_repeat"
    title_zh = "同一项目重复计费/超限定频次"
    knowledge = ("kb_frequency",)
    knowledge_gate = True  # a hit needs a billed code with a knowledge row (real time skips other claims)
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

    evidence: ClassVar[dict[str, Evidence]] = {
        "repeat": Evidence(
            "{window}“{hilist_name}”计费{qty:num}（{lines}条明细，{first:minute}），限{limit:num}，超出部分{excess:money}元"
        )
    }

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
        keys = ("l.mdtrt_id", "l.hilist_code", key)
        group = ", ".join(keys)
        ev = self.evidence["repeat"].sql(rule, {
            "window": lit(window_zh), "hilist_name": "min(l.hilist_name)", "qty": qty, "lines": "count(*)",
            "first": "min(l.fee_ocur_time)", "limit": "any_value(l.lim)",
            "excess": f"({qty} - any_value(l.lim)) * {unit}",
        })  # fmt: skip
        # the lines twice rather than a CTE: DuckDB would materialise all their columns (slower than 2 scans)
        lines = f"(SELECT l.* FROM {src} l {where})"
        # the groups over the limit first (``over_limit_groups``), their hash pre-count in passes when the
        # rule counts every fee line's group
        passes = 1 if rule.knowledge or cond else PRECOUNT_PASSES
        over, on = over_limit_groups(lines, keys, f"{qty} > min(l.lim)", f"{qty} > any_value(l.lim)", passes)
        inner = f"""
WITH {over}
SELECT any_value(l.mdtrt_id) AS mdtrt_id, any_value(l.setl_id) AS setl_id, any_value(l.psn_no) AS psn_no,
       any_value(l.fixmedins_code) AS fixmedins_code,
       list(l.bkkp_sn ORDER BY l.fee_ocur_time, l.bkkp_sn) AS bkkp_sn,
       l.hilist_code AS hilist_code,
       ({qty} - any_value(l.lim)) * {unit} AS amount,
       {ev} AS evidence_zh,
       any_value(l.kp_id) AS kp_id
FROM {lines} l SEMI JOIN over ON {on}
GROUP BY {group}
HAVING {qty} > any_value(l.lim)
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        key, window_zh = WINDOWS[p["window"]]
        key = key[2:]
        codes, types = set(p["codes"]), set(p["list_types"])
        if rule.knowledge:
            index = claim.knowledge(rule.knowledge)
            memo = rule_memo(rule, index, "limit")

            def limit(code: str) -> tuple | None:
                if code in memo:
                    return memo[code]
                if code not in index:
                    return None  # not kept: the memo holds only codes of the knowledge table
                ks = [k for k in index.get(code, ()) if kp_match(rule, k) and k["limit_qty"] is not None
                      and k["limit_unit"] in _UNITS]  # fmt: skip
                got = memo[code] = (
                    (min(k["kp_id"] for k in ks), float(min(k["limit_qty"] for k in ks))) if ks else None
                )
                return got
        else:
            fixed = (None, float(p["max_count"]))
            if p["count_by"] == "lines" and not codes and not types:
                # the SQL's pre-count, in C: most claims have no group over the limit and stop here
                counts = Counter(map(itemgetter("mdtrt_id", "hilist_code", key), claim.lines_of(rule)))
                if not counts or max(counts.values()) <= fixed[1]:
                    return []

            def limit(code: str) -> tuple | None:
                return fixed

        groups: dict[tuple, list] = {}
        limits: dict[str, tuple | None] = {}  # this claim's codes: one call of ``limit`` per code
        for ln in claim.lines_of(rule):
            code = ln["hilist_code"]
            if (codes and code not in codes) or (types and ln["list_type"] not in types):
                continue
            lim = limits.get(code, _UNSEEN)
            if lim is _UNSEEN:
                lim = limits[code] = limit(code)
            if lim is None:
                continue
            k = (ln["mdtrt_id"], code, ln[key])
            rows = groups.get(k)
            if rows is None:
                groups[k] = [ln]
            else:
                rows.append(ln)
        by_lines = p["count_by"] == "lines"
        out = []
        for (_, code, _), rows in groups.items():
            lim = limits[code]
            kp_id, lim_v = lim
            if by_lines:
                qty = len(rows)
            elif len(rows) == 1:  # most groups: one line (its quantity as the sum would give it)
                qty = _ZERO + rows[0]["cnt"]
            else:
                qty = sum((ln["cnt"] for ln in rows), _ZERO)
            if not float(qty) > lim_v:
                continue
            fee = sum((ln["det_item_fee_sumamt"] for ln in rows), Decimal(0))
            unit = float(fee) / float(qty)
            excess = (float(qty) - lim_v) * unit
            rows.sort(key=lambda ln: (ln["fee_ocur_time"], ln["bkkp_sn"]))
            names = [ln["hilist_name"] for ln in rows if ln["hilist_name"] is not None]
            vals = {"window": window_zh, "hilist_name": min(names) if names else None, "qty": qty,
                    "lines": len(rows), "first": rows[0]["fee_ocur_time"], "limit": lim_v, "excess": excess}  # fmt: skip
            out.append(hit(rule, rows[0], [ln["bkkp_sn"] for ln in rows], excess,
                           self.evidence["repeat"].render(rule, vals), hilist_code=code, kp_id=kp_id))  # fmt: skip
        return out
