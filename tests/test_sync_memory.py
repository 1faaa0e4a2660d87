"""The simulator's memory-lean paths give what their plain references give (issue #19)."""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from assessment.sync import kernels as k
from assessment.sync import link_by_crm_id as crm
from assessment.sync.simulate import write_frame

SEEDS = range(12)
sm = importlib.import_module("assessment.sync.simulate")  # the package exports the function


def _ids(rng, n, pool=8, na=0.2) -> pd.Series:
    values = [None if rng.random() < na else f"00Q{rng.integers(pool):015d}" for _ in range(n)]
    return pd.Series(values, dtype="str")


@pytest.mark.parametrize("seed", SEEDS)
def test_record_positions_agree_with_shared_codes(seed):
    """A CRM id's record and a converted lead's ConvertedContactId record: the first record with
    that id (duplicates and blanks included), -1 when none; -1 for records not converted."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(0, 30))
    sf = pd.DataFrame(
        {
            "link_id": _ids(rng, m),
            "converted_contact_id": _ids(rng, m, na=0.4),
            "is_converted": rng.random(m) < 0.5,
        }
    )
    crm_ids = _ids(rng, int(rng.integers(0, 30)), pool=12)
    crm_ids.index = rng.permutation(len(crm_ids))  # the export's row labels, any order
    fast = crm.record_positions(sf, crm_ids)
    plain = crm.record_positions_plain(sf, crm_ids)
    for f, p in zip(fast, plain, strict=True):
        assert f.tolist() == p.tolist()
    assert (fast[1][~sf["is_converted"].to_numpy()] == -1).all()


def test_record_positions_keep_the_prospect_order_on_any_index():
    """The CRM ids may come on the export's row labels: positions follow their order."""
    sf = pd.DataFrame(
        {
            "link_id": pd.Series(["a", "b", "a", None], dtype="str"),
            "converted_contact_id": pd.Series([None, "a", "zz", None], dtype="str"),
            "is_converted": np.array([False, True, True, False]),
        }
    )
    ids = pd.Series(["b", None, "a", "c"], index=[7, 3, 5, 1], dtype="str")
    pos, ccid_pos = crm.record_positions(sf, ids)
    assert pos.tolist() == [1, -1, 0, -1]
    assert ccid_pos.tolist() == [-1, 0, -1, -1]


def test_write_frame_labels_every_row_by_its_write():
    """Each write's field id and object on each of its rows (categoricals), positions in order."""
    writes = [
        ("city", "Lead", np.array([4, 1])),
        ("state", "Contact", np.array([], dtype=np.int64)),
        ("city", "Contact", np.array([2])),
        ("zip", "PersonAccount", np.array([0, 3, 5])),
    ]
    frame = write_frame(writes)
    assert frame["pardot_field_id"].astype(str).tolist() == ["city"] * 3 + ["zip"] * 3
    assert (
        frame["sf_object"].astype(str).tolist()
        == ["Lead", "Lead", "Contact"] + ["PersonAccount"] * 3
    )
    assert frame["position"].tolist() == [4, 1, 2, 0, 3, 5]
    assert ((frame["pardot_field_id"] == "city") & frame["sf_object"].isin(["Lead"])).sum() == 2
    assert len(write_frame([])) == 0


def _reached(func, seen: set) -> str:
    """The source of ``func`` and of every function of the package it calls by name."""
    if func in seen:
        return ""
    seen.add(func)
    text = inspect.getsource(func)
    for name in func.__code__.co_names:
        other = func.__globals__.get(name)
        if inspect.isfunction(other) and other.__module__.startswith("assessment.sync"):
            text += _reached(other, seen)
    return text


def test_dropped_facts_are_read_by_no_later_step():
    """simulate drops a fact after its last reader (LAST_READ): no later rule step, nor the
    frames built after them, may read it (a KeyError would only show on the settings that
    reach that line)."""
    steps = list(sm.PROSPECT_STEPS)
    for step, names in sm.LAST_READ.items():
        later = [*steps[steps.index(step) + 1 :], sm.prospect_frame]
        text = "".join(_reached(f, set()) for f in later)
        for name in names:
            assert f'"{name}"' not in text, (step.__name__, name)
    kept = "".join(_reached(f, set()) for f in (sm.prospect_frame,))
    assert '"key_codes"' not in kept and '"inn"' not in kept


def _texts(rng, n) -> pd.Series:
    """Texts with NA, blanks, equal lengths, shared first/last bytes and non-ASCII bytes."""
    pool = ["", "a", "b", "ab", "ba", "abc", "cba", "é", "ée", "a@x.com", "b@x.com", "ab@x.de"]
    return pd.Series(
        [None if rng.random() < 0.15 else rng.choice(pool) for _ in range(n)], dtype="str"
    )


def _chunked(rng, series: pd.Series) -> pa.ChunkedArray:
    cut = int(rng.integers(0, len(series) + 1))
    parts = [k.arrow(series.iloc[:cut]), k.arrow(series.iloc[cut:])]
    return pa.chunked_array(parts, type=pa.large_string())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("parts", [1, 3, 8])
def test_codes_in_parts_partition_as_plain_codes(seed, parts):
    """Equal texts share a code across arrays and chunks, different texts never; NA → -1."""
    rng = np.random.default_rng(seed)
    series = [_texts(rng, int(rng.integers(0, 40))) for _ in range(2)]
    fast = k.codes_in_parts([_chunked(rng, series[0]), k.arrow(series[1])], parts)
    plain = k.codes_plain(*series)
    assert [len(f) for f in fast] == [len(p) for p in plain]
    f, p = np.concatenate(fast), np.concatenate(plain)
    assert ((f < 0) == (p < 0)).all()
    pairs = set(zip(f.tolist(), p.tolist(), strict=True))
    assert len(pairs) == len(set(f.tolist())) == len(set(p.tolist()))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("parts", [1, 3, 8])
def test_positions_in_parts_agree_with_plain(seed, parts):
    """The first key equal to each query (duplicates, blanks, NA and misses included)."""
    rng = np.random.default_rng(seed)
    keys = pd.concat([_texts(rng, int(rng.integers(0, 25))) for _ in range(2)], ignore_index=True)
    queries = _texts(rng, int(rng.integers(0, 30)))
    queries.index = rng.permutation(len(queries))
    fast = k.positions_in_parts(keys, queries, parts)
    assert fast.tolist() == k.positions_plain(keys, queries).tolist()


def test_text_groups_read_the_bytes_not_the_position():
    """Equal texts get equal groups wherever they sit (sliced arrays, offsets); NA gets -1."""
    arr = k.arrow(pd.Series(["zz", "a@x.com", None, "a@x.com", "é", "", "é"], dtype="str"))
    full = k._text_groups(arr, 8)
    assert full[2] == -1 and full[1] == full[3] and full[4] == full[6]
    assert k._text_groups(arr.slice(3), 8).tolist() == full[3:].tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_casefold_of_distinct_names_agrees_with_plain(seed):
    """Names folded once per distinct text give each row what folding every row gives, on the
    rows' own labels (text or categorical columns)."""
    from assessment.sync import users

    rng = np.random.default_rng(seed)
    pool = [" Ann ", "ANN", "ß", "Straße", "İlk", "", "  ", "Bob\t"]
    n = int(rng.integers(0, 30))
    values = pd.Series([None if rng.random() < 0.2 else rng.choice(pool) for _ in range(n)],
                       index=rng.permutation(n), dtype="str")  # fmt: skip
    plain = users._casefold_plain(values)
    for given in (values, values.astype("category")):
        fast = users._casefold(given)
        assert fast.index.tolist() == plain.index.tolist()
        assert fast.fillna("<NA>").tolist() == plain.fillna("<NA>").tolist()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("whitespace_is_blank", [True, False])
def test_blank_to_na_agrees_with_trim_and_replace(seed, whitespace_is_blank):
    """Blank (and whitespace-only) texts become NA, every other text stays as it was, on plain,
    sliced and chunked arrays; a value with text keeps its spaces (K2)."""
    from assessment.sync.values import blank_to_na, blank_to_na_plain

    rng = np.random.default_rng(seed)
    pool = ["", " ", "\t", "\u3000", "\u00a0", "a", " Gold ", "é ", "\u200b", "x\ny"]
    n = int(rng.integers(0, 40))
    texts = [None if rng.random() < 0.2 else rng.choice(pool) for _ in range(n)]
    arr = pa.array(texts, type=pa.large_string())
    cut = int(rng.integers(0, n + 1))
    for given in (arr, arr.slice(cut), pa.chunked_array([arr.slice(0, cut), arr.slice(cut)])):
        fast = blank_to_na(given, whitespace_is_blank)
        plain = blank_to_na_plain(given, whitespace_is_blank)
        assert fast.to_pylist() == plain.to_pylist()
        assert fast.null_count == plain.null_count
