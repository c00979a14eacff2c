"""Abuse protection of the public (no-login) routes: per-client rate limits (429 with Retry-After) and an
offline proof-of-work challenge. Each public process (``file``, ``track``, ``claim``, ``points``, ``challenge``,
``pages``) has its own limit, configurable (``FUNDGUARD_PUBLIC_LIMIT_<PROCESS>``, ``core.settings``), and its own
count per client, so using one process up never blocks another. A challenge is ``expires.nonce.bits.mac`` — stateless, MAC'd under a key derived
from the service's key file — and is solved by a counter whose SHA-256 over ``challenge:counter`` starts with
``bits`` zero bits (about a second of a phone's work for 16 bits; nothing is sent to a third-party CAPTCHA, so it
works on an isolated network). A solved challenge is accepted once. State is per process: one server process
(``fundguard serve``) is the deployment this protects; behind several, put the limits in the proxy too."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

from fundguard.core.settings import PUBLIC_LIMITS, settings
from fundguard.service import record
from fundguard.service.errors import TooManyAttempts, ValidationFailed

POW_BITS = 16
CHALLENGE_SECONDS = 600
PROCESSES = tuple(PUBLIC_LIMITS)
PROCESS_ZH = {"file": "提交举报", "track": "查询码查询", "claim": "领取奖励", "points": "医保支付资格查询",
              "challenge": "获取验证", "pages": "页面数据请求"}  # fmt: skip
assert set(PROCESS_ZH) == set(PROCESSES)


class PublicGuard:
    def __init__(self, bits: int = POW_BITS) -> None:
        self.bits = bits
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def limit(self, process: str, client: str, now: float | None = None) -> None:
        """Count one request of ``client`` to ``process``; 429 once it is over that process's limit (read from the
        settings on each call) in the sliding window. The count is the process's own."""
        if process not in PUBLIC_LIMITS:
            raise KeyError(f"unknown public process {process!r}; one of {PROCESSES}")
        most, window = settings().public_limits[process]
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits[(process, client)]
            while q and q[0] <= now - window:
                q.popleft()
            if len(q) >= most:
                wait = int(q[0] + window - now) + 1
                raise TooManyAttempts(f"{PROCESS_ZH[process]}过于频繁，请 {wait} 秒后再试",
                                      f"too many {process} requests; retry in {wait} s", wait)  # fmt: skip
            q.append(now)

    @staticmethod
    def _mac(body: str) -> str:
        key = hmac.new(record.record_key(), b"fundguard/public-challenge", hashlib.sha256).digest()
        return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        body = f"{int(time.time()) + CHALLENGE_SECONDS}.{secrets.token_hex(12)}.{self.bits}"
        return f"{body}.{self._mac(body)}"

    def check(self, challenge: str, solution: str) -> None:
        """Accept a solved, unexpired, unused challenge of ours; refuse anything else in Chinese and English."""
        parts = str(challenge or "").split(".")
        bad = ValidationFailed("防刷验证未通过，请刷新页面后重试", "challenge not solved; reload and retry")
        if len(parts) != 4 or not hmac.compare_digest(
            self._mac(".".join(parts[:3])).encode(), parts[3].encode()
        ):
            raise bad
        expires, bits = (
            int(p) if p.isascii() and p.isdigit() and len(p) < 12 else 0 for p in (parts[0], parts[2])
        )
        if expires < time.time() or bits < self.bits or len(str(solution)) > 20:
            raise bad
        digest = hashlib.sha256(f"{challenge}:{solution}".encode()).digest()
        if int.from_bytes(digest, "big") >> (256 - bits) != 0:
            raise bad
        with self._lock:
            now = time.time()
            for c, t in list(self._used.items()):
                if t < now:
                    del self._used[c]
            if challenge in self._used:
                raise bad
            self._used[challenge] = float(expires)


def solve(challenge: str) -> str:
    """The counter that solves ``challenge`` (what the page's script does; used by tests and API clients)."""
    bits = int(challenge.split(".")[2])
    n = 0
    while int.from_bytes(hashlib.sha256(f"{challenge}:{n}".encode()).digest(), "big") >> (256 - bits):
        n += 1
    return str(n)


def guard_of(request: object) -> PublicGuard:
    """The app's guard (one per app, so separate apps — and tests — keep separate counts)."""
    state = request.app.state  # type: ignore[attr-defined]
    g = getattr(state, "public_guard", None)
    if g is None:
        g = state.public_guard = PublicGuard()
    return g


def client_of(request: object) -> str:
    client = getattr(request, "client", None)
    return client.host if client else ""
