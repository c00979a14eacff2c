"""One violating and one compliant claim per current national knowledge point (see test_knowledge_points.py).

Every claim has its own person (``psn_no`` = claim key) and visit(s), so claims cannot interact. The expected
outcome of a claim comes from the point's own knowledge row; when the point's text (or its knowledge) leaves a
side undecidable the side is not generated and the point is listed in ``kp_undecidable.yaml`` with the reason.

Run ``uv run python -m tests.engine.kp_claims`` to rewrite ``kp_undecidable.yaml`` after a knowledge update.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from fundguard.kb import knowledge, limits
from fundguard.rules.knowledge import INTERVAL_RE, KNOWLEDGE

UNDECIDABLE_FILE = Path(__file__).parent / "kp_undecidable.yaml"
DAY0 = dt.datetime(2025, 3, 1, 8, 0, 0)
INTERNET_HOSPITAL = "HNET"

CLASS_RULES: dict[str, tuple[str, ...]] = {
    "药品区分性别使用": ("GZ10000301004000",),
    "医疗服务项目区分性别使用": ("GZ10000302004000",),
    "药品儿童专用": ("GZ10000301002000",),
    "药品限儿童使用": ("GZ10000101007000",),
    "医疗服务项目儿童专用": ("GZ10000302003000",),
    "医疗服务项目限年龄": ("L-2025-29",),
    "药品限医疗机构级别": ("GZ10000101012000",),
    "药品限就医方式": ("L-2025-13",),
    "药品限工伤保险": ("GZ10000101001000",),
    "药品限生育保险": ("GZ10000101002000",),
    "医疗服务项目重复收费": ("GZ10000102012000",),
    "医疗服务项目限定频次": ("GZ10000102014000",),
    "医疗服务项目周期超频次": ("L-2025-31",),
    "药品限支付疗程": ("GZ10000101010000",),
    "医疗服务项目限支付疗程": ("GZ10000102010000",),
    "药品限适应症": ("GZ10000101008000", "L-DRUG-INDICATION-REVIEW"),
    "手术项目未按规定折价收费": ("GZ10000102002000",),
    "中药饮片单复方均不予支付": ("GZ10000101003000",),
    "中药饮片单方使用不予支付": ("GZ10000101004000",),
    "药品限二线使用": ("GZ10000101005000",),
    "超互联网医院药品支付范围": ("L-2025-47",),  # disabled nationally: run with a local scope override
}
"""Knowledge class → the national rule(s) that judge it (several: a hit by any of them counts)."""

# Points the knowledge tables leave out although their text states the constraint: the violating claim is
# built from the text (stated here) and is expected to be flagged; the test marks these as known gaps.
TEXT_ONLY: dict[str, dict] = {
    "KP-d96b221f3dc81fce": {"week_max": 1, "why": "支付不超过一年，每周最多支付一次"},
}


@dataclass
class Claim:
    key: str  # psn_no of the claim (one person per claim)
    kp_id: str
    rule_class: str
    side: str  # violating | compliant
    accept: frozenset[str]  # kp_ids a hit on the violating claim may carry (points sharing the code)
    visits: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)


def _ts(days: int = 0, hours: int = 1) -> str:
    return (DAY0 + dt.timedelta(days=days, hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


class _Builder:
    def __init__(self) -> None:
        self.claims: list[Claim] = []
        self.undecidable: list[dict] = []
        self._n = 0

    def claim(self, kp: str, cls: str, side: str, accept, uses: list[list[dict]], **visit) -> Claim:
        """A claim of one person: ``uses`` is one list of line specs per visit (days / hours offsets)."""
        self._n += 1
        key = f"{side[0].upper()}{self._n:05d}"
        c = Claim(key, kp, cls, side, frozenset(accept))
        for vi, specs in enumerate(uses):
            mdtrt = f"{key}V{vi}"
            start = min((s.get("days", 0) for s in specs), default=0)
            end = max((s.get("days", 0) for s in specs), default=0)
            c.visits.append(
                {
                    "mdtrt_id": mdtrt,
                    "psn_no": key,
                    "med_type": "11",
                    "begntime": _ts(start, 0),
                    "endtime": _ts(end, 10),
                    **visit,
                }
            )
            for li, s in enumerate(specs):
                s = dict(s)
                amt = s.pop("amt", "100.00")
                line = {
                    "bkkp_sn": f"{mdtrt}L{li}",
                    "mdtrt_id": mdtrt,
                    "hilist_code": s.pop("code"),
                    "fee_ocur_time": _ts(s.pop("days", 0), s.pop("hours", 1)),
                    "det_item_fee_sumamt": amt,
                    **{k: str(v) for k, v in s.items()},
                }
                c.lines.append(line)
        self.claims.append(c)
        return c

    def skip(self, kp: str, cls: str, item: str, side: str, reason: str) -> None:
        self.undecidable.append(
            {"kp_id": kp, "rule_class": cls, "item_name": item, "side": side, "reason": reason}
        )


def _pick(codes: list[str], share: dict[str, set[str]], kp: str) -> str:
    """The point's code shared with the fewest other points of its class (ties: smallest code)."""
    return min(codes, key=lambda c: (len(share.get(c, {kp})), c))


def _brdy(age_years: float) -> str:
    return (DAY0.date() - dt.timedelta(days=round(age_years * 365.25))).isoformat()


AGES = (40.0, 70.0, 10.0, 1.0, 0.03)


def _age_ok(age: float, lo, hi) -> bool:
    return (lo is None or age >= lo) and (hi is None or age < hi)


def generate() -> _Builder:
    b = _Builder()
    pts = knowledge.points()
    pc = knowledge.point_codes()
    codes_of = {k: sorted(g["code"].to_list()) for (k,), g in pc.group_by("kp_id")}
    share: dict[tuple[str, str], set[str]] = {}
    for r in pc.iter_rows(named=True):
        share.setdefault((r["rule_class"], r["code"]), set()).add(r["kp_id"])

    def cls_share(cls: str) -> dict[str, set[str]]:
        return {c: s for (k, c), s in share.items() if k == cls}

    shares = {cls: cls_share(cls) for cls in pts["rule_class"].unique().to_list()}

    def rows(frame: pl.DataFrame) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for r in frame.iter_rows(named=True):
            out.setdefault(r["kp_id"], []).append(r)
        return out

    gender, age, level = rows(limits.gender()), rows(limits.age()), rows(limits.hospital_level())
    visit, ins, course = rows(limits.visit_type()), rows(limits.insurance_type()), rows(limits.course_days())
    dup, freq, ops = (
        rows(limits.duplicate_pairs()),
        rows(limits.frequency()),
        rows(limits.primary_secondary_ops()),
    )
    herbs = rows(limits.tcm_herbs_not_paid())
    ind = KNOWLEDGE["kb_indication_icd10"][0]()
    age_by_code: dict[tuple[str, str], list[dict]] = {}
    for rs in age.values():
        for r in rs:
            age_by_code.setdefault((r["rule_class"], r["code"]), []).append(r)
    course_by_code: dict[tuple[str, str], float] = {}
    for rs in course.values():
        for r in rs:
            k = (r["rule_class"], r["code"])
            course_by_code[k] = min(course_by_code.get(k, 1e9), r["max_days"])
    ops_all = limits.primary_secondary_ops()
    ops_kps = {c: set(g["kp_id"].to_list()) for (c,), g in ops_all.group_by("code")}
    ind_code = {}
    for (c,), g in ind.group_by("code"):
        ind_code[c] = {
            "kps": set(g["kp_id"].to_list()),
            "prefixes": sorted({p.upper() for p in g["icd10"].drop_nulls().to_list()}),
            "unmapped": g["icd10"].null_count() > 0,
        }
    ind_prefix = {k: sorted(g["icd10"].drop_nulls().unique().to_list()) for (k,), g in ind.group_by("kp_id")}

    for p in pts.sort("rule_class", "kp_id").iter_rows(named=True):
        kp, cls, item = p["kp_id"], p["rule_class"], p["item_name"]
        sh = shares[cls]
        codes = codes_of.get(kp, [])
        if not codes:
            b.skip(kp, cls, item, "both", "知识点无药品/项目编码（说明性条目），无可计费对象")
            continue
        text_only = TEXT_ONLY.get(kp)

        def acc(code: str, sh: dict[str, set[str]] = sh, kp: str = kp) -> set[str]:
            return sh.get(code, {kp}) | {kp}

        if cls in ("药品区分性别使用", "医疗服务项目区分性别使用"):
            own = {r["code"]: r["allowed_gend"] for r in gender.get(kp, [])}
            if not own and text_only:
                own = dict.fromkeys(codes, text_only["allowed_gend"])
            code = _pick(sorted(own), sh, kp)
            ok = own[code]
            bad = "2" if ok == "1" else "1"
            b.claim(kp, cls, "violating", acc(code), [[{"code": code}]], gend=bad)
            b.claim(kp, cls, "compliant", acc(code), [[{"code": code}]], gend=ok)
        elif cls in ("药品儿童专用", "药品限儿童使用", "医疗服务项目儿童专用", "医疗服务项目限年龄"):
            own = {r["code"]: r for r in age[kp]}
            code = _pick(sorted(own), sh, kp)
            r = own[code]
            everyone = age_by_code[(cls, code)]
            bad = next(a for a in AGES if not any(_age_ok(a, x["min_age"], x["max_age"]) for x in everyone))
            good = next(a for a in AGES if _age_ok(a, r["min_age"], r["max_age"]))
            b.claim(kp, cls, "violating", acc(code), [[{"code": code}]], brdy=_brdy(bad))
            b.claim(kp, cls, "compliant", acc(code), [[{"code": code}]], brdy=_brdy(good))
        elif cls == "药品限医疗机构级别":
            code = _pick(sorted(r["code"] for r in level[kp]), sh, kp)
            b.claim(kp, cls, "violating", acc(code), [[{"code": code}]], hosp_lv="08")  # 一级
            b.claim(kp, cls, "compliant", acc(code), [[{"code": code}]], hosp_lv="01")  # 三级
        elif cls == "药品限就医方式":
            code = _pick(sorted(r["code"] for r in visit[kp]), sh, kp)
            b.claim(kp, cls, "violating", acc(code), [[{"code": code}]], med_type="11")
            b.claim(kp, cls, "compliant", acc(code), [[{"code": code}]], med_type="21")
        elif cls in ("药品限工伤保险", "药品限生育保险"):
            code = _pick(sorted(r["code"] for r in ins[kp]), sh, kp)
            b.claim(kp, cls, "violating", acc(code), [[{"code": code}]], insutype="310")
            if cls == "药品限生育保险":
                b.claim(kp, cls, "compliant", acc(code), [[{"code": code}]], insutype="510")
            else:  # 工伤 is settled outside the basic fund: the compliant use has no basic-fund share
                b.claim(
                    kp, cls, "compliant", acc(code),
                    [[{"code": code, "inscp_amt": "0", "fulamt_ownpay_amt": "100.00"}]],
                )  # fmt: skip
        elif cls in ("药品限支付疗程", "医疗服务项目限支付疗程"):
            if text_only:
                code = codes[0]  # 每周最多一次: two days in one week
                uses = [[{"code": code, "days": 0}, {"code": code, "days": 3}]]
                b.claim(kp, cls, "violating", {kp}, uses, med_type="21")
                b.claim(kp, cls, "compliant", {kp}, [[{"code": code, "days": 0}]], med_type="21")
                continue
            own = {r["code"]: r["max_days"] for r in course[kp]}
            code = _pick(sorted(own), sh, kp)
            lim, mine = int(course_by_code[(cls, code)]), int(own[code])
            b.claim(kp, cls, "violating", acc(code),
                    [[{"code": code, "days": d} for d in range(lim + 1)]], med_type="21")  # fmt: skip
            if mine > lim:
                b.skip(kp, cls, item, "compliant", f"编码 {code} 另有更严的疗程知识点（{lim}天）")
            else:
                # a point with an interval clause (手功能评定 "间隔不短于14天") is used that far apart
                ivl = [re.search(INTERVAL_RE, r["constraint"] or "") for r in course[kp]]
                step = max([int(m.group(1)) for m in ivl if m] or [1])
                b.claim(kp, cls, "compliant", acc(code),
                        [[{"code": code, "days": d} for d in range(0, mine, step)]], med_type="21")  # fmt: skip
        elif cls == "医疗服务项目重复收费":
            r = dup[kp][0]
            main, sub, freq_zh = r["main_code"], r["sub_code"], r["frequency"] or "单日"
            both = [{"code": main, "hours": 1}, {"code": sub, "hours": 1}]
            b.claim(kp, cls, "violating", {kp}, [both])
            apart = {
                "同一小时": [[{"code": main, "hours": 1}, {"code": sub, "hours": 3}]],
                "6小时": [[{"code": main, "hours": 1}, {"code": sub, "hours": 8}]],
                "单日": [[{"code": main, "days": 0}, {"code": sub, "days": 1}]],
                "单次就诊": [[{"code": main, "days": 0}], [{"code": sub, "days": 1}]],
            }[freq_zh]
            b.claim(kp, cls, "compliant", {kp}, apart, med_type="21")
        elif cls == "医疗服务项目限定频次":
            r = freq[kp][0]
            code, lim = r["code"], r["limit_qty"]
            if lim is None or r["limit_unit"] not in ("日", "天", "小时"):
                b.skip(kp, cls, item, "both", f"限定频次单位 {r['limit_unit']} 非按日计")
                continue
            n = int(lim)
            b.claim(kp, cls, "violating", acc(code),
                    [[{"code": code, "cnt": n, "hours": 1}, {"code": code, "cnt": 1, "hours": 2}]])  # fmt: skip
            b.claim(kp, cls, "compliant", acc(code), [[{"code": code, "cnt": n, "hours": 1}]])
        elif cls == "医疗服务项目周期超频次":
            r = freq[kp][0]
            code, d, m = r["code"], int(r["period_days"]), int(r["period_max_count"])
            # two visits of one person: M on day 0, then 1 more on the last day of the window / M the day after
            b.claim(kp, cls, "violating", acc(code),
                    [[{"code": code, "cnt": m, "days": 0}], [{"code": code, "cnt": 1, "days": d - 1}]])  # fmt: skip
            b.claim(kp, cls, "compliant", acc(code),
                    [[{"code": code, "cnt": m, "days": 0}], [{"code": code, "cnt": m, "days": d}]])  # fmt: skip
        elif cls == "手术项目未按规定折价收费":
            code, grp = ops[kp][0]["code"], ops[kp][0]["group"]  # the point's own group
            groups_of = ops_all.group_by("code").agg(pl.col("group")).rows()
            # partner: another operation of the same group, preferably in no other group
            mates = sorted((len(gs), c) for c, gs in groups_of if grp in gs and c != code)
            mates = [c for _, c in mates]
            if not mates:
                b.skip(kp, cls, item, "both", f"手术组 {grp} 仅此一项，无第二项手术可组合")
                continue
            q = mates[0]
            primary = {"code": q, "pric_uplmt_amt": "1000.00", "amt": "1000.00"}
            full = {"code": code, "pric_uplmt_amt": "800.00", "amt": "800.00", "hours": 2}
            half = {**full, "amt": "400.00"}
            b.claim(kp, cls, "violating", ops_kps[code], [[primary, full]], med_type="21")
            b.claim(kp, cls, "compliant", ops_kps[code], [[primary, half]], med_type="21")
        elif cls in ("中药饮片单复方均不予支付", "中药饮片单方使用不予支付"):
            code = herbs[kp][0]["code"]
            herb = {"code": code, "list_type": "102", "rx_drord_no": "R1", "amt": "30.00"}
            other = {"code": "T999999999", "list_type": "102", "rx_drord_no": "R1", "tcmdrug_used_way": "1"}
            if cls == "中药饮片单方使用不予支付":
                b.claim(kp, cls, "violating", acc(code), [[{**herb, "tcmdrug_used_way": "2"}]])
                b.claim(kp, cls, "compliant", acc(code), [[{**herb, "tcmdrug_used_way": "1"}, other]])
            else:  # never paid: violating even in a compound; compliant only when the fund pays nothing
                b.claim(kp, cls, "violating", acc(code), [[{**herb, "tcmdrug_used_way": "1"}, other]])
                b.claim(kp, cls, "compliant", acc(code),
                        [[{**herb, "tcmdrug_used_way": "1", "inscp_amt": "0", "fulamt_ownpay_amt": "30.00"}, other]])  # fmt: skip
        elif cls == "药品限适应症":
            mine = sorted(ind.filter(pl.col("kp_id") == kp)["code"].unique().to_list())
            code = min(mine, key=lambda c: (ind_code[c]["unmapped"], len(ind_code[c]["kps"]), c))
            info = ind_code[code]
            bad = next(
                d for d in ("S06.000", "Y00.X00", "Z00.000")
                if not any(d.startswith(x) for x in info["prefixes"])
            )  # fmt: skip
            accept = info["kps"] | {kp}
            b.claim(kp, cls, "violating", accept, [[{"code": code}]], dscg_maindiag_code=bad)
            if not ind_prefix.get(kp):
                b.skip(kp, cls, item, "compliant",
                       "适应症无≥中置信度ICD-10映射：任何诊断均送人工审核（可疑）")  # fmt: skip
            else:
                b.claim(kp, cls, "compliant", accept, [[{"code": code}]],
                        dscg_maindiag_code=ind_prefix[kp][0].upper())  # fmt: skip
        elif cls == "药品限二线使用":
            code = _pick(codes, sh, kp)
            b.claim(kp, cls, "violating", acc(code), [[{"code": code}]])
            b.skip(
                kp, cls, item, "compliant", "是否一线治疗失败/不能耐受须查病历，结算数据无从判定，一律可疑"
            )
        elif cls == "超互联网医院药品支付范围":
            code = _pick(codes, sh, kp)
            b.claim(kp, cls, "violating", acc(code), [[{"code": code}]], fixmedins_code=INTERNET_HOSPITAL)
            b.claim(kp, cls, "compliant", acc(code), [[{"code": code}]], fixmedins_code="H1")
        else:
            raise AssertionError(f"no claim generator for {cls}")
    return b


def undecidable_yaml(b: _Builder) -> str:
    return yaml.safe_dump(b.undecidable, allow_unicode=True, sort_keys=False, width=200)


if __name__ == "__main__":
    UNDECIDABLE_FILE.write_text(undecidable_yaml(generate()), encoding="utf-8")
