"""``visit_frequency``: a person's visits in a scene within a window above a set count (频繁门诊, 频繁住院)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import SCENE_MED_TYPES, amount_expr, hits, in_list, lit, rule_lines
from fundguard.rules.claim import MAIN_SCENES, Claim, Row
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, line_amount, sql_min
from fundguard.rules.templates.stay_common import scene_cond, visits

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

COUNT_BY = ("visits", "days")


class VisitFrequency(Template):
    """A visit (in the rule's scenes, by admission time) that makes the person's count of such visits within
    ``window_days`` days (the visit's day and the days before it) exceed ``max_count``; ``count_by``
    ``visits`` counts visits, ``days`` counts distinct visit days (several departments on one day are one);
    ``same_institution`` counts only visits at the visit's institution; visits whose main diagnosis starts with
    one of ``exclude_diag_prefixes`` (planned courses: Z51 化疗/放疗, dialysis) are left out altogether.

    One hit per visit over the limit (``bkkp_sn`` empty: the visit is at issue); money at issue: that visit's
    lines in the rule's scenes (``line_amount``) or their fund share (``fund_amount``), 0 when it has none.
    """

    name = "visit_frequency"
    title_zh = "就诊频次超限（频繁门诊/频繁住院）"
    reads = "visits"
    params = (
        Param("window_days", "int", "Window in days / 时间窗天数", required=True),
        Param(
            "max_count",
            "int",
            "Most visits (or days) in the window / 时间窗内最多就诊次数（或天数）",
            required=True,
        ),
        Param(
            "count_by",
            "str",
            "visits or distinct days / 按就诊次数或就诊天数计",
            default="visits",
            choices=COUNT_BY,
        ),
        Param("same_institution", "bool", "Count only the same institution / 仅计同一机构", default=False),
        Param(
            "exclude_diag_prefixes",
            "str_list",
            "Visits whose main diagnosis starts so are neither counted nor judged (planned courses such as Z51)"
            " / 主诊断以此开头的就诊不计数也不判断（计划性治疗）",
            default=[],
        ),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "frequency": Evidence(
            "参保人{win}日内（{first:date}至{last:date}）{where}{scene}{total}{unit}，超过限定的{limit}{unit}，"
            "本次就诊（{begin:minute}）涉及费用{amount:money}元"
        )
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        p = rule.params
        out = []
        if p["window_days"] < 1:
            out.append(("params.window_days", "must be ≥ 1 / 须不小于1"))
        if p["max_count"] < 1:
            out.append(("params.max_count", "must be ≥ 1 / 须不小于1"))
        return out

    @staticmethod
    def _scene_zh(rule: Rule) -> str:
        scenes = [s for s in ("门急诊", "住院", "购药") if s in rule.scenes]
        return "、".join(scenes) if scenes and not set(rule.scenes) >= MAIN_SCENES else "就诊"

    def _words(self, rule: Rule) -> tuple[str, str]:
        p = rule.params
        where = "在同一机构" if p["same_institution"] else ""
        unit = "天" if p["count_by"] == "days" else "次"
        return where, unit

    def sql(self, rule: Rule) -> str:
        p = rule.params
        win, lim = int(p["window_days"]), int(p["max_count"])
        inst = "AND y.fixmedins_code IS NOT DISTINCT FROM x.fixmedins_code" if p["same_institution"] else ""
        n = "count(DISTINCT y.begin_date)" if p["count_by"] == "days" else "count(*)"
        where, unit = self._words(rule)
        ev = self.evidence["frequency"].sql(rule, {
            "win": str(win), "first": "c.first_date", "last": "x.begin_date", "where": lit(where),
            "scene": lit(self._scene_zh(rule)), "total": "c.n", "unit": lit(unit), "limit": str(lim),
            "begin": "x.begntime", "amount": "COALESCE(a.amount, 0)",
        })  # fmt: skip
        excl = " OR ".join(
            f"starts_with(upper(replace(v.maindiag, '.', '')), {lit(x)})" for x in p["exclude_diag_prefixes"]
        )
        excl = f"AND NOT COALESCE({excl}, FALSE)" if excl else ""
        # a rule of main scenes groups only the visits of their medical types (the per-visit grouping of
        # every visit was the rule's cost)
        scenes = set(rule.scenes)
        pre = ""
        if scenes and scenes <= set(SCENE_MED_TYPES) and scenes != set(SCENE_MED_TYPES):
            pre = f"med_type IN {in_list(sorted(c for s in scenes for c in SCENE_MED_TYPES[s]))}"
        inner = f"""
WITH v AS (SELECT * FROM {visits(rule, pre)} v WHERE {scene_cond(rule, "v")} {excl}),
c AS (
    SELECT x.mdtrt_id, {n} AS n, min(y.begin_date) AS first_date
    FROM v x JOIN v y ON y.psn_no = x.psn_no {inst}
        AND y.begin_date BETWEEN x.begin_date - {win - 1} AND x.begin_date
        AND (y.begntime < x.begntime OR (y.begntime = x.begntime AND y.mdtrt_id <= x.mdtrt_id))
    GROUP BY x.mdtrt_id HAVING {n} > {lim}
),
a AS (
    SELECT l.mdtrt_id, min(l.setl_id) AS setl_id, sum({amount_expr(rule, "l")}) AS amount
    FROM {rule_lines(rule)} l WHERE l.mdtrt_id IN (SELECT mdtrt_id FROM c) GROUP BY l.mdtrt_id
)
SELECT x.mdtrt_id, a.setl_id, x.psn_no, x.fixmedins_code, CAST([] AS VARCHAR[]) AS bkkp_sn, NULL AS hilist_code,
       COALESCE(a.amount, 0) AS amount, {ev} AS evidence_zh, NULL AS kp_id
FROM c JOIN v x ON x.mdtrt_id = c.mdtrt_id LEFT JOIN a ON a.mdtrt_id = x.mdtrt_id
"""
        return hits(rule, inner)

    def keeps_visits(self, rule: Rule) -> Callable[[Row], bool] | None:
        scenes = set(rule.scenes)
        if not scenes or scenes >= set(SCENE_MED_TYPES):
            return lambda v: True
        return lambda v: v["scene"] in scenes

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        x = claim.visit
        excl = tuple(p["exclude_diag_prefixes"])

        def counted(v: Row) -> bool:
            diag = v["maindiag"]
            return not (excl and diag is not None and diag.replace(".", "").upper().startswith(excl))

        if (
            x["begntime"] is None
            or not claim.in_dates(rule, x["begntime"])
            or not claim.in_scenes(rule, x["scene"])
        ):
            return []
        if not counted(x):
            return []
        win, lim = int(p["window_days"]), int(p["max_count"])
        lo = x["begin_date"] - dt.timedelta(days=win - 1)
        key = (x["begntime"], x["mdtrt_id"])
        ys = [x] + [
            y for y in claim.visits
            if y["begntime"] is not None and claim.in_dates(rule, y["begntime"]) and claim.in_scenes(rule, y["scene"])
            and counted(y) and (not p["same_institution"] or y["fixmedins_code"] == x["fixmedins_code"])
            and lo <= y["begin_date"] <= x["begin_date"] and (y["begntime"], y["mdtrt_id"]) <= key
        ]  # fmt: skip
        total = len({y["begin_date"] for y in ys}) if p["count_by"] == "days" else len(ys)
        if not total > lim:
            return []
        lines = claim.lines_of(rule)
        amount = sum((line_amount(rule, ln) for ln in lines), Decimal(0))
        where, unit = self._words(rule)
        vals = {"win": str(win), "first": min(y["begin_date"] for y in ys), "last": x["begin_date"], "where": where,
                "scene": self._scene_zh(rule), "total": total, "unit": unit, "limit": str(lim),
                "begin": x["begntime"], "amount": amount}  # fmt: skip
        return [hit(rule, x, [], amount, self.evidence["frequency"].render(rule, vals),
                    setl_id=sql_min(ln["setl_id"] for ln in lines))]  # fmt: skip
