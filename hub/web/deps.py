"""What the routes share, kept on ``app.state``: the settings, the registry (read once per
app), and the metadata answers of the last few seconds. Routes get it with ``HubDep``."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from cachetools import TTLCache
from fastapi import Depends, HTTPException, Request

from catalog.db import ensure_current
from hub.core.settings import HubSettings
from hub.registry.loader import load_registry
from hub.registry.spec import DatasetSpec, FeedSpec
from hub.web.catalog_view import DatasetCard, Lineage, all_cards, card, lineage
from products import load_products

#: Seconds a rendered metadata answer is reused (also its Cache-Control max-age).
METADATA_TTL_S = 2.0


class Hub:
    """One app's shared state; the registry's YAML only changes with a deployment."""

    def __init__(
        self, settings: HubSettings, feeds: dict[str, FeedSpec], products: dict[str, Any]
    ) -> None:
        self.settings = settings
        self._specs = (feeds, products)
        self._migrated = False
        #: Metadata answers (JSON bytes) by request, reused for METADATA_TTL_S seconds.
        self.rendered: TTLCache[tuple[Any, ...], bytes] = TTLCache(maxsize=512, ttl=METADATA_TTL_S)
        self.rendering = threading.Lock()

    @classmethod
    def load(cls, settings: HubSettings) -> Hub:
        """The feeds and products of ``settings``, read now."""
        return cls(settings, load_registry(settings.feeds_dir), load_products())

    @property
    def dataset_ids(self) -> list[str]:
        """Every feed's and product's id, sorted (without touching the catalog)."""
        feeds, products = self._specs
        return sorted([*feeds, *products])

    def registry(self) -> tuple[dict[str, FeedSpec], dict[str, Any]]:
        """Feeds and products, with the catalog brought to the current schema on first use."""
        if not self._migrated:
            ensure_current(self.settings.catalog_url)
            self._migrated = True
        return self._specs

    def spec(self, dataset_id: str) -> DatasetSpec:
        """A feed's or product's spec; 404 for any other id."""
        feeds, products = self.registry()
        spec = feeds.get(dataset_id) or products.get(dataset_id)
        if spec is None:
            raise HTTPException(status_code=404, detail=f"no dataset {dataset_id!r}")
        return spec

    def cards(self) -> list[DatasetCard]:
        """Every dataset's card, as the map lists them."""
        return all_cards(self.settings.catalog_url, *self.registry())

    def card(self, dataset_id: str) -> DatasetCard:
        """One dataset's card; 404 for an unknown id."""
        feeds, products = self.registry()
        if dataset_id in feeds:
            return card(self.settings.catalog_url, feeds[dataset_id], "feed")
        if dataset_id in products:
            return card(self.settings.catalog_url, products[dataset_id], "product")
        raise HTTPException(status_code=404, detail=f"no dataset {dataset_id!r}")

    def lineage(self, dataset_id: str) -> Lineage:
        """A dataset's lineage (the id is not checked: ``spec`` does)."""
        return lineage(self.settings, dataset_id)


def hub_of(request: Request) -> Hub:
    """The app's shared state (a dependency: ``hub: HubDep``)."""
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(hub_of)]


def client_of(request: Request) -> str:
    """The caller's address, for the audit log and the provision register."""
    return request.client.host if request.client else "unknown"
