"""Every vectorised trick of the simulator, each beside a plain reference version.

Domain code calls these by intent (``codes_of``, ``first_position``, ``equi_join`` …), never
inlines them. Each fast kernel has a ``*_plain`` twin written the obvious pandas / Python way;
``tests/test_sync_kernels.py`` checks that both give the same answer on random inputs. The
plain versions are for reading and testing only: they are slow on millions of records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assessment.normalize import categorical_strings

DT = "datetime64[us, UTC]"


def _str_na(arr: pa.Array) -> pd.Series:
    return pd.Series(
        arr.to_pandas(types_mapper=lambda _: pd.StringDtype("pyarrow", na_value=np.nan)),
        dtype="str",
    )


# ----------------------------------------------------------------------------- columns
def col(frame: pd.DataFrame | None, name: str, dtype: str = "str") -> pd.Series:
    """A column of the frame, or all-NA when the frame or column is absent."""
    if frame is not None and name in frame.columns:
        return frame[name]
    index = frame.index if frame is not None else pd.RangeIndex(0)
    return pd.Series(pd.NA, index=index, dtype=dtype)


def flag(frame: pd.DataFrame | None, name: str) -> np.ndarray:
    """A boolean column as a numpy bool array, NA → False."""
    return col(frame, name, "boolean").fillna(False).to_numpy(dtype=bool)


def strs(values) -> pd.Series:
    """Any values as a ``str`` Series."""
    return pd.Series(values, dtype="str")


def arrow(values: pd.Series) -> pa.Array:
    """A text Series as a pyarrow large_string array (nulls kept)."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # low-cardinality text (issue #19 memory)
        return categorical_strings(values)
    arr = pa.array(values.astype("str"), from_pandas=True)
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def str_series(arr: pa.Array) -> pd.Series:
    """A pyarrow text array as a ``str`` Series (RangeIndex), without Python objects."""
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return _str_na(arr)


def is_value(values: pd.Series, value: str) -> np.ndarray:
    """Elementwise ``values == value`` as a numpy bool array, NA → False."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # no text copy (issue #19 memory)
        return values.eq(value).to_numpy(dtype=bool)
    return values.astype("str").eq(value).fillna(False).to_numpy(dtype=bool)


def epoch(values: pd.Series) -> np.ndarray:
    """Datetimes as int64 microseconds (NaT → int64 min), without per-value Python objects."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.astype(DT)
    return values.array.asi8 if hasattr(values.array, "asi8") else values.astype("int64").to_numpy()


# ----------------------------------------------------------------------------- take
def take_str(values: pd.Series, pos: np.ndarray) -> pd.Series:
    """``values`` at positions ``pos`` (-1 → NA) as a ``str`` Series, taken in arrow."""
    if len(values) == 0:
        return pd.Series(pd.NA, index=range(len(pos)), dtype="str")
    taken = pc.take(arrow(values), pa.array(np.maximum(pos, 0), mask=pos < 0))
    return _str_na(taken)


def take_str_plain(values: pd.Series, pos: np.ndarray) -> pd.Series:
    """Reference for :func:`take_str`."""
    out = [values.iloc[p] if p >= 0 else None for p in pos]
    return pd.Series(out, dtype="str")


# ----------------------------------------------------------------------------- labels
def from_codes(codes: np.ndarray, labels: list[str], categorical: bool = False) -> pd.Series:
    """``labels[codes]`` as a ``str`` Series (code -1 → NA), built as an arrow dictionary.

    ``categorical``: a pandas categorical instead, each distinct label stored once and a small
    integer per record (the reason columns of the outcome frames repeat a few dozen long texts
    on millions of rows; issue #19 memory)."""
    if categorical:
        return _categorical(np.asarray(codes), list(labels))
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=np.asarray(codes) < 0)
    dictionary = pa.array(list(labels), type=pa.large_string())
    return str_series(pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.large_string()))


def _categorical(codes: np.ndarray, labels: list[str]) -> pd.Series:
    """``labels[codes]`` as a categorical Series in the form ``astype("category")`` gives: the
    labels that occur, sorted (two runs with equal values have equal dtypes)."""
    remap, distinct = pd.factorize(pd.Index(labels, dtype=object))
    remap = np.append(remap, -1)  # code -1 (NA) looks up the trailing slot
    codes = remap[codes]
    # The labels that occur, by counting (remove_unused_categories sorts every code: 0.1 s
    # per million rows), then sorted; a table maps old codes to new ones (-1 stays -1).
    used = np.flatnonzero(np.bincount(codes + 1, minlength=len(distinct) + 1)[1:])
    observed = pd.Index(np.asarray(distinct, dtype=object)[used], dtype="str")
    categories = observed.sort_values()
    table = np.full(len(distinct) + 1, -1, dtype=np.int64)
    table[used] = categories.get_indexer(observed)
    return pd.Series(pd.Categorical.from_codes(table[codes], categories=categories))


def from_codes_plain(codes: np.ndarray, labels: list[str], categorical: bool = False) -> pd.Series:
    """Reference for :func:`from_codes`."""
    out = pd.Series([labels[c] if c >= 0 else None for c in codes], dtype="str")
    return out.astype("category") if categorical else out


def labels_of(values: np.ndarray, categorical: bool = False) -> pd.Series:
    """An object array of texts (None/NaN → NA) as a ``str`` Series: each distinct text is
    converted once (record-level label arrays repeat a few texts many times); ``categorical``
    as in :func:`from_codes`."""
    values = np.asarray(values, dtype=object)
    at = np.flatnonzero(pd.notna(values))
    if len(at) < len(values) // 2:  # mostly NA (error codes, candidates): factorize the rest
        sub, distinct = pd.factorize(values[at])
        codes = np.full(len(values), -1, dtype=np.int64)
        codes[at] = sub
    else:
        codes, distinct = pd.factorize(values)
    return from_codes(codes, [str(v) for v in distinct], categorical)


def labels_of_plain(values: np.ndarray, categorical: bool = False) -> pd.Series:
    """Reference for :func:`labels_of`."""
    out = pd.Series([None if pd.isna(v) else str(v) for v in values], dtype="str")
    return out.astype("category") if categorical else out


def const_str(n: int, text: str) -> pd.Series:
    """``n`` times ``text`` as a ``str`` Series."""
    return from_codes(np.zeros(n, dtype=np.int32), [text])


def bitset_labels(
    names: list[str], masks: list[np.ndarray], n: int, categorical: bool = False
) -> pd.Series:
    """Per record, the ``;``-joined ``names`` whose mask holds there (in the order given).

    One bit per name, then one label per distinct bit combination (a few dozen at most);
    ``categorical`` as in :func:`from_codes`.
    """
    if len(names) > 62:  # more than fit in the bit set: join as text
        return bitset_labels_plain(names, masks, n, categorical)
    bits = np.zeros(n, dtype=np.int64)
    for i, mask in enumerate(masks):
        bits |= mask.astype(np.int64) << i
    if len(names) <= 16:  # small bit sets: a table lookup instead of a sort
        seen = np.flatnonzero(np.bincount(bits, minlength=1))
        combos = seen
        remap = np.zeros(int(seen[-1]) + 1 if len(seen) else 1, dtype=np.int64)
        remap[seen] = np.arange(len(seen))
        codes = remap[bits]
    else:
        combos, codes = np.unique(bits, return_inverse=True)
    labels = [";".join(nm for i, nm in enumerate(names) if int(c) >> i & 1) for c in combos]
    return from_codes(codes.reshape(-1), labels, categorical)


def bitset_labels_plain(
    names: list[str], masks: list[np.ndarray], n: int, categorical: bool = False
) -> pd.Series:
    """Reference for :func:`bitset_labels`."""
    out = np.full(n, "", dtype=object)
    for name, mask in zip(names, masks, strict=True):
        cur = out[mask]
        out[mask] = np.where(cur == "", name, cur + ";" + name)
    out = strs(out).fillna("")
    return out.astype("category") if categorical else out


# ----------------------------------------------------------------------------- codes and joins
def codes_of(arrays: list, dtype=np.int64) -> list[np.ndarray]:
    """Shared integer codes of several pyarrow text arrays (equal text, equal code; NA → -1):
    one hash pass over the union, so joins and membership run on integers. Pure pyarrow: safe
    on a worker thread. The chunks are encoded as they stand (one memo table across chunks,
    so their indices agree), without first copying them into one array. ``dtype``: np.int32
    halves the codes' memory (arrow's dictionary indices are int32 already)."""
    chunks = [c for a in arrays for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
    enc = pc.dictionary_encode(pa.chunked_array(chunks, type=pa.large_string()))
    parts = [c.indices.fill_null(-1).to_numpy(zero_copy_only=False) for c in enc.chunks]
    codes = np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    return [codes[bounds[i] : bounds[i + 1]] for i in range(len(arrays))]


def _text_groups(chunk: pa.Array, parts: int) -> np.ndarray:
    """Per text of a large_string array, a group 0..parts-1 read from its bytes (length, first,
    middle and last byte: equal texts, equal group); -1 for NA. Numpy on arrow's buffers."""
    n = len(chunk)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    _, off_buf, data_buf = chunk.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[chunk.offset : chunk.offset + n + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None and data_buf.size else None
    )
    start, length = offsets[:-1], np.diff(offsets)
    mix = length * 7
    if data is not None and len(data):
        some = length > 0
        at = np.where(some, start, 0)
        mix += np.where(some, data[at] * 31 + data[at + length // 2] * 17, 0)
        mix += np.where(some, data[np.maximum(at + length - 1, 0)], 0)
    group = (mix % parts).astype(np.int8)
    if chunk.null_count:
        group[chunk.is_null().to_numpy(zero_copy_only=False)] = -1
    return group


def codes_in_parts(arrays: list, parts: int = 4, dtype=np.int32) -> list[np.ndarray]:
    """:func:`codes_of` (the same partition: equal text, equal code; NA → -1; numbered part by
    part, not first-seen) in ``parts`` hash passes over the texts grouped by their bytes
    (:func:`_text_groups`): each pass's hash table holds about 1/parts of the distinct texts
    (arrow's memo table and dictionary take ~3x the texts' bytes; issue #19). Each part is
    taken chunk by chunk (a take across chunks would first copy them into one)."""
    chunks = [c for a in arrays for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
    chunks, group = _groups_of(pa.chunked_array(chunks, type=pa.large_string()), parts)
    starts = np.cumsum([0] + [len(c) for c in chunks])
    codes = np.full(starts[-1], -1, dtype=dtype)
    base = 0
    for part in range(parts):
        where = [
            np.flatnonzero(group[a:b] == part) for a, b in zip(starts, starts[1:], strict=False)
        ]
        taken = [c.take(pa.array(w)) for c, w in zip(chunks, where, strict=True)]
        enc = pc.dictionary_encode(pa.chunked_array(taken, type=pa.large_string()))
        at = np.concatenate([a + w for a, w in zip(starts, where, strict=False)] or [[]])
        # One memo table over the chunks: their indices agree (rows in the order taken).
        codes[at.astype(np.int64)] = (
            np.concatenate([c.indices.to_numpy(False) for c in enc.chunks] or [np.zeros(0, dtype)])
            + base
        )
        base += max((len(c.dictionary) for c in enc.chunks), default=0)
        del enc, taken  # before the next part's table
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    return [codes[bounds[i] : bounds[i + 1]] for i in range(len(arrays))]


def codes(*values: pd.Series) -> list[np.ndarray]:
    """:func:`codes_of` of text Series."""
    return codes_of([arrow(v) for v in values])


def codes_plain(*values: pd.Series) -> list[np.ndarray]:
    """Reference for :func:`codes`: a dict of first-seen texts."""
    seen: dict[str, int] = {}
    out = []
    for series in values:
        out.append(
            np.array(
                [-1 if pd.isna(v) else seen.setdefault(v, len(seen)) for v in series], np.int64
            )
        )
    return out


def member(codes_: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``codes_`` found among the ``pool`` codes (both from :func:`codes`; -1 is never a member)."""
    pool = pool[pool >= 0]
    if len(pool) == 0 or len(codes_) == 0:
        return np.zeros(len(codes_), dtype=bool)
    present = np.zeros(max(int(codes_.max()), int(pool.max())) + 1, dtype=bool)
    present[pool] = True
    return (codes_ >= 0) & present[np.maximum(codes_, 0)]


def member_plain(codes_: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Reference for :func:`member`."""
    valid = set(int(p) for p in pool if p >= 0)
    return np.array([c >= 0 and int(c) in valid for c in codes_], dtype=bool)


def first_position(codes_: np.ndarray, n_codes: int) -> np.ndarray:
    """Per code 0..n_codes-1, the first position holding it (-1 if none), plus a trailing -1
    slot so that looking up code -1 gives -1."""
    first = np.full(n_codes + 1, len(codes_))
    has = codes_ >= 0
    np.minimum.at(first, codes_[has], np.flatnonzero(has))
    first[first == len(codes_)] = -1
    return first


def first_position_plain(codes_: np.ndarray, n_codes: int) -> np.ndarray:
    """Reference for :func:`first_position`."""
    first = [-1] * (n_codes + 1)
    for pos, c in enumerate(codes_):
        if c >= 0 and first[c] < 0:
            first[c] = pos
    return np.array(first)


def equi_join(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (l, r) of every pair with ``left[l] == right[r]`` (codes, -1 never matches), in
    the order an inner merge gives: left rows in order, then their right rows in order."""
    l_codes = np.where(left >= 0, left, -1)
    n_codes = int(max(right.max(initial=-1), l_codes.max(initial=-1))) + 2
    l_codes = np.where(l_codes >= 0, l_codes, n_codes - 1)  # NA: a code no right row has
    r_order = np.argsort(right, kind="stable")
    r_count = np.bincount(right[right >= 0], minlength=n_codes)
    r_sorted = r_order[np.count_nonzero(right < 0) :]
    r_start = np.cumsum(r_count) - r_count
    k = r_count[l_codes]
    lpos = np.repeat(np.arange(len(l_codes)), k)
    within = np.arange(len(lpos)) - np.repeat(np.cumsum(k) - k, k)
    rpos = r_sorted[np.repeat(r_start[l_codes], k) + within]
    return lpos, rpos


def equi_join_plain(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference for :func:`equi_join`: ``pd.merge`` on the codes."""
    lf = pd.DataFrame({"k": left, "l": np.arange(len(left))})
    rf = pd.DataFrame({"k": right, "r": np.arange(len(right))})
    m = lf[lf["k"] >= 0].merge(rf[rf["k"] >= 0], on="k", how="inner", sort=False)
    m = m.sort_values(["l", "r"], kind="stable")
    return m["l"].to_numpy(), m["r"].to_numpy()


# ----------------------------------------------------------------------------- hash lookups
def positions(keys: pd.Series, queries: pd.Series) -> np.ndarray:
    """Position in ``keys`` of each query (first occurrence; NA and misses → -1), hash-joined."""
    if len(keys) == 0 or len(queries) == 0:
        return np.full(len(queries), -1)
    hit = pc.index_in(arrow(queries), value_set=arrow(keys), skip_nulls=True)
    return hit.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def positions_plain(keys: pd.Series, queries: pd.Series) -> np.ndarray:
    """Reference for :func:`positions`."""
    first: dict = {}
    for i, k in enumerate(keys):
        if not pd.isna(k):
            first.setdefault(k, i)
    return np.array([-1 if pd.isna(q) else first.get(q, -1) for q in queries], dtype=np.int64)


def _groups_of(arr, parts: int) -> tuple[list, np.ndarray]:
    """(the large_string chunks of ``arr``, :func:`_text_groups` of all its texts)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    chunks = [c if c.type == pa.large_string() else c.cast(pa.large_string()) for c in chunks]
    step = 1 << 20  # in slices: the byte gathers stay small
    groups = [_text_groups(c.slice(i, step), parts) for c in chunks for i in range(0, len(c), step)]
    return chunks, np.concatenate(groups or [np.zeros(0, dtype=np.int8)])


def _take_rows(chunks: list, rows: np.ndarray) -> pa.ChunkedArray:
    """The texts at ascending positions ``rows`` of the chunks, taken chunk by chunk."""
    starts = np.cumsum([0] + [len(c) for c in chunks])
    cut = np.searchsorted(rows, starts)
    taken = [c.take(pa.array(rows[cut[i] : cut[i + 1]] - starts[i])) for i, c in enumerate(chunks)]
    return pa.chunked_array(taken, type=pa.large_string())


def positions_in_parts(keys: pd.Series, queries: pd.Series, parts: int = 8) -> np.ndarray:
    """:func:`positions` in ``parts`` hash passes over keys and queries grouped by their bytes
    (equal texts fall in the same part, :func:`_text_groups`): each pass's hash table holds about
    1/parts of the keys (issue #19). First occurrence kept: each part keeps the keys' order."""
    out = np.full(len(queries), -1, dtype=np.int64)
    if len(keys) == 0 or len(queries) == 0:
        return out
    k_chunks, k_group = _groups_of(arrow(keys), parts)
    q_chunks, q_group = _groups_of(arrow(queries), parts)
    for part in range(parts):
        k_rows, q_rows = np.flatnonzero(k_group == part), np.flatnonzero(q_group == part)
        if not len(k_rows) or not len(q_rows):
            continue
        hit = pc.index_in(_take_rows(q_chunks, q_rows), value_set=_take_rows(k_chunks, k_rows))
        hit = hit.fill_null(-1).to_numpy(zero_copy_only=False)
        found = hit >= 0
        out[q_rows[found]] = k_rows[hit[found]]
    return out


def isin(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` as a numpy bool array, NA never a member (pyarrow hash set)."""
    if len(values) == 0 or len(pool) == 0:
        return np.zeros(len(values), dtype=bool)
    hit = pc.is_in(arrow(values), value_set=arrow(pool), skip_nulls=True)
    return hit.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)


def isin_plain(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """Reference for :func:`isin`."""
    return (values.isin(pool.dropna()) & values.notna()).to_numpy(dtype=bool)


def join_groups(groups: np.ndarray, values: pd.Series) -> pd.Series:
    """``;``-joined values per group (in the given order), indexed by group, without Python loops."""
    table = pa.table({"g": pa.array(groups), "v": arrow(values)})
    agg = table.group_by("g", use_threads=False).aggregate([("v", "list")])
    joined = pc.binary_join(agg["v_list"], pa.scalar(";", pa.large_string()))
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=agg["g"].to_numpy(), dtype="str")


def join_groups_plain(groups: np.ndarray, values: pd.Series) -> pd.Series:
    """Reference for :func:`join_groups`."""
    frame = pd.DataFrame({"g": groups, "v": list(values)})
    joined = frame.groupby("g", sort=False)["v"].agg(lambda v: ";".join(v))
    return pd.Series(joined.to_numpy(), index=joined.index.to_numpy(), dtype="str")
