"""事后 batch audit: run a rule set over the workspace store, write hits to Parquet with a run record.

The base table ``claim_lines`` is built once per import (``engine.lines``: one compressed DuckDB file per
``fee_list_d`` import in ``<ws>/cache/claim_lines``, written by the first audit after the import and attached
read-only by every later one, so an audit reads it from page cache at bounded memory); ``prepare`` can still build it for one run alone, with only
the columns the rules name (in memory or in the run folder). Each template's rules run as one query streamed by
``COPY … TO`` where the template shares work between them, else one query per rule (``template_queries``: one
query at a time, so memory stays under the store's DuckDB limit), then gathered into
``<ws>/results/run=<run_id>/hits.parquet``. ``run.json`` records the run id, time, rule-set version, the
input fingerprint (hash of the stored files' SHA-256s from the import manifests), rule and line counts,
hits per rule and the seconds taken, in all and per phase."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from fundguard.core.errors import InputError
from fundguard.core.progress import progress_bar
from fundguard.core.sql import literal
from fundguard.core.workspace import Workspace
from fundguard.data.store import Store, restrict_file_access
from fundguard.engine.lines import attach_claim_lines
from fundguard.rules import knowledge
from fundguard.rules.base import HIT_COLUMNS, claim_lines_sql, create_claim_lines
from fundguard.rules.spec import Rule, RuleSet
from fundguard.rules.templates import TEMPLATES

BATCH_MEMORY_LIMIT = "2500MB"
"""DuckDB memory limit of a batch run (the store's default is 1 GB): at 10M lines the joins building
``claim_lines`` and the per-rule aggregates spill to disk under 1 GB (5x slower); 2.5 GB keeps the run's
peak RSS near 2 GB, inside the 4 GB budget, and bigger stores still spill within it."""


@dataclass
class BatchResult:
    run_id: str
    run_dir: Path
    hits_path: Path
    ruleset_version: str
    input_fingerprint: str
    rules: int
    lines_scanned: int
    hits: int
    hits_by_rule: dict[str, int] = field(default_factory=dict)
    amount_by_rule: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: ``claim_lines`` (the base table), one per template, ``gather`` (hits file, counts)."""


def input_fingerprint(store: Store) -> str:
    """SHA-256 over the sorted (table, file sha256) of every committed import."""
    items = sorted((m["table"], m.get("sha256", ""), m.get("import_id", "")) for m in store.ingests())
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


def prepare(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule],
    *,
    on_disk: Path | None = None,
    stored: Store | None = None,
) -> None:
    """Register the knowledge tables the rules need and build ``claim_lines`` once for all of them, with
    only the columns their SQL names (a word-level superset: a name in a string literal keeps a column).

    ``stored`` (the run's store) reads its per-import ``claim_lines`` (``lines.attach_claim_lines``: parts
    built once per import, only a new import's built now) instead of building it.
    ``on_disk`` (a DuckDB file to create) stores it compressed in that file instead of an in-memory temp
    table: about 70 bytes a line instead of 430, read back through DuckDB's buffer pool, so a store far
    larger than the memory limit is scanned from page cache rather than spilled uncompressed per rule.
    """
    needed = sorted({r.knowledge for r in rules if r.knowledge})
    knowledge.register(con, needed)
    if stored is not None:  # built once per import: only attached here
        attach_claim_lines(stored, con)
        return
    columns = set(re.findall(r"\w+", hits_sql(rules)))
    if on_disk is None:
        create_claim_lines(con, materialize=True, columns=columns)
        return
    con.execute(f"ATTACH {literal(str(on_disk))} AS fg_claim_lines")
    con.execute(f"CREATE TABLE fg_claim_lines.claim_lines AS {claim_lines_sql(con, columns)}")
    con.execute("CREATE OR REPLACE TEMP VIEW claim_lines AS SELECT * FROM fg_claim_lines.claim_lines")


def hits_sql(rules: list[Rule]) -> str:
    """One query yielding the hits of ``rules`` (empty hit schema when there are none): one query per
    template (``Template.sql_group``), so rules of one template share their scan of ``claim_lines``."""
    if not rules:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in HIT_COLUMNS.items())
        return f"SELECT {cols} WHERE false"
    by_template: dict[str, list[Rule]] = {}
    for r in rules:
        by_template.setdefault(r.template, []).append(r)
    parts = [TEMPLATES[name].sql_group(group) for name, group in sorted(by_template.items())]
    return "\nUNION ALL\n".join(f"({p})" for p in parts)


def template_queries(rules: list[Rule]) -> list[str]:
    """The queries that run ``rules`` (of one template) one after another: one for all of them where the
    template shares work between its rules (``Template.shares_work``), else one per rule. UNION ALL'ed,
    DuckDB runs the branches side by side and their memory adds up: at 10^8 lines the rules of
    ``inventory_balance`` and ``same_item_repeat`` together ran out of the batch's limit."""
    template = TEMPLATES[rules[0].template]
    if template.shares_work:
        return [template.sql_group(rules)]
    return [template.sql(r) for r in rules]


def new_run(workspace: Path, out_dir: Path | None, suffix: str = "") -> tuple[dt.datetime, str, Path]:
    """A run's start time, id (time + random, plus ``suffix``) and folder (``<ws>/results/run=<id>``)."""
    started = dt.datetime.now()
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6] + suffix
    run_dir = Path(out_dir) if out_dir else Workspace(workspace).run(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    return started, run_id, run_dir


def finish_run(
    store: Store,
    rules: RuleSet,
    run_id: str,
    run_dir: Path,
    started: dt.datetime,
    t0: float,
    lines: int,
    counts: dict[str, int],
    amounts: dict[str, str],
    phases: dict[str, float],
    *,
    fingerprint: str | None = None,
    **extra: object,
) -> BatchResult:
    """The run's result and its record ``run.json`` (``extra`` adds fields, e.g. the engine; ``fingerprint``:
    the input fingerprint when the store was read elsewhere, e.g. Spark reading a copy on HDFS)."""
    enabled = rules.enabled()
    hits_by_rule = {r.id: int(counts.get(r.id, 0)) for r in enabled}
    result = BatchResult(
        run_id=run_id,
        run_dir=run_dir,
        hits_path=run_dir / "hits.parquet",
        ruleset_version=rules.version,
        input_fingerprint=fingerprint or input_fingerprint(store),
        rules=len(enabled),
        lines_scanned=lines,
        hits=sum(hits_by_rule.values()),
        hits_by_rule=hits_by_rule,
        amount_by_rule={r.id: amounts.get(r.id) or "0.00" for r in enabled},
        seconds=round(time.perf_counter() - t0, 3),
        phase_seconds=phases,
    )
    record = {
        "run_id": run_id,
        **extra,
        "started": started.isoformat(timespec="seconds"),
        "ruleset_version": rules.version,
        "rule_files": list(rules.files),
        "input_fingerprint": result.input_fingerprint,
        "rules": result.rules,
        "rule_ids": [r.id for r in enabled],
        "lines_scanned": result.lines_scanned,
        "hits": result.hits,
        "hits_by_rule": hits_by_rule,
        "amount_by_rule": result.amount_by_rule,
        "seconds": result.seconds,
        "phase_seconds": phases,
    }
    (run_dir / "run.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return result


def run_batch(
    workspace: Path,
    rules: RuleSet,
    *,
    out_dir: Path | None = None,
    progress: bool = True,
    lines_on_disk: bool | None = None,
) -> BatchResult:
    """Run the enabled rules of ``rules`` over the store of ``workspace``; return counts and paths.

    ``claim_lines`` comes from the store's per-import model (``lines.attach_claim_lines``: a part per import,
    built by the first audit after it, then reused), unless ``lines_on_disk`` asks to build it for this run alone: in a DuckDB
    file in the run folder (True) or in memory (False)."""
    t0 = time.perf_counter()
    workspace = Path(workspace)
    store = Store(workspace)
    if not store.root.exists():
        raise InputError(f"工作区 {workspace} 没有数据仓", f"workspace {workspace} has no store")
    started, run_id, run_dir = new_run(workspace, out_dir)
    hits_path = run_dir / "hits.parquet"
    enabled = rules.enabled()
    phases: dict[str, float] = {}
    con = store.connect()
    con.execute(f"SET memory_limit = {literal(BATCH_MEMORY_LIMIT)}")
    try:
        # one COPY per template keeps the memory limit on big stores; then one file
        parts = run_dir / "_parts"
        parts.mkdir(exist_ok=True)
        t = time.perf_counter()
        if lines_on_disk is None:
            prepare(con, enabled, stored=store)
        else:
            prepare(con, enabled, on_disk=parts / "claim_lines.duckdb" if lines_on_disk else None)
        # the rules read the store and the cached claim_lines, and write the run
        restrict_file_access(con, [store.root, Workspace(store.workspace).cache, run_dir])
        phases["claim_lines"] = round(time.perf_counter() - t, 3)
        groups: dict[str, list[Rule]] = {}
        for r in enabled:
            groups.setdefault(r.template, []).append(r)
        files = []
        with progress_bar(progress) as bar:
            task = bar.add_task(f"审核 auditing: {len(enabled)} 条规则 rules", total=len(enabled))
            for name, group in sorted(groups.items()):
                t = time.perf_counter()
                for i, query in enumerate(template_queries(group)):
                    f = parts / f"{name}-{i}.parquet"
                    con.execute(f"COPY ({query}) TO {literal(str(f))} (FORMAT parquet)")
                    files.append(f)
                phases[name] = round(time.perf_counter() - t, 3)
                bar.advance(task, len(group))
        t = time.perf_counter()
        union = " UNION ALL ".join(
            f"SELECT * FROM read_parquet({literal(str(f))}, hive_partitioning = false)" for f in files
        )
        con.execute(
            f"COPY ({union or hits_sql([])}) TO {literal(str(hits_path))} (FORMAT parquet, COMPRESSION zstd)"
        )
        for f in files:
            f.unlink()
        src = f"read_parquet({literal(str(hits_path))}, hive_partitioning = false)"
        per_rule = con.execute(
            f"SELECT rule_id, count(*), CAST(sum(amount) AS VARCHAR) FROM {src} GROUP BY rule_id"
        ).fetchall()
        counts = {rid: n for rid, n, _ in per_rule}
        amounts = {rid: a for rid, _, a in per_rule}
        lines = con.execute("SELECT count(*) FROM fee_list_d_valid").fetchone()[0]
        phases["gather"] = round(time.perf_counter() - t, 3)
    finally:
        con.close()
        shutil.rmtree(run_dir / "_parts", ignore_errors=True)
    return finish_run(store, rules, run_id, run_dir, started, t0, int(lines), counts, amounts, phases)
