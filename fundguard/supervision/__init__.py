"""Supervision domain: workflow state machines, roles, penalties, time limits, documents, ledgers — pure Python,
no database, no web; may import core and rules."""
