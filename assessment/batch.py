"""Batch runs: assess every org folder below ORGS_DIR and write an index across orgs.

An org that fails does not stop the batch: its row records the error message and exit class
(``input`` for unusable input, exit 2; ``internal`` for anything else, exit 1); the command then
exits 3 (contract.md §2). A folder is an org when it holds at least one recognisable export file
(``load.classify_file``); other folders are skipped with a note. When ORGS_DIR itself holds
exports it is one org, and its subfolders (``describe/``, ``_truth/``) are not orgs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pyarrow as pa

from .cross_unit import SF_TABLES, check_units, for_unit
from .errors import AssessmentError, InputError
from .outputs import write_text_atomic

INDEX_COLUMNS = [
    "org",
    "folder",
    "status",
    "verdict",
    "score",
    "blockers_failed",
    "warnings_failed",
    "report",
    "exit_class",
    "error",
    "seconds",
    "verdict_before",
    "score_before",
    "fixed",
    "new",
    "trend_note",
    "cross_unit",
]


@dataclass
class OrgRun:
    """One org of a batch: its result or why it failed."""

    org: str
    folder: str
    status: str  # ok | failed
    verdict: str | None = None
    score: int | None = None
    blockers_failed: int | None = None
    warnings_failed: int | None = None
    report: str | None = None  # relative to the batch output folder
    exit_class: str | None = None  # input | internal (failures only)
    error: str | None = None
    seconds: float = 0.0
    verdict_before: str | None = None  # batch history: the previous result of this org
    score_before: int | None = None
    fixed: int | None = None  # checks fixed / new since the previous result
    new: int | None = None
    trend_note: str | None = None
    cross_unit: int | None = None  # cross-unit findings on this unit (units of one org)

    def trend(self) -> str | None:
        """Verdict and score before -> now, when the batch output held a previous result."""
        if self.verdict_before is None:
            return None
        text = (
            f"before: {self.verdict_before} ({self.score_before}) -> now: {self.verdict} "
            f"({self.score}), {self.fixed} check(s) fixed, {self.new} new"
        )
        return text + (f" [{self.trend_note}]" if self.trend_note else "")


@dataclass
class BatchSummary:
    """Every org of a batch run and where the index was written."""

    out_dir: Path
    runs: list[OrgRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # folders skipped and why
    cross_unit: list[dict] = field(default_factory=list)  # groups of units of one Salesforce org

    @property
    def failed(self) -> list[OrgRun]:
        """The orgs that could not be assessed."""
        return [r for r in self.runs if r.status != "ok"]

    def frame(self) -> pd.DataFrame:
        """One row per org, the columns of index.csv."""
        frame = pd.DataFrame([asdict(r) for r in self.runs], columns=INDEX_COLUMNS)
        ints = ("score", "blockers_failed", "warnings_failed", "score_before", "fixed", "new")
        for col in (*ints, "cross_unit"):
            frame[col] = pd.to_numeric(frame[col]).astype("Int64")
        return frame

    def describe(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"{len(self.runs)} org(s): {len(self.runs) - len(self.failed)} assessed, "
            f"{len(self.failed)} failed -> {self.out_dir / 'index.html'}"
        ]
        for r in self.runs:
            if r.status == "ok":
                lines.append(
                    f"  {r.org}: {r.verdict} (score {r.score}, {r.blockers_failed} blocker(s), "
                    f"{r.warnings_failed} warning(s))" + (f"; {r.trend()}" if r.trend() else "")
                )
            else:
                lines.append(f"  {r.org}: FAILED ({r.exit_class}) {r.error}")
        for group in self.cross_unit:
            lines.append(f"  units of one Salesforce org: {', '.join(group['units'])}")
            lines.extend(
                f"    {f['code']} ({f['severity']}): {f['summary']}" for f in group["findings"]
            )
            if not group["findings"]:
                lines.append("    no cross-unit findings")
        lines.extend(f"  note: {n}" for n in self.notes)
        if self.failed:
            names = ", ".join(r.folder for r in self.failed)
            lines.append(f"{len(self.failed)} org(s) failed: {names}")
        return "\n".join(lines)


def holds_exports(folder: Path) -> bool:
    """True when the folder directly holds at least one file named like an export table."""
    from .load import classify_file

    return any(
        p.is_file()
        and not p.name.startswith((".", "_", "~$"))
        and (kind := classify_file(p.name)) is not None
        and not kind.startswith("describe:")
        for p in folder.iterdir()
    )


def find_orgs(orgs_dir: Path, out_dir: Path) -> tuple[list[Path], list[str]]:
    """The org folders of a batch and notes on the folders skipped.

    ORGS_DIR holding exports itself is one org (its subfolders are its own, not orgs); otherwise
    every visible subfolder with recognisable exports is an org. Folders starting with ``.`` or
    ``_`` and the output folder are never orgs (load.py ignores the same names).
    """
    out = out_dir.resolve()
    if holds_exports(orgs_dir):
        return [orgs_dir], [
            f"{orgs_dir.name or orgs_dir} holds exports itself: assessed as one org "
            "(its subfolders are not orgs)"
        ]
    folders, notes = [], []
    for p in sorted(orgs_dir.iterdir(), key=lambda p: p.name.lower()):
        if not p.is_dir() or p.name.startswith(".") or p.resolve() == out:
            continue
        if p.name.startswith("_"):
            notes.append(f"skipped {p.name}/: names starting with _ are not orgs")
        elif p.name.lower() == "describe" or not holds_exports(p):
            notes.append(f"skipped {p.name}/: no recognisable export files")
        else:
            folders.append(p)
    return folders, notes


def _counts(readiness: dict) -> tuple[int, int]:
    checks = readiness.get("checks") or []
    failed = [c for c in checks if c.get("status") == "fail"]
    return (
        sum(c.get("severity") == "blocker" for c in failed),
        sum(c.get("severity") == "warning" for c in failed),
    )


@dataclass(frozen=True)
class OrgTask:
    """What one worker needs to assess one org (plain, picklable: processes and Dask)."""

    folder: str  # the org export folder
    name: str  # its output subfolder below the batch output
    out_root: str  # the batch output folder
    report: bool = True
    mask_pii: bool = False
    baseline: str | None = None  # the previous result of this org (batch history), if any
    cross_unit: dict | None = None  # findings across units of one org (readiness.json key)


def assess_org(task: OrgTask) -> OrgRun:
    """Assess one org of a batch; never raises for a failing org (its OrgRun says why)."""
    from . import pipeline

    started = time.perf_counter()
    run = OrgRun(org=task.name, folder=task.name, status="ok")
    out = Path(task.out_root) / task.name
    try:
        result = pipeline.assess(  # no file bar per org: the batch shows one bar (_bar)
            Path(task.folder), out, report=task.report, mask_pii=task.mask_pii, progress=False,
            **({"baseline": task.baseline, "force_baseline": True} if task.baseline else {}),
            **({"cross_unit": task.cross_unit} if task.cross_unit is not None else {}),
        )  # fmt: skip
        run.org = str(result.org or task.name)
        run.verdict, run.score = result.verdict, result.score
        run.blockers_failed, run.warnings_failed = _counts(result.readiness)
        _trend(run, result.readiness.get("baseline"))
        if result.readiness.get("cross_unit"):
            run.cross_unit = len(result.readiness["cross_unit"]["findings"])
        if task.report and (out / "report.html").exists():
            run.report = f"{task.name}/report.html"
    except AssessmentError as exc:
        run.status, run.error = "failed", str(exc)
        run.exit_class = "input" if exc.exit_code == 2 else "internal"
    except Exception as exc:  # noqa: BLE001 - one broken org must not stop the batch
        run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"
        run.exit_class = "internal"
    run.seconds = round(time.perf_counter() - started, 2)
    return run


def _trend(run: OrgRun, baseline: dict | None) -> None:
    """Copy the comparison with the previous run into the index row."""
    if not baseline:
        return
    run.verdict_before = baseline["verdict"]["before"]
    run.score_before = baseline["score"]["before"]
    checks = baseline["checks"]
    run.fixed, run.new = len(checks["fixed"]), len(checks["new"])
    if baseline["org"]["same_org_by"] is None:
        run.trend_note = f"previous result was another org ({baseline['org']['before']})"


def _previous(out: Path) -> str | None:
    """The earlier result in a batch output subfolder, when it is a readable assessment."""
    marker = out / "readiness.json"
    try:
        doc = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(doc, dict) and "checks" in doc
    return str(out) if ok and (out / "outcomes" / "prospects.csv").is_file() else None


def _bar(total: int, stream):
    """One overall progress bar (tqdm) on a terminal; silent otherwise."""
    from tqdm.auto import tqdm

    tty = stream is not None and getattr(stream, "isatty", lambda: False)()
    return tqdm(total=total, desc="orgs", unit="org", file=stream, disable=not tty, leave=True)


def _run_serial(tasks: list[OrgTask], runner, bar) -> list[OrgRun]:
    runs = []
    for task in tasks:
        bar.set_postfix_str(task.name, refresh=False)
        runs.append(runner(task))
        bar.update(1)
    return runs


def _died(task: OrgTask, exc: BaseException) -> OrgRun:
    return OrgRun(
        org=task.name, folder=task.name, status="failed", exit_class="internal",
        error=f"the worker process died ({type(exc).__name__}: {exc}); out of memory?",
    )  # fmt: skip


def _quiet() -> None:
    """Worker start: Ctrl-C is the parent's to handle (one line, exit 130), not every worker's.

    On Ctrl-C the parent cancels the orgs not started and waits for the workers to finish (and
    publish, atomically) the org each is on; then it removes its scratch folder and exits 130.
    """
    import signal

    from .memory import reuse_freed_memory

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reuse_freed_memory()  # as the command does for itself (a spawned worker starts afresh)


def _run_processes(tasks: list[OrgTask], runner, workers: int, bar) -> list[OrgRun]:
    """Run tasks in separate (spawned) processes; results in task order.

    A worker that dies (out of memory, a crash in native code) breaks the pool: the orgs it took
    down are retried one at a time, each in its own process, so only the culprit fails.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")  # no fork of a threaded parent
    results: dict[int, OrgRun] = {}
    retry: list[int] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_quiet) as pool:
        futures = {pool.submit(runner, task): i for i, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                i = futures[future]
                try:
                    results[i] = future.result()
                except BrokenProcessPool:
                    retry.append(i)
                    continue
                bar.set_postfix_str(tasks[i].name, refresh=False)
                bar.update(1)
        except KeyboardInterrupt:  # the orgs under way finish (and publish) first, then stop
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    for i in sorted(retry):
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_quiet) as alone:
            try:
                results[i] = alone.submit(runner, tasks[i]).result()
            except BrokenProcessPool as exc:
                results[i] = _died(tasks[i], exc)
        bar.update(1)
    return [results[i] for i in range(len(tasks))]


def run_batch(
    orgs_dir,
    out_dir,
    report: bool = True,
    mask_pii: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    runner=None,
) -> BatchSummary:
    """Assess every org folder of ORGS_DIR into OUT_DIR/<folder>; write index.html/json/csv.

    ``workers``: processes (default: the machine's cores; 1 runs in this process);
    ``scheduler``: the address of a Dask distributed scheduler instead of local processes.
    An org whose output folder holds an earlier result is compared with it (batch history).
    ``runner`` replaces :func:`assess_org` (a picklable top-level function; tests).
    """
    orgs_dir, out_dir = Path(orgs_dir), Path(out_dir)
    if not orgs_dir.is_dir():
        raise InputError("the orgs folder does not exist or is not a folder", file=str(orgs_dir))
    folders, notes = find_orgs(orgs_dir, out_dir)
    if not folders:
        raise InputError(
            "the orgs folder holds no org subfolders (no folder with recognisable export files)",
            file=str(orgs_dir),
        )
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be 1 or more, not {workers}")
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = [
        OrgTask(str(f), f.name, str(out_dir), report, mask_pii, _previous(out_dir / f.name))
        for f in folders
    ]
    # Units of one Salesforce org are assessed twice: first into a scratch folder (outcomes only),
    # then, once the cross-unit findings are known, for real with them in readiness.json and the
    # report. The prediction only decides who takes this path; the findings come from the outputs.
    units = predicted_units(folders) if runner is None else set()
    scratch = out_dir / SCRATCH
    first = [
        replace(t, out_root=str(scratch), report=False, baseline=None) if t.name in units else t
        for t in tasks
    ]
    run = _executor(runner or assess_org, workers, scheduler, len(tasks))
    try:
        with _bar(len(tasks) + len(units), sys.stderr) as bar:
            runs = run(first, bar)
            summary = BatchSummary(out_dir, runs, notes)
            folders_of = {t.name: Path(t.out_root) / t.name for t in first}
            _cross_unit(summary, folders_of)
            again = [
                replace(t, cross_unit=for_unit(summary.cross_unit, t.name))
                for t, r in zip(tasks, runs, strict=True)
                if t.name in units and r.status == "ok"
            ]
            bar.total = len(tasks) + len(again)
            redone = {r.folder: r for r in run(again, bar)} if again else {}
            summary.runs = [redone.get(r.folder, r) for r in runs]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_index(summary)
    return summary


SCRATCH = ".cross-unit-scratch"  # inside the batch output (hidden: never an org), removed after


def _executor(runner, workers: int | None, scheduler: str | None, n: int):
    """A function (tasks, bar) -> runs: Dask, local processes or this process."""
    workers = min(workers or os.cpu_count() or 1, n)
    if scheduler:
        from .cluster import run_on_cluster

        return lambda tasks, bar: run_on_cluster(tasks, runner, scheduler, bar)
    if workers == 1:
        return lambda tasks, bar: _run_serial(tasks, runner, bar)
    return lambda tasks, bar: _run_processes(tasks, runner, workers, bar)


def _sf_files(folder: Path) -> list[Path] | str | None:
    """The Salesforce export files of an org folder, or ``"id:<org id>"`` from connector.yml."""
    from .load import classify_file
    from .settings import find_settings_file, load_settings

    try:
        org_id = load_settings(find_settings_file(folder)).salesforce_org_id
    except AssessmentError:
        return None  # the org will fail on its settings anyway
    if org_id:
        return f"id:{org_id}"
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and classify_file(p.name) in SF_TABLES),
        key=lambda p: p.name.lower(),
    )
    return files or None


def _digest(path: Path) -> str:
    import hashlib

    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def predicted_units(folders: list[Path]) -> set[str]:
    """Folder names that look like units of one Salesforce org (same org id or Salesforce exports).

    Mirrors cross_unit.org_key before the assessment: exports are hashed only when another
    folder holds Salesforce files of the same sizes (large orgs are not read for nothing).
    """
    found = {f.name: _sf_files(f) for f in folders}
    sizes: dict[tuple, list[str]] = {}
    for name, files in found.items():
        if isinstance(files, list):
            sizes.setdefault(tuple(sorted(p.stat().st_size for p in files)), []).append(name)
    keys: dict[str, list[str]] = {}
    for name, files in found.items():
        if isinstance(files, str):
            keys.setdefault(files, []).append(name)
        elif isinstance(files, list):
            same_size = sizes[tuple(sorted(p.stat().st_size for p in files))]
            if len(same_size) > 1:
                key = "exports:" + ";".join(sorted(_digest(p) for p in files))
                keys.setdefault(key, []).append(name)
    return {name for names in keys.values() if len(names) > 1 for name in names}


def _cross_unit(summary: BatchSummary, folders_of: dict[str, Path]) -> None:
    """Check units of one Salesforce org together; write ``cross_unit`` into their readiness.json.

    ``folders_of``: each org's output folder (the scratch folder for units assessed twice).
    """
    from .readiness import write_json_atomic

    ok = {
        r.folder: folders_of[r.folder]
        for r in summary.runs
        if r.status == "ok" and (folders_of[r.folder] / "readiness.json").is_file()
    }
    if len(ok) < 2:
        return
    try:
        summary.cross_unit = check_units(ok)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:  # unreadable: say so
        summary.notes.append(f"cross-unit checks not run: {type(exc).__name__}: {exc}")
        return
    for run in summary.runs:
        value = for_unit(summary.cross_unit, run.folder) if run.folder in ok else None
        if value is None:
            continue
        path = ok[run.folder] / "readiness.json"
        readiness = json.loads(path.read_text(encoding="utf-8"))
        readiness["cross_unit"] = value
        write_json_atomic(path, readiness)
        run.cross_unit = len(value["findings"])


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralise spreadsheet formulas: text starting with = + - @ tab or CR gets a quote."""
    out = frame.astype("str").where(frame.notna(), "")  # ints stay "49", never "49.0"
    for col in ("org", "folder", "error", "report", "verdict", "trend_note"):
        risky = out[col].str.match(r"^[=+\-@\t\r]")
        out[col] = out[col].where(~risky, "'" + out[col])
    return out


def write_index(summary: BatchSummary) -> None:
    """Write index.json, index.csv and a self-contained, escaped index.html."""
    frame = summary.frame()
    rows = [asdict(r) for r in summary.runs]
    out = summary.out_dir
    payload = {
        "orgs": rows,
        "failed": [r.folder for r in summary.failed],
        "notes": summary.notes,
        "cross_unit": summary.cross_unit,
    }
    write_text_atomic(out / "index.json", json.dumps(payload, indent=2, default=str))
    write_text_atomic(out / "index.csv", _csv_safe(frame).to_csv(index=False))
    write_text_atomic(out / "index.html", index_html(summary))


def _org_card(out: Path, r: OrgRun) -> str:
    """An assessed org's card for the index (verdict, score, top fixes), linked into its folder."""
    from . import report  # the report package renders; batch only passes it finished folders

    try:
        data = report.load(out / r.folder)
    except AssessmentError:  # the row still says what happened; a card is a convenience
        return ""
    return str(report.org_summary(data, quote(r.folder) + "/", linked=bool(r.report)))


def _index_row(r: OrgRun) -> dict:
    """One org's row of the index table, labelled for people."""
    from . import labels

    return {
        **asdict(r),
        "ok": r.status == "ok",
        "anchor": quote(r.folder),
        "report": quote(r.report) if r.report else None,
        "verdict_label": labels.verdict_label(r.verdict),
        "verdict_short": labels.verdict_label(r.verdict, short=True),
        "trend": r.trend() or "",
    }


def index_html(summary: BatchSummary) -> str:
    """The batch index page: one row per org (verdict, link or failure reason), cards, groups."""
    from markupsafe import Markup  # jinja2's own: the cards are already-escaped HTML

    from .report.render import render_partial

    ok = [r for r in summary.runs if r.status == "ok"]
    cards = [_org_card(summary.out_dir, r) for r in ok]
    return render_partial(
        "batch_index.html.j2",
        total=len(summary.runs),
        assessed=len(ok),
        failed=[r.folder for r in summary.failed],
        notes=summary.notes,
        rows=[_index_row(r) for r in summary.runs],
        cards=[Markup(c) for c in cards if c],
        groups=summary.cross_unit,
    )
