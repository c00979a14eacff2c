"""事后 batch audit on Apache Spark (scale-out): the same rule definitions as the DuckDB batch, same hits.

Every store table becomes a Spark temp view ``<table>`` plus ``<table>_valid``, the knowledge tables
``kb_*`` are loaded from the package, ``claim_lines`` is built once (cached) from ``rules.base``, and each
rule's DuckDB SQL is transpiled by sqlglot (``read="duckdb", write="spark"``) after a few rewrites of
constructs sqlglot leaves non-portable (``to_spark``). Hits are written like the DuckDB batch:
``<ws>/results/run=<run_id>-spark/hits.parquet`` (same columns and types) and ``run.json``.
"""

from __future__ import annotations

import logging
import shutil
import time
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.spark import Spark

from fundguard.core.errors import InputError
from fundguard.core.progress import progress_bar
from fundguard.core.sql import literal
from fundguard.data import schema
from fundguard.data.store import Store
from fundguard.engine.batch import BatchResult, finish_run, hits_sql, new_run
from fundguard.rules import knowledge
from fundguard.rules.base import CLAIM_LINES_SQL, HIT_COLUMNS
from fundguard.rules.spec import Rule, RuleSet

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SPARK_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    # DuckDB raises on overflow and bad casts; ANSI mode makes Spark do the same instead of yielding NULL
    "spark.sql.ansi.enabled": "true",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.memory": "4g",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
"""Local-mode settings: no UI, few shuffle partitions, a fixed time zone (timestamps are stored naive)."""


def spark_session(master: str = "local[2]", conf: dict[str, str] | None = None) -> SparkSession:
    """A quiet local Spark session for the audit (``getOrCreate``: an existing session is reused)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is a dev dependency
        raise InputError("未安装 pyspark，无法使用 Spark 引擎", "pyspark is not installed") from exc
    if not shutil.which("java"):
        raise InputError("未找到 Java（Spark 需要 Java 17+）", "java not found (Spark needs Java 17+)")
    builder = SparkSession.builder.master(master).appName("fundguard-audit")
    for k, v in {**SPARK_CONF, **(conf or {})}.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    # a failing query is raised to the caller; pyspark's own logger would also print the whole JVM trace
    from pyspark.logger import PySparkLogger

    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


# --- DuckDB SQL → Spark SQL ------------------------------------------------------------------------------


class _Spark4(Spark):
    """sqlglot's Spark dialect, keeping QUALIFY (Spark ≥ 4 has it): sqlglot's rewrite into a subquery
    resolves a qualified column (``o.bkkp_sn``) to a same-named SELECT alias, changing the partition."""

    class Generator(Spark.Generator):
        TRANSFORMS: ClassVar[dict] = {
            **Spark.Generator.TRANSFORMS,
            exp.Select: transforms.preprocess(
                [transforms.eliminate_distinct_on, transforms.unnest_to_explode, transforms.any_to_exists]
            ),
        }


def _lit(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="spark")


def _ordered_list(agg: exp.ArrayAgg) -> tuple[exp.Expression, str]:
    """``list(v ORDER BY k…)`` → (a Spark aggregate, a wrapper applied to its result)."""
    order = agg.this
    value = order.this
    keys = order.expressions
    if any(k.args.get("desc") for k in keys):
        raise InputError(
            "Spark 引擎暂不支持 list(… ORDER BY … DESC)", "list(… ORDER BY … DESC) is not supported on Spark"
        )
    if isinstance(value, exp.Distinct):
        (inner,) = value.expressions
        if not (len(keys) == 1 and keys[0].this == inner):
            raise InputError(
                "Spark 引擎仅支持按自身排序的 list(DISTINCT …)",
                "list(DISTINCT x ORDER BY …) must order by x itself on Spark",
            )
        # collect_set drops NULLs: sorting the distinct values ascending, NULL last, as DuckDB orders
        return exp.Anonymous(this="COLLECT_SET", expressions=[inner.copy()]), "ARRAY_SORT({})"
    # sort (key is null, key, …, value) structs: NULLs last like DuckDB, and NULL values are kept
    fields: list[exp.Expression] = []
    for i, k in enumerate(keys):
        fields += [exp.Literal.string(f"n{i}"), exp.Is(this=k.this.copy(), expression=exp.Null())]
        fields += [exp.Literal.string(f"k{i}"), k.this.copy()]
    fields += [exp.Literal.string("v"), value.copy()]
    struct = exp.Anonymous(this="NAMED_STRUCT", expressions=fields)
    return exp.Anonymous(this="COLLECT_LIST", expressions=[struct]), "TRANSFORM(ARRAY_SORT({}), _s -> _s.v)"


def _list_agg(node: exp.Expression) -> exp.Expression:
    """DuckDB ``list(…)`` (optionally ``FILTER (WHERE …)``) as Spark, keeping ORDER BY and NULL-when-empty."""
    filt = node if isinstance(node, exp.Filter) else None
    agg = node.this if filt else node
    if isinstance(agg.this, exp.Order):
        spark_agg, wrap = _ordered_list(agg)
    else:
        spark_agg, wrap = agg.copy(), "{}"
    if filt:
        spark_agg = exp.Filter(this=spark_agg, expression=filt.expression.copy())
    # DuckDB's list() over no rows is NULL (only possible under FILTER); collect_list gives []
    agg_sql = spark_agg.sql(dialect="spark")
    result = wrap.format(agg_sql)
    if filt:
        result = f"IF(SIZE({agg_sql}) = 0, NULL, {result})"
    return _lit(result)


_RENAMES = {"LIST_INTERSECT": "ARRAY_INTERSECT", "LIST_DISTINCT": "ARRAY_DISTINCT"}


def _rewrite(node: exp.Expression) -> exp.Expression | None:
    """A Spark replacement for one DuckDB construct that sqlglot would carry over with other semantics
    (None: keep the node)."""
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
        return _list_agg(node)
    if isinstance(node, exp.ArrayAgg) and not isinstance(node.parent, exp.Filter):
        return _list_agg(node)
    if (
        isinstance(node, exp.GroupConcat)
        and isinstance(node.this, exp.Order)
        and isinstance(node.this.this, exp.Distinct)
    ):
        # string_agg(DISTINCT x, sep ORDER BY x): Spark 4.3 fails on two LISTAGG(DISTINCT …) WITHIN GROUP
        # in one aggregate (ClassCastException); the sorted set joined is the same text
        (value,) = node.this.this.expressions
        keys = node.this.expressions
        if len(keys) != 1 or keys[0].this != value or keys[0].args.get("desc"):
            raise InputError(
                "Spark 引擎仅支持按自身升序排序的 string_agg(DISTINCT …)",
                "string_agg(DISTINCT x ORDER BY …) must order by x ascending on Spark",
            )
        v = value.sql(dialect="spark")
        sep = node.args["separator"].sql(dialect="spark")
        return _lit(f"IF(SIZE(COLLECT_SET({v})) = 0, NULL, ARRAY_JOIN(ARRAY_SORT(COLLECT_SET({v})), {sep}))")
    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.Count)
        and isinstance(node.this.this, exp.Distinct)
    ):
        # count(DISTINCT x) OVER (…) is not a Spark window function: the size of the window's set
        (value,) = node.this.this.expressions
        win = node.copy()
        win.set("this", exp.Anonymous(this="COLLECT_SET", expressions=[value.copy()]))
        return exp.Anonymous(this="SIZE", expressions=[win])
    if isinstance(node, exp.Anonymous) and node.name.upper() == "LIST_BOOL_OR":
        (arg,) = node.expressions
        if isinstance(arg, exp.Transform):  # list_bool_or(list_transform(l, f)) → exists(l, f)
            return exp.Anonymous(this="EXISTS", expressions=[arg.this.copy(), arg.expression.copy()])
        return _lit(f"EXISTS({arg.sql(dialect='spark')}, _b -> _b)")
    if isinstance(node, exp.Anonymous) and node.name.upper() in _RENAMES:
        return exp.Anonymous(
            this=_RENAMES[node.name.upper()], expressions=[e.copy() for e in node.expressions]
        )
    if isinstance(node, exp.Interval) and isinstance(node.this, exp.Paren):
        # INTERVAL (n) DAY → (n) * INTERVAL 1 DAY
        unit = node.args.get("unit")
        one = exp.Interval(this=exp.Literal.number(1), unit=unit.copy() if unit else None)
        return exp.Mul(this=node.this.copy(), expression=one)
    if isinstance(node, exp.DateDiff) and node.text("unit").upper() in ("DAY", ""):
        # DuckDB counts day boundaries: the difference of the dates (Spark's 3-argument form counts 24 h)
        return exp.Anonymous(
            this="DATEDIFF",
            expressions=[
                exp.Cast(this=node.this.copy(), to=exp.DataType.build("DATE")),
                exp.Cast(this=node.expression.copy(), to=exp.DataType.build("DATE")),
            ],
        )
    if isinstance(node, exp.TimeToUnix):  # DuckDB epoch(): fractional seconds
        return _lit(f"UNIX_MICROS(CAST({node.this.sql(dialect='spark')} AS TIMESTAMP)) / 1000000.0D")
    if isinstance(node, exp.Div):
        # DuckDB's / is always floating-point (decimals too); Spark keeps decimals as decimals
        return exp.Div(
            this=exp.Cast(this=node.this.copy(), to=exp.DataType.build("DOUBLE")),
            expression=exp.Cast(this=node.expression.copy(), to=exp.DataType.build("DOUBLE")),
        )
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DECIMAL:
        # DuckDB rounds x · 10^s half away from zero (in the operand's own type); Spark would round a double
        # by its shortest decimal form (1.005 → 1.01 where DuckDB gives 1.00)
        params = node.to.expressions
        scale = int(params[1].this.this) if len(params) > 1 else 0
        to = node.to.sql(dialect="spark")
        x = node.this.sql(dialect="spark")
        p10 = 10**scale
        return _lit(f"CAST(CAST(ROUND(({x}) * {p10}) AS DECIMAL(38, 0)) / {p10} AS {to})")
    if isinstance(node, exp.Literal) and node.is_string and "\\p{Han}" in node.this:
        return exp.Literal.string(node.this.replace("\\p{Han}", "\\p{IsHan}"))  # RE2 → java.util.regex
    return None


def to_spark(sql: str) -> str:
    """``sql`` (DuckDB dialect, as the templates generate it) as Spark SQL with the same results."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    # children before parents, so a rewritten parent is built from rewritten operands
    for node in reversed(list(tree.walk())):
        new = _rewrite(node)
        if new is not None:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree.sql(dialect=_Spark4)


# --- registering the store and the knowledge ---------------------------------------------------------------


def _register_store(spark: SparkSession, store: Store, scratch: Path) -> None:
    """Temp views ``<table>`` and ``<table>_valid`` over the stored Parquet (empty typed views for tables
    without data, as ``Store.connect`` does)."""
    for name, t in schema.tables().items():
        files = store.data_files(name)
        if not files:
            empty = scratch / "empty" / f"{name}.parquet"
            empty.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(t.arrow_schema.empty_table(), empty)
            files = [empty]
        df = spark.read.parquet(*[str(f) for f in files]).select(*[f"`{c}`" for c in t.columns])
        df.createOrReplaceTempView(name)
        valid = " WHERE vali_flag = '1'" if "vali_flag" in t.columns else ""
        spark.sql(f"CREATE OR REPLACE TEMP VIEW `{name}_valid` AS SELECT * FROM `{name}`{valid}")


def _register_knowledge(spark: SparkSession, names: list[str], scratch: Path) -> None:
    """The knowledge tables ``names`` as temp views (through Parquet: no pandas needed)."""
    for name in names:
        table = knowledge.arrow(name)
        plain = pa.schema(
            [
                pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
                for f in table.schema
            ]
        )
        f = scratch / "kb" / f"{name}.parquet"
        f.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.cast(plain), f)
        spark.read.parquet(str(f)).createOrReplaceTempView(name)


def prepare(spark: SparkSession, store: Store, rules: list[Rule], scratch: Path) -> DataFrame:
    """Register the store, the rules' knowledge tables and a cached ``claim_lines``; return it."""
    _register_store(spark, store, scratch)
    _register_knowledge(spark, sorted({r.knowledge for r in rules if r.knowledge}), scratch)
    lines = spark.sql(to_spark(CLAIM_LINES_SQL)).cache()
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
) -> BatchResult:
    """Run the enabled rules of ``rules`` over the store of ``workspace`` on Spark; like ``run_batch``."""
    t0 = time.perf_counter()
    workspace = Path(workspace)
    store = Store(workspace)
    if not store.root.exists():
        raise InputError(f"工作区 {workspace} 没有数据仓", f"workspace {workspace} has no store")
    started, run_id, run_dir = new_run(workspace, out_dir, "-spark")
    hits_path = run_dir / "hits.parquet"
    scratch = run_dir / "_spark"
    shutil.rmtree(scratch, ignore_errors=True)
    enabled = rules.enabled()
    spark = spark or spark_session()
    phases: dict[str, float] = {}
    t = time.perf_counter()
    lines_df = prepare(spark, store, enabled, scratch)
    lines_df.count()  # materialise the cache now, so its time is its own phase
    phases["claim_lines"] = round(time.perf_counter() - t, 3)
    try:
        groups: dict[str, list[Rule]] = {}
        for r in enabled:
            groups.setdefault(r.template, []).append(r)
        parts: list[Path] = []
        with progress_bar(progress) as bar:
            task = bar.add_task(f"Spark 审核 auditing: {len(enabled)} 条规则 rules", total=len(enabled))
            for name, group in sorted(groups.items()):
                t = time.perf_counter()
                part = scratch / "hits" / name
                # one query per rule, unioned as DataFrames: sqlglot hoists the CTEs of UNION ALL branches
                # into one WITH, where two rules of a template would define the same names
                frames = [spark.sql(to_spark(r.sql())) for r in group]
                reduce(lambda a, b: a.unionByName(b), frames).write.mode("overwrite").parquet(str(part))
                parts.append(part)
                phases[name] = round(time.perf_counter() - t, 3)
                bar.advance(task, len(group))
        lines = spark.sql("SELECT count(*) FROM fee_list_d_valid").collect()[0][0]
    finally:
        lines_df.unpersist()
    t = time.perf_counter()
    counts, amounts = _gather(parts, hits_path)
    shutil.rmtree(scratch, ignore_errors=True)
    phases["gather"] = round(time.perf_counter() - t, 3)
    return finish_run(store, rules, run_id, run_dir, started, t0, int(lines), counts, amounts, phases,
                      engine="spark", spark_version=spark.version)  # fmt: skip


def _gather(parts: list[Path], hits_path: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Spark's part files → one ``hits.parquet`` with the DuckDB batch's exact column types; per-rule counts
    and amounts."""
    cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in HIT_COLUMNS.items())
    files = [f for p in parts for f in sorted(p.glob("*.parquet"))]
    with duckdb.connect() as con:
        if files:
            src = f"SELECT {cols} FROM read_parquet({literal([str(f) for f in files])})"
        else:
            src = hits_sql([])
        con.execute(f"COPY ({src}) TO {literal(str(hits_path))} (FORMAT parquet, COMPRESSION zstd)")
        out = f"read_parquet({literal(str(hits_path))})"
        counts = dict(con.execute(f"SELECT rule_id, count(*) FROM {out} GROUP BY rule_id").fetchall())
        amounts = dict(
            con.execute(
                f"SELECT rule_id, CAST(sum(amount) AS VARCHAR) FROM {out} GROUP BY rule_id"
            ).fetchall()
        )
    return counts, amounts
