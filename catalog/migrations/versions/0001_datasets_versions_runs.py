"""datasets, versions and runs

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_datasets",
        sa.Column("id", sa.String(63), primary_key=True),
        sa.Column("title_ko", sa.Text, nullable=False),
        sa.Column("title_en", sa.Text, nullable=False),
        sa.Column("description_ko", sa.Text, nullable=False),
        sa.Column("description_en", sa.Text, nullable=False),
        sa.Column("provider_id", sa.String(100), nullable=False),
        sa.Column("provider_name", sa.Text, nullable=False),
        sa.Column("department_id", sa.String(100), nullable=False),
        sa.Column("department_name", sa.Text, nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("access_class", sa.String(20), nullable=False),
        sa.Column("licence", sa.String(100), nullable=False),
        sa.Column("schedule", sa.String(100), nullable=False),
        sa.Column("table_name", sa.String(200), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "hub_dataset_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(63), sa.ForeignKey("hub_datasets.id"), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("rows_in_window", sa.BigInteger, nullable=False),
        sa.Column("total_rows", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("delivery_id", sa.String(100), nullable=False),
        sa.Column("raw_checksum", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_hub_dataset_versions_dataset_id", "hub_dataset_versions", ["dataset_id"])
    op.create_table(
        "hub_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(63), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("rows_landed", sa.BigInteger),
        sa.Column("rows_valid", sa.BigInteger),
        sa.Column("rows_quarantined", sa.BigInteger),
        sa.Column("rows_published", sa.BigInteger),
        sa.Column("snapshot_id", sa.BigInteger),
        sa.Column("error", sa.Text),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.UniqueConstraint("dataset_id", "run_id", name="uq_hub_runs_dataset_run"),
    )
    op.create_index("ix_hub_runs_dataset_id", "hub_runs", ["dataset_id"])


def downgrade() -> None:
    op.drop_table("hub_runs")
    op.drop_table("hub_dataset_versions")
    op.drop_table("hub_datasets")
