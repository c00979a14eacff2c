"""``price_limit``: a unit price above the price cap (超标准收费)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import hits, in_list, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

CAPS = {
    "line": "l.pric_uplmt_amt",
    "catalogue": "l.catalogue_pric_uplmt_amt",
    "lowest": "least(l.pric_uplmt_amt, l.catalogue_pric_uplmt_amt)",
}


def _cap(kind: str, ln: dict):
    a, b = ln["pric_uplmt_amt"], ln["catalogue_pric_uplmt_amt"]
    if kind == "line":
        return a
    if kind == "catalogue" or a is None:  # least() skips NULLs
        return b
    return a if b is None or not b < a else b


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

    evidence: ClassVar[dict[str, Evidence]] = {
        "price": Evidence(
            "“{hilist_name}”单价{pric:money}元，超过定价上限{cap:money}元，数量{cnt:num}，多收{amount:money}元"
        )
    }

    def sql(self, rule: Rule) -> str:
        p = rule.params
        cap = CAPS[p["cap"]]
        types = f"AND l.list_type IN {in_list(p['list_types'])}" if p["list_types"] else ""
        amount = f"(l.pric - {cap}) * l.cnt"
        ev = self.evidence["price"].sql(
            rule,
            {"hilist_name": "l.hilist_name", "pric": "l.pric", "cap": cap, "cnt": "l.cnt", "amount": amount},
        )
        inner = f"""
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount} AS amount, {ev} AS evidence_zh, CAST(NULL AS VARCHAR) AS kp_id
FROM {rule_lines(rule)} l
WHERE {cap} > 0 AND l.pric > {cap} * (1 + {float(p["tolerance"])}) {types}
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        kind = p["cap"]
        types = set(p["list_types"])
        factor = 1 + float(p["tolerance"])
        out = []
        for ln in claim.lines_of(rule):
            pric = ln["pric"]
            if pric is None or (types and ln["list_type"] not in types):
                continue
            cap = _cap(kind, ln)
            # the cheap exact test first: a price at or under the cap is under it as DOUBLE too (the cast
            # keeps order) and so under cap × factor ≥ cap
            if cap is None or not cap > 0 or (pric <= cap and factor >= 1):
                continue
            if not float(pric) > float(cap) * factor:
                continue
            amount = (pric - cap) * ln["cnt"]
            vals = {
                "hilist_name": ln["hilist_name"],
                "pric": pric,
                "cap": cap,
                "cnt": ln["cnt"],
                "amount": amount,
            }
            ev = self.evidence["price"].render(rule, vals)
            out.append(hit(rule, ln, [ln["bkkp_sn"]], amount, ev, hilist_code=ln["hilist_code"]))
        return out
