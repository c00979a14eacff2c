"""Entity-level fraud schemes and legitimate-but-unusual controls (``CityConfig.schemes``), for the models.

The ordinary blocks plant violations visit by visit, scattered over the city. Big-data models rank
*entities*, so this module adds (with its own random stream ``(seed, 5)``, after the ordinary blocks, which
stay byte-identical) institutions that each run one scheme — a hospital with ghost beds above its licensed
beds, one that splits admissions, one that up-codes secondary diagnoses to MCC, one that repeats tests, a
pharmacy that cashes cards, one that sells more than it bought, a gang admitted together again and again,
a drug reseller, a dead person's card used at many pharmacies — and four legitimate institutions that are
merely unlike general hospitals: a children's hospital, a rehabilitation hospital, an oncology centre and a
24-hour pharmacy. ``schemes.csv`` names each scheme's entity (and each control) for the evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from fundguard import kb
from fundguard.synth.block import (
    DAY,
    INP,
    OUT,
    PHARM,
    Block,
    lines,
    people,
    restricted_uses,
    visits,
)
from fundguard.synth.plant import Planter
from fundguard.synth.world import CITY_NAME, DEPTS, City

FRESH = 800
"""Persons of the scheme block without ordinary visits, for the added stays and the schemes."""
STAYS_PER_HOSPITAL = 40
"""Ordinary stays added at each added hospital, so that its shares are not noise."""
SCHEME_COLUMNS = ["scheme", "name_zh", "entity_type", "entity_id", "detail_zh"]

# key, name pattern, level (0 = pharmacy), licensed beds, control (legitimate) or scheme
EXTRA_INSTITUTIONS: list[tuple[str, str, int, int | None, bool]] = [
    ("children", "{city}儿童医院", 3, 600, True),
    ("rehab", "{city}康复医院", 2, 300, True),
    ("oncology", "{city}肿瘤医院", 3, 800, True),
    ("pharmacy24", "{city}第{seq}大药房（24小时）", 0, None, True),
    ("ghost", "{city}第{seq}人民医院", 2, 6, False),
    ("split", "{city}第{seq}人民医院", 2, 220, False),
    ("gang", "{city}第{seq}人民医院", 2, 260, False),
    ("upcode", "{city}第{seq}人民医院", 2, 240, False),
    ("retest", "{city}第{seq}人民医院", 2, 200, False),
    ("cashing", "{city}第{seq}大药房", 0, None, False),
    ("inventory", "{city}第{seq}大药房", 0, None, False),
]
CONTROL_NAMES = {
    "children": "儿童医院",
    "rehab": "康复医院",
    "oncology": "肿瘤专科医院",
    "pharmacy24": "24小时药店",
}
GANG_ADDR = f"{CITY_NAME}虚构路88号虚构小区3栋"


@dataclass
class Extras:
    """Indices of the added institutions by key, and the entity truth rows for ``schemes.csv``."""

    inst: dict[str, int]
    mcc: np.ndarray
    """Indices of the MCC diagnoses appended to ``city.diag_codes``."""
    rows: list[list[str]] = field(default_factory=list)
    gang_psn: list[int] = field(default_factory=list)


def add_institutions(city: City, seed: int) -> Extras:
    """Append the controls and scheme institutions to ``city`` (市本级), with staff; ordinary visits never go
    to them (the region pools are unchanged)."""
    rng = np.random.default_rng([seed, 4])
    region = len(city.admdvs) - 1
    adm = city.admdvs[region]
    seq = city.inst.height
    rows, staff = [], []
    levels, doctors, pharmacist, index = [], [], [], {}
    n_staff = city.staff.height
    for key, pattern, level, beds, _ in EXTRA_INSTITUTIONS:
        seq += 1
        code = f"{'P' if level == 0 else 'H'}{adm}{seq:05d}"
        index[key] = city.inst.height + len(rows)
        rows.append(
            {
                "fixmedins_code": code,
                "fixmedins_name": pattern.format(city=CITY_NAME, seq=seq),
                "fixmedins_type": "2" if level == 0 else "1",
                "hosp_lv": "11" if level == 0 else {3: "03", 2: "06"}[level],
                "admdvs": adm,
                "agrm_stas": "1",
                "aprv_bed_cnt": beds,
                "medins_natu": "民营" if level == 0 else "公立",
                "addr": f"{CITY_NAME}虚构路{seq}号",
            }
        )
        levels.append(level)

        def add(ptype: int, dept: int, prefix: str, code: str = code) -> int:
            n = n_staff + len(staff)
            staff.append(
                {
                    "prac_psn_code": f"{prefix}{adm}{n + 1:06d}",
                    "prac_psn_name": "虚构" + "甲乙丙丁戊己庚辛"[rng.integers(8)] + "医师",
                    "prac_psn_type": str(ptype),
                    "pro_tech_duty": {1: "232", 2: "252", 3: "243"}[ptype],
                    "gend": str(rng.integers(1, 3)),
                    "fixmedins_code": code,
                    "dept_codg": DEPTS[dept][0] if dept >= 0 else None,
                    "dept_name": DEPTS[dept][1] if dept >= 0 else None,
                    "caty": DEPTS[dept][0] if dept >= 0 else None,
                    "prac_stas": "1",
                }
            )
            return n

        row = np.full(len(DEPTS), -1)
        if level == 0:
            pharmacist.append(add(3, -1, "HY"))
            add(3, -1, "HY")
        else:
            pharmacist.append(-1)
            for d in range(len(DEPTS)):
                row[d] = add(1, d, "D")
                add(1, d, "D")
                add(1, d, "D")
                add(2, d, "N")
        doctors.append(row)
    city.inst = pl.concat([city.inst, pl.DataFrame(rows, schema=city.inst.schema)])
    new_staff = pl.DataFrame(staff, infer_schema_length=None).with_columns(brdy=pl.date(1975, 6, 1))
    city.staff = pl.concat([city.staff, new_staff.select(city.staff.columns).cast(city.staff.schema)])
    city.inst_level = np.concatenate([city.inst_level, levels])
    city.inst_region = np.concatenate([city.inst_region, np.full(len(rows), region)])
    city.doctors = np.vstack([city.doctors, np.array(doctors)])
    city.pharmacist = np.concatenate([city.pharmacist, pharmacist])
    ex = Extras(index, _add_mcc_diagnoses(city))
    codes = city.inst["fixmedins_code"]
    for key, _, level, _, control in EXTRA_INSTITUTIONS:
        if control:
            ex.rows.append(
                [
                    "control",
                    CONTROL_NAMES[key],
                    "pharmacy" if level == 0 else "institution",
                    codes[index[key]],
                    "合法但特殊的机构（对照）",
                ]
            )
    return ex


def scheme_block(
    b: int, city: City, ex: Extras, n_people: int, seed: int, day0: int, n_days: int, plant_schemes: bool
) -> Block:
    """One extra block whose people use the added institutions; with ``plant_schemes`` the schemes too."""
    rng = np.random.default_rng([seed, 5])
    # the last FRESH persons have no ordinary visits: the added stays and schemes never overlap their events
    p = people(rng, n_people + FRESH, city, day0, n_days)
    v = visits(rng, {k: a[:n_people] for k, a in p.items()}, city, day0, n_days)
    _reassign(rng, p, v, city, ex, day0 + n_days - 1)
    blk = Block(b, day0, n_days, p, v, restricted_uses(rng, p, v, lines(rng, v, city), city))
    planter = _Schemes(blk, city, rng, ex, np.arange(n_people, n_people + FRESH))
    planter.ordinary_stays(plant_schemes)
    if plant_schemes:
        planter.run()
    for cols, extra in ((blk.v, blk.extra_v), (blk.l, blk.extra_l)):
        if extra:
            for k in cols:
                cols[k] = np.concatenate([cols[k], np.array([e[k] for e in extra], dtype=cols[k].dtype)])
    return blk


MCC_PREFIXES = ("J96", "I50", "N17", "A41", "R57", "J80")
"""Respiratory failure, heart failure, acute kidney failure, sepsis, shock, ARDS: the complications written
as secondary diagnoses by the oncology centre (legitimately) and the up-coding hospital."""


def _add_mcc_diagnoses(city: City) -> np.ndarray:
    """Append CHS-DRG 1.1 MCC diagnoses to ``city.diag_codes`` (the ordinary pools hold none); their indices."""
    mcc = kb.codes.cc_mcc().filter(pl.col("level") == "MCC").join(kb.codes.icd10(), on="code")
    mcc = mcc.filter(pl.col("code").str.contains("^(" + "|".join(MCC_PREFIXES) + ")")).sort("code").head(40)
    start = len(city.diag_codes)
    city.diag_codes = np.concatenate([city.diag_codes, mcc["code"].to_numpy()])
    city.diag_names = np.concatenate([city.diag_names, mcc["name"].to_numpy()])
    return np.arange(start, len(city.diag_codes))


def _reassign(rng: np.random.Generator, p: dict, v: dict, city: City, ex: Extras, last_day: int) -> None:
    """Send this block's visits to the added institutions (in place), as their catchment would."""
    i = ex.inst
    kind, age = v["kind"], p["age"][v["psn"]]
    n = len(kind)
    u = rng.random(n)
    inst = v["inst"].copy()
    kids = (kind != PHARM) & (age < 14)
    inst[kids & (u < 0.8)] = i["children"]
    stay = (kind == INP) & (age >= 14)
    hosp = ["rehab", "oncology", "ghost", "split", "gang", "upcode", "retest"]
    for k, key in enumerate(hosp):  # 10 % of adult patients' stays each, 30 % stay where they were
        inst[stay & (u >= 0.1 * k) & (u < 0.1 * (k + 1))] = i[key]
    outp = (kind == OUT) & (age >= 14)
    for k, key in enumerate(hosp[2:]):  # 8 % of adult outpatient visits each to the scheme hospitals
        inst[outp & (u >= 0.08 * k) & (u < 0.08 * (k + 1))] = i[key]
    ph = kind == PHARM
    for k, key in enumerate(("pharmacy24", "cashing", "inventory")):
        inst[ph & (u >= 0.2 * k) & (u < 0.2 * (k + 1))] = i[key]
    moved = inst != v["inst"]
    v["inst"] = inst
    dept = np.where(moved & (kind == INP) & (inst != i["children"]), 0, v["dept"])
    v["dept"] = dept
    doc = city.doctors[inst, np.maximum(dept, 0)] + rng.integers(0, 3, n)
    v["doc"] = np.where(kind == PHARM, city.pharmacist[inst], np.where(moved, doc, v["doc"]))
    # the 24-hour pharmacy sells round the clock (a third of its sales between 22:00 and 06:00)
    night = moved & (inst == i["pharmacy24"])
    day = v["begin"][night] // DAY
    v["begin"][night] = day * DAY + rng.integers(0, DAY - 600, int(night.sum()))
    v["end"][night] = v["begin"][night] + 300
    # rehabilitation stays are long: up to 28 days, ending before the person's next event
    rehab = np.flatnonzero(moved & (inst == i["rehab"]))
    nxt = np.append(v["begin"][1:], np.iinfo(np.int64).max)
    same = np.append(v["psn"][1:] == v["psn"][:-1], False)
    room = np.where(same, (nxt - v["begin"]) // DAY - 2, last_day - v["begin"] // DAY)
    days = np.clip(np.minimum(rng.integers(18, 29, len(rehab)), room[rehab]), v["days"][rehab], None)
    v["days"][rehab] = days
    v["end"][rehab] = v["begin"][rehab] + days * DAY + 3600
    # oncology patients are complex (legitimately): most stays carry an MCC secondary diagnosis
    onc = np.flatnonzero(moved & (inst == i["oncology"]) & (rng.random(n) < 0.7))
    v["diag2"][onc] = ex.mcc[rng.integers(0, len(ex.mcc), len(onc))]
    v["surgery"] = v["surgery"] & (inst != i["oncology"]) & (inst != i["rehab"])


class _Schemes(Planter):
    """The schemes, built with the planter's helpers and recorded in ground truth where a type fits."""

    def __init__(
        self, blk: Block, city: City, rng: np.random.Generator, ex: Extras, fresh: np.ndarray
    ) -> None:
        super().__init__(blk, city, rng, {})
        self.ex = ex
        self.codes = city.inst["fixmedins_code"]
        p = blk.p
        self.pool = iter(rng.permutation(fresh[(p["age"][fresh] >= 30) & (p["die"][fresh] < 0)]).tolist())

    def care_stay(self, psn: int, inst: int, begin: int, days: int, diag: int, diag2: int) -> tuple[int, int]:
        """A stay with care every day (bed, nursing, 诊查 and a drug) and a test on the first day: (visit,
        test item)."""
        rng = self.rng
        vi = self.visit(
            psn=psn,
            kind=INP,
            inst=inst,
            dept=0,
            doc=int(self.city.doctors[inst, 0]) + int(rng.integers(0, 3)),
            begin=begin,
            end=begin + days * DAY + 3600,
            days=days,
            diag=diag,
            diag2=diag2,
            med_type=INP,
            surgery=False,
        )
        drug = int(self.cat.drugs[rng.integers(len(self.cat.drugs))])
        for k in range(days):
            for item, sec in ((0, 120), (1, 240), (2, 360), (drug, 7200)):
                self.line(vi, item, 1.0, begin + k * DAY + sec)
        test = int(self.cat.tests[rng.integers(len(self.cat.tests))])
        self.line(vi, test, 1.0, begin + 1800)
        return vi, test

    def ordinary_stays(self, plant_schemes: bool) -> None:
        """``STAYS_PER_HOSPITAL`` ordinary stays at each added hospital (daily bed, nursing, 诊查 and drug, a
        test on the first day); the oncology centre's carry MCC complications legitimately, and with
        ``plant_schemes`` the up-coding hospital adds MCC diagnoses and the re-testing one repeats tests."""
        rng, city, i = self.rng, self.city, self.ex.inst
        mcc = self.ex.mcc
        day0, n_days = self.b.day0, self.b.n_days
        for key in ("rehab", "oncology", "ghost", "split", "gang", "upcode", "retest"):
            mcc_rate = {"oncology": 0.7, "upcode": 0.9 if plant_schemes else 0.0}.get(key, 0.0)
            for _ in range(STAYS_PER_HOSPITAL):
                psn, inst = next(self.pool), i[key]
                days = int(rng.integers(15, 28)) if key == "rehab" else int(rng.integers(3, 10))
                begin = (
                    (day0 + int(rng.integers(0, n_days - 40))) * DAY + 9 * 3600 + int(rng.integers(0, 7200))
                )
                diag = int(city.diag_pools[0][rng.integers(len(city.diag_pools[0]))])
                diag2 = int(mcc[rng.integers(len(mcc))]) if rng.random() < mcc_rate else -1
                vi, test = self.care_stay(psn, inst, begin, days, diag, diag2)
                if key == "retest" and plant_schemes and rng.random() < 0.7:
                    li = self.line(vi, test, 1.0, begin + DAY + 1800)
                    self.record(
                        "repeated_test",
                        vi,
                        [li],
                        test,
                        self.amt(test),
                        f"{self.name(test)}在同次住院中连续两日重复检查。",
                    )

    def psn_no(self, psn: int) -> str:
        from fundguard.synth.tables import _ids

        return f"{_ids(self.b)['psn']}{psn:010d}"

    def entity(self, scheme: str, name: str, etype: str, eid: str, detail: str) -> None:
        self.ex.rows.append([scheme, name, etype, eid, detail])

    def run(self) -> None:
        p, rng, city, i = self.b.p, self.rng, self.city, self.ex.inst
        day0, n_days = self.b.day0, self.b.n_days
        pool = self.pool
        diag = int(city.diag_pools[0][0])
        bed = float(self.cat.price[0])

        # 挂床: 25 bed-only stays within ten days at a hospital licensed for 6 beds
        w = day0 + n_days // 2
        for k in range(25):
            s = self.stay(next(pool), i["ghost"], 0, (w + k % 10) * DAY + 9 * 3600, 8, diag, ghost=True)
            self.record(
                "ghost_bed", s, [], -1, 7 * bed, "住院第2至8日仅收取床位费，无诊疗、护理记录（挂床）。"
            )
        self.entity(
            "ghost_bed", "挂床住院", "institution", self.codes[i["ghost"]], "核定6张床，10日内收治25人挂床"
        )
        # 分解住院: 20 persons discharged and re-admitted two days later with the same diagnosis
        for k in range(20):
            psn, begin = next(pool), (day0 + 20 + 15 * k) * DAY + 9 * 3600
            self.care_stay(psn, i["split"], begin, 5, diag, -1)
            s, _ = self.care_stay(psn, i["split"], begin + 7 * DAY, 5, diag, -1)
            self.record(
                "split_admission", s, [], -1, 5 * 85.0, "出院2日后以相同主诊断再次入住同一医院（分解住院）。"
            )
        self.entity(
            "split_admission", "分解住院", "institution", self.codes[i["split"]], "20人出院2日后再入院"
        )
        # 团伙: 12 persons of one address admitted together three times, bed-only stays
        gang = [next(pool) for _ in range(12)]
        self.ex.gang_psn = gang
        for t in (40, 150, 260):
            for psn in gang:
                begin = (day0 + t) * DAY + 9 * 3600 + int(rng.integers(0, 3600))
                s = self.stay(psn, i["gang"], 0, begin, 5, diag, ghost=True)
                self.record(
                    "phantom_inpatient_gang",
                    s,
                    [],
                    -1,
                    5 * 85.0,
                    "12名同址参保人三次同日集中入住同一医院，住院期间仅收床位费（团伙虚假住院）。",
                )
        self.entity(
            "phantom_inpatient_gang",
            "团伙虚假住院",
            "group",
            ";".join(self.psn_no(x) for x in gang),
            "12名同址参保人三次同日入住",
        )
        # 套现: 20 persons each swipe four round sums in the evening at one pharmacy
        combos = self.round_sums()
        for _ in range(20):
            psn = next(pool)
            it, q = combos[rng.integers(len(combos))]
            day = int(rng.integers(0, n_days - 30)) + day0
            for k in range(4):
                begin = (day + 6 * k) * DAY + 21 * 3600 + int(rng.integers(0, 1800))
                o = self.pharmacy_visit(psn, i["cashing"], begin)
                li = self.line(o, it, float(q), begin + 60)
                self.record(
                    "pharmacy_cashing",
                    o,
                    [li],
                    it,
                    self.amt(it, q),
                    f"同一参保人30日内在同一药店4次整额（{self.amt(it, q):.2f}元）夜间刷卡，疑似套现。",
                )
        self.entity(
            "pharmacy_cashing", "药店刷卡套现", "pharmacy", self.codes[i["cashing"]], "20人各4次整额夜间刷卡"
        )
        # 倒卖药品: two persons buy one drug every fortnight across eight pharmacies (a year's supply × 10)
        shops = [int(r[1]) for r in city.pharmacies_by_region if len(r) > 1][:8]
        drug = int(self.cat.drugs[6])
        for _ in range(2):
            psn = next(pool)
            for k in range(24):
                begin = (day0 + 5 + 14 * k) * DAY + 10 * 3600 + int(rng.integers(0, 7200))
                o = self.pharmacy_visit(psn, shops[k % len(shops)], begin)
                self.line(o, drug, 10.0, begin + 60, prd=30.0)
            self.entity(
                "drug_resale",
                "倒卖药品",
                "person",
                self.psn_no(psn),
                "一年内在8家药店购同一药品24次，供药720日",
            )
        # 死亡人员: a dead person's card used at eight pharmacies after the death
        dead = np.flatnonzero((p["die"] >= day0 + 30) & (p["die"] < day0 + n_days - 60))
        if len(dead) == 0:
            dead = np.array([next(pool)])
            p["die"][dead[0]] = day0 + n_days // 3
        psn = int(dead[0])
        for k in range(8):
            self.dead_card_purchase(
                psn, shops[k % len(shops)], (int(p["die"][psn]) + 3 + 5 * k) * DAY + 15 * 3600
            )
        self.entity(
            "deceased_card_use", "死亡人员医保凭证被冒用", "person", self.psn_no(psn), "死亡后8次在药店结算"
        )
        self.entity(
            "repeated_test",
            "重复检查",
            "institution",
            self.codes[i["retest"]],
            "七成住院次日重复同一检查",
        )
        # the up-coding hospital writes an MCC secondary diagnosis on nine stays in ten (its ordinary stays
        # got theirs in ordinary_stays)
        v, mcc = self.b.v, self.ex.mcc
        up = np.flatnonzero(
            (v["inst"] == i["upcode"]) & (v["kind"] == INP) & (rng.random(len(v["kind"])) < 0.9)
        )
        v["diag2"][up] = mcc[rng.integers(0, len(mcc), len(up))]
        self.entity(
            "upcoding",
            "高套编码（升级诊断）",
            "institution",
            self.codes[i["upcode"]],
            "九成住院加报MCC并发症诊断",
        )
        self.entity(
            "inventory_mismatch",
            "进销存不符（串换）",
            "pharmacy",
            self.codes[i["inventory"]],
            "全部品种销售量大于购进量",
        )
