"""``prescription_size``: more kinds of drugs (or herbal pieces) on one prescription than allowed
(药品种类超标, 中药饮片超大处方)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, in_list, lit, rule_lines
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, line_amount, sql_min

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


class PrescriptionSize(Template):
    """A prescription (``rx_drord_no`` within a visit; lines without one: the visit's lines of one day) with more
    distinct items (``hilist_code``) of the rule's kind than ``max_kinds`` — the kind chosen by
    ``med_chrgitm_types`` (09 西药费, 10 中药饮片费, 11 中成药费) and/or ``list_types``.

    One hit per prescription with all its lines of that kind; money at issue: those lines (``line_amount``)
    or their fund share (``fund_amount``) — which items are the surplus is for the reviewer.
    """

    name = "prescription_size"
    title_zh = "单张处方品种数超限（药品种类超标/中药饮片超大处方）"
    params = (
        Param("max_kinds", "int", "Most distinct items per prescription / 每张处方最多品种数", required=True),
        Param(
            "what_zh",
            "str",
            "What is counted, for the evidence (药品, 中药饮片) / 证据中的品种称谓",
            default="药品",
        ),
        Param(
            "med_chrgitm_types",
            "str_list",
            "Only these 医疗收费项目类别 codes / 仅限这些收费项目类别",
            default=[],
        ),
        Param("list_types", "str_list", "Only these list_type codes / 仅限这些目录类别", default=[]),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "size": Evidence(
            "{rx}开具{what}{kinds}种（{lines}条明细），超过每张处方{limit}种的限定，涉及费用{amount:money}元"
        )
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        p = rule.params
        out = []
        if p["max_kinds"] < 1:
            out.append(("params.max_kinds", "must be ≥ 1 / 须不小于1"))
        if not (p["med_chrgitm_types"] or p["list_types"]):
            out.append(("params", "name med_chrgitm_types or list_types / 须给出收费项目类别或目录类别"))
        return out

    def _filter(self, rule: Rule) -> str:
        p = rule.params
        cond = ["TRUE"]
        if p["med_chrgitm_types"]:
            cond.append(f"l.med_chrgitm_type IN {in_list(p['med_chrgitm_types'])}")
        if p["list_types"]:
            cond.append(f"l.list_type IN {in_list(p['list_types'])}")
        return " AND ".join(cond)

    def sql(self, rule: Rule) -> str:
        p = rule.params
        lim = int(p["max_kinds"])
        ev = self.evidence["size"].sql(rule, {
            "rx": "COALESCE('处方' || any_value(l.rx), strftime(any_value(l.day), '%Y-%m-%d') || '同日（无处方号）')",
            "what": lit(p["what_zh"]), "kinds": "count(DISTINCT l.hilist_code)", "lines": "count(*)", "limit": str(lim),
            "amount": f"sum({amount_expr(rule, 'l')})",
        })  # fmt: skip
        # the oversized prescriptions are found first (keys only), and their lines listed and described
        # after: building every prescription's line list and evidence took most of the time
        inner = f"""
WITH x AS (
    SELECT l.*, NULLIF(l.rx_drord_no, '') AS rx, CASE WHEN NULLIF(l.rx_drord_no, '') IS NULL THEN l.fee_date END AS day
    FROM {rule_lines(rule)} l WHERE {self._filter(rule)}
),
g AS (SELECT mdtrt_id, rx, day FROM x GROUP BY mdtrt_id, rx, day HAVING count(DISTINCT hilist_code) > {lim})
SELECT l.mdtrt_id, min(l.setl_id) AS setl_id, min(l.psn_no) AS psn_no, min(l.fixmedins_code) AS fixmedins_code,
       list(l.bkkp_sn ORDER BY l.fee_ocur_time, l.bkkp_sn) AS bkkp_sn, NULL AS hilist_code,
       sum({amount_expr(rule, "l")}) AS amount, {ev} AS evidence_zh, NULL AS kp_id
FROM x l JOIN g ON g.mdtrt_id = l.mdtrt_id AND g.rx IS NOT DISTINCT FROM l.rx AND g.day IS NOT DISTINCT FROM l.day
GROUP BY l.mdtrt_id, l.rx, l.day
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        lim = int(p["max_kinds"])
        items, types = set(p["med_chrgitm_types"]), set(p["list_types"])
        groups: dict[tuple, list[Row]] = {}
        for ln in claim.lines_of(rule):
            if (items and ln["med_chrgitm_type"] not in items) or (types and ln["list_type"] not in types):
                continue
            rx = ln["rx_drord_no"] or None
            groups.setdefault((ln["mdtrt_id"], rx, None if rx else ln["fee_date"]), []).append(ln)
        out = []
        for (_, rx, day), rows in groups.items():
            kinds = len({ln["hilist_code"] for ln in rows if ln["hilist_code"] is not None})
            if not kinds > lim:
                continue
            rows.sort(key=lambda ln: (ln["fee_ocur_time"], ln["bkkp_sn"]))
            amount = sum((line_amount(rule, ln) for ln in rows), Decimal(0))
            label = f"处方{rx}" if rx else (f"{day:%Y-%m-%d}同日（无处方号）" if day is not None else None)
            vals = {"rx": label, "what": p["what_zh"], "kinds": kinds, "lines": len(rows), "limit": str(lim),
                    "amount": amount}  # fmt: skip
            first = {"mdtrt_id": rows[0]["mdtrt_id"], "setl_id": sql_min(ln["setl_id"] for ln in rows),
                     "psn_no": sql_min(ln["psn_no"] for ln in rows),
                     "fixmedins_code": sql_min(ln["fixmedins_code"] for ln in rows)}  # fmt: skip
            out.append(hit(rule, first, [ln["bkkp_sn"] for ln in rows], amount,
                           self.evidence["size"].render(rule, vals)))  # fmt: skip
        return out
