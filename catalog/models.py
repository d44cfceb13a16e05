"""Catalog tables. Dialect-neutral: the same models run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from hub.core.time import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored and read back as aware UTC on every database.

    SQLite keeps no time zone and PostgreSQL answers in the session's: without this, every
    reader had to fix naive or local values up by hand.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    pass


class Dataset(Base):
    """One feed's published dataset, with its owners and rights as the registry declares them."""

    __tablename__ = "hub_datasets"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    title_ko: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    description_ko: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    provider_id: Mapped[str] = mapped_column(String(100))
    provider_name: Mapped[str] = mapped_column(Text)
    department_id: Mapped[str] = mapped_column(String(100))
    department_name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(20))
    access_class: Mapped[str] = mapped_column(String(20))
    licence: Mapped[str] = mapped_column(String(100))
    schedule: Mapped[str] = mapped_column(Text)
    table_name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    versions: Mapped[list[DatasetVersion]] = relationship(back_populates="dataset")


class DatasetVersion(Base):
    """A published Iceberg snapshot of a dataset: what changed, from which delivery, when."""

    __tablename__ = "hub_dataset_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("hub_datasets.id"), index=True)
    snapshot_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    rows_in_window: Mapped[int] = mapped_column(BigInteger)
    total_rows: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[str] = mapped_column(String(250))
    delivery_id: Mapped[str] = mapped_column(String(100))
    raw_checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: when maintenance expired the snapshot under the dataset's retention (history stays)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    dataset: Mapped[Dataset] = relationship(back_populates="versions")


class Run(Base):
    """One pipeline run of a feed over one window, updated as each step finishes."""

    __tablename__ = "hub_runs"
    __table_args__ = (UniqueConstraint("dataset_id", "run_id", name="uq_hub_runs_dataset_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    run_id: Mapped[str] = mapped_column(String(250))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(20))
    rows_landed: Mapped[int | None] = mapped_column(BigInteger)
    rows_valid: Mapped[int | None] = mapped_column(BigInteger)
    rows_quarantined: Mapped[int | None] = mapped_column(BigInteger)
    rows_published: Mapped[int | None] = mapped_column(BigInteger)
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProcessingRecord(Base):
    """The processing register: which technique touched which column, under which basis and key."""

    __tablename__ = "hub_processing_register"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    run_id: Mapped[str] = mapped_column(String(250))
    delivery_id: Mapped[str] = mapped_column(String(100))
    column_name: Mapped[str] = mapped_column(String(63))
    classification: Mapped[str] = mapped_column(String(30))
    technique: Mapped[str] = mapped_column(String(30))
    guideline: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text)  # JSON
    legal_basis: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    key_version: Mapped[int | None] = mapped_column(Integer)
    values_changed: Mapped[int | None] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DestructionRecord(Base):
    """The destruction register: each identified object destroyed, with its checksum."""

    __tablename__ = "hub_destruction_register"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    run_id: Mapped[str] = mapped_column(String(250))
    bucket: Mapped[str] = mapped_column(String(100))
    object_key: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    destroyed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Release(Base):
    """A protected release of a dataset version, with its measured risk and its report."""

    __tablename__ = "hub_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    run_id: Mapped[str] = mapped_column(String(250))
    zone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # released | refused
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    rows: Mapped[int] = mapped_column(BigInteger)
    rows_suppressed: Mapped[int] = mapped_column(BigInteger)
    k: Mapped[int | None] = mapped_column(Integer)
    l: Mapped[int | None] = mapped_column(Integer)  # noqa: E741
    k_required: Mapped[int | None] = mapped_column(Integer)
    l_required: Mapped[int | None] = mapped_column(Integer)
    pii_scan: Mapped[str] = mapped_column(Text)  # JSON: column -> kind -> count
    detail: Mapped[str] = mapped_column(Text)  # JSON: techniques, key versions, ladder step
    report_ko: Mapped[str] = mapped_column(Text)
    report_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Provision(Base):
    """The provision register: every time data left the hub, to whom and why."""

    __tablename__ = "hub_provision_register"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    recipient: Mapped[str] = mapped_column(String(200))  # a partner id, or "public"
    # open_release | api | export | page (the first rows a dataset's page shows)
    channel: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(BigInteger)
    client_address: Mapped[str | None] = mapped_column(String(100))
    provided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Watermark(Base):
    """How far an incremental feed has been read: the cursor of its last published change."""

    __tablename__ = "hub_watermarks"

    dataset_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    cursor_column: Mapped[str] = mapped_column(String(63))
    value: Mapped[str] = mapped_column(String(100))  # the cursor as ISO text, comparable as sent
    run_id: Mapped[str] = mapped_column(String(250))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QualityResult(Base):
    """One expectation's outcome on one run: what GX observed, capped to a few examples."""

    __tablename__ = "hub_quality_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    run_id: Mapped[str] = mapped_column(String(250), index=True)
    check_label: Mapped[str] = mapped_column(Text)
    expectation: Mapped[str] = mapped_column(String(100))
    hard: Mapped[bool] = mapped_column(Boolean)
    success: Mapped[bool] = mapped_column(Boolean)
    unexpected_count: Mapped[int | None] = mapped_column(BigInteger)
    unexpected_percent: Mapped[float | None] = mapped_column(Float)
    observed_value: Mapped[str | None] = mapped_column(Text)  # JSON
    examples: Mapped[str] = mapped_column(Text)  # JSON list, at most a few values
    kwargs: Mapped[str] = mapped_column(Text)  # JSON: the expectation's arguments
    error: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QualityScore(Base):
    """A dataset's quality score after a run (or a freshness sweep), with its parts explained."""

    __tablename__ = "hub_quality_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    run_id: Mapped[str] = mapped_column(String(250), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # delivery | freshness
    score: Mapped[float] = mapped_column(Float)  # 0-100
    content: Mapped[float] = mapped_column(Float)  # 0-1
    timeliness: Mapped[float] = mapped_column(Float)
    metadata_: Mapped[float] = mapped_column("metadata", Float)
    error_rate: Mapped[float] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text)  # JSON: how each part was reached
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """The append-only audit log: who did what to which data, when, from where and why.

    Each entry carries the hash of the one before it; ``prev_hash`` is unique, so two writers
    that read the same last entry cannot both append (the second retries): the log stays one
    chain, and ``hub audit verify`` can prove it was not edited.
    """

    __tablename__ = "hub_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50), index=True)
    target: Mapped[str] = mapped_column(Text)  # dataset id, object key, partner, ...
    purpose: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(200))  # host or client address
    detail: Mapped[str] = mapped_column(Text)  # JSON
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LineageEvent(Base):
    """One OpenLineage run event (START, COMPLETE, FAIL) as emitted, in JSON."""

    __tablename__ = "hub_lineage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_uuid: Mapped[str] = mapped_column(String(36), index=True)
    job_name: Mapped[str] = mapped_column(String(200), index=True)
    event_type: Mapped[str] = mapped_column(String(20))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)


class LineageEdge(Base):
    """Dataset ``output`` is computed from ``input`` by ``job`` (its latest COMPLETE run):
    the index lineage queries walk, kept beside the events they are derived from."""

    __tablename__ = "hub_lineage_edges"
    __table_args__ = (UniqueConstraint("job_name", "output", "input", name="uq_hub_lineage_edge"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(String(200), index=True)
    output: Mapped[str] = mapped_column(String(500), index=True)
    input: Mapped[str] = mapped_column(String(500), index=True)


class LineageColumnEdge(Base):
    """Column ``output_field`` of ``output`` is computed from ``input_field`` of ``input``."""

    __tablename__ = "hub_lineage_column_edges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(String(200), index=True)
    output: Mapped[str] = mapped_column(String(500))
    output_field: Mapped[str] = mapped_column(String(200))
    input: Mapped[str] = mapped_column(String(500))
    input_field: Mapped[str] = mapped_column(String(200))
    subtype: Mapped[str] = mapped_column(String(50))
    masking: Mapped[bool] = mapped_column(Boolean)


class Partner(Base):
    """A partner agency (police, fire, a neighbouring city) that pulls granted datasets."""

    __tablename__ = "hub_partners"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """A partner's API key: only its SHA-256 is kept; shown once, revocable, expiring."""

    __tablename__ = "hub_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("hub_partners.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in logs instead of the key
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    per_minute: Mapped[int] = mapped_column(Integer)
    per_day: Mapped[int] = mapped_column(Integer)


class ApiUsage(Base):
    """Requests a key made in one minute or one day: the quota counters, shared by every
    web-app process through the catalog database."""

    __tablename__ = "hub_api_usage"
    __table_args__ = (UniqueConstraint("key_hash", "period", name="uq_hub_api_usage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(20))  # m:YYYY-MM-DDTHH:MM or d:YYYY-MM-DD
    count: Mapped[int] = mapped_column(Integer)


class Grant(Base):
    """A partner's right to one dataset: for a purpose, under a legal basis, some columns."""

    __tablename__ = "hub_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("hub_partners.id"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    columns: Mapped[str] = mapped_column(Text)  # JSON list
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExportFile(Base):
    """A citizen download of one open dataset version: where it lies, its size and SHA-256."""

    __tablename__ = "hub_exports"
    __table_args__ = (
        UniqueConstraint("dataset_id", "snapshot_id", "format", name="uq_hub_exports"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    snapshot_id: Mapped[int] = mapped_column(BigInteger)  # the open table's snapshot
    format: Mapped[str] = mapped_column(String(16))  # csv, parquet, geojson
    object_key: Mapped[str] = mapped_column(String(500))  # in the open bucket
    media_type: Mapped[str] = mapped_column(String(100))
    rows: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: when retention deleted the file (the row stays: what was offered, and its checksum)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DataRequest(Base):
    """A citizen's request for data the hub does not open yet (공공데이터 제공신청)."""

    __tablename__ = "hub_data_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    dataset_id: Mapped[str | None] = mapped_column(String(63))  # when it asks about one
    contact: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20))  # received, answered, refused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Person(Base):
    """A member of staff (or a partner's employee) who signs in: a local account with an
    argon2 hash, or a city IdP's subject (OpenID Connect), or both."""

    __tablename__ = "hub_people"

    login: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[str | None] = mapped_column(String(63))  # a data steward's reach
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("hub_partners.id"))
    password_hash: Mapped[str | None] = mapped_column(Text)  # argon2id; None: IdP only
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)  # issuer|sub
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PersonRole(Base):
    """One role of the duty matrix (policy/roles.yaml) held by one person."""

    __tablename__ = "hub_person_roles"
    __table_args__ = (UniqueConstraint("login", "role", name="uq_hub_person_roles"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(ForeignKey("hub_people.login"), index=True)
    role: Mapped[str] = mapped_column(String(63))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignIn(Base):
    """One sign-in of a person on the web: the cookie's token is kept as SHA-256 only; it ends
    at sign-out, after the idle timeout, or at its lifetime."""

    __tablename__ = "hub_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    login: Mapped[str] = mapped_column(ForeignKey("hub_people.login"), index=True)
    client_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FailedSignIn(Base):
    """A refused password, kept to slow down guessing per account and per address."""

    __tablename__ = "hub_failed_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(63), index=True)
    client_address: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProvisionRequest(Base):
    """A partner's written request for one restricted dataset (the data.go.kr pattern): what,
    why, under which law, which columns, for how long; then the decision and who made it."""

    __tablename__ = "hub_provision_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("hub_partners.id"), index=True)
    filed_by: Mapped[str] = mapped_column(String(63))
    dataset_id: Mapped[str] = mapped_column(String(63), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    columns: Mapped[str] = mapped_column(Text)  # JSON list asked for
    until: Mapped[datetime] = mapped_column(UTCDateTime())  # the end of the period asked for
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # filed, approved, narrowed, refused
    decided_by: Mapped[str | None] = mapped_column(String(63))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("hub_grants.id"))


class ReidentificationRequest(Base):
    """A request to resolve one pseudonym, under dual control: one person asks with a reason,
    a second with the right role approves, then the asker sees the value once."""

    __tablename__ = "hub_reidentification_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed_id: Mapped[str] = mapped_column(String(63), index=True)
    token: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(63))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # filed, approved, refused, used
    decided_by: Mapped[str | None] = mapped_column(String(63))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
