"""Issue #15: forgiving of real files, firm with hostile ones (unit level; the CLI corpus is
tests/test_hostile_inputs.py). Each test fails on the loader before #15."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from assessment.errors import InputError, SettingsError
from assessment.load import load_org
from assessment.settings import load_settings, read_settings

FIX = Path(__file__).parent / "fixtures" / "loader"
LEADS = "Id,Email,LastName\n00Q000000000001EAA,a@x.com,A\n"


def _write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- connector.yml: bounded YAML, decoded like the CSVs -----------------------------------------

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    + ["org_name: *i", ""]
)


@pytest.mark.parametrize(
    "text, needle",
    [
        (BILLION_LAUGHS, "aliases are expanded"),
        ("a: &a [1]\n" + "b: [" + ",".join(["*a"] * 200) + "]\n", "aliases"),
        ("org_name: " + "[" * 5000 + "]" * 5000 + "\n", "nested"),
        ("x: [" + ",".join(["1"] * 20_000) + "]\n", "values"),
        ("org_name: x\n" + "# padding\n" * 120_000, "larger than"),
    ],
    ids=["billion-laughs", "many-aliases", "deep", "many-nodes", "huge"],
)
def test_hostile_yaml_refused_naming_the_file(tmp_path, text, needle):
    path = _write(tmp_path, "connector.yml", text)
    with pytest.raises(InputError) as exc:
        load_settings(path)
    assert exc.value.exit_code == 2 and exc.value.file == str(path)
    assert needle in str(exc.value)


@pytest.mark.parametrize(
    "encoding, bom",
    [("utf-16", b""), ("utf-16-le", b""), ("utf-16-be", b""), ("utf-8", b"\xef\xbb\xbf")],
)
def test_connector_yml_in_utf16_and_bom(tmp_path, encoding, bom):
    # PowerShell's Out-File writes UTF-16 (with a BOM); some editors drop the BOM.
    text = "org_name: Zürich AG\npaused: false\n"
    path = _write(tmp_path, "connector.yml", bom + text.encode(encoding))
    settings, given, warnings = read_settings(path)
    assert settings.org_name == "Zürich AG" and settings.paused is False
    assert given == {"org_name", "paused"} and warnings == []


def test_connector_yml_in_windows_1252_warns(tmp_path):
    _write(tmp_path, "Lead.csv", LEADS)
    _write(tmp_path, "connector.yml", "org_name: Café Müller\n".encode("cp1252"))
    snap = load_org(tmp_path, progress=False)
    assert snap.settings.org_name == "Café Müller"
    p = snap.load_report.problems
    warn = p[p["message"].str.contains("not UTF-8")]
    assert warn["file"].tolist() == ["connector.yml"] and warn["severity"].tolist() == ["warning"]


def test_bad_yaml_message_has_no_traceback_type(tmp_path):
    path = _write(tmp_path, "connector.yml", "org_name: [unclosed\n")
    with pytest.raises(SettingsError) as exc:
        load_settings(path)
    assert "not valid YAML" in str(exc.value) and exc.value.row is not None


# --- JSON: depth and size ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["describe/Lead.json", "prospects.json"])
@pytest.mark.parametrize("depth", [100, 100_000])
def test_deep_json_is_an_input_error(tmp_path, name, depth):
    path = _write(tmp_path, name, '{"fields": ' + "[" * depth + "]" * depth + "}")
    before = _digest(path)
    with pytest.raises(InputError) as exc:
        load_org(tmp_path, progress=False)
    assert "nested more than" in str(exc.value) and exc.value.file == name
    assert _digest(path) == before


def test_describe_files_listed_in_inputs_with_checksum(tmp_path):
    src = FIX / "describe_both" / "describe" / "Lead.json"
    path = _write(tmp_path, "describe/Lead.json", src.read_bytes())
    _write(tmp_path, "Lead.csv", LEADS)
    snap = load_org(tmp_path, progress=False)
    entry = snap.load_report.inputs()["describe/Lead.json"]
    assert entry["sha256"] == _digest(path)
    assert entry["table"] == "describe:Lead" and entry["rows"] == len(snap.describe["Lead"])
    assert "Lead.csv" in snap.load_report.inputs()


# --- ignored entries and links -------------------------------------------------------------------


def test_every_ignored_entry_is_listed(tmp_path):
    _write(tmp_path, "Lead.csv", LEADS)
    _write(tmp_path, "Contacts.zip", b"PK\x03\x04rest")
    _write(tmp_path, "old/Contact.csv", "x")
    _write(tmp_path, "notes.docx", b"x")
    _write(tmp_path, "~$Lead.xlsx", b"x")
    _write(tmp_path, "describe/Opportunity.json", "{}")
    snap = load_org(tmp_path, progress=False)
    ignored = {e["path"]: e for e in snap.load_report.ignored_inputs()}
    assert set(ignored) == {"Contacts.zip", "old/", "notes.docx", "~$Lead.xlsx",
                            "describe/Opportunity.json"}  # fmt: skip
    assert ignored["Contacts.zip"]["kind"] == "archive"
    assert "unpack" in ignored["Contacts.zip"]["reason"]
    assert ignored["old/"]["kind"] == "folder"
    assert any("Contacts.zip" in n for n in snap.load_report.notes)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_link_to_a_file_outside_the_folder_is_refused_unquoted(tmp_path):
    secret = _write(tmp_path / "system", "passwd", "root:x:0:0:SECRET-LINE:/root:/bin/sh\n")
    org = tmp_path / "org"
    org.mkdir()
    (org / "Lead.csv").symlink_to(secret)
    with pytest.raises(InputError) as exc:
        load_org(org, progress=False)
    assert exc.value.file == "Lead.csv" and "outside the export folder" in str(exc.value)
    assert "SECRET" not in str(exc.value) and "root" not in str(exc.value)
    (org / "Lead.csv").unlink()
    (org / "connector.yml").symlink_to(secret)
    with pytest.raises(SettingsError) as exc:
        load_org(org, progress=False)
    assert "SECRET" not in str(exc.value) and "outside the export folder" in str(exc.value)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_link_inside_the_folder_is_read(tmp_path):
    _write(tmp_path, "exports/leads-2024.txt", LEADS)
    (tmp_path / "Lead.csv").symlink_to(tmp_path / "exports" / "leads-2024.txt")
    snap = load_org(tmp_path, progress=False)
    assert len(snap.tables["sf_leads"]) == 1


def test_readiness_carries_ignored_inputs(tmp_path):
    from assessment.readiness import build_readiness

    _write(tmp_path, "Lead.csv", LEADS)
    _write(tmp_path, "backup.zip", b"PK\x03\x04")
    snap = load_org(tmp_path, progress=False)
    doc = build_readiness(snap, None, [], "test", "2026-01-01T00:00:00Z")
    json.dumps(doc)
    assert [e["path"] for e in doc["ignored_inputs"]] == ["backup.zip"]


# --- CSV shapes: long headers, Excel habits, line ends, encodings, blank lines ------------------


@pytest.mark.parametrize("rows", [2, 2000])  # whole-file decode and the two-ends path
def test_header_longer_than_64_kb(tmp_path, rows):
    custom = [f"Custom_Field_Number_{i:04d}__c" for i in range(2500)]  # ~75 KB of header
    header = ",".join(["Id", "Email", "LastName", *custom])
    body = "".join(
        f"00Q00000000{i:04d}AAA,u{i}@x.com,N{i}," + ",".join(["v"] * len(custom)) + "\n"
        for i in range(rows)
    )
    assert len(header) > 1 << 16
    _write(tmp_path, "Lead.csv", header + "\n" + body)
    leads = load_org(tmp_path, progress=False).tables["sf_leads"]
    assert len(leads) == rows and leads.index[-1] == rows + 1
    assert leads["Custom_Field_Number_2499__c"].eq("v").all()


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_excel_sep_line_names_the_delimiter(tmp_path, sep):
    text = f"sep={sep}\nId{sep}Email{sep}LastName\n00Q000000000001EAA{sep}a@x.com{sep}Ng, Jr\n"
    if sep == ",":
        text = text.replace("Ng, Jr", '"Ng, Jr"')
    _write(tmp_path, "Lead.csv", text)
    snap = load_org(tmp_path, progress=False)
    leads = snap.tables["sf_leads"]
    assert leads.index.tolist() == [2]  # Excel hides the sep= line: the header is row 1
    assert leads.loc[2, "last_name"] == "Ng, Jr" and leads.loc[2, "email"] == "a@x.com"
    assert any("sep=" in n for n in snap.load_report.notes)


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-16"])
def test_classic_mac_line_ends(tmp_path, encoding):
    text = "Id,Email,LastName\r00Q000000000001EAA,a@x.com,Müller\r00Q000000000002EAA,b@x.com,B\r"
    _write(tmp_path, "Lead.csv", text.encode(encoding))
    snap = load_org(tmp_path, progress=False)
    leads = snap.tables["sf_leads"]
    assert leads["last_name"].tolist() == ["Müller", "B"] and leads.index.tolist() == [2, 3]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(tmp_path, encoding):
    text = "Id\tEmail\tLastName\n00Q000000000001EAA\ta@x.com\tÅström\n"
    _write(tmp_path, "Lead.csv", text.encode(encoding))
    snap = load_org(tmp_path, progress=False)
    assert snap.tables["sf_leads"]["last_name"].tolist() == ["Åström"]
    assert snap.load_report.files[0].encoding == encoding


def test_row_numbers_right_after_blank_lines(tmp_path):
    text = (
        "Id,Email,LastName\n\n00Q000000000001EAA,a@x.com,A\n\r\n\n"
        '00Q000000000002EAA,b@x.com,"two\n\nlines"\nnot-an-id,c@x.com,C\n\n'
    )
    _write(tmp_path, "Lead.csv", text)
    snap = load_org(tmp_path, progress=False)
    leads = snap.tables["sf_leads"]
    # a spreadsheet shows: header 1, blank 2, A 3, blank 4-5, the two-line record 6, C 7
    assert leads.index.tolist() == [3, 6, 7]
    assert leads.loc[6, "last_name"] == "two\n\nlines"
    bad = snap.load_report.problems
    bad = bad[(bad["code"] == "INP002") & (bad["column"] == "id")]
    assert bad["row"].tolist() == [7] and bad["value"].tolist() == ["not-an-id"]


def test_xlsx_blank_rows_keep_row_numbers(tmp_path):
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Id", "Email", "LastName", "Rating__c"])
    ws.append(["00Q000000000001EAA", "a@x.com", "A", 12.0])
    ws.append([None, None, None, None])
    ws.append(["00Q000000000002EAA", "b@x.com", True, 1.5])
    buf = io.BytesIO()
    wb.save(buf)
    _write(tmp_path, "Lead.xlsx", buf.getvalue())
    leads = load_org(tmp_path, progress=False).tables["sf_leads"]
    assert leads.index.tolist() == [2, 4]
    assert leads["last_name"].tolist() == ["A", "true"]
    assert leads["Rating__c"].tolist() == ["12", "1.5"]


# --- damaged 18-character ids ---------------------------------------------------------------------

GOOD = "00Q5e00000AbCdEEAV"  # canonical (tests/test_normalize.py ID_PAIRS)
DAMAGED = "00Q5e00000abcdeEAV"  # mixed-case head that disagrees with its checksum


def test_damaged_18_char_id_reported_as_given_not_rewritten(tmp_path):
    _write(
        tmp_path,
        "Lead.csv",
        "Id,Email,LastName,Company,Status\n"
        f"{GOOD},a@x.com,A,Co,Open\n{DAMAGED},a@x.com,B,Co,Open\n"
        f"{GOOD.upper()},c@x.com,C,Co,Open\n",
    )
    snap = load_org(tmp_path, progress=False)
    leads = snap.tables["sf_leads"]
    assert leads["id"].isna().tolist() == [False, True, False]  # upper-cased whole: restored
    p = snap.load_report.problems
    p = p[(p["code"] == "INP002") & (p["column"] == "id")]
    assert p["value"].tolist() == [DAMAGED] and p["row"].tolist() == [3]
    assert "checksum" in p["message"].iloc[0]


def test_damaged_id_kept_out_of_dup002(tmp_path):
    from assessment.checks import run_checks
    from assessment.sync import simulate

    damaged = "00Q5e00000XyZwVAAA"  # mixed case, checksum says all lower: damaged
    _write(
        tmp_path,
        "Lead.csv",
        "Id,Email,LastName,Company,Status\n"
        f"{GOOD},a@x.com,A,Co,Open\n{damaged},a@x.com,B,Co,Open\n"
        "00Q5e00000XyZaBAAA,b@x.com,C,Co,Open\n",
    )
    snap = load_org(tmp_path, progress=False)
    dup = {r.code: r for r in run_checks(snap, simulate(snap))}["DUP002"]
    record_ids = set(dup.findings["record_id"].dropna())
    assert record_ids == {GOOD} and dup.affected == 1
    # the case-rewritten form of the damaged id (an id that exists nowhere) is never reported
    assert "00q5e00000xyzwvAAA" not in set(snap.tables["sf_leads"]["id"].dropna())


# --- locale dates of report exports ---------------------------------------------------------------

REPORT = (
    "Lead ID,Email,Last Name,Company,Lead Status,Created Date\n"
    '00Q5e00000AbCdE,a@x.com,A,Co,Open,"{a}"\n00Q5e00000AbCdF,b@x.com,B,Co,Open,"{b}"\n'
)


@pytest.mark.parametrize(
    "a, b, setting, want_a, warn",
    [
        ("23/06/2025, 08:15", "02/06/2025, 08:15", "", "2025-06-23 08:15", False),  # day shown
        ("6/23/2025 8:15 AM", "6/2/2025 8:15 PM", "", "2025-06-23 08:15", False),  # month shown
        ("02/06/2025, 08:15", "03/06/2025, 18:15", "", "2025-02-06 08:15", True),  # can't tell
        ("02/06/2025, 08:15", "03/06/2025", "date_format: day_first\n", "2025-06-02 08:15", False),
        ("02.06.2025 08:15:30", "03.06.2025", "date_format: month_first\n", "2025-02-06 08:15:30",
         False),
    ],
)  # fmt: skip
def test_locale_dates_of_report_exports(tmp_path, a, b, setting, want_a, warn):
    _write(tmp_path, "Lead.csv", REPORT.format(a=a, b=b))
    if setting:
        _write(tmp_path, "connector.yml", setting)
    snap = load_org(tmp_path, progress=False)
    created = snap.tables["sf_leads"]["created_date"]
    assert created.iloc[0] == __import__("pandas").Timestamp(want_a, tz="UTC")
    assert created.notna().all()
    p = snap.load_report.problems
    ambiguous = p[p["message"].str.contains("day or month first")]
    assert len(ambiguous) == (1 if warn else 0)
    if warn:
        assert ambiguous["file"].iloc[0] == "Lead.csv"
        assert ambiguous["column"].iloc[0] == "created_date"


def test_locale_order_shown_in_one_column_applies_to_the_file(tmp_path):
    _write(
        tmp_path,
        "Lead.csv",
        "Lead ID,Email,Last Name,Company,Lead Status,Created Date,Last Modified Date\n"
        "00Q5e00000AbCdE,a@x.com,A,Co,Open,02/06/2025,25/06/2025 10:00\n",
    )
    snap = load_org(tmp_path, progress=False)
    leads = snap.tables["sf_leads"]
    assert leads["created_date"].iloc[0].month == 6  # read day first like the other column
    assert any("day first" in n for n in snap.load_report.notes)


def test_bad_date_format_setting(tmp_path):
    _write(tmp_path, "connector.yml", "date_format: sometimes\n")
    with pytest.raises(SettingsError, match="expected auto, day_first or month_first"):
        load_settings(tmp_path / "connector.yml")


# --- admin-written field_mappings headers ---------------------------------------------------------


@pytest.mark.parametrize(
    "header, column",
    [
        ("Pardot Field", "pardot_field_name"),
        ("Account Engagement Field", "pardot_field_name"),
        ("Prospect Field", "pardot_field_name"),
        ("AE API Name", "pardot_field_id"),
    ],
)
def test_field_mappings_natural_headers(tmp_path, header, column):
    _write(
        tmp_path,
        "field_mappings.csv",
        f"{header},Salesforce Field,Sync Behavior\nJob Title,Title,Use Salesforce's value\n",
    )
    snap = load_org(tmp_path, progress=False)
    fm = snap.tables["field_mappings"]
    assert fm[column].tolist() == ["Job Title"] and fm["sf_field"].tolist() == ["Title"]
    note = [n for n in snap.load_report.notes if n.startswith("field_mappings.csv: columns read")]
    assert note and f"'{header}' → {column}" in note[0]


def test_field_mappings_missing_column_lists_found_and_accepted(tmp_path):
    _write(tmp_path, "field_mappings.csv", "Thing,Salesforce Field\nJob Title,Title\n")
    with pytest.raises(InputError) as exc:
        load_org(tmp_path, progress=False)
    text = str(exc.value)
    assert "pardot_field_id or pardot_field_name" in text
    assert "Headers found: 'Thing', 'Salesforce Field'" in text
    assert "Pardot Field" in text and "AE API Name" in text and "field_id" in text
    assert exc.value.row == 1 and exc.value.file == "field_mappings.csv"


@pytest.mark.parametrize(
    "raw, ok",
    [
        (GOOD, True),
        (GOOD.upper(), True),  # a whole-id case change: restored from the checksum
        (GOOD.lower(), True),
        (GOOD[:15] + GOOD[15:].lower(), True),
        ("00Q5e00000XyZwVAAA", False),  # mixed-case head, checksum says no upper case
        ("003000000000001AAB", False),  # checksum marks a digit as upper case
    ],
)
def test_sf_id18_damaged_checksum_is_invalid(raw, ok):
    import pandas as pd

    from assessment import normalize as nz

    ids, _, invalid = nz.sf_id18(pd.Series([raw, GOOD], dtype="str"))
    assert invalid.tolist() == [not ok, False]
    assert ids.tolist()[1] == GOOD and (ids.iloc[0] == GOOD if ok else pd.isna(ids.iloc[0]))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_pipe_and_broken_link_are_listed_never_opened(tmp_path):
    _write(tmp_path, "Lead.csv", LEADS)
    os.mkfifo(tmp_path / "Contact.csv")  # opening it would block the run forever
    (tmp_path / "User.csv").symlink_to(tmp_path / "missing.csv")
    snap = load_org(tmp_path, progress=False)
    assert list(snap.tables) == ["sf_leads"]
    reasons = {e["path"]: e["reason"] for e in snap.load_report.ignored_inputs()}
    assert "not a regular file" in reasons["Contact.csv"]
    assert "broken link" in reasons["User.csv"]


@pytest.mark.parametrize(
    "name, data, needle",
    [
        ("connector.yml", b"org_name: a\x07b\n", "not valid YAML"),  # control character
        ("connector.yml", b"\xe3}\x96\x14E\xc8", "not valid YAML"),  # binary junk
        ("describe/Lead.json", b'{"fields": [{"name": "A", "length": "abc"}]}', "length"),
    ],
)
def test_junk_settings_and_describe_are_input_errors(tmp_path, name, data, needle):
    # found by fuzzing: these ended as exit 1 (yaml ReaderError, int("abc"))
    _write(tmp_path, "Lead.csv", LEADS)
    path = _write(tmp_path, name, data)
    with pytest.raises(InputError) as exc:
        load_org(tmp_path, progress=False)
    assert needle in str(exc.value) and name in str(exc.value)
    assert _digest(path) == hashlib.sha256(data).hexdigest()


def test_stray_cr_in_a_tail_line_is_no_crash(tmp_path):
    # found by fuzzing: the report-footer scan met a CR inside a line (csv.Error, exit 1)
    data = b"Id,Email,LastName\n00Q000000000001EAA,a@x.com,A\n\nGrand Totals\rx,y\n"
    _write(tmp_path, "Lead.csv", data)
    try:
        load_org(tmp_path, progress=False)
    except InputError:
        pass  # refusing is fine; an unexpected exception type is not
