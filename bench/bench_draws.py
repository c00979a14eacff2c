"""双随机 draw benchmark: a province-sized draw (targets × inspectors) and its verification, next to a bare
``random.sample`` of the same number of targets and teams (the baseline, same run).

    uv run python bench/bench_draws.py [--targets 20000] [--inspectors 600] [--ratio 0.1]

Both record algorithms are timed: ``fundguard-draw/2`` (the default: one PCG64 raw stream, vectorised keys)
and ``fundguard-draw/1`` (the first records: one sha256 per candidate and purpose), each with its
verification (recompute + record hash). ``--skip-v1`` leaves the slow one out.
"""

from __future__ import annotations

import argparse
import random
import time

from fundguard.supervision import draws


def _pools(n: int, m: int) -> dict:
    targets = [{"code": f"H{i:06d}", "name": f"机构{i}", "admdvs": f"89{i % 20:02d}{i % 7 + 1:02d}",
                "fixmedins_type": str(i % 3), "hosp_lv": str(i % 4), "risk": 1 + i % 10} for i in range(n)]  # fmt: skip
    inspectors = [{"id": f"I{k}", "name": f"执法{k}", "cert_no": f"C{k}", "admdvs": f"89{k % 20:02d}{k % 7 + 1:02d}",
                   "former_employers": [f"H{k:06d}"]} for k in range(m)]  # fmt: skip
    return {"targets": targets, "inspectors": inspectors}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--targets", type=int, default=20_000)
    ap.add_argument("--inspectors", type=int, default=600)
    ap.add_argument("--ratio", type=float, default=0.1)
    ap.add_argument("--skip-v1", action="store_true", help="leave out the slow hash-keyed algorithm")
    a = ap.parse_args()
    pools = _pools(a.targets, a.inspectors)
    rules = draws.Rules(ratio=a.ratio, team_size=2)

    t0 = time.perf_counter()
    rng = random.Random(1)
    picked = rng.sample(pools["targets"], int(a.targets * a.ratio))
    teams = [rng.sample(pools["inspectors"], 2) for _ in picked]
    baseline = time.perf_counter() - t0

    t0 = time.perf_counter()
    draws.sha256(draws.canonical(pools))
    sealing = time.perf_counter() - t0
    print(f"pool {a.targets} targets × {a.inspectors} inspectors, teams of 2")
    print(f"canonical JSON + sha256 of the pools (each draw seals its record with it) {sealing:.3f} s")
    print(f"baseline random.sample            {baseline:8.3f} s")
    for algorithm in (draws.FORMAT, *(() if a.skip_v1 else (draws.FORMAT_V1,))):
        t0 = time.perf_counter()
        rec = draws.draw(pools, rules, "bench-seed", algorithm=algorithm)
        drawn = time.perf_counter() - t0
        t0 = time.perf_counter()
        problems = draws.verify(rec)
        verified = time.perf_counter() - t0
        assert not problems and len(teams) == len(picked)
        n = len(rec["result"]["targets"])
        print(
            f"draw {algorithm:<17} {drawn:8.3f} s   ({drawn / max(baseline, 1e-9):.0f}× baseline, {n} targets)"
        )
        print(f"  verify (recompute + hash)       {verified:8.3f} s")


if __name__ == "__main__":
    main()
