"""Special campaigns (专项整治, issue 14): campaigns with their events, and each institution's self-check return
(自查自纠) and re-check with its events.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _events(name: str, key: str, parent: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(key, sa.Integer(), sa.ForeignKey(f"{parent}.id"), nullable=False, index=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(30), nullable=False),
        sa.Column("to_status", sa.String(30), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("fields_json", sa.Text(), nullable=False),
    )


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(60), nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("theme", sa.String(60), nullable=False),
        sa.Column("focus_json", sa.Text(), nullable=False),
        sa.Column("targets_json", sa.Text(), nullable=False),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False),
        sa.Column("status", sa.String(30), nullable=False, index=True),
        sa.Column("step_started", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("self_check_due", sa.Date(), nullable=True),
        sa.Column("rectify_days", sa.Integer(), nullable=False),
        sa.Column("seed_value", sa.String(200), nullable=False),
        sa.Column("sample_ratio", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    _events("campaign_events", "campaign_id", "campaigns")
    op.create_table(
        "campaign_returns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False, index=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("status", sa.String(30), nullable=False, index=True),
        sa.Column("step_started", sa.Date(), nullable=False),
        sa.Column("problems_json", sa.Text(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=True),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("found_json", sa.Text(), nullable=False),
        sa.Column("found_amount", sa.BigInteger(), nullable=False),
        sa.Column("unreported", sa.Integer(), nullable=False),
        sa.Column("strict", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("campaign_id", "fixmedins_code", name="uq_campaign_return"),
    )
    _events("campaign_return_events", "return_id", "campaign_returns")


def downgrade() -> None:
    op.drop_table("campaign_return_events")
    op.drop_table("campaign_returns")
    op.drop_table("campaign_events")
    op.drop_table("campaigns")
