"""The plan as HTML (report section, notebook views) and the accept/reject widget.

Everything here reads a :class:`~assessment.plan.Plan` or the ``plan`` / ``recommendations`` of
readiness.json and renders; no planning logic. Text from the data is escaped (pandas ``to_html``
with ``escape=True``, ``html.escape`` elsewhere); emails are masked on request.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd

from ..report.views import Html  # one home for the escaped-HTML block
from .steps import ORDER_NOTE
from .words import LABEL_SHORT, effect_text, summary_of  # noqa: F401  (re-exported)

_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+)")
ACTION_WORDS = {"change": "Change", "confirm": "Keep", "cannot_tell": "Needs an export"}
STEP_VIEW = ["step", "phase", "title", "records", "action_file"]


def _esc(value: Any) -> str:
    return "" if value is None else html.escape(str(value), quote=True)


def _mask(text: str, mask_pii: bool) -> str:
    return _EMAIL.sub(r"\1***@\2", text) if mask_pii else text


def _table(frame: pd.DataFrame, mask_pii: bool = False) -> str:
    if mask_pii:
        frame = frame.apply(
            lambda col: col.astype("str").str.replace(_EMAIL, r"\1***@\2", regex=True)
        )
    return frame.to_html(index=False, escape=True, na_rep="", border=0, classes="rr-table")


def recommendations_frame(recs: list[dict], decided_only: bool = False) -> pd.DataFrame:
    """Recommendations (readiness.json dicts) as a table: decision, current → recommended, why …"""
    rows = [r for r in recs if not decided_only or r["action"] != "confirm"]
    return pd.DataFrame(
        {
            "code": [r["code"] for r in rows],
            "decision": [r["decision"] for r in rows],
            "action": [ACTION_WORDS.get(r["action"], r["action"]) for r in rows],
            "current": [r["current"] for r in rows],
            "recommended": [r["recommended"] for r in rows],
            "why": [r["why"] for r in rows],
            "effect": [r.get("effect_summary") or effect_text(r.get("effect") or {}) for r in rows],
            "risks": ["; ".join(r.get("risks") or []) for r in rows],
            "rests on policies": [", ".join(r.get("policies") or []) for r in rows],
            "needs export": ["; ".join(r.get("missing_exports") or []) for r in rows],
            "source": [r["source"] for r in rows],
        },
        columns=[
            "code",
            "decision",
            "action",
            "current",
            "recommended",
            "why",
            "effect",
            "risks",
            "rests on policies",
            "needs export",
            "source",
        ],
    )


def plan_section_html(readiness: dict, mask_pii: bool = False) -> str:
    """The report's "The plan" section from readiness.json (empty text without a plan)."""
    plan = readiness.get("plan")
    recs = readiness.get("recommendations") or []
    if not plan:
        return ""
    steps = pd.DataFrame(plan.get("steps") or [], columns=STEP_VIEW + ["detail"])
    kept = sum(r["action"] == "confirm" for r in recs)
    parts = [
        "<h2>The plan</h2>",
        f"<p>{_esc(plan.get('note') or ORDER_NOTE)}</p>",
        _table(steps[STEP_VIEW], mask_pii),
        "<h3>Recommendations</h3>",
        "<p>Each recommendation comes from this org's data; its effect is a dry run under the "
        "change. Those resting on unconfirmed rules name the policies. "
        f"{kept} current choice(s) are confirmed and not listed here "
        "(readiness.json <code>recommendations</code> has them all).</p>",
        _table(recommendations_frame(recs, decided_only=True), mask_pii),
    ]
    return _mask("\n".join(parts), mask_pii)


def plan_view(plan, mask_pii: bool = False) -> Html:
    """The plan (steps and every recommendation) for a notebook."""
    doc = plan.to_json()
    body = plan_section_html(doc, mask_pii)
    body += "<h3>Confirmed choices</h3>" + _table(
        recommendations_frame([r for r in doc["recommendations"] if r["action"] == "confirm"]),
        mask_pii,
    )
    return Html(body)


def combined_html(combined: dict) -> str:
    """The combined what-if of accepted recommendations as HTML."""
    parts = [
        f"<p>Accepted: {_esc(', '.join(combined['accepted']) or 'none')}. "
        f"Settings changed: {_esc(combined['settings'] or 'none')}.</p>"
    ]
    if "prospect_counts" in combined:
        parts.append("<h4>Prospect outcomes (now → with the accepted settings)</h4>")
        parts.append(_table(combined["prospect_counts"]))
        parts.append("<h4>Salesforce record outcomes</h4>")
        parts.append(_table(combined["salesforce_counts"]))
        parts.append(f"<p>{_esc(effect_text(combined['effect']))}</p>")
    f = combined["field_overwrites"]
    parts.append(
        f"<p>Field behaviours: {f['accepted']} values overwritten at the first sync with the accepted "
        f"behaviours ({f['current']} with the current ones); newer values lost "
        f"{f['newer_values_lost_accepted']} (now {f['newer_values_lost_current']}).</p>"
    )
    return "\n".join(parts)


def combined_view(plan, accepted: list[str] | None = None) -> Html:
    """Static combined what-if (the widget's fallback): all recommended changes when None."""
    from .registry import combined_effect

    return Html(combined_html(combined_effect(plan, accepted)))


def accept_widget(plan):
    """Checkboxes to accept/reject each recommended change; shows the combined what-if."""
    import ipywidgets as w
    from IPython.display import HTML, display

    from .registry import combined_effect

    changes = [r for r in plan.recommendations if r.action == "change"]
    boxes = {
        r.code: w.Checkbox(
            value=True, description=f"{r.code}: {r.recommended}", layout=w.Layout(width="90%")
        )
        for r in changes
    }
    out = w.Output()

    def show(_=None):
        out.clear_output()
        accepted = [code for code, box in boxes.items() if box.value]
        with out:
            display(HTML(combined_html(combined_effect(plan, accepted))))

    for box in boxes.values():
        box.observe(show, names="value")
    show()
    return w.VBox([*boxes.values(), out])
