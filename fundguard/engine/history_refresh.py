"""Which persons a new import touches, so that real time reads again only their history.

The real-time auditor (``engine.realtime``) keeps per person the stored visits and ``claim_lines`` rows its
look-back rules read. An import can change a person's kept rows only through the tables those rows are
built from: their fee lines (and a refund of one of them), their visits and the visits' diagnoses, their
person row, or the institution or catalogue row one of their lines or visits names. ``touched_persons``
returns exactly those persons for the imports added since the history was read (``new_imports``); the
auditor reads them again and keeps everyone else's rows, only cut to the windows as the latest line moves.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from fundguard.data.store import Store
from fundguard.engine.lines import import_rows

TABLES = ("fee_list_d", "mdtrt_d", "setl_list_diag_d", "psn_info_b", "medins_info_b", "hilist_b")
"""The tables the kept history is read from."""

FULL_RELOAD_SHARE = 0.5
"""When more than this share of the known persons is touched, one full read is cheaper than a filtered one."""


def store_imports(store: Store) -> dict[str, dict[str, Path]]:
    """The committed imports of the history's tables: table → import folder name → folder."""
    return {t: {d.name: d for d in store.import_dirs(t)} for t in TABLES}


def new_imports(
    before: dict[str, dict[str, Path]] | None, now: dict[str, dict[str, Path]]
) -> dict[str, list[Path]] | None:
    """The imports in ``now`` not in ``before`` (table → folders); None when the history must be read whole:
    nothing read yet, or an import read before is gone (a store changed by hand, a refund may have left)."""
    if before is None or any(set(before.get(t, {})) - set(now[t]) for t in TABLES):
        return None
    return {t: [d for name, d in now[t].items() if name not in before.get(t, {})] for t in TABLES}


def touched_persons(con: duckdb.DuckDBPyConnection, new: dict[str, list[Path]]) -> list[str]:
    """The persons whose kept history the imports ``new`` may change (``con``: a ``Store.connect()`` of the
    store holding them)."""
    parts = []
    if new.get("fee_list_d"):
        rows = import_rows("fee_list_d", new["fee_list_d"])
        parts.append(f"SELECT psn_no FROM {rows}")
        parts.append(  # a refund of an older line: that line's person (a refund names its own person)
            "SELECT psn_no FROM fee_list_d_valid WHERE bkkp_sn IN "
            f"(SELECT init_feedetl_sn FROM {rows} WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn <> '')"
        )
    for table, key in (("mdtrt_d", "mdtrt_id"), ("setl_list_diag_d", "mdtrt_id")):
        if new.get(table):
            keys = f"SELECT {key} FROM {import_rows(table, new[table])}"
            parts.append(f"SELECT psn_no FROM mdtrt_d_valid WHERE mdtrt_id IN ({keys})")
            parts.append(f"SELECT psn_no FROM fee_list_d_valid WHERE mdtrt_id IN ({keys})")
    if new.get("psn_info_b"):
        parts.append(f"SELECT psn_no FROM {import_rows('psn_info_b', new['psn_info_b'])}")
    for table, key in (("medins_info_b", "fixmedins_code"), ("hilist_b", "hilist_code")):
        if new.get(table):
            keys = f"SELECT {key} FROM {import_rows(table, new[table])}"
            parts.append(f"SELECT psn_no FROM fee_list_d_valid WHERE {key} IN ({keys})")
            if key == "fixmedins_code":
                parts.append(f"SELECT psn_no FROM mdtrt_d_valid WHERE fixmedins_code IN ({keys})")
    if not parts:
        return []
    union = " UNION ".join(f"({p})" for p in parts)
    return [
        p
        for (p,) in con.execute(f"SELECT DISTINCT psn_no FROM ({union}) WHERE psn_no IS NOT NULL").fetchall()
    ]
