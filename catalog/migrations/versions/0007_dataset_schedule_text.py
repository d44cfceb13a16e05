"""hub_datasets.schedule as text: a product's schedule names all its inputs

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hub_datasets") as batch:
        batch.alter_column("schedule", type_=sa.Text, existing_type=sa.String(100))


def downgrade() -> None:
    with op.batch_alter_table("hub_datasets") as batch:
        batch.alter_column("schedule", type_=sa.String(100), existing_type=sa.Text)
