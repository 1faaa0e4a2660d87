"""Static matplotlib charts for the report (Agg backend: PNGs embed in offline HTML)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

STATUS_COLORS = {"fail": "#c0392b", "pass": "#27ae60", "not_run": "#95a5a6"}
AREA_ORDER = ["CON", "FLD", "DUP", "UNA", "USR", "SYN", "INP"]
OUTCOME_COLORS = {
    "linked": "#27ae60",
    "match_email": "#2ecc71",
    "match_email_tie": "#f1c40f",
    "create_lead": "#3498db",
    "creates_prospect": "#3498db",
    "pardot_only": "#95a5a6",
    "no_prospect": "#95a5a6",
    "stale_crm_id": "#e67e22",
    "out_of_scope": "#7f8c8d",
    "will_error": "#c0392b",
}


def outcome_bars(counts: dict, title: str = "Outcomes", names: dict | None = None):
    """Horizontal bars: how many records go to each outcome on unpause (NAMES: outcome → label)."""
    series = pd.Series(counts, dtype="int64").sort_values()
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(series), 2) + 0.8))
    colors = [OUTCOME_COLORS.get(k, "#34495e") for k in series.index]
    shown = [str((names or {}).get(k, k)) for k in series.index]
    ax.barh(shown, series.to_numpy(), color=colors)
    for y, value in enumerate(series.to_numpy()):
        ax.text(value, y, f" {value:,}", va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel("records")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def checks_by_area(checks: pd.DataFrame):
    """Stacked bars: checks per area by status (failed, passed, not run)."""
    table = (
        checks.groupby(["area", "status"]).size().unstack(fill_value=0)
        if not checks.empty
        else pd.DataFrame()
    )
    areas = [a for a in AREA_ORDER if a in table.index] + [
        a for a in table.index if a not in AREA_ORDER
    ]
    table = table.reindex(index=areas, columns=list(STATUS_COLORS), fill_value=0)
    fig, ax = plt.subplots(figsize=(7, 2.8))
    left = pd.Series(0, index=table.index, dtype="int64")
    for status, color in STATUS_COLORS.items():
        ax.barh(table.index, table[status], left=left, color=color, label=status)
        left = left + table[status]
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("checks")
    ax.set_title("Checks by area")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def field_overwrites(fields: pd.DataFrame, top: int = 15):
    """Grouped bars per mapped field: values the first sync overwrites on each side."""
    cols = [c for c in ("sf_overwritten", "pardot_overwritten", "blank_overwrites") if c in fields]
    frame = fields.head(top)
    label = frame.get("pardot_field_name", frame.get("sf_field", pd.Series(range(len(frame)))))
    labels = label.astype("str").to_numpy()
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(frame), 2) * max(len(cols), 1) / 2 + 1.2))
    height = 0.8 / max(len(cols), 1)
    for i, col in enumerate(cols):
        positions = [y + i * height for y in range(len(frame))]
        ax.barh(positions, frame[col].to_numpy(), height=height, label=col.replace("_", " "))
    ax.set_yticks([y + height * (len(cols) - 1) / 2 for y in range(len(frame))], labels)
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    ax.set_xlabel("records")
    ax.set_title("Values overwritten by the first sync, per field")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


SEVERITY_COLORS = {"blocker": "#c0392b", "warning": "#e67e22", "info": "#3498db"}


def affected_bars(checks: pd.DataFrame, title: str = "Records affected per failed check"):
    """Horizontal bars: how many records (or mappings, users) each failed check flags."""
    frame = checks.loc[checks["status"] == "fail"]
    values = pd.to_numeric(frame["affected"], errors="coerce").fillna(0).astype("int64")
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(len(frame), 2) + 0.8))
    colors = [SEVERITY_COLORS.get(s, "#34495e") for s in frame["severity"]]
    ax.barh(frame["code"].astype("str").to_numpy(), values.to_numpy(), color=colors)
    for y, value in enumerate(values.to_numpy()):
        ax.text(value, y, f" {value:,}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
