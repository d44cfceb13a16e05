"""The feed registry refuses bad feed files with the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hub.cli import app
from hub.core.errors import FeedSpecError
from hub.core.settings import PROJECT_ROOT
from hub.registry import load_feed, load_registry

FEEDS = PROJECT_ROOT / "feeds"


def _write(tmp_path: Path, data: dict, name: str = "air_quality_hourly") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _feed() -> dict:
    return yaml.safe_load((FEEDS / "air_quality_hourly.yaml").read_text(encoding="utf-8"))


def test_every_feed_in_the_registry_loads_with_its_owner_and_schema():
    feeds = load_registry(FEEDS)
    assert "air_quality_hourly" in feeds
    feed = feeds["air_quality_hourly"]
    assert feed.department.id and feed.provider.id
    assert feed.arrow_schema.field("measured_at").nullable is False
    assert feed.delivery.config.page_size == 1000


def test_wrong_type_is_refused_with_file_field_and_reason(tmp_path: Path):
    data = _feed()
    data["schema"][6]["type"] = "flot"  # o3: no data standard governs it
    path = _write(tmp_path, data)
    with pytest.raises(FeedSpecError) as err:
        load_feed(path)
    message = str(err.value)
    assert str(path) in message
    assert "schema.6.type" in message
    assert "'flot'" in message


def test_column_at_odds_with_its_data_standard_is_refused(tmp_path: Path):
    data = _feed()
    data["schema"][4]["type"] = "int32"  # pm10, which the particulate-matter standard governs
    path = _write(tmp_path, data)
    with pytest.raises(FeedSpecError) as err:
        load_feed(path)
    assert "conforms_to" in str(err.value)
    assert "'particulate-matter' declares it float64" in str(err.value)


def test_feed_inherits_columns_and_checks_of_its_standards(tmp_path: Path):
    data = _feed()
    data["schema"] = [f for f in data["schema"] if f["name"] != "pm25"]
    spec = load_feed(_write(tmp_path, data))
    pm25 = spec.field("pm25")  # declared only by the standard
    assert pm25.type.value == "float64" and pm25.unit == "µg/m³"
    labels = [c.label for c in spec.checks]
    assert labels[:2] == ["regex(gu_code)", "in_set(gu_code)"]  # standards first, in order
    assert "between(pm25)" in labels and "between(o3)" in labels


def test_check_on_unknown_column_is_refused(tmp_path: Path):
    data = _feed()
    data["checks"].append({"expect": "not_null", "column": "pm100"})
    with pytest.raises(FeedSpecError) as err:
        load_feed(_write(tmp_path, data))
    assert "no column 'pm100'" in str(err.value)


def test_missing_field_is_refused(tmp_path: Path):
    data = _feed()
    del data["licence"]
    with pytest.raises(FeedSpecError, match=r"field 'licence': Field required"):
        load_feed(_write(tmp_path, data))


def test_unknown_connector_lists_the_known_ones(tmp_path: Path):
    data = _feed()
    data["delivery"]["connector"] = "carrier_pigeon"
    with pytest.raises(FeedSpecError, match="known connectors: http_api"):
        load_feed(_write(tmp_path, data))


def test_partition_column_must_be_declared(tmp_path: Path):
    data = _feed()
    data["partition"]["column"] = "observed_at"
    with pytest.raises(FeedSpecError, match="partition column 'observed_at' is not in the schema"):
        load_feed(_write(tmp_path, data))


def test_cli_validate_reports_every_bad_file_and_fails(tmp_path: Path):
    good = _feed()
    bad = _feed()
    bad["id"] = "broken_feed"
    bad["access_class"] = "secret"
    _write(tmp_path, good)
    _write(tmp_path, bad, name="broken_feed")
    result = CliRunner().invoke(app, ["feeds", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "broken_feed.yaml: field 'access_class'" in result.output
    assert "'secret'" in result.output


def test_cli_validate_passes_the_shipped_registry():
    result = CliRunner().invoke(app, ["feeds", "validate"])
    assert result.exit_code == 0, result.output
    assert "air_quality_hourly" in result.output


def test_partition_column_must_be_a_required_time_column(tmp_path: Path):
    data = _feed()
    data["partition"]["column"] = "station_id"
    with pytest.raises(FeedSpecError, match="must be a date or timestamp"):
        load_feed(_write(tmp_path, data))
    data = _feed()
    data["schema"][3]["required"] = False
    with pytest.raises(FeedSpecError, match="'measured_at' must be required: true"):
        load_feed(_write(tmp_path, data))


def test_the_partition_column_cannot_be_truncated_coarser_than_the_window(tmp_path: Path):
    data = _feed()  # hourly runs; truncating measured_at to the day would mix windows
    data["privacy"] = {
        "legal_basis": {"ko": "근거", "en": "basis"},
        "purpose": {"ko": "목적", "en": "purpose"},
        "columns": {
            "measured_at": {"class": "quasi_identifier", "technique": "truncate", "unit": "day"}
        },
    }
    with pytest.raises(FeedSpecError, match="coarser than the feed's 1:00:00 window"):
        load_feed(_write(tmp_path, data))
    data["privacy"]["columns"]["measured_at"]["unit"] = "hour"
    assert load_feed(_write(tmp_path, data)).privacy.rule("measured_at").unit == "hour"
