"""Supervision service: persistence and application services of supervision (issue 5).

Owns the service database (SQLAlchemy 2 ORM in ``models``, Alembic migrations in ``migrations/`` run by
``db.migrate``), authentication (``auth``), region scoping and masking (``scope``), the hash-chained
enforcement record (``record``), clue import and the flagged-item flow (``clues``), cases (``cases``),
referrals and clue transfers (``referrals``), the rule scorecard and pauses (``scorecard``), ledger exports
(``ledgers``) and the demo seed (``seed``). May import ``core``, ``data``, ``rules``, ``engine`` and
``supervision``; never ``api`` or ``web``.

Every service function takes a SQLAlchemy ``Session`` and (except login) an ``Actor``, checks permission and
region scope itself, and raises ``service.errors`` exceptions (``code`` and ``http_status`` attributes tell
the REST layer what to answer). Callers commit: use ``Database.session()``.
"""
