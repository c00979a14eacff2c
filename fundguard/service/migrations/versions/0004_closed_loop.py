"""The closed loop: officers' law-enforcement certificates, the action of each case step (separation of
duties), a case's party (individuals, 条例 Art. 41), service date and closing grounds, and each clue's and
hit's outcome (rule precision from real outcomes).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = {
    "users": (("cert_no", 40),),
    "case_steps": (("action", 40),),
    "cases": (("party_id", 64), ("closing_grounds", 20)),
    "clues": (("outcome", 20),),
    "clue_hits": (("outcome", 20),),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, length in columns:
                batch_op.add_column(
                    sa.Column(name, sa.String(length=length), nullable=False, server_default="")
                )
            if table == "cases":
                batch_op.add_column(sa.Column("served_on", sa.Date(), nullable=True))
    # outcomes of clues decided before this revision, from their state
    op.execute("UPDATE clues SET outcome = 'overturned' WHERE overturned")
    op.execute("UPDATE clues SET outcome = 'dismissed' WHERE status = 'dismissed' AND outcome = ''")
    op.execute("UPDATE clues SET outcome = 'confirmed' WHERE confirmed_amount IS NOT NULL AND outcome = ''")
    op.execute(
        "UPDATE clue_hits SET outcome = (SELECT clues.outcome FROM clues WHERE clues.id = clue_hits.clue_id)"
    )


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in columns:
                batch_op.drop_column(name)
            if table == "cases":
                batch_op.drop_column("served_on")
