"""Time limits: calendar and working days with holidays and 调休, extensions, pauses, warnings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fundguard.core.errors import InputError
from fundguard.supervision.deadlines import (
    DUE_SOON,
    ON_TRACK,
    OVERDUE,
    Extension,
    add_period,
    days_left,
    describe,
    due,
    is_overdue,
    load_time_limits,
    warning,
    working_days_left,
)

LIMITS = load_time_limits()


def test_every_regulation_limit_is_configured() -> None:
    expected = {
        "case_decision": (90, "calendar_day"),
        "hearing_request": (5, "working_day"),
        "hearing_notice": (7, "working_day"),
        "service": (7, "working_day"),
        "evidence_preservation": (7, "working_day"),
        "fine_payment": (15, "calendar_day"),
        "referral_head_decision": (3, "calendar_day"),
        "referral_transfer": (24, "hour"),
        "police_review": (3, "calendar_day"),
        "limitation": (2, "year"),
        "limitation_serious": (5, "year"),
        "admin_reconsideration": (60, "calendar_day"),
        "admin_litigation": (6, "month"),
        "reporter_notice": (5, "working_day"),
    }
    for key, (amount, unit) in expected.items():
        step = LIMITS.step(key)
        assert (step.amount, step.unit) == (amount, unit), key
        assert step.source and step.confidence in {"H", "M", "L"}
    for zh in ["初审", "复审", "申诉", "调查核实", "处理", "陈述申辩"]:
        assert LIMITS.step(zh).unit == "working_day"
    assert LIMITS.step("hearing_notice").direction == "before"


def test_case_clock_90_days_and_extensions() -> None:
    opened = date(2026, 9, 15)
    assert due(opened, "case_decision") == date(2026, 12, 14)
    assert due(opened, "case_decision", extensions=[Extension(30)]) == date(2027, 1, 13)
    # A second extension needs collective discussion.
    with pytest.raises(InputError, match="集体讨论"):
        due(opened, "case_decision", extensions=[Extension(30), Extension(30)])
    two = due(opened, "case_decision", extensions=[Extension(30), Extension(20, approved_by="collective")])
    assert two == date(2027, 2, 2)
    with pytest.raises(InputError, match="不得超过30日"):
        due(opened, "case_decision", extensions=[Extension(31)])
    with pytest.raises(InputError, match="不得延长"):
        due(opened, "hearing_request", extensions=[Extension(1)])
    with pytest.raises(InputError, match="审批方式"):
        due(opened, "case_decision", extensions=[Extension(10, approved_by="clerk")])
    # Paused days (中止) push the clock; 2026-12-14 + 5 = 12-19 (Sat) → Monday 12-21.
    assert due(opened, "case_decision", paused_days=5) == date(2026, 12, 21)


def test_working_days_skip_weekends_holidays_and_count_adjusted_workdays() -> None:
    # 2026-09-29 (Tue) + 5 working days: 9-30, [10-01..07 holiday], 10-08, 10-09, 10-10 (调休 Sat), 10-12.
    assert due(date(2026, 9, 29), "hearing_request") == date(2026, 10, 12)
    assert due(date(2026, 9, 29), "申请听证") == date(2026, 10, 12)
    # The hearing notice goes out 7 working days before the hearing.
    assert due(date(2026, 10, 20), "hearing_notice") == date(2026, 10, 10)
    # A plain week: Monday + 5 working days = next Monday.
    assert add_period(date(2026, 11, 2), 5, "working_day", LIMITS) == date(2026, 11, 9)
    assert working_days_left(date(2026, 11, 9), date(2026, 11, 2), LIMITS) == 5
    assert working_days_left(date(2026, 11, 2), date(2026, 11, 9), LIMITS) == -5


def test_calendar_periods_roll_forward_off_holidays(tmp_path: Path) -> None:
    # 15 days from 2026-09-16 is 10-01 (National Day) → first working day 10-08.
    assert due(date(2026, 9, 16), "fine_payment") == date(2026, 10, 8)
    # Months clamp to month end: 2026-08-31 + 6 months = 2027-02-28 (Sunday) → 03-01.
    assert due(date(2026, 8, 31), "admin_litigation") == date(2027, 3, 1)
    assert due(date(2026, 3, 10), "limitation") == date(2028, 3, 10)
    # Hours are not rolled: approval Friday → transfer by Saturday.
    assert due(date(2026, 11, 6), "referral_transfer") == date(2026, 11, 7)
    text = Path(LIMITS.path).read_text(encoding="utf-8")
    no_roll = tmp_path / "no_roll.yaml"
    no_roll.write_text(
        text.replace("roll_forward_on_holiday: true", "roll_forward_on_holiday: false"), "utf-8"
    )
    off = load_time_limits(no_roll)
    assert due(date(2026, 9, 16), "fine_payment", off) == date(2026, 10, 1)


def test_warnings() -> None:
    d = date(2026, 12, 14)
    assert warning(d, date(2026, 12, 1)) == ON_TRACK
    assert warning(d, date(2026, 12, 11)) == DUE_SOON
    assert warning(d, date(2026, 12, 14)) == DUE_SOON and not is_overdue(d, date(2026, 12, 14))
    assert warning(d, date(2026, 12, 15)) == OVERDUE and is_overdue(d, date(2026, 12, 15))
    assert days_left(d, date(2026, 12, 15)) == -1
    assert describe("hearing_request").startswith("申请听证：5个工作日内")


def test_bad_config_and_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="未配置时限"):
        due(date(2026, 1, 5), "no_such_step")
    for body, message in [
        ("steps: {}\n", "steps"),
        ("steps:\n  a: {amount: 0, unit: calendar_day}\n", "正整数"),
        ("steps:\n  a: {amount: 3, unit: fortnight}\n", "单位无效"),
        ("steps:\n  a: {amount: 3, unit: calendar_day, direction: sideways}\n", "direction"),
        ("calendar: {holidays: [2026-13-01]}\nsteps:\n  a: {amount: 3, unit: calendar_day}\n", "无法读取"),
    ]:
        path = tmp_path / "t.yaml"
        path.write_text(body, encoding="utf-8")
        with pytest.raises(InputError, match=message):
            load_time_limits(path)
    custom = tmp_path / "c.yaml"
    custom.write_text(
        "warning_days: 0\ncalendar: {holidays: [{from: 2026-11-02, to: 2026-11-03}]}\n"
        "steps:\n  flag_appeal: {zh: 申诉, amount: 2, unit: working_day}\n",
        encoding="utf-8",
    )
    lim = load_time_limits(custom)
    assert due(date(2026, 10, 30), "申诉", lim) == date(2026, 11, 5)  # Fri → skip weekend + 2 holidays
    assert warning(date(2026, 11, 5), date(2026, 11, 4), lim) == ON_TRACK


def test_holiday_coverage_is_visible() -> None:
    assert LIMITS.covers(date(2026, 5, 1)) and LIMITS.covers(date(2025, 10, 8))
    assert not LIMITS.covers(date(2031, 1, 1))
    assert not LIMITS.is_working_day(date(2026, 2, 23)) and LIMITS.is_working_day(date(2026, 2, 28))


def test_workflow_steps_all_have_time_limits() -> None:
    # The service's state machines name their step limits; each must resolve in the shipped configuration.
    from fundguard.supervision import workflow

    for machine in workflow.MACHINES.values():
        for state, step in machine.steps.items():
            assert LIMITS.step(step).amount > 0, (machine.name, state, step)


def test_environment_names_the_limits_in_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fundguard.supervision.deadlines import default_limits

    custom = tmp_path / "local.yaml"
    custom.write_text("steps:\n  flag_appeal: {zh: 申诉, amount: 20, unit: calendar_day}\n", encoding="utf-8")
    monkeypatch.setenv("FUNDGUARD_TIME_LIMITS", str(custom))
    assert default_limits().step("申诉").amount == 20
    assert due(date(2026, 11, 2), "申诉") == date(2026, 11, 23)
    monkeypatch.delenv("FUNDGUARD_TIME_LIMITS")
    assert default_limits().step("申诉").amount == 10
