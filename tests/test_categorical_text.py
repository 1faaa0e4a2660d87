"""Low-cardinality text held as categoricals at load (issue #19 memory): the rule that picks
the columns, the columns it must never pick, and consumers giving the same answers either way."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment import load
from assessment import normalize as nz
from assessment.settings import ConnectorSettings
from assessment.sync import kernels as k

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _text(values) -> pd.Series:
    return pd.Series(values, dtype="str")


def _picklist(n: int, distinct: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    words = np.array([f"value {i:05d}" for i in range(distinct)], dtype=object)
    cells = words[rng.integers(0, distinct, n)]
    cells[rng.random(n) < 0.1] = None
    return _text(cells)


def test_a_low_cardinality_column_comes_back_categorical_with_the_same_cells():
    values = _text(["Open", "Working", None, "  padded ", "", "Closed"] * 400)
    values.index = pd.RangeIndex(2, 2 + len(values), name="row")
    out = nz.low_cardinality(values.rename("status"))
    assert isinstance(out.dtype, pd.CategoricalDtype)
    assert out.cat.codes.dtype == np.int8
    assert list(out.cat.categories) == sorted(["Open", "Working", "  padded ", "", "Closed"])
    assert out.cat.categories.dtype == "str"
    assert out.name == "status" and out.index.equals(values.index)
    # every cell as given (spaces and empty text kept, NA where NA)
    pd.testing.assert_series_equal(out.astype("str"), values.rename("status"))


def test_many_categories_use_int16_codes():
    out = nz.low_cardinality(_picklist(200_000, 3000))
    assert isinstance(out.dtype, pd.CategoricalDtype)
    assert out.cat.codes.dtype == np.int16


def test_an_id_like_column_stays_text():
    values = _text([f"00Q{i:015d}" for i in range(5000)])
    assert nz.low_cardinality(values) is values


def test_the_ratio_and_limit_bound_the_categories(monkeypatch):
    n = 4096  # no NA: exactly n // CATEGORY_RATIO categories qualify, one more does not
    at = n // nz.CATEGORY_RATIO
    exact = _text([f"v{i % at}" for i in range(n)])
    over = _text([f"v{i % (at + 1)}" for i in range(n)])
    assert isinstance(nz.low_cardinality(exact).dtype, pd.CategoricalDtype)
    assert nz.low_cardinality(over).dtype == "str"
    monkeypatch.setattr(nz, "CATEGORY_LIMIT", at - 1)
    assert nz.low_cardinality(exact).dtype == "str"
    monkeypatch.setattr(nz, "CATEGORY_LIMIT", 0)  # off
    assert nz.low_cardinality(_text(["a"] * n)).dtype == "str"


def test_small_tables_and_empty_columns_stay_text():
    assert nz.low_cardinality(_text(["a"] * (nz.CATEGORY_MIN_ROWS - 1))).dtype == "str"
    assert nz.low_cardinality(nz.null_strings(pd.RangeIndex(5000))).dtype == "str"


def test_the_sample_rejects_free_text_without_encoding_the_whole_column(monkeypatch):
    monkeypatch.setattr(nz, "CATEGORY_SAMPLE", 100)
    calls = []
    real = nz.pc.dictionary_encode
    monkeypatch.setattr(nz.pc, "dictionary_encode", lambda a: calls.append(1) or real(a))
    unique_head = _text([f"name {i}" for i in range(100)] + ["x"] * 100_000)
    assert nz.low_cardinality(unique_head).dtype == "str"
    assert calls == []  # rejected on the first look
    assert isinstance(nz.low_cardinality(_picklist(10_000, 5)).dtype, pd.CategoricalDtype)
    assert calls == [1]
    # a sparse head (a few values, all different) tells nothing: the whole column decides
    sparse = _text(["a", "b", "c"] + [None] * 97 + ["x", "y"] * 5000)
    assert isinstance(nz.low_cardinality(sparse).dtype, pd.CategoricalDtype)


def _leads_csv(n: int) -> bytes:
    lines = ["Id,Email,FirstName,Status,OwnerId,ConvertedContactId,Region__c"]
    owners = ["005000000000001AAA", "005000000000002AAA"]
    for i in range(n):
        lead = nz.to_id18(f"00Q{i:012d}")
        contact = nz.to_id18("003000000000001") if i % 2 else ""
        email = f"same{i % 3}@example.org"  # few emails: still never categorical
        lines.append(
            f"{lead},{email},Ann{i},{'Open' if i % 3 else 'Working'},{owners[i % 2]},"
            f"{contact},{'EMEA' if i % 4 else ''}"
        )
    return ("\n".join(lines) + "\n").encode()


def test_the_loader_compacts_picklists_and_keeps_identifying_columns_text():
    raw = load.read_raw(Path("Lead.csv"), _leads_csv(4000), "Lead.csv")
    frame = load.build_table(raw, "sf_leads", "Lead.csv", ConnectorSettings(), load._Problems())[0]
    categorical = {c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
    assert {"status", "owner_id", "Region__c"} <= categorical  # picklists, users, custom
    # record ids, emails, email keys and ids of other records stay text, however few values
    for name in ("id", "email", "email_key", "converted_contact_id", "first_name"):
        assert frame[name].dtype == "str", name
    assert frame["status"].iloc[0] == "Working" and frame["owner_id"].iloc[1].startswith("005")


def test_users_and_admin_tables_stay_text_however_large():
    # their columns meet Python-level code (names joined with " ", fillna("")): never compacted
    lines = ["Id,Name,FirstName,Profile"]
    lines += [f"{nz.to_id18(f'005{i:012d}')},U {i},Ann,Standard" for i in range(3000)]
    raw = load.read_raw(Path("User.csv"), ("\n".join(lines) + "\n").encode(), "User.csv")
    frame = load.build_table(raw, "sf_users", "User.csv", ConnectorSettings(), load._Problems())[0]
    assert frame["profile_name"].iloc[0] == "Standard"
    assert frame["first_name"].dtype == "str" and frame["profile_name"].dtype == "str"


def test_kernels_read_a_categorical_as_its_text():
    plain = _picklist(5000, 7)
    cat = nz.low_cardinality(plain)
    assert isinstance(cat.dtype, pd.CategoricalDtype)
    assert k.arrow(cat).equals(k.arrow(plain))
    assert nz.arrow_strings(cat).equals(nz.arrow_strings(plain))
    pos = np.array([3, -1, 0, 4999])
    pd.testing.assert_series_equal(k.take_str(cat, pos), k.take_str(plain, pos))
    word = plain.dropna().iloc[0]
    assert (k.is_value(cat, word) == k.is_value(plain, word)).all()
    assert all(
        (a == b).all() for a, b in zip(k.codes(cat, plain), k.codes(plain, plain), strict=True)
    )
    assert (k.isin(cat, plain[:50]) == k.isin(plain, plain[:50])).all()


def _fingerprint():
    spec = importlib.util.spec_from_file_location("fp", ROOT / "benchmarks" / "fingerprint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fingerprint


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample org not generated yet")
@pytest.mark.parametrize("mask_pii", [False, True])
def test_every_consumer_gives_the_same_files_from_categorical_and_plain_text(monkeypatch, mask_pii):
    fingerprint = _fingerprint()
    compact, _ = fingerprint(SAMPLE, mask_pii=mask_pii)
    snapshot = load.load_org(SAMPLE)
    leads = snapshot.tables["sf_leads"]
    assert isinstance(leads["status"].dtype, pd.CategoricalDtype)  # the rule ran on the sample
    monkeypatch.setattr(nz, "CATEGORY_LIMIT", 0)
    assert load.load_org(SAMPLE).tables["sf_leads"]["status"].dtype == "str"
    plain, _ = fingerprint(SAMPLE, mask_pii=mask_pii)
    assert compact["outputs"] == plain["outputs"]  # every file a user receives
    assert compact["sim"] == plain["sim"]
    assert compact["checks"] == plain["checks"]
    assert compact["tables"] == plain["tables"]  # same values as text
