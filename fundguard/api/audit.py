"""实时审核 HTTP routes: one claim in national form, or a 3101-style request, through ``RealtimeAuditor``.

``router`` (prefix ``/api/audit``) serves ``POST /claim`` (``{"mdtrt_d": [...], "fee_list_d": [...], ...}``,
optional ``?stage=事前``) and ``POST /3101``. Callers are hospitals' HIS, each with an API key of its
institution (``X-API-Key``; ``fundguard apikeys``): ``realtime_guard`` checks the key and the rate limits,
runs the call in the real-time pool (never the web server's threads), logs it (``realtime_calls``) and cuts
the answer to what the institution may know. A claim must be the key's institution's (an absent
``fixmedins_code`` is taken to be it); another's is 403.

The auditor is built on first use from ``app.state.workspace`` and the national rules plus
``app.state.rule_files`` (a bureau's local rule files), for the stages 事前 and 事中 at once, and kept in
``app.state.auditor``; one lock serialises the claims, since the auditor holds one DuckDB connection. Every
``STALE_CHECK_SECONDS`` a call checks whether the store has new imports and then reloads the auditor's
history. Errors are ``{"detail": {"code", "zh", "en"}}``: bad input 422, no key 401, another institution's
claim 403, limits 429 with ``Retry-After``, a workspace without a store 503. ``create_audit_app(workspace)``
is a standalone app with just these routes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader

from fundguard.api.realtime_guard import Caller, RealtimeGuard, Refused, disclose, parse_json
from fundguard.core.errors import FundGuardError, InputError
from fundguard.data.store import Store
from fundguard.engine.payload3101 import parse_3101, response_3101
from fundguard.engine.realtime import RealtimeAuditor
from fundguard.rules import load_rules, national_rule_files, workspace_rule_files
from fundguard.service.db import Database, migrate
from fundguard.service.db import database_url as default_database_url

log = logging.getLogger(__name__)
API_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="机构接口密钥 fgk_… (fundguard apikeys)"
)

router = APIRouter(prefix="/api/audit", tags=["实时审核"])

STAGES = ("事前", "事中")
STALE_CHECK_SECONDS = 30.0
"""How often a request checks whether the store changed (new imports) and reloads the history."""
MAX_BODY = 8 * 1024 * 1024
"""Largest request body accepted (bytes): a claim of thousands of lines fits well within it."""

_build_lock = threading.Lock()


class OtherInstitution(FundGuardError):
    """A claim of another institution than the key's."""


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


def _error(status: int, code: str, zh: str, en: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": {"code": code, "zh": zh, "en": en}}, status_code=status, headers=headers)


def get_guard(app: FastAPI) -> RealtimeGuard:
    """The app's keys, limits, pool and call log (made on first use over ``app.state.db``)."""
    if getattr(app.state, "realtime_guard", None) is None:
        with _build_lock:
            if getattr(app.state, "realtime_guard", None) is None:
                app.state.realtime_guard = RealtimeGuard(app.state.db)
    return app.state.realtime_guard


def shutdown(app: FastAPI) -> None:
    """Stop the pool and write the last log rows (the app's lifespan end)."""
    guard = getattr(app.state, "realtime_guard", None)
    if guard is not None:
        guard.close()
        app.state.realtime_guard = None


def get_auditor(app: FastAPI) -> tuple[RealtimeAuditor, threading.Lock]:
    """The app's auditor (built on first use) and the lock that serialises its use."""
    state = app.state
    if getattr(state, "auditor", None) is None:
        with _build_lock:
            if getattr(state, "auditor", None) is None:
                workspace = getattr(state, "workspace", None)
                if workspace is None:
                    raise FundGuardError("服务未配置工作区", "the service has no workspace configured")
                if not Store(Path(workspace)).root.exists():  # answer at once, without loading the rules
                    raise FundGuardError(
                        f"工作区 {workspace} 没有数据仓", f"workspace {workspace} has no store"
                    )
                local = [Path(p) for p in (getattr(state, "rule_files", None) or [])]
                try:
                    # the workspace's own files last, as `fundguard audit` does (rules paused by a maintainer)
                    rules = load_rules(
                        [*national_rule_files(), *local, *workspace_rule_files(Path(workspace))]
                    )
                    auditor = RealtimeAuditor(Path(workspace), rules, stage=STAGES)
                except InputError as e:  # no store: the service cannot audit, the claim is not at fault
                    raise FundGuardError(e.zh, e.en) from None
                state.auditor_lock = threading.Lock()
                state.auditor = auditor
    if getattr(state, "auditor_lock", None) is None:  # an auditor put in place by the caller
        state.auditor_lock = threading.Lock()
    now = time.monotonic()
    last = getattr(state, "auditor_checked", None)
    if last is None or now - last >= STALE_CHECK_SECONDS:
        state.auditor_checked = now
        if last is not None:
            with state.auditor_lock:
                if state.auditor.stale():
                    state.auditor.refresh()
    return state.auditor, state.auditor_lock


def _hit_json(hit: dict, auditor: RealtimeAuditor) -> dict:
    rule = auditor.rule_by_id[hit["rule_id"]]
    amount = hit["amount"] if hit["amount"] is not None else Decimal(0)
    return {
        "rule_id": rule.id,
        "rule_name": rule.name_zh,
        "evidence_zh": hit["evidence_zh"],
        "amount": format(Decimal(amount).quantize(Decimal("0.01")), "f"),
        "result_type": rule.result_type,
        "severity": rule.severity,
        "legal_basis": rule.legal_basis,
        "suggested_handling": rule.suggested_handling,
        "mdtrt_id": hit["mdtrt_id"],
        "psn_no": hit["psn_no"],
        "fixmedins_code": hit["fixmedins_code"],
        "hilist_code": hit["hilist_code"],
        "bkkp_sn": list(hit["bkkp_sn"] or []),
        "kp_id": hit["kp_id"],
    }


async def _serve(
    request: Request, route: str, code: str, work: Callable[[FastAPI, Any, Caller, dict], dict]
) -> JSONResponse:
    """Admit the caller, read the body, run ``work(app, payload, caller, seen)`` in the real-time pool, log
    the call (``seen`` collects the patient, the visit and the hit count) and map errors to HTTP answers."""
    guard = get_guard(request.app)
    client = request.client.host if request.client else "-"
    try:
        caller = await guard.admit(request.headers, client, route)
    except Refused as r:
        return _error(r.status, r.code, r.zh, r.en, r.headers)
    status, seen = 500, {}
    try:
        body = await request.body()  # ``BodyLimit`` (app) or ``MAX_BODY`` bounds it
        if len(body) > MAX_BODY:
            status = 413
            return _error(
                413,
                "too_large",
                f"请求体过大（上限 {MAX_BODY} 字节）",
                f"body too large (max {MAX_BODY} bytes)",
            )
        out = await guard.run(caller, _parse_then, work, request.app, body, caller, seen)
        status = 200
    except InputError as e:
        status = 422
        return _error(422, code, e.zh, e.en)
    except OtherInstitution as e:
        status = 403
        return _error(403, "other_institution", e.zh, e.en)
    except FundGuardError as e:
        status = 503
        return _error(503, "auditor_unavailable", e.zh, e.en)
    except HTTPException as e:
        status = e.status_code
        raise
    except Exception:
        log.exception("real-time audit failed")
        return _error(
            500, "internal", "实时审核内部错误，已记录", "internal error in the real-time audit; logged"
        )
    finally:
        if not caller.submitted:
            guard.release()
        guard.done(caller, status, psn_no=seen.get("psn_no"), mdtrt_id=seen.get("mdtrt_id"),
                   hit_count=seen.get("hits", 0))  # fmt: skip
    out["elapsed_ms"] = round(1000 * (time.perf_counter() - caller.t0), 3)
    return JSONResponse(out)


def _parse_then(work: Callable[..., dict], app: FastAPI, body: bytes, caller: Caller, seen: dict) -> dict:
    return work(app, parse_json(body), caller, seen)


def _own(payload: Any, code: str) -> None:
    """Check that the claim is the institution's; fill ``fixmedins_code`` where the HIS left it out."""
    if not isinstance(payload, dict):
        return  # ``claim_tables`` says what is wrong with it
    for name in ("mdtrt_d", "fee_list_d", "setl_d"):
        rows = payload.get(name)
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, dict):
                continue
            got = row.get("fixmedins_code")
            if got is None or (isinstance(got, str) and not got.strip()):
                row["fixmedins_code"] = code
            elif str(got).strip() != code:
                raise OtherInstitution(
                    f"{name} 的定点医药机构编号 {got} 与接口密钥所属机构 {code} 不符",
                    f"{name} fixmedins_code {got} is not the key's institution {code}",
                )


def _text(v: Any) -> str | None:
    return None if v is None or isinstance(v, dict | list) else str(v)


def _claim_sns(claim: dict) -> set[str]:
    return {str(r.get("bkkp_sn")) for r in claim.get("fee_list_d") or [] if isinstance(r, dict)}


@router.post(
    "/claim", summary="实时审核一张单据（国家表结构）", openapi_extra=_OBJECT_BODY, responses=_RESPONSES
)
async def audit_claim(
    request: Request,
    stage: str = Query("事中", description="审核阶段：事前 或 事中"),
    _key: str | None = Security(API_KEY),
) -> JSONResponse:
    """One claim ``{"mdtrt_d": [1 row], "fee_list_d": [...], "setl_d"?, "setl_list_diag_d"?,
    "setl_list_oprn_d"?}`` with national field codes, of the key's institution; the hits of the real-time
    rules on it, with evidence drawn from the patient's other visits replaced by a fixed sentence."""

    def work(app: FastAPI, payload: Any, caller: Caller, seen: dict) -> dict:
        if stage not in STAGES:
            raise InputError(
                f"审核阶段应为 {'、'.join(STAGES)}（收到 {stage}）",
                f"stage must be 事前 or 事中 (got {stage})",
            )
        visits = payload.get("mdtrt_d") if isinstance(payload, dict) else None
        if isinstance(visits, list) and visits and isinstance(visits[0], dict):  # logged whatever follows
            seen["psn_no"], seen["mdtrt_id"] = (_text(visits[0].get(k)) for k in ("psn_no", "mdtrt_id"))
        _own(payload, caller.key.fixmedins_code)
        auditor, lock = get_auditor(app)
        with lock:
            hits = auditor.audit(payload, stage=stage)
            timings = dict(auditor.last_timings)
        visit = payload["mdtrt_d"][0]
        sns = _claim_sns(payload)
        out = [_hit_json(disclose(h, auditor.rule_by_id[h["rule_id"]], sns), auditor) for h in hits]
        seen["hits"] = len(out)
        return {
            "mdtrt_id": visit.get("mdtrt_id"),
            "psn_no": visit.get("psn_no"),
            "stage": stage,
            "hit_count": len(out),
            "amount_total": format(sum((Decimal(h["amount"]) for h in out), Decimal("0.00")), "f"),
            "hits": out,
            "audit_ms": timings,
        }

    return await _serve(request, "claim", "invalid_stage" if stage not in STAGES else "invalid_claim", work)


@router.post(
    "/3101", summary="明细审核事前事中分析服务（3101 报文）", openapi_extra=_OBJECT_BODY, responses=_RESPONSES
)
async def audit_3101(request: Request, _key: str | None = Security(API_KEY)) -> JSONResponse:
    """A 3101-style request (the whole message or its ``input.data``) of the key's institution; a 3101-style
    answer whose ``output.result`` lists the hits (违规内容 ``vola_cont``, 违规金额 ``vola_amt``, 严重程度
    ``sev_deg`` …), cut to what the institution may know as for ``/claim``."""

    def work(app: FastAPI, payload: Any, caller: Caller, seen: dict) -> dict:
        code = caller.key.fixmedins_code
        if isinstance(payload, dict) and isinstance(payload.get("input"), dict):
            payload.setdefault(
                "fixmedins_code", code
            )  # the envelope names the institution for its encounters
        auditor, lock = get_auditor(app)
        req = parse_3101(payload, set(auditor.rule_by_id))
        seen["psn_no"] = ",".join(c.patn_id for c in req.claims)
        seen["mdtrt_id"] = ",".join(c.mdtrt_id for c in req.claims)
        for c in req.claims:
            _own(c.claim, code)
        t0 = time.perf_counter()
        per_claim = []
        with lock:
            for c in req.claims:
                hits = auditor.audit(c.claim, stage=req.stage)
                sns = _claim_sns(c.claim)
                per_claim.append(
                    [disclose(h, auditor.rule_by_id[h["rule_id"]], sns) for h in hits
                     if not req.rule_ids or h["rule_id"] in req.rule_ids]
                )  # fmt: skip
        seen["hits"] = sum(map(len, per_claim))
        return response_3101(req, per_claim, auditor.rule_by_id, 1000 * (time.perf_counter() - t0))

    return await _serve(request, "3101", "invalid_3101", work)


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


__all__ = ["create_audit_app", "get_auditor", "get_guard", "router", "shutdown"]
