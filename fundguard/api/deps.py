"""Request dependencies of the API: the service database, the session token (cookie or Bearer) and the actor.

Routes are plain ``def`` functions (run in FastAPI's thread pool) that open one database session per request
through ``Ctx.session()``; the transaction commits before the response is built, so a client that reads its
own write right after never sees stale data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request, UploadFile
from sqlalchemy.orm import Session

from fundguard.service import access
from fundguard.service import auth as auth_service
from fundguard.service.db import Database
from fundguard.service.errors import BadUpload, NotAuthenticated

COOKIE = "fg_session"
MAX_PAGE_SIZE = 200
MAX_IMPORT_BYTES = (
    5 * 1024 * 1024
)  # an import file (registry, partner exchange): what a bureau's Excel reaches


def read_upload(file: UploadFile, what_zh: str = "导入文件", what_en: str = "the import file") -> bytes:
    """An uploaded import file's bytes, read no further than the limit (413 past it)."""
    content = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise BadUpload(f"{what_zh}超过 5 MB", f"{what_en} is larger than 5 MB", too_large=True)
    return content


def token_from(request: Request) -> str | None:
    """The session token from ``Authorization: Bearer …`` (API clients) or the ``fg_session`` cookie (browser)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


@dataclass
class Ctx:
    """What a route needs: the database and the caller's token (checked when a session is opened)."""

    db: Database
    token: str | None
    workspace: Path
    client: str = ""

    @contextmanager
    def session(
        self, *, authenticated: bool = True, pending_ok: bool = False
    ) -> Iterator[tuple[Session, Any]]:
        """One transaction; yields ``(session, actor)`` (actor ``None`` when ``authenticated`` is False;
        ``pending_ok`` lets a user who must change their password in: the password and /me routes)."""
        with self.db.session() as s:
            actor = None
            if authenticated:
                if not self.token:
                    raise NotAuthenticated("请先登录", "not logged in")
                actor = auth_service.actor_for_token(s, self.token, pending_ok=pending_ok)
            yield s, actor

    def log(
        self, session: Session, username: str, action: str, target: str = "", outcome: str = "ok"
    ) -> None:
        """One line of the access log (logins, reads of patient-level data, administrators' actions)."""
        access.log(session, username, action, target, self.client, outcome)


def get_ctx(request: Request) -> Ctx:
    state = request.app.state
    return Ctx(db=state.db, token=token_from(request), workspace=state.workspace,
               client=request.client.host if request.client else "")  # fmt: skip


CtxDep = Annotated[Ctx, Depends(get_ctx)]
PageQ = Annotated[int, Query(ge=1, le=1_000_000, description="页码，从 1 开始 / page number from 1")]
SizeQ = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="每页条数 1–200 / page size 1–200")]
