"""``windowed_aggregate``: an item's use per visit or person over a time window against a limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import hits, in_list, lit, over_limit_groups, rule_lines
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import (
    KP_FILTER,
    Param,
    Template,
    kp_match,
    kp_where,
    rule_memo,
    sql_int,
    sql_min,
)

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

MEASURES = ("use_days", "count", "supply_days")
GROUPS = {"visit": "mdtrt_id", "person": "psn_no"}


class WindowedAggregate(Template):
    """An item's use aggregated per visit or person (× item) against a limit.

    ``measure``:

    - ``use_days`` (药品/项目限支付疗程): distinct days on which the item is billed within one visit; the
      limit is ``kb_course_days.max_days`` (or ``max_value``). One hit per visit × item with all its lines;
      the money at issue is the lines billed on the days after the limit. When the point has an interval
      clause (``interval_days``, e.g. 手功能评定 "总时间不超过90天，评定间隔时间不短于14天") both apply: a
      charge day ``max_days`` or more after the first, or fewer than ``interval_days`` after the previous
      charge day, is at issue.
    - ``count`` (周期超频次, 重复检查): occurrences (lines or quantity, ``count_by``) of the item per visit
      or person within any ``window_days``-day window (the day of the line and the days before it);
      the limit and window are ``kb_frequency.period_max_count`` / ``period_days`` (or ``max_value`` /
      ``window_days``). One hit per line that takes the running total over the limit, with the earlier
      lines of its window; the money at issue is the excess quantity of that line.
    - ``supply_days`` (超量开药): days of supply (``prd_days``, summed over the lines of one drug on one
      prescription ``rx_drord_no``, or the line alone without one) above ``max_value``; the money at
      issue is the share of the amount beyond the limit (amount × (days − limit) / days).
    """

    name = "windowed_aggregate"
    title_zh = "时间窗累计超限（支付疗程/周期频次/开药天数/重复检查）"
    knowledge = ("kb_course_days", "kb_frequency")
    knowledge_gate = True  # a hit needs a billed code with a knowledge row (real time skips other claims)

    def gated(self, rule: Rule) -> bool:
        return rule.params["measure"] != "supply_days" and bool(rule.knowledge)

    amount_rules = ("excess_over_limit",)
    params = (
        Param("measure", "str", "What is aggregated / 累计口径", required=True, choices=MEASURES),
        Param(
            "group_by",
            "str",
            "count: per visit or per person across visits / 按就诊或按参保人（跨就诊）累计",
            default="visit",
            choices=tuple(GROUPS),
        ),
        Param(
            "max_value",
            "float",
            "Limit when no knowledge table (days / count) / 无知识表时的限值（天数或次数）",
        ),
        Param(
            "window_days",
            "int",
            "count: window length in days when no knowledge table / 无知识表时的时间窗天数",
        ),
        Param(
            "count_by",
            "str",
            "count: lines or quantity (cnt) / 按明细条数或数量计",
            default="quantity",
            choices=("lines", "quantity"),
        ),
        Param("codes", "str_list", "Only these hilist codes (empty: all) / 仅限这些医保目录编码", default=[]),
        Param("list_types", "str_list", "Only these list_type codes / 仅限这些目录类别", default=[]),
        Param(
            "med_chrgitm_types",
            "str_list",
            "Only these 医疗收费项目类别 codes (e.g. 03 检查费, 04 化验费) / 仅限这些收费项目类别",
            default=[],
        ),
        KP_FILTER,
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "use_days": Evidence(
            "本次就诊“{hilist_name}”使用{days}天（{first:date}至{last:date}，{lines}条明细），"
            "限定支付不超过{limit}天，超出疗程部分{excess:money}元"
        ),
        "interval": Evidence(
            "本次就诊“{hilist_name}”计费{days}天（{first:date}至{last:date}，{lines}条明细），限定总时间不超过{limit}天"
            "且间隔不短于{interval}天，其中{bad}天不符合，涉及金额{excess:money}元"
        ),
        "count": Evidence(
            "{scope}“{hilist_name}”在{win}天内（{first:date}至{last:date}，{visits}次就诊）累计{total:num}{unit}，"
            "限{limit:num}{unit}，超出部分{excess:money}元"
        ),
        "supply_days": Evidence(
            "处方{rx}开具“{hilist_name}”{cnt:num}（{lines}条明细），用药周期{days:num}天，超过限定的{limit:num}天，"
            "超量部分{excess:money}元"
        ),
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        p, kn = rule.params, rule.knowledge
        out = []
        if p["measure"] == "use_days" and kn not in (None, "kb_course_days"):
            out.append(("knowledge", "use_days takes kb_course_days / 支付疗程须用知识表 kb_course_days"))
        if p["measure"] == "count" and kn not in (None, "kb_frequency"):
            out.append(("knowledge", "count takes kb_frequency / 周期频次须用知识表 kb_frequency"))
        if p["measure"] == "supply_days" and kn:
            out.append(("knowledge", "supply_days takes no knowledge table / 开药天数不用知识表"))
        if not kn and p["max_value"] is None:
            out.append(("params.max_value", "needed without a knowledge table / 无知识表时须给出限值"))
        if p["measure"] == "count" and not kn and not p["window_days"]:
            out.append(("params.window_days", "needed without a knowledge table / 无知识表时须给出时间窗"))
        if p["measure"] == "use_days" and p["group_by"] != "visit":
            out.append(("params.group_by", "use_days counts within one visit / 支付疗程按单次就诊计"))
        return out

    def _filter(self, rule: Rule) -> str:
        p = rule.params
        cond = ["TRUE"]
        if p["codes"]:
            cond.append(f"l.hilist_code IN {in_list(p['codes'])}")
        if p["list_types"]:
            cond.append(f"l.list_type IN {in_list(p['list_types'])}")
        if p["med_chrgitm_types"]:
            cond.append(f"l.med_chrgitm_type IN {in_list(p['med_chrgitm_types'])}")
        return " AND ".join(cond)

    def sql(self, rule: Rule) -> str:
        return {"use_days": self._use_days, "count": self._count, "supply_days": self._supply}[
            rule.params["measure"]
        ](rule)

    def _use_days(self, rule: Rule) -> str:
        p = rule.params
        if rule.knowledge:
            src = f"""(SELECT l.*, k.kp_id, k.lim, k.ivl FROM {rule_lines(rule)} l
                JOIN (SELECT code, min(kp_id) AS kp_id, min(max_days) AS lim, min(interval_days) AS ivl
                      FROM kb_course_days k
                      WHERE {kp_where(rule)} AND k.max_days IS NOT NULL GROUP BY code) k
                ON k.code = l.hilist_code)"""
        else:
            src = f"""(SELECT l.*, CAST(NULL AS VARCHAR) AS kp_id, {float(p["max_value"])} AS lim,
                       CAST(NULL AS INTEGER) AS ivl FROM {rule_lines(rule)} l)"""
        excess = "sum(CASE WHEN l.bad THEN l.det_item_fee_sumamt ELSE 0 END)"
        plain = self.evidence["use_days"].sql(rule, {
            "hilist_name": "min(l.hilist_name)", "days": "max(l.day_no)", "first": "min(l.fee_date)",
            "last": "max(l.fee_date)", "lines": "count(*)", "limit": "CAST(any_value(l.lim) AS INTEGER)",
            "excess": excess,
        })  # fmt: skip
        spaced = self.evidence["interval"].sql(rule, {
            "hilist_name": "min(l.hilist_name)", "days": "max(l.day_no)", "first": "min(l.fee_date)",
            "last": "max(l.fee_date)", "lines": "count(*)", "limit": "CAST(any_value(l.lim) AS INTEGER)",
            "interval": "any_value(l.ivl)", "bad": "count(DISTINCT CASE WHEN l.bad THEN l.fee_date END)",
            "excess": excess,
        })  # fmt: skip
        inner = f"""
WITH s AS (SELECT l.* FROM {src} l WHERE {self._filter(rule)}),
dd AS (
    SELECT mdtrt_id, hilist_code, fee_date,
           dense_rank() OVER (PARTITION BY mdtrt_id, hilist_code ORDER BY fee_date) AS day_no,
           lag(fee_date) OVER (PARTITION BY mdtrt_id, hilist_code ORDER BY fee_date) AS prev_day,
           min(fee_date) OVER (PARTITION BY mdtrt_id, hilist_code) AS first_day
    FROM (SELECT DISTINCT mdtrt_id, hilist_code, fee_date FROM s)
),
l AS (
    SELECT s.*, dd.day_no,
           CASE WHEN s.ivl IS NULL THEN dd.day_no > s.lim
                ELSE date_diff('day', dd.first_day, s.fee_date) >= s.lim
                     OR COALESCE(date_diff('day', dd.prev_day, s.fee_date) < s.ivl, FALSE) END AS bad
    FROM s JOIN dd ON dd.mdtrt_id = s.mdtrt_id AND dd.hilist_code = s.hilist_code AND dd.fee_date = s.fee_date
)
SELECT l.mdtrt_id AS mdtrt_id, any_value(l.setl_id) AS setl_id, any_value(l.psn_no) AS psn_no,
       any_value(l.fixmedins_code) AS fixmedins_code,
       list(l.bkkp_sn ORDER BY l.fee_ocur_time, l.bkkp_sn) AS bkkp_sn, l.hilist_code AS hilist_code,
       {excess} AS amount,
       CASE WHEN any_value(l.ivl) IS NULL THEN {plain} ELSE {spaced} END AS evidence_zh,
       any_value(l.kp_id) AS kp_id
FROM l
GROUP BY l.mdtrt_id, l.hilist_code
HAVING bool_or(l.bad)
"""
        return hits(rule, inner)

    def _count(self, rule: Rule) -> str:
        p = rule.params
        grp = GROUPS[p["group_by"]]
        if rule.knowledge:
            src = f"""(SELECT l.*, k.kp_id, k.lim, k.win FROM {rule_lines(rule)} l
                JOIN (SELECT code, min(kp_id) AS kp_id, min(period_max_count) AS lim,
                             CAST(max(period_days) AS INTEGER) AS win FROM kb_frequency k
                      WHERE {kp_where(rule)} AND k.period_days IS NOT NULL AND k.period_max_count IS NOT NULL
                      GROUP BY code) k ON k.code = l.hilist_code)"""
        else:
            src = f"""(SELECT l.*, CAST(NULL AS VARCHAR) AS kp_id, {float(p["max_value"])} AS lim,
                       {int(p["window_days"])} AS win FROM {rule_lines(rule)} l)"""
        q = "1.0" if p["count_by"] == "lines" else "CAST(l.cnt AS DOUBLE)"
        unit = "次" if p["count_by"] == "lines" else ""
        scope = "同一参保人" if p["group_by"] == "person" else "同次就诊"
        excess = "least(x.q, x.total - x.lim) * x.det_item_fee_sumamt / x.q"
        ev = self.evidence["count"].sql(rule, {
            "scope": lit(scope), "hilist_name": "x.hilist_name", "win": "x.win", "first": "d.first_date",
            "last": "x.fee_date", "visits": "d.visits", "total": "x.total", "unit": lit(unit), "limit": "x.lim",
            "excess": excess,
        })  # fmt: skip
        # y: the lines of x's group and item in its window, up to and including x (by time, then sn)
        window = f"""y.{grp} = x.{grp} AND y.hilist_code = x.hilist_code
     AND y.fee_date BETWEEN x.fee_date - (x.win - 1) AND x.fee_date
     AND (y.fee_ocur_time < x.fee_ocur_time OR (y.fee_ocur_time = x.fee_ocur_time AND y.bkkp_sn <= x.bkkp_sn))"""
        inner = f"""
WITH x AS (SELECT l.*, {q} AS q FROM {src} l WHERE {self._filter(rule)}),
run AS (
    SELECT x.bkkp_sn AS sn, sum(y.q) AS total
    FROM x JOIN x AS y ON {window}
    GROUP BY x.bkkp_sn
),
over AS (SELECT x.*, r.total FROM run r JOIN x ON x.bkkp_sn = r.sn WHERE r.total > x.lim),
-- the window's line list only for the few lines over the limit (building it for every line cost most)
detail AS (
    SELECT x.bkkp_sn AS sn, list(y.bkkp_sn ORDER BY y.fee_ocur_time, y.bkkp_sn) AS window_sns,
           count(DISTINCT y.mdtrt_id) AS visits, min(y.fee_date) AS first_date
    FROM over x JOIN x AS y ON {window}
    GROUP BY x.bkkp_sn
)
SELECT x.mdtrt_id AS mdtrt_id, x.setl_id AS setl_id, x.psn_no AS psn_no,
       x.fixmedins_code AS fixmedins_code, d.window_sns AS bkkp_sn, x.hilist_code AS hilist_code,
       {excess} AS amount,
       {ev} AS evidence_zh,
       x.kp_id AS kp_id
FROM over x JOIN detail d ON d.sn = x.bkkp_sn
"""
        return hits(rule, inner)

    def _supply(self, rule: Rule) -> str:
        p = rule.params
        lim = float(p["max_value"])
        days = "sum(COALESCE(l.prd_days, 0))"
        amount = f"sum(l.det_item_fee_sumamt) * ({days} - {lim}) / {days}"
        keys = ("l.mdtrt_id", "COALESCE(NULLIF(l.rx_drord_no, ''), l.bkkp_sn)", "l.hilist_code")
        ev = self.evidence["supply_days"].sql(rule, {
            "rx": "COALESCE(NULLIF(any_value(l.rx_drord_no), ''), '（无处方号）')", "hilist_name": "min(l.hilist_name)",
            "cnt": "sum(l.cnt)", "lines": "count(*)", "days": days, "limit": lim, "excess": amount,
        })  # fmt: skip
        # the lines twice rather than a CTE: DuckDB would materialise all their columns (slower than 2 scans)
        lines = f"(SELECT l.* FROM {rule_lines(rule)} l WHERE {self._filter(rule)})"
        # the prescriptions over the limit first (``over_limit_groups``): the sum of the positive days of a
        # hash's prescriptions is at least each one's sum of days
        over, on = over_limit_groups(
            lines, keys, f"sum(greatest(COALESCE(l.prd_days, 0), 0)) > {lim}", f"{days} > {lim}"
        )
        inner = f"""
WITH {over}
SELECT l.mdtrt_id AS mdtrt_id, any_value(l.setl_id) AS setl_id, any_value(l.psn_no) AS psn_no,
       any_value(l.fixmedins_code) AS fixmedins_code,
       list(l.bkkp_sn ORDER BY l.fee_ocur_time, l.bkkp_sn) AS bkkp_sn, l.hilist_code AS hilist_code,
       {amount} AS amount,
       {ev} AS evidence_zh,
       CAST(NULL AS VARCHAR) AS kp_id
FROM {lines} l SEMI JOIN over ON {on}
GROUP BY {", ".join(keys)}
HAVING {days} > {lim}
"""
        return hits(rule, inner)

    # --- real time ----------------------------------------------------------------------------------------
    history_columns = (
        "bkkp_sn", "mdtrt_id", "psn_no", "hilist_code", "fee_ocur_time", "fee_date", "cnt", "list_type",
        "med_chrgitm_type", "scene",
    )  # fmt: skip

    def _passes(self, rule: Rule) -> Callable[[Row], bool]:
        p = rule.params
        codes, types, items = set(p["codes"]), set(p["list_types"]), set(p["med_chrgitm_types"])
        return lambda ln: (
            (not codes or ln["hilist_code"] in codes)
            and (not types or ln["list_type"] in types)
            and (not items or ln["med_chrgitm_type"] in items)
        )

    def _limits(
        self, rule: Rule, claim: Claim | None, index: dict | None = None
    ) -> Callable[[str], tuple | None]:
        """code → (kp_id, limit, window days) as the SQL's knowledge subquery (or the parameters)."""
        p = rule.params
        if not rule.knowledge:
            lim = float(p["max_value"])
            win = int(p["window_days"] or 0)
            return lambda code: (None, lim, win, None)
        if index is None:
            assert claim is not None
            index = claim.knowledge(rule.knowledge)
        col = "max_days" if p["measure"] == "use_days" else "period_max_count"
        cache: dict[str, tuple | None] = rule_memo(rule, index, "limits")

        def of(code: str) -> tuple | None:
            if code not in index:
                return None  # not kept: the memo holds only codes of the knowledge table
            if code not in cache:
                ks = [k for k in index.get(code, ()) if kp_match(rule, k) and k[col] is not None]
                if p["measure"] == "count":
                    ks = [k for k in ks if k["period_days"] is not None]
                ivls = [k.get("interval_days") for k in ks if k.get("interval_days") is not None]
                cache[code] = (
                    (min(k["kp_id"] for k in ks), min(k[col] for k in ks),
                     int(sql_int(max(k["period_days"] for k in ks))) if p["measure"] == "count" else 0,
                     min(ivls) if ivls and p["measure"] == "use_days" else None)
                    if ks else None
                )  # fmt: skip
            return cache[code]

        return of

    def keeps_history(self, rule: Rule) -> Callable[[Row, Callable], bool] | None:
        p = rule.params
        if p["measure"] != "count" or p["group_by"] != "person":
            return None
        passes = self._passes(rule)
        if not rule.knowledge:
            return lambda ln, institution: passes(ln)
        from fundguard.rules import knowledge

        index: dict[str, list] = {}
        for k in knowledge.arrow(rule.knowledge).to_pylist():
            index.setdefault(k["code"], []).append(k)
        limits = self._limits(rule, None, index)
        return lambda ln, institution: passes(ln) and limits(ln["hilist_code"]) is not None

    def history_days(self, rule: Rule) -> int | None:
        if not rule.knowledge:
            return int(rule.params["window_days"] or 0)
        from fundguard.rules import knowledge

        days = [
            k["period_days"] for k in knowledge.arrow(rule.knowledge).to_pylist()
            if kp_match(rule, k) and k["period_days"] is not None
        ]  # fmt: skip
        return int(sql_int(max(days))) if days else 0

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        measure = rule.params["measure"]
        passes = self._passes(rule)
        lines = [ln for ln in claim.lines_of(rule) if passes(ln)]
        if measure == "supply_days":
            return self._eval_supply(rule, lines)
        limits = self._limits(rule, claim)
        lines = [ln for ln in lines if limits(ln["hilist_code"]) is not None]
        if measure == "use_days":
            return self._eval_use_days(rule, lines, limits)
        extra = []
        if rule.params["group_by"] == "person":
            extra = [
                ln for ln in claim.lines_of(rule, claim.history) if passes(ln) and limits(ln["hilist_code"])
            ]
        return self._eval_count(rule, lines, extra, limits)

    def _eval_use_days(self, rule: Rule, lines: list[Row], limits) -> list[dict]:
        groups: dict[tuple, list[Row]] = {}
        for ln in lines:
            groups.setdefault((ln["mdtrt_id"], ln["hilist_code"]), []).append(ln)
        out = []
        for (_, code), rows in groups.items():
            kp_id, lim, _, ivl = limits(code)
            days = sorted({ln["fee_date"] for ln in rows})
            if ivl is None:
                bad = {d for i, d in enumerate(days) if i + 1 > lim}
            else:  # the span from the first charge day, and the gap from the previous one
                bad = {
                    d for i, d in enumerate(days)
                    if (d - days[0]).days >= lim or (i > 0 and (d - days[i - 1]).days < ivl)
                }  # fmt: skip
            if not bad:
                continue
            excess = sum((ln["det_item_fee_sumamt"] for ln in rows if ln["fee_date"] in bad), Decimal(0))
            rows.sort(key=lambda ln: (ln["fee_ocur_time"], ln["bkkp_sn"]))
            vals = {"hilist_name": sql_min(ln["hilist_name"] for ln in rows), "days": len(days), "first": days[0],
                    "last": days[-1], "lines": len(rows), "limit": sql_int(lim), "excess": excess,
                    "interval": ivl, "bad": len(bad)}  # fmt: skip
            ev = self.evidence["use_days" if ivl is None else "interval"].render(rule, vals)
            out.append(hit(rule, rows[0], [ln["bkkp_sn"] for ln in rows], excess, ev, hilist_code=code, kp_id=kp_id,
                           setl_id=rows[0]["setl_id"]))  # fmt: skip
        return out

    def _eval_count(self, rule: Rule, lines: list[Row], extra: list[Row], limits) -> list[dict]:
        p = rule.params
        grp = GROUPS[p["group_by"]]
        by_key: dict[tuple, list[Row]] = {}
        for ln in lines + extra:
            by_key.setdefault((ln[grp], ln["hilist_code"]), []).append(ln)
        lines_q = (lambda ln: 1.0) if p["count_by"] == "lines" else (lambda ln: float(ln["cnt"]))
        unit = "次" if p["count_by"] == "lines" else ""
        scope = "同一参保人" if p["group_by"] == "person" else "同次就诊"
        out = []
        for x in lines:
            kp_id, lim, win, _ = limits(x["hilist_code"])
            lo = x["fee_date"] - dt.timedelta(days=win - 1)
            xk = (x["fee_ocur_time"], x["bkkp_sn"])
            ys = [
                y for y in by_key[(x[grp], x["hilist_code"])]
                if lo <= y["fee_date"] <= x["fee_date"] and (y["fee_ocur_time"], y["bkkp_sn"]) <= xk
            ]  # fmt: skip
            total = 0.0
            for y in sorted(ys, key=lambda y: (y["fee_ocur_time"], y["bkkp_sn"])):
                total += lines_q(y)
            if not total > lim:
                continue
            q = lines_q(x)
            excess = min(q, total - lim) * float(x["det_item_fee_sumamt"]) / q
            ys.sort(key=lambda y: (y["fee_ocur_time"], y["bkkp_sn"]))
            vals = {"scope": scope, "hilist_name": x["hilist_name"], "win": win, "first": min(y["fee_date"] for y in ys),
                    "last": x["fee_date"], "visits": len({y["mdtrt_id"] for y in ys}), "total": total, "unit": unit,
                    "limit": lim, "excess": excess}  # fmt: skip
            ev = self.evidence["count"].render(rule, vals)
            out.append(
                hit(
                    rule, x, [y["bkkp_sn"] for y in ys], excess, ev, hilist_code=x["hilist_code"], kp_id=kp_id
                )
            )
        return out

    def _eval_supply(self, rule: Rule, lines: list[Row]) -> list[dict]:
        lim = float(rule.params["max_value"])
        lim_d = Decimal(repr(lim))
        groups: dict[tuple, list[Row]] = {}
        for ln in lines:
            groups.setdefault(
                (ln["mdtrt_id"], ln["rx_drord_no"] or ln["bkkp_sn"], ln["hilist_code"]), []
            ).append(ln)
        out = []
        for (_, _, code), rows in groups.items():
            days = sum((ln["prd_days"] or Decimal(0) for ln in rows), Decimal(0))
            if not days > lim_d:
                continue
            fee = sum((ln["det_item_fee_sumamt"] for ln in rows), Decimal(0))
            amount = float(fee * (days - lim_d)) / float(days)
            rows.sort(key=lambda ln: (ln["fee_ocur_time"], ln["bkkp_sn"]))
            vals = {"rx": rows[0]["rx_drord_no"] or "（无处方号）", "hilist_name": sql_min(ln["hilist_name"] for ln in rows),
                    "cnt": sum((ln["cnt"] for ln in rows), Decimal(0)), "lines": len(rows), "days": days,
                    "limit": lim, "excess": amount}  # fmt: skip
            ev = self.evidence["supply_days"].render(rule, vals)
            out.append(hit(rule, rows[0], [ln["bkkp_sn"] for ln in rows], amount, ev, hilist_code=code,
                           setl_id=rows[0]["setl_id"]))  # fmt: skip
        return out
