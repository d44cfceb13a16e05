"""quality results and scores

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_quality_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(63), nullable=False, index=True),
        sa.Column("run_id", sa.String(250), nullable=False, index=True),
        sa.Column("check_label", sa.Text, nullable=False),
        sa.Column("expectation", sa.String(100), nullable=False),
        sa.Column("hard", sa.Boolean, nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("unexpected_count", sa.BigInteger),
        sa.Column("unexpected_percent", sa.Float),
        sa.Column("observed_value", sa.Text),
        sa.Column("examples", sa.Text, nullable=False),
        sa.Column("kwargs", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hub_quality_scores",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(63), nullable=False, index=True),
        sa.Column("run_id", sa.String(250), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("content", sa.Float, nullable=False),
        sa.Column("timeliness", sa.Float, nullable=False),
        sa.Column("metadata", sa.Float, nullable=False),
        sa.Column("error_rate", sa.Float, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_quality_scores")
    op.drop_table("hub_quality_results")
