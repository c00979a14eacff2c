"""Credit grades into the 双随机 draw: each institution's weight from its latest grade (lower grades drawn more
often, ``consequences.<grade>.draw_weight`` of the scheme), and the hook the draw takes — ``weigh_targets``
multiplies each pool target's ``risk`` by that weight and notes the grade, before the pool is sealed into the
draw record (so ``verify`` recomputes the same result from the record alone).

Plugging in (the API layer composes, the inspections concept does not import credit)::

    pool = target_pool(session, actor)
    pool = credit.weigh_targets(session, pool)     # risk × credit weight, credit_grade noted
    draws.draw({"targets": pool, "inspectors": ...}, rules, seed)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service.models import CreditGrade

from .service import scheme


def credit_weights(session: Session, codes: Iterable[str]) -> dict[str, tuple[str, float]]:
    """Institution code → (latest grade or "", draw weight); an ungraded institution weighs as the
    second-best grade (no news is not good news enough for the best weight)."""
    codes = list(dict.fromkeys(codes))
    sch = scheme()
    default_grade = sch.grades[min(1, len(sch.grades) - 1)][0]
    latest = select(func.max(CreditGrade.id)).where(CreditGrade.subject_type == "institution").group_by(
        CreditGrade.subject_id)  # fmt: skip
    grades: dict[str, str] = {}
    for i in range(0, len(codes), 500):  # bounded IN lists
        rows = session.execute(select(CreditGrade.subject_id, CreditGrade.grade).where(
            CreditGrade.id.in_(latest), CreditGrade.subject_id.in_(codes[i:i + 500]))).all()  # fmt: skip
        grades.update(dict(rows))

    def weight(grade: str) -> float:
        return float(sch.consequences.get(grade or default_grade, {}).get("draw_weight", 1))

    return {c: (grades.get(c, ""), weight(grades.get(c, ""))) for c in codes}


def weigh_targets(session: Session, targets: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The draw pool with each target's ``risk`` multiplied by its credit weight (``credit_grade`` and
    ``credit_weight`` noted for the record)."""
    pool = [dict(t) for t in targets]
    weights = credit_weights(session, (str(t["code"]) for t in pool))
    for t in pool:
        grade, w = weights[str(t["code"])]
        t["credit_grade"], t["credit_weight"] = grade, w
        t["risk"] = float(t.get("risk", 1)) * w
    return pool
