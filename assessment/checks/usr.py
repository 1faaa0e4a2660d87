"""USR: user mapping and record owners (spec/checks.md; connector-behavior.md §4)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..normalize import PREFIX_GROUP, plain_text
from ..sync.reasons import has_code
from .common import first_match_values, is_true, live_positions, user_mapping
from .registry import (
    NEED_SIMULATION,
    CheckContext,
    Outcome,
    check,
    concat_findings,
    make_findings,
)


@check(
    "USR001",
    "pardot-user-unmapped",
    "USR",
    "warning",
    needs=("pardot_users", "sf_users"),
    source="U-1, U-2, U-4",
)
def pardot_user_unmapped(ctx: CheckContext) -> Outcome:
    """A Pardot user has no matching Salesforce user.

    ## What it checks
    Pardot users (not deleted) that map to no Salesforce user: no User Sync Salesforce id, no
    CRM Username equal to a Salesforce username and (with "automatically match users") no
    single Salesforce user with the same email. `affected` counts users.

    ## Why it matters
    Leads created for prospects assigned to such a user are owned by the connector user (U-4),
    and User Sync skips users that share an email without being mapped (U-2).

    ## How to fix it
    Map each user (User Sync, or the CRM Username on the Pardot user) to an active Salesforce
    user before unpausing.

    ## Known false positives
    Pardot-only users (marketing) who never own prospects.
    """
    users = user_mapping(ctx)
    hit = users[users["sf_user_id"].isna()]
    found = make_findings(
        "USR001",
        "PardotUser",
        hit["user_id"],
        email=hit["email"],
        message="no matching Salesforce user",
        suggested_fix="map the user to an active Salesforce user (User Sync or CRM Username)",
    )
    return Outcome(
        found,
        f"{len(hit)} of {len(users)} Pardot user(s) map to no Salesforce user.",
        affected=len(hit),
        population=len(users),
    )


@check(
    "USR002",
    "prospects-owned-by-unmapped",
    "USR",
    "blocker",
    needs=(NEED_SIMULATION,),
    source="U-4, U-6, CR-6, policy unmapped_owner",
)
def prospects_owned_by_unmapped(ctx: CheckContext) -> Outcome:
    """Prospects assigned to unmapped users would create leads owned by the connector user.

    ## What it checks
    Prospects the simulation predicts will create a lead (or fail creating one) whose assigned
    Pardot user maps to no Salesforce user (the simulation marks them with policy
    `unmapped_owner`). A blocker above `usr002_blocker_threshold` (default 0), else a warning.

    ## Why it matters
    Those leads would be owned by the connector user (U-4), or, with the v2 integration user,
    may fail to be created at all (U-6, unconfirmed). Sales never sees them.

    ## How to fix it
    Map every Pardot user with assigned prospects to an active Salesforce user (USR001).

    Owners found only by a shared email are not counted as mapped (policy `owner_email_match`,
    default false: "Automatically match users" is documented for Send from CRM user, and
    unmapped users are ignored). A mapped portal (community) user is not predicted as owner
    (U-7). Prospects assigned to a Salesforce queue are owned by the queue (CR-2) and are not
    counted.

    ## Known false positives
    Prospects routed by an active Salesforce assignment rule get their owner in Salesforce: no
    export shows that routing.
    """
    p = ctx.simulation.prospects
    creating = p["outcome"].isin(["create_lead", "will_error"]) & p["sf_id"].isna()
    hit = p[has_code(p["reason_code"], "U-4.owner_unmapped")]  # the simulator's decision
    found = make_findings(
        "USR002",
        "Prospect",
        hit["prospect_id"],
        prospect_id=hit["prospect_id"],
        email=hit["email"],
        value=hit["pardot_user_id"],
        message="assigned to a Pardot user with no Salesforce user: lead owned by the connector user",
        suggested_fix="map the assigned Pardot user (value) to a Salesforce user",
    )
    threshold = ctx.settings.usr002_blocker_threshold
    return Outcome(
        found,
        f"{len(hit)} prospect(s) would create leads owned by the connector user "
        f"(blocker above {threshold}; policy unmapped_owner={ctx.settings.unmapped_owner}).",
        severity="blocker" if len(hit) > threshold else "warning",
        population=int(creating.sum()),
    )


@check(
    "USR003",
    "mapped-user-inactive",
    "USR",
    "warning",
    needs=("pardot_users", "sf_users"),
    source="U-5, U-2",
)
def mapped_user_inactive(ctx: CheckContext) -> Outcome:
    """A Pardot user maps to an inactive Salesforce user.

    ## What it checks
    Pardot users (not deleted) whose matching Salesforce user has `IsActive = false`.
    `affected` counts users.

    ## Why it matters
    Salesforce refuses inactive owners (INACTIVE_OWNER_OR_USER): leads created for their
    prospects are expected to fail (U-5, policy `inactive_owner`), and User Sync removes such
    users from Account Engagement.

    ## How to fix it
    Reassign the user's prospects to an active user, or reactivate the Salesforce user.

    ## Known false positives
    The connector may fall back to the connector user instead of failing (unconfirmed).
    """
    users = user_mapping(ctx)
    hit = users[users["sf_user_id"].notna() & (users["is_active"] == False).fillna(False)]  # noqa: E712
    found = make_findings(
        "USR003",
        "PardotUser",
        hit["user_id"],
        sf_id=hit["sf_user_id"],
        email=hit["email"],
        message="mapped Salesforce user is inactive",
        suggested_fix="reassign this user's prospects or reactivate the Salesforce user",
    )
    return Outcome(
        found,
        f"{len(hit)} Pardot user(s) map to an inactive Salesforce user.",
        affected=len(hit),
        population=len(users),
    )


@check(
    "USR004",
    "owner-not-a-user",
    "USR",
    "info",
    needs=("sf_leads", "sf_users"),
    source="U-3, CR-2, U-5",
)
def owner_not_a_user(ctx: CheckContext) -> Outcome:
    """Leads and contacts owned by a queue or an inactive user.

    ## What it checks
    Open leads (not converted, not deleted) and contacts whose OwnerId is a queue (prefix 00G,
    or listed in the queues export) or a Salesforce user with `IsActive = false`.

    ## Why it matters
    The prospect's assigned user follows the Salesforce owner (U-3). A queue or an inactive user
    has no Pardot user, so the assigned user will not resolve, and writes that need an active
    owner can fail.

    ## How to fix it
    Reassign the records to active users if they should be worked from Account Engagement.

    ## Known false positives
    Queue ownership used on purpose for lead routing.
    """
    users = ctx.table("sf_users")
    queue_ids = set(ctx.table("sf_queues")["id"].dropna()) if ctx.has("sf_queues") else set()
    parts = []
    population = 0
    for table, obj in (("sf_leads", "Lead"), ("sf_contacts", "Contact")):
        if not ctx.has(table):
            continue
        # Open leads / live contacts (live_leads, live_contacts); the owner tests run on the
        # whole column and only the flagged rows are copied.
        t = ctx.table(table)
        live = live_positions(ctx, table)
        population += len(live)
        owner = plain_text(t["owner_id"])
        queue = (owner.str.startswith(PREFIX_GROUP).fillna(False) | owner.isin(queue_ids)).astype(
            bool
        )
        # The owner's IsActive (first sf_users row with the id); a missing user is not inactive.
        is_active = first_match_values(owner, users["id"], users["is_active"])
        inactive = (is_active == False).fillna(False)  # noqa: E712
        flagged = (queue | inactive).to_numpy(dtype=bool)
        rows = live[flagged[live]]
        hit = t[["id", "email", "owner_id"]].take(rows)
        parts.append(
            make_findings(
                "USR004",
                obj,
                hit["id"],
                sf_id=hit["id"],
                email=hit["email"],
                field="OwnerId",
                value=hit["owner_id"],
                message=pd.Series(
                    np.where(
                        queue.to_numpy(dtype=bool)[rows],
                        "owned by a queue",
                        "owned by an inactive user",
                    ),
                    index=hit.index,
                    dtype="str",
                ),
                suggested_fix="reassign to an active user",
            )
        )
    found = concat_findings(parts)
    return Outcome(
        found,
        f"{len(found)} lead/contact record(s) owned by a queue or an inactive user.",
        population=population,
    )


@check(
    "USR005",
    "duplicate-user-email",
    "USR",
    "warning",
    needs=("sf_users",),
    source="U-1, U-2",
)
def duplicate_user_email(ctx: CheckContext) -> Outcome:
    """Several Salesforce users (or Pardot users) share one email.

    ## What it checks
    Salesforce users, and Pardot users (not deleted) when that export is given, whose trimmed,
    case-folded email is shared with another user of the same system. `affected` counts users.

    ## Why it matters
    Mapping users by email ("automatically match users", U-1) is then ambiguous, and User Sync
    skips users that share an email without being mapped (U-2).

    ## How to fix it
    Give each user a distinct email, or map users explicitly (User Sync / CRM Username).

    ## Known false positives
    Integration or shared service users that never own records.
    """
    parts = []
    sfu = ctx.table("sf_users")
    keyed = sfu[sfu["email_key"].notna()]
    d = keyed[keyed["email_key"].duplicated(keep=False)]
    parts.append(
        make_findings(
            "USR005",
            "User",
            d["id"],
            sf_id=d["id"],
            email=d["email"],
            message="Salesforce users share this email",
            suggested_fix="give each user a distinct email or map users explicitly",
        )
    )
    population = len(sfu)
    if ctx.has("pardot_users"):
        pu = ctx.table("pardot_users")
        pu = pu[~is_true(pu["is_deleted"]) & pu["email_key"].notna()]
        population += len(pu)
        d2 = pu[pu["email_key"].duplicated(keep=False)]
        parts.append(
            make_findings(
                "USR005",
                "PardotUser",
                d2["user_id"],
                email=d2["email"],
                message="Pardot users share this email",
                suggested_fix="give each user a distinct email or map users explicitly",
            )
        )
    found = concat_findings(parts)
    return Outcome(
        found,
        f"{len(found)} user(s) share an email with another user.",
        affected=len(found),
        population=population,
    )
