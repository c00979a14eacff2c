"""The service's settings, read from the environment in one place (at call time: demos and tests set them per
process). Each has a safe default; a bad value is refused with a bilingual message.

- ``FUNDGUARD_DATABASE_URL``: the service database (default SQLite in the workspace);
- ``FUNDGUARD_TODAY``: a fixed "today" (ISO date) for demos and tests;
- ``FUNDGUARD_SESSION_MINUTES``: the idle session timeout (30);
- ``FUNDGUARD_RULE_FLOOR`` / ``FUNDGUARD_RULE_MIN_DECIDED``: the scorecard's confirmation-rate floor (0.3) and
  the decided clues a rate needs (5);
- ``FUNDGUARD_CASE_THRESHOLDS``, ``FUNDGUARD_TIME_LIMITS``: YAML files overriding the case thresholds and the
  time limits;
- ``FUNDGUARD_POINTS_RULES``: a province's 医保支付资格记分 rules (YAML, as ``supervision/data/points.yaml``);
- ``FUNDGUARD_CREDIT_SCHEME``: a province's credit scheme (YAML, as ``supervision/data/credit.yaml``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from fundguard.core.errors import InputError


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    today: dt.date | None = None
    session_minutes: int = 30
    rule_floor: Decimal = Decimal("0.3")
    rule_min_decided: int = 5
    case_thresholds: str = ""
    time_limits: str = ""
    points_rules: str = ""
    credit_scheme: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        get = lambda key: (env.get(key) or "").strip()  # noqa: E731
        try:
            return cls(
                database_url=get("FUNDGUARD_DATABASE_URL"),
                today=dt.date.fromisoformat(get("FUNDGUARD_TODAY")) if get("FUNDGUARD_TODAY") else None,
                session_minutes=max(int(get("FUNDGUARD_SESSION_MINUTES") or 30), 1),
                rule_floor=Decimal(get("FUNDGUARD_RULE_FLOOR") or "0.3"),
                rule_min_decided=int(get("FUNDGUARD_RULE_MIN_DECIDED") or 5),
                case_thresholds=get("FUNDGUARD_CASE_THRESHOLDS"),
                time_limits=get("FUNDGUARD_TIME_LIMITS"),
                points_rules=get("FUNDGUARD_POINTS_RULES"),
                credit_scheme=get("FUNDGUARD_CREDIT_SCHEME"),
            )
        except (ValueError, InvalidOperation) as exc:
            raise InputError(f"环境变量设置有误：{exc}", f"invalid FUNDGUARD_* setting: {exc}") from None


def settings() -> Settings:
    return Settings.from_env()
