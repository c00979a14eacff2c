"""The FastAPI application: ``create_app(workspace, database_url)`` wires the routes, errors, docs and workbench.

Owns the app factory, the mapping of service errors (and request-validation errors) to HTTP answers of the
form ``{"detail": {"code", "zh", "en"}}``, the offline API docs (Swagger UI served from the vendored copy,
no CDN) and the static web workbench mounted at ``/``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from fundguard.core.errors import FundGuardError, InputError
from fundguard.core.settings import settings
from fundguard.service import access, record
from fundguard.service.db import Database, migrate
from fundguard.service.db import database_url as default_database_url
from fundguard.service.errors import RowsRejected, ServiceError
from fundguard.supervision.workflow import InvalidTransition as WorkflowInvalidTransition
from fundguard.web import STATIC_DIR

from . import (
    routes_admin,
    routes_auth,
    routes_campaigns,
    routes_cases,
    routes_clues,
    routes_credit,
    routes_disclosure,
    routes_exchange,
    routes_inspections,
    routes_leads,
    routes_points,
    routes_processes,
    routes_public,
    routes_public_disclosure,
    routes_public_points,
    routes_public_reports,
    routes_referrals,
    routes_reports,
    routes_users,
)
from .routes_clues import MAX_REQUEST_BYTES

_HTTP_ZH = {
    400: ("bad_request", "请求无效"),
    401: ("not_authenticated", "请先登录"),
    403: ("forbidden", "无权访问"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
}


def error_body(code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"detail": {"code": code, "zh": zh, "en": en, **extra}}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "请求体"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    def _service(_: Request, exc: ServiceError) -> JSONResponse:
        retry = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry)} if retry else None
        extra = {"rows": exc.rows} if isinstance(exc, RowsRejected) else {}
        return JSONResponse(
            error_body(exc.code, exc.zh, exc.en, **extra), status_code=exc.http_status, headers=headers
        )

    @app.exception_handler(WorkflowInvalidTransition)
    def _transition(_: Request, exc: WorkflowInvalidTransition) -> JSONResponse:
        return JSONResponse(error_body("invalid_transition", exc.zh, exc.en), status_code=409)

    @app.exception_handler(InputError)
    def _input(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(error_body("validation", exc.zh, exc.en), status_code=422)

    @app.exception_handler(FundGuardError)
    def _other(_: Request, exc: FundGuardError) -> JSONResponse:
        return JSONResponse(error_body("error", exc.zh, exc.en), status_code=400)

    @app.exception_handler(RequestValidationError)
    def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        names = "、".join(dict.fromkeys(_field_name(tuple(e.get("loc", ()))) for e in errors)) or "请求"
        simple = [
            {"field": _field_name(tuple(e.get("loc", ()))), "type": e.get("type"), "msg": e.get("msg")}
            for e in errors
        ]
        return JSONResponse(
            error_body(
                "validation",
                f"请求参数无效：{names}",
                f"invalid request parameters: {names}",
                errors=simple,
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict) and {"code", "zh", "en"} <= exc.detail.keys():
            body = {"detail": exc.detail}
        else:
            code, zh = _HTTP_ZH.get(exc.status_code, ("error", "请求失败"))
            body = error_body(code, zh, str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


# The workbench loads only its own files; ECharts and the SPA set inline styles, never inline scripts.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class SecurityHeaders:
    """Pure ASGI (not ``BaseHTTPMiddleware``, whose task group would wrap errors raised while reading the body):
    adds the security headers to every response start."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"no-referrer")]  # fmt: skip
        if path.startswith("/api/"):
            extra.append((b"cache-control", b"no-store"))  # patients' data: never in a shared cache
        if path != "/api/docs":  # Swagger UI's page starts itself with an inline script
            extra.append((b"content-security-policy", _CSP.encode()))

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


class SameOrigin:
    """CSRF: a state-changing request (POST/PUT/PATCH/DELETE under ``/api/``) whose ``Origin`` (or, without it,
    ``Referer``) names another origin is refused 403 — another port counts as another origin, which SameSite
    alone lets through. A browser request carrying the session cookie must name its origin; API clients that
    authenticate by ``Authorization`` send neither and are not cookie-borne."""

    UNSAFE: ClassVar[set[str]] = {"POST", "PUT", "PATCH", "DELETE"}

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in self.UNSAFE
            and scope.get("path", "").startswith("/api/")
        ):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            claimed = headers.get("origin") or headers.get("referer") or ""
            cookie = "fg_session=" in headers.get("cookie", "")
            bearer = headers.get("authorization", "").lower().startswith("bearer ")
            if (claimed and not _same_origin(claimed, scope, headers)) or (
                cookie and not bearer and not claimed
            ):
                body = json.dumps(error_body("forbidden", "跨站请求被拒绝（来源不符）", "cross-site request refused (origin mismatch)"),
                                  ensure_ascii=False).encode()  # fmt: skip
                await send({"type": "http.response.start", "status": 403, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _same_origin(claimed: str, scope: dict, headers: dict[str, str]) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(claimed)
    scheme = "https" if scope.get("scheme") == "https" else "http"
    return parts.scheme == scheme and parts.netloc.lower() == headers.get("host", "").lower()


class BodyLimit:
    """Refuse oversized request bodies before anything parses them: by the declared Content-Length at once,
    and by counting what arrives for chunked uploads. Appeals may carry files; everything else is small JSON."""

    def __init__(
        self,
        app: Any,
        *,
        default: int = 1024 * 1024,
        uploads: int = MAX_REQUEST_BYTES,
        prefixes: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads
        self.prefixes = prefixes or {}  # e.g. the real-time audit's larger claims

    def _limit(self, path: str) -> int:
        if path.startswith("/api/clues/") and path.endswith("/appeal"):
            return self.uploads
        return next((n for p, n in self.prefixes.items() if path.startswith(p)), self.default)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(send, limit)
            return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # FastAPI passes an HTTPException raised while reading the body through
                    raise HTTPException(413, detail=self._detail(limit))
            return message

        await self.app(scope, counted, send)

    @staticmethod
    def _detail(limit: int) -> dict[str, str]:
        mb = limit / 1024 / 1024
        return error_body(
            "upload_too_large", f"请求内容超过 {mb:.0f} MB", f"request body larger than {mb:.0f} MB"
        )["detail"]

    @staticmethod
    async def _too_large(send: Any, limit: int) -> None:
        mb = limit / 1024 / 1024
        body = json.dumps(
            error_body(
                "upload_too_large", f"请求内容超过 {mb:.0f} MB", f"request body larger than {mb:.0f} MB"
            ),
            ensure_ascii=False,
        ).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def _optional_module(module: str) -> Any | None:
    """A module that may not be installed yet (the real-time audit routes), or None."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


def _housekeeping(db: Database, url: str, *, anchor: bool) -> int:
    """One tick of the server's periodic task: purge the access log past its retention (``access.purge``, never
    under six months), then export the enforcement record's head to the anchor file. Returns how many log
    entries were purged."""
    with db.session() as s:
        purged = access.purge(s)
    if purged:
        logging.getLogger("fundguard.access").info("access log: %d entries past retention purged", purged)
    if anchor:
        with db.session() as s:
            record.anchor(s, url)
    return purged


async def _periodic(db: Database, url: str) -> None:
    """Every ``FUNDGUARD_ANCHOR_MINUTES`` (hourly when anchoring is off): the housekeeping tick."""
    while True:
        await asyncio.sleep((settings().anchor_minutes or 60) * 60)
        try:
            await asyncio.to_thread(_housekeeping, db, url, anchor=bool(settings().anchor_minutes))
        except Exception:  # a full disk or a database hiccup must not end the task; the next tick retries
            logging.getLogger("fundguard.record").exception("periodic anchor/purge failed")


def create_app(workspace: Path, database_url: str | None = None) -> FastAPI:
    """The app over ``workspace`` (audit results, uploads) and the service database (migrated on start).

    ``database_url`` defaults to ``$FUNDGUARD_DATABASE_URL`` or SQLite at ``<workspace>/service.db``.
    """
    workspace = Path(workspace)
    url = database_url or default_database_url(workspace)
    migrate(url)
    db = Database(url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_periodic(db, url))
        yield
        task.cancel()
        if audit is not None:
            audit.shutdown(app)  # the real-time pool and the last rows of its call log
        db.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="FundGuard 医保基金智能监管平台 API",
        version="1",
        description="线索 → 案件 → 处理的监管服务接口。认证：`POST /api/auth/login` 后使用 Cookie `fg_session` "
        "或 `Authorization: Bearer <token>`。错误：`{detail: {code, zh, en}}`。",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.workspace = workspace
    app.state.db = db
    _install_error_handlers(app)
    body_limits: dict[str, int] = {}
    body_limits["/api/public/reports"] = routes_public_reports.MAX_BODY  # attachments (issue 16a)
    audit = _optional_module("fundguard.api.audit")
    if audit is not None:  # the real-time claim audit (事前/事中), /api/audit/*, over app.state.workspace
        app.include_router(audit.router)
        body_limits[audit.router.prefix + "/"] = int(getattr(audit, "MAX_BODY", 8 * 1024 * 1024))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(SameOrigin)
    app.add_middleware(BodyLimit, prefixes=body_limits)

    for module in (routes_auth, routes_processes, routes_clues, routes_cases, routes_referrals, routes_admin,
                   routes_users, routes_points, routes_credit):  # fmt: skip
        app.include_router(module.router)
    app.include_router(routes_inspections.router)
    app.include_router(routes_reports.router)  # issue 16a: 举报 (handlers) and the public side
    app.include_router(routes_public.router)
    for module in (routes_disclosure, routes_public_disclosure, routes_exchange):  # issue 16b
        app.include_router(module.router)
    app.include_router(routes_leads.router)  # issue 13: model leads
    app.include_router(routes_public_points.router)  # issue 15: 公众查询 of the payment qualification
    app.include_router(routes_campaigns.router)
    app.include_router(routes_campaigns.overview_router)

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        # FastAPI's default page loads Swagger UI from a CDN; bureau networks are offline, so use our copy.
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="FundGuard API 文档",
            swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="data:,",
        )

    @app.get("/api/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # Last, so every /api route above wins over the static files.
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="web")
    return app
