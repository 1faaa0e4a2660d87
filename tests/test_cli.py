"""The command line: exit codes, clear messages, inputs never written (contract.md §2)."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "assessment", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_malformed_file_exits_2_naming_file_row_column(tmp_path):
    org = tmp_path / "org"
    org.mkdir()
    (org / "Lead.csv").write_text(
        "Id,Email,LastName\n00Q000000000001AAA,a@example.com,Ng\n00Q000000000002AAA,b@example.com\n"
        '00Q000000000003AAA,"c@example.com,Li\n'
    )
    (org / "prospects.csv").write_text("Prospect Id,Email\n1,a@example.com\n")
    before = _digests(org)
    out = _cli("run", org, "--out", tmp_path / "out", "--no-report")
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert "Lead.csv" in out.stderr
    assert "row" in out.stderr
    assert _digests(org) == before
    assert not (tmp_path / "out").exists(), "no half-written output after a failed run"


def test_missing_required_column_names_the_column(tmp_path):
    org = tmp_path / "org"
    org.mkdir()
    (org / "prospects.csv").write_text("First Name,Email\nAna,a@example.com\n")
    out = _cli("run", org, "--out", tmp_path / "out", "--no-report")
    assert out.returncode == 2
    assert "prospects.csv" in out.stderr and "prospect_id" in out.stderr.lower().replace(" ", "_")
    assert "Traceback" not in out.stderr


def test_unknown_setting_exits_2(tmp_path):
    org = tmp_path / "org"
    org.mkdir()
    (org / "connector.yml").write_text("paused: true\nallow_multiple_prospect: yes\n")
    out = _cli("run", org, "--out", tmp_path / "out", "--no-report")
    assert out.returncode == 2
    assert "allow_multiple_prospect" in out.stderr and "connector.yml" in out.stderr


def test_missing_folder_exits_2(tmp_path):
    out = _cli("run", tmp_path / "nope", "--out", tmp_path / "out", "--no-report")
    assert out.returncode == 2
    assert "nope" in out.stderr


def test_output_inside_input_is_refused(tmp_path):
    org = tmp_path / "org"
    org.mkdir()
    (org / "prospects.csv").write_text("Prospect Id,Email\n1,a@example.com\n")
    before = _digests(org)
    out = _cli("run", org, "--out", org / "report", "--no-report")
    assert out.returncode == 2
    assert _digests(org) == before


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample org not generated yet")
def test_run_on_sample_writes_contract_outputs(tmp_path):
    before = _digests(SAMPLE)
    out = _cli("run", SAMPLE, "--out", tmp_path / "out", "--no-report")
    assert out.returncode == 0, out.stderr
    readiness = json.loads((tmp_path / "out" / "readiness.json").read_text())
    assert set(readiness) >= {
        "tool_version",
        "org",
        "generated_at",
        "inputs",
        "settings",
        "verdict",
        "score",
        "checks",
        "simulation",
    }
    assert readiness["verdict"] in {"ready", "ready_with_warnings", "incomplete", "not_ready"}
    assert 0 <= readiness["score"] <= 100
    for name in ("prospects.csv", "salesforce.csv", "fields.csv"):
        assert (tmp_path / "out" / "outcomes" / name).exists()
    assert _digests(SAMPLE) == before


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample org not generated yet")
def test_outputs_are_readable_by_others(tmp_path):
    out = _cli("run", SAMPLE, "--out", tmp_path / "out", "--no-report")
    assert out.returncode == 0, out.stderr
    for path in [tmp_path / "out", *(tmp_path / "out").rglob("*")]:
        assert path.stat().st_mode & 0o044, f"{path} is private"
