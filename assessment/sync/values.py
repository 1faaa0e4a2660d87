"""Field values as the connector compares them (F-3): one text form per value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..settings import ConnectorSettings
from .kernels import arrow, str_series


def compare_text(values: pd.Series, settings: ConnectorSettings, is_sf: bool) -> pd.Series:
    """Values as comparable text: booleans true/false, numbers without '.0', blank → NA (F-3);
    other text exactly as given."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        text = values.astype("boolean").map({True: "true", False: "false"}).astype("str")
        if not settings.checkbox_false_is_value:
            text = text.mask(text == "false")  # F-3/F-7 policy: a false checkbox counts as blank
        return text
    if pd.api.types.is_numeric_dtype(dtype):
        text = values.astype("Float64").astype("str").str.replace(r"\.0$", "", regex=True)
        return text
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        midnight = (values.dt.hour == 0) & (values.dt.minute == 0) & (values.dt.second == 0)
        return (
            values.dt.strftime("%Y-%m-%d")
            .where(midnight, values.dt.strftime("%Y-%m-%dT%H:%M:%S"))
            .astype("str")
        )
    # Blank → NA: "" always; whitespace-only too under policy whitespace_is_blank (F-3). A
    # value with text keeps its spaces: restricted values must be identical "including leading
    # and trailing spaces" (K2, old KB "Why won't my field sync?"), so " Gold " is not "Gold".
    text = blank_to_na(arrow(values), settings.whitespace_is_blank)
    out = str_series(text).set_axis(values.index)
    out.name = values.name
    return out


def blank_to_na(text, whitespace_is_blank: bool):
    """Arrow text with "" (and, when ``whitespace_is_blank``, whitespace-only text) as NA: a new
    validity bitmap over the same offsets and bytes (the texts are not copied; 48 compared
    columns of a million pairs each at 2.5M records, issue #19)."""
    if isinstance(text, pa.ChunkedArray):
        chunks = [blank_to_na(c, whitespace_is_blank) for c in text.chunks]
        return pa.chunked_array(chunks, type=text.type)
    blank = pc.equal(pc.binary_length(text), 0)
    if whitespace_is_blank:  # utf8_is_space: non-empty and all whitespace (as utf8_trim's set)
        blank = pc.or_(blank, pc.utf8_is_space(text))
    keep = pc.and_(pc.is_valid(text), pc.invert(blank.fill_null(False)))  # never null
    if pc.all(keep).as_py():
        return text
    if text.offset or keep.offset:  # the bitmap must start where the offsets do
        return pc.if_else(keep, text, pa.scalar(None, text.type))
    _, offsets, data = text.buffers()
    return pa.Array.from_buffers(text.type, len(text), [keep.buffers()[1], offsets, data])


def blank_to_na_plain(text, whitespace_is_blank: bool):
    """Reference for :func:`blank_to_na`: trim, compare with "", replace (copies the texts)."""
    probe = pc.utf8_trim_whitespace(text) if whitespace_is_blank else text
    return pc.if_else(pc.equal(probe, ""), pa.scalar(None, text.type), text)


def pair_text(values: pd.Series, pos: np.ndarray, settings, is_sf: bool) -> pd.Series:
    """:func:`compare_text` of ``values`` at positions ``pos``, on a RangeIndex; a column with
    no value at all gives all NA without a take."""
    if values.count() == 0:
        return pd.Series(np.nan, index=pd.RangeIndex(len(pos)), dtype="str")
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        # Text: taken in arrow (no index to carry along), then compared as ``iloc`` would be.
        return compare_text(str_series(pc.take(arrow(values), pa.array(pos))), settings, is_sf)
    return compare_text(values.iloc[pos], settings, is_sf).reset_index(drop=True)
