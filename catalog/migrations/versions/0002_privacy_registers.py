"""privacy registers: processing, destruction, releases and provision

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_processing_register",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(63), nullable=False, index=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("delivery_id", sa.String(100), nullable=False),
        sa.Column("column_name", sa.String(63), nullable=False),
        sa.Column("classification", sa.String(30), nullable=False),
        sa.Column("technique", sa.String(30), nullable=False),
        sa.Column("guideline", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("key_version", sa.Integer),
        sa.Column("values_changed", sa.BigInteger),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_table(
        "hub_destruction_register",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(63), nullable=False, index=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("bucket", sa.String(100), nullable=False),
        sa.Column("object_key", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("destroyed_at", TS, nullable=False),
    )
    op.create_table(
        "hub_releases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(63), nullable=False, index=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("zone", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("rows_suppressed", sa.BigInteger, nullable=False),
        sa.Column("k", sa.Integer),
        sa.Column("l", sa.Integer),
        sa.Column("k_required", sa.Integer),
        sa.Column("l_required", sa.Integer),
        sa.Column("pii_scan", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("report_ko", sa.Text, nullable=False),
        sa.Column("report_en", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "hub_provision_register",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(63), nullable=False, index=True),
        sa.Column("snapshot_id", sa.BigInteger),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("client_address", sa.String(100)),
        sa.Column("provided_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "hub_provision_register",
        "hub_releases",
        "hub_destruction_register",
        "hub_processing_register",
    ):
        op.drop_table(table)
