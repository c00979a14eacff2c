"""Clue hit details: item name, first fee time and patient name copied from the store at import.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (("item_name", 200), ("fee_ocur_time", 19), ("psn_name", 100))


def upgrade() -> None:
    with op.batch_alter_table("clue_hits", schema=None) as batch_op:
        for name, length in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("clue_hits", schema=None) as batch_op:
        for name, _ in COLUMNS:
            batch_op.drop_column(name)
