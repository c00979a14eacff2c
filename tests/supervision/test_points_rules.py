"""The points rules (医保发〔2024〕23号, regulation.md §8): bands and responsibility, one band up or down, the
natural-year window and cap, suspension at 9 with configured months, termination at 12 and the bars."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fundguard.core.errors import InputError
from fundguard.supervision import points as pts

R = pts.load_rules()
D = dt.date


def ev(decided: str, points: int, effective: str | None = None) -> pts.Event:
    return pts.Event(D.fromisoformat(decided), D.fromisoformat(effective or decided), points)


@pytest.mark.parametrize(
    ("band", "resp", "adj", "points"),
    [(1, "一般", "none", 1), (1, "主要", "none", 3), (2, "重要", "none", 5), (3, "主要", "none", 9),
     (4, "主要", "none", 12), (2, "一般", "mitigate", 1), (2, "主要", "aggravate", 9), (1, "一般", "mitigate", 1),
     (4, "一般", "aggravate", 10)],
)  # fmt: skip
def test_points_by_band_responsibility_and_facts(band: int, resp: str, adj: str, points: int) -> None:
    assert R.points(band, resp, adj) == points


def test_behaviour_band_and_bad_input() -> None:
    assert R.band_of("A40_3") == 4 and R.band_of("A38_2") == 2 and R.band_of("A41_1") is None
    with pytest.raises(InputError, match="责任程度"):
        R.points(1, "次要")


def test_below_nine_is_normal_and_nine_suspends_for_configured_months() -> None:
    events = [ev("2026-02-01", 5), ev("2026-03-01", 3)]
    assert pts.standing(events, D(2026, 3, 5), R).status == "normal"
    assert pts.standing(events, D(2026, 3, 5), R).year_points == 8
    events.append(ev("2026-04-10", 1, "2026-04-20"))
    assert pts.standing(events, D(2026, 4, 19), R).status == "normal"  # not yet in force
    s = pts.standing(events, D(2026, 4, 20), R)
    assert (s.status, s.since, s.until) == (
        "suspended",
        D(2026, 4, 20),
        D(2026, 5, 19),
    )  # cumulative 9: 1 month
    assert pts.standing(events, D(2026, 5, 20), R).status == "normal"


def test_single_nine_point_event_suspends_longer() -> None:
    s = pts.standing([ev("2026-02-01", 9)], D(2026, 3, 1), R)
    assert s.status == "suspended" and s.until == D(2026, 4, 30)  # single event 9: 3 months
    assert "单次" in s.reason_zh


def test_year_resets_on_first_of_january() -> None:
    events = [ev("2025-12-20", 8), ev("2026-01-05", 8)]
    s = pts.standing(events, D(2026, 1, 10), R)
    assert (s.status, s.year_points) == ("normal", 8)


def test_cap_and_cumulative_termination_bars_one_year() -> None:
    events = [ev("2026-01-10", 6), ev("2026-02-10", 6), ev("2026-03-10", 6)]
    s = pts.standing(events, D(2026, 3, 1), R)
    assert (s.status, s.year_points, s.bar_until) == ("terminated", 12, D(2027, 2, 10))
    assert pts.standing(events, D(2026, 3, 20), R).year_points == 12  # the annual cap
    assert pts.standing(events, D(2030, 1, 1), R).status == "terminated"  # until registered again


def test_single_twelve_bars_three_years_and_reregistration_clears() -> None:
    events = [ev("2026-01-10", 12)]
    s = pts.standing(events, D(2026, 1, 10), R)
    assert (s.status, s.bar_until) == ("terminated", D(2029, 1, 10))
    assert pts.standing(events, D(2029, 2, 1), R, registered_on=D(2029, 2, 1)).status == "normal"


def test_a_province_overrides_the_rules(tmp_path: Path) -> None:
    text = pts._DEFAULT.read_text(encoding="utf-8").replace("9: 3, 10: 4, 11: 6", "9: 6, 10: 6, 11: 6")
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    prov = pts.load_rules(tmp_path / "p.yaml")
    assert pts.standing([ev("2026-02-01", 9)], D(2026, 7, 1), prov).status == "suspended"
    (tmp_path / "bad.yaml").write_text("bands: 3\n", encoding="utf-8")
    with pytest.raises(InputError, match="记分规则文件"):
        pts.load_rules(tmp_path / "bad.yaml")
