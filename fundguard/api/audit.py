"""实时审核 HTTP routes: one claim in national form, or a 3101-style request, through ``RealtimeAuditor``.

``router`` (prefix ``/api/audit``) serves ``POST /claim`` (``{"mdtrt_d": [...], "fee_list_d": [...], ...}``,
optional ``?stage=事前``) and ``POST /3101``. Callers are hospitals' HIS, each with an API key of its
institution (``X-API-Key``; ``fundguard apikeys``): ``realtime_guard`` checks the key and the rate limits and
logs the call (``realtime_calls``); the claim is audited in the auditor's own process (``realtime_worker``),
which also checks that the claim is the key's institution's (403 otherwise) and cuts the answer to what the
institution may know. Errors are ``{"detail": {"code", "zh", "en"}}``: bad input 422, no key 401, another
institution's claim 403, limits 429 with ``Retry-After``, a workspace without a store 503.
``create_audit_app(workspace)`` is a standalone app with just these routes.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader

from fundguard.api import realtime_points
from fundguard.api.realtime_guard import Caller, RealtimeGuard, Refused, encode
from fundguard.service.db import Database, migrate
from fundguard.service.db import database_url as default_database_url

API_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="机构接口密钥 fgk_… (fundguard apikeys)"
)

router = APIRouter(prefix="/api/audit", tags=["实时审核"])

MAX_BODY = 8 * 1024 * 1024
"""Largest request body accepted (bytes): a claim of thousands of lines fits well within it."""
UNREAD_BODY_LIMIT = 64 * 1024
"""A refused call with a larger body gets ``Connection: close``: the server stops reading instead of taking in
megabytes it will not use (a flood of 3 MB claims without a key cost the workbench's event loop that much)."""

_build_lock = threading.Lock()

_ERROR = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "detail": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "zh": {"type": "string"},
                            "en": {"type": "string"},
                        },
                    }
                },
            }
        }
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "缺少或无效的接口密钥 / missing or invalid API key", **_ERROR},
    403: {"description": "单据不属于密钥所属机构 / claim of another institution", **_ERROR},
    413: {"description": "请求体过大 / body too large", **_ERROR},
    422: {"description": "单据或报文不合格 / invalid claim or message", **_ERROR},
    429: {
        "description": "超过频率限制或繁忙，见 Retry-After / rate limited or busy, see Retry-After",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "秒 seconds"}},
        **_ERROR,
    },
    503: {"description": "工作区没有数据仓，无法审核 / no store to audit against", **_ERROR},
}

_OBJECT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
    }
}


def _points(db: Database, route: str, out: dict, claims: list[dict], stage: str) -> int:
    with db.session() as s:
        return realtime_points.check(s, route, out, claims, stage)


def _error(status: int, code: str, zh: str, en: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": {"code": code, "zh": zh, "en": en}}, status_code=status, headers=headers)


def get_guard(app: FastAPI) -> RealtimeGuard:
    """The app's keys, limits, auditor process and call log (made on first use from ``app.state``)."""
    if getattr(app.state, "realtime_guard", None) is None:
        with _build_lock:
            if getattr(app.state, "realtime_guard", None) is None:
                state = app.state
                files = [str(p) for p in getattr(state, "rule_files", None) or []]
                state.realtime_guard = RealtimeGuard(state.db, str(state.workspace), files)
    return app.state.realtime_guard


def shutdown(app: FastAPI) -> None:
    """Stop the auditor process and write the last log rows (the app's lifespan end). Taken under the lock:
    an app served by two servers ends twice at once, and a pool shut down twice concurrently closes its
    pipes twice (``OSError: Bad file descriptor``, "Application shutdown failed")."""
    with _build_lock:
        guard = getattr(app.state, "realtime_guard", None)
        app.state.realtime_guard = None
    if guard is not None:
        guard.close()


async def _serve(request: Request, route: str, stage: str = "") -> Response:
    """Admit the caller, read the body, audit it in the auditor's process, log the call."""
    guard = get_guard(request.app)
    client = request.client.host if request.client else "-"
    try:
        caller = await guard.admit(request.headers, client, route)
    except Refused as r:
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > UNREAD_BODY_LIMIT:  # do not take in a body we refuse
            r.headers["Connection"] = "close"
        return _error(r.status, r.code, r.zh, r.en, r.headers)
    status, seen = 500, {}
    try:
        body = await request.body()  # ``BodyLimit`` (app) or the check below bounds it
        if len(body) > MAX_BODY:
            status = 413
            return _error(
                413,
                "too_large",
                f"请求体过大（上限 {MAX_BODY} 字节）",
                f"body too large (max {MAX_BODY} bytes)",
            )
        status, answer, seen = await guard.run(caller, route, body, stage)
        if status == 200 and seen.get("who"):  # 医保支付资格 of the claim's doctors (service database)
            answer, added = await _with_standing(guard, caller, route, body, answer, seen)
            seen["hits"] = seen.get("hits", 0) + added
    except HTTPException as e:
        status = e.status_code
        raise
    except Refused as r:  # the auditor's process died; a new one is starting
        status = r.status
        return _error(r.status, r.code, r.zh, r.en, r.headers)
    finally:
        if not caller.submitted:
            guard.release()
        guard.done(caller, status, psn_no=seen.get("psn_no"), mdtrt_id=seen.get("mdtrt_id"),
                   hit_count=seen.get("hits", 0))  # fmt: skip
    if status == 200:  # the answer is an object: its last member is spliced in, not re-encoded
        answer = b'%s,"elapsed_ms":%r}' % (answer[:-1], round(1000 * (time.perf_counter() - caller.t0), 3))
    return Response(answer, status_code=status, media_type="application/json")


async def _with_standing(
    guard: RealtimeGuard, caller: Caller, route: str, body: bytes, answer: bytes, seen: dict
) -> tuple[bytes, int]:
    """``answer`` with the 医保支付资格 and 联网结算 items of the claims (``realtime_points``), and how many.
    The database is asked only when a claim names a doctor or a patient on file (``realtime_standing``): for
    the others the answer goes back as the auditor encoded it, without a thread or a query."""
    loop = asyncio.get_running_loop()
    if not guard.standing.fresh():
        await loop.run_in_executor(None, guard.standing.refresh)
    if not guard.standing.may_concern(seen["who"]):
        return answer, 0
    staff = await guard.staff(caller, route, body)
    out = json.loads(answer)
    stage = seen.get("stage") or out.get("stage") or "事中"
    added = await loop.run_in_executor(None, _points, guard.db, route, out, staff, stage)
    return (encode(out) if added else answer), added


@router.post(
    "/claim", summary="实时审核一张单据（国家表结构）", openapi_extra=_OBJECT_BODY, responses=_RESPONSES
)
async def audit_claim(
    request: Request,
    stage: str = Query("事中", description="审核阶段：事前 或 事中"),
    _key: str | None = Security(API_KEY),
) -> Response:
    """One claim ``{"mdtrt_d": [1 row], "fee_list_d": [...], "setl_d"?, "setl_list_diag_d"?,
    "setl_list_oprn_d"?}`` with national field codes, of the key's institution; the hits of the real-time
    rules on it, with evidence drawn from the patient's other visits replaced by a fixed sentence."""
    return await _serve(request, "claim", stage)


@router.post(
    "/3101", summary="明细审核事前事中分析服务（3101 报文）", openapi_extra=_OBJECT_BODY, responses=_RESPONSES
)
async def audit_3101(request: Request, _key: str | None = Security(API_KEY)) -> Response:
    """A 3101-style request (the whole message or its ``input.data``) of the key's institution; a 3101-style
    answer whose ``output.result`` lists the hits (违规内容 ``vola_cont``, 违规金额 ``vola_amt``, 严重程度
    ``sev_deg`` …), cut to what the institution may know as for ``/claim``."""
    return await _serve(request, "3101")


def create_audit_app(
    workspace: Path, rule_files: list[Path] | None = None, database_url: str | None = None
) -> FastAPI:
    """A standalone app serving only the real-time audit routes over ``workspace``; keys and the call log are
    in the service database (``database_url``, default ``$FUNDGUARD_DATABASE_URL`` or the workspace's SQLite)."""
    url = database_url or default_database_url(workspace)
    migrate(url)
    db = Database(url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        shutdown(app)
        db.dispose()

    app = FastAPI(title="FundGuard 实时审核", version="1", lifespan=lifespan)
    app.state.workspace = Path(workspace)
    app.state.rule_files = list(rule_files or [])
    app.state.auditor = None
    app.state.db = db
    app.include_router(router)
    return app


__all__ = ["create_audit_app", "get_guard", "router", "shutdown"]
