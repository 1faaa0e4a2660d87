"""--mask-pii makes the whole output folder safe to share (contract §2, issue #13.1)."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pytest

from assessment import privacy
from assessment.pipeline import analyse

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason="sample org not generated yet")


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "assessment", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def _key(header: str) -> str:
    return re.sub(r"[^a-z]", "", header.lower())


def _input_personal_data(folder: Path) -> tuple[set[str], set[str], set[str]]:
    """Straight from the raw export files (not through the loader): emails, full names, phones."""
    emails, names, phones = set(), set(), set()
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            continue
        keys = {_key(h): h for h in rows[0]}
        for k, header in keys.items():
            values = {r[header].strip() for r in rows if r[header] and r[header].strip()}
            if k in {"email", "personemail", "username", "user"}:
                emails |= {v for v in values if len(v) > 3}
            if "phone" in k:
                phones |= {v for v in values if sum(c.isdigit() for c in v) >= 5}
            if k in {"fullname", "name"} and path.stem.lower() in {"user", "users"}:
                names |= {v for v in values if len(v.split()) >= 2}
        first, last = keys.get("firstname"), keys.get("lastname")
        if first and last:
            full = {f"{r[first].strip()} {r[last].strip()}" for r in rows}
            names |= {n for n in full if len(n.split()) >= 2}
    # A prospect's "User" may name a Salesforce queue (CR-2): a queue is not a person.
    queue_file = folder / "Queue.csv"
    if queue_file.exists():
        with queue_file.open(encoding="utf-8-sig", newline="") as handle:
            emails -= {r["Name"].strip() for r in csv.DictReader(handle)}
    return emails, names, phones


@needs_sample
def test_masked_run_leaves_no_email_or_name_in_any_file(tmp_path):
    out = tmp_path / "out"
    run = _cli("run", SAMPLE, "--out", out, "--mask-pii")
    assert run.returncode == 0, run.stderr
    assert "safe to share" in run.stdout
    emails, names, phones = _input_personal_data(SAMPLE)
    assert len(emails) > 1000 and len(names) > 300 and phones
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"report.html", "report.ipynb", "readiness.json"} <= {p.name for p in files}
    assert any(p.parent.name == "actions" for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        words = set(re.findall(r"[^\s,;\"<>()\[\]{}|]+", text))
        leaked_emails = [e for e in emails if e in text]
        leaked_names = [n for n in names if n in text]
        leaked_phones = [p for p in phones if p in words]
        assert not leaked_emails, (path.name, leaked_emails[:5])
        assert not leaked_names, (path.name, leaked_names[:5])
        assert not leaked_phones, (path.name, leaked_phones[:5])

    # Record ids, counts and company names are kept.
    snapshot, _, results = analyse(SAMPLE)
    readiness = json.loads((out / "readiness.json").read_text())
    assert {c["code"]: c["affected"] for c in readiness["checks"]} == {
        r.code: int(r.affected) for r in results
    }
    prospects = pd.read_csv(out / "outcomes" / "prospects.csv", dtype=str)
    assert set(prospects["prospect_id"]) == set(snapshot.tables["pardot_prospects"]["prospect_id"])
    assert readiness["org"] == snapshot.name


def test_console_says_whether_the_folder_holds_personal_data(tmp_path):
    org = tmp_path / "org"
    org.mkdir()
    (org / "prospects.csv").write_text("Prospect Id,Email\n1,ana.lima@example.com\n")
    plain = _cli("run", org, "--out", tmp_path / "a", "--no-report")
    masked = _cli("run", org, "--out", tmp_path / "b", "--no-report", "--mask-pii")
    assert plain.returncode == 0 and masked.returncode == 0, plain.stderr + masked.stderr
    assert "holds personal data" in plain.stdout and "safe to share" not in plain.stdout
    assert "safe to share" in masked.stdout and "holds personal data" not in masked.stdout
    assert "ana.lima@example.com" in (tmp_path / "a" / "outcomes" / "prospects.csv").read_text()
    for path in (tmp_path / "b").rglob("*"):
        if path.is_file():
            assert "ana.lima" not in path.read_text(), path


def _values() -> privacy.PersonalValues:
    tables = {
        "pardot_prospects": pd.DataFrame(
            {
                "prospect_id": ["1", "2"],
                "first_name": ["Ana", "Bo"],
                "last_name": ["Lima", "[not provided]"],
                "email": ["ana.lima@example.com", "bo_at_example.com"],
                "company": ["Lima Holdings", "Acme"],
                "phone": ["+1 555 0100", ""],
                "address_one": ["12 Harbour Road", pd.NA],
            },
            dtype="str",
        ),
        "sf_accounts": pd.DataFrame(
            {
                "id": ["001A", "001B"],
                "name": ["Acme Corp", "Cleo Vale"],
                "is_person_account": ["false", "true"],
            },
            dtype="str",
        ),
    }
    return privacy.personal_values(SimpleNamespace(tables=tables))


def test_masking_by_value_in_any_cell():
    values = _values()
    cells = [
        "Ana Lima",  # a whole name
        "ana.lima@example.com",
        "bo_at_example.com",  # an invalid email is still a personal value
        "owner Ana Lima is inactive; write to ANA.LIMA@EXAMPLE.COM",
        "+1 555 0100",
        "12 Harbour Road",
        "Cleo Vale",  # a person account's name
        "Acme Corp",  # a company: kept
        "0035g00000000O9AAI",  # a record id: kept
        "42",
        "not provided",  # a placeholder last name is not a name word
        "=Ana",
        None,
    ]
    masked = privacy.mask_cells(pa.array(cells, type=pa.string()), values).to_pylist()
    assert masked[0] == "A*** L***"
    assert masked[1] == "a***@e***.com"
    assert "bo_at" not in masked[2] and masked[2].startswith("b***")
    assert masked[3] == "owner A*** L*** is inactive; write to A***@E***.COM"
    assert "555" not in masked[4]
    assert "Harbour" not in masked[5]
    assert masked[6] == "C*** V***"
    assert masked[7:11] == ["Acme Corp", "0035g00000000O9AAI", "42", "not provided"]
    assert masked[11] == "=A***"  # cell text kept as text; action files neutralise formulas
    assert masked[12] is None


def test_masked_whole_value_never_becomes_a_formula():
    values = _values()
    out = privacy.mask_cells(pa.array(["+1 555 0100"]), values).to_pylist()
    assert not re.match(r"[=+\-@]", out[0])


def test_mask_folder_masks_csv_json_notebook_and_page(tmp_path):
    values = _values()
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "X.csv").write_text(
        '\ufeff"Email","Issue"\n"ana.lima@example.com","Ana Lima, twice\non two lines"\n',
        encoding="utf-8",
    )
    (tmp_path / "readiness.json").write_text(
        json.dumps({"summary": "owner Ana Lima", "Ana Lima": 3, "n": 3})
    )
    png = "iVBORw0KGgoAnaLima+/Ana/Lima=="
    notebook = {
        "cells": [
            {
                "source": ["print('Ana Lima')"],
                "outputs": [{"data": {"text/html": "<b>Ana Lima</b>", "image/png": png}}],
            }
        ]
    }
    (tmp_path / "report.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "report.html").write_text(
        f"<p>Ana Lima</p><img src='data:image/png;base64,{png}'/><p>Acme Corp</p>"
    )
    done = privacy.mask_folder(tmp_path, values)
    assert done == {"actions/X.csv", "readiness.json", "report.ipynb", "report.html"}
    action = (tmp_path / "actions" / "X.csv").read_bytes().decode("utf-8")
    assert action.startswith('\ufeff"Email","Issue"\n"a***@e***.com","A*** L***, twice\n')
    readiness = json.loads((tmp_path / "readiness.json").read_text())
    assert readiness == {"summary": "owner A*** L***", "A*** L***": 3, "n": 3}
    nb = json.loads((tmp_path / "report.ipynb").read_text())
    assert nb["cells"][0]["source"] == ["print('A*** L***')"]
    assert nb["cells"][0]["outputs"][0]["data"] == {
        "text/html": "<b>A*** L***</b>",
        "image/png": png,
    }
    page = (tmp_path / "report.html").read_text()
    assert "Ana Lima" not in page.replace(png, "") and png in page and "Acme Corp" in page


def test_salesforce_system_users_are_not_people():
    users = pd.DataFrame(
        {
            "id": ["005A", "005B"],
            "name": ["B2BMA Integration", "Greta Frost"],
            "first_name": ["B2BMA", "Greta"],
            "last_name": ["Integration", "Frost"],
        },
        dtype="str",
    )
    values = privacy.personal_values(SimpleNamespace(tables={"sf_users": users}))
    cells = ["the Integration user runs the sync", "owned by Greta Frost"]
    masked = privacy.mask_cells(pa.array(cells), values).to_pylist()
    assert masked == ["the Integration user runs the sync", "owned by G*** F***"]
    assert privacy.mask_cells(pa.array(["B2BMA Integration"]), values).to_pylist() == [
        "B*** I***"  # a whole value is masked whole
    ]


def test_queue_names_are_not_people():
    # CR-2: a lead owner or a prospect's assigned "user" can be a Salesforce queue; its name is no
    # personal data (masking it would also rename Queue.csv in readiness.json inputs).
    users = pd.DataFrame(
        {"id": ["005B"], "name": ["Greta Frost"], "first_name": ["Greta"], "last_name": ["Frost"]},
        dtype="str",
    )
    queues = pd.DataFrame(
        {
            "id": ["00G1"],
            "name": ["Inbound Leads Queue"],
            "developer_name": ["Inbound_Leads_Queue"],
        },
        dtype="str",
    )
    tables = {"sf_users": users, "sf_queues": queues}
    values = privacy.personal_values(SimpleNamespace(tables=tables))
    cells = ["Queue.csv", "Inbound Leads Queue", "owned by Greta Frost"]
    masked = privacy.mask_cells(pa.array(cells), values).to_pylist()
    assert masked == ["Queue.csv", "Inbound Leads Queue", "owned by G*** F***"]
