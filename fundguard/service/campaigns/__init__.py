"""Special campaigns (专项整治, seeds 001/002): a campaign on the ``campaign`` process (动员部署 → 自查自纠 →
抽查复查 → 总结) and each institution's return on ``campaign_return`` (自查自纠 filed by the hospital, the bureau's
re-check confirmed by another officer); problems go to the 清零 ledger (``problems``, source ``campaign``); the
summary report (``report``: 专项整治总结报告, .docx/PDF).

May import ``inspections`` (the ledger export), ``cases`` (the issuing bureau), ``workflow``, ``record``, ``scope``, ``timing``, ``models``,
``errors`` and ``supervision``; nothing in ``service`` imports it but the demo seed.
"""

from __future__ import annotations

from fundguard.service.campaigns.report import campaign_report
from fundguard.service.campaigns.service import (
    act_on_campaign,
    act_on_return,
    campaign_ledger,
    campaign_stats,
    create_campaign,
    get_campaign,
    get_return,
    list_campaigns,
    list_returns,
)

__all__ = [
    "act_on_campaign",
    "act_on_return",
    "campaign_ledger",
    "campaign_report",
    "campaign_stats",
    "create_campaign",
    "get_campaign",
    "get_return",
    "list_campaigns",
    "list_returns",
]
