"""FundGuard's settings, read from the environment in one place (at call time: demos and tests set them per
process). Each has a safe default; a bad value is refused with a bilingual message. Every layer reads its
settings here (``core`` imports nothing else, so the supervision domain may use it as well as the service).

- ``FUNDGUARD_DATABASE_URL``: the service database (default SQLite in the workspace);
- ``FUNDGUARD_TODAY``: a fixed "today" (ISO date) for demos and tests;
- ``FUNDGUARD_SESSION_MINUTES``: the idle session timeout (30); ``FUNDGUARD_SESSION_MAX_HOURS``: a session's
  absolute lifetime (12);
- ``FUNDGUARD_RULE_FLOOR`` / ``FUNDGUARD_RULE_MIN_DECIDED``: the scorecard's confirmation-rate floor (0.3) and
  the decided clues a rate needs (5);
- ``FUNDGUARD_CASE_THRESHOLDS``, ``FUNDGUARD_TIME_LIMITS``, ``FUNDGUARD_DISCRETION_TABLE``: YAML files overriding
  the case thresholds, the time limits and the penalty discretion table;
- ``FUNDGUARD_RECORD_KEY``: the file holding the enforcement record's HMAC key (default
  ``$XDG_CONFIG_HOME/fundguard/record.key``, outside every workspace; created 0600 on first use), or a KMS
  path (``kms://…``) that a deployment's KMS mounts as a file;
- ``FUNDGUARD_RECORD_ANCHOR``: the append-only file the record's head is exported to (default
  ``$XDG_STATE_HOME/fundguard/record-anchors.log``); ``FUNDGUARD_RECORD_SYSLOG=1`` also sends it to syslog;
  ``FUNDGUARD_ANCHOR_MINUTES``: how often the server exports it (60; 0 = never);
- ``FUNDGUARD_POINTS_RULES``: a province's 医保支付资格记分 rules (YAML, as ``supervision/data/points.yaml``);
- ``FUNDGUARD_CREDIT_SCHEME``: a province's credit scheme (YAML, as ``supervision/data/credit.yaml``);
- ``FUNDGUARD_REPORT_RULES``: a province's 举报奖励 rules (YAML, as ``supervision/data/report_rewards.yaml``);
- ``FUNDGUARD_CROSSREGION_SHARE``: the share of out-of-region settlements above which a small institution or
  pharmacy is flagged (0.3);
- ``FUNDGUARD_PUBLIC_LIMIT_<PROCESS>``: each public (no-login) process's own rate limit per client address, as
  ``requests/seconds`` — ``FILE`` (filing a report, 5/3600), ``TRACK`` (status by tracking code, 30/600), ``CLAIM``
  (claiming a reward, 10/3600), ``POINTS`` (the public points lookup, 10/60), ``CHALLENGE`` (proof-of-work
  challenges, 30/600), ``PAGES`` (the public forms' look-ups: regions, choices, 60/600); each counts on its own;
- ``FUNDGUARD_KB_OVERRIDES``: a folder of the bureau's override files for the derived clinical knowledge tables
  (``<table>.csv``, rows to add or remove);
- ``FUNDGUARD_ACCESS_LOG_DAYS``: how long the access log is kept (190; never under six months);
- real time: ``FUNDGUARD_RT_KEY_RATE`` / ``_KEY_BURST`` (calls a second per API key, 20 / 40),
  ``FUNDGUARD_RT_CLIENT_RATE`` / ``_CLIENT_BURST`` (per client address, 40 / 80), ``FUNDGUARD_RT_QUEUE`` (claims
  waiting for the auditor, 16), ``FUNDGUARD_RT_WORKERS`` (auditor processes, 1), ``FUNDGUARD_RT_NICE`` (their
  CPU niceness, 5), ``FUNDGUARD_RT_STALE_SECONDS`` (how often the auditor looks for new data, 30);
- Spark (``audit --engine spark``): ``FUNDGUARD_SPARK_MASTER`` (the master, ``local[2]``; ``yarn``,
  ``spark://…``, ``k8s://…`` on a cluster), ``FUNDGUARD_SPARK_STORE`` (the store's Parquet as a URI the cluster
  reads, e.g. ``hdfs://nn/fundguard/store`` or ``s3a://bucket/store``; default the workspace's ``store/``),
  ``FUNDGUARD_SPARK_WORK`` (a folder URI the executors share for ``claim_lines`` and the run's hit parts;
  default ``<ws>/cache/spark``);
- ``FUNDGUARD_SHARED_DATA``: where the real reference data lives (tools and tests only).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from fundguard.core.errors import InputError

# The public processes and their default limits per client address: (requests, per seconds). Each process has
# its own bucket, so a burst of tracking look-ups never uses up the filing or the claiming of anyone.
PUBLIC_LIMITS: dict[str, tuple[int, int]] = {
    "file": (5, 3600),
    "track": (30, 600),
    "claim": (10, 3600),
    "points": (10, 60),
    "challenge": (30, 600),
    "pages": (60, 600),
}


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    today: dt.date | None = None
    session_minutes: int = 30
    session_max_hours: int = 12
    rule_floor: Decimal = Decimal("0.3")
    rule_min_decided: int = 5
    case_thresholds: str = ""
    time_limits: str = ""
    record_key: str = ""
    record_anchor: str = ""
    record_syslog: bool = False
    anchor_minutes: int = 60
    points_rules: str = ""
    credit_scheme: str = ""
    discretion_table: str = ""
    report_rules: str = ""
    kb_overrides: str = ""
    crossregion_share: float = 0.3
    access_log_days: int = 190
    rt_key_rate: float = 20
    rt_key_burst: float = 40
    rt_client_rate: float = 40
    rt_client_burst: float = 80
    rt_queue: int = 16
    rt_workers: int = 1
    rt_nice: int = 5
    rt_stale_seconds: float = 30
    spark_master: str = "local[2]"
    spark_store: str = ""
    spark_work: str = ""
    shared_data: str = ""
    public_limits: Mapping[str, tuple[int, int]] = field(default_factory=lambda: dict(PUBLIC_LIMITS))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        get = lambda key: (env.get(key) or "").strip()  # noqa: E731
        try:
            return cls(
                database_url=get("FUNDGUARD_DATABASE_URL"),
                today=dt.date.fromisoformat(get("FUNDGUARD_TODAY")) if get("FUNDGUARD_TODAY") else None,
                session_minutes=max(int(get("FUNDGUARD_SESSION_MINUTES") or 30), 1),
                session_max_hours=max(int(get("FUNDGUARD_SESSION_MAX_HOURS") or 12), 1),
                rule_floor=Decimal(get("FUNDGUARD_RULE_FLOOR") or "0.3"),
                rule_min_decided=int(get("FUNDGUARD_RULE_MIN_DECIDED") or 5),
                case_thresholds=get("FUNDGUARD_CASE_THRESHOLDS"),
                time_limits=get("FUNDGUARD_TIME_LIMITS"),
                record_key=get("FUNDGUARD_RECORD_KEY")
                or str(_xdg("XDG_CONFIG_HOME", ".config") / "record.key"),
                record_anchor=get("FUNDGUARD_RECORD_ANCHOR")
                or str(_xdg("XDG_STATE_HOME", ".local/state") / "record-anchors.log"),
                record_syslog=get("FUNDGUARD_RECORD_SYSLOG") in ("1", "true", "yes"),
                anchor_minutes=max(int(get("FUNDGUARD_ANCHOR_MINUTES") or 60), 0),
                points_rules=get("FUNDGUARD_POINTS_RULES"),
                credit_scheme=get("FUNDGUARD_CREDIT_SCHEME"),
                discretion_table=get("FUNDGUARD_DISCRETION_TABLE"),
                report_rules=get("FUNDGUARD_REPORT_RULES"),
                kb_overrides=get("FUNDGUARD_KB_OVERRIDES"),
                crossregion_share=_positive(get("FUNDGUARD_CROSSREGION_SHARE") or 0.3),
                access_log_days=int(get("FUNDGUARD_ACCESS_LOG_DAYS") or 190),
                rt_key_rate=_positive(get("FUNDGUARD_RT_KEY_RATE") or 20),
                rt_key_burst=_positive(get("FUNDGUARD_RT_KEY_BURST") or 40),
                rt_client_rate=_positive(get("FUNDGUARD_RT_CLIENT_RATE") or 40),
                rt_client_burst=_positive(get("FUNDGUARD_RT_CLIENT_BURST") or 80),
                rt_queue=max(int(get("FUNDGUARD_RT_QUEUE") or 16), 1),
                rt_workers=max(int(get("FUNDGUARD_RT_WORKERS") or 1), 1),
                rt_nice=int(get("FUNDGUARD_RT_NICE") or 5),
                rt_stale_seconds=float(get("FUNDGUARD_RT_STALE_SECONDS") or 30),
                spark_master=get("FUNDGUARD_SPARK_MASTER") or "local[2]",
                spark_store=get("FUNDGUARD_SPARK_STORE").rstrip("/"),
                spark_work=get("FUNDGUARD_SPARK_WORK").rstrip("/"),
                shared_data=get("FUNDGUARD_SHARED_DATA"),
                public_limits={
                    process: _rate(get(f"FUNDGUARD_PUBLIC_LIMIT_{process.upper()}"), default)
                    for process, default in PUBLIC_LIMITS.items()
                },
            )
        except (ValueError, InvalidOperation) as exc:
            raise InputError(f"环境变量设置有误：{exc}", f"invalid FUNDGUARD_* setting: {exc}") from None


def _positive(value: str | float) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"{value!r} is not a positive number")
    return number


def _rate(value: str, default: tuple[int, int]) -> tuple[int, int]:
    """``requests/seconds`` (e.g. ``5/3600``), both positive whole numbers; empty: the default."""
    if not value:
        return default
    requests, sep, seconds = value.partition("/")
    if not sep or not requests.strip().isdigit() or not seconds.strip().isdigit():
        raise ValueError(f"{value!r} is not requests/seconds (e.g. 5/3600)")
    rate = int(requests), int(seconds)
    if min(rate) < 1:
        raise ValueError(f"{value!r}: requests and seconds must be at least 1")
    return rate


def _xdg(var: str, fallback: str) -> Path:
    base = os.environ.get(var) or str(Path.home() / fallback)
    return Path(base) / "fundguard"


def settings() -> Settings:
    return Settings.from_env()
