"""``indication``: a drug limited to indications used in a visit none of whose diagnoses fits them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, line_amount

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


class Indication(Template):
    """A 药品限适应症 drug billed in a visit whose diagnoses match none of its indication points.

    The visit's diagnoses are ``mdtrt_d.dscg_maindiag_code`` and every ``setl_list_diag_d.diag_code`` of the
    visit; a diagnosis fits a point when it starts with one of the point's ICD-10 prefixes in
    ``kb_indication_icd10`` (``fundguard.kb.indications`` at ≥ medium confidence). A code's points are
    alternatives: any fitting point clears the line. ``judge``:

    - ``mapped`` (明确违规): every point of the code is mapped, the visit has a diagnosis, and none fits;
    - ``unmapped`` (可疑): no mapped point fits, but some point of the code has no mapping or the visit has
      no diagnosis code, so the text must be read by a reviewer (the evidence shows it).

    Only lines with a fund share (``inscp_amt > 0``) are judged unless ``require_fund`` is false.
    """

    name = "indication"
    title_zh = "药品限适应症（诊断不符）"
    knowledge = ("kb_indication_icd10",)
    knowledge_gate = True  # a hit needs a billed code with a knowledge row (real time skips other claims)
    knowledge_required = True
    params = (
        Param(
            "judge",
            "str",
            "mapped: clear violations; unmapped: points without ICD-10 mapping or visits without diagnosis"
            " / mapped 明确违规；unmapped 无映射或无诊断的可疑",
            default="mapped",
            choices=("mapped", "unmapped"),
        ),
        Param(
            "require_fund",
            "bool",
            "Judge only lines with a fund share (inscp_amt > 0) / 仅审核有基金支付的明细",
            default=True,
        ),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "indication": Evidence(
            "“{hilist_name}”限适应症：{indication}；本次就诊诊断：{diagnoses}{icd}{verdict}"
        )
    }

    def sql(self, rule: Rule) -> str:
        p = rule.params
        fund = "l.inscp_amt > 0" if p["require_fund"] else "TRUE"
        if p["judge"] == "mapped":
            keep = "NOT k.any_unmapped AND array_length(d.codes) > 0"
            verdict = "'，诊断均不符合适应症'"  # fmt: skip
        else:
            keep = "(k.any_unmapped OR array_length(d.codes) = 0)"
            verdict = (
                "CASE WHEN array_length(d.codes) = 0 THEN '，就诊无诊断编码，无法判断' "
                "ELSE '，部分适应症未映射ICD-10，需人工审核' END"
            )
        lines = rule_lines(rule)
        ev = self.evidence["indication"].sql(rule, {
            "hilist_name": "l.hilist_name", "indication": "COALESCE(k.indication, '')",
            "diagnoses": "CASE WHEN array_length(d.codes) = 0 THEN '无' ELSE array_to_string(d.codes, '、') END",
            "icd": "CASE WHEN array_length(k.prefixes) > 0 THEN '（适应症对应ICD-10：' "
                   "|| array_to_string(list_sort(k.prefixes), '、') || '）' ELSE '' END",
            "verdict": verdict,
        })  # fmt: skip
        inner = f"""
WITH k AS (
    SELECT code, min(kp_id) AS kp_id, any_value(item_name) AS item_name,
           string_agg(DISTINCT indication, '；' ORDER BY indication) AS indication,
           list(DISTINCT upper(icd10)) FILTER (WHERE icd10 IS NOT NULL) AS prefixes,
           bool_or(icd10 IS NULL) AS any_unmapped
    FROM kb_indication_icd10 GROUP BY code
),
l AS (SELECT l.* FROM {lines} l JOIN k ON k.code = l.hilist_code WHERE {fund}),
d AS (
    SELECT v.mdtrt_id, list(DISTINCT upper(trim(c.code)) ORDER BY upper(trim(c.code)))
             FILTER (WHERE c.code IS NOT NULL AND trim(c.code) <> '') AS codes
    FROM (SELECT DISTINCT mdtrt_id FROM l) v
    LEFT JOIN (
        SELECT mdtrt_id, dscg_maindiag_code AS code FROM mdtrt_d_valid
        UNION ALL SELECT mdtrt_id, diag_code FROM setl_list_diag_d_valid
    ) c ON c.mdtrt_id = v.mdtrt_id
    GROUP BY v.mdtrt_id
)
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount_expr(rule, "l")} AS amount,
       {ev} AS evidence_zh,
       k.kp_id
FROM l JOIN k ON k.code = l.hilist_code
JOIN (SELECT mdtrt_id, COALESCE(codes, []) AS codes FROM d) d ON d.mdtrt_id = l.mdtrt_id
WHERE {keep}
  AND NOT COALESCE(list_bool_or(list_transform(d.codes,
          lambda c: list_bool_or(list_transform(COALESCE(k.prefixes, []), lambda p: starts_with(c, p))))), FALSE)
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        index = claim.knowledge("kb_indication_icd10")
        codes = sorted({c.strip(" ").upper() for c in claim.diagnoses if c.strip(" ")})
        out = []
        for ln in claim.lines_of(rule):
            ks = index.get(ln["hilist_code"])
            if not ks or (p["require_fund"] and not (ln["inscp_amt"] or 0) > 0):
                continue
            prefixes = sorted({k["icd10"].upper() for k in ks if k["icd10"] is not None})
            unmapped = any(k["icd10"] is None for k in ks)
            if p["judge"] == "mapped":
                if unmapped or not codes:
                    continue
                verdict = "，诊断均不符合适应症"
            else:
                if not (unmapped or not codes):
                    continue
                verdict = (
                    "，就诊无诊断编码，无法判断" if not codes else "，部分适应症未映射ICD-10，需人工审核"
                )
            if any(c.startswith(x) for c in codes for x in prefixes):
                continue
            texts = sorted({k["indication"] for k in ks if k["indication"] is not None})
            vals = {
                "hilist_name": ln["hilist_name"],
                "indication": "；".join(texts) if texts else "",
                "diagnoses": "、".join(codes) if codes else "无",
                "icd": f"（适应症对应ICD-10：{'、'.join(prefixes)}）" if prefixes else "",
                "verdict": verdict,
            }
            out.append(hit(rule, ln, [ln["bkkp_sn"]], line_amount(rule, ln),
                           self.evidence["indication"].render(rule, vals),
                           hilist_code=ln["hilist_code"], kp_id=min(k["kp_id"] for k in ks)))  # fmt: skip
        return out
