"""A small audited workspace with a seeded service database, shared by the API and the web-workbench tests.

Real components end to end: the synthetic city (30k fee lines) is generated, ingested and audited with the
national rules; the service database is migrated, seeded with one demo user per role, and the audit run is
imported as clues. Nothing is mocked.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.data.ingest import ingest
from fundguard.engine import run_batch
from fundguard.rules import load_rules
from fundguard.service import auth as auth_service
from fundguard.service import clues as clue_service
from fundguard.service import seed as seed_service
from fundguard.service.db import Database, migrate
from fundguard.service.models import Clue
from fundguard.synth import CityConfig, generate_city

FEE_LINES = 30_000
PG_URL = os.environ.get("FUNDGUARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fresh_pg_schema(schema: str) -> str:
    """A URL on the machine's PostgreSQL whose connections use ``schema``, dropped and recreated first
    (the test is skipped when no server answers)."""
    import pytest
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.begin() as con:
            con.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            con.execute(sa.text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    except sa.exc.OperationalError as exc:
        pytest.skip(
            f"PostgreSQL not reachable at {PG_URL} ({exc.__class__.__name__}); set FUNDGUARD_TEST_PG_URL"
        )
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@dataclass
class ServiceWorkspace:
    workspace: Path
    database_url: str
    users: list[dict[str, Any]]
    imported: dict[str, Any]

    def user(self, role: str) -> dict[str, Any]:
        """The first seeded user with ``role`` (province_supervisor, hospital, …)."""
        for u in self.users:
            if u["role"] == role:
                return u
        raise KeyError(f"no seeded user with role {role}: {[u['role'] for u in self.users]}")


_BUILT: dict[str, Path] = {}


def built_once(name: str, build: Callable[[Path], None]) -> Path:
    """The workspace ``build`` makes, made once per test process (each xdist worker builds its own) and removed
    at exit; callers take a ``workspace_copy`` of it."""
    if name not in _BUILT:
        root = Path(tempfile.mkdtemp(prefix=f"fundguard-{name}-"))
        atexit.register(shutil.rmtree, root, True)
        build(root / "ws")
        _BUILT[name] = root / "ws"
    return _BUILT[name]


def workspace_copy(shared: Path, target: Path) -> Path:
    """A workspace of the caller's own: the shared store, its derived cache and the raw city linked (large,
    only read), everything else copied, so an audit run, a local rule or a document one test writes is never
    another test's."""
    target.mkdir(parents=True)
    for entry in shared.iterdir():
        if entry.name in ("store", "cache", "city"):
            (target / entry.name).symlink_to(entry)
        elif entry.is_dir():
            shutil.copytree(entry, target / entry.name)
        else:
            shutil.copy2(entry, target / entry.name)
    return target


def _audited_city(ws: Path) -> None:
    generate_city(ws / "city", CityConfig(seed=7, fee_lines=FEE_LINES, fmt="parquet"), progress=False)
    ingest([d for d in sorted((ws / "city").iterdir()) if d.is_dir()], ws, progress=False)
    run_batch(ws, load_rules(), progress=False)


def build_service_workspace(root: Path, *, database_url: str | None = None) -> ServiceWorkspace:
    ws = workspace_copy(built_once("service-city", _audited_city), root / "ws")
    url = database_url or f"sqlite:///{(ws / 'service.db').resolve()}"
    migrate(url)
    db = Database(url)
    try:
        with db.session() as s:
            users = seed_service.seed_demo(s, ws)
        with db.session() as s:
            imported = clue_service.import_run(s, ws)
        with db.session() as s:
            users.insert(0, _busiest_hospital_user(s))
            seed_service.seed_inspection_year(s)  # a published draw, a flight inspection mid-way
    finally:
        db.dispose()
    return ServiceWorkspace(ws, url, users, imported)


def _busiest_hospital_user(session: Session) -> dict[str, Any]:
    """A hospital user for the hospital with the most clues (the seeded one may have none in a small city)."""
    code, admdvs = session.execute(
        select(Clue.fixmedins_code, Clue.admdvs)
        .where(Clue.fixmedins_code.startswith("H"))
        .group_by(Clue.fixmedins_code, Clue.admdvs)
        .order_by(func.count().desc(), Clue.fixmedins_code)
        .limit(1)
    ).one()
    password = auth_service.generate_password()
    auth_service.create_user(
        session,
        "yiyuan_test",
        password,
        "hospital",
        admdvs,
        display_name="测试医院医保办",
        fixmedins_code=code,
        must_change=False,
    )
    return {"username": "yiyuan_test", "password": password, "role": "hospital", "role_zh": "医院医保办",
            "admdvs": admdvs, "fixmedins_code": code}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A real uvicorn server over ``create_app`` in a background thread."""

    app: Any
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
