"""事前/事中 real-time audit of ONE claim by running the batch's rule SQL over it (the old path).

``realtime.RealtimeAuditor`` evaluates compiled plans in memory and hands the rules whose template has no
evaluator to this engine; ``bench/bench_realtime.py`` times it as the baseline. Claim validation
(``claim_tables``) and replay (``claim_from_store``) live here too.

``SqlRealtimeAuditor`` keeps one in-memory DuckDB with persistent tables named like the store's (``fee_list_d``,
``mdtrt_d``, ``setl_d``, ``setl_list_diag_d``, ``psn_info_b``, ``medins_info_b``, ``hilist_b`` … with
``*_valid`` views over them), the knowledge tables and ``claim_lines``. Per claim it refills those tables
(DELETE + INSERT, so the prepared plans stay valid) with the claim's rows plus the patient's history,
rebuilds ``claim_lines`` exactly as ``prepare`` does, and runs the SAME rule SQL as the batch
(``hits_sql``), prepared once at start, keeping the hits whose ``mdtrt_id`` is the claim's visit.

History comes from an in-memory copy of the store taken at start (``refresh()`` re-reads it): each table
holds only the columns the rule SQL reads, sorted by its lookup key (person, visit, institution, catalogue
code) with an index key → row range, so a lookup is a slice, not a Parquet scan. It is every stored row of
the person except the claim's own visit (the claim replaces it), so a claim already in the store is audited
exactly as the batch audits it; ``memory_bytes`` reports its size.

Knowledge tables are filled per claim with only the rows of the codes billed on the claim or the person's
history (the templates join knowledge to lines by code, so other rows cannot match); a rule whose knowledge
table is then empty cannot hit and is not run (``tests/engine/test_realtime.py`` checks over a generated
city that every real-time rule yields nothing with its knowledge table empty).

Rules run in real time when their ``stages`` include the auditor's stage and their template is not in
a plan with ``population`` set: those compare an institution or a group of people against the whole population
(``inventory_balance``: an institution's purchases against everything it billed; ``group_admission``: many
people admitted together), which one patient's history cannot decide. Every other template looks at one
line, one visit or one person's visits, so the patient's history is all it needs. Person-level hits (one
hit per person, e.g. ``pharmacy_cashing``) are returned only when their ``mdtrt_id`` is the claim's visit —
as in the batch. One auditor may serve 事前 and 事中 together (``stage=("事前", "事中")``, the stage chosen
per ``audit`` call).

Latency is bound by DuckDB's fixed start-up cost per operator, not by data: the ~35 real-time rule plans hold
hundreds of joins, aggregates and windows, ~0.5–2 ms each even over a few hundred rows, so a 100-line claim
takes a few hundred milliseconds on a 2-core machine (``bench/bench_realtime.py``), not 10 ms.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from fundguard.core.errors import InputError
from fundguard.core.sql import literal
from fundguard.data import schema
from fundguard.data.store import Store, duckdb_type, restrict_file_access
from fundguard.engine.batch import hits_sql, input_fingerprint
from fundguard.engine.claim_input import claim_tables
from fundguard.rules import knowledge
from fundguard.rules.base import CLAIM_LINES_SQL, HIT_COLUMNS
from fundguard.rules.plan import plan
from fundguard.rules.spec import Rule, RuleSet

HISTORY_KEYS: dict[str, str] = {
    "mdtrt_d": "psn_no",
    "fee_list_d": "psn_no",
    "setl_d": "psn_no",
    "psn_info_b": "psn_no",
    "setl_list_diag_d": "mdtrt_id",
    "setl_list_oprn_d": "mdtrt_id",
    "medins_info_b": "fixmedins_code",
    "hilist_b": "hilist_code",
}
"""Store tables the history is drawn from → the key a lookup slices by."""


def realtime_rules(rules: RuleSet, stage: str | tuple[str, ...] = "事中") -> list[Rule]:
    """The enabled rules of ``rules`` that run at ``stage`` (or any of several) and are decidable per claim
    (their plan does not need the whole population)."""
    stages = (stage,) if isinstance(stage, str) else stage
    return [r for r in rules.enabled() if set(stages) & set(r.stages) and not plan(r).population]


def _sql_columns(sqls: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Canonical table → the columns ``sqls`` can read from it (every name the SQL mentions; all columns
    where a ``*`` reads the table directly), for the tables the SQL reads."""
    names: set[str] = set()
    star: set[str] = set()
    tabs: set[str] = set()
    canon = schema.tables()

    def base(t: exp.Table) -> str | None:
        n = t.name[: -len("_valid")] if t.name.endswith("_valid") else t.name
        return n if n in canon else None

    for sql in sqls:
        tree = sqlglot.parse_one(sql, read="duckdb")
        names |= {c.name for c in tree.find_all(exp.Column)}
        tabs |= {n for t in tree.find_all(exp.Table) if (n := base(t))}
        for sel in tree.find_all(exp.Select):
            if any(isinstance(e, exp.Star) or e.find(exp.Star) for e in sel.expressions):
                srcs = [sel.args.get("from"), *(sel.args.get("joins") or [])]
                star |= {n for s in srcs if s for t in s.find_all(exp.Table) if (n := base(t))}
    out = {}
    for n in sorted(tabs):
        cols = canon[n].columns
        out[n] = tuple(cols) if n in star else tuple(c for c in cols if c in names or c == "vali_flag")
    return out


class _Keyed:
    """Rows sorted by ``key`` with key → (offset, length): the rows of a key are one zero-copy slice."""

    def __init__(self, table: pa.Table, key: str):
        self.key = key
        self.table = table.sort_by(key).combine_chunks() if table.num_rows else table
        self.ranges: dict[Any, tuple[int, int]] = {}
        if self.table.num_rows:
            runs = pc.run_end_encode(self.table.column(key).combine_chunks())
            start = 0
            for value, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True):
                self.ranges[value] = (start, end - start)
                start = end

    def rows(self, keys: Iterable[Any]) -> pa.Table:
        """The rows of ``keys`` (in key order of the argument; unknown keys give nothing)."""
        parts = [self.table.slice(*r) for k in keys if (r := self.ranges.get(k))]
        if not parts:
            return self.table.slice(0, 0)
        return parts[0] if len(parts) == 1 else pa.concat_tables(parts)

    def take_rows(self, keys: Iterable[Any]) -> pa.Table:
        """Like ``rows`` but one contiguous copy (for many small ranges)."""
        idx = [i for k in keys if (r := self.ranges.get(k)) for i in range(r[0], r[0] + r[1])]
        return self.table.take(pa.array(idx, pa.int64())) if idx else self.table.slice(0, 0)


class SqlRealtimeAuditor:
    """Audit one claim at a time with the batch rule SQL over the claim plus the patient's history."""

    def __init__(
        self, workspace: Path, rules: RuleSet, *, stage: str | tuple[str, ...] = "事中", threads: int = 1
    ):
        """``stage``: the stage (or stages: one auditor for 事前 and 事中, chosen per ``audit`` call) whose
        rules run; ``threads``: DuckDB threads (one is fastest for one claim)."""
        self.workspace = Path(workspace)
        self.stages = (stage,) if isinstance(stage, str) else tuple(stage)
        self.rules = realtime_rules(rules, self.stages)
        self.rule_by_id = {r.id: r for r in self.rules}
        self.skipped = sorted(
            r.id for r in rules.enabled() if set(self.stages) & set(r.stages) and plan(r).population
        )
        if not Store(self.workspace).root.exists():
            raise InputError(f"工作区 {workspace} 没有数据仓", f"workspace {workspace} has no store")
        self._columns = _sql_columns([CLAIM_LINES_SQL, hits_sql(self.rules)])
        self._read = sorted(self._columns)  # the tables the rule SQL reads: the only ones refilled per claim
        for name in HISTORY_KEYS:  # the lookups read these keys even where no rule does
            cols = schema.table(name).columns
            keys = {"psn_no", "mdtrt_id", "fixmedins_code", "hilist_code", *self._columns.get(name, ())}
            self._columns[name] = tuple(c for c in cols if c in keys)
        self._schemas = {
            n: pa.schema([schema.table(n).arrow_schema.field(c) for c in cols])
            for n, cols in self._columns.items()
        }
        con = duckdb.connect(":memory:", config={"threads": threads})
        # tiny queries: per-operator start-up, not data, is the cost; one thread avoids scheduling overhead
        con.execute("SET preserve_insertion_order = false")
        self._con = con
        for name in self._read:
            sch = self._schemas[name]
            cols = ", ".join(f'"{f.name}" {duckdb_type(f.type)}' for f in sch)
            con.execute(f'CREATE TEMP TABLE "{name}" ({cols})')
            valid = " WHERE vali_flag = '1'" if "vali_flag" in sch.names else ""
            con.execute(f'CREATE VIEW "{name}_valid" AS SELECT * FROM "{name}"{valid}')
        self._filled: set[str] = set()  # tables holding rows of the previous claim
        self.last_timings: dict[str, float] = {}
        # knowledge: full tables in memory, indexed by code; the DuckDB tables get one claim's rows
        self._kb: dict[str, tuple[pa.Table, dict[str, list[int]] | None]] = {}
        self._kb_keys = {r.knowledge: plan(r).knowledge_keys for r in self.rules if r.knowledge}
        # tables not found by billed codes are loaded whole and never emptied (issue 12)
        whole = {r.knowledge for r in self.rules if r.knowledge and not plan(r).knowledge_by_code}
        for name in sorted({r.knowledge for r in self.rules if r.knowledge}):
            full = knowledge.arrow(name)
            keys = self._kb_keys[name]
            index: dict[str, list[int]] | None = None
            if name not in whole and all(k in full.column_names for k in keys):
                index = defaultdict(list)
                rows = zip(*(full.column(k).to_pylist() for k in keys), strict=True)
                for i, codes in enumerate(rows):
                    index[codes if len(keys) > 1 else codes[0]].append(i)  # type: ignore[index]
            self._kb[name] = (full, index)
            knowledge.register(con, [name])
            if index is not None:  # filled per claim
                con.execute(f'DELETE FROM "{name}"')
        con.execute(f"CREATE TEMP TABLE claim_lines AS SELECT * FROM ({CLAIM_LINES_SQL}) WHERE false")
        con.execute(f"PREPARE fg_claim_lines AS INSERT INTO claim_lines {CLAIM_LINES_SQL}")
        # one prepared statement per knowledge table (None: rules without one), run only when it can hit
        groups: dict[str | None, list[Rule]] = defaultdict(list)
        for r in self.rules:
            groups[r.knowledge].append(r)
        self._groups: list[tuple[str, str | None, int]] = []
        for i, (kb, group) in enumerate(sorted(groups.items(), key=lambda g: g[0] or "")):
            con.execute(f"PREPARE fg_hits_{i} AS SELECT * FROM ({hits_sql(group)}) WHERE mdtrt_id = $1")
            self._groups.append((f"fg_hits_{i}", kb, len(group)))
        restrict_file_access(con, [])  # everything is in memory: the rules read no file
        self.refresh()

    # --- history --------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """(Re)load the in-memory history from the store (call after new data is imported)."""
        t0 = time.perf_counter()
        fingerprint = input_fingerprint(
            Store(self.workspace)
        )  # before reading: a later import shows as stale
        store = Store(self.workspace).connect()
        try:
            hist: dict[str, _Keyed] = {}
            for name, key in HISTORY_KEYS.items():
                sch = self._schemas[name]
                cols = ", ".join(f'"{c}"' for c in sch.names)
                tbl = store.sql(f'SELECT {cols} FROM "{name}"').to_arrow_table().cast(sch)
                hist[name] = _Keyed(tbl, key)
        finally:
            store.close()
        self._hist = hist
        self.fingerprint = fingerprint
        self.refresh_seconds = time.perf_counter() - t0

    def stale(self) -> bool:
        """Whether the store has changed (an import added or removed) since the history was read."""
        return input_fingerprint(Store(self.workspace)) != self.fingerprint

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the in-memory history and knowledge tables."""
        return sum(k.table.nbytes for k in self._hist.values()) + sum(t.nbytes for t, _ in self._kb.values())

    def _history(self, psn_no: str, mdtrt_id: str, claim: dict[str, pa.Table]) -> dict[str, pa.Table]:
        """The person's stored rows (other visits) and the reference rows they and the claim name."""
        h = self._hist
        out: dict[str, pa.Table] = {}
        for name in ("mdtrt_d", "fee_list_d", "setl_d"):
            rows = h[name].rows([psn_no])
            out[name] = (
                rows.filter(pc.not_equal(rows.column("mdtrt_id"), mdtrt_id)) if rows.num_rows else rows
            )
        visits = out["mdtrt_d"].column("mdtrt_id").to_pylist()
        for name in ("setl_list_diag_d", "setl_list_oprn_d"):
            out[name] = h[name].take_rows(dict.fromkeys(visits))
        out["psn_info_b"] = h["psn_info_b"].rows([psn_no])
        insts = {
            v
            for n in ("mdtrt_d", "fee_list_d", "setl_d")
            for tbl in (out[n], claim[n])
            for v in tbl.column("fixmedins_code").to_pylist()
            if v
        }
        codes = {
            v
            for tbl in (out["fee_list_d"], claim["fee_list_d"])
            for v in tbl.column("hilist_code").to_pylist()
        }
        out["medins_info_b"] = h["medins_info_b"].take_rows(sorted(insts))
        out["hilist_b"] = h["hilist_b"].take_rows(sorted(c for c in codes if c))
        return out

    # --- one claim ------------------------------------------------------------------------------------
    def _fill(self, name: str, data: pa.Table) -> None:
        """Make the persistent table ``name`` hold exactly ``data`` (DELETE + INSERT keeps plans valid)."""
        con = self._con
        if name in self._filled:
            con.execute(f'DELETE FROM "{name}"')
            self._filled.discard(name)
        if data.num_rows:
            # ~1 ms a table, where register() + unregister() (two catalog changes) took ~7 ms; a replacement
            # scan of the local ``data`` is as fast but is off once file access is (``restrict_file_access``)
            con.from_arrow(data).insert_into(name)
            self._filled.add(name)

    def _knowledge(self, codes: set[str]) -> set[str]:
        """Fill the knowledge tables with the rows of ``codes``; the names of those left empty."""
        empty = set()
        for name, (full, index) in self._kb.items():
            if index is None:
                continue
            keys = self._kb_keys[name]
            if len(keys) == 1:
                idx = sorted(i for c in codes for i in index.get(c, ()))
            else:
                idx = sorted(i for k, rows in index.items() if all(c in codes for c in k) for i in rows)
            self._fill(name, full.take(pa.array(idx, pa.int64())) if idx else full.slice(0, 0))
            if not idx:
                empty.add(name)
        return empty

    def audit(self, claim: dict, stage: str | None = None) -> list[dict]:
        """The hits (``HIT_COLUMNS`` dicts) of the real-time rules (of ``stage`` when given) on the claim's
        visit.

        ``last_timings`` then holds the milliseconds of each step (validate, history, load, claim_lines,
        rules) and the rules run and skipped."""
        t0 = time.perf_counter()
        if stage is not None and stage not in self.stages:
            raise InputError(
                f"本审核器不审核{stage}阶段（可用：{'、'.join(self.stages)}）",
                f"this auditor does not run stage {stage} (has: {', '.join(self.stages)})",
            )
        tables = claim_tables(claim)
        mdtrt_id = tables["mdtrt_d"].column("mdtrt_id")[0].as_py()
        psn_no = tables["mdtrt_d"].column("psn_no")[0].as_py()
        t1 = time.perf_counter()
        hist = self._history(psn_no, mdtrt_id, tables)
        t2 = time.perf_counter()
        codes = {
            c
            for t in (tables["fee_list_d"], hist["fee_list_d"])
            for c in t.column("hilist_code").to_pylist()
            if c
        }
        for name in self._read:
            sch = self._schemas[name]
            parts = [
                t.select(sch.names)
                for t in (tables.get(name), hist.get(name))
                if t is not None and t.num_rows
            ]
            data = pa.concat_tables(parts) if len(parts) > 1 else (parts[0] if parts else sch.empty_table())
            self._fill(name, data)
        empty = self._knowledge(codes)
        t3 = time.perf_counter()
        con = self._con
        con.execute("DELETE FROM claim_lines")
        con.execute("EXECUTE fg_claim_lines")
        t4 = time.perf_counter()
        cols = list(HIT_COLUMNS)
        arg = literal(mdtrt_id)
        out = []
        ran = 0
        for stmt, kb, n in self._groups:
            if kb in empty:
                continue
            ran += n
            out += [dict(zip(cols, r, strict=True)) for r in con.execute(f"EXECUTE {stmt}({arg})").fetchall()]
        if stage is not None:
            out = [h for h in out if stage in self.rule_by_id[h["rule_id"]].stages]
        t5 = time.perf_counter()
        ms = [
            round(1000 * (b - a), 3) for a, b in ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t0, t5))
        ]
        self.last_timings = dict(
            zip(("validate", "history", "load", "claim_lines", "rules", "total"), ms, strict=True)
        ) | {"rules_run": ran, "rules_skipped": len(self.rules) - ran}
        return out

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> SqlRealtimeAuditor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["SqlRealtimeAuditor", "realtime_rules"]
