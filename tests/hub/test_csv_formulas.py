"""No spreadsheet formula reaches a citizen's CSV download: text cells that start with =, +,
-, @, a tab or a carriage return get a leading apostrophe in CSV exports only; the lake,
Parquet and the JSON API keep the value as the agency sent it; the dataset page says so."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from catalog import entries
from hub.core.downloads import CSV_FORMULA_NOTE
from hub.lake import iceberg
from hub.lake.formats import csv_chunks
from hub.lake.objectstore import ObjectStore
from hub.web.app import create_app
from simulators import drops, hostile
from tests.support.runs import drop, hub_run, window

FEED = "pm_composition"


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    "formulas", [hostile.FORMULAS[:4], ['=HYPERLINK("http://x","y")', "@cmd", "-1+1"]], ids=len
)
def test_formulas_are_neutralised_in_the_csv_download_only(hub_settings, formulas):
    start, _ = window(FEED)
    files = drops.pm_composition(start)
    key = "pm_composition/20261031/incheon_20261031.csv"
    files[key] = hostile.replace_cells(files[key], "utf-8", "측정소코드", formulas)
    drop(hub_settings, files)

    ran = hub_run(FEED)

    assert ran.exit_code == 0, ran.error
    assert ran.result["rows_published"] == 18
    store = ObjectStore(hub_settings)
    exported = {e.format: e for e in entries.exports_of(hub_settings.catalog_url, FEED)}
    text = store.get("open", exported["csv"].object_key).decode("utf-8-sig")
    cells = {row["site_id"] for row in csv.DictReader(io.StringIO(text, newline=""))}
    assert {f"'{f}" for f in formulas} <= cells
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)
    parquet = pq.read_table(io.BytesIO(store.get("open", exported["parquet"].object_key)))
    assert set(formulas) <= set(parquet.column("site_id").to_pylist())
    trusted = iceberg.table_catalog(hub_settings).load_table(("trusted", FEED)).scan().to_arrow()
    assert set(formulas) <= set(trusted.column("site_id").to_pylist())

    client = TestClient(create_app(hub_settings))
    for lang in ("ko", "en"):
        page = client.get(f"/datasets/{FEED}", params={"lang": lang}).text
        assert str(escape(CSV_FORMULA_NOTE[lang])) in page
    # harvesters (data.go.kr, the EU portal) read it on the CSV distribution of the DCAT catalog
    dcat = client.get("/catalog.jsonld").json()
    described = {
        node["@id"].rsplit("/", 1)[1]: node.get("dct:description")
        for node in dcat["@graph"]
        if node.get("@type") == "dcat:Distribution" and f"/{FEED}/files/" in node["@id"]
    }
    notes = {(t["@language"], t["@value"]) for t in described["csv"]}
    assert notes == {(lang, CSV_FORMULA_NOTE[lang]) for lang in ("ko", "en")}
    assert described["parquet"] is None


def test_tab_and_carriage_return_starts_are_neutralised_too():
    # validate trims them off source text, but a product or a future feed may publish them
    table = pa.table({"t": ["\tTAB", "\rCR", "\t"]})
    text = b"".join(csv_chunks(table.schema, table.to_batches())).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1:] == [["'\tTAB"], ["'\rCR"], ["'\t"]]


def test_numbers_and_harmless_text_are_written_as_they_are():
    table = pa.table(
        {"t": ["a=b", "1-2", "가=나", None, " =x"], "n": pa.array([-1.5, 2, 3, None, -4])}
    )
    text = b"".join(csv_chunks(table.schema, table.to_batches())).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1:] == [["a=b", "-1.5"], ["1-2", "2"], ["가=나", "3"], ["", ""], [" =x", "-4"]]
