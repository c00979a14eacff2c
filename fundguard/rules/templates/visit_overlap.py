"""``visit_overlap``: visits or charges whose time cannot be true — two places at once, after death,
outside the stay they are billed to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundguard.rules.base import amount_expr, hits, money, rule_lines, source_note
from fundguard.rules.templates.base import Param, Template
from fundguard.rules.templates.stay_common import INPATIENT, fmt_date, fmt_time, scene_cond, visits

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

    def sql(self, rule: Rule) -> str:
        return hits(rule, getattr(self, "_" + rule.params["check"])(rule))

    def _concurrent(self, rule: Rule) -> str:
        amount = amount_expr(rule, "l")
        whole = (
            "AND o.begin_date > s.begin_date AND o.begin_date < s.end_date"
            if rule.params["whole_days_only"]
            else ""
        )
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
       '参保人于' || {fmt_time("p.begntime")} || '在' || COALESCE(p.fixmedins_name, p.fixmedins_code) || '（'
         || p.scene || '）就诊结算' || {money("COALESCE(sum(l.amt), 0)")} || '元，而同一时间正在'
         || COALESCE(p.stay_name, p.stay_code) || '住院（入院' || {fmt_time("p.stay_begin")} || '，出院'
         || {fmt_time("p.stay_end")} || '，就诊ID ' || p.stay_id || '），同一人同时在两地就医，疑似冒名或虚假就医'
         || {source_note(rule)} AS evidence_zh,
       NULL AS kp_id
FROM pair p LEFT JOIN l ON l.mdtrt_id = p.mdtrt_id
GROUP BY p.mdtrt_id, p.psn_no, p.fixmedins_code, p.fixmedins_name, p.begntime, p.scene, p.stay_id,
         p.stay_name, p.stay_code, p.stay_begin, p.stay_end
"""

    def _after_death(self, rule: Rule) -> str:
        amount = amount_expr(rule, "l")
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
       '参保人已于' || {fmt_date("v.die_date")} || '死亡，其医保凭证于'
         || {fmt_time("COALESCE(min(l.fee_ocur_time), v.begntime)")} || '仍在'
         || COALESCE(v.fixmedins_name, v.fixmedins_code) || '（' || v.scene || '）就诊结算'
         || CAST(count(l.bkkp_sn) AS VARCHAR) || '条明细共' || {money("COALESCE(sum(l.amt), 0)")}
         || '元，死亡人员医保凭证被使用' || {source_note(rule)} AS evidence_zh,
       NULL AS kp_id
FROM v LEFT JOIN l ON l.mdtrt_id = v.mdtrt_id
WHERE v.begin_date > v.die_date OR l.bkkp_sn IS NOT NULL
GROUP BY v.mdtrt_id, v.psn_no, v.fixmedins_code, v.fixmedins_name, v.scene, v.begntime, v.die_date
"""

    def _fee_outside_stay(self, rule: Rule) -> str:
        amount = amount_expr(rule, "l")
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
       '住院期间为' || {fmt_date("any_value(l.begin_date)")} || '至' || {fmt_date("any_value(l.end_date)")}
         || '，却有' || CAST(count(*) AS VARCHAR) || '条费用明细计费日期在住院期间之外（'
         || string_agg({fmt_date("l.fee_date")} || '“' || COALESCE(l.hilist_name, l.hilist_code) || '”', '、'
                       ORDER BY l.fee_ocur_time, l.bkkp_sn)
         || '），共' || {money("sum(l.amt)")} || '元，计费日期与住院时间不符' || {source_note(rule)} AS evidence_zh,
       NULL AS kp_id
FROM l GROUP BY l.mdtrt_id
"""
