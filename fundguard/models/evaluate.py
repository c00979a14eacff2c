"""The models' evaluation on a synthetic city with schemes (``CityConfig(schemes=True)``): where each planted
scheme of ``schemes.csv`` and each legitimate-but-unusual control ranks among the leads (tests and demo)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl

EXPECTED = {  # scheme → (model that must find it, words its reason must contain)
    "ghost_bed": ("ghost_bed", ("超过核定床位", "无诊疗护理床日占比")),
    "split_admission": ("split_admission", ("3日内再入院率",)),
    "phantom_inpatient_gang": ("gang", ("同日集中入住",)),
    "pharmacy_cashing": ("pharmacy_cashing", ("反复整额刷卡占比",)),
    "drug_resale": ("drug_resale", ("单一药品年度供应天数",)),
    "deceased_card_use": ("impersonation", ("死亡日期",)),
    "repeated_test": ("repeated_test", ("重复检查率",)),
    "upcoding": ("upcoding", ("MCC占比",)),
    "inventory_mismatch": ("inventory_mismatch", ("进销存倒挂品种占比",)),
}


@dataclass
class Placed:
    scheme: str
    name_zh: str
    entity_type: str
    entity_id: str
    rank: int | None
    """The entity's rank within its type (None: no lead)."""
    lead: dict | None
    """The lead of the expected model (schemes) or the best lead (controls)."""


def placements(city: Path, leads: Path) -> list[Placed]:
    """Each row of ``<city>/schemes.csv`` with its lead in ``leads``; a planted group is matched to the
    group lead holding more than half of its members."""
    df = pl.read_parquet(leads).sort("score", descending=True)
    out = []
    for s in csv.DictReader((city / "schemes.csv").read_text(encoding="utf-8").splitlines()):
        if s["entity_type"] == "group":  # the group lead sharing most of the planted members
            members = s["entity_id"].split(";")
            rows = df.filter(pl.col("related").list.set_intersection(members).list.len() * 2 > len(members))
        else:
            rows = df.filter(pl.col("entity_id") == s["entity_id"])
        if s["scheme"] in EXPECTED:
            rows = rows.filter(pl.col("model") == EXPECTED[s["scheme"]][0])
        lead = rows.row(0, named=True) if rows.height else None
        out.append(
            Placed(
                s["scheme"],
                s["name_zh"],
                s["entity_type"],
                s["entity_id"],
                lead["rank"] if lead else None,
                lead,
            )
        )
    return out
