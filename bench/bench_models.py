"""Model-run benchmark: ``fundguard models run`` against the batch audit (its baseline) on the same store.

    uv run python bench/bench_models.py --lines 1000000 [--lines 10000000] [--workdir /tmp/fg-bench]

For each size: the store of ``bench_audit`` (generated and ingested, or reused from ``<workdir>/<lines>/ws``),
then, each in a fresh child process, the national rule pack (``fundguard.engine.run_batch``) and the model
run (``fundguard.models.run_models``, fed the audit's hits); print seconds, lines/s and peak RSS of each and
the ratio models / audit (the issue asks for at most 2×, in bounded memory). Both run on the same machine in
the same invocation, so the ratio holds even when the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_audit import _workspace


def _child(job: str, ws: str, hits: str) -> None:
    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # noqa: E731
    if job == "audit":
        from fundguard.engine import run_batch
        from fundguard.rules import load_rules

        r = run_batch(Path(ws), load_rules(), progress=False)
        out = {"seconds": r.seconds, "lines": r.lines_scanned, "rss": rss(), "hits": str(r.hits_path)}
    else:
        from fundguard.models import run_models

        m = run_models(Path(ws), hits_path=Path(hits))
        out = {"seconds": m.seconds, "leads": m.leads, "rss": rss()}
        shutil.rmtree(m.run_dir, ignore_errors=True)  # keep a reused workdir from growing
    print(json.dumps(out))


def _run(job: str, ws: Path, hits: str = "") -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", job, str(ws), hits],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, action="append", help="fee lines (repeatable; default 1,000,000)")
    ap.add_argument("--workdir", type=Path, help="keep generated stores here and reuse them in later runs")
    args = ap.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="fg-bench-models-"))
    print(f"{'lines':>12} {'job':>14} {'seconds':>8} {'lines/s':>10} {'peak MB':>8} {'ratio':>6}")
    try:
        for n in args.lines or [1_000_000]:
            ws = _workspace(root, n)
            audit = _run("audit", ws)
            models = _run("models", ws, audit["hits"])
            shutil.rmtree(Path(audit["hits"]).parent, ignore_errors=True)
            lines = audit["lines"]
            for job, r in (("audit (base)", audit), ("models run", models)):
                print(f"{lines:>12,} {job:>14} {r['seconds']:>8.2f} {lines / r['seconds']:>10,.0f} "
                      f"{r['rss']:>8.0f} {r['seconds'] / audit['seconds']:>6.2f}")  # fmt: skip
            print(f"{'':>12} {models['leads']:,} leads")
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(*sys.argv[2:])
    else:
        main()
