"""Every fast kernel of assessment/sync/kernels.py gives what its plain reference version gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from assessment.sync import kernels as k

SEEDS = range(12)


def _texts(rng, n, pool=6, na=0.2) -> pd.Series:
    values = [None if rng.random() < na else f"v{rng.integers(pool)}" for _ in range(n)]
    return pd.Series(values, dtype="str")


@pytest.mark.parametrize("seed", SEEDS)
def test_codes_and_member_agree_with_plain(seed):
    rng = np.random.default_rng(seed)
    a, b = _texts(rng, rng.integers(0, 30)), _texts(rng, rng.integers(0, 30))
    fast, plain = k.codes(a, b), k.codes_plain(a, b)
    for f, p in zip(fast, plain, strict=True):  # same partition (codes may be numbered apart)
        assert ((f < 0) == (p < 0)).all()
        assert len(set(zip(f.tolist(), p.tolist(), strict=True))) == len(set(f.tolist()))
    assert (k.member(fast[0], fast[1]) == k.member_plain(fast[0], fast[1])).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_codes_of_chunked_arrays_number_in_first_seen_order(seed):
    """Arrays of several chunks (as loaded tables hold them) are encoded chunk by chunk with one
    memo table: the codes are the plain first-seen numbering across every array and chunk."""
    rng = np.random.default_rng(seed)
    series = [_texts(rng, rng.integers(0, 30)) for _ in range(3)]
    arrays = []
    for s in series:
        cut = int(rng.integers(0, len(s) + 1))
        parts = [s.iloc[:cut], s.iloc[cut:]]
        arrays.append(pa.chunked_array([k.arrow(p) for p in parts], type=pa.large_string()))
    fast, plain = k.codes_of(arrays), k.codes_plain(*series)
    for f, p in zip(fast, plain, strict=True):
        assert f.tolist() == p.tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_first_position_and_equi_join_agree_with_plain(seed):
    rng = np.random.default_rng(seed)
    left = rng.integers(-1, 5, rng.integers(0, 25))
    right = rng.integers(-1, 5, rng.integers(0, 25))
    n_codes = 6
    assert (k.first_position(right, n_codes) == k.first_position_plain(right, n_codes)).all()
    for f, p in zip(k.equi_join(left, right), k.equi_join_plain(left, right), strict=True):
        assert f.tolist() == p.tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_hash_lookups_agree_with_plain(seed):
    rng = np.random.default_rng(seed)
    keys, queries = _texts(rng, rng.integers(0, 20)), _texts(rng, rng.integers(0, 20))
    assert (k.positions(keys, queries) == k.positions_plain(keys, queries)).all()
    assert (k.isin(queries, keys) == k.isin_plain(queries, keys)).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_label_building_agrees_with_plain(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 30))
    values = np.array([None if rng.random() < 0.6 else f"t{rng.integers(4)}" for _ in range(n)])
    pd.testing.assert_series_equal(k.labels_of(values), k.labels_of_plain(values))
    codes, labels = rng.integers(-1, 3, n), ["a", "b", "c"]
    pd.testing.assert_series_equal(k.from_codes(codes, labels), k.from_codes_plain(codes, labels))
    series = _texts(rng, 10, na=0.0)
    pos = rng.integers(-1, 10, n)
    pd.testing.assert_series_equal(k.take_str(series, pos), k.take_str_plain(series, pos))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_names", [0, 3, 20])
def test_bitset_labels_agree_with_plain(seed, n_names):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    names = [f"p{i}" for i in range(n_names)]
    masks = [rng.random(n) < 0.3 for _ in names]
    fast = k.bitset_labels(names, masks, n)
    plain = k.bitset_labels_plain(names, masks, n)
    assert fast.tolist() == plain.tolist()
    fast_cat = k.bitset_labels(names, masks, n, categorical=True)
    assert isinstance(fast_cat.dtype, pd.CategoricalDtype)
    assert fast_cat.astype("str").tolist() == plain.tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_labels_agree_with_plain(seed):
    """The categorical forms hold the same texts, NA where the plain one has NA; equal labels
    (two reasons sharing a code) share one category."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 30))
    codes, labels = rng.integers(-1, 4, n), ["a", "b", "a", "c, d"]
    fast = k.from_codes(codes, labels, categorical=True)
    plain = k.from_codes_plain(codes, labels, categorical=True)
    assert isinstance(fast.dtype, pd.CategoricalDtype)
    assert len(fast.cat.categories) == len(set(np.array(labels)[codes[codes >= 0]]))
    pd.testing.assert_series_equal(fast.astype("str"), plain.astype("str"))
    pd.testing.assert_series_equal(fast, plain)  # the categories astype("category") gives
    values = np.array([None if rng.random() < 0.4 else f"t{rng.integers(4)}" for _ in range(n)])
    fast = k.labels_of(values, categorical=True)
    pd.testing.assert_series_equal(fast, k.labels_of_plain(values, categorical=True))


@pytest.mark.parametrize("seed", SEEDS)
def test_join_groups_agrees_with_plain(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    groups = rng.integers(0, 5, n)
    values = _texts(rng, n, na=0.0)
    fast = k.join_groups(groups, values).sort_index()
    plain = k.join_groups_plain(groups, values).sort_index()
    assert fast.to_dict() == plain.to_dict()
