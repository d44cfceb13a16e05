"""The raw zone: deliveries landed byte-for-byte, each closed by a manifest.

Layout: ``{feed}/partition={window start}/delivery={id}/{part}`` plus ``_manifest.json``,
where ``{part}`` keeps the part's path relative to the window (two inbox folders may each hold
a ``data.csv``). A raw object is written once and never overwritten; later steps read it only
through ``read_object``, which checks its bytes against the manifest first.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from pydantic import BaseModel

from hub.core.delivery import RawPart, Window
from hub.core.errors import LakeError, NoDeliveryError
from hub.core.time import utc_now
from hub.lake.objectstore import ObjectStore

MANIFEST = "_manifest.json"


class RawIntegrityError(LakeError):
    """Raw bytes do not match their manifest, or two parts would share one raw key.

    Not transient: a retry reads the same bytes; the delivery must be landed again.
    """

    transient = False


class RawObject(BaseModel):
    key: str
    sha256: str
    size: int
    content_type: str
    source: str
    rows_reported: int | None = None
    #: the bytes of an answer the delivery failed on, kept as evidence (never read)
    evidence: bool = False


class Manifest(BaseModel):
    """What one delivery is: enough to verify every byte and trace it to its request."""

    feed: str
    partition: str
    window_start: datetime
    window_end: datetime
    delivery_id: str
    run_id: str
    received_at: datetime
    status: str  # "complete" | "incomplete"
    objects: list[RawObject]
    checksum: str  # sha256 over the objects' checksums in order
    size: int
    rows_reported: int | None = None
    error: str | None = None
    #: incremental deliveries: the changes after ``watermark_from`` up to ``watermark_to``
    watermark_from: str | None = None
    watermark_to: str | None = None

    @property
    def prefix(self) -> str:
        return f"{self.feed}/partition={self.partition}/delivery={self.delivery_id}/"


def partition_name(window: Window) -> str:
    return window.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class RawLanding:
    """Writes one delivery's parts as they arrive, then seals it with a manifest.

    Parts are written by a few background writers, so the object store's latency overlaps
    with fetching the next part; ``seal`` waits for every write before the manifest.
    """

    WRITERS = 4

    def __init__(self, store: ObjectStore, feed: str, window: Window, run_id: str) -> None:
        self.store = store
        self.feed = feed
        self.window = window
        self.run_id = run_id
        self.partition = partition_name(window)
        self.received_at = utc_now()
        self.delivery_id = self.received_at.strftime("%Y%m%dT%H%M%S%fZ")
        self.objects: list[RawObject] = []
        self._pool = ThreadPoolExecutor(max_workers=self.WRITERS, thread_name_prefix="raw-landing")
        self._writes: list[tuple[RawObject, Future[None]]] = []

    @property
    def prefix(self) -> str:
        return f"{self.feed}/partition={self.partition}/delivery={self.delivery_id}/"

    def __call__(self, part: RawPart) -> None:
        key = self.prefix + part_path(part.name)
        taken = next((o for o in self.objects if o.key == key), None)
        if taken is not None:
            # Landing both would overwrite the first object, and its manifest entry would then
            # describe bytes that are gone: refuse instead of losing or doubling rows.
            raise RawIntegrityError(
                f"feed {self.feed}: file {part.source}: would land on raw key {key}, already "
                f"taken by {taken.source} in the same delivery; nothing was overwritten"
            )
        digest = hashlib.sha256(part.data).hexdigest()
        if part.copy_source is not None:
            write = self._pool.submit(self.store.copy, part.copy_source, "raw", key)
        else:
            write = self._pool.submit(
                self.store.put,
                "raw",
                key,
                part.data,
                content_type=part.content_type,
                metadata={"sha256": digest},
            )
        obj = RawObject(
            key=key,
            sha256=digest,
            size=len(part.data),
            content_type=part.content_type,
            source=part.source,
            rows_reported=part.rows_reported,
            evidence=part.evidence,
        )
        self.objects.append(obj)
        self._writes.append((obj, write))

    def _drain(self) -> list[str]:
        """Wait for every write; keep only the objects that landed; return the failures."""
        failures = []
        for obj, write in self._writes:
            error = write.exception()
            if error is not None:
                self.objects.remove(obj)
                failures.append(f"{obj.key}: {error}")
        self._writes.clear()
        self._pool.shutdown(wait=True)
        return failures

    def seal(
        self,
        *,
        rows_reported: int | None,
        error: str | None = None,
        watermarks: tuple[str | None, str | None] = (None, None),
    ) -> Manifest:
        """Write the manifest. A complete delivery equal to an earlier one becomes that one."""
        failures = self._drain()
        if failures and error is None:
            error = f"{len(failures)} part(s) could not be written to the raw zone: {failures[0]}"
        checksum = hashlib.sha256("".join(o.sha256 for o in self.objects).encode()).hexdigest()
        manifest = Manifest(
            feed=self.feed,
            partition=self.partition,
            window_start=self.window.start,
            window_end=self.window.end,
            delivery_id=self.delivery_id,
            run_id=self.run_id,
            received_at=self.received_at,
            status="incomplete" if error else "complete",
            objects=self.objects,
            checksum=checksum,
            size=sum(o.size for o in self.objects),
            rows_reported=rows_reported,
            error=error,
            watermark_from=watermarks[0],
            watermark_to=watermarks[1],
        )
        if error is None:
            earlier = latest_manifest(self.store, self.feed, self.window, required=False)
            if earlier is not None and earlier.checksum == checksum and intact(self.store, earlier):
                # Same bytes as the last complete delivery: one delivery, not two.
                self.store.delete("raw", [o.key for o in self.objects])
                return earlier
        self.store.put(
            "raw",
            self.prefix + MANIFEST,
            manifest.model_dump_json(indent=2).encode(),
            content_type="application/json",
        )
        if failures:
            raise LakeError(f"feed {self.feed}: {error}")
        return manifest


def part_path(name: str) -> str:
    """A part's name as a safe relative path under its delivery (folders kept, no ``..``)."""
    segments = [s for s in name.replace("\\", "/").split("/") if s not in ("", ".")]
    if not segments or ".." in segments or segments[-1] == MANIFEST:
        raise RawIntegrityError(f"a raw part cannot be named {name!r}")
    return "/".join(segments)


def read_object(store: ObjectStore, manifest: Manifest, obj: RawObject) -> bytes:
    """The bytes of one landed part, checked against its manifest before anyone reads them.

    Raises:
        RawIntegrityError: the object's size or SHA-256 differs from the manifest's.
    """
    data = store.get("raw", obj.key)
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != obj.size or digest != obj.sha256:
        raise RawIntegrityError(
            f"feed {manifest.feed}: file {obj.key}: the raw bytes do not match the delivery's "
            f"manifest (sha256 {digest[:12]}…, {len(data)} bytes; manifest says "
            f"{obj.sha256[:12]}…, {obj.size} bytes), so they are not read; land the window "
            "again"
        )
    return data


def intact(store: ObjectStore, manifest: Manifest) -> bool:
    """Every object of ``manifest`` is still in the raw zone with the bytes it lists (a
    redelivery may only reuse an earlier delivery that can still be read)."""
    try:
        for obj in manifest.objects:
            read_object(store, manifest, obj)
    except LakeError:
        return False
    return True


def manifests(store: ObjectStore, feed: str, window: Window) -> list[Manifest]:
    prefix = f"{feed}/partition={partition_name(window)}/"
    found = []
    for key in store.list("raw", prefix):
        if key.endswith("/" + MANIFEST):
            found.append(Manifest.model_validate_json(store.get("raw", key)))
    return sorted(found, key=lambda m: m.received_at)


def latest_manifest(
    store: ObjectStore, feed: str, window: Window, *, required: bool = True
) -> Manifest | None:
    """The newest complete delivery of the window.

    Raises:
        NoDeliveryError: none exists and ``required`` is set.
    """
    complete = [m for m in manifests(store, feed, window) if m.status == "complete"]
    if complete:
        return complete[-1]
    if required:
        raise NoDeliveryError(
            f"feed {feed}: no complete delivery in s3://{store.settings.bucket('raw')}/{feed}/"
            f"partition={partition_name(window)}/; run the land step first"
        )
    return None


def load_manifest(store: ObjectStore, key: str) -> Manifest:
    return Manifest.model_validate_json(store.get("raw", key))


def manifest_key(manifest: Manifest) -> str:
    return manifest.prefix + MANIFEST
