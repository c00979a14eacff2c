"""The Spark audit as a ``spark-submit`` application (事后 batch audit on a cluster).

    spark-submit --master yarn --deploy-mode client \
        fundguard/engine/spark_submit.py --workspace /srv/fundguard/ws \
        --store hdfs://nn:8020/fundguard/store --work hdfs://nn:8020/fundguard/work

or, where ``fundguard`` is installed on the driver: ``python -m fundguard.engine.spark_submit --master
local[2] …`` (pyspark starts its own JVM). The master is ``spark-submit``'s (``--master`` here only when run
without it); the rules are the national pack plus the workspace's own files (as ``fundguard audit``) or
``--rules`` files. The hits land on the driver, in ``<workspace>/results/run=<id>-spark/``; the last line
printed is the run's summary as JSON. See docs/spark-cluster.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fundguard.core.errors import FundGuardError
from fundguard.core.settings import settings


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="fundguard-spark-audit", description=__doc__.split("\n\n")[0])
    ap.add_argument("--workspace", "-w", type=Path, required=True, help="the workspace (rules, results)")
    ap.add_argument(
        "--store", default=None, help="the store's URI (hdfs://, s3a://, file://; default <ws>/store)"
    )
    ap.add_argument(
        "--work", default=None, help="a folder URI the executors share (default <ws>/cache/spark)"
    )
    ap.add_argument(
        "--master", default=None, help="without spark-submit only (default FUNDGUARD_SPARK_MASTER)"
    )
    ap.add_argument("--rules", type=Path, action="append", help="rule files (default: national + workspace)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Run the audit; print and return its summary."""
    from fundguard.engine.spark import run_spark, spark_session
    from fundguard.rules import load_rules, national_rule_files, workspace_rule_files

    args = _args(argv)
    files = args.rules or [*national_rule_files(), *workspace_rule_files(args.workspace)]
    rules = load_rules(files)
    spark = spark_session(None if _submitted() else args.master or settings().spark_master)
    result = run_spark(
        args.workspace, rules, spark=spark, store_uri=args.store, work_uri=args.work, progress=False
    )
    summary = {
        "run_id": result.run_id,
        "hits_path": str(result.hits_path),
        "rules": result.rules,
        "lines_scanned": result.lines_scanned,
        "hits": result.hits,
        "seconds": result.seconds,
        "input_fingerprint": result.input_fingerprint,
        "master": spark.sparkContext.master,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return summary


def _submitted() -> bool:
    """Whether ``spark-submit`` started this driver: its JVM is already up (pyspark then connects to its
    gateway) and holds the master, which the session must keep."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


if __name__ == "__main__":
    try:
        main()
    except FundGuardError as err:
        print(f"错误 {err.zh}\nError {err.en}", file=sys.stderr)
        sys.exit(2)
