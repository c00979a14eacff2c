"""Security (issue 10). The access log (``access_log``), login back-off (``login_throttle``) and forced change of first/reset passwords
(``users.must_change``). The enforcement record is append-only in the database itself: on PostgreSQL a trigger refuses UPDATE,
DELETE and TRUNCATE of ``record_entries``, and PUBLIC loses those grants. (The table's owner can still drop
the trigger: a deployment runs the service as a role that does not own the tables; SECURITY.md.) The record's
entries are now HMACs under a key outside the database, so an old chain no longer verifies: it is kept as is.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("must_change", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_allowed", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
    )
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_index("ix_access_log_username", "access_log", ["username"])
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
    op.drop_table("access_log")
    op.drop_table("login_throttle")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS record_entries_no_truncate ON record_entries")
    op.execute("DROP TRIGGER IF EXISTS record_entries_append_only ON record_entries")
    op.execute("DROP FUNCTION IF EXISTS fundguard_record_append_only()")
