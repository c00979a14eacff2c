"""``core.memo.BoundedMemo``: filled once per key, nothing kept for a key whose fill fails, bounded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundguard.core.memo import BoundedMemo


def test_fills_once_keeps_no_failure_and_stays_bounded() -> None:
    calls: list[str] = []

    def fill(text: str) -> Decimal:
        calls.append(text)
        return Decimal(text)  # raises on a bad text

    memo = BoundedMemo(fill, size=3)
    assert memo["1.50"] == Decimal("1.50") and memo["1.50"] == Decimal("1.50")
    assert calls == ["1.50"]
    for _ in range(2):  # a bad key fails every time and is never kept
        with pytest.raises(ArithmeticError):
            memo["12,3元"]
    assert "12,3元" not in memo and calls.count("12,3元") == 2
    for text in ("2", "3", "4"):
        memo[text]
    assert len(memo) <= 3 and memo["4"] == 4  # cleared when full, then refilled
    assert memo.remember("5", Decimal(5)) == 5 and len(memo) <= 3


def test_without_fill_a_miss_is_a_key_error() -> None:
    memo = BoundedMemo(size=2)
    with pytest.raises(KeyError):
        memo["x"]
    assert memo.get("x") is None and memo.remember("x", None) is None and "x" in memo
