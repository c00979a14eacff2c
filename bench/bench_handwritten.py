"""Six simple rules written by hand in plain DuckDB SQL against the store views, beside FundGuard's
generated SQL for the same rules and parameters: the same hits required, times and ratio printed.

    uv run python bench/bench_handwritten.py --lines 1000000 [--workdir /tmp/fg-bench] [--repeat 3]

The rules: a gender restriction (药品区分性别使用), an age restriction (药品儿童专用), a hospital-level
restriction (药品限医疗机构级别), a duplicate-charge item pair (医疗服务项目重复收费), a per-day frequency
limit (医疗服务项目限定频次) and a price over the standard limit (药品耗材超支付标准收费). The hand-written
queries read ``fee_list_d_valid`` and the other ``*_valid`` views and the same ``kb_*`` knowledge tables,
and apply what ``claim_lines`` applies (refunded and non-positive lines left out; sex, birth date and
hospital level from the person / institution when the visit lacks them; scene from the visit's med_type),
but they write no evidence sentence. The generated side is the engine's own path: ``prepare`` (the
``claim_lines`` base table) and each rule's ``hits_sql``. Each side's hits are compared on (rule, visit,
lines, item, amount, knowledge point); the script fails if they differ. The store is generated and
ingested as in ``bench_audit.py`` (and reused from ``--workdir``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

RULES = {
    "GZ10000301004000": "性别 gender",
    "GZ10000301002000": "年龄 age",
    "GZ10000101012000": "医院等级 hospital level",
    "GZ10000102012000": "重复收费 item pair",
    "GZ10000102014000": "每日频次 per-day frequency",
    "L-DRUG-OVER-PRICE": "超标准价格 price cap",
}

# What every hand-written query starts from: the effective, not refunded, positive fee lines.
_LINES = """
    FROM fee_list_d_valid l
    WHERE l.det_item_fee_sumamt > 0 AND l.cnt > 0
      AND NOT EXISTS (SELECT 1 FROM fee_list_d_valid r WHERE r.init_feedetl_sn = l.bkkp_sn)"""

_PSN = (
    "(SELECT psn_no, any_value(gend) AS gend, any_value(brdy) AS brdy FROM psn_info_b_valid GROUP BY psn_no)"
)

HANDWRITTEN = {
    "GZ10000301004000": f"""
WITH l AS (SELECT l.* {_LINES} AND l.inscp_amt > 0
           AND l.hilist_code IN (SELECT code FROM kb_gender WHERE rule_class = '药品区分性别使用')),
x AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.hilist_code, l.det_item_fee_sumamt AS amount,
           COALESCE(NULLIF(v.gend, ''), p.gend) AS gend
    FROM l LEFT JOIN mdtrt_d_valid v ON v.mdtrt_id = l.mdtrt_id LEFT JOIN {_PSN} p ON p.psn_no = l.psn_no
)
SELECT x.mdtrt_id, [x.bkkp_sn] AS bkkp_sn, x.hilist_code, x.amount, min(k.kp_id) AS kp_id
FROM x JOIN kb_gender k ON k.code = x.hilist_code AND k.rule_class = '药品区分性别使用'
WHERE x.gend IN ('1', '2')
GROUP BY x.bkkp_sn, x.mdtrt_id, x.hilist_code, x.amount
HAVING NOT bool_or(COALESCE(x.gend = k.allowed_gend, FALSE))
""",
    "GZ10000301002000": f"""
WITH l AS (SELECT l.* {_LINES} AND l.inscp_amt > 0
           AND l.hilist_code IN (SELECT code FROM kb_age WHERE rule_class = '药品儿童专用')),
x AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.hilist_code, l.det_item_fee_sumamt AS amount,
           CASE WHEN COALESCE(v.brdy, p.brdy) IS NOT NULL
                THEN date_diff('day', COALESCE(v.brdy, p.brdy), CAST(COALESCE(v.begntime, l.fee_ocur_time) AS DATE))
                     / 365.25
                ELSE CAST(v.age AS DOUBLE) END AS age
    FROM l LEFT JOIN mdtrt_d_valid v ON v.mdtrt_id = l.mdtrt_id LEFT JOIN {_PSN} p ON p.psn_no = l.psn_no
)
SELECT x.mdtrt_id, [x.bkkp_sn] AS bkkp_sn, x.hilist_code, x.amount, min(k.kp_id) AS kp_id
FROM x JOIN kb_age k ON k.code = x.hilist_code AND k.rule_class = '药品儿童专用'
WHERE x.age IS NOT NULL
GROUP BY x.bkkp_sn, x.mdtrt_id, x.hilist_code, x.amount
HAVING NOT bool_or(COALESCE((k.min_age IS NULL OR x.age >= k.min_age) AND (k.max_age IS NULL OR x.age < k.max_age),
                            FALSE))
""",
    "GZ10000101012000": f"""
WITH l AS (SELECT l.* {_LINES} AND l.inscp_amt > 0 AND l.hilist_code IN (SELECT code FROM kb_hospital_level)),
x AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.hilist_code, l.det_item_fee_sumamt AS amount,
           CASE COALESCE(NULLIF(v.hosp_lv, ''), i.hosp_lv)
               WHEN '01' THEN 3 WHEN '02' THEN 3 WHEN '03' THEN 3 WHEN '04' THEN 3 WHEN '12' THEN 3
               WHEN '05' THEN 2 WHEN '06' THEN 2 WHEN '07' THEN 2 WHEN '13' THEN 2
               WHEN '08' THEN 1 WHEN '09' THEN 1 WHEN '10' THEN 1 WHEN '14' THEN 1 WHEN '11' THEN 0 END AS level
    FROM l LEFT JOIN mdtrt_d_valid v ON v.mdtrt_id = l.mdtrt_id
    LEFT JOIN (SELECT fixmedins_code, any_value(hosp_lv) AS hosp_lv FROM medins_info_b_valid GROUP BY 1) i
           ON i.fixmedins_code = l.fixmedins_code
)
SELECT x.mdtrt_id, [x.bkkp_sn] AS bkkp_sn, x.hilist_code, x.amount, min(k.kp_id) AS kp_id
FROM x JOIN kb_hospital_level k ON k.code = x.hilist_code
WHERE x.level IS NOT NULL
GROUP BY x.bkkp_sn, x.mdtrt_id, x.hilist_code, x.amount
HAVING NOT bool_or(COALESCE(x.level >= k.min_level, FALSE))
""",
    "GZ10000102012000": f"""
WITH l AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.hilist_code, l.fee_ocur_time, l.det_item_fee_sumamt
    FROM (SELECT l.* {_LINES} AND (l.hilist_code IN (SELECT main_code FROM kb_duplicate_pairs)
                                   OR l.hilist_code IN (SELECT sub_code FROM kb_duplicate_pairs))) l
    LEFT JOIN mdtrt_d_valid v ON v.mdtrt_id = l.mdtrt_id
    WHERE COALESCE(v.med_type, l.med_type) IN ('21', '22', '23', '24', '25', '26', '28', '52',
                                              '11', '12', '13', '14', '19', '51', '53')
)
SELECT s.mdtrt_id, list_append(list(DISTINCT m.bkkp_sn ORDER BY m.bkkp_sn), s.bkkp_sn) AS bkkp_sn,
       s.hilist_code, s.det_item_fee_sumamt AS amount, min(k.kp_id) AS kp_id
FROM l m JOIN kb_duplicate_pairs k ON k.main_code = m.hilist_code
JOIN l s ON s.mdtrt_id = m.mdtrt_id AND s.hilist_code = k.sub_code AND s.bkkp_sn <> m.bkkp_sn
WHERE CASE k.frequency WHEN '单次就诊' THEN TRUE
                       WHEN '同一小时' THEN abs(epoch(s.fee_ocur_time) - epoch(m.fee_ocur_time)) < 3600
                       WHEN '6小时' THEN abs(epoch(s.fee_ocur_time) - epoch(m.fee_ocur_time)) < 21600
                       ELSE CAST(s.fee_ocur_time AS DATE) = CAST(m.fee_ocur_time AS DATE) END
GROUP BY s.bkkp_sn, s.mdtrt_id, s.hilist_code, s.det_item_fee_sumamt
""",
    "GZ10000102014000": f"""
WITH k AS (
    SELECT code, min(kp_id) AS kp_id, min(limit_qty) AS lim FROM kb_frequency
    WHERE rule_class = '医疗服务项目限定频次' AND limit_qty IS NOT NULL AND limit_unit IN ('日', '天', '小时')
    GROUP BY code
),
l AS (
    SELECT l.* FROM (SELECT l.* {_LINES} AND l.hilist_code IN (SELECT code FROM k)) l
    LEFT JOIN mdtrt_d_valid v ON v.mdtrt_id = l.mdtrt_id
    WHERE COALESCE(v.med_type, l.med_type) IN ('21', '22', '23', '24', '25', '26', '28', '52',
                                              '11', '12', '13', '14', '19', '51', '53')
)
SELECT l.mdtrt_id, list(l.bkkp_sn ORDER BY l.fee_ocur_time, l.bkkp_sn) AS bkkp_sn, l.hilist_code,
       (sum(l.cnt) - any_value(k.lim)) * sum(l.det_item_fee_sumamt) / sum(l.cnt) AS amount, any_value(k.kp_id) AS kp_id
FROM l JOIN k ON k.code = l.hilist_code
GROUP BY l.mdtrt_id, l.hilist_code, CAST(l.fee_ocur_time AS DATE)
HAVING sum(l.cnt) > any_value(k.lim)
""",
    "L-DRUG-OVER-PRICE": f"""
WITH c AS (SELECT hilist_code, max(pric_uplmt_amt) AS cap FROM hilist_b_valid GROUP BY hilist_code),
x AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.hilist_code, l.pric, l.cnt,
           least(COALESCE(l.pric_uplmt_amt, c.cap), c.cap) AS cap
    FROM (SELECT l.* {_LINES} AND l.list_type IN ('101', '102', '103', '104', '301')) l
    LEFT JOIN c ON c.hilist_code = l.hilist_code
)
SELECT x.mdtrt_id, [x.bkkp_sn] AS bkkp_sn, x.hilist_code, (x.pric - x.cap) * x.cnt AS amount,
       CAST(NULL AS VARCHAR) AS kp_id
FROM x WHERE x.cap > 0 AND x.pric > x.cap
""",
}

_KEY = (
    "SELECT mdtrt_id, list_sort(bkkp_sn) AS bkkp_sn, hilist_code, CAST(amount AS DECIMAL(16,2)) AS amount, "
    "kp_id FROM {}"
)


def _timed(con, sql: str, table: str, repeat: int) -> float:
    """Best wall seconds of materialising ``sql`` into temp table ``table`` (kept for the comparison)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
        best = min(best, time.perf_counter() - t)
    return best


def measure(ws: Path, repeat: int, *, stored: bool = False) -> dict:
    """Time both sides on the store of ``ws``; return lines, seconds per rule (``hand``, ``gen``), the
    ``claim_lines`` seconds of the generated side (``base``), hits per rule and the rules whose hits differ
    (``diff``: rule → rows). ``stored``: the generated side reads the store's per-import ``claim_lines``
    (``engine.lines``, built once per import, as the batch audit does) instead of building it for the run.
    Leaves the connection open in ``con`` for the caller's checks."""
    from fundguard.data.store import Store
    from fundguard.engine.batch import BATCH_MEMORY_LIMIT, hits_sql, prepare
    from fundguard.rules import knowledge, load_rules

    rules = {r.id: r for r in load_rules().enabled() if r.id in RULES}
    store = Store(ws)
    con = store.connect()
    con.execute(f"SET memory_limit = '{BATCH_MEMORY_LIMIT}'")
    lines = con.execute("SELECT count(*) FROM fee_list_d_valid").fetchall()[0][0]
    knowledge.register(con, sorted({r.knowledge for r in rules.values() if r.knowledge}))
    hand = {rid: _timed(con, HANDWRITTEN[rid], f"hand_{i}", repeat) for i, rid in enumerate(RULES)}
    base = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        prepare(con, list(rules.values()), **({"stored": store} if stored else {}))
        base = min(base, time.perf_counter() - t)
    gen = {rid: _timed(con, hits_sql([rules[rid]]), f"gen_{i}", repeat) for i, rid in enumerate(RULES)}
    diff, hits = {}, {}
    for i, rid in enumerate(RULES):
        a, b = _KEY.format(f"hand_{i}"), _KEY.format(f"gen_{i}")
        n = con.execute(
            f"SELECT count(*) FROM (({a} EXCEPT ALL {b}) UNION ALL ({b} EXCEPT ALL {a}))"
        ).fetchall()
        hits[rid] = con.execute(f"SELECT count(*) FROM gen_{i}").fetchall()[0][0]
        if n[0][0]:
            diff[rid] = n[0][0]
    return {"lines": lines, "hand": hand, "gen": gen, "base": base, "hits": hits, "diff": diff, "con": con}


def run(ws: Path, repeat: int) -> bool:
    m = measure(ws, repeat)
    lines, hand, gen, base, con = m["lines"], m["hand"], m["gen"], m["base"], m["con"]
    print(f"{lines:,} fee lines; best of {repeat}; seconds")
    print(f"{'rule':<20} {'what':<28} {'hits':>6} {'hand s':>8} {'generated s':>12} {'ratio':>6}  same")
    ok = True
    for rid, what in RULES.items():
        n, d = m["hits"][rid], m["diff"].get(rid, 0)
        ok &= d == 0
        print(f"{rid:<20} {what:<28} {n:>6,} {hand[rid]:>8.3f} {gen[rid]:>12.3f} {gen[rid] / hand[rid]:>6.2f}  "
              f"{'yes' if not d else 'NO: ' + str(d) + ' rows differ'}")  # fmt: skip
    th, tg = sum(hand.values()), sum(gen.values())
    print(f"{'claim_lines (generated side, built once for all rules)':<64} {base:>12.3f}")
    print(f"{'total':<20} {'':<28} {'':>6} {th:>8.3f} {tg + base:>12.3f} {(tg + base) / th:>6.2f}")
    con.close()
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000, help="fee lines of the generated city")
    ap.add_argument("--workdir", type=Path, help="keep the generated store here and reuse it in later runs")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs per query, best kept (the machine may be shared)"
    )
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_audit import _workspace

    root = args.workdir or Path(tempfile.mkdtemp(prefix="fg-bench-hand-"))
    try:
        ok = run(_workspace(root, args.lines), args.repeat)
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)
    if not ok:
        sys.exit("hits differ / 命中不一致")


if __name__ == "__main__":
    main()
