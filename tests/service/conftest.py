"""Fixtures for the service tests: one audited synthetic city per session, and a freshly migrated service
database per test on SQLite and — when reachable — on PostgreSQL (``FUNDGUARD_TEST_PG_URL``, default the
machine's server), in a schema of its own that is dropped and recreated for every test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from service_ws import workspace_copy

from fundguard.data.ingest import ingest
from fundguard.engine import run_batch
from fundguard.rules import load_rules
from fundguard.service import auth, clues, seed
from fundguard.service.db import Database, migrate
from fundguard.service.scope import Actor
from fundguard.synth import CityConfig, generate_city

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "fundguard_service_test"
PG_TEMPLATE = "fundguard_service_template"
PG_WORK = "fundguard_service_work"
TODAY = "2026-03-02"  # a fixed "today" for due dates and overdue checks


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40k-line synthetic city, ingested and audited once (about 6 s)."""
    tmp = tmp_path_factory.mktemp("service_city")
    out = tmp / "city"
    generate_city(out, CityConfig(seed=11, fee_lines=40_000, fmt="parquet"), progress=False)
    ws = tmp / "ws"
    ingest([p for p in sorted(out.iterdir()) if p.is_dir()], ws, progress=False)
    run_batch(ws, load_rules(), progress=False)
    return ws


def _pg_base_url() -> str:
    return os.environ.get("FUNDGUARD_TEST_PG_URL", PG_DEFAULT)


def _pg_available() -> str | None:
    """None when reachable, else the reason."""
    try:
        engine = sa.create_engine(_pg_base_url(), connect_args={"connect_timeout": 3})
        with engine.connect() as con:
            con.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver error means "not here"
        return (
            f"PostgreSQL not reachable at {_pg_base_url()} ({type(exc).__name__}); set FUNDGUARD_TEST_PG_URL"
        )


_PG_REASON = _pg_available()


def _fresh_pg(schema: str = PG_SCHEMA) -> str:
    engine = sa.create_engine(_pg_base_url())
    with engine.begin() as con:
        con.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        con.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return _pg_url(schema)


def _pg_url(schema: str) -> str:
    sep = "&" if "?" in _pg_base_url() else "?"
    return f"{_pg_base_url()}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and _PG_REASON:
        pytest.skip(_PG_REASON)
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> str:
    """An empty, unmigrated database (for the migration tests themselves)."""
    return _fresh_pg() if backend == "postgresql" else f"sqlite:///{tmp_path / 'service.db'}"


@pytest.fixture(scope="session")
def sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the head revision, migrated once; tests copy the file (a migration run
    costs about two seconds, a copy nothing)."""
    path = tmp_path_factory.mktemp("service_migrated") / "service.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    """The PostgreSQL twin: the tests' working schema, migrated once; each test empties it (``_reset_pg``)."""
    url = _fresh_pg(PG_WORK)
    migrate(url)
    return url


@pytest.fixture
def migrated_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database at the head revision, the test's own."""
    if backend == "postgresql":
        url = request.getfixturevalue("pg_migrated")
        _reset_pg()
        return url
    target = tmp_path / "service.db"
    shutil.copyfile(request.getfixturevalue("sqlite_migrated"), target)
    return f"sqlite:///{target}"


@pytest.fixture
def db(migrated_url: str) -> Iterator[Database]:
    database = Database(migrated_url)
    yield database
    database.dispose()


@dataclass
class World:
    """A seeded, imported service database and a way to act as each demo user."""

    db: Database
    workspace: Path
    passwords: dict[str, str]

    actors: dict[str, Actor] = field(default_factory=dict)

    def actor(self, username: str) -> Actor:
        """The user as a real login gives it (logged in once per test: a login writes, and hashes)."""
        if username not in self.actors:
            with self.db.session() as s:
                token, _ = auth.login(s, username, self.passwords[username])
                self.actors[username] = auth.actor_for_token(s, token)
        return self.actors[username]


def _seed(db: Database, workspace: Path) -> dict[str, str]:
    with pytest.MonkeyPatch.context() as mp, db.session() as s:
        mp.setenv("FUNDGUARD_TODAY", TODAY)  # due dates are computed at import; restored for other tests
        users = seed.seed_demo(s, workspace)
        clues.import_run(s, workspace)
    return {u["username"]: u["password"] for u in users}


@pytest.fixture(scope="session")
def sqlite_template(workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A seeded and imported SQLite database built once; each test gets a copy (seeding hashes 8 passwords)."""
    path = tmp_path_factory.mktemp("service_template") / "service.db"
    url = f"sqlite:///{path}"
    migrate(url)
    db = Database(url)
    passwords = _seed(db, workspace)
    db.dispose()
    return path, passwords


@pytest.fixture(scope="session")
def pg_template(workspace: Path) -> dict[str, str]:
    """The PostgreSQL twin of ``sqlite_template``: a seeded, imported schema that each test copies."""
    url = _fresh_pg(PG_TEMPLATE)
    migrate(url)
    db = Database(url)
    passwords = _seed(db, workspace)
    db.dispose()
    return passwords


def _reset_pg(copy_from: str | None = None) -> None:
    """Empty the working schema (as a superuser, past the record's append-only triggers) and, given a template
    schema, copy every table's rows from it and move the id sequences past the copied ids: one transaction,
    a fraction of a migration run."""
    from fundguard.service.models import Base

    tables = Base.metadata.sorted_tables
    engine = sa.create_engine(_pg_base_url())
    with engine.begin() as con:
        con.execute(sa.text("SET LOCAL session_replication_role = replica"))
        names = ", ".join(f"{PG_WORK}.{t.name}" for t in tables)
        con.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY"))
        for table in tables if copy_from else ():
            con.execute(sa.text(f"INSERT INTO {PG_WORK}.{table.name} SELECT * FROM {copy_from}.{table.name}"))
            if [c.name for c in table.primary_key.columns] == ["id"]:
                con.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{PG_WORK}.{table.name}', 'id'), "
                        f"coalesce(max(id), 0) + 1, false) FROM {PG_WORK}.{table.name}"
                    )
                )
    engine.dispose()


@pytest.fixture
def world(
    request: pytest.FixtureRequest,
    backend: str,
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    monkeypatch.setenv("FUNDGUARD_TODAY", TODAY)
    if backend == "sqlite":
        template, passwords = request.getfixturevalue("sqlite_template")
        target = tmp_path / "service.db"
        shutil.copyfile(template, target)
        url = f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("pg_migrated")
        passwords = request.getfixturevalue("pg_template")
        _reset_pg(copy_from=PG_TEMPLATE)
    db = Database(url)
    yield World(db, workspace_copy(workspace, tmp_path / "workspace"), passwords)
    db.dispose()


def _as_dba(con: sa.Connection) -> sa.Connection:
    if con.dialect.name == "postgresql":
        con.execute(sa.text("SET LOCAL session_replication_role = replica"))
    return con


@pytest.fixture
def as_dba() -> Callable[[sa.Connection], sa.Connection]:
    """A database administrator bypassing the record's append-only trigger (PostgreSQL superuser), to test
    that tampering is still detected."""
    return _as_dba
