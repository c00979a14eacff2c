"""The clinical knowledge tables (classes 39, 40, 54, 55, 66, 71–75, 87): derived from cited authorities,
each row with its source and confidence, and correctable by a bureau's override file."""

from __future__ import annotations

import filecmp
import importlib.util
from pathlib import Path

import polars as pl
import pytest

from fundguard.core.errors import InputError
from fundguard.core.shared import shared_data_dir
from fundguard.kb import clinical
from fundguard.kb._files import DATA_DIR

TOOL = Path(__file__).resolve().parents[2] / "tools" / "derive_clinical_kb.py"
FILES = [f"{n}.csv" for n in clinical.TABLES]


def _tool():
    spec = importlib.util.spec_from_file_location("derive_clinical_kb", TOOL)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_shipped_files_match_fresh_derivation(tmp_path: Path) -> None:
    shared = shared_data_dir()
    if shared is None:
        pytest.skip("../shared/data 不存在 / shared reference data absent: cannot re-derive")
    _tool().derive(shared, tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == sorted(FILES)
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, DATA_DIR, FILES, shallow=False)
    assert not mismatch and not errors, f"re-run tools/derive_clinical_kb.py: {mismatch}"


def test_a_prefix_covering_no_code_fails_the_derivation(tmp_path: Path) -> None:
    shared = shared_data_dir()
    if shared is None:
        pytest.skip("../shared/data absent")
    mod = _tool()
    facts = tmp_path / "facts.yaml"
    text = mod.FACTS.read_text(encoding="utf-8").replace("prefixes: [E29]", "prefixes: [E2Q9]")
    facts.write_text(text, encoding="utf-8")
    mod.FACTS = facts
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match="E2Q9"):
        mod.derive(shared, tmp_path / "out")


def test_every_row_cites_a_source_and_a_confidence() -> None:
    for name in clinical.TABLES:
        df = clinical.table(name)
        assert df.height > 0, name
        assert df["source"].null_count() == 0 and df["kp_id"].null_count() == 0, name
        assert set(df["confidence"]) <= {"high", "medium"}, name


def test_settled_facts_are_there() -> None:
    sex = clinical.diagnosis_sex()
    by = dict(zip(sex["prefix"], sex["allowed_gend"], strict=True))
    assert by["N40"] == by["N45"] == by["C61"] == "1"  # prostate, male genital organs
    assert by["O80"] == by["N80"] == by["C53"] == "2"  # delivery, endometriosis, cervix
    ops = clinical.operation_sex()
    assert set(ops.filter(pl.col("allowed_gend") == "1")["prefix"]) == {"60", "61", "62", "63", "64"}
    assert {"68", "74"} <= set(ops.filter(pl.col("allowed_gend") == "2")["prefix"])
    drugs = clinical.drug_safety()
    quin = drugs.filter((pl.col("code_prefix") == "XJ01MA") & (pl.col("kind") == "age"))
    assert quin["max_age"].to_list() == [18.0]
    herbs = drugs.filter(pl.col("rule_class") == "中药饮片配伍禁忌")
    assert {"甘遂", "海藻", "五灵脂"} <= set(herbs["partner_name_contains"])


def test_bureau_override_removes_and_adds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "drug_safety.csv").write_text(
        "action,reviewer,kp_id,rule_class,kind,group_zh,code_prefix,name_contains,max_age,fact_zh\n"
        "remove,张三,LK-66-05,,,,,,,\n"
        "add,张三,LK-66-90,药品儿童禁用,age,本地：某药,X,某某片,6,6岁以下禁用（本地复核）\n",
        encoding="utf-8",
    )
    base = clinical.drug_safety()
    monkeypatch.setenv("FUNDGUARD_KB_OVERRIDES", str(tmp_path))
    got = clinical.drug_safety()
    assert "LK-66-05" in set(base["kp_id"]) and "LK-66-05" not in set(got["kp_id"])
    added = got.filter(pl.col("kp_id") == "LK-66-90").to_dicts()
    assert added[0]["max_age"] == 6.0 and added[0]["source"] == "统筹地区复核"
    assert got.height == base.height - base.filter(pl.col("kp_id") == "LK-66-05").height + 1


@pytest.mark.parametrize(
    "body",
    [
        "action,reviewer,kp_id\ndelete,张三,LK-66-01\n",  # unknown action
        "action,reviewer,kp_id\nremove,,LK-66-01\n",  # no reviewer
        "action,reviewer,dose\nremove,张三,1\n",  # unknown column
    ],
)
def test_bad_override_refused(tmp_path: Path, body: str) -> None:
    (tmp_path / "drug_safety.csv").write_text(body, encoding="utf-8")
    with pytest.raises(InputError):
        clinical.table("drug_safety", tmp_path)
