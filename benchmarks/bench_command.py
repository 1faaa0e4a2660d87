"""Benchmark of the whole command against the physical floor (issue #19), side by side in one run.

Run by hand (``make bench`` runs the 2.5M size; ``python benchmarks/bench_command.py --scale 10m``
the large one, which needs about 10 GB); it prints figures and asserts nothing. Every measurement
runs in a fresh process; its wall time is measured from outside (interpreter start and imports
included) and its peak RSS is read from ``os.wait4`` (the process and the processes it waited
for, so the report's kernel counts too).

* ``floor``: pyarrow's correct read of the org's CSVs (every column ``string``,
  ``newlines_in_values=True``): the least any tool must do.
* ``duckdb``: the peer a data-savvy consultant would write: read the same CSVs as text, count
  duplicate email keys per table, match prospects to leads and contacts by email. Optional:
  ``pip install duckdb`` (a benchmark-only dependency); skipped with a message when absent.
* ``run --no-report --no-plan``, ``run --no-report`` and ``run`` (with the report): the command,
  with the seconds of each stage from ``pipeline.assess(timings=...)``.
* ``write floor``: writing as many bytes as the bare run's output folder holds into new files, twice:
  the least the outputs stage can cost here (on a VM, growing the page cache is kernel time that
  can dwarf the formatting; the second pass reuses the pages the first one's deleted files freed).
* ``read + write floor``: the read floor plus the first write floor: the least a command that
  reads these files and writes these outputs can take here, set against the goal of 3x the read.
* ``huge pages``: the command turns transparent huge pages off for itself (``assessment.memory``);
  the benchmark does the same for the floor and the peer, and says so (``ASSESSMENT_HUGE_PAGES=1``
  measures everything with them).
* ``fresh memory``: what this machine charges for touching memory the process has not used
  before (kernel seconds per GB, 4 KiB pages and transparent huge pages). Every measurement also
  prints its user and kernel (sys) CPU seconds and minor page faults: on a virtual machine with
  nested paging or free-page reporting, kernel time follows the bytes freshly touched and can
  exceed the user time, so user CPU is the figure that carries over to a laptop.

``--repeat N`` runs each measurement N times in turn and prints the median (and the range).

Goal (issue #19): at 2.5M records ``run --no-report --no-plan`` within 3x the floor, no slower
than DuckDB, peak under 2.5 GB; at 10M under 6 GB and no more than 4.4x the 2.5M time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assessment import memory  # noqa: E402 (the checkout's package, as the runs use it)

VARIABLE = memory.HUGE_PAGES_VARIABLE
SCALES = {
    "100k": (40_000, 40_000, 20_000),
    "1m": (400_000, 400_000, 200_000),
    "2.5m": (1_000_000, 1_000_000, 500_000),
    "10m": (4_000_000, 4_000_000, 2_000_000),
}
TABLES = ("prospects.csv", "Lead.csv", "Contact.csv")  # the record tables the peer reads

_FLOOR = r"""
import csv, sys
from pathlib import Path
import pyarrow as pa, pyarrow.csv as pv
rows = 0
for f in sorted(Path(sys.argv[1]).glob("*.csv")):
    with open(f, encoding="utf-8-sig", newline="") as handle:
        names = next(csv.reader(handle))
    table = pv.read_csv(
        f,
        parse_options=pv.ParseOptions(newlines_in_values=True),
        convert_options=pv.ConvertOptions(column_types={n: pa.string() for n in names}),
    )
    rows += table.num_rows
print(rows)
"""

_DUCKDB = r"""
import sys
from pathlib import Path
import duckdb
folder = Path(sys.argv[1])
con = duckdb.connect()
for name in sys.argv[2:]:
    path = (folder / name).as_posix()
    con.execute(
        f"CREATE TABLE t_{Path(name).stem.lower()} AS SELECT * FROM read_csv('{path}', "
        "all_varchar=true, header=true, quote='\"', escape='\"', max_line_size=10000000)"
    )
def email(table):
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    return next(c for c in cols if c.lstrip('\ufeff').lower() == "email")
dups = {}
for t in ("t_prospects", "t_lead", "t_contact"):
    e = email(t)
    dups[t] = con.execute(
        f'SELECT count(*) FROM (SELECT lower(trim("{e}")) k FROM {t} WHERE "{e}" IS NOT NULL '
        'GROUP BY k HAVING count(*) > 1)'
    ).fetchone()[0]
p, l, c = email("t_prospects"), email("t_lead"), email("t_contact")
matched = con.execute(
    f'WITH p AS (SELECT lower(trim("{p}")) k FROM t_prospects), '
    f'l AS (SELECT DISTINCT lower(trim("{l}")) k FROM t_lead), '
    f'c AS (SELECT DISTINCT lower(trim("{c}")) k FROM t_contact) '
    "SELECT count(*) FILTER (WHERE l.k IS NOT NULL), count(*) FILTER (WHERE c.k IS NOT NULL) "
    "FROM p LEFT JOIN l USING (k) LEFT JOIN c USING (k)"
).fetchone()
print(dups, matched)
"""

# The command as the CLI runs it, with the stage seconds of pipeline.assess written to a file.
_RUN = r"""
import json, sys
import assessment.pipeline as pipeline
stages = {}
_assess = pipeline.assess
def timed(*args, **kwargs):
    kwargs["timings"] = stages
    return _assess(*args, **kwargs)
pipeline.assess = timed
from assessment.cli import main
code = main(sys.argv[2:])
Path = __import__("pathlib").Path
Path(sys.argv[1]).write_text(json.dumps(stages))
raise SystemExit(code)
"""


_FRESH = r"""
import ctypes, os, sys
import numpy as np
from numpy._core.multiarray import _set_madvise_hugepage
huge = sys.argv[1] == "huge"
ctypes.CDLL(None).prctl(41, 0 if huge else 1, 0, 0, 0)  # PR_SET_THP_DISABLE, whatever was inherited
_set_madvise_hugepage(huge)
t = os.times()
a = np.empty(1_000_000_000, dtype=np.uint8)  # 1 GB the process has not touched, once per page
a[::4096] = 1
print(os.times().system - t.system)
"""


# Writing as many bytes as a run's output folder holds, into new files: the floor of the outputs
# stage (on a VM each new page of the page cache can cost as much as the work that fills it).
_WRITE = r"""
import os, sys
folder, total = sys.argv[1], int(sys.argv[2])
block = memoryview(os.urandom(1 << 24))
written = part = 0
while written < total:
    with open(os.path.join(folder, f"part{part}.bin"), "wb") as handle:
        for _ in range(16):  # 256 MB per file
            n = min(len(block), total - written)
            if n <= 0:
                break
            handle.write(block[:n])
            written += n
    part += 1
"""


def write_floor(out_dir: Path, root: Path) -> tuple[str, float | None]:
    """Time writing as many bytes as ``out_dir`` holds into new files, twice (the outputs'
    floor: the second pass reuses the page cache the first one's deleted files freed).

    Returns the line to print and the first pass's seconds (None when nothing was measured).
    """
    total = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file())
    if not total:
        return "  write floor: no output folder to size", None
    passes = []
    for _ in range(2):
        scratch = Path(tempfile.mkdtemp(prefix="write-floor-", dir=root))
        try:
            passes.append(_child(_WRITE, str(scratch), str(total)))
        finally:
            for f in scratch.iterdir():
                f.unlink()
            scratch.rmdir()
    first, again = passes
    line = (
        f"  write floor: {total / 1e6:,.0f} MB of new files (what run --no-report --no-plan wrote)"
        f" take {first['seconds']:.2f} s here ({first['sys']:.2f} s kernel), and"
        f" {again['seconds']:.2f} s ({again['sys']:.2f} s) once more into the page cache just freed"
    )
    return line, (first["seconds"] if first["ok"] else None)


def command_floor(read: dict, write_s: float | None, bare: dict) -> str:
    """The least a command reading these files and writing these outputs takes here (the read
    floor plus the first write floor), against the goal of 3x the read and against the run."""
    if not read["ok"] or write_s is None or not bare["ok"]:
        return "  read + write floor: not measured"
    both = read["seconds"] + write_s
    budget = 3 * read["seconds"] - both
    return (
        f"  read + write floor: {read['seconds']:.2f} + {write_s:.2f} = {both:.2f} s"
        f" ({both / read['seconds']:.1f}x the read); the goal of 3x the read"
        f" ({3 * read['seconds']:.2f} s) leaves {budget:.2f} s beside reading and writing;"
        f" run --no-report --no-plan is {bare['seconds'] / both:.1f}x the read + write floor"
    )


def _child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter: wall seconds, peak RSS (MB), CPU, exit status."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this process's own peak RSS (and its kernel's)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
        out.seek(0)
        out_text = out.read().decode(errors="replace").strip()
    ok = proc.returncode == 0
    return {
        "seconds": seconds,
        "peak_mb": usage.ru_maxrss / 1024,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "faults": usage.ru_minflt,
        "stdout": out_text,
        "ok": ok,
        "error": "" if ok else (lines or [f"exit {proc.returncode}"])[-1],
    }


def _run(folder: Path, root: Path, label: str, *flags: str) -> dict:
    out_dir = root / f"out-{label}"
    stages_file = root / f"stages-{label}.json"
    result = _child(_RUN, str(stages_file), "run", str(folder), "--out", str(out_dir), *flags)
    result["stages"] = json.loads(stages_file.read_text()) if stages_file.exists() else {}
    return result


def _synth(folder: Path, prospects: int, leads: int, contacts: int) -> float:
    t0 = time.perf_counter()
    if not (folder / "manifest.json").exists():
        subprocess.run(
            [sys.executable, "-m", "assessment", "synth", str(folder), "--prospects",
             str(prospects), "--leads", str(leads), "--contacts", str(contacts), "--seed", "1"],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return time.perf_counter() - t0


def _has_duckdb() -> bool:
    import importlib.util

    return importlib.util.find_spec("duckdb") is not None


def _repeated(measure, times: int) -> dict:
    """``measure()`` run ``times`` times: the median of each figure, with the range of seconds."""
    runs = [measure() for _ in range(times)]
    failed = [m for m in runs if not m["ok"]]
    if failed:
        return failed[0]
    middle = dict(sorted(runs, key=lambda m: m["seconds"])[(len(runs) - 1) // 2])
    for key in ("peak_mb", "user", "sys", "faults"):
        middle[key] = statistics.median(m[key] for m in runs)
    middle["range"] = (min(m["seconds"] for m in runs), max(m["seconds"] for m in runs))
    return middle


def _line(name: str, m: dict, floor: dict | None) -> str:
    if not m["ok"]:
        return f"  {name:<28} failed: {m['error']}"
    ratio = f"{m['seconds'] / floor['seconds']:7.1f}x" if floor else "      -"
    cpu = m["user"] + m["sys"]
    cpu_ratio = f"{m['user'] / floor['user']:6.1f}x" if floor and floor["user"] else "     -"
    spread = m.get("range")
    spread = f"  ({spread[0]:.1f}-{spread[1]:.1f})" if spread and spread[0] != spread[1] else ""
    return (
        f"  {name:<28} {m['seconds']:9.2f} {ratio} {m['peak_mb']:9.0f} {m['user']:7.2f}"
        f" {cpu_ratio} {m['sys']:7.2f} {cpu:7.2f} {m['faults'] / 1000:8.0f}k{spread}"
    )


def _huge_pages() -> str:
    off = memory.huge_pages_disabled()
    if off is None:
        return "transparent huge pages: not reported by this system"
    if off:
        return f"huge pages off in every measurement, as the command sets them ({VARIABLE}=1 keeps them)"
    return f"huge pages on in every measurement ({VARIABLE}=1)"


def fresh_memory_cost() -> str:
    """Kernel seconds per GB of freshly touched memory on this machine (4 KiB and huge pages)."""
    costs = {}
    for kind in ("small", "huge"):
        m = _child(_FRESH, kind)
        costs[kind] = float(m["stdout"] or "nan") if m["ok"] else float("nan")
    return (
        f"  fresh memory on this machine: {costs['small']:.2f} s of kernel time per GB touched in"
        f" 4 KiB pages, {costs['huge']:.2f} s in transparent huge pages"
    )


def bench(scale: str, root: Path, report: bool, repeat: int = 1) -> dict:
    """Measure one scale, print its table and return the measurements by name."""
    prospects, leads, contacts = SCALES[scale]
    folder = root / scale
    synth_s = _synth(folder, prospects, leads, contacts)
    load = os.getloadavg()
    print(
        f"\n{scale}: {prospects + leads + contacts:,} records ({prospects:,} prospects, "
        f"{leads:,} leads, {contacts:,} contacts); synth {synth_s:.1f} s; "
        f"load average {load[0]:.1f} on {os.cpu_count()} CPUs; {_huge_pages()}"
    )
    print(
        f"  {'what':<28} {'seconds':>9} {'/floor':>8} {'peak MB':>9} {'user s':>7} {'/floor':>7}"
        f" {'sys s':>7} {'cpu s':>7} {'faults':>9}"
    )
    floor = _repeated(lambda: _child(_FLOOR, str(folder)), repeat)
    print(_line("pyarrow correct read (floor)", floor, None))
    base = floor if floor["ok"] else None
    rows = []
    if _has_duckdb():
        rows.append(
            ("duckdb peer", _repeated(lambda: _child(_DUCKDB, str(folder), *TABLES), repeat))
        )
    else:
        print("  duckdb peer                  skipped: pip install duckdb to measure it")
    bare = ("bare", "--no-report", "--no-plan")
    rows.append(("run --no-report --no-plan", _repeated(lambda: _run(folder, root, *bare), repeat)))
    plan = ("plan", "--no-report")
    rows.append(("run --no-report", _repeated(lambda: _run(folder, root, *plan), repeat)))
    if report:
        rows.append(("run (with report)", _repeated(lambda: _run(folder, root, "report"), repeat)))
    for name, m in rows:
        print(_line(name, m, base))
    for name, m in rows:
        if m.get("stages"):
            split = ", ".join(f"{k} {v:.2f}" for k, v in m["stages"].items())
            rest = m["seconds"] - sum(m["stages"].values())
            print(f"  {name}: {split}; start+imports+exit {rest:.2f} s")
    line, write_s = write_floor(root / "out-bare", root)
    print(line)
    print(command_floor(floor, write_s, dict(rows)["run --no-report --no-plan"]))
    print(fresh_memory_cost())
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    return dict(rows, floor=floor)


def growth(figures: dict[str, dict]) -> None:
    """Print how the bare run grows from 2.5M to 10M records (goal: no more than 4.4x), beside
    how the floor and the peer grew in the same run (what the machine did to every figure)."""
    small, large = figures.get("2.5m"), figures.get("10m")
    if not small or not large:
        return
    a, b = small["run --no-report --no-plan"], large["run --no-report --no-plan"]
    if a["ok"] and b["ok"]:
        print(
            f"\n10m / 2.5m, run --no-report --no-plan: wall {b['seconds'] / a['seconds']:.2f}x,"
            f" user CPU {b['user'] / a['user']:.2f}x, peak {b['peak_mb'] / a['peak_mb']:.2f}x"
            " (goal: time no more than 4.4x, 10m peak under 6,000 MB)"
        )
        for name in ("floor", "duckdb peer"):
            x, y = small.get(name), large.get(name)
            if x and y and x["ok"] and y["ok"]:
                print(
                    f"  {name} in the same run: wall {y['seconds'] / x['seconds']:.2f}x,"
                    f" user CPU {y['user'] / x['user']:.2f}x (4x the records)"
                )


def main() -> None:
    """Generate (or reuse) orgs at each scale and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", action="append", choices=sorted(SCALES), help="repeatable")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) generated orgs in this folder")
    parser.add_argument("--no-report", action="store_true", help="skip the run with the report")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (median)")
    args = parser.parse_args()
    memory.keep_to_small_pages()  # the floor and the peer are measured as the command runs
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-command-"))
    root.mkdir(parents=True, exist_ok=True)
    figures = {}
    for scale in args.scale or ["2.5m"]:
        figures[scale] = bench(scale, root, report=not args.no_report, repeat=max(1, args.repeat))
    growth(figures)


if __name__ == "__main__":
    main()
