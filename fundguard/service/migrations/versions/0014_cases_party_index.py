"""An index on cases.party_id: the real-time check of an insured person's 联网结算 suspension (issue 15) looks up
decided cases by the person's psn_no on every claim.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_party_id", "cases", ["party_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_party_id", table_name="cases")
