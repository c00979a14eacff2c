"""The static part of a synthetic city: regions, institutions, departments, staff and the catalogue.

The city is fictional: province code ``89`` is not a GB/T 2260 province (they end at 82), so ``8901xx``
can never be a real place. Institution codes follow national-schema.md (``H``/``P`` + admdvs + 5 digits,
doctors ``D`` + admdvs + 6 digits; nurses ``N``…, pharmacists ``HY``… by analogy). Catalogue drug and item
codes that the national 两库 names are real (from ``fundguard.kb``); the ordinary drugs are synthetic,
well-formed 23-character codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from fundguard import kb

CITY = "8901"
CITY_NAME = "示例市"

# departments: code, name, surgical, sex ('' any, '2' female only), max age (exclusive), diagnosis prefixes
DEPTS: list[tuple[str, str, bool, str, float, tuple[str, ...]]] = [
    ("A03", "内科", False, "", 200, ("J18.9", "I10", "E11.9", "I25.1", "K29.7", "J20.9", "J44.9", "I63.9")),
    ("A04", "外科", True, "", 200, ("K35.8", "K40.9", "K80.2", "K56.7", "S72.0", "K61.0")),
    ("A05", "妇产科", True, "2", 200, ("O80.0", "N83.2", "D25.9", "N76.0", "O34.2")),
    ("A07", "儿科", False, "", 14, ("J06.9", "J18.0", "A09.9", "J21.9", "K52.9")),
    ("A10", "耳鼻咽喉科", True, "", 200, ("J35.0", "J32.9", "H66.9", "J34.2")),
    ("A11", "眼科", True, "", 200, ("H25.9", "H40.9", "H10.9", "H52.1")),
    ("A12", "口腔科", False, "", 200, ("K02.9", "K05.1", "K04.0", "K08.1")),
    ("A50", "中医科", False, "", 200, ("M54.5", "R51", "G47.0", "M47.8")),
]
DENTAL_DEPT = 6
TCM_PRESCRIPTION_HERBS = (
    "当归", "黄芪", "川芎", "熟地黄", "茯苓", "白术", "陈皮", "桔梗", "柴胡", "黄芩", "黄连", "连翘", "金银花",
    "菊花", "枸杞子", "山药", "泽泻", "牡丹皮", "山茱萸", "麦冬", "五味子", "酸枣仁", "远志", "石菖蒲", "杜仲",
    "牛膝", "续断", "桑寄生", "葛根", "防风", "荆芥",
)  # fmt: skip
PLANTED_OPERATIONS = (("65.2200", "卵巢楔形切除术"), ("74.1x00", "低位子宫下段剖宫产"))
"""Operations the planter alone sets (ICD-9-CM-3 医保版 2.0): a female-only operation for a man (手术操作编码与性别
不符) and a caesarean section with no pregnancy diagnosis (诊断编码与手术操作编码不符); the drawn operations
(``oprn_codes``) stop before chapter 11."""
PLANTED_DIAGNOSES = ("C50.400", "K74.600", "J45.900")
"""Appended after the department pools: 乳房恶性肿瘤 (PEG-G-CSF without the history its indication needs),
肝硬变 (人血白蛋白, whose indication also needs 白蛋白低于30g/L) and 哮喘 (a non-selective β-blocker)."""

# ordinary drugs (synthetic codes, real generic names): name, ATC level 4, spec, form, price, level
DRUGS = [
    ("阿莫西林胶囊", "J01CA", "0.25g*24粒", "胶囊剂", 8.60, "01"),
    ("头孢呋辛酯片", "J01DC", "0.25g*12片", "片剂", 21.40, "01"),
    (
        "头孢克洛胶囊",
        "J01DC",
        "0.25g*6粒",
        "胶囊剂",
        12.30,
        "01",
    ),  # not a quinolone: children get it (issue 12)
    ("布洛芬缓释胶囊", "M01AE", "0.3g*20粒", "胶囊剂", 9.80, "01"),
    ("苯磺酸氨氯地平片", "C08CA", "5mg*28片", "片剂", 15.70, "01"),
    ("盐酸二甲双胍片", "A10BA", "0.5g*48片", "片剂", 11.20, "01"),
    ("阿托伐他汀钙片", "C10AA", "20mg*7片", "片剂", 19.90, "01"),
    ("奥美拉唑肠溶胶囊", "A02BC", "20mg*14粒", "胶囊剂", 13.50, "01"),
    ("氯化钠注射液", "B05XA", "0.9%*250ml", "注射剂", 3.85, "01"),
    ("葡萄糖注射液", "B05BA", "5%*250ml", "注射剂", 3.65, "01"),
    ("注射用头孢曲松钠", "J01DD", "1g", "注射剂", 6.72, "01"),
    ("琥珀酸美托洛尔缓释片", "C07AB", "47.5mg*7片", "片剂", 22.80, "02"),  # not an ARB: 妇产科 gets it
    ("硝苯地平控释片", "C08CA", "30mg*7片", "片剂", 18.60, "01"),
    ("阿司匹林肠溶片", "B01AC", "100mg*30片", "片剂", 14.90, "01"),
    ("氯吡格雷片", "B01AC", "75mg*7片", "片剂", 24.50, "02"),
    ("复方甘草片", "R05DA", "100片", "片剂", 6.35, "01"),
    ("氨溴索口服溶液", "R05CB", "100ml", "口服溶液剂", 16.40, "02"),
    ("蒙脱石散", "A07BC", "3g*10袋", "散剂", 12.85, "01"),
    ("双歧杆菌三联活菌胶囊", "A07FA", "0.21g*36粒", "胶囊剂", 28.60, "02"),
    ("甲钴胺片", "B03BA", "0.5mg*20片", "片剂", 17.30, "02"),
    ("胰岛素注射液", "A10AB", "400IU*10ml", "注射剂", 46.80, "01"),
    ("左甲状腺素钠片", "H03AA", "50μg*100片", "片剂", 26.90, "01"),
    ("地塞米松磷酸钠注射液", "H02AB", "5mg*1ml", "注射剂", 1.15, "01"),
    ("玻璃酸钠滴眼液", "S01XA", "0.1%*5ml", "滴眼剂", 31.20, "02"),
    ("连花清瘟胶囊", "J05AX", "0.35g*24粒", "胶囊剂", 14.80, "01"),
    ("复方丹参滴丸", "C01EB", "27mg*180丸", "丸剂", 29.70, "01"),
    ("藿香正气水", "A04AD", "10ml*10支", "酊剂", 9.45, "01"),
    ("六味地黄丸", "A11JC", "200丸", "丸剂", 18.35, "01"),
    ("感冒灵颗粒", "N02BE", "10g*9袋", "颗粒剂", 11.55, "01"),
    ("盐酸氨基葡萄糖胶囊", "M01AX", "0.24g*40粒", "胶囊剂", 38.90, "02"),
    ("阿胶补血颗粒", "B03AE", "4g*20袋", "颗粒剂", 25.00, "02"),
    ("西洋参含片", "A13AX", "0.5g*60片", "片剂", 50.00, "02"),
]

# ordinary service items with real 15-digit national codes: code, name, med_chrgitm_type, price
BED, NURSE, IPT_EXAM, OTP_EXAM = "001109000010000", "001201000040000", "001102000050000", "001102000010000"
DAILY_ITEMS = [
    (BED, "普通病房床位费", "01", 45.00),
    (NURSE, "Ⅱ级护理", "07", 22.00),
    (IPT_EXAM, "住院诊查费", "02", 18.00),
    (OTP_EXAM, "普通门诊诊查费", "02", 12.00),
]


@dataclass
class Catalogue:
    """hilist_b as columns plus the index pools the generator draws from."""

    df: pl.DataFrame
    price: np.ndarray
    code_to_idx: dict[str, int]
    drugs: np.ndarray
    tests: np.ndarray
    surgeries: np.ndarray
    kp: dict[str, str]
    """Catalogue code → kp_id of the knowledge point it came from."""
    pools: dict[str, list[int]]
    """Violation pools: name → catalogue indices."""

    def idx(self, code: str) -> int:
        return self.code_to_idx[code]


@dataclass
class City:
    admdvs: list[str]
    inst: pl.DataFrame
    inst_level: np.ndarray  # 1..3, 0 pharmacy
    inst_region: np.ndarray
    hospitals_by_region: list[np.ndarray]
    pharmacies_by_region: list[np.ndarray]
    staff: pl.DataFrame
    doctors: np.ndarray  # [inst, dept] → first doctor index (3 doctors each), -1 if absent
    pharmacist: np.ndarray  # [inst] → pharmacist index for pharmacies
    cat: Catalogue
    diag_codes: np.ndarray
    diag_names: np.ndarray
    diag_pools: list[np.ndarray]  # per department: indices into diag_codes
    oprn_codes: np.ndarray
    oprn_names: np.ndarray


def _hosp_lv(level: int, i: int) -> str:
    return {3: ("02", "03"), 2: ("05", "06"), 1: ("08", "09")}[level][i % 2]


def build_city(seed: int, regions: int, scale: float) -> City:
    rng = np.random.default_rng([seed, 0])
    admdvs = [f"{CITY}{r + 2:02d}" for r in range(regions)] + [f"{CITY}99"]
    rows, levels, region_of = [], [], []
    hosp_by_region: list[list[int]] = [[] for _ in admdvs]
    pharm_by_region: list[list[int]] = [[] for _ in admdvs]
    seq = 0
    for r, adm in enumerate(admdvs):
        plan = {3: 2 if adm.endswith("99") else 0, 2: 2, 1: 4, 0: 5}
        for level, n in plan.items():
            for _ in range(max(1, math.ceil(n * scale)) if n else 0):
                seq += 1
                kind = "P" if level == 0 else "H"
                code = f"{kind}{adm}{seq:05d}"
                if level == 0:
                    name = f"{CITY_NAME}第{seq}大药房"
                else:
                    name = f"{CITY_NAME}{['', '第{}社区卫生服务中心', '第{}人民医院', '第{}中心医院'][level].format(seq)}"
                beds = {
                    0: None,
                    1: int(rng.integers(20, 60)),
                    2: int(rng.integers(150, 500)),
                    3: int(rng.integers(800, 2000)),
                }[level]
                rows.append(
                    {
                        "fixmedins_code": code,
                        "fixmedins_name": name,
                        "fixmedins_type": "2" if level == 0 else "1",
                        "hosp_lv": "11" if level == 0 else _hosp_lv(level, seq),
                        "admdvs": adm,
                        "agrm_stas": "1",
                        "aprv_bed_cnt": beds,
                        "medins_natu": "民营" if level == 0 else "公立",
                        "addr": f"{CITY_NAME}虚构路{seq}号",
                    }
                )
                (pharm_by_region if level == 0 else hosp_by_region)[r].append(len(levels))
                levels.append(level)
                region_of.append(r)
    inst = pl.DataFrame(rows, infer_schema_length=None)
    inst_level = np.array(levels)
    # every region reaches the 市本级 level-3 hospitals too
    top = [i for i in hosp_by_region[-1] if inst_level[i] == 3]
    hosp = [np.array(sorted(set(h) | set(top))) for h in hosp_by_region]

    staff_rows: list[dict] = []
    doctors = np.full((len(levels), len(DEPTS)), -1)
    pharmacist = np.full(len(levels), -1)
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
    titles = {1: ("231", "232", "233", "234"), 2: ("251", "252", "253", "254"), 3: ("241", "243", "244")}
    for i in range(len(levels)):
        adm = inst["admdvs"][i]
        code = inst["fixmedins_code"][i]

        def add(ptype: int, dept: int, prefix: str, adm: str = adm, code: str = code) -> int:
            n = len(staff_rows)
            staff_rows.append(
                {
                    "prac_psn_code": f"{prefix}{adm}{n + 1:06d}",
                    "prac_psn_name": surnames[rng.integers(20)]
                    + given[rng.integers(20)]
                    + given[rng.integers(20)],
                    "prac_psn_type": str(ptype),
                    "pro_tech_duty": titles[ptype][rng.integers(len(titles[ptype]))],
                    "gend": str(rng.integers(1, 3)),
                    "fixmedins_code": code,
                    "dept_codg": DEPTS[dept][0] if dept >= 0 else None,
                    "dept_name": DEPTS[dept][1] if dept >= 0 else None,
                    "caty": DEPTS[dept][0] if dept >= 0 else None,
                    "prac_stas": "1",
                }
            )
            return n

        if inst_level[i] == 0:
            pharmacist[i] = add(3, -1, "HY")
            add(3, -1, "HY")
            continue
        for d in range(len(DEPTS)):
            if inst_level[i] == 1 and DEPTS[d][2]:
                continue  # community centres have no surgical departments
            doctors[i, d] = add(1, d, "D")
            add(1, d, "D")
            add(1, d, "D")
            add(2, d, "N")
    staff = pl.DataFrame(staff_rows, infer_schema_length=None).with_columns(
        brdy=pl.date(1960, 1, 1) + pl.duration(days=pl.int_range(pl.len()) * 97 % 11000)
    )

    icd = kb.codes.icd10()
    pools, codes, names = [], [], []
    for d in DEPTS:
        sel = icd.filter(
            pl.col("code").str.starts_with(d[5][0])
            | pl.any_horizontal(pl.col("code").str.starts_with(p) for p in d[5])
        )
        pools.append(np.arange(len(codes), len(codes) + sel.height))
        codes.extend(sel["code"].to_list())
        names.extend(sel["name"].to_list())
    # issue 12 (12c): diagnoses no department draws, set on planted stays only (indication classes)
    for code in PLANTED_DIAGNOSES:
        codes.append(code)
        names.append(icd.filter(pl.col("code") == code)["name"].item())
    ops = kb.codes.icd9cm3().filter(pl.col("code").str.contains(r"^\d\d\.\d\d00$")).head(400)
    return City(
        admdvs,
        inst,
        inst_level,
        np.array(region_of),
        hosp,
        [np.array(p) for p in pharm_by_region],
        staff,
        doctors,
        pharmacist,
        build_catalogue(seed),
        np.array(codes),
        np.array(names),
        pools,
        ops["code"].to_numpy(),
        ops["name"].to_numpy(),
    )


def build_catalogue(seed: int) -> Catalogue:
    """hilist_b: ordinary items, plus real restricted codes from the 两库 used when planting violations."""
    rng = np.random.default_rng([seed, 1])
    rows: list[dict] = []
    kp: dict[str, str] = {}
    pools: dict[str, list[int]] = {}

    def add(
        code: str,
        name: str,
        list_type: str,
        chrg: str,
        lv: str,
        price: float,
        *,
        lmt: str = "",
        spec: str = "",
        form: str = "",
        pool: str = "",
        kp_id: str = "",
    ) -> int:
        if code in kp:
            return -1
        rows.append(
            {
                "hilist_code": code,
                "hilist_name": name,
                "list_type": list_type,
                "med_chrgitm_type": chrg,
                "chrgitm_lv": lv,
                "pric_uplmt_amt": round(price, 2),
                "selfpay_prop": {"01": 0.0, "02": 0.1, "03": 1.0}[lv],
                "lmt_used_flag": "1" if lmt else "0",
                "lmt_used_dscr": lmt or None,
                "spec": spec or None,
                "dosform_name": form or None,
                "prcunt": "次" if list_type == "201" else "盒",
            }
        )
        kp[code] = kp_id
        if pool:
            pools.setdefault(pool, []).append(len(rows) - 1)
        return len(rows) - 1

    for code, name, chrg, price in DAILY_ITEMS:
        add(code, name, "201", chrg, "01", price)
    drugs = [
        add(
            f"X{atc}A{i:03d}A0010101{i + 10001:05d}",
            n,
            "101",
            "11" if atc[0] in "JNA" and i > 23 else "09",
            lv,
            p,
            spec=spec,
            form=form,
        )
        for i, (n, atc, spec, form, p, lv) in enumerate(DRUGS)
    ]
    # tests: real lab / imaging codes from the batch-7 pairs, no two of which form a pair (clean city)
    pairs = kb.limits.duplicate_pairs()
    limited = (
        set(kb.limits.frequency()["code"]) | set(kb.limits.gender()["code"]) | set(kb.limits.age()["code"])
    )
    pair_set = {(a, b) for a, b in pairs.select("main_code", "sub_code").iter_rows()}
    names = dict(zip(pairs["main_code"], pairs["main_name"], strict=True)) | dict(
        zip(pairs["sub_code"], pairs["sub_name"], strict=True)
    )
    kept: list[str] = []
    for code in sorted(names):
        if (
            code.startswith(("0025", "0022", "0021"))
            and code not in limited
            and not any((code, k) in pair_set or (k, code) in pair_set for k in kept)
        ):
            kept.append(code)
    kept = kept[:120]
    tests = [
        add(
            c,
            names[c],
            "201",
            "04" if c.startswith("0025") else "03",
            "01",
            float(rng.integers(8, 120)) + 0.5,
        )
        for c in kept
    ]
    ops = kb.limits.primary_secondary_ops()
    surg = []
    for group in sorted(
        set(ops["group"]) - {"女性生殖系统手术组", "男性生殖系统手术组"}
    ):  # those are sex-limited
        g = ops.filter(pl.col("group") == group).sort("code").head(6)
        for kp_id, code, name in g.select("kp_id", "code", "item_name").iter_rows():
            surg.append(
                add(
                    code,
                    name,
                    "201",
                    "06",
                    "01",
                    float(rng.integers(800, 6000)),
                    pool=f"op:{group}",
                    kp_id=kp_id,
                )
            )
    lim = kb.limits
    limited = {  # codes under each attribute restriction: a planted or compliant use touches one only
        "gender": set(lim.gender()["code"]),
        "age": set(lim.age()["code"]),
        "level": set(lim.hospital_level()["code"]),
        "visit": set(lim.visit_type()["code"]),
        "insurance": set(lim.insurance_type()["code"]),
        "indication": set(lim.indication_drugs()["code"]),
        "course": set(lim.course_days()["code"]),
        "tcm": set(lim.tcm_herbs_not_paid()["code"]),
    }
    any_limited = set().union(*limited.values())
    # pairs used for duplicate-charge planting: the first pairs whose codes are not yet in the catalogue
    # and carry no attribute restriction (a pair item limited to women would also flag as a sex violation)
    clean_pairs = pairs.filter(
        ~pl.col("main_code").is_in(any_limited) & ~pl.col("sub_code").is_in(any_limited)
    )
    for kp_id, main, mname, sub, sname in (
        clean_pairs.sort("kp_id")
        .head(30)
        .select("kp_id", "main_code", "main_name", "sub_code", "sub_name")
        .iter_rows()
    ):
        a = add(main, mname, "201", "05", "01", float(rng.integers(30, 300)), kp_id=kp_id)
        b = add(sub, sname, "201", "05", "01", float(rng.integers(10, 80)), kp_id=kp_id)
        if a >= 0 and b >= 0:
            pools.setdefault("pair", []).extend([a, b])
    freq = kb.limits.frequency().filter(pl.col("limit_unit") == "日").sort("code")
    for kp_id, code, name in freq.select("kp_id", "code", "item_name").iter_rows():
        if code not in kp:
            add(code, name, "201", "07", "01", float(rng.integers(10, 60)), pool="freq", kp_id=kp_id)
    pools["freq"] = [*pools.get("freq", []), 0, 1, 2]  # bed, nursing, 诊查: 1/日 too
    for code, name in (
        ("FG0000000000001", "医疗美容咨询"),
        ("FG0000000000002", "保健按摩"),
        ("FG0000000000003", "体检套餐（自费）"),
    ):
        add(code, name, "201", "14", "03", 180.0, pool="c_class")
    # issue 12: a systemic quinolone used only by the planter (child_contraindicated_drug): the ordinary
    # drugs hold none, so the clean city gives no child a drug its label forbids
    add(
        "XJ01MAA900A001010119001",
        "左氧氟沙星片",
        "101",
        "09",
        "01",
        12.30,
        spec="0.5g*4片",
        form="片剂",
        pool="quinolone",
    )
    # issue 12 (12b): drugs and herbs only the planter uses, each the subject of one settled safety fact in
    # kb/data/drug_safety.csv — 辛伐他汀 + 克拉霉素 (LK-74-01 相互作用; 他汀 in pregnancy LK-73-01), 地西泮 for
    # the elderly (LK-72-03, Beers), 甘草 + 海藻 (LK-75-01 十八反). Fixed prices: no draw from ``rng``, so the
    # rest of the catalogue is unchanged.
    for code, name, lt, chrg, price, spec, form, pool in (
        ("XC10AAX901A001010119001", "辛伐他汀片", "101", "09", 16.80, "20mg*7片", "片剂", "statin"),
        ("XJ01FAK902A001010119001", "克拉霉素片", "101", "09", 18.40, "0.25g*6片", "片剂", "macrolide"),
        ("XN05BAD903A001010119001", "地西泮片", "101", "09", 2.10, "2.5mg*20片", "片剂", "elderly_avoid"),
        ("T009900001", "甘草", "102", "10", 0.35, "g", "饮片", "herb_gancao"),
        ("T009900002", "海藻", "102", "10", 0.42, "g", "饮片", "herb_haizao"),
    ):
        add(code, name, lt, chrg, "01", price, spec=spec, form=form, pool=pool)
    # issue 12 (12c): items only the planter uses, for the classes on the price-item specification and the
    # indication clauses — 心电监测 with the electrodes its price includes (charging_facts SC-01), 氧气吸入 billed
    # per hour (SU-12: no other restriction names it, unlike 新生儿暖箱, which is limited to newborns), the
    # PEG-G-CSF whose only indication is a history (既往化疗曾发生重度中性粒细胞减少) and 人血白蛋白 (肝硬化,
    # 且白蛋白低于30g/L). Fixed prices: no draw from ``rng``.
    for code, name, lt, chrg, price, spec, form, pool in (
        ("003107010220000", "心电监测", "201", "03", 6.00, "", "", "ecg_monitor"),
        ("C1403010010000000001", "一次性使用心电电极", "301", "08", 2.50, "片", "", "ecg_electrode"),
        ("001208000010000", "氧气吸入", "201", "05", 3.00, "", "", "oxygen"),
        (
            "XL03AAJ249B002010100148",
            "聚乙二醇化人粒细胞刺激因子注射液",
            "101",
            "09",
            1680.0,
            "1ml:3mg",
            "注射剂",
            "peg_gcsf",
        ),
        ("XB05AAR021B001010100348", "人血白蛋白", "101", "09", 398.0, "10g", "注射剂", "albumin"),
        # 普萘洛尔 with asthma (drug_safety LK-71-01 禁忌症); an IUD billed for a man (LK-87-01 耗材与性别)
        (
            "XC07AAP904A001010119001",
            "盐酸普萘洛尔片",
            "101",
            "09",
            3.20,
            "10mg*100片",
            "片剂",
            "beta_blocker",
        ),
        ("C1803010010000000001", "宫内节育器", "301", "08", 45.0, "个", "", "iud"),
    ):
        add(code, name, lt, chrg, "01", price, spec=spec, form=form, pool=pool)
    # issue 12 (12c): 31 common herbs for one oversized TCM prescription (中药饮片超大处方, limit 30 kinds): none
    # in a 十八反/十九畏 pair, in the 单方 not-paid list or in any other fact, so only that class can fire
    for j, name in enumerate(TCM_PRESCRIPTION_HERBS):
        add(
            f"T0099002{j:02d}",
            name,
            "102",
            "10",
            "01",
            0.20 + 0.02 * j,
            spec="g",
            form="饮片",
            pool="herb_plain",
        )
    for j, name in enumerate(("牙齿美白", "烤瓷冠修复", "根管治疗")):
        add(
            f"0031051{j:02d}000000"[:15],
            name,
            "201",
            "05",
            "02",
            260.0 + 40 * j,
            lmt="限口腔科",
            pool="dental",
        )

    def restricted(
        df: pl.DataFrame,
        pool: str,
        n: int,
        chrg: str = "09",
        list_type: str = "101",
        lmt_col: str = "",
        *,
        table: str,
    ) -> None:
        """Add ``n`` codes of one restriction ``table`` that no other restriction table names."""
        others = set().union(*(codes for name, codes in limited.items() if name != table))
        df = df.filter(~pl.col("code").is_in(others)).unique("code", keep="first").sort("code")
        take = df.gather(np.linspace(0, df.height - 1, min(n, df.height)).astype(int))
        for r in take.iter_rows(named=True):
            lt = "201" if r["code"][0].isdigit() else ("102" if r["code"][0] == "T" else list_type)
            ch = "05" if lt == "201" else ("10" if lt == "102" else chrg)
            add(
                r["code"],
                r["item_name"],
                lt,
                ch,
                "02",
                float(rng.integers(20, 400)) + 0.8,
                lmt=str(r.get(lmt_col) or "")[:60] if lmt_col else "",
                pool=pool,
                kp_id=r["kp_id"],
            )

    restricted(lim.gender().filter(pl.col("allowed_gend") == "1"), "gender:1", 10, table="gender")
    restricted(lim.gender().filter(pl.col("allowed_gend") == "2"), "gender:2", 10, table="gender")
    restricted(lim.age().filter(pl.col("target") == "儿童"), "child", 10, table="age")
    restricted(lim.hospital_level(), "level", 10, lmt_col="constraint", table="level")
    restricted(lim.visit_type(), "inpatient_only", 10, table="visit")
    restricted(lim.insurance_type(), "insurance", 8, table="insurance")
    restricted(lim.indication_drugs(), "indication", 10, lmt_col="indication", table="indication")
    restricted(
        lim.course_days().filter((pl.col("rule_class") == "药品限支付疗程") & (pl.col("max_days") == 14)),
        "course",
        10,
        lmt_col="constraint",
        table="course",
    )
    restricted(lim.tcm_herbs_not_paid(), "tcm", 10, table="tcm")
    # a consumable and a herb only the planter uses, for the quantity outliers (医用耗材数量超标, 中药饮片超量上传):
    # the planter bills each in ordinary quantities on other visits too, the normal the rules compare against.
    # Names in no fact (配伍禁忌, 单方不予支付, 项目内涵); appended last with fixed prices, so no index or draw moves.
    for code, name, lt, chrg, price, spec, form, pool in (
        ("C0203010010000000001", "一次性使用静脉留置针", "301", "08", 12.0, "支", "", "overuse_consumable"),
        ("T009900301", "延胡索", "102", "10", 0.30, "g", "饮片", "overdose_herb"),
    ):
        add(code, name, lt, chrg, "01", price, spec=spec, form=form, pool=pool)

    df = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        admdvs=pl.lit(f"{CITY}00"), begndate=pl.date(2020, 1, 1)
    )
    code_to_idx = {c: i for i, c in enumerate(df["hilist_code"])}

    def valid(xs: list[int]) -> np.ndarray:
        return np.array([x for x in xs if x >= 0])

    return Catalogue(
        df, df["pric_uplmt_amt"].to_numpy(), code_to_idx, valid(drugs), valid(tests), valid(surg), kp, pools
    )
