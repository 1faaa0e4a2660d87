"""Benchmark of the synthetic org generator: seconds and peak RSS for a large org.

Usage: python benchmarks/bench_synth.py [OUT_DIR] [--prospects N --leads N --contacts N]
Default size: 1,000,000 prospects, 1,000,000 leads, 500,000 contacts (the brief's target).
"""

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from assessment.synth import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path)
    parser.add_argument("--prospects", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    tmp = None
    out = args.out_dir
    if out is None:
        tmp = tempfile.mkdtemp(prefix="bench_synth_")
        out = Path(tmp) / "org"
    try:
        start = time.perf_counter()
        manifest = generate(
            out, prospects=args.prospects, leads=args.leads, contacts=args.contacts, seed=args.seed
        )
        seconds = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
        print(f"counts: {manifest['counts']}")
        print(f"seconds: {seconds:.1f}")
        print(f"cpu_seconds: {cpu:.1f} (includes imports)")
        print(f"peak_rss_mb: {peak_mb:.0f}")
        print(f"folder_mb: {size_mb:.0f}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
