"""Reading the shipped derived CSVs: every column a string unless told otherwise (codes keep zeros)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

DATA_DIR = Path(__file__).parent / "data"


@cache
def read(name: str, numeric: tuple[str, ...] = ()) -> pl.DataFrame:
    """``data/<name>.csv`` with all columns as strings except ``numeric`` (Float64)."""
    df = pl.read_csv(DATA_DIR / f"{name}.csv", infer_schema=False)
    if numeric:
        df = df.with_columns(pl.col(c).cast(pl.Float64, strict=False) for c in numeric)
    return df
