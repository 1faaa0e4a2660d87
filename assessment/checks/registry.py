"""The check registry: ``@check`` registers a function of a :class:`CheckContext`.

Modelled on pandera's registered checks and papermill's registries (STYLE.md): a check is a
small function registered with its code, name, area and severity beside the logic; it returns
the flagged records as a findings frame (same columns for every check) plus summary numbers.
Rendering (report, action CSVs, readiness.json) is a separate layer.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AssessmentError
from ..load import release_freed_memory
from ..settings import ConnectorSettings
from ..snapshot import OrgSnapshot

FINDING_COLUMNS = [
    "code",
    "object",
    "record_id",
    "prospect_id",
    "sf_id",
    "email",
    "field",
    "value",
    "message",
    "suggested_fix",
]
SEVERITIES = ("blocker", "warning", "info")
AREAS = ("CON", "FLD", "DUP", "UNA", "USR", "SYN", "INP")
STATUSES = ("pass", "fail", "not_run")

# Pseudo-inputs a check can need besides export tables.
NEED_SIMULATION = "simulation"
NEED_DESCRIBE = "describe"  # at least one of describe/Lead.json, Contact.json


@dataclass
class CheckResult:
    """The outcome of one check (docs/architecture.md, contract.md §3)."""

    code: str
    name: str
    area: str
    severity: str
    status: str
    affected: int
    summary: str
    remediation: str
    source: str
    action_file: str | None
    findings: pd.DataFrame
    numbers: dict[str, Any] = field(default_factory=dict)
    population: int | None = None  # records (or mappings / users) the check looked at

    def to_dict(self) -> dict[str, Any]:
        """The readiness.json entry of this check (contract §3 keys plus ``numbers``)."""
        return {
            "code": self.code,
            "name": self.name,
            "area": self.area,
            "severity": self.severity,
            "status": self.status,
            "affected": int(self.affected),
            "summary": self.summary,
            "remediation": self.remediation,
            "source": self.source,
            "action_file": self.action_file,
            "numbers": self.numbers,
        }


@dataclass
class Outcome:
    """What a check function returns: its findings and summary numbers.

    ``failed`` defaults to "any finding"; ``affected`` defaults to the number of distinct
    (object, record_id) pairs in the findings; ``severity`` overrides the registered default
    where the spec makes it settings-dependent.
    """

    findings: pd.DataFrame
    summary: str
    numbers: dict[str, Any] = field(default_factory=dict)
    failed: bool | None = None
    affected: int | None = None
    severity: str | None = None
    population: int | None = None


@dataclass
class CheckContext:
    """What a check reads: the snapshot, the simulator's result and the resolved settings.

    ``cache`` holds computations shared by the checks of one run (live-record positions, email
    groups); ``run_checks`` gives every check of a run the same dict, so it never outlives the
    run's snapshot and settings. Cached values are read-only for the checks.
    """

    snapshot: OrgSnapshot
    simulation: Any
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per run under ``key``; later calls of the run reuse the value."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    @property
    def settings(self) -> ConnectorSettings:
        """The settings the simulation ran with (a what-if's, not the snapshot's); the
        snapshot's when there is no simulation."""
        simulated = getattr(self.simulation, "settings", None)
        return simulated if isinstance(simulated, ConnectorSettings) else self.snapshot.settings

    def table(self, name: str) -> pd.DataFrame:
        """A loaded table (the registry guarantees it exists when the check needs it)."""
        return self.snapshot.tables[name]

    def has(self, name: str) -> bool:
        """True when the table (or pseudo-input) is available."""
        return available(self.snapshot, self.simulation, name)


@dataclass(frozen=True)
class Check:
    """One registered check."""

    code: str
    name: str
    area: str
    severity: str
    needs: tuple[str, ...]
    source: str
    func: Callable[[CheckContext], Outcome]

    @property
    def doc(self) -> str:
        """The check's docstring, dedented (the report quotes it)."""
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def title(self) -> str:
        """First line of the docstring."""
        return self.doc.splitlines()[0] if self.doc else self.name

    def section(self, heading: str) -> str:
        """One ``## heading`` section of the docstring, as plain text."""
        return doc_sections(self.doc).get(heading, "")


CHECKS: dict[str, Check] = {}
_CODE_RE = re.compile(r"^(CON|FLD|DUP|UNA|USR|SYN|INP)\d{3}$")
_NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def check(
    code: str,
    name: str,
    area: str,
    severity: str,
    needs: tuple[str, ...] = (),
    source: str = "",
) -> Callable[[Callable[[CheckContext], Outcome]], Callable[[CheckContext], Outcome]]:
    """Register a check function under a stable code (decorator)."""
    if not _CODE_RE.match(code) or code[:3] != area:
        raise ValueError(f"bad check code {code!r} for area {area!r}")
    if not _NAME_RE.match(name):
        raise ValueError(f"check name {name!r} is not kebab-case")
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} is not one of {SEVERITIES}")

    def register(func: Callable[[CheckContext], Outcome]) -> Callable[[CheckContext], Outcome]:
        if code in CHECKS:
            raise ValueError(f"check {code} registered twice")
        CHECKS[code] = Check(code, name, area, severity, tuple(needs), source, func)
        return func

    return register


def get_check(code: str) -> Check:
    """The registered check with this code; a clear error for an unknown code."""
    try:
        return CHECKS[str(code).strip().upper()]
    except KeyError:
        raise AssessmentError(
            f"unknown check code {code!r}; known codes: {', '.join(sorted(CHECKS))}"
        ) from None


def doc_sections(doc: str) -> dict[str, str]:
    """Split a ruff-style docstring into ``{"summary": …, "What it checks": …, …}``."""
    doc = inspect.cleandoc(doc)
    parts = re.split(r"^##\s+(.+?)\s*$", doc, flags=re.M)
    out = {"summary": parts[0].strip()}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        out[heading.strip()] = " ".join(body.split())
    return out


def available(snapshot: OrgSnapshot, simulation: Any, need: str) -> bool:
    """True when an input a check needs is present."""
    if need == NEED_SIMULATION:
        return simulation is not None
    if need == NEED_DESCRIBE:
        return bool(snapshot.describe)
    if need.startswith("describe:"):
        return need.split(":", 1)[1] in snapshot.describe
    return snapshot.has(need)


def missing_needs(snapshot: OrgSnapshot, simulation: Any, chk: Check) -> list[str]:
    """The inputs a check needs that this run does not have."""
    return [n for n in chk.needs if not available(snapshot, simulation, n)]


def need_label(need: str) -> str:
    """How a missing input is named to the user."""
    if need == NEED_DESCRIBE:
        return "describe/Lead.json or describe/Contact.json"
    if need.startswith("describe:"):
        return f"describe/{need.split(':', 1)[1]}.json"
    if need == NEED_SIMULATION:
        return "the simulation (it did not run)"
    return f"the {need} export"


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows."""
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in FINDING_COLUMNS})
    frame.index.name = "row"
    return frame


def make_findings(
    code: str,
    obj: Any,
    record_id: Any,
    *,
    index: pd.Index | None = None,
    prospect_id: Any = None,
    sf_id: Any = None,
    email: Any = None,
    field: Any = None,
    value: Any = None,
    message: Any = None,
    suggested_fix: Any = None,
) -> pd.DataFrame:
    """Build a findings frame from Series (aligned on one index) or scalars, vectorised."""
    values = {
        "code": code,
        "object": obj,
        "record_id": record_id,
        "prospect_id": prospect_id,
        "sf_id": sf_id,
        "email": email,
        "field": field,
        "value": value,
        "message": message,
        "suggested_fix": suggested_fix,
    }
    if index is None:
        for v in values.values():
            if isinstance(v, pd.Series):
                index = v.index
                break
    if index is None:
        raise ValueError("make_findings needs at least one Series or an index")
    cols = {}
    for name, v in values.items():
        if isinstance(v, pd.Series):
            s = v if v.index.equals(index) else v.reindex(index)
            # Missing values stay NA (astype keeps them); only empty strings become NA too.
            s = s.astype("str") if len(s) else pd.Series(dtype="str", index=index)
        elif len(index):
            # A scalar: converted once, then repeated (no list of len(index) Python objects).
            one = pd.Series([v], dtype="object").astype("str").array
            s = pd.Series(one.take(np.zeros(len(index), dtype=np.intp)), index=index)
        else:
            s = pd.Series(dtype="str", index=index)
        cols[name] = s.mask(s == "")
    frame = pd.DataFrame(cols, index=index)[FINDING_COLUMNS]
    frame.index.name = "row"
    return frame


def concat_findings(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate findings frames (keeping each record's spreadsheet row as the index)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_findings()
    out = pd.concat(frames)
    out.index.name = "row"
    return out


def count_records(findings: pd.DataFrame) -> int:
    """Distinct (object, record_id) pairs: a record flagged twice counts once."""
    if findings.empty:
        return 0
    keys = findings[["object", "record_id"]].dropna(subset=["record_id"])
    return int(len(keys.drop_duplicates()))


def _not_run(chk: Check, missing: list[str]) -> CheckResult:
    names = ", ".join(need_label(n) for n in missing)
    return CheckResult(
        code=chk.code,
        name=chk.name,
        area=chk.area,
        severity=chk.severity,
        status="not_run",
        affected=0,
        summary=f"Not run: {names} missing.",
        remediation=f"Add {names} to the export folder and run again.",
        source=chk.source,
        action_file=None,
        findings=empty_findings(),
        numbers={"missing": missing},
    )


def run_check(
    chk: Check, snapshot: OrgSnapshot, simulation: Any, cache: dict[str, Any] | None = None
) -> CheckResult:
    """Run one check; not_run (never pass) when an input it needs is absent.

    ``cache``: the run's shared computations (see :class:`CheckContext`); a fresh one if None.
    """
    missing = missing_needs(snapshot, simulation, chk)
    if missing:
        return _not_run(chk, missing)
    try:
        out = chk.func(CheckContext(snapshot, simulation, {} if cache is None else cache))
    except AssessmentError:
        raise
    except Exception as exc:  # one faulty check must not sink the whole assessment: not_run
        result = _not_run(chk, [])
        result.summary = f"Not run: internal error in this check ({type(exc).__name__}: {exc})."
        result.remediation = "Report this to the toolkit maintainers; the other checks are valid."
        result.numbers = {"error": f"{type(exc).__name__}: {exc}"}
        return result
    findings = out.findings if out.findings is not None else empty_findings()
    missing_cols = [c for c in FINDING_COLUMNS if c not in findings.columns]
    if missing_cols:
        raise AssertionError(f"{chk.code} findings lack {missing_cols}")
    findings = findings[FINDING_COLUMNS]
    failed = bool(len(findings)) if out.failed is None else bool(out.failed)
    affected = count_records(findings) if out.affected is None else int(out.affected)
    severity = out.severity or chk.severity
    return CheckResult(
        code=chk.code,
        name=chk.name,
        area=chk.area,
        severity=severity,
        status="fail" if failed else "pass",
        affected=affected if failed else 0,
        summary=out.summary,
        remediation=chk.section("How to fix it"),
        source=chk.source,
        action_file=None,
        findings=findings if failed else empty_findings(),
        numbers=out.numbers,
        population=out.population,
    )


def run_checks(
    snapshot: OrgSnapshot, simulation: Any, codes: list[str] | None = None
) -> list[CheckResult]:
    """Run every registered check (or the given codes) in code order."""
    chosen = [get_check(c) for c in codes] if codes else [CHECKS[c] for c in sorted(CHECKS)]
    cache: dict[str, Any] = {}  # shared by this run's checks only (what-if runs get their own)
    results = []
    for chk in chosen:
        results.append(run_check(chk, snapshot, simulation, cache))
        # Each check's temporaries go back before the next: the allocators otherwise keep
        # them beside the findings (0.1 GB at 2.5M records, ~0.3 GB at 10M; issue #19).
        release_freed_memory()
    return results
