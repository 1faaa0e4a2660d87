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
