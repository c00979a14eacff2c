"""``indication``: a drug limited to indications used in a visit none of whose diagnoses fits them, or whose
fitting indication needs a lab value or a history the claims cannot show."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, rule_lines
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, SharedCtes, Template, line_amount

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

SHOWN_PREFIXES = 12
"""The evidence lists at most this many ICD-10 codes of the indication (the name matching may give hundreds)."""

CLAUSE_KINDS = ("lab", "history")


class Indication(Template):
    """A 药品限适应症 drug billed in a visit whose diagnoses match none of its indication points, or match only
    items whose text also needs a lab value or a history.

    The visit's diagnoses are ``mdtrt_d.dscg_maindiag_code`` and every ``setl_list_diag_d.diag_code`` of the
    visit; a diagnosis fits a row of ``kb_indication_icd10`` (``fundguard.kb.indications`` at ≥ medium
    confidence: curated prefixes and every ICD-10 医保版 code whose name names the disease) when it starts with
    the row's ``icd10``. A ``history`` row (前次化疗曾发生重度中性粒细胞减少) also fits on the main diagnosis of
    the person's earlier visits. A code's points and items are alternatives: any fitting row clears the
    diagnosis. ``judge``:

    - ``mapped`` (明确违规): every point of the code is mapped, none needs a history diagnosis, the visit has a
      diagnosis, and none fits;
    - ``unmapped`` (可疑): nothing fits, but some point has no mapping, the visit has no diagnosis code, or a
      history diagnosis was not found in the person's visits here (it may predate the data);
    - ``clause`` (可疑): a diagnosis fits, but every fitting item also needs a lab value / test result
      (白蛋白低于30g/L, HER2阳性) or a treatment history (既往…治疗失败) — ``clause_kinds`` — which no extract
      here carries: the clause is quoted for the reviewer. Never 明确违规 by itself.

    Only lines with a fund share (``inscp_amt > 0``) are judged unless ``require_fund`` is false.
    """

    name = "indication"
    shares_work = True
    title_zh = "药品限适应症（诊断不符）"
    knowledge = ("kb_indication_icd10",)
    knowledge_gate = True  # a hit needs a billed code with a knowledge row (real time skips other claims)
    knowledge_required = True
    params = (
        Param(
            "judge",
            "str",
            "mapped: clear violations; unmapped: no mapping, no diagnosis or history not found; clause: the"
            " fitting indication needs a lab value or history / mapped 明确违规；unmapped 无映射、无诊断或未见既往史；"
            "clause 诊断符合但须核实检验或既往治疗",
            default="mapped",
            choices=("mapped", "unmapped", "clause"),
        ),
        Param(
            "clause_kinds",
            "str_list",
            "clause judge: which clauses need review (lab, history) / 需核实的条件类别",
            default=list(CLAUSE_KINDS),
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

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        bad = sorted(set(rule.params["clause_kinds"]) - set(CLAUSE_KINDS))
        return [("params.clause_kinds", f"unknown {bad} / 未知类别 {bad}")] if bad else []

    def keeps_visits(self, rule: Rule) -> Callable[[Row], bool] | None:
        # history rows fit on the person's earlier visits (the mapped judge never reads them)
        return None if rule.params["judge"] == "mapped" else _any_visit

    def sql(self, rule: Rule) -> str:
        return self.sql_group([rule])

    def sql_group(self, rules: list[Rule]) -> str:
        """The rules share their lines (those of a drug with indications, per set of scenes and fund
        condition), the lines' visits' diagnoses and the persons' earlier main diagnoses: the judges differ
        only in the knowledge clauses they read and the verdict."""
        shared = SharedCtes("ind")
        return shared.sql([self._sql(rule, shared) for rule in rules])

    def _sql(self, rule: Rule, shared: SharedCtes) -> str:
        p = rule.params
        fund = "l.inscp_amt > 0" if p["require_fund"] else "TRUE"
        kinds = set(p["clause_kinds"])
        lab = "lab_clause" if "lab" in kinds else "CAST(NULL AS VARCHAR)"
        hist = "history_clause" if "history" in kinds else "CAST(NULL AS VARCHAR)"
        if p["judge"] == "mapped":
            keep = "NOT k.any_unmapped AND NOT k.any_history AND array_length(d.codes) > 0 AND NOT f.fits"
            verdict = "'，诊断均不符合适应症'"  # fmt: skip
        elif p["judge"] == "unmapped":
            keep = "(k.any_unmapped OR k.any_history OR array_length(d.codes) = 0) AND NOT f.fits"
            verdict = (
                "CASE WHEN array_length(d.codes) = 0 THEN '，就诊无诊断编码，无法判断' "
                "WHEN k.any_unmapped THEN '，部分适应症未映射ICD-10，需人工审核' "
                "ELSE '，适应症要求的既往诊断未见于参保人本次及既往就诊，需人工审核' END"
            )
        else:
            keep = "f.fits AND f.all_clause"
            verdict = "'，诊断符合适应症，但须核实：' || f.clauses || '（数据无检验结果及既往治疗记录，需人工审核）'"
        # shared by the rules: the lines of drugs with indications (a join to k keeps the same lines: one
        # k row per code), their visits' diagnoses (vd, d) and the persons' earlier main diagnoses (hd)
        ln = shared.name(
            "l",
            f"SELECT l.* FROM {rule_lines(rule)} l WHERE {fund}"
            " AND l.hilist_code IN (SELECT code FROM kb_indication_icd10)",
        )
        vd = shared.name(
            "vd",
            f"""SELECT c.mdtrt_id, upper(trim(c.code)) AS code FROM (
        SELECT mdtrt_id, dscg_maindiag_code AS code FROM mdtrt_d_valid
        UNION ALL SELECT mdtrt_id, diag_code FROM setl_list_diag_d_valid
    ) c
    WHERE c.mdtrt_id IN (SELECT mdtrt_id FROM {ln}) AND c.code IS NOT NULL AND trim(c.code) <> ''""",
        )
        d = shared.name(
            "d",
            f"""SELECT v.mdtrt_id,
           COALESCE(list(DISTINCT vd.code ORDER BY vd.code) FILTER (WHERE vd.code IS NOT NULL), []) AS codes
    FROM (SELECT DISTINCT mdtrt_id FROM {ln}) v LEFT JOIN {vd} vd ON vd.mdtrt_id = v.mdtrt_id
    GROUP BY v.mdtrt_id""",
        )
        hd = shared.name(  # the main diagnoses of the person's earlier visits (history rows only)
            "hd",
            f"""SELECT DISTINCT c.mdtrt_id, upper(trim(p.dscg_maindiag_code)) AS code
    FROM (SELECT DISTINCT l.mdtrt_id, l.psn_no, l.begntime FROM {ln} l) c JOIN mdtrt_d_valid p
      ON p.psn_no = c.psn_no AND p.mdtrt_id <> c.mdtrt_id AND p.begntime < c.begntime
    WHERE p.dscg_maindiag_code IS NOT NULL AND trim(p.dscg_maindiag_code) <> ''""",
        )
        dx = shared.name(  # the visit's diagnoses, and the earlier visits' main diagnoses (history rows)
            "dx",
            f"SELECT mdtrt_id, code, TRUE AS current FROM {vd} UNION ALL SELECT mdtrt_id, code, FALSE AS current FROM {hd}",
        )
        # the knowledge by drug (k) and its first ICD-10 codes for the evidence (ks): the same for every rule
        kb = "(SELECT code, kp_id, upper(icd10) AS icd10, scope, indication FROM kb_indication_icd10)"
        k = shared.name(
            "k",
            f"""SELECT code, min(kp_id) AS kp_id,
           string_agg(DISTINCT indication, '；' ORDER BY indication) AS indication,
           bool_or(icd10 IS NULL) AS any_unmapped,
           COALESCE(bool_or(scope = 'history'), FALSE) AS any_history
    FROM {kb} kb GROUP BY code""",
        )
        ks = shared.name(
            "ks",
            f"""SELECT code, string_agg(icd10, '、' ORDER BY icd10) AS shown, any_value(n) AS n
    FROM (  -- the indication's codes numbered, for the evidence's first few
        SELECT code, icd10, row_number() OVER (PARTITION BY code ORDER BY icd10) AS rn,
               count(*) OVER (PARTITION BY code) AS n
        FROM (SELECT DISTINCT code, icd10 FROM {kb} kb WHERE icd10 IS NOT NULL) p
    ) kr
    WHERE rn <= {SHOWN_PREFIXES} GROUP BY code""",
        )
        shown = f"CASE WHEN ks.n > {SHOWN_PREFIXES} THEN ks.shown || '等' || CAST(ks.n AS VARCHAR) || '项' ELSE ks.shown END"
        ev = self.evidence["indication"].sql(rule, {
            "hilist_name": "l.hilist_name", "indication": "COALESCE(k.indication, '')",
            "diagnoses": "CASE WHEN array_length(d.codes) = 0 THEN '无' ELSE array_to_string(d.codes, '、') END",
            "icd": f"CASE WHEN ks.n IS NOT NULL THEN '（适应症对应ICD-10：' || {shown} || '）' ELSE '' END",
            "verdict": verdict,
        })  # fmt: skip
        inner = f"""
WITH kb AS (
    SELECT code, kp_id, item_no, upper(icd10) AS icd10, scope, indication,
           {lab} AS lab_clause, {hist} AS history_clause
    FROM kb_indication_icd10
),
k AS (SELECT * FROM {k}),
ks AS (SELECT * FROM {ks}),
l AS (SELECT * FROM {ln}),
d AS (SELECT * FROM {d}),
dx AS (SELECT * FROM {dx}),
fit AS (  -- the knowledge rows a diagnosis fits
    SELECT DISTINCT l.bkkp_sn, kb.kp_id, kb.item_no, kb.lab_clause, kb.history_clause
    FROM l JOIN kb ON kb.code = l.hilist_code AND kb.icd10 IS NOT NULL
    JOIN dx ON dx.mdtrt_id = l.mdtrt_id AND starts_with(dx.code, kb.icd10) AND (dx.current OR kb.scope = 'history')
),
items AS (
    SELECT bkkp_sn, kp_id, item_no,
           concat_ws('；', any_value(lab_clause), any_value(history_clause)) AS clause
    FROM fit GROUP BY bkkp_sn, kp_id, item_no
),
f AS (
    SELECT l.bkkp_sn, count(i.bkkp_sn) > 0 AS fits,
           COALESCE(bool_and(i.clause <> ''), FALSE) AS all_clause,
           array_to_string(list_sort(list(DISTINCT i.clause) FILTER (WHERE i.clause <> '')), '；') AS clauses
    FROM l LEFT JOIN items i ON i.bkkp_sn = l.bkkp_sn GROUP BY l.bkkp_sn
)
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount_expr(rule, "l")} AS amount,
       {ev} AS evidence_zh,
       k.kp_id
FROM l JOIN k ON k.code = l.hilist_code
LEFT JOIN ks ON ks.code = l.hilist_code
JOIN d ON d.mdtrt_id = l.mdtrt_id
JOIN f ON f.bkkp_sn = l.bkkp_sn
WHERE {keep}
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        judge = p["judge"]
        kinds = set(p["clause_kinds"])
        index = claim.knowledge("kb_indication_icd10")
        codes = sorted({c.strip(" ").upper() for c in claim.diagnoses if c and c.strip(" ")})
        earlier: list[str] | None = None
        out = []
        for ln in claim.lines_of(rule):
            ks = index.get(ln["hilist_code"])
            if not ks or (p["require_fund"] and not (ln["inscp_amt"] or 0) > 0):
                continue
            mapped = [k for k in ks if k["icd10"] is not None]
            unmapped = len(mapped) < len(ks)
            history = any(k["scope"] == "history" for k in mapped)
            if judge == "mapped" and (unmapped or history or not codes):
                continue
            if judge != "mapped" and earlier is None:
                earlier = _earlier_diagnoses(claim)
            items: dict[tuple, str] = {}
            for k in mapped:
                pre = k["icd10"].upper()
                seen = codes if k["scope"] != "history" else [*codes, *(earlier or [])]
                if any(c.startswith(pre) for c in seen):
                    lab = k["lab_clause"] if "lab" in kinds else None
                    hist = k["history_clause"] if "history" in kinds else None
                    items[(k["kp_id"], k["item_no"])] = "；".join(x for x in (lab, hist) if x is not None)
            fits = bool(items)
            if judge == "mapped":
                if fits:
                    continue
                verdict = "，诊断均不符合适应症"
            elif judge == "unmapped":
                if fits or not (unmapped or history or not codes):
                    continue
                verdict = (
                    "，就诊无诊断编码，无法判断" if not codes
                    else "，部分适应症未映射ICD-10，需人工审核" if unmapped
                    else "，适应症要求的既往诊断未见于参保人本次及既往就诊，需人工审核"
                )  # fmt: skip
            else:
                if not fits or not all(items.values()):
                    continue
                clauses = "；".join(sorted({c for c in items.values() if c}))
                verdict = f"，诊断符合适应症，但须核实：{clauses}（数据无检验结果及既往治疗记录，需人工审核）"
            prefixes = sorted({k["icd10"].upper() for k in mapped})
            shown = (
                "、".join(prefixes[:SHOWN_PREFIXES]) + f"等{len(prefixes)}项"
                if len(prefixes) > SHOWN_PREFIXES
                else "、".join(prefixes)
            )
            texts = sorted({k["indication"] for k in ks if k["indication"] is not None})
            vals = {
                "hilist_name": ln["hilist_name"],
                "indication": "；".join(texts) if texts else "",
                "diagnoses": "、".join(codes) if codes else "无",
                "icd": f"（适应症对应ICD-10：{shown}）" if prefixes else "",
                "verdict": verdict,
            }
            out.append(hit(rule, ln, [ln["bkkp_sn"]], line_amount(rule, ln),
                           self.evidence["indication"].render(rule, vals),
                           hilist_code=ln["hilist_code"], kp_id=min(k["kp_id"] for k in ks)))  # fmt: skip
        return out


def _any_visit(visit: Row) -> bool:
    return True


def _earlier_diagnoses(claim: Claim) -> list[str]:
    """The main diagnoses of the person's visits before this one (as the SQL ``hd``)."""
    begin = claim.visit.get("begntime")
    if begin is None:
        return []
    return [
        v["maindiag"].strip(" ").upper()
        for v in claim.visits
        if v.get("begntime") is not None
        and v["begntime"] < begin
        and v["mdtrt_id"] != claim.mdtrt_id
        and v.get("maindiag")
        and v["maindiag"].strip(" ")
    ]
