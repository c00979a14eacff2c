"""Which persons a new import touches, so that real time reads again only their history.

The real-time auditor (``engine.realtime``) keeps per person the stored visits and ``claim_lines`` rows its
look-back rules read. An import can change a person's kept rows only through the tables those rows are
built from: their fee lines (and a refund of one of them), their visits and the visits' diagnoses, their
person row, or the institution or catalogue row one of their lines or visits names. ``touched_persons``
returns exactly those persons for the imports added since the history was read (``new_imports``); the
auditor reads them again and keeps everyone else's rows, only cut to the windows as the latest line moves.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Touched:
    """The persons an import touches: ``reread`` (rows they had may have changed: read them again) and
    ``appended`` (only new lines and visits of theirs: ``lines`` and ``visit_ids`` select those)."""

    reread: list[str]
    appended: list[str]
    lines: str | None = None
    visit_ids: str | None = None


def touched_persons(
    con: duckdb.DuckDBPyConnection, before: dict[str, dict[str, Path]], new: dict[str, list[Path]]
) -> Touched:
    """The persons whose kept history the imports ``new`` may change (``con``: a ``Store.connect()`` of the
    store holding them; ``before``: the imports read before). A person gains only new rows when the import
    brings new fee lines or new visits (and their diagnoses) of theirs; rows they had change when it
    refunds one of their lines, or brings a visit or diagnosis row of a visit already stored, their person
    row, or an institution or catalogue row one of their lines or visits names."""
    old = {t: sorted(before.get(t, {}).values()) for t in TABLES}

    def rows(table: str, dirs: list[Path]) -> str:
        return import_rows(table, dirs) if dirs else f"(SELECT * FROM {table}_valid WHERE false)"

    changed, grown = [], []
    fees, visits = new.get("fee_list_d", []), new.get("mdtrt_d", [])
    if fees:
        grown.append(f"SELECT psn_no FROM {rows('fee_list_d', fees)}")
        changed.append(  # a refund of a stored line: that line's person
            "SELECT psn_no FROM fee_list_d_valid WHERE bkkp_sn IN (SELECT init_feedetl_sn FROM "
            f"{rows('fee_list_d', fees)} WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn <> '')"
        )
    stored_visits = f"SELECT mdtrt_id FROM {rows('mdtrt_d', old['mdtrt_d'])} UNION SELECT mdtrt_id FROM {rows('fee_list_d', old['fee_list_d'])}"
    for table in ("mdtrt_d", "setl_list_diag_d"):
        if new.get(table):
            keys = f"SELECT mdtrt_id FROM {rows(table, new[table])}"
            again = f"({keys}) INTERSECT ({stored_visits})"
            changed.append(f"SELECT psn_no FROM mdtrt_d_valid WHERE mdtrt_id IN ({again})")
            changed.append(f"SELECT psn_no FROM fee_list_d_valid WHERE mdtrt_id IN ({again})")
            grown.append(f"SELECT psn_no FROM mdtrt_d_valid WHERE mdtrt_id IN ({keys})")
    if new.get("psn_info_b"):
        changed.append(f"SELECT psn_no FROM {rows('psn_info_b', new['psn_info_b'])}")
    for table, key in (("medins_info_b", "fixmedins_code"), ("hilist_b", "hilist_code")):
        if new.get(table):
            keys = f"SELECT {key} FROM {rows(table, new[table])}"
            changed.append(f"SELECT psn_no FROM fee_list_d_valid WHERE {key} IN ({keys})")
            if key == "fixmedins_code":
                changed.append(f"SELECT psn_no FROM mdtrt_d_valid WHERE fixmedins_code IN ({keys})")

    def persons(parts: list[str]) -> list[str]:
        if not parts:
            return []
        union = " UNION ".join(f"({p})" for p in parts)
        return [
            p
            for (p,) in con.execute(
                f"SELECT DISTINCT psn_no FROM ({union}) WHERE psn_no IS NOT NULL"
            ).fetchall()
        ]

    reread = persons(changed)
    again = set(reread)
    # visits first stored now (a new row of a stored visit made its person one to read again)
    new_visits = f"SELECT mdtrt_id FROM {rows('mdtrt_d', visits)} EXCEPT SELECT mdtrt_id FROM {rows('mdtrt_d', old['mdtrt_d'])}"
    return Touched(
        reread=reread,
        appended=[p for p in persons(grown) if p not in again],
        lines=rows("fee_list_d", fees),
        visit_ids=new_visits,
    )
