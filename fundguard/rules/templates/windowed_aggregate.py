"""``windowed_aggregate``: an item's use per visit or person over a time window against a limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundguard.rules.base import hits, in_list, lit, money, rule_lines, source_note
from fundguard.rules.templates.base import KP_FILTER, Param, Template, kp_where

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

MEASURES = ("use_days", "count", "supply_days")
GROUPS = {"visit": "mdtrt_id", "person": "psn_no"}


class WindowedAggregate(Template):
    """An item's use aggregated per visit or person (× item) against a limit.

    ``measure``:

    - ``use_days`` (药品/项目限支付疗程): distinct days on which the item is billed within one visit; the
      limit is ``kb_course_days.max_days`` (or ``max_value``). One hit per visit × item with all its lines;
      the money at issue is the lines billed on the days after the limit.
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
            src = f"""(SELECT l.*, k.kp_id, k.lim FROM {rule_lines(rule)} l
                JOIN (SELECT code, min(kp_id) AS kp_id, min(max_days) AS lim FROM kb_course_days k
                      WHERE {kp_where(rule)} AND k.max_days IS NOT NULL GROUP BY code) k
                ON k.code = l.hilist_code)"""
        else:
            src = f"(SELECT l.*, CAST(NULL AS VARCHAR) AS kp_id, {float(p['max_value'])} AS lim FROM {rule_lines(rule)} l)"
        excess = "sum(CASE WHEN l.day_no > l.lim THEN l.det_item_fee_sumamt ELSE 0 END)"
        inner = f"""
SELECT l.mdtrt_id AS mdtrt_id, any_value(l.setl_id) AS setl_id, any_value(l.psn_no) AS psn_no,
       any_value(l.fixmedins_code) AS fixmedins_code,
       list(l.bkkp_sn ORDER BY l.fee_ocur_time, l.bkkp_sn) AS bkkp_sn, l.hilist_code AS hilist_code,
       {excess} AS amount,
       '本次就诊“' || any_value(l.hilist_name) || '”使用' || CAST(max(l.day_no) AS VARCHAR) || '天（'
         || strftime(min(l.fee_date), '%Y-%m-%d') || '至' || strftime(max(l.fee_date), '%Y-%m-%d') || '，'
         || CAST(count(*) AS VARCHAR) || '条明细），限定支付不超过' || CAST(CAST(any_value(l.lim) AS INTEGER) AS VARCHAR)
         || '天，超出疗程部分' || {money(excess)} || '元' || {source_note(rule)} AS evidence_zh,
       any_value(l.kp_id) AS kp_id
FROM (SELECT l.*, dense_rank() OVER (PARTITION BY l.mdtrt_id, l.hilist_code ORDER BY l.fee_date) AS day_no
      FROM {src} l WHERE {self._filter(rule)}) l
GROUP BY l.mdtrt_id, l.hilist_code
HAVING max(l.day_no) > any_value(l.lim)
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
       {lit(scope)} || '“' || x.hilist_name || '”在' || CAST(x.win AS VARCHAR) || '天内（'
         || strftime(d.first_date, '%Y-%m-%d') || '至' || strftime(x.fee_date, '%Y-%m-%d') || '，'
         || CAST(d.visits AS VARCHAR) || '次就诊）累计' || CAST(x.total AS VARCHAR) || {lit(unit)}
         || '，限' || CAST(x.lim AS VARCHAR) || {lit(unit)} || '，超出部分' || {money(excess)} || '元'
         || {source_note(rule)} AS evidence_zh,
       x.kp_id AS kp_id
FROM over x JOIN detail d ON d.sn = x.bkkp_sn
"""
        return hits(rule, inner)

    def _supply(self, rule: Rule) -> str:
        p = rule.params
        lim = float(p["max_value"])
        days = "sum(COALESCE(l.prd_days, 0))"
        amount = f"sum(l.det_item_fee_sumamt) * ({days} - {lim}) / {days}"
        group = "l.mdtrt_id, COALESCE(NULLIF(l.rx_drord_no, ''), l.bkkp_sn), l.hilist_code"
        # the lines twice rather than a CTE: DuckDB would materialise all their columns (slower than 2 scans)
        lines = f"(SELECT l.* FROM {rule_lines(rule)} l WHERE {self._filter(rule)})"
        inner = f"""
-- the prescriptions over the limit first, by sums alone: ordered line lists for all cost most
WITH over AS (
    SELECT l.mdtrt_id AS k1, COALESCE(NULLIF(l.rx_drord_no, ''), l.bkkp_sn) AS k2, l.hilist_code AS k3
    FROM {lines} l GROUP BY {group} HAVING {days} > {lim}
)
SELECT l.mdtrt_id AS mdtrt_id, any_value(l.setl_id) AS setl_id, any_value(l.psn_no) AS psn_no,
       any_value(l.fixmedins_code) AS fixmedins_code,
       list(l.bkkp_sn ORDER BY l.fee_ocur_time, l.bkkp_sn) AS bkkp_sn, l.hilist_code AS hilist_code,
       {amount} AS amount,
       '处方' || COALESCE(NULLIF(any_value(l.rx_drord_no), ''), '（无处方号）') || '开具“' || any_value(l.hilist_name)
         || '”' || CAST(CAST(sum(l.cnt) AS DOUBLE) AS VARCHAR) || '（' || CAST(count(*) AS VARCHAR)
         || '条明细），用药周期' || CAST(CAST({days} AS DOUBLE) AS VARCHAR) || '天，超过限定的'
         || CAST({lim} AS VARCHAR) || '天，超量部分' || {money(amount)} || '元' || {source_note(rule)} AS evidence_zh,
       CAST(NULL AS VARCHAR) AS kp_id
FROM {lines} l SEMI JOIN over ON over.k1 IS NOT DISTINCT FROM l.mdtrt_id
    AND over.k2 IS NOT DISTINCT FROM COALESCE(NULLIF(l.rx_drord_no, ''), l.bkkp_sn)
    AND over.k3 IS NOT DISTINCT FROM l.hilist_code
GROUP BY {group}
HAVING {days} > {lim}
"""
        return hits(rule, inner)
