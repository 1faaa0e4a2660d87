"""DUP: duplicate and malformed emails (spec/checks.md, connector-behavior.md M-1, M-7, M-13)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..normalize import email_is_valid
from .common import live_contacts, live_leads, live_prospects, person_accounts
from .registry import CheckContext, Outcome, check, concat_findings, make_findings


def _shared(frame: pd.DataFrame, key: str = "email_key") -> pd.DataFrame:
    """Rows whose email key is shared with at least one other row of the frame."""
    keyed = frame[frame[key].notna()]
    return keyed[keyed[key].duplicated(keep=False)]


def _group_sizes(frame: pd.DataFrame, key: str = "email_key") -> pd.Series:
    return frame.groupby(key)[key].transform("size").astype("str")


def _same_object_duplicates(code: str, obj: str, records) -> Outcome:
    """Records of one Salesforce object sharing an email key: every group member is flagged."""
    dup = _shared(records)
    noun = obj.lower() + "s"
    found = make_findings(
        code,
        obj,
        dup["id"],
        sf_id=dup["id"],
        email=dup["email"],
        value=dup["email_key"],
        message=_group_sizes(dup) + f" {noun} share this email: the connector must pick one",
        suggested_fix=f"merge the duplicate {noun} in Salesforce",
    )
    groups = int(dup["email_key"].nunique())
    return Outcome(
        found,
        f"{len(dup)} {obj.lower()}(s) in {groups} group(s) share an email.",
        numbers={"groups": groups},
        population=len(records),
    )


@check(
    "DUP001",
    "prospect-duplicate-email",
    "DUP",
    "warning",
    needs=("pardot_prospects",),
    source="M-10, M-11, M-13",
)
def prospect_duplicate_email(ctx: CheckContext) -> Outcome:
    """Several prospects share one email.

    ## What it checks
    Prospects not in the recycle bin whose email, trimmed and case-folded, is shared with at
    least one other such prospect. Every member of a group counts (a group of three counts 3).
    A warning with one prospect per email; info in same-email (AMPSEA) mode, where it is allowed.

    ## Why it matters
    With one prospect per email, duplicates mean a broken import or an earlier mode: only one of
    them can link to the Salesforce record. In same-email mode, forms and imports update the
    most recently active one, and prospects without a CRM id may match the same record.

    ## How to fix it
    Merge the duplicate prospects in Account Engagement, or give each its CRM id before
    unpausing.

    ## Known false positives
    Addresses that differ only in case may be different mailboxes to the connector (M-13).
    """
    p = live_prospects(ctx.table("pardot_prospects"))
    dup = _shared(p)
    found = make_findings(
        "DUP001",
        "Prospect",
        dup["prospect_id"],
        prospect_id=dup["prospect_id"],
        email=dup["email"],
        value=dup["email_key"],
        message=_group_sizes(dup) + " prospects share this email",
        suggested_fix="merge the duplicate prospects or give each its CRM id",
    )
    ampsea = ctx.settings.ampsea
    return Outcome(
        found,
        f"{len(dup)} prospect(s) in {dup['email_key'].nunique()} email group(s) share an email"
        f"{' (allowed in same-email mode)' if ampsea else ''}.",
        severity="info" if ampsea else "warning",
        numbers={"groups": int(dup["email_key"].nunique())},
        population=len(p),
    )


@check("DUP002", "lead-duplicate-email", "DUP", "warning", needs=("sf_leads",), source="M-7, M-1")
def lead_duplicate_email(ctx: CheckContext) -> Outcome:
    """Several leads share one email.

    ## What it checks
    Leads that are neither converted nor deleted whose email, trimmed and case-folded, is shared
    with at least one other such lead. Every member of a group counts.

    ## Why it matters
    A prospect links to one record only (M-1). Which of several same-email leads the connector
    picks is not documented (M-7); the others stay without a prospect and get no activity data.

    ## How to fix it
    Merge the duplicate leads in Salesforce before unpausing.

    ## Known false positives
    Shared mailboxes (info@, sales@) that really are different people.
    """
    return _same_object_duplicates("DUP002", "Lead", live_leads(ctx.table("sf_leads")))


@check(
    "DUP003", "contact-duplicate-email", "DUP", "warning", needs=("sf_contacts",), source="M-7, M-1"
)
def contact_duplicate_email(ctx: CheckContext) -> Outcome:
    """Several contacts share one email.

    ## What it checks
    Contacts that are not deleted whose email, trimmed and case-folded, is shared with at least
    one other such contact. Every member of a group counts.

    ## Why it matters
    Only one of the contacts can link to the prospect (M-1); which one is not documented (M-7).

    ## How to fix it
    Merge the duplicate contacts in Salesforce before unpausing.

    ## Known false positives
    Shared mailboxes used by several real people.
    """
    return _same_object_duplicates("DUP003", "Contact", live_contacts(ctx.table("sf_contacts")))


@check(
    "DUP004",
    "lead-contact-shared-email",
    "DUP",
    "warning",
    needs=("sf_leads", "sf_contacts"),
    source="M-7, M-17",
)
def lead_contact_shared_email(ctx: CheckContext) -> Outcome:
    """A lead and a contact share one email.

    ## What it checks
    Open leads (not converted, not deleted) and contacts (not deleted) whose trimmed,
    case-folded email appears on both sides. Every lead and contact in such a group counts.

    ## Why it matters
    Usually an unconverted duplicate. The connector links the prospect to one of them (contact
    first is the toolkit's default policy, unconfirmed: M-7); the other gets no prospect.

    ## How to fix it
    Convert the lead into the existing contact (or merge) before unpausing.

    ## Known false positives
    A lead kept on purpose for a new opportunity of an existing contact.
    """
    leads = live_leads(ctx.table("sf_leads"))
    contacts = live_contacts(ctx.table("sf_contacts"))
    both = set(leads["email_key"].dropna()) & set(contacts["email_key"].dropna())
    lh = leads[leads["email_key"].isin(both)]
    ch = contacts[contacts["email_key"].isin(both)]
    parts = [
        make_findings(
            "DUP004",
            obj,
            t["id"],
            sf_id=t["id"],
            email=t["email"],
            value=t["email_key"],
            message="an open lead and a contact share this email",
            suggested_fix="convert the lead into the contact, or merge",
        )
        for obj, t in (("Lead", lh), ("Contact", ch))
    ]
    return Outcome(
        concat_findings(parts),
        f"{len(both)} email(s) are on both an open lead and a contact "
        f"({len(lh)} lead(s), {len(ch)} contact(s)).",
        numbers={"emails": len(both)},
        population=len(leads) + len(contacts),
    )


def _all_emails(ctx: CheckContext) -> pd.DataFrame:
    """Every live record with an email: object, record id, prospect id, sf id, raw email, key."""
    parts = []
    if ctx.has("pardot_prospects"):
        p = live_prospects(ctx.table("pardot_prospects"))
        parts.append(
            pd.DataFrame(
                {
                    "object": "Prospect",
                    "record_id": p["prospect_id"],
                    "prospect_id": p["prospect_id"],
                    "sf_id": pd.NA,
                    "email": p["email"],
                    "email_key": p["email_key"],
                }
            )
        )
    for table, obj, pick, col, key in (
        ("sf_leads", "Lead", live_leads, "email", "email_key"),
        ("sf_contacts", "Contact", live_contacts, "email", "email_key"),
        ("sf_accounts", "PersonAccount", person_accounts, "person_email", "person_email_key"),
    ):
        if ctx.has(table):
            t = pick(ctx.table(table))
            parts.append(
                pd.DataFrame(
                    {
                        "object": obj,
                        "record_id": t["id"],
                        "prospect_id": pd.NA,
                        "sf_id": t["id"],
                        "email": t[col],
                        "email_key": t[key],
                    }
                )
            )
    if not parts:
        return pd.DataFrame(
            columns=["object", "record_id", "prospect_id", "sf_id", "email", "email_key"]
        )
    out = pd.concat(parts)
    out.index.name = "row"
    return out.astype({"record_id": "str", "prospect_id": "str", "sf_id": "str", "email": "str"})


@check(
    "DUP005",
    "email-case-whitespace-variants",
    "DUP",
    "info",
    needs=("pardot_prospects",),
    source="M-13, M-14, policy email_case_insensitive",
)
def email_case_whitespace_variants(ctx: CheckContext) -> Outcome:
    """Emails that are equal only after trimming spaces and ignoring case.

    ## What it checks
    Prospects, open leads, contacts and person accounts whose email, trimmed and case-folded,
    equals another record's, while the raw values differ (`Ann@X.com` vs `ann@x.com `). Every
    record of such a group counts.

    ## Why it matters
    Whether the connector compares emails ignoring case is unconfirmed (M-13); leading or
    trailing spaces stop values from updating (M-14). The toolkit matches them (policy
    `email_case_insensitive`) but marks such matches as uncertain.

    ## How to fix it
    Write the email the same way on both sides: lower case, no surrounding spaces.

    ## Known false positives
    None known: the raw values really differ.
    """
    e = _all_emails(ctx)
    keyed = e[e["email_key"].notna()]
    variants = keyed.groupby("email_key")["email"].transform("nunique")
    hit = keyed[variants > 1]
    found = make_findings(
        "DUP005",
        hit["object"],
        hit["record_id"],
        prospect_id=hit["prospect_id"],
        sf_id=hit["sf_id"],
        email=hit["email"],
        value=hit["email_key"],
        message="written differently (case or spaces) on another record with the same email",
        suggested_fix="write the email in lower case without surrounding spaces",
    )
    return Outcome(
        found,
        f"{len(hit)} record(s) in {hit['email_key'].nunique()} email group(s) differ only in case "
        "or spaces.",
        numbers={"groups": int(hit["email_key"].nunique())},
        population=len(keyed),
    )


@check(
    "DUP006",
    "invalid-email",
    "DUP",
    "warning",
    needs=("pardot_prospects",),
    source="M-14, M-15, M-16, policy invalid_email",
)
def invalid_email(ctx: CheckContext) -> Outcome:
    """Invalid or blank emails on records that should sync.

    ## What it checks
    Prospects (not in the recycle bin), open leads (not converted, not deleted), contacts (not
    deleted) and, when person-account sync is on, person accounts whose email is blank or is not
    a valid address of at most 80 characters. Every such record counts.

    ## Why it matters
    A lead or contact without an email never syncs (M-16). Salesforce rejects invalid emails with
    INVALID_EMAIL_ADDRESS (policy `invalid_email`, unconfirmed for the connector), and an email
    over 80 characters cannot be written (M-15).

    ## How to fix it
    Add, correct or clear the listed emails.

    ## Known false positives
    Leads kept without an email on purpose (phone-only leads); unusual but valid addresses
    (quoted local parts, internationalised domains).
    """
    e = _all_emails(ctx)
    if not ctx.settings.person_accounts_enabled:
        e = e[e["object"] != "PersonAccount"]  # invisible to the connector (M-18)
    raw = e["email"]
    blank = e["email_key"].isna()
    invalid = e["email_key"].notna() & ~email_is_valid(raw.fillna(""))
    mask = (blank | invalid).to_numpy()
    hit = e[mask]
    found = make_findings(
        "DUP006",
        hit["object"],
        hit["record_id"],
        prospect_id=hit["prospect_id"],
        sf_id=hit["sf_id"],
        email=hit["email"],
        value=hit["email"],
        message=pd.Series(
            np.where(blank.to_numpy()[mask], "no email: the record cannot sync", "invalid email"),
            index=hit.index,
            dtype="str",
        ),
        suggested_fix="correct or clear the email",
    )
    return Outcome(
        found,
        f"{int(blank.sum())} record(s) without an email; {int(invalid.sum())} record(s) with an "
        f"invalid email (policy invalid_email={ctx.settings.invalid_email}).",
        numbers={"blank": int(blank.sum()), "invalid": int(invalid.sum())},
        population=len(e),
    )
