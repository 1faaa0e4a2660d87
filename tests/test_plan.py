"""Planning (issue #18): one tiny org per recommendation, the plan's order, its outputs."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
import yaml

from assessment.checks import run_checks
from assessment.load import load_org
from assessment.normalize import to_id18
from assessment.plan import combined_effect, make_plan, plan_frame
from assessment.plan.registry import EXAMPLES
from assessment.sync import simulate

FILES = {
    "sf_leads": "Lead.csv",
    "sf_contacts": "Contact.csv",
    "sf_accounts": "Account.csv",
    "pardot_prospects": "prospects.csv",
    "field_mappings": "field_mappings.csv",
}


def sid(prefix: str, n: int) -> str:
    """A valid 18-character Salesforce id with the given key prefix."""
    return to_id18(f"{prefix}{n:012d}")


U1, U2 = sid("005", 1), sid("005", 2)


def org(tmp_path, settings=None, **tables):
    """Write a tiny export folder and load it."""
    for table, rows in tables.items():
        header = list(dict.fromkeys(k for r in rows for k in r))
        with open(tmp_path / FILES[table], "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=header)
            w.writeheader()
            w.writerows(rows)
    if settings:
        (tmp_path / "connector.yml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return load_org(tmp_path)


def lead(n, email, **kw):
    return {
        "Id": sid("00Q", n),
        "Email": email,
        "LastName": "L",
        "Company": "Co",
        "OwnerId": U1,
        **kw,
    }


def contact(n, email, **kw):
    return {"Id": sid("003", n), "Email": email, "LastName": "C", "OwnerId": U1, **kw}


def prospect(pid, email, **kw):
    return {"id": pid, "email": email, "last_name": "P", **kw}


def plan_of(snap, checks=False):
    sim = simulate(snap)
    return make_plan(snap, sim, run_checks(snap, sim) if checks else [])


# ----------------------------------------------------------------- connector user (V-2, V-3, M-3)
def test_named_user_hiding_records_recommends_integration_user(tmp_path):
    snap = org(
        tmp_path,
        settings={"connector_user": "conn@x.com", "connector_user_visible_owner_ids": [U1]},
        sf_leads=[lead(1, "a@x.com"), lead(2, "b@x.com", OwnerId=U2)],
        pardot_prospects=[prospect(1, "a@x.com"), prospect(2, "b@x.com")],
    )
    rec = plan_of(snap).by_code("REC-CONNECTOR-USER")
    assert (rec.action, rec.recommended) == ("change", "integration")
    assert rec.effect["prospects"] == {"out_of_scope → match_email": 1}
    assert rec.effect["examples"]["prospects: out_of_scope → match_email"] == ["2"]


def test_named_user_without_visibility_cannot_tell(tmp_path):
    snap = org(
        tmp_path,
        settings={"connector_user": "conn@x.com"},
        sf_leads=[lead(1, "a@x.com")],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    rec = plan_of(snap).by_code("REC-CONNECTOR-USER")
    assert rec.action == "cannot_tell" and rec.recommended is None
    assert "connector_user_visible_owner_ids" in rec.missing_exports[0]


def test_integration_user_across_business_units_needs_mds(tmp_path):
    snap = org(
        tmp_path,
        settings={"business_units": 2},
        sf_leads=[lead(1, "a@x.com", Region__c="EU"), lead(2, "b@x.com", Region__c="US")],
        sf_contacts=[contact(1, "c@x.com", Region__c="EU")],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    p = plan_of(snap)
    assert p.by_code("REC-CONNECTOR-USER").action == "change"
    mds = p.by_code("REC-MDS")
    assert mds.action == "change" and mds.evidence["candidate_fields"] == ["Region__c"]


def test_single_business_unit_integration_user_is_confirmed_without_what_if(tmp_path):
    snap = org(tmp_path, sf_leads=[lead(1, "a@x.com")], pardot_prospects=[prospect(1, "a@x.com")])
    p = plan_of(snap)
    for code in ("REC-CONNECTOR-USER", "REC-VISIBILITY", "REC-MDS", "REC-SAME-EMAIL"):
        assert p.by_code(code).action == "confirm", code
    assert p.what_ifs == 0  # nothing in question: no simulation beyond the base run


# ----------------------------------------------------------------- visibility (M-3, H13)
def test_hidden_record_recommends_view_all_and_counts_duplicate_leads(tmp_path):
    snap = org(
        tmp_path,
        settings={"connector_user": "conn@x.com", "connector_user_visible_owner_ids": [U1]},
        sf_leads=[lead(1, "a@x.com"), lead(2, "b@x.com", OwnerId=U2)],
        pardot_prospects=[prospect(1, "a@x.com"), prospect(2, "b@x.com", crm_owner_fid=U1)],
    )
    rec = plan_of(snap).by_code("REC-VISIBILITY")
    assert rec.action == "change"
    assert rec.evidence == {"hidden_records": 1, "duplicate_leads_avoided": 1}
    assert rec.changes == {"connector_user_visible_owner_ids": []}


def test_visibility_partitioning_business_units_is_kept(tmp_path):
    snap = org(
        tmp_path,
        settings={
            "connector_user": "conn@x.com",
            "connector_user_visible_owner_ids": [U1],
            "business_units": 2,
        },
        sf_leads=[lead(1, "a@x.com"), lead(2, "b@x.com", OwnerId=U2)],
        pardot_prospects=[prospect(2, "b@x.com", crm_owner_fid=U1)],
    )
    rec = plan_of(snap).by_code("REC-VISIBILITY")
    assert rec.action == "confirm" and "1 assigned prospects" in rec.risks[0]


# ----------------------------------------------------------------- same-email mode (M-9, CR-10)
def _ampsea_org(tmp_path, **settings):
    return org(
        tmp_path,
        settings={"auto_create_enabled_since": "2024-01-01", **settings},
        sf_leads=[
            lead(1, "b@x.com", CreatedDate="2023-01-01T00:00:00Z"),
            lead(2, "a@x.com", CreatedDate="2025-01-01T00:00:00Z"),
        ],
        pardot_prospects=[
            prospect(1, "a@x.com", crm_lead_fid=sid("00Q", 1)),
            prospect(2, "c@x.com"),
            prospect(3, "c@x.com"),
        ],
    )


def test_shared_emails_with_dry_run_gain_recommend_same_email_mode(tmp_path):
    rec = plan_of(_ampsea_org(tmp_path)).by_code("REC-SAME-EMAIL")
    assert (rec.action, rec.recommended) == ("change", True)
    assert rec.evidence["prospect_email_groups"] == 1
    assert rec.evidence["salesforce_records_gaining_a_prospect"] == 1
    assert rec.effect["salesforce"] == {"no_prospect → creates_prospect": 1}
    assert any("irreversible" in r for r in rec.risks) and "ampsea_email_fallback" in rec.policies


def test_same_email_mode_on_is_confirmed(tmp_path):
    snap = _ampsea_org(tmp_path, allow_multiple_prospects_same_email=True)
    rec = plan_of(snap).by_code("REC-SAME-EMAIL")
    assert rec.action == "confirm" and "H3" in rec.why


def test_shared_emails_without_gain_keep_email_matching(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[lead(1, "a@x.com")],
        pardot_prospects=[prospect(1, "c@x.com"), prospect(2, "c@x.com")],
    )
    rec = plan_of(snap).by_code("REC-SAME-EMAIL")
    assert rec.action == "confirm" and rec.effect["moved_prospects"] == 0


# ----------------------------------------------------------------- auto-create (CR-9 - CR-11)
def test_records_still_arriving_recommend_auto_create(tmp_path):
    snap = org(
        tmp_path,
        sf_leads=[
            lead(1, "a@x.com", CreatedDate="2025-06-01T00:00:00Z"),
            lead(2, "b@x.com", CreatedDate="2020-01-01T00:00:00Z"),
        ],
        pardot_prospects=[prospect(1, "z@x.com")],
    )
    rec = plan_of(snap).by_code("REC-AUTO-CREATE")
    assert (rec.action, rec.recommended) == ("change", True)
    assert rec.evidence == {"records_without_prospect": 2, "created_last_year": 1}
    assert "not retroactive" in rec.why


def test_auto_create_without_created_dates_cannot_tell(tmp_path):
    snap = org(tmp_path, sf_leads=[lead(1, "a@x.com")], pardot_prospects=[prospect(1, "z@x.com")])
    rec = plan_of(snap).by_code("REC-AUTO-CREATE")
    assert rec.action == "cannot_tell" and "CreatedDate" in rec.missing_exports[0]


# ----------------------------------------------------------------- MDS per object (D-2, D-3)
def test_mds_rule_checks_per_object(tmp_path):
    snap = org(
        tmp_path,
        settings={"marketing_data_sharing": {"Lead": {"field": "Region__c", "value": "EU"}}},
        sf_leads=[
            lead(1, "a@x.com", Region__c="EU"),
            lead(2, "b@x.com", Region__c="eu "),
            lead(3, "c@x.com", Region__c="US"),
        ],
        sf_contacts=[contact(1, "d@x.com")],
        pardot_prospects=[prospect(1, "a@x.com")],
    )
    p = plan_of(snap)
    lead_rec, contact_rec = p.by_code("REC-MDS-LEAD"), p.by_code("REC-MDS-CONTACT")
    assert lead_rec.action == "confirm"
    assert lead_rec.evidence["in_scope"] == 1 and lead_rec.evidence["case_or_space_variants"] == 1
    assert contact_rec.action == "change" and "D-2" in contact_rec.why


def test_mds_rule_on_a_mapped_field_is_a_change(tmp_path):
    rule = {"field": "Region__c", "value": "EU"}
    snap = org(
        tmp_path,
        settings={"marketing_data_sharing": {"Lead": rule, "Contact": rule}},
        sf_leads=[lead(1, "a@x.com", Region__c="EU")],
        sf_contacts=[contact(1, "d@x.com", Region__c="EU")],
        pardot_prospects=[prospect(1, "a@x.com", Region="EU")],
        field_mappings=[
            {"Field Name": "Region", "Field ID": "Region", "Salesforce Field": "Region__c"}
        ],
    )
    rec = plan_of(snap).by_code("REC-MDS-LEAD")
    assert rec.action == "change" and rec.evidence["rule_field_mapped"]


# ----------------------------------------------------------------- person accounts (M-18, M-19)
def _pa_org(tmp_path, enabled):
    return org(
        tmp_path,
        settings={"person_accounts_enabled": enabled},
        sf_accounts=[
            {
                "Id": sid("001", 1),
                "Name": "Pat",
                "IsPersonAccount": "true",
                "PersonEmail": "pat@x.com",
                "PersonContactId": sid("003", 9),
                "OwnerId": U1,
            }
        ],
        pardot_prospects=[prospect(1, "pat@x.com", crm_owner_fid=U1)],
    )


def test_person_accounts_present_and_sync_off_recommend_enabling(tmp_path):
    rec = plan_of(_pa_org(tmp_path, False)).by_code("REC-PERSON-ACCOUNTS")
    assert (rec.action, rec.recommended) == ("change", True)
    assert rec.evidence == {"person_accounts": 1, "prospects_sharing_their_email": 1}
    assert rec.effect["prospects"] == {"create_lead → match_email": 1}


def test_person_account_sync_on_is_confirmed_and_absent_accounts_cannot_tell(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert plan_of(_pa_org(tmp_path / "a", True)).by_code("REC-PERSON-ACCOUNTS").action == "confirm"
    snap = org(tmp_path / "b", pardot_prospects=[prospect(1, "pat@x.com")])
    rec = plan_of(snap).by_code("REC-PERSON-ACCOUNTS")
    assert rec.action == "cannot_tell" and "IsPersonAccount" in rec.missing_exports[0]


# ----------------------------------------------------------------- field behaviours (F-1, F-2, F-7)
def _field_org(tmp_path, behaviour, n=10, **extra):
    leads = [
        lead(i, f"p{i}@x.com", Industry="Banking", LastModifiedDate="2025-01-01T00:00:00Z")
        for i in range(1, n + 1)
    ]
    prospects = [
        prospect(i, f"p{i}@x.com", industry="Retail" if i <= 2 else "", **extra)
        for i in range(1, n + 1)
    ]
    mapping = {"Field Name": "Industry", "Field ID": "industry", "Salesforce Field": "Industry"}
    mapping["Sync Behavior"] = behaviour
    return org(tmp_path, sf_leads=leads, pardot_prospects=prospects, field_mappings=[mapping])


def test_better_filled_side_wins_and_overwrites_are_counted(tmp_path):
    rec = plan_of(_field_org(tmp_path, "Use Pardot's value")).by_code("REC-FIELD-industry")
    assert (rec.current, rec.recommended, rec.action) == ("use_pardot", "use_salesforce", "change")
    ev = rec.evidence
    assert (ev["pairs"], ev["salesforce_filled"], ev["pardot_filled"], ev["differ"]) == (
        10,
        1.0,
        0.2,
        2,
    )
    assert rec.effect["current_overwrites"] == 2 and rec.effect["recommended_overwrites"] == 2


def test_recency_decides_when_fill_rates_are_close(tmp_path):
    leads = [
        lead(i, f"p{i}@x.com", Industry="Banking", LastModifiedDate="2020-01-01T00:00:00Z")
        for i in range(1, 13)
    ]
    prospects = [
        prospect(i, f"p{i}@x.com", industry="Retail", updated_at="2024-01-01 00:00:00")
        for i in range(1, 13)
    ]
    mapping = {"Field Name": "Industry", "Field ID": "industry", "Salesforce Field": "Industry"}
    snap = org(tmp_path, sf_leads=leads, pardot_prospects=prospects, field_mappings=[mapping])
    rec = plan_of(snap).by_code("REC-FIELD-industry")
    assert rec.evidence["pardot_newer"] == 12 and rec.recommended == "use_pardot"
    assert rec.effect["newer_values_lost"]["use_salesforce"] == 12


def test_no_difference_confirms_current_behaviour(tmp_path):
    leads = [lead(1, "p1@x.com", Industry="Banking")]
    mapping = {"Field Name": "Industry", "Field ID": "industry", "Salesforce Field": "Industry"}
    snap = org(
        tmp_path,
        sf_leads=leads,
        pardot_prospects=[prospect(1, "p1@x.com", industry="Banking")],
        field_mappings=[mapping],
    )
    assert plan_of(snap).by_code("REC-FIELD-industry").action == "confirm"


def test_opted_out_gets_the_most_protective_behaviour(tmp_path):
    leads = [lead(i, f"p{i}@x.com", HasOptedOutOfEmail="false") for i in range(1, 4)]
    prospects = [
        prospect(i, f"p{i}@x.com", opted_out="true" if i < 3 else "false") for i in range(1, 4)
    ]
    mapping = {
        "Field Name": "Opted Out",
        "Field ID": "opted_out",
        "Salesforce Field": "HasOptedOutOfEmail",
        "Sync Behavior": "Use Salesforce's value",
    }
    snap = org(tmp_path, sf_leads=leads, pardot_prospects=prospects, field_mappings=[mapping])
    p = plan_of(snap)
    rec = p.by_code("REC-FIELD-opted_out")
    assert (rec.current, rec.recommended) == ("use_salesforce", "use_pardot")
    assert rec.evidence["opt_outs_lost"]["use_salesforce"] == 2
    assert rec.evidence["opt_outs_lost"]["use_pardot"] == 0
    assert "checkbox_false_is_value" in rec.policies and "F-7" in rec.why
    fix = p.steps.loc[p.steps["ref"] == "REC-FIELD-opted_out"]
    assert list(fix["phase"]) == ["fix", "configure"]  # align first, then set the behaviour


def test_fixed_and_unexported_fields(tmp_path):
    snap = org(tmp_path, sf_leads=[lead(1, "p1@x.com")], pardot_prospects=[prospect(1, "p1@x.com")])
    p = plan_of(snap)
    assert p.by_code("REC-FIELD-score").action == "confirm"
    assert "fixed" in p.by_code("REC-FIELD-score").why
    rec = p.by_code("REC-FIELD-industry")
    assert rec.action == "cannot_tell" and rec.missing_exports


# ----------------------------------------------------------------- the plan
def test_plan_orders_matching_fixes_first_and_verifies_last(tmp_path):
    snap = org(
        tmp_path,
        settings={"person_accounts_enabled": False},
        sf_leads=[lead(1, "a@x.com"), lead(2, "a@x.com"), lead(3, "b@x.com")],
        sf_accounts=[
            {
                "Id": sid("001", 1),
                "IsPersonAccount": "true",
                "PersonEmail": "pat@x.com",
                "PersonContactId": sid("003", 9),
            }
        ],
        pardot_prospects=[
            prospect(1, "a@x.com"),
            prospect(2, "n@x.com", crm_owner_fid=U1),
            prospect(3, "pat@x.com", crm_owner_fid=U1),
        ],
    )
    p = plan_of(snap, checks=True)
    phases = list(p.steps["phase"])
    assert phases == sorted(
        phases, key=["decide", "fix", "configure", "backup", "unpause", "verify"].index
    )
    assert phases[0] == "decide" and p.steps["ref"].iloc[0] == "REC-PERSON-ACCOUNTS"
    fixes = p.steps.loc[p.steps["phase"] == "fix"]
    matching = fixes["changes_matching"].tolist()
    assert matching == sorted(matching, reverse=True)  # matching fixes before the others
    assert list(p.steps["step"]) == list(range(1, len(p.steps) + 1))
    spot = p.steps.loc[p.steps["title"].str.startswith("Spot-check match_email_tie")]
    assert len(spot) == 1 and "1" in spot["title"].iloc[0]


def test_combined_effect_applies_accepted_settings_together(tmp_path):
    snap = org(
        tmp_path,
        settings={
            "person_accounts_enabled": False,
            "connector_user": "conn@x.com",
            "connector_user_visible_owner_ids": [U1],
        },
        sf_leads=[lead(2, "b@x.com", OwnerId=U2)],
        sf_accounts=[
            {
                "Id": sid("001", 1),
                "IsPersonAccount": "true",
                "PersonEmail": "pat@x.com",
                "PersonContactId": sid("003", 9),
                "OwnerId": U1,
            }
        ],
        pardot_prospects=[prospect(1, "pat@x.com", crm_owner_fid=U1), prospect(2, "b@x.com")],
    )
    p = plan_of(snap)
    both = combined_effect(p, ["REC-PERSON-ACCOUNTS", "REC-VISIBILITY"])
    assert both["settings"] == {
        "person_accounts_enabled": True,
        "connector_user_visible_owner_ids": [],
    }
    assert both["effect"]["moved_prospects"] == 2
    one = combined_effect(p, ["REC-PERSON-ACCOUNTS"])
    assert one["effect"]["moved_prospects"] == 1
    assert combined_effect(p, [])["settings"] == {}


def test_examples_are_capped(tmp_path):
    snap = org(
        tmp_path,
        settings={"connector_user": "conn@x.com", "connector_user_visible_owner_ids": [U1]},
        sf_leads=[lead(i, f"p{i}@x.com", OwnerId=U2) for i in range(1, 7)],
        pardot_prospects=[prospect(i, f"p{i}@x.com") for i in range(1, 7)],
    )
    rec = plan_of(snap).by_code("REC-CONNECTOR-USER")
    (examples,) = [v for k, v in rec.effect["examples"].items() if k.startswith("prospects")]
    assert len(examples) == EXAMPLES and rec.effect["moved_prospects"] == 6


def test_plan_csv_is_formula_safe_and_masked():
    from assessment.plan import Plan

    steps = pd.DataFrame(
        [
            {
                "step": 1,
                "phase": "fix",
                "title": "=HYPERLINK()",
                "detail": "mail ann@x.com",
                "records": 1,
                "action_file": None,
                "ref": "X",
                "source": "",
                "changes_matching": False,
            }
        ]
    )
    frame = plan_frame(Plan([], steps, 0.0, 0, 0.0), mask_pii=True)
    assert frame["title"].iloc[0] == "'=HYPERLINK()"
    assert "ann@x.com" not in frame["detail"].iloc[0]


def test_run_writes_plan_and_no_plan_skips_it(tmp_path):
    from assessment.pipeline import assess

    data = tmp_path / "org"
    data.mkdir()
    org(data, sf_leads=[lead(1, "a@x.com")], pardot_prospects=[prospect(1, "a@x.com")])
    timings: dict = {}
    assess(data, tmp_path / "out", report=False, timings=timings)
    doc = json.loads((tmp_path / "out" / "readiness.json").read_text(encoding="utf-8"))
    assert {"plan", "recommendations"} <= set(doc) and "plan" in timings
    assert doc["plan"]["steps"][0]["step"] == 1 and "order of doing" in doc["plan"]["note"]
    rows = list(csv.DictReader((tmp_path / "out" / "plan.csv").open(encoding="utf-8-sig")))
    assert len(rows) == len(doc["plan"]["steps"])
    assess(data, tmp_path / "out2", report=False, plan=False)
    doc = json.loads((tmp_path / "out2" / "readiness.json").read_text(encoding="utf-8"))
    assert "plan" not in doc and not (tmp_path / "out2" / "plan.csv").exists()


@pytest.mark.parametrize("flag", [[], ["--no-plan"]])
def test_cli_no_plan_flag(tmp_path, flag):
    from assessment.cli import main

    data = tmp_path / "org"
    data.mkdir()
    org(data, sf_leads=[lead(1, "a@x.com")], pardot_prospects=[prospect(1, "a@x.com")])
    assert main(["run", str(data), "--out", str(tmp_path / "out"), "--no-report", *flag]) == 0
    assert (tmp_path / "out" / "plan.csv").exists() == (not flag)


def test_sample_org_calls_for_at_least_three_different_recommendations():
    from pathlib import Path

    from assessment.pipeline import analyse

    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    snap, sim, results = analyse(sample)
    p = make_plan(snap, sim, results)
    changes = {r.code: r for r in p.recommendations if r.action == "change"}
    assert {"REC-AUTO-CREATE", "REC-FIELD-opted_out", "REC-FIELD-Region"} <= set(changes)
    assert changes["REC-FIELD-opted_out"].recommended == "use_pardot"  # protects opt-outs (F-7)
    region = changes["REC-FIELD-Region"]
    assert region.effect["newer_values_lost"]["use_pardot"] == region.evidence["differ"] > 0
    assert p.steps["phase"].iloc[0] == "decide" and p.steps["phase"].iloc[-1] == "verify"


def test_plan_section_html_escapes_masks_and_says_the_order_is_of_doing():
    from assessment.plan import plan_section_html

    assert plan_section_html({}) == ""
    doc = {
        "plan": {
            "note": "order of doing",
            "steps": [{"step": 1, "phase": "fix", "title": "<script>x</script> ann@x.com"}],
        },
        "recommendations": [
            {
                "code": "REC-X",
                "decision": "d",
                "action": "change",
                "current": 1,
                "recommended": 2,
                "why": "<b>why</b>",
                "effect_summary": "dry run: moved",
                "source": "M-1",
            },
            {"code": "REC-Y", "decision": "d", "action": "confirm", "why": "", "source": ""},
        ],
    }
    page = plan_section_html(doc, mask_pii=True)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;why" in page
    assert "ann@x.com" not in page and "order of doing" in page
    assert "REC-X" in page and "REC-Y" not in page and "1 current choice(s)" in page


def test_effect_summary_in_readiness_entries(tmp_path):
    rec = plan_of(_pa_org(tmp_path, False)).by_code("REC-PERSON-ACCOUNTS").to_dict()
    assert rec["effect_summary"].startswith("dry run: create_lead → match_email: 1")


def test_report_plan_section_shows_steps_and_recommendations(tmp_path):
    from assessment import report
    from assessment.pipeline import assess

    data = tmp_path / "org"
    data.mkdir()
    _pa_org(data, False)
    assess(data, tmp_path / "out", report=False)
    text = str(report.section(report.load(tmp_path / "out"), "plan"))
    assert 'id="the-plan"' in text and "order of doing" in text and "Fix first" in text
    assert 'id="rec-rec-person-accounts"' in text  # a change is listed with its effect
    assert "create lead → match email: 1" in text and "M-18, M-19" in text  # words; source as code
    assert "current choices confirmed" in text  # confirmations are folded away, not lost
    assess(data, tmp_path / "bare", report=False, plan=False)
    assert 'id="the-plan"' not in str(report.section(report.load(tmp_path / "bare"), "plan"))
