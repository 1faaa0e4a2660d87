"""Issue #11: consent defaults, person-account pairs, type errors, writes-only counts,
recycle-bin link claims and same-email auto-create (one tiny org per behaviour)."""

from __future__ import annotations

import pytest
from test_sync import (
    A1,
    L1,
    L2,
    PC1,
    U1,
    fd,
    lead,
    org,
    p_row,
    prospect,
    s_row,
)

from assessment.checks import run_checks
from assessment.sync import has_code, simulate

AMPSEA = {"allow_multiple_prospects_same_email": True}


def _check(snap, code, settings=None):
    sim = simulate(snap, settings)
    checks = {r.code: r for r in run_checks(snap, sim)}
    return sim, checks[code]


def _field(res, fid):
    return res.fields[res.fields["pardot_field_id"] == fid].iloc[0]


# ------------------------------------------------------------ 6. recycle-bin link claims (M-1)
def _recycle_org(tmp_path, settings):
    return org(
        tmp_path,
        settings=settings,
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[
            prospect(1, "a@x.com", crm_lead_fid=L1, is_deleted="true"),
            prospect(2, "a@x.com"),
        ],
    )


@pytest.mark.parametrize("settings", [None, AMPSEA], ids=["email_mode", "same_email_mode"])
def test_recycle_bin_prospect_keeps_its_link(tmp_path, settings):
    res = simulate(_recycle_org(tmp_path, settings))
    archived, live = p_row(res, 1), p_row(res, 2)
    assert archived["outcome"] == "pardot_only"
    assert archived["sf_id"] == L1
    assert has_code(res.prospects["reason_code"], "M-1.recycle_bin_link").sum() == 1
    # No other prospect links to the held record (M-1).
    assert live["outcome"] != "match_email" and live["sf_id"] != L1
    rec = s_row(res, L1)
    assert (rec["outcome"], rec["reason_code"]) == ("no_prospect", "M-1.held_by_recycle_bin")


def test_opt_out_reads_the_live_row_first(tmp_path):
    # The same prospect id twice: the recycle-bin copy first (not opted out), the live one
    # opted out. FLD009 reads the live pair's value.
    snap = org(
        tmp_path,
        sf_leads=[lead(L1, "a@x.com", HasOptedOutOfEmail="false")],
        pardot_prospects=[
            prospect(1, "a@x.com", is_deleted="true", opted_out="false"),
            prospect(1, "a@x.com", crm_lead_fid=L1, opted_out="true"),
        ],
        field_mappings=[
            {
                "Field ID": "opted_out",
                "Salesforce Field": "HasOptedOutOfEmail",
                "Sync Behavior": "Use Salesforce's value",
            }
        ],
    )
    _, r = _check(snap, "FLD009")
    assert (r.status, r.numbers["lost"]) == ("fail", 1)
    assert r.findings["value"].iloc[0] == "pardot=True; salesforce=False"


# ------------------------------------------------------------ 4. same-email mode auto-create (CR-9..11)
def _auto_org(tmp_path, settings):
    return org(
        tmp_path,
        settings=settings,
        sf_leads=[
            lead(L1, "a@x.com", CreatedDate="2025-06-01T00:00:00Z"),
            lead(L2, "a@x.com", CreatedDate="2025-06-02T00:00:00Z"),
        ],
        pardot_prospects=[prospect(1, "a@x.com", crm_lead_fid=L1)],
    )


def test_same_email_mode_respects_auto_create_off(tmp_path):
    settings = {
        **AMPSEA,
        "auto_create_prospects_from_salesforce": False,
        "auto_create_enabled_since": "2025-01-01",
    }
    rec = s_row(simulate(_auto_org(tmp_path, settings)), L2)
    assert (rec["outcome"], rec["reason_code"]) == ("no_prospect", "CR-11.auto_create_off")


def test_same_email_mode_is_not_shadowed(tmp_path):
    # AMPSEA: a new visible record gets its own prospect even when a same-email record is linked.
    settings = {
        **AMPSEA,
        "auto_create_prospects_from_salesforce": True,
        "auto_create_enabled_since": "2025-01-01",
    }
    rec = s_row(simulate(_auto_org(tmp_path, settings)), L2)
    assert (rec["outcome"], rec["reason_code"]) == ("creates_prospect", "CR-10.ampsea_new_record")
    assert "ampsea_auto_create_default" not in rec["policies"]


def test_same_email_mode_auto_create_unstated_rests_on_policy(tmp_path):
    settings = {**AMPSEA, "auto_create_enabled_since": "2025-01-01"}
    snap = _auto_org(tmp_path, settings)
    rec = s_row(simulate(snap), L2)
    assert rec["outcome"] == "creates_prospect"
    assert "ampsea_auto_create_default" in rec["policies"].split(";")
    off = snap.settings.replace(ampsea_auto_create_default="off")
    assert s_row(simulate(snap, off), L2)["outcome"] == "no_prospect"


def test_email_mode_still_shadows(tmp_path):
    settings = {
        "auto_create_prospects_from_salesforce": True,
        "auto_create_enabled_since": "2025-01-01",
    }
    rec = s_row(simulate(_auto_org(tmp_path, settings)), L2)
    assert (rec["outcome"], rec["reason_code"]) == ("no_prospect", "M-1.shadowed")


# ------------------------------------------------------------ 1. Opted Out default (F-7)
def _opt_org(tmp_path, settings=None, behavior=None):
    mappings = None
    if behavior:
        mappings = [
            {
                "Field ID": "opted_out",
                "Salesforce Field": "HasOptedOutOfEmail",
                "Sync Behavior": behavior,
            }
        ]
    tables = {
        "sf_leads": [
            lead(L1, "a@x.com", HasOptedOutOfEmail="true"),
            lead(L2, "b@x.com", HasOptedOutOfEmail="false"),
        ],
        "pardot_prospects": [
            prospect(1, "a@x.com", opted_out="false"),
            prospect(2, "b@x.com", opted_out="true"),
        ],
    }
    if mappings:
        tables["field_mappings"] = mappings
    return org(tmp_path, settings=settings, **tables)


def test_new_business_unit_defaults_opted_out_to_pardot(tmp_path):
    snap = _opt_org(tmp_path, {"business_unit_created": "2024-01-10"})
    res, r = _check(snap, "FLD009")
    f = _field(res, "opted_out")
    assert (f["sync_behavior"], f["sync_behavior_source"]) == (
        "use_pardot",
        "default (BU after 2023-11-15)",
    )
    assert "opted_out_default_sync" not in f["policies"]
    # Salesforce true / AE false under AE's value: the Salesforce opt-out is cleared.
    assert (r.status, r.numbers["lost"], list(r.findings["prospect_id"])) == ("fail", 1, ["1"])


def test_old_business_unit_opted_out_rests_on_policy_both_directions(tmp_path):
    snap = _opt_org(tmp_path, {"business_unit_created": "2020-05-01"})
    res, r = _check(snap, "FLD009")
    f = _field(res, "opted_out")
    assert (f["sync_behavior"], f["sync_behavior_source"]) == ("use_pardot", "policy")
    assert "opted_out_default_sync" in f["policies"].split(";")
    assert sorted(r.findings["prospect_id"]) == ["1", "2"]  # both directions
    assert r.numbers["policy"] == "opted_out_default_sync"
    assert "opted_out_default_sync" in r.summary
    assert all("opted_out_default_sync" in p for p in res.prospects["policies"])


def test_mapping_file_behaviour_wins_over_the_default(tmp_path):
    snap = _opt_org(tmp_path, {"business_unit_created": "2024-01-10"}, "Use Salesforce's value")
    res, r = _check(snap, "FLD009")
    f = _field(res, "opted_out")
    assert (f["sync_behavior"], f["sync_behavior_source"]) == ("use_salesforce", "file")
    assert "opted_out_default_sync" not in f["policies"]
    assert list(r.findings["prospect_id"]) == ["2"]  # AE true cleared by Salesforce false


def test_opted_out_unmapped_policy(tmp_path):
    snap = _opt_org(tmp_path)
    res, r = _check(snap, "FLD009", snap.settings.replace(opted_out_default_sync="unmapped"))
    assert "opted_out" not in set(res.fields["pardot_field_id"])
    assert r.status == "pass" and "not mapped" in r.summary


# ------------------------------------------------------------ 2. person-account pairs (F-9, F-7)
def _pa_org(tmp_path, behavior="Use Salesforce's value", describe=None, **extra):
    account = {
        "Id": A1,
        "Name": "Pat Lee",
        "IsPersonAccount": "true",
        "PersonEmail": "pat@x.com",
        "PersonContactId": PC1,
        "OwnerId": U1,
        "FirstName": "Pat",
        "LastName": "Lee",
        "PersonTitle": "CEO",
        "PersonHasOptedOutOfEmail": "false",
        **extra,
    }
    return org(
        tmp_path,
        settings={"person_accounts_enabled": True},
        describe=describe,
        sf_accounts=[account],
        pardot_prospects=[
            prospect(1, "pat@x.com", job_title="Founder", opted_out="true", first_name="Pat")
        ],
        field_mappings=[
            {"Field ID": "job_title", "Salesforce Field": "Title", "Sync Behavior": behavior},
            {
                "Field ID": "opted_out",
                "Salesforce Field": "HasOptedOutOfEmail",
                "Sync Behavior": behavior,
            },
        ],
    )


@pytest.mark.parametrize("ampsea", [False, True])
def test_person_account_pairs_are_compared(tmp_path, ampsea):
    snap = _pa_org(tmp_path, "Use Account Engagement's value")
    settings = snap.settings.replace(allow_multiple_prospects_same_email=ampsea)
    res = simulate(snap, settings)
    f = _field(res, "job_title")
    assert (f["pairs"], f["differ"], f["sf_overwritten"]) == (1, 1, 1)
    assert (f["pairs_person_account"], f["pairs_lead"], f["pairs_contact"]) == (1, 0, 0)
    split = res.fields_by_object.set_index(["pardot_field_id", "sf_object"])
    assert split.loc[("job_title", "PersonAccount"), "sf_overwritten"] == 1
    assert split.loc[("job_title", "Lead"), "pairs"] == 0


def test_person_account_opt_out_loss(tmp_path):
    _, r = _check(_pa_org(tmp_path), "FLD009")
    assert (r.status, r.numbers["lost"]) == ("fail", 1)
    assert list(r.findings["object"]) == ["PersonAccount"]


def test_person_account_custom_field_write_error(tmp_path):
    snap = org(
        tmp_path,
        settings={"person_accounts_enabled": True},
        describe={"Account": [fd("Tier__pc", type="picklist", restricted=True, values=("Gold",))]},
        sf_accounts=[
            {
                "Id": A1,
                "IsPersonAccount": "true",
                "PersonEmail": "pat@x.com",
                "PersonContactId": PC1,
                "Tier__pc": "",
            }
        ],
        pardot_prospects=[prospect(1, "pat@x.com", Tier="Platinum")],
        field_mappings=[
            {
                "Field ID": "Tier",
                "Salesforce Field": "Tier__c",
                "Sync Behavior": "Use Salesforce's value",
            }
        ],
    )
    res = simulate(snap)
    r = p_row(res, 1)
    assert (r["outcome"], r["error_code"]) == (
        "will_error",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    )
    assert _field(res, "Tier")["write_errors"] == 1


# ------------------------------------------------------------ 3. AE→SF type errors (§3.7)
REVENUE = [fd("LastName", length=80), fd("AnnualRevenue", type="currency", length=0)]


def _typed_org(tmp_path, ae, sf, behavior="Use Salesforce's value", field="AnnualRevenue",
               ftype="currency", fid="annual_revenue"):  # fmt: skip
    describe = {"Lead": [fd("LastName", length=80), fd(field, type=ftype, length=0)]}
    return org(
        tmp_path,
        describe=describe,
        sf_leads=[lead(L1, "a@x.com", **{field: sf})],
        pardot_prospects=[prospect(1, "a@x.com", **{fid: ae})],
        field_mappings=[{"Field ID": fid, "Salesforce Field": field, "Sync Behavior": behavior}],
    )


@pytest.mark.parametrize(
    ("value", "error"), [("50-100", "INVALID_TYPE_ON_FIELD_IN_RECORD"), ("500000.00", None)]
)
def test_non_number_into_a_currency_field_fails(tmp_path, value, error):
    # SF blank, AE value: F-2 writes it into Salesforce, where a currency takes numbers only.
    res = simulate(_typed_org(tmp_path, value, ""))
    r = p_row(res, 1)
    assert (r["outcome"] == "will_error") == (error is not None)
    assert (r["error_code"] if error else None) == error
    if error:
        assert has_code(res.prospects["reason_code"], "F-2.write_type_error").sum() == 1


@pytest.mark.parametrize(
    ("behavior", "failed"), [("Use Pardot's value", True), ("Use Salesforce's value", False)]
)
def test_non_date_into_a_date_field_fails_only_when_written(tmp_path, behavior, failed):
    snap = _typed_org(tmp_path, "31/12/2024", "2024-01-01", behavior, "Renewal__c", "date",
                      "Renewal")  # fmt: skip
    r = p_row(simulate(snap), 1)
    assert (r["outcome"] == "will_error") == failed


@pytest.mark.parametrize(("value", "failed"), [("2024-02-30", True), ("2024-02-28", False)])
def test_date_must_be_a_calendar_date(tmp_path, value, failed):
    snap = _typed_org(tmp_path, value, "", "Use Pardot's value", "Renewal__c", "date", "Renewal")
    assert (p_row(simulate(snap), 1)["outcome"] == "will_error") == failed


def test_non_boolean_into_a_checkbox_fails(tmp_path):
    snap = _typed_org(tmp_path, "yes", "false", "Use Pardot's value", "Vip__c", "boolean", "Vip")
    assert p_row(simulate(snap), 1)["error_code"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"


def test_type_errors_on_create_and_policy_skip(tmp_path):
    snap = org(
        tmp_path,
        describe={"Lead": REVENUE},
        sf_users=[{"Id": U1, "Username": "rep@x.com", "IsActive": "true"}],
        pardot_prospects=[prospect(1, "new@x.com", crm_owner_fid=U1, annual_revenue="50-100")],
    )
    r = p_row(simulate(snap), 1)
    assert (r["outcome"], r["error_code"]) == ("will_error", "INVALID_TYPE_ON_FIELD_IN_RECORD")
    r = p_row(simulate(snap, snap.settings.replace(type_errors="skip")), 1)
    assert r["outcome"] == "create_lead" and "type_errors" in r["policies"].split(";")


# ------------------------------------------------------------ 5. exact values, whitespace (F-3, K2)
TIER = [fd("LastName", length=80), fd("Tier__c", type="picklist", restricted=True, values=("Gold", "Silver"))]  # fmt: skip


def _tier_org(tmp_path, ae, sf, behavior):
    return org(
        tmp_path,
        describe={"Lead": TIER},
        sf_leads=[lead(L1, "a@x.com", Tier__c=sf)],
        pardot_prospects=[prospect(1, "a@x.com", Tier=ae)],
        field_mappings=[
            {"Field ID": "Tier", "Salesforce Field": "Tier__c", "Sync Behavior": behavior}
        ],
    )


def test_picklist_value_with_a_trailing_space_fails_when_written(tmp_path):
    res = simulate(_tier_org(tmp_path, "Gold ", "Silver", "Use Pardot's value"))
    r = p_row(res, 1)
    assert (r["outcome"], r["error_code"]) == (
        "will_error",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    )


def test_value_that_differs_only_in_spaces_differs(tmp_path):
    f = _field(simulate(_tier_org(tmp_path, "Gold ", "Gold", "Use Salesforce's value")), "Tier")
    assert (f["differ"], f["pardot_overwritten"]) == (1, 1)


def test_whitespace_only_is_blank(tmp_path):
    f = _field(simulate(_tier_org(tmp_path, "   ", "Gold", "Use Salesforce's value")), "Tier")
    assert (f["blank_fills_pardot"], f["pardot_overwritten"], f["write_errors"]) == (1, 0, 0)


def test_type_mismatch_covers_default_mappings_by_value(tmp_path):
    # FLD002: the default Annual Revenue mapping (text → currency) is flagged once prospects
    # hold a value the currency refuses; numbers alone are not flagged.
    def fld002(folder, revenue):
        snap = org(
            folder,
            describe={"Lead": REVENUE},
            sf_leads=[lead(L1, "a@x.com")],
            pardot_prospects=[prospect(1, "a@x.com", annual_revenue=revenue)],
            field_mappings=[{"Field ID": "job_title", "Salesforce Field": "Title"}],
        )
        return _check(snap, "FLD002")[1]

    (tmp_path / "bad").mkdir()
    (tmp_path / "ok").mkdir()
    bad, ok = fld002(tmp_path / "bad", "50-100"), fld002(tmp_path / "ok", "1200.50")
    assert (bad.status, list(bad.findings["record_id"])) == ("fail", ["annual_revenue"])
    assert "not a number" in bad.findings["message"].iloc[0]
    assert ok.status == "pass"


# ------------------------------------------------------------ 5. FLD003/FLD004 count predicted writes
INDUSTRY = [
    fd("LastName", length=80),
    fd("Industry", type="picklist", restricted=True, values=("Tech", "Retail")),
    fd("Title", length=5),
]


@pytest.mark.parametrize(
    ("sf_value", "behavior", "listed"),
    [
        ("", "Use Salesforce's value", True),  # blank Salesforce: AE fills it (F-2) → written
        ("Tech", "Use Salesforce's value", False),  # Salesforce wins, not blank: never written
        ("Tech", "Use Pardot's value", True),  # AE wins and differs → written
    ],
)
def test_picklist_and_length_checks_count_only_written_values(tmp_path, sf_value, behavior, listed):
    mappings = [
        {"Field ID": "industry", "Salesforce Field": "Industry", "Sync Behavior": behavior},
        {"Field ID": "job_title", "Salesforce Field": "Title", "Sync Behavior": behavior},
    ]
    snap = org(
        tmp_path,
        describe={"Lead": INDUSTRY},
        sf_leads=[lead(L1, "a@x.com", Industry=sf_value, Title=sf_value)],
        pardot_prospects=[
            prospect(1, "a@x.com", industry="Tech ", job_title="Founder"),
            prospect(2, "b@x.com", industry="Bogus", job_title="Chairman"),  # unassigned
        ],
        field_mappings=mappings,
    )
    sim = simulate(snap)
    checks = {r.code: r for r in run_checks(snap, sim)}
    for code in ("FLD003", "FLD004"):
        assert sorted(checks[code].findings["prospect_id"]) == (["1"] if listed else []), code


# ------------------------------------------------------------ Q2: email case (M-13), both sides
def test_case_variant_prospects_compete_for_one_lead_in_same_email_mode(tmp_path):
    # SOQL compares emails case-insensitively, AE keeps case-variant prospects apart: both
    # find the one lead, one links (M-1), and both predictions are cautions.
    snap = org(
        tmp_path,
        settings=AMPSEA,
        sf_leads=[lead(L1, "a@x.com")],
        pardot_prospects=[prospect(1, "A@x.com"), prospect(2, "a@x.com")],
    )
    res = simulate(snap)
    p = res.prospects.set_index("prospect_id")
    assert sorted(p["outcome"]) == ["match_email", "pardot_only"]
    assert p["caution"].all()
    assert s_row(res, L1)["outcome"] == "linked"
