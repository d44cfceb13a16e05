"""The walk of one delivery, written once: which steps a feed's run takes, in which order.

The DAG files, the in-process pipeline and the Airflow task bodies all read this list. It is
light to import (DAG parsing): each step's function is imported only when it is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from hub.registry.spec import FeedSpec


@dataclass(frozen=True)
class Step:
    """One step of a feed's run: its name (the Airflow task id) and where its function lives."""

    name: str
    doc: str
    #: the lake zone whose table the step changes (the task's Airflow Asset), if any
    zone: str | None
    module: str
    #: only datasets open to everyone take it
    public_only: bool = False

    def function(self) -> Callable[..., dict[str, Any]]:
        """The step's function ``(ctx, previous_result?) -> result``, imported on first use."""
        return getattr(import_module(self.module), self.name)


STEPS: tuple[Step, ...] = (
    Step("land", "Pull the delivery into the raw zone.", "raw", "hub.steps.land"),
    Step(
        "validate",
        "Parse to the declared schema and run the quality gate; failing rows to quarantine.",
        "quarantine",
        "hub.steps.validate",
    ),
    Step("protect", "Apply the privacy policy; scan for PII; register.", None, "hub.steps.protect"),
    Step("publish", "Commit one Iceberg snapshot.", "trusted", "hub.steps.publish"),
    Step("release", "Anonymized open release (k-gate).", "open", "hub.steps.release", True),
    Step(
        "cleanup",
        "Once every step succeeded: remove the run's stages; destroy identified raw data.",
        None,
        "hub.steps.cleanup",
    ),
)


def steps_for(feed: FeedSpec) -> list[Step]:
    """The steps a run of ``feed`` takes, in order."""
    return [s for s in STEPS if feed.is_public or not s.public_only]


def step(name: str) -> Step:
    for s in STEPS:
        if s.name == name:
            return s
    raise ValueError(f"unknown step {name!r}; the steps are {', '.join(s.name for s in STEPS)}")
