"""Recommendations in words: the one-line effect of a change (readiness.json ``effect_summary``).

Plain text, no HTML: ``plan.registry`` writes it into readiness.json and ``plan.view`` shows it.
"""

from __future__ import annotations

from typing import Any


def effect_text(effect: dict, current: Any = None, recommended: Any = None) -> str:
    """One line: the dry-run moves of a setting, or the overwrites of a field behaviour."""
    if not effect:
        return "no what-if run (the evidence does not put this decision in question)"
    if "overwrites" in effect:
        newer = effect.get("newer_values_lost") or {}
        text = f"the first sync overwrites {effect.get('recommended_overwrites')} values"
        if current != recommended:
            text += f" ({effect.get('current_overwrites')} with the current behaviour)"
        return text + (
            f"; newer values replaced by older ones: {newer.get(recommended, 0)}"
            + (f" ({newer.get(current, 0)} now)" if current != recommended else "")
        )
    moves = {
        **effect.get("prospects", {}),
        **{f"SF {k}": v for k, v in effect.get("salesforce", {}).items()},
    }
    if not moves:
        return "dry run: no record changes outcome"
    parts = [f"{k}: {v}" for k, v in moves.items()]
    examples = "; ".join(f"{k} e.g. {', '.join(v)}" for k, v in effect.get("examples", {}).items())
    return "dry run: " + ", ".join(parts) + (f" ({examples})" if examples else "")


def summary_of(rec) -> str:
    """The effect of one recommendation in words (what readiness.json calls effect_summary)."""
    if rec.action == "cannot_tell":
        return "cannot tell: " + "; ".join(rec.missing_exports or ["no data"])
    text = effect_text(rec.effect, rec.current, rec.recommended)
    lost = rec.evidence.get("opt_outs_lost") if rec.kind == "field" else None
    if lost:
        text += "; opt-outs turned back to false: " + ", ".join(
            f"{LABEL_SHORT.get(k, k)} {v}" for k, v in lost.items() if v is not None
        )
    return text


LABEL_SHORT = {
    "use_pardot": "AE value",
    "use_salesforce": "Salesforce value",
    "most_recent": "most recent",
}
