"""Bilingual text: the city publishes every title and description in Korean and English."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Text(BaseModel):
    """A text in Korean and English; both are required, neither may be empty."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ko: str = Field(min_length=1)
    en: str = Field(min_length=1)
