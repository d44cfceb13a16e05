"""partners, their API keys (hashed) and grants

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_partners",
        sa.Column("id", sa.String(63), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("contact", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hub_api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "partner_id",
            sa.String(63),
            sa.ForeignKey("hub_partners.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("per_minute", sa.Integer, nullable=False),
        sa.Column("per_day", sa.Integer, nullable=False),
    )
    op.create_table(
        "hub_api_usage",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.UniqueConstraint("key_hash", "period", name="uq_hub_api_usage"),
    )
    op.create_table(
        "hub_grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "partner_id",
            sa.String(63),
            sa.ForeignKey("hub_partners.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("dataset_id", sa.String(63), nullable=False, index=True),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("hub_grants")
    op.drop_table("hub_api_usage")
    op.drop_table("hub_api_keys")
    op.drop_table("hub_partners")
