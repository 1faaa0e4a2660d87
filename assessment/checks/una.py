"""UNA: unassigned and assigned-without-match prospects (spec/checks.md; M-6, CR-1, CR-4)."""

from __future__ import annotations

import pandas as pd

from ..sync.reasons import has_code
from .common import is_true
from .registry import NEED_SIMULATION, CheckContext, Outcome, check, make_findings


def _assigned(p):
    return is_true(p["assigned"])


def user_names(ctx: CheckContext, ids: pd.Series) -> dict[str, str]:
    """Salesforce user or queue id → name (Name, else First Last, else Username) for ``ids``;
    {} without the users and queues exports (issue #14: owners by name, the id kept for
    reference)."""
    queues = {}
    # The distinct ids only: isin lists its values in Python (0.3 s per million owners).
    wanted = ids.dropna().astype("str").unique()
    if ctx.has("sf_queues"):  # a queue owns leads too (CR-2): its Name
        q = ctx.table("sf_queues").dropna(subset=["id", "name"])
        q = q[q["id"].astype("str").isin(wanted)]
        queues = {str(k): f"{v} (queue)" for k, v in zip(q["id"], q["name"], strict=True)}
    if not ctx.has("sf_users"):
        return queues
    u = ctx.table("sf_users")
    blank = pd.Series(pd.NA, index=u.index, dtype="object")

    def text(col: str) -> pd.Series:
        values = u[col].astype("object") if col in u.columns else blank
        return values.where(values.astype("str").str.strip().ne(""), pd.NA)

    first = text("first_name").fillna("").astype("str")
    full = (first + " " + text("last_name").fillna("").astype("str")).str.strip()
    name = text("name").fillna(full.where(full.ne(""), pd.NA)).fillna(text("username"))
    by_id = pd.Series(name.to_numpy(), index=u["id"].astype("str")).dropna()
    by_id = by_id[~by_id.index.duplicated() & by_id.index.isin(wanted)]
    return {**queues, **{str(k): str(v) for k, v in by_id.items()}}


@check(
    "UNA001", "unassigned-no-match", "UNA", "warning", needs=(NEED_SIMULATION,), source="CR-4, M-6"
)
def unassigned_no_match(ctx: CheckContext) -> Outcome:
    """Unassigned prospects with no matching lead or contact.

    ## What it checks
    Prospects the simulation predicts as `pardot_only` that are not assigned to a user: no CRM
    id, no matching lead or contact, no assignment. Prospects with CRM sync disabled are left
    out, and so are archived prospects and blank emails (DUP006): the check lists
    the simulator's `CR-4.unassigned_no_match` decisions.

    ## Why it matters
    They will not reach Salesforce at unpause (CR-4): sales will not see them. Often intended,
    but the count should be known.

    ## How to fix it
    Assign the prospects that sales should work (a lead is then created), or leave them in
    Account Engagement only.

    ## Known false positives
    Prospects kept out of Salesforce on purpose.
    """
    p = ctx.simulation.prospects
    # The simulator's decision (CR-4): not recycle-binned, not sync-disabled, no usable email
    # match and unassigned; blank emails (M-16) are DUP006's.
    hit = p[
        (p["outcome"] == "pardot_only") & has_code(p["reason_code"], "CR-4.unassigned_no_match")
    ]
    found = make_findings(
        "UNA001",
        "Prospect",
        hit["prospect_id"],
        prospect_id=hit["prospect_id"],
        email=hit["email"],
        message="unassigned, no matching lead or contact: stays in Account Engagement only",
        suggested_fix="assign the prospect if sales should work it",
    )
    return Outcome(
        found,
        f"{len(hit)} unassigned prospect(s) have no Salesforce match and will not sync.",
        population=len(p),
    )


@check("UNA002", "unassigned-will-link", "UNA", "info", needs=(NEED_SIMULATION,), source="M-6, H1")
def unassigned_will_link(ctx: CheckContext) -> Outcome:
    """Unassigned prospects that will link to an existing record by email.

    ## What it checks
    Counts the prospects the simulation predicts will link by email (`match_email`,
    `match_email_tie`) although no user is assigned. Informational: it flags them (severity
    info, no effect on the verdict) so the list is at hand.

    ## Why it matters
    Unassigned prospects do sync with an existing same-email record (M-6), and take the
    record's owner as assigned user (Salesforce wins, U-3). Admins often expect otherwise.

    ## How to fix it
    Nothing to fix. Review the ties (`match_email_tie`) in the prospect outcomes.

    ## Known false positives
    None: the count comes from the simulation.
    """
    p = ctx.simulation.prospects
    hit = p[p["outcome"].isin(["match_email", "match_email_tie"]) & ~_assigned(p)]
    ties = int((hit["outcome"] == "match_email_tie").sum())
    found = make_findings(
        "UNA002",
        "Prospect",
        hit["prospect_id"],
        prospect_id=hit["prospect_id"],
        sf_id=hit["sf_id"],
        email=hit["email"],
        message="unassigned: will link by email and take the Salesforce owner as assigned user",
        suggested_fix="none needed; review ties in outcomes/prospects.csv",
    )
    return Outcome(
        found,
        f"{len(hit)} unassigned prospect(s) will link by email ({ties} to one of several records).",
        numbers={"will_link": len(hit), "ties": ties},
        population=len(p),
    )


@check(
    "UNA003",
    "assigned-will-create-leads",
    "UNA",
    "warning",
    needs=(NEED_SIMULATION,),
    source="CR-1, CR-6, U-4",
)
def assigned_will_create_leads(ctx: CheckContext) -> Outcome:
    """Assigned prospects with no match: the connector will create leads.

    ## What it checks
    Prospects the simulation predicts as `create_lead`. Info up to
    `una003_create_threshold` (connector.yml, default 100), a warning above it. The summary
    gives the count per future owner.

    ## Why it matters
    Every one becomes a new Salesforce lead at unpause (CR-1): a flood of leads for sales, and
    duplicates when the real record is invisible to the connector or out of scope (M-3).

    ## How to fix it
    Review the list; un-assign or set "do not sync" on prospects that should not become leads.

    ## Known false positives
    Intended lead creation (a real campaign backlog).
    """
    p = ctx.simulation.prospects
    hit = p[p["outcome"] == "create_lead"]
    owners = hit["owner_sf_user_id"].astype("str").fillna("(connector user)").value_counts()
    found = make_findings(
        "UNA003",
        "Prospect",
        hit["prospect_id"],
        prospect_id=hit["prospect_id"],
        email=hit["email"],
        value=hit["owner_sf_user_id"],
        message="assigned, no match: a lead will be created (value = future owner)",
        suggested_fix="un-assign or set do-not-sync if this should not become a lead",
    )
    threshold = ctx.settings.una003_create_threshold
    names = user_names(ctx, hit["owner_sf_user_id"])
    top = ", ".join(f"{names.get(str(k), k)}: {v}" for k, v in owners.head(5).items())
    return Outcome(
        found,
        f"{len(hit)} lead(s) will be created (threshold {threshold})"
        + (f"; owners {top}" if top else "")
        + ".",
        numbers={
            "create_lead": len(hit),
            "owners": {str(k): int(v) for k, v in owners.items()},
            "owner_names": names,
        },
        severity="warning" if len(hit) > threshold else "info",
        population=len(p),
    )
