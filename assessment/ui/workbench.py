"""One org's assessment for the notebooks: computed once per kernel, or read from a finished run.

A stage notebook either reads an output folder written by ``python -m assessment run`` (nothing
recomputed) or analyses the export folder in memory. In-memory runs are cached in the kernel,
keyed by the SHA-256 of every input file and of the settings file, so rerunning a cell is free and
a re-export into the same folder is noticed. Nothing is written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError

OUTPUT_MARKER = "readiness.json"  # pipeline.OUTPUT_MARKER (contract §3)
CHECK_COLUMNS = [  # contract §3, per check
    *("code", "name", "area", "severity", "status", "affected"),
    *("summary", "remediation", "source", "action_file"),
]
_RUNS: OrderedDict[str, Run] = OrderedDict()  # cache key → run (in this kernel only)
_WHAT_IF: OrderedDict[tuple, object] = OrderedDict()
KEEP_RUNS = 2  # orgs kept in memory at once
KEEP_WHAT_IF = 6
FIELD_COUNTS = [  # the count columns of outcomes/fields.csv
    *("pairs", "differ", "sf_overwritten", "pardot_overwritten", "blank_fills_sf"),
    *("blank_fills_pardot", "blank_overwrites", "write_errors"),
]


@dataclass
class Run:
    """An assessment as the notebooks show it: frames of checks and outcomes, and where they came from."""

    org: str
    source: str  # "memory" (analysed in this kernel) | "out_dir" (read from a finished run)
    checks: pd.DataFrame
    prospects: pd.DataFrame
    salesforce: pd.DataFrame
    fields: pd.DataFrame
    settings: object
    data_dir: Path | None = None
    settings_file: Path | None = None
    out_dir: Path | None = None
    key: str = ""
    seconds: float = 0.0
    snapshot: object = field(default=None, repr=False)
    simulation: object = field(default=None, repr=False)
    results: list = field(default_factory=list, repr=False)
    readiness: dict = field(default_factory=dict, repr=False)

    def findings(self, code: str, rows: int | None = None) -> tuple[pd.DataFrame, int, Path | None]:
        """A check's findings (first ROWS), their total, and the action CSV when there is one."""
        if self.source == "memory":
            result = next((r for r in self.results if r.code == code), None)
            frame = getattr(result, "findings", None)
            frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()
            return (frame if rows is None else frame.head(rows)), len(frame), None
        path = self.action_path(code)
        if path is None:
            return pd.DataFrame(), 0, None
        sample = pd.read_csv(path, dtype="str", keep_default_na=False, nrows=rows)
        total = len(sample)
        if rows is not None and total == rows:  # count the rows (one column; quoted newlines ok)
            total = len(pd.read_csv(path, dtype="str", usecols=[0], keep_default_na=False))
        return sample.replace("", pd.NA), total, path

    def action_path(self, code: str) -> Path | None:
        """The action CSV a finished run wrote for a check (None in memory or when none)."""
        if self.out_dir is None:
            return None
        hit = self.checks.loc[self.checks["code"] == code, "action_file"].dropna()
        if hit.empty or not str(hit.iloc[0]):
            return None
        path = self.out_dir / str(hit.iloc[0])
        return path if path.exists() else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_checksums(data_dir: Path, settings_file: Path | None = None) -> dict[str, str]:
    """SHA-256 of every file of the export folder (hidden files skipped) and of the settings file."""
    root = Path(data_dir)
    if not root.is_dir():
        raise InputError("the export folder does not exist or is not a folder", file=str(root))
    files = sorted(
        p for p in root.rglob("*") if p.is_file() and not p.relative_to(root).as_posix()[0] == "."
    )
    sums = {p.relative_to(root).as_posix(): _sha256(p) for p in files}
    if settings_file is not None and Path(settings_file).is_file():
        sums["--settings " + str(Path(settings_file).resolve())] = _sha256(Path(settings_file))
    return sums


def cache_key(data_dir: Path, settings_file: Path | None = None) -> str:
    """The key of an in-memory run: the folder, the settings file and every input's checksum."""
    sums = input_checksums(data_dir, settings_file)
    text = json.dumps([str(Path(data_dir).resolve()), sums], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _remember(store: OrderedDict, key, value, keep: int):
    store[key] = value
    store.move_to_end(key)
    while len(store) > keep:
        store.popitem(last=False)
    return value


def analyse_once(data_dir, settings_file=None, progress: bool = True) -> Run:
    """Load, simulate and check an org once per kernel; later calls with the same inputs reuse it."""
    from ..checks import run_checks
    from ..load import load_org
    from ..sync import simulate
    from .progress import stages

    data_dir = Path(data_dir)
    settings_file = Path(settings_file) if settings_file else None
    key = cache_key(data_dir, settings_file)
    if key in _RUNS:
        _RUNS.move_to_end(key)
        return _RUNS[key]
    start = time.perf_counter()
    with stages(data_dir.name, progress) as bar:
        snapshot = load_org(data_dir, settings_file=settings_file, progress=bar.loader())
        bar.next("simulating the first sync")
        simulation = simulate(snapshot)
        bar.next("running the checks")
        results = run_checks(snapshot, simulation)
    checks = pd.DataFrame(
        [{c: getattr(r, c, None) for c in CHECK_COLUMNS} for r in results], columns=CHECK_COLUMNS
    )
    run = Run(
        org=snapshot.name,
        source="memory",
        checks=checks,
        prospects=simulation.prospects,
        salesforce=simulation.salesforce,
        fields=simulation.fields,
        settings=snapshot.settings,
        data_dir=data_dir,
        settings_file=settings_file,
        key=key,
        seconds=time.perf_counter() - start,
        snapshot=snapshot,
        simulation=simulation,
        results=results,
    )
    return _remember(_RUNS, key, run, KEEP_RUNS)


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame()
    return pd.read_csv(path, dtype="str", keep_default_na=False).replace("", pd.NA)


def read_finished(out_dir, data_dir=None, settings_file=None) -> Run:
    """A finished run from OUT_DIR (readiness.json, outcomes/*.csv, actions/): nothing recomputed."""
    from ..settings import SETTING_NAMES, settings_from_mapping

    out = Path(out_dir)
    marker = out / OUTPUT_MARKER
    try:
        readiness = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"not a finished assessment ({exc})", file=str(marker)) from None
    checks = pd.DataFrame(readiness.get("checks") or [])
    checks = checks.reindex(columns=CHECK_COLUMNS)
    given = {k: v for k, v in (readiness.get("settings") or {}).items() if k in SETTING_NAMES}
    counts = [_read_csv(out / "outcomes" / f"{n}.csv") for n in ("prospects", "salesforce")]
    fields = _read_csv(out / "outcomes" / "fields.csv")
    for col in fields.columns.intersection(FIELD_COUNTS):
        fields[col] = pd.to_numeric(fields[col], errors="coerce").astype("Int64")
    return Run(
        org=str(readiness.get("org") or out.name),
        source="out_dir",
        checks=checks,
        prospects=counts[0],
        salesforce=counts[1],
        fields=fields,
        settings=settings_from_mapping(given, source=str(marker)),
        data_dir=Path(data_dir) if data_dir else None,
        settings_file=Path(settings_file) if settings_file else None,
        out_dir=out,
        key=hashlib.sha256(marker.read_bytes()).hexdigest(),
        readiness=readiness,
    )


def _settings_class():
    from ..settings import ConnectorSettings

    return ConnectorSettings


def open_run(data_dir=None, settings_file=None, out_dir=None, progress: bool = True) -> Run:
    """OUT_DIR when it holds a finished run, else DATA_DIR analysed once in this kernel."""
    if out_dir and (Path(out_dir) / OUTPUT_MARKER).exists():
        return read_finished(out_dir, data_dir, settings_file)
    if out_dir and not data_dir:
        raise InputError("no readiness.json in the output folder", file=str(out_dir))
    if not data_dir:
        raise InputError("give data_dir (an org export folder) or out_dir (a finished run)")
    return analyse_once(data_dir, settings_file, progress)


def same_exports(run: Run, data_dir: Path) -> str | None:
    """None when DATA_DIR holds the files a finished RUN read (by checksum), else the first that differs."""
    read = {f: (m or {}).get("sha256") for f, m in (run.readiness.get("inputs") or {}).items()}
    sums = input_checksums(data_dir)
    return next((f for f, sha in read.items() if sha and sums.get(f) != sha), None)


def analysed(run: Run, progress: bool = True) -> Run:
    """RUN itself when it holds the loaded exports, else its export folder analysed (cached)."""
    if run.snapshot is not None:
        return run
    if run.data_dir is None:
        raise InputError(
            "this needs the export folder: give data_dir as well as out_dir", file=str(run.out_dir)
        )
    differs = same_exports(run, run.data_dir)
    if differs is not None:
        raise InputError(
            f"data_dir does not hold the exports this finished run read ({differs} differs); "
            "give the export folder it assessed",
            file=str(run.data_dir),
        )
    return analyse_once(run.data_dir, run.settings_file, progress)


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def compare_settings(run: Run, **changes):
    """The run's simulation beside one under changed settings (sync.compare), cached per change.

    Through ``quick_what_if``: a change the connector model confines (auto-create, same-email
    mode) re-runs only the step it moves; its result equals the full re-simulation
    (tests/test_what_if_agreement.py). Other changes re-simulate in full.
    """
    from ..settings import settings_from_mapping
    from ..sync.what_if import quick_what_if

    base = analysed(run)
    key = (base.key, _frozen(changes))
    if key in _WHAT_IF:
        return _WHAT_IF[key]
    changes = dict(changes)
    mds = changes.get("marketing_data_sharing")
    if isinstance(mds, dict) and any(isinstance(v, dict) for v in mds.values()):
        rules = settings_from_mapping({"marketing_data_sharing": mds}, source="what_if")
        changes["marketing_data_sharing"] = rules.marketing_data_sharing
    result = quick_what_if(base.snapshot, base.simulation, **changes)
    return _remember(_WHAT_IF, key, result, KEEP_WHAT_IF)


def clear() -> None:
    """Forget every cached run (the next call reloads from the files)."""
    _RUNS.clear()
    _WHAT_IF.clear()


def example_record(run: Run, by_id: bool = False) -> str:
    """A prospect worth explaining (several candidates first): its email, or its id when BY_ID."""
    prospects = run.prospects
    if prospects.empty:
        return ""
    column = "prospect_id" if by_id else "email"
    for outcome in ("match_email_tie", "match_email", "linked"):
        hit = prospects.loc[(prospects["outcome"] == outcome) & prospects["email"].notna(), column]
        if len(hit):
            return str(hit.iloc[0])
    return str(prospects["prospect_id"].iloc[0])
