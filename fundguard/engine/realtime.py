"""事前/事中 real-time audit of ONE claim: the rules' compiled plans evaluated in memory.

``RealtimeAuditor`` holds, in plain Python dicts indexed by key, what a claim needs beyond itself: per person
the stored visits and ``claim_lines`` rows (only their declared columns) that look-back rules keep
(``RulePlan.keeps_visits`` / ``keeps_history``; each rule's lines cut to its own ``history_days``, counted back
from the store's latest line — visits are not cut yet), the person / institution / catalogue reference values
and the knowledge tables by code. Per claim it validates and casts the claim (``claim_input.parse_claim``;
``audit_parsed`` takes one already cast, as ``payload3101.parse_3101`` gives it), builds its ``claim_lines``
rows in Python once (``rules.claim.line_rows``, the same definition as the SQL view), and runs each rule's
evaluator (``RulePlan.evaluator``): one pass of plain dict lookups over those rows per rule, where the old path
planned and ran a DuckDB query per rule. Evidence is rendered by ``rules.evidence`` from the hit's values, as
the batch's SQL renders it, so hits are byte-identical (``tests/engine/test_realtime.py`` compares every visit
of a generated city).

Rules whose template has no evaluator yet run through the old path (``realtime_sql.SqlRealtimeAuditor``,
the batch SQL over the claim in DuckDB); rules whose plan needs the whole population (进销存, 集中住院) do
not run in real time (``skipped``). Rule changes apply without a restart: every ``RULES_CHECK_SECONDS`` an
audit checks the rule files (a maintainer's pause lands in ``<ws>/rules/paused.yaml``) and the bureau's
knowledge override files (``FUNDGUARD_KB_OVERRIDES``: a new knowledge version) and reloads what changed;
``stale()`` / ``refresh()`` bring the history up to the store after an import, reading again only the persons
the new imports touch (``history_refresh``).
"""

from __future__ import annotations

import atexit
import datetime as dt
import gc
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from fundguard.core.errors import FundGuardError, InputError
from fundguard.core.settings import settings
from fundguard.core.workspace import Workspace
from fundguard.data.store import Store
from fundguard.engine.batch import input_fingerprint
from fundguard.engine.claim_input import claim_from_store, claim_tables, claim_texts, parse_claim
from fundguard.engine.history_refresh import (
    FULL_RELOAD_SHARE,
    Touched,
    new_imports,
    store_imports,
    touched_persons,
)
from fundguard.engine.realtime_sql import SqlRealtimeAuditor, realtime_rules
from fundguard.rules import knowledge, load_rules, workspace_rule_files
from fundguard.rules.base import claim_lines_query
from fundguard.rules.claim import Claim, Row, line_rows, visit_row
from fundguard.rules.plan import RulePlan, plan
from fundguard.rules.spec import Rule, RuleSet
from fundguard.rules.templates.base import forget_knowledge, kp_index, kp_match

RULES_CHECK_SECONDS = 2.0
"""How often an audit checks whether the rule files changed (a pause, a local rule) and reloads them."""


_VISIT_COLUMNS = (
    "psn_no", "fixmedins_code", "fixmedins_name", "med_type", "begntime", "endtime", "adm_dept_codg",
    "adm_dept_name", "dscg_maindiag_code",
)  # fmt: skip
"""The ``mdtrt_d`` columns of ``stay_common.visits``."""


def _attach_stay_diagnoses(con, visits: dict[str, list[Row]], only: str | None = None) -> None:
    """Issue 12: each kept visit's secondary diagnoses (``setl_list_diag_d``) as ``visit["diagnoses"]``, so a
    look-back rule reads every diagnosis of the previous stay as the batch does (分解住院: Z51.1 planned
    course). Bounded: only visits a rule keeps, each code once, the strings shared (``sys.intern``)."""
    kept = {v["mdtrt_id"]: v for vs in visits.values() for v in vs}
    for v in kept.values():
        v["diagnoses"] = ()
    if not kept:
        return
    cur = con.execute(
        "SELECT mdtrt_id, list(DISTINCT diag_code ORDER BY diag_code) FROM setl_list_diag_d_valid "
        "WHERE diag_code IS NOT NULL"
        + (f" AND mdtrt_id IN (SELECT mdtrt_id FROM mdtrt_d_valid WHERE psn_no IN ({only}))" if only else "")
        + " GROUP BY mdtrt_id"
    )
    while rows := cur.fetchmany(100_000):
        for mdtrt_id, codes in rows:
            v = kept.get(mdtrt_id)
            if v is not None:
                v["diagnoses"] = tuple(sys.intern(c) for c in codes)


@cache
def _knowledge_index(name: str, keys: tuple[str, ...]) -> dict[Any, list[Row]]:
    """A knowledge table's rows by key (one code, or a tuple of codes), built once per process."""
    index: dict[Any, list[Row]] = defaultdict(list)
    for row in knowledge.arrow(name).to_pylist():
        index[row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)].append(row)
    return dict(index)


def _gate(p: RulePlan, index: dict[Any, list[Row]]) -> frozenset:
    """The billed codes a gated rule can hit on: the knowledge keys (first column of a pair) with a row
    passing the rule's ``kp_filter``."""
    return frozenset(
        k[0] if isinstance(k, tuple) else k
        for k, rows in index.items()
        if any(kp_match(p.rule, r) for r in rows)
    )


def _knowledge_files() -> list[Path]:
    """The bureau's knowledge override files (``FUNDGUARD_KB_OVERRIDES``): a new knowledge version lands there."""
    folder = settings().kb_overrides
    return sorted(Path(folder).glob("*.csv")) if folder else []


def _forget_knowledge() -> None:
    """Empty the knowledge caches of this process (tables, indexes, what evaluators derived from them)."""
    knowledge.arrow.cache_clear()
    _knowledge_index.cache_clear()
    forget_knowledge()


def _deep_size(root: Any) -> int:
    """Bytes held by ``root`` and what it contains (``sys.getsizeof``, each object counted once)."""
    seen: set[int] = set()
    total = 0
    stack = [root]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)
    return total


def _rules_signature(files: list[Path]) -> tuple:
    out = []
    for f in files:
        try:
            st = f.stat()
            out.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(f), None, None))
    return tuple(out)


class RealtimeAuditor:
    """Audit one claim at a time against the patient's stored history (see the module docstring).

    ``audit(claim, stage)`` returns hit dicts (``rules.base.HIT_COLUMNS``); ``rule_by_id``, ``rules``,
    ``skipped``, ``last_timings``, ``memory_bytes``, ``stale()``, ``refresh()`` and ``close()`` as before."""

    def __init__(
        self,
        workspace: Path,
        rules: RuleSet,
        *,
        stage: str | tuple[str, ...] = "事中",
        threads: int = 1,
        history_since: dt.date | None = None,
    ):
        """``stage``: the stage (or stages, chosen per ``audit`` call) whose rules run; ``threads``: DuckDB
        threads of the SQL fallback; ``history_since``: keep stored lines from this date on (default: the
        store's latest line date less the longest window the rules declare; ``date.min`` to replay old
        visits, as the tests do)."""
        self.workspace = Path(workspace)
        self.history_since = history_since
        self.stages = (stage,) if isinstance(stage, str) else tuple(stage)
        self._threads = threads
        if not Store(self.workspace).root.exists():
            raise InputError(f"工作区 {workspace} 没有数据仓", f"workspace {workspace} has no store")
        self._sql: SqlRealtimeAuditor | None = None
        self._imports: dict[str, dict[str, Path]] | None = None
        self._psn: dict[str, Row] = {}
        self.refresh_kind = ""
        self.last_timings: dict[str, float] = {}
        self.rules_error: FundGuardError | None = None
        self._set_rules(rules)
        self.refresh()

    # --- rules ----------------------------------------------------------------------------------------
    def _set_rules(self, rules: RuleSet) -> None:
        self.ruleset = rules
        self.rules = realtime_rules(rules, self.stages)
        self.rule_by_id = {r.id: r for r in self.rules}
        self.skipped = sorted(
            r.id for r in rules.enabled() if set(self.stages) & set(r.stages) and plan(r).population
        )
        self.plans: list[RulePlan] = [plan(r) for r in self.rules]
        self._compiled = [p for p in self.plans if p.compiled]
        sql_ids = [p.rule.id for p in self.plans if not p.compiled]
        if self._sql is not None:
            self._sql.close()
            self._sql = None
        if sql_ids:
            self._sql = SqlRealtimeAuditor(
                self.workspace, rules.select(sql_ids), stage=self.stages, threads=self._threads
            )
        self._kb = {
            p.knowledge: _knowledge_index(p.knowledge, p.knowledge_keys)
            for p in self._compiled
            if p.knowledge
        }
        self._gates = {
            id(p): _gate(p, self._kb[p.knowledge]) for p in self._compiled if p.gated and p.knowledge
        }
        # each rule's knowledge rows passing its filter, indexed now rather than by the first claim that needs
        # them (tens of milliseconds over the first claims after a start or a reload)
        primer = Claim(mdtrt_id="", psn_no="", lines=[], visit={}, knowledge=self._kb.__getitem__)
        for p in self._compiled:
            if p.knowledge:
                kp_index(p.rule, primer, p.knowledge)
        # the evaluators of each stage (and of all stages) with their rules and code gates, in rule order
        self._by_stage: dict[str | None, list[tuple[Callable, Rule, frozenset | None]]] = {
            s: [
                (p.evaluator, p.rule, self._gates.get(id(p)))
                for p in self._compiled
                if s is None or s in p.rule.stages
            ]
            for s in (None, *self.stages)
        }
        self._rules_sig = _rules_signature(self._rule_file_list())
        self._knowledge_sig = _rules_signature(_knowledge_files())
        self._rules_checked = time.monotonic()

    def _rule_file_list(self) -> list[Path]:
        """The files the rules came from, with the workspace's own rule files as they are now."""
        own = Workspace(self.workspace).rules
        files = [Path(f) for f in self.ruleset.files if Path(f).parent.resolve() != own.resolve()]
        return [*files, *workspace_rule_files(self.workspace)]

    def check_rules(self, force: bool = False) -> bool:
        """Reload the rules when their files or the bureau's knowledge override files changed (at most every
        ``RULES_CHECK_SECONDS``); True when reloaded. A file that no longer loads keeps the rules and the
        knowledge in force and is kept in ``rules_error``."""
        now = time.monotonic()
        if not force and now - self._rules_checked < RULES_CHECK_SECONDS:
            return False
        self._rules_checked = now
        files = self._rule_file_list()
        sig = _rules_signature(files)
        kb_sig = _rules_signature(_knowledge_files())
        new_knowledge = kb_sig != self._knowledge_sig
        if sig == self._rules_sig and not new_knowledge and not force:
            return False
        if new_knowledge:  # a new knowledge version: the tables and all that was derived from them
            _forget_knowledge()
            try:
                for name in {p.knowledge for p in self._compiled if p.knowledge}:
                    knowledge.arrow(name)  # read now: a bad override file fails here, not mid-claim
            except Exception as e:  # any unreadable file: the indexes in use stay in force
                self.rules_error = e if isinstance(e, FundGuardError) else FundGuardError(
                    f"知识库覆盖文件无法读取：{e}", f"knowledge override files cannot be read: {e}"
                )  # fmt: skip
                self._rules_sig, self._knowledge_sig = sig, kb_sig
                return False
        try:
            rules = load_rules(files)
        except FundGuardError as e:
            self.rules_error = e
            self._rules_sig = sig
            return False
        self.rules_error = None
        needs = self._history_needs()
        self._set_rules(rules)
        ids, days = self._history_needs()
        wider = (days is None and needs[1] is not None) or (days or 0) > (needs[1] or 0)
        # history kept for a pause is harmless; new knowledge may change which lines a rule keeps
        if not ids <= needs[0] or wider or self._sql is not None or new_knowledge:
            self.refresh(full=True)
        return True

    def _history_needs(self) -> tuple[frozenset[str], int | None]:
        """The rules that read the person's history, and how many days of it."""
        ids = frozenset(
            p.rule.id for p in self._compiled if p.keeps_history is not None or p.keeps_visits is not None
        )
        return ids, self._history_days()[1]

    def _history_days(self) -> tuple[bool, int | None]:
        keep = [p for p in self._compiled if p.keeps_history is not None]
        if not keep:
            return False, 0
        days = [p.history_days for p in keep]
        return True, None if None in days else max(d for d in days if d is not None)

    # --- history --------------------------------------------------------------------------------------
    def refresh(self, *, full: bool = False) -> None:
        """Bring the in-memory history up to the store (call after new data is imported): the first time, or
        when an import was removed or touches most persons, read it whole; otherwise read again only the
        persons the new imports touch (``history_update.touched_persons``) and cut everyone else's lines to
        the rules' windows as the store's latest line moved. Either way the history equals a fresh load.
        ``full``: read everything again (the rules changed what they keep)."""
        t0 = time.perf_counter()
        store = Store(self.workspace)
        self.fingerprint = input_fingerprint(store)  # before reading: a later import shows
        if self._sql is not None:
            self._sql.refresh()
        imports = store_imports(store)
        new = None if full else new_imports(self._imports, imports)
        con = store.connect()
        try:
            touched = None if new is None else touched_persons(con, self._imports, new)
            if touched is not None and len(touched.reread) > FULL_RELOAD_SHARE * max(len(self._psn), 1):
                touched = None  # most persons changed: one full read is cheaper than a filtered one
            if touched is None:
                self._set_state(*self._read(con))
                self.refresh_kind = "full"
            else:
                self._merge(con, touched)
                self.refresh_kind = f"incremental ({len(touched.reread):,} persons read again, {len(touched.appended):,} appended)"
        finally:
            con.close()
        self._imports = imports
        # what a claim line takes from the catalogue, as ``line_rows`` reads it: one C-level lookup a line
        self._cat_lines = {code: (c["chrgitm_lv"], c["pric_uplmt_amt"]) for code, c in self._cat.items()}
        self._memory = None
        # millions of long-lived objects: keep the cyclic GC from rescanning them during audits (its pauses
        # were the p99)
        gc.collect()
        gc.freeze()
        atexit.register(gc.unfreeze)  # at exit let everything be collected as usual (extension modules check)
        self.refresh_seconds = time.perf_counter() - t0

    def _set_state(self, psn, die, ins, cat, visits, history, latest) -> None:
        self._psn, self._die, self._ins, self._cat = psn, die, ins, cat
        self._visits, self._history, self._latest = visits, history, latest

    def _merge(self, con, touched: Touched) -> None:
        """Read again the persons ``touched.reread`` and replace theirs; add to ``touched.appended`` their new
        lines and visits; cut every other person's lines to the windows counted back from the (maybe later)
        latest line, as a full read would keep them."""
        for name, persons in (("fg_reread", touched.reread), ("fg_appended", touched.appended)):
            con.register(f"{name}_list", pa.table({"psn_no": pa.array(persons, pa.string())}))
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT psn_no FROM {name}_list")
        psn, die, ins, cat, visits, history, latest = self._read(con, "SELECT psn_no FROM fg_reread")
        for p in touched.reread:
            for mine, theirs in (
                (self._psn, psn),
                (self._die, die),
                (self._visits, visits),
                (self._history, history),
            ):
                if p in theirs:
                    mine[p] = theirs[p]
                else:
                    mine.pop(p, None)
        if touched.appended:
            _, _, _, _, visits, history, _ = self._read(
                con, "SELECT psn_no FROM fg_appended", lines=touched.lines, visit_ids=touched.visit_ids
            )
            for mine, theirs in ((self._visits, visits), (self._history, history)):
                for p, rows in theirs.items():
                    mine[p] = [*mine.get(p, ()), *rows]
        if latest != self._latest and self.history_since is None:
            keep, cut = self._line_filter(latest, ins.get)
            done = set(touched.reread)
            for p in [p for p in self._history if p not in done]:
                rows = self._history[p]
                if all(r["fee_date"] is not None and r["fee_date"] >= cut for r in rows):
                    continue
                rows = [r for r in rows if (r["fee_date"] is not None and r["fee_date"] >= cut) or keep(r)]
                if rows:
                    self._history[p] = rows
                else:
                    del self._history[p]
        self._ins, self._cat, self._latest = ins, cat, latest

    def _history_cut(self, latest: dt.date | None) -> dt.date | None:
        """The oldest line date kept at all: ``history_since``, else the longest declared window back from
        ``latest`` (None: no cut)."""
        _, days = self._history_days()
        if self.history_since is None and days is not None and latest is not None:
            return latest - dt.timedelta(days=int(days))
        return self.history_since

    def _line_filter(self, latest: dt.date | None, institution) -> tuple[Callable[[Row], bool], dt.date]:
        """Whether a ``claim_lines`` row is kept: inside the global cut (``history_since``, or the longest
        window back from ``latest``) and kept by a look-back rule inside that rule's own window; and the
        newest of those cuts (a row kept before that is on or after it is kept again)."""
        plans = [p for p in self._compiled if p.keeps_history is not None]
        since = self._history_cut(latest)
        # each rule keeps its own window of lines (counted back from the store's latest line), so one
        # rule's long window does not make every rule's lines be kept that long
        filters = [
            (p.keeps_history, None if self.history_since is not None or p.history_days is None
             or latest is None else latest - dt.timedelta(days=int(p.history_days)))
            for p in plans
        ]  # fmt: skip

        def keep(row: Row) -> bool:
            d = row["fee_date"]
            if since is not None and (d is None or d < since):
                return False
            return any(
                (lo is None or (d is not None and d >= lo)) and f(row, institution) for f, lo in filters
            )

        # a kept row on or after every cut is kept again (``_merge``): only older ones need the rules' look
        newest_cut = max(
            [d for d in (since, *(lo for _, lo in filters)) if d is not None], default=dt.date.max
        )
        return keep, newest_cut

    def _read(
        self, con, only: str | None = None, *, lines: str | None = None, visit_ids: str | None = None
    ) -> tuple:
        """The reference values, kept visits and kept lines from the store: of every person, or of the persons
        the query ``only`` selects (institutions and catalogue always whole); and the latest line's date.
        ``lines`` (fee lines, a parenthesised query) and ``visit_ids`` (a query of ``mdtrt_id``) restrict the
        lines and visits read to those (an import's new ones)."""
        who = f" WHERE psn_no IN ({only})" if only else ""
        psn: dict[str, Row] = {}
        die: dict[str, dt.date] = {}
        for p, g, b, d, first_die in con.execute(
            "SELECT psn_no, any_value(gend), any_value(brdy), any_value(die_date), min(CAST(die_date AS DATE)) "
            f"FROM psn_info_b_valid{who} GROUP BY psn_no"
        ).fetchall():
            psn[p] = {"gend": g, "brdy": b, "die_date": d}
            if first_die is not None:
                die[p] = first_die
        ins: dict[str, Row] = {}
        for code, lv, types, name, inet in con.execute(
            "SELECT fixmedins_code, any_value(hosp_lv), list(DISTINCT fixmedins_type), any_value(fixmedins_name),"
            " max(inet_hosp_flag) FROM medins_info_b_valid GROUP BY fixmedins_code"
        ).fetchall():
            ins[code] = {"hosp_lv": lv, "fixmedins_types": set(types or ()), "fixmedins_name": name,
                         "inet_hosp_flag": inet}  # fmt: skip
        cat: dict[str, Row] = {}
        for code, lv, cap, dscr in con.execute(
            "SELECT hilist_code, any_value(chrgitm_lv), max(pric_uplmt_amt), "
            "list(DISTINCT trim(lmt_used_dscr)) FILTER (WHERE lmt_used_dscr IS NOT NULL) "
            "FROM hilist_b_valid GROUP BY hilist_code"
        ).fetchall():
            cat[code] = {"chrgitm_lv": lv, "pric_uplmt_amt": cap, "lmt_used_dscr": dscr or []}
        visits: dict[str, list[Row]] = defaultdict(list)
        keep_visit = [p.keeps_visits for p in self._compiled if p.keeps_visits is not None]
        if keep_visit:
            cols = ", ".join(f"any_value({c}) AS {c}" for c in _VISIT_COLUMNS)
            of = f" AND psn_no IN ({only})" if only else ""
            if visit_ids:
                of += f" AND mdtrt_id IN ({visit_ids})"
            cur = con.execute(
                f"SELECT mdtrt_id, {cols} FROM mdtrt_d_valid WHERE begntime IS NOT NULL{of} GROUP BY mdtrt_id"
            )
            names = [d[0] for d in cur.description]
            for r in cur.fetchall():
                v = visit_row(dict(zip(names, r, strict=True)))
                if any(f(v) for f in keep_visit):
                    visits[v["psn_no"]].append(v)
            _attach_stay_diagnoses(con, visits, only)
        (latest,) = con.execute("SELECT max(CAST(fee_ocur_time AS DATE)) FROM fee_list_d_valid").fetchall()[
            0
        ]  # fetchall: a half-read result would block the next query
        keep, _ = self._history_days()
        history: dict[str, list[Row]] = defaultdict(list)
        if keep:
            plans = [p for p in self._compiled if p.keeps_history is not None]
            columns = sorted(
                {"bkkp_sn", "mdtrt_id", "fee_date", "psn_no", *(c for p in plans for c in p.history_columns)}
            )
            kept, _ = self._line_filter(latest, ins.get)
            lines = f"(SELECT * FROM {lines or 'fee_list_d_valid'}{who})" if only else "fee_list_d_valid"
            sql = f"SELECT {', '.join(columns)} FROM ({claim_lines_query(lines)})"
            since = self._history_cut(latest)
            if since is not None:  # the global cut in SQL too: fewer rows come out to Python
                sql += f" WHERE fee_date >= DATE '{since.isoformat()}'"
            for batch in con.sql(sql).to_arrow_reader(100_000):
                for row in batch.to_pylist():
                    if kept(row):
                        history[row["psn_no"]].append(row)
        return psn, die, ins, cat, dict(visits), dict(history), latest

    def stale(self) -> bool:
        """Whether the store has changed (an import added or removed) since the history was read."""
        return input_fingerprint(Store(self.workspace)) != self.fingerprint

    @property
    def history_bytes(self) -> tuple[int, int]:
        """(bytes of the kept history — lines and visits —, persons holding any): deep ``sys.getsizeof``."""
        persons = set(self._history) | set(self._visits)
        return _deep_size((self._visits, self._history)), len(persons)

    def history_size(self, sample: int | None = None) -> tuple[int, int, int]:
        """(bytes of the kept history, persons holding any, persons measured): ``history_bytes``, or with
        ``sample`` and more persons than that, every n-th person measured and scaled up (a full walk of tens of
        millions of objects needs gigabytes for its ``seen`` set; objects shared across persons, such as
        interned codes, are then counted once per sampled person, so the estimate errs high)."""
        persons = sorted(set(self._history) | set(self._visits))
        if not sample or len(persons) <= sample:
            size, holders = self.history_bytes
            return size, holders, holders
        step = len(persons) / sample
        picked = [persons[int(i * step)] for i in range(sample)]
        rows = [(p, self._visits.get(p, ()), self._history.get(p, ())) for p in picked]
        # less the sample's own list and tuples, which are not the history's
        part = _deep_size(rows) - sys.getsizeof(rows) - sum(map(sys.getsizeof, rows)) - sys.getsizeof(())
        tops = sys.getsizeof(self._visits) + sys.getsizeof(self._history)
        return round(part * len(persons) / sample) + tops, len(persons), sample

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the history, reference values and knowledge (deep ``sys.getsizeof``)."""
        if self._memory is None:
            self._memory = _deep_size(
                (self._psn, self._ins, self._cat, self._cat_lines, self._visits, self._history, self._kb)
            )
        return self._memory

    # --- one claim ------------------------------------------------------------------------------------
    def _claim(self, tables: dict[str, list[Row]]) -> Claim:
        visit = tables["mdtrt_d"][0]
        mdtrt_id, psn_no = visit["mdtrt_id"], visit["psn_no"]
        if visit.get("vali_flag") != "1":
            visit = {"mdtrt_id": mdtrt_id, "psn_no": psn_no}  # an invalid visit row joins nothing
        fees = [f for f in tables["fee_list_d"] if f["vali_flag"] == "1"]
        refunded = {f["init_feedetl_sn"] for f in fees if f.get("init_feedetl_sn")}
        person = self._psn.get(psn_no)
        ins = self._ins

        def hosp_lv(code: str | None) -> str | None:
            i = ins.get(code)
            return i["hosp_lv"] if i else None

        lines = line_rows(
            [
                f
                for f in fees
                if f["bkkp_sn"] not in refunded and f["det_item_fee_sumamt"] > 0 and f["cnt"] > 0
            ],
            visit,
            person,
            hosp_lv,
            self._cat_lines.get,
        )
        history = [
            r
            for r in self._history.get(psn_no, ())
            if r["mdtrt_id"] != mdtrt_id and r["bkkp_sn"] not in refunded
        ]
        diags = [visit.get("dscg_maindiag_code")] if "dscg_maindiag_code" in visit else [None]
        diags += [d["diag_code"] for d in tables["setl_list_diag_d"] if d["vali_flag"] == "1"]
        oprns = [visit.get("oprn_oprt_code")]  # issue 12: operation codes for the code-consistency rules
        oprns += [o["oprn_oprt_code"] for o in tables["setl_list_oprn_d"] if o["vali_flag"] == "1"]
        fund = None
        setl = [
            s
            for s in tables["setl_d"]
            if s.get("vali_flag") == "1"
            and not s.get("init_setl_id")
            and (s.get("refd_setl_flag") or "0") != "1"
        ]
        if setl:
            fund = (
                setl[0]["setl_id"],
                sum(
                    (
                        s.get("fund_pay_sumamt")
                        if s.get("fund_pay_sumamt") is not None
                        else (s.get("hifp_pay") or 0)
                    )
                    for s in setl
                ),
                sum((s.get("medfee_sumamt") or 0) for s in setl),
            )
        return Claim(
            mdtrt_id=mdtrt_id,
            psn_no=psn_no,
            lines=lines,
            visit=visit_row(visit),
            history=history,
            visits=[v for v in self._visits.get(psn_no, ()) if v["mdtrt_id"] != mdtrt_id],
            diagnoses=[d for d in diags if d is not None],
            operations=[o for o in oprns if o is not None],
            fund=fund,
            die_date=self._die.get(psn_no),
            institution=self._ins.get,
            catalogue=self._cat.get,
            knowledge=self._kb.__getitem__,
        )

    def audit(self, claim: dict, stage: str | None = None) -> list[dict]:
        """The hits (``HIT_COLUMNS`` dicts) of the real-time rules (of ``stage`` when given) on the claim's
        visit. ``last_timings`` then holds the milliseconds of each step and the rules run."""
        t0 = time.perf_counter()
        self._check_stage(stage)
        return self._audit(parse_claim(claim), stage, claim, t0)

    def audit_parsed(self, tables: dict[str, list[Row]], stage: str | None = None) -> list[dict]:
        """``audit`` of a claim already in ``parse_claim``'s form (``payload3101.parse_3101`` builds it so):
        not validated or cast again."""
        t0 = time.perf_counter()
        self._check_stage(stage)
        return self._audit(tables, stage, None, t0)

    def _check_stage(self, stage: str | None) -> None:
        if stage is not None and stage not in self.stages:
            raise InputError(
                f"本审核器不审核{stage}阶段（可用：{'、'.join(self.stages)}）",
                f"this auditor does not run stage {stage} (has: {', '.join(self.stages)})",
            )

    def _audit(
        self, tables: dict[str, list[Row]], stage: str | None, claim: dict | None, t0: float
    ) -> list[dict]:
        self.check_rules()
        t1 = time.perf_counter()
        c = self._claim(tables)
        t2 = time.perf_counter()
        out: list[dict] = []
        codes = c.codes
        run = 0
        for evaluate, rule, gate in self._by_stage[stage]:
            if gate is not None and codes.isdisjoint(gate):
                continue  # none of the claim's codes has a knowledge row the rule could hit on
            run += 1
            for h in evaluate(rule, c):
                if h["mdtrt_id"] == c.mdtrt_id:
                    out.append(h)
        t3 = time.perf_counter()
        if self._sql is not None:
            out += self._sql.audit(claim if claim is not None else claim_texts(tables), stage=stage)
        t4 = time.perf_counter()
        ms = [round(1000 * (b - a), 3) for a, b in ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t0, t4))]
        self.last_timings = dict(zip(("validate", "claim", "compiled", "sql", "total"), ms, strict=True)) | {
            "rules_run": len(self.rules),
            "rules_compiled": len(self._compiled),
            "rules_evaluated": run,
            "rules_skipped": 0,
        }
        return out

    def close(self) -> None:
        if self._sql is not None:
            self._sql.close()
        self._history, self._visits = {}, {}
        gc.unfreeze()

    def __enter__(self) -> RealtimeAuditor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "RealtimeAuditor",
    "SqlRealtimeAuditor",
    "claim_from_store",
    "claim_tables",
    "parse_claim",
    "realtime_rules",
]
