"""The metadata database: datasets, versions and runs (SQLAlchemy 2 + Alembic, SQLite or PostgreSQL)."""

from catalog.db import engine_for, migrate, session_for

__all__ = ["engine_for", "migrate", "session_for"]
