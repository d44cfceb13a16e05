"""Data standards (``quality/standards/*.yaml``): a schema fragment and checks several feeds share.

A feed that declares ``conforms_to: [standard]`` inherits the standard's columns (its own
entry for a column adds to the standard's, e.g. the source field name, but may not change
its type) and the standard's checks, ahead of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

STANDARDS_DIR = Path(__file__).parent / "standards"


class StandardError(ValueError):
    pass


def load_standard(standard_id: str, folder: Path = STANDARDS_DIR) -> dict[str, Any]:
    path = folder / f"{standard_id}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise StandardError(f"no data standard {standard_id!r} (known: {known})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("id") != standard_id:
        raise StandardError(f"{path}: a standard is a mapping whose id matches its file name")
    return data


def apply_standards(feed: dict[str, Any], folder: Path = STANDARDS_DIR) -> dict[str, Any]:
    """The feed's YAML with the schema and checks of every standard it conforms to merged in."""
    standards = feed.get("conforms_to") or []
    if not standards:
        return feed
    schema = [dict(f) for f in feed.get("schema") or [] if isinstance(f, dict)]
    by_name = {f.get("name"): f for f in schema}
    inherited: list[dict[str, Any]] = []
    checks: list[Any] = []
    for standard_id in standards:
        standard = load_standard(standard_id, folder)
        for field in standard.get("schema") or []:
            own = by_name.get(field["name"])
            if own is None:
                inherited.append(dict(field))
                by_name[field["name"]] = inherited[-1]
                continue
            if "type" in own and own["type"] != field["type"]:
                raise StandardError(
                    f"column {field['name']!r} is {own['type']} but standard {standard_id!r} "
                    f"declares it {field['type']}"
                )
            own.update({k: v for k, v in field.items() if k not in own})
        checks += standard.get("checks") or []
    return {**feed, "schema": schema + inherited, "checks": checks + (feed.get("checks") or [])}
