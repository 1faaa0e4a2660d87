"""Sync simulator: one tiny export folder per documented rule (connector-behavior.md §10)."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
import yaml

from assessment.load import load_org
from assessment.normalize import to_id18
from assessment.sync import (
    FIELD_COLUMNS,
    PROSPECT_COLUMNS,
    SALESFORCE_COLUMNS,
    compare,
    simulate,
    what_if,
    write_outcomes,
)

FILES = {
    "sf_leads": "Lead.csv",
    "sf_contacts": "Contact.csv",
    "sf_accounts": "Account.csv",
    "sf_users": "User.csv",
    "pardot_prospects": "prospects.csv",
    "pardot_users": "pardot_users.csv",
    "field_mappings": "field_mappings.csv",
}


def sid(prefix: str, n: int) -> str:
    """A valid 18-character Salesforce id with the given key prefix."""
    return to_id18(f"{prefix}{n:012d}")


L1, L2, L3 = sid("00Q", 1), sid("00Q", 2), sid("00Q", 3)
C1, C2 = sid("003", 1), sid("003", 2)
A1, PC1 = sid("001", 1), sid("003", 9)
U1, U2 = sid("005", 1), sid("005", 2)


def org(tmp_path, settings=None, describe=None, **tables):
    """Write a tiny export folder and load it through load_org."""
    for table, rows in tables.items():
        header = list(dict.fromkeys(k for r in rows for k in r))
        with open(tmp_path / FILES[table], "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=header)
            w.writeheader()
            w.writerows(rows)
    if settings:
        (tmp_path / "connector.yml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    for obj, fields in (describe or {}).items():
        (tmp_path / f"{obj}_describe.json").write_text(json.dumps({"fields": fields}))
    return load_org(tmp_path)


def fd(name, type="string", length=255, required=False, restricted=False, values=()):
    """One describe field entry."""
    return {
        "name": name,
        "type": type,
        "length": length,
        "nillable": not required,
        "createable": True,
        "updateable": True,
        "defaultedOnCreate": False,
        "restrictedPicklist": restricted,
        "picklistValues": [{"value": v, "active": True} for v in values],
    }


def lead(i, email, **kw):
    return {"Id": i, "Email": email, "LastName": "L", "Company": "Co", "OwnerId": U1, **kw}


def contact(i, email, **kw):
    return {"Id": i, "Email": email, "LastName": "C", "OwnerId": U1, **kw}


def prospect(pid, email, **kw):
    return {"id": pid, "email": email, "last_name": "P", **kw}


def p_row(result, pid):
    frame = result.prospects
    return frame[frame["prospect_id"] == str(pid)].iloc[0]


def s_row(result, sf_id):
    frame = result.salesforce
    return frame[frame["sf_id"] == sf_id].iloc[0]


# ----------------------------------------------------------------- CRM ids (M-2, M-17, M-21, M-22, ID-5)
@pytest.mark.parametrize("ampsea", [False, True])
def test_crm_id_links_before_email(tmp_path, ampsea):
    # M-2: the CRM id wins even when the email points at another record.
    snap = org(
        tmp_path,
        settings={"allow_multiple_prospects_same_email": ampsea},
        sf_leads=[lead(L1, "old@x.com"), lead(L2, "a@x.com")],
        pardot_prospects=[prospect(1, "a@x.com", crm_lead_fid=L1)],
    )
    res = simulate(snap)
    r = p_row(res, 1)
    assert (r["outcome"], r["sf_object"], r["sf_id"]) == ("linked", "Lead", L1)
    assert "M-2" in r["reason"]
    assert s_row(res, L1)["outcome"] == "linked"
    assert s_row(res, L1)["prospect_id"] == "1"


def test_contact_id_preferred_over_lead_id(tmp_path):
    # M-17, ID-5: both ids present → the contact id.
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com")],
        sf_contacts=[contact(C1, "a@x.com")],
        pardot_prospects=[prospect(1, "a@x.com", crm_lead_fid=L1, crm_contact_fid=C1)],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["sf_object"], r["sf_id"]) == ("linked", "Contact", C1)


def test_converted_lead_followed_to_contact(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com", IsConverted="true", ConvertedContactId=C1)],
        sf_contacts=[contact(C1, "a@x.com")],
        pardot_prospects=[prospect(1, "a@x.com", crm_lead_fid=L1)],
    )
    res = simulate(snap)
    r = p_row(res, 1)
    assert (r["outcome"], r["sf_id"]) == ("linked", C1)
    assert "ConvertedContactId (M-17)" in r["reason"]
    assert s_row(res, C1)["outcome"] == "linked"
    assert s_row(res, L1)["outcome"] == "no_prospect"
    assert "converted lead" in s_row(res, L1)["reason"]


def test_converted_lead_without_contact_errors(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com", IsConverted="true")],
        pardot_prospects=[prospect(1, "a@x.com", crm_lead_fid=L1)],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["error_code"], r["sf_id"]) == (
        "will_error",
        "CANNOT_UPDATE_CONVERTED_LEAD",
        L1,
    )


def test_sentinels_and_do_not_sync(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[
            prospect(1, "a@x.com", crm_lead_fid="[[crm_deleted]]"),
            prospect(2, "b@x.com", crm_lead_fid="[[crm_ignore_prospect]]"),
            prospect(3, "c@x.com", do_not_sync="true", user_id=7),
        ],
    )
    res = simulate(snap)
    assert p_row(res, 1)["outcome"] == "stale_crm_id"
    assert "M-21" in p_row(res, 1)["reason"]
    assert p_row(res, 2)["outcome"] == "pardot_only"
    assert "CRM sync disabled" in p_row(res, 2)["reason"]
    assert p_row(res, 3)["outcome"] == "pardot_only"


def test_id_absent_from_export_is_stale(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[prospect(1, "a@x.com", crm_lead_fid=L2)],
    )
    res = simulate(snap)
    r = p_row(res, 1)
    assert r["outcome"] == "stale_crm_id"
    assert "deleted, merged or invisible" in r["reason"]
    assert "MasterRecordId" in r["reason"]  # says an Export All would tell
    # The stale prospect does not fall back to email matching (M-2).
    assert s_row(res, L1)["outcome"] == "no_prospect"


def test_missing_exports_make_predictions_cautious(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[
            prospect(1, "c@x.com", crm_contact_fid=C1),
            prospect(2, "b@x.com", crm_owner_fid=U1),
        ],
    )
    res = simulate(snap)
    r1, r2 = p_row(res, 1), p_row(res, 2)
    assert (r1["outcome"], r1["caution"]) == ("stale_crm_id", True)
    assert "cannot be checked" in r1["reason"]
    assert (r2["outcome"], r2["caution"]) == ("create_lead", True)
    assert "no sf_contacts export" in r2["reason"]


def test_merged_record_in_export_all(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[
            lead(L1, "a@x.com"),
            lead(L2, "a@x.com", IsDeleted="true", MasterRecordId=L1),
            lead(L3, "c@x.com", IsDeleted="true"),
        ],
        pardot_prospects=[
            prospect(1, "a@x.com", crm_lead_fid=L2),
            prospect(2, "c@x.com", crm_lead_fid=L3),
        ],
    )
    res = simulate(snap)
    assert p_row(res, 1)["outcome"] == "stale_crm_id"
    assert f"merged into {L1}" in p_row(res, 1)["reason"]
    assert "deleted in Salesforce (IsDeleted" in p_row(res, 2)["reason"]


# ----------------------------------------------------------------- email matching (M-5..M-16)
def test_match_email_unassigned_links(tmp_path):
    # M-6: help disagrees whether unassigned prospects link to an existing match; the default
    # policy unassigned_email_match=links follows H1 and says the prediction rests on it.
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com")],
        sf_contacts=[contact(C2, "other@x.com")],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    res = simulate(snap)
    r = p_row(res, 1)
    assert (r["outcome"], r["sf_id"], r["caution"], r["policies"]) == (
        "match_email",
        L1,
        True,
        "unassigned_email_match",
    )
    assert "M-6.unassigned_link" in r["reason_code"].split(";")
    assert s_row(res, L1)["outcome"] == "linked"
    assert "by email" in s_row(res, L1)["reason"]
    # The other reading: unassigned prospects need an owner to sync (H4).
    res = simulate(snap, snap.settings.replace(unassigned_email_match="no_sync"))
    r = p_row(res, 1)
    assert (r["outcome"], r["policies"]) == ("pardot_only", "unassigned_email_match")
    assert r["reason_code"] == "M-6.unassigned_no_sync"
    assert s_row(res, L1)["outcome"] == "no_prospect"


def test_assigned_match_rests_on_no_unassigned_policy(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[prospect(1, "a@x.com", user_id=7)],
    )
    for choice in ("links", "no_sync"):
        r = p_row(simulate(snap, snap.settings.replace(unassigned_email_match=choice)), 1)
        assert (r["outcome"], r["policies"]) == ("match_email", "")


def test_unassigned_policy_not_applied_in_ampsea(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    ampsea = snap.settings.replace(
        allow_multiple_prospects_same_email=True, unassigned_email_match="no_sync"
    )
    r = p_row(simulate(snap, ampsea), 1)
    assert r["outcome"] == "match_email"
    assert "unassigned_email_match" not in r["policies"]


def test_email_case_variant_is_a_caution(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "A@X.com")],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["sf_id"], r["caution"]) == ("match_email", L1, True)
    assert set(r["policies"].split(";")) == {"email_case_insensitive", "unassigned_email_match"}
    assert "M-13" in r["reason"]


def test_tie_contact_over_lead(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com", LastModifiedDate="2025-06-01T00:00:00Z")],
        sf_contacts=[contact(C1, "a@x.com", LastModifiedDate="2020-01-01T00:00:00Z")],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    res = simulate(snap)
    r = p_row(res, 1)
    assert (r["outcome"], r["sf_id"], r["caution"]) == ("match_email_tie", C1, True)
    assert "tie_break" in r["policies"].split(";")
    assert set(r["candidates"].split(";")) == {C1, L1}
    assert s_row(res, C1)["outcome"] == "linked"
    assert s_row(res, L1)["outcome"] == "no_prospect"
    assert "shadowed" in s_row(res, L1)["reason"]


def test_tie_policies(tmp_path):
    leads = [
        lead(
            L1,
            "a@x.com",
            LastModifiedDate="2024-01-01T00:00:00Z",
            CreatedDate="2020-01-01T00:00:00Z",
        ),
        lead(
            L2,
            "a@x.com",
            LastModifiedDate="2025-01-01T00:00:00Z",
            CreatedDate="2021-01-01T00:00:00Z",
        ),
    ]
    snap = org(
        tmp_path,
        sf_leads=leads,
        sf_contacts=[contact(C1, "a@x.com", LastModifiedDate="2019-01-01T00:00:00Z")],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    pick = {
        policy: p_row(simulate(snap, snap.settings.replace(tie_break=policy)), 1)["sf_id"]
        for policy in ("contact_then_newest", "lead_then_newest", "newest", "oldest")
    }
    assert pick == {
        "contact_then_newest": C1,
        "lead_then_newest": L2,
        "newest": L2,
        "oldest": L1,
    }


def test_converted_leads_excluded_from_email_matching(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com", IsConverted="true", ConvertedContactId=C1)],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    r = p_row(simulate(snap), 1)
    assert r["outcome"] == "pardot_only"
    assert r["policies"] == "converted_leads_match"
    r = p_row(simulate(snap, snap.settings.replace(converted_leads_match=True)), 1)
    assert (r["outcome"], r["sf_id"]) == ("match_email", L1)


def test_no_match_assigned_creates_lead_unassigned_stays(tmp_path):
    # CR-1, CR-4, M-6; owner = mapped Salesforce user (CR-6).
    snap = org(
        tmp_path,
        sf_users=[{"Id": U1, "Username": "rep@x.com", "IsActive": "true"}],
        pardot_users=[{"id": 7, "email": "rep@x.com", "salesforceId": U1}],
        pardot_prospects=[prospect(1, "a@x.com", user_id=7), prospect(2, "b@x.com")],
    )
    res = simulate(snap)
    r = p_row(res, 1)
    assert (r["outcome"], r["owner_sf_user_id"], r["assigned"], r["pardot_user_id"]) == (
        "create_lead",
        U1,
        True,
        "7",
    )
    assert "CR-1" in r["reason"]
    assert (p_row(res, 2)["outcome"], p_row(res, 2)["assigned"]) == ("pardot_only", False)
    assert "CR-4" in p_row(res, 2)["reason"]


def test_created_object_switched_by_support_is_a_caution(tmp_path):
    snap = org(
        tmp_path,
        settings={"record_type_created": "contact"},
        sf_users=[{"Id": U2, "Username": "rep@x.com", "IsActive": "true"}],
        pardot_prospects=[prospect(1, "a@x.com", crm_owner_fid=U2)],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["caution"]) == ("create_lead", True)
    assert "creates a contact instead" in r["reason"]


def test_assigned_by_crm_owner_fid(tmp_path):
    snap = org(
        tmp_path,
        sf_users=[{"Id": U2, "Username": "rep@x.com", "IsActive": "true"}],
        pardot_prospects=[prospect(1, "a@x.com", crm_owner_fid=U2)],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["owner_sf_user_id"]) == ("create_lead", U2)


@pytest.mark.parametrize(
    ("fallback", "expected"), [(True, ("match_email", L1)), (False, ("create_lead", None))]
)
def test_ampsea_email_fallback(tmp_path, fallback, expected):
    # M-9, M-10: in AMPSEA a prospect with no CRM id matches by email only with the fallback.
    snap = org(
        tmp_path,
        settings={"allow_multiple_prospects_same_email": True, "ampsea_email_fallback": fallback},
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[prospect(1, "a@x.com", crm_owner_fid=U1)],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], None if pd.isna(r["sf_id"]) else r["sf_id"]) == expected
    assert "ampsea_email_fallback" in r["policies"].split(";")


def test_blank_prospect_email(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "")],
        pardot_prospects=[prospect(1, "", crm_owner_fid=U1)],
    )
    res = simulate(snap)
    r = p_row(res, 1)
    assert (r["outcome"], r["caution"]) == ("pardot_only", True)
    assert "M-16" in r["reason"]
    assert s_row(res, L1)["outcome"] == "no_prospect"
    assert "blank email" in s_row(res, L1)["reason"]


@pytest.mark.parametrize("email", ["not-an-email", "x" * 75 + "@x.com"])
def test_invalid_email_on_create(tmp_path, email):
    snap = org(tmp_path, pardot_prospects=[prospect(1, email, crm_owner_fid=U1)])
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["error_code"]) == ("will_error", "INVALID_EMAIL_ADDRESS")
    assert "invalid_email" in r["policies"].split(";")
    r = p_row(simulate(snap, snap.settings.replace(invalid_email="no_match")), 1)
    assert r["outcome"] == "pardot_only"


def test_prospects_sharing_email_compete_for_one_record(tmp_path):
    # M-1: one record, one prospect; the newest prospect keeps it, the other is a caution.
    snap = org(
        tmp_path,
        settings={"allow_multiple_prospects_same_email": True},
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[
            prospect(1, "a@x.com", updated_at="2024-01-01 00:00:00"),
            prospect(2, "a@x.com", updated_at="2025-01-01 00:00:00"),
        ],
    )
    res = simulate(snap)
    assert (p_row(res, 2)["outcome"], p_row(res, 2)["caution"]) == ("match_email", True)
    assert (p_row(res, 1)["outcome"], p_row(res, 1)["caution"]) == ("pardot_only", True)
    assert "M-1" in p_row(res, 1)["reason"]


# ----------------------------------------------------------------- person accounts (M-18, M-19)
def _pa(tmp_path, enabled):
    return org(
        tmp_path,
        settings={"person_accounts_enabled": enabled},
        sf_accounts=[
            {
                "Id": A1,
                "Name": "Pat",
                "IsPersonAccount": "true",
                "PersonEmail": "pat@x.com",
                "PersonContactId": PC1,
                "OwnerId": U1,
            }
        ],
        pardot_prospects=[prospect(1, "pat@x.com", crm_owner_fid=U1), prospect(2, "pat@x.com")],
    )


def test_person_account_enabled_links_person_contact(tmp_path):
    res = simulate(_pa(tmp_path, True))
    matched = res.prospects[res.prospects["outcome"] == "match_email"]
    assert len(matched) == 1
    assert (matched["sf_object"].iloc[0], matched["sf_id"].iloc[0]) == ("PersonAccount", PC1)
    assert s_row(res, A1)["outcome"] == "linked"


def test_person_account_disabled_creates_duplicate_lead(tmp_path):
    res = simulate(_pa(tmp_path, False))
    r1, r2 = p_row(res, 1), p_row(res, 2)
    assert r1["outcome"] == "create_lead"
    assert "duplicate lead" in r1["reason"] and "M-18" in r1["reason"]
    assert r2["outcome"] == "out_of_scope"
    assert s_row(res, A1)["outcome"] == "out_of_scope"


# ----------------------------------------------------------------- scope (M-3, D-3, D-6, D-8, V-2)
def test_mds_rule_is_case_sensitive(tmp_path):
    mds = {
        "Lead": {"field": "Region__c", "value": "Europe"},
        "Contact": {"field": "Region__c", "value": "Europe"},
    }
    snap = org(
        tmp_path,
        settings={"marketing_data_sharing": mds},
        sf_leads=[
            lead(L1, "a@x.com", Region__c="Europe"),
            lead(L2, "b@x.com", Region__c="europe"),
            lead(L3, "c@x.com", Region__c="europe"),
        ],
        pardot_prospects=[
            prospect(1, "a@x.com"),
            prospect(2, "b@x.com"),
            prospect(3, "c@x.com", crm_owner_fid=U1),
            prospect(4, "z@x.com", crm_lead_fid=L2),
        ],
    )
    res = simulate(snap)
    assert p_row(res, 1)["outcome"] == "match_email"
    assert p_row(res, 2)["outcome"] == "out_of_scope"
    r3 = p_row(res, 3)
    assert r3["outcome"] == "create_lead" and "duplicate lead" in r3["reason"]
    assert p_row(res, 4)["outcome"] == "out_of_scope"
    assert "archive" in p_row(res, 4)["reason"]
    assert s_row(res, L2)["outcome"] == "out_of_scope"
    assert "Region__c = 'Europe'" in s_row(res, L2)["reason"]
    assert s_row(res, L1)["outcome"] == "linked"


def test_connector_user_visibility(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com", OwnerId=U1), lead(L2, "b@x.com", OwnerId=U2)],
        pardot_prospects=[prospect(1, "a@x.com"), prospect(2, "b@x.com")],
    )
    named = snap.settings.replace(
        connector_user="conn@x.com", connector_user_visible_owner_ids=[U1]
    )
    res = simulate(snap, named)
    assert p_row(res, 1)["outcome"] == "match_email"
    assert p_row(res, 2)["outcome"] == "out_of_scope"
    assert "not visible to connector user" in s_row(res, L2)["reason"]
    # The integration user sees every record (V-2), whatever the list says.
    res = simulate(snap, named.replace(connector_user="integration"))
    assert p_row(res, 2)["outcome"] == "match_email"


# ----------------------------------------------------------------- owners (CR-6, U-1..U-6)
def _owner_org(tmp_path, active="true", **pu):
    return org(
        tmp_path,
        sf_users=[{"Id": U1, "Username": "rep@x.com", "Email": "rep@x.com", "IsActive": active}],
        pardot_users=[{"id": 7, "email": "rep@x.com", **pu}],
        pardot_prospects=[prospect(1, "a@x.com", user_id=7)],
    )


def test_owner_by_crm_username(tmp_path):
    snap = _owner_org(tmp_path, crm_username="REP@x.com")
    snap = snap.with_settings(snap.settings.replace(auto_match_users=False))
    res = simulate(snap)
    assert p_row(res, 1)["owner_sf_user_id"] == U1
    assert res.users["mapped_by"].tolist() == ["crm_username"]


def test_owner_by_email_only_is_a_policy(tmp_path):
    # U-1: "automatically match users" is documented for Send from CRM user only; unmapped users
    # are ignored ("Map Salesforce and Account Engagement Usernames") → owner_email_match=false.
    snap = _owner_org(tmp_path)
    res = simulate(snap)
    r = p_row(res, 1)
    assert r["outcome"] == "create_lead" and pd.isna(r["owner_sf_user_id"])
    assert set(r["policies"].split(";")) == {"owner_email_match", "unmapped_owner"}
    assert {"U-4.email_only_match", "U-4.owner_unmapped"} <= set(r["reason_code"].split(";"))
    assert "connector user owns the lead" in r["reason"]
    assert res.users[["user_id", "sf_user_id", "email_match_sf_user_id"]].values.tolist() == [
        ["7", None, U1]
    ] or pd.isna(res.users["sf_user_id"].iloc[0])
    r = p_row(simulate(snap, snap.settings.replace(unmapped_owner="error")), 1)
    assert r["outcome"] == "will_error"
    # The other reading: the email match gives the owner.
    res = simulate(snap, snap.settings.replace(owner_email_match=True))
    r = p_row(res, 1)
    assert r["owner_sf_user_id"] == U1
    assert r["policies"] == "owner_email_match"
    assert "U-1.owner_by_email" in r["reason_code"].split(";")
    assert res.users[["user_id", "sf_user_id", "mapped_by"]].values.tolist() == [["7", U1, "email"]]
    assert bool(res.users["is_active"].iloc[0]) is True


def test_portal_user_is_not_predicted_as_owner(tmp_path):
    # U-7: partner / customer community users (User.UserType, compared case-insensitively).
    for user_type, portal in (("PowerPartner", True), ("cspliteportal", True), ("Standard", False)):
        d = tmp_path / user_type
        d.mkdir()
        snap = org(
            d,
            sf_users=[{"Id": U1, "Username": "p@x.com", "IsActive": "true", "UserType": user_type}],
            pardot_users=[{"id": 7, "email": "p@x.com", "salesforceId": U1}],
            pardot_prospects=[prospect(1, "a@x.com", user_id=7)],
        )
        r = p_row(simulate(snap), 1)
        assert r["outcome"] == "create_lead"
        codes = set(r["reason_code"].split(";"))
        if portal:
            assert pd.isna(r["owner_sf_user_id"]), user_type
            assert {"U-7.portal_owner", "U-4.owner_unmapped"} <= codes
            assert "portal_owner" in r["policies"]
            # The connector setting decides without a policy.
            r = p_row(simulate(snap, snap.settings.replace(exclude_portal_users=True)), 1)
            assert "U-7.portal_owner" in r["reason_code"] and "portal_owner" not in r["policies"]
            r = p_row(simulate(snap, snap.settings.replace(portal_owner="owner")), 1)
            assert r["owner_sf_user_id"] == U1
        else:
            assert r["owner_sf_user_id"] == U1 and "U-7.portal_owner" not in codes


Q1 = sid("00G", 1)


def test_queue_owner_by_name_and_by_id(tmp_path):
    # CR-2 ("Assignment Actions"): a prospect assigned to a queue is assigned to an owner.
    (tmp_path / "Queue.csv").write_text(
        f"Id,Name,DeveloperName,Type\n{Q1},Inbound Queue,Inbound_Queue,Queue\n", encoding="utf-8"
    )
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "z@x.com")],
        sf_contacts=[contact(C2, "y@x.com")],
        sf_users=[{"Id": U1, "Username": "rep@x.com", "IsActive": "true"}],
        pardot_users=[{"id": 7, "email": "rep@x.com", "salesforceId": U1}],
        pardot_prospects=[
            {"id": 1, "email": "a@x.com", "User": "inbound queue", "last_name": "A"},
            {"id": 2, "email": "b@x.com", "crm_owner_fid": Q1, "last_name": "B"},
            prospect(3, "c@x.com"),
        ],
    )
    res = simulate(snap)
    for pid in (1, 2):
        r = p_row(res, pid)
        assert (r["outcome"], r["owner_sf_user_id"]) == ("create_lead", Q1), pid
        assert "CR-2.queue_owner" in r["reason_code"].split(";")
        assert "unmapped_owner" not in r["policies"] and not r["caution"]
    assert p_row(res, 3)["outcome"] == "pardot_only"
    r = p_row(simulate(snap, snap.settings.replace(record_type_created="contact")), 1)
    assert "CR-2.queue_needs_leads" in r["reason_code"] and r["caution"]


def test_inactive_owner(tmp_path):
    snap = _owner_org(tmp_path, active="false", salesforceId=U1)
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["error_code"], r["policies"]) == (
        "will_error",
        "INACTIVE_OWNER_OR_USER",
        "inactive_owner",
    )
    r = p_row(simulate(snap, snap.settings.replace(inactive_owner="connector_user")), 1)
    assert (r["outcome"], r["policies"]) == ("create_lead", "inactive_owner")


# ----------------------------------------------------------------- create checks (F-15, CR-5, §3.7)
LEAD_DESCRIBE = [
    fd("LastName", length=80, required=True),
    fd("Company", required=True),
    fd("Email", type="email", length=80),
    fd("Title", length=10),
    fd("Industry", type="picklist", restricted=True, values=("Tech", "Retail")),
]


USERS = [{"Id": U1, "Username": "rep@x.com", "IsActive": "true"}]


def test_owner_active_unknown_is_a_caution(tmp_path):
    snap = org(tmp_path, pardot_prospects=[prospect(1, "a@x.com", crm_owner_fid=U1)])
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["caution"]) == ("create_lead", True)
    assert "active state unknown" in r["reason"]


def test_blank_last_name_policy(tmp_path):
    snap = org(
        tmp_path,
        describe={"Lead": LEAD_DESCRIBE},
        pardot_prospects=[{"id": 1, "email": "a@x.com", "last_name": "", "crm_owner_fid": U1}],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["caution"], r["policies"]) == ("create_lead", True, "blank_last_name")
    r = p_row(simulate(snap, snap.settings.replace(blank_last_name="error")), 1)
    assert (r["outcome"], r["error_code"]) == ("will_error", "REQUIRED_FIELD_MISSING")


def test_blank_company_is_not_an_error(tmp_path):
    # CR-5: a blank Company goes to Salesforce as [[unknown]].
    snap = org(
        tmp_path,
        describe={"Lead": LEAD_DESCRIBE},
        sf_users=USERS,
        sf_leads=[lead(L3, "other@x.com")],
        sf_contacts=[contact(C2, "other@x.com")],
        pardot_prospects=[prospect(1, "a@x.com", company="", crm_owner_fid=U1)],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["caution"]) == ("create_lead", False)


def test_required_custom_field_without_mapping(tmp_path):
    snap = org(
        tmp_path,
        describe={"Lead": [*LEAD_DESCRIBE, fd("Segment__c", required=True)]},
        pardot_prospects=[prospect(1, "a@x.com", crm_owner_fid=U1)],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["error_code"]) == ("will_error", "REQUIRED_FIELD_MISSING")
    assert "Segment__c" in r["reason"]


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"industry": "tech"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),  # exact case (K2)
        ({"job_title": "Vice President"}, "STRING_TOO_LONG"),
        ({"industry": "Tech", "job_title": "CEO"}, None),
    ],
)
def test_create_value_checks(tmp_path, values, code):
    snap = org(
        tmp_path,
        describe={"Lead": LEAD_DESCRIBE},
        pardot_prospects=[prospect(1, "a@x.com", crm_owner_fid=U1, **values)],
    )
    r = p_row(simulate(snap), 1)
    if code is None:
        assert r["outcome"] == "create_lead"
    else:
        assert (r["outcome"], r["error_code"]) == ("will_error", code)


def test_create_errors_ignore_values_of_prospects_that_create_nothing(tmp_path):
    # Prospect 1 is linked (nothing is created for it), and its Alt Email is invalid. Prospect
    # 2 creates a lead whose valid Alt Email is longer than Alt_Email__c(20): STRING_TOO_LONG
    # (F-14, §3.7). The linked prospect's invalid value must not hide that.
    describe = {"Lead": [*LEAD_DESCRIBE, fd("Alt_Email__c", type="email", length=20)]}
    mapping = {"field_id": "Alt_Email", "name": "Alt Email", "crm_id": "Alt_Email__c"}
    snap = org(
        tmp_path,
        describe=describe,
        field_mappings=[mapping],
        sf_leads=[lead(L1, "old@x.com")],
        pardot_prospects=[
            prospect(1, "a@x.com", crm_lead_fid=L1, Alt_Email="not-an-email"),
            prospect(2, "b@x.com", crm_owner_fid=U1, Alt_Email="a.long.address@example.com"),
        ],
    )
    res = simulate(snap)
    assert p_row(res, 1)["outcome"] == "linked"
    assert (p_row(res, 2)["outcome"], p_row(res, 2)["error_code"]) == (
        "will_error",
        "STRING_TOO_LONG",
    )


def test_long_values_truncate_policy(tmp_path):
    snap = org(
        tmp_path,
        describe={"Lead": LEAD_DESCRIBE},
        pardot_prospects=[prospect(1, "a@x.com", crm_owner_fid=U1, job_title="Vice President")],
    )
    r = p_row(simulate(snap, snap.settings.replace(long_values="truncate")), 1)
    assert (r["outcome"], r["policies"]) == ("create_lead", "long_values")


# ----------------------------------------------------------------- field outcomes (F-2, F-3, F-7)
def _field(res, fid):
    return res.fields[res.fields["pardot_field_id"] == fid].iloc[0]


def _pairs_org(tmp_path, mappings=None, describe=None, settings=None):
    tables = {
        "sf_leads": [
            lead(L1, "a@x.com", Title="CTO", Industry="Tech", HasOptedOutOfEmail="false"),
            lead(L2, "b@x.com", Title="", Industry="Retail", HasOptedOutOfEmail="false"),
            lead(L3, "c@x.com", Title="CEO", Industry="Tech", HasOptedOutOfEmail="true"),
        ],
        "pardot_prospects": [
            prospect(1, "a@x.com", job_title="Chief Tech", industry="tech", opted_out="true"),
            prospect(2, "b@x.com", job_title="Founder", industry="Retail", opted_out="false"),
            prospect(3, "c@x.com", job_title="", industry="Tech", opted_out="true"),
        ],
    }
    if mappings:
        tables["field_mappings"] = mappings
    return org(tmp_path, settings=settings, describe=describe, **tables)


def test_field_counts_salesforce_wins(tmp_path):
    res = simulate(_pairs_org(tmp_path))
    f = _field(res, "job_title")
    assert (f["winner"], f["pairs"], f["differ"]) == ("salesforce", 3, 3)
    assert (f["pardot_overwritten"], f["sf_overwritten"]) == (1, 0)
    assert (f["blank_fills_sf"], f["blank_fills_pardot"], f["blank_overwrites"]) == (1, 1, 0)
    assert list(res.fields.columns[:15]) == FIELD_COLUMNS[:15]


def test_field_counts_pardot_wins_and_write_errors(tmp_path):
    mappings = [
        {
            "field_id": "industry",
            "name": "Industry",
            "crm_id": "Industry",
            "Sync Behavior": "Use Pardot's value",
        }
    ]
    describe = {"Lead": LEAD_DESCRIBE}
    res = simulate(_pairs_org(tmp_path, mappings, describe))
    f = _field(res, "industry")
    assert (f["winner"], f["pairs"], f["differ"], f["sf_overwritten"]) == ("pardot", 3, 1, 1)
    assert (f["write_errors"], f["error_codes"]) == (1, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    r = p_row(res, 1)
    assert (r["outcome"], r["error_code"], r["sf_id"]) == (
        "will_error",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        L1,
    )
    assert s_row(res, L1)["outcome"] == "linked"  # the link exists; the write fails


def test_salesforce_wins_value_is_not_written(tmp_path):
    # §3.7: under Salesforce-wins a differing AE value is never written, so it cannot fail.
    res = simulate(_pairs_org(tmp_path, describe={"Lead": LEAD_DESCRIBE}))
    assert _field(res, "industry")["write_errors"] == 0
    assert p_row(res, 1)["outcome"] == "match_email"
    # A blank-fill into Salesforce is written and checked (F-2): "Founder" fits Title(10).
    assert _field(res, "job_title")["write_errors"] == 0


def test_blank_fill_write_error(tmp_path):
    describe = {"Lead": [*LEAD_DESCRIBE[:3], fd("Title", length=5)]}
    res = simulate(_pairs_org(tmp_path, describe=describe))
    f = _field(res, "job_title")
    assert (f["write_errors"], f["error_codes"]) == (1, "STRING_TOO_LONG")
    assert p_row(res, 2)["outcome"] == "will_error"
    assert "long_values" in p_row(res, 2)["policies"].split(";")


def test_columns_missing_from_an_export_are_unknown_not_blank(tmp_path):
    # Lead export without Title: no fills, no overwrites, no write errors are predicted.
    snap = org(
        tmp_path,
        describe={"Lead": [*LEAD_DESCRIBE[:3], fd("Title", length=5)]},
        sf_leads=[lead(L1, "a@x.com")],
        sf_contacts=[contact(C2, "z@x.com")],
        pardot_prospects=[prospect(1, "a@x.com", job_title="Founder and CEO")],
    )
    res = simulate(snap)
    f = _field(res, "job_title")
    assert (f["pairs"], f["blank_fills_sf"], f["write_errors"]) == (0, 0, 0)
    assert p_row(res, 1)["outcome"] == "match_email"


def test_last_name_not_exported_is_unchecked(tmp_path):
    snap = org(
        tmp_path,
        sf_users=USERS,
        sf_leads=[lead(L3, "other@x.com")],
        sf_contacts=[contact(C2, "other@x.com")],
        pardot_prospects=[{"id": 1, "email": "a@x.com", "crm_owner_fid": U1}],
    )
    r = p_row(simulate(snap, snap.settings.replace(blank_last_name="error")), 1)
    assert (r["outcome"], r["caution"], r["policies"]) == ("create_lead", True, "")
    assert "Last Name not in the prospect export" in r["reason"]


def test_sf_blanks_overwrite(tmp_path):
    res = simulate(_pairs_org(tmp_path, settings={"sf_blanks_overwrite": True}))
    f = _field(res, "job_title")
    assert (f["blank_overwrites"], f["blank_fills_sf"]) == (1, 0)


def test_opted_out_checkbox_false_is_value(tmp_path):
    # F-7: AE opted out, Salesforce false, Salesforce wins → the opt-out is lost.
    snap = _pairs_org(tmp_path, settings={"opted_out_default_sync": "use_salesforce"})
    f = _field(simulate(snap), "opted_out")
    assert (f["pardot_overwritten"], f["blank_fills_sf"]) == (1, 0)
    assert "checkbox_false_is_value" in f["policies"].split(";")
    f = _field(simulate(snap, snap.settings.replace(checkbox_false_is_value=False)), "opted_out")
    assert (f["pardot_overwritten"], f["blank_fills_sf"]) == (0, 1)


def test_company_on_contacts_comes_from_the_account(tmp_path):
    # F-5/H10: Contact company = Account.Name, read-only in AE; AE never writes it.
    snap = org(
        tmp_path,
        sf_accounts=[{"Id": A1, "Name": "Acme"}],
        sf_contacts=[contact(C1, "a@x.com", AccountId=A1), contact(C2, "b@x.com")],
        pardot_prospects=[
            prospect(1, "a@x.com", company="Other"),
            prospect(2, "b@x.com", company="Mine"),
        ],
    )
    f = _field(simulate(snap), "company")
    assert (f["pairs"], f["differ"], f["pardot_overwritten"]) == (2, 2, 1)
    assert (f["blank_fills_sf"], f["sf_overwritten"], f["write_errors"]) == (0, 0, 0)


# ----------------------------------------------------------------- Salesforce outcomes (CR-9..CR-11)
def _sf_org(tmp_path, settings=None):
    return org(
        tmp_path,
        settings=settings,
        sf_leads=[
            lead(L1, "a@x.com", CreatedDate="2024-01-01T00:00:00Z"),
            lead(L2, "new@x.com", CreatedDate="2025-06-01T00:00:00Z"),
            lead(L3, "dns@x.com", CreatedDate="2025-06-01T00:00:00Z"),
        ],
        sf_contacts=[contact(C1, "old@x.com", CreatedDate="2020-01-01T00:00:00Z")],
        pardot_prospects=[prospect(1, "a@x.com"), prospect(2, "dns@x.com", do_not_sync="true")],
    )


def test_salesforce_auto_create_off(tmp_path):
    res = simulate(_sf_org(tmp_path))
    assert s_row(res, L1)["outcome"] == "linked"
    assert s_row(res, L2)["outcome"] == "no_prospect"
    assert "auto-create is off" in s_row(res, L2)["reason"]
    assert "prospect that links elsewhere or does not sync" in s_row(res, L3)["reason"]
    assert res.salesforce_counts() == {
        "linked": 1,
        "creates_prospect": 0,
        "no_prospect": 3,
        "out_of_scope": 0,
    }


def test_salesforce_auto_create_not_retroactive(tmp_path):
    res = simulate(_sf_org(tmp_path, {"auto_create_prospects_from_salesforce": True}))
    assert s_row(res, L2)["outcome"] == "no_prospect"
    assert "not retroactive" in s_row(res, L2)["reason"]
    assert s_row(res, L2)["policies"] == "auto_create_enabled_since"


def test_salesforce_creates_prospect_after_enable_date(tmp_path):
    settings = {
        "auto_create_prospects_from_salesforce": True,
        "auto_create_enabled_since": "2025-01-01",
    }
    res = simulate(_sf_org(tmp_path, settings))
    assert s_row(res, L2)["outcome"] == "creates_prospect"
    assert s_row(res, C1)["outcome"] == "no_prospect"
    assert "not back-filled" in s_row(res, C1)["reason"]
    assert res.initial_sync["records_queued"] == 2  # 1 match_email + 1 creates_prospect


def test_ampsea_creates_without_auto_create_setting(tmp_path):
    settings = {
        "allow_multiple_prospects_same_email": True,
        "auto_create_enabled_since": "2025-01-01",
    }
    res = simulate(_sf_org(tmp_path, settings))
    assert s_row(res, L2)["outcome"] == "creates_prospect"  # CR-10
    assert (
        s_row(res, L3)["outcome"] == "creates_prospect"
    )  # AMPSEA: a same-email prospect does not stop it


# ----------------------------------------------------------------- initial sync (SY-2, SY-4)
def test_initial_sync_estimate(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com"), lead(L2, "b@x.com")],
        pardot_prospects=[
            prospect(1, "a@x.com"),
            prospect(2, "b@x.com", crm_lead_fid=L2),
            prospect(3, "c@x.com", crm_owner_fid=U1),
            prospect(4, "d@x.com"),
        ],
    )
    res = simulate(
        snap, snap.settings.replace(batch_size=1, throughput_per_hour=3, throughput_low_per_hour=1)
    )
    s = res.initial_sync
    assert s["records_queued"] == 3
    assert s["cycles"] == 3
    assert (s["hours_low"], s["hours_high"]) == (1.0, 3.0)
    assert s["api_calls_by_operation"] == {"query": 3, "update": 2, "create": 1}
    assert s["api_calls"] == 6
    assert "SY-4" in s["api_note"]
    assert s["assumptions"]["batch_size"] == 1


# ----------------------------------------------------------------- what-if, outputs
def test_what_if_auto_create(tmp_path):
    snap = _sf_org(tmp_path)
    w = what_if(
        snap, auto_create_prospects_from_salesforce=True, auto_create_enabled_since="2025-01-01"
    )
    row = w.salesforce.set_index("outcome").loc["creates_prospect"]
    assert (row["base"], row["other"], row["delta"]) == (0, 1, 1)
    assert w.changed_salesforce["sf_id"].tolist() == [L2]
    assert list(w.prospects.columns) == ["outcome", "base", "other", "delta"]


def test_what_if_same_email_mode_without_fallback(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com")],
        sf_contacts=[contact(C2, "z@x.com")],
        pardot_prospects=[prospect(1, "a@x.com", crm_owner_fid=U1)],
    )
    w = what_if(snap, allow_multiple_prospects_same_email=True, ampsea_email_fallback=False)
    counts = w.prospects.set_index("outcome")
    assert counts.loc["match_email", "delta"] == -1 and counts.loc["create_lead", "delta"] == 1
    assert w.changed_prospects[["outcome", "outcome_other"]].values.tolist() == [
        ["match_email", "create_lead"]
    ]


def test_what_if_mds_rules(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com", Region__c="US")],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    w = what_if(snap, marketing_data_sharing={"Lead": {"field": "Region__c", "value": "EU"}})
    assert w.changed_prospects[["prospect_id", "outcome", "outcome_other"]].values.tolist() == [
        ["1", "match_email", "out_of_scope"]
    ]
    assert compare(w.base, w.base).changed_prospects.empty


def test_write_outcomes(tmp_path):
    snap = org(
        tmp_path / "in" if (tmp_path / "in").mkdir() is None else None,
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[prospect(1, "=cmd@x.com"), prospect(2, "a@x.com")],
    )
    res = simulate(snap)
    paths = write_outcomes(res, tmp_path / "out")
    p = pd.read_csv(paths["prospects"], dtype=str)
    assert list(p.columns[: len(PROSPECT_COLUMNS)]) == PROSPECT_COLUMNS
    assert p["email"].tolist()[0] == "'=cmd@x.com"
    s = pd.read_csv(paths["salesforce"], dtype=str)
    assert list(s.columns[: len(SALESFORCE_COLUMNS)]) == SALESFORCE_COLUMNS
    f = pd.read_csv(paths["fields"])
    assert list(f.columns[: len(FIELD_COLUMNS)]) == FIELD_COLUMNS
    j = res.to_json()
    assert set(j) == {"prospects", "salesforce", "fields", "initial_sync"}
    assert j["prospects"]["match_email"] == 1
    json.dumps(j)  # JSON-ready
