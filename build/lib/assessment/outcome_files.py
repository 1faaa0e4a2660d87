"""outcomes/prospects.csv, salesforce.csv and fields.csv of a simulation (contract §3–5).

The writer of the simulator's frames, kept out of the simulator; the output layer calls it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .sync.result import FIELD_COLUMNS, PROSPECT_COLUMNS, SALESFORCE_COLUMNS, SimulationResult

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralise spreadsheet formulas in text cells (PITFALLS: CSV injection)."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col].dtype) and not pd.api.types.is_numeric_dtype(
            out[col].dtype
        ):
            text = out[col].astype("str")
            risky = text.str.startswith(_FORMULA_START).fillna(False)
            if risky.any():
                out[col] = text.mask(risky, "'" + text)
    return out


def write_outcomes(result: SimulationResult, out_dir) -> dict[str, Path]:
    """Write outcomes/prospects.csv, salesforce.csv and fields.csv (contract §3–5 columns first)."""
    folder = Path(out_dir) / "outcomes"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame, cols in (
        ("prospects", result.prospects, PROSPECT_COLUMNS),
        ("salesforce", result.salesforce, SALESFORCE_COLUMNS),
        ("fields", result.fields, FIELD_COLUMNS),
    ):
        ordered = frame[cols + [c for c in frame.columns if c not in cols]]
        path = folder / f"{name}.csv"
        _safe(ordered).to_csv(path, index=False, encoding="utf-8")
        paths[name] = path
    return paths
