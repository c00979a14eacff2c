"""``code_consistency``: a visit's diagnosis or operation codes against the patient's sex and age, and
operations against the diagnoses they need (classes 39, 40, 54, 55)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from fundguard.rules.base import amount_expr, hits, rule_lines
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import SEX_SQL, Evidence, sex_zh
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import (
    KP_FILTER,
    Param,
    SharedCtes,
    Template,
    kp_index,
    kp_where,
    line_amount,
    sql_min,
    sql_round,
)

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

# check → (knowledge table, the code list it reads: dx | oprn)
CHECKS: dict[str, tuple[str, str]] = {
    "diagnosis_sex": ("kb_diag_sex", "dx"),
    "diagnosis_age": ("kb_diag_age", "dx"),
    "operation_sex": ("kb_oprn_sex", "oprn"),
    "operation_diagnosis": ("kb_oprn_diag", "oprn"),
    "diagnosis_code": ("kb_icd10_codes", "dx"),
    "operation_code": ("kb_icd9_codes", "oprn"),
}
_CODES_SQL = {
    "dx": """SELECT mdtrt_id, dscg_maindiag_code AS code FROM mdtrt_d_valid
             UNION ALL SELECT mdtrt_id, diag_code FROM setl_list_diag_d_valid""",
    "oprn": """SELECT mdtrt_id, oprn_oprt_code AS code FROM mdtrt_d_valid
               UNION ALL SELECT mdtrt_id, oprn_oprt_code FROM setl_list_oprn_d_valid""",
}


def norm(code: str) -> str:
    """The SQL ``upper(replace(trim(code), '.', ''))``."""
    return code.strip(" ").replace(".", "").upper()


def _range_zh(lo: float | None, hi: float | None) -> str:
    parts = ([f"{int(lo)}岁及以上"] if lo is not None else []) + (
        [f"未满{int(hi)}岁"] if hi is not None else []
    )
    return "、".join(parts)


_RANGE_SQL = (
    "concat_ws('、', CASE WHEN k.min_age IS NOT NULL THEN CAST(CAST(k.min_age AS INTEGER) AS VARCHAR) || '岁及以上' END, "
    "CASE WHEN k.max_age IS NOT NULL THEN '未满' || CAST(CAST(k.max_age AS INTEGER) AS VARCHAR) || '岁' END)"
)


class CodeConsistency(Template):
    """A visit whose diagnosis (``mdtrt_d.dscg_maindiag_code``, every ``setl_list_diag_d.diag_code``) or
    operation codes (``mdtrt_d.oprn_oprt_code``, every ``setl_list_oprn_d.oprn_oprt_code``) contradict the
    patient or each other. Codes are compared trimmed, without dots, upper case, by prefix. ``check``:

    - ``diagnosis_sex`` (54) / ``operation_sex`` (39): a code of a one-sex category (``kb_diag_sex`` /
      ``kb_oprn_sex``: ICD-10 chapter XV, N40–N51, C51–C63 …; ICD-9-CM-3 chapters 11–13) for a patient of the
      other sex (sex unknown: not judged);
    - ``diagnosis_age`` (55): a diagnosis outside its category's age range (``kb_diag_age``: perinatal,
      newborn, pregnancy, senility) — age at admission, unknown: not judged;
    - ``operation_diagnosis`` (40): an operation of a group (``kb_oprn_diag``: obstetric procedures 72–75)
      with none of the diagnoses the group needs (pregnancy, delivery, puerperium);
    - ``diagnosis_code`` (37) / ``operation_code`` (38): a code that is not in the ICD-10 医保版 2.0 /
      ICD-9-CM-3 医保版 table (``kb_icd10_codes`` / ``kb_icd9_codes``; ``kp_id`` empty).

    One hit per visit (``bkkp_sn`` empty: the whole visit is at issue), listing every contradicting code with
    its category; ``kp_id`` the smallest point involved; money at issue: the visit's lines in the rule's
    scenes (``line_amount``) or their fund share (``fund_amount``). Visits without lines are not judged.
    """

    name = "code_consistency"
    shares_work = True
    title_zh = "诊断/手术操作编码与性别、年龄及相互之间不符"
    reads = "visits"
    knowledge = tuple(v[0] for v in CHECKS.values())
    knowledge_required = True
    knowledge_by_code = False  # prefixes of diagnosis/operation codes, name fragments, absence from a list
    knowledge_keys: ClassVar[dict[str, tuple[str, ...]]] = {
        "kb_diag_sex": ("prefix",),
        "kb_diag_age": ("prefix",),
        "kb_oprn_sex": ("prefix",),
        "kb_oprn_diag": ("oprn_prefix",),
        "kb_icd10_codes": ("norm",),
        "kb_icd9_codes": ("norm",),
    }
    params = (
        Param("check", "str", "What is compared / 比对内容", required=True, choices=tuple(CHECKS)),
        KP_FILTER,
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "diagnosis_sex": Evidence("参保人性别为{sex}，诊断与性别不符：{items}，涉及费用{amount:money}元"),
        "operation_sex": Evidence("参保人性别为{sex}，手术操作与性别不符：{items}，涉及费用{amount:money}元"),
        "diagnosis_age": Evidence(
            "参保人就诊时年龄{age:num}岁，诊断与年龄不符：{items}，涉及费用{amount:money}元"
        ),
        "diagnosis_code": Evidence("诊断编码不在ICD-10医保版2.0编码库中：{items}，涉及费用{amount:money}元"),
        "operation_code": Evidence(
            "手术操作编码不在ICD-9-CM-3医保版编码库中：{items}，涉及费用{amount:money}元"
        ),
        "operation_diagnosis": Evidence(
            "手术操作与诊断不符：{items}；本次就诊诊断：{diagnoses}，涉及费用{amount:money}元"
        ),
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        want = CHECKS[rule.params["check"]][0]
        if rule.knowledge != want:
            return [("knowledge", f"check {rule.params['check']} needs {want} / 该比对须使用知识表 {want}")]
        return []

    # --- batch ---------------------------------------------------------------------------------------
    def sql(self, rule: Rule) -> str:
        return self.sql_group([rule])

    def sql_group(self, rules: list[Rule]) -> str:
        """The rules share the distinct codes of every visit (``norms``: thousands) and the visits whose codes
        can contradict (``cand``): each rule aggregates ``claim_lines`` only over those visits."""
        shared = SharedCtes("cc")
        return shared.sql([self._sql(rule, shared) for rule in rules])

    def _sql(self, rule: Rule, shared: SharedCtes) -> str:
        """The codes are judged first, once per distinct code, then only the visits holding a judged code are
        read: a per-visit aggregate of every visit (22.8M visits at 10^8 lines), shared by the rules, did not
        fit the batch's memory limit, and neither did every visit's codes."""
        chk = rule.params["check"]
        table, source = CHECKS[chk]
        raw = {
            src: f"""(SELECT x.mdtrt_id, trim(x.code) AS code, upper(replace(trim(x.code), '.', '')) AS norm
                FROM ({_CODES_SQL[src]}) x WHERE x.code IS NOT NULL AND trim(x.code) <> '')"""
            for src in _CODES_SQL
        }

        def norms(src: str) -> str:
            return shared.name("norms", f"SELECT DISTINCT norm FROM {raw[src]}")

        k = f"(SELECT * FROM {table} k WHERE {kp_where(rule)})"

        if chk in ("diagnosis_code", "operation_code"):
            judged = shared.name(
                "unknown",
                f"SELECT norm AS sel_norm FROM {norms(source)} n WHERE NOT EXISTS (SELECT 1 FROM {table} k WHERE k.norm = n.norm)",
            )
        else:
            # the knowledge rows whose prefix starts a code, found once per distinct code and equi-joined on
            # ``sel_norm``: a join of every visit's code with every row under ``starts_with`` was most of the
            # rule's time
            column = "oprn_prefix" if chk == "operation_diagnosis" else "prefix"
            judged = shared.name(
                "sel",
                f"SELECT n.norm AS sel_norm, k.* FROM {norms(source)} n JOIN {k} k ON starts_with(n.norm, k.{column})",
            )

        def codes(src: str, visits: str) -> str:
            """The distinct codes (trimmed, normalised) of ``visits`` (a query of ``mdtrt_id``)."""
            return f"(SELECT DISTINCT * FROM {raw[src]} WHERE mdtrt_id IN ({visits}))"

        # the visits holding a judged code, and their codes of the judged kind
        cand = shared.name(
            "cand", f"SELECT DISTINCT * FROM {raw[source]} WHERE norm IN (SELECT sel_norm FROM {judged})"
        )
        v = shared.name(
            "v",
            f"""
    SELECT l.mdtrt_id, min(l.setl_id) AS setl_id, min(l.psn_no) AS psn_no, min(l.fixmedins_code) AS fixmedins_code,
           min(l.gend) AS gend, min(l.age_years) AS age, sum({amount_expr(rule, "l")}) AS amount
    FROM {rule_lines(rule)} l WHERE l.mdtrt_id IN (SELECT mdtrt_id FROM {cand}) GROUP BY l.mdtrt_id""",
        )

        if chk in ("diagnosis_sex", "operation_sex"):
            item = f"c.code || '（' || k.group_zh || '，限' || ({SEX_SQL.format('k.allowed_gend')}) || '性）'"
            bad = f"""SELECT v.mdtrt_id, {item} AS item, k.kp_id FROM {v} v JOIN {cand} c
                ON c.mdtrt_id = v.mdtrt_id JOIN {judged} k ON k.sel_norm = c.norm
                WHERE v.gend IN ('1', '2') AND v.gend <> k.allowed_gend"""
        elif chk == "diagnosis_age":
            item = f"c.code || '（' || k.group_zh || '，限' || {_RANGE_SQL} || '）'"
            bad = f"""SELECT v.mdtrt_id, {item} AS item, k.kp_id FROM {v} v JOIN {cand} c
                ON c.mdtrt_id = v.mdtrt_id JOIN {judged} k ON k.sel_norm = c.norm
                WHERE v.age IS NOT NULL
                  AND NOT ((k.min_age IS NULL OR v.age >= k.min_age) AND (k.max_age IS NULL OR v.age < k.max_age))"""
        elif chk in ("diagnosis_code", "operation_code"):
            bad = f"""SELECT v.mdtrt_id, c.code AS item, CAST(NULL AS VARCHAR) AS kp_id
                FROM {v} v JOIN {cand} c ON c.mdtrt_id = v.mdtrt_id"""
        else:
            bad = f"""SELECT r.mdtrt_id, r.code || '（' || r.group_zh || '）' AS item, r.kp_id
                FROM (SELECT o.mdtrt_id, o.code, k.kp_id, k.group_zh, k.diag_prefix
                      FROM {cand} o JOIN {judged} k ON k.sel_norm = o.norm
                      WHERE o.mdtrt_id IN (SELECT mdtrt_id FROM {v})) r
                LEFT JOIN {codes("dx", f"SELECT mdtrt_id FROM {cand}")} d
                  ON d.mdtrt_id = r.mdtrt_id AND starts_with(d.norm, r.diag_prefix)
                GROUP BY r.mdtrt_id, r.code, r.kp_id, r.group_zh HAVING count(d.norm) = 0"""
        # the diagnoses listed in the evidence: only of the visits with a hit (joining them for every visit
        # was a third of the template's time)
        dl_cte = (
            f",\ndl AS (SELECT mdtrt_id, string_agg(DISTINCT code, '、' ORDER BY code) AS codes"
            f" FROM {codes('dx', 'SELECT mdtrt_id FROM b')} GROUP BY mdtrt_id)"
            if chk == "operation_diagnosis"
            else ""
        )
        dl_join = "LEFT JOIN dl ON dl.mdtrt_id = b.mdtrt_id" if chk == "operation_diagnosis" else ""
        ev = self.evidence[chk].sql(rule, {
            "sex": SEX_SQL.format("any_value(v.gend)"), "age": "any_value(round(v.age, 1))",
            "items": "string_agg(DISTINCT b.item, '、' ORDER BY b.item)", "amount": "any_value(v.amount)",
            "diagnoses": "COALESCE(any_value(dl.codes), '无')",
        })  # fmt: skip
        inner = f"""
WITH b AS ({bad}){dl_cte}
SELECT b.mdtrt_id, any_value(v.setl_id) AS setl_id, any_value(v.psn_no) AS psn_no,
       any_value(v.fixmedins_code) AS fixmedins_code, CAST([] AS VARCHAR[]) AS bkkp_sn, NULL AS hilist_code,
       any_value(v.amount) AS amount, {ev} AS evidence_zh, min(b.kp_id) AS kp_id
FROM b JOIN {v} v ON v.mdtrt_id = b.mdtrt_id {dl_join}
GROUP BY b.mdtrt_id
"""
        return hits(rule, inner)

    # --- real time -----------------------------------------------------------------------------------
    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        chk = rule.params["check"]
        table, source = CHECKS[chk]
        lines = claim.lines_of(rule)
        if not lines:
            return []
        index = kp_index(rule, claim, table)
        raw = claim.diagnoses if source == "dx" else claim.operations
        codes = sorted({(c.strip(" "), norm(c)) for c in raw if c.strip(" ")})
        if not codes:
            return []  # every check judges the claim's codes
        gend, age = _least(claim, lines, "gend"), _least(claim, lines, "age_years")

        def rows(n: str) -> list[Row]:
            return [k for i in range(len(n) + 1) for k in index.get(n[:i], ())]

        bad: list[tuple[str, str | None]] = []
        if chk in ("diagnosis_sex", "operation_sex"):
            if gend in ("1", "2"):
                bad = [(f"{c}（{k['group_zh']}，限{sex_zh(k['allowed_gend'])}性）", k["kp_id"])
                       for c, n in codes for k in rows(n) if k["allowed_gend"] != gend]  # fmt: skip
        elif chk == "diagnosis_age":
            if age is not None:
                bad = [(f"{c}（{k['group_zh']}，限{_range_zh(k['min_age'], k['max_age'])}）", k["kp_id"])
                       for c, n in codes for k in rows(n) if not _age_ok(age, k)]  # fmt: skip
        elif chk in ("diagnosis_code", "operation_code"):
            bad = [(c, None) for c, n in codes if n not in index]
        else:
            dx = sorted({c.strip(" ") for c in claim.diagnoses if c.strip(" ")})
            dx_norm = [norm(c) for c in dx]
            need: dict[tuple[str, str, str], list[str]] = {}
            for c, n in codes:
                for k in rows(n):
                    need.setdefault((c, k["kp_id"], k["group_zh"]), []).append(k["diag_prefix"])
            bad = [(f"{c}（{g}）", kp) for (c, kp, g), ps in need.items()
                   if not any(d.startswith(p) for d in dx_norm for p in ps)]  # fmt: skip
        if not bad:
            return []
        amount = sum((line_amount(rule, ln) for ln in lines), Decimal(0))
        vals: dict[str, Any] = {
            "sex": sex_zh(gend),
            "age": sql_round(age, 1) if age is not None else None,
            "items": "、".join(sorted({i for i, _ in bad})),
            "amount": amount,
        }
        if chk == "operation_diagnosis":
            vals["diagnoses"] = "、".join(dx) if dx else "无"
        row = {"mdtrt_id": claim.mdtrt_id, "psn_no": sql_min(ln["psn_no"] for ln in lines),
               "fixmedins_code": sql_min(ln["fixmedins_code"] for ln in lines),
               "setl_id": sql_min(ln["setl_id"] for ln in lines)}  # fmt: skip
        return [
            hit(rule, row, [], amount, self.evidence[chk].render(rule, vals), kp_id=min(kp for _, kp in bad))
        ]


def _least(claim: Claim, lines: list[Row], column: str) -> Any:
    """``sql_min`` of a column over the rule's lines, once per claim for the rules sharing those lines
    (``lines_of`` gives them the same list)."""
    key = ("least", id(lines), column)
    got = claim._cache.get(key, _UNSEEN)
    if got is _UNSEEN:
        got = claim._cache[key] = (lines, sql_min(ln[column] for ln in lines))
    return got[1]


_UNSEEN = object()


def _age_ok(age: float, k: Row) -> bool:
    return (k["min_age"] is None or age >= k["min_age"]) and (k["max_age"] is None or age < k["max_age"])
