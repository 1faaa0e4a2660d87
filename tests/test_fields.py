"""Effective field mapping: mapping file rows plus the documented defaults (§3.5, F-5, F-6)."""

from __future__ import annotations

import csv

import pandas as pd

from assessment.fields import MAPPING_COLUMNS, effective_mappings
from assessment.load import load_org


def folder(tmp_path, mappings=None, prospects_header=None, leads_header=None, contacts_header=None):
    files = {
        "field_mappings.csv": mappings,
        "prospects.csv": [dict.fromkeys(prospects_header, "x")] if prospects_header else None,
        "Lead.csv": [dict.fromkeys(leads_header, "x")] if leads_header else None,
        "Contact.csv": [dict.fromkeys(contacts_header, "x")] if contacts_header else None,
    }
    for name, rows in files.items():
        if rows is None:
            continue
        header = list(dict.fromkeys(k for r in rows for k in r))
        with open(tmp_path / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=header)
            w.writeheader()
            w.writerows(rows)
    return load_org(tmp_path)


def row(frame, fid):
    hit = frame[frame["pardot_field_id"] == fid]
    assert len(hit) == 1, fid
    return hit.iloc[0]


def test_defaults_without_a_mapping_file(tmp_path):
    m = effective_mappings(
        folder(
            tmp_path,
            leads_header=["Id", "Email", "Title"],
            contacts_header=["Id", "Email", "Title", "Account.Name"],
        )
    )
    assert list(m.columns[: len(MAPPING_COLUMNS)]) == MAPPING_COLUMNS
    assert set(m["source"]) == {"default"}
    first = row(m, "first_name")
    assert (first["sf_field"], first["confidence"], first["sync_behavior"]) == (
        "FirstName",
        "H7",
        "use_salesforce",
    )
    assert first["sync_behavior_source"] == "default"  # F-5: Salesforce is primary
    job = row(m, "job_title")
    assert (job["confidence"], job["lead_column"], job["contact_column"]) == (
        "UNCONFIRMED",
        "title",
        "title",
    )
    assert job["prospect_column"] == "job_title"
    # Fixed rules (F-5): Score/Grade/Campaign AE wins; owner Salesforce wins; Email is M-8.
    assert row(m, "score")["sync_behavior"] == "use_pardot"
    assert row(m, "score")["lead_column"] == "pardot_score"
    assert row(m, "assigned_user")["sync_behavior"] == "use_salesforce"
    assert row(m, "assigned_user")["lead_column"] == "owner_id"
    assert row(m, "email")["sync_behavior"] == "email_rules"
    # Company: Lead.Company / Contact Account.Name (F-5, H10).
    company = row(m, "company")
    assert (company["lead_column"], company["contact_column"]) == ("company", "account_name")
    # Do Not Email has no default mapping (F-8).
    assert "is_do_not_email" not in set(m["pardot_field_id"])
    # Lead-only / contact-only defaults keep the missing side empty.
    assert row(m, "department")["contact_sf_field"] == "Department"
    assert pd.isna(row(m, "website")["contact_column"])


def test_file_overrides_standard_behaviour_but_not_fixed_rules(tmp_path):
    m = effective_mappings(
        folder(
            tmp_path,
            mappings=[
                {
                    "field_id": "job_title",
                    "name": "Job Title",
                    "crm_id": "Title",
                    "Sync Behavior": "Use Account Engagement's value",
                },
                {
                    "field_id": "score",
                    "name": "Score",
                    "crm_id": "pi__score__c",
                    "Sync Behavior": "Use Salesforce's value",
                },
            ],
        )
    )
    job = row(m, "job_title")
    assert (
        job["source"],
        job["confidence"],
        job["sync_behavior"],
        job["sync_behavior_source"],
    ) == (
        "file",
        "file",
        "use_pardot",
        "file",
    )
    score = row(m, "score")
    assert (score["sync_behavior"], score["sync_behavior_source"]) == ("use_pardot", "fixed")
    assert "F-5" in score["fixed_rule"]
    assert row(m, "first_name")["source"] == "default"


def test_custom_field_columns_and_default_policy(tmp_path):
    m = effective_mappings(
        folder(
            tmp_path,
            mappings=[
                {
                    "field_id": "Partner_Level",
                    "name": "Partner level",
                    "crm_id": "Partner_Level__c",
                    "Sync Behavior": "",
                },
                {
                    "field_id": "hobby",
                    "name": "Hobby",
                    "crm_id": "Hobby__c",
                    "Sync Behavior": "Use Pardot's value",
                },
                {"field_id": "Unmapped", "name": "Unmapped", "crm_id": "", "Sync Behavior": ""},
            ],
            prospects_header=["id", "email", "Partner level", "hobby__c"],
            leads_header=["Id", "Email", "PARTNER_LEVEL__C"],
            contacts_header=["Id", "Email", "Hobby__c"],
        )
    )
    partner = row(m, "Partner_Level")
    assert partner["is_custom"]
    # F-6: no behaviour in the file → policy custom_field_default_sync.
    assert (partner["sync_behavior"], partner["sync_behavior_source"], partner["policies"]) == (
        "use_salesforce",
        "policy",
        "custom_field_default_sync",
    )
    assert partner["prospect_column"] == "Partner level"  # UI export: by label
    assert partner["lead_column"] == "PARTNER_LEVEL__C"  # Data Loader upper case, by header_key
    hobby = row(m, "hobby")
    assert (hobby["prospect_column"], hobby["contact_column"]) == ("hobby__c", "Hobby__c")  # v5
    assert hobby["sync_behavior"] == "use_pardot"
    assert "Unmapped" not in set(m["pardot_field_id"])  # no Salesforce field: not mapped


def test_policy_value_comes_from_settings(tmp_path):
    snap = folder(
        tmp_path,
        mappings=[{"field_id": "Tier", "name": "Tier", "crm_id": "Tier__c"}],
    )
    m = effective_mappings(snap, snap.settings.replace(custom_field_default_sync="use_pardot"))
    assert row(m, "Tier")["sync_behavior"] == "use_pardot"
