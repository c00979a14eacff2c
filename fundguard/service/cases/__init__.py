"""Cases (案件): the administrative-penalty procedure from 立案 to 结案 over a confirmed clue.

立案 → 调查取证 (≥ 2 certified officers) → 案件审核 (not by an investigator; proposed penalty checked against
the 条例 ranges and the provincial discretion table) → 法制审核 (every penalty decision by default) → 事先告知 →
陈述申辩 / 听证 → 决定 (by the head; 集体讨论 first for major cases) → 送达 → 执行 (refunds to the fund and fines to
the treasury in separate ledgers, the 3 %/day surcharge) → 结案 with its grounds, never unexecuted. Parties are
institutions or insured persons (条例 Art. 41). ``process`` binds ``CASE_FLOW`` to the ``cases`` table with its
effects; ``service`` opens, lists, shows and acts, and renders the documents. May import ``clues`` and
``referrals`` and the shared machinery.
"""

from __future__ import annotations

from fundguard.service.cases.process import CASE, CaseThresholds, execution, officer_choices, thresholds
from fundguard.service.cases.service import (
    DOCUMENT_KINDS,
    PARTY_TYPES,
    act_on_case,
    bureau,
    case_document,
    document_data,
    get_case,
    list_cases,
    open_case,
    rule_basis,
)

__all__ = [
    "CASE",
    "DOCUMENT_KINDS",
    "PARTY_TYPES",
    "CaseThresholds",
    "act_on_case",
    "bureau",
    "case_document",
    "document_data",
    "execution",
    "get_case",
    "list_cases",
    "officer_choices",
    "open_case",
    "rule_basis",
    "thresholds",
]
