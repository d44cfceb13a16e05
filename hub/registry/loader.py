"""Loading feed YAML files: every error names the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from hub.core.errors import FeedSpecError
from hub.registry.spec import FeedSpec
from quality.standards import StandardError, apply_standards


def load_feed(path: Path) -> FeedSpec:
    """Load one feed file.

    Raises:
        FeedSpecError: the file is not YAML, not a mapping, or not a valid feed.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FeedSpecError(f"{path}: cannot be read as YAML: {exc}") from None
    if not isinstance(data, dict):
        raise FeedSpecError(f"{path}: a feed file holds one mapping, found {type(data).__name__}")
    try:
        data = apply_standards(data)
    except StandardError as exc:
        raise FeedSpecError(f"{path}: field 'conforms_to': {exc}") from None
    try:
        spec = FeedSpec.model_validate(data)
    except ValidationError as exc:
        raise FeedSpecError(describe_errors(path, exc)) from None
    if spec.id != path.stem:
        raise FeedSpecError(
            f"{path}: field 'id': {spec.id!r} must match the file name {path.stem!r}"
        )
    return spec


def describe_errors(path: Path, exc: ValidationError) -> str:
    """One line per invalid field of a YAML file: the file, the field and the reason."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "(top level)"
        reason = err["msg"]
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err:
            reason += f" (got {err['input']!r})"
        lines.append(f"{path}: field '{where}': {reason}")
    return "\n".join(lines)


def load_registry(feeds_dir: Path) -> dict[str, FeedSpec]:
    """Load every ``*.yaml`` in the folder, failing on the first bad file."""
    feeds: dict[str, FeedSpec] = {}
    for path in sorted(feeds_dir.glob("*.yaml")):
        spec = load_feed(path)
        feeds[spec.id] = spec
    return feeds


def validate_registry(feeds_dir: Path) -> tuple[dict[str, FeedSpec], list[str]]:
    """Load every feed file and collect all errors instead of stopping at the first."""
    feeds: dict[str, FeedSpec] = {}
    errors: list[str] = []
    paths = sorted(feeds_dir.glob("*.yaml"))
    if not paths:
        errors.append(f"{feeds_dir}: no feed files (*.yaml) found")
    for path in paths:
        try:
            spec = load_feed(path)
        except FeedSpecError as exc:
            errors.append(str(exc))
        else:
            feeds[spec.id] = spec
    return feeds, errors
