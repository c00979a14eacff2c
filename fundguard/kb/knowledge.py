"""The national 两库 knowledge points in force (NHSA batches 1–17 and the 2026-01-28 revision)."""

from __future__ import annotations

import polars as pl

from fundguard.kb._files import read


def points() -> pl.DataFrame:
    """Current knowledge points: kp_id, rule_class, gz_code, batch, item_name, constraint, detect_logic, source."""
    return read("knowledge_points")


def point_codes() -> pl.DataFrame:
    """Drug / item codes of each current knowledge point: [kp_id, rule_class, code]."""
    return read("knowledge_point_codes")


def catalog() -> pl.DataFrame:
    """The 88 rule classes of the 2025 edition: seq (int), tier1, tier2, name, has_kp_detail, gz_code_1_0."""
    return read("rule_catalog_2025").with_columns(pl.col("seq").cast(pl.Int32)).sort("seq")
