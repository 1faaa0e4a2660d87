"""Shared check helpers: each equals the plain pandas expression it replaces (speed only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assessment.checks import registry
from assessment.checks.common import (
    by_value,
    first_match_values,
    has_policy,
    live_leads,
    live_positions,
)
from assessment.checks.dup import _factorize_together
from assessment.checks.registry import CheckContext
from assessment.settings import ConnectorSettings


class _Snap:
    """Just enough of an OrgSnapshot for CheckContext.table."""

    def __init__(self, tables):
        self.tables = tables


def _leads():
    return pd.DataFrame(
        {
            "id": pd.Series(["a", "b", "c", "d", "e"], dtype="str"),
            "email": pd.Series(["x@y.z", None, "q@r.s", "", "t@u.v"], dtype="str"),
            "is_converted": pd.Series([False, True, None, False, False], dtype="boolean"),
            "is_deleted": pd.Series([False, False, False, None, True], dtype="boolean"),
        },
        index=pd.Index([10, 11, 12, 13, 14], name="row"),
    )


def test_live_positions_select_the_live_leads():
    leads = _leads()
    ctx = CheckContext(_Snap({"sf_leads": leads}), None)
    got = leads[["id", "email"]].take(live_positions(ctx, "sf_leads"))
    pd.testing.assert_frame_equal(got, live_leads(leads)[["id", "email"]])
    assert "live_positions:sf_leads" in ctx.cache  # computed once for the run
    assert live_positions(ctx, "sf_leads") is ctx.cache["live_positions:sf_leads"]


def test_shared_computes_once_per_cache():
    calls = []
    ctx = CheckContext(_Snap({}), None)
    assert ctx.shared("k", lambda: calls.append(1) or 7) == 7
    assert ctx.shared("k", lambda: calls.append(1) or 8) == 7
    assert calls == [1]
    assert CheckContext(_Snap({}), None).shared("k", lambda: 9) == 9  # a new run: a new cache


def test_run_checks_shares_one_cache_and_run_check_gets_its_own(monkeypatch):
    seen = []
    real = registry.CheckContext

    def spy(snapshot, simulation, cache):
        seen.append(cache)
        return real(snapshot, simulation, cache)

    monkeypatch.setattr(registry, "CheckContext", spy)

    class _S:
        settings = ConnectorSettings()

    results = registry.run_checks(_S(), object(), ["CON002", "CON002"])
    assert [r.status for r in results] == ["pass", "pass"]
    assert len(seen) == 2 and seen[0] is seen[1]
    registry.run_checks(_S(), object(), ["CON002"])
    assert seen[2] is not seen[0]


def test_by_value_equals_the_function_on_every_row():
    values = pd.Series(["a;b", None, "b", "a;b", "", "c;a"] * 3, dtype="str", name="policies")
    values.index = values.index * 2 + 5
    for name in ("a", "b", "c", "d"):
        text = ";" + values.astype("str").fillna("") + ";"
        want = text.str.contains(f";{name};", regex=False).fillna(False).astype(bool)
        pd.testing.assert_series_equal(has_policy(values, name), want)
    lower = by_value(values, lambda v: v.str.upper())
    pd.testing.assert_series_equal(lower, values.str.upper())


def test_first_match_values_equals_drop_duplicates_then_map():
    ids = pd.Series(["p1", None, "p2", "p1", None, "p3"], dtype="str")
    flags = pd.Series([True, False, None, False, True, False], dtype="boolean")
    keys = pd.Series(["p1", "p2", None, "zz", "p3", "p1"], dtype="str", index=[9, 8, 7, 6, 5, 4])
    table = pd.DataFrame({"id": ids, "flag": flags}).drop_duplicates("id").set_index("id")
    want = keys.map(table["flag"]).astype("boolean")
    pd.testing.assert_series_equal(first_match_values(keys, ids, flags), want)


def test_factorize_together_codes_equal_exactly_for_equal_values():
    a = pd.Series(["x", None, "y", "x", "Y"], dtype="str")
    b = pd.Series(["y", "z", None, "x"], dtype="str")
    (ca, cb), n = _factorize_together([a, b])
    values = pd.concat([a, b], ignore_index=True)
    codes = np.concatenate([ca, cb])
    assert n == values.nunique()
    assert ((codes == -1) == values.isna().to_numpy()).all()
    want, _ = pd.factorize(values)
    assert ((codes[:, None] == codes[None, :]) == (want[:, None] == want[None, :])).all()


def test_factorize_together_codes_are_wide_enough_to_pair():
    # DUP005 pairs codes as key * n_emails + email: with int32 codes that product overflowed
    # at 1M records (the check then ended "not_run").
    (ca, cb), _ = _factorize_together([pd.Series(["a", "b"], dtype="str")] * 2)
    assert ca.dtype == np.int64 and cb.dtype == np.int64
