"""举报处理与奖励 (issue 16): public reports on ``REPORT_FLOW`` (``process``), filed from ``/public/`` or recorded
by staff, with the reporter's identity and the attachments sealed under a key outside the database
(``sealing``), handled by facts only (``service``), and rewards on ``REWARD_FLOW`` (``rewards``).

May import ``clues`` (a report becomes a clue), ``workflow``, ``record``, ``access``, ``scope``, ``timing``,
``models``, ``errors`` and ``supervision``; nothing in ``service`` imports it but the demo seed.
"""

from __future__ import annotations

from fundguard.service.reports.process import REPORT, REWARD
from fundguard.service.reports.rewards import (
    act_on_reward,
    claim,
    compute,
    expire,
    get_reward,
    list_rewards,
    payment_ledger,
    reward_rules,
)
from fundguard.service.reports.service import (
    act_on_report,
    attachment,
    by_code,
    file_report,
    get_report,
    list_reports,
    public_status,
    reveal_identity,
    set_exclusion,
    statistics,
)

__all__ = [
    "REPORT", "REWARD", "act_on_report", "act_on_reward", "attachment", "by_code", "claim", "compute", "expire",
    "file_report", "get_report", "get_reward", "list_reports", "list_rewards", "payment_ledger", "public_status",
    "reveal_identity", "reward_rules", "set_exclusion", "statistics",
]  # fmt: skip
