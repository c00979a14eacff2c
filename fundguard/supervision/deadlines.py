"""Time limits: due dates, extensions, working days and overdue warnings for supervision steps.

Owns the arithmetic of every time limit in regulation.md (flag flow, the penalty procedure's 90-day clock and
its extensions, 陈述申辩, 听证, 送达, payment, remedies, referral to police, reports) as configuration
(``data/time_limits.yaml``, override by path): each step has an amount, a unit (calendar or working days,
hours, months, years), a direction (after a start, or before an anchor such as the hearing date), the
source and its confidence. A holiday list and 调休 working weekends decide working days. Pure Python.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from fundguard.core.errors import InputError
from fundguard.core.settings import settings

DEFAULT_TIME_LIMITS = Path(__file__).parent / "data" / "time_limits.yaml"
UNITS: dict[str, str] = {
    "calendar_day": "日",
    "working_day": "个工作日",
    "hour": "小时",
    "month": "个月",
    "year": "年",
}
OVERDUE, DUE_SOON, ON_TRACK = "已逾期", "即将到期", "正常"
APPROVERS: dict[str, str] = {"head": "负责人批准", "collective": "集体讨论决定"}


@dataclass(frozen=True)
class ExtensionRule:
    """How far one approved extension may go and who approves it."""

    amount: int
    unit: str
    approval_zh: str = "负责人批准"
    further_approval_zh: str = ""  # empty: no extension beyond max_by_head
    max_by_head: int = 1


@dataclass(frozen=True)
class StepLimit:
    """One configured time limit."""

    key: str
    zh: str
    amount: int
    unit: str
    direction: str = "after"
    source: str = ""
    confidence: str = ""
    extension: ExtensionRule | None = None

    @property
    def text_zh(self) -> str:
        """e.g. '5个工作日', '90日', '6个月'."""
        return f"{self.amount}{UNITS[self.unit]}"


@dataclass(frozen=True)
class Extension:
    """A recorded extension: its length (in the step's extension unit) and who approved it."""

    amount: int
    approved_by: str = "head"  # 'head' (负责人) or 'collective' (集体讨论)
    reason: str = ""


@dataclass(frozen=True)
class TimeLimits:
    """The loaded configuration."""

    steps: Mapping[str, StepLimit]
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    warning_days: int = 3
    roll_forward_on_holiday: bool = True
    path: str = ""
    _by_zh: Mapping[str, str] = field(default_factory=dict, repr=False)

    def step(self, name: str) -> StepLimit:
        """A step by key ('case_decision') or Chinese name ('作出处罚决定')."""
        key = name if name in self.steps else self._by_zh.get(name)
        if key is None:
            raise InputError(f"未配置时限的环节：{name}", f"no time limit configured for step: {name}")
        return self.steps[key]

    def covers(self, day: date) -> bool:
        """Whether the holiday list includes ``day``'s year; outside it working days skip weekends only."""
        return any(h.year == day.year for h in self.holidays)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(
            f"时限配置 {where} 日期无效：{value}", f"time limits {where}: invalid date {value}"
        ) from exc


def _dates(items: Iterable[Any], where: str) -> frozenset[date]:
    out: set[date] = set()
    for item in items or ():
        if isinstance(item, dict):
            start, end = _as_date(item.get("from"), where), _as_date(item.get("to"), where)
            if end < start:
                raise InputError(
                    f"时限配置 {where} 区间颠倒：{item}", f"time limits {where}: range reversed {item}"
                )
            out.update(start + timedelta(days=i) for i in range((end - start).days + 1))
        else:
            out.add(_as_date(item, where))
    return frozenset(out)


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(
            f"时限配置 {where} 须为正整数：{value!r}", f"time limits {where} must be a positive integer"
        )
    return value


def _unit(value: Any, where: str) -> str:
    if value not in UNITS:
        raise InputError(
            f"时限配置 {where} 单位无效：{value}（可选：{'、'.join(UNITS)}）",
            f"time limits {where}: invalid unit {value} (known: {', '.join(UNITS)})",
        )
    return str(value)


def load_time_limits(path: str | Path | None = None) -> TimeLimits:
    """Load and validate a time-limit YAML (the shipped default when ``path`` is None)."""
    src = Path(path) if path is not None else DEFAULT_TIME_LIMITS
    try:
        raw = yaml.safe_load(src.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(f"无法读取时限配置 {src}：{exc}", f"cannot read time limits {src}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), dict) or not raw["steps"]:
        raise InputError(f"时限配置缺少 steps：{src}", f"time limits have no steps: {src}")
    steps: dict[str, StepLimit] = {}
    by_zh: dict[str, str] = {}
    for key, spec in raw["steps"].items():
        key = str(key)
        if not isinstance(spec, dict):
            raise InputError(f"时限配置 {key} 格式错误", f"time limits {key} is not a mapping")
        direction = str(spec.get("direction", "after"))
        if direction not in ("after", "before"):
            raise InputError(
                f"时限配置 {key} direction 无效：{direction}", f"time limits {key}: bad direction"
            )
        ext = spec.get("extension")
        rule = None
        if ext:
            rule = ExtensionRule(
                amount=_positive_int(ext.get("amount"), f"{key}.extension.amount"),
                unit=_unit(ext.get("unit", spec.get("unit")), f"{key}.extension.unit"),
                approval_zh=str(ext.get("approval_zh", "负责人批准")),
                further_approval_zh=str(ext.get("further_approval_zh", "")),
                max_by_head=_positive_int(ext.get("max_by_head", 1), f"{key}.extension.max_by_head"),
            )
        step = StepLimit(
            key=key,
            zh=str(spec.get("zh") or key),
            amount=_positive_int(spec.get("amount"), f"{key}.amount"),
            unit=_unit(spec.get("unit"), f"{key}.unit"),
            direction=direction,
            source=str(spec.get("source", "")),
            confidence=str(spec.get("confidence", "")),
            extension=rule,
        )
        steps[key] = step
        by_zh.setdefault(step.zh, key)
    cal = raw.get("calendar") or {}
    warning_days = raw.get("warning_days", 3)
    if isinstance(warning_days, bool) or not isinstance(warning_days, int) or warning_days < 0:
        raise InputError(
            "时限配置 warning_days 须为非负整数", "time limits warning_days must be a non-negative integer"
        )
    return TimeLimits(
        steps=steps,
        holidays=_dates(cal.get("holidays"), "holidays"),
        workdays=_dates(cal.get("workdays"), "workdays"),
        warning_days=warning_days,
        roll_forward_on_holiday=bool(cal.get("roll_forward_on_holiday", True)),
        path=str(src),
        _by_zh=by_zh,
    )


_LOADED: dict[str, TimeLimits] = {}


def default_limits() -> TimeLimits:
    """The limits in force: the file named by ``FUNDGUARD_TIME_LIMITS`` if set, else the shipped default;
    loaded once per path."""
    path = settings().time_limits or str(DEFAULT_TIME_LIMITS)
    if path not in _LOADED:
        _LOADED[path] = load_time_limits(path)
    return _LOADED[path]


def _add_months(start: date, months: int) -> date:
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    return date(year, month, min(start.day, _calendar.monthrange(year, month)[1]))


def _next_working_day(day: date, limits: TimeLimits, step: int = 1) -> date:
    while not limits.is_working_day(day):
        day += timedelta(days=step)
    return day


def add_period(
    start: date, amount: int, unit: str, limits: TimeLimits | None = None, *, sign: int = 1
) -> date:
    """``start`` moved by ``amount`` units; the start day itself is not counted. Working days skip weekends
    and holidays (调休 weekends count); with ``roll_forward_on_holiday`` a calendar period ending on a
    non-working day ends on the next working day (going forward) or the previous one (going back)."""
    lim = limits or default_limits()
    _unit(unit, "unit")
    if amount < 0:
        raise InputError(f"期限不能为负：{amount}", f"a period cannot be negative: {amount}")
    if unit == "working_day":
        day, left = start, amount
        while left > 0:
            day += timedelta(days=sign)
            if lim.is_working_day(day):
                left -= 1
        return day
    if unit == "calendar_day":
        end = start + timedelta(days=sign * amount)
    elif unit == "hour":
        end = start + timedelta(days=sign * -(-amount // 24))
    elif unit == "month":
        end = _add_months(start, sign * amount)
    else:
        end = _add_months(start, sign * 12 * amount)
    if lim.roll_forward_on_holiday and unit != "hour":  # hours run around the clock
        end = _next_working_day(end, lim, sign)
    return end


def check_extensions(step: str, extensions: Sequence[Extension], limits: TimeLimits | None = None) -> None:
    """Refuse extensions the configuration does not allow: none for the step, longer than one extension
    may be, or beyond the head's count without collective approval."""
    lim = limits or default_limits()
    st = lim.step(step)
    if not extensions:
        return
    rule = st.extension
    if rule is None:
        raise InputError(f"“{st.zh}”时限不得延长", f"the time limit of '{st.key}' cannot be extended")
    for i, ext in enumerate(extensions, start=1):
        if ext.approved_by not in APPROVERS:
            raise InputError(
                f"延期审批方式无效：{ext.approved_by}（可选：head 负责人、collective 集体讨论）",
                f"invalid extension approver: {ext.approved_by} (head or collective)",
            )
        if ext.amount <= 0 or ext.amount > rule.amount:
            raise InputError(
                f"“{st.zh}”每次延期不得超过{rule.amount}{UNITS[rule.unit]}（第{i}次申请{ext.amount}）",
                f"'{st.key}': one extension may not exceed {rule.amount} {rule.unit} (extension {i}: {ext.amount})",
            )
        if i > rule.max_by_head:
            if not rule.further_approval_zh:
                raise InputError(
                    f"“{st.zh}”最多延期{rule.max_by_head}次",
                    f"'{st.key}' may be extended at most {rule.max_by_head}x",
                )
            if ext.approved_by != "collective":
                raise InputError(
                    f"“{st.zh}”第{i}次延期须经{rule.further_approval_zh}",
                    f"'{st.key}': extension {i} needs collective approval",
                )


def due(
    start: date,
    step: str,
    limits: TimeLimits | None = None,
    *,
    extensions: Sequence[Extension] = (),
    paused_days: int = 0,
) -> date:
    """The due date of ``step`` counted from ``start`` (or, for 'before' steps such as the hearing notice,
    the latest date counted back from the anchor ``start``), plus validated extensions and calendar days
    the clock was paused (e.g. 中止)."""
    lim = limits or default_limits()
    st = lim.step(step)
    if paused_days < 0:
        raise InputError(f"暂停天数不能为负：{paused_days}", f"paused days cannot be negative: {paused_days}")
    check_extensions(st.key, extensions, lim)
    sign = -1 if st.direction == "before" else 1
    if extensions or paused_days:
        # Extensions and pauses count from the original end, not the rolled-forward one.
        base = _raw_end(start, st, lim, sign)
        if paused_days:
            base += timedelta(days=paused_days)
        for ext in extensions:
            unit = st.extension.unit if st.extension is not None else st.unit
            base = add_period(base, ext.amount, unit, _no_roll(lim), sign=sign)
        return _next_working_day(base, lim, sign) if lim.roll_forward_on_holiday else base
    return add_period(start, st.amount, st.unit, lim, sign=sign)


def _no_roll(lim: TimeLimits) -> TimeLimits:
    return replace(lim, roll_forward_on_holiday=False)


def _raw_end(start: date, st: StepLimit, lim: TimeLimits, sign: int) -> date:
    return add_period(start, st.amount, st.unit, _no_roll(lim), sign=sign)


def days_left(due_date: date, today: date) -> int:
    """Calendar days from ``today`` to ``due_date`` (negative once overdue)."""
    return (due_date - today).days


def working_days_left(due_date: date, today: date, limits: TimeLimits | None = None) -> int:
    """Working days after ``today`` up to and including ``due_date`` (negative count once overdue)."""
    lim = limits or default_limits()
    lo, hi, sign = (today, due_date, 1) if due_date >= today else (due_date, today, -1)
    count = sum(1 for i in range(1, (hi - lo).days + 1) if lim.is_working_day(lo + timedelta(days=i)))
    return sign * count


def is_overdue(due_date: date, today: date) -> bool:
    """Overdue once the due day has passed (the due day itself still counts)."""
    return today > due_date


def warning(due_date: date, today: date, limits: TimeLimits | None = None) -> str:
    """'已逾期', '即将到期' (within ``warning_days``) or '正常'."""
    lim = limits or default_limits()
    if is_overdue(due_date, today):
        return OVERDUE
    if days_left(due_date, today) <= lim.warning_days:
        return DUE_SOON
    return ON_TRACK


def describe(step: str, limits: TimeLimits | None = None) -> str:
    """A Chinese sentence for documents and the UI, e.g. '申请听证：5个工作日（《行政处罚法》第六十四条…）'."""
    st = (limits or default_limits()).step(step)
    lead = "前" if st.direction == "before" else "内"
    return f"{st.zh}：{st.text_zh}{lead}（{st.source}）" if st.source else f"{st.zh}：{st.text_zh}{lead}"
