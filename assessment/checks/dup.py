"""DUP: duplicate and malformed emails (spec/checks.md, connector-behavior.md M-1, M-7, M-13)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..normalize import email_is_valid
from ..sync.kernels import arrow, codes_in_parts
from ..sync.records import match_keys
from .common import live_positions
from .registry import CheckContext, Outcome, check, concat_findings, make_findings


def _group_sizes(codes: np.ndarray) -> np.ndarray:
    """Per row, how many rows share its email-key code (0 for a blank key: code -1)."""
    counts = np.bincount(codes + 1, minlength=1)
    counts[0] = 0
    return counts[codes + 1]


def _part(ctx: CheckContext, obj: str) -> tuple[str, np.ndarray, np.ndarray]:
    """One object's live records: (table, their positions in the table, email-key codes)."""
    part = _emails(ctx).parts[obj]
    return part.table, part.positions, part.key_codes


def _same_object_duplicates(ctx: CheckContext, code: str, obj: str) -> Outcome:
    """Records of one Salesforce object sharing an email key: every group member is flagged."""
    table, positions, codes = _part(ctx, obj)
    sizes = _group_sizes(codes)
    shared = sizes > 1  # email key shared with at least one other live record of the object
    dup = ctx.table(table)[["id", "email", "email_key"]].take(positions[shared])
    noun = obj.lower() + "s"
    found = make_findings(
        code,
        obj,
        dup["id"],
        sf_id=dup["id"],
        email=dup["email"],
        value=dup["email_key"],
        message=pd.Series(sizes[shared], index=dup.index).astype("str")
        + f" {noun} share this email: the connector must pick one",
        suggested_fix=f"merge the duplicate {noun} in Salesforce",
    )
    groups = len(np.unique(codes[shared]))
    return Outcome(
        found,
        f"{len(dup)} {obj.lower()}(s) in {groups} group(s) share an email.",
        numbers={"groups": groups},
        population=len(positions),
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
    table, positions, codes = _part(ctx, "Prospect")
    sizes = _group_sizes(codes)
    shared = sizes > 1  # email key shared with at least one other live prospect
    dup = ctx.table(table)[["prospect_id", "email", "email_key"]].take(positions[shared])
    groups = len(np.unique(codes[shared]))
    found = make_findings(
        "DUP001",
        "Prospect",
        dup["prospect_id"],
        prospect_id=dup["prospect_id"],
        email=dup["email"],
        value=dup["email_key"],
        message=pd.Series(sizes[shared], index=dup.index).astype("str")
        + " prospects share this email",
        suggested_fix="merge the duplicate prospects or give each its CRM id",
    )
    ampsea = ctx.settings.ampsea
    return Outcome(
        found,
        f"{len(dup)} prospect(s) in {groups} email group(s) share an email"
        f"{' (allowed in same-email mode)' if ampsea else ''}.",
        severity="info" if ampsea else "warning",
        numbers={"groups": groups},
        population=len(positions),
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
    return _same_object_duplicates(ctx, "DUP002", "Lead")


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
    return _same_object_duplicates(ctx, "DUP003", "Contact")


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
    lead_table, lead_pos, lead_codes = _part(ctx, "Lead")
    contact_table, contact_pos, contact_codes = _part(ctx, "Contact")
    n_keys = _emails(ctx).n_keys + 1  # codes shifted by one: 0 is a blank key
    on_lead = np.zeros(n_keys, dtype=bool)
    on_lead[lead_codes + 1] = True
    on_contact = np.zeros(n_keys, dtype=bool)
    on_contact[contact_codes + 1] = True
    both = on_lead & on_contact
    both[0] = False
    cols = ["id", "email", "email_key"]
    lh = ctx.table(lead_table)[cols].take(lead_pos[both[lead_codes + 1]])
    ch = ctx.table(contact_table)[cols].take(contact_pos[both[contact_codes + 1]])
    n_both = int(both.sum())
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
        f"{n_both} email(s) are on both an open lead and a contact "
        f"({len(lh)} lead(s), {len(ch)} contact(s)).",
        numbers={"emails": n_both},
        population=len(lead_pos) + len(contact_pos),
    )


# (object, table, email column, email-key column) of every record type with an email.
_EMAIL_SOURCES = (
    ("Prospect", "pardot_prospects", "email", "email_key"),
    ("Lead", "sf_leads", "email", "email_key"),
    ("Contact", "sf_contacts", "email", "email_key"),
    ("PersonAccount", "sf_accounts", "person_email", "person_email_key"),
)


@dataclass(frozen=True)
class _EmailPart:
    """One object's live records with their email-key codes."""

    obj: str
    table: str
    email: str  # email column
    key: str  # email-key column
    positions: np.ndarray  # live rows of the table (live_positions)
    key_codes: np.ndarray  # per live row: code of its email key, shared by every object (-1: blank)


@dataclass(frozen=True)
class _EmailIndex:
    """Every object's live records with their email keys factorized together, once per run."""

    parts: dict[str, _EmailPart]  # in _EMAIL_SOURCES order
    n_keys: int  # codes are below this


def _factorize_together(columns: list[pd.Series]) -> tuple[list[np.ndarray], int]:
    """Codes of the values of several text columns, equal values sharing a code (-1: blank).

    Hashed in 8 parts grouped by the texts' bytes (:func:`~assessment.sync.kernels.codes_in_parts`,
    int32 codes): one hash table over every email of the org held about 0.4 GB per 2.5M records
    beyond the texts (issue #19). Only equality of codes is used, never their order.
    """
    # int64: DUP005 multiplies key codes by the number of distinct emails (int32 overflowed at 1M).
    codes = codes_in_parts([arrow(c) for c in columns], parts=8, dtype=np.int64)
    n_keys = max((int(c.max()) + 1 for c in codes if len(c)), default=0)
    return codes, n_keys


def _build_emails(ctx: CheckContext, normalized: bool) -> _EmailIndex:
    sources = [src for src in _EMAIL_SOURCES if ctx.has(src[1])]
    keys = []
    for _, table, email, key in sources:
        t = ctx.table(table)
        # The keys the simulator matches on (sync.records.match_keys: the normalize key, or the
        # raw value with policy email_case_insensitive off); DUP005 always groups normalised.
        keys.append(t[key] if normalized else match_keys(t[email], t[key], ctx.settings))
    codes, n_keys = _factorize_together(keys)
    parts = {}
    for (obj, table, col, key), table_codes in zip(sources, codes, strict=True):
        positions = live_positions(ctx, table)
        parts[obj] = _EmailPart(obj, table, col, key, positions, table_codes[positions])
    return _EmailIndex(parts, n_keys)


def _emails(ctx: CheckContext, normalized: bool = False) -> _EmailIndex:
    """The run's email index (built once, shared by DUP001-DUP006): keys as the simulator
    matches them, or (``normalized``) always trimmed and case-folded."""
    if normalized and ctx.settings.email_case_insensitive:
        normalized = False  # the same keys: one index
    name = "dup_emails_normalized" if normalized else "dup_emails"
    return ctx.shared(name, lambda: _build_emails(ctx, normalized))


def _all_emails(
    ctx: CheckContext, rows: dict[str, np.ndarray], normalized: bool = False
) -> pd.DataFrame:
    """Live records with their email: object, record id, prospect id, sf id, raw email, key.

    ``rows`` selects, per object, which of its live records (a mask over them) to return;
    objects not named are left out. The frame is the concatenation over the objects, in
    ``_EMAIL_SOURCES`` order, of those records in table order.
    """
    parts = []
    for part in _emails(ctx, normalized).parts.values():
        if part.obj not in rows:
            continue
        picked = part.positions[rows[part.obj]]
        if part.obj == "Prospect":
            p = ctx.table(part.table)[["prospect_id", part.email, part.key]].take(picked)
            record_id, prospect_id, sf_id = p["prospect_id"], p["prospect_id"], pd.NA
        else:
            p = ctx.table(part.table)[["id", part.email, part.key]].take(picked)
            record_id, prospect_id, sf_id = p["id"], pd.NA, p["id"]
        parts.append(
            pd.DataFrame(
                {
                    "object": part.obj,
                    "record_id": record_id,
                    "prospect_id": prospect_id,
                    "sf_id": sf_id,
                    "email": p[part.email],
                    "email_key": p[part.key],
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
    parts = _emails(ctx, normalized=True).parts.values()
    # A key group can hold several distinct raw emails only if one of its emails is blank or
    # differs from the key itself: only those groups' emails are compared.
    odd_key = np.zeros(_emails(ctx, normalized=True).n_keys + 1, dtype=bool)
    for part in parts:
        t = ctx.table(part.table)
        email = pa.array(t[part.email].astype("str"), type=pa.large_string())
        key = pa.array(t[part.key].astype("str"), type=pa.large_string())
        odd = pc.fill_null(pc.not_equal(email, key), True).to_numpy(zero_copy_only=False)
        odd_key[part.key_codes[odd[part.positions]] + 1] = True
    odd_key[0] = False  # blank keys form no group
    candidates = {p.obj: odd_key[p.key_codes + 1] for p in parts}
    c = _all_emails(ctx, candidates, normalized=True)
    key = np.concatenate([p.key_codes[candidates[p.obj]] for p in parts])
    email, email_uniques = pd.factorize(c["email"])
    # Distinct raw emails per email key (nunique: blank emails not counted), from the codes:
    # one entry per distinct (key, email) pair, counted per key.
    both = email >= 0
    width = len(email_uniques) + 1
    pairs = pd.unique(key[both] * width + email[both])
    variants = np.bincount(pairs // width, minlength=_emails(ctx, normalized=True).n_keys)
    hit = c[variants[key] > 1]
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
        population=sum(int((p.key_codes >= 0).sum()) for p in parts),
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
    parts = list(_emails(ctx).parts.values())
    if not ctx.settings.person_accounts_enabled:
        parts = [p for p in parts if p.obj != "PersonAccount"]  # invisible to the connector (M-18)
    blank, invalid, hits = [], [], {}
    for part in parts:
        raw = ctx.table(part.table)[part.email].astype("str")
        valid = email_is_valid(raw.fillna("")).to_numpy(dtype=bool)[part.positions]
        blank.append(part.key_codes < 0)
        invalid.append((part.key_codes >= 0) & ~valid)
        hits[part.obj] = blank[-1] | invalid[-1]
    hit = _all_emails(ctx, hits)
    hit_blank = np.concatenate([b[hits[p.obj]] for p, b in zip(parts, blank, strict=True)] or [[]])
    n_blank = int(sum(b.sum() for b in blank))
    n_invalid = int(sum(i.sum() for i in invalid))
    found = make_findings(
        "DUP006",
        hit["object"],
        hit["record_id"],
        prospect_id=hit["prospect_id"],
        sf_id=hit["sf_id"],
        email=hit["email"],
        value=hit["email"],
        message=pd.Series(
            np.where(hit_blank, "no email: the record cannot sync", "invalid email"),
            index=hit.index,
            dtype="str",
        ),
        suggested_fix="correct or clear the email",
    )
    return Outcome(
        found,
        f"{n_blank} record(s) without an email; {n_invalid} record(s) with an "
        f"invalid email (policy invalid_email={ctx.settings.invalid_email}).",
        numbers={"blank": n_blank, "invalid": n_invalid},
        population=sum(len(p.positions) for p in parts),
    )
