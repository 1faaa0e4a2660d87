"""Human labels and number formats: what a reader sees instead of codes and snake_case keys.

One place for the words of the report, the notebooks and the batch index: outcomes ("Will link
by email"), severities, statuses ("noted" for an info check), verdicts, check areas and titles,
column names of the outcome / finding / field frames, and number, share and duration formats.
Nothing here decides anything; it only names what the rest of the package decided.

Reason codes (``reason_code``, e.g. ``M-21.crm_deleted``) come from the simulator; people read
:func:`reason_label`, which looks a code up and falls back to the ``reason`` text with spec
references removed.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

# --------------------------------------------------------------------------------- outcomes
# contract.md §4 (prospects) and §5 (Salesforce records): label, then one plain sentence.
PROSPECT_OUTCOMES: dict[str, tuple[str, str]] = {
    "linked": ("Already linked", "Carries a CRM id found in Salesforce: stays linked and syncs."),
    "match_email": (
        "Will link by email",
        "Matches exactly one lead or contact by email: the connector links them.",
    ),
    "match_email_tie": (
        "Will link by email (several candidates)",
        "Several records share the email: the connector links the one it picks.",
    ),
    "create_lead": (
        "Will create a lead",
        "No match and assigned to a user: the connector creates a lead in Salesforce.",
    ),
    "pardot_only": (
        "Stays in Pardot only",
        "No match and unassigned: nothing is created in Salesforce.",
    ),
    "stale_crm_id": (
        "Points to a missing record",
        "Carries a CRM id that is not in Salesforce (deleted, merged or not visible).",
    ),
    "out_of_scope": (
        "Out of scope",
        "The matching record is outside the data-sharing rules or the connector user's view.",
    ),
    "will_error": ("Will fail to sync", "The sync is predicted to fail; the reason says why."),
}

SALESFORCE_OUTCOMES: dict[str, tuple[str, str]] = {
    "linked": ("Linked to a prospect", "A prospect is, or will be, linked to it."),
    "creates_prospect": (
        "Will create a prospect",
        "No prospect yet: the connector creates one when unpaused.",
    ),
    "no_prospect": (
        "No prospect",
        "No prospect, and none will be created; the reason says why.",
    ),
    "out_of_scope": (
        "Out of scope",
        "Excluded by the data-sharing rules or the connector user's view.",
    ),
}

# ------------------------------------------------------------------- severities and statuses
SEVERITIES: dict[str, str] = {"blocker": "Blocker", "warning": "Warning", "info": "Note"}
SEVERITY_ORDER: dict[str, int] = {"blocker": 0, "warning": 1, "info": 2}

# status label per (severity, status): an info check that "fails" has only noted something.
STATUSES: dict[str, str] = {
    "pass": "OK",
    "fail": "Needs fixing",
    "not_run": "Could not run",
    "noted": "Noted",
}

VERDICTS: dict[str, str] = {
    "ready": "Ready to unpause",
    "ready_with_warnings": "Ready, with warnings to review first",
    "incomplete": "Incomplete: exports are missing, so blocker risks could not be checked",
    "not_ready": "Not ready: fix the blockers before unpausing",
}
VERDICT_SHORT: dict[str, str] = {
    "ready": "Ready",
    "ready_with_warnings": "Ready with warnings",
    "incomplete": "Incomplete",
    "not_ready": "Not ready",
}

# --------------------------------------------------------------------------------- areas
AREAS: dict[str, tuple[str, str]] = {
    "CON": ("Connector settings", "How the connector is configured and what that implies."),
    "FLD": (
        "Field mapping",
        "Whether mapped fields can carry each other's values, and what the first sync overwrites.",
    ),
    "DUP": ("Duplicate emails", "Records sharing an email: the connector must pick one of them."),
    "UNA": ("Unassigned prospects", "Prospects without an assigned user do not create leads."),
    "USR": ("User mapping", "Pardot users matched to Salesforce users: owners of created leads."),
    "SYN": ("Sync state and volume", "Links to missing records, the size of the first sync."),
    "INP": ("Input data", "Whether the exports were complete and clean enough to trust the rest."),
}

CHECK_TITLES: dict[str, str] = {
    "CON001": "Connector version",
    "CON002": "Connector already unpaused",
    "CON003": "Integration user with business units",
    "CON004": "Connector user licence and visibility",
    "CON005": "Person accounts",
    "CON006": "Automatic prospect creation",
    "CON007": "Matching mode (email or CRM id)",
    "CON008": "Marketing data sharing rules",
    "FLD001": "Mapped field missing in Salesforce",
    "FLD002": "Field types that cannot carry each other's values",
    "FLD003": "Picklist values Salesforce does not accept",
    "FLD004": "Values too long for Salesforce",
    "FLD005": "Field mapped on leads but not contacts (or the reverse)",
    "FLD006": "Values the first sync overwrites",
    "FLD007": "Leads missing required fields",
    "FLD008": "Custom fields with data but no mapping",
    "FLD009": "Opt-outs the sync could undo",
    "DUP001": "Prospects sharing an email",
    "DUP002": "Leads sharing an email",
    "DUP003": "Contacts sharing an email",
    "DUP004": "A lead and a contact sharing an email",
    "DUP005": "Emails differing only in case or spaces",
    "DUP006": "Invalid or blank emails",
    "UNA001": "Unassigned prospects with no match",
    "UNA002": "Unassigned prospects that will link by email",
    "UNA003": "Leads the connector will create",
    "USR001": "Pardot users with no Salesforce user",
    "USR002": "Prospects owned by unmapped users",
    "USR003": "Users mapped to inactive Salesforce users",
    "USR004": "Records owned by queues or inactive users",
    "USR005": "Users sharing an email",
    "SYN001": "Links to records missing from Salesforce",
    "SYN002": "Short (15-character) record ids",
    "SYN003": "Size of the first sync",
    "SYN004": "Sync errors already reported",
    "SYN005": "Existing records the sync will not bring into Pardot",
    "INP001": "Missing exports",
    "INP002": "Values that failed validation",
    "INP003": "The same record id twice in one export",
    "INP004": "Columns missing from the exports",
}

# ---------------------------------------------------------------------------- column names
COLUMNS: dict[str, str] = {
    # checks
    "code": "Check",
    "name": "Name",
    "area": "Area",
    "severity": "Severity",
    "status": "Status",
    "affected": "Records affected",
    "summary": "What was found",
    "remediation": "How to fix",
    "source": "Rule reference",
    "action_file": "Action file",
    # outcomes (contract §4, §5)
    "prospect_id": "Prospect id",
    "email": "Email",
    "outcome": "Outcome",
    "sf_object": "Salesforce object",
    "sf_id": "Salesforce id",
    "owner_sf_user_id": "Owner (Salesforce user)",
    "owner_id": "Owner",
    "reason": "Why",
    "reason_code": "Reason code",
    "policies": "Rests on assumption",
    "caution": "Uncertain",
    "assigned": "Assigned",
    "pardot_user_id": "Pardot user",
    "error_code": "Error",
    "candidates": "Candidates",
    "row": "Row in export",
    # findings (FINDING_COLUMNS)
    "object": "Object",
    "record_id": "Record id",
    "field": "Field",
    "value": "Value",
    "message": "Problem",
    "suggested_fix": "Suggested fix",
    # fields.csv
    "pardot_field_id": "Pardot field id",
    "pardot_field_name": "Pardot field",
    "sf_field": "Salesforce field",
    "sync_behavior": "Which value wins",
    "pairs": "Linked pairs",
    "differ": "Pairs that differ",
    "winner": "Winner",
    "sf_overwritten": "Salesforce values overwritten",
    "pardot_overwritten": "Pardot values overwritten",
    "blank_fills_sf": "Blanks filled in Salesforce",
    "blank_fills_pardot": "Blanks filled in Pardot",
    "blank_overwrites": "Values replaced by a blank",
    "write_errors": "Write errors",
    "error_codes": "Error types",
    # inputs / provenance
    "file": "File",
    "table": "Export",
    "rows": "Rows",
    "sha256": "Checksum (SHA-256)",
    "encoding": "Encoding",
    "records": "Records",
    "share": "Share",
    "meaning": "What it means",
    # notebooks: what-if, record lookup, inputs, policies
    "outcome_code": "Outcome code",
    "now": "Now",
    "with_changes": "With the changes",
    "change": "Change",
    "outcome_other": "Outcome with the changes",
    "sf_id_other": "Salesforce id with the changes",
    "reason_other": "Why, with the changes",
    "picked": "Picked",
    "pardot_value": "Pardot value",
    "sf_value": "Salesforce value",
    "result": "On the first sync",
    "custom_columns": "Custom columns",
    "absent_columns": "Columns missing",
    "policy": "Policy",
    "rule": "Rule",
    "evidence": "Evidence",
    "choices": "Choices",
    "decides": "What it decides",
}

SYNC_BEHAVIORS: dict[str, str] = {
    "use_salesforce": "Salesforce value wins",
    "use_pardot": "Pardot value wins",
    "most_recent": "Most recently updated wins",
}

OBJECTS: dict[str, str] = {
    "Lead": "Lead",
    "Contact": "Contact",
    "Account": "Person account",
    "Prospect": "Prospect",
    "User": "User",
}

TABLES: dict[str, str] = {
    "pardot_prospects": "Pardot prospects",
    "pardot_users": "Pardot users",
    "sf_leads": "Salesforce leads",
    "sf_contacts": "Salesforce contacts",
    "sf_accounts": "Salesforce accounts",
    "sf_users": "Salesforce users",
    "sf_queues": "Salesforce queues",
    "field_mappings": "Field mappings",
    "sync_errors": "Sync error list",
    "describe": "Salesforce field descriptions (describe)",
    "connector_settings": "Connector settings (connector.yml)",
}

# Reason codes (simulator, ``reason_code``) → plain words. Codes absent here fall back to the
# ``reason`` text (spec references removed), so a new code never shows up raw.
REASONS: dict[str, str] = {
    "M-21.crm_deleted": "The linked Salesforce record was deleted.",
}

# -------------------------------------------------------------------------------- lookups
_SPEC_REF = re.compile(
    r"\s*\((?:[A-Z]{1,3}\d?-\d+[a-z]?|§\s?\d+(?:\.\d+)*(?:\s+item\s+\d+)?|X\d+)"
    r"(?:\s*(?:,|;|and)\s*(?:[A-Z]{1,3}\d?-\d+[a-z]?|§\s?\d+(?:\.\d+)*(?:\s+item\s+\d+)?|X\d+))*"
    r"(?:\s*,?\s*(?i:unconfirmed|disagree))?\)"
    r"|\s*§\s?\d+(?:\.\d+)*(?:\s+item\s+\d+)?"
    r"|\s*\[\[[^\]]*\]\]:?"
    r"|,?\s*\b(?:UNCONFIRMED|DISAGREE)\b"
    r"|\s*[,;]\s*(?:[A-Z]{1,3}\d?-\d+[a-z]?|§\s?\d+(?:\.\d+)*(?:\s+item\s+\d+)?)(?=\s*[),;])"
    r"|\s*\((?:[^()]*\bpolicy\b|[^()]*\b[a-z0-9]+(?:_[a-z0-9]+)+=)[^()]*\)"
)
_POLICY = re.compile(r"\bpolic(?:y|ies)\s+([a-z0-9]+(?:_[a-z0-9]+)+)")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
_SNAKE_IN_TEXT = re.compile(r"(?<![\w./-])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w/-]|\.\w)")
_IN_TEXT = {
    "use_salesforce": "\u201cUse Salesforce's value\u201d",
    "use_pardot": "\u201cUse Pardot's value\u201d",
    "most_recent": "\u201cUse the most recently updated record\u201d",
}


def _word(m: re.Match) -> str:
    key = m[1]
    return _IN_TEXT.get(key) or TABLES.get(key) or key.replace("_", " ")


def plain_text(text: Any, words: bool = True) -> str:
    """Text with spec references ("(M-2)", "§3.7"), ``[[…]]`` markers and NA removed.

    ``words``: snake_case words in the text read as words too (``use_salesforce`` → “Use
    Salesforce's value”); off for table cells, where a value may be a code shown on purpose.
    """
    if text is None or (not isinstance(text, str) and _isna(text)):
        return ""
    out = _SPEC_REF.sub("", str(text))
    if words:
        out = _SNAKE_IN_TEXT.sub(_word, out)
    return re.sub(r"\s{2,}", " ", out).strip()


def policies_in(text: Any) -> list[str]:
    """The policy names a text says it rests on (``policy blank_last_name=risk``)."""
    return _POLICY.findall(str(text)) if text is not None and not _isna(text) else []


def humanize(key: Any) -> str:
    """A snake_case or kebab-case key as words: ``hours_low`` → ``Hours low``."""
    text = str(key).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def outcome_label(outcome: Any, kind: str = "prospects") -> str:
    """The short label of a prospect (``kind="prospects"``) or Salesforce record outcome."""
    table = PROSPECT_OUTCOMES if kind == "prospects" else SALESFORCE_OUTCOMES
    entry = table.get(str(outcome))
    return entry[0] if entry else humanize(outcome)


def outcome_meaning(outcome: Any, kind: str = "prospects") -> str:
    """One plain sentence saying what an outcome means."""
    table = PROSPECT_OUTCOMES if kind == "prospects" else SALESFORCE_OUTCOMES
    entry = table.get(str(outcome))
    return entry[1] if entry else ""


def severity_label(severity: Any) -> str:
    """Blocker / Warning / Note."""
    return SEVERITIES.get(str(severity), humanize(severity))


def status_key(status: Any, severity: Any = None) -> str:
    """The display status: an info check that found something is ``noted``, never ``fail``."""
    status = str(status)
    if status == "fail" and str(severity) == "info":
        return "noted"
    return status


def status_label(status: Any, severity: Any = None) -> str:
    """OK / Needs fixing / Noted / Could not run."""
    key = status_key(status, severity)
    return STATUSES.get(key, humanize(key))


def verdict_label(verdict: Any, short: bool = False) -> str:
    """The verdict in plain words."""
    table = VERDICT_SHORT if short else VERDICTS
    return table.get(str(verdict), humanize(verdict))


def area_label(area: Any) -> str:
    """The area's title (``DUP`` → Duplicate emails)."""
    entry = AREAS.get(str(area))
    return entry[0] if entry else str(area)


def area_why(area: Any) -> str:
    """One sentence on what an area covers."""
    entry = AREAS.get(str(area))
    return entry[1] if entry else ""


def check_title(code: Any, name: Any = None) -> str:
    """A check's title in words (falls back to its kebab-case name made readable)."""
    title = CHECK_TITLES.get(str(code))
    if title:
        return title
    return humanize(name) if name else str(code)


def column_label(column: Any) -> str:
    """A frame column's display name (unknown snake_case keys become words)."""
    col = str(column)
    if col in COLUMNS:
        return COLUMNS[col]
    return humanize(col) if _SNAKE.match(col) else col


def field_label(name: Any) -> str:
    """A field or export named in a finding: ``last_name`` → Last name (others as given)."""
    text = str(name)
    if text in TABLES:
        return TABLES[text]
    return humanize(text) if _SNAKE.match(text) else text


def sync_behavior_label(value: Any) -> str:
    """``use_salesforce`` → Salesforce value wins."""
    return SYNC_BEHAVIORS.get(str(value), humanize(value))


def table_label(table: Any) -> str:
    """An export's name in words (``sf_leads`` → Salesforce leads)."""
    return TABLES.get(str(table), humanize(table))


def reason_label(code: Any = None, reason: Any = None) -> str:
    """The reason of an outcome in words: by reason code when known, else the reason text.

    ``code`` may be a ``;``-joined list; the first known code wins.
    """
    if code is not None and not _isna(code):
        registry = _reason_registry()
        for part in str(code).split(";"):
            text = REASONS.get(part.strip()) or registry.get(part.strip())
            if text:
                return text
    return plain_text(reason)


def _reason_registry() -> dict[str, str]:
    """The simulator's reason codes (``sync.reasons``) as sentences; empty if unavailable."""
    global _REGISTRY
    if _REGISTRY is None:
        try:
            from .sync.reasons import REASONS as codes
        except ImportError:  # pragma: no cover - the simulator always ships with labels
            codes = {}
        _REGISTRY = {}
        for code, entry in codes.items():
            text = plain_text(entry[1] if isinstance(entry, tuple) else entry)
            _REGISTRY[code] = (text[:1].upper() + text[1:] + ".") if text else ""
    return _REGISTRY


_REGISTRY: dict[str, str] | None = None


def reason_labels(codes: pd.Series | None, reasons: pd.Series) -> pd.Series:
    """:func:`reason_label` over a column, computed once per distinct (code, reason) pair."""
    if codes is None:
        codes = pd.Series(pd.NA, index=reasons.index, dtype="str")
    pairs = pd.DataFrame({"c": codes.astype("str"), "r": reasons.astype("str")})
    uniq = pairs.drop_duplicates()
    text = [reason_label(c, r) for c, r in zip(uniq["c"], uniq["r"], strict=True)]
    lookup = uniq.assign(t=text)
    merged = pairs.merge(lookup, on=["c", "r"], how="left")
    return pd.Series(merged["t"].to_numpy(), index=reasons.index, dtype="str")


# ------------------------------------------------------------------------------ numbers
def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_int(value: Any) -> str:
    """An integer with thousands separators (``12,345``); blank for NA."""
    if value is None or _isna(value):
        return ""
    try:
        return f"{round(float(value)):,}"
    except (TypeError, ValueError):
        return str(value)


def fmt_share(part: Any, whole: Any) -> str:
    """``part / whole`` as a percentage (``4.2%``; ``<0.1%`` for a small non-zero share)."""
    try:
        part, whole = float(part), float(whole)
    except (TypeError, ValueError):
        return ""
    if not whole or math.isnan(part) or math.isnan(whole):
        return ""
    share = part / whole
    if 0 < share < 0.001:
        return "<0.1%"
    return f"{share:.1%}"


def fmt_duration(hours: Any) -> str:
    """Hours as words: ``2.5`` → ``2 h 30 min``; ``0.2`` → ``12 min``; ``0`` → ``none``."""
    if hours is None or _isna(hours):
        return ""
    minutes = round(float(hours) * 60)
    if minutes <= 0:
        return "under a minute" if float(hours) > 0 else "none"
    if minutes < 60:
        return f"{minutes} min"
    days, rest = divmod(minutes, 24 * 60)
    h, m = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days:,} d")
    if h:
        parts.append(f"{h} h")
    if m and not days:
        parts.append(f"{m} min")
    return " ".join(parts)


def fmt_value(value: Any) -> str:
    """Any value for display: NA blank, numbers with separators, booleans as Yes/No."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (list, tuple, set)):
        return ", ".join(fmt_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{humanize(k)}: {fmt_value(v)}" for k, v in value.items())
    if _isna(value):
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return plain_text(value, words=False)


def display_frame(frame: pd.DataFrame, kind: str = "prospects") -> pd.DataFrame:
    """A frame ready to show: labelled columns and codes, no NA, numbers with separators."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        series = frame[col]
        if col == "outcome":
            shown = series.map(lambda v: outcome_label(v, kind))
        elif col == "severity":
            shown = series.map(severity_label)
        elif col == "status" and "severity" in frame.columns:
            shown = pd.Series(
                [status_label(s, v) for s, v in zip(series, frame["severity"], strict=True)],
                index=frame.index,
            )
        elif col == "sync_behavior":
            shown = series.map(sync_behavior_label)
        elif col == "reason":
            shown = reason_labels(frame.get("reason_code"), series)
        elif col == "area":
            shown = series.map(area_label)
        elif col in ("field", "table"):
            shown = series.map(lambda v: "" if _isna(v) else field_label(v))
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            shown = series.map(fmt_int)
        else:
            shown = series.map(fmt_value)
        out[column_label(col)] = shown.astype("str").fillna("").to_numpy()
    return out
