"""信息公开, 部门协同 and 异地就医 (issue 16b): disclosure items with their events, the exchange log (messages sent
to and received from partner departments), and the links of a clue to the insurance regions of its patients.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False, index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("content_json", sa.Text(), nullable=False),
        sa.Column("source_type", sa.String(20), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "disclosure_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("disclosure_id", sa.Integer(), sa.ForeignKey("disclosures.id"), nullable=False, index=True),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "exchange_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.String(80), nullable=False, unique=True),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("partner", sa.String(20), nullable=False),
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("referrals.id"), nullable=True, index=True),
        sa.Column("clue_id", sa.Integer(), sa.ForeignKey("clues.id"), nullable=True, index=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
    )
    op.create_table(
        "cross_region_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("clue_id", sa.Integer(), sa.ForeignKey("clues.id"), nullable=False, index=True),
        sa.Column("insu_admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("joint_status", sa.String(20), nullable=False),
        sa.Column("joint_by", sa.String(64), nullable=False),
        sa.Column("joint_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("clue_id", "insu_admdvs"),
    )


def downgrade() -> None:
    op.drop_table("cross_region_links")
    op.drop_table("exchange_messages")
    op.drop_table("disclosure_events")
    op.drop_table("disclosures")
