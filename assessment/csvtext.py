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
Rows are written in slices, so the text of a whole file is never in memory at once; a second
thread writes one slice to disk while the next is built. The cheap questions (does a cell start
like a formula, may a column need quotes at all) are answered on the arrow buffers with numpy;
each has a plain regex twin (``*_plain``) that ``tests/test_csvtext.py`` checks it against. A
categorical column is quoted and guarded once per distinct value, then expanded.
"""

from __future__ import annotations

import csv
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_START = r"^[=+\-@\t\r]"
_NEEDS_QUOTES = r"[\",\r\n]"
SLICE_ROWS = 65_536
_FORMULA_BYTES = np.zeros(256, dtype=bool)  # the first bytes of FORMULA_START (all ASCII)
_FORMULA_BYTES[list(b"=+-@\t\r")] = True
_QUOTE_BYTES = np.frombuffer(b'",\r\n', dtype=np.uint8)  # the bytes of _NEEDS_QUOTES


class WriteStopped(Exception):
    """A file's writing ended on request (its run failed elsewhere); the file is incomplete."""


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _text(series: pd.Series) -> pa.Array | pa.ChunkedArray | None:
    """The column as arrow text as pandas would print it, or None when it has no fast path."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not series.hasnans:
        indices = pa.array(series.to_numpy(dtype=bool).view(np.int8))
        return pa.DictionaryArray.from_arrays(
            indices, pa.array(["False", "True"], pa.large_string())
        )
    if pd.api.types.is_integer_dtype(dtype) and isinstance(dtype, np.dtype):
        return pc.cast(pa.array(series.to_numpy()), pa.large_string())
    if isinstance(dtype, pd.CategoricalDtype) and pd.api.types.infer_dtype(dtype.categories) in (
        "string",
        "empty",
    ):
        indices = pa.array(series.cat.codes.to_numpy(), mask=series.isna().to_numpy())
        dictionary = _large(pa.array(dtype.categories.to_numpy(dtype=object), pa.large_string()))
        return pa.DictionaryArray.from_arrays(indices, dictionary)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return pa.array(series, from_pandas=True)  # made contiguous slice by slice
    return None


def _large(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous large_string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values if values.type == pa.large_string() else pc.cast(values, pa.large_string())


def _offsets_and_data(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The int64 offsets (one more than cells) and the byte buffer of a large_string array."""
    _, offsets, data = values.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64, count=len(values) + 1, offset=8 * values.offset)
    return ends, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, "u1"))


def formula_cells(values: pa.Array) -> np.ndarray:
    """Which cells a spreadsheet would read as a formula (a boolean array; nulls are not):
    the first byte of each non-empty cell, looked up in a table."""
    values = _large(values)
    ends, data = _offsets_and_data(values)
    starts = ends[:-1]
    risky = ends[1:] > starts
    risky[risky] = _FORMULA_BYTES[data[starts[risky]]]
    if values.null_count:
        risky &= values.is_valid().to_numpy(zero_copy_only=False)
    return risky


def formula_cells_plain(values: pa.Array) -> np.ndarray:
    """Reference for :func:`formula_cells`: the regex on every cell."""
    risky = pc.fill_null(pc.match_substring_regex(values, FORMULA_START), False)
    return risky.to_numpy(zero_copy_only=False)


def neutralise(values: pa.Array) -> pa.Array:
    """Prefix a single quote to every cell a spreadsheet would read as a formula."""
    if isinstance(values, pa.DictionaryArray):  # once per distinct value
        return pa.DictionaryArray.from_arrays(values.indices, neutralise(_large(values.dictionary)))
    risky = formula_cells(values)
    if not risky.any():
        return values
    values = pc.cast(values, pa.large_string())
    return pc.if_else(risky, pc.binary_join_element_wise(_s("'"), values, _s("")), values)


def may_need_quotes(values: pa.Array) -> bool:
    """False when no cell of a large_string array holds a quote, comma, CR or LF (one scan of
    its bytes); True means some cell may (:func:`_quoted` then asks each cell)."""
    ends, data = _offsets_and_data(values)
    window = data[int(ends[0]) : int(ends[-1])]
    return any(np.any(window == byte) for byte in _QUOTE_BYTES)


def may_need_quotes_plain(values: pa.Array) -> bool:
    """Reference for :func:`may_need_quotes`: the regex on every cell."""
    return bool(pc.any(pc.match_substring_regex(values, _NEEDS_QUOTES)).as_py())


def _quoted(values: pa.Array, quote_all: bool) -> pa.Array:
    """Each cell as it stands in the file (nulls empty); work only on the cells that need it."""
    if isinstance(values, pa.DictionaryArray):  # quote each distinct value once, then expand
        taken = pc.take(_quoted(_large(values.dictionary), quote_all), values.indices)
        return pc.fill_null(taken, _s('""' if quote_all else "")) if taken.null_count else taken
    if not quote_all and not may_need_quotes(values):
        return pc.fill_null(values, _s("")) if values.null_count else values
    values = pc.fill_null(values, _s(""))
    if not quote_all:
        needs = pc.match_substring_regex(values, _NEEDS_QUOTES)
        if not pc.any(needs).as_py():
            return values
        return pc.replace_with_mask(values, needs, _quoted(values.filter(needs), True))
    if pc.any(pc.match_substring(values, '"')).as_py():
        values = pc.replace_substring(values, '"', '""')
    return pc.binary_join_element_wise(_s('"'), values, _s('"'), _s(""))


def _escaped(values: pa.Array) -> pa.Array:
    """A quote-all cell without its enclosing quotes (nulls empty, quotes doubled): the line
    join adds the enclosing quotes between cells (:func:`_line_bytes`)."""
    if isinstance(values, pa.DictionaryArray):  # escape each distinct value once, then expand
        taken = pc.take(_escaped(_large(values.dictionary)), values.indices)
        return pc.fill_null(taken, _s("")) if taken.null_count else taken
    values = pc.fill_null(values, _s("")) if values.null_count else values
    ends, data = _offsets_and_data(values)
    if np.any(data[int(ends[0]) : int(ends[-1])] == ord('"')):
        values = pc.replace_substring(values, '"', '""')
    return values


def _header(columns, quote_all: bool) -> bytes:
    cells = pa.array([str(c) for c in columns], type=pa.large_string())
    line = ",".join(_quoted(cells, quote_all).to_pylist()) + "\n"
    return line.encode("utf-8")


def _line_bytes(cells: list[pa.Array], quote_all: bool = False) -> memoryview:
    """The bytes of ``cells`` (one array per column) as CSV lines, joined in one pass (the line
    end rides on the last cell). ``quote_all``: the cells are :func:`_escaped`, and the quotes
    around them come with the separators (``","``), the first cell and the line end."""
    sep, end = (_s('","'), _s('"\n')) if quote_all else (_s(","), _s("\n"))
    if quote_all:
        cells = [pc.binary_join_element_wise(_s('"'), cells[0], _s("")), *cells[1:]]
    last = pc.binary_join_element_wise(cells[-1], end, _s(""))  # "cell" + "" + end
    lines = _large(pc.binary_join_element_wise(*cells[:-1], last, sep))
    _, offsets, data = lines.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64, count=len(lines) + 1, offset=8 * lines.offset)
    return memoryview(data)[int(ends[0]) : int(ends[-1])]


def write_frame(
    frame: pd.DataFrame,
    handle,
    quote_all: bool = False,
    safe: bool | list[str] = False,
    stop: threading.Event | None = None,
) -> None:
    """Write ``frame`` (header, no index) to a binary ``handle`` as CSV.

    ``safe``: neutralise formulas in every text column (True) or in the columns listed.
    ``stop``: once set, the writing ends between two slices with :class:`WriteStopped`.
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
    guard = []  # per column: neutralise formulas slice by slice
    for col, text in texts.items():
        is_text = isinstance(text, pa.DictionaryArray) or pd.api.types.is_string_dtype(
            frame[col].dtype
        )
        if col in wanted and is_text and isinstance(text, pa.DictionaryArray):
            texts[col] = neutralise(text)  # once per distinct value
        guard.append(col in wanted and is_text and not isinstance(text, pa.DictionaryArray))
    handle.write(_header(frame.columns, quote_all))
    _write_slices(list(texts.values()), guard, len(frame), handle, quote_all, stop)


def _cells(text, guard: bool, start: int, quote_all: bool) -> pa.Array:
    """One slice of a column as it stands in the file: contiguous, formula-safe, quoted."""
    cells = text.slice(start, SLICE_ROWS)
    if not isinstance(cells, pa.DictionaryArray):
        cells = _large(cells)
    cells = neutralise(cells) if guard else cells
    return _escaped(cells) if quote_all else _quoted(cells, False)


def _write_slices(
    texts: list, guard: list[bool], n: int, handle, quote_all: bool, stop=None
) -> None:
    """Build the lines slice by slice (only one slice's text is ever copied); a second thread
    writes one slice while the next is built (pyarrow and the file write release the GIL)."""
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for start in range(0, n, SLICE_ROWS):
            if stop is not None and stop.is_set():
                raise WriteStopped("the run this file belongs to has stopped")
            cells = [_cells(t, g, start, quote_all) for t, g in zip(texts, guard, strict=True)]
            lines = _line_bytes(cells, quote_all)
            del cells
            if pending is not None:
                pending.result()
            pending = writer.submit(handle.write, lines)
        if pending is not None:
            pending.result()


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
    stop: threading.Event | None = None,
) -> Path:
    """Write ``frame`` to ``path`` as CSV (UTF-8, with a byte-order mark when ``bom``).

    ``stop``: once set, the writing ends between two slices with :class:`WriteStopped`.
    """
    path = Path(path)
    with path.open("wb") as handle:
        if bom:
            handle.write(b"\xef\xbb\xbf")
        write_frame(frame, handle, quote_all=quote_all, safe=safe, stop=stop)
    return path
