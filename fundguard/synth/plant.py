"""Planting the violations of ``VIOLATION_TYPES`` into a clean block, each recorded for ground_truth.csv.

Visit-by-visit Python is fine here: planted visits are rare. Every planted row is consistent with its
label (a gender violation has a patient of the other sex, a split admission re-admits the same person to
the same hospital with the same main diagnosis within 3 days, …).
"""

from __future__ import annotations

import math

import numpy as np

from fundguard.synth.block import DAY, INP, OUT, PHARM, Block
from fundguard.synth.violations import VIOLATION_TYPES
from fundguard.synth.world import PLANTED_DIAGNOSES, PLANTED_OPERATIONS, City

GOODS = ("洗发水", "食用油", "纸巾", "牙膏", "洗衣液", "保健食品", "化妆品")
"""Non-drug goods a pharmacy bills under a drug code when cashing a card (串换)."""
NORMAL_USES = 24
"""Ordinary uses of an item planted beside each of its quantity outliers: the population normal the rules
compare against (they judge only items with at least 20 visit-days, ``min_support``)."""


class Planter:
    def __init__(self, blk: Block, city: City, rng: np.random.Generator, rates: dict[str, float]) -> None:
        self.b, self.city, self.rng, self.rates = blk, city, rng, rates
        self.nv0, self.nl0 = len(blk.v["psn"]), len(blk.l["item"])
        self.used = np.zeros(self.nv0, bool)
        self.cat = city.cat

    # -- building blocks ----------------------------------------------------------------------------
    def line(
        self,
        visit: int,
        item: int,
        cnt: float,
        time: int,
        pric: float | None = None,
        *,
        override: bool = False,
        tcm: int = 0,
        prd: float = np.nan,
        trac: str = "",
    ) -> int:
        self.b.extra_l.append(
            {
                "visit": visit,
                "item": item,
                "cnt": cnt,
                "time": time,
                "prd_days": prd,
                "pric": self.cat.price[item] if pric is None else pric,
                "fund_override": override,
                "tcm_way": tcm,
                "trac": trac,
            }
        )
        return self.nl0 + len(self.b.extra_l) - 1

    def visit(self, **kw: object) -> int:
        self.b.extra_v.append(kw)
        return self.nv0 + len(self.b.extra_v) - 1

    def pharmacy_visit(self, psn: int, inst: int, begin: int) -> int:
        """A planted five-minute purchase at pharmacy ``inst``, settled by its pharmacist."""
        return self.visit(
            psn=psn,
            kind=PHARM,
            inst=inst,
            dept=-1,
            doc=int(self.city.pharmacist[inst]),
            begin=begin,
            end=begin + 300,
            days=0,
            diag=0,
            diag2=-1,
            med_type=PHARM,
            surgery=False,
        )

    def round_sums(self) -> list[tuple[int, int]]:
        """(drug, quantity) pairs whose amount at catalogue price is a whole hundred yuan (card cashing)."""
        cents = np.round(self.cat.price[self.cat.drugs] * 100).astype(np.int64)
        return [
            (int(d), q)
            for d, c in zip(self.cat.drugs, cents, strict=True)
            for q in range(2, 21)
            if c * q % 10_000 == 0
        ]

    def dead_card_purchase(self, psn: int, inst: int, begin: int) -> None:
        """A dead person's card buying three boxes at pharmacy ``inst`` (recorded as deceased_card_use)."""
        o = self.pharmacy_visit(psn, inst, begin)
        it = int(self.cat.drugs[4])
        li = self.line(o, it, 3.0, begin + 60)
        self.record(
            "deceased_card_use", o, [li], it, self.amt(it, 3.0), "参保人死亡后其医保凭证仍在药店购药结算。"
        )

    def stay(
        self, psn: int, inst: int, dept: int, begin: int, days: int, diag: int, *, ghost: bool = False
    ) -> int:
        """A planted inpatient stay with daily bed, nursing and 诊查 (ghost: bed only after day 1)."""
        doc = int(self.city.doctors[inst, dept])
        vi = self.visit(
            psn=psn,
            kind=INP,
            inst=inst,
            dept=dept,
            doc=doc,
            begin=begin,
            end=begin + days * DAY + 3600,
            days=days,
            diag=diag,
            diag2=-1,
            med_type=INP,
            surgery=False,
        )
        for k in range(days):
            self.line(vi, 0, 1.0, begin + k * DAY + 120)
            if not ghost or k == 0:
                self.line(vi, 1, 1.0, begin + k * DAY + 240)
                self.line(vi, 2, 1.0, begin + k * DAY + 360)
        self.line(vi, int(self.cat.drugs[0]), 1.0, begin + 7200)
        return vi

    def record(
        self,
        vtype: str,
        visit: int,
        lines: list[int],
        item: int,
        amount: float,
        detail: str,
        kp_id: str = "",
    ) -> None:
        self.b.gt.append(
            {
                "violation_type": vtype,
                "visit": visit,
                "lines": lines,
                "item": item,
                "kp_id": kp_id
                or (self.cat.kp.get(self.cat.df["hilist_code"][item], "") if item >= 0 else ""),
                "amount": round(amount, 2),
                "detail_zh": detail,
            }
        )

    def choose(self, vtype: str, mask: np.ndarray) -> list[int]:
        """ceil(rate × eligible) unused visits among ``mask`` (at least one when the rate is positive)."""
        rate = self.rates.get(vtype, 0.0)
        cand = np.flatnonzero(mask[: self.nv0] & ~self.used)
        if rate <= 0 or len(cand) == 0:
            return []
        return self.take(mask, math.ceil(rate * len(cand)))

    def amt(self, item: int, cnt: float = 1.0) -> float:
        return round(float(self.cat.price[item]) * cnt, 2)

    def name(self, item: int) -> str:
        return str(self.cat.df["hilist_name"][item])

    # -- the violation types ------------------------------------------------------------------------
    def run(self) -> None:
        v, p, cat, rng = self.b.v, self.b.p, self.cat, self.rng
        kind, age, gend = v["kind"], p["age"][v["psn"]], p["gend"][v["psn"]]
        lvl = self.city.inst_level[v["inst"]]
        hosp = kind != PHARM
        pool = cat.pools

        def pick(name: str) -> int:
            return int(pool[name][rng.integers(len(pool[name]))])

        for vi in self.choose("duplicate_charge_pair", hosp):
            k = rng.integers(len(pool["pair"]) // 2)
            a, b = pool["pair"][2 * k], pool["pair"][2 * k + 1]
            t = int(v["begin"][vi]) + 1500
            la, lb = self.line(vi, a, 1.0, t), self.line(vi, b, 1.0, t + 60)
            self.record(
                "duplicate_charge_pair",
                vi,
                [la, lb],
                b,
                self.amt(b),
                f"{self.name(a)}已包含{self.name(b)}，同日仍分别收费（国家两库第七批重复收费规则）。",
            )
        for vi in self.choose("duplicate_same_item", hosp):
            t = int(v["begin"][vi]) + 1700
            it = int(cat.tests[rng.integers(len(cat.tests))])
            l1, l2 = self.line(vi, it, 1.0, t), self.line(vi, it, 1.0, t)
            self.record(
                "duplicate_same_item",
                vi,
                [l1, l2],
                it,
                self.amt(it),
                f"同一时间重复计费{self.name(it)}两次。",
            )
        for vi in self.choose("unbundled_surgery", v["surgery"]):
            groups = [g for g in pool if g.startswith("op:")]
            g = groups[rng.integers(len(groups))]
            a, b = pool[g][0], pool[g][1]
            t = int(v["begin"][vi]) + 3 * 3600 + DAY * min(1, int(v["days"][vi]) - 1)
            la, lb = self.line(vi, a, 1.0, t), self.line(vi, b, 1.0, t + 600)
            self.record(
                "unbundled_surgery",
                vi,
                [la, lb],
                b,
                self.amt(b) * 0.5,
                f"经同一切口的{self.name(a)}与{self.name(b)}（{g[3:]}）第二台手术未按规定折价，全价收费。",
            )
        for vi in self.choose("over_standard_price", hosp):
            it = int(cat.drugs[rng.integers(len(cat.drugs))])
            pr = round(float(cat.price[it]) * 1.35, 2)
            li = self.line(vi, it, 2.0, int(v["begin"][vi]) + 1000, pr)
            self.record(
                "over_standard_price",
                vi,
                [li],
                it,
                round((pr - float(cat.price[it])) * 2, 2),
                f"{self.name(it)}单价{pr:.2f}元，超过定价上限{float(cat.price[it]):.2f}元。",
            )
        for vi in self.choose("out_of_scope_fund_paid", hosp):
            it = pick("c_class")
            li = self.line(vi, it, 1.0, int(v["begin"][vi]) + 1100, override=True)
            self.record(
                "out_of_scope_fund_paid",
                vi,
                [li],
                it,
                self.amt(it),
                f"丙类项目{self.name(it)}纳入统筹基金结算。",
            )
        for vi in self.choose("gender_mismatch", hosp & (age >= 18)):
            other = "2" if gend[vi] == 1 else "1"  # an item allowed only for the other sex
            it = pick(f"gender:{other}")
            li = self.line(vi, it, 1.0, int(v["begin"][vi]) + 1200)
            self.record(
                "gender_mismatch",
                vi,
                [li],
                it,
                self.amt(it),
                f"{self.name(it)}限{'男' if other == '1' else '女'}性使用，患者为{'男' if gend[vi] == 1 else '女'}性。",
            )
        for vi in self.choose("age_mismatch", hosp & (age >= 30)):
            it = pick("child")
            li = self.line(vi, it, 1.0, int(v["begin"][vi]) + 1300)
            self.record(
                "age_mismatch",
                vi,
                [li],
                it,
                self.amt(it),
                f"儿童专用{self.name(it)}用于{int(age[vi])}岁成人。",
            )
        for vi in self.choose("hospital_level_mismatch", hosp & (lvl == 1)):
            it = pick("level")
            li = self.line(vi, it, 1.0, int(v["begin"][vi]) + 1400)
            self.record(
                "hospital_level_mismatch",
                vi,
                [li],
                it,
                self.amt(it),
                f"{self.name(it)}限二级及以上医疗机构使用，在一级机构结算。",
            )
        for vi in self.choose("department_mismatch", (kind == OUT) & (v["dept"] == 0)):
            it = pick("dental")
            li = self.line(vi, it, 1.0, int(v["begin"][vi]) + 1500)
            self.record(
                "department_mismatch",
                vi,
                [li],
                it,
                self.amt(it),
                f"限口腔科项目{self.name(it)}由内科开单收费。",
            )
        for vi in self.choose("visit_type_mismatch", kind == OUT):
            it = pick("inpatient_only")
            li = self.line(vi, it, 1.0, int(v["begin"][vi]) + 1600)
            self.record(
                "visit_type_mismatch", vi, [li], it, self.amt(it), f"限住院使用的{self.name(it)}在门诊结算。"
            )
        for vi in self.choose("insurance_type_mismatch", hosp):
            it = pick("insurance")
            li = self.line(vi, it, 1.0, int(v["begin"][vi]) + 1650)
            self.record(
                "insurance_type_mismatch",
                vi,
                [li],
                it,
                self.amt(it),
                f"限工伤/生育保险的{self.name(it)}由基本医疗保险统筹基金支付。",
            )
        for vi in self.choose("indication_missing", hosp & (v["dept"] == 0)):
            it = pick("indication")
            li = self.line(vi, it, 1.0, int(v["begin"][vi]) + 1700)
            self.record(
                "indication_missing",
                vi,
                [li],
                it,
                self.amt(it),
                f"{self.name(it)}限定适应症，就诊诊断中无相应疾病。",
            )
        for vi in self.choose("tcm_herb_not_paid", hosp & (v["dept"] == 7)):
            it = pick("tcm")
            li = self.line(vi, it, 10.0, int(v["begin"][vi]) + 1750, tcm=2)
            self.record(
                "tcm_herb_not_paid",
                vi,
                [li],
                it,
                self.amt(it, 10.0),
                f"中药饮片{self.name(it)}单方使用仍由基金支付。",
            )
        ok_course = (kind == INP) & (v["days"] >= 16)
        for vi in self.choose("over_course_days", ok_course):
            it = pick("course")
            ndays = int(v["days"][vi])
            ls = [self.line(vi, it, 1.0, int(v["begin"][vi]) + k * DAY + 5400) for k in range(ndays)]
            # the course pool holds drugs limited to 14 days (两库 batch 6); days beyond are the money at issue
            self.record(
                "over_course_days",
                vi,
                ls,
                it,
                self.amt(it, ndays - 14),
                f"{self.name(it)}限定支付不超过14天，本次住院连续使用{ndays}天。",
            )
        for vi in self.choose("over_frequency", kind == INP):
            it = 0  # 普通病房床位费: 1 per day (batch 8-1)
            li = self.line(vi, it, 1.0, int(v["begin"][vi]) + 600)
            self.record(
                "over_frequency", vi, [li], it, self.amt(it), "普通病房床位费限每日1次，同日计收2次。"
            )
        for vi in self.choose("over_quantity", kind == OUT):
            it = int(cat.drugs[rng.integers(len(cat.drugs))])
            li = self.line(vi, it, 12.0, int(v["begin"][vi]) + 950, prd=90.0)
            self.record(
                "over_quantity",
                vi,
                [li],
                it,
                self.amt(it, 8.0),
                f"门诊一次开具{self.name(it)}12盒，用药周期90天。",
            )
        for vi in self.choose("repeated_test", (kind == INP) & (v["days"] >= 3)):
            it = int(cat.tests[rng.integers(len(cat.tests))])
            b0 = int(v["begin"][vi])
            l1, l2 = self.line(vi, it, 1.0, b0 + DAY + 1900), self.line(vi, it, 1.0, b0 + 2 * DAY + 1900)
            self.record(
                "repeated_test",
                vi,
                [l1, l2],
                it,
                self.amt(it),
                f"{self.name(it)}在同次住院中连续两日重复检查。",
            )
        self._clinical()
        self._reasonable_use()
        self._prescribing()
        self._stay_based()
        self._price_items()  # last: the earlier types keep their visits and draws
        self._indication_clauses()
        self._visit_patterns()
        self._operation_codes()
        self._contraindications()
        self._quantity_outliers()  # last again: the types above keep their visits and draws

    def _clinical(self) -> None:
        """Issue 12: a child given a quinolone (药品儿童禁用); a man with a pregnancy diagnosis on his
        settlement list (诊断与患者性别不符)."""
        v, p, rng, city = self.b.v, self.b.p, self.rng, self.city
        kind, age, gend = v["kind"], p["age"][v["psn"]], p["gend"][v["psn"]]
        hosp = kind != PHARM
        quin = self.cat.pools["quinolone"][0]
        for vi in self.choose("child_contraindicated_drug", hosp & (age >= 2) & (age < 16)):
            li = self.line(vi, quin, 1.0, int(v["begin"][vi]) + 1250, prd=4.0)
            self.record(
                "child_contraindicated_drug",
                vi,
                [li],
                quin,
                self.amt(quin),
                f"{self.name(quin)}（喹诺酮类，说明书18岁以下禁用）用于{int(age[vi])}岁儿童。",
            )
        preg = [int(i) for i in city.diag_pools[2] if str(city.diag_codes[i]).startswith("O")]
        for vi in self.choose("diagnosis_sex_mismatch", (kind == INP) & (gend == 1) & (v["diag2"] < 0)):
            d = preg[int(rng.integers(len(preg)))]
            v["diag2"][vi] = d
            self.record(
                "diagnosis_sex_mismatch",
                vi,
                [],
                -1,
                0.0,
                f"男性患者结算清单次要诊断为{city.diag_codes[d]}（{city.diag_names[d]}），妊娠类诊断限女性。",
            )

    def _reasonable_use(self) -> None:
        """Issue 12 (12b): the drug reasonable-use and TCM classes with a settled fact (kb/data/drug_safety.csv),
        on drugs and herbs only the planter uses — 辛伐他汀 with 克拉霉素 the same day (相互作用), 地西泮 for a
        patient over 65 (老年人), a statin for a woman with a pregnancy diagnosis (妊娠期), 甘草 with 海藻 in one
        TCM prescription (十八反) — and a pregnancy diagnosis on a girl under ten's settlement list (年龄)."""
        v, p, city, pool = self.b.v, self.b.p, self.city, self.cat.pools
        kind, age, gend = v["kind"], p["age"][v["psn"]], p["gend"][v["psn"]]
        hosp = kind != PHARM
        statin, macrolide, diazepam = pool["statin"][0], pool["macrolide"][0], pool["elderly_avoid"][0]
        gancao, haizao = pool["herb_gancao"][0], pool["herb_haizao"][0]
        # men only: a statin with a pregnancy diagnosis would be another class
        for vi in self.choose("drug_interaction", hosp & (v["dept"] == 0) & (gend == 1) & (age >= 40)):
            t = int(v["begin"][vi]) + 1800
            la, lb = self.line(vi, statin, 1.0, t), self.line(vi, macrolide, 1.0, t + 120)
            self.record(
                "drug_interaction",
                vi,
                [la, lb],
                macrolide,
                self.amt(macrolide),
                f"{self.name(statin)}与{self.name(macrolide)}同日使用（CYP3A4强抑制剂升高他汀浓度，横纹肌溶解风险，说明书禁止合用）。",
            )
        for vi in self.choose("elderly_drug_avoid", hosp & (age >= 66)):
            li = self.line(vi, diazepam, 1.0, int(v["begin"][vi]) + 1850)
            self.record(
                "elderly_drug_avoid",
                vi,
                [li],
                diazepam,
                self.amt(diazepam),
                f"{self.name(diazepam)}（长效苯二氮䓬类，Beers标准老年人应避免）用于{int(age[vi])}岁患者。",
            )
        preg_diag = np.array([str(c).startswith("O") for c in city.diag_codes])
        for vi in self.choose("pregnancy_drug", hosp & (v["dept"] == 2) & preg_diag[v["diag"]]):
            li = self.line(vi, statin, 1.0, int(v["begin"][vi]) + 1900)
            d = int(v["diag"][vi])
            self.record(
                "pregnancy_drug",
                vi,
                [li],
                statin,
                self.amt(statin),
                f"诊断{city.diag_codes[d]}（{city.diag_names[d]}）的孕产妇使用{self.name(statin)}（他汀类孕妇禁用）。",
            )
        for vi in self.choose("tcm_incompatible_pair", hosp & (v["dept"] == 7)):
            t = int(v["begin"][vi]) + 1950
            la, lb = self.line(vi, gancao, 6.0, t, tcm=1), self.line(vi, haizao, 10.0, t + 30, tcm=1)
            self.record(
                "tcm_incompatible_pair",
                vi,
                [la, lb],
                haizao,
                self.amt(haizao, 10.0),
                f"同一中药处方同时开具{self.name(gancao)}与{self.name(haizao)}（十八反：甘草反海藻）。",
            )
        preg = [int(i) for i in city.diag_pools[2] if str(city.diag_codes[i]).startswith("O")]
        girls = (kind == INP) & (gend == 2) & (age >= 2) & (age < 9) & (v["diag2"] < 0)
        for vi in self.choose("diagnosis_age_mismatch", girls):
            d = preg[int(self.rng.integers(len(preg)))]
            v["diag2"][vi] = d
            self.record(
                "diagnosis_age_mismatch",
                vi,
                [],
                -1,
                0.0,
                f"{int(age[vi])}岁女童结算清单次要诊断为{city.diag_codes[d]}（{city.diag_names[d]}），产科诊断限10至60岁。",
            )

    def _prescribing(self) -> None:
        """Issue 12 (12b): an outpatient prescription of six kinds of 西药/中成药 (药品种类超标, limit 5), and the
        same drug bought again at another pharmacy five days into a 30-day supply (重复开药)."""
        v, p, ln, rng, city = self.b.v, self.b.p, self.b.l, self.rng, self.city
        chrg = self.cat.df["med_chrgitm_type"].to_numpy()
        drugs = [int(d) for d in self.cat.drugs if chrg[int(d)] in ("09", "11")]
        adult = p["age"][v["psn"]] >= 18
        for vi in self.choose("oversized_prescription", (v["kind"] == OUT) & adult):
            have = set(ln["item"][: self.nl0][ln["visit"][: self.nl0] == vi].tolist())
            free = [d for d in drugs if d not in have]
            picked = [free[int(k)] for k in np.sort(rng.choice(len(free), 6, replace=False))]
            t = int(v["begin"][vi]) + 2000
            ls = [self.line(vi, d, 1.0, t + 10 * k) for k, d in enumerate(picked)]
            self.record(
                "oversized_prescription",
                vi,
                ls,
                picked[-1],
                round(sum(self.amt(d) for d in picked), 2),
                f"门诊同一张处方开具{'、'.join(self.name(d) for d in picked)}共6种西药中成药，超过5种。",
            )
        day0, n_days = self.b.day0, self.b.n_days
        adults = np.flatnonzero((p["age"] >= 25) & (p["die"] < 0))
        for psn in self.choose_people("overlapping_supply", adults):
            phs = city.pharmacies_by_region[int(p["region"][psn])]
            it = drugs[int(rng.integers(len(drugs)))]
            day = int(rng.integers(0, max(1, n_days - 40))) + day0
            o1 = self.pharmacy_visit(psn, int(phs[0]), day * DAY + 8 * 3600)
            self.line(o1, it, 2.0, day * DAY + 8 * 3600 + 60, prd=30.0)
            begin = (day + 5) * DAY + 18 * 3600
            o2 = self.pharmacy_visit(psn, int(phs[-1]), begin)
            li = self.line(o2, it, 2.0, begin + 60, prd=30.0)
            self.record(
                "overlapping_supply",
                o2,
                [li],
                it,
                round(self.amt(it, 2.0) * 25 / 30, 2),
                f"5天前已在另一药店购{self.name(it)}2盒（用药周期30天），余25天用量时再次购买2盒（重复开药）。",
            )

    def _price_items(self) -> None:
        """Issue 12 (12c), on items only the planter uses: 一次性使用心电电极 billed beside 心电监测 on the same day
        (its price includes the electrodes), three more days of 普通病房床位费 billed at discharge than the
        calendar days of the stay allow (N days counted with both ends: N + 2 in all), and 氧气吸入 billed
        24 hours on each of the N days plus 12 more."""
        v, pool = self.b.v, self.cat.pools
        inp = v["kind"] == INP
        ecg, electrode, oxygen = pool["ecg_monitor"][0], pool["ecg_electrode"][0], pool["oxygen"][0]
        for vi in self.choose("service_consumable_duplicate", inp):
            t = int(v["begin"][vi]) + 2100
            la, lb = self.line(vi, ecg, 6.0, t), self.line(vi, electrode, 3.0, t + 60)
            self.record(
                "service_consumable_duplicate",
                vi,
                [la, lb],
                electrode,
                self.amt(electrode, 3.0),
                f"同日计收{self.name(ecg)}6小时，其项目内涵已含电极片，另收{self.name(electrode)}3片。",
            )
        for vi in self.choose("over_stay_days", inp):
            begin, end = int(v["begin"][vi]), int(v["end"][vi])
            n = end // DAY - begin // DAY + 1  # calendar days, admission and discharge both counted
            li = self.line(vi, 0, 3.0, end - 1800)  # the generator bills one bed per night: n − 1, plus 3
            self.record(
                "over_stay_days",
                vi,
                [li],
                0,
                self.amt(0, 2.0),
                f"住院{n}天（入院出院当日均计），出院时另补记{self.name(0)}3天，合计{n + 2}天。",
            )
        for vi in self.choose("over_stay_hours", inp):
            begin, end = int(v["begin"][vi]), int(v["end"][vi])
            n = end // DAY - begin // DAY + 1
            ls = [self.line(vi, oxygen, 24.0, begin + k * DAY + 900) for k in range(n - 1)]
            ls.append(self.line(vi, oxygen, 24.0, end - 1200))  # the discharge day
            ls.append(self.line(vi, oxygen, 12.0, begin + 1000))
            self.record(
                "over_stay_hours",
                vi,
                ls,
                oxygen,
                self.amt(oxygen, 12.0),
                f"住院{n}天（上限{n * 24}小时），{self.name(oxygen)}计费{n * 24 + 12}小时。",
            )

    def _indication_clauses(self) -> None:
        """Issue 12 (12c): the PEG-G-CSF, limited to 既往化疗曾发生重度中性粒细胞减少, in a breast-cancer stay
        of a woman with no neutropenia diagnosis anywhere in the city (the history is not found: review), and
        人血白蛋白 in a 肝硬变 stay (the diagnosis fits, but the indication also needs 白蛋白低于30g/L)."""
        v, p, city, pool = self.b.v, self.b.p, self.city, self.cat.pools
        inp = v["kind"] == INP
        age, gend = p["age"][v["psn"]], p["gend"][v["psn"]]
        c50, k74 = (int(np.flatnonzero(city.diag_codes == c)[0]) for c in PLANTED_DIAGNOSES[:2])
        for vtype, mask, diag, drug, why in (
            (
                "indication_history_missing",
                inp & (gend == 2) & (age >= 30),
                c50,
                pool["peg_gcsf"][0],
                "限既往化疗曾发生重度中性粒细胞减少的患者，本地无该参保人粒细胞缺乏（D70）诊断记录",
            ),
            (
                "indication_clause",
                inp & (age >= 18),
                k74,
                pool["albumin"][0],
                "肝硬化符合适应症，但另限白蛋白低于30g/L，结算数据无检验结果",
            ),
        ):
            for vi in self.choose(vtype, mask):
                v["diag"][vi] = diag
                li = self.line(vi, drug, 1.0, int(v["begin"][vi]) + 2200)
                self.record(
                    vtype,
                    vi,
                    [li],
                    drug,
                    self.amt(drug),
                    f"主诊断{city.diag_codes[diag]}（{city.diag_names[diag]}）的住院使用{self.name(drug)}：{why}。",
                )

    def _contraindications(self) -> None:
        """Issue 12 (12c): 盐酸普萘洛尔片 (non-selective β-blocker) in a stay whose main diagnosis is 哮喘 (药品禁忌症),
        and a 宫内节育器 billed in a man's visit (医用耗材与性别不符)."""
        v, p, city, pool = self.b.v, self.b.p, self.city, self.cat.pools
        age, gend = p["age"][v["psn"]], p["gend"][v["psn"]]
        asthma = int(np.flatnonzero(city.diag_codes == PLANTED_DIAGNOSES[2])[0])
        blocker, iud = pool["beta_blocker"][0], pool["iud"][0]
        for vi in self.choose("drug_contraindication", (v["kind"] == INP) & (age >= 18)):
            v["diag"][vi] = asthma
            li = self.line(vi, blocker, 1.0, int(v["begin"][vi]) + 2400)
            self.record(
                "drug_contraindication",
                vi,
                [li],
                blocker,
                self.amt(blocker),
                f"主诊断{city.diag_codes[asthma]}（{city.diag_names[asthma]}）的住院使用{self.name(blocker)}"
                "（非选择性β受体阻滞剂，支气管哮喘禁用）。",
            )
        for vi in self.choose("consumable_sex_mismatch", (v["kind"] != PHARM) & (gend == 1) & (age >= 18)):
            li = self.line(vi, iud, 1.0, int(v["begin"][vi]) + 2500)
            self.record(
                "consumable_sex_mismatch",
                vi,
                [li],
                iud,
                self.amt(iud),
                f"男性患者结算{self.name(iud)}（女性专用耗材）。",
            )

    def _quantity_outliers(self) -> None:
        """A visit-day billing an item far beyond its normal daily quantity, on items only the planter uses:
        ten 一次性使用静脉留置针 on one day of a stay (医用耗材数量超标; normally one a day), and 120 g of 延胡索
        uploaded for one TCM prescription (中药饮片超量上传; normally 6–12 g). The rules take the normal from the
        whole population, and the clean city bills neither item, so each outlier comes with ``NORMAL_USES``
        ordinary uses of its item on other visits of the same kind (compliant, not in ground truth)."""
        v, rng, pool = self.b.v, self.rng, self.cat.pools
        kind = v["kind"]
        for vtype, mask, item, (lo, hi), much, t0, tcm, unit, what in (
            ("consumable_overuse", kind == INP, pool["overuse_consumable"][0], (1, 1), 10.0, 2600, 0, "支",
             "住院同日计费"),
            ("tcm_overdose_upload", (kind == OUT) & (v["dept"] == 7), pool["overdose_herb"][0], (6, 12), 120.0,
             1180, 1, "g", "中药处方同日上传"),
        ):  # fmt: skip
            for vi in self.choose(vtype, mask):
                for o in self.take(mask, NORMAL_USES):
                    self.line(o, item, float(rng.integers(lo, hi + 1)), int(v["begin"][o]) + t0, tcm=tcm)
                li = self.line(vi, item, much, int(v["begin"][vi]) + t0, tcm=tcm)
                normal = f"{lo}{unit}" if lo == hi else f"{lo}—{hi}{unit}"
                self.record(
                    vtype,
                    vi,
                    [li],
                    item,
                    self.amt(item, much - 5 * hi),  # beyond five times the normal (the rules' factor)
                    f"{what}{self.name(item)}{much:.0f}{unit}，该项目其他就诊日常规用量每日{normal}，"
                    "超过常规用量5倍以上。",
                )

    def take(self, mask: np.ndarray, n: int) -> list[int]:
        """Up to ``n`` unused visits among ``mask``, marked used (the compliant uses beside a planted one)."""
        cand = np.flatnonzero(mask[: self.nv0] & ~self.used)
        pick = np.sort(self.rng.choice(cand, min(n, len(cand)), replace=False))
        self.used[pick] = True
        return [int(i) for i in pick]

    def _operation_codes(self) -> None:
        """Issue 12 (12c): a man's surgery stay whose settlement list names 卵巢楔形切除术 (手术操作编码与性别不符), and a
        woman's surgery stay with a caesarean section but no pregnancy, delivery or puerperium diagnosis
        (诊断编码与手术操作编码不符)."""
        v, p, city = self.b.v, self.b.p, self.city
        surg = (v["kind"] == INP) & v["surgery"]
        age, gend = p["age"][v["psn"]], p["gend"][v["psn"]]
        preg = np.array([str(c).startswith(("O", "Z3")) for c in city.diag_codes])
        d2 = v["diag2"]
        no_preg = ~preg[v["diag"]] & ((d2 < 0) | ~preg[np.maximum(d2, 0)])
        (ovary, ovary_name), (cs, cs_name) = PLANTED_OPERATIONS
        for vi in self.choose("operation_sex_mismatch", surg & (gend == 1) & (age >= 18)):
            self.b.oprn_override[vi] = (ovary, ovary_name)
            self.record(
                "operation_sex_mismatch",
                vi,
                [],
                -1,
                0.0,
                f"男性患者结算清单手术操作为{ovary}（{ovary_name}），女性生殖器官手术。",
            )
        for vi in self.choose(
            "operation_diagnosis_mismatch", surg & (gend == 2) & (age >= 20) & (age < 45) & no_preg
        ):
            d = int(v["diag"][vi])
            self.b.oprn_override[vi] = (cs, cs_name)
            self.record(
                "operation_diagnosis_mismatch",
                vi,
                [],
                -1,
                0.0,
                f"结算清单手术操作为{cs}（{cs_name}），诊断{city.diag_codes[d]}（{city.diag_names[d]}）等无妊娠、分娩或产褥期诊断。",
            )

    def _visit_patterns(self) -> None:
        """Issue 12 (12c): 31 kinds of herbs on one TCM prescription (中药饮片超大处方, limit 30), and two patterns
        of a person seen nowhere else in the city (so no ordinary visit adds to the count): outpatient visits
        on 16 consecutive days (频繁门诊, more than 15 days in 30) and four 3-day stays 25 days apart (频繁住院,
        more than 3 in 90 days; gaps over the 15 days of 分解住院). The visits over the limit are the truth."""
        v, p, rng, city = self.b.v, self.b.p, self.rng, self.city
        herbs = self.cat.pools["herb_plain"]
        for vi in self.choose("oversized_tcm_prescription", (v["kind"] == OUT) & (v["dept"] == 7)):
            t = int(v["begin"][vi]) + 2300
            ls = [self.line(vi, h, 10.0, t + 5 * k, tcm=1) for k, h in enumerate(herbs)]
            self.record(
                "oversized_tcm_prescription",
                vi,
                ls,
                herbs[-1],
                round(sum(self.amt(h, 10.0) for h in herbs), 2),
                f"同一中药处方开具{len(herbs)}味饮片（{'、'.join(self.name(h) for h in herbs[:5])}等），超过30味。",
            )
        day0, n_days = self.b.day0, self.b.n_days
        if n_days < 90:
            return
        seen = np.zeros(len(p["age"]), bool)
        seen[v["psn"]] = True
        seen[[int(e["psn"]) for e in self.b.extra_v]] = True
        quiet = np.flatnonzero(~seen & (p["age"] >= 25) & (p["die"] < 0))
        picked = self.choose_people("frequent_outpatient", quiet)
        for psn in picked:
            hosp = city.hospitals_by_region[int(p["region"][psn])]
            inst = int(hosp[rng.integers(len(hosp))])
            diag = int(city.diag_pools[0][rng.integers(len(city.diag_pools[0]))])
            day = int(rng.integers(0, n_days - 20)) + day0
            for k in range(16):
                begin = (day + k) * DAY + 9 * 3600
                o = self.visit(psn=psn, kind=OUT, inst=inst, dept=0, doc=int(city.doctors[inst, 0]), begin=begin,
                               end=begin + 1200, days=0, diag=diag, diag2=-1, med_type=OUT, surgery=False)  # fmt: skip
                self.line(o, 3, 1.0, begin + 60)
            self.record(
                "frequent_outpatient",
                o,
                [],
                -1,
                self.amt(3),
                "参保人连续16日在同一医院门诊就诊（30日内就诊超过15天），第16次就诊。",
            )
        quiet = np.setdiff1d(quiet, np.array(picked, np.int64))
        for psn in self.choose_people("frequent_admission", quiet):
            hosp = [h for h in city.hospitals_by_region[int(p["region"][psn])] if city.inst_level[h] >= 2]
            hosp = hosp or list(city.hospitals_by_region[int(p["region"][psn])])
            inst = int(hosp[rng.integers(len(hosp))])
            day = int(rng.integers(0, n_days - 85)) + day0
            for k in range(4):
                diag = int(city.diag_pools[0][rng.integers(len(city.diag_pools[0]))])
                s = self.stay(psn, inst, 0, (day + 25 * k) * DAY + 10 * 3600, 3, diag)
            self.record(
                "frequent_admission",
                s,
                [],
                -1,
                3 * float(self.cat.price[0] + self.cat.price[1] + self.cat.price[2]),
                "参保人75日内4次入住同一医院（90日内住院超过3次），第4次住院。",
            )

    def _stay_based(self) -> None:
        v, p, rng, city = self.b.v, self.b.p, self.rng, self.city
        kind = v["kind"]
        n_days, day0 = self.b.n_days, self.b.day0
        end_day = v["end"] // DAY - day0
        # ghost bed: a new stay billing only the bed after day 1, while the person shops at a pharmacy
        for vi in self.choose("ghost_bed", (kind == OUT) & (v["begin"] // DAY - day0 < n_days - 40)):
            psn = int(v["psn"][vi])
            begin = int(v["begin"][vi]) + 20 * DAY
            inst = (
                int(v["inst"][vi])
                if city.inst_level[v["inst"][vi]] >= 2
                else int(city.hospitals_by_region[-1][0])
            )
            s = self.stay(psn, inst, 0, begin, 6, int(v["diag"][vi]), ghost=True)
            self.record(
                "ghost_bed",
                s,
                [],
                -1,
                5 * (float(self.cat.price[0])),
                "住院第2至6日仅收取床位费，无诊疗、护理记录（挂床）。",
            )
        for vi in self.choose("split_admission", (kind == INP) & (end_day < n_days - 20)):
            psn, inst, dept = int(v["psn"][vi]), int(v["inst"][vi]), int(v["dept"][vi])
            begin = int(v["end"][vi]) + 2 * DAY
            s = self.stay(psn, inst, max(dept, 0), begin, 5, int(v["diag"][vi]))
            self.record(
                "split_admission",
                s,
                [],
                -1,
                5 * 85.0,
                "出院2日后以相同主诊断再次入住同一医院（分解住院）。",
            )
        for vi in self.choose("impersonation_concurrent", (kind == INP) & (v["days"] >= 4)):
            psn = int(v["psn"][vi])
            others = [h for h in city.hospitals_by_region[int(p["region"][psn])] if h != v["inst"][vi]]
            inst = int(others[rng.integers(len(others))])
            begin = int(v["begin"][vi]) + 2 * DAY + 3600
            doc = int(city.doctors[inst, 0])
            o = self.visit(
                psn=psn,
                kind=OUT,
                inst=inst,
                dept=0,
                doc=doc,
                begin=begin,
                end=begin + 1800,
                days=0,
                diag=int(v["diag"][vi]),
                diag2=-1,
                med_type=OUT,
                surgery=False,
            )
            li = self.line(o, 3, 1.0, begin + 60)
            self.record(
                "impersonation_concurrent",
                o,
                [li],
                3,
                float(self.cat.price[3]),
                "参保人住院期间同时在另一医疗机构门诊就诊（冒名就医）。",
            )
        dead = np.flatnonzero((p["die"] >= 0) & (p["die"] - day0 < n_days - 5))
        for psn in self.choose_people("deceased_card_use", dead):
            day = int(p["die"][psn]) + int(rng.integers(1, 5))
            inst = int(city.pharmacies_by_region[int(p["region"][psn])][0])
            self.dead_card_purchase(psn, inst, day * DAY + 15 * 3600)
        adults = np.flatnonzero((p["age"] >= 25) & (p["die"] < 0))
        combos = self.round_sums()
        for psn in self.choose_people("pharmacy_cashing", adults):
            inst = int(city.pharmacies_by_region[int(p["region"][psn])][-1])
            it, q = combos[rng.integers(len(combos))]
            total = self.amt(it, q)
            goods = GOODS[rng.integers(len(GOODS))] if rng.random() < 0.5 else ""
            day = int(rng.integers(0, n_days - 30)) + day0
            for k in range(4):
                begin = (day + 6 * k) * DAY + 19 * 3600 + 120
                o = self.pharmacy_visit(psn, inst, begin)
                li = self.line(o, it, float(q), begin + 60)
                what = (
                    f"实为{goods}等日用品，以{self.name(it)}名义串换结算"
                    if goods
                    else f"购{self.name(it)}{q}盒"
                )
                self.record(
                    "pharmacy_cashing",
                    o,
                    [li],
                    it,
                    total,
                    f"同一参保人30日内在同一药店4次整额（{total:.2f}元）刷卡，{what}，疑似套现。",
                )
        self._trace_codes(adults, day0, n_days)
        if self.rates.get("phantom_inpatient_gang", 0) > 0 and len(p["age"]) >= 200:
            hosp = [h for h in city.hospitals_by_region[-1] if city.inst_level[h] >= 2]
            inst = int(hosp[rng.integers(len(hosp))])
            members = rng.choice(np.flatnonzero((p["age"] >= 50) & (p["die"] < 0)), 10, replace=False)
            day = int(rng.integers(10, n_days - 40)) + day0
            diag = int(city.diag_pools[0][0])
            for psn in members:
                s = self.stay(
                    int(psn), inst, 0, day * DAY + 9 * 3600 + int(rng.integers(0, 3600)), 7, diag, ghost=True
                )
                self.record(
                    "phantom_inpatient_gang",
                    s,
                    [],
                    -1,
                    7 * 85.0,
                    "10名参保人同日集中入住同一医院，诊断与费用高度一致，住院期间仅收床位费（团伙虚假住院）。",
                )

    def _trace_codes(self, adults: np.ndarray, day0: int, n_days: int) -> None:
        """药品追溯码 fraud at pharmacies: a box's code settled again days later for another person at another
        pharmacy of the region (回流药), and three boxes settled with one code scanned."""
        p, city, rng = self.b.p, self.city, self.rng
        drugs = [int(d) for d in self.cat.drugs if self.cat.df["list_type"][int(d)] == "101"]
        if not drugs or len(adults) < 2:
            return
        for n, psn in enumerate(self.choose_people("trace_code_duplicate", adults)):
            phs = city.pharmacies_by_region[int(p["region"][psn])]
            it = drugs[int(rng.integers(len(drugs)))]
            code = f"82{self.b.index:05d}{n:010d}001"
            day = int(rng.integers(0, max(1, n_days - 10))) + day0
            o1 = self.pharmacy_visit(psn, int(phs[0]), day * DAY + 10 * 3600)
            self.line(o1, it, 1.0, day * DAY + 10 * 3600 + 60, trac=code)
            other = int(adults[int(rng.integers(len(adults)))])
            if other == psn:
                other = int(adults[0] if adults[0] != psn else adults[1])
            begin = (day + 3) * DAY + 11 * 3600
            o2 = self.pharmacy_visit(other, int(phs[-1]), begin)
            li = self.line(o2, it, 1.0, begin + 60, trac=code)
            self.record(
                "trace_code_duplicate",
                o2,
                [li],
                it,
                self.amt(it),
                f"{self.name(it)}的药品追溯码{code}已于3天前在本区药店售出结算，本次再次结算（回流药）。",
            )
        for n, psn in enumerate(self.choose_people("trace_code_short", adults)):
            phs = city.pharmacies_by_region[int(p["region"][psn])]
            it = drugs[int(rng.integers(len(drugs)))]
            day = int(rng.integers(0, n_days)) + day0
            begin = day * DAY + 16 * 3600
            o = self.pharmacy_visit(psn, int(phs[0]), begin)
            li = self.line(o, it, 3.0, begin + 60, trac=f"83{self.b.index:05d}{n:010d}001")
            self.record(
                "trace_code_short",
                o,
                [li],
                it,
                self.amt(it, 2.0),
                f"{self.name(it)}结算3盒，仅扫描上传1个药品追溯码。",
            )

        for n, psn in enumerate(self.choose_people("trace_code_refund_resale", adults)):
            ph = int(city.pharmacies_by_region[int(p["region"][psn])][0])
            it = drugs[int(rng.integers(len(drugs)))]
            code = f"85{self.b.index:05d}{n:010d}001"
            day = int(rng.integers(0, max(1, n_days - 10))) + day0
            o1 = self.pharmacy_visit(psn, ph, day * DAY + 9 * 3600)
            self.line(o1, it, 1.0, day * DAY + 9 * 3600 + 60, trac=code)
            self.b.refund_visits.append(o1)  # refunded in full the next day (tables.build)
            other = int(adults[int(rng.integers(len(adults)))])
            if other == psn:
                other = int(adults[0] if adults[0] != psn else adults[1])
            begin = (day + 4) * DAY + 15 * 3600
            o2 = self.pharmacy_visit(other, ph, begin)
            li = self.line(o2, it, 1.0, begin + 60, trac=code)
            self.record(
                "trace_code_refund_resale",
                o2,
                [li],
                it,
                self.amt(it),
                f"{self.name(it)}的药品追溯码{code}于3天前随原销售退费，本次又在同一药店销售结算（退药再售）。",
            )
        reporting = trace_reporting(city)
        for n, psn in enumerate(self.choose_people("trace_code_no_purchase", adults)):
            ph = int(reporting[int(p["region"][psn])])
            it = drugs[int(rng.integers(len(drugs)))]
            code = f"86{self.b.index:05d}{n:010d}001"
            self.b.unbought_codes.add(code)
            day = int(rng.integers(0, n_days)) + day0
            begin = day * DAY + 17 * 3600
            o = self.pharmacy_visit(psn, ph, begin)
            li = self.line(o, it, 1.0, begin + 60, trac=code)
            self.record(
                "trace_code_no_purchase",
                o,
                [li],
                it,
                self.amt(it),
                f"{self.name(it)}的药品追溯码{code}不在该药店进销存的任何采购记录中（无进货来源）。",
            )

    def choose_people(self, vtype: str, cand: np.ndarray) -> list[int]:
        rate = self.rates.get(vtype, 0.0)
        if rate <= 0 or len(cand) == 0:
            return []
        n = min(len(cand), math.ceil(rate * len(cand)))
        return [int(i) for i in np.sort(self.rng.choice(cand, n, replace=False))]


def trace_reporting(city: City) -> np.ndarray:
    """Region → the pharmacy whose 进销存 purchases carry the trace codes of the boxes it bought (the second of
    the region; the others report counts only). ``generate`` writes those codes, so the clean city's
    reporting pharmacies have every sold box bought, and the planter sells unbought ones there."""
    return np.array([int(phs[1] if len(phs) > 1 else phs[0]) for phs in city.pharmacies_by_region])


def plant(blk: Block, city: City, rng: np.random.Generator, rates: dict[str, float]) -> None:
    """Plant the violations into ``blk`` and merge the planted visits and lines into its columns."""
    Planter(blk, city, rng, rates).run()
    for cols, extra in ((blk.v, blk.extra_v), (blk.l, blk.extra_l)):
        if extra:
            for k in cols:
                cols[k] = np.concatenate([cols[k], np.array([e[k] for e in extra], dtype=cols[k].dtype)])


def rates_of(scale: float, overrides: dict[str, float]) -> dict[str, float]:
    unknown = set(overrides) - set(VIOLATION_TYPES)
    if unknown:
        raise ValueError(f"unknown violation types: {sorted(unknown)}")
    return {k: overrides.get(k, t.rate) * scale for k, t in VIOLATION_TYPES.items()}
