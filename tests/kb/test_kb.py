"""The shipped knowledge base: loaders, counts, columns, and agreement with a fresh derivation."""

from __future__ import annotations

import filecmp
import importlib.util
import re
from pathlib import Path

import pytest

from fundguard import kb
from fundguard.core.shared import shared_data_dir
from fundguard.data.validate import DIAG_PATTERN
from fundguard.kb._files import DATA_DIR


def test_codes() -> None:
    icd = kb.codes.icd10()
    assert icd.columns == ["code", "name"] and icd.height > 33_000
    assert "A00.000" in set(icd["code"])
    assert kb.codes.icd9cm3().height > 13_000


def test_points_current_only() -> None:
    pts = kb.knowledge.points()
    assert pts.columns == [
        "kp_id",
        "rule_class",
        "gz_code",
        "batch",
        "item_name",
        "constraint",
        "detect_logic",
        "source",
    ]
    assert pts.height == 3502 and pts["kp_id"].n_unique() == pts.height
    assert pts["rule_class"].n_unique() == 21
    codes = kb.knowledge.point_codes()
    assert set(codes["kp_id"]) <= set(pts["kp_id"])


def test_limits_parameters() -> None:
    g = kb.limits.gender()
    assert set(g["allowed_gend"]) == {"1", "2"} and g.height > 6000
    assert kb.limits.age()["max_age"].max() == 60.0
    assert set(kb.limits.hospital_level()["min_level"]) <= {2.0, 3.0}
    assert set(kb.limits.insurance_type()["insurance"]) == {"工伤", "生育"}
    pairs = kb.limits.duplicate_pairs()
    assert pairs.height == 900 and pairs["main_code"].str.len_chars().min() == 15
    assert {"单日", "单次就诊"} <= set(pairs["frequency"])
    freq = kb.limits.frequency()
    assert freq.filter(freq["code"] == "001109000010000")["limit_qty"].item() == 1.0
    assert kb.limits.primary_secondary_ops()["group"].n_unique() == 7
    assert kb.limits.indication_drugs()["indication"].null_count() == 0
    assert set(kb.limits.tcm_herbs_not_paid()["not_paid_when"]) == {"单方", "单复方"}
    assert kb.limits.course_days()["max_days"].min() > 0
    assert kb.limits.visit_type().height > 700


def test_shipped_files_match_fresh_derivation(tmp_path: Path) -> None:
    shared = shared_data_dir()
    if shared is None:
        pytest.skip(
            "../shared/data 不存在 / shared reference data absent: cannot re-derive the knowledge base"
        )
    tool = Path(__file__).resolve().parents[2] / "tools" / "derive_kb.py"
    spec = importlib.util.spec_from_file_location("derive_kb", tool)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.derive(shared, tmp_path)
    names = sorted(p.name for p in tmp_path.glob("*.csv"))
    # The indication mapping is derived from these files by tools/derive_indications.py (its own test).
    from_indications = {"indication_icd10.csv", "indication_unmapped.csv", "indication_clauses.csv"}
    # The clinical tables are derived by tools/derive_clinical_kb.py (tests/kb/test_clinical.py).
    from_clinical = {"diagnosis_sex.csv", "diagnosis_age.csv", "operation_sex.csv", "operation_diagnosis.csv",
                     "drug_safety.csv"}  # fmt: skip
    assert set(names) == {p.name for p in DATA_DIR.glob("*.csv")} - from_indications - from_clinical
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, DATA_DIR, names, shallow=False)
    assert not mismatch and not errors, f"re-run tools/derive_kb.py: {mismatch}"


def test_every_shipped_diagnosis_code_passes_the_ingest_format_check() -> None:
    pattern = re.compile(DIAG_PATTERN.removeprefix("(?i)"), re.IGNORECASE)
    bad = [c for c in kb.codes.icd10()["code"].to_list() if not pattern.fullmatch(c)]
    assert bad == []
