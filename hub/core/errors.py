"""The hub's error hierarchy: every error says what failed, where, and whether a retry can help.

Errors are plain exceptions with string state so they pickle across Airflow's task processes.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every error the hub raises on purpose."""

    #: True when the same call may succeed later (network, a busy server); False when the
    #: input itself is wrong and a retry would only repeat the failure.
    transient: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[type[HubError], tuple[str]]:  # keep subclasses picklable
        return (self.__class__, (self.message,))


class ConfigError(HubError):
    """Settings or a feed file are wrong; fix the file and rerun."""


class FeedSpecError(ConfigError):
    """A feed YAML does not describe a valid feed: names the file, the field and the reason."""


class ServiceError(HubError):
    """An embedded service (object store, database) could not be started, reached or stopped."""

    transient = True


class DeliveryError(HubError):
    """A source system did not deliver what the feed expects (agency error, bad payload)."""


class QualityGateError(DeliveryError):
    """A delivery failed the feed's quality gate (hard checks, or too many failing rows)."""


class TransientDeliveryError(DeliveryError):
    """The source failed in a way a later attempt may not (5xx, 429, time-out)."""

    transient = True


class LakeError(HubError):
    """Reading or writing the lake failed."""

    transient = True


class CommitFailedError(LakeError):
    """A table commit was rejected before it applied (e.g. a concurrent writer): safe to retry."""


class CommitStateUnknownError(LakeError):
    """A commit may or may not have applied: reconcile the table before retrying."""

    transient = False


class NoDeliveryError(HubError):
    """A step looked for a complete delivery of a partition and found none."""
