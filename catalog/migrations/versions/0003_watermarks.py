"""watermarks of incremental feeds

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_watermarks",
        sa.Column("dataset_id", sa.String(63), primary_key=True),
        sa.Column("cursor_column", sa.String(63), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_watermarks")
