"""``visit_overlap``: visits or charges whose time cannot be true — two places at once, after death,
outside the stay they are billed to."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, line_amount
from fundguard.rules.templates.stay_common import INPATIENT, INPATIENT_CODES, is_stay, scene_cond, visits

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

CHECKS = ("concurrent", "after_death", "fee_outside_stay")


class VisitOverlap(Template):
    """Impossible timing, by ``check``:

    * ``concurrent`` — a visit (门急诊 / 购药 / another stay; the rule's scenes) that begins at another
      institution while the person is in hospital: strictly after admission and before discharge, and
      with ``whole_days_only`` on a day strictly between the admission and discharge dates (transfers
      and same-day visits on the admission / discharge day are not judged). One hit per such visit,
      with its lines; a sign of 冒名就医 / 虚假就医.
    * ``after_death`` — a visit beginning, or a fee line dated, after the person's death date
      (``psn_info_b.die_date``). One hit per visit with the lines dated after death.
    * ``fee_outside_stay`` — lines of an inpatient stay dated before the admission date or after the
      discharge date (计费日期与住院时间不符). One hit per stay with those lines.

    Money at issue: the hit's lines (``line_amount``) or their fund share (``fund_amount``).
    """

    name = "visit_overlap"
    title_zh = "就诊时间冲突（同时多地就诊/死亡后就诊/计费日期不在住院期间）"
    reads = "visits"
    params = (
        Param("check", "str", "Which timing conflict / 判断的时间冲突类型", required=True, choices=CHECKS),
        Param(
            "whole_days_only",
            "bool",
            "concurrent: only visits on a full inpatient day (not the admission / discharge date) "
            "/ 同时就诊：仅判断入院日与出院日之间的整日",
            default=True,
        ),
    )

    reads = "visits"
    evidence: ClassVar[dict[str, Evidence]] = {
        "concurrent": Evidence(
            "参保人于{begin:minute}在{place}（{scene}）就诊结算{amount:money}元，而同一时间正在{stay_place}住院"
            "（入院{stay_begin:minute}，出院{stay_end:minute}，就诊ID {stay_id}），同一人同时在两地就医，疑似冒名或虚假就医"
        ),
        "after_death": Evidence(
            "参保人已于{die:date}死亡，其医保凭证于{when:minute}仍在{place}（{scene}）就诊结算{lines}条明细共"
            "{amount:money}元，死亡人员医保凭证被使用"
        ),
        "fee_outside_stay": Evidence(
            "住院期间为{begin:date}至{end:date}，却有{lines}条费用明细计费日期在住院期间之外（{items}），"
            "共{amount:money}元，计费日期与住院时间不符"
        ),
    }

    def sql(self, rule: Rule) -> str:
        return hits(rule, getattr(self, "_" + rule.params["check"])(rule))

    def _concurrent(self, rule: Rule) -> str:
        amount = amount_expr(rule, "l")
        whole = (
            "AND o.begin_date > s.begin_date AND o.begin_date < s.end_date"
            if rule.params["whole_days_only"]
            else ""
        )
        ev = self.evidence["concurrent"].sql(rule, {
            "begin": "p.begntime", "place": "COALESCE(p.fixmedins_name, p.fixmedins_code)", "scene": "p.scene",
            "amount": "COALESCE(sum(l.amt), 0)", "stay_place": "COALESCE(p.stay_name, p.stay_code)",
            "stay_begin": "p.stay_begin", "stay_end": "p.stay_end", "stay_id": "p.stay_id",
        })  # fmt: skip
        return f"""
WITH s AS {visits(rule, f"med_type IN {INPATIENT}")},
-- only persons with a stay can be in two places at once: group those persons' visits alone
o AS {visits(rule, f"psn_no IN (SELECT psn_no FROM mdtrt_d_valid WHERE med_type IN {INPATIENT})")},
pair AS (
    SELECT o.mdtrt_id, o.psn_no, o.fixmedins_code, o.fixmedins_name, o.begntime, o.scene,
           arg_min(s.mdtrt_id, s.begntime) AS stay_id, arg_min(s.fixmedins_name, s.begntime) AS stay_name,
           arg_min(s.fixmedins_code, s.begntime) AS stay_code,
           min(s.begntime) AS stay_begin, arg_min(s.endtime, s.begntime) AS stay_end
    FROM o JOIN s ON s.psn_no = o.psn_no AND s.mdtrt_id <> o.mdtrt_id
        AND s.fixmedins_code <> o.fixmedins_code AND s.med_type IN {INPATIENT}
        AND s.endtime IS NOT NULL AND o.begntime > s.begntime AND o.begntime < s.endtime {whole}
    WHERE {scene_cond(rule, "o")}
    GROUP BY ALL
),
l AS (SELECT l.*, {amount} AS amt FROM {rule_lines(rule)} l WHERE l.mdtrt_id IN (SELECT mdtrt_id FROM pair))
SELECT p.mdtrt_id, any_value(l.setl_id) AS setl_id, p.psn_no, p.fixmedins_code,
       COALESCE(list(l.bkkp_sn ORDER BY l.bkkp_sn) FILTER (WHERE l.bkkp_sn IS NOT NULL), []) AS bkkp_sn,
       NULL AS hilist_code, COALESCE(sum(l.amt), 0) AS amount,
       {ev} AS evidence_zh,
       NULL AS kp_id
FROM pair p LEFT JOIN l ON l.mdtrt_id = p.mdtrt_id
GROUP BY p.mdtrt_id, p.psn_no, p.fixmedins_code, p.fixmedins_name, p.begntime, p.scene, p.stay_id,
         p.stay_name, p.stay_code, p.stay_begin, p.stay_end
"""

    def _after_death(self, rule: Rule) -> str:
        amount = amount_expr(rule, "l")
        ev = self.evidence["after_death"].sql(rule, {
            "die": "v.die_date", "when": "COALESCE(min(l.fee_ocur_time), v.begntime)",
            "place": "COALESCE(v.fixmedins_name, v.fixmedins_code)", "scene": "v.scene", "lines": "count(l.bkkp_sn)",
            "amount": "COALESCE(sum(l.amt), 0)",
        })  # fmt: skip
        return f"""
WITH psn AS (
    SELECT psn_no, min(CAST(die_date AS DATE)) AS die_date FROM psn_info_b_valid
    WHERE die_date IS NOT NULL GROUP BY psn_no
),
v AS (SELECT v.*, p.die_date FROM {visits(rule, "psn_no IN (SELECT psn_no FROM psn)")} v JOIN psn p ON p.psn_no = v.psn_no WHERE {scene_cond(rule, "v")}),
l AS (
    SELECT l.*, {amount} AS amt FROM {rule_lines(rule)} l JOIN v ON v.mdtrt_id = l.mdtrt_id
    WHERE l.fee_date > v.die_date
)
SELECT v.mdtrt_id, any_value(l.setl_id) AS setl_id, v.psn_no, v.fixmedins_code,
       COALESCE(list(l.bkkp_sn ORDER BY l.bkkp_sn) FILTER (WHERE l.bkkp_sn IS NOT NULL), []) AS bkkp_sn,
       NULL AS hilist_code, COALESCE(sum(l.amt), 0) AS amount,
       {ev} AS evidence_zh,
       NULL AS kp_id
FROM v LEFT JOIN l ON l.mdtrt_id = v.mdtrt_id
WHERE v.begin_date > v.die_date OR l.bkkp_sn IS NOT NULL
GROUP BY v.mdtrt_id, v.psn_no, v.fixmedins_code, v.fixmedins_name, v.scene, v.begntime, v.die_date
"""

    def _fee_outside_stay(self, rule: Rule) -> str:
        amount = amount_expr(rule, "l")
        ev = self.evidence["fee_outside_stay"].sql(rule, {
            "begin": "any_value(l.begin_date)", "end": "any_value(l.end_date)", "lines": "count(*)",
            "items": "string_agg(strftime(l.fee_date, '%Y-%m-%d') || '“' || COALESCE(l.hilist_name, l.hilist_code)"
                     " || '”', '、' ORDER BY l.fee_ocur_time, l.bkkp_sn)",
            "amount": "sum(l.amt)",
        })  # fmt: skip
        return f"""
WITH v AS (
    SELECT * FROM {visits(rule, f"med_type IN {INPATIENT}")} v
    WHERE v.med_type IN {INPATIENT} AND v.end_date IS NOT NULL
),
l AS (
    SELECT l.*, {amount} AS amt, v.begin_date, v.end_date, v.fixmedins_name
    FROM {rule_lines(rule)} l JOIN v ON v.mdtrt_id = l.mdtrt_id
    WHERE l.fee_date < v.begin_date OR l.fee_date > v.end_date
)
SELECT l.mdtrt_id, any_value(l.setl_id) AS setl_id, any_value(l.psn_no) AS psn_no,
       any_value(l.fixmedins_code) AS fixmedins_code, list(l.bkkp_sn ORDER BY l.bkkp_sn) AS bkkp_sn,
       NULL AS hilist_code, sum(l.amt) AS amount,
       {ev} AS evidence_zh,
       NULL AS kp_id
FROM l GROUP BY l.mdtrt_id
"""

    # --- real time ----------------------------------------------------------------------------------------
    def keeps_visits(self, rule: Rule) -> Callable[[dict], bool] | None:
        return is_stay if rule.params["check"] == "concurrent" else None

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        v = claim.visit
        if v["begntime"] is None or not claim.in_dates(rule, v["begntime"]):
            return []
        return getattr(self, "_eval_" + rule.params["check"])(rule, claim, v)

    def _hit(self, rule: Rule, claim: Claim, v: dict, lines: list, ev: str, vals: dict) -> dict:
        lines = sorted(lines, key=lambda ln: ln["bkkp_sn"])
        amount = sum((line_amount(rule, ln) for ln in lines), Decimal(0))
        vals["amount"] = amount
        setl = lines[0]["setl_id"] if lines else None
        return hit(rule, v, [ln["bkkp_sn"] for ln in lines], amount, self.evidence[ev].render(rule, vals),
                   setl_id=setl)  # fmt: skip

    def _eval_concurrent(self, rule: Rule, claim: Claim, o: dict) -> list[dict]:
        if not claim.in_scenes(rule, o["scene"]):
            return []
        whole = rule.params["whole_days_only"]
        stays = [
            s for s in claim.visits
            if s["med_type"] in INPATIENT_CODES and claim.in_dates(rule, s["begntime"]) and s["endtime"] is not None
            and s["fixmedins_code"] is not None and o["fixmedins_code"] is not None
            and s["fixmedins_code"] != o["fixmedins_code"] and s["begntime"] < o["begntime"] < s["endtime"]
            and (not whole or s["begin_date"] < o["begin_date"] < s["end_date"])
        ]  # fmt: skip
        if not stays:
            return []
        s = min(stays, key=lambda s: s["begntime"])
        vals = {"begin": o["begntime"], "place": o["fixmedins_name"] or o["fixmedins_code"], "scene": o["scene"],
                "stay_place": s["fixmedins_name"] or s["fixmedins_code"], "stay_begin": s["begntime"],
                "stay_end": s["endtime"], "stay_id": s["mdtrt_id"]}  # fmt: skip
        return [self._hit(rule, claim, o, claim.lines_of(rule), "concurrent", vals)]

    def _eval_after_death(self, rule: Rule, claim: Claim, v: dict) -> list[dict]:
        die = claim.die_date
        if die is None or not claim.in_scenes(rule, v["scene"]):
            return []
        lines = [ln for ln in claim.lines_of(rule) if ln["fee_date"] > die]
        if not (v["begin_date"] > die or lines):
            return []
        vals = {"die": die, "when": min((ln["fee_ocur_time"] for ln in lines), default=v["begntime"]),
                "place": v["fixmedins_name"] or v["fixmedins_code"], "scene": v["scene"], "lines": len(lines)}  # fmt: skip
        return [self._hit(rule, claim, v, lines, "after_death", vals)]

    def _eval_fee_outside_stay(self, rule: Rule, claim: Claim, v: dict) -> list[dict]:
        if v["med_type"] not in INPATIENT_CODES or v["end_date"] is None:
            return []
        b, e = v["begin_date"], v["end_date"]
        lines = [ln for ln in claim.lines_of(rule) if ln["fee_date"] < b or ln["fee_date"] > e]
        if not lines:
            return []
        items = "、".join(
            f"{ln['fee_date']:%Y-%m-%d}“{ln['hilist_name'] or ln['hilist_code']}”"
            for ln in sorted(lines, key=lambda ln: (ln["fee_ocur_time"], ln["bkkp_sn"]))
        )
        first = lines[0]
        vals = {"begin": b, "end": e, "lines": len(lines), "items": items}
        h = self._hit(rule, claim, v, lines, "fee_outside_stay", vals)
        return [{**h, "psn_no": first["psn_no"], "fixmedins_code": first["fixmedins_code"]}]
