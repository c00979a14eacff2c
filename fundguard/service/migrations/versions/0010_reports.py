"""举报处理与奖励 (issue 16a): public reports with the sealed reporter identity, their events and sealed attachments,
and the rewards with their events.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _events(name: str, parent: str, key: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(key, sa.Integer(), sa.ForeignKey(f"{parent}.id"), nullable=False, index=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("fields_json", sa.Text(), nullable=False),
    )


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False, unique=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("target_kind", sa.String(20), nullable=False),
        sa.Column("violation_type", sa.String(30), nullable=False),
        sa.Column("target_name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("happened", sa.String(100), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("real_name", sa.Boolean(), nullable=False),
        sa.Column("identity_sealed", sa.Text(), nullable=False),
        sa.Column("insider", sa.Boolean(), nullable=False),
        sa.Column("excluded", sa.String(30), nullable=False),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("step_started", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("clue_id", sa.Integer(), sa.ForeignKey("clues.id"), nullable=True, index=True),
        sa.Column("inspection", sa.String(200), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True, index=True),
        sa.Column("notice_due", sa.Date(), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    _events("report_events", "reports", "report_id")
    op.create_table(
        "report_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False, index=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "report_rewards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False, unique=True),
        sa.Column("case_value", sa.BigInteger(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("insider", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("notice_no", sa.String(60), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("claimed_on", sa.Date(), nullable=True),
        sa.Column("claimant_sealed", sa.Text(), nullable=False),
        sa.Column("voucher_no", sa.String(60), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("step_started", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    _events("reward_events", "report_rewards", "reward_id")


def downgrade() -> None:
    for name in ("reward_events", "report_rewards", "report_attachments", "report_events", "reports"):
        op.drop_table(name)
