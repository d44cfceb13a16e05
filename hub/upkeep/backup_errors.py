"""The errors of backups and restore, one hierarchy shared by the modules that make them."""

from __future__ import annotations

from hub.core.errors import HubError


class BackupError(HubError):
    """A backup could not be made, or a restore was refused or failed: the message says which
    file, database or setting, and what to do."""


class BackupStoreError(BackupError):
    """The backup location or a database did not answer as expected: a retry may help."""

    transient = True


__all__ = ["BackupError", "BackupStoreError"]
