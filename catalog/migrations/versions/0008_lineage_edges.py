"""lineage edges: the dataset and column graph of each job's latest COMPLETE event

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_lineage_edges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_name", sa.String(200), nullable=False, index=True),
        sa.Column("output", sa.String(500), nullable=False, index=True),
        sa.Column("input", sa.String(500), nullable=False, index=True),
        sa.UniqueConstraint("job_name", "output", "input", name="uq_hub_lineage_edge"),
    )
    op.create_table(
        "hub_lineage_column_edges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_name", sa.String(200), nullable=False, index=True),
        sa.Column("output", sa.String(500), nullable=False),
        sa.Column("output_field", sa.String(200), nullable=False),
        sa.Column("input", sa.String(500), nullable=False),
        sa.Column("input_field", sa.String(200), nullable=False),
        sa.Column("subtype", sa.String(50), nullable=False),
        sa.Column("masking", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_lineage_column_edges")
    op.drop_table("hub_lineage_edges")
