"""``stay_quantity_cap``: days or hours billed beyond the length of an inpatient stay (床位费 days,
监护 / 暖箱 / 呼吸机 hours beyond the stay's days × 24)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import hits, in_list, lit, rule_lines
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, rule_memo
from fundguard.rules.templates.stay_common import INPATIENT, INPATIENT_CODES

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

MATCH_MEMO_SIZE = 100_000
"""(name, code) pairs whose matching fact a rule keeps across claims (cleared when full)."""
_FACTS = object()  # the memo's key of the rule's sorted facts
_UNSEEN = object()

RANK = {"high": 0, "medium": 1, "low": 2}
DAY_RULES = {"both": "入院出院当日均计", "in_not_out": "算入不算出"}


def _matches(ln: Row, k: Row) -> bool:
    name, code = ln["hilist_name"] or "", ln["hilist_code"] or ""
    return k["name_contains"] in name or (k["code_prefix"] != "" and code.startswith(k["code_prefix"]))


class StayQuantityCap(Template):
    """Per inpatient stay (``med_type`` inpatient, admission and discharge times known) and ``cap_group`` of
    ``kb_stay_units`` (items priced per 日 or 小时: 《全国医疗服务价格项目规范》计价单位; a line belongs to a row
    when its name contains ``name_contains`` or its code starts with ``code_prefix``), the summed quantity
    (``cnt``) against the stay: days = calendar days from admission to discharge (``day_rule`` both: both
    ends counted; in_not_out: 算入不算出, at least 1) plus ``tolerance_days``; hours = those days × 24. Only
    the rule's ``units`` and facts at or above ``min_confidence``.

    One hit per stay × group with every line of the group; money at issue: the group's amount × (quantity −
    cap) / quantity (``excess_over_limit``).
    """

    name = "stay_quantity_cap"
    title_zh = "按日/按小时计费数量超过住院时长"
    knowledge = ("kb_stay_units",)
    knowledge_required = True
    knowledge_by_code = False  # matched by names and code prefixes
    knowledge_keys: ClassVar[dict[str, tuple[str, ...]]] = {"kb_stay_units": ("fact_id",)}
    amount_rules = ("excess_over_limit",)
    params = (
        Param("units", "str_list", "Which units: 日, 小时 / 计价单位", default=["日", "小时"]),
        Param(
            "day_rule",
            "str",
            "Counting the stay's days / 住院天数计算",
            default="both",
            choices=tuple(DAY_RULES),
        ),
        Param("tolerance_days", "int", "Days allowed beyond the stay / 允许超出天数", default=0),
        Param(
            "min_confidence",
            "str",
            "Least confidence of the unit facts / 采用知识的最低置信度",
            default="medium",
            choices=tuple(RANK),
        ),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "cap": Evidence(
            "住院{begin:minute}至{end:minute}，按{rule_zh}计{days}天，“{group}”按{unit}计费合计{qty:num}{unit}"
            "（{lines}条明细），超过住院时长上限{cap:num}{unit}，超出部分{amount:money}元"
        )
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        p = rule.params
        out = []
        if not p["units"] or set(p["units"]) - {"日", "小时"}:
            out.append(("params.units", "units must be 日 and/or 小时 / 计价单位须为日或小时"))
        if p["tolerance_days"] < 0:
            out.append(("params.tolerance_days", "must be ≥ 0 / 须不小于0"))
        return out

    def _days_sql(self, rule: Rule) -> str:
        diff = "date_diff('day', CAST(l.begntime AS DATE), CAST(l.endtime AS DATE))"
        base = f"{diff} + 1" if rule.params["day_rule"] == "both" else f"greatest({diff}, 1)"
        return f"({base} + {int(rule.params['tolerance_days'])})"

    def _days(self, rule: Rule, begin, end) -> int:
        diff = (end.date() - begin.date()).days
        base = diff + 1 if rule.params["day_rule"] == "both" else max(diff, 1)
        return base + int(rule.params["tolerance_days"])

    def sql(self, rule: Rule) -> str:
        p = rule.params
        ok = [c for c, r in RANK.items() if r <= RANK[p["min_confidence"]]]
        cap = "CAST(CASE WHEN g.unit = '小时' THEN g.days * 24 ELSE g.days END AS DOUBLE)"
        amount = f"g.fee * (g.qty - {cap}) / g.qty"
        ev = self.evidence["cap"].sql(rule, {
            "begin": "g.begntime", "end": "g.endtime", "rule_zh": lit(DAY_RULES[p["day_rule"]]), "days": "g.days",
            "group": "g.cap_group", "unit": "g.unit", "qty": "g.qty", "lines": "g.lines", "cap": cap,
            "amount": amount,
        })  # fmt: skip
        # a fact matches a line by its name and code alone: matched once per distinct (code, name) billed
        # and equi-joined to the lines, not line by line under contains / starts_with
        inner = f"""
WITH k AS (
    SELECT * FROM kb_stay_units
    WHERE confidence IN ({", ".join(lit(c) for c in ok)}) AND unit IN {in_list(p["units"])}
),
s AS (
    SELECT l.* FROM {rule_lines(rule)} l
    WHERE l.med_type IN {INPATIENT} AND l.begntime IS NOT NULL AND l.endtime IS NOT NULL
      AND l.endtime >= l.begntime
),
f AS (  -- the first fact (by fact_id) each distinct billed (code, name) matches
    SELECT c.hilist_code, c.hilist_name, arg_min(k.cap_group, k.fact_id) AS cap_group,
           arg_min(k.unit, k.fact_id) AS unit, min(k.fact_id) AS fact_id
    FROM (SELECT DISTINCT hilist_code, hilist_name FROM s) c
    JOIN k ON contains(COALESCE(c.hilist_name, ''), k.name_contains)
         OR (k.code_prefix <> '' AND starts_with(COALESCE(c.hilist_code, ''), k.code_prefix))
    GROUP BY c.hilist_code, c.hilist_name
),
m AS (  -- each line once (a line is one bkkp_sn, the key of fee_list_d), in the group of that fact
    SELECT l.*, f.cap_group, f.unit, f.fact_id
    FROM s l JOIN f ON f.hilist_code IS NOT DISTINCT FROM l.hilist_code
         AND f.hilist_name IS NOT DISTINCT FROM l.hilist_name
),
g AS (
    SELECT l.mdtrt_id, l.cap_group, any_value(l.unit) AS unit, min(l.setl_id) AS setl_id,
           min(l.psn_no) AS psn_no, min(l.fixmedins_code) AS fixmedins_code, min(l.hilist_code) AS hilist_code,
           any_value(l.begntime) AS begntime, any_value(l.endtime) AS endtime,
           any_value({self._days_sql(rule)}) AS days,
           CAST(sum(l.cnt) AS DOUBLE) AS qty, CAST(sum(l.det_item_fee_sumamt) AS DOUBLE) AS fee,
           count(*) AS lines, min(l.fact_id) AS fact_id,
           list(l.bkkp_sn ORDER BY l.fee_ocur_time NULLS LAST, l.bkkp_sn) AS sns
    FROM m l GROUP BY l.mdtrt_id, l.cap_group
)
SELECT g.mdtrt_id, g.setl_id, g.psn_no, g.fixmedins_code, g.sns AS bkkp_sn, g.hilist_code,
       {amount} AS amount, {ev} AS evidence_zh, g.fact_id AS kp_id
FROM g WHERE g.qty > {cap}
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        index = claim.knowledge("kb_stay_units")
        memo = rule_memo(rule, index, "facts")
        facts = memo.get(_FACTS)
        if facts is None:  # the rule's facts in fact_id order, once per rule and knowledge version
            p = rule.params
            limit, units = RANK[p["min_confidence"]], set(p["units"])
            facts = memo[_FACTS] = sorted(
                (k for rows in index.values() for k in rows
                 if RANK.get(k["confidence"], 9) <= limit and k["unit"] in units),
                key=lambda k: k["fact_id"],
            )  # fmt: skip
        if not facts:
            return []
        groups: dict[str, list[tuple[Row, Row]]] = {}
        for ln in claim.lines_of(rule):
            b, e = ln["begntime"], ln["endtime"]
            if ln["med_type"] not in INPATIENT_CODES or b is None or e is None or e < b:
                continue
            # the first fact a line matches depends on its name and code alone: looked up once per pair
            key = (ln["hilist_name"], ln["hilist_code"])
            k = memo.get(key, _UNSEEN)
            if k is _UNSEEN:
                k = next((k for k in facts if _matches(ln, k)), None)
                if len(memo) > MATCH_MEMO_SIZE:
                    memo.clear()
                    memo[_FACTS] = facts
                memo[key] = k
            if k is not None:
                groups.setdefault(k["cap_group"], []).append((ln, k))
        p = rule.params
        out = []
        for group, rows in groups.items():
            first = rows[0][0]
            unit = rows[0][1]["unit"]
            days = self._days(rule, first["begntime"], first["endtime"])
            cap = float(days * 24 if unit == "小时" else days)
            qty = float(sum(ln["cnt"] for ln, _ in rows))
            if not qty > cap:
                continue
            fee = float(sum(ln["det_item_fee_sumamt"] for ln, _ in rows))
            amount = fee * (qty - cap) / qty
            order = sorted(
                rows,
                key=lambda r: (r[0]["fee_ocur_time"] is None, r[0]["fee_ocur_time"] or 0, r[0]["bkkp_sn"]),
            )
            vals = {
                "begin": first["begntime"], "end": first["endtime"], "rule_zh": DAY_RULES[p["day_rule"]],
                "days": days, "group": group, "unit": unit, "qty": qty, "lines": len(rows), "cap": cap,
                "amount": amount,
            }  # fmt: skip
            out.append(hit(rule, first, [ln["bkkp_sn"] for ln, _ in order], amount,
                           self.evidence["cap"].render(rule, vals),
                           hilist_code=min(ln["hilist_code"] for ln, _ in rows),
                           kp_id=min(k["fact_id"] for _, k in rows)))  # fmt: skip
        return out
