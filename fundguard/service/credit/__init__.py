"""医保信用 (条例 Art. 33): credit grades for institutions, staff and insured persons from a configurable scheme
(``supervision.credit`` with ``FUNDGUARD_CREDIT_SCHEME``), their history with reasons, the 严重失信名单 with entry
rules, repair (leaving early with a reason), export for partner departments and public disclosure, and the
consequences: 双随机 draw weights and payment measures by grade.

``service`` holds the functions; it reads decided cases, confirmed clues and the points registry (may import
``points``, ``clues`` and the shared machinery); nothing below imports it.
"""

from __future__ import annotations

from fundguard.service.credit.repair import act_on_repair, apply_repair, get_repair, list_repairs
from fundguard.service.credit.service import (
    add_to_blacklist,
    distribution,
    draw_weights,
    export_blacklist,
    history,
    leave_blacklist,
    list_blacklist,
    list_grades,
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
    "export_blacklist",
    "get_repair",
    "history",
    "leave_blacklist",
    "list_blacklist",
    "list_grades",
    "list_repairs",
    "public_blacklist",
    "recompute",
    "scheme",
    "weigh_targets",
]
