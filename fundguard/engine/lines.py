"""``claim_lines`` as a core model: built once per import, stored beside the store, grown incrementally.

Layout::

    <ws>/cache/claim_lines/state.json                    # what is built: parts, and the imports read
    <ws>/cache/claim_lines/part-<fee import>-<n>.duckdb  # the claim_lines rows of one fee_list_d import
    <ws>/cache/claim_lines/.lock                         # one writer (or attaching reader) at a time

A part holds the ``claim_lines`` rows (``rules.base.claim_lines_query``) of the fee lines of one
``fee_list_d`` import, joined against the whole store (visits, persons, institutions, catalogue, refunds). An
import that adds fee lines adds a part; the parts already built are kept unless the new imports touch what
their rows were joined from — a refund of one of their lines, a visit, person, institution or catalogue row
with one of their keys — and only those parts are rebuilt. A part's file is written aside and never changed
afterwards; ``state.json`` (replaced atomically) says which files make the model, so a crash leaves the
previous state readable. The audit (``batch.run_batch``) attaches the parts read-only and reads their union.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from fundguard.core.sql import literal
from fundguard.core.workspace import Workspace
from fundguard.data import schema
from fundguard.data.store import Store, sql_list
from fundguard.rules.base import claim_lines_query

FORMAT = 1
"""Bumped when the stored rows change shape (``claim_lines_query``): older parts are then rebuilt."""

DIMENSIONS: dict[str, tuple[str, str]] = {
    "mdtrt_d": ("mdtrt_id", "mdtrt_id"),
    "psn_info_b": ("psn_no", "psn_no"),
    "medins_info_b": ("fixmedins_code", "fixmedins_code"),
    "hilist_b": ("hilist_code", "hilist_code"),
}
"""The tables ``claim_lines`` joins to its lines: table → (its key, the ``claim_lines`` column holding it)."""


def model_dir(store: Store) -> Path:
    return Workspace(store.workspace).cache / "claim_lines"


def _import_id(d: Path) -> str:
    return d.name.split("=", 1)[1]


def import_rows(table: str, dirs: list[Path]) -> str:
    """The valid rows of ``table`` in the imports ``dirs`` (canonical columns), as a parenthesised query."""
    files = sorted(f for d in dirs for f in d.rglob("*.parquet"))
    t = schema.tables()[table]
    cols = ", ".join(f'"{c}"' for c in t.columns)
    valid = " WHERE vali_flag = '1'" if "vali_flag" in t.columns else ""
    return f"(SELECT {cols} FROM read_parquet({sql_list(files)}, hive_partitioning = false){valid})"


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_state(root: Path) -> dict:
    try:
        state = json.loads((root / "state.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"format": FORMAT, "parts": {}, "read": {}}
    if state.get("format") != FORMAT:
        return {"format": FORMAT, "parts": {}, "read": {}}
    return state


def _write_state(root: Path, state: dict) -> None:
    tmp = root / f".state-{uuid.uuid4().hex}.json"
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, root / "state.json")


def _touched(con: duckdb.DuckDBPyConnection, root: Path, parts: dict, new: dict[str, list[Path]]) -> set[str]:
    """The built parts whose rows the new imports ``new`` (table → import dirs) may change: a new refund of
    one of their lines, or a new visit / person / institution / catalogue row with one of their keys."""
    checks = []
    if new.get("fee_list_d"):
        refunds = import_rows("fee_list_d", new["fee_list_d"])
        checks.append(
            ("bkkp_sn", f"SELECT init_feedetl_sn FROM {refunds} WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn <> ''")
        )  # fmt: skip
    for table, (key, column) in DIMENSIONS.items():
        if new.get(table):
            checks.append((column, f"SELECT {key} FROM {import_rows(table, new[table])}"))
    if not checks:
        return set()
    out = set()
    for fee_import, part in parts.items():
        path = root / part["file"]
        con.execute(f"ATTACH {literal(str(path))} AS fg_part (READ_ONLY)")
        try:
            hit = " OR ".join(
                f"EXISTS (SELECT 1 FROM fg_part.claim_lines c WHERE c.{column} IN ({keys}))" for column, keys in checks
            )  # fmt: skip
            if con.execute(f"SELECT {hit}").fetchone()[0]:
                out.add(fee_import)
        finally:
            con.execute("DETACH fg_part")
    return out


def update_claim_lines(store: Store, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Bring the stored ``claim_lines`` up to the store's imports: build a part for each new ``fee_list_d``
    import, rebuild the parts the new imports touch, drop the parts of imports no longer stored. Returns
    ``{"built": parts written, "kept": parts reused}``. ``con`` is a ``Store.connect()`` connection."""
    root = model_dir(store)
    with _locked(root):
        return _update(store, con, root)


def _update(store: Store, con: duckdb.DuckDBPyConnection, root: Path) -> dict[str, int]:
    state = _read_state(root)
    now = {t: {_import_id(d): d for d in store.import_dirs(t)} for t in ("fee_list_d", *DIMENSIONS)}
    read = state["read"]
    if any(set(read.get(t, [])) - set(dirs) for t, dirs in now.items()):
        # an import the parts were built from is gone (a store changed by hand; its refunds may have
        # removed lines of other parts): start over
        state = {"format": FORMAT, "parts": {}, "read": {}}
        read = {}
    parts = {i: p for i, p in state["parts"].items() if i in now["fee_list_d"]}
    new = {t: [d for i, d in dirs.items() if i not in set(read.get(t, []))] for t, dirs in now.items()}
    stale = _touched(con, root, parts, new) if parts else set()
    todo = [i for i in now["fee_list_d"] if i not in parts or i in stale]
    for fee_import in todo:
        name = f"part-{fee_import}-{uuid.uuid4().hex[:8]}.duckdb"
        tmp = root / f".{name}"
        con.execute(f"ATTACH {literal(str(tmp))} AS fg_build")
        try:
            lines = import_rows("fee_list_d", [now["fee_list_d"][fee_import]])
            con.execute(f"CREATE TABLE fg_build.claim_lines AS {claim_lines_query(lines)}")
        finally:
            con.execute("DETACH fg_build")
        os.replace(tmp, root / name)
        parts[fee_import] = {"file": name}
    if todo or parts != state["parts"] or any(new.values()):
        _write_state(root, {"format": FORMAT, "parts": parts, "read": {t: sorted(d) for t, d in now.items()}})
    keep = {p["file"] for p in parts.values()} | {"state.json", ".lock"}
    for f in root.iterdir():  # replaced parts, and files of writers that died (we hold the lock)
        if f.name not in keep:
            f.unlink(missing_ok=True)
    for f in root.parent.glob("claim_lines-*.duckdb"):  # the whole-store files of earlier versions
        f.unlink(missing_ok=True)
    return {"built": len(todo), "kept": len(parts) - len(todo)}


def attach_claim_lines(
    store: Store,
    con: duckdb.DuckDBPyConnection,
    *,
    name: str = "claim_lines",
    parts_out: dict[str, str] | None = None,
) -> dict[str, int]:
    """Update the stored ``claim_lines`` (``update_claim_lines``) and make it the temp view ``name`` of
    ``con``: the union of the parts, each attached read-only (an attached file stays readable to this
    connection even if a later update replaces it). Returns what the update did; ``parts_out`` (when given)
    receives each ``fee_list_d`` import id → the table holding its part's rows (the incremental audit reads
    the new import's part alone)."""
    root = model_dir(store)
    with _locked(root):
        done = _update(store, con, root)
        parts = _read_state(root)["parts"]
        selects = []
        for n, fee_import in enumerate(sorted(parts)):
            con.execute(f"ATTACH {literal(str(root / parts[fee_import]['file']))} AS fg_cl{n} (READ_ONLY)")
            selects.append(f"SELECT * FROM fg_cl{n}.claim_lines")
            if parts_out is not None:
                parts_out[fee_import] = f"fg_cl{n}.claim_lines"
    if not selects:  # no fee lines stored: the empty view with the right columns
        selects.append(f"SELECT * FROM ({claim_lines_query()}) WHERE false")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {' UNION ALL '.join(selects)}")
    return done
