"""Injected problem kinds of a synthetic org: each injected record carries exactly one problem.

The blocks run in a fixed order on one random stream; reordering them changes every generated file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrow import _cat, _null, _s, _take
from .build import _Ctx
from .catalog import BAD_REGIONS, LONG_TITLE, REGIONS


def newer(p: dict, by_seconds: int) -> dict:
    """The people ``p`` with a later modification time."""
    q = dict(p)
    q["modified"] = p["modified"] + np.timedelta64(by_seconds, "s")
    return q


def _duplicate_records(ctx: _Ctx, size: dict[str, int], plan: dict[str, Any]) -> None:
    """Duplicates on either side and email variants (M-1, M-7, M-13)."""
    org = ctx.org
    # Duplicate leads: member A newer than member B -> tie-break picks A (M-7, policy tie_break).
    n = size["duplicate_leads"]
    p = org.person(n)
    u = ctx.pick_users(n)
    a = org.sf_record("leads", newer(p, 86400), ctx.owner_of[u])
    b = org.sf_record("leads", p, ctx.owner_of[u])
    k = org.prospect(p, u)
    org.truth_p(k, "match_email_tie", a, "duplicate_leads", policies="tie_break")
    org.truth_sf("Lead", a, "linked", "duplicate_leads_pick", k)
    org.truth_sf("Lead", b, "no_prospect", "duplicate_leads_shadowed")
    org.kind("duplicate_leads", leads=np.concatenate([a, b]), prospects=k)

    n = size["duplicate_contacts"]
    p, acc = ctx.contact_people(n)
    u = ctx.pick_users(n)
    a = org.sf_record("contacts", newer(p, 86400), ctx.owner_of[u], account=acc)
    b = org.sf_record("contacts", p, ctx.owner_of[u], account=acc)
    k = org.prospect(p, u)
    org.truth_p(k, "match_email_tie", a, "duplicate_contacts", policies="tie_break")
    org.truth_sf("Contact", a, "linked", "duplicate_contacts_pick", k)
    org.truth_sf("Contact", b, "no_prospect", "duplicate_contacts_shadowed")
    org.kind("duplicate_contacts", contacts=np.concatenate([a, b]), prospects=k)

    # Lead and contact share an email: contact over lead (M-7 default contact_then_newest);
    # the lead is newer, so a "newest" rule would pick the other record.
    n = size["lead_contact_shared_email"]
    p, acc = ctx.contact_people(n)
    u = ctx.pick_users(n)
    c = org.sf_record("contacts", p, ctx.owner_of[u], account=acc)
    lead = org.sf_record("leads", newer(p, 86400), ctx.owner_of[u])
    k = org.prospect(p, u)
    org.truth_p(k, "match_email_tie", c, "lead_contact_shared_email", policies="tie_break")
    org.truth_sf("Contact", c, "linked", "lead_contact_shared_pick", k)
    org.truth_sf("Lead", lead, "no_prospect", "lead_contact_shared_shadowed")
    org.kind("lead_contact_shared_email", leads=lead, contacts=c, prospects=k)

    # Duplicate prospects (same email twice, no Salesforce record): both create a lead (CR-1).
    n = size["duplicate_prospects"]
    p = org.person(n)
    u = ctx.pick_users(n)
    k1 = org.prospect(p, u)
    k2 = org.prospect(p, ctx.pick_users(n))
    for kk in (k1, k2):
        org.truth_p(kk, "create_lead", None, "duplicate_prospects")
    org.kind("duplicate_prospects", prospects=np.concatenate([k1, k2]))

    # Case / whitespace variants (M-13): prospect email differs from the contact's only by case
    # (and, for every third, surrounding spaces).
    n = size["email_case_whitespace_variants"]
    p, acc = ctx.contact_people(n)
    u = ctx.pick_users(n)
    c = org.sf_record("contacts", p, ctx.owner_of[u], account=acc)
    q = dict(p)
    variant = pc.utf8_capitalize(p["email"])  # "Ava.moss.12@example.com"
    spaced = _cat(" ", variant, " ")
    q["email"] = pc.if_else(pa.array(np.arange(n) % 3 == 2), spaced, variant)
    k = org.prospect(q, u)
    org.truth_p(
        k, "match_email", c, "email_case_whitespace_variants", policies="email_case_insensitive"
    )
    org.truth_sf("Contact", c, "linked", "email_variant_contact", k)
    org.kind("email_case_whitespace_variants", contacts=c, prospects=k)


def _assignment(ctx: _Ctx, size: dict[str, int], plan: dict[str, Any]) -> None:
    """Unassigned and assigned prospects without a match, owner problems (M-6, CR-1, CR-4, U-4, U-5)."""
    org = ctx.org
    # Unassigned prospects (M-6, CR-4).
    n = size["unassigned_no_match"]
    k = org.prospect(org.person(n), np.full(n, -1))
    org.truth_p(k, "pardot_only", None, "unassigned_no_match")
    org.kind("unassigned_no_match", prospects=k)

    n = size["unassigned_will_link"]
    p, ids, _ = ctx.lead_pair(n)
    k = org.prospect(p, np.full(n, -1))
    org.truth_p(k, "match_email", ids, "unassigned_will_link")
    org.truth_sf("Lead", ids, "linked", "unassigned_will_link_lead", k)
    org.kind("unassigned_will_link", prospects=k, leads=ids)

    # Assigned, no match: the connector creates a lead (CR-1).
    n = size["assigned_no_match"]
    k = org.prospect(org.person(n), ctx.pick_users(n))
    org.truth_p(k, "create_lead", None, "assigned_no_match")
    org.kind("assigned_no_match", prospects=k)

    # Owner problems (U-4, U-5).
    n = size["owner_unmapped"]
    k = org.prospect(org.person(n), np.full(n, ctx.unmapped_pos))
    org.truth_p(k, "create_lead", None, "owner_unmapped", policies="unmapped_owner")
    org.kind("owner_unmapped", prospects=k, pardot_user_positions=[ctx.unmapped_pos])

    n = size["owner_inactive"]
    k = org.prospect(org.person(n), np.full(n, ctx.inactive_pos))
    org.truth_p(k, "will_error", None, "owner_inactive", "INACTIVE_OWNER_OR_USER", "inactive_owner")
    org.kind("owner_inactive", prospects=k, pardot_user_positions=[ctx.inactive_pos])


def _crm_ids(ctx: _Ctx, size: dict[str, int], plan: dict[str, Any]) -> None:
    """15-character, stale and sentinel CRM ids, converted leads (ID-1, ID-2, ID-5, M-17, M-21, M-22)."""
    org = ctx.org
    # 15-character CRM ids of existing leads (ID-1, ID-2): linked.
    n = size["short_crm_ids"]
    p, ids, u = ctx.lead_pair(n)
    short = ids.astype("S15")  # the first 15 characters: case-sensitive form
    k = org.prospect(p, u, crm_lead=short)
    org.truth_p(k, "linked", ids, "short_crm_ids")
    org.truth_sf("Lead", ids, "linked", "short_crm_id_lead", k)
    org.kind("short_crm_ids", prospects=k, leads=ids)

    # Stale ids: valid ids absent from the export (ID-5), and the sentinels (M-21, M-22).
    n = size["stale_crm_ids"]
    half = (n + 1) // 2
    stale_l, stale_c = org.ids("00Q", half, stale=True), org.ids("003", n - half, stale=True)
    p = org.person(n)
    u = ctx.pick_users(n)
    k1 = org.prospect(
        {kk: _take(v, slice(0, half)) for kk, v in p.items()}, u[:half], crm_lead=stale_l
    )
    k2 = org.prospect(
        {kk: _take(v, slice(half, n)) for kk, v in p.items()}, u[half:], crm_contact=stale_c
    )
    k = np.concatenate([k1, k2])
    org.truth_p(k, "stale_crm_id", None, "stale_crm_ids")
    org.kind("stale_crm_ids", prospects=k, absent_ids=np.concatenate([stale_l, stale_c]))

    n = size["crm_deleted_sentinel"]
    k = org.prospect(org.person(n), ctx.pick_users(n), crm_lead=np.full(n, "[[crm_deleted]]"))
    org.truth_p(k, "stale_crm_id", None, "crm_deleted_sentinel")
    org.kind("crm_deleted_sentinel", prospects=k)

    n = size["crm_ignore_sentinel"]
    sentinel = np.full(n, "[[crm_ignore_prospect]]")
    k = org.prospect(org.person(n), ctx.pick_users(n), crm_lead=sentinel, crm_contact=sentinel)
    org.truth_p(k, "pardot_only", None, "crm_ignore_sentinel")
    org.kind("crm_ignore_sentinel", prospects=k)

    # Converted leads (M-17): prospect points at the lead id; follows ConvertedContactId.
    n = size["converted_leads"]
    p, acc = ctx.contact_people(n)
    u = ctx.pick_users(n)
    c = org.sf_record("contacts", newer(p, 3600), ctx.owner_of[u], account=acc)
    conv_date = p["modified"]
    lead = org.sf_record(
        "leads", p, ctx.owner_of[u], converted=np.ones(n, bool), conv_contact=c, conv_account=acc,
        conv_date=conv_date,
    )  # fmt: skip
    k = org.prospect(newer(p, 3600), u, crm_lead=lead)
    org.truth_p(k, "linked", c, "converted_leads")
    org.truth_sf("Contact", c, "linked", "converted_lead_contact", k)
    org.truth_sf("Lead", lead, "no_prospect", "converted_lead")
    org.kind("converted_leads", prospects=k, leads=lead, contacts=c)


def _create_errors(ctx: _Ctx, size: dict[str, int], plan: dict[str, Any]) -> None:
    """Blank Salesforce emails (M-16) and create-path write errors (F-15, §7.2, §10 step 3)."""
    org = ctx.org
    # Blank emails on Salesforce records (M-16): no_prospect.
    pl = org.person(plan["blank_l"])
    pl["email"] = _null(plan["blank_l"])
    bl = org.sf_record("leads", pl, ctx.owner_of[ctx.pick_users(plan["blank_l"])])
    pcn, acc = ctx.contact_people(plan["blank_c"])
    pcn["email"] = _null(plan["blank_c"])
    bc = org.sf_record("contacts", pcn, ctx.owner_of[ctx.pick_users(plan["blank_c"])], account=acc)
    org.truth_sf("Lead", bl, "no_prospect", "blank_email")
    org.truth_sf("Contact", bc, "no_prospect", "blank_email")
    org.kind("blank_email_records", leads=bl, contacts=bc)

    # Create-path write errors (F-15, §7.2, §10 step 3).
    n = size["invalid_prospect_email"]
    p = org.person(n)
    local = pc.replace_substring(p["email"], "@", "_at_")  # no "@": not an address
    nodot = pc.replace_substring_regex(p["email"], r"\.[a-z]+$", "")  # no dot in the domain
    p["email"] = pc.if_else(pa.array(np.arange(n) % 2 == 0), local, nodot)
    k = org.prospect(p, ctx.pick_users(n))
    org.truth_p(
        k, "will_error", None, "invalid_prospect_email", "INVALID_EMAIL_ADDRESS", "invalid_email"
    )
    org.kind("invalid_prospect_email", prospects=k)

    n = size["restricted_picklist_value"]
    p = org.person(n)
    p["region"] = _s(np.array(BAD_REGIONS)[np.arange(n) % len(BAD_REGIONS)])
    k = org.prospect(p, ctx.pick_users(n))
    org.truth_p(
        k,
        "will_error",
        None,
        "restricted_picklist_value",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    )
    org.kind("restricted_picklist_value", prospects=k)

    n = size["value_too_long"]
    p = org.person(n)
    p["title"] = _cat(LONG_TITLE, p["title"])  # > 128 characters whatever the suffix
    k = org.prospect(p, ctx.pick_users(n))
    org.truth_p(k, "will_error", None, "value_too_long", "STRING_TOO_LONG", "long_values")
    org.kind("value_too_long", prospects=k)

    n = size["blank_last_name"]
    p = org.person(n)
    p["last"] = _null(n)
    k = org.prospect(p, ctx.pick_users(n))
    org.truth_p(k, "create_lead", None, "blank_last_name", policies="blank_last_name")
    org.kind("blank_last_name", prospects=k)


def _person_accounts(ctx: _Ctx, size: dict[str, int], plan: dict[str, Any]) -> None:
    """Person accounts (M-19) and records no prospect will back-fill (CR-9..CR-11)."""
    org = ctx.org
    # Person accounts (M-19): matched by PersonEmail, linked to PersonContactId.
    n = size["person_accounts"]
    p = org.person(n)
    u = ctx.pick_users(n)
    pa_ids = org.ids("001", n)
    pc_ids = org.ids("003", n)
    name = _cat(p["first"], " ", p["last"])
    org.blocks["accounts"].append(
        {
            "id": pa_ids, "name": name, "owner": ctx.owner_of[u], "type": _null(n),
            "is_person": np.ones(n, bool), "person_email": p["email"], "person_contact": pc_ids,
            "first": p["first"], "last": p["last"], "person_opted_out": p["opted_out"],
            "created": p["created"], "modified": p["modified"],
        }
    )  # fmt: skip
    q = dict(p)
    q["company"] = name
    for col in ("title", "phone", "source", "region"):
        q[col] = _null(n)
    by_id = np.arange(n) % 2 == 1
    k = org.prospect(q, u, crm_contact=np.where(by_id, pc_ids, b""))
    org.truth_p(k[~by_id], "match_email", pc_ids[~by_id], "person_account_by_email")
    org.truth_p(k[by_id], "linked", pc_ids[by_id], "person_account_by_crm_id")
    org.truth_sf("PersonAccount", pa_ids, "linked", "person_account", k)
    org.kind("person_accounts", prospects=k, accounts=pa_ids)

    # Records with an email and no prospect: auto-create off and not retroactive (CR-9..CR-11).
    ln = org.sf_record(
        "leads", org.person(plan["np_l"]), ctx.owner_of[ctx.pick_users(plan["np_l"])]
    )
    pcn, acc = ctx.contact_people(plan["np_c"])
    cn = org.sf_record("contacts", pcn, ctx.owner_of[ctx.pick_users(plan["np_c"])], account=acc)
    org.truth_sf("Lead", ln, "no_prospect", "not_backfilled")
    org.truth_sf("Contact", cn, "no_prospect", "not_backfilled")
    org.kind("not_backfilled", leads=ln, contacts=cn)


def _field_conflicts(ctx: _Ctx, size: dict[str, int], plan: dict[str, Any]) -> None:
    """Linked pairs whose mapped values differ: an opt-out only Pardot holds (F-7), and a Region
    changed later in Salesforce under Pardot's value (F-1, F-4). Both stay linked (M-2)."""
    org = ctx.org
    n = size["opt_out_conflict"]
    p = org.person(n)
    u = ctx.pick_users(n)
    ids = org.sf_record("leads", {**p, "opted_out": np.zeros(n, bool)}, ctx.owner_of[u])
    k = org.prospect({**p, "opted_out": np.ones(n, bool)}, u, crm_lead=ids)
    org.truth_p(k, "linked", ids, "opt_out_conflict")
    org.truth_sf("Lead", ids, "linked", "opt_out_conflict_lead", k)
    org.kind("opt_out_conflict", prospects=k, leads=ids)

    n = size["region_conflict"]
    p = org.person(n)
    u = ctx.pick_users(n)
    shift = (np.arange(n) % (len(REGIONS) - 1)) + 1  # another valid region (no write error)
    regions = np.array(REGIONS)
    at = pc.index_in(p["region"], value_set=pa.array(REGIONS)).to_numpy(zero_copy_only=False)
    other = _s(regions[(at + shift) % len(regions)])
    ids = org.sf_record("leads", {**newer(p, 30 * 86400), "region": other}, ctx.owner_of[u])
    k = org.prospect(p, u, crm_lead=ids)
    org.truth_p(k, "linked", ids, "region_conflict")
    org.truth_sf("Lead", ids, "linked", "region_conflict_lead", k)
    org.kind("region_conflict", prospects=k, leads=ids)


def _person_account_pairs(ctx: _Ctx, n: int, **differ) -> tuple[np.ndarray, ...]:
    """n person accounts linked by CRM Contact FID (M-19), the prospect side changed by
    ``differ``; returns prospect keys, PersonContactIds and account ids."""
    org = ctx.org
    p = org.person(n)
    u = ctx.pick_users(n)
    pa_ids, pc_ids = org.ids("001", n), org.ids("003", n)
    name = _cat(p["first"], " ", p["last"])
    org.blocks["accounts"].append(
        {
            "id": pa_ids, "name": name, "owner": ctx.owner_of[u], "type": _null(n),
            "is_person": np.ones(n, bool), "person_email": p["email"], "person_contact": pc_ids,
            "first": p["first"], "last": p["last"], "person_opted_out": np.zeros(n, bool),
            "created": p["created"], "modified": p["modified"],
        }
    )  # fmt: skip
    q = {**p, "company": name, "opted_out": np.zeros(n, bool), **differ}
    for col in ("title", "phone", "source", "region"):
        q[col] = _null(n)
    k = org.prospect(q, u, crm_contact=pc_ids)
    org.truth_sf("PersonAccount", pa_ids, "linked", "person_account_pair", k)
    return k, pc_ids, pa_ids


def _consent_cases(ctx: _Ctx, size: dict[str, int], plan: dict[str, Any]) -> None:
    """Issue #11 cases: person-account pairs with an opt-out or a name only one side holds
    (F-7, F-9), recycle-bin prospects holding their lead (M-1), a non-number written to a
    currency field (§3.7)."""
    org = ctx.org
    n = size["person_account_opt_out"]
    k, pc_ids, pa_ids = _person_account_pairs(ctx, n, opted_out=np.ones(n, bool))
    org.truth_p(k, "linked", pc_ids, "person_account_opt_out")
    org.kind("person_account_opt_out", prospects=k, accounts=pa_ids)

    n = size["person_account_name_differs"]
    k, pc_ids, pa_ids = _person_account_pairs(ctx, n, first=_cat(org.person(n)["first"], "-Ann"))
    org.truth_p(k, "linked", pc_ids, "person_account_name_differs")
    org.kind("person_account_name_differs", prospects=k, accounts=pa_ids)

    n = size["recycle_bin_link"]
    p, ids, u = ctx.lead_pair(n)
    k = org.prospect(p, u, crm_lead=ids, archived=np.ones(n, bool))
    org.truth_p(k, "pardot_only", ids, "recycle_bin_link")
    org.truth_sf("Lead", ids, "no_prospect", "held_by_recycle_bin")
    org.kind("recycle_bin_link", prospects=k, leads=ids)

    n = size["non_numeric_number"]
    k = org.prospect({**org.person(n), "revenue": np.full(n, "50-100")}, ctx.pick_users(n))
    org.truth_p(k, "will_error", None, "non_numeric_number", "INVALID_TYPE_ON_FIELD_IN_RECORD")
    org.kind("non_numeric_number", prospects=k, mappings=["annual_revenue"])


def _extra_user(ctx: _Ctx, sf_id: str, mapped: bool, user_type: str) -> int:
    """Add one Salesforce/Pardot user pair (an empty id: no Salesforce user); returns its position."""
    person = ctx.org.person(1)
    users = ctx.users
    users["id"].append(sf_id)
    users["first"] += person["first"].to_pylist()
    users["last"] += person["last"].to_pylist()
    users["active"].append(True)
    users["mapped"].append(mapped)
    users["type"].append(user_type)
    return len(users["id"]) - 1


def _owners(ctx: _Ctx, size: dict[str, int], plan: dict[str, Any]) -> None:
    """Who owns created leads: queues (CR-2), portal users (U-7), email-only matches (U-1)."""
    org = ctx.org
    n = size["queue_assigned"]
    ctx.users["queue"] = {"id": org.ids("00G", 1)[0].decode(), "name": "Inbound Leads Queue"}
    k = org.prospect(org.person(n), np.full(n, -1), queue=np.full(n, ctx.users["queue"]["id"]))
    org.truth_p(k, "create_lead", None, "queue_assigned")
    org.kind("queue_assigned", prospects=k)

    # A partner-community user mapped by id / CRM username: not predicted as owner (U-7).
    portal = _extra_user(ctx, org.ids("005", 1)[0].decode(), True, "PowerPartner")
    n = size["owner_portal_user"]
    k = org.prospect(org.person(n), np.full(n, portal))
    policies = "portal_owner;unmapped_owner"
    org.truth_p(k, "create_lead", None, "owner_portal_user", policies=policies)
    org.kind("owner_portal_user", prospects=k)

    # Not mapped, but a Salesforce user shares the email: policy owner_email_match (U-1).
    email_only = _extra_user(ctx, org.ids("005", 1)[0].decode(), False, "Standard")
    n = size["owner_email_only"]
    k = org.prospect(org.person(n), np.full(n, email_only))
    policies = "owner_email_match;unmapped_owner"
    org.truth_p(k, "create_lead", None, "owner_email_only", policies=policies)
    org.kind("owner_email_only", prospects=k, pardot_user_positions=[email_only])


def inject(ctx: _Ctx, plan: dict[str, Any]) -> None:
    """Add every injected problem kind, in the fixed order of the blocks."""
    _duplicate_records(ctx, plan["size"], plan)
    _assignment(ctx, plan["size"], plan)
    _crm_ids(ctx, plan["size"], plan)
    _create_errors(ctx, plan["size"], plan)
    _person_accounts(ctx, plan["size"], plan)
    _field_conflicts(ctx, plan["size"], plan)
    _consent_cases(ctx, plan["size"], plan)
    _owners(ctx, plan["size"], plan)
