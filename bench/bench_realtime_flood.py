"""Load test (issue 10, finding 2): does a flood of real-time calls starve the workbench?

A real uvicorn server (its own process) over a seeded, audited workspace. One supervisor pages through the clue
list (``GET /api/clues``) alone for ``--seconds`` — the baseline, half before and half after the flood — and
for ``--seconds`` while ``--flooders`` client
threads flood the real-time routes: a third post 3 MB claims without a key, the rest post real claims with the
keys of a few institutions as fast as they are answered (they meet the per-key limit, then the full pool).
Prints the supervisor's p50/p99 idle and flooded, their ratio (target: p99 within 2×), and the flood's answers
by status (there must be no 5xx). Localhost only; bounded in time (two phases of ``--seconds``) and in count
(``--max-requests`` flood requests at most).

The flood runs in ``--processes`` processes of its own at the lowest CPU priority (``nice 19``): a real flood
comes from other machines, so it costs the server the work of answering it, not the CPU of producing it. On
one small machine the flooders would otherwise take most of the cores, and the figure would measure the
machine, not the server's isolation of real time from the workbench.

    uv run python bench/bench_realtime_flood.py --seconds 10 --flooders 60
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_service_load import percentile, start_server  # noqa: E402
from service_ws import build_service_workspace, free_port  # noqa: E402

from fundguard.data.store import Store  # noqa: E402
from fundguard.engine.realtime import claim_from_store  # noqa: E402
from fundguard.service.db import Database  # noqa: E402
from fundguard.service.realtime_keys import issue_key  # noqa: E402


def claims_and_keys(ws: Path, url: str, institutions: int) -> list[tuple[str, dict]]:
    """(key, claim) pairs: the stored claims of the ``institutions`` busiest institutions, a key each."""
    con = Store(ws).connect()
    try:
        rows = con.execute(
            "SELECT fixmedins_code, list(DISTINCT mdtrt_id)[:20] FROM fee_list_d GROUP BY 1 "
            "ORDER BY count(*) DESC LIMIT ?",
            [institutions],
        ).fetchall()
        pairs = []
        db = Database(url)
        with db.session() as s:
            keys = {code: issue_key(s, code, name="压测", workspace=ws)[1] for code, _ in rows}
        db.dispose()
        for code, visits in rows:
            pairs += [(keys[code], claim_from_store(con, v)) for v in visits]
    finally:
        con.close()
    return pairs


def junk_claim(size: int) -> bytes:
    """A claim-shaped body of about ``size`` bytes (what the anonymous flooders send)."""
    line = {"bkkp_sn": "X" * 20, "hilist_name": "阿莫西林胶囊" * 10, "memo": "0" * 200}
    n = size // len(json.dumps(line, ensure_ascii=False).encode())
    return json.dumps({"mdtrt_d": [{"mdtrt_id": "M", "psn_no": "P"}], "fee_list_d": [line] * n}).encode()


def flood_process(base: str, pairs: list, junk_mb: float, threads: int, cap: int, seconds: float,
                  first: int, out) -> None:  # fmt: skip
    """``threads`` flooding threads for ``seconds`` (at most ``cap`` requests); every third one anonymous,
    posting a ``junk_mb`` claim, the rest real claims with their institution's key. Puts its answers' counts."""
    os.nice(19)  # attackers come from other machines: their CPU is not the server's (see the module doc)
    junk = junk_claim(int(junk_mb * 2**20))
    answers: Counter[str] = Counter()
    sent = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def flood(i: int) -> None:
        nonlocal sent
        anonymous = i % 3 == 0
        who = "anonymous" if anonymous else "keyed"
        with httpx.Client(base_url=base, timeout=60) as c:
            j = i
            while time.perf_counter() < stop:
                with lock:
                    if sent >= cap:
                        return
                    sent += 1
                j += 1
                try:
                    if anonymous:
                        r = c.post(
                            "/api/audit/claim", content=junk, headers={"content-type": "application/json"}
                        )
                    else:
                        k, cl = pairs[j % len(pairs)]
                        r = c.post("/api/audit/claim", json=cl, headers={"X-API-Key": k})
                    what = f"{who} {r.status_code}"
                except httpx.HTTPError as e:
                    what = f"{who} {type(e).__name__}"
                with lock:
                    answers[what] += 1

    pool = [threading.Thread(target=flood, args=(first + i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=seconds + 120)
    out.put(answers)


def supervisor(base: str, token: str, pages: int, seconds: float) -> list[float]:
    out = []
    stop = time.perf_counter() + seconds
    with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
        i = 0
        while time.perf_counter() < stop:
            i += 1
            t = time.perf_counter()
            c.get(f"/api/clues?page={1 + i % pages}&size=20").raise_for_status()
            out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each phase (idle, flooded)")
    ap.add_argument("--flooders", type=int, default=60, help="flooding client threads")
    ap.add_argument("--institutions", type=int, default=4, help="institutions whose keys the flood uses")
    ap.add_argument("--junk-mb", type=float, default=3.0, help="size of the anonymous claims")
    ap.add_argument("--max-requests", type=int, default=20_000, help="cap on flood requests")
    ap.add_argument("--processes", type=int, default=4, help="processes the flooders run in")
    args = ap.parse_args()

    out = ROOT / "bench" / "out" / f"flood-{int(time.time())}"
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    sw = build_service_workspace(out)
    pairs = claims_and_keys(sw.workspace, sw.database_url, args.institutions)
    user = sw.user("province_supervisor")
    print(f"seeded and audited in {time.perf_counter() - t0:.0f} s; {len(pairs)} claims of "
          f"{args.institutions} institutions")  # fmt: skip
    port = free_port()
    proc = start_server(sw.workspace, sw.database_url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=120) as c:
            login = {"username": user["username"], "password": user["password"]}
            token = c.post("/api/auth/login", json=login).json()["token"]
            total = c.get("/api/clues?size=20", headers={"Authorization": f"Bearer {token}"}).json()["total"]
            key, claim = pairs[0]
            c.post("/api/audit/claim", json=claim, headers={"X-API-Key": key}).raise_for_status()  # warm
        pages = max(1, (total + 19) // 20)
        idle = supervisor(base, token, pages, args.seconds / 2)  # half before the flood, half after it:

        ctx = multiprocessing.get_context("spawn")  # the flood in processes of its own: it must not slow
        q = ctx.Queue()  # the supervisor's own client through this process's interpreter lock
        per = [
            args.flooders // args.processes + (i < args.flooders % args.processes)
            for i in range(args.processes)
        ]
        cap = args.max_requests // args.processes
        procs = [
            ctx.Process(
                target=flood_process, args=(base, pairs, args.junk_mb, n, cap, args.seconds + 1.0, start, q)
            )
            for n, start in zip(per, itertools.accumulate([0, *per]), strict=False)
        ]
        for p in procs:
            p.start()
        time.sleep(1.0)  # let the flood build up
        flooded = supervisor(base, token, pages, args.seconds)
        answers: Counter[str] = Counter()
        for _ in procs:
            answers.update(q.get(timeout=180))
        for p in procs:
            p.join(timeout=60)
        idle += supervisor(base, token, pages, args.seconds / 2)  # the machine's own load drifts meanwhile
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    def row(name: str, v: list[float]) -> str:
        return (f"| {name} | {len(v)} | {percentile(v, 0.5) * 1000:.1f} | {percentile(v, 0.99) * 1000:.1f} | "
                f"{max(v) * 1000:.1f} | {statistics.fmean(v) * 1000:.1f} |")  # fmt: skip

    print(
        f"\nworkbench GET /api/clues (one supervisor), {args.flooders} flooders, {args.seconds:.0f} s a phase"
    )
    print("| phase | requests | p50 ms | p99 ms | max ms | mean ms |\n|---|---:|---:|---:|---:|---:|")
    print(row("idle (baseline)", idle))
    print(row("real time flooded", flooded))
    ratio = percentile(flooded, 0.99) / percentile(idle, 0.99)
    print(f"\np99 flooded / idle = {ratio:.2f}× (target ≤ 2×)")
    print("flood answers: " + ", ".join(f"{k}: {n}" for k, n in sorted(answers.items())))
    fives = sum(n for k, n in answers.items() if k.split()[-1].startswith("5"))
    print(f"5xx answers: {fives}")


if __name__ == "__main__":
    main()
