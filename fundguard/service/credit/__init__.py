"""医保信用 (条例 Art. 33): credit grades for institutions, staff and insured persons from a configurable scheme
(``supervision.credit`` with ``FUNDGUARD_CREDIT_SCHEME``), their history with reasons, the 严重失信名单 with entry
rules, leaving it only through 信用修复 (``repair``), the 失信联合惩戒名单 for partner departments in a versioned
format (``punishment``) and public disclosure, and the consequences: 双随机 draw weights, payment measures by grade
and, for insured persons, the suspension of 联网结算 (``insured``).

``service`` holds the functions; it reads decided cases, confirmed clues and the points registry (may import
``points``, ``clues`` and the shared machinery); nothing below imports it.
"""

from __future__ import annotations

from fundguard.service.credit import punishment
from fundguard.service.credit.repair import act_on_repair, apply_repair, get_repair, list_repairs
from fundguard.service.credit.service import (
    add_to_blacklist,
    distribution,
    draw_weights,
    history,
    insured_standing,
    list_blacklist,
    list_grades,
    measures_table,
    public_blacklist,
    recompute,
    scheme,
)
from fundguard.service.credit.weights import credit_weights, weigh_targets

__all__ = [
    "act_on_repair",
    "add_to_blacklist",
    "apply_repair",
    "credit_weights",
    "distribution",
    "draw_weights",
    "get_repair",
    "history",
    "insured_standing",
    "list_blacklist",
    "list_grades",
    "list_repairs",
    "measures_table",
    "public_blacklist",
    "punishment",
    "recompute",
    "scheme",
    "weigh_targets",
]
