"""Planning: recommended settings and field sync behaviours, each backed by the dry run, as a plan.

``make_plan(snapshot, simulation, results)`` runs the registered setting rules (what-ifs only for
decisions the evidence puts in question, reusing the base dry run), a field-behaviour
recommendation for every mapped field, and orders everything into steps. ``readiness.json``
carries ``plan`` and ``recommendations`` (:meth:`Plan.to_json`); ``plan.csv`` holds the steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import settings_rules  # noqa: F401  (registers the setting rules)
from .field_rules import field_recommendations
from .registry import (
    RULES,
    PlanContext,
    Recommendation,
    combined_effect,
    rule,
    run_rules,
)
from .steps import ORDER_NOTE, STEP_COLUMNS, build_steps
from .view import accept_widget, combined_view, plan_section_html, plan_view

__all__ = [
    "ORDER_NOTE",
    "RULES",
    "STEP_COLUMNS",
    "Plan",
    "PlanContext",
    "Recommendation",
    "accept_widget",
    "combined_effect",
    "combined_view",
    "make_plan",
    "plan_frame",
    "plan_section_html",
    "plan_view",
    "rule",
    "write_plan_csv",
]


@dataclass
class Plan:
    """Recommendations, the ordered steps, and what the planning cost."""

    recommendations: list[Recommendation]
    steps: pd.DataFrame
    seconds: float
    what_ifs: int
    what_if_seconds: float
    context: PlanContext | None = field(default=None, repr=False)

    def by_code(self, code: str) -> Recommendation | None:
        """The recommendation with this code, or None."""
        return next((r for r in self.recommendations if r.code == code), None)

    def table(self) -> pd.DataFrame:
        """One row per recommendation (code, decision, current, recommended, action, why)."""
        cols = ["code", "kind", "decision", "current", "recommended", "action", "why"]
        return pd.DataFrame([{c: getattr(r, c) for c in cols} for r in self.recommendations])

    def to_json(self) -> dict[str, Any]:
        """``{"plan": ..., "recommendations": [...]}`` for readiness.json."""
        steps = self.steps.astype(object).where(self.steps.notna(), None)
        return {
            "plan": {
                "note": ORDER_NOTE,
                "steps": steps.to_dict("records"),
                "what_ifs_run": self.what_ifs,  # times are not written: outputs stay reproducible
            },
            "recommendations": [r.to_dict() for r in self.recommendations],
        }


def make_plan(snapshot, simulation, results=None, quick: bool = True) -> Plan:
    """Recommendations (settings and every mapped field) and the ordered plan for one org.

    ``quick=False`` runs every what-if as a full re-simulation (the reference the quick
    what-ifs are tested against).
    """
    t0 = time.perf_counter()
    ctx = PlanContext(snapshot, simulation, list(results or []), quick=quick)
    recs = run_rules(ctx) + field_recommendations(ctx)
    steps = build_steps(recs, ctx.results, simulation)
    return Plan(
        recs, steps, time.perf_counter() - t0, len(ctx.runs), ctx.what_if_seconds, context=ctx
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def plan_frame(plan: Plan, mask_pii: bool = False) -> pd.DataFrame:
    """The steps as plan.csv holds them: formula-safe text, emails masked on request."""
    frame = plan.steps.copy()
    for col in ("title", "detail", "action_file", "ref", "source", "phase"):
        text = frame[col].astype("str")
        if mask_pii:
            from ..privacy import mask_text

            text = mask_text(text).where(text.notna(), pd.NA)
        risky = text.str.startswith(_FORMULA_START).fillna(False)
        frame[col] = text.mask(risky, "'" + text)  # PITFALLS: CSV injection
    return frame


def write_plan_csv(plan: Plan, out_dir, mask_pii: bool = False):
    """Write OUT_DIR/plan.csv (atomically); returns its path."""
    from pathlib import Path

    from ..actions import write_csv_atomic

    path = Path(out_dir) / "plan.csv"
    write_csv_atomic(plan_frame(plan, mask_pii), path)
    return path
