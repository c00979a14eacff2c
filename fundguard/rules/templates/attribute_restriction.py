"""``attribute_restriction``: a drug / item limited by the patient's or the visit's attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundguard.rules.base import amount_expr, hits, in_list, money, rule_lines, source_note
from fundguard.rules.templates.base import KP_FILTER, Param, Template, kp_where

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

_SEX = "CASE {} WHEN '1' THEN '男' WHEN '2' THEN '女' ELSE '未知' END"

# attribute → (knowledge table, judgeable condition, allowed condition, evidence expression)
_ATTR = {
    "gender": (
        "kb_gender",
        "l.gend IN ('1', '2')",
        "l.gend = k.allowed_gend",
        "'参保人性别为' || {sex_l} || '，' || '“' || l.hilist_name || '”限' || {sex_k} || '性使用'",
    ),
    "age": (
        "kb_age",
        "l.age_years IS NOT NULL",
        "(k.min_age IS NULL OR l.age_years >= k.min_age) AND (k.max_age IS NULL OR l.age_years < k.max_age)",
        "'参保人就诊时年龄' || CAST(round(l.age_years, 1) AS VARCHAR) || '岁，“' || l.hilist_name || '”限'"
        " || COALESCE(k.target, '') || '使用（'"
        " || CASE WHEN k.min_age IS NOT NULL THEN CAST(k.min_age AS VARCHAR) || '岁及以上' ELSE '' END"
        " || CASE WHEN k.max_age IS NOT NULL THEN '未满' || CAST(k.max_age AS VARCHAR) || '岁' ELSE '' END"
        " || '）'",
    ),
    "hospital_level": (
        "kb_hospital_level",
        "l.hosp_level IS NOT NULL",
        "l.hosp_level >= k.min_level",
        "'就诊机构等级为' || CASE l.hosp_level WHEN 0 THEN '无等级' WHEN 1 THEN '一级' WHEN 2 THEN '二级'"
        " ELSE '三级' END || '（医院等级代码' || l.hosp_lv || '），“' || l.hilist_name || '”限'"
        " || CASE CAST(k.min_level AS INTEGER) WHEN 3 THEN '三级' WHEN 2 THEN '二级' ELSE '一级' END"
        " || '及以上医疗机构使用'",
    ),
    "visit_type": (
        "kb_visit_type",
        "l.med_type IS NOT NULL",
        "(k.allowed_visit = '住院' AND l.scene = '住院') OR (k.allowed_visit <> '住院' AND l.scene = k.allowed_visit)",
        "'本次就诊为' || l.scene || '（医疗类别' || l.med_type || '），“' || l.hilist_name || '”限'"
        " || k.allowed_visit || '使用'",
    ),
    "insurance_type": (
        "kb_insurance_type",
        "TRUE",
        "{allowed}",
        "'参保险种代码为' || COALESCE(l.insutype, '未知') || '，“' || l.hilist_name || '”限' || k.insurance"
        " || '保险支付，却由基本医疗保险统筹基金支付' || {fund} || '元'",
    ),
}


class AttributeRestriction(Template):
    """A drug or service item used outside the patient / visit attribute its knowledge point allows.

    One knowledge row per (kp_id, code); a line is a hit when no row of its code allows it (so several
    knowledge points on one code never double-flag), and carries the smallest violated kp_id. Only lines
    with a fund share (``inscp_amt > 0``) are judged unless ``require_fund`` is false.
    """

    name = "attribute_restriction"
    title_zh = "限定性别/年龄/医疗机构级别/就医方式/险种使用"
    knowledge = tuple(v[0] for v in _ATTR.values())
    knowledge_required = True
    params = (
        Param(
            "attribute",
            "str",
            "Which attribute the knowledge limits / 限定的属性",
            required=True,
            choices=tuple(_ATTR),
        ),
        KP_FILTER,
        Param(
            "require_fund",
            "bool",
            "Judge only lines with a fund share (inscp_amt > 0) / 仅审核有符合范围金额（基金支付）的明细",
            default=True,
        ),
        Param(
            "allowed_insutypes",
            "str_list",
            "insurance_type: insutype codes that may pay / 险种限定：允许支付的险种代码",
            default=[],
        ),
        Param(
            "allowed_med_types",
            "str_list",
            "insurance_type: med_type codes that count as the allowed insurance (生育门诊/住院) / 视同限定险种的医疗类别",
            default=[],
        ),
    )

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        want = _ATTR[rule.params["attribute"]][0]
        if rule.knowledge != want:
            return [
                (
                    "knowledge",
                    f"attribute {rule.params['attribute']} needs {want} / 该属性须使用知识表 {want}",
                )
            ]
        return []

    def sql(self, rule: Rule) -> str:
        p = rule.params
        table, judge, ok, ev = _ATTR[p["attribute"]]
        allowed = f"(l.insutype IN {in_list(p['allowed_insutypes'])} OR l.med_type IN {in_list(p['allowed_med_types'])})"
        ok = ok.format(allowed=allowed)
        ev = ev.format(
            sex_l=_SEX.format("l.gend"), sex_k=_SEX.format("k.allowed_gend"), fund=money("l.inscp_amt")
        )
        fund = "l.inscp_amt > 0" if p["require_fund"] else "TRUE"
        inner = f"""
SELECT l.bkkp_sn, any_value(l.mdtrt_id) AS mdtrt_id, any_value(l.setl_id) AS setl_id,
       any_value(l.psn_no) AS psn_no, any_value(l.fixmedins_code) AS fixmedins_code,
       [l.bkkp_sn] AS bkkp_sn_list, any_value(l.hilist_code) AS hilist_code,
       any_value({amount_expr(rule, "l")}) AS amount,
       arg_min(({ev}) || {source_note(rule)}, k.kp_id) AS evidence_zh,
       min(k.kp_id) AS kp_id
FROM {rule_lines(rule)} l
JOIN {table} k ON k.code = l.hilist_code
WHERE {kp_where(rule)} AND {judge} AND {fund}
GROUP BY l.bkkp_sn
HAVING NOT bool_or(COALESCE({ok}, FALSE))
"""
        inner = f"SELECT mdtrt_id, setl_id, psn_no, fixmedins_code, bkkp_sn_list AS bkkp_sn, hilist_code, amount, evidence_zh, kp_id FROM ({inner})"
        return hits(rule, inner)
