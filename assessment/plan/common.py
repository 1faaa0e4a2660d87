"""Small shared helpers of the plan rules: column presence, counts over the dry run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..sync.kernels import arrow, codes_of

# Outcomes that are a problem at unpause: a guess, an error, a record lost or ignored.
PROBLEM_PROSPECT_OUTCOMES = ("match_email_tie", "will_error", "stale_crm_id", "out_of_scope")


def absent_columns(snapshot, table: str) -> set[str]:
    """Canonical columns the table's file did not have (all-NA: unknown, not blank)."""
    out: set[str] = set()
    for f in getattr(snapshot.load_report, "files", []) or []:
        if f.table == table:
            out.update(f.absent)
    return out


def has_column(snapshot, table: str, column: str) -> bool:
    """True when the table was exported and its file had the column."""
    frame = snapshot.tables.get(table)
    return (
        frame is not None
        and column in frame.columns
        and column not in absent_columns(snapshot, table)
    )


def problems(counts: dict[str, int]) -> int:
    """Prospects whose predicted outcome is a problem (ties, errors, stale ids, out of scope)."""
    return int(sum(counts.get(o, 0) for o in PROBLEM_PROSPECT_OUTCOMES))


def duplicate_groups(keys: pd.Series) -> tuple[int, int]:
    """(groups, records) of non-blank keys that occur more than once (counted on integer codes)."""
    (codes,) = codes_of([arrow(keys)])
    counts = np.bincount(codes[codes >= 0])
    many = counts[counts > 1]
    return int(len(many)), int(many.sum())


def live_prospects(snapshot, columns: list[str] | None = None) -> pd.DataFrame:
    """Prospects not in the AE recycle bin (the ones a sync reads); only ``columns`` if given."""
    P = snapshot.tables.get("pardot_prospects")
    if P is None:
        return pd.DataFrame(columns=["email_key"])
    deleted = P["is_deleted"].fillna(False).to_numpy(dtype=bool) if "is_deleted" in P else None
    live = None if deleted is None else ~deleted
    if columns is not None:
        P = P[[c for c in columns if c in P.columns]]
    return P if live is None else P.loc[live]


def flag(frame: pd.DataFrame | None, column: str) -> np.ndarray:
    """A boolean column as a numpy mask (NA and absent → False)."""
    if frame is None or column not in frame.columns:
        return np.zeros(0 if frame is None else len(frame), dtype=bool)
    return frame[column].astype("boolean").fillna(False).to_numpy(dtype=bool)
