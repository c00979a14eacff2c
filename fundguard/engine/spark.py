"""事后 batch audit on Apache Spark (scale-out): the same rule definitions as the DuckDB batch, same hits.

Every store table becomes a Spark temp view ``<table>`` plus ``<table>_valid`` — read from the workspace's
``store/`` or from a URI the cluster shares (``hdfs://…``, ``s3a://…``: ``SparkStore``) — and the knowledge
tables ``kb_*`` travel inside the plan. ``claim_lines`` is written once as Parquet under the work folder
(``<ws>/cache/spark`` or a shared URI) and read by every later run until an import changes its inputs. Each
rule's DuckDB SQL is transpiled by ``spark_sql.to_spark_steps`` (sqlglot plus the engine differences declared
as data; the CTEs a query reads more than once are computed first, once); one action per template brings its
hits to the driver, where they are written like the DuckDB batch's:
``<ws>/results/run=<run_id>-spark/hits.parquet`` (same columns and types) and ``run.json``. The cluster
recipe (``spark-submit``, packaging, partitioning) is docs/spark-cluster.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from fundguard.core.errors import InputError
from fundguard.core.progress import progress_bar
from fundguard.core.settings import settings
from fundguard.core.sql import literal
from fundguard.core.workspace import Workspace
from fundguard.data import schema
from fundguard.data.store import Store
from fundguard.engine.batch import (
    BatchResult,
    finish_run,
    hits_sql,
    input_fingerprint,
    new_run,
    template_queries,
)
from fundguard.engine.spark_sql import to_spark, to_spark_steps
from fundguard.rules import knowledge
from fundguard.rules.base import CLAIM_LINES_SQL, HIT_COLUMNS
from fundguard.rules.spec import Rule, RuleSet

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SPARK_CONF: dict[str, str] = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # DuckDB raises on overflow and bad casts; ANSI mode makes Spark do the same instead of yielding NULL
    "spark.sql.ansi.enabled": "true",
    "spark.sql.adaptive.enabled": "true",
    # the store's timestamps are naive: read as TIMESTAMP_NTZ, like DuckDB's TIMESTAMP
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
"""Settings the hits depend on (every master): a fixed time zone, ANSI errors, naive timestamps."""

LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    # one machine: few shuffle partitions (AQE coalesces further)
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "4g",
    # one JVM does all the work on a few cores: the throughput collector rather than G1, whose concurrent
    # threads compete with the JIT compilers (1M lines, alternating: 77–83 s against 88–99 s, CPU −13 %)
    "spark.driver.extraJavaOptions": "-XX:+UseParallelGC",
}
"""Settings for a ``local[…]`` master only; on a cluster they come from ``spark-submit --conf``."""


def spark_session(master: str | None = "local[2]", conf: dict[str, str] | None = None) -> SparkSession:
    """A quiet Spark session for the audit (``getOrCreate``: an existing session is reused). ``master`` None
    leaves the master to ``spark-submit``; a ``local[…]`` master also gets ``LOCAL_CONF``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is a dev dependency
        raise InputError("未安装 pyspark，无法使用 Spark 引擎", "pyspark is not installed") from exc
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise InputError("未找到 Java（Spark 需要 Java 17+）", "java not found (Spark needs Java 17+)")
    builder = SparkSession.builder.appName("fundguard-audit")
    local = master is not None and master.startswith("local")
    if master is not None:
        builder = builder.master(master)
    for k, v in {**SPARK_CONF, **(LOCAL_CONF if local else {}), **(conf or {})}.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    # a failing query is raised to the caller; pyspark's own logger would also print the whole JVM trace
    from pyspark.logger import PySparkLogger

    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


# --- where the data are: the store, the work folder (local paths or cluster URIs) ---------------------------


def as_uri(location: str | Path) -> str:
    """A Hadoop file-system URI for ``location``: a URI (``hdfs://…``, ``s3a://…``, ``file:…``) as given, a local
    path as ``file://`` (absolute), so the driver and the executors name it alike."""
    text = str(location).rstrip("/")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) and not re.match(r"^[A-Za-z]:[\\/]", text):
        return text
    return "file://" + str(Path(text).resolve())  # not Path.as_uri(): Hadoop reads %3D in ingest=… literally


class _Files:
    """The Hadoop file system of a Spark session (HDFS, S3A, local…): list, read, rename and delete by URI,
    from the driver, with the cluster's own configuration and credentials."""

    def __init__(self, spark: SparkSession) -> None:
        self.jvm = spark.sparkContext._jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _fs(self, uri: str):
        path = self.jvm.org.apache.hadoop.fs.Path(uri)
        return path.getFileSystem(self.conf), path

    def glob(self, pattern: str) -> list[str]:
        fs, path = self._fs(pattern)
        found = fs.globStatus(path)
        return sorted(str(st.getPath().toString()) for st in found or [])

    def exists(self, uri: str) -> bool:
        fs, path = self._fs(uri)
        return bool(fs.exists(path))

    def read_text(self, uri: str) -> str:
        fs, path = self._fs(uri)
        stream = fs.open(path)
        try:
            return bytes(self.jvm.org.apache.commons.io.IOUtils.toByteArray(stream)).decode("utf-8")
        finally:
            stream.close()

    def rename(self, src: str, dst: str) -> bool:
        fs, path = self._fs(src)
        return bool(fs.rename(path, self.jvm.org.apache.hadoop.fs.Path(dst)))

    def delete(self, uri: str) -> None:
        fs, path = self._fs(uri)
        fs.delete(path, True)


class SparkStore:
    """The store as Spark reads it: the Parquet files of each table and the import manifests, from the local
    workspace (``Store``: imports still being published are left out) or from a store URI that mirrors its
    layout (``<uri>/<table>/ingest=<id>/*.parquet`` and ``_manifest.json``, e.g. copied to HDFS by
    ``hdfs dfs -put`` or ``distcp`` after each import)."""

    def __init__(self, spark: SparkSession, workspace: Path, uri: str = "") -> None:
        self.local = Store(workspace)
        self.uri = as_uri(uri) if uri else ""
        self.files = _Files(spark)
        if not self.uri and not self.local.root.exists():
            raise InputError(f"工作区 {workspace} 没有数据仓", f"workspace {workspace} has no store")
        if self.uri and not self.files.exists(self.uri):
            raise InputError(f"数据仓 {self.uri} 不存在", f"store {self.uri} does not exist")

    def data_files(self, table: str) -> list[str]:
        if not self.uri:
            return [as_uri(f) for f in self.local.data_files(table)]
        return self.files.glob(f"{self.uri}/{table}/ingest=*/*.parquet")

    def fingerprint(self) -> str:
        """``batch.input_fingerprint`` of this store (the same value for a local store and its copy)."""
        if not self.uri:
            return input_fingerprint(self.local)
        items = []
        for f in self.files.glob(f"{self.uri}/*/ingest=*/_manifest.json"):
            m = json.loads(self.files.read_text(f))
            items.append((f.rsplit("/", 3)[-3], m.get("sha256", ""), m.get("import_id", "")))
        return hashlib.sha256(json.dumps(sorted(items)).encode()).hexdigest()[:16]


# --- registering the store and the knowledge ---------------------------------------------------------------


def _register_store(spark: SparkSession, store: SparkStore) -> dict[str, list[str]]:
    """Temp views ``<table>`` and ``<table>_valid`` over the stored Parquet (empty typed views for tables
    without data, as ``Store.connect`` does); returns each table's files."""
    from pyspark.sql.pandas.types import from_arrow_schema

    listed = {}
    for name, t in schema.tables().items():
        files = listed[name] = store.data_files(name)
        # the canonical schema, as the store's Parquet holds it (naive timestamps as TIMESTAMP_NTZ): given, so
        # Spark reads no file's footer to infer it (a job over every file of the table on a cluster)
        typed = from_arrow_schema(t.arrow_schema, prefer_timestamp_ntz=True)
        df = spark.read.schema(typed).parquet(*files) if files else spark.createDataFrame([], typed)
        df.createOrReplaceTempView(name)
        valid = " WHERE vali_flag = '1'" if "vali_flag" in t.columns else ""
        spark.sql(f"CREATE OR REPLACE TEMP VIEW `{name}_valid` AS SELECT * FROM `{name}`{valid}")
    return listed


def _register_knowledge(spark: SparkSession, names: list[str]) -> None:
    """The knowledge tables ``names`` as temp views, shipped from the driver inside the plan (small: Spark
    broadcasts them to the joins, and the executors need no file of the package)."""
    for name in names:
        table = knowledge.arrow(name)
        plain = pa.schema(
            [
                pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
                for f in table.schema
            ]
        )
        spark.createDataFrame(table.cast(plain)).createOrReplaceTempView(name)


CLAIM_LINES_FORMAT = 1
"""Bumped when the Spark ``claim_lines`` files change shape (their key also covers the SQL's text)."""

CLAIM_LINES_TABLES = ("fee_list_d", "mdtrt_d", "psn_info_b", "medins_info_b", "hilist_b")
"""The store tables ``claim_lines`` reads: a new import of one of them gives a new ``claim_lines``."""


def _claim_lines(spark: SparkSession, listed: dict[str, list[str]], work: str, files: _Files) -> str:
    """``claim_lines`` written once as Parquet under ``<work>/claim_lines/key=<key>`` (the key hashes the
    input files and the SQL), built now only when no run has written it for these inputs; returns its URI.
    Spark's counterpart of the DuckDB batch's per-import model (``engine.lines``): every rule reads these
    files instead of re-joining the store, and a rebuilt one replaces the older keys."""
    sql = to_spark(CLAIM_LINES_SQL)
    inputs = {t: listed[t] for t in CLAIM_LINES_TABLES}
    key = hashlib.sha256(json.dumps([CLAIM_LINES_FORMAT, sql, inputs]).encode()).hexdigest()[:16]
    root = f"{work}/claim_lines"
    target = f"{root}/key={key}"
    if files.exists(f"{target}/_SUCCESS"):
        return target
    tmp = f"{root}/.build-{uuid.uuid4().hex[:8]}"
    spark.sql(sql).write.mode("overwrite").parquet(tmp)
    if files.exists(target):  # a cut-short build (no _SUCCESS) or a concurrent one: ours replaces it
        files.delete(target)
    files.rename(tmp, target)
    for old in files.glob(f"{root}/key=*"):
        if not old.endswith(f"/key={key}"):
            files.delete(old)
    return target


def prepare(
    spark: SparkSession,
    store: SparkStore,
    rules: list[Rule],
    work: str,
    *,
    cache: bool = False,
    reuse_lines: bool = True,
) -> DataFrame:
    """Register the store, the rules' knowledge tables and ``claim_lines`` (from its Parquet, built if
    missing; built from the store for this run alone when not ``reuse_lines``; held in memory when
    ``cache``); return it."""
    listed = _register_store(spark, store)
    _register_knowledge(spark, sorted({r.knowledge for r in rules if r.knowledge}))
    if reuse_lines:
        lines = spark.read.parquet(_claim_lines(spark, listed, work, store.files))
    else:
        lines = spark.sql(to_spark(CLAIM_LINES_SQL))
    if cache or not reuse_lines:
        lines = lines.cache()
    lines.createOrReplaceTempView("claim_lines")
    return lines


# --- the run -------------------------------------------------------------------------------------------------


def run_spark(
    workspace: Path,
    rules: RuleSet,
    *,
    out_dir: Path | None = None,
    spark: SparkSession | None = None,
    progress: bool = True,
    store_uri: str | None = None,
    work_uri: str | None = None,
    cache: bool = False,
    reuse_lines: bool = True,
) -> BatchResult:
    """Run the enabled rules of ``rules`` over the store of ``workspace`` on Spark; like ``run_batch``.

    ``store_uri`` reads the store's Parquet from a URI the cluster shares (``hdfs://…``, ``s3a://…``) instead of
    ``<workspace>/store``; ``work_uri`` is where ``claim_lines`` is kept between runs (default
    ``<workspace>/cache/spark``), also shared by the executors on a cluster. Defaults come from
    ``FUNDGUARD_SPARK_STORE`` / ``FUNDGUARD_SPARK_WORK``. The hits land on the driver, in the run folder.
    ``cache`` holds ``claim_lines`` in memory for the run (off: at 1M lines building it took 12 s and the
    rules ran no faster than over its Parquet, read column by column); ``reuse_lines`` False builds it from
    the store for this run alone (the engine's first way, kept as the benchmark's baseline)."""
    t0 = time.perf_counter()
    workspace = Path(workspace)
    conf = settings()
    store_uri = conf.spark_store if store_uri is None else store_uri
    work = as_uri(work_uri or conf.spark_work or Workspace(workspace).cache / "spark")
    spark = spark or spark_session(conf.spark_master)
    store = SparkStore(spark, workspace, store_uri)
    started, run_id, run_dir = new_run(workspace, out_dir, "-spark")
    hits_path = run_dir / "hits.parquet"
    enabled = rules.enabled()
    phases: dict[str, float] = {}
    t = time.perf_counter()
    lines_df = prepare(spark, store, enabled, work, cache=cache, reuse_lines=reuse_lines)
    cache = cache or not reuse_lines
    if cache:
        lines_df.count()  # materialise the cache now, so its time is its own phase
    phases["claim_lines"] = round(time.perf_counter() - t, 3)
    try:
        groups: dict[str, list[Rule]] = {}
        for r in enabled:
            groups.setdefault(r.template, []).append(r)
        tables: list[pa.Table] = []
        reserved = {t.name for t in spark.catalog.listTables()}
        with progress_bar(progress) as bar:
            task = bar.add_task(f"Spark 审核 auditing: {len(enabled)} 条规则 rules", total=len(enabled))
            for name, group in sorted(groups.items()):
                t = time.perf_counter()
                # the batch's queries (one for a template sharing work between its rules, else one per
                # rule), unioned as DataFrames
                views: list[str] = []
                frames = [template_frame(spark, q, reserved, views) for q in template_queries(group)]
                # the hits are few (a fraction of the lines): one action per template brings them to the driver
                tables.append(reduce(lambda a, b: a.unionByName(b), frames).toArrow())
                for view in views:
                    spark.catalog.dropTempView(view)
                phases[name] = round(time.perf_counter() - t, 3)
                bar.advance(task, len(group))
        lines = spark.sql("SELECT count(*) FROM fee_list_d_valid").collect()[0][0]
    finally:
        if cache:
            lines_df.unpersist()
    t = time.perf_counter()
    counts, amounts = _gather(tables, hits_path)
    phases["gather"] = round(time.perf_counter() - t, 3)
    return finish_run(store.local, rules, run_id, run_dir, started, t0, int(lines), counts, amounts, phases,
                      fingerprint=store.fingerprint(), engine="spark", spark_version=spark.version,
                      spark_master=spark.sparkContext.master, store_uri=store.uri or as_uri(store.local.root))  # fmt: skip


def template_frame(spark: SparkSession, sql: str, reserved: set[str], views: list[str]) -> DataFrame:
    """A template query (DuckDB SQL) as a Spark DataFrame, its CTEs read more than once computed first
    (``spark_sql.to_spark_steps``), each held by ``localCheckpoint`` — eager, in the executors' block stores,
    its lineage cut so the query reads it rather than re-planning it — as a temp view, whose name is added
    to ``views`` for the caller to drop. (``cache()`` instead was slower: its columnar scans cost more
    than they saved at 100k lines.)"""
    steps = to_spark_steps(sql, reserved)
    for name, shared in steps.shared:
        spark.sql(shared).localCheckpoint().createOrReplaceTempView(name)
        views.append(name)
    return spark.sql(steps.main)


def _gather(tables: list[pa.Table], hits_path: Path) -> tuple[dict[str, int], dict[str, str]]:
    """The templates' hits → one ``hits.parquet`` with the DuckDB batch's exact column types; per-rule counts
    and amounts."""
    cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in HIT_COLUMNS.items())
    with duckdb.connect() as con:
        tables = [t for t in tables if t.num_rows]
        if tables:
            con.register("spark_hits", pa.concat_tables(tables, promote_options="permissive"))
            src = f"SELECT {cols} FROM spark_hits"
        else:
            src = hits_sql([])
        con.execute(f"COPY ({src}) TO {literal(str(hits_path))} (FORMAT parquet, COMPRESSION zstd)")
        out = f"read_parquet({literal(str(hits_path))})"
        per_rule = con.execute(
            f"SELECT rule_id, count(*), CAST(sum(amount) AS VARCHAR) FROM {out} GROUP BY rule_id"
        ).fetchall()
    return {r: n for r, n, _ in per_rule}, {r: a for r, _, a in per_rule}
