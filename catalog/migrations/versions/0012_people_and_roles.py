"""people who sign in (staff, partners' employees), their roles and sign-ins; partners'
provision requests; re-identification requests under dual control

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_people",
        sa.Column("login", sa.String(63), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("department_id", sa.String(63), nullable=True),
        sa.Column("partner_id", sa.String(63), sa.ForeignKey("hub_partners.id"), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("oidc_subject", sa.String(255), nullable=True, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "hub_person_roles",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(63), sa.ForeignKey("hub_people.login"), nullable=False),
        sa.Column("role", sa.String(63), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("login", "role", name="uq_hub_person_roles"),
    )
    op.create_index("ix_hub_person_roles_login", "hub_person_roles", ["login"])
    op.create_table(
        "hub_sign_ins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("login", sa.String(63), sa.ForeignKey("hub_people.login"), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_hub_sign_ins_login", "hub_sign_ins", ["login"])
    op.create_table(
        "hub_failed_sign_ins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(63), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hub_failed_sign_ins_login", "hub_failed_sign_ins", ["login"])
    op.create_index(
        "ix_hub_failed_sign_ins_client_address", "hub_failed_sign_ins", ["client_address"]
    )
    op.create_table(
        "hub_provision_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(63), sa.ForeignKey("hub_partners.id"), nullable=False),
        sa.Column("filed_by", sa.String(63), nullable=False),
        sa.Column("dataset_id", sa.String(63), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(63), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("grant_id", sa.Integer(), sa.ForeignKey("hub_grants.id"), nullable=True),
    )
    op.create_index(
        "ix_hub_provision_requests_partner_id", "hub_provision_requests", ["partner_id"]
    )
    op.create_index(
        "ix_hub_provision_requests_dataset_id", "hub_provision_requests", ["dataset_id"]
    )
    op.create_table(
        "hub_reidentification_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("feed_id", sa.String(63), nullable=False),
        sa.Column("token", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(63), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(63), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_hub_reidentification_requests_feed_id", "hub_reidentification_requests", ["feed_id"]
    )


def downgrade() -> None:
    op.drop_table("hub_reidentification_requests")
    op.drop_table("hub_provision_requests")
    op.drop_table("hub_failed_sign_ins")
    op.drop_table("hub_sign_ins")
    op.drop_index("ix_hub_person_roles_login", "hub_person_roles")
    op.drop_table("hub_person_roles")
    op.drop_table("hub_people")
