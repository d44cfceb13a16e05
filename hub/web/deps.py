"""What the routes share, kept on ``app.state``: the settings, the registry (read once per
app), and the metadata answers of the last few seconds. Routes get it with ``HubDep``."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, NamedTuple

from cachetools import LRUCache
from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from catalog import entries
from catalog.db import ensure_current
from hub.core.settings import HubSettings
from hub.registry.loader import load_registry
from hub.registry.spec import DatasetSpec, FeedSpec
from hub.web.catalog_view import DatasetCard, Lineage, all_cards, card, lineage
from hub.web.kpis import KpiView, kpis
from hub.web.search import Indexed, SearchQuery, SearchResult, index, search
from products import load_products

log = logging.getLogger(__name__)

#: Seconds a rendered metadata answer is fresh (also its Cache-Control max-age); a new
#: rendering is started after that, and the old answer served until it is done.
METADATA_TTL_S = 2.0
#: Seconds the map's index is kept while the catalog has not changed: a feed turns late with
#: the clock alone, and the map says so within this time.
INDEX_MAX_AGE_S = 60.0


class KeptIndex(NamedTuple):
    cards: list[Indexed]
    marker: tuple[Any, ...]  # catalog.entries.change_marker when it was built
    built: float
    checked: float


def as_json(value: Any) -> bytes:
    """A metadata answer's body (Korean as it is, times as ISO text)."""
    return json.dumps(value, ensure_ascii=False, default=str).encode()


class Hub:
    """One app's shared state; the registry's YAML only changes with a deployment."""

    def __init__(
        self, settings: HubSettings, feeds: dict[str, FeedSpec], products: dict[str, Any]
    ) -> None:
        self.settings = settings
        self._specs = (feeds, products)
        self._migrated = False
        #: Metadata answers (JSON bytes, when rendered) by request; only the event loop
        #: touches them (no lock).
        self._rendered: LRUCache[tuple[Any, ...], tuple[bytes, float]] = LRUCache(maxsize=512)
        self._rendering: dict[tuple[Any, ...], asyncio.Future[bytes]] = {}
        self._index: KeptIndex | None = None
        self._kpis: tuple[list[KpiView], float] | None = None
        self._kpis_lock = threading.Lock()
        self._indexing = threading.Lock()
        #: Pages rendered from one index, by what was asked: the index they came from, and
        #: the HTML (a page is rendered again only once the index is rebuilt).
        self._pages: LRUCache[tuple[Any, ...], tuple[list[Indexed], str]] = LRUCache(maxsize=256)
        self._pages_lock = threading.Lock()

    async def rendered(self, key: tuple[Any, ...], make: Callable[[], Any]) -> bytes:
        """``make()`` as JSON, rendered at most once per METADATA_TTL_S. Once that has passed,
        the next request starts one new rendering and, like every request until it is done,
        gets the previous answer: no request waits for the catalog after the first, and no
        crowd of waiting connections reads it at once."""
        kept = self._rendered.get(key)
        if kept is not None and time.monotonic() - kept[1] < METADATA_TTL_S:
            return kept[0]
        flight = self._rendering.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._render(key, make))
            self._rendering[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        if kept is not None:
            return kept[0]
        return await asyncio.shield(flight)

    def _landed(self, key: tuple[Any, ...], flight: asyncio.Future[bytes]) -> None:
        """A rendering is done: the next expiry starts another. A failure reaches the requests
        that waited for it (none, when an older answer was served meanwhile)."""
        self._rendering.pop(key, None)
        failure = None if flight.cancelled() else flight.exception()
        if failure is not None and not isinstance(failure, HTTPException):  # a hub fault
            log.warning("metadata %s: could not be rendered: %s", key, failure)

    async def _render(self, key: tuple[Any, ...], make: Callable[[], Any]) -> bytes:
        body = as_json(await run_in_threadpool(make))
        self._rendered[key] = (body, time.monotonic())
        return body

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

    def specs(self) -> list[DatasetSpec]:
        """Every feed's and product's spec, by id (no catalog query)."""
        feeds, products = self._specs
        return sorted([*feeds.values(), *products.values()], key=lambda s: s.id)

    def cards(self) -> list[DatasetCard]:
        """Every dataset's card, as the map lists them."""
        return all_cards(self.settings.catalog_url, *self.registry())

    def indexed(self) -> list[Indexed]:
        """Every card, folded for search. Once METADATA_TTL_S has passed, one background
        thread asks the catalog whether anything a card shows changed (one query), and
        rebuilds the cards if so or when INDEX_MAX_AGE_S has passed (freshness moves with the
        clock). Requests never wait for the catalog, except for the very first build: a busy
        PostgreSQL (a checkpoint after a burst of audit writes) can hold even the one query
        for seconds, and the bench saw exactly one request per web worker pass wrk's 2 s
        timeout while the request itself asked."""
        kept = self._index
        if kept is None:
            with self._indexing:
                if self._index is None:
                    self.registry()  # the catalog's tables exist before they are asked about
                    self._refresh(None)
                return self._index.cards  # type: ignore[union-attr]
        if time.monotonic() - kept.checked >= METADATA_TTL_S and self._indexing.acquire(
            blocking=False
        ):
            try:
                threading.Thread(target=self._refresh, args=(kept,), daemon=True).start()
            except BaseException:  # no thread to release the lock: release it here
                self._indexing.release()
                raise
        return kept.cards

    def _refresh(self, kept: KeptIndex | None) -> None:
        """Check the catalog against ``kept`` and rebuild the index if it changed (the first
        build when ``kept`` is None: its caller holds the lock; else this releases it)."""
        now = time.monotonic()
        try:
            marker = entries.change_marker(self.settings.catalog_url)
            if kept is not None and kept.marker == marker and now - kept.built < INDEX_MAX_AGE_S:
                self._index = kept._replace(checked=now)
                return
            self._index = KeptIndex(index(self.cards()), marker, now, now)
        except Exception:
            if kept is None:  # the first build: the request that waits for it gets the error
                raise
            log.warning("the data map's index: the catalog did not answer", exc_info=True)
            self._index = kept._replace(checked=now)  # asked again after METADATA_TTL_S
        finally:
            if kept is not None:
                self._indexing.release()

    def indexed_page(self, key: tuple[Any, ...], make: Callable[[list[Indexed]], str]) -> str:
        """``make(index)``, rendered once per index and ``key`` (the home page and its
        searches are read far more often than the catalog changes)."""
        indexed = self.indexed()
        with self._pages_lock:
            kept = self._pages.get(key)
        if kept is not None and kept[0] is indexed:
            return kept[1]
        page = make(indexed)
        with self._pages_lock:
            self._pages[key] = (indexed, page)
        return page

    def kpis(self) -> list[KpiView]:
        """The KPI figures, read from their table at most once per METADATA_TTL_S (each read
        scans the table)."""
        with self._kpis_lock:
            kept = self._kpis
            if kept is None or time.monotonic() - kept[1] >= METADATA_TTL_S:
                kept = self._kpis = (kpis(self.settings), time.monotonic())
            return kept[0]

    def search(self, query: SearchQuery) -> SearchResult:
        return search(self.indexed(), query)

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
