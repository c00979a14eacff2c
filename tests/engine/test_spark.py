"""The Spark engine gives the DuckDB batch's hits: the national rules over a generated ≥100k-line city in
local-mode Spark, every hit column equal (amounts exact); the cluster entry point over the store named by a
URI; the ``claim_lines`` Parquet reused between runs; and the dialect rewrites checked one by one."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from fundguard.data.ingest import ingest
from fundguard.engine import run_batch
from fundguard.rules import load_rules, national_rule_files
from fundguard.rules.base import HIT_COLUMNS, over_limit_buckets
from fundguard.synth import CityConfig, generate_city

pyspark = pytest.importorskip("pyspark", reason="pyspark 未安装 / pyspark not installed")
if not shutil.which("java"):
    pytest.skip("未找到 Java，跳过 Spark 测试 / java not found: Spark tests skipped", allow_module_level=True)

from fundguard.engine import spark_submit  # noqa: E402
from fundguard.engine.spark import run_spark, spark_session  # noqa: E402
from fundguard.engine.spark_sql import REWRITES, to_spark  # noqa: E402

LINES = 100_000
EXPECTATIONS = Path(__file__).parent / "city_expectations"


@pytest.fixture(scope="module")
def spark():
    session = spark_session()
    yield session
    session.stop()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory, spark) -> dict:
    tmp = tmp_path_factory.mktemp("spark_city")
    out = tmp / "city"
    generate_city(out, CityConfig(seed=23, fee_lines=LINES, fmt="parquet"), progress=False)
    ws = tmp / "ws"
    ingest([p for p in sorted(out.iterdir()) if p.is_dir()], ws, progress=False)
    rules = load_rules()
    duck = run_batch(ws, rules, progress=False)
    sprk = run_spark(ws, rules, spark=spark, progress=False)
    return {"out": out, "ws": ws, "rules": rules, "duck": duck, "spark": sprk}


def _rows(path: Path, rule_ids: set[str] | None = None) -> list[tuple]:
    cols = ", ".join(HIT_COLUMNS)
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT {cols} FROM read_parquet('{path}', hive_partitioning = false)").fetchall()
    rows = [r for r in rows if rule_ids is None or r[0] in rule_ids]
    return sorted((tuple(tuple(v) if isinstance(v, list) else v for v in r) for r in rows), key=repr)


def test_spark_hits_equal_duckdb(city: dict) -> None:
    duck, sprk = city["duck"], city["spark"]
    assert sprk.lines_scanned == duck.lines_scanned >= 0.95 * LINES
    d, s = _rows(duck.hits_path), _rows(sprk.hits_path)
    assert len(d) > 100
    if d != s:
        only_d, only_s = Counter(d) - Counter(s), Counter(s) - Counter(d)
        per_rule = Counter(r[0] for r in only_d.elements()) + Counter(r[0] for r in only_s.elements())
        pytest.fail(
            f"DuckDB {len(d)} vs Spark {len(s)} hits; differing by rule {dict(per_rule)}; "
            f"e.g. DuckDB-only {list(only_d)[:1]}, Spark-only {list(only_s)[:1]}"
        )
    assert all(isinstance(r[7], Decimal) for r in s)  # amounts compared as exact decimals
    assert sprk.hits_by_rule == duck.hits_by_rule
    assert sprk.amount_by_rule == duck.amount_by_rule


def test_hits_file_has_the_batch_schema(city: dict) -> None:
    with duckdb.connect() as con:
        types = [
            con.execute(
                f"DESCRIBE SELECT * FROM read_parquet('{r.hits_path}', hive_partitioning = false)"
            ).fetchall()
            for r in (city["duck"], city["spark"])
        ]
    # the hit columns with the DuckDB batch's types (its file may carry more: a hive ``run`` column read
    # from its part files' folder)
    duck_types = {c[0]: c[1] for c in types[0]}
    assert [(c[0], c[1]) for c in types[1]] == [(c, duck_types[c]) for c in HIT_COLUMNS]
    run = json.loads((city["spark"].run_dir / "run.json").read_text(encoding="utf-8"))
    assert run["engine"] == "spark" and run["run_id"].endswith("-spark")
    assert run["input_fingerprint"] == city["duck"].input_fingerprint
    assert run["ruleset_version"] == city["rules"].version
    assert city["spark"].run_dir.name.startswith("run=") and city["spark"].run_dir.name.endswith("-spark")


def test_every_planted_family_is_found_on_spark(city: dict) -> None:
    """Each violation type planted in the city is flagged by at least one of its rules on Spark."""
    planted = Counter(
        g["violation_type"] for g in csv.DictReader((city["out"] / "ground_truth.csv").open(encoding="utf-8"))
    )
    expected: dict[str, set[str]] = {}
    for f in sorted(EXPECTATIONS.glob("*.yaml")):
        for vtype, ids in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).items():
            expected.setdefault(vtype, set()).update(ids)
    hits = city["spark"].hits_by_rule
    present = {vt: ids for vt, ids in expected.items() if planted[vt] > 0}
    assert len(present) >= 10, planted
    silent = {vt: sorted(ids) for vt, ids in present.items() if not any(hits.get(i, 0) for i in ids)}
    assert not silent, silent


def test_claim_lines_parquet_is_built_once_and_reused(city: dict, spark) -> None:
    """The fixture's run wrote ``claim_lines`` once under the work folder; a second run reads it (no new
    key) and finds the same hits."""
    root = city["ws"] / "cache" / "spark" / "claim_lines"
    (key,) = [p.name for p in root.glob("key=*")]
    assert (root / key / "_SUCCESS").exists()
    stamp = (root / key / "_SUCCESS").stat().st_mtime_ns
    rules = load_rules([national_rule_files()[0]])  # one template's rules: the second run stays short
    again = run_spark(city["ws"], rules, spark=spark, progress=False)
    assert [p.name for p in root.glob("key=*")] == [key]
    assert (root / key / "_SUCCESS").stat().st_mtime_ns == stamp
    ids = {r.id for r in rules.enabled()}
    assert _rows(again.hits_path) == _rows(city["duck"].hits_path, ids)


def test_entry_point_reads_the_store_by_uri(city: dict, spark, tmp_path: Path) -> None:
    """``python -m fundguard.engine.spark_submit`` (the spark-submit application) on local[2], the store and
    the work folder given as ``file://`` URIs as a cluster's ``hdfs://`` ones would be: the DuckDB batch's
    hits for its rules, the same input fingerprint, the run recorded in the workspace."""
    ws = tmp_path / "ws"  # a driver workspace without a store of its own: the data are at the URI only
    ws.mkdir()
    rule_file = national_rule_files()[0]
    summary = spark_submit.main(["-w", str(ws), "--master", "local[2]", "--rules", str(rule_file),
                                 "--store", f"file://{city['ws'] / 'store'}", "--work", f"file://{tmp_path / 'work'}"])  # fmt: skip
    assert summary["input_fingerprint"] == city["duck"].input_fingerprint
    assert summary["lines_scanned"] == city["duck"].lines_scanned
    hits = Path(summary["hits_path"])
    assert hits.parent.parent == ws / "results"
    ids = {r.id for r in load_rules([rule_file]).enabled()}
    want = _rows(city["duck"].hits_path, ids)
    assert want and _rows(hits) == want
    assert list((tmp_path / "work" / "claim_lines").glob("key=*/_SUCCESS"))
    run = json.loads((hits.parent / "run.json").read_text(encoding="utf-8"))
    assert run["store_uri"] == f"file://{city['ws'] / 'store'}" and run["spark_master"] == "local[2]"


def test_local_session_runs_the_throughput_collector(spark) -> None:
    """``LOCAL_CONF``'s JVM options reach the JVM that a local session starts (G1's concurrent threads cost a
    tenth of the 1M-line run on two cores)."""
    beans = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
    assert {b.getName() for b in beans} == {"PS MarkSweep", "PS Scavenge"}


def test_missing_store_uri_is_refused(spark, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist"):
        run_spark(
            tmp_path, load_rules(), spark=spark, store_uri=f"file://{tmp_path / 'nowhere'}", progress=False
        )


@pytest.mark.slow
def test_spark_submit_runs_the_application(city: dict, tmp_path: Path) -> None:
    """The real ``spark-submit`` (pyspark's own launcher) runs ``spark_submit.py`` with its master kept."""
    submit = Path(sys.executable).parent / "spark-submit"
    if not submit.exists():
        pytest.skip("spark-submit not found beside the interpreter")
    rule_file = national_rule_files()[0]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    out = subprocess.run(
        [str(submit), "--master", "local[1]", spark_submit.__file__, "-w", str(city["ws"]), "--rules",
         str(rule_file), "--work", f"file://{tmp_path / 'work'}"],
        capture_output=True, text=True, env=env, check=True, timeout=600,
    )  # fmt: skip
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["master"] == "local[1]"
    ids = {r.id for r in load_rules([rule_file]).enabled()}
    assert _rows(Path(summary["hits_path"])) == _rows(city["duck"].hits_path, ids)


# --- the dialect layer: each rewrite against DuckDB on literal data --------------------------------------

_CASES = {
    # DuckDB rounds x·100 half away from zero: 1.005 → 1.00 as a double, 1.01 as a decimal
    "double_to_decimal": "SELECT CAST(x AS DECIMAL(16,2)) AS v FROM (VALUES (1.005::DOUBLE), (2.675::DOUBLE), "
    "(-2.675::DOUBLE), (100.505::DOUBLE), (0.125::DOUBLE)) t(x)",
    "decimal_to_decimal": "SELECT CAST(x AS DECIMAL(16,2)) AS v FROM (VALUES (1.005::DECIMAL(10,3)), "
    "(-1.005::DECIMAL(10,3))) t(x)",
    # decimal / decimal is a double in DuckDB
    "decimal_division": "SELECT CAST(CAST(a AS DECIMAL(16,2)) / CAST(b AS DECIMAL(16,4)) AS VARCHAR) AS v "
    "FROM (VALUES (1, 3), (10, 4)) t(a, b)",
    "ordered_list_nulls_last": "SELECT list(x ORDER BY k, x) AS v FROM (VALUES ('a', 2), ('b', NULL), "
    "('c', 1), (NULL, 1)) t(x, k)",
    "filtered_list_empty_is_null": "SELECT g, list(x ORDER BY x) FILTER (WHERE x > 'b') AS v "
    "FROM (VALUES (1, 'a'), (1, 'c'), (2, 'a')) t(g, x) GROUP BY g ORDER BY g",
    "distinct_sorted_list": "SELECT list(DISTINCT x ORDER BY x) AS v FROM (VALUES ('b'), ('a'), ('b')) t(x)",
    "string_agg_distinct": "SELECT string_agg(DISTINCT x, '、' ORDER BY x) AS v, "
    "string_agg(DISTINCT y, '；' ORDER BY y) AS w FROM (VALUES ('乙', 'q'), ('甲', 'p'), ('乙', 'p')) t(x, y)",
    "count_distinct_window": "SELECT g, count(DISTINCT x) OVER (PARTITION BY g) AS v "
    "FROM (VALUES (1, 'a'), (1, 'a'), (1, 'b'), (2, NULL)) t(g, x) ORDER BY g",
    "day_boundaries": "SELECT date_diff('day', TIMESTAMP '2025-01-01 23:00:00', TIMESTAMP '2025-01-02 01:00:00') AS v",
    "interval_expression": "SELECT CAST(TIMESTAMP '2025-01-01 10:00:00' + INTERVAL (30) DAY AS VARCHAR) AS v",
    "epoch_fraction": "SELECT epoch(TIMESTAMP '2025-01-01 00:00:00.5') - epoch(TIMESTAMP '2025-01-01 00:00:00') AS v",
    "han_regex": r"SELECT regexp_matches(x, '^限(\p{Han}{1,10}科)$') AS v FROM (VALUES ('限口腔科'), ('限ab科')) t(x)",
    "lambda_any": "SELECT list_bool_or(list_transform(['A01', 'B02'], lambda c: starts_with(c, 'B'))) AS v",
    # QUALIFY kept: sqlglot's subquery rewrite would partition by the same-named alias, not by o.b
    "qualify_qualified_column": "SELECT [o.a, o.b] AS b FROM (VALUES ('p', 'x', 'g1'), ('q', 'x', 'g2')) o(a, b, g) "
    "QUALIFY row_number() OVER (PARTITION BY o.b ORDER BY o.g) = 1",
    "bucket_passes": "SELECT count(*) AS v FROM ("
    + over_limit_buckets(
        f"(SELECT a FROM (VALUES {', '.join(f'({i % 5})' for i in range(22))}) t(a))",
        "l.a",
        "count(*) > 4",
        4,
    )
    + ")",
    "list_sizes": "SELECT array_length(list_intersect(['a', 'b', 'c'], ['b', 'c', 'd'])) AS v, "
    "array_length(list_distinct(['a', 'a'])) AS w",
}


def test_every_declared_rewrite_is_exercised() -> None:
    """Each row of ``REWRITES`` changes at least one of the cases above (so each is checked against DuckDB)."""
    import sqlglot

    from fundguard.engine import spark_sql

    used = set()
    for sql in _CASES.values():
        for node in sqlglot.parse_one(sql, read="duckdb").walk():
            for i, r in enumerate(REWRITES):
                if isinstance(node, r.node) and r.when(node):
                    used.add(i)
                    break
    assert used == set(range(len(REWRITES))), [
        spark_sql.REWRITES[i].why for i in set(range(len(REWRITES))) - used
    ]


@pytest.mark.parametrize("name", sorted(_CASES))
def test_rewrite_matches_duckdb(name: str, spark) -> None:
    sql = _CASES[name]
    with duckdb.connect() as con:
        want = [tuple(r) for r in con.execute(sql).fetchall()]
    got = [tuple(r) for r in spark.sql(to_spark(sql)).collect()]
    norm = [tuple(tuple(v) if isinstance(v, list) else v for v in r) for r in got]
    want = [tuple(tuple(v) if isinstance(v, list) else v for v in r) for r in want]
    assert norm == want, to_spark(sql)


_SHARED = """SELECT * FROM (
    WITH a AS (SELECT x FROM (VALUES (1), (2), (3)) v(x)),
         once AS (SELECT x FROM a WHERE x > 1),
         twice AS (SELECT x FROM once UNION ALL SELECT x + 10 FROM a),
         b AS (SELECT x FROM a)
    SELECT t.x FROM twice AS t JOIN twice AS u ON u.x = t.x
    WHERE t.x IN (SELECT x FROM b) AND t.x NOT IN (SELECT x FROM (WITH b AS (SELECT 3 AS x) SELECT x FROM b))
) ORDER BY x"""


def test_ctes_read_twice_are_computed_once(spark) -> None:
    """Spark would inline each CTE at every read: the outer CTEs read more than once become steps of their
    own (with the single-read CTEs before them), a name a nested WITH or the caller reserves stays a CTE,
    and the steps run on Spark give DuckDB's rows."""
    from fundguard.engine.spark import template_frame
    from fundguard.engine.spark_sql import to_spark_steps

    steps = to_spark_steps(_SHARED)
    assert [name for name, _ in steps.shared] == ["a", "twice"]  # once: read once; b: also a nested CTE
    assert "once AS (" in steps.shared[1][1] and "twice AS (" not in steps.main
    assert [name for name, _ in to_spark_steps(_SHARED, reserved={"a"}).shared] == ["twice"]
    views: list[str] = []
    got = [tuple(r) for r in template_frame(spark, _SHARED, set(), views).collect()]
    for view in views:
        spark.catalog.dropTempView(view)
    with duckdb.connect() as con:
        assert got == con.execute(_SHARED).fetchall() == [(2,)]
