"""Views for notebooks 01-07 over in-memory results, PII masking and the email lookup.

These render stage results (a snapshot, a simulation, check results) as escaped HTML tables for
the exploration notebooks. The report of a finished output folder is :mod:`.data` + :mod:`.render`
(templates). Every text taken from the data is escaped (``html.escape`` /
``DataFrame.to_html(escape=True)``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..privacy import (  # noqa: F401  (re-exported: notebooks and older callers)
    EMAIL_COLUMNS,
    NAME_COLUMNS,
    mask_email,
    mask_frame,
    mask_name,
    mask_text,
)

# The per-check columns of readiness.json (contract.md §3), in report order.
CHECK_COLUMNS = [
    "code",
    "name",
    "area",
    "severity",
    "status",
    "affected",
    "summary",
    "remediation",
    "source",
    "action_file",
]

REPO_DIR = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO_DIR / "notebooks"
TABLE_ROWS = 20  # rows shown per table; the full lists are in actions/ and outcomes/

AREAS = {
    "CON": ("Connector settings", "How the connector is configured and what that implies."),
    "FLD": (
        "Field mapping",
        "Whether mapped fields can carry each other's values, and what the "
        "first sync will overwrite.",
    ),
    "DUP": ("Duplicate emails", "Records sharing an email: the connector must pick one of them."),
    "UNA": ("Unassigned prospects", "Prospects without an assigned user do not create leads."),
    "USR": ("User mapping", "Pardot users mapped to Salesforce users: owners of created leads."),
    "SYN": ("Sync state and volume", "Stale CRM ids, the size of the first sync, sync errors."),
    "INP": ("Input data", "Whether the exports were complete and clean enough to trust the rest."),
}

PROSPECT_OUTCOMES = {  # contract.md §4, in plain words
    "linked": "already linked to a Salesforce record; stays linked and syncs",
    "match_email": "will link by email to exactly one lead or contact",
    "match_email_tie": "several records share the email; links to the one the connector picks",
    "create_lead": "no match, assigned: the connector creates a lead",
    "pardot_only": "no match, unassigned: nothing is created in Salesforce",
    "stale_crm_id": "carries a CRM id missing from Salesforce (deleted, merged or invisible)",
    "out_of_scope": "the match is outside Marketing Data Sharing or the connector user's view",
    "will_error": "the sync is predicted to fail (see the reason)",
}

SALESFORCE_OUTCOMES = {  # contract.md §5
    "linked": "a prospect is (or will be) linked to it",
    "creates_prospect": "the connector will create a prospect at unpause",
    "no_prospect": "no prospect, and none will be created (see the reason)",
    "out_of_scope": "excluded by Marketing Data Sharing or the connector user's view",
}

# ---------------------------------------------------------------------------------------------
# paths


def resolve_path(path: str | os.PathLike | None) -> Path | None:
    """A path as given, else relative to the working folder, the notebooks folder or the repo."""
    if path is None or str(path).strip() == "":
        return None
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    for base in (Path.cwd(), NOTEBOOK_DIR, REPO_DIR):
        if (base / p).exists():
            return (base / p).resolve()
    return (NOTEBOOK_DIR / p).resolve()


# ---------------------------------------------------------------------------------------------
# PII masking

# The masking helpers live in privacy.py (imported above, re-exported for older callers).


# ---------------------------------------------------------------------------------------------
# one email across prospects, leads and contacts


def lookup_email(snapshot, email: str, mask_pii: bool = False) -> pd.DataFrame:
    """Every prospect, lead, contact and person account whose email key equals ``email``'s."""
    from ..normalize import email_key

    key = email_key(pd.Series([email], dtype="str")).iloc[0]
    cols = ["table", "row", "record_id", "email", "first_name", "last_name", "owner"]
    if pd.isna(key):
        return pd.DataFrame(columns=cols)
    spec = [  # table, id column, key column, raw email column, owner column
        ("pardot_prospects", "prospect_id", "email_key", "email", "assigned_user"),
        ("sf_leads", "id", "email_key", "email", "owner_id"),
        ("sf_contacts", "id", "email_key", "email", "owner_id"),
        ("sf_accounts", "id", "person_email_key", "person_email", "owner_id"),
    ]
    parts = []
    for table, id_col, key_col, raw_col, owner_col in spec:
        frame = snapshot.tables.get(table)
        if frame is None or key_col not in frame.columns:
            continue
        hit = frame.loc[frame[key_col] == key]
        if hit.empty:
            continue
        part = pd.DataFrame(
            {
                "table": table,
                "row": hit.index.to_numpy(),
                "record_id": _col(hit, id_col),
                "email": _col(hit, raw_col),
                "first_name": _col(hit, "first_name"),
                "last_name": _col(hit, "last_name"),
                "owner": _col(hit, owner_col),
            }
        )
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    return mask_frame(out) if mask_pii else out


def _col(frame: pd.DataFrame, name: str) -> Any:
    if name in frame.columns:
        return frame[name].astype("str").to_numpy()
    return pd.NA


# ---------------------------------------------------------------------------------------------
# HTML building blocks


@dataclass
class Html:
    """A block of already-escaped HTML that Jupyter displays as rich output."""

    body: str

    def _repr_html_(self) -> str:
        return self.body

    def __str__(self) -> str:
        return self.body


def esc(value: Any) -> str:
    """Text from the data, escaped for HTML (NA → empty)."""
    if value is None or (not isinstance(value, (list, dict, tuple)) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def table_html(
    frame: pd.DataFrame,
    max_rows: int = TABLE_ROWS,
    total: int | None = None,
    full_list: str | None = None,
    mask_pii: bool = False,
) -> str:
    """A capped, escaped HTML table, with a note on where the full list is."""
    total = len(frame) if total is None else total
    shown = frame.head(max_rows)
    if mask_pii:
        shown = mask_frame(shown)
    body = shown.to_html(index=False, escape=True, na_rep="", border=0, classes="rr-table")
    note = ""
    if total > len(shown):
        note = f"<p class='rr-note'>Showing {len(shown):,} of {total:,} rows"
        note += (
            f"; the full list is in <code>{esc(full_list)}</code>.</p>" if full_list else ".</p>"
        )
    elif full_list:
        note = f"<p class='rr-note'>Full list: <code>{esc(full_list)}</code>.</p>"
    return body + note


def figure_html(fig, alt: str = "chart") -> str:
    """A matplotlib figure as an inline base64 PNG ``<img>`` (closes the figure)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"<img class='rr-plot' alt='{esc(alt)}' src='data:image/png;base64,{data}'/>"


def _kv_table(pairs: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs)
    return f"<table class='rr-table rr-kv'>{rows}</table>"


STYLE = """<style>
.rr-verdict{font-size:1.6em;font-weight:bold;padding:.4em .6em;border-radius:6px;display:inline-block}
.rr-ready{background:#d4edda}.rr-ready_with_warnings{background:#fff3cd}.rr-not_ready{background:#f8d7da}
.rr-table{border-collapse:collapse;font-size:.9em;margin:.4em 0}
.rr-table th,.rr-table td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
.rr-note{color:#555;font-size:.85em}.rr-fail{color:#a00;font-weight:bold}.rr-pass{color:#070}
.rr-plot{max-width:100%}
</style>"""


def outcome_table(counts: dict, meanings: dict) -> pd.DataFrame:
    """Outcome counts with their share and meaning, in contract order."""
    order = [k for k in meanings if k in counts] + [k for k in counts if k not in meanings]
    values = [int(counts[k]) for k in order]
    total = sum(values) or 1
    return pd.DataFrame(
        {
            "outcome": order,
            "records": values,
            "share": [f"{v / total:.1%}" for v in values],
            "meaning": [meanings.get(k, "") for k in order],
        }
    )


def _plain(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


FIELD_COUNT_COLUMNS = ["sf_overwritten", "pardot_overwritten", "blank_overwrites", "write_errors"]


def fields_view(simulation) -> Html:
    """Field-by-field overwrite risk of an in-memory simulation."""
    frame = getattr(simulation, "fields", None)
    return Html(STYLE + fields_html(frame if frame is not None else pd.DataFrame()))


def fields_html(frame: pd.DataFrame) -> str:
    """Overwrite counts per mapped field, riskiest first, as a chart and a capped table."""
    from ..plots import field_overwrites

    parts = [
        "<h2>Field by field: what the first sync overwrites</h2>",
        "<p>For linked records whose values differ, the sync behaviour of each mapped field "
        "decides which side wins; the losing side's value is overwritten.</p>",
    ]
    if frame.empty:
        parts.append("<p>No field mapping was simulated.</p>")
        return "\n".join(parts)
    frame = frame.copy()
    for col in FIELD_COUNT_COLUMNS:
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("int64")
    present = [c for c in FIELD_COUNT_COLUMNS if c in frame.columns]
    if present:
        frame = (
            frame.assign(_risk=frame[present].sum(axis=1))
            .sort_values("_risk", ascending=False, kind="stable")
            .drop(columns="_risk")
        )
        parts.append(figure_html(field_overwrites(frame), "overwrites per field"))
    cols = [
        c
        for c in [
            "pardot_field_name",
            "sf_field",
            "sync_behavior",
            "pairs",
            "differ",
            "winner",
            *FIELD_COUNT_COLUMNS,
            "policies",
        ]
        if c in frame.columns
    ]
    parts.append(table_html(frame[cols], full_list="outcomes/fields.csv"))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# stage views for notebooks 01-07 (same renderers, in-memory results)


def checks_frame(results: list) -> pd.DataFrame:
    """CheckResult objects (or dicts) as a frame of their summary columns."""
    rows = [
        r if isinstance(r, dict) else {c: getattr(r, c, None) for c in CHECK_COLUMNS}
        for r in results
    ]
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def area_view(results: list, area: str, mask_pii: bool = False) -> Html:
    """Checks of one area from in-memory results, with up to 20 findings per failed check."""
    title, why = AREAS.get(area, (area, ""))
    frame = checks_frame(results)
    sub = frame.loc[frame["area"] == area]
    parts = [
        STYLE,
        f"<h3>{esc(area)}: {esc(title)}</h3>",
        f"<p>{esc(why)}</p>",
        table_html(sub[["code", "name", "severity", "status", "affected", "summary"]], max_rows=50),
    ]
    by_code = {getattr(r, "code", None): r for r in results}
    for code in sub.loc[sub["status"] == "fail", "code"]:
        findings = getattr(by_code.get(code), "findings", None)
        if isinstance(findings, pd.DataFrame) and not findings.empty:
            parts.append(f"<h4>{esc(code)}</h4>")
            parts.append(table_html(findings, mask_pii=mask_pii))
    return Html("\n".join(parts))


def load_view(snapshot) -> Html:
    """What the loader read (files, rows, hashes) and every problem it found."""
    lr = snapshot.load_report
    files = pd.DataFrame(
        [
            {
                "table": f.table,
                "file": f.path,
                "rows": f.rows,
                "encoding": f.encoding,
                "custom columns": len(f.unmatched),
                "absent columns": ", ".join(f.absent),
            }
            for f in lr.files
        ]
    )
    parts = [
        STYLE,
        f"<h3>{esc(snapshot.name)}: files read</h3>",
        table_html(files, max_rows=50) if not files.empty else "<p>No files.</p>",
        f"<p>Tables with no file: {esc(', '.join(lr.missing) or 'none')}.</p>",
        f"<h3>Problems found ({len(lr.problems):,})</h3>",
        table_html(lr.problems) if len(lr.problems) else "<p>None.</p>",
    ]
    return Html("\n".join(parts))


def settings_view(settings) -> Html:
    """Resolved connector settings and the policies in force."""
    from ..settings import POLICIES

    d = settings.to_dict()
    policy_names = set(POLICIES)
    pairs = [(k, _plain(v)) for k, v in d.items() if k not in policy_names]
    frame = pd.DataFrame(
        {
            "policy": list(POLICIES),
            "rule": [p.rule for p in POLICIES.values()],
            "status": [p.status for p in POLICIES.values()],
            "value": [_plain(d.get(n)) for n in POLICIES],
            "choices": [", ".join(p.choices) for p in POLICIES.values()],
            "what it decides": [p.summary for p in POLICIES.values()],
        }
    )
    return Html(
        "\n".join(
            [
                STYLE,
                "<h3>Settings</h3>",
                _kv_table(pairs),
                "<h3>Policies</h3>",
                table_html(frame, max_rows=50),
            ]
        )
    )


def simulation_view(simulation) -> Html:
    """Outcome counts of an in-memory simulation, prospects and Salesforce records."""
    parts = [STYLE]
    for attr, title, meanings in (
        ("prospects", "Prospects", PROSPECT_OUTCOMES),
        ("salesforce", "Salesforce records", SALESFORCE_OUTCOMES),
    ):
        frame = getattr(simulation, attr, None)
        if frame is None or frame.empty:
            continue
        counts = frame["outcome"].value_counts().to_dict()
        parts.append(f"<h3>{esc(title)}</h3>")
        parts.append(table_html(outcome_table(counts, meanings), max_rows=50))
    return Html("\n".join(parts))


def filter_checks(
    results: list, severities=("blocker", "warning", "info"), areas=None, failed_only: bool = False
) -> pd.DataFrame:
    """Check results filtered by severity and area (and optionally failed only)."""
    frame = checks_frame(results)
    keep = frame["severity"].isin(list(severities))
    if areas is not None:
        keep &= frame["area"].isin(list(areas))
    if failed_only:
        keep &= frame["status"] == "fail"
    return frame.loc[keep, ["code", "name", "area", "severity", "status", "affected", "summary"]]


def outcome_delta(snapshot, **changes) -> pd.DataFrame:
    """Outcome counts now and under changed settings (sync.what_if), prospects then Salesforce."""
    from ..sync import what_if

    result = what_if(snapshot, **changes)
    parts = [getattr(result, attr).assign(records=attr) for attr in ("prospects", "salesforce")]
    out = pd.concat(parts, ignore_index=True)
    out = out.rename(columns={"base": "now", "other": "with changes", "delta": "change"})
    return out[["records", "outcome", "now", "with changes", "change"]]


def what_if_view(snapshot, **changes) -> Html:
    """The outcome counts now and under changed settings, as an escaped table."""
    changed = ", ".join(f"{k} = {_plain(v)}" for k, v in changes.items()) or "nothing"
    return Html(
        STYLE
        + f"<p>Changed: <code>{esc(changed)}</code></p>"
        + table_html(outcome_delta(snapshot, **changes), max_rows=50)
    )
