"""Verdict, score and ``readiness.json`` (contract §3).

Verdict, worst first (contract §3; ``not_ready`` > ``incomplete`` > ``ready_with_warnings`` >
``ready``):

* ``not_ready``: a blocker check failed (after scale-aware escalation, below).
* ``incomplete``: no blocker failed, but a check that can be a blocker could not run (its export
  is missing), or an export lacks a column such a check relies on (INP004). The document lists
  what to add under ``missing_inputs``. An unverified blocker is not a pass (checks.md).
* ``ready_with_warnings``: a warning check failed.
* ``ready``: otherwise. Info checks never change the verdict.

Scale-aware severity (checks.md preamble): before the verdict, record warnings listed in
``severity.ESCALATIONS`` (mass lead creation, stale CRM ids, unmapped owners and users) become
blockers when they affect more than their share of the org (``thresholds:`` in connector.yml).

Score (0–100), built so every point lost can be explained (``score_breakdown``):

* Each failed check loses ``weight × max(FLOOR, share)`` points, where ``weight`` is
  ``BLOCKER_POINTS`` (30) for a blocker, ``WARNING_POINTS`` (8) for a warning and 0 for info;
  ``share`` is ``affected / population`` (the records, mappings or users the check looked at),
  and ``FLOOR`` (0.25) is the least a failing check costs, so one bad record is never free.
  A check without a population (settings checks) costs its full weight.
* A check that could not run loses the full weight of the worst severity it could have had
  (a blocker for the checks that can be blockers): the most it could have cost had it run and
  failed. Giving fewer exports never raises the score.
* ``not_ready`` and ``incomplete`` cap the score at ``NOT_READY_CAP`` (49), so neither a failed
  blocker nor an unchecked one ever shows a reassuring number.

The score is ``max(0, round(100 − total lost))``, then the cap.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import severity as sev
from .labels import table_label
from .outputs import write_text_atomic
from .settings import POLICIES

BLOCKER_POINTS = 30.0
WARNING_POINTS = 8.0
FLOOR = 0.25
NOT_READY_CAP = 49
VERDICT_ORDER = ("ready", "ready_with_warnings", "incomplete", "not_ready")  # best to worst
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
_CODE = re.compile(r"\b([A-Z]{3})(\d{3})(?:-([A-Z]{3})?(\d{3}))?\b")
NEED_WORDS = {  # the inputs checks need (registry NEED_*), as a user names them
    "simulation": "the Pardot prospects export (the dry run needs it)",
    "describe": "the Salesforce field descriptions (describe/Lead.json, describe/Contact.json)",
}


def escalate(results, thresholds: dict[str, float] | None = None) -> list:
    """Results with record warnings above their share of the org turned into blockers.

    ``thresholds``: the org's overrides (``settings.thresholds``); defaults in ``severity``.
    """
    limits = sev.resolved(thresholds)
    by_code = {e.code: (name, e) for name, e in sev.ESCALATIONS.items()}
    out = []
    for r in results:
        name, rule = by_code.get(r.code, (None, None))
        population = getattr(r, "population", None)
        if rule is None or r.status != "fail" or r.severity == "blocker" or not population:
            out.append(r)
            continue
        share, limit = r.affected / population, limits[name]
        enough = not rule.records or r.affected >= limits["min_records"]
        if share <= limit or not enough:
            out.append(r)
            continue
        note = (
            f" A blocker at this scale: {share:.0%} of {rule.of}, above the {limit:.0%} "
            f"threshold for {rule.label}."
        )
        numbers = dict(r.numbers or {}) | {
            "escalated": {"threshold": name, "share": round(share, 4), "limit": limit}
        }
        out.append(
            dataclasses.replace(r, severity="blocker", summary=r.summary + note, numbers=numbers)
        )
    return out


def _column_gaps(results) -> list[dict[str, Any]]:
    """Columns absent from an export (INP004) that a check able to block relies on."""
    may = {r.code for r in results if sev.may_block(r.code, r.severity)}
    out = []
    for r in results:
        if r.code != "INP004" or r.status != "fail" or r.findings is None:
            continue
        for rid, msg in zip(r.findings["record_id"], r.findings["message"], strict=True):
            codes = sorted(_codes_in(str(msg)) & may)
            if codes:
                table, _, cols = str(rid).partition(".")
                words = f"column {cols} of the {table_label(table)} export"
                out.append({"input": words, "checks": codes})
    return out


def _codes_in(text: str) -> set[str]:
    codes = set()
    for area, a, _area2, b in _CODE.findall(text):
        codes.update(f"{area}{n:03d}" for n in range(int(a), int(b or a) + 1))
    return codes


def missing_inputs(results) -> list[dict[str, Any]]:
    """What to add so every check that can block runs: ``[{input, checks}]`` (empty = none)."""
    wanted: dict[str, list[str]] = {}
    for r in results:
        if r.status != "not_run" or not sev.may_block(r.code, r.severity):
            continue
        needs = (r.numbers or {}).get("missing") or ["(the check failed internally)"]
        for need in needs:
            words = NEED_WORDS.get(need) or f"the {table_label(need)} export"
            wanted.setdefault(words, []).append(r.code)
    out = [{"input": k, "checks": sorted(set(v))} for k, v in wanted.items()]
    return out + _column_gaps(results)


def verdict(results) -> str:
    """``not_ready`` > ``incomplete`` > ``ready_with_warnings`` > ``ready`` (module docstring)."""
    failed = {r.severity for r in results if r.status == "fail"}
    if "blocker" in failed:
        return "not_ready"
    if missing_inputs(results):
        return "incomplete"
    if "warning" in failed:
        return "ready_with_warnings"
    return "ready"


def _worst_weight(r) -> float:
    return _WEIGHTS.get(sev.worst_severity(r.code, r.severity), 0.0)


def score_breakdown(results) -> list[dict[str, Any]]:
    """Points lost per check: ``{code, points, why}`` (see the module docstring)."""
    out = []
    for r in results:
        if r.status == "not_run":
            weight = _worst_weight(r)
            if weight:
                why = f"could not run; costs what it could cost had it failed ({weight:g})"
                out.append({"code": r.code, "points": weight, "why": why})
            continue
        weight = _WEIGHTS.get(r.severity, 0.0)
        if r.status != "fail" or not weight:
            continue
        population = r.population
        if population:
            share = min(1.0, r.affected / population)
            factor = max(FLOOR, share)
            why = (
                f"{r.severity} failed: {r.affected:,} of {population:,} affected "
                f"({share:.1%}); {weight:g} × {factor:.2f}"
            )
        else:
            factor = 1.0
            why = f"{r.severity} failed (no record population: full weight {weight:g})"
        out.append({"code": r.code, "points": round(weight * factor, 2), "why": why})
    return out


def explain_score(results) -> tuple[int, list[dict[str, Any]]]:
    """The score and its breakdown, including the verdict's cap as its own line."""
    breakdown = score_breakdown(results)
    value = max(0, round(100 - sum(b["points"] for b in breakdown)))
    word = verdict(results)
    if word in ("not_ready", "incomplete") and value > NOT_READY_CAP:
        why = "a blocker failed" if word == "not_ready" else "a blocker risk is unchecked"
        breakdown.append(
            {
                "code": None,
                "points": float(value - NOT_READY_CAP),
                "why": f"{why}: the score is capped at {NOT_READY_CAP}",
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
    settings = snapshot.settings
    results = escalate(results, getattr(settings, "thresholds", None))
    value, breakdown = explain_score(results)
    doc = {
        "tool_version": tool_version,
        "org": snapshot.settings.org_name or snapshot.name,
        "generated_at": generated_at,
        "inputs": snapshot.load_report.inputs(),
        "settings": settings.to_dict(),
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
        # What to add for an "incomplete" verdict, and the escalation shares used (severity.py).
        "missing_inputs": missing_inputs(results),
        "thresholds": sev.resolved(getattr(settings, "thresholds", None)),
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
    text = json.dumps(_plain(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_text_atomic(path, text)
