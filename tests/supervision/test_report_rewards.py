"""The reward rule of 医保办发〔2022〕22号 with the province's table as data: grade ratios, the insider bonus, the
grade's and the national floor, the national cap, whole yuan; a province's own file; bad files refused."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fundguard.core.errors import InputError
from fundguard.supervision.reports import compute_reward, load_reward_rules


@pytest.mark.parametrize(
    ("value", "grade", "insider", "amount"),
    [
        ("100000", 1, False, "3000"),  # 3 %
        ("100000", 2, False, "2000"),
        ("100000", 3, False, "1000"),
        ("100000", 1, True, "3600"),  # +20 % for insiders
        ("5000", 1, False, "400"),  # 150 → grade 1's own floor
        ("5000", 3, False, "200"),  # 50 → the national floor
        ("100000000", 1, True, "200000"),  # capped nationally
        ("22345.67", 2, False, "447"),  # 446.9134 → whole yuan, half up
    ],
)
def test_bundled_rule(value: str, grade: int, insider: bool, amount: str) -> None:
    r = compute_reward(Decimal(value), grade, load_reward_rules(), insider=insider)
    assert r.amount == Decimal(amount) and f"{Decimal(amount):,.0f} 元" in r.basis_zh


def test_a_provinces_file_and_refusals(tmp_path: Path) -> None:
    cq = tmp_path / "cq.yaml"  # 重庆 from 2025-08-08: 2 % / 3 %, floor ¥2,000 (regulation.md §7)
    cq.write_text('floor_cny: 2000\ncap_cny: 200000\ninsider_bonus: "0.25"\ngrades:\n  1: {ratio: "0.03"}\n'
                  '  2: {ratio: "0.02"}\n  3: {ratio: "0.02"}\n', encoding="utf-8")  # fmt: skip
    rules = load_reward_rules(cq)
    assert compute_reward(50000, 2, rules).amount == Decimal(2000)
    assert compute_reward(1_000_000, 1, rules).amount == Decimal(30000)
    with pytest.raises(InputError):
        compute_reward(0, 1, rules)  # no fund loss, no reward
    with pytest.raises(InputError):
        compute_reward(1000, 4, rules)
    for text in ("grades: 3", "grades:\n  5: {ratio: 0.1}", "floor_cny: 9\ncap_cny: 1\ngrades:\n  1: {ratio: 0.1}",
                 "grades:\n  1: {ratio: .nan}", "grades:\n  1: {ratio: -1}", ": :"):  # fmt: skip
        bad = tmp_path / "bad.yaml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(InputError):
            load_reward_rules(bad)
    with pytest.raises(InputError):
        load_reward_rules(tmp_path / "missing.yaml")
