"""The plan: recommendations and failing checks as an ordered list of things to do.

Order of doing, not of impact: settings that change matching first (they decide which records
link), then data fixes that change matching (ids, duplicates), then owners, creation and values,
then field behaviours, a backup, the unpause, and what to verify after it (§11 items 20–23).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PHASES = ("decide", "fix", "configure", "backup", "unpause", "verify")
ORDER_NOTE = (
    "The plan's order is the order of doing: settings and fixes that change which records link "
    'come first. It can differ from the impact ranking of the checks ("Fix first").'
)
# Data fixes: checks whose fix changes matching come first (ids, duplicates, scope), then owners,
# then lead creation, then field values; blockers before warnings inside a group.
FIX_GROUP = {
    "INP003": 0, "SYN001": 0, "CON008": 0, "CON005": 0,
    "DUP002": 1, "DUP003": 1, "DUP004": 1, "DUP001": 1, "DUP005": 1, "DUP006": 1,
    "USR002": 2, "USR003": 2, "USR001": 2, "USR005": 2, "USR004": 2,
    "UNA003": 3, "FLD007": 3, "UNA001": 3,
    "FLD001": 4, "FLD002": 4, "FLD003": 4, "FLD004": 4, "FLD009": 4, "FLD006": 4, "FLD005": 4,
}  # fmt: skip
MATCHING_GROUPS = (0, 1)
# The check that predicts each sync error code (spec/checks.md; §7.2 error catalogue).
ERROR_CHECK = {
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "FLD003",
    "STRING_TOO_LONG": "FLD004",
    "REQUIRED_FIELD_MISSING": "FLD007",
    "INACTIVE_OWNER_OR_USER": "USR003",
    "INVALID_EMAIL_ADDRESS": "DUP006",
    "CANNOT_UPDATE_CONVERTED_LEAD": "SYN001",
}
SPOT_CHECK = ("match_email_tie", "match_email", "create_lead", "will_error", "linked")
SPOT_EXAMPLES = 3
STEP_COLUMNS = [
    "step",
    "phase",
    "title",
    "detail",
    "records",
    "action_file",
    "ref",
    "source",
    "changes_matching",
]


def _step(phase: str, title: str, detail: str = "", **kw: Any) -> dict[str, Any]:
    row = {c: None for c in STEP_COLUMNS}
    row.update(phase=phase, title=title, detail=detail, changes_matching=False)
    row.update(kw)
    return row


def decide_steps(recs) -> list[dict]:
    """Settings to decide: changes (matching ones first), then decisions that need an export."""
    settings = [r for r in recs if r.kind == "setting"]
    out = []
    for r in sorted(
        (r for r in settings if r.action == "change"), key=lambda r: not r.changes_matching
    ):
        moved = r.effect.get("moved_prospects", 0) + r.effect.get("moved_salesforce", 0)
        detail = r.why + (f" Dry run: {moved} records change outcome." if r.effect else "")
        out.append(
            _step(
                "decide",
                f"{r.decision}: change to {r.to_dict()['recommended_label']}",
                detail,
                records=moved or None,
                ref=r.code,
                source=r.source,
                changes_matching=r.changes_matching,
            )
        )
    for r in (r for r in recs if r.action == "cannot_tell" and r.kind == "setting"):
        out.append(
            _step(
                "decide",
                f"{r.decision}: add the export that decides it",
                f"{r.why}. Needed: {'; '.join(r.missing_exports)}",
                ref=r.code,
                source=r.source,
            )
        )
    return out


def fix_steps(results, recs) -> list[dict]:
    """Data fixes from failing blocker/warning checks, matching-changing fixes first."""
    from ..actions import action_file_name

    failing = [r for r in results if r.status == "fail" and r.severity in ("blocker", "warning")]
    failing.sort(key=lambda r: (FIX_GROUP.get(r.code, 5), r.severity != "blocker", r.code))
    out = []
    for r in failing:
        action = r.action_file
        if action is None and r.findings is not None and not r.findings.empty:
            action = f"actions/{action_file_name(r.code, r.name)}"
        out.append(
            _step(
                "fix",
                f"{r.code} {r.name}: {r.remediation}".strip(),
                r.summary,
                records=int(r.affected),
                action_file=action,
                ref=r.code,
                source=r.source,
                changes_matching=FIX_GROUP.get(r.code, 5) in MATCHING_GROUPS,
            )
        )
    for r in recs:  # consent fields whose two sides disagree: align before any behaviour runs
        lost = r.evidence.get("opt_outs_lost") if r.kind == "field" else None
        if lost and (lost.get("use_pardot") or lost.get("use_salesforce")):
            n = int(lost.get("use_pardot") or 0) + int(lost.get("use_salesforce") or 0)
            both = bool(lost.get("use_pardot") and lost.get("use_salesforce"))
            out.append(
                _step(
                    "fix",
                    f"Align {r.setting}: set opted-out on both sides where one side has it",
                    "no sync behaviour keeps every opt-out when each side holds ones the other "
                    "lacks"
                    if both
                    else "the pairs whose opt-outs differ then no longer depend on the sync "
                    "behaviour being set first (F-7)",
                    records=n,
                    ref=r.code,
                    source="connector-behavior.md F-7, §11 item 21",
                )
            )
    return out


def configure_steps(recs) -> list[dict]:
    """Field sync behaviours to change, largest overwrite difference first."""
    changes = [r for r in recs if r.kind == "field" and r.action == "change"]
    changes.sort(key=lambda r: -(r.effect.get("current_overwrites") or 0))
    return [
        _step(
            "configure",
            f"Set {r.decision} to {r.recommended} (now {r.current})",
            r.why,
            records=r.effect.get("recommended_overwrites"),
            ref=r.code,
            source=r.source,
        )
        for r in changes
    ]


def verify_steps(simulation) -> list[dict]:
    """After unpausing: sync errors to watch (predicted codes) and records to spot-check."""
    pr = simulation.prospects
    out = []
    codes = pr["error_code"].dropna().astype("str")
    codes = codes[codes != ""].value_counts()
    for code, n in codes.items():
        out.append(
            _step(
                "verify",
                f"Watch the sync error list for {code}",
                f"predicted by the dry run ({ERROR_CHECK.get(code, 'simulation')}); export the "
                "error list and run again: SYN004 ties each error to its check",
                records=int(n),
                ref=ERROR_CHECK.get(code, "SYN004"),
                source="connector-behavior.md §7.2, SY-5",
            )
        )
    # Cautious predictions first, export order inside (a stable sort on "not cautious").
    order = np.argsort(~pr["caution"].to_numpy(dtype=bool), kind="stable")
    ranked = pr["outcome"].to_numpy(dtype=object)[order]
    for outcome in SPOT_CHECK:
        hit = np.flatnonzero(ranked == outcome)
        if not len(hit):
            continue
        ids = pr["prospect_id"].iloc[order[hit[:SPOT_EXAMPLES]]]
        out.append(
            _step(
                "verify",
                f"Spot-check {outcome} prospects: {', '.join(ids.astype(str))}",
                "compare each record in both systems with the dry run's prediction "
                "(outcomes/prospects.csv); uncertain predictions first",
                records=len(hit),
                ref=outcome,
                source="connector-behavior.md §11 item 23",
            )
        )
    return out


def build_steps(recs, results, simulation) -> pd.DataFrame:
    """The ordered plan as a frame with ``STEP_COLUMNS`` (one row per step)."""
    rows = decide_steps(recs) + fix_steps(results, recs) + configure_steps(recs)
    rows.append(
        _step(
            "backup",
            "Back up leads, contacts and prospects",
            "overwrites are not reversible (§11 item 20)",
            source="connector-behavior.md §11 item 20",
        )
    )
    rows.append(
        _step(
            "unpause",
            "Unpause the connector (off-hours)",
            "automation on lead/contact updates swells the queue and raises lock errors (SY-3)",
            source="connector-behavior.md SY-3, §11 item 22",
        )
    )
    rows += verify_steps(simulation)
    frame = pd.DataFrame(rows, columns=STEP_COLUMNS)
    frame["step"] = range(1, len(frame) + 1)
    frame["records"] = frame["records"].astype("Int64")
    frame["changes_matching"] = frame["changes_matching"].astype(bool)
    return frame
