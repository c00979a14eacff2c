"""Shared SQL pieces of the visit / stay templates (visit_overlap, readmission, ghost_bed, group_admission).

These templates judge visits and inpatient stays rather than single lines: they read ``mdtrt_d_valid``,
``setl_d_valid`` and ``psn_info_b_valid`` directly and ``claim_lines`` only for the lines of a visit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundguard.rules.base import SCENE_MED_TYPES, _scene_expr, in_list, lit

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

INPATIENT = in_list(SCENE_MED_TYPES["住院"])
"""SQL list of the inpatient med_type codes."""
INPATIENT_CODES = frozenset(SCENE_MED_TYPES["住院"])
"""The inpatient med_type codes (for evaluators)."""


def is_stay(visit: dict) -> bool:
    """An inpatient stay (a ``visits`` row)."""
    return visit["med_type"] in INPATIENT_CODES


def visits(rule: Rule, where: str = "") -> str:
    """``mdtrt_d_valid`` (one row per mdtrt_id) with ``scene``, ``begin_date`` / ``end_date`` and the
    3-character main diagnosis category ``dx3``, restricted to the rule's effective dates (by begntime),
    as a parenthesised subquery. Scenes are not applied here: each template decides which visit they
    restrict. ``where`` (a condition on ``mdtrt_d_valid`` columns) keeps only those rows before the
    per-visit grouping, which is the cost here: a template judging inpatient stays groups those alone."""
    cond = ["begntime IS NOT NULL", *([f"({where})"] if where else [])]
    if rule.effective_from:
        cond.append(f"begntime >= {lit(rule.effective_from)}")
    if rule.effective_to:
        cond.append(f"begntime < {lit(rule.effective_to)} + INTERVAL 1 DAY")
    return f"""(SELECT mdtrt_id, any_value(psn_no) AS psn_no, any_value(fixmedins_code) AS fixmedins_code,
        any_value(fixmedins_name) AS fixmedins_name, any_value(med_type) AS med_type,
        any_value(begntime) AS begntime, any_value(endtime) AS endtime,
        CAST(any_value(begntime) AS DATE) AS begin_date, CAST(any_value(endtime) AS DATE) AS end_date,
        any_value(adm_dept_codg) AS adm_dept_codg, any_value(adm_dept_name) AS adm_dept_name,
        any_value(dscg_maindiag_code) AS maindiag,
        upper(left(replace(any_value(dscg_maindiag_code), '.', ''), 3)) AS dx3,
        {_scene_expr("any_value(med_type)")} AS scene
    FROM mdtrt_d_valid WHERE {" AND ".join(cond)} GROUP BY mdtrt_id)"""


def scene_cond(rule: Rule, alias: str) -> str:
    """SQL condition restricting visit ``alias`` to the rule's scenes ('TRUE' when all main scenes)."""
    scenes = set(rule.scenes)
    if not scenes or set(SCENE_MED_TYPES) <= scenes:
        return "TRUE"
    return f"{alias}.scene IN {in_list(sorted(scenes))}"


def visit_fund(ids: str | None = None) -> str:
    """Per mdtrt_id: ``fund`` (统筹等基金支付, fund_pay_sumamt else hifp_pay) and ``medfee`` (总费用) over the
    valid, not reversed settlements, as a parenthesised subquery; with ``ids`` (a query of mdtrt_id) only
    for those visits, so a rule with few hits does not sum every settlement of the store."""
    only = f" AND mdtrt_id IN ({ids})" if ids else ""
    return f"""(SELECT mdtrt_id, any_value(setl_id) AS setl_id,
        sum(COALESCE(fund_pay_sumamt, hifp_pay, 0)) AS fund, sum(COALESCE(medfee_sumamt, 0)) AS medfee
    FROM setl_d_valid
    WHERE (init_setl_id IS NULL OR init_setl_id = '') AND COALESCE(refd_setl_flag, '0') <> '1'{only}
    GROUP BY mdtrt_id)"""


def fmt_date(expr: str) -> str:
    return f"strftime({expr}, '%Y-%m-%d')"


def fmt_time(expr: str) -> str:
    return f"strftime({expr}, '%Y-%m-%d %H:%M')"
