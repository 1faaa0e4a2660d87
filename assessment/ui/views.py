"""HTML views of a run for the notebooks: readable tables (labels.py), charts as PNG, CSV links.

Every view returns :class:`Html` (escaped HTML that Jupyter displays and nbconvert keeps), so an
executed or exported notebook shows the same information without a kernel. Tables drop all-empty
columns, use human column names, give totals, and link the full list.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Any

import pandas as pd

from .. import labels
from ..report.views import Html  # one home for the escaped-HTML block

ROWS = 20  # rows shown per table; the full list is linked
EMBED_LIMIT = 1_000_000  # bytes: a CSV smaller than this is embedded as a download link
STYLE = """<style>
.wb-table{border-collapse:collapse;font-size:.9em;margin:.4em 0}
.wb-table th,.wb-table td{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left!important}
.wb-note{color:#555;font-size:.85em}.wb-total td{font-weight:bold}.wb-plot{max-width:100%}
</style>"""


def esc(value: Any) -> str:
    """Text for HTML (NA → empty)."""
    return html.escape(labels.fmt_value(value) if not isinstance(value, str) else value)


def non_empty(frame: pd.DataFrame) -> pd.DataFrame:
    """FRAME without its all-empty columns (NA or blank text everywhere)."""
    if frame.empty:
        return frame
    blank = frame.isna() | frame.astype("str").apply(lambda s: s.str.strip() == "")
    return frame.loc[:, ~blank.all(axis=0).to_numpy()]


def distinct(frame: pd.DataFrame) -> pd.DataFrame:
    """FRAME without a column that repeats an earlier one row for row (record id = prospect id)."""
    keep, seen = [], []
    for col in frame.columns:  # a few columns, not records
        values = frame[col].astype("str").tolist()
        if values not in seen:
            keep.append(col)
            seen.append(values)
    return frame[keep]


def masked(frame: pd.DataFrame, mask_pii: bool) -> pd.DataFrame:
    """FRAME with emails and names masked when MASK_PII (report.mask_frame)."""
    if not mask_pii or frame.empty:
        return frame
    from ..report import mask_frame

    return mask_frame(frame)


def masked_text(text: str, mask_pii: bool) -> str:
    """TEXT with the emails in it masked when MASK_PII."""
    if not mask_pii:
        return str(text)
    from ..report import mask_text

    return str(mask_text(pd.Series([str(text)], dtype="str")).iloc[0])


def csv_link(path: Path | None = None, frame: pd.DataFrame | None = None, name: str = "") -> str:
    """A link to the full list: the CSV of a finished run, else the frame embedded as a download."""
    if path is not None:
        try:
            href = os.path.relpath(path, Path.cwd())
        except ValueError:  # another drive
            href = Path(path).resolve().as_uri()
        href = href.replace(os.sep, "/")
        return f"<a href='{html.escape(href)}'>{html.escape(Path(path).name)}</a>"
    if frame is None:
        return ""
    small = frame.size <= EMBED_LIMIT // 8  # skip writing a list far too large to embed
    if small:  # a spreadsheet must not run a cell as a formula (PITFALLS: CSV injection)
        from ..actions import neutralise

        data = neutralise(frame).to_csv(index=False).encode("utf-8")
    else:
        data = b""
    if not small or len(data) > EMBED_LIMIT:
        return (
            f"<code>{html.escape(name)}</code> (too large to embed: run <code>python -m "
            "assessment run DATA_DIR --out OUT</code> and open it there)"
        )
    uri = "data:text/csv;base64," + base64.b64encode(data).decode("ascii")
    return f"<a download='{html.escape(Path(name).name or 'list.csv')}' href='{uri}'>{html.escape(Path(name).name or 'CSV')}</a>"


def table(
    frame: pd.DataFrame,
    kind: str = "prospects",
    rows: int = ROWS,
    total: int | None = None,
    link: str = "",
    mask_pii: bool = False,
    total_row: dict | None = None,
    dedupe: bool = True,
) -> str:
    """A readable, escaped table: labelled columns, no empty columns, a row count and a link."""
    total = len(frame) if total is None else total
    if frame.empty:
        return "<p class='wb-note'>None.</p>"
    shown = non_empty(masked(frame.head(rows), mask_pii))
    shown = labels.display_frame(distinct(shown) if dedupe else shown, kind=kind)
    body = shown.to_html(index=False, escape=True, na_rep="", border=0, classes="wb-table")
    if total_row:
        total_row = {labels.column_label(k): v for k, v in total_row.items()}
        cells = "".join(f"<td>{esc(total_row.get(c, ''))}</td>" for c in shown.columns)
        body = body.replace("</tbody>", f"<tr class='wb-total'>{cells}</tr></tbody>")
    rows_word = "row" if total == 1 else "rows"
    note = (
        f"{len(shown):,} of {total:,} {rows_word}"
        if total > len(shown)
        else f"{total:,} {rows_word}"
    )
    if link:
        note += f"; full list: {link}"
    return body + f"<p class='wb-note'>{note}.</p>"


def figure(fig, alt: str) -> str:
    """A matplotlib figure as an inline PNG (closes the figure)."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"<img class='wb-plot' alt='{html.escape(alt)}' src='data:image/png;base64,{data}'/>"


# --------------------------------------------------------------------------------- checks
SUMMARY_COLUMNS = ["code", "name", "area", "severity", "status", "affected", "summary"]


def checks_summary(checks: pd.DataFrame) -> str:
    """One line of counts: checks that need fixing, noted, OK, could not run."""
    keys = [
        labels.status_key(s, v) for s, v in zip(checks["status"], checks["severity"], strict=True)
    ]
    counts = pd.Series(keys, dtype="str").value_counts()
    parts = [
        f"{int(counts[k]):,} {labels.STATUSES[k].lower()}" for k in labels.STATUSES if k in counts
    ]
    return f"<p>{len(checks):,} checks: {esc(', '.join(parts) or 'none')}.</p>"


def checks_table(checks: pd.DataFrame) -> str:
    """The checks as a readable table (title beside the code), with the count line."""
    cols = [c for c in SUMMARY_COLUMNS if c != "area" or checks["area"].nunique() > 1]
    frame = checks[cols].copy()
    frame["name"] = [
        labels.check_title(c, n) for c, n in zip(frame["code"], frame["name"], strict=True)
    ]
    return checks_summary(frame) + table(frame, rows=100)


def findings_block(run, code: str, mask_pii: bool = False) -> str:
    """One failed check: what it found, how to fix it, its first findings and the full list."""
    row = run.checks.loc[run.checks["code"] == code].iloc[0]
    frame, total, path = run.findings(code, rows=None if run.source == "memory" else ROWS)
    name = str(row["action_file"]) if pd.notna(row["action_file"]) else f"{code}.csv"
    link = (
        csv_link(path) if path is not None else csv_link(frame=masked(frame, mask_pii), name=name)
    )
    parts = [
        f"<h4>{esc(code)} {esc(labels.check_title(code, row['name']))} "
        f"({esc(labels.severity_label(row['severity']))})</h4>",
        f"<p>{esc(labels.plain_text(row['summary']))}</p>",
    ]
    if pd.notna(row["remediation"]) and str(row["remediation"]):
        parts.append(f"<p><b>How to fix:</b> {esc(labels.plain_text(row['remediation']))}</p>")
    frame = frame.drop(columns=[c for c in ("code",) if c in frame])  # the heading names it
    parts.append(
        table(frame, kind="findings", total=total, link=link if total else "", mask_pii=mask_pii)
    )
    return "\n".join(parts)


def area_view(run, area: str, mask_pii: bool = False) -> Html:
    """The checks of one area, and the findings of each failed one (first 20, full list linked)."""
    checks = run.checks.loc[run.checks["area"] == area]
    parts = [
        STYLE,
        f"<h3>{esc(area)}: {esc(labels.area_label(area))}</h3>",
        f"<p>{esc(labels.area_why(area))}</p>",
    ]
    if checks.empty:
        return Html("\n".join([*parts, "<p>No check of this area ran.</p>"]))
    parts.append(checks_table(checks))
    for code in checks.loc[checks["status"] == "fail", "code"]:
        parts.append(findings_block(run, code, mask_pii))
    return Html("\n".join(parts))


def filtered_checks(run, areas=None, severities=None, statuses=None) -> pd.DataFrame:
    """The run's checks restricted to AREAS, SEVERITIES and display STATUSES (None: all)."""
    checks = run.checks
    keep = pd.Series(True, index=checks.index)
    if areas is not None:
        keep &= checks["area"].isin(list(areas))
    if severities is not None:
        keep &= checks["severity"].isin(list(severities))
    if statuses is not None:
        shown = [
            labels.status_key(s, v)
            for s, v in zip(checks["status"], checks["severity"], strict=True)
        ]
        keep &= pd.Series(shown, index=checks.index).isin(list(statuses))
    return checks.loc[keep]


def filter_view(run, areas=None, severities=None, statuses=None, mask_pii: bool = False) -> Html:
    """The checks a filter keeps, and the findings of the failed ones among them."""
    checks = filtered_checks(run, areas, severities, statuses)
    chosen = "; ".join(
        f"{k}: {', '.join(map(str, v)) if v is not None else 'all'}"
        for k, v in (("areas", areas), ("severities", severities), ("statuses", statuses))
    )
    parts = [STYLE, f"<p class='wb-note'>Filter: {esc(chosen)}</p>"]
    if checks.empty:
        return Html("\n".join([*parts, "<p>No check matches.</p>"]))
    parts.append(checks_table(checks))
    for code in checks.loc[checks["status"] == "fail", "code"]:
        parts.append(findings_block(run, code, mask_pii))
    return Html("\n".join(parts))


# ------------------------------------------------------------------------------ inputs
def load_view(run) -> Html:
    """What was read (files, rows, checksums) and the problems found in the files."""
    parts = [STYLE, f"<h3>{esc(run.org)}: files read</h3>"]
    if run.snapshot is not None:
        lr = run.snapshot.load_report
        files = pd.DataFrame(
            {
                "table": [labels.table_label(f.table) for f in lr.files],
                "file": [f.path for f in lr.files],
                "rows": [f.rows for f in lr.files],
                "encoding": [f.encoding for f in lr.files],
                "custom_columns": [len(f.unmatched) for f in lr.files],
                "absent_columns": [", ".join(f.absent) for f in lr.files],
            }
        )
        problems = lr.problems
        missing = [labels.table_label(t) for t in lr.missing]
    else:
        inputs = run.readiness.get("inputs") or {}
        files = pd.DataFrame([{"file": k, **v} for k, v in inputs.items()])
        problems, missing = pd.DataFrame(), []
    total = {"file": "Total", "rows": labels.fmt_int(files["rows"].sum())} if len(files) else None
    parts.append(table(files, kind="inputs", rows=100, total_row=total))
    parts.append(f"<p>Exports not given: {esc(', '.join(missing) or 'none')}.</p>")
    if run.snapshot is not None:
        parts.append(f"<h3>Problems found in the files ({len(problems):,})</h3>")
        name = "load_problems.csv"
        parts.append(table(problems, kind="findings", link=csv_link(frame=problems, name=name)))
    return Html("\n".join(parts))


def settings_view(run) -> Html:
    """The connector settings in force (defaults included) and the policies used."""
    from ..settings import POLICIES

    values = run.settings.to_dict()
    pairs = "".join(
        f"<tr><th>{esc(labels.humanize(k))}</th><td>{esc(labels.fmt_value(v))}</td></tr>"
        for k, v in values.items()
        if k not in POLICIES
    )
    policies = pd.DataFrame(
        {
            "policy": list(POLICIES),
            "rule": [p.rule for p in POLICIES.values()],
            "evidence": [p.status.lower() for p in POLICIES.values()],
            "value": [labels.fmt_value(values.get(n)) for n in POLICIES],
            "choices": [", ".join(p.choices) for p in POLICIES.values()],
            "decides": [p.summary for p in POLICIES.values()],
        }
    )
    return Html(
        f"{STYLE}<h3>Settings</h3><table class='wb-table'>{pairs}</table>"
        f"<h3>Policies (unconfirmed connector rules)</h3>{table(policies, rows=50)}"
    )


# ------------------------------------------------------------------------------ outcomes
def outcome_counts(outcomes: pd.Series, kind: str = "prospects") -> pd.DataFrame:
    """Records per outcome (contract order, zeros dropped) with their share."""
    from ..sync import PROSPECT_OUTCOMES, SALESFORCE_OUTCOMES

    order = list(PROSPECT_OUTCOMES if kind == "prospects" else SALESFORCE_OUTCOMES)
    counts = outcomes.value_counts()
    order += [o for o in counts.index if o not in order]
    frame = pd.DataFrame({"outcome": order, "records": [int(counts.get(o, 0)) for o in order]})
    frame = frame.loc[frame["records"] > 0]
    total = int(frame["records"].sum())
    return frame.assign(
        outcome_code=frame["outcome"],
        share=[labels.fmt_share(n, total) for n in frame["records"]],
        meaning=[labels.outcome_meaning(o, kind) for o in frame["outcome"]],
    )[["outcome", "outcome_code", "records", "share", "meaning"]]


def outcomes_view(run) -> Html:
    """Where records go on unpause: prospects and Salesforce records per outcome, with totals."""
    from ..plots import outcome_bars

    parts = [STYLE]
    for kind, title in (("prospects", "Prospects"), ("salesforce", "Salesforce records")):
        frame = getattr(run, kind)
        parts.append(f"<h3>{title}</h3>")
        if frame.empty:
            parts.append("<p>Not simulated (the export was absent).</p>")
            continue
        counts = outcome_counts(frame["outcome"], kind)
        names = {o: labels.outcome_label(o, kind) for o in counts["outcome"]}
        values = dict(zip(counts["outcome"], counts["records"], strict=True))
        parts.append(figure(outcome_bars(values, title, names=names), f"{title} per outcome"))
        link = csv_link(run.out_dir / "outcomes" / f"{kind}.csv") if run.out_dir else ""
        total = {"outcome": "Total", "records": int(counts["records"].sum()), "share": "100%"}
        parts.append(table(counts, kind=kind, rows=50, link=link, total_row=total, dedupe=False))
    return Html("\n".join(parts))


def fields_view(run) -> Html:
    """Per mapped field: what the first sync overwrites on each side, riskiest first."""
    from ..plots import field_overwrites

    frame = run.fields
    parts = [STYLE, "<h3>Field by field: what the first sync overwrites</h3>"]
    if frame is None or frame.empty:
        return Html("\n".join([*parts, "<p>No field mapping was simulated.</p>"]))
    risk = [
        c
        for c in ("sf_overwritten", "pardot_overwritten", "blank_overwrites", "write_errors")
        if c in frame
    ]
    frame = frame.assign(_risk=frame[risk].fillna(0).sum(axis=1)).sort_values(
        "_risk", ascending=False, kind="stable"
    )
    frame = frame.drop(columns="_risk")
    parts.append(figure(field_overwrites(frame), "values overwritten per field"))
    cols = [
        *("pardot_field_name", "sf_field", "sync_behavior", "pairs", "differ", "winner"),
        *risk,
        "blank_fills_sf",
        "blank_fills_pardot",
        "policies",
    ]
    shown = frame[[c for c in cols if c in frame]]
    total = {"pardot_field_name": "Total", **{c: int(shown[c].fillna(0).sum()) for c in risk}}
    link = (
        csv_link(run.out_dir / "outcomes" / "fields.csv")
        if run.out_dir
        else csv_link(frame=shown, name="fields.csv")
    )
    parts.append(table(shown, kind="fields", rows=50, link=link, total_row=total))
    return Html("\n".join(parts))


# ------------------------------------------------------------------------------ what-if
DEFAULT_WHAT_IF = {  # auto-create on since a date inside the sample's records: some get prospects
    "auto_create_prospects_from_salesforce": True,
    "auto_create_enabled_since": "2023-01-01",
}


def side_by_side(counts: pd.DataFrame, kind: str) -> pd.DataFrame:
    """sync.compare's count table (outcome, base, other, delta) in words, rows with records only."""
    frame = counts.loc[(counts["base"] != 0) | (counts["other"] != 0)]
    return pd.DataFrame(
        {
            "outcome": frame["outcome"].to_numpy(),
            "outcome_code": frame["outcome"].to_numpy(),
            "now": frame["base"].to_numpy(),
            "with_changes": frame["other"].to_numpy(),
            "change": [f"{d:+,}" if d else "" for d in frame["delta"]],
        }
    )


def moved(changed: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The records whose outcome moves, with both outcomes in words and the new reason."""
    if changed.empty:
        return changed
    frame = changed.copy()
    frame["outcome_other"] = frame["outcome_other"].map(lambda o: labels.outcome_label(o, kind))
    keep = [
        "sf_object",
        "sf_id",
        "prospect_id",
        "email",
        "outcome",
        "outcome_other",
        "sf_id_other",
        "reason_other",
    ]
    return frame[[c for c in keep if c in frame]]


def what_if_view(run, changes: dict | None = None, mask_pii: bool = False) -> Html:
    """Outcome counts now and under CHANGES, side by side, and the records that move."""
    from ..errors import InputError
    from .workbench import compare_settings

    changes = DEFAULT_WHAT_IF if changes is None else changes
    said = ", ".join(f"{labels.humanize(k)} = {labels.fmt_value(v)}" for k, v in changes.items())
    parts = [STYLE, f"<p><b>Changed:</b> {esc(said or 'nothing')}</p>"]
    try:
        result = compare_settings(run, **changes)
    except InputError as exc:  # a finished run without its exports: say what is needed
        return Html("\n".join([*parts, f"<p>The what-if needs the exports: {esc(str(exc))}.</p>"]))
    for kind, title, counts, changed in (
        ("prospects", "Prospects", result.prospects, result.changed_prospects),
        ("salesforce", "Salesforce records", result.salesforce, result.changed_salesforce),
    ):
        frame = side_by_side(counts, kind)
        total = {
            "outcome": "Total",
            "now": int(frame["now"].sum()),
            "with_changes": int(frame["with_changes"].sum()),
        }
        parts.append(f"<h4>{title}: {len(changed):,} move</h4>")
        parts.append(table(frame, kind=kind, rows=50, total_row=total, dedupe=False))
        if len(changed):
            rows = masked(moved(changed, kind), mask_pii)
            link = csv_link(frame=rows, name=f"moved_{kind}.csv")
            parts.append(table(rows, kind=kind, link=link))
    return Html("\n".join(parts))


# ------------------------------------------------------------------------------ one record
def _rule_ref(code, reason) -> str:
    """The reason code when the simulator gave one, else its reason as written (with rule ids)."""
    if code is not None and not pd.isna(code) and str(code):
        return f"reason code {code}"
    return f"simulator: {reason}"


def record_view(run, query: str, mask_pii: bool = False) -> Html:
    """One prospect end to end: outcome and rule, Salesforce candidates, field-by-field winners."""
    from .lookup import PROSPECT_FIELDS, explain

    if not str(query or "").strip():
        return Html(STYLE + "<p>Type an email, a prospect id or a Salesforce id.</p>")
    found = explain(run, query)
    parts = [STYLE]
    if found.prospect is None:
        said = masked_text(query, mask_pii)
        return Html(STYLE + f"<p>{esc(said)}: {esc('; '.join(found.notes))}.</p>")
    p = found.prospect
    if len(found.matches) > 1:
        parts.append(f"<p>{len(found.matches):,} prospects match; the first is explained.</p>")
        parts.append(
            table(
                found.matches[[c for c in PROSPECT_FIELDS if c in found.matches]], mask_pii=mask_pii
            )
        )
    code = p.get("reason_code") if "reason_code" in p else None
    parts += [
        f"<h4>Prospect {esc(p['prospect_id'])}: {esc(labels.outcome_label(p['outcome']))}</h4>",
        f"<p>{esc(labels.outcome_meaning(p['outcome']))}</p>",
        f"<p><b>Rule that decided:</b> {esc(labels.reason_label(code, p.get('reason')))} "
        f"<span class='wb-note'>({esc(_rule_ref(code, p.get('reason')))})</span></p>",
    ]
    one = pd.DataFrame([p[[c for c in PROSPECT_FIELDS if c in p.index]]])
    parts.append(table(one, mask_pii=mask_pii))
    parts.append("<h4>Salesforce candidates (same email, or the linked record)</h4>")
    parts.append(table(found.candidates, kind="salesforce", mask_pii=mask_pii))
    parts.append("<h4>Field by field on the first sync</h4>")
    fields = found.fields
    if mask_pii and not fields.empty:
        from ..report import mask_name

        fields = fields.assign(
            pardot_value=mask_name(fields["pardot_value"]), sf_value=mask_name(fields["sf_value"])
        )
    parts.append(table(fields, kind="fields", rows=100) if not fields.empty else "")
    parts += [f"<p class='wb-note'>{esc(n)}.</p>" for n in found.notes]
    return Html("\n".join(parts))


def summary_view(run) -> Html:
    """Which org is shown and from where (in-memory analysis or a finished run), with counts."""
    if run.source == "memory":
        where = f"analysed in this kernel from {run.data_dir} in {run.seconds:.1f} s (kept until its files change)"
    else:
        where = f"read from the finished run in {run.out_dir} (nothing recomputed)"
    if run.settings_file:
        where += f"; settings from {run.settings_file}"
    counts = f"{len(run.prospects):,} prospects, {len(run.salesforce):,} Salesforce records"
    return Html(
        f"{STYLE}<p><b>{esc(run.org)}</b>: {esc(where)}.</p><p>{esc(counts)}.</p>"
        + checks_summary(run.checks)
    )
