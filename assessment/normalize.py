"""Normalisation of the values every table shares: emails, Salesforce ids, booleans, datetimes.

One module, vectorised, so checks and the simulator never redo it (STYLE.md lesson 5).
Each function returns the converted values and, where a value can be malformed, a mask of the
cells that could not be converted (the loader turns those into problems naming file, row, column).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Sentinels Pardot writes into CRM id columns (M-21, M-22; export-formats.md §0).
CRM_SENTINELS = {"[[crm_deleted]]": "deleted", "[[crm_ignore_prospect]]": "ignored"}

# Key prefixes (ID-3).
PREFIX_LEAD, PREFIX_CONTACT, PREFIX_ACCOUNT = "00Q", "003", "001"
PREFIX_USER, PREFIX_GROUP = "005", "00G"

_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)
_WEIGHTS = (1 << np.arange(5)).astype(np.int64)
_DECODE = np.full(256, -1, dtype=np.int64)
_DECODE[_ALPHABET] = np.arange(32)
_DECODE[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)] = np.arange(26)

# Practical email syntax: one @, a dot in the domain, no spaces (what Salesforce's
# INVALID_EMAIL_ADDRESS rejects in practice; M-14, X9).
_EMAIL_RE = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
EMAIL_MAX_LENGTH = 80  # Lead/Contact Email is email(80) (M-15, X6)

_TRUE = {"true", "t", "1", "1.0", "yes", "y", "x", "checked", "on"}
_FALSE = {"false", "f", "0", "0.0", "no", "n", "unchecked", "off"}


def as_text(values: pd.Series) -> pd.Series:
    """Values as the pandas ``str`` dtype, stripped; blank and whitespace-only become NA."""
    text = values.astype("str").str.strip()
    return text.mask(text == "")


def email_key(values: pd.Series) -> pd.Series:
    """Match key for emails: trim + casefold, blank → NA (M-13: policy, raw value kept elsewhere)."""
    text = as_text(values)
    # casefold runs in Python; lower() is the same for ASCII and runs in pyarrow.
    key = text.str.lower()
    other = (~text.str.isascii()).fillna(False).astype(bool)
    if other.any():
        key = key.mask(other, text[other].str.casefold())
    return key


def email_is_valid(values: pd.Series) -> pd.Series:
    """True where the email (spaces trimmed) is a syntactically valid address of at most 80 chars."""
    text = values.astype("str").str.strip()
    ok = text.str.fullmatch(_EMAIL_RE).fillna(False) & (text.str.len() <= EMAIL_MAX_LENGTH)
    return ok.astype(bool)


def email_has_variant(values: pd.Series) -> pd.Series:
    """True where the raw email differs from its match key only by case or spaces (M-13)."""
    text = values.astype("str")
    return (text.notna() & (text != email_key(values))).fillna(False).astype(bool)


def _id18_from_bytes(u8: np.ndarray) -> np.ndarray:
    """Append the case checksum to an (n, 15) uint8 array of 15-character ids (ID-2)."""
    upper = (u8 >= 65) & (u8 <= 90)
    chunks = upper.reshape(-1, 3, 5).astype(np.int64) @ _WEIGHTS
    return np.concatenate([u8, _ALPHABET[chunks]], axis=1)


def _restore_case(u8: np.ndarray) -> np.ndarray:
    """For (n, 18) ids: rebuild the case of the first 15 from the checksum, so case-mangled
    18-character ids (spreadsheets, case-insensitive tools) compare equal (ID-1, ID-5)."""
    head = u8[:, :15].copy()
    codes = _DECODE[u8[:, 15:]]
    bits = ((codes[:, :, None] >> np.arange(5)) & 1).reshape(-1, 15).astype(bool)
    letter = ((head >= 65) & (head <= 90)) | ((head >= 97) & (head <= 122))
    lower = head | 0x20
    head = np.where(letter & bits, lower - 32, np.where(letter, lower, head))
    return np.concatenate([head.astype(np.uint8), _ALPHABET[codes]], axis=1)


def sf_id18(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Salesforce ids to 18 characters.

    Returns (ids, was_15, invalid): ``ids`` holds the canonical 18-character id or NA;
    ``was_15`` marks 15-character inputs (case-sensitive, converted with the checksum, ID-2);
    ``invalid`` marks non-blank values that are not 15/18 alphanumeric characters.
    """
    text = as_text(values)
    present = text.notna()
    if not present.any():  # blank column (common: absent CRM ids): nothing to convert
        none = pd.Series(False, index=values.index)
        return pd.Series(pd.NA, index=values.index, dtype="str"), none, none.copy()
    is15 = text.str.fullmatch(r"[A-Za-z0-9]{15}").fillna(False).astype(bool)
    # The checksum suffix only uses A-Z and 0-5 (ID-2); anything else is not an id.
    is18 = text.str.fullmatch(r"[A-Za-z0-9]{15}[A-Za-z0-5]{3}").fillna(False).astype(bool)
    invalid = (present & ~is15 & ~is18).astype(bool)
    out = np.full(len(text), None, dtype=object)
    for mask, width, fix in ((is15, 15, _id18_from_bytes), (is18, 18, _restore_case)):
        if mask.any():
            raw = text[mask].to_numpy(dtype=f"S{width}")
            u8 = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, width)
            fixed = fix(u8)
            out[mask.to_numpy()] = np.ascontiguousarray(fixed).view("S18").ravel().astype("U18")
    ids = pd.Series(out, index=values.index, dtype="str")
    return ids, is15, invalid


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
    lowered = text.str.lower()
    status = lowered.map(CRM_SENTINELS).astype("str")
    is_sentinel = status.notna()
    ids, was15, invalid = sf_id18(text.mask(is_sentinel))
    status = status.mask(invalid, "invalid")
    return ids, status, was15, invalid


def parse_bool(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans in their many spellings (true/false, 1/0, yes/no, …) → pandas ``boolean``."""
    text = as_text(values).str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False)] = True
    out[text.isin(_FALSE).fillna(False)] = False
    bad = (text.notna() & out.isna()).astype(bool)
    return out, bad


def parse_datetime_utc(values: pd.Series, naive_tz: str = "UTC") -> tuple[pd.Series, pd.Series]:
    """Salesforce / Pardot datetimes (``2024-01-02T03:04:05.000+0000``, ``…Z``, ``YYYY-MM-DD
    HH:MM:SS`` in ``naive_tz``, ``… UTC``) → ``datetime64[us, UTC]``; also the unparseable mask."""
    text = as_text(values)
    cleaned = text.str.replace(r"[ \t]*UTC$", "+00:00", regex=True)  # no \\s: keeps pyarrow regex
    has_offset = cleaned.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).fillna(False)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    if has_offset.any():
        part = pd.to_datetime(cleaned[has_offset], utc=True, format="ISO8601", errors="coerce")
        out[has_offset] = part.astype("datetime64[us, UTC]")
    naive = cleaned.notna() & ~has_offset
    if naive.any():
        part = pd.to_datetime(cleaned[naive], format="ISO8601", errors="coerce")
        # DST edges: a time in the spring-forward gap moves forward, a repeated autumn hour is
        # read as standard time (at most an hour off; better than dropping the value).
        ambiguous = np.zeros(len(part), dtype=bool)
        part = part.dt.tz_localize(naive_tz, ambiguous=ambiguous, nonexistent="shift_forward")
        out[naive] = part.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    bad = (text.notna() & out.isna()).astype(bool)
    return out, bad


def parse_number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers written as text (Data Loader writes ``500000.0``) → float64, with the bad mask."""
    text = as_text(values).str.replace(",", "", regex=False)
    out = pd.to_numeric(text, errors="coerce").astype("Float64")
    bad = (text.notna() & out.isna()).astype(bool)
    return out, bad
