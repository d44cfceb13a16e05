"""Options of an HTTP Open API delivery, as written under ``delivery.options`` in a feed file."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class HttpApiConfig(BaseModel):
    """A paged agency API. Defaults follow the data.go.kr convention."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="Endpoint; ${VAR} is read from the environment at run time.")
    format: Literal["json", "xml"] = "json"
    service_key: str | None = Field(
        default=None, description="The key, normally '${SOME_ENV_VAR}' so no secret sits in git."
    )
    key_param: str = "serviceKey"
    key_in: Literal["query", "header"] = "query"
    page_param: str = "pageNo"
    size_param: str = "numOfRows"
    page_size: int = Field(default=1000, ge=1, le=100_000)
    max_pages: int = Field(default=10_000, ge=1)
    params: dict[str, str] = Field(
        default_factory=dict,
        description="Extra query parameters; '{start:%Y%m%d%H}' and '{end:...}' format the window.",
    )
    items_path: str = Field(
        default="response.body.items", description="XML answers: 'response.body.items.item'."
    )
    total_path: str = "response.body.totalCount"
    result_code_path: str = "response.header.resultCode"
    result_msg_path: str = "response.header.resultMsg"
    ok_codes: list[str] = Field(default_factory=lambda: ["00"])
    no_data_codes: list[str] = Field(default_factory=lambda: ["03"])
    transient_codes: list[str] = Field(
        default_factory=lambda: ["22"], description="Codes a later retry may clear (quota)."
    )
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


CONFIG = HttpApiConfig
