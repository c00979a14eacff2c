"""Derive the knowledge-base files shipped in ``fundguard/kb/data/`` from ``../shared/data``.

Reads the national 两库 knowledge points (``two-libraries/all_records.json``, supersession applied), the
structured tables of batches 1–8 (``two-libraries/batches-1-8``) for the parameters the JSON lacks
(allowed sex, age target, 频度, …), and the ICD-10 医保版 / ICD-9-CM-3 code lists of OpenDRG/DRG_Python
(Apache-2.0). Output: compact UTF-8 CSVs, deterministic (sorted), described in ``data/SOURCES.md``.

Usage: ``uv run python tools/derive_kb.py [--out DIR]``. ``derive(shared, out)`` is also used by the
test that checks the shipped files still match a fresh derivation.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fundguard.core.shared import shared_data_dir  # noqa: E402

KB_DATA = REPO / "fundguard" / "kb" / "data"

# age targets of the 两库 (batch 1 sheets 限定对象): upper bound in years, exclusive
AGE_TARGET_MAX = {"儿童": 18.0, "婴幼儿": 3.0, "新生儿": 0.08}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(out: Path, name: str, header: list[str], rows: list[list[object]]) -> None:
    rows = sorted(rows, key=lambda r: [str(x) for x in r])
    with (out / name).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def current_records(two: Path) -> list[dict]:
    """Knowledge points still in force: a record is current unless another record supersedes it."""
    recs = json.loads((two / "all_records.json").read_text(encoding="utf-8"))
    superseded = {r["supersedes"] for r in recs if r.get("supersedes")}
    return [r for r in recs if r["kp_id"] not in superseded]


def _source(r: dict) -> str:
    s = r.get("source") or {}
    parts = [str(s.get("attachment_file") or ""), str(s.get("announcement_url") or "")]
    return " ".join(p for p in parts if p)


def _batch(r: dict) -> str:
    return str(r.get("batch_tag") or (f"batch_{r['batch']:02d}" if r.get("batch") else ""))


def derive_codes(codes_dir: Path, out: Path) -> None:
    for src, name in (("ZD_INFO.dat", "icd10.csv"), ("SS_INFO.dat", "icd9cm3.csv")):
        rows = []
        for line in (codes_dir / "ICD" / src).read_text(encoding="utf-8").splitlines():
            code, _, label = line.strip().partition(" ")
            if code:
                rows.append([code, label.strip()])
        _write(out, name, ["code", "name"], rows)
    # CHS-DRG 1.1 complication lists: a code in both is an MCC (the major one wins). The second field of each
    # line is the code's exclusion table: the CC/MCC does not count when the principal diagnosis is listed
    # under that table in CCE.dat (a complication of the principal diagnosis itself is no complication).
    level: dict[str, tuple[str, str]] = {}
    for src, lv in (("CC.dat", "CC"), ("MCC.dat", "MCC")):
        for line in (codes_dir / "DATA" / src).read_text(encoding="utf-8").splitlines():
            code, _, table = line.strip().partition(" ")
            if code:
                level[code] = (lv, table.strip())
    _write(out, "cc_mcc.csv", ["code", "level", "excl"], [[c, lv, t] for c, (lv, t) in sorted(level.items())])
    excl = sorted(
        {
            tuple(line.split()[:2])
            for line in (codes_dir / "DATA" / "CCE.dat").read_text(encoding="utf-8").splitlines()
            if len(line.split()) >= 2
        }
    )
    _write(out, "cc_exclusions.csv", ["code", "excl"], [list(r) for r in excl])


def derive_points(cur: list[dict], out: Path) -> None:
    pts, codes = [], []
    for r in cur:
        pts.append(
            [
                r["kp_id"],
                r["rule_class"],
                r.get("gz_code") or "",
                _batch(r),
                r.get("item_name") or "",
                r.get("constraint") or "",
                r.get("detect_logic") or "",
                _source(r),
            ]
        )
        codes.extend([r["kp_id"], r["rule_class"], c] for c in dict.fromkeys(r.get("med_codes") or []))
    _write(
        out,
        "knowledge_points.csv",
        ["kp_id", "rule_class", "gz_code", "batch", "item_name", "constraint", "detect_logic", "source"],
        pts,
    )
    _write(out, "knowledge_point_codes.csv", ["kp_id", "rule_class", "code"], codes)


def _by_class(cur: list[dict], *classes: str) -> list[dict]:
    return [r for r in cur if r["rule_class"] in classes]


def _expand(recs: list[dict]) -> list[tuple[dict, str]]:
    return [(r, c) for r in recs for c in dict.fromkeys(r.get("med_codes") or [])]


SEX_TERMS = {
    "男": ["前列腺", "睾丸", "阴茎", "阴囊", "精囊", "输精管", "男性"],
    "女": [
        "子宫",
        "卵巢",
        "阴道",
        "宫颈",
        "输卵管",
        "外阴",
        "妊娠",
        "孕妇",
        "产后",
        "分娩",
        "哺乳",
        "月经",
        "绝经",
        "女性",
    ],
}
"""Anatomy and life-stage words that fix the allowed sex of a 区分性别使用 point published without a
structured target (batches after 1 carry only the text); a point naming words of both sexes is left out."""


def _sex_from_text(text: str) -> str | None:
    found = [sex for sex, terms in SEX_TERMS.items() if any(t in text for t in terms)]
    return found[0] if len(found) == 1 else None


def derive_limits(cur: list[dict], b18: Path, out: Path) -> None:
    gend_code = {"男": "1", "女": "2"}
    # allowed sex: drugs by generic name (b1 drug sheet1), also by code (sheet2); items by code
    drug_sex = {r["药品通用名"]: r["限定对象"] for r in _rows(b18 / "b1_drug_limit_gender_rules.csv")}
    code_name = {r["药品代码"]: r["药品通用名"] for r in _rows(b18 / "b1_drug_limit_gender_codes.csv")}
    item_sex = {r["国标代码"]: r["限定性别"] for r in _rows(b18 / "b1_item_limit_gender_rules.csv")}
    rows = []
    for r, c in _expand(_by_class(cur, "药品区分性别使用", "医疗服务项目区分性别使用")):
        sex = (
            item_sex.get(c)
            or drug_sex.get(r["item_name"])
            or drug_sex.get(code_name.get(c, ""))
            or _sex_from_text(f"{r['item_name']}{r.get('constraint') or ''}")
        )
        if sex in gend_code:
            rows.append([r["kp_id"], r["rule_class"], c, r["item_name"], gend_code[sex]])
    _write(out, "gender_limits.csv", ["kp_id", "rule_class", "code", "item_name", "allowed_gend"], rows)

    item_age = {r["国标代码"]: r["限定对象"] for r in _rows(b18 / "b1_item_limit_age_rules.csv")}
    rows = []
    for r, c in _expand(_by_class(cur, "药品儿童专用", "药品限儿童使用", "医疗服务项目儿童专用")):
        target = item_age.get(c, "儿童")
        rows.append([r["kp_id"], r["rule_class"], c, r["item_name"], target, "", AGE_TARGET_MAX[target]])
    for r, c in _expand(_by_class(cur, "医疗服务项目限年龄")):  # 超出法定就业年龄 (b8-2): 16–60
        rows.append([r["kp_id"], r["rule_class"], c, r["item_name"], "就业年龄", 16.0, 60.0])
    _write(
        out,
        "age_limits.csv",
        ["kp_id", "rule_class", "code", "item_name", "target", "min_age", "max_age"],
        rows,
    )

    rows = []
    for r, c in _expand(_by_class(cur, "药品限医疗机构级别")):
        m = re.search(r"([一二三])级", r.get("constraint") or "")
        level = {"一": 1, "二": 2, "三": 3}[m.group(1)] if m else 2
        rows.append([r["kp_id"], c, r["item_name"], level, r.get("constraint") or ""])
    _write(out, "hospital_level_limits.csv", ["kp_id", "code", "item_name", "min_level", "constraint"], rows)

    rows = [[r["kp_id"], c, r["item_name"], "住院"] for r, c in _expand(_by_class(cur, "药品限就医方式"))]
    _write(out, "visit_type_limits.csv", ["kp_id", "code", "item_name", "allowed_visit"], rows)

    rows = [
        [r["kp_id"], c, r["item_name"], "工伤" if r["rule_class"] == "药品限工伤保险" else "生育"]
        for r, c in _expand(_by_class(cur, "药品限工伤保险", "药品限生育保险"))
    ]
    _write(out, "insurance_type_limits.csv", ["kp_id", "code", "item_name", "insurance"], rows)

    b6 = {r["药品通用名"]: r["限定值域"] for r in _rows(b18 / "b6_drug_limit_course_days_rules.csv")}
    rows = []
    for r, c in _expand(_by_class(cur, "药品限支付疗程", "医疗服务项目限支付疗程")):
        text = f"{b6.get(r['item_name'], '')} {r.get('constraint') or ''}"
        m = re.search(r"(\d+)\s*天", text)
        if m:
            rows.append(
                [r["kp_id"], r["rule_class"], c, r["item_name"], int(m.group(1)), r.get("constraint") or ""]
            )
    _write(
        out,
        "course_days_limits.csv",
        ["kp_id", "rule_class", "code", "item_name", "max_days", "constraint"],
        rows,
    )

    freq = {
        (r["主项编码"], r["从项编码"]): r["频度"] for r in _rows(b18 / "b7_item_duplicate_charge_rules.csv")
    }
    rows = []
    for r in _by_class(cur, "医疗服务项目重复收费"):
        main, sub = r["med_codes"][:2]
        main_name, _, sub_name = (r.get("item_name") or "").partition("×")
        rows.append(
            [r["kp_id"], main, main_name, sub, sub_name, freq.get((main, sub), ""), r.get("constraint") or ""]
        )
    _write(
        out,
        "duplicate_charge_pairs.csv",
        ["kp_id", "main_code", "main_name", "sub_code", "sub_name", "frequency", "note"],
        rows,
    )

    rows = []
    for r in _rows(b18.parent / "item_frequency_period_limits.csv"):
        rows.append(
            [
                r["yingyan_kp_id"],
                r["rule_class"],
                r["item_code"],
                r["item_name"],
                r["limit_qty"],
                r["limit_unit"],
                r["period_days"],
                r["period_max_count"],
            ]
        )
    _write(
        out,
        "frequency_limits.csv",
        [
            "kp_id",
            "rule_class",
            "code",
            "item_name",
            "limit_qty",
            "limit_unit",
            "period_days",
            "period_max_count",
        ],
        rows,
    )

    rows = [
        [r["kp_id"], c, r["item_name"], r.get("constraint") or ""]
        for r, c in _expand(_by_class(cur, "手术项目未按规定折价收费"))
    ]
    _write(out, "primary_secondary_ops.csv", ["kp_id", "code", "item_name", "group"], rows)

    # the indication text lives once in knowledge_points.csv (constraint); the loader joins it
    rows = [[r["kp_id"], c] for r, c in _expand(_by_class(cur, "药品限适应症"))]
    _write(out, "indication_drugs.csv", ["kp_id", "code"], rows)

    rows = [
        [r["kp_id"], c, r["item_name"], "单方" if r["rule_class"] == "中药饮片单方使用不予支付" else "单复方"]
        for r, c in _expand(_by_class(cur, "中药饮片单方使用不予支付", "中药饮片单复方均不予支付"))
    ]
    _write(out, "tcm_herbs_not_paid.csv", ["kp_id", "code", "item_name", "not_paid_when"], rows)


def derive_catalog(two: Path, out: Path) -> None:
    """The 2025 edition's 88 rule classes (智能监管规则库 2025 版): seq, tiers, name, GZ code of framework 1.0."""
    data = json.loads((two / "rule_catalog_2025_88.json").read_text(encoding="utf-8"))
    rows = [
        [r["seq"], r["tier1"], r["tier2"], r["name"], int(bool(r.get("has_kp_detail"))), r.get("gz_code_1_0") or "",
         int(bool(r.get("new_in_2025")))]
        for r in sorted(data["rules"], key=lambda r: r["seq"])
    ]  # fmt: skip
    _write(out, "rule_catalog_2025.csv",
           ["seq", "tier1", "tier2", "name", "has_kp_detail", "gz_code_1_0", "new_in_2025"], rows)  # fmt: skip


def derive(shared: Path, out: Path) -> None:
    """Write every derived file of ``fundguard/kb/data`` (except SOURCES.md) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    two = shared / "two-libraries"
    cur = current_records(two)
    derive_codes(shared / "codes" / "chs_drg_11", out)
    derive_points(cur, out)
    derive_limits(cur, two / "batches-1-8", out)
    derive_catalog(two, out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=KB_DATA)
    args = ap.parse_args()
    shared = shared_data_dir()
    if shared is None:
        sys.exit("找不到共享数据 ../shared/data / shared data not found (set FUNDGUARD_SHARED_DATA)")
    derive(shared, args.out)
    for p in sorted(args.out.glob("*.csv")):
        print(f"{p.name:32s} {p.stat().st_size:>10,d} bytes")


if __name__ == "__main__":
    main()
