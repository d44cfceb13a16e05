"""Options of an NGSI-LD broker delivery."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NgsiLdConfig(BaseModel):
    """Entities of one type, paged with ``limit``/``offset``, counted by ``NGSILD-Results-Count``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="Broker base URL; ${VAR} is read from the environment.")
    entity_type: str
    q: str | None = Field(
        default=None,
        description="NGSI-LD query; '{start:%Y-%m-%dT%H:%M:%S%z}' and '{end:...}' format the window.",
    )
    context: str | None = Field(default=None, description="JSON-LD @context sent as a Link header.")
    tenant: str | None = None
    token: str | None = Field(default=None, description="Bearer token, normally '${ENV_VAR}'.")
    limit: int = Field(default=1000, ge=1, le=10_000)
    max_pages: int = Field(default=10_000, ge=1)
    timeout_s: float = Field(
        default=30.0, gt=0, description="Deadline for one whole request, its body included."
    )
    max_attempts: int = Field(default=5, ge=1)
    backoff_max_s: float = Field(default=30.0, ge=0)
    retry_budget_s: float = Field(
        default=120.0,
        gt=0,
        description="Time one delivery may spend on all its requests and retries together.",
    )


CONFIG = NgsiLdConfig
