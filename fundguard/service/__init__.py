"""Supervision service: persistence and application services of supervision (issues 5, 9).

Shared machinery, once: the workflow engine that applies any process's transition in one transaction
(``workflow``), the service database (SQLAlchemy 2 ORM in ``models``, Alembic migrations in ``migrations/`` run by
``db.migrate``), authentication (``auth``), region scope and paging at one choke point (``scope``), the
hash-chained enforcement record (``record``), settings read in one place (``settings``), response-model bases
(``schemas``), institutions, ledger exports (``ledgers``), the rule scorecard and pauses (``scorecard``) and the
demo seed (``seed``). One folder per supervision concept — ``clues/``, ``cases/``, ``referrals/`` — with the same
files: ``process.py`` (the process bound to its table and its effects), ``service.py``, ``schemas.py``.

May import ``core``, ``data``, ``rules``, ``engine``, ``models`` (reading leads files) and ``supervision``;
never ``api`` or ``web``. Inside, the concepts sit above the shared machinery (cases → referrals → clues), no
circles: the contracts are in pyproject.toml and checked by ``tests/test_architecture.py``.

Every service function takes a SQLAlchemy ``Session`` and (except login) an ``Actor``, checks permission and
region scope itself, and raises ``service.errors`` exceptions (``code`` and ``http_status`` attributes tell
the REST layer what to answer). Callers commit: use ``Database.session()``. Who may take an action is decided by
the process (roles and separation-of-duties rules), not by permission strings; a refusal says why.
"""
