"""Action CSVs: importable shapes, one row per record, formula-injection safe, atomic."""

from __future__ import annotations

import pandas as pd
import pytest
from test_checks import C, L, assess_org, base_files

from assessment.actions import action_frame, neutralise, write_action_files
from assessment.checks.registry import CheckResult, make_findings
from assessment.errors import AssessmentError


def _result(findings, code="DUP002", name="lead-duplicate-email", status="fail"):
    return CheckResult(
        code, name, code[:3], "warning", status, len(findings), "", "", "", None, findings
    )


def _read(path):
    return pd.read_csv(path, dtype="str", keep_default_na=False, encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("ann@x.com", "ann@x.com"),
        ("a=b", "a=b"),
    ],
)
def test_formula_injection_is_neutralised(tmp_path, raw, written):
    findings = make_findings(
        "DUP002",
        "Lead",
        pd.Series([L[1]]),
        sf_id=pd.Series([L[1]]),
        email=pd.Series([raw]),
        value=pd.Series([raw]),
        message="m",
        suggested_fix=raw,
    )
    result = _result(findings)
    write_action_files([result], tmp_path / "actions")
    frame = _read(tmp_path / "actions" / "DUP002-lead-duplicate-email.csv")
    assert frame.loc[0, "Email"] == written
    assert frame.loc[0, "Value"] == written
    assert frame.loc[0, "Suggested Fix"] == written
    assert result.action_file == "actions/DUP002-lead-duplicate-email.csv"


def test_neutralise_leaves_safe_cells_and_na_alone():
    frame = pd.DataFrame({"a": ["=1", "x", None]}, dtype="str")
    out = neutralise(frame)
    assert out["a"].tolist()[:2] == ["'=1", "x"]
    assert pd.isna(out["a"].iloc[2])


def test_salesforce_rows_use_id_and_prospect_rows_use_prospect_id():
    sf = make_findings("DUP004", "Lead", pd.Series([L[3]]), sf_id=pd.Series([L[3]]), message="m")
    pr = make_findings(
        "DUP004", "Prospect", pd.Series(["7"]), prospect_id=pd.Series(["7"]), message="m"
    )
    out = action_frame(pd.concat([sf, pr]))
    assert out[["Object", "Id", "Prospect Id"]].fillna("").values.tolist() == [
        ["Lead", L[3], ""],
        ["Prospect", "", "7"],
    ]


def test_one_row_per_record_issues_joined():
    f = make_findings(
        "FLD003",
        "Prospect",
        pd.Series(["5", "5", "6"]),
        prospect_id=pd.Series(["5", "5", "6"]),
        field=pd.Series(["Lead.Industry", "Lead.Rating", "Lead.Industry"]),
        value=pd.Series(["Bogus", "Hot!", "Bad"]),
        message="not in picklist",
        suggested_fix="fix",
    )
    out = action_frame(f)
    assert out["Prospect Id"].tolist() == ["5", "6"]
    assert out.loc[0, "Field"] == "Lead.Industry; Lead.Rating"
    assert out.loc[0, "Value"] == "Bogus; Hot!"
    assert out.loc[0, "Issue"] == "not in picklist"


def test_end_to_end_files_for_failed_checks_only(tmp_path):
    snapshot, _, results = assess_org(tmp_path / "org", base_files())
    written = write_action_files(list(results.values()), tmp_path / "out" / "actions")
    names = sorted(p.name for p in written)
    assert "DUP002-lead-duplicate-email.csv" in names
    assert "FLD009-opt-out-sync.csv" in names
    assert "UNA002-unassigned-will-link.csv" in names  # info checks that flag records get a file
    assert not any(n.startswith(("CON", "SYN003")) for n in names)  # passes: no file
    assert results["CON001"].action_file is None
    dup = _read(tmp_path / "out" / "actions" / "DUP002-lead-duplicate-email.csv")
    assert dup["Id"].tolist() == [L[1], L[2]]
    assert dup["Email"].tolist() == ["dup@x.com", "dup@x.com"]
    opt = _read(tmp_path / "out" / "actions" / "FLD009-opt-out-sync.csv")
    assert opt[["Object", "Id", "Prospect Id"]].values.tolist() == [["Contact", C[2], "3"]]
    # no temporary files left behind; nothing written into the export folder
    assert not [p for p in (tmp_path / "out" / "actions").iterdir() if p.name.startswith(".")]
    assert not (tmp_path / "org" / "actions").exists()


def test_refuses_to_write_into_the_input_folder(tmp_path):
    f = make_findings("DUP002", "Lead", pd.Series([L[1]]), sf_id=pd.Series([L[1]]))
    with pytest.raises(AssessmentError, match="export folder"):
        write_action_files([_result(f)], tmp_path / "org" / "actions", input_dir=tmp_path / "org")
    assert not (tmp_path / "org").exists()


def test_not_backfilled_file_is_an_import_by_crm_id(tmp_path):
    _, _, results = assess_org(tmp_path / "org", base_files())
    write_action_files([results["SYN005"]], tmp_path / "out" / "actions")
    frame = _read(tmp_path / "out" / "actions" / "SYN005-existing-records-not-backfilled.csv")
    lead = frame[frame["Id"] == L[3]].iloc[0]
    contact = frame[frame["Id"] == C[1]].iloc[0]
    assert (lead["CRM Lead FID"], lead["CRM Contact FID"]) == (L[3], "")
    assert (contact["CRM Lead FID"], contact["CRM Contact FID"]) == ("", C[1])
    assert (lead["Email"], contact["Email"]) == ("Shared@x.com", "shared@x.com")
