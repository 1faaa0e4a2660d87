"""outcomes/prospects.csv, salesforce.csv and fields.csv of a simulation (contract §3–5).

The writer of the simulator's frames, kept out of the simulator; the output layer calls it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import csvtext
from .sync.result import FIELD_COLUMNS, PROSPECT_COLUMNS, SALESFORCE_COLUMNS, SimulationResult


def write_outcomes(result: SimulationResult, out_dir, stop=None) -> dict[str, Path]:
    """Write outcomes/prospects.csv, salesforce.csv and fields.csv (contract §3–5 columns first).

    ``stop`` (a ``threading.Event``): once set, the files end unfinished (``csvtext.WriteStopped``).
    A file that fails sets it too: its sibling stops instead of finishing for nothing.
    """
    stop = threading.Event() if stop is None else stop
    folder = Path(out_dir) / "outcomes"
    folder.mkdir(parents=True, exist_ok=True)
    files = (
        ("prospects", result.prospects, PROSPECT_COLUMNS),
        ("salesforce", result.salesforce, SALESFORCE_COLUMNS),
        ("fields", result.fields, FIELD_COLUMNS),
    )

    def write(name, frame, cols) -> Path:
        ordered = frame[cols + [c for c in frame.columns if c not in cols]]
        try:
            return csvtext.write_csv(ordered, folder / f"{name}.csv", safe=True, stop=stop)
        except BaseException:
            stop.set()
            raise

    # Two files at a time: most of a file's cost is the kernel's, growing the page cache.
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {name: pool.submit(write, name, frame, cols) for name, frame, cols in files}
        return {name: job.result() for name, job in jobs.items()}
