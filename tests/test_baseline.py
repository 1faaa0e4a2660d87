"""Comparing two assessments of one org: run --baseline, diff (issue #17 items 1, 2, 7)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from assessment import baseline as bl
from assessment.errors import InputError

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


def _check(code, status, affected, severity="warning"):
    return {
        "code": code,
        "name": code.lower(),
        "severity": severity,
        "status": status,
        "affected": affected,
    }


def _output(folder: Path, prospects: dict, salesforce: dict, **readiness) -> Path:
    """A minimal output folder: readiness.json and the two record outcome files."""
    doc = {
        "tool_version": "1.0",
        "org": "Acme",
        "verdict": "not_ready",
        "score": 40,
        "settings": {"paused": True},
        "inputs": {"prospects.csv": {"sha256": "aa"}},
        "checks": [],
        **readiness,
    }
    (folder / "outcomes").mkdir(parents=True)
    (folder / "readiness.json").write_text(json.dumps(doc), encoding="utf-8")
    pd.DataFrame(prospects).to_csv(folder / "outcomes" / "prospects.csv", index=False)
    pd.DataFrame(salesforce).to_csv(folder / "outcomes" / "salesforce.csv", index=False)
    return folder


SF_OLD = {
    "sf_object": ["Lead", "Contact"],
    "sf_id": ["00Q1", "0031"],
    "outcome": ["no_prospect", "linked"],
    "prospect_id": ["", "2"],
    "reason": ["x", "y"],
}


# --- checks --------------------------------------------------------------------------------


def test_check_changes_by_kind():
    old = [
        _check("A", "fail", 5),  # -> pass: fixed
        _check("B", "pass", 0),  # -> fail: new
        _check("C", "not_run", 0),  # -> fail: new (not_run -> fail counts as new)
        _check("D", "fail", 5),  # -> 9: worse
        _check("E", "fail", 5),  # -> 2: better
        _check("F", "fail", 5),  # -> 5: still failing
        _check("G", "fail", 5),  # -> not_run: no longer run (not "fixed")
        _check("H", "pass", 0),  # -> pass: not listed
        _check("OLD", "fail", 1),  # gone from the new tool version
    ]
    new = [
        _check("A", "pass", 0),
        _check("B", "fail", 3),
        _check("C", "fail", 4),
        _check("D", "fail", 9),
        _check("E", "fail", 2),
        _check("F", "fail", 5),
        _check("G", "not_run", 0),
        _check("H", "pass", 0),
        _check("NEW", "fail", 7),  # a check the earlier version did not have
    ]
    out = bl.compare_checks(old, new)
    codes = {k: [e["code"] for e in v] for k, v in out.items() if k not in ("added", "removed")}
    assert codes == {
        "fixed": ["A"],
        "new": ["B", "C", "NEW"],
        "worse": ["D"],
        "better": ["E"],
        "still_failing": ["F"],
        "no_longer_run": ["G", "OLD"],
    }
    assert (out["added"], out["removed"]) == (["NEW"], ["OLD"])
    worse = out["worse"][0]
    assert (worse["affected_before"], worse["affected_after"]) == (5, 9)
    assert out["new"][2]["status_before"] is None  # absent before


# --- records -------------------------------------------------------------------------------


def test_moves_are_counted_and_listed_with_the_reason_code_now(tmp_path):
    old = _output(
        tmp_path / "old",
        {
            "prospect_id": ["1", "2", "3", "4"],
            "outcome": ["stale_crm_id", "linked", "create_lead", "pardot_only"],
            "reason": ["a", "b", "c", "d"],
        },
        SF_OLD,
    )
    new = _output(
        tmp_path / "new",
        {
            "prospect_id": ["1", "2", "4", "5"],
            "outcome": ["linked", "linked", "pardot_only", "create_lead"],
            "reason": ["r1", "r2", "r4", "r5"],
            "reason_code": ["M-1.crm_id", "M-1.crm_id", "CR-2.unassigned", "CR-1.assigned"],
        },
        {**SF_OLD, "outcome": ["linked", "linked"], "prospect_id": ["1", "2"]},
        inputs={"prospects.csv": {"sha256": "bb"}},
    )
    result = bl.compare(bl.load_output(old), bl.load_output(new))
    moves = result.baseline["outcome_moves"]
    assert sorted((m["from"] or "", m["to"] or "", m["count"]) for m in moves["prospects"]) == [
        ("", "create_lead", 1),  # prospect 5 new
        ("create_lead", "", 1),  # prospect 3 gone
        ("stale_crm_id", "linked", 1),
    ]
    assert moves["salesforce"] == [{"from": "no_prospect", "to": "linked", "count": 1}]
    assert result.baseline["moved_records"] == {"prospects": 3, "salesforce": 1}
    moved = result.moved_frame().set_index(["record", "prospect_id"])
    assert moved.loc[("prospect", "1"), "reason_code"] == "M-1.crm_id"
    assert moved.loc[("prospect", "3"), "reason"] == "no longer in the export"
    moved = result.moved_frame()
    lead = moved[moved["record"] == "salesforce"].iloc[0]
    assert (lead["sf_id"], lead["sf_object"], lead["old_outcome"], lead["new_outcome"]) == (
        "00Q1",
        "Lead",
        "no_prospect",
        "linked",
    )
    assert result.baseline["columns"]["prospects"] == {"added": ["reason_code"], "removed": []}
    assert result.baseline["moves_attributed_to"] == "data"
    assert result.baseline["warnings"] == []


def test_identical_inputs_attribute_moves_to_the_rules_and_warn(tmp_path):
    old = _output(tmp_path / "old", {"prospect_id": ["1"], "outcome": ["create_lead"]}, SF_OLD)
    new = _output(
        tmp_path / "new",
        {"prospect_id": ["1"], "outcome": ["pardot_only"]},
        SF_OLD,
        tool_version="2.0",
        settings={"paused": False},
    )
    doc = bl.compare(bl.load_output(old), bl.load_output(new)).baseline
    assert doc["inputs"]["identical"] and doc["moves_attributed_to"] == "rules"
    assert doc["tool_version"] == {"before": "1.0", "after": "2.0"}
    assert doc["settings_changed"] == [{"key": "paused", "before": True, "after": False}]
    assert any("tool versions" in w for w in doc["warnings"])
    assert any("settings (paused)" in w for w in doc["warnings"])
    assert "every move comes from the rules" in bl.describe(doc)


def test_no_move_is_not_attributed_to_anything(tmp_path):
    # The same exports assessed twice by the same tool and settings: nothing moved, and the
    # console must not say that "every move comes from the rules".
    prospects = {"prospect_id": ["1"], "outcome": ["create_lead"]}
    old = _output(tmp_path / "old", prospects, SF_OLD)
    new = _output(tmp_path / "new", prospects, SF_OLD)
    doc = bl.compare(bl.load_output(old), bl.load_output(new)).baseline
    assert doc["moved_records"] == {"prospects": 0, "salesforce": 0}
    text = bl.describe(doc)
    assert "no record moved (the inputs are identical)" in text
    assert "every move" not in text and "the moves come from" not in text
    assert bl.provenance_frame(doc).loc["moves due to", "now"] == "(no record moved)"


def test_another_org_is_refused_unless_forced(tmp_path):
    old = _output(tmp_path / "old", {"prospect_id": ["1"], "outcome": ["linked"]}, SF_OLD)
    new = _output(
        tmp_path / "new", {"prospect_id": ["1"], "outcome": ["linked"]}, SF_OLD, org="Globex"
    )
    with pytest.raises(InputError, match="different org.*--force-baseline"):
        bl.compare(bl.load_output(old), bl.load_output(new))
    doc = bl.compare(bl.load_output(old), bl.load_output(new), force=True).baseline
    assert doc["org"]["same_org_by"] is None and "forced" in doc["warnings"][0]


def test_same_org_by_salesforce_org_id_despite_a_renamed_org(tmp_path):
    ids = {"settings": {"salesforce_org_id": "00D000000000001EAA"}}
    old = _output(tmp_path / "old", {"prospect_id": ["1"], "outcome": ["linked"]}, SF_OLD, **ids)
    new = _output(
        tmp_path / "new",
        {"prospect_id": ["1"], "outcome": ["linked"]},
        SF_OLD,
        org="Acme EU",
        **ids,
    )
    doc = bl.compare(bl.load_output(old), bl.load_output(new)).baseline
    assert doc["org"]["same_org_by"] == "salesforce_org_id"


def test_not_an_output_folder(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(InputError, match="no readiness.json"):
        bl.load_output(tmp_path / "x")
    (tmp_path / "x" / "readiness.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read"):
        bl.load_output(tmp_path / "x")


# --- end to end on the sample (issue #17 "done when") ----------------------------------------


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    """The sample assessed, then a copy with duplicate-email prospects removed."""
    root = tmp_path_factory.mktemp("baseline")
    base = root / "base"
    assert _cli("run", SAMPLE, "--out", base, "--no-report").returncode == 0
    org = root / "org"
    shutil.copytree(SAMPLE, org)
    prospects = pd.read_csv(org / "prospects.csv", dtype=str, keep_default_na=False)
    key = prospects["Email"].str.strip().str.casefold()
    dup = key.ne("") & key.duplicated(keep="first")
    prospects[~dup].to_csv(org / "prospects.csv", index=False)
    removed = sorted(prospects.loc[dup, "Prospect Id"])
    assert removed, "the sample has duplicate-email prospects"
    return root, base, org, removed


@needs_sample
def test_run_baseline_after_removing_duplicates_names_dup001_fixed(cleaned):
    root, base, org, removed = cleaned
    out = root / "new"
    done = _cli("run", org, "--out", out, "--no-report", "--baseline", base)
    assert done.returncode == 0, done.stderr
    doc = json.loads((out / "readiness.json").read_text(encoding="utf-8"))["baseline"]
    assert "DUP001" in [c["code"] for c in doc["checks"]["fixed"]]
    assert doc["verdict"]["before"] and doc["score"]["before"] is not None
    assert doc["tool_version"]["before"] == doc["tool_version"]["after"]
    assert doc["inputs"]["changed"] == ["prospects.csv"]
    moved = pd.read_csv(out / "outcomes" / "moved.csv", dtype=str, keep_default_na=False)
    gone = moved[(moved["record"] == "prospect") & (moved["new_outcome"] == "")]
    assert sorted(gone["prospect_id"]) == removed
    assert doc["moved_records"]["prospects"] == int((moved["record"] == "prospect").sum())
    assert "fixed: 1" in done.stdout or "DUP001" in done.stdout

    shown = _cli("diff", base, out, "--out", root / "diff")
    assert shown.returncode == 0, shown.stderr
    assert "DUP001 prospect-duplicate-email" in shown.stdout.split("new:")[0]  # under fixed
    assert shown.stdout.strip() in done.stdout  # diff prints what run printed
    written = json.loads((root / "diff" / "diff.json").read_text(encoding="utf-8"))
    assert written["checks"]["fixed"] == doc["checks"]["fixed"]
    assert (root / "diff" / "moved.csv").read_bytes() == (out / "outcomes/moved.csv").read_bytes()


@needs_sample
def test_run_baseline_of_another_org_exits_2(cleaned, tmp_path):
    root, base, org, _ = cleaned
    other = tmp_path / "other"
    shutil.copytree(org, other)
    text = (other / "connector.yml").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("org_name")]
    (other / "connector.yml").write_text("\n".join([*lines, "org_name: Globex", ""]))
    refused = _cli("run", other, "--out", tmp_path / "out", "--no-report", "--baseline", base)
    assert refused.returncode == 2 and "--force-baseline" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "out").exists()
    forced = _cli(
        "run",
        other,
        "--out",
        tmp_path / "out",
        "--no-report",
        "--baseline",
        base,
        "--force-baseline",
    )
    assert forced.returncode == 0, forced.stderr
    assert "warning: compared across orgs" in forced.stdout


def test_diff_of_a_folder_that_is_no_output_exits_2(tmp_path):
    (tmp_path / "a").mkdir()
    done = _cli("diff", tmp_path / "a", tmp_path / "a")
    assert done.returncode == 2 and "readiness.json" in done.stderr


@needs_sample
def test_baseline_may_be_the_out_folder_itself(cleaned, tmp_path):
    _, base, org, removed = cleaned
    out = tmp_path / "acme"
    shutil.copytree(base, out)
    done = _cli("run", org, "--out", out, "--no-report", "--baseline", out)
    assert done.returncode == 0, done.stderr
    doc = json.loads((out / "readiness.json").read_text(encoding="utf-8"))["baseline"]
    assert doc["moved_records"]["prospects"] >= len(removed)
    assert "DUP001" in [c["code"] for c in doc["checks"]["fixed"]]


def test_notebook_views_list_every_change(tmp_path):
    old = _output(tmp_path / "old", {"prospect_id": ["1", "2"], "outcome": ["linked"] * 2}, SF_OLD,
                  checks=[_check("A", "fail", 2), _check("B", "pass", 0)])  # fmt: skip
    new = _output(tmp_path / "new", {"prospect_id": ["1"], "outcome": ["stale_crm_id"]}, SF_OLD,
                  checks=[_check("A", "pass", 0), _check("B", "fail", 1)])  # fmt: skip
    doc = bl.compare(bl.load_output(old), bl.load_output(new)).baseline
    checks = bl.checks_frame(doc)
    assert checks[["change", "code"]].values.tolist() == [["fixed", "A"], ["new", "B"]]
    moves = bl.moves_frame(doc)
    assert sorted(moves["to"]) == ["(no longer in the export)", "stale_crm_id"]
    assert bl.provenance_frame(doc).loc["input files changed", "now"].startswith("none")


@needs_sample
def test_report_section_since_the_last_assessment(cleaned):
    from assessment import report

    root, base, org, _ = cleaned
    out = root / "report-run"
    assert _cli("run", org, "--out", out, "--no-report", "--baseline", base).returncode == 0
    data = report.load(out)
    html = str(report.section(data, "baseline"))
    fixed = html.split("What the cleanup achieved")[1].split("What got worse")[0]
    assert "<code>DUP001</code>" in fixed  # named under what the cleanup achieved
    assert "outcomes/moved.csv" in html and "(no longer in the export)" in html
    assert "the moves come from the changed exports (prospects.csv)" in html
    page = report.render_html(data)
    assert page.index('id="since-last"') < page.index('id="first-sync"')  # near the top
    assert 'id="since-last"' not in report.section(report.load(base), "baseline")


@needs_sample
def test_report_section_when_nothing_moved(tmp_path):
    # Re-assessing unchanged exports with the same tool: the report says the inputs are
    # identical and nothing moved, without attributing moves that did not happen.
    from assessment import report
    from assessment.pipeline import assess

    first, second = tmp_path / "first", tmp_path / "second"
    assess(SAMPLE, first, report=False, plan=False)
    assess(SAMPLE, second, report=False, plan=False, baseline=first)
    html = str(report.section(report.load(second), "baseline"))
    assert "Prospects: none moved." in html and "Salesforce records: none moved." in html
    assert "The input files are identical (same checksums)." in html
    assert "every move comes from" not in html and "the moves come from" not in html
