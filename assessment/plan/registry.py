"""The recommendation registry: ``@rule`` registers a small function of a :class:`PlanContext`.

A rule reads the snapshot, the dry run and the current settings and returns one (or a few)
:class:`Recommendation`: a change, a confirmation of the current choice, or ``cannot_tell`` naming
the export that would allow a recommendation (never a guess from absent data). Rules that need a
predicted effect ask the context for a what-if; the context reuses the base dry run and caches
each other run, so a setting is simulated at most once per plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..settings import ConnectorSettings
from .words import summary_of

ACTIONS = ("change", "confirm", "cannot_tell")
EXAMPLES = 3  # example record ids per moved outcome


@dataclass
class Recommendation:
    """One decision: what the data argues for, with evidence, predicted effect, risks, source."""

    code: str  # stable: REC-<decision>[-<object or field>]
    kind: str  # setting | field
    decision: str  # the question, in words
    setting: str  # the connector.yml key (or the field's id for field behaviours)
    current: Any
    recommended: Any
    action: str  # change | confirm | cannot_tell
    why: str
    evidence: dict[str, Any] = field(default_factory=dict)
    effect: dict[str, Any] = field(default_factory=dict)
    risks: list[str] = field(default_factory=list)
    source: str = ""
    policies: list[str] = field(default_factory=list)
    missing_exports: list[str] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)  # settings a what-if applies
    changes_matching: bool = False  # the decision changes which records link (plan order)

    def to_dict(self) -> dict[str, Any]:
        """The readiness.json ``recommendations`` entry (``changes`` kept JSON-plain)."""
        return {
            "code": self.code,
            "kind": self.kind,
            "decision": self.decision,
            "setting": self.setting,
            "current": self.current,
            "recommended": self.recommended,
            "action": self.action,
            "why": self.why,
            "evidence": self.evidence,
            "effect": self.effect,
            "effect_summary": _effect_summary(self),
            "current_label": _label(self.current, self.kind),
            "recommended_label": _label(self.recommended, self.kind),
            "risks": list(self.risks),
            "source": self.source,
            "policies": list(self.policies),
            "missing_exports": list(self.missing_exports),
            "changes": {k: _plain_change(v) for k, v in self.changes.items()},
            "changes_matching": self.changes_matching,
        }


# How the report names each sync behaviour (field recommendations).
LABELS = {
    "use_pardot": "Use the Account Engagement value",
    "use_salesforce": "Use Salesforce's value",
    "most_recent": "Use the most recently updated field",
    "email_rules": "Email change rules",
}


def _effect_summary(rec: Recommendation) -> str:
    return summary_of(rec)


def _label(value: Any, kind: str) -> str:
    """A value as the report shows it: behaviour labels for fields, on/off for switches."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if kind == "field":
        return LABELS.get(str(value), str(value).replace("_", " "))
    return str(value)


def _plain_change(value: Any) -> Any:
    if isinstance(value, dict):  # marketing_data_sharing: object -> MdsRule
        return {k: getattr(v, "__dict__", v) for k, v in value.items()}
    return value


@dataclass
class PlanContext:
    """What a rule reads: snapshot, base dry run, check results; what-ifs run once each."""

    snapshot: Any
    simulation: Any
    results: list = field(default_factory=list)
    runs: dict[str, Any] = field(default_factory=dict, repr=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # shared by the what-ifs
    what_if_seconds: float = 0.0
    quick: bool = True  # False: every what-if re-simulates in full (the reference)

    @property
    def settings(self) -> ConnectorSettings:
        """The settings the base dry run used."""
        return self.simulation.settings

    def table(self, name: str) -> pd.DataFrame | None:
        """A loaded export table, or None when the file was not given."""
        return self.snapshot.tables.get(name)

    def check(self, code: str):
        """The check result with this code, or None."""
        return next((r for r in self.results if r.code == code), None)

    def what_if(self, **changes):
        """Compare the base dry run with one under changed settings (cached per change set).

        The base run is reused, and a change confined to one rule step re-runs only that step
        (``sync.what_if.quick_what_if``, equal to the full re-simulation, which ``quick=False``
        runs instead: the reference).
        """
        from ..sync import compare, simulate
        from ..sync.what_if import quick_what_if

        key = repr(sorted((k, repr(v)) for k, v in changes.items()))
        if key not in self.runs:
            t0 = time.perf_counter()
            if self.quick:
                wi = quick_what_if(self.snapshot, self.simulation, cache=self.cache, **changes)
            else:
                wi = compare(
                    self.simulation, simulate(self.snapshot, self.settings.replace(**changes))
                )
            self.runs[key] = wi
            self.what_if_seconds += time.perf_counter() - t0
        return self.runs[key]


RuleFn = Callable[[PlanContext], "Recommendation | list[Recommendation] | None"]
RULES: dict[str, RuleFn] = {}


def rule(name: str) -> Callable[[RuleFn], RuleFn]:
    """Register a setting rule under ``name`` (rules run in registration order)."""

    def register(fn: RuleFn) -> RuleFn:
        if name in RULES:
            raise ValueError(f"recommendation rule {name!r} registered twice")
        RULES[name] = fn
        return fn

    return register


def effect_of(what_if) -> dict[str, Any]:
    """Records whose outcome moves, by move (``a → b``), with a few example ids (a dry-run diff)."""
    out: dict[str, Any] = {"prospects": {}, "salesforce": {}, "examples": {}}
    for side, frame, id_col in (
        ("prospects", what_if.changed_prospects, "prospect_id"),
        ("salesforce", what_if.changed_salesforce, "sf_id"),
    ):
        if frame.empty:
            continue
        moved = frame.loc[frame["outcome"] != frame["outcome_other"]]
        if moved.empty:
            continue
        move = moved["outcome"].astype("str") + " → " + moved["outcome_other"].astype("str")
        counts = move.value_counts()
        out[side] = {str(k): int(v) for k, v in counts.items()}
        heads = moved.assign(move=move.to_numpy()).groupby("move", sort=False).head(EXAMPLES)
        grouped = heads.groupby("move", sort=False)[id_col].agg(lambda s: s.astype(str).tolist())
        out["examples"].update({f"{side}: {k}": v for k, v in grouped.items()})
    out["moved_prospects"] = int(sum(out["prospects"].values()))
    out["moved_salesforce"] = int(sum(out["salesforce"].values()))
    out["prospect_counts"] = {
        r["outcome"]: [int(r["base"]), int(r["other"])]
        for r in what_if.prospects.to_dict("records")
        if r["base"] != r["other"]
    }
    return out


def run_rules(ctx: PlanContext) -> list[Recommendation]:
    """Every registered setting rule, in order (a rule may return none, one or several)."""
    out: list[Recommendation] = []
    for fn in RULES.values():
        got = fn(ctx)
        if got is None:
            continue
        out.extend(got if isinstance(got, list) else [got])
    return out


def combined_effect(plan, accepted: list[str] | None = None) -> dict[str, Any]:
    """The dry-run effect of accepting some recommendations together (all changes when None).

    Setting changes run as one what-if; field behaviours add their overwrite counts (the values
    the accepted behaviours overwrite at the first sync, compared with the current ones).
    """
    chosen = [
        r
        for r in plan.recommendations
        if r.action == "change" and (accepted is None or r.code in accepted)
    ]
    changes: dict[str, Any] = {}
    for r in chosen:
        changes.update(r.changes)
    out: dict[str, Any] = {"accepted": [r.code for r in chosen], "settings": changes}
    if changes and plan.context is not None:
        wi = plan.context.what_if(**changes)
        out["effect"] = effect_of(wi)
        out["prospect_counts"] = wi.prospects
        out["salesforce_counts"] = wi.salesforce
    fields = [r for r in chosen if r.kind == "field"]
    out["field_overwrites"] = {
        "current": int(sum(r.effect.get("current_overwrites") or 0 for r in fields)),
        "accepted": int(sum(r.effect.get("recommended_overwrites") or 0 for r in fields)),
        "newer_values_lost_current": int(
            sum(r.effect["newer_values_lost"].get(r.current, 0) for r in fields)
        ),
        "newer_values_lost_accepted": int(
            sum(r.effect["newer_values_lost"].get(r.recommended, 0) for r in fields)
        ),
    }
    return out
