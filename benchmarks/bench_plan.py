"""Cost of the planning stage (issues #18, #19): CPU and wall seconds of ``make_plan`` + plan.csv.

Run by hand; it prints figures and asserts nothing::

    python benchmarks/bench_plan.py /work/bench/1m              # quick what-ifs, best of 3
    python benchmarks/bench_plan.py /work/bench/1m --reference  # also every what-if in full

The org is loaded, simulated and checked once; planning then runs ``--repeat`` times in the same
process (fresh plan context each time) and the best CPU time is printed, beside the load average:
CPU time is what other work on a shared machine changes least. ``--reference`` also plans with
every what-if as a full re-simulation (``make_plan(..., quick=False)``) and says whether both
plans are equal.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assessment.pipeline import analyse  # noqa: E402
from assessment.plan import make_plan, write_plan_csv  # noqa: E402


def _plan_once(snapshot, simulation, results, quick: bool, out: Path):
    cpu, wall = time.process_time(), time.perf_counter()
    plan = make_plan(snapshot, simulation, results, quick=quick)
    write_plan_csv(plan, out)
    return plan, time.process_time() - cpu, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> int:
    """Print the planning stage's CPU and wall seconds for one org folder."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("org", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reference", action="store_true", help="also plan with full what-ifs")
    args = ap.parse_args(argv)
    stages: dict[str, float] = {}
    snapshot, simulation, results = analyse(args.org, timings=stages)
    print("analyse (wall): " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            _plan_once(snapshot, simulation, results, True, Path(tmp)) for _ in range(args.repeat)
        ]
        plan, cpu, wall = min(runs, key=lambda r: r[1])
        print(
            f"plan (quick what-ifs): {cpu:.2f} s CPU, {wall:.2f} s wall, best of {args.repeat}; "
            f"{plan.what_ifs} what-ifs ({plan.what_if_seconds:.2f} s of the wall time); "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        if args.reference:
            ref, r_cpu, r_wall = _plan_once(snapshot, simulation, results, False, Path(tmp))
            print(
                f"plan (full re-simulations, reference): {r_cpu:.2f} s CPU, {r_wall:.2f} s wall "
                f"({r_cpu / max(cpu, 1e-9):.1f}x the quick plan's CPU); "
                f"plans equal: {ref.to_json() == plan.to_json()}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
