"""Charging knowledge (class 30 and the stay caps): every row cites its source, overrides apply, bad files refused."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from fundguard.core.errors import InputError
from fundguard.kb import charging
from fundguard.rules.knowledge import KNOWLEDGE


@pytest.mark.parametrize("table", [charging.service_consumables, charging.stay_units])
def test_every_row_has_source_and_confidence(table) -> None:
    df = table()
    assert df.height >= 10
    assert (df["source"].str.len_chars() > 0).all()
    assert set(df["confidence"]) <= {"high", "medium", "low"}
    assert df["fact_id"].is_unique().all()


def test_units_and_the_bed_fact() -> None:
    units = charging.stay_units()
    assert set(units["unit"]) == {"日", "小时"}
    bed = units.filter(pl.col("cap_group") == "床位费").row(0, named=True)
    assert bed["unit"] == "日" and bed["confidence"] == "high" and "1109" in bed["source"]


def test_bureau_override_removes_and_adds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "service_consumables.csv").write_text(
        "action,reviewer,fact_id,service_name,consumable_name,window,note\n"
        "remove,张三,SC-01,,,,\n"
        "add,张三,SC-90,静脉采血,真空采血管,单日,本省项目内涵含采血管\n",
        encoding="utf-8",
    )
    base = charging.service_consumables()
    monkeypatch.setenv("FUNDGUARD_KB_OVERRIDES", str(tmp_path))
    got = charging.service_consumables()
    assert "SC-01" in set(base["fact_id"]) and "SC-01" not in set(got["fact_id"])
    added = got.filter(pl.col("fact_id") == "SC-90").row(0, named=True)
    assert added["confidence"] == "high" and added["source"] == "统筹地区复核"
    assert added["service_code_prefix"] == ""  # empty, not null: the rules compare it with ''
    # the rules' knowledge table reads the same override
    assert "SC-90" in set(KNOWLEDGE["kb_service_consumables"][0]()["fact_id"])


def test_bad_override_refused(tmp_path: Path) -> None:
    (tmp_path / "stay_units.csv").write_text(
        "action,reviewer,fact_id\nreplace,张三,SU-01\n", encoding="utf-8"
    )
    with pytest.raises(InputError):
        charging.stay_units(tmp_path)
