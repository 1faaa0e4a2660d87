"""Batch runs: assess every org folder below ORGS_DIR and write an index across orgs.

An org that fails does not stop the batch: its row records the error message and exit class
(``input`` for unusable input, exit 2; ``internal`` for anything else, exit 1); the command then
exits 3 (contract.md §2). A folder is an org when it holds at least one recognisable export file
(``load.classify_file``); other folders are skipped with a note. When ORGS_DIR itself holds
exports it is one org, and its subfolders (``describe/``, ``_truth/``) are not orgs.
"""

from __future__ import annotations

import html
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from .errors import AssessmentError, InputError

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


@dataclass
class BatchSummary:
    """Every org of a batch run and where the index was written."""

    out_dir: Path
    runs: list[OrgRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # folders skipped and why

    @property
    def failed(self) -> list[OrgRun]:
        """The orgs that could not be assessed."""
        return [r for r in self.runs if r.status != "ok"]

    def frame(self) -> pd.DataFrame:
        """One row per org, the columns of index.csv."""
        frame = pd.DataFrame([asdict(r) for r in self.runs], columns=INDEX_COLUMNS)
        for col in ("score", "blockers_failed", "warnings_failed"):  # blank for failed orgs
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
                    f"{r.warnings_failed} warning(s))"
                )
            else:
                lines.append(f"  {r.org}: FAILED ({r.exit_class}) {r.error}")
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


def _progress(i: int, n: int, name: str, stream) -> None:
    if stream is not None and getattr(stream, "isatty", lambda: False)():
        stream.write(f"[{i}/{n}] {name}\n")
        stream.flush()


def run_batch(orgs_dir, out_dir, report: bool = True, mask_pii: bool = False) -> BatchSummary:
    """Assess every subfolder of ORGS_DIR into OUT_DIR/<folder>; write index.html/json/csv."""
    from .pipeline import assess

    orgs_dir, out_dir = Path(orgs_dir), Path(out_dir)
    if not orgs_dir.is_dir():
        raise InputError("the orgs folder does not exist or is not a folder", file=str(orgs_dir))
    folders, notes = find_orgs(orgs_dir, out_dir)
    if not folders:
        raise InputError(
            "the orgs folder holds no org subfolders (no folder with recognisable export files)",
            file=str(orgs_dir),
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = BatchSummary(out_dir, notes=notes)
    for i, folder in enumerate(folders, 1):
        _progress(i, len(folders), folder.name, sys.stderr)
        started = time.perf_counter()
        run = OrgRun(org=folder.name, folder=folder.name, status="ok")
        try:
            result = assess(folder, out_dir / folder.name, report=report, mask_pii=mask_pii)
            run.org = str(result.org or folder.name)
            run.verdict, run.score = result.verdict, result.score
            run.blockers_failed, run.warnings_failed = _counts(result.readiness)
            if report and (out_dir / folder.name / "report.html").exists():
                run.report = f"{folder.name}/report.html"
        except AssessmentError as exc:
            run.status, run.error = "failed", str(exc)
            run.exit_class = "input" if exc.exit_code == 2 else "internal"
        except Exception as exc:  # noqa: BLE001 - one broken org must not stop the batch
            run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"
            run.exit_class = "internal"
        run.seconds = round(time.perf_counter() - started, 2)
        summary.runs.append(run)
    write_index(summary)
    return summary


def _atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralise spreadsheet formulas: text starting with = + - @ tab or CR gets a quote."""
    out = frame.astype("str").where(frame.notna(), "")  # ints stay "49", never "49.0"
    for col in ("org", "folder", "error", "report", "verdict"):
        risky = out[col].str.match(r"^[=+\-@\t\r]")
        out[col] = out[col].where(~risky, "'" + out[col])
    return out


def write_index(summary: BatchSummary) -> None:
    """Write index.json, index.csv and a self-contained, escaped index.html."""
    frame = summary.frame()
    rows = [asdict(r) for r in summary.runs]
    out = summary.out_dir
    payload = {"orgs": rows, "failed": [r.folder for r in summary.failed], "notes": summary.notes}
    _atomic(out / "index.json", json.dumps(payload, indent=2, default=str))
    _atomic(out / "index.csv", _csv_safe(frame).to_csv(index=False))
    _atomic(out / "index.html", index_html(summary))


def index_html(summary: BatchSummary) -> str:
    """The batch index page: one row per org, verdict and link, or the failure reason."""
    esc = html.escape
    body = []
    for r in summary.runs:
        if r.status == "ok":
            link = (
                f"<a href='{esc(quote(r.report), quote=True)}'>report</a>"
                if r.report
                else "(no report)"
            )
            body.append(
                f"<tr class='{esc(r.verdict or '')}'><td>{esc(r.org)}</td><td>{esc(r.verdict)}</td>"
                f"<td>{r.score}</td><td>{r.blockers_failed}</td><td>{r.warnings_failed}</td>"
                f"<td>{link}</td></tr>"
            )
        else:
            body.append(
                f"<tr class='failed'><td>{esc(r.org)}</td><td>failed ({esc(r.exit_class or '')})"
                f"</td><td></td><td></td><td></td><td>{esc(r.error or '')}</td></tr>"
            )
    ok = len(summary.runs) - len(summary.failed)
    failed = ", ".join(esc(r.folder) for r in summary.failed)
    notes = "".join(f"<li>{esc(n)}</li>" for n in summary.notes)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Connector readiness: batch index</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}"
        ".ready{background:#d4edda}.ready_with_warnings{background:#fff3cd}"
        ".not_ready{background:#f8d7da}.failed{background:#eee;color:#700}"
        "</style></head><body><h1>Connector readiness: batch index</h1>"
        f"<p>{len(summary.runs)} org(s): {ok} assessed, {len(summary.failed)} failed"
        + (f" ({failed})" if failed else "")
        + ".</p>"
        + (f"<ul class='notes'>{notes}</ul>" if notes else "")
        + "<table><tr><th>org</th><th>verdict</th><th>score</th><th>blockers failed</th>"
        "<th>warnings failed</th><th>report / failure reason</th></tr>"
        + "".join(body)
        + "</table></body></html>"
    )
