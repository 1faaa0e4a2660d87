"""Normalisation of the values every table shares: emails, Salesforce ids, booleans, datetimes.

One module, vectorised, so checks and the simulator never redo it (STYLE.md lesson 5).
Each function returns the converted values and, where a value can be malformed, a mask of the
cells that could not be converted (the loader turns those into problems naming file, row, column).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Sentinels Pardot writes into CRM id columns (M-21, M-22; export-formats.md §0).
CRM_SENTINELS = {"[[crm_deleted]]": "deleted", "[[crm_ignore_prospect]]": "ignored"}

# Key prefixes (ID-3).
PREFIX_LEAD, PREFIX_CONTACT, PREFIX_ACCOUNT = "00Q", "003", "001"
PREFIX_USER, PREFIX_GROUP = "005", "00G"

# Byte lookup tables for the id checksum (ID-2): 5 case bits per suffix character.
_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)
_DECODE = np.zeros(256, dtype=np.uint8)
_DECODE[_ALPHABET] = np.arange(32)
_DECODE[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)] = np.arange(26)
_CASE_BITS = ((np.arange(32)[:, None] >> np.arange(5)) & 1).astype(bool)
_UPPER = np.zeros(256, dtype=bool)
_UPPER[ord("A") : ord("Z") + 1] = True
_LETTER = _UPPER.copy()
_LETTER[ord("a") : ord("z") + 1] = True
_ALNUM = _LETTER.copy()
_ALNUM[ord("0") : ord("9") + 1] = True
_SUFFIX = _LETTER.copy()
_SUFFIX[ord("0") : ord("5") + 1] = True

# Practical email syntax: one @, a dot in the domain, no spaces (what Salesforce's
# INVALID_EMAIL_ADDRESS rejects in practice; M-14, X9).
_EMAIL_RE = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
EMAIL_MAX_LENGTH = 80  # Lead/Contact Email is email(80) (M-15, X6)

_TRUE = {"true", "t", "1", "1.0", "yes", "y", "x", "checked", "on"}
_FALSE = {"false", "f", "0", "0.0", "no", "n", "unchecked", "off"}
_BOOL_SETS = {
    flag: pa.array(sorted(words), pa.large_string())
    for flag, words in ((True, _TRUE), (False, _FALSE))
}


def as_text(values: pd.Series) -> pd.Series:
    """Values as the pandas ``str`` dtype, stripped; blank and whitespace-only become NA."""
    # pyarrow's trim (what .str.strip() runs) and one if_else: no pandas mask round trip.
    text = pc.utf8_trim_whitespace(arrow_strings(values))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)
    return str_series(text, values.index, values.name)


def email_key(values: pd.Series) -> pd.Series:
    """Match key for emails: trim + casefold, blank → NA (M-13: policy, raw value kept elsewhere)."""
    text = as_text(values)
    # casefold runs in Python; lower() is the same for ASCII and runs in pyarrow.
    key = text.str.lower()
    other = (~text.str.isascii()).fillna(False).astype(bool)
    if other.any():
        key = key.mask(other, text[other].str.casefold())
    return _same_or(values, key)


def _same_or(values: pd.Series, derived: pd.Series) -> pd.Series:
    """``values`` themselves (their storage shared) when ``derived`` equals them cell for cell
    (an export of keys already trimmed and lower case), else ``derived``: a column of 1M emails
    is then held once, not twice."""
    if values.dtype != "str" or len(values) == 0:
        return derived
    raw, new = arrow_strings(values), arrow_strings(derived)
    if raw.null_count != new.null_count:  # a key is NA wherever the value is (and for blanks)
        return derived
    if raw.null_count < len(raw) and not pc.all(pc.equal(raw, new)).as_py():
        return derived
    return str_series(raw, derived.index, derived.name)


def email_is_valid(values: pd.Series) -> pd.Series:
    """True where the email (spaces trimmed) is a syntactically valid address of at most 80 chars."""
    text = values.astype("str").str.strip()
    ok = text.str.fullmatch(_EMAIL_RE).fillna(False) & (text.str.len() <= EMAIL_MAX_LENGTH)
    return ok.astype(bool)


def email_has_variant(values: pd.Series) -> pd.Series:
    """True where the raw email differs from its match key only by case or spaces (M-13)."""
    text = values.astype("str")
    return (text.notna() & (text != email_key(values))).fillna(False).astype(bool)


def _checksum_codes(u8: np.ndarray) -> np.ndarray:
    """(n, 3) codes 0–31 of the case checksum of (n, 15) id heads: bit i = char i is upper (ID-2)."""
    return _codes_of(_head_scan(u8)[1])


def _rep(byte: int) -> np.uint64:
    return np.uint64(int.from_bytes(bytes([byte]) * 8, "little"))


_HIGH = _rep(0x80)


def _in(x: np.ndarray, lo: str, hi: str) -> np.ndarray:
    """Per byte of 7-bit words: 0x80 where lo <= byte <= hi (adding never carries across bytes)."""
    ge_lo = x + _rep(0x80 - ord(lo))
    ge_lo &= _HIGH
    above = x + _rep(0x80 - ord(hi) - 1)
    above &= _HIGH
    ge_lo &= ~above
    return ge_lo


def _bits(mask: np.ndarray) -> np.ndarray:
    """The 0x80 flags of the 8 bytes of each word as 8 bits (byte i → bit i)."""
    return ((mask >> np.uint64(7)) * np.uint64(0x0102040810204080)) >> np.uint64(56)


def _head_scan(u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For (n, ≥15) id bytes: (alnum, upper) over the first 15 characters, 8 bytes at a time.

    ``alnum`` is True where all 15 are ASCII letters or digits (same as the byte tables);
    ``upper`` is the 15-bit pattern of upper-case letters (bit i = char i), the ID-2 checksum.
    """
    u8 = np.ascontiguousarray(u8, dtype=np.uint8)
    n, width = u8.shape
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.uint64)
    alnum, upper = [], []
    for start in (0, 7):  # bytes 0–7 and 7–14 of each row, read as little-endian words
        word = np.ndarray((n,), dtype="<u8", buffer=u8, offset=start, strides=(width,))
        ascii7 = ~word  # 0x80 where the byte is ASCII
        ascii7 &= _HIGH
        low7 = word & ~_HIGH
        letter = _in(low7 | _rep(0x20), "a", "z")  # | 0x20: upper → lower case
        letter &= ascii7
        ok = _in(low7, "0", "9")
        ok &= ascii7
        ok |= letter
        alnum.append(ok == _HIGH)
        letter &= ~(low7 << np.uint64(2))  # case bit 0x20 moved to 0x80: clear = upper case
        upper.append(_bits(letter))
    return alnum[0] & alnum[1], upper[0] | ((upper[1] >> np.uint64(1)) << np.uint64(8))


def _codes_of(upper: np.ndarray) -> np.ndarray:
    """(n, 3) checksum codes (5 bits each) of 15-bit upper-case patterns (ID-2)."""
    return np.stack([(upper >> np.uint64(s)) & np.uint64(31) for s in (0, 5, 10)], axis=1).astype(
        np.uint8
    )


def _id18_from_bytes(u8: np.ndarray) -> np.ndarray:
    """Append the case checksum to an (n, 15) uint8 array of 15-character ids (ID-2)."""
    return np.concatenate([u8, _ALPHABET[_checksum_codes(u8)]], axis=1)


def _damaged(u8: np.ndarray, codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For the ``rows`` of (n, 18) ids whose head case differs from the checksum: True where the
    checksum cannot belong to the head (ID-2).

    A case difference is accepted only when a tool changed the case of the whole id (every
    letter of the head upper case, or every one lower case; ID-1, ID-5): its case is restored.
    A mixed-case head that disagrees with its checksum, or a checksum marking a digit as upper
    case, is a damaged id: reported as given, never case-rewritten.
    """
    head = u8[rows, :15]
    letters, uppers = _LETTER[head], _UPPER[head]
    lowers = letters & ~uppers
    marked = _CASE_BITS[codes[rows]].reshape(-1, 15)
    return (marked & ~letters).any(axis=1) | (uppers.any(axis=1) & lowers.any(axis=1))


def _restore_case(u8: np.ndarray, upper: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For (n, 18) ids: rebuild the case of the first 15 from the checksum, so case-mangled
    18-character ids (spreadsheets, case-insensitive tools) compare equal (ID-1, ID-5).
    ``upper``: the heads' upper-case patterns, when :func:`_head_scan` already has them.
    Returns the ids and the mask of damaged ones (see :func:`_damaged`; their bytes are junk)."""
    if upper is None:
        upper = _head_scan(u8)[1]
    head, codes = u8[:, :15], _DECODE[u8[:, 15:]]
    suffix = _ALPHABET[codes]
    damaged = np.zeros(len(u8), dtype=bool)
    # Most ids are already canonical (head case matches the checksum): fix only the others.
    wanted = (
        codes[:, 0] | (codes[:, 1].astype(np.uint64) << 5) | (codes[:, 2].astype(np.uint64) << 10)
    )
    differ = upper != wanted
    if not differ.any():
        fixed = u8 if (u8[:, 15:] == suffix).all() else np.concatenate([head, suffix], axis=1)
        return fixed, damaged
    damaged[differ] = _damaged(u8, codes, np.flatnonzero(differ))
    upper_bits = _CASE_BITS[codes].reshape(-1, 15).view(np.uint8)
    lower = head | 0x20
    head = np.where(_LETTER[head], lower - (upper_bits << 5), head)  # 'a' - 32 = 'A'
    return np.concatenate([head, suffix], axis=1), damaged


def arrow_strings(values: pd.Series) -> pa.Array:
    """The values as one pyarrow ``large_string`` array (zero-copy for pandas ``str`` columns)."""
    # pandas 3 ``str`` columns are pyarrow-backed; ``_pa_array`` is where pandas keeps the data.
    # One chunk (what the loader gives) is used as is: combine_chunks would copy even that one.
    if isinstance(values.dtype, pd.CategoricalDtype):  # low-cardinality text (issue #19 memory)
        return categorical_strings(values)
    chunked = values.astype("str").array._pa_array
    arr = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


# Issue #19 memory: picklist-like text (status, source, owner, region, country …) repeats a few
# values over millions of rows; as a categorical a cell costs 1–2 bytes instead of ~20.
CATEGORY_LIMIT = 32767  # most categories a column may have (int16 codes); 0 turns the rule off
CATEGORY_RATIO = 16  # fewest non-blank cells per category, on average, for a column to qualify
CATEGORY_MIN_ROWS = 1024  # smaller tables are left as text (a saving of a few kilobytes)
CATEGORY_SAMPLE = 65536  # cells of the cheap first look


def _few_in_sample(arr: pa.Array) -> bool:
    """False when the first cells already show too many distinct texts (names, ids, free text):
    more than the limit, or more than one per two non-blank cells (fewer than 64 non-blank cells
    tell nothing: the whole column decides)."""
    head = arr.slice(0, CATEGORY_SAMPLE)
    seen = len(head) - head.null_count
    distinct = pc.count_distinct(head, mode="only_valid").as_py()
    return seen < 64 or distinct <= min(CATEGORY_LIMIT, seen // 2)


def low_cardinality(values: pd.Series) -> pd.Series:
    """``values`` as a categorical (sorted categories, as ``astype("category")`` gives) when the
    column holds at most ``CATEGORY_LIMIT`` distinct texts and at least ``CATEGORY_RATIO``
    non-blank cells per distinct text; else ``values`` unchanged (the rule in docs/architecture.md)."""
    if values.dtype != "str" or len(values) < CATEGORY_MIN_ROWS or CATEGORY_LIMIT <= 0:
        return values
    arr = arrow_strings(values)
    present = len(arr) - arr.null_count
    if present == 0 or not _few_in_sample(arr):
        return values
    enc = pc.dictionary_encode(arr)  # the whole column: one hash pass, confirms the count
    n_cat = len(enc.dictionary)
    if n_cat > min(CATEGORY_LIMIT, present // CATEGORY_RATIO):
        return values
    order = pc.array_sort_indices(enc.dictionary).to_numpy()
    rank = np.empty(n_cat + 1, dtype=np.int8 if n_cat < 128 else np.int16)
    rank[order] = np.arange(n_cat)
    rank[n_cat] = -1  # a null cell looks up the trailing slot
    cells = enc.indices.fill_null(n_cat).to_numpy(zero_copy_only=False)
    categories = pd.Index(pd.arrays.ArrowStringArray(enc.dictionary.take(order)), dtype="str")
    cat = pd.Categorical.from_codes(rank[cells], dtype=pd.CategoricalDtype(categories))
    return pd.Series(cat, index=values.index, name=values.name)


def categorical_strings(values: pd.Series) -> pa.Array:
    """A categorical text Series as one pyarrow ``large_string`` array (an arrow take of its
    categories: ``astype("str")`` is 15× slower)."""
    codes = np.asarray(values.cat.codes)
    cats = values.cat.categories
    dictionary = pa.array(cats.astype("str"), from_pandas=True).cast(pa.large_string())
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pc.take(dictionary, indices)


def plain_text(values: pd.Series) -> pd.Series:
    """Text values as the pandas ``str`` dtype: what ``astype("str")`` gives, but a categorical
    goes through an arrow take (its ``astype("str")`` builds Python objects; issue #19 memory)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return str_series(categorical_strings(values), values.index, values.name)
    return values.astype("str")


def str_series(values: pa.Array, index: pd.Index, name=None) -> pd.Series:
    """A pandas ``str`` Series over a pyarrow string array (no copy through Python objects)."""
    return pd.Series(pd.arrays.ArrowStringArray(values), index=index, dtype="str", name=name)


@lru_cache(maxsize=16)
def _nulls(n: int) -> pa.Array:
    # Issue #19 memory: np.zeros maps its pages lazily and nothing ever writes them, so the
    # shared all-NA column stays out of resident memory at any length (``pa.nulls`` writes its
    # zeros: 16 bytes a row, 64 MB per column at 4M rows).
    validity = pa.py_buffer(np.zeros((n + 7) // 8, dtype=np.uint8))
    offsets = pa.py_buffer(np.zeros(n + 1, dtype=np.int64))
    return pa.Array.from_buffers(
        pa.large_string(), n, [validity, offsets, pa.py_buffer(b"")], null_count=n
    )


def null_strings(index: pd.Index, name=None) -> pd.Series:
    """An all-NA pandas ``str`` Series (pyarrow nulls: far cheaper than broadcasting ``pd.NA``).

    Columns of one length share one immutable null array (pandas replaces, never writes, it).
    """
    return str_series(_nulls(len(index)), index, name)


def byte_lengths(values: pd.Series) -> np.ndarray:
    """The UTF-8 byte length of each text value (0 for NA), read off the arrow offsets."""
    arr = arrow_strings(values)
    if arr.null_count == len(arr):
        return np.zeros(len(arr), dtype=np.int64)  # untouched pages: the shared empty column
    ends = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    lengths = np.diff(ends)
    if arr.null_count:  # arrow lets a null slot span bytes: never count them
        lengths[~arr.is_valid().to_numpy(zero_copy_only=False)] = 0
    return lengths


def bytes_matrix(arr: pa.Array, rows: np.ndarray, width: int) -> np.ndarray:
    """(len(rows), width) uint8 matrix of the bytes of ``rows`` (each exactly ``width`` long)."""
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    if buffers[2] is None:
        return np.zeros((0, width), dtype=np.uint8)
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    start, end = offsets[0], offsets[-1]
    if end - start == len(rows) * width:  # only these rows hold bytes: one contiguous block
        return data[start:end].reshape(-1, width)
    return data[offsets[rows][:, None] + np.arange(width)]


def sf_id18(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Salesforce ids to 18 characters.

    Returns (ids, was_15, invalid): ``ids`` holds the canonical 18-character id or NA;
    ``was_15`` marks 15-character inputs (case-sensitive, converted with the checksum, ID-2);
    ``invalid`` marks non-blank values that are not 15/18 alphanumeric characters.
    Works on the pyarrow bytes directly: ids are ASCII, so a byte is a character.
    """
    arr = pc.utf8_trim_whitespace(arrow_strings(values))
    n = len(arr)
    lengths = pc.fill_null(pc.binary_length(arr), 0).to_numpy()
    ok = np.zeros(n, dtype=bool)
    was15 = np.zeros(n, dtype=bool)
    parts = []
    for width in (15, 18):
        rows = np.flatnonzero(lengths == width)
        if not len(rows):
            continue
        u8 = bytes_matrix(arr, rows, width)
        valid, upper = _head_scan(u8)
        if width == 18:
            # The checksum suffix only uses A-Z and 0-5 (ID-2); anything else is not an id.
            valid &= _SUFFIX[u8[:, 15:]].all(axis=1)
        if not valid.all():
            u8, upper = u8[valid], upper[valid]
        if width == 15:
            fixed = np.concatenate([u8, _ALPHABET[_codes_of(upper)]], axis=1)
        else:
            fixed, damaged = _restore_case(u8, upper)
            if damaged.any():  # a checksum that cannot be the head's: not an id (ID-2)
                fixed = fixed[~damaged]
                valid[np.flatnonzero(valid)[damaged]] = False
        ok[rows[valid]] = True
        if width == 15:
            was15[rows[valid]] = True
        parts.append((rows[valid], fixed))
    if len(parts) == 1:
        data = parts[0][1]
    else:  # both widths (or none): interleave back into row order
        data = np.empty((int(ok.sum()), 18), dtype=np.uint8)
        slot = np.cumsum(ok) - 1
        for rows, fixed in parts:
            data[slot[rows]] = fixed
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(ok * 18, out=offsets[1:])
    ids = pa.LargeStringArray.from_buffers(
        n,
        pa.py_buffer(offsets),
        pa.py_buffer(np.ascontiguousarray(data, dtype=np.uint8)),
        pa.py_buffer(np.packbits(ok, bitorder="little")),
        null_count=int(n - ok.sum()),
    )
    index, name = values.index, values.name
    invalid = (lengths > 0) & ~ok
    return (
        str_series(ids, index),
        pd.Series(was15, index=index, name=name),
        pd.Series(invalid, index=index, name=name),
    )


def checksum_failures(values: pd.Series, invalid: pd.Series) -> pd.Series:
    """Among ``invalid`` ids, those shaped like an 18-character id (alphanumeric) whose
    checksum does not match its head: damaged ids, as opposed to text that is no id at all."""
    out = pd.Series(False, index=values.index)
    if invalid.any():
        text = as_text(values[invalid])
        out[invalid] = text.str.fullmatch(r"[A-Za-z0-9]{18}").fillna(False).astype(bool)
    return out


def to_id18(value: str) -> str:
    """Scalar form of :func:`sf_id18` (for tests and settings); raises ValueError if invalid."""
    ids, _, invalid = sf_id18(pd.Series([value]))
    if invalid.iloc[0] or pd.isna(ids.iloc[0]):
        raise ValueError(f"not a Salesforce id: {value!r}")
    return ids.iloc[0]


def crm_id(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """CRM id columns on prospects: ids, sentinel status, 15-char mask, invalid mask (M-22, ID-5).

    Sentinels become NA with status ``deleted`` / ``ignored``; any other value that is not a
    15/18-character id is NA with status ``invalid`` and is never looked up.
    """
    text = as_text(values)
    status = pd.Series(pd.NA, index=values.index, dtype="str", name=values.name)
    bracketed = text.str.startswith("[[").fillna(False).astype(bool)
    if bracketed.any():  # map only the few candidates: Series.map runs in Python
        status[bracketed] = text[bracketed].str.lower().map(CRM_SENTINELS).astype("str")
    is_sentinel = status.notna()
    ids, was15, invalid = sf_id18(text.mask(is_sentinel))
    status = status.mask(invalid, "invalid")
    return ids, status, was15, invalid


def parse_bool(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans in their many spellings (true/false, 1/0, yes/no, …) → pandas ``boolean``."""
    # A column holds a few distinct spellings: each is trimmed, lower-cased (as as_text(…)
    # .str.lower() would) and looked up once, then spread to the rows by its dictionary index.
    encoded = pc.dictionary_encode(arrow_strings(values))
    words = pc.utf8_lower(pc.utf8_trim_whitespace(encoded.dictionary))

    def rows(flags: pa.Array) -> np.ndarray:  # a flag per distinct word → per row (NA: False)
        return pc.fill_null(pc.take(flags, encoded.indices), False).to_numpy(False)

    is_true, is_false = (
        rows(pc.is_in(words, value_set=_BOOL_SETS[flag])) for flag in (True, False)
    )
    known = is_true | is_false
    out = pd.Series(pd.arrays.BooleanArray(is_true, ~known), index=values.index)
    present = rows(pc.not_equal(words, ""))  # blank → NA
    return out, pd.Series(present & ~known, index=values.index)


_OFFSET_RE = r"(?:Z|\d:\d\d(?::\d\d(?:[.,]\d+)?)? ?[+-]\d\d(?::?\d\d)?)$"


def _datetime_fast(text: pd.Series, naive_tz: str) -> pd.Series | None:
    """The common, uniform columns parsed by pyarrow's strict ISO 8601 cast, or None.

    Only two shapes are taken: every value ending in ``Z`` / ``+0000`` (Salesforce API and Data
    Loader), or every value without an offset (Pardot UI exports). Anything else, mixed or odd,
    returns None and goes through the general pandas path, so results are the same either way.
    """
    arr = arrow_strings(text)
    present = arr.drop_null()
    if len(present) == 0:
        return None
    utc = pa.timestamp("us", tz="UTC")
    try:
        zulu = pc.all(pc.or_(pc.ends_with(present, "Z"), pc.ends_with(present, "+0000"))).as_py()
        if zulu:
            parsed = pc.cast(arr, utc)
        else:
            naive = pd.Series(pc.cast(arr, pa.timestamp("us")).to_numpy(False), index=text.index)
            if naive_tz == "UTC":
                return naive.dt.tz_localize("UTC")
            # Same DST handling as the general path below.
            ambiguous = np.zeros(len(naive), dtype=bool)
            local = naive.dt.tz_localize(naive_tz, ambiguous=ambiguous, nonexistent="shift_forward")
            return local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return parsed.to_pandas().set_axis(text.index).rename(None)


def parse_datetime_utc(
    values: pd.Series,
    naive_tz: str = "UTC",
    date_order: str | None = None,
    report: dict | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Salesforce / Pardot datetimes (``2024-01-02T03:04:05.000+0000``, ``…Z``, ``YYYY-MM-DD
    HH:MM:SS`` in ``naive_tz``, ``… UTC``) → ``datetime64[us, UTC]``; also the unparseable mask.

    Report exports write dates in the user's locale (``02/06/2025, 08:15``, ``6/2/2025 8:15 AM``;
    export-formats.md §4.3): read in ``naive_tz``, day first when ``date_order`` is ``dmy``, month
    first when ``mdy``, and when None as the column's unambiguous values show (a day above 12),
    else month first. ``report`` (optional) receives what :func:`parse_locale_dates` found.
    """
    text = as_text(values)
    fast = _datetime_fast(text, naive_tz)
    if fast is not None:
        return fast, pd.Series(False, index=values.index)
    cleaned = text.str.replace(r"[ \t]*UTC$", "+00:00", regex=True)  # no \\s: keeps pyarrow regex
    # An offset follows a time (Z, +hh, +hhmm, +hh:mm); a bare date's "-08" is not one.
    has_offset = cleaned.str.contains(_OFFSET_RE, regex=True).fillna(False)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    if has_offset.any():
        part = pd.to_datetime(cleaned[has_offset], utc=True, format="ISO8601", errors="coerce")
        out[has_offset] = part.astype("datetime64[us, UTC]")
    naive = cleaned.notna() & ~has_offset
    if naive.any():
        part = pd.to_datetime(cleaned[naive], format="ISO8601", errors="coerce")
        locale = part.isna() & naive[naive]
        if locale.any():  # not ISO: a report export's locale date?
            found = parse_locale_dates(cleaned[naive][locale], date_order)
            part = part.astype("datetime64[us]")
            part[locale] = found.pop("values")
            if report is not None:
                report.update(found)
        out[naive] = _localize(part, naive_tz)
    bad = (text.notna() & out.isna()).astype(bool)
    return out, bad


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local times → UTC. DST edges: a time in the spring-forward gap moves forward, a
    repeated autumn hour is read as standard time (at most an hour off; better than dropping)."""
    ambiguous = np.zeros(len(naive), dtype=bool)
    local = naive.dt.tz_localize(tz, ambiguous=ambiguous, nonexistent="shift_forward")
    return local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


# Locale dates of report exports: d/m/y or m/d/y (also . or -), 2- or 4-digit year, an optional
# time after a space, "T" or ", " with optional seconds and AM/PM.
_LOCALE_DATE_RE = (
    r"^(?P<a>\d{1,2})[./-](?P<b>\d{1,2})[./-](?P<y>\d{4}|\d{2}),?"
    r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?[ ]*(?P<ap>[AaPp])?\.?(?:[Mm]\.?)?)?$"
)


def locale_date_order(first: np.ndarray, second: np.ndarray) -> str | None:
    """``dmy`` when some first number is a day above 12 and no second one is, ``mdy`` for the
    reverse, None when the values cannot tell (all ≤ 12) or contradict each other."""
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first != month_first:
        return "dmy" if day_first else "mdy"
    return None


def parse_locale_dates(text: pd.Series, date_order: str | None = None) -> dict:
    """Locale dates (``02/06/2025, 08:15``, ``6/2/2025 8:15 AM``) → naive ``datetime64[us]``.

    Vectorised (one pyarrow regex, integer columns, one ``pd.to_datetime``). Returns a dict:
    ``values`` (NaT where not a date), ``order`` used, ``inferred`` (the order came from the
    values), ``ambiguous`` (nothing told day from month first), ``count`` of locale dates and
    ``example`` (one of them, for messages).
    """
    parts = pc.extract_regex(arrow_strings(text), _LOCALE_DATE_RE)
    matched = parts.is_valid().to_numpy(zero_copy_only=False)

    def number(name: str, default: int = 0) -> np.ndarray:
        field = pc.struct_field(parts, name)
        field = pc.if_else(pc.equal(field, ""), pa.scalar(None, field.type), field)
        return pc.fill_null(pc.cast(field, pa.int32()), default).to_numpy(zero_copy_only=False)

    a, b = number("a"), number("b")
    seen = locale_date_order(a[matched], b[matched])
    order = date_order or seen or "mdy"
    day, month = (a, b) if order == "dmy" else (b, a)
    year = number("y")
    year = np.where(year < 100, year + 2000, year)
    hour = number("h")
    pm = pc.fill_null(pc.equal(pc.utf8_lower(pc.struct_field(parts, "ap")), "p"), False)
    am = pc.fill_null(pc.equal(pc.utf8_lower(pc.struct_field(parts, "ap")), "a"), False)
    hour = np.where(am.to_numpy(zero_copy_only=False), hour % 12, hour)
    hour = np.where(pm.to_numpy(zero_copy_only=False), hour % 12 + 12, hour)
    stamp = pd.to_datetime(
        pd.DataFrame(
            {
                "year": year,
                "month": month,
                "day": day,
                "hour": hour,
                "minute": number("mi"),
                "second": number("s"),
            }  # fmt: skip
        ),
        errors="coerce",
    )
    stamp = stamp.where(matched).astype("datetime64[us]").set_axis(text.index)
    count = int(matched.sum())
    return {
        "values": stamp,
        "order": order,
        "inferred": date_order is None and seen is not None,
        "ambiguous": date_order is None and seen is None and count > 0,
        "count": count,
        "example": str(text[matched].iloc[0]) if count else None,
    }


def parse_number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers written as text (Data Loader writes ``500000.0``) → float64, with the bad mask."""
    text = as_text(values).str.replace(",", "", regex=False)
    out = pd.to_numeric(text, errors="coerce").astype("Float64")
    bad = (text.notna() & out.isna()).astype(bool)
    return out, bad
