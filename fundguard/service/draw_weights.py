"""What weighs a target in the 双随机 draw beyond its registry entry (issues 13, 14, 15): the big-data models'
risk (``models.risk.institution_risk``: 0–9 from the leads on the institution's own conduct) is added to the
registry's risk, a focus area the draw names (``focus``: 异地就医) adds ``FOCUS_WEIGHT`` to the targets it puts
first and notes why (``focus_zh``), then the credit grade multiplies it (``credit.weigh_targets``). The weights go into the pool
entries, which the draw record seals, so ``verify`` recomputes the same draw from the record alone.

The inspections concept does not import credit or the models; this module, above both, composes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from fundguard.service import credit
from fundguard.service.focus import focus_targets
from fundguard.service.inspections import FOCUS_AREAS
from fundguard.service.scope import Actor

Weigh = Callable[[Session, list[dict[str, Any]]], list[dict[str, Any]]]
FOCUS_WEIGHT = 5  # added to a focus target's risk (registry risk is 1–10, model risk 0–9): first, not certain


def pool_weights(workspace: Path | None, *, focus: Iterable[str] = (), actor: Actor | None = None) -> Weigh:
    """The weighing step for a draw in ``workspace`` (no workspace: credit grades only); ``focus`` areas need
    the drawing ``actor`` (the targets are found in its scope)."""
    focus = tuple(focus)
    if focus and actor is None:
        raise ValueError("a draw with focus areas needs its actor")

    def weigh(session: Session, pool: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from fundguard.models.risk import institution_risk  # the models layer loads only for a draw

        risk = institution_risk(workspace) if workspace is not None else {}
        areas = focus_targets(session, actor, workspace, focus) if focus and actor is not None else {}
        pool = [dict(t) for t in pool]
        for t in pool:
            extra = int(risk.get(str(t["code"]), {}).get("weight", 0))
            t["model_risk"], t["risk"] = extra, float(t.get("risk", 1)) + extra
            why = "；".join(
                f"{FOCUS_AREAS[a]}：{r[str(t['code'])]}" for a, r in areas.items() if str(t["code"]) in r
            )
            if why:
                t["focus_zh"], t["risk"] = why, t["risk"] + FOCUS_WEIGHT
        return credit.weigh_targets(session, pool)

    return weigh
