"""Embedded services the hub starts on 127.0.0.1 when no production endpoint is configured."""

from hub.services.seaweedfs import SeaweedFS, SeaweedState

__all__ = ["SeaweedFS", "SeaweedState"]
