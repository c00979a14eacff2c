"""``generate_city``: the city's static tables, then independent blocks of people written as produced.

Blocks are sized from the remaining target of fee lines; each has its own RNG ``(seed, 2, block)``, so
the same config gives byte-identical files. Inventory (``invt_chg_d``) is written last from the
accumulated pharmacy sales: one 3503 采购 per (pharmacy, drug) covering sales (except planted
``inventory_mismatch`` pairs, whose purchases fall short), the 3505 销售 rows linked by ``bkkp_sn``, and a
3501 盘存 at the period end.
"""

from __future__ import annotations

import csv
import json
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from fundguard.core.progress import progress_bar
from fundguard.data.schema import table as schema_table
from fundguard.synth import arrowcols as ac
from fundguard.synth.block import (
    DAY,
    Block,
    expected_lines_per_person,
    lines,
    people,
    restricted_uses,
    visits,
)
from fundguard.synth.config import FORMATS, CityConfig, CitySummary
from fundguard.synth.plant import plant, rates_of, trace_reporting
from fundguard.synth.schemes import GANG_ADDR, SCHEME_COLUMNS, Extras, add_institutions, scheme_block
from fundguard.synth.tables import build
from fundguard.synth.violations import VIOLATION_TYPES
from fundguard.synth.world import CITY_NAME, build_city
from fundguard.synth.writers import TableWriter

TABLES = (
    "mdtrt_d",
    "setl_d",
    "fee_list_d",
    "setl_list_diag_d",
    "setl_list_oprn_d",
    "medins_info_b",
    "medins_staff_b",
    "psn_info_b",
    "hilist_b",
    "invt_chg_d",
)
GT_COLUMNS = [
    "violation_id",
    "violation_type",
    "name_zh",
    "legal_basis",
    "psn_no",
    "mdtrt_id",
    "fixmedins_code",
    "bkkp_sn",
    "hilist_code",
    "kp_id",
    "amount",
    "detail_zh",
]
REFUND_RATE = 0.003


def _pl_to_arrow(df, name: str) -> pa.Table:
    sch = schema_table(name).arrow_schema
    t = df.to_arrow()
    return ac.to_table(sch, {c: t[c].combine_chunks() for c in t.column_names if c in sch.names}, df.height)


def generate_city(out_dir: Path, cfg: CityConfig, *, progress: bool = True) -> CitySummary:
    if cfg.fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}")
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scale = cfg.institutions_scale or max(1.0, math.sqrt(cfg.fee_lines / 1e6))
    city = build_city(cfg.seed, cfg.regions, scale)
    extras = add_institutions(city, cfg.seed) if cfg.schemes else None
    rates = rates_of(cfg.violation_scale, cfg.violation_rates)
    day0 = (cfg.start - date(1970, 1, 1)).days
    n_days = (cfg.end - cfg.start).days + 1
    writers = {
        n: TableWriter(out_dir, n, schema_table(n).arrow_schema, cfg.fmt, cfg.rows_per_file) for n in TABLES
    }
    writers["medins_info_b"].write(_pl_to_arrow(city.inst, "medins_info_b"))
    writers["medins_staff_b"].write(_pl_to_arrow(city.staff, "medins_staff_b"))
    writers["hilist_b"].write(_pl_to_arrow(city.cat.df, "hilist_b"))

    n_inst, n_item = len(city.inst_level), city.cat.df.height
    sold = np.zeros((n_inst, n_item))
    last_price = np.zeros((n_inst, n_item))
    bought = TraceBook(trace_reporting(city), n_inst)
    gt_rows: list[list[object]] = []
    lpp = expected_lines_per_person()
    done, b = 0, 0
    # two background threads (fee_list_d, the rest) write block b while block b + 1 is generated (Arrow
    # and Parquet release the GIL); each table's writes run in order, and at most one block waits
    fee_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fg-synth-fee")
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fg-synth-writer")
    pending: list[Future] = []

    def flush() -> None:
        for fut in pending:
            fut.result()
        pending.clear()

    with fee_pool, pool, progress_bar(progress) as bar:
        task = bar.add_task("生成费用明细 fee lines", total=cfg.fee_lines)
        while done < 0.99 * cfg.fee_lines:
            want = min(cfg.block_lines, cfg.fee_lines - done)
            rng = np.random.default_rng([cfg.seed, 2, b])
            p = people(rng, max(20, round(want / lpp)), city, day0, n_days)
            v = visits(rng, p, city, day0, n_days)
            blk = Block(b, day0, n_days, p, v, restricted_uses(rng, p, v, lines(rng, v, city), city))
            plant(blk, city, rng, rates)
            tables, facts = build(blk, city, REFUND_RATE, rng)
            tables["invt_chg_d"] = _sales(writers["invt_chg_d"].schema, facts, b, sold, last_price, bought)
            _ground_truth(gt_rows, blk, facts, city)
            n = tables["fee_list_d"].num_rows
            flush()
            pending.extend(
                (fee_pool if name == "fee_list_d" else pool).submit(writers[name].write, t)
                for name, t in tables.items()
            )
            done += n
            bar.update(task, advance=n)
            b += 1
        flush()
    if extras is not None:
        _scheme_block(writers, city, extras, cfg, b, day0, n_days, sold, last_price, gt_rows, bought)
        with (out_dir / "schemes.csv").open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows([SCHEME_COLUMNS, *extras.rows])
    _inventory(
        writers["invt_chg_d"], city, sold, last_price, rates, cfg, day0, n_days, gt_rows, extras, bought
    )
    for w in writers.values():
        w.close()
    with (out_dir / "ground_truth.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(GT_COLUMNS)
        for i, r in enumerate(gt_rows):
            w.writerow([f"V{i + 1:08d}", *r])
    counts = {n: writers[n].rows for n in TABLES}
    viol: dict[str, int] = {}
    for r in gt_rows:
        viol[r[0]] = viol.get(r[0], 0) + 1
    secs = time.perf_counter() - t0
    meta = {
        "generator": "fundguard.synth",
        "city": f"{CITY_NAME}（虚构，省级代码89不存在于GB/T 2260）",
        "admdvs": city.admdvs,
        "config": cfg.to_json(),
        "counts": counts,
        "violations": viol,
        "sources": [
            "国家医保局两库知识点（第一至十七批及2026-01-28修订），见 fundguard/kb/data/SOURCES.md",
            "ICD-10医保版/ICD-9-CM-3医保版：OpenDRG/DRG_Python（Apache-2.0）",
            "《医疗保障基金使用监督管理条例》第三十八条、第四十条",
        ],
    }
    (out_dir / "city.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    files = [f for w in writers.values() for f in w.files] + [
        out_dir / "ground_truth.csv",
        out_dir / "city.json",
        *([out_dir / "schemes.csv"] if extras is not None else []),
    ]
    return CitySummary(out_dir, counts, viol, secs, counts["fee_list_d"] / secs if secs else 0.0, files)


def _scheme_block(
    writers: dict[str, TableWriter], city, extras: Extras, cfg: CityConfig, b: int, day0: int, n_days: int,
    sold: np.ndarray, last_price: np.ndarray, gt_rows: list, bought: TraceBook,
) -> None:  # fmt: skip
    """The block of ``synth.schemes`` (its own random stream, about 5 % of the city's people), written like an
    ordinary block; the gang's visits carry their shared address."""
    n_people = max(1500, round(0.05 * cfg.fee_lines / expected_lines_per_person()))
    blk = scheme_block(b, city, extras, n_people, cfg.seed, day0, n_days, cfg.violation_scale > 0)
    tables, facts = build(blk, city, REFUND_RATE, np.random.default_rng([cfg.seed, 6]))
    tables["invt_chg_d"] = _sales(writers["invt_chg_d"].schema, facts, b, sold, last_price, bought)
    _ground_truth(gt_rows, blk, facts, city)
    m = tables["mdtrt_d"]
    gang = np.isin(blk.v["psn"], extras.gang_psn)
    addr = pa.array(np.where(gang, GANG_ADDR, None).tolist(), m.schema.field("addr").type)
    tables["mdtrt_d"] = m.set_column(m.schema.get_field_index("addr"), "addr", addr)
    for name, t in tables.items():
        writers[name].write(t)


class TraceBook:
    """The trace codes each reporting pharmacy (``plant.trace_reporting``) bought, per (pharmacy, drug): every
    code it sold except the planted unbought ones, written on its period-start 3503 purchase row."""

    def __init__(self, reporting: np.ndarray, n_inst: int) -> None:
        self.reporting = np.zeros(n_inst, bool)
        self.reporting[reporting] = True
        self.codes: dict[tuple[int, int], list[str]] = {}

    def add(self, f: dict, rows: np.ndarray) -> None:
        trac, unbought, codes = f["trac"], f["unbought"], self.codes
        rows = rows[self.reporting[f["inst"][rows]]]
        for i, inst, item in zip(
            rows.tolist(), f["inst"][rows].tolist(), f["item"][rows].tolist(), strict=True
        ):
            t = trac[i]
            if t and t not in unbought:
                codes.setdefault((inst, item), []).append(t)

    def column(self, inst: np.ndarray, item: np.ndarray) -> pa.Array:
        got = self.codes.get
        return pa.array(
            [",".join(c) if (c := got((int(a), int(b)))) else None for a, b in zip(inst, item, strict=True)]
            if self.codes
            else [None] * len(inst),
            pa.string(),
        )


def _sales(
    schema: pa.Schema, f: dict, b: int, sold: np.ndarray, last_price: np.ndarray, bought: TraceBook
) -> pa.Table:
    """The block's 3505 销售 rows, accumulating sales per (pharmacy, drug) for the inventory."""
    rows = f["sale_rows"]
    inst, item = f["inst"][rows], f["item"][rows]
    bought.add(f, rows)
    np.add.at(sold, (inst, item), f["cnt"][rows])
    last_price[inst, item] = f["pric"][rows]
    n = len(rows)
    code = f["hilist"].take(item)
    t = {
        "invt_sn": ac.ids(f"V{b:05d}", np.arange(n), 9),
        "fixmedins_code": f["inst_codes"].take(inst),
        "hilist_code": code,
        "medins_list_codg": code,
        "inv_chg_type": ac.const("3505", n),
        "chg_time": ac.timestamps(f["time"][rows]),
        "cnt": ac.decimal(f["cnt"][rows], pa.decimal128(16, 4)),
        "pric": ac.decimal(f["pric"][rows], pa.decimal128(16, 6)),
        "psn_no": ac.ids(f["ids"]["psn"], f["psn"][rows], 10),
        "bkkp_sn": ac.ids(f["ids"]["fee"], rows, 10),
    }
    return ac.to_table(schema, t, n)


def _ground_truth(rows: list, blk: Block, f: dict, city) -> None:
    codes = city.cat.df["hilist_code"]
    inst_codes = city.inst["fixmedins_code"]
    pre = f["ids"]
    for g in blk.gt:
        t = VIOLATION_TYPES[g["violation_type"]]
        vi = g["visit"]
        rows.append(
            [
                t.code,
                t.name_zh,
                t.legal_basis,
                f"{pre['psn']}{int(blk.v['psn'][vi]):010d}",
                f"{pre['mdtrt']}{vi:08d}",
                inst_codes[int(blk.v["inst"][vi])],
                ";".join(f"{pre['fee']}{i:010d}" for i in g["lines"]),
                codes[g["item"]] if g["item"] >= 0 else "",
                g["kp_id"],
                f"{g['amount']:.2f}",
                g["detail_zh"],
            ]
        )


def _inventory(
    w: TableWriter, city, sold, last_price, rates, cfg, day0, n_days, gt_rows, extras: Extras | None,
    book: TraceBook,
) -> None:  # fmt: skip
    rng = np.random.default_rng([cfg.seed, 3])
    inst, item = np.nonzero(sold)
    qty = sold[inst, item]
    bought = np.ceil(qty * 1.1 + 5)
    rate = rates.get("inventory_mismatch", 0.0)
    short = np.zeros(len(inst), bool)
    if rate > 0 and len(inst):
        pick = rng.choice(len(inst), min(len(inst), math.ceil(rate * len(inst))), replace=False)
        short[pick] = True
        bought[pick] = np.floor(qty[pick] * 0.6)
    if extras is not None:  # the inventory scheme short on every item; the 24-hour control's books straight
        forced = (inst == extras.inst["inventory"]) & ~short & (cfg.violation_scale > 0)
        short |= forced
        bought[forced] = np.floor(qty[forced] * 0.6)
        clean = (inst == extras.inst["pharmacy24"]) & short
        short &= ~clean
        bought[clean] = np.ceil(qty[clean] * 1.1 + 5)
    t_buy = (day0 * DAY + 8 * 3600 + np.zeros(len(inst))).astype(np.int64)
    t_take = ((day0 + n_days - 1) * DAY + 20 * 3600 + np.zeros(len(inst))).astype(np.int64)
    n = len(inst)
    codes = city.cat.df["hilist_code"].to_numpy()
    inst_codes = city.inst["fixmedins_code"].to_numpy()
    # the period-end stocktake counts what is on the shelf: purchases − sales for consistent pairs; a planted
    # mismatch pair sold more than it bought, and its pharmacy reports an empty shelf, not a negative count
    stock = np.maximum(bought - qty, 0)
    for kind, t, cnt, off in (("3503", t_buy, bought, 0), ("3501", t_take, stock, n)):
        cols = {
            "invt_sn": ac.ids("VINV", np.arange(off, off + n), 9),
            "fixmedins_code": pa.array(inst_codes[inst]),
            "hilist_code": pa.array(codes[item]),
            "medins_list_codg": pa.array(codes[item]),
            "inv_chg_type": ac.const(kind, n),
            "chg_time": ac.timestamps(t),
            "cnt": ac.decimal(cnt, pa.decimal128(16, 4)),
            "pric": ac.decimal(last_price[inst, item] * 0.8, pa.decimal128(16, 6)),
            "spler_name": ac.const("示例医药供应链有限公司", n),
        }
        if kind == "3503":  # a reporting pharmacy's purchase carries the codes of its boxes
            cols["drug_trac_codg"] = book.column(inst, item)
        w.write(ac.to_table(w.schema, cols, n))
    t = VIOLATION_TYPES["inventory_mismatch"]
    for i in np.flatnonzero(short):
        gap = qty[i] - bought[i]
        gt_rows.append(
            [
                t.code,
                t.name_zh,
                t.legal_basis,
                "",
                "",
                inst_codes[inst[i]],
                "",
                codes[item[i]],
                "",
                f"{gap * last_price[inst[i], item[i]]:.2f}",
                f"{codes[item[i]]}期内销售{qty[i]:.0f}，购进仅{bought[i]:.0f}，销售量大于购进量（串换迹象）。",
            ]
        )
