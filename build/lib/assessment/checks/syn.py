"""SYN: sync state and volume (spec/checks.md; connector-behavior.md §7, §8)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..sync.reasons import has_code
from .registry import (
    NEED_SIMULATION,
    CheckContext,
    Outcome,
    check,
    empty_findings,
    make_findings,
)

# Salesforce error codes (§7.2) and the check that predicts each.
ERROR_TO_CHECK = {
    "REQUIRED_FIELD_MISSING": "FLD007",
    "INVALID_EMAIL_ADDRESS": "DUP006",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "FLD003",
    "STRING_TOO_LONG": "FLD004",
    "DUPLICATES_DETECTED": "DUP002",
    "INACTIVE_OWNER_OR_USER": "USR003",
    "CANNOT_UPDATE_CONVERTED_LEAD": "SYN001",
    "ENTITY_IS_DELETED": "SYN001",
    "INSUFFICIENT_ACCESS_OR_READONLY": "CON004",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": "CON004",
}


def _problem_findings(ctx: CheckContext, code: str, fix: str) -> pd.DataFrame:
    """Findings from the loader's problems with this code (one per problem)."""
    pr = ctx.snapshot.load_report.problems
    pr = pr[pr["code"] == code].reset_index(drop=True)
    row = pd.to_numeric(pr["row"], errors="coerce").astype("Int64").astype("str")
    found = make_findings(
        code,
        pr["table"],
        pr["table"] + " row " + row,
        index=pr.index,
        field=pr["column"],
        value=pr["value"],
        message=pr["file"].astype("str") + ": " + pr["message"].astype("str"),
        suggested_fix=fix,
    )
    found.index = pd.Index(pd.to_numeric(pr["row"], errors="coerce"), name="row")
    return found


@check(
    "SYN001", "stale-crm-ids", "SYN", "warning", needs=(NEED_SIMULATION,), source="M-20, M-21, ID-5"
)
def stale_crm_ids(ctx: CheckContext) -> Outcome:
    """Prospects carry CRM ids that are not in the Salesforce export.

    ## What it checks
    Prospects the simulation predicts as `stale_crm_id`: the CRM id is `[[crm_deleted]]`, or a
    valid id absent from the leads and contacts exports.

    ## Why it matters
    The record was deleted, merged, or is invisible to whoever exported it. The connector will
    not re-create it (M-21); the sync reports errors or the prospect stays unlinked.

    ## How to fix it
    For merged records, put the surviving record's id on the prospect; for deleted ones, decide
    whether to archive the prospect; export with "Export All" and as a user who sees everything
    to rule out visibility.

    ## Known false positives
    An export filtered by the exporting user's sharing or a report filter makes live records
    look stale.
    """
    p = ctx.simulation.prospects
    hit = p[p["outcome"] == "stale_crm_id"]
    found = make_findings(
        "SYN001",
        "Prospect",
        hit["prospect_id"],
        prospect_id=hit["prospect_id"],
        sf_id=hit["sf_id"],
        email=hit["email"],
        message=hit["reason"],
        suggested_fix="replace with the surviving record's id, or archive the prospect",
    )
    return Outcome(
        found,
        f"{len(hit)} prospect(s) carry a CRM id missing from the Salesforce export.",
        population=len(p),
    )


@check("SYN002", "short-crm-ids", "SYN", "info", source="ID-1, ID-2, ID-5")
def short_crm_ids(ctx: CheckContext) -> Outcome:
    """15-character Salesforce ids in an export.

    ## What it checks
    Cells the loader found holding 15-character ids (report exports). They were converted to
    18 characters with the case checksum before any comparison.

    ## Why it matters
    15-character ids are case-sensitive: spreadsheet lookups and case-insensitive tools merge
    ids that differ only by case. The toolkit compares 18-character ids, so its results are
    safe, but files you join yourself are not.

    ## How to fix it
    Export with Data Loader or the API (18-character ids), or add CASESAFEID() to reports.

    ## Known false positives
    None: the ids are converted correctly.
    """
    found = _problem_findings(ctx, "SYN002", "use 18-character ids (Data Loader / CASESAFEID)")
    return Outcome(found, f"{len(found)} cell(s) held 15-character ids (converted to 18).")


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


@check(
    "SYN003",
    "initial-sync-volume",
    "SYN",
    "info",
    needs=(NEED_SIMULATION,),
    source="SY-2, SY-3, SY-4, CR-20",
)
def initial_sync_volume(ctx: CheckContext) -> Outcome:
    """How much the first sync after unpausing will process.

    ## What it checks
    The simulation's estimate of records queued, sync cycles, duration (low and high
    throughput) and Salesforce API calls. Passes as information; a warning when the slow
    estimate exceeds `syn003_max_hours` (default 24) or the API calls exceed `api_daily_limit`.

    ## Why it matters
    A long first sync delays everything else queued behind it; triggers and flows fire on every
    update and can cause lock errors (SY-3). Connector API use probably does not count against
    the daily limit (SY-4, unconfirmed), but it shows in usage reports.

    ## How to fix it
    Unpause off-hours, pause heavy automation, and reduce the queue (un-assign prospects that
    should not create leads).

    ## Known false positives
    Throughput figures are planning numbers (SY-2), not measurements.
    """
    s = ctx.settings
    init = ctx.simulation.initial_sync
    queued = int(_get(init, "records_queued", 0) or 0)
    hours_high = float(_get(init, "hours_high", 0) or 0)
    hours_low = float(_get(init, "hours_low", 0) or 0)
    calls = int(_get(init, "api_calls", 0) or 0)
    slow = max(hours_high, hours_low)
    over_time = slow > s.syn003_max_hours
    over_api = s.api_daily_limit is not None and calls > s.api_daily_limit
    summary = (
        f"{queued} record(s) queued; about {math.ceil(min(hours_low, hours_high) * 10) / 10}"
        f"–{math.ceil(slow * 10) / 10} h; about {calls} API call(s)"
        + (f" (daily limit {s.api_daily_limit})" if s.api_daily_limit else "")
        + "."
    )
    if not (over_time or over_api):
        return Outcome(
            empty_findings(),
            summary,
            numbers={"records_queued": queued, "hours": slow, "api_calls": calls},
            failed=False,
        )
    reasons = []
    if over_time:
        reasons.append(f"more than {s.syn003_max_hours:g} h of syncing")
    if over_api:
        reasons.append("more API calls than the daily limit")
    found = make_findings(
        "SYN003",
        "sync",
        None,
        index=pd.RangeIndex(1),
        value=str(queued),
        message="; ".join(reasons),
        suggested_fix="unpause off-hours and reduce the queue",
    )
    return Outcome(
        found,
        summary + " Above the limit: " + "; ".join(reasons) + ".",
        numbers={"records_queued": queued, "hours": slow, "api_calls": calls},
        severity="warning",
        affected=queued,
        failed=True,
    )


@check("SYN004", "sync-error-triage", "SYN", "warning", needs=("sync_errors",), source="SY-5, §7.2")
def sync_error_triage(ctx: CheckContext) -> Outcome:
    """An exported sync error list: errors grouped by cause.

    ## What it checks
    Every row of the sync error export, grouped by Salesforce error code, each tied to the check
    that predicts that error (REQUIRED_FIELD_MISSING → FLD007, restricted picklist → FLD003,
    STRING_TOO_LONG → FLD004, INVALID_EMAIL_ADDRESS → DUP006, INACTIVE_OWNER_OR_USER → USR003,
    deleted or converted records → SYN001 …).

    ## Why it matters
    Errors stay listed until the record changes or is retried (SY-5); existing errors show what
    the first sync will hit again.

    ## How to fix it
    Fix the cause named by the linked check, then retry the records.

    ## Known false positives
    Transient errors (UNABLE_TO_LOCK_ROW) that have since cleared.
    """
    e = ctx.table("sync_errors")
    code = e["error_code"].astype("str").str.strip().str.upper()
    code = code.fillna(
        e["error_message"].astype("str").str.extract(r"([A-Z][A-Z_]{3,})", expand=False)
    )
    linked = code.map(ERROR_TO_CHECK).astype("str")
    record = e["prospect_id"].astype("str").fillna(e["sf_id"].astype("str"))
    record = record.fillna("sync_errors row " + pd.Series(e.index.astype("str"), index=e.index))
    obj = pd.Series("Prospect", index=e.index, dtype="str").mask(
        e["prospect_id"].isna() & e["sf_id"].notna(), "Salesforce"
    )
    found = make_findings(
        "SYN004",
        obj,
        record,
        prospect_id=e["prospect_id"],
        sf_id=e["sf_id"],
        email=e["email"],
        field=code,
        value=e["error_message"],
        message="sync error " + code.fillna("(no code)") + (" (see " + linked + ")").fillna(""),
        suggested_fix="fix the cause named by the linked check, then retry",
    )
    groups = code.fillna("(no code)").value_counts()
    return Outcome(
        found,
        f"{len(e)} sync error(s): "
        + ", ".join(f"{k} {v}" for k, v in groups.head(6).items())
        + ".",
        numbers={"by_code": {str(k): int(v) for k, v in groups.items()}},
        failed=bool(len(e)),
    )


@check(
    "SYN005",
    "existing-records-not-backfilled",
    "SYN",
    "info",
    needs=(NEED_SIMULATION,),
    source="CR-9, CR-11, M-11, M-16",
)
def existing_records_not_backfilled(ctx: CheckContext) -> Outcome:
    """Leads and contacts with an email and no prospect that unpausing will not bring over.

    ## What it checks
    Salesforce records the simulation predicts as `no_prospect` because auto-create is off or
    not retroactive (existing records are not back-filled, CR-11). Records without an email,
    converted leads and records shadowed by a same-email record are not listed.

    ## Why it matters
    Admins often expect every lead and contact to appear in Account Engagement at unpause. They
    will not; they need an import.

    ## How to fix it
    Import the action file into Account Engagement (in same-email mode, by CRM id: never by
    email, M-11).

    ## Known false positives
    Records you do not want in Account Engagement.
    """
    sf = ctx.simulation.salesforce
    not_back = has_code(
        sf["reason_code"],
        "CR-11.auto_create_off",
        "CR-11.not_retroactive",
        "CR-11.created_before_auto_create",
    )
    hit = sf[["sf_object", "sf_id", "email", "reason"]][
        (sf["outcome"] == "no_prospect") & sf["email_key"].notna() & not_back
    ]
    found = make_findings(
        "SYN005",
        hit["sf_object"],
        hit["sf_id"],
        sf_id=hit["sf_id"],
        email=hit["email"],
        message=hit["reason"],
        suggested_fix="import into Account Engagement by CRM id",
    )
    return Outcome(
        found,
        f"{len(hit)} lead/contact record(s) with an email will not get a prospect at unpause.",
        population=len(sf),
    )
