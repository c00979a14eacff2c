"""A generated city cut into monthly extracts, as a bureau receives them: one import per month.

``split_by_month(city, out)`` writes ``out/<YYYY-MM>/mdtrt_d.parquet`` and ``fee_list_d.parquet``: each visit
in the month of its admission, its fee lines with it (a stay's lines stay together, as a settlement extract
carries them); lines without a visit row go by their own date. The other tables are imported once from the
city (``reference_dirs``). Used by the incremental-audit test and benchmark.

``split_by_admission(city, out, last_share)`` cuts it in two instead: the store as it was, then the visits of the
latest period with every table keyed by visit, and a tenth of the person rows (a person row changed or first
seen later); used by real time's history-refresh test and benchmark.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from fundguard.core.sql import literal

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


def split_by_admission(city: Path, out: Path, last_share: float = 1 / 12) -> tuple[Path, Path]:
    """Write ``out/a`` (visits admitted before the ``1 - last_share`` quantile of admission time, and the
    reference tables) and ``out/b`` (the rest), one Parquet file per table; returns both folders."""
    src = {
        d.name: f"read_parquet({literal(str(d))} || '/*.parquet')"
        for d in sorted(city.iterdir())
        if d.is_dir()
    }
    first, second = out / "a", out / "b"
    with duckdb.connect() as con:
        cut = con.execute(
            f"SELECT quantile_disc(begntime, {1 - last_share}) FROM {src['mdtrt_d']}"
        ).fetchone()[0]
        con.execute(
            f"CREATE TABLE first AS SELECT mdtrt_id FROM {src['mdtrt_d']} WHERE begntime < {literal(str(cut))}"
        )
        for part, folder in (("a", first), ("b", second)):
            folder.mkdir(parents=True, exist_ok=True)
            for table, data in src.items():
                names = {c[0] for c in con.execute(f"SELECT * FROM {data} LIMIT 0").description}
                if "mdtrt_id" in names:
                    where = f"mdtrt_id {'IN' if part == 'a' else 'NOT IN'} (SELECT mdtrt_id FROM first)"
                elif table == "psn_info_b":
                    where = f"hash(psn_no) % 10 {'<>' if part == 'a' else '='} 0"
                elif part == "a":
                    where = "true"
                else:
                    continue
                target = literal(str(folder / f"{table}.parquet"))
                con.execute(f"COPY (SELECT * FROM {data} WHERE {where}) TO {target} (FORMAT parquet)")
    return first, second
