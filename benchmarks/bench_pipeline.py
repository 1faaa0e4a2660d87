"""Benchmark: bare pyarrow CSV read vs load + simulation + checks, with peak memory.

Run by hand (``make bench`` or ``python benchmarks/bench_pipeline.py --scale 1m``); it prints
figures, it asserts nothing. Each measurement runs in a fresh subprocess so peak RSS is its own.
Targets (issue "Dry-run of unpause"): 1M prospects / 1M leads / 0.5M contacts within 1.5x the bare
pyarrow read, peak memory under 4 GB; 10M records in total must complete on 2 cores / 24 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCALES = {
    "100k": (40_000, 40_000, 20_000),
    "1m": (400_000, 400_000, 200_000),
    "2.5m": (1_000_000, 1_000_000, 500_000),
    "10m": (4_000_000, 4_000_000, 2_000_000),
}

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, folder = sys.argv[1], Path(sys.argv[2])
t0 = time.perf_counter()
if mode == "pyarrow":
    import pyarrow.csv as pv
    rows = 0
    for f in sorted(folder.glob("*.csv")):
        rows += pv.read_csv(f).num_rows
    extra = {"rows": rows}
else:
    import assessment.checks, assessment.load, assessment.sync  # noqa: E401, F401  (timed apart)
    from assessment.pipeline import analyse
    t_import = time.perf_counter()
    stages = {"import": t_import - t0}
    snapshot, simulation, results = analyse(folder, timings=stages)
    from assessment.plan import make_plan  # planning timed on its own (issue #18)
    t_plan = time.perf_counter()
    plan = make_plan(snapshot, simulation, results)
    extra = {
        "plan": {"seconds": time.perf_counter() - t_plan, "what_ifs": plan.what_ifs,
                 "what_if_seconds": plan.what_if_seconds},
        "stages": stages,
        "prospect_outcomes": simulation.prospect_counts(),
        "failed_checks": sorted(r.code for r in results if r.status == "fail"),
    }
seconds = time.perf_counter() - t0 - extra.get("plan", {}).get("seconds", 0)  # pipeline alone
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, **extra}))
"""


def _measure(mode: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(folder)], capture_output=True, text=True
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate orgs at each scale and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", action="append", choices=sorted(SCALES), help="repeatable")
    parser.add_argument("--keep", type=Path, help="keep generated orgs under this folder")
    args = parser.parse_args()
    scales = args.scale or ["100k", "1m"]
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-"))
    print(
        f"{'scale':>6} {'records':>10} {'synth s':>8} {'pyarrow s':>10} {'pipeline s':>11} "
        f"{'ratio':>6} {'pyarrow MB':>11} {'pipeline MB':>12}"
    )
    for scale in scales:
        prospects, leads, contacts = SCALES[scale]
        folder = root / scale
        t0 = time.perf_counter()
        if not (folder / "manifest.json").exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "assessment",
                    "synth",
                    str(folder),
                    "--prospects",
                    str(prospects),
                    "--leads",
                    str(leads),
                    "--contacts",
                    str(contacts),
                    "--seed",
                    "1",
                ],
                check=True,
                capture_output=True,
            )
        synth_s = time.perf_counter() - t0
        bare = _measure("pyarrow", folder)
        full = _measure("pipeline", folder)
        if "error" in full or "error" in bare:
            print(f"{scale:>6} failed: {bare.get('error') or full.get('error')}")
            continue
        ratio = full["seconds"] / bare["seconds"]
        print(
            f"{scale:>6} {prospects + leads + contacts:>10,} {synth_s:>8.1f} "
            f"{bare['seconds']:>10.2f} {full['seconds']:>11.2f} {ratio:>6.2f} "
            f"{bare['peak_mb']:>11.0f} {full['peak_mb']:>12.0f}"
        )
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in full["stages"].items())
        print(f"       stages: {stages}")
        plan = full.get("plan") or {}
        print(
            f"       planning: {plan.get('seconds', 0):.2f} s ({plan.get('what_ifs', 0)} what-ifs, "
            f"{plan.get('what_if_seconds', 0):.2f} s of them)"
        )
        print(f"       outcomes: {full['prospect_outcomes']}")


if __name__ == "__main__":
    main()
