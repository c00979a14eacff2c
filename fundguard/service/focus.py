"""Focus areas (重点领域) of inspection plans and draws: which institutions each area puts first, and why.

Today the one area is 异地就医 (``inspections.FOCUS_AREAS``): the institutions the out-of-region indicator flags and
those with open clues about out-of-region patients (``crossregion.focus_targets``). The inspections concept sits
below cross-region supervision, so this module, above both, composes them; an annual plan takes the result as its
``focus``, and a draw's weighing step (``draw_weights``) raises those targets' weights and notes the reason in the
sealed pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from fundguard.service import crossregion
from fundguard.service.errors import ValidationFailed
from fundguard.service.inspections import FOCUS_AREAS
from fundguard.service.scope import Actor


def focus_targets(
    session: Session, actor: Actor, workspace: Path | None, areas: Iterable[str]
) -> dict[str, dict[str, str]]:
    """``{area: {fixmedins_code: reason in Chinese}}`` for the named focus areas, in the actor's scope."""
    areas = sorted(set(areas))
    unknown = [a for a in areas if a not in FOCUS_AREAS]
    if unknown:
        raise ValidationFailed(
            f"重点领域应为 {'、'.join(FOCUS_AREAS.values())}",
            f"unknown focus areas {unknown}; known: {list(FOCUS_AREAS)}",
        )
    sources = {"crossregion": crossregion.focus_targets}
    return {area: sources[area](session, actor, workspace) for area in areas}
