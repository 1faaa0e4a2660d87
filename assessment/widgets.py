"""ipywidgets for exploring one org in a notebook (the edge: core modules never import this).

Each widget only wires inputs to a core function (``report.lookup_email``,
``report.outcome_delta``, ``report.filter_checks``) so the numbers match the batch path.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as w
from IPython.display import display

from . import report


def org_picker(root: str | Path = "../data") -> w.Dropdown:
    """A dropdown of the org export folders (subfolders) below ROOT; ``.value`` is the path."""
    base = report.resolve_path(root)
    folders = sorted(p for p in base.iterdir() if p.is_dir()) if base and base.is_dir() else []
    options = [(p.name, str(p)) for p in folders]
    if base and base.is_dir() and any(f.is_file() for f in base.iterdir()):
        options.insert(0, (base.name, str(base)))
    return w.Dropdown(options=options, description="Org folder", layout=w.Layout(width="60%"))


def email_lookup(snapshot, mask_pii: bool = False) -> w.VBox:
    """Type an email; see every prospect, lead, contact and person account that shares its key."""
    box = w.Text(placeholder="someone@example.com", description="Email")
    out = w.Output()

    def show(_change=None):
        out.clear_output()
        with out:
            hits = report.lookup_email(snapshot, box.value, mask_pii=mask_pii)
            display(report.Html(report.table_html(hits)) if len(hits) else "no record")

    box.observe(show, names="value")
    return w.VBox([box, out])


def settings_what_if(snapshot) -> w.VBox:
    """Toggle connector settings and see the dry-run outcome counts change (sync.what_if)."""
    s = snapshot.settings
    ampsea = w.Checkbox(
        value=s.allow_multiple_prospects_same_email,
        description="Allow multiple prospects with the same email",
    )
    auto = w.Checkbox(
        value=s.auto_create_prospects_from_salesforce,
        description="Auto-create prospects from Salesforce",
    )
    user = w.Text(value=s.connector_user, description="Connector user")
    mds = w.Checkbox(
        value=bool(s.marketing_data_sharing),
        description="Marketing Data Sharing rules (as in connector.yml)",
    )
    mds.disabled = not s.marketing_data_sharing
    run = w.Button(description="Run dry run")
    out = w.Output()

    def show(_=None):
        out.clear_output()
        changes = {
            "allow_multiple_prospects_same_email": ampsea.value,
            "auto_create_prospects_from_salesforce": auto.value,
            "connector_user": user.value or "integration",
            "marketing_data_sharing": s.marketing_data_sharing if mds.value else {},
        }
        with out:
            display(
                report.Html(
                    report.table_html(report.outcome_delta(snapshot, **changes), max_rows=50)
                )
            )

    run.on_click(show)
    return w.VBox([ampsea, auto, user, mds, run, out])


def findings_filter(results, mask_pii: bool = False) -> w.VBox:
    """Filter check results by severity and area."""
    severity = w.SelectMultiple(
        options=["blocker", "warning", "info"], value=("blocker", "warning"), description="Severity"
    )
    area = w.SelectMultiple(
        options=list(report.AREAS), value=tuple(report.AREAS), description="Area"
    )
    failed_only = w.Checkbox(value=True, description="Failed only")
    out = w.Output()

    def show(_=None):
        out.clear_output()
        frame = report.filter_checks(results, severity.value, area.value, failed_only.value)
        with out:
            display(report.Html(report.table_html(frame, max_rows=100, mask_pii=mask_pii)))

    for widget in (severity, area, failed_only):
        widget.observe(show, names="value")
    show()
    return w.VBox([w.HBox([severity, area, failed_only]), out])
