"""The pre-unpause checklist: every check on tiny export folders (load_org → simulate → checks).

The folder builders here are reused by test_actions.py and test_readiness.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from assessment.checks import CHECKS, FINDING_COLUMNS, doc_sections, get_check, run_checks
from assessment.errors import AssessmentError
from assessment.normalize import to_id18

# ---------------------------------------------------------------- tiny export folders


def sid(prefix: str, n: int) -> str:
    """A valid 18-character Salesforce id: prefix + n, with the correct case checksum."""
    return to_id18(f"{prefix}{n:0{15 - len(prefix)}d}")


L = {i: sid("00Q", i) for i in range(1, 10)}
C = {i: sid("003", i) for i in range(1, 10)}
A = {i: sid("001", i) for i in range(1, 10)}
U = {i: sid("005", i) for i in range(1, 10)}
Q1 = sid("00G", 1)


def _field(name, type_, length=0, nillable=True, restricted=False, values=(), calculated=False):
    return {
        "name": name,
        "label": name,
        "type": type_,
        "length": length,
        "nillable": nillable,
        "createable": not calculated and name != "Id",
        "updateable": not calculated,
        "defaultedOnCreate": False,
        "calculated": calculated,
        "restrictedPicklist": restricted,
        "picklistValues": [{"value": v, "active": True} for v in values],
        "referenceTo": [],
    }


def describe(obj: str) -> dict:
    """A small describe body: standard fields plus a few custom ones."""
    fields = [
        _field("Id", "id", 18, nillable=False),
        _field("Email", "email", 80),
        _field("FirstName", "string", 40),
        _field("LastName", "string", 80, nillable=False),
        _field("Title", "string", 10),
        _field("Industry", "picklist", 255, restricted=True, values=("Tech", "Retail")),
        _field("HasOptedOutOfEmail", "boolean"),
        _field("Budget__c", "double"),
        _field("Geo__c", "location"),
        _field("Score_Formula__c", "double", calculated=True),
        _field("Active__c", "boolean"),
        _field("Mobile__c", "phone", 40),
        _field("Tier__c", "picklist", 255, values=("Gold", "Silver")),
        _field("Owner2__c", "reference", 18),
    ]
    if obj == "Lead":
        fields += [
            _field("Company", "string", 255, nillable=False),
            _field("Partner__c", "string", 50),
        ]
    return {"name": obj, "fields": fields}


def base_files() -> dict[str, str]:
    """The base org: every area has something to find (see test_checks.py for the expectations)."""
    leads = "\n".join(
        [
            "Id,Email,LastName,Company,OwnerId,IsConverted,IsDeleted,Status,CreatedDate",
            f"{L[1]},dup@x.com,Ng,Acme,{U[1]},false,false,Open,2024-01-01T00:00:00.000Z",
            f"{L[2]},dup@x.com,Li,Acme,{U[1]},false,false,Open,2024-01-01T00:00:00.000Z",
            f"{L[3]},Shared@x.com,Ko,Acme,{Q1},false,false,Open,2024-01-01T00:00:00.000Z",
            f"{L[4]},conv@x.com,Ro,Acme,{U[1]},true,false,Open,2024-01-01T00:00:00.000Z",
            f"{L[5]},not an email,Bo,Acme,{U[1]},false,false,Open,2024-01-01T00:00:00.000Z",
            f"{L[6]},lone@x.com,Lo,Acme,{U[2]},false,false,Open,2024-01-01T00:00:00.000Z",
        ]
    )
    contacts = "\n".join(
        [
            "Id,Email,LastName,OwnerId,IsDeleted,HasOptedOutOfEmail,CreatedDate,Title",
            f"{C[1]},shared@x.com,Ko,{U[2]},false,false,2024-01-01T00:00:00.000Z,",
            f"{C[2]},c2@x.com,Po,{U[1]},false,false,2024-01-01T00:00:00.000Z,",
            f"{C[3]},cc@x.com,Ca,{U[1]},false,false,2024-01-01T00:00:00.000Z,",
            f"{C[4]},CC@x.com,Cb,{U[1]},false,false,2024-01-01T00:00:00.000Z,",
        ]
    )
    users = "\n".join(
        [
            "Id,Username,Email,IsActive",
            f"{U[1]},rep@x.com,rep@x.com,true",
            f"{U[2]},old@x.com,old@x.com,false",
            f"{U[3]},twin1@x.com,twin@x.com,true",
            f"{U[4]},twin2@x.com,twin@x.com,true",
        ]
    )
    pardot_users = "\n".join(
        [
            "id,email,crm_username",
            "11,rep@x.com,rep@x.com",
            "12,old@x.com,old@x.com",
            "13,ghost@x.com,",
            "14,twin@x.com,",
        ]
    )
    prospects = "\n".join(
        [
            "Prospect Id,Email,Last Name,Company,CRM Lead FID,CRM Contact FID,assigned_user_id,"
            "Opted Out,Industry,Job Title,Partner,Notes2",
            "1,dup@x.com,Ng,Acme,,,,false,Tech,,,",
            "2,new@x.com,,Acme,,,13,false,Tech,,,",
            f"3,c2@x.com,Po,Acme,,{C[2]},,true,Tech,Chief Everything Officer,,hello",
            f"4,gone@x.com,Go,Acme,{sid('00Q', 99)},,,false,Tech,,,",
            "5,solo@x.com,So,Acme,,,,false,Bogus,,,",
            "6,solo@x.com,So,Acme,,,11,false,Tech,,,",
        ]
    )
    mappings = "\n".join(
        [
            "pardot_field_id,pardot_field_name,pardot_type,is_custom,sf_field,sync_behavior",
            "industry,Industry,dropdown,false,Industry,Use Salesforce's value",
            "job_title,Job Title,text,false,Title,Use Salesforce's value",
            "Partner,Partner,text,true,Partner__c,Use Salesforce's value",
            "Budget,Budget,text,true,Budget__c,Use Salesforce's value",
            "Missing,Missing,text,true,Missing__c,Use Salesforce's value",
            "Geo,Geo,text,true,Geo__c,Use Salesforce's value",
            "Scoref,Scoref,number,true,Score_Formula__c,Use Account Engagement's value",
            "Notes2,Notes2,text,true,,",
        ]
    )
    return {
        "Lead.csv": leads,
        "Contact.csv": contacts,
        "sf_users.csv": users,
        "pardot_users.csv": pardot_users,
        "prospects.csv": prospects,
        "field_mappings.csv": mappings,
        "describe/Lead.json": json.dumps(describe("Lead")),
        "describe/Contact.json": json.dumps(describe("Contact")),
        "connector.yml": "connector_version: 2\n",
    }


def write_org(folder: Path, files: dict[str, str]) -> Path:
    """Write an export folder from {relative name: text}."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    return folder


def assess_org(folder: Path, files: dict[str, str]):
    """Load, simulate and check a tiny org; returns (snapshot, simulation, {code: result})."""
    from assessment.checks import run_checks
    from assessment.load import load_org
    from assessment.sync import simulate

    write_org(folder, files)
    snapshot = load_org(folder)
    simulation = simulate(snapshot)
    return snapshot, simulation, {r.code: r for r in run_checks(snapshot, simulation)}


# ---------------------------------------------------------------- tests

ALL_CODES = (
    [f"CON00{i}" for i in range(1, 9)]
    + [f"FLD00{i}" for i in range(1, 10)]
    + [f"DUP00{i}" for i in range(1, 7)]
    + [f"UNA00{i}" for i in range(1, 4)]
    + [f"USR00{i}" for i in range(1, 6)]
    + [f"SYN00{i}" for i in range(1, 6)]
    + [f"INP00{i}" for i in range(1, 5)]
)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return assess_org(tmp_path_factory.mktemp("base"), base_files())


def ids(result) -> list[str]:
    return sorted(set(result.findings["record_id"].dropna()))


# code, status, severity, flagged record ids, affected — on the base org (tests/checks_fixtures.py).
BASE_EXPECTED = [
    ("CON001", "pass", "warning", [], 0),
    ("CON002", "pass", "info", [], 0),
    ("CON003", "pass", "blocker", [], 0),
    ("CON004", "pass", "warning", [], 0),
    ("CON005", "not_run", "warning", [], 0),  # no accounts export
    ("CON006", "pass", "info", [], 0),
    ("CON007", "pass", "info", [], 0),
    ("CON008", "pass", "blocker", [], 0),
    # prospects 5 and 6 share solo@x.com
    ("DUP001", "fail", "warning", ["5", "6"], 2),
    # L1/L2 share dup@x.com; L4 (converted) is left out
    ("DUP002", "fail", "warning", sorted([L[1], L[2]]), 2),
    # C3 cc@x.com and C4 CC@x.com
    ("DUP003", "fail", "warning", sorted([C[3], C[4]]), 2),
    # L3 Shared@x.com and C1 shared@x.com
    ("DUP004", "fail", "warning", sorted([L[3], C[1]]), 2),
    ("DUP005", "fail", "info", sorted([L[3], C[1], C[3], C[4]]), 4),
    ("DUP006", "fail", "warning", [L[5]], 1),  # "not an email"
    ("FLD001", "fail", "blocker", ["Missing"], 1),  # Missing__c on neither describe
    # Budget text -> double; Geo__c location; Score_Formula__c formula with Pardot winning
    ("FLD002", "fail", "blocker", ["Budget", "Geo", "Scoref"], 3),
    # Industry "Bogus" on a restricted picklist, but prospect 5 is unassigned with no match:
    # the value is never written, so it cannot fail (§3.7, #11).
    ("FLD003", "pass", "warning", [], 0),
    ("FLD004", "fail", "warning", ["3"], 1),  # Job Title longer than Title(10)
    ("FLD005", "fail", "warning", ["Partner"], 1),  # Partner__c on Lead only
    ("FLD006", "fail", "warning", ["opted_out"], 1),  # prospect 3 true vs C2 false, SF wins
    ("FLD007", "fail", "blocker", ["2"], 1),  # blank Last Name on a lead to create
    ("FLD008", "fail", "info", ["Notes2"], 1),
    ("FLD009", "fail", "blocker", [C[2]], 1),  # Pardot opted out, SF false, SF wins
    ("INP001", "fail", "info", ["the sf_accounts export", "the sync_errors export"], 0),
    ("INP002", "pass", "warning", [], 0),
    ("INP003", "pass", "blocker", [], 0),
    ("INP004", "fail", "warning", ["sf_leads.converted_contact_id"], 0),
    ("SYN001", "fail", "warning", ["4"], 1),  # CRM lead id not in the export
    ("SYN002", "pass", "info", [], 0),
    ("SYN003", "pass", "info", [], 0),
    ("SYN004", "not_run", "warning", [], 0),
    # open leads/contacts with an email and no prospect (auto-create off)
    ("SYN005", "fail", "info", sorted([L[3], L[5], L[6], C[1], C[3], C[4]]), 6),
    ("UNA001", "fail", "warning", ["5"], 1),
    ("UNA002", "fail", "info", ["1"], 1),  # unassigned, links by email (info)
    ("UNA003", "fail", "info", ["2", "6"], 2),
    ("USR001", "fail", "warning", ["13", "14"], 2),  # 13 no match; 14 email shared by 2 users
    ("USR002", "fail", "blocker", ["2"], 1),
    ("USR003", "fail", "warning", ["12"], 1),
    ("USR004", "fail", "info", sorted([L[3], L[6], C[1]]), 3),  # queue; inactive owner U2
    ("USR005", "fail", "warning", sorted([U[3], U[4]]), 2),
]


def test_every_spec_check_is_registered():
    assert sorted(CHECKS) == sorted(ALL_CODES)
    assert [row[0] for row in BASE_EXPECTED] == sorted(ALL_CODES)


@pytest.mark.parametrize(("code", "status", "severity", "flagged", "affected"), BASE_EXPECTED)
def test_check_on_base_org(base, code, status, severity, flagged, affected):
    _, _, results = base
    r = results[code]
    assert (r.status, r.severity, ids(r), r.affected) == (status, severity, flagged, affected)
    assert list(r.findings.columns) == FINDING_COLUMNS
    assert set(r.findings["code"].dropna()) <= {code}


def test_registry_metadata_and_docstrings():
    for code, chk in CHECKS.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", chk.name), code
        assert chk.area == code[:3]
        sections = doc_sections(chk.doc)
        for heading in (
            "What it checks",
            "Why it matters",
            "How to fix it",
            "Known false positives",
        ):
            assert sections.get(heading), f"{code} lacks '{heading}'"
        assert chk.source, code


def test_names_match_the_spec():
    spec = {
        "CON001": "connector-version",
        "CON008": "marketing-data-sharing-rules",
        "FLD009": "opt-out-sync",
        "DUP005": "email-case-whitespace-variants",
        "UNA003": "assigned-will-create-leads",
        "USR002": "prospects-owned-by-unmapped",
        "SYN005": "existing-records-not-backfilled",
        "INP004": "export-completeness",
    }
    assert {c: get_check(c).name for c in spec} == spec


def test_get_check_unknown_code_is_a_clear_error():
    with pytest.raises(AssessmentError, match="unknown check code 'XYZ999'"):
        get_check("XYZ999")
    assert get_check("dup002").code == "DUP002"


def test_missing_inputs_give_not_run_never_pass(tmp_path):
    files = {"prospects.csv": "Prospect Id,Email\n1,a@x.com\n2,a@x.com"}
    snapshot, simulation, results = assess_org(tmp_path, files)
    for code in ("FLD001", "FLD002", "FLD005", "USR001", "USR003", "USR004", "USR005", "DUP002"):
        assert results[code].status == "not_run", code
        assert "missing" in results[code].summary
    inp = results["INP001"]
    assert inp.status == "fail"
    missing = inp.numbers["missing"]
    assert missing["the sf_leads export"] == ["DUP002", "DUP004", "USR004"]
    assert "USR001" in missing["the sf_users export"]
    # the simulation absent: every simulator check is not_run, named in the reason
    no_sim = {r.code: r for r in run_checks(snapshot, None)}
    assert no_sim["UNA001"].status == "not_run"
    assert "simulation" in no_sim["UNA001"].summary


@pytest.mark.parametrize(
    ("title", "flagged"),
    [
        ("Ééééééééé", []),  # 9 characters in 18 UTF-8 bytes: fits Title(10)
        ("Éééééééééé", []),  # 10 characters: exactly the length
        ("Ééééééééééé", ["3"]),  # 11 characters
        ("  padded  ", []),  # 10 characters with its spaces
        ("ChiefOfficer", ["3"]),  # 12 ASCII characters
    ],
)
def test_fld004_counts_characters_not_bytes(tmp_path, title, flagged):
    # The byte lengths only pick candidates (issue #19): the verdict counts characters (F-14).
    files = base_files()
    files["prospects.csv"] = files["prospects.csv"].replace("Chief Everything Officer", title)
    _, _, results = assess_org(tmp_path, files)
    assert ids(results["FLD004"]) == flagged


def _extras() -> dict[str, str]:
    files = base_files()
    files["Account.csv"] = "\n".join(
        [
            "Id,Name,IsPersonAccount,PersonEmail,PersonContactId",
            f"{sid('001', 1)},Pat Person,true,pat@x.com,{sid('003', 77)}",
            f"{sid('001', 2)},Acme,false,,",
        ]
    )
    files["sync_errors.csv"] = "\n".join(
        [
            "Prospect Id,Email,Error",
            "2,new@x.com,REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]",
            '5,solo@x.com,"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Industry: bad value"',
        ]
    )
    # report-style 15-character id (L7), a repeated id (L8 twice), a bad boolean
    files["Lead.csv"] += "\n" + "\n".join(
        [
            f"{L[7][:15]},seven@x.com,Se,Acme,{U[1]},false,false,Open,2024-01-01T00:00:00.000Z",
            f"{L[8]},eight@x.com,Ei,Acme,{U[1]},false,false,Open,2024-01-01T00:00:00.000Z",
            f"{L[8]},eight@x.com,Ei,Acme,{U[1]},maybe,false,Open,2024-01-01T00:00:00.000Z",
            f"{L[9]},,Ni,Acme,{U[1]},false,false,Open,2024-01-01T00:00:00.000Z",
        ]
    )
    return files


@pytest.fixture(scope="module")
def extras(tmp_path_factory):
    return assess_org(tmp_path_factory.mktemp("extras"), _extras())


def test_person_accounts_while_sync_off(extras):
    r = extras[2]["CON005"]
    assert (r.status, r.severity, ids(r), r.affected) == ("fail", "warning", [sid("001", 1)], 1)


def test_person_accounts_enabled_without_any(tmp_path):
    files = base_files()
    files["Account.csv"] = f"Id,Name,IsPersonAccount\n{sid('001', 2)},Acme,false"
    files["connector.yml"] = "connector_version: 2\nperson_accounts_enabled: true\n"
    r = assess_org(tmp_path, files)[2]["CON005"]
    assert (r.status, r.affected) == ("fail", 0)
    assert "no person account" in r.summary


def test_invalid_email_lists_blank_and_invalid_emails(extras):
    r = extras[2]["DUP006"]
    # L5 "not an email"; L9 blank. The person account (pat@x.com) is valid.
    assert (r.status, ids(r), r.affected) == ("fail", sorted([L[5], L[9]]), 2)
    assert r.numbers == {"blank": 1, "invalid": 1}


def test_sync_error_triage_links_errors_to_checks(extras):
    r = extras[2]["SYN004"]
    assert (r.status, ids(r), r.affected) == ("fail", ["2", "5"], 2)
    assert r.numbers["by_code"] == {
        "REQUIRED_FIELD_MISSING": 1,
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": 1,
    }
    messages = dict(zip(r.findings["record_id"], r.findings["message"], strict=True))
    assert messages["2"].endswith("(see FLD007)")
    assert messages["5"].endswith("(see FLD003)")


def test_input_problem_checks(extras):
    res = extras[2]
    assert res["SYN002"].status == "fail" and res["SYN002"].severity == "info"
    assert res["SYN002"].affected == 1
    assert res["INP003"].status == "fail" and res["INP003"].severity == "blocker"
    assert res["INP003"].affected >= 1
    assert set(res["INP003"].findings["object"]) == {"sf_leads"}
    assert res["INP002"].status == "fail"
    assert "maybe" in set(res["INP002"].findings["value"])


# ---------------------------------------------------------------- settings switches


def _with_settings(tmp_path, yml: str, files=None):
    files = dict(files or base_files())
    files["connector.yml"] = "connector_version: 2\n" + yml
    return assess_org(tmp_path, files)[2]


def test_same_email_mode_changes_dup001_severity_and_con007(tmp_path):
    off = _with_settings(tmp_path / "off", "")
    on = _with_settings(tmp_path / "on", "allow_multiple_prospects_same_email: true\n")
    assert (off["DUP001"].severity, on["DUP001"].severity) == ("warning", "info")
    assert ids(on["DUP001"]) == ["5", "6"]
    assert "matching is by email" in off["CON007"].summary
    assert "Same-email mode" in on["CON007"].summary and "CRM id" in on["CON007"].summary


def test_auto_create_switch_changes_con006_and_syn005(tmp_path):
    off = _with_settings(tmp_path / "off", "")
    on = _with_settings(
        tmp_path / "on",
        "auto_create_prospects_from_salesforce: true\nauto_create_enabled_since: '2020-01-01'\n",
    )
    assert off["CON006"].numbers["auto_create"] == "off"
    assert on["CON006"].numbers["auto_create"] == "on"
    assert (
        off["CON006"].numbers["creates_prospect"],
        on["CON006"].numbers["creates_prospect"],
    ) == (0, 6)
    assert (off["SYN005"].affected, on["SYN005"].affected) == (6, 0)
    assert on["SYN005"].status == "pass"


def test_connector_user_switch_flags_invisible_records(tmp_path):
    named = _with_settings(
        tmp_path,
        f"connector_user: svc@x.com\nconnector_user_visible_owner_ids: ['{U[1]}']\n",
    )
    r = named["CON004"]
    # L3 (queue), L6 and C1 (owner U2) are not owned by U1; the converted L4 is owned by U1.
    assert (r.status, r.severity, r.affected) == ("fail", "warning", 3)
    assert sorted(r.findings["sf_id"].dropna()) == sorted([L[3], L[6], C[1]])


def test_named_connector_user_without_visibility_list_says_unknown(tmp_path):
    r = _with_settings(tmp_path, "connector_user: svc@x.com\n")["CON004"]
    assert (r.status, r.affected) == ("fail", 0)
    assert "unknown" in r.summary and "connector_user_visible_owner_ids" in r.summary


def test_business_units_switch_con003(tmp_path):
    one = _with_settings(tmp_path / "one", "business_units: 1\n")
    two = _with_settings(tmp_path / "two", "business_units: 2\n")
    two_mds = _with_settings(
        tmp_path / "mds",
        "business_units: 2\nmarketing_data_sharing:\n"
        "  Lead: {field: Region__c, value: EU}\n  Contact: {field: Region__c, value: EU}\n",
    )
    assert one["CON003"].status == "pass"
    assert (two["CON003"].status, two["CON003"].severity) == ("fail", "blocker")
    assert two_mds["CON003"].status == "pass"


def test_mds_switch_con008(tmp_path):
    files = base_files()
    files["field_mappings.csv"] += "\nregion,Region,text,true,Region__c,Use Salesforce's value"
    lead_only = _with_settings(
        tmp_path / "lead", "marketing_data_sharing:\n  Lead: {field: Segment__c, value: EU}\n"
    )
    mapped = _with_settings(
        tmp_path / "mapped",
        "marketing_data_sharing:\n"
        "  Lead: {field: Region__c, value: EU}\n  Contact: {field: Region__c, value: EU}\n",
        files,
    )
    none = _with_settings(tmp_path / "none", "")
    assert none["CON008"].status == "pass"
    r = lead_only["CON008"]
    assert (r.status, r.severity) == ("fail", "blocker")
    assert "no Contact rule" in " ".join(r.findings["message"])
    assert r.affected == 4  # the four contacts: their scope is undefined
    m = mapped["CON008"]
    assert m.status == "fail"
    assert ids(m) == ["region"]
    assert m.affected == 10  # every lead and contact: the rule field is mapped on both


def test_connector_version_and_paused_settings(tmp_path):
    files = base_files()
    files["connector.yml"] = "paused: false\n"
    unstated = assess_org(tmp_path / "unstated", files)[2]
    v1 = assess_org(tmp_path / "v1", {**base_files(), "connector.yml": "connector_version: 1"})[2]
    assert (unstated["CON001"].status, v1["CON001"].status) == ("fail", "fail")
    assert "not stated" in unstated["CON001"].summary
    assert "version 1" in v1["CON001"].summary
    assert (unstated["CON002"].status, unstated["CON002"].severity) == ("fail", "info")


def test_usr002_threshold_switch(tmp_path):
    low = _with_settings(tmp_path / "low", "")
    high = _with_settings(tmp_path / "high", "usr002_blocker_threshold: 5\n")
    assert (low["USR002"].severity, high["USR002"].severity) == ("blocker", "warning")
    assert high["USR002"].status == "fail"


def test_una003_threshold_switch(tmp_path):
    r = _with_settings(tmp_path, "una003_create_threshold: 1\n")["UNA003"]
    assert (r.status, r.severity, r.affected) == ("fail", "warning", 2)


def test_opt_out_under_pardot_wins_is_not_lost(tmp_path):
    files = base_files()
    files["field_mappings.csv"] += (
        "\nopted_out,Opted Out,radio button,false,HasOptedOutOfEmail,Use Account Engagement's value"
    )
    r = assess_org(tmp_path, files)[2]["FLD009"]
    # Pardot true wins over Salesforce false: the opt-out spreads, nothing is lost.
    assert (r.status, r.numbers["lost"], r.numbers["differ"]) == ("pass", 0, 1)


def test_findings_index_is_the_spreadsheet_row(base):
    r = base[2]["DUP002"]
    assert list(r.findings.index) == [2, 3]  # header is row 1
    assert r.findings.index.name == "row"


def test_check_results_are_dicts_for_readiness(base):
    d = base[2]["DUP002"].to_dict()
    assert set(d) >= {
        "code", "name", "area", "severity", "status", "affected",
        "summary", "remediation", "source", "action_file",
    }  # fmt: skip
    assert d["remediation"].startswith("Merge the duplicate leads")
    assert isinstance(pd.Series(d).to_dict(), dict)


def test_a_duplicate_group_of_three_counts_three(tmp_path):
    files = {
        "prospects.csv": "Prospect Id,Email\n1,a@x.com\n2,A@x.com\n3, a@x.com\n4,b@x.com",
        "connector.yml": "connector_version: 2",
    }
    r = assess_org(tmp_path, files)[2]["DUP001"]
    assert (r.status, ids(r), r.affected) == ("fail", ["1", "2", "3"], 3)
    assert set(r.findings["message"]) == {"3 prospects share this email"}


def test_a_crashing_check_is_not_run_not_pass(base, monkeypatch):
    from assessment.checks import registry

    chk = CHECKS["DUP002"]

    def boom(ctx):
        raise KeyError("email_key")

    monkeypatch.setitem(registry.CHECKS, "DUP002", registry.Check(**{**chk.__dict__, "func": boom}))
    snapshot, simulation, _ = base
    r = registry.run_check(registry.CHECKS["DUP002"], snapshot, simulation)
    assert (r.status, r.affected) == ("not_run", 0)
    assert "internal error" in r.summary and "KeyError" in r.numbers["error"]


def test_findings_keep_literal_none_and_nan_text():
    from assessment.checks.registry import make_findings

    f = make_findings("X", "Lead", pd.Series(["a", "b"]), value=pd.Series(["None", ""]))
    assert f["value"].tolist()[0] == "None"
    assert pd.isna(f["value"].iloc[1]) and pd.isna(f["email"].iloc[0])


@pytest.mark.parametrize(
    ("row", "flagged"),
    [
        ("Active,Active,checkbox,true,Active__c,Use Salesforce's value", True),
        ("Active,Active,radio button,true,Active__c,Use Salesforce's value", False),
        ("Mobile,Mobile,number,true,Mobile__c,Use Salesforce's value", True),
        ("Mobile,Mobile,text,true,Mobile__c,Use Salesforce's value", False),
        ("Tier,Tier,multi-select,true,Tier__c,Use Salesforce's value", True),
        ("Tier,Tier,dropdown,true,Tier__c,Use Salesforce's value", False),
        ("Owner2,Owner2,text,true,Owner2__c,Use Salesforce's value", True),
        ("Scoref,Scoref,number,true,Score_Formula__c,Use Salesforce's value", False),
        ("Budget,Budget,number,true,Budget__c,Use Salesforce's value", False),
    ],
)
def test_type_mismatch_rules(tmp_path, row, flagged):
    files = base_files()
    files["field_mappings.csv"] = (
        "pardot_field_id,pardot_field_name,pardot_type,is_custom,sf_field,sync_behavior\n" + row
    )
    r = assess_org(tmp_path, files)[2]["FLD002"]
    assert (r.status, ids(r)) == (("fail", [row.split(",")[0]]) if flagged else ("pass", []))


def test_initial_sync_volume_warns_above_limits(tmp_path):
    slow = _with_settings(tmp_path / "slow", "throughput_low_per_hour: 1\nsyn003_max_hours: 2\n")[
        "SYN003"
    ]
    api = _with_settings(tmp_path / "api", "api_daily_limit: 1\n")["SYN003"]
    assert (slow.status, slow.severity, slow.affected) == ("fail", "warning", 3)
    assert (api.status, api.severity) == ("fail", "warning")
    assert "daily limit" in api.findings["message"].iloc[0]


def test_opt_out_unknown_when_salesforce_column_absent(tmp_path):
    files = base_files()
    files["Contact.csv"] = "\n".join(
        [
            "Id,Email,LastName,OwnerId,IsDeleted",
            f"{C[1]},shared@x.com,Ko,{U[2]},false",
            f"{C[2]},c2@x.com,Po,{U[1]},false",
        ]
    )
    r = assess_org(tmp_path, files)[2]["FLD009"]
    # No HasOptedOutOfEmail column on Contact (nor on Lead): both pairs (prospect 3 ↔ C2,
    # prospect 1 ↔ L1) are unknown, not "false", so nothing is lost.
    assert (r.status, r.numbers["lost"], r.numbers["unknown"]) == ("pass", 0, 2)


def test_user_checks_quote_the_users_export_rows(base):
    r = base[2]["USR001"]
    assert list(r.findings.index) == [4, 5]  # pardot_users.csv rows of users 13 and 14


def test_unmapped_custom_fields_on_a_wide_export(tmp_path, monkeypatch):
    """FLD008 on a 1,400-column prospect export: the header map is built once, not per field
    (it was rebuilt for every field: 39 s on such an export), and the right fields are listed."""
    import assessment.checks.common as common
    from assessment.checks.registry import run_check
    from assessment.load import load_org
    from assessment.sync import simulate

    files = base_files()
    lines = files["prospects.csv"].split("\n")
    wide = [f"Custom Field {i:04d}" for i in range(1400)]
    filled = {i for i in range(0, 1400, 97)}  # these hold a value on prospect 1
    lines[0] += "," + ",".join(wide)
    lines[1] += "," + ",".join("x" if i in filled else "" for i in range(1400))
    lines[2:] = [line + "," * 1400 for line in lines[2:]]
    files["prospects.csv"] = "\n".join(lines)
    snapshot = load_org(write_org(tmp_path, files))
    simulation = simulate(snapshot)
    calls = []
    real = common.header_key
    monkeypatch.setattr(common, "header_key", lambda h: calls.append(h) or real(h))
    common._HEADER_MAP[0] = None  # as on a fresh run
    result = run_check(get_check("FLD008"), snapshot, simulation)
    expected = sorted(["Notes2"] + [wide[i] for i in filled])
    assert sorted(result.findings["record_id"]) == expected
    assert result.affected == len(expected)
    assert len(calls) < 4 * len(snapshot.tables["pardot_prospects"].columns)
