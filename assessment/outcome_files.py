"""outcomes/prospects.csv, salesforce.csv and fields.csv of a simulation (contract §3–5).

The writer of the simulator's frames, kept out of the simulator; the output layer calls it.
"""

from __future__ import annotations

from pathlib import Path

from . import csvtext
from .sync.result import FIELD_COLUMNS, PROSPECT_COLUMNS, SALESFORCE_COLUMNS, SimulationResult


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
        csvtext.write_csv(ordered, path, safe=True)  # vectorised quoting and formula guard
        paths[name] = path
    return paths
