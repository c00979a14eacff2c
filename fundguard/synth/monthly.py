"""A generated city cut into monthly extracts, as a bureau receives them: one import per month.

``split_by_month(city, out)`` writes ``out/<YYYY-MM>/mdtrt_d.parquet`` and ``fee_list_d.parquet``: each visit
in the month of its admission, its fee lines with it (a stay's lines stay together, as a settlement extract
carries them); lines without a visit row go by their own date. The other tables are imported once from the
city (``reference_dirs``). Used by the incremental-audit test and benchmark.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

MONTHLY_TABLES = ("mdtrt_d", "fee_list_d")


def reference_dirs(city: Path) -> list[Path]:
    """The city's table folders other than the monthly ones (persons, institutions, settlements…)."""
    return [d for d in sorted(Path(city).iterdir()) if d.is_dir() and d.name not in MONTHLY_TABLES]


def split_by_month(city: Path, out: Path) -> list[Path]:
    """Write one folder per month under ``out`` (oldest first) and return them."""
    city, out = Path(city), Path(out)
    with duckdb.connect() as con:
        visits = f"read_parquet('{city}/mdtrt_d/*.parquet')"
        fees = f"read_parquet('{city}/fee_list_d/*.parquet')"
        con.execute(
            f"CREATE TABLE vm AS SELECT mdtrt_id, any_value(strftime(begntime, '%Y-%m')) AS m FROM {visits} "
            "GROUP BY mdtrt_id"
        )
        con.execute(
            f"CREATE TABLE fm AS SELECT f.bkkp_sn, COALESCE(vm.m, strftime(f.fee_ocur_time, '%Y-%m')) AS m "
            f"FROM {fees} f LEFT JOIN vm USING (mdtrt_id)"
        )
        months = [
            m for (m,) in con.execute("SELECT DISTINCT m FROM fm WHERE m IS NOT NULL ORDER BY m").fetchall()
        ]
        dirs = []
        for m in months:
            d = out / m
            d.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"COPY (SELECT v.* FROM {visits} v SEMI JOIN (SELECT * FROM vm WHERE m = '{m}') x USING (mdtrt_id)) "
                f"TO '{d / 'mdtrt_d.parquet'}' (FORMAT parquet)"
            )
            con.execute(
                f"COPY (SELECT f.* FROM {fees} f SEMI JOIN (SELECT * FROM fm WHERE m = '{m}') x USING (bkkp_sn)) "
                f"TO '{d / 'fee_list_d.parquet'}' (FORMAT parquet)"
            )
            dirs.append(d)
    return dirs
