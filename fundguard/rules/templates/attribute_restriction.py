"""``attribute_restriction``: a drug / item limited by the patient's or the visit's attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, in_list, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import SEX_SQL, Evidence, num, sex_zh
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import (
    KP_FILTER,
    Param,
    SharedCtes,
    Template,
    kp_index,
    kp_where,
    line_amount,
    sql_round,
)

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

_LEVEL_ZH = {0: "无等级", 1: "一级", 2: "二级"}


def _level_zh(v: int | None) -> str:
    return _LEVEL_ZH.get(v, "三级")  # type: ignore[arg-type]


def _min_level_zh(v: float | None) -> str | None:
    return None if v is None else {3: "三级", 2: "二级"}.get(round(v), "一级")


def _age_lo(k: dict) -> str:
    return f"{num(k['min_age'])}岁及以上" if k["min_age"] is not None else ""


def _age_hi(k: dict) -> str:
    return f"未满{num(k['max_age'])}岁" if k["max_age"] is not None else ""


def _visit_ok(line: dict, k: dict) -> bool:
    a = k["allowed_visit"]
    return a is not None and line["scene"] == ("住院" if a == "住院" else a)


# attribute → (knowledge table, judgeable condition, allowed condition, evidence) — each condition in SQL and
# Python; the evidence's values as SQL expressions and as Python functions of (line, knowledge row)
_ATTR: dict[str, tuple] = {
    "gender": (
        "kb_gender",
        ("l.gend IN ('1', '2')", lambda ln, p: ln["gend"] in ("1", "2")),
        ("l.gend = k.allowed_gend", lambda ln, k, p: ln["gend"] == k["allowed_gend"]),
        Evidence("参保人性别为{sex}，“{hilist_name}”限{allowed}性使用"),
        {
            "sex": (SEX_SQL.format("l.gend"), lambda ln, k, r: sex_zh(ln["gend"])),
            "allowed": (SEX_SQL.format("k.allowed_gend"), lambda ln, k, r: sex_zh(k["allowed_gend"])),
        },
    ),
    "age": (
        "kb_age",
        ("l.age_years IS NOT NULL", lambda ln, p: ln["age_years"] is not None),
        (
            "(k.min_age IS NULL OR l.age_years >= k.min_age) AND (k.max_age IS NULL OR l.age_years < k.max_age)",
            lambda ln, k, p: (
                (k["min_age"] is None or ln["age_years"] >= k["min_age"])
                and (k["max_age"] is None or ln["age_years"] < k["max_age"])
            ),
        ),
        Evidence("参保人就诊时年龄{age:num}岁，“{hilist_name}”限{target}使用（{lo}{hi}）"),
        {
            "age": ("round(l.age_years, 1)", lambda ln, k, r: sql_round(ln["age_years"], 1)),
            "target": ("COALESCE(k.target, '')", lambda ln, k, r: k["target"] or ""),
            "lo": (
                "CASE WHEN k.min_age IS NOT NULL THEN CAST(k.min_age AS VARCHAR) || '岁及以上' ELSE '' END",
                lambda ln, k, r: _age_lo(k),
            ),
            "hi": (
                "CASE WHEN k.max_age IS NOT NULL THEN '未满' || CAST(k.max_age AS VARCHAR) || '岁' ELSE '' END",
                lambda ln, k, r: _age_hi(k),
            ),
        },
    ),
    "hospital_level": (
        "kb_hospital_level",
        ("l.hosp_level IS NOT NULL", lambda ln, p: ln["hosp_level"] is not None),
        (
            "l.hosp_level >= k.min_level",
            lambda ln, k, p: k["min_level"] is not None and ln["hosp_level"] >= k["min_level"],
        ),
        Evidence(
            "就诊机构等级为{level}（医院等级代码{hosp_lv}），“{hilist_name}”限{min_level}及以上医疗机构使用"
        ),
        {
            "level": (
                "CASE l.hosp_level WHEN 0 THEN '无等级' WHEN 1 THEN '一级' WHEN 2 THEN '二级' ELSE '三级' END",
                lambda ln, k, r: _level_zh(ln["hosp_level"]),
            ),
            "hosp_lv": ("l.hosp_lv", lambda ln, k, r: ln["hosp_lv"]),
            "min_level": (
                "CASE CAST(k.min_level AS INTEGER) WHEN 3 THEN '三级' WHEN 2 THEN '二级' ELSE '一级' END",
                lambda ln, k, r: _min_level_zh(k["min_level"]) or "一级",
            ),
        },
    ),
    "visit_type": (
        "kb_visit_type",
        ("l.med_type IS NOT NULL", lambda ln, p: ln["med_type"] is not None),
        (
            "(k.allowed_visit = '住院' AND l.scene = '住院') OR (k.allowed_visit <> '住院' AND l.scene = k.allowed_visit)",
            lambda ln, k, p: _visit_ok(ln, k),
        ),
        Evidence("本次就诊为{scene}（医疗类别{med_type}），“{hilist_name}”限{allowed}使用"),
        {
            "scene": ("l.scene", lambda ln, k, r: ln["scene"]),
            "med_type": ("l.med_type", lambda ln, k, r: ln["med_type"]),
            "allowed": ("k.allowed_visit", lambda ln, k, r: k["allowed_visit"]),
        },
    ),
    "insurance_type": (
        "kb_insurance_type",
        ("TRUE", lambda ln, p: True),
        (
            "{allowed}",
            lambda ln, k, p: (
                ln["insutype"] in p["allowed_insutypes"] or ln["med_type"] in p["allowed_med_types"]
            ),
        ),
        Evidence(
            "参保险种代码为{insutype}，“{hilist_name}”限{insurance}保险支付，却由基本医疗保险统筹基金支付{fund:money}元"
        ),
        {
            "insutype": ("COALESCE(l.insutype, '未知')", lambda ln, k, r: ln["insutype"] or "未知"),
            "insurance": ("k.insurance", lambda ln, k, r: k["insurance"]),
            "fund": ("l.inscp_amt", lambda ln, k, r: ln["inscp_amt"]),
        },
    ),
}
_NAME = ("l.hilist_name", lambda ln, k, r: ln["hilist_name"])


class AttributeRestriction(Template):
    """A drug or service item used outside the patient / visit attribute its knowledge point allows.

    One knowledge row per (kp_id, code); a line is a hit when no row of its code allows it (so several
    knowledge points on one code never double-flag), and carries the smallest violated kp_id. Only lines
    with a fund share (``inscp_amt > 0``) are judged unless ``require_fund`` is false.
    """

    name = "attribute_restriction"
    shares_work = True
    title_zh = "限定性别/年龄/医疗机构级别/就医方式/险种使用"
    knowledge = tuple(v[0] for v in _ATTR.values())
    knowledge_required = True
    knowledge_gate = True  # a hit needs a billed code with a knowledge row (real time skips other claims)
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

    evidence: ClassVar[dict[str, Evidence]] = {a: v[3] for a, v in _ATTR.items()}

    def sql(self, rule: Rule) -> str:
        return self.sql_group([rule])

    def sql_group(self, rules: list[Rule]) -> str:
        """The rules share one read of their lines (per set of scenes, dates and fund condition): the lines
        of a code in any of the group's knowledge tables, then each rule joins its own table."""
        shared = SharedCtes("ar")
        tables = sorted({_ATTR[r.params["attribute"]][0] for r in rules})
        codes = " UNION ALL ".join(f"SELECT code FROM {t}" for t in tables)
        return shared.sql([self._sql(rule, shared, codes) for rule in rules])

    def _sql(self, rule: Rule, shared: SharedCtes, codes: str) -> str:
        p = rule.params
        table, (judge, _), (ok, _), ev, values = _ATTR[p["attribute"]]
        allowed = f"(l.insutype IN {in_list(p['allowed_insutypes'])} OR l.med_type IN {in_list(p['allowed_med_types'])})"
        ok = ok.format(allowed=allowed)
        ev_sql = ev.sql(rule, {"hilist_name": _NAME[0], **{n: e for n, (e, _) in values.items()}})
        fund = "l.inscp_amt > 0" if p["require_fund"] else "TRUE"
        lines = shared.name(
            "l", f"SELECT l.* FROM {rule_lines(rule)} l WHERE {fund} AND l.hilist_code IN ({codes})"
        )
        inner = f"""
SELECT l.bkkp_sn, any_value(l.mdtrt_id) AS mdtrt_id, any_value(l.setl_id) AS setl_id,
       any_value(l.psn_no) AS psn_no, any_value(l.fixmedins_code) AS fixmedins_code,
       [l.bkkp_sn] AS bkkp_sn_list, any_value(l.hilist_code) AS hilist_code,
       any_value({amount_expr(rule, "l")}) AS amount,
       arg_min({ev_sql}, k.kp_id) AS evidence_zh,
       min(k.kp_id) AS kp_id
FROM {lines} l
JOIN {table} k ON k.code = l.hilist_code
WHERE {kp_where(rule)} AND {judge}
GROUP BY l.bkkp_sn
HAVING NOT bool_or(COALESCE({ok}, FALSE))
"""
        inner = f"SELECT mdtrt_id, setl_id, psn_no, fixmedins_code, bkkp_sn_list AS bkkp_sn, hilist_code, amount, evidence_zh, kp_id FROM ({inner})"
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        table, (_, judge), (_, ok), ev, values = _ATTR[p["attribute"]]
        index = kp_index(rule, claim, table)
        out = []
        for ln in claim.lines_of(rule):
            ks = index.get(ln["hilist_code"])
            if not ks or not judge(ln, p) or (p["require_fund"] and not (ln["inscp_amt"] or 0) > 0):
                continue
            if any(ok(ln, k, p) for k in ks):
                continue
            k = min(ks, key=lambda k: k["kp_id"])
            vals = {"hilist_name": ln["hilist_name"], **{n: f(ln, k, rule) for n, (_, f) in values.items()}}
            out.append(
                hit(rule, ln, [ln["bkkp_sn"]], line_amount(rule, ln), ev.render(rule, vals),
                    hilist_code=ln["hilist_code"], kp_id=k["kp_id"])
            )  # fmt: skip
        return out
