"""Inspections: the target, inspector and agency registries with their history, 双随机 draws, and flight
inspections (飞行检查) with their events, annual plans with
full coverage and the 问题清零 ledger.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _now() -> sa.Column:
    return sa.Column("at", sa.DateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "inspection_targets",
        sa.Column(
            "fixmedins_code", sa.String(30), sa.ForeignKey("institutions.fixmedins_code"), primary_key=True
        ),
        sa.Column("risk_weight", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("last_inspected", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("speciality", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(200), nullable=False),
    )
    op.create_table(
        "inspectors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("cert_no", sa.String(40), nullable=False),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("department", sa.String(100), nullable=False),
        sa.Column("speciality", sa.String(200), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agencies.id"), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("former_employers", sa.Text(), nullable=False),
        sa.Column("relatives_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "registry_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("book", sa.String(20), nullable=False, index=True),
        sa.Column("item_key", sa.String(40), nullable=False, index=True),
        _now(),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("before_json", sa.Text(), nullable=False),
        sa.Column("after_json", sa.Text(), nullable=False),
    )
    op.create_table(
        "draws",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(60), nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("seed_value", sa.String(200), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.Column("previous_id", sa.Integer(), sa.ForeignKey("draws.id"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("published_by", sa.String(64), nullable=False),
    )

    op.create_table(
        "flight_inspections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(60), nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("trigger", sa.String(30), nullable=False),
        sa.Column("draw_id", sa.Integer(), sa.ForeignKey("draws.id"), nullable=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False, index=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(30), nullable=False, index=True),
        sa.Column("step_started", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        *(
            sa.Column(c, sa.Text(), nullable=False)
            for c in ("team_json", "leads_json", "records_json", "findings_json")
        ),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "flight_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "inspection_id", sa.Integer(), sa.ForeignKey("flight_inspections.id"), nullable=False, index=True
        ),
        _now(),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(30), nullable=False),
        sa.Column("to_status", sa.String(30), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("fields_json", sa.Text(), nullable=False),
    )

    op.create_table(
        "supervision_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "plan_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("supervision_plans.id"), nullable=False, index=True),
        sa.Column("fixmedins_code", sa.String(30), nullable=False, index=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("reasons", sa.String(200), nullable=False),
        sa.Column("fund_paid", sa.BigInteger(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
    )
    op.create_table(
        "problems",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("source_ref", sa.String(60), nullable=False),
        sa.Column("fixmedins_code", sa.String(30), nullable=False, index=True),
        sa.Column("admdvs", sa.String(6), nullable=False, index=True),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "problems",
        "plan_items",
        "supervision_plans",
        "flight_events",
        "flight_inspections",
        "draws",
        "registry_changes",
        "inspectors",
        "agencies",
        "inspection_targets",
    ):
        op.drop_table(table)
