"""The catalog's entries of what the pipeline did: datasets, runs, versions, watermarks, files."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from catalog.db import session_for
from catalog.models import (
    Base,
    Dataset,
    DatasetVersion,
    ExportFile,
    Provision,
    QualityScore,
    Run,
    Watermark,
)
from hub.core.time import utc_now

T = TypeVar("T", bound=Base)


def upsert_dataset(url: str, feed: Any, table_name: str) -> None:
    """Mirror a feed's registry entry into the catalog (the registry is the source of truth)."""
    values = {
        "title_ko": feed.title.ko,
        "title_en": feed.title.en,
        "description_ko": feed.description.ko,
        "description_en": feed.description.en,
        "provider_id": feed.provider.id,
        "provider_name": feed.provider.name.ko,
        "department_id": feed.department.id,
        "department_name": feed.department.name.ko,
        "type": feed.type.value,
        "access_class": feed.access_class.value,
        "licence": feed.licence.id,
        "schedule": feed.schedule.cron,
        "table_name": table_name,
        "updated_at": utc_now(),
    }
    with session_for(url) as session, session.begin():
        # one statement, not read-then-insert: the first land tasks of several feeds race here
        session.execute(_insert(session, Dataset, {"id": feed.id, **values}, ["id"], values))


def update_run(url: str, dataset_id: str, run_id: str, window: Any, **fields: Any) -> None:
    """Create or update the run row for (dataset, run) with the given fields."""
    with session_for(url) as session, session.begin():
        created = {
            "dataset_id": dataset_id,
            "run_id": run_id,
            "window_start": window.start,
            "window_end": window.end,
            "started_at": utc_now(),
            "status": "running",
            "step": "land",
        }
        key = ["dataset_id", "run_id"]  # a retried task and a zombie attempt may race here
        session.execute(_insert(session, Run, {**created, **fields}, key, fields))


def _insert(
    session: Session, model: type[Base], row: dict[str, Any], key: list[str], update: dict[str, Any]
) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE (DO NOTHING with nothing to update), in the
    database's own dialect: PostgreSQL and SQLite both have it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**row)
    if not update:
        return statement.on_conflict_do_nothing(index_elements=key)
    return statement.on_conflict_do_update(index_elements=key, set_=update)


def add_version(url: str, **fields: Any) -> None:
    add(url, DatasetVersion(created_at=utc_now(), **fields))


def add(url: str, *rows: Base) -> None:
    """Insert register rows in one transaction: all of them or none."""
    with session_for(url) as session, session.begin():
        session.add_all(rows)


def listing(url: str, model: type[T], dataset_id: str, run_id: str | None = None) -> list[T]:
    """A dataset's rows of one catalog table (of one run, if given), oldest first."""
    query = select(model).where(model.dataset_id == dataset_id)
    if run_id is not None:
        query = query.where(model.run_id == run_id)
    with session_for(url) as session:
        return list(session.scalars(query.order_by(model.id)))


def runs(url: str, dataset_id: str) -> list[Run]:
    return listing(url, Run, dataset_id)


def covered_until(url: str, dataset_id: str) -> datetime | None:
    """The end of the newest window a run of the feed completed (every step succeeded)."""
    with session_for(url) as session:
        return session.scalar(
            select(func.max(Run.window_end)).where(
                Run.dataset_id == dataset_id, Run.status == "published"
            )
        )


def versions(url: str, dataset_id: str) -> list[DatasetVersion]:
    return listing(url, DatasetVersion, dataset_id)


def latest_version(url: str, dataset_id: str) -> DatasetVersion | None:
    """The newest registered version (one row, however long the history)."""
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
    with session_for(url) as session:
        return session.scalars(query.order_by(DatasetVersion.id.desc()).limit(1)).first()


def has_version(url: str, snapshot_id: int) -> bool:
    with session_for(url) as session:
        query = select(DatasetVersion.id).where(DatasetVersion.snapshot_id == snapshot_id)
        return session.scalar(query.limit(1)) is not None


def watermark(url: str, dataset_id: str) -> str | None:
    """The cursor an incremental feed has been read up to, or None before its first snapshot."""
    with session_for(url) as session:
        row = session.get(Watermark, dataset_id)
        return row.value if row else None


def set_watermark(url: str, dataset_id: str, cursor_column: str, value: str, run_id: str) -> None:
    """Advance the watermark; it never moves back (a rerun of an old window keeps the newest)."""
    with session_for(url) as session, session.begin():
        row = session.get(Watermark, dataset_id)
        if row is None:
            session.add(
                Watermark(
                    dataset_id=dataset_id,
                    cursor_column=cursor_column,
                    value=value,
                    run_id=run_id,
                    updated_at=utc_now(),
                )
            )
        elif value > row.value:
            row.value, row.run_id, row.updated_at = value, run_id, utc_now()


def exports_of(url: str, dataset_id: str, snapshot_id: int | None = None) -> list[ExportFile]:
    """The export files of a dataset's newest exported version (or of ``snapshot_id``) that
    retention has not deleted."""
    with session_for(url) as session:
        query = select(ExportFile).where(
            ExportFile.dataset_id == dataset_id, ExportFile.deleted_at.is_(None)
        )
        if snapshot_id is None:
            newest = session.scalars(
                query.order_by(ExportFile.created_at.desc(), ExportFile.id.desc())
            ).first()
            if newest is None:
                return []
            snapshot_id = newest.snapshot_id
        query = query.where(ExportFile.snapshot_id == snapshot_id).order_by(ExportFile.format)
        return list(session.scalars(query))


def provided_snapshots(url: str, dataset_id: str, since: datetime) -> set[int]:
    """Snapshots of the dataset provided to a partner (not the public) since ``since``: the
    provision register promises to reproduce them for its legal retention."""
    with session_for(url) as session:
        return set(
            session.scalars(
                select(Provision.snapshot_id).where(
                    Provision.dataset_id == dataset_id,
                    Provision.recipient != "public",
                    Provision.provided_at >= since,
                    Provision.snapshot_id.is_not(None),
                )
            )
        )


def live_exports(url: str, dataset_id: str) -> list[ExportFile]:
    """Every export file of the dataset retention has not deleted, newest version first."""
    with session_for(url) as session:
        return list(
            session.scalars(
                select(ExportFile)
                .where(ExportFile.dataset_id == dataset_id, ExportFile.deleted_at.is_(None))
                .order_by(ExportFile.created_at.desc(), ExportFile.id.desc())
            )
        )


def mark_exports_deleted(url: str, export_ids: list[int], at: datetime) -> None:
    with session_for(url) as session, session.begin():
        session.execute(
            update(ExportFile).where(ExportFile.id.in_(export_ids)).values(deleted_at=at)
        )


def mark_versions_expired(url: str, dataset_id: str, snapshot_ids: list[int], at: datetime) -> int:
    """Record that these versions' snapshots expired; returns how many versions it marked."""
    with session_for(url) as session, session.begin():
        result = session.execute(
            update(DatasetVersion)
            .where(
                DatasetVersion.dataset_id == dataset_id,
                DatasetVersion.snapshot_id.in_(snapshot_ids),
                DatasetVersion.expired_at.is_(None),
            )
            .values(expired_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def change_marker(url: str) -> tuple[Any, ...]:
    """What changes whenever a dataset's card would: its versions, quality scores, export
    files (added or retired) and published runs. One query, so a reader can tell in a
    millisecond whether the catalog it showed is still the catalog."""
    published = Run.status == "published"
    with session_for(url) as session:
        row = session.execute(
            select(
                select(func.max(DatasetVersion.id)).scalar_subquery(),
                select(func.max(QualityScore.id)).scalar_subquery(),
                select(func.max(ExportFile.id)).scalar_subquery(),
                select(func.count(ExportFile.deleted_at)).scalar_subquery(),
                select(func.count()).select_from(Run).where(published).scalar_subquery(),
            )
        ).one()
    return tuple(row)
