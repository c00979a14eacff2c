"""``ingest``: load national-format claim files into a workspace store, atomically and idempotently.

Per file: pick the table (``table`` argument, else the file or folder name, else the header), stream the rows
through the SQL of ``validate`` inside DuckDB, write good rows as Parquet under a staging directory and
bad rows to ``<ws>/quarantine``, then check keys with DuckDB (duplicates inside the file; rows already in the
store and earlier files of the same call: identical → skipped, different → ``key_conflict``). The files of one
call are one set: all are staged, then published together (``Store.publish_set``), or none when one is rejected
(empty, unknown table when named, required columns missing, more than ``MAX_COLUMNS`` columns). A full disk
stops the import with a bilingual error and leaves the store as it was.

Rows that are not in the file's encoding (a UTF-8 line in a GBK file, undecodable bytes) are quarantined as
``bad_encoding`` with the line as best decoded, never stored as mojibake; a NUL in a text field is ``nul_byte``.

``dictionary_files`` are CSVs ``dic_type,code,name`` (a province's ``NAT_DATA_DIC_A`` export, header optional,
UTF-8 or GBK) whose codes extend the built-in dictionary for this call, e.g. the local med_type ``140104``.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import errno
import hashlib
import json
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from fundguard.core.errors import InputError
from fundguard.core.progress import progress_bar
from fundguard.core.workspace import Workspace
from fundguard.data import schema
from fundguard.data.headers import ColumnMap, detect_table, load_column_map, map_header, table_from_path
from fundguard.data.readers import (
    MAX_COLUMNS,
    SUPPORTED_EXTENSIONS,
    CsvSource,
    ParquetSource,
    Source,
    detect_encoding,
    encoding_detail,
    file_format,
    open_source,
)
from fundguard.data.report import FileReport, IngestReport
from fundguard.data.store import Store, duckdb_connection, sql_list
from fundguard.data.validate import REASONS, Validator, hosp_level_only, lit, merged_dictionary, q

INGEST_MEMORY_LIMIT = "3GB"
"""DuckDB memory limit of one file's ingest (the store's default is 1 GB). DuckDB's order-keeping Parquet writer
runs a thread per ~4 MB a column within a quarter of the limit: under 1 GB an 83-column table (``fee_list_d``)
was written by one thread, and a CSV's ingest took 15 % longer. The run's peak RSS stays near 1.2 GB at 1M
lines; bigger files spill within the limit."""

REJECTS = {
    "empty_file": ("空文件（没有表头）", "empty file (no header)"),
    "unknown_table": (
        "无法识别对应的表，已跳过（可用 --table 指定）",
        "table unknown, file skipped (use --table)",
    ),
    "missing_required": ("缺少必填列", "required columns missing"),
    "too_many_columns": ("列数过多，不是国家格式的数据表", "too many columns for a national-format table"),
}


def ingest(
    paths: Sequence[Path],
    workspace: Path,
    *,
    table: str | None = None,
    progress: bool = True,
    dictionary_files: Sequence[Path] = (),
    column_map: Path | None = None,
) -> IngestReport:
    """Import ``paths`` (files or directories, walked recursively in sorted order) into ``workspace``;
    ``column_map``: a CSV naming what the extract's own headers hold (``headers.load_column_map``)."""
    columns = load_column_map(Path(column_map)) if column_map is not None else None
    if table is not None:
        try:
            schema.table(table)
        except KeyError as exc:
            raise InputError(f"未知表 {table}", f"unknown table {table}") from exc
    files = expand_paths(paths)
    named = {Path(p) for p in paths}
    workspace = Path(workspace)
    store = Store(workspace)
    with store.ingest_lock():
        return _ingest_all(files, named, store, table, dictionary_files, progress, columns)


def _ingest_all(
    files: list[Path],
    named: set[Path],
    store: Store,
    table: str | None,
    dictionary_files: Sequence[Path],
    progress: bool,
    columns: ColumnMap | None = None,
) -> IngestReport:
    """Stage every file, then publish the set at once (``Store.publish_set``), or nothing when a file is
    rejected: a folder is one import, so a kill or a bad file never leaves ``fee_list_d`` stored without its
    ``setl_d``."""
    workspace = store.workspace
    store.clean_stale_staging()
    codes = merged_dictionary(load_dictionary_files(dictionary_files))
    started = dt.datetime.now()
    ingest_id = started.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    report = IngestReport(
        ingest_id=ingest_id, workspace=str(workspace), started=started.isoformat(timespec="seconds")
    )
    t0 = time.perf_counter()
    pending: list[_Staged] = []
    try:
        with progress_bar(progress) as bar:
            for n, path in enumerate(files):
                try:
                    fr, staged = _ingest_file(
                        path, store, table, codes, ingest_id, f"{ingest_id}-{n:03d}", bar, pending, columns
                    )
                except InputError as err:
                    if path in named:  # a file the user named: its problem is the user's error
                        raise
                    # A file found in a folder walk (e.g. a README.csv beside the extract): skipped, said so.
                    fr = _reject(
                        FileReport(path=str(path), format=file_format(path)),
                        "unknown_table",
                        f"：{err.zh}",
                        f": {err.en}",
                    )
                    fr.status, staged = "skipped", None  # not part of the set: it does not hold it back
                fr.check_counts()
                report.files.append(fr)
                if staged is not None:
                    pending.append(_Staged(staged, fr.table, fr.import_id, fr.sha256))
        if any(f.status == "rejected" for f in report.files):
            for f in report.files:
                if f.status == "loaded":
                    f.status = "withheld"
            report.published = False
        else:
            store.publish_set([(p.dir, p.table, p.import_id) for p in pending], ingest_id)
    except (duckdb.IOException, OSError) as exc:
        if not _disk_full(exc):
            raise
        raise InputError(
            f"磁盘空间不足，导入已中止，数据仓未改变（{workspace}）；请释放空间后重新导入",
            f"disk full: the import stopped and the store is unchanged ({workspace}); free space and ingest again",
        ) from None
    finally:
        store.clean_stale_staging(include_own=True)  # unpublished staging and DuckDB's spill folder
    report.seconds = time.perf_counter() - t0
    _write_reports(report, workspace)
    return report


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    text = str(exc).lower()
    return "no space left" in text or "disk quota" in text


@dataclass(frozen=True)
class _Staged:
    """One file of the set, validated and staged, waiting for the set to be published."""

    dir: Path
    table: str
    import_id: str
    sha256: str


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(f"路径不存在：{p}", f"path does not exist: {p}")
        if p.is_dir():
            out.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file()
                and f.suffix.lower() in SUPPORTED_EXTENSIONS
                and not f.name.startswith((".", "~$"))
            )
        else:
            file_format(p)  # raises InputError for unsupported types
            out.append(p)
    return out


def load_dictionary_files(files: Sequence[Path]) -> dict[str, dict[str, str]]:
    """Read ``dic_type,code,name`` CSVs; a first row naming the columns is skipped."""
    out: dict[str, dict[str, str]] = {}
    for path in map(Path, files):
        if not path.exists():
            raise InputError(f"字典文件不存在：{path}", f"dictionary file does not exist: {path}")
        raw = path.read_bytes()
        text = raw.decode(detect_encoding(raw[: 4 << 20]), errors="replace").lstrip("\ufeff")
        for row in csv.reader(text.splitlines()):
            if len(row) < 2 or row[0].strip().lower() in ("dic_type", "dic_type_code"):
                continue
            name = row[2].strip() if len(row) > 2 else ""
            out.setdefault(row[0].strip().upper(), {})[row[1].strip()] = name
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def _reject(fr: FileReport, code: str, detail_zh: str = "", detail_en: str = "") -> FileReport:
    zh, en = REJECTS[code]
    fr.status, fr.reject_code = "rejected", code
    fr.reject_zh, fr.reject_en = zh + detail_zh, en + detail_en
    return fr


def _ingest_file(
    path,
    store: Store,
    table,
    codes,
    ingest_id: str,
    import_id: str,
    bar,
    pending: list[_Staged],
    columns: ColumnMap | None = None,
) -> tuple[FileReport, Path | None]:
    """Validate and stage one file; the staged import directory (None when nothing is to be stored)."""
    t0 = time.perf_counter()
    fr = FileReport(path=str(path), format=file_format(path), import_id=import_id)
    if path.stat().st_size == 0:
        fr.seconds = time.perf_counter() - t0
        return _reject(fr, "empty_file", "：0 字节", ": 0 bytes"), None
    source = open_source(path)
    staged = None
    try:
        fr.encoding = source.encoding
        if not source.header:
            return _reject(fr, "empty_file"), None
        if len(source.header) > MAX_COLUMNS:
            n = len(source.header)
            return _reject(
                fr, "too_many_columns", f"：{n} 列，上限 {MAX_COLUMNS}", f": {n}, max {MAX_COLUMNS}"
            ), None
        fr.table = table or table_from_path(path) or detect_table(source.header, path, columns)

        def imported(sha: str) -> bool:
            return bool(store.find_sha256(sha, fr.table)) or any(
                p.sha256 == sha and p.table == fr.table for p in pending
            )

        same_size = any(m.get("size") == source.size for m in store.ingests() if m["table"] == fr.table)
        with ThreadPoolExecutor(1) as pool:
            sha_future = pool.submit(sha256_file, path)
            if same_size:  # only then can it be a re-import: check before doing the work
                fr.sha256 = sha_future.result()
                if imported(fr.sha256):
                    fr.status = "already_imported"
                    return fr, None
            mapping = map_header(source.header, fr.table, columns)
            fr.unknown_columns, fr.duplicated_columns = mapping.unknown, mapping.duplicated
            fr.missing_optional = mapping.missing_optional
            if mapping.missing_required:
                cols = ", ".join(mapping.missing_required)
                return _reject(fr, "missing_required", f"：{cols}", f": {cols}"), None
            earlier = [p.dir / "part-0.parquet" for p in pending if p.table == fr.table]
            loader = _FileLoad(fr, source, mapping, codes, store, ingest_id, bar, earlier)
            staged = loader.run()
            fr.sha256 = sha_future.result()
        if imported(fr.sha256):  # re-import of a file whose size we had not seen
            shutil.rmtree(staged, ignore_errors=True)
            loader.quarantine.discard()
            return FileReport(
                path=fr.path,
                table=fr.table,
                format=fr.format,
                encoding=fr.encoding,
                sha256=fr.sha256,
                status="already_imported",
                import_id=import_id,
            ), None
        fr.seconds = time.perf_counter() - t0
        _write_manifest(staged, fr, source, ingest_id)
        return fr, staged
    finally:
        source.close()
        fr.seconds = time.perf_counter() - t0


def _write_manifest(staged: Path, fr: FileReport, source: Source, ingest_id: str) -> None:
    manifest = {
        "import_id": fr.import_id,
        "ingest_id": ingest_id,
        "source": str(Path(fr.path).resolve()),
        "sha256": fr.sha256,
        "size": source.size,
        "table": fr.table,
        "format": fr.format,
        "encoding": fr.encoding,
        "rows": fr.rows_loaded,
        "time": dt.datetime.now().isoformat(timespec="seconds"),
        "summary": {k: v for k, v in fr.to_dict().items() if k not in ("missing_optional",)},
    }
    (staged / "_manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )


class _Quarantine:
    """Bad rows of one file as CSV with BOM (Excel opens it): file, line, reason, column, value, raw values."""

    def __init__(self, path: Path, source_path: Path, header: list[str]) -> None:
        self.path, self.source_path, self.header = path, source_path, header
        self._fh = None
        self._writer = None
        self.reasons: Counter = Counter()

    def write(self, line: int, code: str, column: str, value: str | None, raw: list) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._fh)
            self._writer.writerow(
                ["file", "line", "reason_code", "reason_zh", "reason_en", "column", "value", *self.header]
            )
        zh, en = REASONS[code]
        raw_text = ["" if v is None else str(v) for v in raw]
        self._writer.writerow(
            [str(self.source_path), line, code, zh, en, column, "" if value is None else value, *raw_text]
        )
        self.reasons[code] += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


class _FileLoad:
    """Reading, validating and staging one file with DuckDB; ``run`` returns the staged import directory.

    Three passes, all streaming inside DuckDB with bounded memory: (1) the source through ``Validator``'s
    query into ``_work/checked.parquet`` (typed columns, failure code, raw values of failing rows); (2) key
    checks on that file (duplicates inside it, rows already stored); (3) the good rows into the staged
    import. Only failing, duplicate and conflicting rows pass through Python. A canonical Parquet file that
    passes every check unchanged skips (1) and (3): it is stored as it is.
    """

    def __init__(
        self,
        fr: FileReport,
        source: Source,
        mapping,
        codes,
        store: Store,
        ingest_id: str,
        bar,
        earlier: list[Path],
    ) -> None:
        self.earlier = earlier
        """Staged data files of the same table earlier in this set: keys are checked against them too."""
        self.fr, self.source, self.mapping, self.codes, self.store, self.bar = (
            fr,
            source,
            mapping,
            codes,
            store,
            bar,
        )
        self.table = schema.table(fr.table)
        qdir = Workspace(store.workspace).quarantine(ingest_id)
        qpath = qdir / f"{Path(fr.path).name}.bad.csv"
        if qpath.exists():
            qpath = qdir / f"{Path(fr.path).stem}-{fr.import_id[-3:]}{Path(fr.path).suffix}.bad.csv"
        self.quarantine = _Quarantine(qpath, Path(fr.path), source.header)
        self.bad_lines: dict[int, tuple[str, str]] = {}
        """CSV lines not in the file's encoding: line → (problem, text)."""

    def run(self) -> Path:
        staged = self.store.new_staging(self.fr.import_id)
        work = staged / "_work"
        work.mkdir()
        con = duckdb_connection(self.store.workspace, preserve_order=True)
        con.execute(f"SET memory_limit = {lit(INGEST_MEMORY_LIMIT)}")
        # rows dropped after parsing: bad encoding, duplicate keys, rows already stored
        con.execute("CREATE TEMP TABLE drops (__n BIGINT, code VARCHAR, detail VARCHAR)")
        try:
            self._check(con, work)
            self._publish_rows(con, staged)
        except BaseException:
            self.quarantine.close()
            shutil.rmtree(staged, ignore_errors=True)  # Ctrl-C, crash: leave nothing half-made
            raise
        finally:
            con.close()
        shutil.rmtree(work)
        self.quarantine.close()
        fr = self.fr
        fr.reasons = dict(self.quarantine.reasons)
        fr.rows_quarantined = sum(fr.reasons.values())
        for code, n in self.source.notes.items():
            fr.warnings[code] = n
            fr.warning_columns[f"{code}:"] = n
        if self.source.extra_columns:
            fr.unknown_columns = sorted(set(fr.unknown_columns) | self.source.extra_columns)
            fr.warnings["unknown_json_key"] = len(self.source.extra_columns)
        if fr.rows_quarantined:
            fr.quarantine_file = str(self.quarantine.path)
        return staged

    # --- pass 1: read and validate ---------------------------------------------------------------------
    def _raw_relation(self, con: duckdb.DuckDBPyConnection, work: Path) -> dict[int, str]:
        """Create view ``raw`` (``c0``… in source order) and set ``line_of``; returns typed columns' types."""
        src, width = self.source, len(self.source.header)
        cols = ", ".join(f"c{i}" for i in range(width))
        if isinstance(src, CsvSource):
            path = src.path
            if src.encoding not in ("utf-8", "utf-8-sig"):
                path = work / "utf8.csv"
                self.bad_lines = src.transcode_to_utf8(path)
            columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
            con.execute(
                f"CREATE VIEW raw AS SELECT {cols} FROM read_csv({lit(str(path))}, "
                f"auto_detect = false, header = true, delim = {lit(src.delimiter)}, quote = '\"', escape = '\"', "
                f"columns = {columns}, ignore_errors = true, store_rejects = true, "
                f"rejects_table = 'rejects', rejects_scan = 'rejects_scan', max_line_size = 10000000)"
            )
            return {}
        if isinstance(src, ParquetSource):
            names = ", ".join(f"{q(name)} AS c{i}" for i, name in enumerate(src.header))
            con.execute(f"CREATE VIEW raw AS SELECT {names} FROM read_parquet({lit(str(src.path))})")
            self.line_of = int  # Parquet has no lines: the "line" is the row number, 1 for the first
            types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE raw)").fetchall())
            return {i: types[f"c{i}"] for i in range(width)}
        raw_file = work / "raw.parquet"  # Excel and JSON lines: stream the rows to Parquet first
        names = [f"c{i}" for i in range(width)]
        raw_schema = pa.schema([("__n", pa.int64()), *[(n, pa.string()) for n in names]])
        task = self.bar.add_task(f"{Path(self.fr.path).name} 读取 reading", total=None)
        with pq.ParquetWriter(raw_file, raw_schema, compression="zstd") as writer:
            for batch in src.batches():
                for bad in batch.bad:
                    self.fr.rows_read += 1
                    self.quarantine.write(bad.line, bad.code, "", bad.detail, bad.values)
                data = batch.data.rename_columns(names).add_column(
                    0, "__n", pa.array(batch.lines, pa.int64())
                )
                writer.write_table(data.cast(raw_schema))
                self.bar.update(task, completed=src.position())
        con.execute(f"CREATE VIEW raw AS SELECT {cols} FROM read_parquet({lit(str(raw_file))})")
        self.line_of = _LineLookup(con, raw_file)
        return {}

    def _check(self, con: duckdb.DuckDBPyConnection, work: Path) -> None:
        source_types = self._raw_relation(con, work)
        level_only = set()
        for f in self.table.fields:
            if f.dic_type == "HOSP_LV" and f.name in self.mapping.columns.values():
                pos = next(i for i, c in self.mapping.columns.items() if c == f.name)
                values = con.execute(
                    f"SELECT DISTINCT trim(CAST(c{pos} AS VARCHAR)) FROM (SELECT c{pos} FROM raw LIMIT 100000)"
                ).fetchall()
                if hosp_level_only(v for (v,) in values if v is not None):
                    level_only.add(f.name)
        self.validator = Validator(
            self.table,
            self.mapping,
            self.codes,
            len(self.source.header),
            source_types,
            level_only,
            nul_check=not isinstance(self.source, CsvSource) or self.source.has_nul(),
        )
        if isinstance(self.source, ParquetSource) and self._verbatim(con):
            return
        self.checked = work / "checked.parquet"
        _run_with_progress(
            con,
            f"COPY ({self.validator.select_sql('raw')}) TO {lit(str(self.checked))} "
            "(FORMAT parquet, COMPRESSION lz4_raw)",
            self.bar,
            f"{Path(self.fr.path).name} → {self.table.name}",
        )
        con.execute(
            "CREATE VIEW checked AS SELECT file_row_number + 1 AS __n, * EXCLUDE (file_row_number) "
            f"FROM read_parquet({lit(str(self.checked))}, file_row_number = true)"
        )
        (parsed,) = con.execute("SELECT count(*) FROM checked").fetchone()
        self.fr.rows_read += parsed
        if isinstance(self.source, CsvSource):
            rejected: list[int] = []
            rows = con.execute(
                "SELECT line, any_value(csv_line), string_agg(error_type || ': ' || error_message, '; ') "
                "FROM rejects GROUP BY line ORDER BY line"
            ).fetchall()
            for line, text, detail in rows:
                rejected.append(int(line))
                self.fr.rows_read += 1
                if line in self.bad_lines:  # DuckDB rejected it too: the encoding is the first fault
                    problem, text = self.bad_lines.pop(line)
                    code, detail = "bad_encoding", encoding_detail(problem)
                else:  # a UTF-8 file DuckDB reads itself
                    code = "bad_encoding" if "INVALID ENCODING" in (detail or "") else "malformed_row"
                self.quarantine.write(int(line), code, "", detail, [text])
            self.line_of = _LineMap(rejected)
            self._drop_bad_lines(con, rejected)
        for n, fail, raw in con.execute(
            "SELECT __n, __fail, __raw FROM checked WHERE __fail IS NOT NULL AND __n NOT IN "
            "(SELECT __n FROM drops) ORDER BY __n"
        ).fetchall():
            check = self.validator.checks[fail]
            pos = self.validator.position.get(check.column)
            value = raw[pos] if pos is not None else None
            self.quarantine.write(self.line_of(n), check.code, check.column, value, raw)

    def _drop_bad_lines(self, con: duckdb.DuckDBPyConnection, rejected: list[int]) -> None:
        """Quarantine the records of lines not in the file's encoding, with the line as best decoded.

        Inverse of ``_LineMap``: line L is record L − 1 − (rejected lines before it), one line per record."""
        drops = []
        for line, (problem, text) in sorted(self.bad_lines.items()):
            n = line - 1 - bisect.bisect_left(rejected, line)
            if line == 1 or n < 1:  # the header: its columns were already mapped
                continue
            self.quarantine.write(line, "bad_encoding", "", encoding_detail(problem), [text])
            drops.append((n, "bad_encoding", problem))
        if drops:
            con.executemany("INSERT INTO drops VALUES (?, ?, ?)", drops)

    def _verbatim(self, con: duckdb.DuckDBPyConnection) -> bool:
        """A canonical Parquet file that passes every check unchanged is stored as it is (no rewrite)."""
        if not self.validator.canonical_types():
            return False
        fails, changed = con.execute(self.validator.verbatim_sql("raw")).fetchone()
        if fails or changed:
            return False
        self.checked = self.source.path
        vali = ", vali_flag AS __t_vali_flag" if "vali_flag" in self.table.columns else ""
        con.execute(
            "CREATE VIEW checked AS SELECT file_row_number + 1 AS __n, * EXCLUDE (file_row_number), "
            f"NULL::INTEGER AS __fail, NULL::VARCHAR[] AS __raw{vali} "
            f"FROM read_parquet({lit(str(self.checked))}, file_row_number = true)"
        )
        (self.fr.rows_read,) = con.execute("SELECT count(*) FROM checked").fetchone()
        return True

    # --- pass 2: keys; pass 3: the good rows ------------------------------------------------------------
    def _publish_rows(self, con: duckdb.DuckDBPyConnection, staged: Path) -> None:
        t, fr = self.table, self.fr
        keys = ", ".join(q(k) for k in t.key)
        dups = con.execute(
            "SELECT list(__n ORDER BY __n) FROM checked WHERE __fail IS NULL AND __n NOT IN "
            f"(SELECT __n FROM drops) GROUP BY {keys} HAVING count(*) > 1"
        ).fetchall()
        for (ordinals,) in dups:
            first = self.line_of(ordinals[0])
            con.executemany(
                "INSERT INTO drops VALUES (?, 'duplicate_key', ?)",
                [(n, f"first at line {first} / 首次出现于第 {first} 行") for n in ordinals[1:]],
            )
        stored = self.store.data_files(t.name) + self.earlier
        if stored:
            # Keys first (one column of the stored files); whole rows only for the few keys already there.
            con.execute(
                f"CREATE TEMP TABLE overlap AS SELECT __n, {keys} FROM checked SEMI JOIN "
                f"(SELECT {keys} FROM read_parquet({sql_list(stored)})) USING ({keys}) "
                "WHERE __fail IS NULL AND __n NOT IN (SELECT __n FROM drops)"
            )
            if con.execute("SELECT count(*) FROM overlap").fetchone()[0]:
                same = " AND ".join(f"c.{q(col)} IS NOT DISTINCT FROM e.{q(col)}" for col in t.columns)
                on = " AND ".join(f"c.{q(k)} = e.{q(k)}" for k in t.key)
                con.execute(
                    f"INSERT INTO drops SELECT c.__n, CASE WHEN {same} THEN 'identical' ELSE 'key_conflict' END, "
                    f"'key already stored with different values / 库中同主键内容不同' "
                    f"FROM (SELECT * FROM checked SEMI JOIN overlap USING (__n)) c "
                    f"JOIN (SELECT * FROM read_parquet({sql_list(stored)}) SEMI JOIN overlap USING ({keys})) e ON {on}"
                )
        fr.rows_skipped_existing = con.execute(
            "SELECT count(*) FROM drops WHERE code = 'identical'"
        ).fetchone()[0]
        self._quarantine_drops(con)
        good = "(SELECT * FROM checked WHERE __fail IS NULL AND __n NOT IN (SELECT __n FROM drops))"
        counts = con.execute(self.validator.warning_sql(good)).fetchone() or ()
        for w, n in zip(self.validator.warnings, counts, strict=False):
            if n:
                fr.warnings[w.code] = fr.warnings.get(w.code, 0) + n
                fr.warning_columns[f"{w.code}:{w.column}"] = n
        (fr.rows_loaded,) = con.execute(f"SELECT count(*) FROM {good}").fetchone()
        if fr.rows_loaded == fr.rows_read and self.checked == self.source.path:
            shutil.copyfile(self.checked, staged / "part-0.parquet")  # verbatim: nothing to drop or change
            return
        cols = ", ".join(q(c) for c in t.columns)
        con.execute(
            f"COPY (SELECT {cols} FROM {good}) TO {lit(str(staged / 'part-0.parquet'))} "
            "(FORMAT parquet, COMPRESSION zstd)"
        )

    def _quarantine_drops(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute(
            "SELECT d.__n, d.code, d.detail, c.* EXCLUDE (__n, __fail, __raw) FROM drops d JOIN checked c USING (__n) "
            "WHERE d.code NOT IN ('identical', 'bad_encoding') ORDER BY d.__n"
        )
        names = [d[0] for d in rows.description][3:]
        width = len(self.source.header)
        for n, code, detail, *values in rows.fetchall():
            raw = [""] * width
            for name, value in zip(names, values, strict=True):
                pos = self.validator.position.get(name)
                if pos is not None and value is not None:
                    raw[pos] = str(value)
            self.quarantine.write(self.line_of(n), code, ",".join(self.table.key), detail, raw)


class _LineMap:
    """Ordinal of a parsed CSV record → its line, given the lines DuckDB rejected (the header is line 1).

    Counts one line per record: a quoted field spanning several lines, or a blank line, shifts later numbers.
    """

    def __init__(self, rejected: list[int]) -> None:
        self.rejected = rejected

    def __call__(self, n: int) -> int:
        j = 0
        while j < len(self.rejected) and self.rejected[j] <= n + 1 + j:
            j += 1
        return int(n) + 1 + j


class _LineLookup:
    """Ordinal of a row → its line, for sources whose reader recorded each row's line (Excel, JSON lines)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, raw_file: Path) -> None:
        self.con, self.raw_file, self.lines = con, raw_file, None

    def __call__(self, n: int) -> int:
        if self.lines is None:  # read lazily: only files with bad rows need it
            (self.lines,) = self.con.execute(
                f"SELECT list(__n ORDER BY file_row_number) FROM read_parquet({lit(str(self.raw_file))}, "
                "file_row_number = true)"
            ).fetchone()
        return int(self.lines[n - 1])


def _run_with_progress(con: duckdb.DuckDBPyConnection, sql: str, bar, description: str) -> None:
    """Run ``sql`` in a worker thread while the bar follows DuckDB's progress; Ctrl-C interrupts the query."""
    task = bar.add_task(description, total=100)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(con.execute, sql)
        try:
            while not future.done():
                time.sleep(0.1)
                progress = con.query_progress()
                if progress >= 0:
                    bar.update(task, completed=progress)
            future.result()
        except BaseException:
            con.interrupt()
            future.exception()  # wait for the query to stop before the caller cleans up
            raise
    bar.update(task, completed=100)


def _write_reports(report: IngestReport, workspace: Path) -> None:
    out = Workspace(workspace).reports
    out.mkdir(parents=True, exist_ok=True)
    for stem in (f"ingest-{report.ingest_id}", "ingest-latest"):
        report.to_json(out / f"{stem}.json")
        report.to_html(out / f"{stem}.html")
        report.to_excel(out / f"{stem}.xlsx")
    report.report_files = [str(out / f"ingest-{report.ingest_id}.{ext}") for ext in ("json", "html", "xlsx")]
