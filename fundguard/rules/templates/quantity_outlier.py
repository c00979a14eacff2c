"""``quantity_outlier``: an item's quantity billed on one day of one visit far above that item's normal
(医用耗材数量超标, 中药饮片超量上传) — the normal taken from the whole population, so batch only."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import hits, in_list, rule_lines
from fundguard.rules.evidence import Evidence
from fundguard.rules.templates.base import Param, Template

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


class QuantityOutlier(Template):
    """Per visit × item × day, the summed quantity (``cnt``) against the item's normal: the median of that
    sum over every visit-day of the item in the store (items with at least ``min_support`` visit-days).
    A visit-day is a hit when its quantity exceeds ``factor`` × the median and is at least ``min_qty``.
    Which items: ``med_chrgitm_types`` (08 卫生材料费, 10 中药饮片费) and/or ``list_types`` / ``codes``.

    One hit per visit × item × day with its lines; money at issue: the share of their amount beyond
    ``factor`` × the median (amount × (quantity − limit) / quantity). The normal needs the item's whole
    population (``population``): batch only, never real time; an incremental audit reads the lines of the
    audited items (``batch_population_keys``).
    """

    name = "quantity_outlier"
    title_zh = "单日计费数量远超该项目常规用量（耗材数量超标/中药饮片超量上传）"
    population = True
    amount_rules = ("excess_over_limit",)
    params = (
        Param("factor", "float", "Times the item's median that is too much / 超过中位数的倍数", default=5.0),
        Param(
            "min_support",
            "int",
            "Least visit-days for an item's normal / 计算常规用量的最少就诊日数",
            default=30,
        ),
        Param("min_qty", "float", "Least quantity judged / 判断的最小数量", default=2.0),
        Param(
            "med_chrgitm_types",
            "str_list",
            "Only these 医疗收费项目类别 codes / 仅限这些收费项目类别",
            default=[],
        ),
        Param("list_types", "str_list", "Only these list_type codes / 仅限这些目录类别", default=[]),
        Param("codes", "str_list", "Only these hilist codes (empty: all) / 仅限这些医保目录编码", default=[]),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "outlier": Evidence(
            "“{hilist_name}”{day:date}同日计费数量{qty:num}（{lines}条明细），该项目在{support}个就诊日的用量中位数为"
            "{median:num}，超过{factor:num}倍，超出部分{excess:money}元"
        )
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        p = rule.params
        out = []
        if p["factor"] <= 1:
            out.append(("params.factor", "must be > 1 / 须大于1"))
        if p["min_support"] < 1:
            out.append(("params.min_support", "must be ≥ 1 / 须不小于1"))
        return out

    def _judged(self, rule: Rule) -> str:
        """Which lines the rule judges, as an SQL condition over ``claim_lines`` alias ``l``."""
        p = rule.params
        cond = ["TRUE"]
        if p["med_chrgitm_types"]:
            cond.append(f"l.med_chrgitm_type IN {in_list(p['med_chrgitm_types'])}")
        if p["list_types"]:
            cond.append(f"l.list_type IN {in_list(p['list_types'])}")
        if p["codes"]:
            cond.append(f"l.hilist_code IN {in_list(p['codes'])}")
        return " AND ".join(cond)

    def batch_population_keys(self, rule: Rule) -> str:
        # an item's normal is taken over the judged lines of that item alone: a hit reads the lines sharing
        # its item
        return f"CASE WHEN {self._judged(rule)} THEN [l.hilist_code] ELSE [] END"

    def sql(self, rule: Rule) -> str:
        p = rule.params
        f, sup, mq = float(p["factor"]), int(p["min_support"]), float(p["min_qty"])
        excess = f"d.fee * (d.qty - {f} * n.median) / d.qty"
        ev = self.evidence["outlier"].sql(rule, {
            "hilist_name": "d.hilist_name", "day": "d.fee_date", "qty": "d.qty", "lines": "d.lines",
            "support": "n.support", "median": "n.median", "factor": str(f), "excess": excess,
        })  # fmt: skip
        inner = f"""
WITH d AS (
    SELECT l.mdtrt_id, l.hilist_code, l.fee_date, min(l.setl_id) AS setl_id, min(l.psn_no) AS psn_no,
           min(l.fixmedins_code) AS fixmedins_code, min(l.hilist_name) AS hilist_name,
           CAST(sum(l.cnt) AS DOUBLE) AS qty, sum(l.det_item_fee_sumamt) AS fee, count(*) AS lines,
           list(l.bkkp_sn ORDER BY l.fee_ocur_time, l.bkkp_sn) AS sns
    FROM {rule_lines(rule)} l WHERE {self._judged(rule)}
    GROUP BY l.mdtrt_id, l.hilist_code, l.fee_date
),
n AS (SELECT hilist_code, median(qty) AS median, count(*) AS support FROM d GROUP BY hilist_code
      HAVING count(*) >= {sup})
SELECT d.mdtrt_id, d.setl_id, d.psn_no, d.fixmedins_code, d.sns AS bkkp_sn, d.hilist_code,
       {excess} AS amount, {ev} AS evidence_zh, NULL AS kp_id
FROM d JOIN n ON n.hilist_code = d.hilist_code
WHERE d.qty >= {mq} AND d.qty > {f} * n.median
"""
        return hits(rule, inner)
