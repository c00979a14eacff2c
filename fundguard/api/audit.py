"""实时审核 HTTP routes: one claim in national form, or a 3101-style request, through ``RealtimeAuditor``.

``router`` (prefix ``/api/audit``) serves ``POST /claim`` (``{"mdtrt_d": [...], "fee_list_d": [...], ...}``,
optional ``?stage=事前``) and ``POST /3101``. The auditor is built on first use from
``app.state.workspace`` and the national rules plus ``app.state.rule_files`` (a bureau's local rule files), for
the stages 事前 and 事中 at once, and kept in ``app.state.auditor``; one lock serialises the claims, since the
auditor holds one DuckDB connection. Every ``STALE_CHECK_SECONDS`` a request checks whether the store has new
imports and then reloads the auditor's history. Bad input gets HTTP 422 ``{"detail": {"code", "zh", "en"}}``; a workspace
without a store 503. ``create_audit_app(workspace)`` is a standalone app with just these routes.
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from fundguard.core.errors import FundGuardError, InputError
from fundguard.data.store import Store
from fundguard.engine.payload3101 import parse_3101, response_3101
from fundguard.engine.realtime import RealtimeAuditor
from fundguard.rules import load_rules, national_rule_files, workspace_rule_files

router = APIRouter(prefix="/api/audit", tags=["实时审核"])

STAGES = ("事前", "事中")
STALE_CHECK_SECONDS = 30.0
"""How often a request checks whether the store changed (new imports) and reloads the history."""
MAX_BODY = 8 * 1024 * 1024
"""Largest request body accepted (bytes): a claim of thousands of lines fits well within it."""

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
    422: {"description": "单据或报文不合格 / invalid claim or message", **_ERROR},
    503: {"description": "工作区没有数据仓，无法审核 / no store to audit against", **_ERROR},
}

_OBJECT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
    }
}


def _error(status: int, code: str, zh: str, en: str) -> JSONResponse:
    return JSONResponse({"detail": {"code": code, "zh": zh, "en": en}}, status_code=status)


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


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(
            f"请求体过大（{len(body)} 字节，上限 {MAX_BODY}）",
            f"body too large ({len(body)} bytes, max {MAX_BODY})",
        )
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"请求体不是合法的 JSON：{e}", f"body is not valid JSON: {e}") from None


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


async def _run(request: Request, work: Any, code: str) -> JSONResponse:
    """Parse the body and run ``work(app, payload)`` off the event loop; map errors to HTTP answers."""
    t0 = time.perf_counter()
    try:
        payload = await _json_body(request)
        body = await run_in_threadpool(work, request.app, payload)
    except InputError as e:
        return _error(422, code, e.zh, e.en)
    except FundGuardError as e:
        return _error(503, "auditor_unavailable", e.zh, e.en)
    body["elapsed_ms"] = round(1000 * (time.perf_counter() - t0), 3)
    return JSONResponse(body)


@router.post(
    "/claim", summary="实时审核一张单据（国家表结构）", openapi_extra=_OBJECT_BODY, responses=_RESPONSES
)
async def audit_claim(
    request: Request, stage: str = Query("事中", description="审核阶段：事前 或 事中")
) -> JSONResponse:
    """One claim ``{"mdtrt_d": [1 row], "fee_list_d": [...], "setl_d"?, "setl_list_diag_d"?,
    "setl_list_oprn_d"?}`` with national field codes; the hits of the real-time rules on it."""
    if stage not in STAGES:
        return _error(
            422,
            "invalid_stage",
            f"审核阶段应为 {'、'.join(STAGES)}（收到 {stage}）",
            f"stage must be 事前 or 事中 (got {stage})",
        )

    def work(app: FastAPI, payload: Any) -> dict:
        auditor, lock = get_auditor(app)
        with lock:
            hits = auditor.audit(payload, stage=stage)
            timings = dict(auditor.last_timings)
        visit = payload["mdtrt_d"][0]
        out = [_hit_json(h, auditor) for h in hits]
        return {
            "mdtrt_id": visit.get("mdtrt_id"),
            "psn_no": visit.get("psn_no"),
            "stage": stage,
            "hit_count": len(out),
            "amount_total": format(sum((Decimal(h["amount"]) for h in out), Decimal("0.00")), "f"),
            "hits": out,
            "audit_ms": timings,
        }

    return await _run(request, work, "invalid_claim")


@router.post(
    "/3101", summary="明细审核事前事中分析服务（3101 报文）", openapi_extra=_OBJECT_BODY, responses=_RESPONSES
)
async def audit_3101(request: Request) -> JSONResponse:
    """A 3101-style request (the whole message or its ``input.data``); a 3101-style answer whose
    ``output.result`` lists the hits (违规内容 ``vola_cont``, 违规金额 ``vola_amt``, 严重程度 ``sev_deg`` …)."""

    def work(app: FastAPI, payload: Any) -> dict:
        auditor, lock = get_auditor(app)
        req = parse_3101(payload, set(auditor.rule_by_id))
        t0 = time.perf_counter()
        per_claim = []
        with lock:
            for c in req.claims:
                hits = auditor.audit(c.claim, stage=req.stage)
                per_claim.append([h for h in hits if not req.rule_ids or h["rule_id"] in req.rule_ids])
        return response_3101(req, per_claim, auditor.rule_by_id, 1000 * (time.perf_counter() - t0))

    return await _run(request, work, "invalid_3101")


def create_audit_app(workspace: Path, rule_files: list[Path] | None = None) -> FastAPI:
    """A standalone app serving only the real-time audit routes over ``workspace``."""
    app = FastAPI(title="FundGuard 实时审核", version="1")
    app.state.workspace = Path(workspace)
    app.state.rule_files = list(rule_files or [])
    app.state.auditor = None
    app.include_router(router)
    return app


__all__ = ["create_audit_app", "get_auditor", "router"]
