"""Helpers of the real-time audit API tests (the fixtures are in ``conftest``): a module of its own, since
test files cannot import one ``conftest`` by name when several test folders run together."""

from __future__ import annotations

from collections.abc import Callable

DISCLOSURE_RULES = ("L-CONCURRENT-VISIT", "L-DECEASED-CARD-USE")
"""Rules whose batch evidence names other institutions, visit ids or a death date."""


def hit_key(rule_id: str, sns: list, amount: object) -> tuple:
    return (rule_id, tuple(sorted(sns or [])), f"{float(amount):.2f}")


def institution(claim: dict) -> str:
    return claim["mdtrt_d"][0]["fixmedins_code"]


def headers(api_key: Callable[[str], str], claim: dict) -> dict[str, str]:
    return {"X-API-Key": api_key(institution(claim))}
