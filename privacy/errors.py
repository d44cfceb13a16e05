"""Errors of the privacy room; each is terminal: a retry would only repeat the refusal."""

from __future__ import annotations

from hub.core.errors import HubError


class PrivacyError(HubError):
    """Personal data could not be protected as the feed's policy asks."""


class UndeclaredPersonalData(PrivacyError):
    """The PII scan found identifiers in a column the policy does not protect."""


class ReleaseRefused(PrivacyError):
    """An open release cannot reach the required k / l within the suppression allowed."""


class VaultError(PrivacyError):
    """A vault operation was refused or cannot be carried out."""
