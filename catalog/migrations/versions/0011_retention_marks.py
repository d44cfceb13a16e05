"""retention: versions whose snapshot expired, export files deleted (history kept)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hub_dataset_versions") as batch:
        batch.add_column(sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("hub_exports") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hub_exports") as batch:
        batch.drop_column("deleted_at")
    with op.batch_alter_table("hub_dataset_versions") as batch:
        batch.drop_column("expired_at")
