"""``ghost_bed``: inpatient days on which only bed / nursing / 诊查 are billed (挂床住院 sign)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, in_list, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, line_amount
from fundguard.rules.templates.stay_common import INPATIENT, INPATIENT_CODES, fmt_date

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

DRUG_LIST_TYPES = ("101", "102", "103", "104")
"""目录类别 of drugs (西药中成药, 中药饮片, 自制剂, 民族药)."""
DRUG_CHRGITM_TYPES = ("09", "10", "11")
"""医疗收费项目类别 of drugs (西药费, 中成药费, 中草药费), for lines without a 目录类别."""


class GhostBed(Template):
    """An inpatient stay with at least ``min_days`` consecutive calendar days on which every line billed is
    a routine occupancy charge (``basic_chrgitm_types``: 床位费 01, 诊察费 02, 护理费 07 by default) — no
    drug, test, treatment, surgery or material. Days with no line at all break a run.

    The stay's own billing pattern counts as care: a day is covered by an earlier drug line of the stay
    (``DRUG_LIST_TYPES``) for its 用药周期 (``prd_days``), and, in a short stay (at most ``short_stay_days``
    from admission to discharge), a drug line without a period covers the rest of the stay — oral drugs
    dispensed once as one line for the whole stay. Covered days break a run.

    One hit per stay, with the lines of all such runs; money at issue: those days' charges
    (``line_amount``) or their fund share (``fund_amount``).
    """

    name = "ghost_bed"
    title_zh = "住院期间连续多日仅收床位/护理/诊查费（挂床住院）"
    reads = "visits"
    params = (
        Param("min_days", "int", "Consecutive days needed / 连续天数下限", default=3),
        Param(
            "basic_chrgitm_types",
            "str_list",
            "med_chrgitm_type codes of routine occupancy charges / 视为床位、护理、诊查类的医疗收费项目类别",
            default=["01", "02", "07"],
        ),
        Param(
            "short_stay_days",
            "int",
            "Stays up to this long: a drug line without a period covers the rest / 短期住院天数上限（单条药品视为覆盖其后住院日）",
            default=5,
        ),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "ghost": Evidence(
            "住院（入院{begin:date}，出院{end}）期间{periods}仅收取{items}等床位/护理/诊查类费用（{lines}条明细，"
            "共{amount:money}元），无药品、检查、治疗等诊疗记录，疑似挂床住院"
        )
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        if rule.params["min_days"] < 1:
            return [("params.min_days", "must be ≥ 1 / 须不小于1")]
        return []

    def sql(self, rule: Rule) -> str:
        p = rule.params
        amount = amount_expr(rule, "l")
        ev = self.evidence["ghost"].sql(rule, {
            "begin": "any_value(gl.begntime)", "end": f"COALESCE({fmt_date('any_value(gl.endtime)')}, '未知')",
            "periods": "any_value(pr.txt)", "lines": "count(*)", "amount": "sum(gl.amt)",
            "items": "array_to_string(list_sort(list(DISTINCT COALESCE(gl.hilist_name, gl.hilist_code))), '、')",
        })  # fmt: skip
        inner = f"""
WITH l AS (
    SELECT l.*, {amount} AS amt FROM {rule_lines(rule)} l WHERE l.med_type IN {INPATIENT}
),
d0 AS (
    SELECT mdtrt_id, fee_date, bool_and(COALESCE(med_chrgitm_type IN {in_list(p["basic_chrgitm_types"])}, FALSE)) AS basic
    FROM l GROUP BY mdtrt_id, fee_date
),
drug AS (SELECT mdtrt_id, fee_date, prd_days, begntime, endtime FROM l
         WHERE list_type IN {in_list(DRUG_LIST_TYPES)} OR med_chrgitm_type IN {in_list(DRUG_CHRGITM_TYPES)}),
cov AS (
    SELECT x.mdtrt_id, x.fee_date,
           bool_or((g.prd_days > 0 AND date_diff('day', g.fee_date, x.fee_date) < ceil(g.prd_days))
                   OR (COALESCE(g.prd_days, 0) <= 0 AND g.endtime IS NOT NULL
                       AND date_diff('day', CAST(g.begntime AS DATE), CAST(g.endtime AS DATE)) <= {int(p["short_stay_days"])}))
               AS covered
    FROM d0 x JOIN drug g ON g.mdtrt_id = x.mdtrt_id AND g.fee_date < x.fee_date
    WHERE x.basic GROUP BY x.mdtrt_id, x.fee_date
),
d AS (
    SELECT d0.mdtrt_id, d0.fee_date, d0.basic AND NOT COALESCE(cov.covered, FALSE) AS basic
    FROM d0 LEFT JOIN cov ON cov.mdtrt_id = d0.mdtrt_id AND cov.fee_date = d0.fee_date
),
runs AS (
    SELECT mdtrt_id, fee_date, basic,
           fee_date - CAST(row_number() OVER (PARTITION BY mdtrt_id, basic ORDER BY fee_date) AS INTEGER) AS grp
    FROM d
),
ghost AS (
    SELECT mdtrt_id, grp, min(fee_date) AS first_day, max(fee_date) AS last_day, count(*) AS n_days
    FROM runs WHERE basic GROUP BY mdtrt_id, grp HAVING count(*) >= {int(p["min_days"])}
),
gl AS (
    SELECT l.*, g.first_day, g.last_day, g.n_days FROM l JOIN ghost g
    ON g.mdtrt_id = l.mdtrt_id AND l.fee_date BETWEEN g.first_day AND g.last_day
),
periods AS (
    SELECT mdtrt_id, string_agg({fmt_date("first_day")} || '至' || {fmt_date("last_day")} || '连续'
                                || CAST(n_days AS VARCHAR) || '日', '、' ORDER BY first_day) AS txt,
           sum(n_days) AS days
    FROM ghost GROUP BY mdtrt_id
)
SELECT gl.mdtrt_id, any_value(gl.setl_id) AS setl_id, any_value(gl.psn_no) AS psn_no,
       any_value(gl.fixmedins_code) AS fixmedins_code, list(gl.bkkp_sn ORDER BY gl.bkkp_sn) AS bkkp_sn,
       NULL AS hilist_code, sum(gl.amt) AS amount,
       {ev} AS evidence_zh,
       NULL AS kp_id
FROM gl JOIN periods pr ON pr.mdtrt_id = gl.mdtrt_id
GROUP BY gl.mdtrt_id
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        basic_types = set(p["basic_chrgitm_types"])
        lines = [ln for ln in claim.lines_of(rule) if ln["med_type"] in INPATIENT_CODES]
        days: dict[dt.date, bool] = {}
        for ln in lines:
            d = ln["fee_date"]
            days[d] = days.get(d, True) and ln["med_chrgitm_type"] in basic_types
        drugs = [
            ln
            for ln in lines
            if ln["list_type"] in DRUG_LIST_TYPES or ln["med_chrgitm_type"] in DRUG_CHRGITM_TYPES
        ]
        short = int(p["short_stay_days"])
        # drug line's day → how many days from it its lines cover (the longest 用药周期; a line without a
        # period in a short stay: the rest of the stay), so each day looks at days, not at every drug line
        reach: dict[dt.date, float] = {}
        stays: dict[tuple, float] = {}  # (admission, discharge) → what a line without a period covers
        for g in drugs:
            prd = g["prd_days"]
            if prd is not None and prd > 0:
                n: float = math.ceil(prd)
            else:
                stay = (g["begntime"], g["endtime"])
                n = stays.get(stay, -1)
                if n < 0:
                    b, e = stay
                    short_stay = e is not None and b is not None and (e.date() - b.date()).days <= short
                    n = stays[stay] = math.inf if short_stay else 0
            if n > reach.get(g["fee_date"], 0):
                reach[g["fee_date"]] = n
        # a basic-only day that an earlier drug day's lines reach (d − f < n) had care billed once for
        # several days: not an empty day. One sweep in date order, keeping the furthest reach so far.
        starts = sorted(reach.items())
        i, furthest = 0, -math.inf
        runs: list[list[dt.date]] = []
        for d in sorted(days):
            o = d.toordinal()
            while i < len(starts) and starts[i][0] < d:
                furthest = max(furthest, starts[i][0].toordinal() + starts[i][1])
                i += 1
            if not days[d] or o < furthest:
                continue
            if runs and runs[-1][-1] + dt.timedelta(days=1) == d:
                runs[-1].append(d)
            else:
                runs.append([d])
        runs = [r for r in runs if len(r) >= p["min_days"]]
        if not runs:
            return []
        flagged = [ln for ln in lines if any(r[0] <= ln["fee_date"] <= r[-1] for r in runs)]
        flagged.sort(key=lambda ln: ln["bkkp_sn"])
        amount = sum((line_amount(rule, ln) for ln in flagged), Decimal(0))
        first = flagged[0]
        periods = "、".join(f"{r[0]:%Y-%m-%d}至{r[-1]:%Y-%m-%d}连续{len(r)}日" for r in runs)
        vals = {"begin": first["begntime"], "end": f"{first['endtime']:%Y-%m-%d}" if first["endtime"] else "未知",
                "periods": periods, "items": "、".join(sorted({ln["hilist_name"] or ln["hilist_code"] for ln in flagged})),
                "lines": len(flagged), "amount": amount}  # fmt: skip
        return [
            hit(
                rule,
                first,
                [ln["bkkp_sn"] for ln in flagged],
                amount,
                self.evidence["ghost"].render(rule, vals),
            )
        ]
