"""The enforcement record is append-only in the database itself: on PostgreSQL a trigger refuses UPDATE,
DELETE and TRUNCATE of ``record_entries``, and PUBLIC loses those grants. (The table's owner can still drop
the trigger: a deployment runs the service as a role that does not own the tables; SECURITY.md.) The record's
entries are now HMACs under a key outside the database, so an old chain no longer verifies: it is kept as is.

Revision ID: 0005_record_security
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0005_record_security"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION fundguard_record_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '执法记录只允许追加 the enforcement record is append-only (% refused)', TG_OP;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER record_entries_append_only BEFORE UPDATE OR DELETE ON record_entries "
        "FOR EACH ROW EXECUTE FUNCTION fundguard_record_append_only()"
    )
    op.execute(
        "CREATE TRIGGER record_entries_no_truncate BEFORE TRUNCATE ON record_entries "
        "FOR EACH STATEMENT EXECUTE FUNCTION fundguard_record_append_only()"
    )
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON record_entries FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS record_entries_no_truncate ON record_entries")
    op.execute("DROP TRIGGER IF EXISTS record_entries_append_only ON record_entries")
    op.execute("DROP FUNCTION IF EXISTS fundguard_record_append_only()")
