"""CSV files written at disk speed: cells quoted and joined by pyarrow kernels, no per-row Python.

The bytes are those of pandas' ``to_csv`` (Python's csv module): comma-separated, ``\\n`` line
ends, a header row, RFC 4180 quoting (a quote doubled inside a quoted cell), UTF-8. Minimal
quoting quotes a cell holding a comma, a quote, a line feed or a carriage return (RFC 4180; the
csv module of Python 3.11 left a bare carriage return unquoted, which splits the row in Excel);
``quote_all`` quotes every cell, the empty ones too (the Data Loader shape of action files).
Text that a spreadsheet would run as a formula (``= + - @``, tab, carriage return first) gets a
single quote in front (PITFALLS: CSV injection) in the columns asked for.

Columns of text, booleans and integers without gaps take the fast path; a frame with another
kind of column (floats, dates, objects) is written by pandas, so the bytes never depend on it.
Rows are written in slices, so the text of a whole file is never in memory at once.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_START = r"^[=+\-@\t\r]"
_NEEDS_QUOTES = r"[\",\r\n]"
SLICE_ROWS = 262_144


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _text(series: pd.Series) -> pa.Array | None:
    """The column as arrow text as pandas would print it, or None when it has no fast path."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not series.hasnans:
        values = pa.array(series.to_numpy(dtype=bool))
        return pc.if_else(values, "True", "False").cast(pa.large_string())
    if pd.api.types.is_integer_dtype(dtype) and isinstance(dtype, np.dtype):
        return pc.cast(pa.array(series.to_numpy()), pa.large_string())
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        values = pa.array(series, from_pandas=True)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        return pc.cast(values, pa.large_string())
    return None


def formula_cells(values: pa.Array) -> np.ndarray:
    """Which cells a spreadsheet would read as a formula (a boolean array; nulls are not)."""
    risky = pc.fill_null(pc.match_substring_regex(values, FORMULA_START), False)
    return risky.to_numpy(zero_copy_only=False)


def neutralise(values: pa.Array) -> pa.Array:
    """Prefix a single quote to every cell a spreadsheet would read as a formula."""
    risky = pc.fill_null(pc.match_substring_regex(values, FORMULA_START), False)
    if not pc.any(risky).as_py():
        return values
    values = pc.cast(values, pa.large_string())
    return pc.if_else(risky, pc.binary_join_element_wise(_s("'"), values, _s("")), values)


def _quoted(values: pa.Array, quote_all: bool) -> pa.Array:
    """Each cell as it stands in the file (nulls empty); work only on the cells that need it."""
    values = pc.fill_null(values, _s(""))
    if not quote_all:
        needs = pc.match_substring_regex(values, _NEEDS_QUOTES)
        if not pc.any(needs).as_py():
            return values
        return pc.replace_with_mask(values, needs, _quoted(values.filter(needs), True))
    if pc.any(pc.match_substring(values, '"')).as_py():
        values = pc.replace_substring(values, '"', '""')
    return pc.binary_join_element_wise(_s('"'), values, _s('"'), _s(""))


def _header(columns, quote_all: bool) -> bytes:
    cells = pa.array([str(c) for c in columns], type=pa.large_string())
    line = ",".join(_quoted(cells, quote_all).to_pylist()) + "\n"
    return line.encode("utf-8")


def _line_bytes(cells: list[pa.Array]) -> memoryview:
    """The bytes of ``cells`` (one array per column) as CSV lines."""
    lines = pc.binary_join_element_wise(*cells, _s(","))
    lines = pc.binary_join_element_wise(lines, _s(""), _s("\n"))  # "line" + "\n" + ""
    lines = pc.cast(lines, pa.large_string())
    _, offsets, data = lines.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64, count=len(lines) + 1, offset=8 * lines.offset)
    return memoryview(data)[int(ends[0]) : int(ends[-1])]


def write_frame(
    frame: pd.DataFrame,
    handle,
    quote_all: bool = False,
    safe: bool | list[str] = False,
) -> None:
    """Write ``frame`` (header, no index) to a binary ``handle`` as CSV.

    ``safe``: neutralise formulas in every text column (True) or in the columns listed.
    """
    texts = {}
    if len(frame.columns) == 1 and not quote_all:  # the csv module quotes a lone empty cell
        _pandas(frame, handle, quote_all, safe)
        return
    for col in frame.columns:
        texts[col] = _text(frame[col])
        if texts[col] is None:
            _pandas(frame, handle, quote_all, safe)
            return
    wanted = set(frame.columns if safe is True else safe or ())
    for col in wanted:
        if pd.api.types.is_string_dtype(frame[col].dtype):
            texts[col] = neutralise(texts[col])
    handle.write(_header(frame.columns, quote_all))
    for start in range(0, len(frame), SLICE_ROWS):
        cells = [_quoted(t.slice(start, SLICE_ROWS), quote_all) for t in texts.values()]
        handle.write(_line_bytes(cells))


def _pandas(frame: pd.DataFrame, handle, quote_all: bool, safe) -> None:
    """The reference path (columns the fast path does not print the pandas way)."""
    import io

    out = frame.copy()
    for col in out.columns if safe is True else safe or ():
        if pd.api.types.is_string_dtype(out[col].dtype):
            text = out[col].astype("str")
            risky = text.str.contains(FORMULA_START, regex=True).fillna(False).astype(bool)
            out[col] = text.mask(risky, "'" + text)
    wrapper = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    out.to_csv(wrapper, index=False, quoting=quoting, lineterminator="\n")
    wrapper.detach()


def write_csv(
    frame: pd.DataFrame,
    path: Path,
    quote_all: bool = False,
    safe: bool | list[str] = False,
    bom: bool = False,
) -> Path:
    """Write ``frame`` to ``path`` as CSV (UTF-8, with a byte-order mark when ``bom``)."""
    path = Path(path)
    with path.open("wb") as handle:
        if bom:
            handle.write(b"\xef\xbb\xbf")
        write_frame(frame, handle, quote_all=quote_all, safe=safe)
    return path
