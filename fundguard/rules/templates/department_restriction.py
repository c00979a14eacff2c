"""``department_restriction``: an item limited to some departments billed by another one (限科室使用)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, in_list, lit, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, line_amount

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

_HAN = r"\p{Han}"
LIMIT_PATTERN = rf"^限({_HAN}{{1,10}}科)([、和及或]{_HAN}{{1,10}}科)*(使用|专用)?[。；;.]?$"
"""A catalogue limit that names only departments: 限口腔科 / 限口腔科使用 / 限眼科、耳鼻咽喉科使用。"""
_HAN_PY = "[\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
_LIMIT_RE = re.compile(LIMIT_PATTERN.replace(_HAN, _HAN_PY))
"""``LIMIT_PATTERN`` for Python's ``re`` (no ``\\p{Han}``: the Han blocks spelled out)."""
_TAIL_RE = re.compile("(使用|专用)?[。；;.]?$")
_SPLIT_RE = re.compile("[、和及或]")


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

    evidence: ClassVar[dict[str, Evidence]] = {
        "department": Evidence(
            "“{hilist_name}”限{allowed}使用（{dscr}），由{dept_name}（科室编码{dept_code}）开单收费"
        )
    }

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
        ev = self.evidence["department"].sql(rule, {
            "hilist_name": "l.hilist_name", "allowed": "b.allowed", "dscr": "b.dscr",
            "dept_name": "COALESCE(l.dept_name, '')", "dept_code": "COALESCE(l.dept_code, '无')",
        })  # fmt: skip
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
       {ev} AS evidence_zh,
       CAST(NULL AS VARCHAR) AS kp_id
FROM l JOIN bad b ON b.bkkp_sn = l.bkkp_sn
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        types = set(p["list_types"])
        out = []
        for ln in claim.lines_of(rule):
            if types and ln["list_type"] not in types:
                continue
            limits = self._limits(rule, claim, ln["hilist_code"])
            if not limits:
                continue
            name = ln["bilg_dept_name"] or ln["adm_dept_name"] or None
            code = ln["bilg_dept_codg"] or ln["adm_dept_codg"] or None
            if name is None and code is None:
                continue
            ok = False
            for dept, _ in limits:
                short = dept[:-1] if dept.endswith("科") else dept
                if (name is not None and short in name) or (
                    code is not None and any(code.startswith(x) for x in p["dept_codes"].get(dept, ()))
                ):
                    ok = True
                    break
            if ok:
                continue
            vals = {"hilist_name": ln["hilist_name"], "allowed": "、".join(sorted({d for d, _ in limits})),
                    "dscr": "；".join(sorted({x for _, x in limits})), "dept_name": name or "",
                    "dept_code": code or "无"}  # fmt: skip
            out.append(hit(rule, ln, [ln["bkkp_sn"]], line_amount(rule, ln),
                           self.evidence["department"].render(rule, vals), hilist_code=ln["hilist_code"]))  # fmt: skip
        return out

    def _limits(self, rule: Rule, claim: Claim, code: str) -> list[tuple[str, str]]:
        """(allowed department, limit text) of a code: the catalogue's 限…科 text and the parameter."""
        out = []
        if rule.params["use_catalogue"]:
            cat = claim.catalogue(code)
            for dscr in cat["lmt_used_dscr"] if cat else ():
                if dscr is not None:
                    out += _departments(dscr)
        out += [(d, "参数限定") for d in rule.params["departments"].get(code, ())]
        return out


@lru_cache(maxsize=65_536)
def _departments(dscr: str) -> tuple[tuple[str, str], ...]:
    """(department, text) of a catalogue's 限…科 text (parsed once per text: catalogues repeat them)."""
    if not _LIMIT_RE.search(dscr):
        return ()
    return tuple((dept.strip(" "), dscr) for dept in _SPLIT_RE.split(_TAIL_RE.sub("", dscr[1:], count=1)))
