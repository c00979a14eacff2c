"""信用修复 (issue 15): the repair applications and their events.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_repairs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subject_type", sa.String(20), nullable=False, index=True),
        sa.Column("subject_id", sa.String(64), nullable=False, index=True),
        sa.Column("subject_name", sa.String(200), nullable=False),
        sa.Column("blacklist_id", sa.Integer(), sa.ForeignKey("credit_blacklist.id"), nullable=True),
        sa.Column("grade_before", sa.String(4), nullable=False),
        sa.Column("grade_after", sa.String(4), nullable=False),
        sa.Column("rectification", sa.Text(), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("pledge", sa.Text(), nullable=False),
        sa.Column("clean_since", sa.Date(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("decide_by", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "credit_repair_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("repair_id", sa.Integer(), sa.ForeignKey("credit_repairs.id"), nullable=False, index=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("fields_json", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("credit_repair_events")
    op.drop_table("credit_repairs")
