"""One independent block of the city: its insured people, their visits and fee lines, as numpy columns.

Everything is vectorised over people, visits and lines; only the rare planted violations (``plant.py``)
are built visit by visit. A block's random stream is seeded from ``(seed, 2, block)``, so blocks can be
generated in any order and the city is reproducible.

Clean-city invariants the planting relies on (and the tests check): each person's outpatient and pharmacy
events fall on distinct days and never inside one of their hospital stays; a person's stays are at least
16 days apart; deceased persons have no event on or after ``die_date``; an inpatient stay bills bed,
nursing and 诊查 once on each day; a visit never bills the same drug or test twice on one day, nor both
items of a batch-7 pair; restricted (两库) codes appear only in compliant uses (``restricted_uses``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fundguard.synth import identity
from fundguard.synth.world import DENTAL_DEPT, DEPTS, City

DAY = 86_400
OUT, INP, PHARM = 0, 1, 2
# age pyramid (5-year bands 0–4 … 95–99), roughly China 2020 census shares
_PYR = np.array(
    [5.3, 6.3, 6.4, 5.8, 5.1, 5.9, 7.3, 7.4, 6.4, 7.1, 8.3, 7.8, 5.5, 5.7, 4.0, 2.6, 1.7, 0.9, 0.3, 0.05]
)
AGE_P = np.repeat(_PYR / 5, 5) / _PYR.sum()
INSUTYPES = np.array(["310", "390"])
PSN_TYPES = np.array(["1101", "1201", "1402", "1403", "1501", "1601"])
MED_TYPES = np.array(["11", "21", "41"])


@dataclass
class Block:
    index: int
    day0: int
    """First day of the period, days since 1970-01-01."""
    n_days: int
    p: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    l: dict[str, np.ndarray]  # noqa: E741 — v/l/p: visits, lines, people
    gt: list[dict] = field(default_factory=list)
    extra_v: list[dict] = field(default_factory=list)
    extra_l: list[dict] = field(default_factory=list)
    refund_visits: list[int] = field(default_factory=list)
    """Planted visits refunded in full the next day (退药再售), beside the random refunds of ``tables.build``."""
    unbought_codes: set[str] = field(default_factory=set)
    """Planted trace codes that no purchase in 进销存 carries (无进货记录)."""
    oprn_override: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Surgery visit → the (ICD-9-CM-3 code, name) planted as its operation instead of the drawn one."""


def _within(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each group of a repeat by ``counts``."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def _pick(rng: np.random.Generator, groups: list[np.ndarray], which: np.ndarray) -> np.ndarray:
    """A uniform element of ``groups[which[i]]`` for each i."""
    width = max(len(g) for g in groups)
    mat = np.full((len(groups), width), -1)
    for i, g in enumerate(groups):
        mat[i, : len(g)] = g
    sizes = np.array([len(g) for g in groups])
    return mat[which, (rng.random(len(which)) * sizes[which]).astype(int)]


def people(rng: np.random.Generator, n: int, city: City, day0: int, n_days: int) -> dict[str, np.ndarray]:
    age = rng.choice(100, size=n, p=AGE_P) + rng.random(n)
    gend = rng.integers(1, 3, n)
    worker = (age >= 18) & (((age < 60) & (rng.random(n) < 0.55)) | ((age >= 60) & (rng.random(n) < 0.35)))
    psn_type = np.select([worker & (age < 60), worker, age < 7, age < 18, age < 60], [0, 1, 2, 3, 4], 5)
    die = np.where(rng.random(n) < 0.008, day0 + rng.integers(30, max(31, n_days), n), -1)
    return {
        "age": age,
        "gend": gend,
        "brdy": (day0 - age * 365.25).astype(np.int64),
        "insutype": np.where(worker, 0, 1),
        "psn_type": psn_type,
        "region": rng.integers(0, len(city.admdvs), n),
        "die": die,
        **identity.draw(rng, n),
    }


def visits(rng: np.random.Generator, p: dict[str, np.ndarray], city: City, day0: int, n_days: int) -> dict:
    n = len(p["age"])
    age, gend = p["age"], p["gend"]
    n_in = np.minimum(rng.poisson(0.05 + 0.18 * (age >= 60) + 0.04 * (age < 7)), 3)
    n_ev_out = rng.poisson(1.8 + 3.0 * (age >= 60) + 1.5 * (age < 7))
    n_ev_ph = rng.poisson(np.where(age >= 18, 1.2, 0.2))
    # inpatient stays: one slot of the period per stay, so stays of one person are ≥ 16 days apart
    ip = np.repeat(np.arange(n), n_in)
    slot = n_days / np.maximum(n_in[ip], 1)
    j = _within(n_in)
    length = np.clip(np.round(rng.lognormal(1.8, 0.55, len(ip))), 1, 30).astype(np.int64)
    start = (j * slot + rng.random(len(ip)) * np.maximum(slot - 46, 1)).astype(np.int64)
    length = np.minimum(length, np.maximum(n_days - 1 - start, 1))
    stay = np.full((n, 3, 2), -(10**6), dtype=np.int64)
    stay[ip, j, 0], stay[ip, j, 1] = start, start + length
    # outpatient and pharmacy events on distinct days: event j of k falls in the j-th k-th of the period
    k = n_ev_out + n_ev_ph
    ep = np.repeat(np.arange(n), k)
    jj = _within(k)
    day = ((jj + rng.random(len(ep))) * n_days / np.maximum(k[ep], 1)).astype(np.int64)
    kind = np.where(rng.random(len(ep)) * k[ep] < n_ev_ph[ep], PHARM, OUT)
    for s in range(3):  # move an event out of a stay of the same person
        lo, hi = stay[ep, s, 0], stay[ep, s, 1]
        inside = (day >= lo) & (day <= hi)
        day = np.where(inside, np.where(hi + 1 < n_days, hi + 1, lo - 1), day)
    psn = np.concatenate([ep, ip])
    kind = np.concatenate([kind, np.full(len(ip), INP)])
    d0 = np.concatenate([day, start])
    days = np.concatenate([np.zeros(len(ep), np.int64), length])
    alive = (p["die"][psn] < 0) | (d0 + days < p["die"][psn] - day0)
    keep = alive & (d0 >= 0)
    psn, kind, d0, days = psn[keep], kind[keep], d0[keep], days[keep]
    order = np.lexsort((d0, psn))
    psn, kind, d0, days = psn[order], kind[order], d0[order], days[order]
    nv = len(psn)
    a, g = age[psn], gend[psn]

    # department by age and sex (妇产科 only women 18–55, 儿科 only children)
    w = np.array([0.33, 0.12, 0.08, 0.08, 0.08, 0.07, 0.12, 0.12])
    dept = rng.choice(len(DEPTS), size=nv, p=w)
    dept = np.where((a < 14) & (rng.random(nv) < 0.7), 3, dept)
    dept = np.where((dept == 2) & ((g == 1) | (a < 18) | (a >= 55)), 0, dept)
    dept = np.where((dept == 3) & (a >= 14), 0, dept)
    dept = np.where((kind == INP) & np.isin(dept, [DENTAL_DEPT, 7]), 1, dept)
    region = p["region"][psn]
    hosp_inp = [h[city.inst_level[h] >= 2] for h in city.hospitals_by_region]
    inst = np.where(kind == INP, _pick(rng, hosp_inp, region), _pick(rng, city.hospitals_by_region, region))
    inst = np.where(kind == PHARM, _pick(rng, city.pharmacies_by_region, region), inst)
    lvl = city.inst_level[inst]
    dept = np.where((lvl == 1) & np.array([DEPTS[d][2] for d in range(len(DEPTS))])[dept], 0, dept)
    dept = np.where(kind == PHARM, -1, dept)
    doc = np.where(
        kind == PHARM, city.pharmacist[inst], city.doctors[inst, np.maximum(dept, 0)] + rng.integers(0, 3, nv)
    )
    # doctor of the visit: three doctors per department, consecutive staff indices
    begin = (day0 + d0) * DAY + np.select([kind == OUT, kind == INP], [8 * 3600, 9 * 3600], 13 * 3600)
    begin = begin + rng.integers(0, 4 * 3600, nv)
    end = np.select(
        [kind == OUT, kind == INP],
        [begin + rng.integers(1200, 3600, nv), begin + days * DAY + 3600],
        begin + 300,
    )
    pools = city.diag_pools
    diag = _pick(rng, pools, np.maximum(dept, 0))
    diag2 = np.where(
        (kind == INP) & (rng.random(nv) < 0.5) & (a >= 18), _pick(rng, [pools[0]], np.zeros(nv, int)), -1
    )
    diag2 = np.where(diag2 == diag, -1, diag2)
    return {
        "psn": psn,
        "kind": kind,
        "inst": inst,
        "dept": dept,
        "doc": doc,
        "begin": begin,
        "end": end,
        "days": days,
        "diag": diag,
        "diag2": diag2,
        "med_type": kind.copy(),
        "surgery": (kind == INP) & np.isin(dept, [1, 2, 4, 5]) & (rng.random(nv) < 0.6),
    }


def lines(rng: np.random.Generator, v: dict[str, np.ndarray], city: City) -> dict[str, np.ndarray]:
    cat = city.cat
    kind, days, begin = v["kind"], v["days"], v["begin"]
    nv = len(kind)
    parts: list[tuple] = []  # (visit, item, cnt, time, prd_days)

    def add(
        vis: np.ndarray, item: np.ndarray, cnt: np.ndarray, time: np.ndarray, prd: np.ndarray | None = None
    ):
        parts.append((vis, item, cnt, time, np.full(len(vis), np.nan) if prd is None else prd))

    out, inp, ph = np.flatnonzero(kind == OUT), np.flatnonzero(kind == INP), np.flatnonzero(kind == PHARM)
    # outpatient: 诊查 + distinct drugs + distinct tests
    add(out, np.full(len(out), 3), np.ones(len(out)), begin[out] + 60)
    nd = len(cat.drugs)
    for idx, n_items, lo, hi, t0 in (
        (out, np.minimum(1 + rng.poisson(1.3, len(out)), 4), 1, 4, 900),  # ≤ 5 kinds with a restricted drug
        (ph, np.minimum(1 + rng.poisson(0.6, len(ph)), 4), 1, 4, 60),
    ):
        vis = np.repeat(idx, n_items)
        base = np.repeat(rng.integers(0, nd, len(idx)), n_items)
        item = cat.drugs[(base + _within(n_items)) % nd]
        add(
            vis,
            item,
            rng.integers(lo, hi, len(vis)).astype(float),
            begin[vis] + t0,
            rng.integers(3, 8, len(vis)).astype(float),
        )
    nt = len(cat.tests)
    n_t = np.zeros(nv, np.int64)
    n_t[out] = np.minimum(rng.poisson(0.8, len(out)), 4)
    n_t[inp] = np.minimum(2 + rng.poisson(2.0, len(inp)), 10)
    vis = np.repeat(np.arange(nv), n_t)
    item = cat.tests[(np.repeat(rng.integers(0, nt, nv), n_t) + _within(n_t)) % nt]
    tday = (rng.random(len(vis)) * np.maximum(days[vis], 1)).astype(np.int64)
    add(vis, item, np.ones(len(vis)), begin[vis] + tday * DAY + 1800)
    # inpatient: bed, nursing and 诊查 on each day of the stay; m drugs given daily
    d = days[inp]
    vis = np.repeat(inp, d)
    k = _within(d)
    for it in (0, 1, 2):
        add(vis, np.full(len(vis), it), np.ones(len(vis)), begin[vis] + k * DAY + 120 * (it + 1))
    m = np.minimum(1 + rng.poisson(1.5, len(inp)), 4)
    cnt = m * d
    vis = np.repeat(inp, cnt)
    jj = _within(cnt)
    dd = np.repeat(d, cnt)
    item = cat.drugs[(np.repeat(rng.integers(0, nd, len(inp)), cnt) + jj // dd) % nd]
    add(vis, item, rng.integers(1, 3, len(vis)).astype(float), begin[vis] + (jj % dd) * DAY + 7200)
    sv = np.flatnonzero(v["surgery"])
    add(
        sv,
        cat.surgeries[rng.integers(0, len(cat.surgeries), len(sv))],
        np.ones(len(sv)),
        begin[sv] + np.minimum(1, days[sv] - 1) * DAY + 3 * 3600,
    )
    cols = [np.concatenate([p[i] for p in parts]) for i in range(5)]
    item = cols[1].astype(np.int64)
    return {
        "visit": cols[0].astype(np.int64),
        "item": item,
        "cnt": cols[2],
        "time": cols[3].astype(np.int64),
        "prd_days": cols[4],
        "pric": cat.price[item].astype(float),
        "fund_override": np.zeros(len(item), bool),
        "tcm_way": np.zeros(len(item), np.int8),
        "trac": np.full(len(item), "", object),
    }


LEGIT_RATE = 0.01
"""Share of eligible visits that use a restricted (两库) drug or item compliantly (see ``restricted_uses``)."""


def restricted_uses(
    rng: np.random.Generator,
    p: dict[str, np.ndarray],
    v: dict[str, np.ndarray],
    l: dict[str, np.ndarray],  # noqa: E741
    city: City,
) -> dict[str, np.ndarray]:
    """``l`` plus compliant uses of restricted codes: a female-only item for a woman, a male-only one for a
    man, a child drug for a child, an inpatient-only drug in a stay, a level-limited drug in a level-3
    hospital, a 口腔科-only item in 口腔科 and a 14-day course drug for at most 7 days. They are the
    negatives the audit engine must not flag, and are not violations (never in ground truth)."""
    pools, price = city.cat.pools, city.cat.price
    kind, dept, begin, days = v["kind"], v["dept"], v["begin"], v["days"]
    age, gend = p["age"][v["psn"]], p["gend"][v["psn"]]
    hosp = kind != PHARM
    lvl = city.inst_level[v["inst"]]
    rules = (
        ("gender:2", hosp & (gend == 2) & (age >= 18) & (age < 55), 1),
        ("gender:1", hosp & (gend == 1) & (age >= 18), 1),
        ("child", hosp & (age < 14), 1),
        ("inpatient_only", kind == INP, 1),
        ("level", hosp & (lvl == 3), 1),
        ("dental", (kind == OUT) & (dept == DENTAL_DEPT), 1),
        ("course", (kind == INP) & (days >= 3), 7),
    )
    vis_l, item_l, time_l = [l["visit"]], [l["item"]], [l["time"]]
    for k, (pool, mask, max_days) in enumerate(rules):
        vis = np.flatnonzero(mask & (rng.random(len(kind)) < LEGIT_RATE))
        item = np.asarray(pools[pool])[rng.integers(0, len(pools[pool]), len(vis))]
        n = np.minimum(np.maximum(days[vis], 1), max_days)
        vis, item = np.repeat(vis, n), np.repeat(item, n)
        vis_l.append(vis)
        item_l.append(item)
        time_l.append(begin[vis] + _within(n) * DAY + 2400 + 60 * k)
    visit, item, time = np.concatenate(vis_l), np.concatenate(item_l), np.concatenate(time_l)
    extra = len(visit) - len(l["visit"])
    return {
        "visit": visit,
        "item": item,
        "cnt": np.concatenate([l["cnt"], np.ones(extra)]),
        "time": time,
        "prd_days": np.concatenate([l["prd_days"], np.full(extra, np.nan)]),
        "pric": price[item].astype(float),
        "fund_override": np.zeros(len(item), bool),
        "tcm_way": np.zeros(len(item), np.int8),
        "trac": np.full(len(item), "", object),
    }


def expected_lines_per_person() -> float:
    """Calibrated average fee lines per insured person of the model above (for sizing blocks)."""
    return 16.0
