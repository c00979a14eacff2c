"""医保支付资格记分 and 医保信用 (issue 15): the staff registry (一人一档) with practice sites, point records with their
events (告知 → 陈述申辩 → 生效 → 修复), and other regions' suspensions imported from the exchange file; credit grades with their reasons and the blacklist (严重失信名单).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("national_code", sa.String(30), nullable=False, unique=True),
        sa.Column("id_no", sa.String(30), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("fixmedins_code", sa.String(30), nullable=False, index=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("pledge_on", sa.Date(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "staff_sites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False, index=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("department", sa.String(60), nullable=False),
        sa.UniqueConstraint("staff_id", "fixmedins_code"),
    )
    op.create_table(
        "point_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False, index=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False, index=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("behaviour_code", sa.String(20), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("responsibility", sa.String(10), nullable=False),
        sa.Column("adjustment", sa.String(10), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reduced", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False, index=True),
        sa.Column("statement_due", sa.Date(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("step_started", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "point_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("point_records.id"), nullable=False, index=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("fields_json", sa.Text(), nullable=False),
    )
    op.create_table(
        "external_qualifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("national_code", sa.String(30), nullable=False, index=True),
        sa.Column("id_no", sa.String(30), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("bar_until", sa.Date(), nullable=True),
        sa.Column("source_admdvs", sa.String(6), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("national_code", "source_admdvs", "since"),
    )

    op.create_table(
        "credit_grades",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subject_type", sa.String(20), nullable=False, index=True),
        sa.Column("subject_id", sa.String(64), nullable=False, index=True),
        sa.Column("subject_name", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(4), nullable=False),
        sa.Column("previous", sa.String(4), nullable=False),
        sa.Column("reasons_json", sa.Text(), nullable=False),
        sa.Column("fixmedins_code", sa.String(30), nullable=False),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("computed_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "credit_blacklist",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subject_type", sa.String(20), nullable=False, index=True),
        sa.Column("subject_id", sa.String(64), nullable=False, index=True),
        sa.Column("subject_name", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("left_reason", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("fixmedins_code", sa.String(30), nullable=False),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("created_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "credit_blacklist",
        "credit_grades",
        "external_qualifications",
        "point_events",
        "point_records",
        "staff_sites",
        "staff",
    ):
        op.drop_table(table)
