"""The synthetic org's injected problems are found by their checks with the injected counts,
every prospect and Salesforce record gets the ground-truth outcome, and a clean org passes.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from assessment.pipeline import analyse
from assessment.synth import generate

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def sample():
    manifest = json.loads((SAMPLE / "manifest.json").read_text())
    snapshot, simulation, results = analyse(SAMPLE)
    return manifest, simulation, {r.code: r for r in results}


def test_every_injected_problem_is_found_with_its_count(sample):
    manifest, _, results = sample
    assert manifest["expected_checks"], "the sample must carry injected problems"
    found = {code: results[code].affected for code in manifest["expected_checks"]}
    assert found == manifest["expected_checks"]
    for code in manifest["expected_checks"]:
        assert results[code].status == "fail", code


def test_checks_without_injected_problems_do_not_fail_with_blocker(sample):
    manifest, _, results = sample
    unexpected = [
        c
        for c, r in results.items()
        if r.status == "fail" and r.severity == "blocker" and c not in manifest["expected_checks"]
    ]
    assert unexpected == []


def test_prospect_outcomes_equal_ground_truth(sample):
    _, simulation, _ = sample
    truth = pd.read_csv(SAMPLE / "_truth" / "prospects.csv", dtype=str, keep_default_na=False)
    got = simulation.prospects.astype({"prospect_id": "str"}).set_index("prospect_id")
    truth = truth.set_index("prospect_id")
    assert len(got) == len(truth)
    merged = truth.join(got[["outcome", "sf_id"]], how="left")
    wrong = merged[merged["outcome"] != merged["expected_outcome"]]
    assert wrong.empty, wrong.head(10).to_string()
    sf = merged["sf_id"].fillna("")
    assert (sf == merged["expected_sf_id"]).all()


def test_salesforce_outcomes_equal_ground_truth(sample):
    _, simulation, _ = sample
    truth = pd.read_csv(SAMPLE / "_truth" / "salesforce.csv", dtype=str, keep_default_na=False)
    got = simulation.salesforce.set_index(["sf_object", "sf_id"])["outcome"]
    merged = truth.set_index(["sf_object", "sf_id"]).join(got, how="left")
    assert len(merged) == len(simulation.salesforce)
    wrong = merged[merged["outcome"] != merged["expected_outcome"]]
    assert wrong.empty, wrong.head(10).to_string()


def test_clean_org_passes_every_check(tmp_path):
    generate(tmp_path / "clean", prospects=900, leads=500, contacts=400, seed=3, clean=True)
    _, simulation, results = analyse(tmp_path / "clean")
    by_code = {r.code: r for r in results}
    # A paused connector that never ran has no sync error list: the optional export is absent,
    # so SYN004 cannot run and INP001 (info) says so. Everything else passes.
    assert by_code["SYN004"].status == "not_run"
    assert "sync_errors" in by_code["INP001"].summary + str(
        by_code["INP001"].findings["record_id"].tolist()
    )
    failing = {r.code: r.summary for r in results if r.status == "fail" and r.code != "INP001"}
    assert failing == {}
    assert [r.code for r in results if r.status == "not_run"] == ["SYN004"]
    outcomes = set(simulation.prospects["outcome"])
    assert outcomes <= {"linked", "match_email"}


def test_sample_shows_the_issue_11_cases(sample):
    # Person-account pairs in fields.csv and FLD009, recycle-bin link claims, a non-number
    # written to a currency field (#11).
    manifest, simulation, results = sample
    for kind in ("person_account_opt_out", "person_account_name_differs", "recycle_bin_link",
                 "non_numeric_number"):  # fmt: skip
        assert manifest["kinds"][kind]["count"] > 0, kind
    fields = simulation.fields.set_index("pardot_field_id")
    assert fields.loc["first_name", "pairs_person_account"] > 0
    assert (
        fields.loc["opted_out", "pairs"]
        == fields.loc["opted_out"][["pairs_lead", "pairs_contact", "pairs_person_account"]].sum()
    )
    fld009 = results["FLD009"].findings
    pa_opt_outs = manifest["kinds"]["person_account_opt_out"]["ids"]["prospects"]
    assert (fld009["object"] == "PersonAccount").sum() == len(pa_opt_outs) > 0
    held = simulation.salesforce["reason_code"] == "M-1.held_by_recycle_bin"
    assert held.sum() == len(manifest["kinds"]["recycle_bin_link"]["ids"]["leads"])
    errors = simulation.prospects["error_code"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    assert errors.sum() == len(manifest["kinds"]["non_numeric_number"]["ids"]["prospects"])


def test_same_email_org_with_auto_create_off_equals_ground_truth(tmp_path):
    # AMPSEA with auto-create stated off: nothing is shadowed and nothing created after the
    # enable date gets a prospect (CR-9, CR-10, #11).
    manifest = generate(tmp_path / "ampsea", prospects=900, leads=600, contacts=450, seed=8,
                        same_email=True)  # fmt: skip
    assert manifest["settings"]["allow_multiple_prospects_same_email"] is True
    assert manifest["settings"]["auto_create_prospects_from_salesforce"] is False
    _, simulation, _ = analyse(tmp_path / "ampsea")
    truth = pd.read_csv(tmp_path / "ampsea" / "_truth" / "salesforce.csv", dtype=str,
                        keep_default_na=False)  # fmt: skip
    got = simulation.salesforce.set_index(["sf_object", "sf_id"])
    merged = truth.set_index(["sf_object", "sf_id"]).join(got[["outcome", "reason_code"]])
    assert (merged["outcome"] == merged["expected_outcome"]).all()
    shadowed = merged[merged["case"].str.endswith("_shadowed")]
    assert len(shadowed) and (shadowed["reason_code"] == "CR-11.auto_create_off").all()
    p_truth = pd.read_csv(tmp_path / "ampsea" / "_truth" / "prospects.csv", dtype=str,
                          keep_default_na=False).set_index("prospect_id")  # fmt: skip
    p_got = simulation.prospects.set_index("prospect_id")["outcome"]
    assert (p_truth.join(p_got)["outcome"] == p_truth["expected_outcome"]).all()
