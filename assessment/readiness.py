"""Verdict, score and ``readiness.json`` (contract §3).

Verdict: ``not_ready`` when any blocker check fails, ``ready_with_warnings`` when only
warning checks fail or a blocker check could not run (an unverified blocker is not a pass:
checks.md says a check with missing inputs is never ``pass``), else ``ready``. Info checks never
change it; warning checks that could not run cost points, below, but do not change the verdict.

Score (0–100), built so every point lost can be explained (``score_breakdown``):

* Each failed check loses ``weight × max(FLOOR, share)`` points, where ``weight`` is
  ``BLOCKER_POINTS`` (30) for a blocker, ``WARNING_POINTS`` (8) for a warning and 0 for info;
  ``share`` is ``affected / population`` (the records, mappings or users the check looked at),
  and ``FLOOR`` (0.25) is the least a failing check costs, so one bad record is never free.
  A check without a population (settings checks) costs its full weight. So a check never loses
  more than its weight: a blocker affecting every record costs 30, one affecting 1% costs 7.5.
* Each blocker or warning check that could not run loses ``NOT_RUN_POINTS`` (2): an unverified
  risk is not a pass.
* When the verdict is ``not_ready`` the score is capped at ``NOT_READY_CAP`` (49), so a
  not-ready org never shows a reassuring number.

The score is ``max(0, round(100 − total lost))``, then the cap.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .settings import POLICIES

BLOCKER_POINTS = 30.0
WARNING_POINTS = 8.0
FLOOR = 0.25
NOT_RUN_POINTS = 2.0
NOT_READY_CAP = 49
TOP_LEVEL_KEYS = (
    "tool_version",
    "org",
    "generated_at",
    "inputs",
    "settings",
    "verdict",
    "score",
    "checks",
    "simulation",
)
_WEIGHTS = {"blocker": BLOCKER_POINTS, "warning": WARNING_POINTS, "info": 0.0}


def verdict(results) -> str:
    """``not_ready`` if a blocker fails; ``ready_with_warnings`` if a warning fails or a blocker
    could not run; else ``ready``."""
    failed = {r.severity for r in results if r.status == "fail"}
    if "blocker" in failed:
        return "not_ready"
    unverified = any(r.severity == "blocker" and r.status == "not_run" for r in results)
    if "warning" in failed or unverified:
        return "ready_with_warnings"
    return "ready"


def score_breakdown(results) -> list[dict[str, Any]]:
    """Points lost per check: ``{code, points, why}`` (see the module docstring)."""
    out = []
    for r in results:
        weight = _WEIGHTS.get(r.severity, 0.0)
        if r.status == "not_run" and weight:
            out.append(
                {
                    "code": r.code,
                    "points": NOT_RUN_POINTS,
                    "why": f"{r.severity} check not run: {r.summary}",
                }
            )
            continue
        if r.status != "fail" or not weight:
            continue
        population = r.population
        if population:
            share = min(1.0, r.affected / population)
            factor = max(FLOOR, share)
            why = (
                f"{r.severity} failed: {r.affected} of {population} affected "
                f"({share:.1%}); {weight:g} × {factor:.2f}"
            )
        else:
            factor = 1.0
            why = f"{r.severity} failed (no record population: full weight {weight:g})"
        out.append({"code": r.code, "points": round(weight * factor, 2), "why": why})
    return out


def explain_score(results) -> tuple[int, list[dict[str, Any]]]:
    """The score and its breakdown, including the not_ready cap as its own line."""
    breakdown = score_breakdown(results)
    value = max(0, round(100 - sum(b["points"] for b in breakdown)))
    if verdict(results) == "not_ready" and value > NOT_READY_CAP:
        breakdown.append(
            {
                "code": None,
                "points": float(value - NOT_READY_CAP),
                "why": f"a blocker failed: not_ready caps the score at {NOT_READY_CAP}",
            }
        )
        value = NOT_READY_CAP
    return int(value), breakdown


def score(results) -> int:
    """The 0–100 readiness score (formula in the module docstring)."""
    return explain_score(results)[0]


def assumptions(simulation) -> list[dict[str, Any]]:
    """The policies (unconfirmed rules) the run's predictions rest on, with record counts."""
    counts: dict[str, int] = {}
    for attr in ("prospects", "salesforce"):
        frame = getattr(simulation, attr, None)
        if not isinstance(frame, pd.DataFrame) or "policies" not in frame:
            continue
        parts = frame["policies"].astype("str").dropna()
        parts = parts[parts != ""].str.split(";").explode()
        for name, n in parts[parts != ""].value_counts().items():
            counts[name] = counts.get(name, 0) + int(n)
    settings = getattr(simulation, "settings", None)
    out = []
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        policy = POLICIES.get(name)
        out.append(
            {
                "policy": name,
                "rule": policy.rule if policy else None,
                "status": policy.status if policy else None,
                "value": _plain(getattr(settings, name, None)) if settings is not None else None,
                "records": n,
                "summary": policy.summary if policy else None,
            }
        )
    return out


def problems_summary(snapshot) -> dict[str, Any]:
    """Loader problems counted by code and severity."""
    pr = snapshot.load_report.problems
    if pr is None or pr.empty:
        return {"total": 0, "by_code": {}, "by_severity": {}}
    return {
        "total": int(len(pr)),
        "by_code": {str(k): int(v) for k, v in pr["code"].value_counts().items()},
        "by_severity": {str(k): int(v) for k, v in pr["severity"].value_counts().items()},
    }


def _simulation_json(simulation) -> dict[str, Any]:
    if simulation is None:
        return {"prospects": {}, "salesforce": {}, "fields": [], "initial_sync": {}}
    if hasattr(simulation, "to_json"):
        return simulation.to_json()
    return {
        "prospects": simulation.prospects["outcome"].value_counts().to_dict(),
        "salesforce": simulation.salesforce["outcome"].value_counts().to_dict(),
        "fields": simulation.fields.to_dict("records"),
        "initial_sync": simulation.initial_sync,
    }


def build_readiness(
    snapshot, simulation, results, tool_version: str, generated_at: str, plan=None
) -> dict:
    """The readiness.json document: the contract §3 keys, then score_breakdown and assumptions.

    ``plan`` (an ``assessment.plan.Plan``, absent with ``--no-plan``) adds ``plan`` and
    ``recommendations``.
    """
    value, breakdown = explain_score(results)
    doc = {
        "tool_version": tool_version,
        "org": snapshot.settings.org_name or snapshot.name,
        "generated_at": generated_at,
        "inputs": snapshot.load_report.inputs(),
        "settings": snapshot.settings.to_dict(),
        "verdict": verdict(results),
        "score": value,
        "checks": [r.to_dict() for r in results],
        "simulation": _simulation_json(simulation),
        # Optional extras (contract §3 allows more keys; the ones above are fixed).
        "score_breakdown": breakdown,
        "assumptions": assumptions(simulation),
        "problems": problems_summary(snapshot),
        # Folder entries not read (files, archives, subfolders), so the report can list them.
        "ignored_inputs": snapshot.load_report.ignored_inputs(),
    }
    if plan is not None:
        doc.update(plan.to_json())  # "plan" and "recommendations" (issue #18)
    return _plain(doc)


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy/pandas scalars, NA, timestamps and tuples made plain."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def write_json_atomic(path: Path | str, data: dict) -> Path:
    """Write JSON to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(_plain(data), handle, indent=2, ensure_ascii=False, allow_nan=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
