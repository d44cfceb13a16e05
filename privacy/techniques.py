"""Applying a feed's privacy policy to an Arrow table, column by column, without a Python loop
over rows.

Work on distinct values where a technique is per value (tokens, bands, scrubbing): a city feed
repeats the same member, age or station many times, so hashing 50,000 distinct ids serves a
million rows.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from privacy.policy import (
    Band,
    Clip,
    ColumnRule,
    Dong,
    Drop,
    Keep,
    Mask,
    Noise,
    PrivacyPolicy,
    Round,
    Scrub,
    Snap,
    Suppress,
    Token,
    Truncate,
)
from privacy.scanner import scrub_text
from privacy.vault import TOKEN_BYTES, FeedKey

METRES_PER_DEGREE = 111_320.0
WORKERS = 4
_AREA = re.compile(
    r"^(?P<area>(?:[가-힣]+(?:특별시|광역시|특별자치시|특별자치도|도)\s+)?"
    r"(?:[가-힣]+시\s+)?[가-힣]+(?:구|군|시)(?:\s+[가-힣0-9·.]+(?:동|읍|면|가))?)(?:\s|$)"
)


@dataclass
class Applied:
    """What one column went through: the processing register's row for it."""

    column: str
    classification: str
    technique: str
    guideline: str
    params: dict[str, Any]
    key_version: int | None = None
    values_changed: int | None = None


@dataclass
class Protected:
    table: pa.Table
    applied: list[Applied]
    #: column -> (distinct tokens, the values they stand for), for resolvable tokens only
    token_tables: dict[str, tuple[pa.Array, pa.Array]] = field(default_factory=dict)


def protect_table(
    table: pa.Table, policy: PrivacyPolicy, *, key: FeedKey | None, timezone: str, noise_seed: int
) -> Protected:
    """Apply ``policy`` to every column it names; columns it does not name pass unchanged.

    Columns are protected on a few threads: Arrow kernels release the GIL, so banding and
    truncating run while the token loop hashes.
    """
    if key is None and any(isinstance(r, Token) for r in policy.columns.values()):
        raise ValueError("tokenizing needs the feed's vault key")

    def one(name: str) -> tuple[pa.Array | None, Applied | None, tuple | None]:
        rule = policy.rule(name)
        values = table.column(name).combine_chunks()
        if isinstance(rule, Keep):
            return values, (_applied(name, rule) if name in policy.columns else None), None
        if isinstance(rule, Drop):
            return None, _applied(name, rule, values_changed=len(values) - values.null_count), None
        if isinstance(rule, Token):
            out, distinct, originals = tokenize(values, key)
            kept = (distinct, originals) if rule.resolvable else None
            return out, _applied(name, rule, key_version=key.version), kept
        out = _apply(rule, values, timezone=timezone, seed=noise_seed + _stable_int(name))
        return out, _applied(name, rule, values_changed=_changed(values, out)), None

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(one, table.column_names))
    columns = {
        n: out
        for n, (out, _, _) in zip(table.column_names, results, strict=True)
        if out is not None
    }
    applied = [a for _, a, _ in results if a is not None]
    tokens = {
        n: t for n, (_, _, t) in zip(table.column_names, results, strict=True) if t is not None
    }
    return Protected(pa.table(columns), applied, tokens)


def _changed(before: pa.Array, after: pa.Array) -> int:
    if before.type != after.type:
        return len(before) - before.null_count
    same = pc.fill_null(pc.equal(before, after), False)
    return len(before) - (pc.sum(pc.cast(same, pa.int64())).as_py() or 0)


def tokenize(values: pa.Array, key: FeedKey) -> tuple[pa.Array, pa.Array, pa.Array]:
    """HMAC-SHA256 tokens ``v<version>_<32 hex>``; nulls stay null.

    Returns the token of every row, and the distinct tokens with the values they stand for.
    """
    text = values if pa.types.is_large_string(values.type) else pc.cast(values, pa.large_string())
    encoded = pc.dictionary_encode(text)
    distinct = encoded.dictionary
    prefix, secret = key.token_prefix(), key.secret
    digest = hmac.digest
    distinct_tokens = pa.array(
        [
            prefix + digest(secret, v.encode(), hashlib.sha256)[:TOKEN_BYTES].hex()
            for v in distinct.to_pylist()
        ],
        pa.large_string(),
    )
    return pc.take(distinct_tokens, encoded.indices), distinct_tokens, distinct


def band_labels(values: pa.Array, width: int, top: int | None = None) -> pa.Array:
    """``1987`` -> ``1980-1989`` (width 10); at or above ``top`` -> ``70+``."""
    low = pc.multiply(pc.floor(pc.divide(pc.cast(values, pa.float64()), width)), width)
    low = pc.cast(low, pa.int64())
    encoded = pc.dictionary_encode(low)
    labels = [
        None
        if v is None
        else (f"{top}+" if top is not None and v >= top else f"{v}-{v + width - 1}")
        for v in encoded.dictionary.to_pylist()
    ]
    return pc.take(pa.array(labels, pa.large_string()), encoded.indices)


def reband(labels: pa.Array, width: int) -> pa.Array:
    """Coarsen band labels (``1980-1989``) to a wider band, for the release gate's ladder."""

    def wider(label: str) -> str:
        if label.endswith("+"):
            return label
        low = int(label.split("-")[0]) // width * width
        return f"{low}-{low + width - 1}"

    return per_distinct(labels, wider)


def truncate(values: pa.Array, unit: str, timezone: str) -> pa.Array:
    local = values.cast(pa.timestamp("us", tz=timezone))  # days and months end at local midnight
    return pc.floor_temporal(local, unit=unit).cast(values.type)


def snap(values: pa.Array, grid_m: float, axis: str, reference_lat: float) -> pa.Array:
    step = grid_m / METRES_PER_DEGREE
    if axis == "lon":
        step /= math.cos(math.radians(reference_lat))
    cell = pc.floor(pc.divide(pc.cast(values, pa.float64()), step))
    centre = pc.round(pc.multiply(pc.add(cell, 0.5), step), 7)
    return centre.cast(values.type)


def address_to_dong(values: pa.Array) -> pa.Array:
    """Keep si/gu/dong; an address without a recognisable area becomes null, never kept whole."""
    area = pc.struct_field(pc.extract_regex(values, _AREA.pattern), "area")
    return pc.if_else(pc.equal(area, ""), pa.scalar(None, values.type), area)


def mask(values: pa.Array, keep_first: int, keep_last: int, char: str) -> pa.Array:
    length = pc.utf8_length(values)
    hidden = pc.max_element_wise(pc.subtract(length, keep_first + keep_last), 0)
    head = pc.utf8_slice_codeunits(values, 0, keep_first)
    tail = (
        pc.utf8_slice_codeunits(values, -keep_last)
        if keep_last
        else pa.array([""] * len(values), values.type)
    )
    middle = pc.binary_repeat(pa.scalar(char, values.type), pc.cast(hidden, pa.int64()))
    short = pc.less_equal(length, keep_first + keep_last)  # too short to keep anything: all masked
    everything = pc.binary_repeat(pa.scalar(char, values.type), pc.cast(length, pa.int64()))
    return pc.if_else(
        short,
        everything,
        pc.binary_join_element_wise(head, middle, tail, pa.scalar("", values.type)),
    )


def _apply(rule: ColumnRule, values: pa.Array, *, timezone: str, seed: int) -> pa.Array:
    if isinstance(rule, Band):
        return band_labels(values, rule.width, rule.top)
    if isinstance(rule, Truncate):
        return truncate(values, rule.unit, timezone)
    if isinstance(rule, Snap):
        return snap(values, rule.grid_m, rule.axis, rule.reference_lat)
    if isinstance(rule, Dong):
        return address_to_dong(values)
    if isinstance(rule, Mask):
        return mask(values, rule.keep_first, rule.keep_last, rule.char)
    if isinstance(rule, Clip):
        out = values
        if rule.lower is not None:
            out = pc.max_element_wise(out, pa.scalar(rule.lower).cast(values.type, safe=False))
        if rule.upper is not None:
            out = pc.min_element_wise(out, pa.scalar(rule.upper).cast(values.type, safe=False))
        return out
    if isinstance(rule, Round):
        scaled = pc.round(pc.divide(pc.cast(values, pa.float64()), rule.step))
        return pc.multiply(scaled, rule.step).cast(values.type, safe=False)
    if isinstance(rule, Noise):
        rng = np.random.default_rng(seed)
        noise = rng.laplace(0.0, rule.scale, len(values))
        noisy = pc.add(pc.cast(values, pa.float64()), pa.array(noise))
        if pa.types.is_integer(values.type):
            noisy = pc.round(noisy)
        return noisy.cast(values.type, safe=False)
    if isinstance(rule, Suppress):
        return pc.if_else(pc.less(values, rule.below), pa.scalar(None, values.type), values)
    if isinstance(rule, Scrub):
        return per_distinct(values, _scrubber())
    raise ValueError(f"no implementation for technique {rule.technique}")


def per_distinct(values: pa.Array, fn: Callable[[str], str]) -> pa.Array:
    """Run a Python function once per distinct string, not once per row."""
    encoded = pc.dictionary_encode(values)
    mapped = [None if v is None else fn(v) for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(mapped, values.type), encoded.indices)


def _scrubber() -> Callable[[str], str]:

    return scrub_text


def _applied(name: str, rule: ColumnRule, **extra: Any) -> Applied:
    params = rule.model_dump(exclude={"class_", "technique"}, mode="json")
    return Applied(
        column=name,
        classification=rule.class_.value,
        technique=rule.technique,
        guideline=rule.guideline,
        params=params,
        **extra,
    )


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
