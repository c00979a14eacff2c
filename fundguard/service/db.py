"""The service database: URL resolution, engine and session factory, and migrations (Alembic, programmatic).

SQLite at ``<workspace>/service.db`` is the default; ``FUNDGUARD_DATABASE_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) selects another database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

ENV_URL = "FUNDGUARD_DATABASE_URL"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(workspace: Path | str) -> str:
    """``$FUNDGUARD_DATABASE_URL`` if set, else SQLite at ``<workspace>/service.db``."""
    from fundguard.core.settings import settings
    from fundguard.core.workspace import Workspace

    if settings().database_url:
        return settings().database_url
    ws = Workspace(workspace)
    ws.root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{ws.service_db.resolve()}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_con, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (web workbench)
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (``alembic upgrade``), creating it if needed."""
    command.upgrade(_alembic_config(url), revision)


def head_revision() -> str:
    """The newest revision of the migration chain (exactly one head: parallel branches are re-chained)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head() or ""


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as con:
            return MigrationContext.configure(con).get_current_revision()
    finally:
        engine.dispose()


class Database:
    """An engine plus a session factory; ``session()`` commits on success and rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self._factory()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()
