"""What weighs a target in the 双随机 draw beyond its registry entry (issues 13, 14, 15): the big-data models'
risk (``models.risk.institution_risk``: 0–9 from the leads on the institution's own conduct) is added to the
registry's risk, then the credit grade multiplies it (``credit.weigh_targets``). The weights go into the pool
entries, which the draw record seals, so ``verify`` recomputes the same draw from the record alone.

The inspections concept does not import credit or the models; this module, above both, composes them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from fundguard.service import credit

Weigh = Callable[[Session, list[dict[str, Any]]], list[dict[str, Any]]]


def pool_weights(workspace: Path | None) -> Weigh:
    """The weighing step for a draw in ``workspace`` (no workspace: credit grades only)."""

    def weigh(session: Session, pool: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from fundguard.models.risk import institution_risk  # the models layer loads only for a draw

        risk = institution_risk(workspace) if workspace is not None else {}
        pool = [dict(t) for t in pool]
        for t in pool:
            extra = int(risk.get(str(t["code"]), {}).get("weight", 0))
            t["model_risk"], t["risk"] = extra, float(t.get("risk", 1)) + extra
        return credit.weigh_targets(session, pool)

    return weigh
