"""``department_restriction``: an item limited to some departments billed by another one (限科室使用)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundguard.rules.base import amount_expr, hits, in_list, lit, rule_lines, source_note
from fundguard.rules.templates.base import Param, Template

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

_HAN = r"\p{Han}"
LIMIT_PATTERN = rf"^限({_HAN}{{1,10}}科)([、和及或]{_HAN}{{1,10}}科)*(使用|专用)?[。；;.]?$"
"""A catalogue limit that names only departments: 限口腔科 / 限口腔科使用 / 限眼科、耳鼻咽喉科使用。"""


class DepartmentRestriction(Template):
    """An item whose catalogue limit (``hilist_b.lmt_used_dscr`` of the form 限<科室>[、<科室>][使用]) or the
    ``departments`` parameter (code → allowed department names) names departments, billed by another one.

    The billing department is ``bilg_dept_name`` / ``bilg_dept_codg`` of the line, else the visit's
    ``adm_dept_name`` / ``adm_dept_codg``; a line without either is not judged. A department is allowed
    when its name contains an allowed name (without the final 科: 口腔 matches 口腔颌面外科) or its code
    starts with a code in ``dept_codes`` for that name (GB/T 科室代码: 口腔科 A12).
    """

    name = "department_restriction"
    title_zh = "项目限科室使用"
    params = (
        Param(
            "departments",
            "dict",
            "Extra limits: hilist code → allowed department names / 补充限定：医保目录编码 → 允许的科室名称列表",
            default={},
        ),
        Param(
            "dept_codes",
            "dict",
            "Department name → department code prefixes that count as it / 科室名称 → 视同该科室的科室编码前缀",
            default={"口腔科": ["A12"]},
        ),
        Param("list_types", "str_list", "Only these list_type codes / 仅限这些目录类别", default=[]),
        Param(
            "use_catalogue",
            "bool",
            "Read limits from hilist_b.lmt_used_dscr / 读取目录限制使用说明",
            default=True,
        ),
    )

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        for k, v in {**rule.params["departments"], **rule.params["dept_codes"]}.items():
            if not isinstance(k, str) or not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                return [("params", "mappings of string → list of strings / 须为字符串到字符串列表的映射")]
        return []

    def sql(self, rule: Rule) -> str:
        p = rule.params
        extra = " UNION ALL ".join(
            f"SELECT {lit(code)} AS code, {lit(d)} AS dept, '参数限定' AS dscr"
            for code, depts in sorted(p["departments"].items())
            for d in depts
        )
        parts = []
        if p["use_catalogue"]:
            parts.append(f"""
SELECT hilist_code AS code, trim(dept) AS dept, dscr FROM (
    SELECT hilist_code, dscr,
           unnest(string_split_regex(regexp_replace(substr(dscr, 2), '(使用|专用)?[。；;.]?$', ''), '[、和及或]')) AS dept
    FROM (SELECT DISTINCT hilist_code, trim(lmt_used_dscr) AS dscr FROM hilist_b_valid
          WHERE regexp_matches(trim(lmt_used_dscr), {lit(LIMIT_PATTERN)})))""")
        if extra:
            parts.append(extra)
        if not parts:
            parts.append("SELECT NULL AS code, NULL AS dept, NULL AS dscr WHERE FALSE")
        codes = (
            " UNION ALL ".join(
                f"SELECT {lit(name)} AS dept, {lit(c)} AS prefix"
                for name, cs in sorted(p["dept_codes"].items())
                for c in cs
            )
            or "SELECT NULL AS dept, NULL AS prefix WHERE FALSE"
        )
        lt = f"l.list_type IN {in_list(p['list_types'])}" if p["list_types"] else "TRUE"
        inner = f"""
WITH k AS ({" UNION ALL ".join(parts)}),
c AS ({codes}),
l AS (
    SELECT l.*, COALESCE(NULLIF(l.bilg_dept_name, ''), NULLIF(l.adm_dept_name, '')) AS dept_name,
           COALESCE(NULLIF(l.bilg_dept_codg, ''), NULLIF(l.adm_dept_codg, '')) AS dept_code
    FROM {rule_lines(rule)} l WHERE {lt} AND l.hilist_code IN (SELECT code FROM k)
),
j AS (
    SELECT l.bkkp_sn, k.dept, k.dscr,
           COALESCE(strpos(l.dept_name, regexp_replace(k.dept, '科$', '')) > 0, FALSE)
           OR EXISTS (SELECT 1 FROM c WHERE c.dept = k.dept AND starts_with(l.dept_code, c.prefix)) AS ok
    FROM l JOIN k ON k.code = l.hilist_code
    WHERE l.dept_name IS NOT NULL OR l.dept_code IS NOT NULL
),
bad AS (
    SELECT bkkp_sn, string_agg(DISTINCT dept, '、' ORDER BY dept) AS allowed,
           string_agg(DISTINCT dscr, '；' ORDER BY dscr) AS dscr
    FROM j GROUP BY bkkp_sn HAVING NOT bool_or(ok)
)
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount_expr(rule, "l")} AS amount,
       '“' || l.hilist_name || '”限' || b.allowed || '使用（' || b.dscr || '），由'
         || COALESCE(l.dept_name, '') || '（科室编码' || COALESCE(l.dept_code, '无') || '）开单收费'
         || {source_note(rule)} AS evidence_zh,
       CAST(NULL AS VARCHAR) AS kp_id
FROM l JOIN bad b ON b.bkkp_sn = l.bkkp_sn
"""
        return hits(rule, inner)
