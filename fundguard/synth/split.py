"""Split a generated city into two imports by admission time: the store as it was, then the latest period.

Used to try what happens when a new month lands (real time's history refresh, incremental audits): every
table with ``mdtrt_id`` follows its visit; the person rows whose ``hash(psn_no) % 10 = 0`` arrive with the
second import (a person row changed or first seen later); the other reference tables come with the first.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from fundguard.core.sql import literal


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
