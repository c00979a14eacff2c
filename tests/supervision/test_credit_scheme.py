"""The credit scheme: deductions with caps, grade floors, the blacklist's lowest grade, a province's scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundguard.core.errors import InputError
from fundguard.supervision import credit as cr

S = cr.load_scheme()


def test_grades_from_deductions_with_reasons() -> None:
    assert cr.grade(S, "institution", {}).grade == "A"
    g = cr.grade(S, "institution", {"case_article_38": 1, "clue_confirmed": 30})
    assert (g.score, g.grade, g.grade_zh) == (75, "B", "良好")  # 100 − 15 − min(30, 10)
    assert [r["item"] for r in g.reasons] == ["case_article_38", "clue_confirmed"]
    assert cr.grade(S, "staff", {"points": 9, "suspended": 1}).grade == "D"  # 100 − 27 − 20 = 53


def test_blacklist_takes_the_lowest_grade_directly() -> None:
    g = cr.grade(S, "institution", {"case_article_40": 1})
    assert g.grade == "D" and g.blacklisted and g.entry_items == ["case_article_40"]
    assert g.reasons[0]["item"] == "blacklist"
    assert cr.grade(S, "insured", {}, blacklisted=True).grade == "D"


def test_a_province_scheme_and_bad_files(tmp_path: Path) -> None:
    text = S and cr._DEFAULT.read_text(encoding="utf-8")
    five = text.replace("  - {grade: D, name_zh: 差, floor: 0}", "  - {grade: D, name_zh: 差, floor: 40}\n"
                        "  - {grade: E, name_zh: 严重失信, floor: 0}").replace("blacklist_grade: D", "blacklist_grade: E")  # fmt: skip
    (tmp_path / "gd.yaml").write_text(five, encoding="utf-8")
    gd = cr.load_scheme(tmp_path / "gd.yaml")
    assert cr.grade(gd, "institution", {"case_article_40": 1}).grade == "E"
    (tmp_path / "bad.yaml").write_text(
        five.replace("blacklist_grade: E", "blacklist_grade: Z"), encoding="utf-8"
    )
    with pytest.raises(InputError, match="失信名单等级"):
        cr.load_scheme(tmp_path / "bad.yaml")
    with pytest.raises(InputError, match="信用评价对象"):
        cr.grade(S, "hospital", {})
