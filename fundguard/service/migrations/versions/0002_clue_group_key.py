"""Clue group key: one rule clue per rule × institution × month, other sources (transfers, complaints,
inspections) free of that rule.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_key", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE clues SET group_key = 'rule|' || rule_id || '|' || fixmedins_code || '|' || period "
        "WHERE source = 'rule'"
    )
    with op.batch_alter_table("clues", schema=None) as batch_op:
        batch_op.drop_constraint("uq_clue_group", type_="unique")
        batch_op.create_unique_constraint("uq_clue_group_key", ["group_key"])


def downgrade() -> None:
    with op.batch_alter_table("clues", schema=None) as batch_op:
        batch_op.drop_constraint("uq_clue_group_key", type_="unique")
        batch_op.create_unique_constraint("uq_clue_group", ["source", "rule_id", "fixmedins_code", "period"])
        batch_op.drop_column("group_key")
