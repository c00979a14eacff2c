"""Real-time audit API keys (scoped to an institution, stored hashed) and the log of real-time calls
(``fundguard/service/realtime_keys.py``, issue 10).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=24), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("fixmedins_code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_id"),
    )
    op.create_index(op.f("ix_api_keys_fixmedins_code"), "api_keys", ["fixmedins_code"], unique=False)
    op.create_table(
        "realtime_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=24), nullable=True),
        sa.Column("fixmedins_code", sa.String(length=30), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("psn_no", sa.String(length=200), nullable=True),
        sa.Column("mdtrt_id", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("hit_count", sa.Integer(), nullable=False),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_realtime_calls_at"), "realtime_calls", ["at"], unique=False)
    op.create_index(op.f("ix_realtime_calls_key_id"), "realtime_calls", ["key_id"], unique=False)
    op.create_index(op.f("ix_realtime_calls_psn_no"), "realtime_calls", ["psn_no"], unique=False)


def downgrade() -> None:
    op.drop_table("realtime_calls")
    op.drop_table("api_keys")
