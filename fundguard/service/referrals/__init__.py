"""Referrals (移送) to 公安 / 纪检监察 / 卫生健康 / 市场监管 with the head's approval, receipts and time limits,
and clue transfers (移交/转办) in and out between departments and regions.

Police referrals follow 《行政执法机关移送涉嫌犯罪案件的规定》: the head decides within 3 days, the file goes
within 24 hours of approval, the police decide within 3 days (limits from ``supervision.deadlines``).
``process`` binds ``REFERRAL_FLOW`` to the ``referrals`` table; ``service`` creates, lists and acts; a transfer's
answer moves the clue through the clue process. May import ``clues`` and the shared machinery.
"""

from __future__ import annotations

from fundguard.service.referrals.process import REFERRAL
from fundguard.service.referrals.service import (
    act_on_referral,
    answer_transfer,
    create_referral,
    get_referral,
    list_referrals,
    list_transfers,
)

__all__ = [
    "REFERRAL",
    "act_on_referral",
    "answer_transfer",
    "create_referral",
    "get_referral",
    "list_referrals",
    "list_transfers",
]
