"""The readiness report: data loading, escaped HTML sections, PII masking, and the HTML export.

Notebook 08 calls the section functions here, one per cell; :func:`render_report` executes that
notebook with papermill and exports it to a self-contained ``report.html`` without code cells.
Every number comes from ``readiness.json`` and the files beside it, so the report shows exactly
what the CLI wrote. Every text taken from the data is escaped (``html.escape`` /
``DataFrame.to_html(escape=True)``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ReportError
from .privacy import (  # noqa: F401  (re-exported: notebooks and older callers)
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

REPO_DIR = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_DIR / "notebooks"
# The report notebook is package data (found through the installed package, so a plain
# `pip install .` renders reports); notebooks/08_readiness_report.ipynb is the identical copy
# people open in JupyterLab (tests/test_packaging.py keeps the two the same).
REPORT_NOTEBOOK = Path(
    str(resources.files("assessment").joinpath("templates", "08_readiness_report.ipynb"))
)
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "readiness"

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

VERDICT_WORDS = {
    "ready": "Ready to unpause",
    "ready_with_warnings": "Ready, with warnings to review first",
    "incomplete": "Incomplete: add the missing exports so every blocker can be checked",
    "not_ready": "Not ready: fix the blockers before unpausing",
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
    from .normalize import email_key

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


# ---------------------------------------------------------------------------------------------
# the data behind the report


@dataclass
class ReportData:
    """readiness.json and the paths beside it, as the report reads them."""

    readiness: dict
    out_dir: Path
    data_dir: Path | None = None
    settings_file: Path | None = None
    mask_pii: bool = False
    started: float = field(default_factory=time.time)

    @property
    def checks(self) -> pd.DataFrame:
        """The checks of readiness.json as a frame."""
        frame = pd.DataFrame(self.readiness.get("checks") or [])
        for col in CHECK_COLUMNS:
            if col not in frame.columns:
                frame[col] = pd.NA
        if self.mask_pii:  # a summary may quote an email
            for col in ("summary", "remediation"):
                text = frame[col].astype("str")
                frame[col] = mask_text(text).where(frame[col].notna(), pd.NA)
        return frame

    @property
    def simulation(self) -> dict:
        """The simulation object of readiness.json."""
        return self.readiness.get("simulation") or {}


def load_results(out_dir=None, data_dir=None, settings_file=None, mask_pii=False) -> ReportData:
    """Read OUT_DIR/readiness.json; when absent, assess DATA_DIR into OUT_DIR first (no report)."""
    out = resolve_path(out_dir)
    data = resolve_path(data_dir)
    settings = resolve_path(settings_file)
    if out is None:
        if data is None:
            raise ReportError("give out_dir (an assessment output folder) or data_dir")
        out = Path(tempfile.mkdtemp(prefix="readiness-"))
    marker = out / "readiness.json"
    if not marker.exists():
        if data is None:
            raise ReportError("no readiness.json in the output folder", file=str(out))
        from .pipeline import assess

        if out.exists() and not any(out.iterdir()):
            out.rmdir()
        assess(data, out, settings_file=settings, report=False, mask_pii=mask_pii)
    try:
        readiness = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(f"cannot read readiness.json: {exc}", file=str(marker)) from None
    return ReportData(readiness, out, data, settings, bool(mask_pii))


# ---------------------------------------------------------------------------------------------
# report sections (one per notebook cell)


def _failed(checks: pd.DataFrame, severity: str) -> pd.DataFrame:
    return checks.loc[(checks["status"] == "fail") & (checks["severity"] == severity)]


def verdict_section(data: ReportData) -> Html:
    """Verdict and score up front, with the failed checks that drove them."""
    r = data.readiness
    verdict = str(r.get("verdict", "unknown"))
    checks = data.checks
    blockers, warnings = _failed(checks, "blocker"), _failed(checks, "warning")
    parts = [
        STYLE,
        f"<h2>{esc(r.get('org') or 'Org')}</h2>",
        f"<div class='rr-verdict rr-{esc(verdict)}'>{esc(VERDICT_WORDS.get(verdict, verdict))}"
        f" &mdash; score {esc(r.get('score'))}/100</div>",
        f"<p>Verdict code <code>{esc(verdict)}</code>. {len(blockers)} blocker check(s) and "
        f"{len(warnings)} warning check(s) failed; "
        f"{int((checks['status'] == 'not_run').sum())} check(s) could not run "
        "(their inputs were absent).</p>",
    ]
    unverified = checks.loc[(checks["status"] == "not_run") & (checks["severity"] == "blocker")]
    if len(unverified) and not len(blockers):
        parts.append(
            "<p>Not <em>ready</em>: blocker check(s) "
            f"{esc(', '.join(unverified['code'].astype(str)))} could not run, so their risks "
            "are unverified. Provide their exports and run again.</p>"
        )
    breakdown = score_breakdown(data)
    parts.append("<h3>What drove the verdict and score</h3>")
    if breakdown.empty:
        parts.append("<p>No blocker or warning check failed, and none was left unchecked.</p>")
    else:
        if "points lost" in breakdown.columns:
            lost = pd.to_numeric(breakdown["points lost"], errors="coerce").sum()
            parts.append(
                f"<p>The score starts at 100; {lost:g} point(s) were lost as listed "
                "(a failed check costs more the more records it affects; a check that could "
                "not run costs a little; a failed blocker caps the score below 50).</p>"
            )
        parts.append(table_html(breakdown, max_rows=60))
    return Html("\n".join(parts))


def score_breakdown(data: ReportData) -> pd.DataFrame:
    """Points lost per check (readiness.json ``score_breakdown``), largest first, cap line last.

    Without a breakdown in readiness.json: the failed blocker and warning checks, blockers first.
    """
    checks = data.checks
    lines = data.readiness.get("score_breakdown")
    if isinstance(lines, list) and lines:
        frame = pd.DataFrame(lines)
        for col in ("code", "points", "why"):
            if col not in frame.columns:
                frame[col] = pd.NA
        info = checks[["code", "name", "severity", "status", "affected"]]
        frame = frame.merge(info, on="code", how="left")
        frame["_cap"] = frame["code"].isna()
        frame["affected"] = pd.to_numeric(frame["affected"], errors="coerce").astype("Int64")
        frame["name"] = frame["name"].astype("str").where(~frame["_cap"], "(score cap)")
        frame = frame.sort_values(["_cap", "points"], ascending=[True, False], kind="stable")
        cols = ["code", "name", "severity", "status", "affected", "points", "why"]
        return frame[cols].rename(columns={"points": "points lost"}).reset_index(drop=True)
    failed = checks.loc[
        (checks["status"] == "fail") & checks["severity"].isin(["blocker", "warning"])
    ]
    order = failed["severity"].map({"blocker": 0, "warning": 1})
    failed = failed.assign(_o=order).sort_values(["_o", "code"], kind="stable")
    return failed[["code", "name", "severity", "affected", "summary"]].reset_index(drop=True)


def checks_overview(data: ReportData) -> Html:
    """All checks by area and status, as a picture."""
    from .plots import checks_by_area

    return Html(figure_html(checks_by_area(data.checks), "checks by area and status"))


def area_section(data: ReportData, area: str) -> Html:
    """One area: what it checks, each check's status and count, and the top findings."""
    title, why = AREAS.get(area, (area, ""))
    checks = data.checks
    sub = checks.loc[checks["area"] == area]
    parts = [f"<h2>{esc(area)}: {esc(title)}</h2>", f"<p>{esc(why)}</p>"]
    if sub.empty:
        parts.append("<p>No check of this area ran.</p>")
        return Html("\n".join(parts))
    parts.append(
        table_html(sub[["code", "name", "severity", "status", "affected", "summary"]], max_rows=50)
    )
    if (sub["status"] == "fail").any():
        from .plots import affected_bars

        parts.append(figure_html(affected_bars(sub), f"{area} failed checks"))
    for check in sub.loc[sub["status"] == "fail"].to_dict("records"):  # ~40 checks, not records
        parts.append(
            f"<h3>{esc(check['code'])} {esc(check['name'])} "
            f"<span class='rr-fail'>({esc(check['severity'])})</span></h3>"
        )
        parts.append(f"<p>{esc(check['summary'])}</p>")
        if _present(check["remediation"]):
            parts.append(f"<p><b>How to fix:</b> {esc(check['remediation'])}</p>")
        if _present(check["source"]):
            parts.append(f"<p class='rr-note'>Source: {esc(check['source'])}</p>")
        parts.append(_findings_sample(data, check))
    return Html("\n".join(parts))


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value != ""


def _findings_sample(data: ReportData, check: dict) -> str:
    action = check["action_file"]
    if not _present(action) or pd.isna(action):
        return ""
    path = data.out_dir / str(action)
    if not path.exists():
        path = data.out_dir / "actions" / Path(str(action)).name
    if not path.exists():
        return f"<p class='rr-note'>Action file <code>{esc(action)}</code> not found.</p>"
    sample = pd.read_csv(path, dtype="str", keep_default_na=False, nrows=TABLE_ROWS)
    total = len(sample)
    if total == TABLE_ROWS:  # count the rows (one column only; quoted newlines handled)
        total = len(pd.read_csv(path, dtype="str", usecols=[0], keep_default_na=False))
    rel = path.relative_to(data.out_dir).as_posix()
    return table_html(sample, total=total, full_list=rel, mask_pii=data.mask_pii)


def sync_section(data: ReportData) -> Html:
    """Where records go on unpause: outcome counts as bars and tables, in plain words."""
    from .plots import outcome_bars

    sim = data.simulation
    parts = [
        "<h2>The first sync, record by record (dry run)</h2>",
        "<p>What the connector is predicted to do with each prospect and each Salesforce "
        "record when it is unpaused.</p>",
    ]
    for key, title, meanings in (
        ("prospects", "Prospects", PROSPECT_OUTCOMES),
        ("salesforce", "Salesforce leads, contacts and person accounts", SALESFORCE_OUTCOMES),
    ):
        counts = sim.get(key) or {}
        parts.append(f"<h3>{esc(title)}</h3>")
        if not counts:
            parts.append("<p>Not simulated (the export was absent).</p>")
            continue
        parts.append(figure_html(outcome_bars(counts, title), f"{title} outcomes"))
        frame = outcome_table(counts, meanings)
        parts.append(table_html(frame, max_rows=50, full_list=f"outcomes/{key}.csv"))
    initial = sim.get("initial_sync") or {}
    if initial:
        parts.append("<h3>Size of the first sync</h3>")
        parts.append(_kv_table([(k, _plain(v)) for k, v in initial.items()]))
    return Html("\n".join(parts))


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


def fields_section(data: ReportData) -> Html:
    """Field-by-field overwrite risk of the first sync."""
    return Html(fields_html(pd.DataFrame(data.simulation.get("fields") or [])))


def fields_view(simulation) -> Html:
    """Field-by-field overwrite risk of an in-memory simulation."""
    frame = getattr(simulation, "fields", None)
    return Html(STYLE + fields_html(frame if frame is not None else pd.DataFrame()))


def fields_html(frame: pd.DataFrame) -> str:
    """Overwrite counts per mapped field, riskiest first, as a chart and a capped table."""
    from .plots import field_overwrites

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


def actions_section(data: ReportData) -> Html:
    """The action files written, one per check that found records."""
    checks = data.checks
    with_file = checks.loc[checks["action_file"].notna() & (checks["action_file"] != "")]
    parts = [
        "<h2>Action files</h2>",
        "<p>Each file lists the records a check found, ready to fix or import. They are in "
        "the <code>actions/</code> folder beside this report.</p>",
    ]
    if with_file.empty:
        parts.append("<p>No check wrote an action file.</p>")
    else:
        parts.append(
            table_html(with_file[["action_file", "code", "name", "affected"]], max_rows=200)
        )
    return Html("\n".join(parts))


def assumptions_section(data: ReportData) -> Html:
    """The policies (unconfirmed connector rules) the predictions rest on, as set for this run."""
    from .settings import POLICIES

    settings = data.readiness.get("settings") or {}
    frame = pd.DataFrame(
        {
            "policy": list(POLICIES),
            "rule": [p.rule for p in POLICIES.values()],
            "status": [p.status for p in POLICIES.values()],
            "value used": [_plain(settings.get(n, "")) for n in POLICIES],
            "what it decides": [p.summary for p in POLICIES.values()],
        }
    )
    used = {  # records whose prediction rests on each policy (readiness.json "assumptions")
        str(a.get("policy")): a.get("records")
        for a in data.readiness.get("assumptions") or []
        if isinstance(a, dict)
    }
    if used:
        frame.insert(4, "records relying on it", frame["policy"].map(used).fillna(0).astype(int))
        frame = frame.sort_values("records relying on it", ascending=False, kind="stable")
    parts = [
        "<h2>Assumptions</h2>",
        "<p>Some connector behaviour is not documented with certainty. The predictions rest "
        "on these choices; change them in <code>connector.yml</code> if your org is known to "
        "behave otherwise. Predictions that depend on one are marked with its name in "
        "<code>outcomes/*.csv</code> (column <code>policies</code>).</p>",
        table_html(frame, max_rows=50),
    ]
    keys = [
        "connector_version",
        "paused",
        "allow_multiple_prospects_same_email",
        "auto_create_prospects_from_salesforce",
        "connector_user",
        "business_units",
        "marketing_data_sharing",
        "person_accounts_enabled",
    ]
    parts.append("<h3>Connector settings used</h3>")
    parts.append(_kv_table([(k, _plain(settings.get(k))) for k in keys if k in settings]))
    return Html("\n".join(parts))


def provenance_section(data: ReportData, parameters: dict | None = None) -> Html:
    """Tool version, parameters, input file hashes and run time."""
    r = data.readiness
    params = dict(parameters or {})
    if data.mask_pii:
        params["mask_pii"] = True
    pairs = [
        ("tool version", r.get("tool_version")),
        ("generated at", r.get("generated_at")),
        ("report rendered in", f"{time.time() - data.started:.1f} s"),
    ]
    pairs += [(f"parameter {k}", _plain(v)) for k, v in params.items()]
    inputs = r.get("inputs") or {}
    frame = pd.DataFrame(
        [{"file": k, **(v if isinstance(v, dict) else {"value": v})} for k, v in inputs.items()]
    )
    parts = [
        "<h2>Provenance</h2>",
        _kv_table(pairs),
        "<h3>Input files</h3>",
        table_html(frame, max_rows=200) if not frame.empty else "<p>None recorded.</p>",
    ]
    return Html("\n".join(parts))


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
    from .settings import POLICIES

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
    from .sync import what_if

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


# ---------------------------------------------------------------------------------------------
# render: papermill → nbconvert → report.html

_EXTERNAL = re.compile(
    r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?\s*(https?:)?//", re.IGNORECASE
)
_SCRIPT_TAG = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)
_CSS_URL = re.compile(
    r"@import\s+url\([^)]*\)\s*;?|@import\s+[\"'][^\"']*[\"']\s*;?", re.IGNORECASE
)


def external_references(text: str) -> list[str]:
    """External script/link/img references and CSS imports left in an HTML page (should be none)."""
    found = [m.group(0) for m in _EXTERNAL.finditer(text)]
    found += [m.group(0) for m in re.finditer(r"url\(\s*[\"']?https?://[^)]*\)", text)]
    return found


def export_html(nb) -> str:
    """The executed notebook as self-contained HTML: no code, no prompts, no scripts."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    nb.metadata["title"] = "Connector readiness report"  # the page title (else "Notebook")
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": "Connector readiness report"}}
    )
    body = _SCRIPT_TAG.sub("", body)  # the report needs no JavaScript
    body = _CSS_URL.sub("", body)
    left = external_references(body)
    if left:
        raise ReportError(f"the exported report still references external files: {left[:3]}")
    return body


def _cell_error(exc: Exception, nb_path: Path) -> ReportError:
    """Name the failing cell (index, first line of its source) and the cause."""
    cause = f"{getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', exc)}"
    index = getattr(exc, "cell_index", None)
    source = getattr(exc, "source", None)
    if index is None or source is None:
        return ReportError(f"report notebook failed: {cause}", file=str(nb_path))
    first = (str(source).strip().splitlines() or [""])[0]
    return ReportError(
        f"report notebook cell {index} ({first!r}) failed: {cause}", file=str(nb_path)
    )


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_report(
    out_dir, data_dir, settings_file=None, mask_pii=False, timeout=600, notebook: Path | None = None
) -> Path:
    """Execute notebook 08 into OUT_DIR/report.ipynb and export OUT_DIR/report.html."""
    import nbformat
    import papermill as pm

    out_dir = Path(out_dir).resolve()
    notebook = Path(notebook or REPORT_NOTEBOOK)
    if not notebook.exists():
        raise ReportError("the report notebook is missing", file=str(notebook))
    parameters = {
        "data_dir": str(Path(data_dir).resolve()) if data_dir else "",
        "out_dir": str(out_dir),
        "settings_file": str(Path(settings_file).resolve()) if settings_file else "",
        "mask_pii": bool(mask_pii),
    }
    tmp_nb = out_dir / f".report.{os.getpid()}.ipynb"
    try:
        try:
            pm.execute_notebook(
                str(notebook),
                str(tmp_nb),
                parameters=parameters,
                kernel_name="python3",
                execution_timeout=timeout,
                log_output=False,
                progress_bar=False,
                cwd=str(out_dir),  # the kernel starts inside the output folder
            )
        except Exception as exc:  # papermill raises PapermillExecutionError with the cell
            raise _cell_error(exc, tmp_nb) from None
        nb = nbformat.read(tmp_nb, as_version=4)
        _atomic_write(out_dir / "report.html", export_html(nb))
        os.replace(tmp_nb, out_dir / "report.ipynb")
    finally:
        tmp_nb.unlink(missing_ok=True)
    return out_dir / "report.html"
