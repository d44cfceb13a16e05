"""The file-drop connector on each format and its typical defects."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.base import FetchContext
from connectors.file_drop.config import FileDropConfig
from connectors.file_drop.connector import fetch, read
from hub.core.delivery import RawPart, Window
from hub.core.errors import DeliveryError, TransientDeliveryError
from hub.lake.objectstore import ObjectStore
from simulators import drops

KST = ZoneInfo("Asia/Seoul")
DAY = date(2026, 10, 1)
CSV = FileDropConfig(prefix="pm/{start:%Y%m%d}/", pattern="*.csv", format="csv", encoding="auto")


@pytest.mark.parametrize("institute", ["seoul", "incheon", "gyeonggi"])
def test_csv_in_each_institutes_encoding_reads_hangul_intact(institute):
    table = read(CSV, drops.pm_csv(institute, DAY), name=f"{institute}.csv")
    assert table.column_names == drops.PM_HEADER
    assert table.column("시도")[0].as_py() == drops.INSTITUTES[institute][0]
    assert table.column("측정소코드")[0].as_py().endswith("001")  # text, zeros kept


def test_cp949_declared_encoding_also_reads():
    config = CSV.model_copy(update={"encoding": "cp949"})
    assert read(config, drops.pm_csv("gyeonggi", DAY), name="g.csv").num_rows == 8


def test_truncated_csv_is_refused_naming_the_file_and_line():
    data = drops.pm_csv("incheon", DAY)
    truncated = data[: data.rfind(b",", 0, len(data) - 20)]
    with pytest.raises(DeliveryError, match=r"incheon.csv: 1 malformed row\(s\), e.g. line"):
        read(CSV, truncated, name="incheon.csv")


def test_wrong_encoding_declared_is_a_clear_error():
    config = CSV.model_copy(update={"encoding": "utf-8"})
    with pytest.raises(DeliveryError, match=re.escape("g.csv: the header is not utf-8 text")):
        read(config, drops.pm_csv("gyeonggi", DAY), name="g.csv")


def test_mixed_encodings_in_one_file_are_refused_naming_the_file():
    utf8 = drops.pm_csv("incheon", DAY)  # UTF-8 ...
    cp949 = drops.pm_csv("gyeonggi", DAY).split(b"\r\n", 1)[1]  # ... then cp949 rows appended
    with pytest.raises(DeliveryError, match=r"^mixed.csv: "):
        read(CSV, utf8 + cp949, name="mixed.csv")


def test_empty_file_is_refused():
    with pytest.raises(DeliveryError, match=re.escape("x.csv: empty file")):
        read(CSV, b"", name="x.csv")


def test_excel_sheet_below_a_title_row_is_read_by_name():
    config = FileDropConfig(prefix="c/", format="excel", sheet="시설현황", header_row=2)
    book = drops.childcare_workbook(datetime(2026, 10, 1, tzinfo=KST), facilities=30)
    table = read(config, book, name="c.xlsx")
    assert table.num_rows == 30
    assert table.column_names[:3] == ["기준월", "시설코드", "시설유형"]
    assert table.column("정원").type == pa.string()


def test_renamed_excel_sheet_lists_the_sheets_found():
    config = FileDropConfig(prefix="c/", format="excel", sheet="정원현황", header_row=2)
    book = drops.childcare_workbook(datetime(2026, 10, 1, tzinfo=KST), facilities=5)
    with pytest.raises(
        DeliveryError, match="no sheet '정원현황'; the workbook has '시설현황', '입소신청'"
    ):
        read(config, book, name="c.xlsx")


def test_json_that_is_not_json_and_parquet_that_is_not_parquet():
    with pytest.raises(DeliveryError, match=re.escape("f.json: not JSON")):
        read(FileDropConfig(prefix="", format="json"), b"<html>oops</html>", name="f.json")
    with pytest.raises(DeliveryError, match=re.escape("p.parquet: cannot be read as parquet")):
        read(FileDropConfig(prefix="", format="parquet"), b"PAR1 not really", name="p.parquet")


def test_json_records_at_a_path():
    config = FileDropConfig(prefix="", format="json", records_path="data.records")
    table = read(config, b'{"data": {"records": [{"a": 1}, {"a": 2}]}}', name="f.json")
    assert table.column("a").to_pylist() == [1, 2]


def test_parquet_is_read_as_written():
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": [1, 2, 3]}), sink)
    assert (
        read(FileDropConfig(prefix="", format="parquet"), sink.getvalue(), name="p").num_rows == 3
    )


def _ctx(store) -> FetchContext:
    window = Window(datetime(2026, 10, 1, tzinfo=KST), datetime(2026, 10, 2, tzinfo=KST))
    return FetchContext(feed_id="pm_composition", window=window, timezone="Asia/Seoul", inbox=store)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_fetch_lands_every_file_of_the_window_byte_for_byte(hub_settings):
    store = ObjectStore(hub_settings)
    files = {f"pm/20261001/{n}.csv": drops.pm_csv(n, DAY) for n in drops.INSTITUTES}
    files["pm/20261002/seoul.csv"] = drops.pm_csv("seoul", date(2026, 10, 2))  # another window
    for key, data in files.items():
        store.put("inbox", key, data)
    parts: list[RawPart] = []
    fetch(CSV, _ctx(store), parts.append)
    assert [p.name for p in parts] == ["gyeonggi.csv", "incheon.csv", "seoul.csv"]
    assert all(p.data == files[f"pm/20261001/{p.name}"] for p in parts)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_fetch_waits_for_missing_files_and_refuses_empty_ones(hub_settings):
    store = ObjectStore(hub_settings)
    config = CSV.model_copy(update={"min_files": 2})
    store.put("inbox", "pm/20261001/seoul.csv", drops.pm_csv("seoul", DAY))
    with pytest.raises(TransientDeliveryError, match=r"1 file\(s\) dropped, 2 expected"):
        fetch(config, _ctx(store), lambda part: None)
    store.put("inbox", "pm/20261001/incheon.csv", b"")
    with pytest.raises(DeliveryError, match=re.escape("incheon.csv is empty")):
        fetch(config, _ctx(store), lambda part: None)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_file_replaced_between_read_and_landing_is_not_landed(hub_settings):
    from hub.core.errors import LakeError

    store = ObjectStore(hub_settings)
    store.put("inbox", "pm/20261001/seoul.csv", drops.pm_csv("seoul", DAY))
    original = store.put

    class Racing:
        """The provider re-uploads the file right after the hub read it."""

        def __call__(self, part: RawPart) -> None:
            original("inbox", "pm/20261001/seoul.csv", drops.pm_csv("seoul", date(2026, 10, 2)))
            store.copy(part.copy_source, "raw", "landed/seoul.csv")

    with pytest.raises(LakeError, match=r"cannot copy .*seoul\.csv"):
        fetch(CSV, _ctx(store), Racing())
    assert not store.exists("raw", "landed/seoul.csv")


def test_csv_text_like_na_or_null_stays_text_and_only_empty_fields_are_missing():
    data = "코드,값\nA,NA\nB,NULL\nC,\n".encode()
    table = read(FileDropConfig(prefix="", format="csv"), data, name="x.csv")
    assert table.column("값").to_pylist() == ["NA", "NULL", None]
