"""What became of the models' clues: the service's decided outcomes read back as labels.

A model clue (source 大数据模型) carries one evidence line per lead that made it, naming the model (``kp_id``).
Once the clue is decided — confirmed (确认/处罚/协议处理) or refuted (撤销/申诉成立/不予处罚) — every model whose
lead is on it is credited with that outcome: ``model_precision`` is the share confirmed per model, the
models' precision as the bureau's own work measured it. ``institution_labels`` gives each institution with a
decided clue (of any source) 1 (some flag confirmed) or 0 (all refuted): the labels of the supervised model.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service.clues import CONFIRMED_OUTCOMES, REFUTED_OUTCOMES
from fundguard.service.models import Clue, ClueHit

DECIDED = (*CONFIRMED_OUTCOMES, *REFUTED_OUTCOMES)


def model_precision(session: Session) -> list[dict]:
    """Per model: model clues decided, confirmed, refuted, precision (None before any decision), and how
    many of its clues are still open; most decided first."""
    rows = session.execute(
        select(ClueHit.kp_id, Clue.id, Clue.outcome)
        .join(Clue, Clue.id == ClueHit.clue_id)
        .where(Clue.source == "model")
        .distinct()
    ).all()
    stats: dict[str, dict] = {}
    for model, _, outcome in rows:
        s = stats.setdefault(model, {"model": model, "clues": 0, "confirmed": 0, "refuted": 0})
        s["clues"] += 1
        s["confirmed"] += outcome in CONFIRMED_OUTCOMES
        s["refuted"] += outcome in REFUTED_OUTCOMES
    out = []
    for s in stats.values():
        decided = s["confirmed"] + s["refuted"]
        out.append({**s, "decided": decided, "open": s["clues"] - decided,
                    "precision": round(s["confirmed"] / decided, 4) if decided else None})  # fmt: skip
    return sorted(out, key=lambda s: (-s["decided"], s["model"]))


def institution_labels(session: Session) -> dict[str, int]:
    """Institution → 1 when any of its decided clues was confirmed, 0 when every decided one was refuted."""
    labels: dict[str, int] = {}
    for code, outcome in session.execute(
        select(Clue.fixmedins_code, Clue.outcome).where(Clue.outcome.in_(DECIDED))
    ).all():
        labels[code] = max(labels.get(code, 0), int(outcome in CONFIRMED_OUTCOMES))
    return labels
