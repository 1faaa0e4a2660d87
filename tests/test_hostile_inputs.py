"""Issue #15 item 2: a corpus of hostile and real-habit inputs, run through the command line.

One case per category. Every case asserts the exit code, the message (file, row, column), that
the input bytes are unchanged and that no traceback is printed. Exit-0 cases also check what the
outputs say (readiness.json, action files); action files never hold a cell a spreadsheet would
run as a formula, and one rendered report escapes every payload. The files are written by the
tests themselves (no fixtures to drift).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = "00Q5e00000AbCdEEAV"
DAMAGED = "00Q5e00000XyZwVAAA"  # mixed-case head; its checksum says all lower case
LEADS = "Id,Email,LastName,Company,Status\n00Q000000000001EAA,a@x.com,A,Co,Open\n"
PROSPECTS = "Prospect Id,Email,Opted Out\n1,a@x.com,false\n"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = ['=HYPERLINK("http://x.invalid")', "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"]
SCRIPT = "<script>alert(1)</script>"


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assessment", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _run(tmp_path: Path, files: dict[str, str | bytes], *extra, report: bool = False):
    """Write an org, run the CLI on it; returns (process, out folder). Checks the invariants."""
    org = tmp_path / "org"
    for name, data in files.items():
        _write(org, name, data)
    before = _digests(org)
    out = tmp_path / "out"
    args = ["run", org, "--out", out, *extra] + ([] if report else ["--no-report"])
    proc = _cli(*args)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert _digests(org) == before, "input bytes changed"
    return proc, out


def _readiness(out: Path) -> dict:
    return json.loads((out / "readiness.json").read_text(encoding="utf-8"))


def _action_rows(out: Path, prefix: str) -> list[dict]:
    files = sorted((out / "actions").glob(f"{prefix}*.csv"))
    assert files, f"no {prefix} action file"
    with open(files[0], encoding="utf-8-sig", newline="") as fh:  # keep a CR inside a cell
        return list(csv.DictReader(fh))


def _assert_no_formula_cells(out: Path) -> None:
    for path in (out / "actions").glob("*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not cell.startswith(FORMULA_STARTS), (path.name, cell)


# --- refused: exit 2, naming file / row / column ---------------------------------------------------

LAUGHS = "business_units:\n" + "\n".join(
    [f"  - &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"  - &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
)


def test_billion_laughs_connector_yml(tmp_path):
    proc, out = _run(tmp_path, {"Lead.csv": LEADS, "connector.yml": LAUGHS + "\n"})
    assert proc.returncode == 2
    assert "connector.yml" in proc.stderr and "aliases are expanded" in proc.stderr
    assert not out.exists()


def test_deep_json_describe(tmp_path):
    deep = '{"fields": ' + "[" * 50_000 + "]" * 50_000 + "}"
    proc, _ = _run(tmp_path, {"Lead.csv": LEADS, "describe/Lead.json": deep})
    assert proc.returncode == 2
    assert "describe/Lead.json" in proc.stderr and "nested more than" in proc.stderr


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_link_to_a_system_file_is_refused_without_quoting_it(tmp_path):
    secret = _write(tmp_path / "etc", "passwd", "root:x:0:0:SECRET-LINE:/root:/bin/sh\n")
    org = tmp_path / "org"
    org.mkdir()
    (org / "Lead.csv").symlink_to(secret)
    proc, _ = _run(tmp_path, {"prospects.csv": PROSPECTS})
    assert proc.returncode == 2
    assert "Lead.csv" in proc.stderr and "outside the export folder" in proc.stderr
    assert "SECRET" not in proc.stderr + proc.stdout and "root" not in proc.stderr


def test_field_mappings_missing_column_lists_headers(tmp_path):
    fm = "Thing,Salesforce Field\nJob Title,Title\n"
    proc, _ = _run(tmp_path, {"prospects.csv": PROSPECTS, "field_mappings.csv": fm})
    assert proc.returncode == 2
    err = proc.stderr
    assert "field_mappings.csv" in err and "row 1" in err
    assert "column 'pardot_field_id or pardot_field_name'" in err
    assert "Headers found: 'Thing', 'Salesforce Field'" in err and "Pardot Field" in err


# --- forgiven: exit 0. One org holds one file per habit; one run, one test per category ---------

DESCRIBE = json.dumps({"name": "Lead", "fields": [{"name": "Email", "type": "email"}]})
# A header of ~75 KB (long names, few columns: the checks scale with the column count).
CUSTOM = [f"Custom_{i:03d}_" + "x" * 240 + "__c" for i in range(300)]


def _xlsx_accounts() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Id", "Name"])
    ws.append(["001000000000001AAA", "Acme"])
    ws.append([None, None])  # a blank row: the next one is row 4
    ws.append(["bad-account-id", "Globex"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _habits_org() -> dict[str, str | bytes]:
    leads = (  # report export: labels, 15-char ids, locale dates; blank lines; a damaged id
        "Lead ID,Email,Last Name,Company,Lead Status,Created Date\n"
        f'{GOOD},a@x.com,A,Co,Open,"02/06/2025, 08:15"\n\n\n'
        f"{DAMAGED},a@x.com,B,Co,Open,6/2/2025 8:15 AM\n\n"
        "not-an-id,c@x.com,C,Co,Open,6/3/2025 9:00 AM\n"
    )
    contacts = "sep=;\nId;Email;LastName;OwnerId\n003000000000001AAA;a@x.com;Ng, Jr;\n"
    users = "Id,Username,IsActive\r005000000000001AAA,u@x.com,true\r"  # classic Mac
    pardot_users = "id\temail\n7\tåsa@x.com\n".encode("utf-16-le")  # no BOM
    header = ",".join(["Prospect Id", "Email", *CUSTOM])
    prospects = header + "\n" + "1,a@x.com," + ",".join("v" * len(CUSTOM)) + "\n"
    fm = "Pardot Field,Salesforce Field,Sync Behavior\nJob Title,Title,Use Salesforce's value\n"
    return {
        "connector.yml": "org_name: Café Zürich\n".encode("cp1252"),
        "Lead.csv": leads,
        "Contact.csv": contacts,
        "User.csv": users,
        "pardot_users.csv": pardot_users,
        "prospects.csv": prospects,
        "Account.xlsx": _xlsx_accounts(),
        "field_mappings.csv": fm,
        "describe/Lead.json": DESCRIBE,
        "Contacts.zip": b"PK\x03\x04",
        "2024/prospects.csv": PROSPECTS,
        "notes.docx": b"x",
    }


@pytest.fixture(scope="module")
def habits(tmp_path_factory):
    """One CLI run over the habits org: (process, out folder)."""
    return _run(tmp_path_factory.mktemp("habits"), _habits_org())


def _inputs(habits) -> dict:
    proc, out = habits
    assert proc.returncode == 0, proc.stderr
    return _readiness(out)["inputs"]


def _bad_cells(habits, table: str, field: str, issue: str = "") -> list[tuple[str, str]]:
    """(Item, Value) of the INP002 action rows of one table's column whose issue says ``issue``."""
    rows = _action_rows(habits[1], "INP002")
    return [
        (r["Item"], r["Value"])
        for r in rows
        if r["Item"].startswith(table + " ") and r["Field"] == field and issue in r["Issue"]
    ]


def test_habits_run_exits_0(habits):
    proc, out = habits
    assert proc.returncode == 0, proc.stderr
    assert (out / "readiness.json").exists()


def test_connector_yml_windows_1252(habits):
    proc, out = habits
    assert _readiness(out)["settings"]["org_name"] == "Café Zürich"
    rows = _action_rows(out, "INP002")
    assert any("connector.yml" in r["Issue"] and "not UTF-8" in r["Issue"] for r in rows)


def test_header_longer_than_64_kb(habits):
    assert _inputs(habits)["prospects.csv"]["rows"] == 1


def test_excel_sep_line(habits):
    assert _inputs(habits)["Contact.csv"]["rows"] == 1


def test_classic_mac_line_ends(habits):
    assert _inputs(habits)["User.csv"]["rows"] == 1


def test_utf16_without_bom(habits):
    entry = _inputs(habits)["pardot_users.csv"]
    assert entry["rows"] == 1 and entry["encoding"] == "utf-16-le"


def test_archives_and_subfolders_listed(habits):
    ignored = {e["path"]: e["kind"] for e in _readiness(habits[1])["ignored_inputs"]}
    assert ignored == {"Contacts.zip": "archive", "2024/": "folder", "notes.docx": "file"}


def test_damaged_id_reported_as_given_and_not_a_duplicate(habits):
    damaged = _bad_cells(habits, "sf_leads", "id", "checksum")
    assert damaged == [("sf_leads row 5", DAMAGED)]
    dup = next(c for c in _readiness(habits[1])["checks"] if c["code"] == "DUP002")
    assert dup["affected"] == 1  # only the good lead: the damaged id is no record id


def test_row_numbers_after_blank_lines(habits):
    # header 1, lead 2, blank 3-4, damaged 5, blank 6, not-an-id 7
    assert _bad_cells(habits, "sf_leads", "id", "expected a 15") == [
        ("sf_leads row 7", "not-an-id")
    ]


def test_locale_dates_ambiguous_warn_with_file_and_column(habits):
    rows = [r for r in _action_rows(habits[1], "INP002") if r["Field"] == "created_date"]
    assert len(rows) == 1 and "day or month first" in rows[0]["Issue"]
    assert "Lead.csv" in rows[0]["Issue"]


def test_admin_written_field_mappings(habits):
    assert _inputs(habits)["field_mappings.csv"]["rows"] == 1


def test_describe_file_listed_with_checksum(habits):
    entry = _inputs(habits)["describe/Lead.json"]
    assert entry["sha256"] == hashlib.sha256(DESCRIBE.encode()).hexdigest()


def test_xlsx_through_calamine(habits):
    assert _inputs(habits)["Account.xlsx"]["rows"] == 2
    assert _bad_cells(habits, "sf_accounts", "id") == [("sf_accounts row 4", "bad-account-id")]


def test_habits_action_files_hold_no_formula(habits):
    _assert_no_formula_cells(habits[1])


# --- payloads: action files neutralise formulas; the report escapes -------------------------------


def _payload_org() -> dict[str, str]:
    rows = ["Prospect Id,Email,First Name,Company,Score"]
    for i, p in enumerate([*PAYLOADS, SCRIPT], start=1):
        rows.append(f"{i},dup@x.com,{_quoted(p)},{_quoted(p)},{_quoted(p)}")
    leads = (
        "Id,Email,LastName,Company,Status\n"
        f"00Q000000000001EAA,{_quoted(SCRIPT + '@x.com')},{_quoted(SCRIPT)},=1+1,Open\n"
        f"00Q000000000002EAA,{_quoted(SCRIPT + '@x.com')},B,@SUM(A1),Open\n"
    )
    return {"prospects.csv": "\n".join(rows) + "\n", "Lead.csv": leads}


def test_payloads_neutralised_in_action_files(tmp_path):
    proc, out = _run(tmp_path, _payload_org())
    assert proc.returncode == 0, proc.stderr
    values = {r["Value"] for r in _action_rows(out, "INP002")}
    for p in PAYLOADS:  # each payload is listed (as a bad Score value), neutralised
        assert "'" + p in values, p
    _assert_no_formula_cells(out)


def test_payloads_escaped_in_the_rendered_report(tmp_path):
    proc, out = _run(tmp_path, _payload_org(), report=True)
    assert proc.returncode == 0, proc.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    _assert_no_formula_cells(out)
