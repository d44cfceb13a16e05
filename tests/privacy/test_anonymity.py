"""The release gate measures k and l as an independent tool does, and refuses what it must."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from pycanon import anonymity

from privacy.anonymity import measure, release_gate
from privacy.errors import ReleaseRefused
from privacy.policy import PrivacyPolicy

BASIS = {"ko": "근거", "en": "basis"}


def people(n: int, seed: int = 3) -> pa.Table:
    rng = random.Random(seed)
    return pa.table(
        {
            "age_band": pa.array(
                [rng.choice(["20-29", "30-39", "40-49", "50-59"]) for _ in range(n)],
                pa.large_string(),
            ),
            "sex": pa.array([rng.choice("FM") for _ in range(n)], pa.large_string()),
            "gu": pa.array(
                [rng.choice(["11560", "11590", "11620", "11650", "11680"]) for _ in range(n)],
                pa.large_string(),
            ),
            "offence": pa.array(
                [rng.choice(["theft", "assault", "fraud", "stalking"]) for _ in range(n)],
                pa.large_string(),
            ),
        }
    )


def gate_policy(**release) -> PrivacyPolicy:
    quasi = {"class": "quasi_identifier", "technique": "keep"}
    return PrivacyPolicy.model_validate(
        {
            "legal_basis": BASIS,
            "purpose": BASIS,
            "release": release,
            "columns": {
                "age_band": quasi,
                "sex": quasi,
                "gu": quasi,
                "offence": {"class": "sensitive", "technique": "keep"},
            },
        }
    )


def test_k_and_l_agree_with_pycanon():
    table = people(400)
    risk = measure(table, ["age_band", "sex", "gu"], ["offence"])
    frame = table.to_pandas()
    assert risk.k == anonymity.k_anonymity(frame, ["age_band", "sex", "gu"])
    assert risk.l == anonymity.l_diversity(frame, ["age_band", "sex", "gu"], ["offence"])


def test_the_gate_suppresses_small_classes_until_k_and_l_hold():
    table = people(400)
    released = release_gate(
        table, gate_policy(k=5, l=2, max_suppression=0.2), feed_id="f", timezone="Asia/Seoul"
    )
    frame = released.table.to_pandas()
    assert anonymity.k_anonymity(frame, ["age_band", "sex", "gu"]) == released.risk.k >= 5
    assert (
        anonymity.l_diversity(frame, ["age_band", "sex", "gu"], ["offence"]) == released.risk.l >= 2
    )
    assert released.table.num_rows + released.rows_suppressed == 400


def test_a_release_that_would_suppress_too_much_is_refused():
    with pytest.raises(
        ReleaseRefused, match=r"cannot reach k ≥ 5 and l ≥ 2 over age_band, sex, gu"
    ):
        release_gate(
            people(60),
            gate_policy(k=5, l=2, max_suppression=0.05),
            feed_id="f",
            timezone="Asia/Seoul",
        )
