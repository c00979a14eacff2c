"""API keys of the real-time audit (事前/事中) and the log of its calls (issue 10, finding 1).

A hospital's HIS calls ``/api/audit/*`` as its institution with a key an admin issues (``fundguard apikeys``):
``fgk_<key id>_<secret>``. The key id is public (lists, logs); only the SHA-256 of the secret is stored — the
secret carries 256 random bits, so a fast hash is enough (no password stretching), and a stolen database
yields no usable key. A key is scoped to one institution (``fixmedins_code``); rotating issues a new key and
lets the old one live on for a grace period so the HIS can switch over; revoking ends it at once.

``CallLog`` records every call (who, which patient, when, outcome) in ``realtime_calls``: rows are queued in
memory and written by one thread in batches, so a flood costs the database one insert per batch, not one per
request; identical rejected calls (no patient, same key, client and outcome) in a batch become one row with
``count``.

The tables ``api_keys`` and ``realtime_calls`` are in ``service.models`` with the others (migration 0005).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import queue
import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service.db import Database
from fundguard.service.errors import NotFound, ValidationFailed
from fundguard.service.models import ApiKey, Institution, RealtimeCall, utcnow

KEY_PREFIX = "fgk"


@dataclass(frozen=True)
class KeyInfo:
    """What the API needs of a key (detached from any session)."""

    key_id: str
    fixmedins_code: str
    secret_hash: str
    usable_until: dt.datetime | None
    """None: no end; else the grace end of a rotated key."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(text: str) -> tuple[str, str] | None:
    """``fgk_<key id>_<secret>`` → (key id, secret), or None when it is not of that form."""
    prefix, _, rest = text.strip().partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or len(key_id) > 24 or not secret or not key_id.isalnum():
        return None
    return key_id, secret


def matches(info: KeyInfo, secret: str, now: dt.datetime | None = None) -> bool:
    """Whether ``secret`` is the key's (constant-time) and the key is still in force."""
    ok = hmac.compare_digest(info.secret_hash, _hash(secret))
    return ok and (info.usable_until is None or (now or utcnow()) < info.usable_until)


def load_key(session: Session, key_id: str) -> KeyInfo | None:
    """The key ``key_id`` if it exists and is not revoked (expiry is checked by ``matches``)."""
    k = session.execute(select(ApiKey).where(ApiKey.key_id == key_id)).scalar_one_or_none()
    if k is None or k.revoked_at is not None:
        return None
    return KeyInfo(k.key_id, k.fixmedins_code, k.secret_hash, k.expires_at)


def _institution_known(session: Session, workspace: Path | None, code: str) -> bool:
    if session.get(Institution, code) is not None:
        return True
    if workspace is None:
        return False
    from fundguard.data.store import Store

    store = Store(workspace)
    if not store.data_files("medins_info_b"):
        return False
    con = store.connect()
    try:
        return bool(con.execute("SELECT 1 FROM medins_info_b WHERE fixmedins_code = ?", [code]).fetchone())
    finally:
        con.close()


def issue_key(
    session: Session,
    fixmedins_code: str,
    *,
    name: str = "",
    created_by: str = "",
    workspace: Path | None = None,
) -> tuple[ApiKey, str]:
    """A new key for the institution; returns the row and the full key text (shown once, never stored)."""
    code = fixmedins_code.strip()
    if not _institution_known(session, workspace, code):
        raise ValidationFailed(
            f"未知定点医药机构 {code}（服务库与数据仓中都没有）",
            f"unknown institution {code} (neither in the service database nor in the store)",
        )
    return _new_key(session, code, name, created_by)


def _new_key(session: Session, code: str, name: str, created_by: str) -> tuple[ApiKey, str]:
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = ApiKey(
        key_id=key_id, secret_hash=_hash(secret), fixmedins_code=code, name=name[:100], created_by=created_by
    )
    session.add(row)
    session.flush()
    return row, f"{KEY_PREFIX}_{key_id}_{secret}"


def _get(session: Session, key_id: str) -> ApiKey:
    k = session.execute(select(ApiKey).where(ApiKey.key_id == key_id)).scalar_one_or_none()
    if k is None:
        raise NotFound(f"没有编号为 {key_id} 的密钥", f"no key with id {key_id}")
    return k


def rotate_key(
    session: Session, key_id: str, *, grace: dt.timedelta = dt.timedelta(hours=1), created_by: str = ""
) -> tuple[ApiKey, str]:
    """A new key for the same institution and name; the old one stays usable for ``grace``, then ends."""
    old = _get(session, key_id)
    if not old.usable():
        raise ValidationFailed(
            f"密钥 {key_id} 已失效，请重新签发", f"key {key_id} is no longer in force; issue one"
        )
    new, text = _new_key(session, old.fixmedins_code, old.name, created_by or old.created_by)
    end = utcnow() + grace
    old.expires_at = min(old.expires_at, end) if old.expires_at else end
    return new, text


def revoke_key(session: Session, key_id: str) -> ApiKey:
    k = _get(session, key_id)
    k.revoked_at = k.revoked_at or utcnow()
    return k


def list_keys(session: Session, fixmedins_code: str | None = None) -> list[ApiKey]:
    q = select(ApiKey).order_by(ApiKey.fixmedins_code, ApiKey.created_at)
    if fixmedins_code:
        q = q.where(ApiKey.fixmedins_code == fixmedins_code)
    return list(session.execute(q).scalars())


def key_state(k: ApiKey, now: dt.datetime | None = None) -> str:
    """有效 / 轮换宽限中 / 已过期 / 已吊销."""
    if k.revoked_at is not None:
        return "已吊销 revoked"
    if k.expires_at is not None:
        return "轮换宽限中 rotating" if (now or utcnow()) < k.expires_at else "已过期 expired"
    return "有效 active"


class CallLog:
    """Calls of the real-time routes, written to ``realtime_calls`` in batches by one background thread."""

    FLUSH_SECONDS = 1.0
    MAX_PENDING = 100_000

    def __init__(self, db: Database) -> None:
        self.db = db
        self._q: queue.Queue[dict[str, Any] | None] = queue.Queue(self.MAX_PENDING)
        self.dropped = 0
        """Rows that found the queue full (the database is far behind): counted into the next batch."""
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="fundguard-realtime-log", daemon=True)
        self._thread.start()

    def record(self, **row: Any) -> None:
        row.setdefault("at", utcnow())
        try:
            self._q.put_nowait(row)
        except queue.Full:
            self.dropped += 1

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every row recorded so far is written."""
        self._idle.clear()
        self._q.put(None)  # a marker: the writer sets ``_idle`` after the batch holding it
        self._idle.wait(timeout)

    def close(self) -> None:
        self.flush()

    def _run(self) -> None:
        while True:
            rows: list[dict[str, Any]] = []
            marker = False
            try:
                first = self._q.get(timeout=self.FLUSH_SECONDS)
                if first is None:
                    marker = True
                else:
                    rows.append(first)
                while len(rows) < 5000:
                    item = self._q.get_nowait()
                    if item is None:
                        marker = True
                    else:
                        rows.append(item)
            except queue.Empty:
                pass
            if rows or self.dropped:
                try:
                    self._write(rows)
                except Exception:  # the database is down: keep serving; the rows are lost, say so next time
                    self.dropped += len(rows)
            if marker:
                self._idle.set()

    def _write(self, rows: list[dict[str, Any]]) -> None:
        coalesced: Counter[tuple] = Counter()
        single: list[dict[str, Any]] = []
        for r in rows:
            if r.get("psn_no") is None and r.get("outcome") != "ok":
                coalesced[tuple(sorted((k, v) for k, v in r.items() if k != "at"))] += 1
            else:
                single.append(r)
        now = utcnow()
        with self.db.session() as s:
            for r in single:
                s.add(RealtimeCall(**r))
            for key, n in coalesced.items():
                s.add(RealtimeCall(at=now, count=n, **dict(key)))
            if self.dropped:
                n, self.dropped = self.dropped, 0
                s.add(RealtimeCall(at=now, route="-", outcome="log_overflow", status=0, count=n))
            used: dict[str, dt.datetime] = {}
            for r in single:
                if r.get("key_id") and r.get("outcome") == "ok":
                    used[r["key_id"]] = max(used.get(r["key_id"], r["at"]), r["at"])
            for key_id, at in used.items():
                k = s.execute(select(ApiKey).where(ApiKey.key_id == key_id)).scalar_one_or_none()
                if k is not None:
                    k.last_used_at = at


__all__ = [
    "ApiKey",
    "CallLog",
    "KeyInfo",
    "RealtimeCall",
    "issue_key",
    "key_state",
    "list_keys",
    "load_key",
    "matches",
    "revoke_key",
    "rotate_key",
    "split_key",
]
