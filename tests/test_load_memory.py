"""How the loader holds a table (issue #19.3): one copy of each column's text, shared storage
where values are the same, nothing of the raw read kept alive. Values are checked too: sharing
must never change what a column holds or let a write into one column show in another."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pyarrow as pa

from assessment import load
from assessment import normalize as nz
from assessment.settings import ConnectorSettings


def _data_address(series: pd.Series) -> int:
    return nz.arrow_strings(series).buffers()[2].address


def _csv(rows: int) -> bytes:
    lines = ["Prospect Id,Email,Created Date,Is Starred"]
    lines += [f"{i},p{i}@example.org,2024-01-02 03:04:05,false" for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def test_parsed_columns_are_one_chunk_and_arrow_strings_does_not_copy_it():
    # A 16 MB read block per chunk: 400k rows of ~60 bytes span several blocks.
    raw = load.read_raw(load.Path("p.csv"), _csv(400_000), "p.csv")
    for column in raw.columns:
        assert column.array._pa_array.num_chunks == 1
        own = column.array._pa_array.chunk(0).buffers()[2].address
        assert _data_address(column) == own  # used as is: no combine (a copy) per call
    assert raw.columns[1].iloc[-1] == "p400000@example.org"
    assert raw.columns[0].iloc[0] == "1"


def test_arrow_strings_combines_several_chunks_in_order():
    chunked = pa.chunked_array(
        [pa.array(["a", None], pa.large_string()), pa.array(["b"], pa.large_string())]
    )
    series = pd.Series(pd.arrays.ArrowStringArray(chunked), dtype="str")
    assert nz.arrow_strings(series).to_pylist() == ["a", None, "b"]


def test_email_key_shares_the_column_only_when_every_key_equals_the_value():
    clean = nz.str_series(
        pa.array(["a@x.org", None, "b@y.org"], pa.large_string()), pd.RangeIndex(3)
    )
    key = nz.email_key(clean)
    assert _data_address(key) == _data_address(clean)
    assert key.tolist()[::2] == ["a@x.org", "b@y.org"] and pd.isna(key.iloc[1])
    for values, want in (
        (["A@x.org", "b@y.org"], ["a@x.org", "b@y.org"]),  # a case variant
        ([" a@x.org", "b@y.org"], ["a@x.org", "b@y.org"]),  # spaces
        (["a@x.org", "  "], ["a@x.org", None]),  # whitespace only: blank key
    ):
        series = nz.str_series(pa.array(values, pa.large_string()), pd.RangeIndex(2))
        key = nz.email_key(series)
        assert [None if pd.isna(v) else v for v in key] == want
        assert series.tolist()[0] == values[0]  # the raw value is kept as given


def test_absent_columns_share_storage_but_not_writes(tmp_path):
    raw = load.read_raw(load.Path("p.csv"), _csv(1_000), "p.csv")
    problems = load._Problems()
    frame, _, _, absent = load.build_table(
        raw, "pardot_prospects", "p.csv", ConnectorSettings(), problems
    )
    assert {"converted_at", "email_bounced_at", "is_reviewed", "do_not_sell"} <= set(absent)
    a, b = frame["converted_at"], frame["email_bounced_at"]
    assert str(a.dtype) == "datetime64[us, UTC]" and a.isna().all() and b.isna().all()
    assert np.shares_memory(a.array._ndarray, b.array._ndarray)  # one all-NA array, not two
    assert frame["is_reviewed"].dtype == "boolean" and frame["do_not_sell"].isna().all()
    frame.loc[frame.index[:2], "converted_at"] = pd.Timestamp("2024-01-01", tz="UTC")
    frame.loc[frame.index[:1], "is_reviewed"] = True
    assert frame["converted_at"].notna().sum() == 2
    assert frame["email_bounced_at"].isna().all()  # copy-on-write: the write stayed in its column
    assert frame["do_not_sell"].isna().all() and frame["is_reviewed"].notna().sum() == 1
    assert frame["is_starred"].eq(False).all()  # a present column is converted as before


def test_build_table_hands_over_the_raw_columns():
    raw = load.read_raw(load.Path("p.csv"), _csv(1_000), "p.csv")
    ref = weakref.ref(raw.columns[0].array._pa_array)  # the raw text of Prospect Id
    frame, *_ = load.build_table(
        raw, "pardot_prospects", "p.csv", ConnectorSettings(), load._Problems()
    )
    gc.collect()
    assert raw.columns == []
    assert frame["prospect_id"].iloc[-1] == "1000"
    assert ref() is None  # the raw text of the key column is not kept alive


def test_release_freed_memory_runs_anywhere():
    load.release_freed_memory()  # no-op where there is no glibc; must never raise


_SPELLINGS = [
    "true",
    "FALSE",
    " Yes ",
    "no",
    "1",
    "0.0",
    "x",
    "\u00a0on\u00a0",
    "",
    "  ",
    "maybe",
    "t",
    None,
]


def test_parse_bool_by_distinct_spelling_agrees_with_a_cell_by_cell_reading():
    rng = np.random.default_rng(7)
    cells = [_SPELLINGS[i] for i in rng.integers(0, len(_SPELLINGS), 5_000)]
    series = pd.Series(cells, dtype="str", index=pd.RangeIndex(10, 5_010))
    out, bad = nz.parse_bool(series)
    words = [None if c is None else c.strip().lower() for c in cells]
    want = [True if w in nz._TRUE else False if w in nz._FALSE else None for w in words]
    assert [None if pd.isna(v) else bool(v) for v in out] == want
    assert bad.tolist() == [bool(w) and w not in nz._TRUE | nz._FALSE for w in words]
    assert out.index.equals(series.index) and bad.index.equals(series.index)


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


def test_the_shared_all_na_text_column_holds_no_resident_memory():
    # 4M rows of an empty column cost 64 MB each as pyarrow nulls; the shared one maps zero pages.
    before = _rss_kib()
    column = nz.null_strings(pd.RangeIndex(4_000_000))
    assert _rss_kib() - before < 8_000
    assert column.isna().all() and str(column.dtype) == "str" and len(column) == 4_000_000
    assert column.str.lower().isna().all() and column.fillna("x").iloc[-1] == "x"


def _sparse_csv(rows: int) -> bytes:
    lines = ["Prospect Id,Email,Fax,Notes,Score,Is Starred,Created Date"]
    for i in range(1, rows + 1):
        notes = "call back" if i == rows else ""
        lines.append(f"{i},p{i}@example.org,,{notes},,,")
    return ("\n".join(lines) + "\n").encode()


def test_columns_without_any_value_share_one_column_per_dtype():
    raw = load.read_raw(load.Path("p.csv"), _sparse_csv(5_000), "p.csv")
    frame = load.build_table(
        raw, "pardot_prospects", "p.csv", ConnectorSettings(), load._Problems()
    )[0]
    # the empty text columns read from the file (fax) and the absent ones (phone) are one array
    fax, phone = nz.arrow_strings(frame["fax"]), nz.arrow_strings(frame["phone"])
    assert fax.buffers()[1].address == phone.buffers()[1].address
    assert frame["fax"].isna().all() and frame["fax"].dtype == "str"
    # a column with one value keeps its own (notes), with that value in its row
    assert nz.arrow_strings(frame["notes"]).buffers()[1].address != fax.buffers()[1].address
    assert frame["notes"].iloc[-1] == "call back" and frame["notes"].iloc[:-1].isna().all()
    # empty columns of another dtype share one array of their own dtype, NA in every row
    assert frame["score"].isna().all() and str(frame["score"].dtype) == "Int64"
    assert frame["created_at"].isna().all()
    # sharing never lets a write into one column show in another
    frame.loc[frame.index[0], "fax"] = "+1 555 0100"
    assert frame["phone"].isna().all() and frame["fax"].iloc[0] == "+1 555 0100"
