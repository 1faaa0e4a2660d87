"""The vectorised CSV writer writes the bytes pandas' to_csv writes (issue #19 item 2)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessment import csvtext

HOSTILE = [
    "plain",
    "with, comma",
    'say "hi"',
    "two\nlines",
    "crlf\r\nline",
    "",
    None,
    "=SUM(A1)",
    "+1-555",
    "-minus",
    "@at",
    "\ttab first",
    "naïve café ✓",
    ' lead space "and" , all\n',
]


def _frame() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame(
        {
            "text": pd.Series(HOSTILE, dtype="str"),
            "Other, col": pd.Series(list(reversed(HOSTILE)), dtype="str"),
            "flag": [i % 2 == 0 for i in range(n)],
            "row": list(range(-3, n - 3)),
        }
    )


def _pandas_bytes(frame: pd.DataFrame, quoting: int) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=quoting, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def _written(frame: pd.DataFrame, **kwargs) -> bytes:
    handle = io.BytesIO()
    csvtext.write_frame(frame, handle, **kwargs)
    return handle.getvalue()


def test_quote_all_matches_pandas_byte_for_byte():
    frame = _frame()
    assert _written(frame, quote_all=True) == _pandas_bytes(frame, csv.QUOTE_ALL)


def test_minimal_quoting_matches_pandas_and_quotes_a_bare_carriage_return():
    frame = _frame()
    expected = _pandas_bytes(frame, csv.QUOTE_MINIMAL)
    assert _written(frame) == expected  # no bare CR in HOSTILE: the csv module's bytes exactly
    lone_cr = pd.DataFrame({"a": pd.Series(["x\ry"], dtype="str"), "b": [1]})
    assert _written(lone_cr) == b'a,b\n"x\ry",1\n'  # RFC 4180: quoted, so the row stays one row


def test_written_file_reads_back_to_the_same_cells():
    frame = _frame()
    back = pd.read_csv(io.BytesIO(_written(frame)), dtype="str", keep_default_na=False)
    assert list(back.columns) == list(frame.columns)
    assert back["text"].tolist() == [v or "" for v in HOSTILE]


def test_formulas_are_neutralised_in_text_columns_only():
    frame = _frame()
    back = pd.read_csv(io.BytesIO(_written(frame, safe=True)), dtype="str", keep_default_na=False)
    assert back.loc[HOSTILE.index("=SUM(A1)"), "text"] == "'=SUM(A1)"
    assert back.loc[HOSTILE.index("\ttab first"), "text"] == "'\ttab first"
    assert back.loc[HOSTILE.index("plain"), "text"] == "plain"
    assert back["row"].iloc[0] == "-3"  # a negative number is not text: left as it is


@pytest.mark.parametrize("slice_rows", [1, 3, 1000])
def test_slices_do_not_change_the_bytes(monkeypatch, slice_rows):
    frame = _frame()
    monkeypatch.setattr(csvtext, "SLICE_ROWS", slice_rows)
    assert _written(frame, quote_all=True) == _pandas_bytes(frame, csv.QUOTE_ALL)


def test_other_column_kinds_fall_back_to_pandas():
    frame = pd.DataFrame({"share": [0.5, 1.0, None], "name": pd.Series(["a", None, "=x"])})
    expected = _pandas_bytes(frame.assign(name=["a", None, "'=x"]), csv.QUOTE_MINIMAL)
    assert _written(frame, safe=True) == expected


def test_empty_frame_writes_the_header():
    frame = _frame().iloc[:0]
    assert _written(frame) == _pandas_bytes(frame, csv.QUOTE_MINIMAL)


def test_categorical_columns_write_the_bytes_of_their_values():
    frame = _frame()
    cats = frame.assign(text=frame["text"].astype("category"))
    for quote_all, quoting in ((False, csv.QUOTE_MINIMAL), (True, csv.QUOTE_ALL)):
        expected = _pandas_bytes(frame, quoting)
        assert _written(cats, quote_all=quote_all) == expected
    guarded = _written(cats, safe=True)
    assert guarded == _written(frame, safe=True)
    assert b"'=SUM(A1)" in guarded


@pytest.mark.parametrize("slice_rows", [1, 4])
def test_minimal_quoting_in_slices_matches_pandas(monkeypatch, slice_rows):
    frame = _frame()
    monkeypatch.setattr(csvtext, "SLICE_ROWS", slice_rows)
    assert _written(frame) == _pandas_bytes(frame, csv.QUOTE_MINIMAL)


texts = st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from('ab=+-@\t\r\n",é '))))


@given(texts, st.integers(0, 5))
def test_byte_scans_agree_with_the_regex(values, start):
    """formula_cells and may_need_quotes (numpy on the buffers) = the per-cell regex."""
    for arr in (pa.array(values, pa.string()), pa.array(values, pa.large_string())):
        arr = arr.slice(min(start, len(arr)))  # an offset into the buffers too
        fast, plain = csvtext.formula_cells(arr), csvtext.formula_cells_plain(arr)
        assert fast.tolist() == plain.tolist()
        large = arr.cast(pa.large_string())
        assert csvtext.may_need_quotes(large) == csvtext.may_need_quotes_plain(large)


def test_quote_all_one_column_and_empty_cells_match_pandas():
    one = pd.DataFrame({"only": pd.Series(['a "b"', None, "", "x,y"], dtype="str")})
    assert _written(one, quote_all=True) == _pandas_bytes(one, csv.QUOTE_ALL)
    cats = one.astype("category")
    assert _written(cats, quote_all=True) == _pandas_bytes(one, csv.QUOTE_ALL)


def test_a_stop_request_ends_the_writing_between_slices(tmp_path, monkeypatch):
    # outcomes/ are written beside the rest of a run (issue #19): when the run fails, the writer
    # is told to stop and must end at its next slice, not after its last file.
    import threading

    monkeypatch.setattr(csvtext, "SLICE_ROWS", 10)
    frame = pd.DataFrame({"id": pd.array([str(i) for i in range(100)], dtype="str")})
    frame["n"] = range(100)
    written = []

    class Handle(io.BytesIO):
        def write(self, data):
            written.append(bytes(data))
            if len(written) == 3:  # the header and two slices
                stop.set()
            return super().write(data)

    stop = threading.Event()
    with pytest.raises(csvtext.WriteStopped):
        csvtext.write_frame(frame, Handle(), stop=stop)
    # the slice already built when the request came may still be written; none is built after it
    assert len(written) in (3, 4)
    assert b"".join(written).count(b"\n") in (21, 31)

    stop.clear()
    csvtext.write_csv(frame, tmp_path / "whole.csv", stop=stop)  # not set: written whole
    assert len((tmp_path / "whole.csv").read_bytes().splitlines()) == 101
