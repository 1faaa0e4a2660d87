"""ipywidgets for exploring one org in a notebook (the edge: core modules never import this).

A :class:`Session` holds the org in use (``ui.workbench``: computed once per kernel, or read from a
finished run) and every view that shows it; the org picker reloads it and each view re-renders.
Widgets only wire controls to the view functions of ``ui.views``, and each one also carries a
static ``text/html`` copy of what it shows, so an executed or exported notebook keeps the
information without a kernel (PITFALLS: widgets do not render in static HTML).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import ipywidgets as w
from IPython.display import display

from . import labels, report
from .report import resolve_path
from .settings import POLICIES, SETTINGS_FILE_NAMES
from .ui import views, workbench

STATUS_CHOICES = [
    ("Needs fixing", "fail"),
    ("Noted", "noted"),
    ("OK", "pass"),
    ("Could not run", "not_run"),
]


class LiveHtml(w.HTML):
    """An HTML widget that also leaves its current HTML as static output (``text/html``)."""

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.value
        return bundle


class Panel(w.VBox):
    """Controls above a LiveHtml result; the static copy says which choices produced it."""

    def __init__(self, controls: list, result: LiveHtml, describe: Callable[[], str]) -> None:
        super().__init__([*controls, result])
        self.result = result
        self._describe = describe

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = (
            f"<p class='wb-note'>{html.escape(self._describe())}</p>{self.result.value}"
        )
        return bundle


def org_folders(root) -> list[Path]:
    """The org export folders below ROOT (ROOT itself when it holds files), by name."""
    base = resolve_path(root)
    if base is None or not base.is_dir():
        return []
    folders = sorted(
        (p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))),
        key=lambda p: p.name,
    )
    exports = any(  # ROOT is an org itself when it holds export files (not only settings)
        p.is_file() and p.suffix.lower() not in (".yml", ".yaml", ".md") for p in base.iterdir()
    )
    return ([base] if exports else []) + folders


def settings_files(folder, root=None) -> list[Path]:
    """Settings files a picker offers: YAML files in the org folder and in ROOT."""
    found = []
    for base in (resolve_path(folder), resolve_path(root) if root else None):
        if base is not None and base.is_dir():
            found += sorted(
                p for p in base.iterdir() if p.is_file() and p.suffix.lower() in (".yml", ".yaml")
            )
    return list(dict.fromkeys(found))


class Session:
    """The org a notebook shows, and every view that follows it when the picker changes it."""

    def __init__(
        self,
        data_dir="",
        settings_file="",
        out_dir="",
        orgs_root="../data",
        mask_pii=False,
        progress=True,
    ):
        self.orgs_root = orgs_root
        self.mask_pii = bool(mask_pii)
        self.progress = progress
        self.views: list[tuple[LiveHtml, Callable]] = []
        self.run = None
        self.load(data_dir, settings_file, out_dir)

    def load(self, data_dir="", settings_file="", out_dir="") -> workbench.Run:
        """Open another org (or settings file) and refresh every view of this session."""
        self.run = workbench.open_run(
            resolve_path(data_dir),
            resolve_path(settings_file),
            resolve_path(out_dir),
            self.progress,
        )
        for widget, render in self.views:
            widget.value = str(render())
        return self.run

    def view(self, render: Callable, *args, **kwargs) -> LiveHtml:
        """A view ``render(run, *args, **kwargs)`` that re-renders when the org changes."""
        widget = LiveHtml()

        def draw():
            return render(self.run, *args, **kwargs)

        widget.value = str(draw())
        self.views.append((widget, draw))
        return widget

    def summary(self) -> LiveHtml:
        """Which org is shown, from where, and its check counts."""
        return self.view(views.summary_view)

    def picker(self) -> Panel:
        """An org folder chooser and a settings file chooser; choosing reloads every view."""
        run = self.run
        folders = org_folders(self.orgs_root)
        current = str(run.data_dir.resolve()) if run.data_dir else None
        options = [(p.name, str(p.resolve())) for p in folders]
        if current and current not in dict(options).values():
            options.insert(0, (Path(current).name, current))
        folder = w.Dropdown(
            options=options, value=current if current else None, description="Org folder"
        )
        settings = w.Dropdown(description="Settings")
        status = LiveHtml()

        def fill_settings():
            found = settings_files(folder.value, self.orgs_root) if folder.value else []
            chosen = str(self.run.settings_file.resolve()) if self.run.settings_file else ""
            opts = [(f"({' / '.join(SETTINGS_FILE_NAMES[:1])} in the folder)", "")]
            opts += [
                (p.name if p.parent == Path(folder.value) else f"{p.parent.name}/{p.name}", str(p))
                for p in found
            ]
            settings.options = opts
            settings.value = chosen if chosen in dict(opts).values() else ""

        def reload(_change=None):
            status.value = "<p class='wb-note'>Loading…</p>"
            self.load(folder.value, settings.value, "")
            status.value = str(views.summary_view(self.run))

        def on_folder(_change):
            settings.unobserve(reload, names="value")
            fill_settings()
            settings.observe(reload, names="value")
            reload()

        fill_settings()
        status.value = str(views.summary_view(run))
        folder.observe(on_folder, names="value")
        settings.observe(reload, names="value")

        def said():
            folders = ", ".join(label for label, _ in folder.options) or "none"
            files = ", ".join(label for label, _ in settings.options)
            return f"Org folders to choose from: {folders}. Settings files: {files}."

        return Panel([w.HBox([folder, settings])], status, said)

    def findings_filter(self, areas=None, severities=None, statuses=("fail", "noted")) -> Panel:
        """Checks and findings filtered by area, severity and status."""
        area = w.SelectMultiple(
            options=[(labels.area_label(a), a) for a in labels.AREAS], description="Area"
        )
        area.value = tuple(areas or labels.AREAS)
        severity = w.SelectMultiple(
            options=[(v, k) for k, v in labels.SEVERITIES.items()], description="Severity"
        )
        severity.value = tuple(severities or labels.SEVERITIES)
        status = w.SelectMultiple(
            options=STATUS_CHOICES, value=tuple(statuses), description="Status"
        )
        result = self.view(
            lambda run: views.filter_view(
                run, area.value, severity.value, status.value, self.mask_pii
            )
        )

        def refresh(_change=None):
            result.value = str(
                views.filter_view(self.run, area.value, severity.value, status.value, self.mask_pii)
            )

        for control in (area, severity, status):
            control.observe(refresh, names="value")

        def said():
            return (
                f"Areas {', '.join(area.value)}; severities {', '.join(severity.value)}; "
                f"statuses {', '.join(status.value)}"
            )

        return Panel([w.HBox([area, severity, status])], result, said)

    def lookup(self, query: str = "") -> Panel:
        """Type an email, prospect id or Salesforce id: one prospect explained end to end."""
        box = w.Text(
            value=query or workbench.example_record(self.run, by_id=self.mask_pii),
            description="Record",
            continuous_update=False,
        )
        result = self.view(lambda run: views.record_view(run, box.value, self.mask_pii))

        def refresh(_change=None):
            result.value = str(views.record_view(self.run, box.value, self.mask_pii))

        def said():
            return f"Record looked up: {views.masked_text(box.value, self.mask_pii)}"

        box.observe(refresh, names="value")
        return Panel([box], result, said)

    def what_if(self, changes: dict | None = None) -> Panel:
        """Toggle the settings that change outcomes; see counts side by side and the records that move."""
        controls = WhatIfControls(
            self.run.settings, views.DEFAULT_WHAT_IF if changes is None else changes
        )
        result = self.view(
            lambda run: views.what_if_view(run, controls.changes(run.settings), self.mask_pii)
        )
        run_button = w.Button(description="Compare", button_style="primary")

        def compare(_=None):
            result.value = str(
                views.what_if_view(self.run, controls.changes(self.run.settings), self.mask_pii)
            )

        run_button.on_click(compare)
        return Panel([*controls.widgets, run_button], result, lambda: "What-if comparison")


class WhatIfControls:
    """The settings a what-if can change, as controls started from the org's settings plus CHANGES."""

    def __init__(self, settings, changes: dict) -> None:
        start = settings.replace(
            **{k: v for k, v in changes.items() if k != "marketing_data_sharing"}
        )
        mds = changes.get("marketing_data_sharing", None)
        rules = {
            k: (r["field"], r["value"]) if isinstance(r, dict) else (r.field, r.value)
            for k, r in (
                mds
                if mds is not None
                else {o: r for o, r in settings.marketing_data_sharing.items()}
            ).items()
        }
        self.ampsea = w.Checkbox(
            value=start.allow_multiple_prospects_same_email,
            description="Same-email mode (allow multiple prospects with one email)",
        )
        self.auto = w.Checkbox(
            value=start.auto_create_prospects_from_salesforce,
            description="Auto-create prospects from Salesforce",
        )
        self.since = w.Text(
            value=str(start.auto_create_enabled_since or ""),
            description="Enabled since",
            placeholder="YYYY-MM-DD (empty: not retroactive)",
        )
        self.user = w.Text(value=start.connector_user, description="Connector user")
        self.mds = {
            o: w.Text(
                value="=".join(rules[o]) if o in rules else "",
                description=f"MDS {o}",
                placeholder="Field=Value (empty: no rule)",
            )
            for o in ("Lead", "Contact")
        }
        self.policy = w.Dropdown(
            options=["(none)", *POLICIES],
            value=next((k for k in changes if k in POLICIES), "(none)"),
            description="Policy",
        )
        self.policy_value = w.Text(
            value=str(changes.get(self.policy.value, "")), description="Value"
        )
        self.widgets = [
            self.ampsea,
            w.HBox([self.auto, self.since]),
            self.user,
            *self.mds.values(),
            w.HBox([self.policy, self.policy_value]),
        ]

    def values(self) -> dict:
        """The controls' values as settings (MDS as {object: {field, value}})."""
        mds = {}
        for obj, box in self.mds.items():
            field, _, value = box.value.partition("=")
            if field.strip():
                mds[obj] = {"field": field.strip(), "value": value.strip()}
        out = {
            "allow_multiple_prospects_same_email": self.ampsea.value,
            "auto_create_prospects_from_salesforce": self.auto.value,
            "auto_create_enabled_since": self.since.value.strip() or None,
            "connector_user": self.user.value.strip() or "integration",
            "marketing_data_sharing": mds,
        }
        if self.policy.value in POLICIES and self.policy_value.value.strip():
            out[self.policy.value] = _policy_value(
                self.policy.value, self.policy_value.value.strip()
            )
        return out

    def changes(self, settings) -> dict:
        """Only the settings that differ from SETTINGS (what the comparison changes)."""
        return settings_changes(settings, self.values())


def _policy_value(name: str, text: str):
    from .ui.params import coerce

    current = getattr(workbench._settings_class()(), name)
    kind = type(current) if current is not None else str
    return coerce(name, text, kind)


def settings_changes(settings, values: dict) -> dict:
    """The entries of VALUES that differ from SETTINGS (MDS compared as field/value pairs)."""
    current = settings.to_dict()
    out = {}
    for key, value in values.items():
        now = current.get(key)
        if key == "marketing_data_sharing":
            now = {o: {"field": r["field"], "value": r["value"]} for o, r in (now or {}).items()}
        if value != now:
            out[key] = value
    return out


# --- the first widgets (one function each; kept for their callers, Session supersedes them) ---


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
