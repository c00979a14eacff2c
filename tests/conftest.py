"""Suite-wide setup: under pytest-xdist (``make test`` runs ``-n auto``) each worker gets a PostgreSQL database
of its own, so the service, API and web tests' schemas never meet another worker's.

The worker's URL replaces ``FUNDGUARD_TEST_PG_URL`` before any test module or fixture reads it; without a server
nothing changes and the PostgreSQL tests skip with their own message."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

# the shared workspace builders (tests/web/service_ws.py) are imported by the service, API and web tests
sys.path.insert(0, str(Path(__file__).parent / "web"))

# the CLI's Rich tables are read by the tests: one width everywhere, whatever terminal (or xdist worker) runs them
os.environ["COLUMNS"] = "200"

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", {}).get("workerid")
    if not worker:
        return
    base = sa.engine.make_url(os.environ.get("FUNDGUARD_TEST_PG_URL", PG_DEFAULT))
    own = base.set(database=f"{base.database}_{worker}")
    try:
        engine = sa.create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as con:
            exists = con.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own.database})
            if exists.first() is None:
                con.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
        engine.dispose()
    except sa.exc.OperationalError:
        return  # no server here: the PostgreSQL tests skip and say why
    os.environ["FUNDGUARD_TEST_PG_URL"] = own.render_as_string(hide_password=False)
