"""Fingerprint of one full analysis, to prove a speed-up changed no result.

Run by hand: ``python benchmarks/fingerprint.py ORG_FOLDER OUT.json`` before and after a change,
then ``diff`` the two files. It hashes every loaded table, the load report (problems included),
every simulation frame and each check's status, counts, summary, numbers and findings (values,
column names and row order). It also prints the three stage times.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

from assessment.pipeline import analyse


def frame_hash(frame) -> list | str | None:
    """[columns, rows, sha1 of the values as text in row order] of a frame; text otherwise."""
    if frame is None:
        return None
    if not isinstance(frame, pd.DataFrame):
        return str(frame)[:100_000]
    ordered = frame.reindex(sorted(frame.columns), axis=1)
    text = ordered.astype("str").fillna("<NA>")
    digest = hashlib.sha1(pd.util.hash_pandas_object(text, index=True).values.tobytes())
    return [list(map(str, ordered.columns)), len(ordered), digest.hexdigest()]


def _plain(value):
    return json.loads(json.dumps(value, default=str))


def fingerprint(folder: Path) -> tuple[dict, dict]:
    """The fingerprint of load → simulate → checks on ``folder``, and the stage times."""
    timings: dict = {}
    snapshot, simulation, results = analyse(folder, timings=timings)
    fp: dict = {"tables": {}, "sim": {}, "checks": {}}
    for name, frame in sorted(snapshot.tables.items()):
        fp["tables"][name] = frame_hash(frame)
    for name, frame in sorted(snapshot.describe.items()):
        fp["tables"][f"describe_{name}"] = frame_hash(frame)
    for name, value in sorted(vars(snapshot.load_report).items()):
        fp["tables"][f"load_report_{name}"] = frame_hash(value)
    for name in ("prospects", "salesforce", "fields", "mappings", "users"):
        fp["sim"][name] = frame_hash(getattr(simulation, name))
    fp["sim"]["initial_sync"] = _plain(simulation.initial_sync)
    for r in results:
        fp["checks"][r.code] = {
            "status": r.status,
            "severity": r.severity,
            "affected": int(r.affected),
            "summary": r.summary,
            "numbers": _plain(r.numbers),
            "population": r.population,
            "findings": frame_hash(r.findings),
        }
    return fp, timings


def main() -> None:
    """Write the fingerprint of ORG_FOLDER to OUT.json and print the stage times."""
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    fp, times = fingerprint(folder)
    out.write_text(json.dumps(fp, indent=1, sort_keys=True), encoding="utf-8")
    print(", ".join(f"{k} {v:.2f} s" for k, v in times.items()), "->", out)


if __name__ == "__main__":
    main()
