"""What stands between a caller and the real-time auditor (issue 10, findings 1 and 2): keys, limits, a pool of
its own, safe parsing, and an answer cut to what the calling institution may know.

- **Who**: ``X-API-Key: fgk_…`` (or ``Authorization: Bearer fgk_…``), a key issued to one institution
  (``service.realtime_keys``), looked up through a small cache (revocation takes effect within
  ``KEY_CACHE_SECONDS``); a claim of another institution is refused (403).
- **How much**: token buckets per key and per client address (429 with ``Retry-After``); unauthenticated
  attempts draw on a smaller per-client bucket, so guessing keys is slow.
- **Where it runs**: the auditor's own process (``realtime_worker``; ``FUNDGUARD_RT_WORKERS`` of them, each
  with its own copy of the history), with a bounded number of calls admitted (running or waiting); past it
  the answer is 429 ``busy`` with ``Retry-After``. Waiting callers hold no thread of the web server, and the
  audit does not hold the web process's interpreter lock, so a flood of claims cannot starve the workbench.
- **Parsing**: JSON is parsed in that process (never on the event loop), nesting deeper than ``MAX_DEPTH`` or
  strings with lone surrogates (``"\\ud800"``) are 422, never 500.
- **Disclosure**: ``disclose`` keeps the evidence of rules that judge only the claim's own lines, and puts a
  fixed sentence in place of evidence drawn from the patient's other visits — no other institution's name,
  times or visit ids, no death date. Supervisors still read the full evidence in the workbench.

Limits are read from the environment at start: ``FUNDGUARD_RT_KEY_RATE`` / ``_KEY_BURST`` (per key, calls a
second and burst), ``FUNDGUARD_RT_CLIENT_RATE`` / ``_CLIENT_BURST`` (per client address),
``FUNDGUARD_RT_WORKERS`` (auditor processes) and ``FUNDGUARD_RT_QUEUE`` (calls admitted at once).
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import orjson

from fundguard.api.realtime_standing import StandingCache
from fundguard.core.errors import InputError
from fundguard.core.settings import settings
from fundguard.rules.spec import Rule
from fundguard.service.db import Database
from fundguard.service.realtime_keys import CallLog, KeyInfo, load_key, matches, split_key

MAX_DEPTH = 20
"""Deepest JSON nesting accepted (a 3101 message needs 6)."""
KEY_CACHE_SECONDS = 10.0
_SURROGATE = re.compile("[\ud800-\udfff]")


class RateLimiter:
    """Token buckets by key: ``rate`` a second, up to ``burst``; at most ``max_keys`` tracked (oldest dropped)."""

    def __init__(self, rate: float, burst: float, max_keys: int = 100_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when a call is allowed now (one token taken), else the seconds until one will be."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


@dataclass
class Caller:
    """An admitted call: the key's institution, the client address, and what the log row needs."""

    key: KeyInfo
    client: str
    route: str
    t0: float = field(default_factory=time.perf_counter)
    submitted: bool = False
    """Whether the call reached the pool (which then gives its place back)."""


class Refused(Exception):
    """A call refused before it reaches the auditor: the HTTP status, the bilingual reason and headers."""

    def __init__(self, status: int, code: str, zh: str, en: str, retry_after: float | None = None) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after is not None else {}


def outcome_of(status: int) -> str:
    return {200: "ok", 401: "unauthenticated", 403: "forbidden", 422: "invalid", 429: "rate_limited",
            503: "unavailable"}.get(status, "error")  # fmt: skip


class RealtimeGuard:
    """Keys, limits, the pool and the call log of one app's real-time routes."""

    def __init__(self, db: Database, workspace: str, rule_files: list[str]) -> None:
        self.db = db
        self.log = CallLog(db)
        self._pool_args = (workspace, rule_files)
        config = settings()
        self.per_key = RateLimiter(config.rt_key_rate, config.rt_key_burst)
        self.per_client = RateLimiter(config.rt_client_rate, config.rt_client_burst)
        self.unauthenticated = RateLimiter(2, 10)  # wrong or missing keys, per client
        self.capacity = config.rt_queue
        self.workers = config.rt_workers
        self.pool = self._new_pool()
        self._lookup = ThreadPoolExecutor(1, thread_name_prefix="fundguard-rt-keys")
        self._admitted = 0
        self._admit_lock = threading.Lock()
        self._keys: dict[str, tuple[float, KeyInfo | None]] = {}
        self.standing = StandingCache(db)

    # --- who and how much ---------------------------------------------------------------------------
    async def admit(self, headers: Any, client: str, route: str) -> Caller:
        """Check the key and the limits, and take a place in the pool; raises ``Refused``."""
        wait = self.per_client.take(client)
        if wait:
            self._refused(client, route, None, 429)
            raise Refused(
                429, "rate_limited", "请求过于频繁，请稍后再试", "too many requests; retry later", wait
            )
        text = headers.get("x-api-key", "")
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if not text and scheme.lower() == "bearer":
            text = value
        parts = split_key(text) if text else None
        key = await self._key(parts[0]) if parts else None
        if key is None or not matches(key, parts[1]):  # type: ignore[index]
            wait = self.unauthenticated.take(client)
            self._refused(client, route, parts[0] if parts else None, 401)
            if wait:
                raise Refused(429, "rate_limited", "认证失败次数过多，请稍后再试",
                              "too many failed authentications; retry later", wait)  # fmt: skip
            raise Refused(401, "invalid_api_key", "缺少或无效的接口密钥（请求头 X-API-Key）",
                          "missing or invalid API key (header X-API-Key)")  # fmt: skip
        wait = self.per_key.take(key.key_id)
        if wait:
            self._refused(client, route, key.key_id, 429, key.fixmedins_code)
            raise Refused(429, "rate_limited", "该密钥请求过于频繁，请稍后再试",
                          "too many requests for this key; retry later", wait)  # fmt: skip
        with self._admit_lock:
            full = self._admitted >= self.capacity
            if not full:
                self._admitted += 1
        if full:
            self._refused(client, route, key.key_id, 429, key.fixmedins_code, outcome="busy")
            raise Refused(429, "busy", "实时审核繁忙，请稍后再试", "real-time audit busy; retry later", 1)
        return Caller(key, client, route)

    async def _key(self, key_id: str) -> KeyInfo | None:
        now = time.monotonic()
        hit = self._keys.get(key_id)
        if hit is not None and now - hit[0] < KEY_CACHE_SECONDS:
            return hit[1]
        info = await asyncio.get_running_loop().run_in_executor(self._lookup, self._load, key_id)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[key_id] = (now, info)
        return info

    def _load(self, key_id: str) -> KeyInfo | None:
        with self.db.session() as s:
            return load_key(s, key_id)

    def _refused(self, client: str, route: str, key_id: str | None, status: int,
                 code: str | None = None, outcome: str | None = None) -> None:  # fmt: skip
        self.log.record(key_id=key_id, fixmedins_code=code, client=client[:64], route=route,
                        outcome=outcome or outcome_of(status), status=status)  # fmt: skip

    # --- where it runs ------------------------------------------------------------------------------
    def _new_pool(self) -> ProcessPoolExecutor:
        from fundguard.api import realtime_worker

        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=realtime_worker.init, initargs=self._pool_args)  # fmt: skip

    async def run(self, caller: Caller, route: str, body: bytes, stage: str) -> tuple[int, bytes, dict]:
        """Audit in the auditor's process (``realtime_worker.run``); the event loop waits, no thread does.
        The caller's place is given back when the audit ends, even if the client has gone."""
        from fundguard.api import realtime_worker

        try:
            future = self.pool.submit(realtime_worker.run, route, body, stage, caller.key.fixmedins_code)
        except BrokenProcessPool:
            self.pool = self._new_pool()
            raise Refused(503, "auditor_restarting", "实时审核进程重启中，请稍后再试",
                          "the real-time auditor is restarting; retry later", 5) from None  # fmt: skip
        caller.submitted = True
        future.add_done_callback(lambda _: self.release())
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:  # the process died under this call (e.g. out of memory)
            self.pool = self._new_pool()
            raise Refused(503, "auditor_restarting", "实时审核进程异常退出，已重启，请稍后再试",
                          "the real-time auditor process died and is restarting; retry later", 5) from None  # fmt: skip

    async def staff(self, caller: Caller, route: str, body: bytes) -> list[dict]:
        """The doctors' summary of an answered call's claims (``realtime_worker.staff``), from the auditor's
        process; only for the rare call ``StandingCache.may_concern``."""
        from fundguard.api import realtime_worker

        try:
            future = self.pool.submit(realtime_worker.staff, route, body, caller.key.fixmedins_code)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self.pool = self._new_pool()
            raise Refused(503, "auditor_restarting", "实时审核进程异常退出，已重启，请稍后再试",
                          "the real-time auditor process died and is restarting; retry later", 5) from None  # fmt: skip

    def release(self) -> None:
        """Give back the place ``admit`` took."""
        with self._admit_lock:
            self._admitted -= 1

    def done(self, caller: Caller, status: int, *, psn_no: str | None = None, mdtrt_id: str | None = None,
             hit_count: int = 0) -> None:  # fmt: skip
        self.log.record(
            key_id=caller.key.key_id, fixmedins_code=caller.key.fixmedins_code, client=caller.client[:64],
            route=caller.route, psn_no=(psn_no or None) and psn_no[:200], mdtrt_id=(mdtrt_id or None) and mdtrt_id[:200],
            outcome=outcome_of(status), status=status, hit_count=hit_count,
            elapsed_ms=round(1000 * (time.perf_counter() - caller.t0)),
        )  # fmt: skip

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._lookup.shutdown(wait=False)
        self.log.close()


# --- parsing -------------------------------------------------------------------------------------------
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_CONTAINERS = frozenset((dict, list))


def _too_deep(data: Any) -> bool:
    """Whether parsed JSON nests deeper than ``MAX_DEPTH``."""
    return _shape(data)[0]


def _shape(data: Any) -> tuple[bool, bool]:
    """(whether parsed JSON nests deeper than ``MAX_DEPTH``, whether it holds a float), level by level: a
    container's values are looked at only for their types (``set(map(type, …))``, in C), and only
    containers are walked further."""
    level, depth, floats = [data], 0, False
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return True, floats
        deeper = []
        for v in level:
            items = v.values() if type(v) is dict else v
            types = set(map(type, items))
            floats = floats or float in types
            if not _CONTAINERS.isdisjoint(types):
                deeper.extend(x for x in items if type(x) in _CONTAINERS)
        level = deeper
    return False, floats


def _has_surrogate(data: Any) -> bool:
    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str) and not v.isascii() and _SURROGATE.search(v):
            return True
    return False


def json_engine() -> str:
    """The library parsing request bodies and encoding answers."""
    return f"orjson {orjson.__version__}"


def encode(answer: dict) -> bytes:
    """``answer`` as a JSON body, as Starlette's ``JSONResponse`` encodes it (compact, UTF-8), by orjson (a
    tenth of the time). Answers hold texts, integers and the finite float timings (money goes out as text),
    so orjson writes what ``json`` wrote; what it refuses (an integer past 64 bits, a key that is not a
    string, another type) goes through ``json`` as before, which encodes it or raises as before."""
    try:
        return orjson.dumps(answer)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def parse_json(body: bytes) -> Any:
    """The body as JSON, refusing what would otherwise end as a 500: nesting past ``MAX_DEPTH`` and strings
    with lone surrogates (they cannot be encoded back to UTF-8). UTF-8 cannot carry a surrogate, so only a
    ``\\uD8xx``–``\\uDFxx`` escape in the bytes can make one: only then are the strings looked at."""
    try:  # orjson: a few times faster; what it refuses is read by ``json`` for the same answer as before
        data = orjson.loads(body)
    except orjson.JSONDecodeError:  # not UTF-8, a lone surrogate, NaN, nesting past 1024 …
        pass
    else:
        too_deep, floats = _shape(data) if type(data) in _CONTAINERS else (False, type(data) is float)
        if too_deep:
            raise InputError(f"JSON 嵌套超过 {MAX_DEPTH} 层", f"JSON nested deeper than {MAX_DEPTH} levels")
        if not floats:  # orjson reads an integer past 64 bits as a float: a body with floats is read again
            return data
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"请求体不是合法的 JSON：{e}", f"body is not valid JSON: {e}") from None
    except RecursionError:
        too_deep = True
    else:
        too_deep = type(data) in _CONTAINERS and _too_deep(data)
    if too_deep:
        raise InputError(f"JSON 嵌套超过 {MAX_DEPTH} 层", f"JSON nested deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(body) and _has_surrogate(data):
        raise InputError(
            "请求体含无效的 Unicode 字符（孤立代理项，如 \\ud800）",
            "body holds invalid Unicode (a lone surrogate such as \\ud800)",
        )
    return data


# --- disclosure ----------------------------------------------------------------------------------------
CLAIM_ONLY_TEMPLATES = frozenset(
    {"price_limit", "catalogue_scope", "attribute_restriction", "indication", "department_restriction",
     "secondary_operation", "knowledge_review", "item_pair"}
)  # fmt: skip
"""Templates whose evidence speaks only of the claim's own lines, the patient's own attributes (sex, age,
insurance type) and public knowledge: their evidence is shown to the institution as it is."""

_OTHER_VISITS = "（涉及该参保人在本次就诊以外的就医记录，详情由医保经办机构核查）"
_VISIT_OVERLAP = (
    ("死亡", "该参保人医保凭证状态异常，请核验参保人身份后再结算"),
    ("同时", "该参保人同一时间在其他定点医疗机构住院"),
    ("计费日期", "本单据部分费用的计费日期与住院时间不符"),
)


def disclose(hit: dict, rule: Rule, claim_sns: set[str]) -> dict:
    """``hit`` as the calling institution may read it: its own fee lines only, and for rules that look past
    the claim (other visits, other institutions, death records) a fixed sentence instead of the evidence."""
    sns = [s for s in (hit.get("bkkp_sn") or []) if s in claim_sns]
    out = {**hit, "bkkp_sn": sns}
    if rule.template in CLAIM_ONLY_TEMPLATES and len(sns) == len(hit.get("bkkp_sn") or []):
        return out
    evidence = hit.get("evidence_zh") or ""
    sentence = f"{rule.name_zh}{_OTHER_VISITS}"
    if rule.template == "visit_overlap":
        sentence = next((s for word, s in _VISIT_OVERLAP if word in evidence), sentence)
    if hit.get("hilist_code") is not None and not sns:
        out["hilist_code"] = None
    out["evidence_zh"] = sentence
    return out


__all__ = ["Caller", "RateLimiter", "RealtimeGuard", "Refused", "disclose", "encode", "parse_json"]
