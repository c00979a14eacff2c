"""The models' risk of each institution, for the inspection target pool (双随机 risk-weighted draws).

``institution_risk(workspace)`` reads the newest model run's leads and files each lead on an institution's own
conduct under it — an institution or pharmacy itself, a department's or doctor's institution, and a group's
institution of most stays (诱导住院 needs the hospital) — and gives each institution its best score, the number of
such leads, the models, its best reason, and ``weight`` (0–9: the score in steps of 3, so a lead at the models'
floor adds 1 and a planted scheme 6–9) that a draw can add to the registry's risk weight. A person's lead (倒卖药品,
冒名) says little about the pharmacy or hospital the person used, so it is only counted (``person_leads``).
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

from fundguard.core.errors import InputError
from fundguard.core.workspace import Workspace

WEIGHT_STEP = 3.0
MAX_WEIGHT = 9


def weight(score: float) -> int:
    """A lead score → 0–9 extra draw weight (0 for no lead)."""
    return 0 if score <= 0 else min(MAX_WEIGHT, math.ceil(score / WEIGHT_STEP))


def institution_risk(workspace: Path, run_id: str | None = None) -> dict[str, dict]:
    """``{fixmedins_code: {score, weight, leads, models, reason}}`` from the given or newest model run; empty
    when the workspace has no model run (the pool then stands on the registry's own weights)."""
    ws = Workspace(workspace)
    try:
        path = ws.lead_run(run_id or ws.latest_lead_run()) / "leads.parquet"
    except InputError:  # no model run yet
        return {}
    if not path.exists():
        return {}
    df = pl.read_parquet(
        path, columns=["entity_type", "entity_id", "model_name", "score", "reasons", "institutions"]
    )
    df = df.with_columns(
        inst=pl.when(pl.col("entity_type").is_in(["institution", "pharmacy"]))
        .then(pl.col("entity_id"))
        .when(pl.col("entity_type") == "department")
        .then(pl.col("entity_id").str.split("/").list.first())
        .otherwise(pl.col("institutions").list.first())
    ).filter(pl.col("inst").is_not_null())
    people = dict(df.filter(pl.col("entity_type") == "person").group_by("inst").len().iter_rows())
    per = (
        df.filter(pl.col("entity_type") != "person")
        .sort("score", descending=True)
        .group_by("inst", maintain_order=True)
        .agg(
            score=pl.col("score").first(),
            leads=pl.len(),
            models=pl.col("model_name").unique(maintain_order=True),
            reason=pl.col("reasons").first().list.first(),
        )
    )
    out = {
        r["inst"]: {
            "score": r["score"],
            "weight": weight(r["score"]),
            "leads": r["leads"],
            "models": r["models"],
            "reason": r["reason"] or "",
            "person_leads": people.get(r["inst"], 0),
        }
        for r in per.iter_rows(named=True)
    }
    for inst, n in people.items():
        out.setdefault(
            inst, {"score": 0.0, "weight": 0, "leads": 0, "models": [], "reason": "", "person_leads": n}
        )
    return out
