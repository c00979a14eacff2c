"""医保支付资格记分 (the "driving-licence" points of 医保发〔2024〕23号), pure rules over dates and numbers.

The rules are data (``data/points.yaml``, a province's file through ``load_rules(path)``): points by band and
responsibility with one band up or down for aggravating or mitigating facts, the natural-year window with its
cap, suspension at 9 points for configured months, termination at 12 with the re-registration bars (1 year
after accumulating 12, 3 years after a single 12-point event). ``standing`` turns a person's effective point
records into their payment-qualification status on any day; the service stores only the records.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fundguard.core.errors import InputError

RESPONSIBILITIES = ("一般", "重要", "主要")
ADJUSTMENTS = {"none": "无", "mitigate": "从轻（降一档）", "aggravate": "从重（升一档）"}
STATUS_ZH = {"normal": "正常", "suspended": "暂停医保支付资格", "terminated": "终止医保支付资格"}
STAFF_CATEGORIES = ("医师", "药师", "护士", "技师", "费用审核人员", "医保结算人员", "药店主要负责人")

_DEFAULT = Path(__file__).parent / "data" / "points.yaml"


@dataclass(frozen=True)
class PointsRules:
    bands: dict[int, dict[str, int]]
    behaviour_bands: dict[str, int]
    annual_cap: int = 12
    suspend_at: int = 9
    terminate_at: int = 12
    cumulative_months: dict[int, int] = field(default_factory=dict)
    single_event_months: dict[int, int] = field(default_factory=dict)
    ban_years_cumulative: int = 1
    ban_years_single: int = 3
    statement_days: int = 7
    warn_at: int = 6
    exempt_medical_types: tuple[str, ...] = ("急诊", "抢救")
    repair: dict[str, int] = field(default_factory=dict)
    repair_max_per_year: int = 3
    institution_ratio: float = 0.05
    region_zh: str = ""

    def band_of(self, behaviour_code: str) -> int | None:
        """The band of a behaviour code (longest configured prefix), None when the code scores no points."""
        hits = [p for p in self.behaviour_bands if behaviour_code.startswith(p)]
        return self.behaviour_bands[max(hits, key=len)] if hits else None

    def points(self, band: int, responsibility: str, adjustment: str = "none") -> int:
        """Points of one event: the band moved one step by mitigating/aggravating facts, then responsibility."""
        if responsibility not in RESPONSIBILITIES:
            raise InputError(
                f"责任程度应为 {'、'.join(RESPONSIBILITIES)} 之一", f"bad responsibility {responsibility!r}"
            )
        if adjustment not in ADJUSTMENTS:
            raise InputError(
                f"情节应为 {'、'.join(ADJUSTMENTS.values())} 之一", f"bad adjustment {adjustment!r}"
            )
        step = {"none": 0, "mitigate": -1, "aggravate": 1}[adjustment]
        band = min(max(int(band) + step, min(self.bands)), max(self.bands))
        return self.bands[band][responsibility]

    def months(self, year_points: int, single: bool) -> int:
        table = self.single_event_months if single else self.cumulative_months
        keys = [k for k in table if k <= year_points]
        return table[max(keys)] if keys else 1


def load_rules(path: str | Path | None = None) -> PointsRules:
    """The national defaults, or a province's file (a bad file is refused with a bilingual message)."""
    p = Path(path) if path else _DEFAULT
    try:
        d: dict[str, Any] = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        months = d.get("suspension_months") or {}
        bans = d.get("reregistration_ban_years") or {}
        return PointsRules(
            bands={int(k): {str(r): int(v) for r, v in row.items()} for k, row in d["bands"].items()},
            behaviour_bands={str(k): int(v) for k, v in (d.get("behaviour_bands") or {}).items()},
            annual_cap=int(d.get("annual_cap", 12)),
            suspend_at=int(d.get("suspend_at", 9)),
            terminate_at=int(d.get("terminate_at", 12)),
            cumulative_months={int(k): int(v) for k, v in (months.get("cumulative") or {}).items()},
            single_event_months={int(k): int(v) for k, v in (months.get("single_event") or {}).items()},
            ban_years_cumulative=int(bans.get("cumulative", 1)),
            ban_years_single=int(bans.get("single_event", 3)),
            statement_days=int(d.get("statement_days", 7)),
            warn_at=int(d.get("warn_at", 6)),
            exempt_medical_types=tuple(str(x) for x in d.get("exempt_medical_types") or ()),
            repair={str(k): int(v) for k, v in (d.get("repair") or {}).items()},
            repair_max_per_year=int(d.get("repair_max_per_year", 3)),
            institution_ratio=float(d.get("institution_ratio", 0.05)),
            region_zh=str(d.get("region_zh") or ""),
        )
    except (OSError, KeyError, TypeError, ValueError, AttributeError, yaml.YAMLError) as exc:
        raise InputError(f"记分规则文件 {p} 有误：{exc}", f"bad points rules file {p}: {exc}") from None


def add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    y, m = day.year + m // 12, m % 12 + 1
    return dt.date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def add_years(day: dt.date, years: int) -> dt.date:
    return add_months(day, 12 * years)


@dataclass(frozen=True)
class Event:
    """One effective point record: scored on ``decided`` (the decision date), in force from ``effective``."""

    decided: dt.date
    effective: dt.date
    points: int  # after any reduction by 修复 or a statement


@dataclass(frozen=True)
class Standing:
    status: str  # normal / suspended / terminated
    year_points: int  # points in the natural year of the day asked, capped
    since: dt.date | None = None
    until: dt.date | None = None  # last day of a suspension
    bar_until: dt.date | None = None  # re-registration barred until (termination)
    reason_zh: str = ""

    @property
    def status_zh(self) -> str:
        return STATUS_ZH[self.status]


def year_points(events: Iterable[Event], year: int, rules: PointsRules) -> int:
    return min(sum(e.points for e in events if e.decided.year == year), rules.annual_cap)


@dataclass(frozen=True)
class Period:
    status: str  # suspended / terminated
    since: dt.date
    until: dt.date | None  # last day of a suspension; None: terminated until re-registration
    bar_until: dt.date | None
    reason_zh: str


def periods(
    events: Iterable[Event], rules: PointsRules, registered_on: dt.date | None = None
) -> list[Period]:
    """Every suspension and the termination a person's effective records lead to: each natural year's points
    accumulate in decision order (reset on 1 January, capped); crossing ``suspend_at`` suspends from that
    event's effective date for the configured months; reaching ``terminate_at`` terminates (and nothing after
    counts). Records in force before a re-registration (``registered_on``) no longer count."""
    evs = sorted((e for e in events if registered_on is None or e.effective >= registered_on),
                 key=lambda e: (e.decided, e.effective))  # fmt: skip
    out: list[Period] = []
    for year in sorted({e.decided.year for e in evs}):
        total, start = 0, dt.date.min
        for e in (e for e in evs if e.decided.year == year):
            before, total = total, min(total + e.points, rules.annual_cap)
            # the consequence starts when all the points that reach it are in force (a record decided earlier
            # may take effect later, after its 陈述申辩): standing on any day and the snapshot then agree
            start = max(start, e.effective)
            if total >= rules.terminate_at:
                single = e.points >= rules.terminate_at
                years = rules.ban_years_single if single else rules.ban_years_cumulative
                why = "单次记满" if single else "年度累计记满"
                out.append(Period("terminated", start, None, add_years(start, years),
                                  f"{year}年{why}{rules.terminate_at}分，终止医保支付资格，"
                                  f"{years}年内不得再次登记备案"))  # fmt: skip
                return out
            if total >= rules.suspend_at > before:
                single = e.points >= rules.suspend_at
                months = rules.months(total, single)
                end = add_months(start, months) - dt.timedelta(days=1)
                why = f"{year}年{'单次' if single else '累计'}记{total}分，暂停医保支付资格{months}个月"
                out.append(Period("suspended", start, end, None, why))
    return out


def standing(events: Iterable[Event], day: dt.date, rules: PointsRules,
             registered_on: dt.date | None = None) -> Standing:  # fmt: skip
    """The person's payment qualification on ``day`` (only records in force by then count)."""
    evs = [
        e for e in events if e.effective <= day and (registered_on is None or e.effective >= registered_on)
    ]
    points = year_points(evs, day.year, rules)
    for p in periods(evs, rules):
        if p.since <= day and (p.until is None or day <= p.until):
            return Standing(p.status, points, p.since, p.until, p.bar_until, p.reason_zh)
    return Standing("normal", points)
