"""How long the hub keeps what a dataset leaves behind, declared per dataset in its YAML.

The defaults below are the house rules: a feed that declares nothing gets them. Personal data
in identified raw deliveries is not governed here but by the privacy policy's retention and
the destruction step, whose register the auditor reads.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field


class Retention(BaseModel):
    """What the maintenance DAG keeps of one dataset, and for how long."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    versions: timedelta = Field(
        default=timedelta(days=90),
        description="How long a published version stays answerable (?version=, ?since=); "
        "older snapshots expire unless a kept export or a partner's provision points to them.",
    )
    provisions: timedelta = Field(
        default=timedelta(days=3 * 365),
        description="How long a version provided to a partner stays reproducible (the "
        "provision register's legal retention).",
    )
    raw: timedelta = Field(
        default=timedelta(days=365),
        description="How long raw deliveries without personal data are kept as received.",
    )
    quarantine: timedelta = Field(
        default=timedelta(days=180),
        description="How long rejected rows stay in the quarantine table for the provider.",
    )
    stages: timedelta = Field(
        default=timedelta(days=7),
        description="How long the stages of a run that never finished are kept for its retry.",
    )
    exports: int = Field(
        default=3,
        ge=1,
        description="How many exported versions keep their download files (the newest ones).",
    )
    lineage: timedelta = Field(
        default=timedelta(days=365),
        description="How long lineage events stay in the catalog before they are archived to "
        "the lake (archived, never lost).",
    )


#: The house rules: what a dataset that declares no retention keeps.
HOUSE_RETENTION = Retention()
