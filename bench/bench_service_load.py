"""Load benchmark of the supervision API: N concurrent users against a real uvicorn server on a seeded database.

Each user is a thread with its own keep-alive ``httpx.Client`` and its own login; it loops over the pages a
supervisor opens most — the clue list (random page), a clue's detail, the case list and the dashboard — for a
fixed time. The server runs in its own process (so client threads do not share its interpreter lock). Prints
requests/s and p50/p99 latency per endpoint; nothing is asserted.

    uv run python bench/bench_service_load.py --users 8 --seconds 20
    uv run python bench/bench_service_load.py --database-url postgresql+psycopg://postgres@127.0.0.1/fg_bench
    uv run python bench/bench_service_load.py --workspace fundguard-demo --username sheng --password …
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))

from service_ws import build_service_workspace, free_port  # noqa: E402

SERVER = """
import sys, uvicorn
from pathlib import Path
from fundguard.api.app import create_app
uvicorn.run(create_app(Path(sys.argv[1]), sys.argv[2] or None), host="127.0.0.1", port=int(sys.argv[3]),
            log_level="warning", access_log=False)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def prepare(args: argparse.Namespace) -> tuple[Path, str, str, str]:
    """The workspace, database URL and a supervisor's credentials (a seeded one is built if none is given)."""
    if args.workspace:
        if not args.username or not args.password:
            sys.exit("--workspace needs --username and --password of a supervisor")
        return Path(args.workspace), args.database_url or "", args.username, args.password
    out = ROOT / "bench" / "out" / f"service-{int(time.time())}"
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    sw = build_service_workspace(out, database_url=args.database_url or None)
    user = sw.user("province_supervisor")
    print(f"seeded workspace {sw.workspace} in {time.perf_counter() - t0:.1f} s: {sw.imported}")
    return sw.workspace, sw.database_url, user["username"], user["password"]


def start_server(workspace: Path, database_url: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(workspace), database_url, str(port)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=8, help="concurrent users (threads)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration")
    parser.add_argument("--workspace", help="an existing workspace with a seeded service database")
    parser.add_argument(
        "--database-url", help="service database (default: SQLite in the workspace); an empty one is seeded"
    )
    parser.add_argument("--username")
    parser.add_argument("--password")
    args = parser.parse_args()

    workspace, database_url, username, password = prepare(args)
    port = free_port()
    proc = start_server(workspace, database_url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base) as c:
            token = c.post("/api/auth/login", json={"username": username, "password": password}).json()[
                "token"
            ]
            first = c.get(
                "/api/clues", params={"size": 200}, headers={"Authorization": f"Bearer {token}"}
            ).json()
        ids = [item["id"] for item in first["items"]]
        pages = max(1, (first["total"] + 19) // 20)
        if not ids:
            sys.exit("no clues in the service database")
        print(f"{first['total']} clues visible to {username}; {args.users} users for {args.seconds:.0f} s")

        latencies: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        lock = threading.Lock()
        stop_at = time.perf_counter() + args.seconds

        def user(seed: int) -> None:
            rnd = random.Random(seed)
            with httpx.Client(base_url=base, timeout=30) as c:
                c.post(
                    "/api/auth/login", json={"username": username, "password": password}
                ).raise_for_status()
                while time.perf_counter() < stop_at:
                    choice = rnd.random()
                    if choice < 0.4:
                        name, path = (
                            "GET /api/clues?page=",
                            f"/api/clues?page={rnd.randint(1, pages)}&size=20",
                        )
                    elif choice < 0.8:
                        name, path = "GET /api/clues/{id}", f"/api/clues/{rnd.choice(ids)}"
                    elif choice < 0.9:
                        name, path = "GET /api/cases", "/api/cases"
                    else:
                        name, path = "GET /api/dashboard", "/api/dashboard"
                    t = time.perf_counter()
                    r = c.get(path)
                    dt = time.perf_counter() - t
                    with lock:
                        latencies[name].append(dt)
                        if r.status_code != 200:
                            errors[name] += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    total = sum(len(v) for v in latencies.values())
    print(f"\n{total} requests in {elapsed:.1f} s: {total / elapsed:.1f} requests/s overall\n")
    print("| endpoint | requests | req/s | p50 ms | p99 ms | mean ms | non-200 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, values in sorted(latencies.items()):
        print(
            f"| {name} | {len(values)} | {len(values) / elapsed:.1f} | {percentile(values, 0.5) * 1000:.1f} "
            f"| {percentile(values, 0.99) * 1000:.1f} | {statistics.fmean(values) * 1000:.1f} | {errors[name]} |"
        )


if __name__ == "__main__":
    main()
