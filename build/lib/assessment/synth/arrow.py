"""Small pyarrow helpers of the generator (text arrays, joins, constants, export date formats)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _s(values: Any) -> pa.Array:
    """Any array-like of text as a pyarrow string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.large_string() else values.cast(pa.string())
    arr = np.asarray(values)
    if arr.dtype.kind == "S":
        return pa.array(arr).cast(pa.string())
    if arr.dtype.kind in "iu":
        return pa.array(arr).cast(pa.string())
    return pa.array(arr, type=pa.string())


def _cat(*parts: Any) -> pa.Array:
    """Element-wise concatenation of string arrays / scalars."""
    arrays = [p if isinstance(p, str) else _s(p) for p in parts]
    large = any(not isinstance(a, str) and a.type == pa.large_string() for a in arrays)
    kind = pa.large_string() if large else pa.string()
    arrays = [pa.scalar(a, kind) if isinstance(a, str) else a.cast(kind) for a in arrays]
    return pc.binary_join_element_wise(*arrays, pa.scalar("", kind))


def _pick(choices: list[str], index: np.ndarray) -> pa.Array:
    """choices[index] as a pyarrow string array (no Python objects per record)."""
    return pa.array(choices, pa.string()).take(pa.array(index))


def _join(arrays: list[pa.Array], sep: str) -> pa.Array:
    """Element-wise join of several (large) string arrays with a separator."""
    return pc.binary_join_element_wise(*arrays, pa.scalar(sep, arrays[0].type))


def _null(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def _take(v: Any, sl: slice) -> Any:
    return v.slice(sl.start, sl.stop - sl.start) if isinstance(v, pa.Array) else v[sl]


def _iso(ts: pa.Array, style: str) -> pa.Array:
    """Datetimes in an export's format: Data Loader ``…000Z``, REST/CLI ``…000+0000``, Pardot
    naive ``YYYY-MM-DD HH:MM:SS`` (user time zone; UTC here), date ``YYYY-MM-DD``."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    text = ts.cast(pa.timestamp("s")).cast(pa.string())  # "2019-01-01 00:00:00", nulls kept
    if style == "date":
        return pc.utf8_slice_codeunits(text, 0, 10)
    if style == "pardot":
        return text
    text = pc.replace_substring(text, " ", "T")
    return _cat(text, ".000Z" if style == "dataloader" else ".000+0000")


def _const(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _flag(values: pa.Array, true: str, false: str) -> pa.Array:
    return pc.if_else(values, true, false)
