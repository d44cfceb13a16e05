"""Raw objects never collide: keys keep each file's path below the window, a key is never
written twice in one delivery, and raw bytes are checked against the manifest before reading."""

from __future__ import annotations

import hashlib

import pytest

from hub.core.delivery import RawPart
from hub.lake.objectstore import ObjectStore
from hub.lake.raw import RawIntegrityError, RawLanding, load_manifest, manifests, part_path
from hub.steps.context import RunContext
from hub.steps.land import land
from simulators import drops
from tests.support.runs import drop, hub_run, last_run, rows, window

FEED = "pm_composition"


def _same_names_in_folders() -> dict[str, bytes]:
    """Each institute's file as ``<institute>/data.csv``: three files, one name."""
    start, _ = window(FEED)
    return {
        f"{FEED}/{start:%Y%m%d}/{key.rsplit('/', 1)[1].split('_')[0]}/data.csv": data
        for key, data in drops.pm_composition(start).items()
    }


@pytest.mark.parametrize("backend", ["sqlite"])
def test_files_with_one_name_in_different_folders_each_land_and_publish_once(hub_settings):
    drop(hub_settings, _same_names_in_folders())

    ran = hub_run(FEED)

    assert ran.exit_code == 0, ran.error
    assert ran.result["rows_published"] == rows(hub_settings, "trusted", FEED) == 18
    store = ObjectStore(hub_settings)
    start, end = window(FEED)
    ctx = RunContext.create(FEED, start, end, "probe", settings=hub_settings)
    (manifest,) = manifests(store, FEED, ctx.window)
    names = sorted(o.key.removeprefix(manifest.prefix) for o in manifest.objects)
    assert names == ["gyeonggi/data.csv", "incheon/data.csv", "seoul/data.csv"]
    for obj in manifest.objects:
        assert hashlib.sha256(store.get("raw", obj.key)).hexdigest() == obj.sha256
    run = last_run(hub_settings, FEED)
    assert run.rows_published + run.rows_quarantined == run.rows_landed == 18


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda data: data + b"SITE999,x,2026-10-31,1,1,1,1,1,1\r\n", id="appended"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: drops.pm_csv("seoul", drops.date(2026, 10, 30)), id="swapped"),
    ],
)
def test_raw_bytes_that_no_longer_match_the_manifest_are_not_read(hub_settings, tamper):
    start, end = window(FEED)
    drop(hub_settings, drops.pm_composition(start))
    ctx = RunContext.create(FEED, start, end, "run-1", settings=hub_settings)
    manifest = load_manifest(ObjectStore(hub_settings), land(ctx)["manifest"])
    victim = manifest.objects[1]
    store = ObjectStore(hub_settings)
    store.put("raw", victim.key, tamper(store.get("raw", victim.key)))

    ran = hub_run(FEED)  # lands the same bytes: it must not reuse the altered delivery

    assert ran.exit_code == 0, ran.error
    assert rows(hub_settings, "trusted", FEED) == 18

    from hub.steps.validate import validate

    with pytest.raises(RawIntegrityError, match=r"^feed pm_composition: file \S+: the raw bytes"):
        validate(ctx, {"manifest": manifest.prefix + "_manifest.json"})


@pytest.mark.parametrize("backend", ["sqlite"])
def test_two_parts_on_one_raw_key_are_refused_and_the_first_is_kept(hub_settings):
    start, end = window(FEED)
    store = ObjectStore(hub_settings)
    ctx = RunContext.create(FEED, start, end, "r", settings=hub_settings)
    landing = RawLanding(store, FEED, ctx.window, "run-1")
    landing(RawPart("a/data.csv", b"x,y\r\n1,2\r\n", "text/csv", "s3://inbox/a/data.csv"))
    with pytest.raises(RawIntegrityError, match=r"already taken by s3://inbox/a/data.csv"):
        landing(RawPart("a//./data.csv", b"x,y\r\n3,4\r\n", "text/csv", "s3://inbox/b/data.csv"))
    manifest = landing.seal(rows_reported=None)
    (obj,) = manifest.objects
    assert store.get("raw", obj.key) == b"x,y\r\n1,2\r\n"


@pytest.mark.parametrize(
    "name", ["../other_feed/x.csv", "a/../../x.csv", "", "/", "_manifest.json"]
)
def test_a_part_name_that_would_leave_its_delivery_is_refused(name):
    with pytest.raises(RawIntegrityError):
        part_path(name)
