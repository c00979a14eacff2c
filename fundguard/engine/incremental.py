"""事后 incremental audit: audit a new month's import reading only what the rules' windows need.

**Scope.** ``imports`` (``fee_list_d`` / ``mdtrt_d`` import ids, or an ingest id naming every file of one
import set) or ``month`` (``YYYY-MM``). The audited *lines* are the fee lines of those imports (read from
their own ``claim_lines`` parts) or the lines billed in the month; the audited *visits* are the visits of
those lines plus the visit rows (``mdtrt_d``) of those imports or admitted in the month.

**Owned hits** (what the run yields, exactly): the hits a full audit (``batch.run_batch``) of the same store
gives whose ``mdtrt_id`` is an audited visit or whose ``bkkp_sn`` names an audited line — byte-identical,
evidence included (``tests/engine/test_incremental.py``). A hit of an older visit that only *names* a new
one (a stay overlapped by a later-imported visit, the earlier stay of a re-admission arriving late) belongs
to that older visit's audit; re-audit its month, or run a full audit, to refresh it. Imports of reference
tables alone (persons, institutions, catalogue) audit nothing here: they may change any hit (full audit).

**What it reads.** Per rule, from its plan (``RulePlan.batch_history_days``): the lines of the audited
visits (0), the persons' visits with a line within that many days before the first or after the last of
their audited lines (N), or their whole history (None); the persons' visit and settlement rows whole (one
row per visit: a re-admission pairs with the stay before it however old). The rules comparing against the
whole population (``population``: 进销存) run over the whole store, save those declaring
``batch_institution_days`` (集中住院: the visits of the audited visits' institutions within those days) or
``batch_population_keys`` (追溯码重复: the lines sharing a trace code with the audited visits' lines; 数量异常:
the lines of the audited visits' items). The look-up of
which visits fall in a window reads three key columns (``mdtrt_id``, ``psn_no``, ``fee_date``) of the
persons' stored lines; a window's lines are then read with a date range that skips other months' row
groups; windows within 25 % of a wider one's lines read that one's table (built once). ``run.json`` says
``incremental`` with the scope, the windows and the lines each read.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import shutil
import time
from pathlib import Path

import duckdb

from fundguard.core.errors import InputError
from fundguard.core.progress import progress_bar
from fundguard.core.sql import literal
from fundguard.core.workspace import INCREMENTAL_SUFFIX, Workspace
from fundguard.data.store import Store, restrict_file_access
from fundguard.engine.batch import BATCH_MEMORY_LIMIT, BatchResult, finish_run, hits_sql, new_run
from fundguard.engine.lines import attach_claim_lines, import_rows
from fundguard.rules import knowledge
from fundguard.rules.plan import plan
from fundguard.rules.spec import Rule, RuleSet

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

VISIT_TABLES = ("mdtrt_d", "setl_d", "setl_list_diag_d", "setl_list_oprn_d")
"""Visit-level tables the templates read besides ``claim_lines``: cut to the audited persons' visits."""

KEYS = ("bkkp_sn", "mdtrt_id", "psn_no", "fee_date")
"""Columns every window keeps (the scope and ownership read them)."""

SHARE = 1.25
"""Narrower windows read a wider one's lines when it holds at most this many times theirs."""

FULL = "population"
"""The window key of the population rules read whole (they read the whole store)."""

SHARED = "sharing-keys+"
"""Key prefix of a population window cut to the lines sharing a key (a trace code) with the audited ones."""

INST = "institutions±"
"""Key prefix of a population window cut to the audited visits' institutions and days around them."""


def window_key(rule: Rule) -> str:
    """``population``; else ``all`` (the persons' whole history) or the days around the audited lines, plus
    ``+<hash>`` of the template's condition on the history lines it reads (``batch_history_where``)."""
    p = plan(rule)
    if p.population:
        if p.batch_population_keys is not None:
            return f"{SHARED}{hashlib.sha1(p.batch_population_keys.encode()).hexdigest()[:6]}"
        return FULL if p.batch_institution_days is None else f"{INST}{int(p.batch_institution_days)}"
    key = "all" if p.batch_history_days is None else str(int(p.batch_history_days))
    where = history_where(rule)
    return f"{key}+{hashlib.sha1(where.encode()).hexdigest()[:6]}" if where and key != "0" else key


def history_where(rule: Rule) -> str | None:
    """The template's SQL condition on the person's other lines its batch SQL reads (None: all)."""
    return plan(rule).batch_history_where


def _match_imports(store: Store, imports: list[str]) -> dict[str, list[Path]]:
    """table → the import folders named by ``imports`` (a file's import id, or an ingest id naming its set)."""
    out: dict[str, list[Path]] = {}
    unknown = []
    for want in imports:
        found = False
        for table in ("fee_list_d", "mdtrt_d"):
            for d in store.import_dirs(table):
                iid = d.name.split("=", 1)[1]
                if iid == want or iid.startswith(want + "-"):
                    out.setdefault(table, []).append(d)
                    found = True
        if not found:
            unknown.append(want)
    if unknown:
        sets = sorted(
            {
                d.name.split("=", 1)[1].rsplit("-", 1)[0]
                for t in ("fee_list_d", "mdtrt_d")
                for d in store.import_dirs(t)
            }
        )
        latest = ", ".join(sets[-6:]) or "-"
        raise InputError(
            f"未知的导入批次 {', '.join(unknown)}（须为费用明细或就诊记录的导入编号；最近的导入：{latest}）",
            f"unknown import {', '.join(unknown)} (a fee_list_d or mdtrt_d import id; latest imports: {latest})",
        )
    return out


def _scope(
    con: duckdb.DuckDBPyConnection, store: Store, imports: list[str], month: str | None, parts: dict[str, str]
) -> dict:
    """Create ``fg_inc_lines`` (the audited lines), ``fg_inc_visits`` (the audited visits) and
    ``fg_inc_persons``; return what the run record says of the scope."""
    if month is not None:
        first = f"DATE {literal(month + '-01')}"
        cond = f"BETWEEN {first} AND {first} + INTERVAL 1 MONTH - INTERVAL 1 DAY"
        con.execute(
            "CREATE TEMP TABLE fg_inc_lines AS SELECT bkkp_sn, mdtrt_id, psn_no, fee_date "
            f"FROM fg_all_lines WHERE fee_date {cond}"
        )
        visit_rows = (
            f"(SELECT mdtrt_id, psn_no, begntime FROM mdtrt_d_valid WHERE CAST(begntime AS DATE) {cond})"
        )
        named: dict = {"month": month}
    else:
        dirs = _match_imports(store, imports)
        fee = [d.name.split("=", 1)[1] for d in dirs.get("fee_list_d", [])]
        sources = [f"SELECT bkkp_sn, mdtrt_id, psn_no, fee_date FROM {parts[i]}" for i in fee if i in parts]
        con.execute(
            "CREATE TEMP TABLE fg_inc_lines AS "
            + (" UNION ALL ".join(sources) or "SELECT bkkp_sn, mdtrt_id, psn_no, fee_date FROM fg_all_lines WHERE false")
        )  # fmt: skip
        visit_rows = (
            f"(SELECT mdtrt_id, psn_no, begntime FROM {import_rows('mdtrt_d', dirs['mdtrt_d'])})"
            if dirs.get("mdtrt_d")
            else "(SELECT NULL::VARCHAR AS mdtrt_id, NULL::VARCHAR AS psn_no, NULL::TIMESTAMP AS begntime WHERE false)"
        )
        named = {"imports": sorted({d.name.split("=", 1)[1] for ds in dirs.values() for d in ds})}
    con.execute(
        f"""CREATE TEMP TABLE fg_inc_visits AS
        SELECT mdtrt_id, any_value(psn_no) AS psn_no, min(d) AS first_date FROM (
            SELECT mdtrt_id, psn_no, fee_date AS d FROM fg_inc_lines
            UNION ALL SELECT mdtrt_id, psn_no, CAST(begntime AS DATE) FROM {visit_rows}
        ) WHERE mdtrt_id IS NOT NULL GROUP BY mdtrt_id"""
    )
    con.execute(
        "CREATE TEMP TABLE fg_inc_persons AS SELECT DISTINCT psn_no FROM fg_inc_visits WHERE psn_no IS NOT NULL"
    )
    lines, visits, persons = (
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("fg_inc_lines", "fg_inc_visits", "fg_inc_persons")
    )  # fmt: skip
    if lines == 0 and visits == 0:
        if month is not None:
            have = [m for (m,) in con.execute(
                "SELECT DISTINCT strftime(fee_date, '%Y-%m') AS m FROM fg_all_lines WHERE fee_date IS NOT NULL ORDER BY m"
            ).fetchall()]  # fmt: skip
            span = f"{have[0]} … {have[-1]}" if have else "-"
            raise InputError(
                f"月份 {month} 没有可审核的费用明细或就诊记录（数据仓中的月份：{span}）",
                f"month {month}: no fee lines or visits to audit (months in the store: {span})",
            )
        raise InputError(
            f"导入批次 {', '.join(imports)} 没有有效的费用明细或就诊记录（只导入了参考表时请运行全量审核）",
            f"import {', '.join(imports)}: no valid fee lines or visits (reference tables alone: run a full audit)",
        )
    return {**named, "lines": int(lines), "visits": int(visits), "persons": int(persons)}


def _columns(con: duckdb.DuckDBPyConnection, relation: str, words: set[str], keys: tuple[str, ...]) -> str:
    """The columns of ``relation`` the rules' SQL names (``words``, a word-level superset as in
    ``batch.prepare``) plus ``keys``: a window holds only those (its wide text columns cost most)."""
    names = [d[0] for d in con.execute(f"SELECT * FROM {relation} WHERE false").description]
    return ", ".join(f'"{c}"' for c in names if c in words or c in keys)


def _history(con: duckdb.DuckDBPyConnection, words: set[str]) -> None:
    """The audited persons' line keys (``fg_inc_keys``), the date span of each person's audited visits
    (``fg_inc_span``) and their visit-level rows (``fg_inc_t_<table>``, the columns the rules name)."""
    con.execute(
        """CREATE TEMP TABLE fg_inc_keys AS SELECT mdtrt_id, psn_no, fee_date FROM fg_all_lines
        WHERE psn_no IN (SELECT psn_no FROM fg_inc_persons) OR mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_visits)"""
    )
    # a person's span covers every line of their audited visits (a stay's earlier lines count too) and the
    # admission day of audited visits without lines
    con.execute(
        """CREATE TEMP TABLE fg_inc_span AS SELECT psn_no, min(d) AS lo, max(d) AS hi FROM (
            SELECT k.psn_no, k.fee_date AS d FROM fg_inc_keys k SEMI JOIN fg_inc_visits v USING (mdtrt_id)
            UNION ALL SELECT psn_no, first_date FROM fg_inc_visits
        ) WHERE psn_no IS NOT NULL AND d IS NOT NULL GROUP BY psn_no"""
    )
    con.execute(
        f"CREATE TEMP TABLE fg_inc_t_mdtrt_d AS SELECT {_columns(con, 'memory.main.mdtrt_d_valid', words, KEYS)} "
        "FROM memory.main.mdtrt_d_valid "
        "WHERE psn_no IN (SELECT psn_no FROM fg_inc_persons) OR mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_visits)"
    )
    con.execute(
        "CREATE TEMP TABLE fg_inc_ids AS SELECT mdtrt_id FROM fg_inc_t_mdtrt_d UNION SELECT mdtrt_id FROM fg_inc_keys "
        "UNION SELECT mdtrt_id FROM fg_inc_visits"
    )  # once, not once per table
    ids = "(SELECT mdtrt_id FROM fg_inc_ids)"
    for table in VISIT_TABLES[1:]:
        src = f"memory.main.{table}_valid"
        con.execute(
            f"CREATE TEMP TABLE fg_inc_t_{table} AS SELECT {_columns(con, src, words, KEYS)} FROM {src} "
            f"WHERE mdtrt_id IN {ids}"
        )


def _window_visits(con: duckdb.DuckDBPyConnection, key: str, n: int) -> int:
    """Create ``fg_inc_v<n>``, the visits of window ``key``; return their stored lines (from the keys)."""
    days = key.split("+", 1)[0]
    if days == "0":
        chosen = "SELECT mdtrt_id FROM fg_inc_visits"
    elif days == "all":
        chosen = "SELECT mdtrt_id FROM fg_inc_keys UNION SELECT mdtrt_id FROM fg_inc_visits"
    else:
        chosen = f"""SELECT k.mdtrt_id FROM fg_inc_keys k JOIN fg_inc_span s ON s.psn_no = k.psn_no
            AND k.fee_date BETWEEN s.lo - {int(days)} AND s.hi + {int(days)}
            UNION SELECT mdtrt_id FROM fg_inc_visits"""
    con.execute(f"CREATE TEMP TABLE fg_inc_v{n} AS {chosen}")
    return int(
        con.execute(f"SELECT count(*) FROM fg_inc_keys SEMI JOIN fg_inc_v{n} USING (mdtrt_id)").fetchone()[0]
    )


def _window_lines(
    con: duckdb.DuckDBPyConnection, n: int, words: set[str], where: str | None
) -> tuple[str, int]:
    """Materialise the lines of the visits ``fg_inc_v<n>`` (those passing ``where``, an SQL condition over
    ``l``, outside the audited visits), with the columns named in ``words``; return (table, rows)."""
    # the visits' date range lets DuckDB skip the row groups of other months before reading their columns
    lo, hi = con.execute(
        f"SELECT min(fee_date), max(fee_date) FROM fg_inc_keys WHERE mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_v{n})"
    ).fetchone()
    cond = [f"l.fee_date BETWEEN {literal(lo)} AND {literal(hi)}" if lo is not None else "false"]
    cond.append(f"l.mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_v{n})")
    if where:
        cond.append(f"(l.mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_visits) OR ({where}))")
    return _lines_table(con, f"fg_inc_cl{n}", words, " AND ".join(cond))


def _lines_table(con: duckdb.DuckDBPyConnection, table: str, words: set[str], where: str) -> tuple[str, int]:
    """Materialise as ``table`` the lines of ``fg_all_lines l`` passing ``where``, with the columns named in
    ``words``; return (table, rows)."""
    cols = ", ".join(f"l.{c}" for c in _columns(con, "fg_all_lines", words, KEYS).split(", "))
    con.execute(f"CREATE TEMP TABLE {table} AS SELECT {cols} FROM fg_all_lines l WHERE {where}")
    return table, int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _build_windows(
    con: duckdb.DuckDBPyConnection, groups: dict[tuple[str, str], list[Rule]]
) -> dict[str, tuple[str, int]]:
    """Window key → (table of its lines, rows). Windows without a history condition whose lines differ by
    less than ``SHARE`` share the wider one's table (a superset is exact, and one table is built, not two)."""
    keys = sorted(k for k in {k for _, k in groups} - {FULL} if not k.startswith((INST, SHARED)))
    members = {k: [r for (_, gk), g in groups.items() if gk == k for r in g] for k in keys}
    estimate = {k: _window_visits(con, k, n) for n, k in enumerate(keys)}
    owner = {k: k for k in keys}
    plain = sorted(
        (k for k in keys if "+" not in k), key=lambda k: math.inf if k == "all" else int(k), reverse=True
    )
    for wide, narrow in itertools.pairwise(plain):  # widest first
        if estimate[owner[wide]] <= SHARE * estimate[narrow]:
            owner[narrow] = owner[wide]
    out: dict[str, tuple[str, int]] = {}
    for n, k in enumerate(keys):
        if owner[k] != k:
            continue
        users = [u for u in keys if owner[u] == k]
        words = set(re.findall(r"\w+", hits_sql([r for u in users for r in members[u]])))
        built = _window_lines(con, n, words, history_where(members[k][0]))
        out.update(dict.fromkeys(users, built))
    return out


def _institution_window(con: duckdb.DuckDBPyConnection, key: str, n: int, words: set[str]) -> tuple[str, int]:
    """A population window cut to the audited visits' institutions: their visits admitted within ``days``
    of the first and last admission of an audited visit there (``fg_inc_i<n>_<table>``), and their lines;
    return (lines table, rows)."""
    days = int(key.removeprefix(INST))
    con.execute(
        f"""CREATE TEMP TABLE fg_inc_iv{n} AS
        WITH a AS (
            SELECT fixmedins_code, min(CAST(begntime AS DATE)) AS lo, max(CAST(begntime AS DATE)) AS hi
            FROM memory.main.mdtrt_d_valid SEMI JOIN fg_inc_visits USING (mdtrt_id)
            WHERE begntime IS NOT NULL GROUP BY fixmedins_code
        )
        SELECT v.mdtrt_id FROM memory.main.mdtrt_d_valid v JOIN a ON a.fixmedins_code = v.fixmedins_code
            AND CAST(v.begntime AS DATE) BETWEEN a.lo - {days} AND a.hi + {days}
        UNION SELECT mdtrt_id FROM fg_inc_visits"""
    )
    for table in VISIT_TABLES:
        src = f"memory.main.{table}_valid"
        con.execute(
            f"CREATE TEMP TABLE fg_inc_i{n}_{table} AS SELECT {_columns(con, src, words, KEYS)} FROM {src} "
            f"WHERE mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_iv{n})"
        )
    return _lines_table(con, f"fg_inc_icl{n}", words, f"l.mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_iv{n})")


def _shared_key_window(con: duckdb.DuckDBPyConnection, n: int, words: set[str], keys: str) -> tuple[str, int]:
    """A population window cut to the lines of the audited visits and the lines sharing one of their keys
    (``keys``, an SQL list over ``l``); return (lines table, rows)."""
    con.execute(
        f"""CREATE TEMP TABLE fg_inc_kk{n} AS SELECT DISTINCT unnest({keys}) AS k
        FROM fg_all_lines l WHERE l.mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_visits)"""
    )
    con.execute(
        f"""CREATE TEMP TABLE fg_inc_ks{n} AS SELECT DISTINCT x.bkkp_sn FROM
        (SELECT l.bkkp_sn, unnest({keys}) AS k FROM fg_all_lines l) x SEMI JOIN fg_inc_kk{n} USING (k)"""
    )
    return _lines_table(
        con,
        f"fg_inc_kcl{n}",
        words,
        f"l.mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_visits) OR l.bkkp_sn IN (SELECT bkkp_sn FROM fg_inc_ks{n})",
    )


def _point_views(con: duckdb.DuckDBPyConnection, lines: str, visits: str | None) -> None:
    """``claim_lines`` → ``lines``; the visit-level views → the tables ``<visits><table>`` (the window's
    visits), or the whole store's (None)."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW claim_lines AS SELECT * FROM {lines}")
    for table in VISIT_TABLES:
        if visits is not None:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {table}_valid AS SELECT * FROM {visits}{table}")
        else:
            con.execute(f"DROP VIEW IF EXISTS temp.main.{table}_valid")


def owned_sql(hits: str) -> str:
    """The hits of query ``hits`` owned by the scope: on an audited visit, or naming an audited line."""
    return f"""WITH fg_h AS MATERIALIZED (SELECT *, row_number() OVER () AS fg_n FROM ({hits})),
fg_own AS (SELECT DISTINCT u.fg_n FROM (SELECT fg_n, unnest(bkkp_sn) AS sn FROM fg_h) u
           JOIN fg_inc_lines s ON s.bkkp_sn = u.sn)
SELECT * EXCLUDE (fg_n) FROM fg_h
WHERE mdtrt_id IN (SELECT mdtrt_id FROM fg_inc_visits) OR fg_n IN (SELECT fg_n FROM fg_own)"""


def run_incremental(
    workspace: Path,
    rules: RuleSet,
    *,
    imports: list[str] | tuple[str, ...] = (),
    month: str | None = None,
    out_dir: Path | None = None,
    progress: bool = True,
) -> BatchResult:
    """Audit the lines of ``imports`` (import or ingest ids) or of ``month`` (``YYYY-MM``): the owned hits
    of a full audit (module docstring), reading each rule's window alone. Same outputs as ``run_batch``
    (``hits.parquet``, ``run.json`` with ``incremental``); ``lines_scanned`` counts the distinct lines read
    (the whole store's when population rules run; ``lines_read_by_windows`` without them)."""
    if bool(imports) == (month is not None):
        raise InputError("须给出 --month 或 --import 之一", "give one of --month or --import")
    if month is not None and not MONTH_RE.match(month):
        raise InputError(f"月份格式应为 YYYY-MM：{month!r}", f"month must be YYYY-MM: {month!r}")
    t0 = time.perf_counter()
    workspace = Path(workspace)
    store = Store(workspace)
    if not store.root.exists():
        raise InputError(f"工作区 {workspace} 没有数据仓", f"workspace {workspace} has no store")
    enabled = rules.enabled()
    con = store.connect()
    con.execute(f"SET memory_limit = {literal(BATCH_MEMORY_LIMIT)}")
    run_dir: Path | None = None
    try:
        t = time.perf_counter()
        knowledge.register(con, sorted({r.knowledge for r in enabled if r.knowledge}))
        parts: dict[str, str] = {}
        attach_claim_lines(store, con, name="fg_all_lines", parts_out=parts)
        # the scope before the run folder: a month or import with nothing to audit leaves none
        scope = _scope(con, store, list(imports), month, parts)
        started, run_id, run_dir = new_run(workspace, out_dir, suffix=INCREMENTAL_SUFFIX)
        restrict_file_access(con, [store.root, Workspace(store.workspace).cache, run_dir])
        _history(con, set(re.findall(r"\w+", hits_sql([r for r in enabled if window_key(r) != FULL]))))
        phases: dict[str, float] = {"scope": round(time.perf_counter() - t, 3)}
        groups: dict[tuple[str, str], list[Rule]] = {}
        for r in enabled:
            groups.setdefault((r.template, window_key(r)), []).append(r)
        windows: dict[str, tuple[str, int]] = {}
        t = time.perf_counter()
        windows.update(_build_windows(con, groups))
        visit_tables: dict[str, str | None] = dict.fromkeys(windows, "fg_inc_t_")
        for n, key in enumerate(sorted({k for _, k in groups if k.startswith(INST)})):
            members = [r for (_, k), g in groups.items() if k == key for r in g]
            windows[key] = _institution_window(con, key, n, set(re.findall(r"\w+", hits_sql(members))))
            visit_tables[key] = f"fg_inc_i{n}_"
        for n, key in enumerate(sorted({k for _, k in groups if k.startswith(SHARED)})):
            members = [r for (_, k), g in groups.items() if k == key for r in g]
            keys = plan(members[0]).batch_population_keys
            assert keys is not None
            windows[key] = _shared_key_window(con, n, set(re.findall(r"\w+", hits_sql(members))), keys)
            visit_tables[key] = None  # the visit tables whole: a population rule
        if any(k == FULL for _, k in groups):
            windows[FULL] = (
                "fg_all_lines",
                int(con.execute("SELECT count(*) FROM fg_all_lines").fetchone()[0]),
            )
        windowed = sorted({table for k, (table, _) in windows.items() if k != FULL})
        distinct = con.execute(
            f"SELECT count(*) FROM ({' UNION '.join(f'SELECT bkkp_sn FROM {t}' for t in windowed) or 'SELECT 1 WHERE false'})"
        ).fetchone()[0]
        phases["windows"] = round(time.perf_counter() - t, 3)
        parts_dir = run_dir / "_parts"
        parts_dir.mkdir(exist_ok=True)
        files = []
        with progress_bar(progress) as bar:
            task = bar.add_task(
                f"增量审核 incremental audit: {len(enabled)} 条规则 rules", total=len(enabled)
            )
            for n, ((name, key), group) in enumerate(sorted(groups.items())):
                t = time.perf_counter()
                _point_views(con, windows[key][0], visit_tables.get(key))
                f = parts_dir / f"{name}-{n}.parquet"
                con.execute(f"COPY ({owned_sql(hits_sql(group))}) TO {literal(str(f))} (FORMAT parquet)")
                files.append(f)
                phases[f"{name}[{key}]"] = round(time.perf_counter() - t, 3)
                bar.advance(task, len(group))
        t = time.perf_counter()
        hits_path = run_dir / "hits.parquet"
        union = " UNION ALL ".join(
            f"SELECT * FROM read_parquet({literal(str(f))}, hive_partitioning = false)" for f in files
        )
        con.execute(
            f"COPY ({union or hits_sql([])}) TO {literal(str(hits_path))} (FORMAT parquet, COMPRESSION zstd)"
        )
        per_rule = con.execute(
            "SELECT rule_id, count(*), CAST(sum(amount) AS VARCHAR) FROM "
            f"read_parquet({literal(str(hits_path))}, hive_partitioning = false) GROUP BY rule_id"
        ).fetchall()
        phases["gather"] = round(time.perf_counter() - t, 3)
    finally:
        con.close()
        if run_dir is not None:
            shutil.rmtree(run_dir / "_parts", ignore_errors=True)
    read = {k: rows for k, (_, rows) in windows.items()}
    record = {
        **scope,
        "owned": "hits on an audited visit or naming an audited line / 审核范围内就诊或明细的命中",
        "lines_read_by_window": read,
        "rules_by_window": {
            k: sorted(r.id for (_, gk), g in groups.items() if gk == k for r in g) for k in read
        },
        "lines_read_by_windows": int(distinct),
        "population_rules_read_the_store": FULL in read,
    }
    return finish_run(
        store,
        rules,
        run_id,
        run_dir,
        started,
        t0,
        read.get(FULL, int(distinct)),
        {rid: n for rid, n, _ in per_rule},
        {rid: a for rid, _, a in per_rule},
        phases,
        engine="duckdb",
        incremental=record,
    )
