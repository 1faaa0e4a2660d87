"""The planning stage's fast kernels (issue #19) equal their plain reference versions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment.load import load_org
from assessment.plan.common import duplicate_groups
from assessment.plan.field_rules import (
    _first_positions,
    _first_positions_plain,
    _text,
    _text_plain,
)
from assessment.plan.steps import SPOT_CHECK, SPOT_EXAMPLES, verify_steps
from assessment.sync import simulate

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("seed", range(5))
def test_first_positions_equal_the_reference(seed):
    rng = np.random.default_rng(seed)
    pool = np.array([f"id{i}" for i in range(40)] + [None], dtype=object)
    ids = pd.Series(rng.choice(pool, 60), dtype="str")  # duplicates and blanks
    wanted = pd.Series(rng.choice(pool, 30), dtype="str")
    fast, plain = _first_positions(ids, wanted), _first_positions_plain(ids, wanted)
    np.testing.assert_array_equal(fast, plain)
    assert (fast == -1).any() and (fast >= 0).any()


@pytest.mark.parametrize("seed", range(3))
def test_compared_text_equals_the_reference(seed):
    rng = np.random.default_rng(seed)
    pool = np.array(
        ["a", " a ", "", "   ", "\u00a0x\u2003", "\x1cy\x1f", "\tz\n", "500000.0", "É é ", None],
        dtype=object,
    )
    values = pd.Series(rng.choice(pool, 200), index=rng.permutation(200), dtype="str")
    pd.testing.assert_series_equal(_text(values), _text_plain(values))
    flags = pd.Series(rng.choice([True, False, None], 50), dtype="boolean")
    pd.testing.assert_series_equal(_text(flags), _text_plain(flags))
    numbers = pd.Series(rng.integers(0, 5, 20))
    pd.testing.assert_series_equal(_text(numbers), _text_plain(numbers))


def test_duplicate_groups_count_keys_seen_more_than_once():
    keys = pd.Series(["a", "b", "a", None, "c", "c", "c", "", ""], dtype="str")
    counts = keys.dropna().value_counts()  # the reference
    many = counts[counts > 1]
    assert duplicate_groups(keys) == (len(many), int(many.sum())) == (3, 7)
    assert duplicate_groups(pd.Series([], dtype="str")) == (0, 0)


def _spot_checks_plain(pr: pd.DataFrame) -> list[tuple[str, int]]:
    """Reference: the spot-check steps as the frame-sorting version built them."""
    ranked = pr.assign(_c=~pr["caution"].astype(bool)).sort_values("_c", kind="stable")
    out = []
    for outcome in SPOT_CHECK:
        ids = ranked.loc[ranked["outcome"] == outcome, "prospect_id"].head(SPOT_EXAMPLES)
        if ids.empty:
            continue
        title = f"Spot-check {outcome} prospects: {', '.join(ids.astype(str))}"
        out.append((title, int((pr["outcome"] == outcome).sum())))
    return out


def test_spot_checks_equal_the_reference_cautious_first():
    sim = simulate(load_org(ROOT / "data" / "sample"))
    pr = sim.prospects
    rng = np.random.default_rng(3)
    for caution in (pr["caution"], pd.Series(rng.random(len(pr)) < 0.3)):
        sim.prospects = pr.assign(caution=caution.to_numpy(dtype=bool))
        got = [
            (s["title"], s["records"])
            for s in verify_steps(sim)
            if s["title"].startswith("Spot-check")
        ]
        assert got == _spot_checks_plain(sim.prospects)
        assert len(got) >= 3
