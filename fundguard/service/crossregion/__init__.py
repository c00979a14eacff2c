"""异地就医 supervision (issue 16): claims whose insured region (``insu_admdvs``) differs from the institution's
region are first-class. ``service`` links clues to the insurance regions of their patients (so the place of
insurance sees its insured persons' clues at institutions elsewhere, on its own duty, without seeing the rest of
those clues), computes the per-institution indicator (share of out-of-region patients; flags small institutions
and pharmacies with an unusual share: 异地刷卡套现), and carries joint handling (联合办案) requests between the
two regions; ``flagged`` turns the flagged institutions into clues and names them as an inspection focus
(异地就医 as a focus area of a plan or a draw). May import ``clues`` and below.
"""

from __future__ import annotations

from fundguard.service.crossregion.flagged import flag_clues, focus_targets
from fundguard.service.crossregion.service import (
    answer_joint,
    indicator,
    link_clues,
    list_linked,
    request_joint,
    summary,
)

__all__ = [
    "answer_joint",
    "flag_clues",
    "focus_targets",
    "indicator",
    "link_clues",
    "list_linked",
    "request_joint",
    "summary",
]
