"""Ingest benchmark: lines/s and peak memory of ``fundguard.data.ingest`` on realistic fee_list_d files.

    uv run python bench/bench_ingest.py --lines 1000000 [--lines 10000000] [--format csv|parquet|both]

Input files come from ``write_fee_lines`` (vectorised, ~40 filled national columns, the rest empty), so the
bench runs without ``fundguard.synth``. Each ingest runs in a fresh child process; peak RSS is the child's.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fundguard.data import schema

HILIST = np.array(
    [
        "XA01ABD075A002010100483",
        "XB05XAL211B002020400318",
        "ZA04BAA0134010104595001",
        "001102000010000",
        "003313010030000",
        "C0201010520010030000",
        "250101001000000",
        "XJ01DDA053A001010100789",
    ]
)
ITEM_TYPE = np.array(["09", "11", "03", "05", "06", "08", "04", "09"])
LIST_TYPE = np.array(["101", "101", "101", "201", "201", "301", "201", "101"])
PRICE = np.array([12.5, 38.2, 150.0, 25.0, 1200.0, 86.4, 45.0, 7.35])


def fee_lines_table(n: int, seed: int = 1, start: int = 0) -> pa.Table:
    """``n`` realistic fee_list_d rows as strings (national codes, amounts that satisfy the identity)."""
    rng = np.random.default_rng(seed + start)
    idx = np.arange(start, start + n)
    item = rng.integers(0, len(HILIST), n)
    cnt = rng.integers(1, 10, n).astype(float)
    amount = np.round(PRICE[item] * cnt, 2)
    inscp = np.round(amount * 0.8, 2)
    own = np.round(amount - inscp, 2)
    visit = idx // 12
    secs = (rng.integers(0, 365 * 86400, n) + 1_704_067_200).astype("datetime64[s]")
    hosp = rng.integers(1, 400, n)
    fixmedins = np.char.add("H430102", np.char.zfill(hosp.astype(str), 5))
    cols: dict[str, np.ndarray] = {
        "bkkp_sn": np.char.add("43010020240", np.char.zfill(idx.astype(str), 12)),
        "mdtrt_id": np.char.add("4301002024", np.char.zfill(visit.astype(str), 10)),
        "fee_ocur_time": np.datetime_as_string(secs).astype("U19"),
        "setl_id": np.char.add("S430100", np.char.zfill(visit.astype(str), 10)),
        "rx_drord_no": np.char.add("RX", np.char.zfill((visit * 3).astype(str), 12)),
        "fixmedins_code": fixmedins,
        "fixmedins_name": np.char.add("长沙市第", np.char.add(hosp.astype(str), "人民医院")),
        "psn_no": np.char.add("430100", np.char.zfill((visit // 4).astype(str), 14)),
        "insu_admdvs": np.full(n, "430199"),
        "med_type": np.where(rng.random(n) < 0.3, "21", "11"),
        "cnt": np.char.mod("%.4f", cnt),
        "pric": np.char.mod("%.6f", PRICE[item]),
        "det_item_fee_sumamt": np.char.mod("%.2f", amount),
        "pric_uplmt_amt": np.char.mod("%.6f", PRICE[item] * 1.2),
        "selfpay_prop": np.full(n, "0.2000"),
        "fulamt_ownpay_amt": np.char.mod("%.2f", own),
        "overlmt_selfpay": np.full(n, "0.00"),
        "preselfpay_amt": np.full(n, "0.00"),
        "inscp_amt": np.char.mod("%.2f", inscp),
        "chrgitm_lv": np.where(rng.random(n) < 0.7, "01", "02"),
        "hilist_code": HILIST[item],
        "hilist_name": np.full(n, "氯化钠注射液"),
        "list_type": LIST_TYPE[item],
        "med_list_codg": HILIST[item],
        "medins_list_codg": np.char.add("YP", item.astype(str)),
        "medins_list_name": np.full(n, "0.9%氯化钠注射液(250ml)"),
        "med_chrgitm_type": ITEM_TYPE[item],
        "spec": np.full(n, "250ml:2.25g"),
        "dosform_name": np.full(n, "注射剂"),
        "bilg_dept_codg": np.char.add("A", (hosp % 30).astype(str)),
        "bilg_dept_name": np.full(n, "内科"),
        "bilg_dr_code": np.char.add("D430105", np.char.zfill((hosp * 7 % 999).astype(str), 6)),
        "bilg_dr_name": np.full(n, "张医生"),
        "lmt_used_flag": np.full(n, "0"),
        "hosp_appr_flag": np.full(n, "0"),
        "vali_flag": np.where(rng.random(n) < 0.01, "0", "1"),
        "rid": np.char.add("R", idx.astype(str)),
        "updt_time": np.datetime_as_string(secs + 3600).astype("U19"),
        "crte_time": np.datetime_as_string(secs + 60).astype("U19"),
        "poolarea_no": np.full(n, "430100"),
    }
    cols["fee_ocur_time"] = np.char.replace(cols["fee_ocur_time"], "T", " ")
    cols["updt_time"] = np.char.replace(cols["updt_time"], "T", " ")
    cols["crte_time"] = np.char.replace(cols["crte_time"], "T", " ")
    fields = schema.table("fee_list_d").columns
    return pa.table({c: pa.array(cols[c]) if c in cols else pa.nulls(n, pa.string()) for c in fields})


def write_fee_lines(path: Path, n: int, fmt: str, chunk: int = 500_000) -> Path:
    """Write ``n`` fee_list_d rows to ``path`` as UTF-8 CSV or Parquet (strings), chunk by chunk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    first = fee_lines_table(min(chunk, n))
    writer = (
        pq.ParquetWriter(path, first.schema, compression="zstd")
        if fmt == "parquet"
        else pacsv.CSVWriter(path, first.schema, write_options=pacsv.WriteOptions(quoting_style="none"))
    )
    with writer:
        done = 0
        while done < n:
            t = first if done == 0 else fee_lines_table(min(chunk, n - done), start=done)
            writer.write_table(t)
            done += t.num_rows
    return path


def _child(path: str, ws: str) -> None:
    from fundguard.data.ingest import ingest

    t0 = time.perf_counter()
    report = ingest([Path(path)], Path(ws), table="fee_list_d", progress=False)
    secs = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": secs, "peak_mb": peak_kb / 1024, **report.totals}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, action="append")
    ap.add_argument("--format", choices=["csv", "parquet", "both"], default="both")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    sizes = args.lines or [1_000_000]
    formats = ["csv", "parquet"] if args.format == "both" else [args.format]
    tmp = Path(tempfile.mkdtemp(prefix="fg-bench-"))
    try:
        print(f"{'format':8} {'lines':>12} {'MB':>8} {'seconds':>8} {'lines/s':>12} {'peak MB':>8}")
        for n in sizes:
            for fmt in formats:
                src = write_fee_lines(tmp / f"fee_list_d-{n}.{fmt}", n, fmt)
                ws = tmp / f"ws-{fmt}-{n}"
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(src), str(ws)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                assert r["rows_loaded"] == n, r
                mb = src.stat().st_size / 1e6
                print(
                    f"{fmt:8} {n:>12,} {mb:>8.0f} {r['seconds']:>8.2f} {n / r['seconds']:>12,.0f} {r['peak_mb']:>8.0f}"
                )
                shutil.rmtree(ws, ignore_errors=True)
                src.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
