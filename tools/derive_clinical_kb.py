"""Derive the clinical knowledge tables (rule classes 39, 40, 54, 55, 66, 71–75) shipped in ``fundguard/kb/data``.

Reads the curated facts ``fundguard/kb/data/clinical_facts.yaml`` (each group citing its authority and a
confidence) and the ICD-10 / ICD-9-CM-3 医保版 code lists of OpenDRG/DRG_Python in ``../shared/data/codes``
(Apache-2.0): a range ``N40-N51`` becomes every 3-character category of the 医保版 table between its ends, and
every prefix must cover at least one 医保版 code (a typo fails the derivation instead of shipping a dead row).
Writes ``diagnosis_sex.csv``, ``diagnosis_age.csv``, ``operation_sex.csv``, ``operation_diagnosis.csv`` and
``drug_safety.csv`` (deterministic, sorted; columns in ``data/SOURCES.md``).

Usage: ``uv run python tools/derive_clinical_kb.py [--out DIR]``; ``derive(shared, out)`` is also used by the test
that checks the shipped files still match a fresh derivation.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fundguard.core.shared import shared_data_dir  # noqa: E402

KB_DATA = REPO / "fundguard" / "kb" / "data"
FACTS = KB_DATA / "clinical_facts.yaml"

CLASS_NAMES = {
    39: "手术操作编码与性别不符",
    40: "诊断编码与手术操作编码不符",
    54: "诊断与患者性别不符",
    55: "诊断与患者年龄不符",
    66: "药品儿童禁用",
    71: "药品禁忌症",
    72: "老年人用药安全",
    73: "妊娠期及哺乳期用药安全",
    74: "药品相互作用",
    75: "中药饮片配伍禁忌",
    87: "医用耗材与性别不符",
}
KIND = {66: "age", 72: "age", 71: "diagnosis", 73: "diagnosis", 74: "pair", 75: "pair", 87: "sex"}


def norm(code: str) -> str:
    """A code as the rules compare it: trimmed, dots dropped, upper case."""
    return code.strip().replace(".", "").upper()


def _codes(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(norm(line.split(" ", 1)[0]))
    return sorted(set(out))


def expand(spec: str, codes: list[str], width: int) -> list[str]:
    """``A00-A09`` → the ``width``-character categories of ``codes`` between the ends; else the prefix."""
    if "-" in spec:
        lo, hi = (norm(s) for s in spec.split("-"))
        return sorted({c[:width] for c in codes if lo <= c[:width] <= hi})
    return [norm(spec)]


def covered(prefix: str, codes: list[str]) -> int:
    return sum(1 for c in codes if c.startswith(prefix))


def _write(out: Path, name: str, header: list[str], rows: list[list[object]]) -> None:
    rows = sorted(rows, key=lambda r: [str(x) for x in r])
    with (out / name).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(["" if x is None else x for x in r] for r in rows)


def _num(v: object) -> str:
    return "" if v is None else str(float(v))


def derive(shared: Path, out: Path) -> None:
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    icd10 = _codes(shared / "codes" / "chs_drg_11" / "ICD" / "ZD_INFO.dat")
    icd9 = _codes(shared / "codes" / "chs_drg_11" / "ICD" / "SS_INFO.dat")
    errors: list[str] = []

    def prefixes(specs: list[str], codes: list[str], width: int, where: str) -> list[tuple[str, int]]:
        out_ = []
        for s in specs:
            got = expand(str(s), codes, width)
            if not got:
                errors.append(f"{where}: range {s} covers no code")
            for p in got:
                n = covered(p, codes)
                if not n:
                    errors.append(f"{where}: prefix {p} covers no 医保版 code")
                out_.append((p, n))
        return out_

    def sex_rows(key: str, seq: int, codes: list[str], width: int) -> list[list[object]]:
        rows = []
        for i, g in enumerate(facts[key], 1):
            kp = f"LK-{seq}-{i:02d}"
            for p, n in prefixes(g["prefixes"], codes, width, kp):
                rows.append(
                    [kp, CLASS_NAMES[seq], g["group"], p, g["allowed_gend"], n, g["source"], g["confidence"]]
                )
        return rows

    head = [
        "kp_id",
        "rule_class",
        "group_zh",
        "prefix",
        "allowed_gend",
        "codes_covered",
        "source",
        "confidence",
    ]
    _write(out, "diagnosis_sex.csv", head, sex_rows("diagnosis_sex", 54, icd10, 3))
    _write(out, "operation_sex.csv", head, sex_rows("operation_sex", 39, icd9, 2))

    rows = []
    for i, g in enumerate(facts["diagnosis_age"], 1):
        kp = f"LK-55-{i:02d}"
        for p, n in prefixes(g["prefixes"], icd10, 3, kp):
            rows.append([kp, CLASS_NAMES[55], g["group"], p, _num(g.get("min_age")), _num(g.get("max_age")), n,
                         g.get("note", ""), g["source"], g["confidence"]])  # fmt: skip
    _write(out, "diagnosis_age.csv", ["kp_id", "rule_class", "group_zh", "prefix", "min_age", "max_age",
                                      "codes_covered", "note", "source", "confidence"], rows)  # fmt: skip

    rows = []
    for i, g in enumerate(facts["operation_diagnosis"], 1):
        kp = f"LK-40-{i:02d}"
        ops = prefixes(g["oprn_prefixes"], icd9, 2, kp)
        dxs = prefixes(g["diag_prefixes"], icd10, 3, kp)
        for op, _ in ops:
            for dx, _ in dxs:
                rows.append([kp, CLASS_NAMES[40], g["group"], op, dx, g["source"], g["confidence"]])
    _write(out, "operation_diagnosis.csv",
           ["kp_id", "rule_class", "group_zh", "oprn_prefix", "diag_prefix", "source", "confidence"], rows)  # fmt: skip

    rows = []
    count: dict[int, int] = {}
    for g in facts["drug_safety"]:
        seq = int(g["class"])
        count[seq] = count.get(seq, 0) + 1
        kp = f"LK-{seq}-{count[seq]:02d}"
        kind = KIND[seq]
        excl = "|".join(g.get("name_excludes") or [])
        names = g.get("names") or [g.get("name_contains") or ""]
        dxs = [p for p, _ in prefixes(g["diag_prefixes"], icd10, 3, kp)] if kind == "diagnosis" else [""]
        partners = g.get("partners") or [{}]
        if kind == "pair" and not g.get("partners"):
            errors.append(f"{kp}: a pair needs partners")
        if kind == "age" and g.get("min_age") is None and g.get("max_age") is None:
            errors.append(f"{kp}: an age fact needs min_age or max_age")
        if kind == "sex" and g.get("allowed_gend") not in ("1", "2"):
            errors.append(f"{kp}: a sex fact needs allowed_gend 1 or 2")
        for name in names:
            for dx in dxs:
                for pt in partners:
                    rows.append([kp, CLASS_NAMES[seq], kind, g["group"], g["code_prefix"], name, excl,
                                 _num(g.get("min_age")), _num(g.get("max_age")), g.get("allowed_gend", ""), dx,
                                 pt.get("code_prefix", ""),
                                 pt.get("name_contains", ""), g["fact"], g["source"], g["confidence"]])  # fmt: skip
    _write(out, "drug_safety.csv",
           ["kp_id", "rule_class", "kind", "group_zh", "code_prefix", "name_contains", "name_excludes", "min_age",
            "max_age", "allowed_gend", "diag_prefix", "partner_code_prefix", "partner_name_contains", "fact_zh", "source",
            "confidence"], rows)  # fmt: skip
    if errors:
        raise ValueError("clinical facts invalid: " + "; ".join(errors))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=KB_DATA)
    args = ap.parse_args()
    shared = shared_data_dir()
    if shared is None:
        sys.exit("../shared/data not found (set FUNDGUARD_SHARED_DATA)")
    derive(shared, args.out)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
