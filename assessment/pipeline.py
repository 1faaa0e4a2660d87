"""One assessment of one org: load → simulate → checks → outputs, written atomically.

The CLI, batch runs, notebooks and tests all call :func:`assess`, so every surface shows the same
numbers. Outputs are built in a staging folder inside OUT_DIR and moved into place file by file
only when complete (:mod:`assessment.outputs`): a failed run leaves the previous result as it was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import __version__, outputs, privacy
from .errors import InputError

OUTPUT_MARKER = "readiness.json"


@dataclass
class AssessmentResult:
    """What one run produced."""

    org: str
    verdict: str
    score: int
    out_dir: Path
    readiness: dict
    snapshot: object = field(repr=False, default=None)
    simulation: object = field(repr=False, default=None)
    checks: list = field(repr=False, default_factory=list)


def analyse(
    data_dir: Path, settings_file: Path | None = None, progress=None, timings: dict | None = None
):
    """Load, simulate and check one org in memory; returns (snapshot, simulation, check results).

    ``timings``, when given, receives the seconds of each stage (``load``, ``simulate``, ``checks``).
    """
    from .checks import run_checks
    from .load import load_org, release_freed_memory
    from .sync import simulate

    t0 = time.perf_counter()
    snapshot = load_org(Path(data_dir), settings_file=settings_file, progress=progress)
    t1 = time.perf_counter()
    simulation = simulate(snapshot)
    release_freed_memory()  # the simulation's temporaries: else kept by the allocators
    t2 = time.perf_counter()
    results = run_checks(snapshot, simulation)
    release_freed_memory()
    if timings is not None:
        timings.update(load=t1 - t0, simulate=t2 - t1, checks=time.perf_counter() - t2)
    return snapshot, simulation, results


@contextmanager
def _writing_outcomes(simulation, staging: Path) -> Iterator[Future]:
    """outcomes/ written on a thread of their own; told to stop if the run fails meanwhile.

    The kernel's time growing the page cache for these files (most of their cost: 2.9 of 3.5 s
    at 2.5M records) runs beside the action files, the plan and readiness.json (issue #19). Not
    beside the checks: at 10M records both are mostly kernel time (page faults, page cache) and
    slow each other down (checks 15 → 25–29 s, outputs 18 → 10 s, two runs each). On failure or
    Ctrl-C the writer ends at its next slice (not after its last file), and leaving waits for it,
    so no file of it can outlive the staging folder.
    """
    from .sync import write_outcomes

    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as writer:
        job = writer.submit(write_outcomes, simulation, staging, stop=stop)
        try:
            yield job
        except BaseException:
            stop.set()
            raise


def _check_out_dir(data_dir: Path, out_dir: Path) -> None:
    data, out = data_dir.resolve(), out_dir.resolve()
    if out == data or data in out.parents:
        raise InputError(
            "the output folder must not be inside the export folder (inputs are never written to)",
            file=str(out_dir),
        )
    outputs.check_out_dir(out_dir)
    outputs.check_fixed_outputs(out_dir)


def _plan(snapshot, simulation, results, staging: Path, mask_pii: bool, timings: dict | None):
    """Recommendations and plan (issue #18), plan.csv written; timed as its own stage."""
    from .load import release_freed_memory
    from .plan import make_plan, write_plan_csv

    t0 = time.perf_counter()
    planned = make_plan(snapshot, simulation, results)
    release_freed_memory()  # the what-ifs' temporaries, before readiness.json and the report
    write_plan_csv(planned, staging, mask_pii=mask_pii)
    if timings is not None:
        timings["plan"] = time.perf_counter() - t0
    return planned


def assess(
    data_dir: Path | str,
    out_dir: Path | str,
    settings_file: Path | str | None = None,
    report: bool = True,
    mask_pii: bool = False,
    progress=None,
    timings: dict | None = None,
    plan: bool = True,
    baseline: Path | str | None = None,
    force_baseline: bool = False,
    cross_unit: dict | None = None,
) -> AssessmentResult:
    """Assess one org export folder and write readiness.json, outcomes/, actions/ and the report.

    With ``mask_pii`` every file written is masked by value (:mod:`assessment.privacy`): the
    folder is safe to share.

    ``timings``, when given, receives the seconds of each stage: those of :func:`analyse`, then
    ``plan``, ``outputs`` (outcomes/, actions/, readiness.json, masking), ``render``, ``publish``.
    ``baseline``: an earlier output folder of the same org to compare with (readiness.json
    ``baseline``, outcomes/moved.csv); ``force_baseline`` allows one of another org.
    ``cross_unit``: findings across business units of one org (batch), kept in readiness.json.
    """
    from .actions import write_action_files
    from .readiness import build_readiness, write_json_atomic

    data_dir, out_dir = Path(data_dir), Path(out_dir)
    settings_file = Path(settings_file) if settings_file else None
    if not data_dir.is_dir():
        raise InputError("the export folder does not exist or is not a folder", file=str(data_dir))
    _check_out_dir(data_dir, out_dir)
    previous = None
    if baseline is not None:  # read first: it may be OUT_DIR itself, about to be replaced
        from .baseline import load_output

        previous = load_output(baseline)
    snapshot, simulation, results = analyse(data_dir, settings_file, progress, timings)
    with outputs.staging(out_dir) as staging, _writing_outcomes(simulation, staging) as outcomes:
        t0 = time.perf_counter()
        write_action_files(results, staging / "actions")
        t_written = time.perf_counter()
        planned = _plan(snapshot, simulation, results, staging, mask_pii, timings) if plan else None
        t_planned = time.perf_counter()
        readiness = build_readiness(
            snapshot,
            simulation,
            results,
            tool_version=__version__,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            plan=planned,
        )
        outcomes.result()  # the baseline reads them; masking rewrites them
        if previous is not None:
            from .baseline import attach

            attach(readiness, previous, staging, force=force_baseline)
        if cross_unit is not None:
            readiness["cross_unit"] = cross_unit
        write_json_atomic(staging / OUTPUT_MARKER, readiness)
        values = privacy.personal_values(snapshot) if mask_pii else None
        masked = privacy.mask_folder(staging, values) if mask_pii else set()
        t_outputs = time.perf_counter()
        if report:
            from .report import render_report

            # The report renders inside the staging folder: its temporary files (and the
            # kernel's) stay inside the output folder and go with it.
            render_report(staging, data_dir, settings_file=settings_file, mask_pii=mask_pii)
            if mask_pii:  # the report read masked files; this masks what it took elsewhere
                privacy.mask_folder(staging, values, done=masked)
        t_render = time.perf_counter()
        outputs.publish(
            staging,
            out_dir,
            {"tool": "pardot-readiness", "tool_version": __version__, "masked": bool(mask_pii)},
        )
    if timings is not None:  # outputs: outcomes, actions, readiness.json (+ masking); no plan
        timings["outputs"] = (t_written - t0) + (t_outputs - t_planned)
        timings["render"] = t_render - t_outputs
        timings["publish"] = time.perf_counter() - t_render
    return AssessmentResult(
        org=snapshot.name,
        verdict=readiness["verdict"],
        score=readiness["score"],
        out_dir=out_dir,
        readiness=readiness,
        snapshot=snapshot,
        simulation=simulation,
        checks=results,
    )
