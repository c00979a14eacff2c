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

Surface beyond the shared design (for the API layer):
- ``clues.act_on_clue`` also takes ``action="appeal"`` (no files) and ``action="open_case"`` (立案, returns the
  clue); ``transfer`` needs ``to_admdvs``, ``to_department`` and ``comment``; ``agreement`` takes
  ``measures`` (codes or Chinese names of ``supervision.penalties.MEASURES``) and ``recovered_amount``.
  Items also carry ``warning`` ('正常' / '即将到期' / '已逾期'), ``confirmed_amount`` and ``rule_version``;
  ``list_clues(..., overdue=True)`` filters overdue ones. ``import_run(..., actor=None)``.
- ``cases.act_on_case`` actions and their fields are listed in each case's ``actions`` (from
  ``supervision.workflow.CASE_FLOW``); ``list_cases(..., fixmedins_code=None, overdue=None)``.
- ``referrals``: ``create_referral(session, actor, *, target, reason, case_id=None, clue_id=None)``,
  ``list_referrals(session, actor, *, status=None, page, size)``, ``get_referral``, ``act_on_referral(session,
  actor, referral_id, action, version, **fields)``; clue transfers: ``list_transfers(session, actor,
  direction="in"|"out")``, ``answer_transfer(session, actor, transfer_id, accept, comment="")``.
- ``clues.register_clue(session, actor, *, fixmedins_code, source, description, amount=0, period=None)``
  registers a clue from another department (``transfer``), a complaint or an inspection; it enters at 待初审.
- ``clues.appeal_file`` refuses masked actors (third-party inspectors): medical records identify patients.
- ``record.list_record`` is scoped: admins and province users read everything, others the entries about
  their clues, cases and referrals. ``record.verify`` also returns ``head_hash`` (publish it to anchor).
- ``referrals.answer_transfer`` is for users of the receiving region *and* department (``User.department``).
- ``auth.grant_access(session, actor, username, *, admdvs, fixmedins_code=None, days=30, reason)`` creates a
  cross-check grant; ``auth.create_user(...)``.
- ``scorecard.resume_rule(session, actor, rule_id, workspace, reason="")``.
- ``ledgers.export_ledger`` names: clues, cases, measures, penalties, refunds, fines, referrals, transfers.
- ``record.verify_database(url)`` for ``fundguard verify-log``.
- Errors: ``ValidationFailed`` (422) besides the design's list; every service error has ``code`` and
  ``http_status``. ``auth.login`` commits the failed-login count itself before raising.
- ``FUNDGUARD_TODAY`` (ISO date) fixes "today" for demos and tests; ``FUNDGUARD_SESSION_MINUTES`` the session
  timeout; ``FUNDGUARD_RULE_FLOOR`` the scorecard floor; ``FUNDGUARD_CASE_THRESHOLDS`` a YAML of thresholds.
"""
