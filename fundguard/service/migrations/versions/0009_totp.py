"""Optional second factor (TOTP) for the admin and legal roles (issue 10 finding 7): the sealed secret, whether it is
confirmed, and the last accepted time step on ``users``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_secret", sa.String(120), nullable=True))
    op.add_column("users", sa.Column("totp_on", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "totp_last_step")
    op.drop_column("users", "totp_on")
    op.drop_column("users", "totp_secret")
