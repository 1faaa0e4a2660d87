"""Fingerprint of one full run, to prove a change altered nothing a user receives.

Run by hand before and after a change, then ``diff`` the two files::

    python benchmarks/fingerprint.py ORG_FOLDER OUT.json            # assess ORG, fingerprint all
    python benchmarks/fingerprint.py --mask-pii ORG_FOLDER OUT.json  # the same for a masked run
    python benchmarks/fingerprint.py --folder RUN_OUT OUT.json       # an existing output folder

The default runs ``assess`` (no report) into a temporary folder and records two parts:

* ``outputs``: every file the run wrote (every CSV under ``outcomes/`` and ``actions/``, and
  ``readiness.json``), byte for byte after normalising what legitimately changes between runs:
  ``generated_at``, and the absolute paths of the export and output folders. CSVs also record
  their header and row count, ``readiness.json`` one hash per top-level key and per check, so a
  ``diff`` points at what moved. The report files (``report.html``, ``report.ipynb``) are listed
  but not hashed (their rendering time and kernel details vary by design); toolkit bookkeeping
  files (names starting with a dot) are skipped.
* ``tables``, ``sim``, ``checks``: every loaded table, the load report (problems included), every
  simulation frame and each check's status, counts, summary, numbers and findings.

It also prints the three stage times.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import tempfile
from pathlib import Path

import pandas as pd

from assessment.pipeline import assess

REPORT_FILES = ("report.html", "report.ipynb")


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


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _normaliser(folders: dict[str, Path]):
    """A function replacing each folder's absolute path (as given and resolved) by ``<NAME>``."""
    pairs = []
    for name, folder in folders.items():
        for form in {str(folder), str(folder.resolve()), folder.resolve().as_posix()}:
            pairs.append((form, f"<{name}>"))
    pairs.sort(key=lambda p: -len(p[0]))  # longest first: a nested folder before its parent
    pattern = re.compile("|".join(re.escape(p) for p, _ in pairs)) if pairs else None
    table = dict(pairs)

    def normalise(text: str) -> str:
        return pattern.sub(lambda m: table[m.group(0)], text) if pattern else text

    return normalise


def _readiness_parts(text: str) -> dict:
    data = json.loads(text)
    data["generated_at"] = "<generated_at>"
    parts = {
        key: _sha(json.dumps(value, sort_keys=True).encode())
        for key, value in sorted(data.items())
        if key != "checks"
    }
    parts["checks"] = {
        str(check.get("code")): _sha(json.dumps(check, sort_keys=True).encode())
        for check in data.get("checks") or []
    }
    parts["all"] = _sha(json.dumps(data, sort_keys=True).encode())
    return parts


def _csv_part(text: str) -> dict:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return {
        "header": rows[0] if rows else [],
        "rows": max(len(rows) - 1, 0),
        "sha256": _sha(text.encode()),
    }


def fingerprint_outputs(out_dir: Path, org_dir: Path | None = None) -> dict:
    """The fingerprint of every file in an output folder, paths and ``generated_at`` normalised."""
    out_dir = Path(out_dir)
    folders = {"OUT": out_dir}
    if org_dir is not None:
        folders["ORG"] = Path(org_dir)
    normalise = _normaliser(folders)
    fp: dict = {}
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        key = rel.as_posix()
        if key in REPORT_FILES:
            fp[key] = "present"
            continue
        text = normalise(path.read_bytes().decode("utf-8", errors="surrogateescape"))
        if key == "readiness.json":
            fp[key] = _readiness_parts(text)
        elif path.suffix.lower() == ".csv":
            fp[key] = _csv_part(text)
        else:
            fp[key] = {"sha256": _sha(text.encode("utf-8", errors="surrogateescape"))}
    return fp


def fingerprint(folder: Path, mask_pii: bool = False) -> tuple[dict, dict]:
    """The fingerprint of one run on ``folder`` (analysis and output files), and the stage times."""
    timings: dict = {}
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as tmp:
        out_dir = Path(tmp) / "out"
        result = assess(folder, out_dir, report=False, mask_pii=mask_pii, timings=timings)
        fp: dict = {"outputs": fingerprint_outputs(out_dir, folder)}
    snapshot, simulation, results = result.snapshot, result.simulation, result.checks
    fp.update({"tables": {}, "sim": {}, "checks": {}})
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


def main(argv: list[str] | None = None) -> None:
    """Write the fingerprint of a run (or of an output folder) to OUT.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source", type=Path, help="org export folder (or, with --folder, an output)"
    )
    parser.add_argument("out", type=Path, help="where to write the fingerprint JSON")
    parser.add_argument("--folder", action="store_true", help="SOURCE is an existing output folder")
    parser.add_argument("--org", type=Path, help="with --folder: the export folder it came from")
    parser.add_argument("--mask-pii", action="store_true", help="fingerprint a masked run")
    args = parser.parse_args(argv)
    if args.folder:
        fp, times = {"outputs": fingerprint_outputs(args.source, args.org)}, {}
    else:
        fp, times = fingerprint(args.source, mask_pii=args.mask_pii)
    args.out.write_text(json.dumps(fp, indent=1, sort_keys=True), encoding="utf-8")
    print(", ".join(f"{k} {v:.2f} s" for k, v in times.items()) or "outputs", "->", args.out)


if __name__ == "__main__":
    main()
