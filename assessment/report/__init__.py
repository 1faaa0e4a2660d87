"""The readiness report: one data object read from a finished output folder, laid out by templates.

* :mod:`.data`: :func:`load` reads ``readiness.json``, ``outcomes/`` and ``actions/`` into a
  :class:`ReportData` of human words and formatted numbers (it never assesses anything).
* :mod:`.render`: jinja2 templates (``assessment/templates/report``, autoescape) make
  ``report.html`` and single sections for notebook 08 and the batch index; :func:`render_report`
  writes ``report.ipynb`` and ``report.html`` into an output folder.
* :mod:`.views`: escaped tables of in-memory results for notebooks 01-07, PII masking, the
  email lookup.
"""

from .data import HOW_TO_PRODUCE, ReportData, build, fix_first, load
from .render import (
    REPORT_NOTEBOOK,
    SECTIONS,
    environment,
    external_references,
    org_summary,
    render_html,
    render_partial,
    render_report,
    section,
)
from .views import (
    AREAS,
    CHECK_COLUMNS,
    EMAIL_COLUMNS,
    NAME_COLUMNS,
    NOTEBOOK_DIR,
    PROSPECT_OUTCOMES,
    REPO_DIR,
    SALESFORCE_OUTCOMES,
    STYLE,
    TABLE_ROWS,
    Html,
    area_view,
    checks_frame,
    esc,
    fields_html,
    fields_view,
    figure_html,
    filter_checks,
    load_view,
    lookup_email,
    mask_email,
    mask_frame,
    mask_name,
    mask_text,
    outcome_delta,
    outcome_table,
    resolve_path,
    settings_view,
    simulation_view,
    table_html,
    what_if_view,
)

__all__ = [
    "AREAS", "CHECK_COLUMNS", "EMAIL_COLUMNS", "HOW_TO_PRODUCE", "NAME_COLUMNS", "NOTEBOOK_DIR",
    "REPO_DIR",
    "PROSPECT_OUTCOMES", "REPORT_NOTEBOOK", "SALESFORCE_OUTCOMES", "SECTIONS", "STYLE",
    "TABLE_ROWS", "Html", "ReportData", "area_view", "build", "checks_frame", "environment", "esc",
    "external_references", "fields_html", "fields_view", "figure_html", "filter_checks",
    "fix_first", "load", "load_view", "lookup_email", "mask_email", "mask_frame", "mask_name",
    "mask_text", "org_summary", "outcome_delta", "outcome_table", "render_html", "render_partial",
    "render_report", "resolve_path", "section", "settings_view", "simulation_view", "table_html",
    "what_if_view",
]  # fmt: skip
