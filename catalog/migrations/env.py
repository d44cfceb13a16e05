"""Alembic environment: runs on the connection handed over by ``catalog.db.migrate``."""

from alembic import context

from catalog.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table="hub_alembic_version",
    # pyiceberg's own tables share the database; migrations never touch them.
    include_name=lambda name, type_, _parent: type_ != "table" or name.startswith("hub_"),
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
