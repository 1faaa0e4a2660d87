"""Write-error rules: which values Salesforce refuses when the connector writes them (§3.7, §7.2).

One home for the rules the simulator applies to created leads and to AE→Salesforce writes on
linked pairs: email syntax (M-14, X9), restricted picklists (exact value; multi-select per
part, K2), text lengths (F-14) and required fields (F-15).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..normalize import email_is_valid
from ..settings import ConnectorSettings

# Salesforce field types whose values have a maximum length (describe ``length``).
TEXT_TYPES = frozenset(
    {
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "multipicklist",
        "combobox",
        "encryptedstring",
    }
)
PICKLIST_TYPES = frozenset({"picklist", "multipicklist"})
# The order Salesforce reports failures in: a record gets the first code that applies.
ERROR_ORDER = (
    "CANNOT_UPDATE_CONVERTED_LEAD",
    "INACTIVE_OWNER_OR_USER",
    "INVALID_EMAIL_ADDRESS",
    "REQUIRED_FIELD_MISSING",
    "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "STRING_TOO_LONG",
)


def max_length(meta) -> int | None:
    """The maximum length Salesforce enforces on a field, or None (not a text type, no length)."""
    if meta is None or str(meta.get("type") or "") not in TEXT_TYPES:
        return None
    length = meta.get("length")
    if length is None or pd.isna(length) or int(length) <= 0:
        return None
    return int(length)


def picklist_misses(values: pd.Series, allowed, multi: bool) -> np.ndarray:
    """Values that are not exactly one of ``allowed``, case and spaces included (§3.7: "values
    match exactly (case and leading/trailing spaces)", K2, H22 KB 000384095). A multi-select
    value misses when any ``;`` part does (H18); parts are not trimmed: " AMER" is not "AMER".
    Blank values (NA) never miss."""
    allowed = list(allowed or ())
    if multi:
        exploded = values.str.split(";").explode()
        miss = (~exploded.isin(allowed) & exploded.notna()).groupby(level=0).any()
        return miss.reindex(values.index, fill_value=False).to_numpy(dtype=bool)
    return (~values.isin(allowed) & values.notna()).to_numpy(dtype=bool)


def not_in_picklist(values: pd.Series, meta) -> np.ndarray:
    """Values a restricted picklist refuses (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST)."""
    ftype = str((meta if meta is not None else {}).get("type") or "")
    if meta is None or not meta.get("restricted_picklist") or ftype not in PICKLIST_TYPES:
        return np.zeros(len(values), dtype=bool)
    return picklist_misses(values, meta.get("picklist_values"), ftype == "multipicklist")


def too_long(values: pd.Series, meta) -> np.ndarray:
    """Values longer than the field's Salesforce length (STRING_TOO_LONG, F-14, X9)."""
    length = max_length(meta)
    if length is None:
        return np.zeros(len(values), dtype=bool)
    return (values.str.len() > length).fillna(False).to_numpy(dtype=bool)


def write_errors(
    values: pd.Series, meta: dict | None, settings: ConnectorSettings
) -> list[tuple[np.ndarray, str | None, str]]:
    """Which AE→Salesforce writes of ``values`` fail against the describe entry (§3.7, §7.2).

    One ``(mask, error code or None, policy)`` per kind of failure found; a record is in at most
    one mask (the first failure Salesforce would report). Code None: no error, but the write
    rests on the policy (a long value truncated).
    """
    found: list[tuple[np.ndarray, str | None, str]] = []
    if meta is None:
        return found
    ftype = str(meta.get("type") or "")
    open_ = values.notna().to_numpy(dtype=bool)  # present and not yet failed

    def add(mask: np.ndarray, code: str | None, policy: str) -> None:
        nonlocal open_
        mask = mask & open_
        if mask.any():
            found.append((mask, code, policy))
            open_ = open_ & ~mask

    if ftype == "email" and settings.invalid_email == "error":
        # INVALID_EMAIL_ADDRESS (M-14, X9); policy invalid_email.
        add(~email_is_valid(values).to_numpy(dtype=bool), "INVALID_EMAIL_ADDRESS", "invalid_email")
    # INVALID_TYPE_ON_FIELD_IN_RECORD (§3.7, K2); policy type_errors.
    add(
        not_of_type(values, meta),
        TYPE_ERROR if settings.type_errors == "error" else None,
        "type_errors",
    )
    add(not_in_picklist(values, meta), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "")
    # STRING_TOO_LONG (F-14, X9); whether the connector truncates is policy long_values.
    code = "STRING_TOO_LONG" if settings.long_values == "error" else None
    add(too_long(values, meta), code, "long_values")
    return found


# AE → Salesforce type errors (§3.7). Old Pardot KB "Why won't my field sync?" (K2): "if you are
# trying to push values from Pardot to your CRM, the field types must match"; dates in
# YYYY-MM-DD (help "Considerations for Prospect Imports"); a checkbox takes exactly true/false
# (K6). The platform's error text is seen only in public code (COMM): policy type_errors.
TYPE_ERROR = "INVALID_TYPE_ON_FIELD_IN_RECORD"
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int", "long"})
_TYPE_PATTERNS = {
    "number": r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)",
    "date": r"\d{4}-\d{2}-\d{2}",
    "datetime": r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
    "boolean": r"true|false",
}


def type_kind(meta) -> str | None:
    """Which AE→Salesforce type rule a describe entry takes: number, date, datetime, boolean."""
    ftype = str((meta if meta is not None else {}).get("type") or "")
    if ftype in NUMBER_TYPES:
        return "number"
    return ftype if ftype in ("date", "datetime", "boolean") else None


def not_of_type(values: pd.Series, meta) -> np.ndarray:
    """Values a number, date, date/time or checkbox field refuses (§3.7): not a plain number,
    not a YYYY-MM-DD calendar date (ISO 8601 for date/time), not exactly true/false."""
    kind = type_kind(meta)
    present = values.notna().to_numpy(dtype=bool)
    if kind is None or not present.any():
        return np.zeros(len(values), dtype=bool)
    text = values.astype("str")
    ok = text.str.fullmatch(_TYPE_PATTERNS[kind]).fillna(False).to_numpy(dtype=bool)
    if kind in ("date", "datetime") and ok.any():
        # A valid shape must also be a real calendar date (2024-02-30 fails).
        day = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        ok = ok & day.notna().to_numpy(dtype=bool)
    return present & ~ok


def write_errors_at(
    values: pd.Series, at: np.ndarray, n: int, meta: dict | None, settings: ConnectorSettings
) -> list[tuple[np.ndarray, str | None, str]]:
    """:func:`write_errors` of the values written at positions ``at`` (of ``n`` records), with
    masks over all ``n``: every test is per value, so only the written values are looked at."""
    found: list[tuple[np.ndarray, str | None, str]] = []
    if meta is None or len(at) == 0:
        return found
    for bad, code, policy in write_errors(values.reset_index(drop=True), meta, settings):
        mask = np.zeros(n, dtype=bool)
        mask[at[bad]] = True
        found.append((mask, code, policy))
    return found
