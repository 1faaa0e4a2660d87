"""Batch on one core vs several: four copies of the sample org, --workers 1 then --workers 2.

Prints the wall time of each and the speed-up, and asserts that both runs give the same verdicts
and scores (issue #17.4). Run by hand: ``.venv/bin/python benchmarks/bench_batch.py``
(``--no-report`` to leave out the notebook/HTML rendering, ``--copies N``, ``--workers N``).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assessment.batch import run_batch  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its finished children (workers, report kernels)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--org", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="the parallel run's workers")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--units", action="store_true", help="keep the copies as units of one Salesforce org"
    )
    args = parser.parse_args()
    report = not args.no_report
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        orgs = Path(tmp) / "orgs"
        for i in range(1, args.copies + 1):
            shutil.copytree(args.org, orgs / f"org{i}")
            if not args.units:  # separate orgs; else units of one org (cross-unit path)
                with (orgs / f"org{i}" / "connector.yml").open("a", encoding="utf-8") as fh:
                    fh.write(f"\nsalesforce_org_id: bench-org-{i}\n")
        times, cpu, results = {}, {}, {}
        for workers in (1, args.workers):
            started, cpu0 = time.perf_counter(), _cpu()
            summary = run_batch(orgs, Path(tmp) / f"out-{workers}", report=report, workers=workers)
            times[workers], cpu[workers] = time.perf_counter() - started, _cpu() - cpu0
            results[workers] = [(r.folder, r.status, r.verdict, r.score) for r in summary.runs]
        kind = "units of one org" if args.units else "separate orgs"
        print(
            f"{args.copies} copies of {args.org.name} ({kind}), report={'on' if report else 'off'}"
        )
        for workers, seconds in times.items():
            print(f"  --workers {workers}: {seconds:7.1f} s wall, {cpu[workers]:7.1f} s CPU")
        print(
            f"  speed-up: {times[1] / times[args.workers]:.2f}x (load average {os.getloadavg()[0]:.1f})"
        )
        assert results[1] == results[args.workers], (results[1], results[args.workers])
        assert all(status == "ok" for _, status, _, _ in results[1]), results[1]
        print(f"  verdicts equal: {sorted({v for _, _, v, _ in results[1]})}")


if __name__ == "__main__":
    main()
