"""Loader tests: every real header style in /work/shared/reference loads without edits; bad input
raises InputError naming file/row/column and leaves the input byte-identical."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from assessment import load
from assessment.errors import InputError, SettingsError
from assessment.load import classify_file, load_org, read_raw
from assessment.schema import schema

FIX = Path(__file__).parent / "fixtures" / "loader"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(FIX / name, dest)
    return dest


def _problems(snap, code=None, column=None):
    p = snap.load_report.problems
    if code:
        p = p[p["code"] == code]
    if column:
        p = p[p["column"] == column]
    return p


# --- file names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, table",
    [
        ("Lead.csv", "sf_leads"),
        ("leads.csv", "sf_leads"),
        ("sf_leads.csv", "sf_leads"),
        ("Leads.xlsx", "sf_leads"),
        ("lead_export.csv", "sf_leads"),
        ("LeadExport_2024-01-05.csv", "sf_leads"),
        ("sf_lead_data.csv", "sf_leads"),
        ("CONTACT.CSV", "sf_contacts"),
        ("accountData.csv", "sf_accounts"),
        ("User.csv", "sf_users"),
        ("users.csv", "sf_users"),
        ("sf_user_data.csv", "sf_users"),
        ("pardot_users.csv", "pardot_users"),
        ("pardot_user.xml", "pardot_users"),
        ("Account Engagement Users.csv", "pardot_users"),
        ("Group.csv", "sf_queues"),
        ("queues.csv", "sf_queues"),
        ("prospects.csv", "pardot_prospects"),
        ("pardot_prospects.json", "pardot_prospects"),
        ("pardot_prospect_data.csv", "pardot_prospects"),
        ("field_mappings.csv", "field_mappings"),
        ("field_mapping.xlsx", "field_mappings"),
        ("prospect_fields.csv", "field_mappings"),
        ("custom_fields.json", "field_mappings"),
        ("customFields.xml", "field_mappings"),
        ("sync_errors.csv", "sync_errors"),
        ("Lead.describe.json", "describe:Lead"),
        # not tables: must be skipped, never guessed
        ("pardot_list_membership_data.csv", None),
        ("error0413060133.csv", None),
        ("success0413060133.csv", None),
        ("csvtext.csv", None),
        ("lead_history.csv", None),
        ("pardot_accounts.csv", None),  # prospect accounts, not Salesforce accounts
        ("notes.docx", None),
        ("Lead.describe.csv", None),
    ],
)
def test_classify_file(name, table):
    assert classify_file(name) == table


# --- real header styles -------------------------------------------------------------------


def test_dataloader_uppercase_cp1252_account(tmp_path):
    org = _copy("dataloader_cp1252", tmp_path)
    before = _hashes(org)
    snap = load_org(org, progress=False)
    assert _hashes(org) == before
    acc = snap.tables["sf_accounts"]
    assert len(acc) == 423
    assert acc.index.name == "row" and acc.index[0] == 2
    assert acc.loc[2, "id"] == "001x0000002xLCVAA2"
    assert acc.loc[2, "name"] == "Gravity Investments"
    assert acc.loc[2, "owner_id"] == "005x0000000fNSiAAM"
    assert acc.loc[2, "created_date"] == pd.Timestamp("2006-04-15 03:23:15", tz="UTC")
    assert str(acc["created_date"].dtype) == "datetime64[us, UTC]"
    # the real 0xBA byte (º) decoded through the Windows-1252 fallback, with a warning
    assert acc["BILLINGSTREET"].str.contains("º", regex=False).any()
    enc = _problems(snap, "INP002")
    enc = enc[enc["message"].str.contains("not UTF-8")]
    assert enc[["severity", "file"]].values.tolist() == [["warning", "Account.csv"]]
    f = snap.load_report.files[0]
    assert (f.table, f.path, f.rows, f.encoding) == ("sf_accounts", "Account.csv", 423, "cp1252")
    assert f.sha256 == before["Account.csv"]
    assert f.columns["ID"] == "id" and f.columns["ORACLE_ID__C"] == "ORACLE_ID__C"
    assert "is_person_account" in f.absent and acc["is_person_account"].isna().all()
    assert snap.name == "dataloader_cp1252"


@pytest.mark.parametrize(
    "fname, encoding",
    [
        ("csvtext.csv", "utf-8"),
        ("csvtext_BOM_UTF8.csv", "utf-8-sig"),
        ("csvtext_BOM_UTF16LE.csv", "utf-16"),
    ],
)
def test_csvtext_encodings_read_as_table(fname, encoding):
    path = FIX / "csvtext" / fname
    raw = read_raw(path, path.read_bytes(), fname)
    assert raw.headers == ["column1", "column2", "column3"]
    assert raw.encoding == encoding
    assert [c.tolist() for c in raw.columns] == [
        ["row1-1", "row2-1"],
        ["row1-2", "row2-2"],
        ["row1-3", "row2-3"],
    ]
    assert list(raw.rows) == [2, 3]


def test_fivetran_seeds(tmp_path):
    org = _copy("fivetran", tmp_path)
    snap = load_org(org, progress=False)
    assert set(snap.tables) == {
        "sf_leads",
        "sf_contacts",
        "sf_accounts",
        "sf_users",
        "pardot_prospects",
    }
    lead = snap.tables["sf_leads"]
    assert lead.loc[2, "id"] == "00Q1G00000nDnM5UAK"
    assert lead.loc[2, "is_converted"] == True  # noqa: E712 ("TRUE")
    assert lead.loc[2, "email_key"] == "h@gmail.com"
    assert lead.loc[2, "annual_revenue"] == 280522000.0
    assert "pardot_score" in lead.columns  # pi_score_c
    users = snap.tables["sf_users"]
    assert users["is_active"].dtype == "boolean" and len(users) == 10
    pros = snap.tables["pardot_prospects"]
    assert len(pros) == 100
    assert pros.loc[2, "prospect_id"] == "403097399"
    assert pros.loc[2, "assigned_user_id"] == "15064353"  # Fivetran user_id
    assert pros.loc[2, "created_at"] == pd.Timestamp("2019-07-12 09:50:36", tz="UTC")
    # hashed CRM ids are not ids: NA, status invalid, one INP002 problem each
    assert pros["crm_contact_fid"].isna().all()
    assert (pros.loc[2, "crm_contact_status"]) == "invalid"
    assert len(_problems(snap, "INP002", "crm_contact_fid")) == 100
    # the real 17-character contact id in the seed is reported, not silently kept
    bad = _problems(snap, "INP002", "id")
    assert bad[bad["table"] == "sf_contacts"]["value"].tolist() == [
        "0033700000JmrFPAA",
        "0031G00000q9jPQAQ",
    ]


def test_api_v5_json(tmp_path):
    org = _copy("api_v5", tmp_path)
    snap = load_org(org, progress=False)
    pros = snap.tables["pardot_prospects"]
    assert pros.index.tolist() == [1, 2, 3]  # API pulls: record number
    assert pros["prospect_id"].tolist() == ["55389571", "55389574", "64629229"]
    assert pros["first_name"].tolist() == ["Athenasius", "Man", "Loretta"]
    assert pros.loc[3, "hobby__c"] == "swimming" and pd.isna(pros.loc[1, "hobby__c"])
    users = snap.tables["pardot_users"]
    assert users["user_id"].tolist() == ["1001", "1002"]
    assert users.loc[1, "salesforce_user_id"] == "0055e000001AbCdAAK"
    assert users.loc[1, "email_key"] == "sales.rep@example.com"
    assert users["is_deleted"].tolist() == [False, True]
    assert users.loc[1, "created_at"] == pd.Timestamp("2023-04-05 14:11:12", tz="UTC")
    fm = snap.tables["field_mappings"]
    assert fm["pardot_field_id"].tolist() == ["biography", "hobby", "language", "age"]
    assert fm["pardot_type"].tolist() == ["text", "radio button", "multi-select", "number"]
    assert fm["is_required"].tolist() == [False] * 4
    assert len(_problems(snap, "SYN002")) == 1  # the 15-char salesforceId


def test_api_v4_xml(tmp_path):
    org = _copy("api_v4_xml", tmp_path)
    snap = load_org(org, progress=False)
    pros = snap.tables["pardot_prospects"]
    assert pros["prospect_id"].tolist() == ["331", "332"]
    assert pros["zip"].tolist() == ["02190 ", "012345"]  # leading zeros, spaces kept
    assert pros["score"].tolist() == [0, 123]
    assert pros["campaign_name"].tolist() == ["Database Mining", "Website Tracking"]
    assert pros.loc[1, "created_at"] == pd.Timestamp("2016-01-17 04:49:51", tz="UTC")
    users = snap.tables["pardot_users"]
    assert users["user_id"].tolist() == ["1212", "1214"]
    assert users["role"].tolist() == ["Administrator", "Sales"]
    fm = snap.tables["field_mappings"]
    assert fm["pardot_field_id"].tolist() == ["my__date", "nothing_field", "Zip2"]
    assert fm["pardot_type"].tolist() == ["date", "text", "text"]
    assert fm["sf_field"].tolist()[:2] == [None, "my_crm_id__c"] or (
        pd.isna(fm["sf_field"].iloc[0]) and fm["sf_field"].iloc[1] == "my_crm_id__c"
    )
    assert fm["is_use_values"].tolist() == [False, False, True]


def test_api_v4_read_nested_assigned_user_and_multiselect(tmp_path):
    org = _copy("api_v4_read", tmp_path)
    snap = load_org(org, progress=False)
    p = snap.tables["pardot_prospects"]
    assert p.loc[1, "assigned_user_id"] == "2332"  # <assigned_to><user><id>
    assert p.loc[1, "CustomMultiSelectField"] == "value0;value1;value2"
    assert p.loc[1, "MyCustom_Field"] == "my custom field value"
    assert p.loc[1, "is_reviewed"] == True  # noqa: E712
    assert "visitor_activities.visitor_activity.id" not in p.columns
    assert snap.tables["pardot_users"]["user_id"].tolist() == ["1212"]


def test_report_export_15_char_ids_labels_and_footer(tmp_path):
    org = _copy("report_15", tmp_path)
    snap = load_org(org, progress=False)
    leads = snap.tables["sf_leads"]
    assert leads.index.tolist() == [2, 3, 4]  # footer rows dropped
    assert leads["id"].tolist() == [
        "00Q5e00000AbCdEEAV",
        "00Q5e00000abcdeEAA",
        "00Q5e00000AbCdEEAV",
    ]
    assert leads["owner_name"].tolist() == ["Jo Rep"] * 3
    assert leads["company"].tolist() == ["Acme", "Beta", "Gamma"]
    assert leads["status"].tolist() == ["Open", "Working", "Open"]
    assert leads["has_opted_out_of_email"].tolist() == [False, True, False]
    assert leads.loc[2, "email"] == "Ann.Lee@Example.com "  # kept as given
    assert leads.loc[2, "email_key"] == "ann.lee@example.com"
    assert pd.isna(leads.loc[4, "email_key"])
    syn = _problems(snap, "SYN002", "id")
    assert syn["row"].tolist() == [2, 3, 4] and set(syn["severity"]) == {"info"}
    dup = _problems(snap, "INP003")
    assert dup[["row", "column", "severity"]].values.tolist() == [
        [2, "id", "blocker"],
        [4, "id", "blocker"],
    ]
    assert any("footer" in n for n in snap.load_report.notes)


def test_describe_folder_and_cli_wrapper(tmp_path):
    org = _copy("describe_both", tmp_path)
    snap = load_org(org, progress=False)
    assert set(snap.describe) == {"Lead", "Contact", "Account"}
    lead = snap.describe["Lead"].set_index("name")
    assert len(lead) == 54
    assert lead.loc["LastName", "required_on_create"]
    assert lead.loc["Company", "required_on_create"]
    assert not lead.loc["Email", "required_on_create"]
    assert lead.loc["Email", "type"] == "email" and lead.loc["Email", "length"] == 80
    assert lead.loc["OwnerId", "reference_to"] == ("Group", "User")
    assert "Open - Not Contacted" in lead.loc["Status", "picklist_values"]
    assert not lead.loc["IsDeleted", "required_on_create"]  # boolean: never required
    assert lead.loc["LastName", "key"] == "lastname"
    contact = snap.describe["Contact"]
    assert len(contact) == 59
    acc = snap.describe["Account"].set_index("name")
    assert acc.loc["PersonEmail", "type"] == "email"
    assert snap.tables == {}


# --- folder rules -------------------------------------------------------------------------


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


LEADS = "Id,Email,LastName\n00Q000000000001EAA,a@x.com,A\n"


def test_ignores_truth_folder_manifest_and_unknown_files(tmp_path):
    _write(tmp_path, "Lead.csv", LEADS)
    _write(tmp_path, "_truth/prospects.csv", "garbage")
    _write(tmp_path, "manifest.json", "{}")
    _write(tmp_path, "other/Contact.csv", "garbage")
    _write(tmp_path, "lead_history.csv", "garbage")
    snap = load_org(tmp_path, progress=False)
    assert list(snap.tables) == ["sf_leads"]
    notes = snap.load_report.notes
    assert any("lead_history.csv" in n for n in notes)
    assert any("other/" in n for n in notes)
    assert not any("manifest" in n or "_truth" in n for n in notes)
    assert "sf_contacts" in snap.load_report.missing


def test_two_files_for_one_table(tmp_path):
    _write(tmp_path, "Lead.csv", LEADS)
    _write(tmp_path, "sf_leads.csv", LEADS)
    with pytest.raises(InputError) as exc:
        load_org(tmp_path, progress=False)
    assert "Lead.csv" in str(exc.value) and "sf_leads.csv" in str(exc.value)


def test_user_csv_is_salesforce_pardot_users_is_pardot(tmp_path):
    _write(tmp_path, "User.csv", "Id,Username,IsActive\n005000000000001AAA,u@x.com,true\n")
    _write(tmp_path, "pardot_users.csv", "id,email\n7,u@x.com\n")
    snap = load_org(tmp_path, progress=False)
    assert snap.tables["sf_users"]["is_active"].tolist() == [True]
    assert snap.tables["pardot_users"]["user_id"].tolist() == ["7"]


def test_header_resolution_duplicates_and_custom_columns(tmp_path):
    _write(
        tmp_path,
        "Lead.csv",
        "ID,Email,EMAIL,LastName,Favourite_Colour__c,\n00Q000000000001EAA,a@x.com,b@x.com,A,red,\n",
    )
    snap = load_org(tmp_path, progress=False)
    leads = snap.tables["sf_leads"]
    assert leads.loc[2, "email"] == "a@x.com"  # first wins
    assert leads.loc[2, "EMAIL"] == "b@x.com"  # second kept under its raw name
    assert leads.loc[2, "Favourite_Colour__c"] == "red"
    assert str(leads["Favourite_Colour__c"].dtype) == "str"
    assert set(schema("sf_leads").columns_of("sf_id")) <= set(leads.columns)
    for spec in schema("sf_leads").columns:
        assert spec.name in leads.columns
    f = snap.load_report.files[0]
    assert f.columns == {
        "ID": "id",
        "Email": "email",
        "EMAIL": "EMAIL",
        "LastName": "last_name",
        "Favourite_Colour__c": "Favourite_Colour__c",
    }  # the trailing comma's blank, empty column is dropped
    assert f.unmatched == ["EMAIL", "Favourite_Colour__c"]


def test_dtypes_and_bad_values_all_reported(tmp_path):
    _write(
        tmp_path,
        "prospects.csv",
        "id,email,score,opted_out,created_at,crm_lead_fid,crm_contact_fid,user_id\n"
        "1,A@X.com ,10,1,2024-01-02 03:04:05,[[crm_deleted]],,5.0\n"
        "2,b@x.com,ten,maybe,yesterday,00Q000000000001,[[crm_ignore_prospect]],x\n"
        "3.0,,,,,not-an-id,,\n",
    )
    _write(tmp_path, "connector.yml", "pardot_timezone: America/New_York\n")
    snap = load_org(tmp_path, progress=False)
    p = snap.tables["pardot_prospects"]
    assert p["prospect_id"].tolist() == ["1", "2", "3"]
    assert p["email"].tolist()[:2] == ["A@X.com ", "b@x.com"]
    assert p["email_key"].tolist()[:2] == ["a@x.com", "b@x.com"]
    assert p["score"].dtype == "Int64" and p.loc[2, "score"] == 10
    assert p["opted_out"].dtype == "boolean" and p.loc[2, "opted_out"] == True  # noqa: E712
    # naive Pardot time in the exporting user's zone (settings.pardot_timezone)
    assert p.loc[2, "created_at"] == pd.Timestamp("2024-01-02 08:04:05", tz="UTC")
    assert p["crm_lead_status"].tolist()[0] == "deleted"
    assert p.loc[3, "crm_lead_fid"] == "00Q000000000001EAA"
    assert p.loc[4, "crm_lead_status"] == "invalid"
    assert p.loc[3, "crm_contact_status"] == "ignored"
    assert p["assigned_user_id"].tolist()[0] == "5"
    bad = _problems(snap, "INP002")
    got = sorted(zip(bad["row"], bad["column"], bad["value"], strict=True))
    assert got == [
        (3, "assigned_user_id", "x"),
        (3, "created_at", "yesterday"),
        (3, "opted_out", "maybe"),
        (3, "score", "ten"),
        (4, "crm_lead_fid", "not-an-id"),
    ]
    assert set(bad["file"]) == {"prospects.csv"} and set(bad["table"]) == {"pardot_prospects"}
    assert all(m.startswith("expected ") for m in bad["message"])
    assert snap.load_report.settings_given == ["pardot_timezone"]
    assert snap.load_report.settings_file.endswith("connector.yml")


def test_field_mappings_labels_and_type_ids(tmp_path):
    _write(
        tmp_path,
        "field_mappings.csv",
        "Field Name,API Field Name,Type,Salesforce Field,Sync Behavior\n"
        "Job Title,job_title,Text,Title,Use Salesforce's value\n"
        "Opted Out,opted_out,3,HasOptedOutOfEmail,Use the most recently updated field\n"
        "Partner,Partner_Level,DROPDOWN,Partner_Level__c,Use Account Engagement's value\n"
        "Old,old_f,12.0,Old__c,Use Pardot's value\n"
        "X,x_f,Weird,X__c,sometimes\n",
    )
    snap = load_org(tmp_path, progress=False)
    fm = snap.tables["field_mappings"]
    assert fm["sync_behavior"].tolist()[:4] == [
        "use_salesforce",
        "most_recent",
        "use_pardot",
        "use_pardot",
    ]
    assert pd.isna(fm.loc[6, "sync_behavior"])
    assert fm["pardot_type"].tolist() == ["text", "checkbox", "dropdown", "date", "weird"]
    bad = _problems(snap, "INP002")
    assert sorted(zip(bad["row"], bad["column"], strict=True)) == [
        (6, "pardot_type"),
        (6, "sync_behavior"),
    ]


def test_xlsx(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Contact ID", "Email", "Last Name", "Mailing Zip/Postal Code", "Created Date"])
    ws.append(["0035e00000AbCdE", "c@x.com", "C", "02134", "2024-01-02T03:04:05Z"])
    ws.append(["0035e00000AbCdF", "d@x.com", "D", 2134, None])
    ws.append([None, None, None, None, None])
    ws.append(["Grand Totals (2 records)", None, None, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    _write(tmp_path, "Contacts.xlsx", buf.getvalue())
    snap = load_org(tmp_path, progress=False)
    c = snap.tables["sf_contacts"]
    assert c.index.tolist() == [2, 3]
    assert c["mailing_postal_code"].tolist() == ["02134", "2134"]
    assert c.loc[2, "id"] == "0035e00000AbCdEAAV"
    assert c.loc[2, "created_date"] == pd.Timestamp("2024-01-02 03:04:05", tz="UTC")
    assert snap.load_report.files[0].encoding == "xlsx"


# --- unusable input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, needle, row, column",
    [
        ("Lead.csv", "Id,Email,LastName\n00Q000000000001EAA,a@x.com\n", "line 2", 2, None),
        ("Lead.csv", "Email,LastName\na@x.com,A\n", "required column", 1, "id"),
        ("Lead.csv", "", "empty", None, None),
        ("Lead.csv", "<html><body><table></table></body></html>", "HTML", None, None),
        ("Lead.csv", b"\x00\x01\x02binary\x00\x00", "binary", None, None),
        ("Lead.xlsx", "not a zip", "XLSX", None, None),
        ("Lead.csv", b"%PDF-1.4 binary", "PDF", None, None),
        ("Lead.csv", b"\xd0\xcf\x11\xe0\xa1\xb1", ".xls", None, None),
        ("Lead.xls", "whatever", ".xls", None, None),
        (
            "field_mappings.csv",
            "Type,Sync Behavior\nText,Use Salesforce's value\n",
            "pardot_field_id",
            1,
            None,
        ),
        ("prospects.json", '{"values": [1, 2]}', "not a table", None, None),
        ("prospects.json", '{"values": [', "not valid JSON", 1, None),
        ("prospects.xml", "<rsp><result><prospect><id>1", "not valid XML", 1, None),
    ],
)
def test_unusable_file_raises_input_error(tmp_path, name, content, needle, row, column):
    path = _write(tmp_path, name, content)
    before = path.read_bytes()
    with pytest.raises(InputError) as exc:
        load_org(tmp_path, progress=False)
    err = exc.value
    assert err.exit_code == 2
    assert needle in str(err)
    assert err.file == name
    if row is not None:
        assert err.row == row
    if column is not None:
        assert err.column == column
    assert path.read_bytes() == before


def test_ragged_rows_name_every_line_and_all_file_errors_at_once(tmp_path):
    _write(
        tmp_path, "Lead.csv", 'Id,Email,LastName\n00Q000000000001EAA,a@x.com,A\n"x",y\n1,2,3,4\n'
    )
    _write(tmp_path, "Contact.csv", "Email\na@x.com\n")
    before = _hashes(tmp_path)
    with pytest.raises(InputError) as exc:
        load_org(tmp_path, progress=False)
    text = str(exc.value)
    assert "2 input file(s) cannot be used" in text
    assert "Lead.csv line 3: 2 fields" in text and "Lead.csv line 4: 4 fields" in text
    assert "Contact.csv" in text and "id" in text
    assert len(exc.value.problems) == 2
    assert _hashes(tmp_path) == before


def test_settings_file_and_org_name(tmp_path):
    _write(tmp_path, "Lead.csv", LEADS)
    _write(tmp_path, "Connector.YML", "org_name: Acme EU\nAMPSEA: yes\n")
    snap = load_org(tmp_path, progress=False)
    assert snap.name == "Acme EU"
    assert snap.settings.allow_multiple_prospects_same_email is True
    assert snap.load_report.settings_given == ["allow_multiple_prospects_same_email", "org_name"]
    other = _write(tmp_path / "elsewhere", "s.yml", "paused: false\n")
    snap2 = load_org(tmp_path, settings_file=other, progress=False)
    assert snap2.settings.paused is False and snap2.name == tmp_path.name
    assert snap2.load_report.settings_given == ["paused"]
    with pytest.raises(SettingsError):
        load_org(tmp_path, settings_file=tmp_path / "missing.yml", progress=False)
    _write(tmp_path, "Connector.YML", "pardot_timezone: Mars/Olympus\n")
    with pytest.raises(SettingsError, match="pardot_timezone"):
        load_org(tmp_path, progress=False)


def test_missing_folder():
    with pytest.raises(InputError, match="not found"):
        load_org("/nonexistent/org", progress=False)


def test_windows_1252_fallback_decoding():
    text, enc, warn = load._decode("Name\nCafé\n".encode("cp1252"), "x.csv")
    assert (text, enc) == ("Name\nCafé\n", "cp1252")
    assert warn[0]["row"] == 2 and warn[0]["code"] == "INP002"


def test_progress_calls(tmp_path):
    _write(tmp_path, "Lead.csv", LEADS)
    _write(tmp_path, "Contact.csv", "Id,Email\n003000000000001AAA,a@x.com\n")

    class Rec:
        def __init__(self):
            self.calls = []

        def start(self, total, label=""):
            self.calls.append(("start", total))

        def step(self, label=""):
            self.calls.append(("step", label))

        def done(self):
            self.calls.append(("done",))

    rec = Rec()
    load_org(tmp_path, progress=rec)
    assert rec.calls == [("start", 2), ("step", "Lead.csv"), ("step", "Contact.csv"), ("done",)]


def test_blank_and_wrong_object_ids_reported(tmp_path):
    # ID-3 key prefixes: a contact id in the Lead export, a contact id as lead owner,
    # a queue owner is fine; a blank id is reported once, an invalid id once (not twice).
    _write(
        tmp_path,
        "Lead.csv",
        "Id,Email,OwnerId\n"
        "00Q000000000001EAA,a@x.com,005000000000001AAA\n"
        "003000000000001AAA,b@x.com,00G000000000001EAA\n"
        ",c@x.com,003000000000001AAA\n"
        "junk,d@x.com,\n",
    )
    snap = load_org(tmp_path, progress=False)
    p = _problems(snap)
    got = sorted(zip(p["code"], p["row"], p["column"], p["message"], strict=True))
    assert got == [
        ("INP002", 3, "id", "expected a Lead id (00Q…) (ID-3)"),
        ("INP002", 4, "id", "blank record id: row not usable"),
        ("INP002", 4, "owner_id", "expected a User id (005…) or Group/Queue id (00G…) (ID-3)"),
        ("INP002", 5, "id", "expected a 15- or 18-character Salesforce id"),
    ]
    # values are kept: the simulator decides what a wrong-object id means
    assert snap.tables["sf_leads"].loc[3, "id"] == "003000000000001AAA"


def test_duplicate_prospect_ids_pandera_lazy(tmp_path):
    _write(tmp_path, "prospects.csv", "id,email\n1,a@x.com\n2,b@x.com\n1,c@x.com\n1.0,d@x.com\n")
    snap = load_org(tmp_path, progress=False)
    dup = _problems(snap, "INP003")
    assert dup["row"].tolist() == [2, 4, 5]
    assert set(dup["column"]) == {"prospect_id"} and set(dup["value"]) == {"1"}


def test_blank_header_with_values_kept(tmp_path):
    _write(tmp_path, "Lead.csv", "Id,Email,\n00Q000000000001EAA,a@x.com,note\n")
    snap = load_org(tmp_path, progress=False)
    assert snap.tables["sf_leads"].loc[2, "unnamed_3"] == "note"


@pytest.mark.parametrize("sep", ["\t", ";"])
def test_tab_and_semicolon_delimited(tmp_path, sep):
    _write(
        tmp_path,
        "Lead.csv",
        sep.join(["Id", "Email"]) + "\n" + sep.join(["00Q000000000001EAA", "a@x.com"]) + "\n",
    )
    snap = load_org(tmp_path, progress=False)
    assert snap.tables["sf_leads"]["email"].tolist() == ["a@x.com"]


def test_header_only_file_loads_empty(tmp_path):
    _write(tmp_path, "Lead.csv", "Id,Email")
    snap = load_org(tmp_path, progress=False)
    leads = snap.tables["sf_leads"]
    assert len(leads) == 0 and "email_key" in leads.columns
    assert snap.load_report.files[0].rows == 0


def test_quoted_newlines_keep_spreadsheet_rows(tmp_path):
    _write(
        tmp_path,
        "Lead.csv",
        'Id,Email,Street\n00Q000000000001EAA,a@x.com,"1 Main St\nUnit 2"\n,b@x.com,x\n',
    )
    snap = load_org(tmp_path, progress=False)
    leads = snap.tables["sf_leads"]
    assert leads.index.tolist() == [2, 3]
    assert leads.loc[2, "street"] == "1 Main St\nUnit 2"
    assert _problems(snap, "INP002", "id")["row"].tolist() == [3]


def test_ragged_line_number_not_fooled_by_substring(tmp_path):
    _write(tmp_path, "Lead.csv", "Id,Email,LastName\n11,2,3\n1,2\n")
    with pytest.raises(InputError) as exc:
        load_org(tmp_path, progress=False)
    assert exc.value.row == 3


def test_sync_errors_code_parsed_from_message(tmp_path):
    _write(
        tmp_path,
        "sync_errors.csv",
        "Prospect Id,Error Message,Error Code\n"
        "1,REQUIRED_FIELD_MISSING: Required fields are missing: [Company],\n"
        "2,制限付き選択リスト項目の値が不適切: XXX,\n"
        "3,whatever,DUPLICATES_DETECTED\n",
    )
    snap = load_org(tmp_path, progress=False)
    codes = snap.tables["sync_errors"]["error_code"]
    assert codes.iloc[0] == "REQUIRED_FIELD_MISSING" and pd.isna(codes.iloc[1])
    assert codes.iloc[2] == "DUPLICATES_DETECTED"


def test_describe_file_for_the_wrong_object(tmp_path):
    src = FIX / "describe_both" / "describe" / "Lead.json"
    _write(tmp_path, "describe/Contact.json", src.read_bytes())
    with pytest.raises(InputError, match="describes Lead"):
        load_org(tmp_path, progress=False)


@pytest.mark.parametrize(
    "folder", ["dataloader_cp1252", "fivetran", "api_v5", "api_v4_xml", "api_v4_read", "report_15"]
)
def test_fixture_folders_are_never_written(folder):
    before = _hashes(FIX / folder)
    snap = load_org(FIX / folder, progress=False)
    assert _hashes(FIX / folder) == before
    for f in snap.load_report.files:
        assert f.sha256 == before[f.path]
        assert f.rows == len(snap.tables[f.table])


def test_describe_cli_error_status(tmp_path):
    _write(tmp_path, "describe/Lead.json", '{"status": 1, "result": {}, "message": "no org"}')
    with pytest.raises(InputError, match="status 1"):
        load_org(tmp_path, progress=False)


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_auto_choice():
    from assessment import progress

    # Not watched (a pipe, a test, CI): silent. On a terminal: a tqdm bar on that stream.
    assert isinstance(progress.auto(io.StringIO()), progress.Silent)
    assert isinstance(progress.resolve(None), progress.Silent)  # pytest's stderr is no tty
    assert isinstance(progress.resolve(False), progress.Silent)
    assert isinstance(progress.resolve(True), progress.TqdmBar)
    mine = object()
    assert progress.resolve(mine) is mine
    assert not progress.in_jupyter_kernel()
    tty = _Tty()
    bar = progress.auto(tty)
    assert isinstance(bar, progress.TqdmBar)
    bar.start(2, "reading exports")
    bar.step("Lead.csv")
    bar.step("Contact.csv")
    bar.done()
    text = tty.getvalue()
    assert "reading exports" in text and "2/2" in text and "100%" in text
    assert "Contact.csv" in text and text.endswith("\n")  # the finished bar stays


def test_load_org_draws_one_tqdm_bar_on_a_terminal(tmp_path, monkeypatch):
    _write(tmp_path, "Lead.csv", LEADS)
    _write(tmp_path, "Contact.csv", "Id,Email\n003000000000001AAA,a@x.com\n")
    tty = _Tty()
    monkeypatch.setattr("sys.stderr", tty)
    load_org(tmp_path)  # progress=None: the terminal gets a bar
    assert tty.getvalue().count("0/2") == 1 and "2/2" in tty.getvalue()
    quiet = _Tty()
    monkeypatch.setattr("sys.stderr", quiet)
    load_org(tmp_path, progress=False)
    assert quiet.getvalue() == ""


def test_the_core_imports_no_ui_and_no_tqdm():
    # tqdm (and, in a kernel, ipywidgets) is imported when a bar opens, never by importing the core.
    code = (
        "import sys, assessment.load, assessment.pipeline, assessment.batch, assessment.progress;"
        "print(sorted(m for m in ('tqdm', 'ipywidgets', 'IPython') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sf_cli_query_json_and_single_record(tmp_path):
    _write(
        tmp_path,
        "Lead.json",
        '{"status": 0, "result": {"totalSize": 1, "done": true, "records": [{"attributes": '
        '{"type": "Lead", "url": "/x"}, "Id": "00Q000000000001EAA", "Email": "a@x.com", '
        '"Owner": {"attributes": {"type": "User"}, "Username": "rep@x.com"}}]}}',
    )
    _write(tmp_path, "pardot_user.json", '{"id": 5, "email": "u@x.com", "salesforceId": null}')
    snap = load_org(tmp_path, progress=False)
    leads = snap.tables["sf_leads"]
    assert leads.loc[1, "owner_username"] == "rep@x.com"
    assert not any("attributes" in c for c in leads.columns)
    assert snap.tables["pardot_users"]["user_id"].tolist() == ["5"]


def test_describe_body_at_top_level_named_like_a_table(tmp_path):
    _write(tmp_path, "Lead.json", (FIX / "describe_both" / "describe" / "Lead.json").read_bytes())
    with pytest.raises(InputError, match="describe"):
        load_org(tmp_path, progress=False)


def test_text_kept_untrimmed_whitespace_policy_left_to_the_simulator(tmp_path):
    # F-3 (whitespace_is_blank) is a policy: the loader keeps "  " and " x " as given.
    _write(
        tmp_path, "Lead.csv", 'Id,Email,Title,Custom__c\n00Q000000000001EAA,a@x.com,"  "," x "\n'
    )
    leads = load_org(tmp_path, progress=False).tables["sf_leads"]
    assert leads.loc[2, "title"] == "  " and leads.loc[2, "Custom__c"] == " x "


def test_json_not_utf8_warns(tmp_path):
    _write(tmp_path, "pardot_users.json", '[{"id": 1, "email": "café@x.com"}]'.encode("cp1252"))
    snap = load_org(tmp_path, progress=False)
    assert snap.tables["pardot_users"].loc[1, "email"] == "café@x.com"
    p = _problems(snap, "INP002")
    assert p["file"].tolist() == ["pardot_users.json"] and "not UTF-8" in p["message"].iloc[0]


# Files larger than two decode edges: only the ends are decoded in Python, pyarrow checks the rest.
_BIG_ROWS = 12_000  # about 200 kB, well past load._EDGE at each end


def _big_csv(middle: str, tail: str = "") -> str:
    filler = "".join(f"Lee{i},ann{i}@x.com\n" for i in range(_BIG_ROWS))
    return "LastName,Email\n" + filler + middle + filler + tail


def test_big_file_with_a_windows_1252_byte_in_the_middle():
    data = _big_csv("Café,cafe@x.com\n").encode("cp1252")
    raw = load.read_text_table(data, "Lead.csv")
    assert raw.encoding == "cp1252" and raw.warnings[0]["row"] == _BIG_ROWS + 2
    assert raw.columns[0][_BIG_ROWS] == "Café"


def test_big_file_report_footer_is_dropped():
    footer = '\n"Grand Totals (24001 records)"\n"Copyright (c) 2000-2024 salesforce.com, inc."\n'
    raw = load.read_text_table(_big_csv("Mid,mid@x.com\n", footer).encode("utf-8"), "Lead.csv")
    assert len(raw.rows) == 2 * _BIG_ROWS + 1 and raw.columns[0].iloc[-1] == f"Lee{_BIG_ROWS - 1}"
    assert any("footer" in n for n in raw.notes) and raw.encoding == "utf-8"


@pytest.mark.parametrize("size", ["small", "big"])
def test_bom_file_read_in_place_with_footer(size):
    # The UTF-8 BOM stays in the bytes handed to pyarrow (no copy of the file): same headers,
    # rows, footer cut and encoding as for the file without it.
    footer = '\n"Grand Totals (3 records)"\n"Copyright (c) 2000-2024 salesforce.com, inc."\n'
    text = (
        _big_csv("Mid,mid@x.com\n", footer) if size == "big" else "LastName,Email\nA,a@x\n" + footer
    )
    plain = load.read_text_table(text.encode("utf-8"), "Lead.csv")
    raw = load.read_text_table(("\ufeff" + text).encode("utf-8"), "Lead.csv")
    assert raw.encoding == "utf-8-sig" and raw.headers == plain.headers == ["LastName", "Email"]
    assert raw.notes == plain.notes and any("footer" in n for n in raw.notes)
    for got, want in zip(raw.columns, plain.columns, strict=True):
        pd.testing.assert_series_equal(got, want)


def test_big_file_ragged_row_names_its_line():
    data = ("\ufeff" + _big_csv("Bad,row,extra\n")).encode("utf-8")
    with pytest.raises(InputError) as err:
        load.read_text_table(data, "Lead.csv")
    assert err.value.row == _BIG_ROWS + 2 and "wrong number of fields" in str(err.value)


def _ids(values):
    return pd.Series(values, dtype="str")


def test_quick_validity_pass_only_vouches_for_clean_tables():
    # A clean table skips pandera; any doubt (dup, blank, wrong prefix, odd shape) hands it over.
    lead = ["00Q000000000001EAA", "00Q000000000002EAA"]
    owner = ["005000000000001AAA", None]
    sch = load.pandera_schema("sf_leads")

    clean = pd.DataFrame({c: _ids([None, None]) for c in sch.columns})
    clean["id"], clean["owner_id"] = _ids(lead), _ids(owner)
    assert load._surely_valid(clean, "sf_leads", sch)
    for ids in ([lead[0], lead[0]], [lead[0], None], ["003000000000001AAA", lead[1]]):
        bad = clean.copy()
        bad["id"] = _ids(ids)
        assert not load._surely_valid(bad, "sf_leads", sch), ids
    wrong_owner = clean.copy()
    wrong_owner["owner_id"] = _ids([None, "00Q000000000001EAA"])
    assert not load._surely_valid(wrong_owner, "sf_leads", sch)
    queue_owner = clean.copy()
    queue_owner["owner_id"] = _ids(["00G000000000001AAA", None])
    assert load._surely_valid(queue_owner, "sf_leads", sch)
    short = clean.copy()
    short["owner_id"] = _ids(["005", None])  # not an 18-byte id: pandera decides
    assert not load._surely_valid(short, "sf_leads", sch)


def test_quick_key_check_digit_keys_and_collisions():
    assert load._keys_unique(_ids(["1", "2", "30"]))
    assert not load._keys_unique(_ids(["1", "2", "1"]))
    assert not load._keys_unique(_ids(["12", "012"]))  # same number, different keys: pandera
    assert not load._keys_unique(_ids(["a1", "b2"]))  # not numbers: pandera
    assert not load._keys_unique(_ids([]))


def test_digit_keys_equal_as_numbers_are_not_duplicates(tmp_path):
    # The quick pass doubts "7" vs "07"; pandera (the schema) decides: distinct keys, no INP003.
    _write(tmp_path, "prospects.csv", "id,email\n7,a@x.com\n07,b@x.com\n8,c@x.com\n")
    snap = load_org(tmp_path, progress=False)
    assert _problems(snap, "INP003").empty
    assert snap.tables["pardot_prospects"]["prospect_id"].tolist() == ["7", "07", "8"]


@pytest.mark.parametrize(
    "raw",
    [
        ["1", " 22 ", "", None, "0003"],  # ASCII digits only: the quick path
        ["1", "2.0", "x", "\u0663", "1e3", "-1", None],  # anything else: the regex path
    ],
)
def test_parse_pardot_id_quick_and_regex_paths_agree(raw):
    values = pd.Series(raw, dtype="str", index=range(2, 2 + len(raw)), name="prospect_id")
    text = load.nz.as_text(values).str.replace(r"\.0+$", "", regex=True)
    ok = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    ids, bad = load.parse_pardot_id(values)
    pd.testing.assert_series_equal(ids, text.where(ok))
    pd.testing.assert_series_equal(bad, (text.notna() & ~ok).astype(bool))


def test_utf8_bom_file_with_a_windows_1252_byte_falls_back_with_a_warning():
    data = b"\xef\xbb\xbf" + _big_csv("Café,cafe@x.com\n").encode("cp1252")
    raw = load.read_text_table(data, "Lead.csv")
    assert raw.encoding == "cp1252" and raw.warnings[0]["row"] == _BIG_ROWS + 2
    assert raw.headers == ["LastName", "Email"] and raw.columns[0][_BIG_ROWS] == "Café"
