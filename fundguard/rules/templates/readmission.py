"""``readmission``: discharge then re-admission of the same person within N days with the same main
diagnosis category (分解住院)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import hits, lit
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template
from fundguard.rules.templates.stay_common import (
    INPATIENT,
    INPATIENT_CODES,
    is_stay,
    scene_cond,
    visit_fund,
    visits,
)

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


class Readmission(Template):
    """An inpatient stay admitted ``max_gap_days`` or fewer days after the same person's previous
    discharge (admission date − discharge date, 0 … N), with the same 3-character ICD-10 main diagnosis
    category (出院主诊断), at the same institution (``same_institution``) and, optionally, the same
    admission department. When any diagnosis of either stay — main (``mdtrt_d``) or secondary
    (``setl_list_diag_d``) — starts with one of ``exclude_diag_prefixes`` (planned courses such as Z51.1 化疗
    coded as a secondary diagnosis of one cycle), the pair is not judged. Only the adjacent previous stay is
    compared (real time keeps each stored stay's secondary diagnoses for this: ``RealtimeAuditor`` history).

    One hit per re-admission (the second stay, ``bkkp_sn`` empty: the whole stay is at issue); money at
    issue: the second stay's fund payment (``fund_amount``: setl_d fund_pay_sumamt, else hifp_pay) or its
    total medical fee (``line_amount``: setl_d medfee_sumamt); without a settlement, or when the settlement
    carries no such amount (0 or empty: many extracts lack the fund fields), the sum over its lines — for
    ``fund_amount`` their in-scope amounts (``inscp_amt``), and where the lines lack those too, their total
    (the evidence then says 医疗费用, never a fund payment of 0.00).
    """

    name = "readmission"
    title_zh = "短期内同病种再次住院（分解住院）"
    reads = "visits"
    params = (
        Param(
            "max_gap_days",
            "int",
            "Most days from discharge to re-admission / 出院至再入院最大间隔天数",
            default=15,
        ),
        Param(
            "same_institution", "bool", "Only re-admission to the same institution / 限同一机构", default=True
        ),
        Param(
            "same_department", "bool", "Only the same admission department / 限同一入院科室", default=False
        ),
        Param(
            "exclude_diag_prefixes",
            "str_list",
            "Main-diagnosis prefixes not judged (planned courses) / 不判断的主诊断编码前缀（计划性治疗）",
            default=["Z51"],
        ),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "readmission": Evidence(
            "参保人于{prev_end:date}自{place}出院（主诊断{prev_maindiag}，入院{prev_begin:date}，就诊ID {prev_id}），"
            "{gap}日后即{begin:date}以同类主诊断（{maindiag}，类目{dx3}）再次入院，间隔不超过{max_gap}日，"
            "疑似分解住院，再次住院{what}{amount:money}元"
        )
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        if rule.params["max_gap_days"] < 0:
            return [("params.max_gap_days", "must be ≥ 0 / 须不小于0")]
        return []

    def sql(self, rule: Rule) -> str:
        p = rule.params
        part = "psn_no" + (", fixmedins_code" if p["same_institution"] else "")

        def starts(col: str) -> str:
            return " OR ".join(
                f"starts_with(upper(replace({col}, '.', '')), {lit(x)})" for x in p["exclude_diag_prefixes"]
            )

        excl = (
            f"""AND NOT ({starts("s.maindiag")}) AND NOT COALESCE({starts("s.prev_maindiag")}, FALSE)
      AND NOT EXISTS (SELECT 1 FROM setl_list_diag_d_valid d WHERE d.mdtrt_id = s.mdtrt_id
                      AND ({starts("d.diag_code")}))
      AND NOT EXISTS (SELECT 1 FROM setl_list_diag_d_valid d WHERE d.mdtrt_id = s.prev_id
                      AND ({starts("d.diag_code")}))"""
            if p["exclude_diag_prefixes"]
            else ""
        )
        dept = "AND s.prev_dept IS NOT DISTINCT FROM s.adm_dept_codg" if p["same_department"] else ""
        fund_rule = rule.amount_rule == "fund_amount"
        # the settlement's amount, else the lines' in-scope sum (fund rules), else the lines' total
        amount = (
            "COALESCE(NULLIF(f.fund, 0), NULLIF(ln.fund_amt, 0), ln.fee_amt, 0)"
            if fund_rule
            else "COALESCE(NULLIF(f.medfee, 0), ln.fee_amt, 0)"
        )
        what = (
            f"CASE WHEN NULLIF(f.fund, 0) IS NULL AND NULLIF(ln.fund_amt, 0) IS NULL THEN {lit(_FEE)} "
            f"ELSE {lit(_FUND)} END"
            if fund_rule
            else lit(_FEE)
        )
        ev = self.evidence["readmission"].sql(rule, {
            "prev_end": "r.prev_end", "place": "COALESCE(r.fixmedins_name, r.fixmedins_code)",
            "prev_maindiag": "r.prev_maindiag", "prev_begin": "r.prev_begin", "prev_id": "r.prev_id", "gap": "r.gap",
            "begin": "r.begin_date", "maindiag": "r.maindiag", "dx3": "r.dx3", "max_gap": lit(str(p["max_gap_days"])),
            "what": what, "amount": amount,
        })  # fmt: skip
        inner = f"""
WITH s AS (
    SELECT v.*,
        lag(v.mdtrt_id) OVER w AS prev_id, lag(v.end_date) OVER w AS prev_end,
        lag(v.begin_date) OVER w AS prev_begin, lag(v.dx3) OVER w AS prev_dx3,
        lag(v.maindiag) OVER w AS prev_maindiag, lag(v.adm_dept_codg) OVER w AS prev_dept
    FROM {visits(rule, f"med_type IN {INPATIENT}")} v WHERE v.med_type IN {INPATIENT}
    WINDOW w AS (PARTITION BY {part} ORDER BY v.begntime, v.mdtrt_id)
),
r AS (
    SELECT s.*, date_diff('day', s.prev_end, s.begin_date) AS gap FROM s
    WHERE s.prev_id IS NOT NULL AND s.dx3 IS NOT NULL AND s.dx3 <> '' AND s.dx3 = s.prev_dx3
      AND date_diff('day', s.prev_end, s.begin_date) BETWEEN 0 AND {int(p["max_gap_days"])}
      AND {scene_cond(rule, "s")} {excl} {dept}
),
lines AS (
    SELECT l.mdtrt_id, any_value(l.setl_id) AS setl_id, sum(COALESCE(l.inscp_amt, 0)) AS fund_amt,
           sum(l.det_item_fee_sumamt) AS fee_amt FROM claim_lines l
    WHERE l.mdtrt_id IN (SELECT mdtrt_id FROM r) GROUP BY l.mdtrt_id
)
SELECT r.mdtrt_id, COALESCE(f.setl_id, ln.setl_id) AS setl_id, r.psn_no, r.fixmedins_code,
       CAST([] AS VARCHAR[]) AS bkkp_sn, NULL AS hilist_code,
       {amount} AS amount,
       {ev} AS evidence_zh,
       NULL AS kp_id
FROM r LEFT JOIN {visit_fund("SELECT mdtrt_id FROM r")} f ON f.mdtrt_id = r.mdtrt_id LEFT JOIN lines ln ON ln.mdtrt_id = r.mdtrt_id
"""
        return hits(rule, inner)

    def keeps_visits(self, rule: Rule) -> Callable[[dict], bool] | None:
        return is_stay

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        r = claim.visit
        if (
            r["begntime"] is None
            or r["med_type"] not in INPATIENT_CODES
            or not claim.in_dates(rule, r["begntime"])
        ):
            return []
        if not r["dx3"] or not claim.in_scenes(rule, r["scene"]):
            return []
        excl = tuple(p["exclude_diag_prefixes"])
        if excl and any(
            d.replace(".", "").upper().startswith(excl) for d in (r["maindiag"], *claim.diagnoses) if d
        ):
            return []
        same = [
            v for v in claim.visits
            if v["med_type"] in INPATIENT_CODES and claim.in_dates(rule, v["begntime"])
            and (not p["same_institution"] or v["fixmedins_code"] == r["fixmedins_code"])
            and (v["begntime"], v["mdtrt_id"]) < (r["begntime"], r["mdtrt_id"])
        ]  # fmt: skip
        if not same:
            return []
        prev = max(same, key=lambda v: (v["begntime"], v["mdtrt_id"]))
        if prev["dx3"] != r["dx3"] or prev["end_date"] is None:
            return []
        if excl and any(
            d.replace(".", "").upper().startswith(excl)
            for d in (prev["maindiag"], *prev.get("diagnoses", ()))
            if d
        ):
            return []
        gap = (r["begin_date"] - prev["end_date"]).days
        if not 0 <= gap <= int(p["max_gap_days"]):
            return []
        if p["same_department"] and prev["adm_dept_codg"] != r["adm_dept_codg"]:
            return []
        fund, lines = claim.fund, claim.lines
        # the SQL's COALESCE chain: the settlement's amount (0 counts as missing), else the lines'
        setl_amt = (fund[1] if rule.amount_rule == "fund_amount" else fund[2]) if fund is not None else None
        line_fund = sum(((ln["inscp_amt"] or 0) for ln in lines), Decimal(0)) if lines else None
        line_fee = sum((ln["det_item_fee_sumamt"] for ln in lines), Decimal(0)) if lines else None
        if rule.amount_rule == "fund_amount":
            amount = setl_amt or line_fund or line_fee or Decimal(0)
            what = _FUND if setl_amt or line_fund else _FEE
        else:
            amount, what = setl_amt or line_fee or Decimal(0), _FEE
        vals = {"prev_end": prev["end_date"], "place": r["fixmedins_name"] or r["fixmedins_code"],
                "prev_maindiag": prev["maindiag"], "prev_begin": prev["begin_date"], "prev_id": prev["mdtrt_id"],
                "gap": gap, "begin": r["begin_date"], "maindiag": r["maindiag"], "dx3": r["dx3"],
                "max_gap": str(p["max_gap_days"]), "what": what, "amount": amount}  # fmt: skip
        setl = (
            fund[0] if fund is not None and fund[0] is not None else (lines[0]["setl_id"] if lines else None)
        )
        return [hit(rule, r, [], amount, self.evidence["readmission"].render(rule, vals), setl_id=setl)]


_FUND, _FEE = "基金支付", "医疗费用"
