"""``knowledge_review``: a drug of a knowledge class that the claims alone cannot decide, sent for review."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, in_list, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import KP_FILTER, Param, Template, kp_index, kp_where, line_amount

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


class KnowledgeReview(Template):
    """A line billed with a code of the rule's knowledge points, where deciding needs more than the claim
    (药品限二线使用: proof that first-line treatment failed; 超互联网医院药品支付范围: that the prescription
    came from an internet consultation). Always 可疑: the evidence quotes the point's constraint so a reviewer
    can ask for the record.

    ``med_types`` / ``fixmedins_codes`` narrow the rule to visits of those 医疗类别 or institutions (a
    region's internet-hospital codes); with ``internet`` also to internet visits — the visit's
    ``inet_mdtrt_flag`` = 1 (extract or 3101 field) or, when the visit does not say, an institution whose
    registry marks it an internet hospital (``medins_info_b.inet_hosp_flag`` = 1). With ``require_scope``
    the rule flags nothing until one of the three is configured.
    """

    name = "knowledge_review"
    title_zh = "需人工核实的限定用药（知识点约束无法仅凭结算数据判定）"
    knowledge = ("kb_point_codes",)
    knowledge_gate = True  # a hit needs a billed code with a knowledge row (real time skips other claims)
    knowledge_required = True
    params = (
        KP_FILTER,
        Param(
            "med_types",
            "str_list",
            "Only visits of these med_type codes / 仅限这些医疗类别的就诊",
            default=[],
        ),
        Param(
            "fixmedins_codes",
            "str_list",
            "Only these institutions / 仅限这些定点医药机构（如互联网医院）",
            default=[],
        ),
        Param(
            "internet",
            "bool",
            "Only internet visits (visit flag, else the institution's registry) / 仅限互联网诊疗（就诊标志或机构登记）",
            default=False,
        ),
        Param(
            "require_scope",
            "bool",
            "Flag nothing until med_types or fixmedins_codes is set / 未配置范围时不判定",
            default=False,
        ),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "review": Evidence(
            "“{item_name}”（{hilist_code}）{fee:money}元，知识点约束：{note}——结算数据无法判定，请调阅病历核实"
        )
    }

    def sql(self, rule: Rule) -> str:
        p = rule.params
        scope = []
        if p["med_types"]:
            scope.append(f"l.med_type IN {in_list(p['med_types'])}")
        if p["fixmedins_codes"]:
            scope.append(f"l.fixmedins_code IN {in_list(p['fixmedins_codes'])}")
        if p["internet"]:
            scope.append(
                "COALESCE(l.inet_mdtrt_flag, (SELECT max(i.inet_hosp_flag) FROM medins_info_b_valid i "
                "WHERE i.fixmedins_code = l.fixmedins_code)) = '1'"
            )
        where = " OR ".join(scope) if scope else ("FALSE" if p["require_scope"] else "TRUE")
        ev = self.evidence["review"].sql(
            rule, {"item_name": "k.item_name", "hilist_code": "l.hilist_code", "fee": "l.det_item_fee_sumamt",
                   "note": "COALESCE(k.note, '')"}
        )  # fmt: skip
        inner = f"""
WITH k AS (SELECT code, min(kp_id) AS kp_id, min(item_name) AS item_name, min("constraint") AS note
           FROM kb_point_codes k WHERE {kp_where(rule)} GROUP BY code)
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount_expr(rule, "l")} AS amount, {ev} AS evidence_zh, k.kp_id
FROM {rule_lines(rule)} l JOIN k ON k.code = l.hilist_code
WHERE ({where})
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        if not (p["med_types"] or p["fixmedins_codes"] or p["internet"]) and p["require_scope"]:
            return []
        index = kp_index(rule, claim, "kb_point_codes")
        med, ins, inet = set(p["med_types"]), set(p["fixmedins_codes"]), p["internet"]
        out = []
        for ln in claim.lines_of(rule):
            if (med or ins or inet) and not (
                ln["med_type"] in med or ln["fixmedins_code"] in ins or (inet and _internet(ln, claim))
            ):
                continue
            ks = index.get(ln["hilist_code"])
            if not ks:
                continue
            names = [k["item_name"] for k in ks if k["item_name"] is not None]
            notes = [k["constraint"] for k in ks if k["constraint"] is not None]
            vals = {"item_name": min(names) if names else None, "hilist_code": ln["hilist_code"],
                    "fee": ln["det_item_fee_sumamt"], "note": min(notes) if notes else ""}  # fmt: skip
            out.append(hit(rule, ln, [ln["bkkp_sn"]], line_amount(rule, ln), self.evidence["review"].render(rule, vals),
                           hilist_code=ln["hilist_code"], kp_id=min(k["kp_id"] for k in ks)))  # fmt: skip
        return out


def _internet(ln: dict, claim: Claim) -> bool:
    """The visit's internet flag, else the institution's registry type (as the SQL's COALESCE)."""
    flag = ln["inet_mdtrt_flag"]
    if flag is None:
        ins = claim.institution(ln["fixmedins_code"])
        flag = ins.get("inet_hosp_flag") if ins else None
    return flag == "1"
