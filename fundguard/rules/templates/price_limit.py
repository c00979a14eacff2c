"""``price_limit``: a unit price above the price cap (超标准收费)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundguard.rules.base import hits, in_list, money, rule_lines, source_note
from fundguard.rules.templates.base import Param, Template

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

CAPS = {
    "line": "l.pric_uplmt_amt",
    "catalogue": "l.catalogue_pric_uplmt_amt",
    "lowest": "least(l.pric_uplmt_amt, l.catalogue_pric_uplmt_amt)",
}


class PriceLimit(Template):
    """``pric`` above the cap (the line's ``pric_uplmt_amt``, the catalogue's, or the lower of both) by more
    than ``tolerance`` (a share of the cap). The money at issue is (pric − cap) × cnt."""

    name = "price_limit"
    title_zh = "超标准收费（单价超过定价上限）"
    amount_rules = ("excess_over_limit",)
    params = (
        Param("cap", "str", "Which price cap / 采用的定价上限", default="lowest", choices=tuple(CAPS)),
        Param("tolerance", "float", "Allowed excess as a share of the cap / 允许超出比例", default=0.0),
        Param(
            "list_types", "str_list", "Only these list_type codes (empty: all) / 仅限这些目录类别", default=[]
        ),
    )

    def sql(self, rule: Rule) -> str:
        p = rule.params
        cap = CAPS[p["cap"]]
        types = f"AND l.list_type IN {in_list(p['list_types'])}" if p["list_types"] else ""
        inner = f"""
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       (l.pric - {cap}) * l.cnt AS amount,
       '“' || l.hilist_name || '”单价' || {money("l.pric")} || '元，超过定价上限' || {money(cap)}
         || '元，数量' || CAST(CAST(l.cnt AS DOUBLE) AS VARCHAR) || '，多收' || {money(f"(l.pric - {cap}) * l.cnt")}
         || '元' || {source_note(rule)} AS evidence_zh,
       CAST(NULL AS VARCHAR) AS kp_id
FROM {rule_lines(rule)} l
WHERE {cap} > 0 AND l.pric > {cap} * (1 + {float(p["tolerance"])}) {types}
"""
        return hits(rule, inner)
