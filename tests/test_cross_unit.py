"""Business units of one Salesforce org checked together after a batch (issue #17.6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from assessment import batch, cross_unit

LEADS = ["00Q000000000001AAA", "00Q000000000002AAA", "00Q000000000003AAA", "00Q000000000004AAA"]


def _unit(root: Path, name: str, prospects: dict, salesforce: dict, **settings) -> Path:
    """A unit's output folder: readiness.json (settings, inputs) and the two outcome files."""
    out = root / name
    (out / "outcomes").mkdir(parents=True)
    inputs = {"Lead.csv": {"table": "sf_leads", "sha256": "lead-digest"}}
    inputs["prospects.csv"] = {"table": "pardot_prospects", "sha256": f"{name}-digest"}
    doc = {"org": name, "settings": {"connector_user": "integration", **settings}, "inputs": inputs}
    (out / "readiness.json").write_text(json.dumps(doc), encoding="utf-8")
    pd.DataFrame(prospects).to_csv(out / "outcomes" / "prospects.csv", index=False)
    pd.DataFrame(salesforce).to_csv(out / "outcomes" / "salesforce.csv", index=False)
    return out


def _mds(value: str) -> dict:
    rule = {"field": "Region__c", "operator": "equals", "value": value}
    return {"marketing_data_sharing": {"Lead": rule, "Contact": rule}}


def _sf(outcomes: list[str]) -> dict:
    return {"sf_object": ["Lead"] * 4, "sf_id": LEADS, "outcome": outcomes}


def _codes(groups):
    return sorted(f["code"] for g in groups for f in g["findings"])


def test_a_clean_split_has_no_findings(tmp_path):
    a = _unit(
        tmp_path,
        "emea",
        {"prospect_id": ["1", "2"], "outcome": ["linked", "match_email"], "sf_id": LEADS[:2]},
        _sf(["linked", "linked", "out_of_scope", "out_of_scope"]),
        **_mds("EMEA"),
    )
    b = _unit(
        tmp_path,
        "amer",
        {
            "prospect_id": ["1", "3"],
            "outcome": ["out_of_scope", "linked"],
            "sf_id": [None, LEADS[2]],
        },
        _sf(["out_of_scope", "out_of_scope", "linked", "no_prospect"]),
        **_mds("AMER"),
    )
    groups = cross_unit.check_units({"emea": a, "amer": b})
    assert groups == [{"by": "salesforce_exports", "units": ["amer", "emea"], "findings": []}]


def test_each_cross_unit_rule_fires(tmp_path):
    a = _unit(
        tmp_path,
        "emea",
        {
            "prospect_id": ["1", "2"],
            "outcome": ["linked", "create_lead"],
            "sf_id": [LEADS[0], None],
        },
        _sf(["linked", "no_prospect", "out_of_scope", "out_of_scope"]),
        **_mds("EMEA"),
    )
    b = _unit(
        tmp_path,
        "amer",  # same rule value as emea (XBU002), claims lead 1 too (XBU001)
        {"prospect_id": ["7"], "outcome": ["match_email_tie"], "sf_id": [LEADS[0]]},
        _sf(["linked", "no_prospect", "out_of_scope", "out_of_scope"]),
        **_mds("EMEA"),
    )
    c = _unit(
        tmp_path,
        "apac",  # shares the integration user without MDS (XBU005)
        {"prospect_id": ["9"], "outcome": ["pardot_only"], "sf_id": [None]},
        _sf(["out_of_scope", "out_of_scope", "out_of_scope", "out_of_scope"]),
    )
    groups = cross_unit.check_units({"emea": a, "amer": b, "apac": c})
    findings = {f["code"]: f for f in groups[0]["findings"] if f["code"] != "XBU002"}
    assert _codes(groups) == ["XBU001", "XBU002", "XBU002", "XBU003", "XBU004", "XBU005"]
    assert findings["XBU001"]["examples"] == [LEADS[0]]
    assert findings["XBU001"]["per_unit"] == {"amer": 1, "emea": 1}
    assert findings["XBU003"]["examples"] == LEADS[:2]  # in scope in emea and amer
    assert findings["XBU004"]["examples"] == LEADS[2:]  # out of every unit's scope
    assert "apac" in findings["XBU005"]["summary"]
    assert all(
        f["source"].startswith("connector-behavior.md") for g in groups for f in g["findings"]
    )
    mine = cross_unit.for_unit(groups, "apac")
    assert mine["units"] == ["amer", "apac", "emea"]
    assert sorted(f["code"] for f in mine["findings"]) == ["XBU004", "XBU005"]


def test_a_named_connector_user_per_unit_is_not_shared(tmp_path):
    sf = _sf(["linked", "out_of_scope", "out_of_scope", "out_of_scope"])
    prospects = {"prospect_id": ["1"], "outcome": ["pardot_only"], "sf_id": [None]}
    a = _unit(tmp_path, "a", prospects, sf, connector_user="sync-a@acme.example")
    b = _unit(
        tmp_path,
        "b",
        prospects,
        _sf(["out_of_scope", "linked", "linked", "linked"]),
        connector_user="sync-b@acme.example",
    )
    assert _codes(cross_unit.check_units({"a": a, "b": b})) == []


def test_units_are_grouped_by_org_id_or_by_the_same_salesforce_exports():
    def doc(digest, org_id=None):
        settings = {"salesforce_org_id": org_id} if org_id else {}
        inputs = {"Lead.csv": {"table": "sf_leads", "sha256": digest}}
        return {"settings": settings, "inputs": inputs}

    groups = cross_unit.group_units(
        {
            "a": doc("x"),
            "b": doc("x"),  # same exports as a
            "c": doc("y", "00D000000000001"),
            "d": doc("z", "00D000000000001"),  # other exports, same org id as c
            "e": doc("w"),  # alone: no group
        }
    )
    assert groups == [
        {"by": "salesforce_exports", "units": ["a", "b"]},
        {"by": "salesforce_org_id", "units": ["c", "d"]},
    ]


def _real_pipeline_available() -> bool:
    try:
        from assessment import synth

        return hasattr(synth, "generate")
    except ImportError:
        return False


@pytest.mark.skipif(not _real_pipeline_available(), reason="synth not available")
def test_batch_of_business_units_writes_cross_unit_findings(tmp_path):
    from assessment.synth import generate

    root = tmp_path / "orgs"
    generate(root / "_base", prospects=150, leads=100, contacts=80, seed=5)
    for unit, region in (("u1", "EMEA"), ("u2", "AMER"), ("u3", "AMER")):  # APAC in no unit
        shutil.copytree(root / "_base", root / unit)
        rule = f"{{field: Region__c, operator: equals, value: {region}}}"
        with (root / unit / "connector.yml").open("a", encoding="utf-8") as fh:
            fh.write(f"marketing_data_sharing:\n  Lead: {rule}\n  Contact: {rule}\n")
    summary = batch.run_batch(root, tmp_path / "out", report=False, workers=1)
    assert [r.status for r in summary.runs] == ["ok", "ok", "ok"]
    (group,) = summary.cross_unit
    codes = {f["code"] for f in group["findings"]}
    assert {"XBU002", "XBU003", "XBU004"} <= codes and "XBU005" not in codes
    leads = pd.read_csv(root / "u1" / "Lead.csv", dtype=str)
    contacts = pd.read_csv(root / "u1" / "Contact.csv", dtype=str)
    apac = leads["REGION__C"].eq("APAC").sum() + contacts["Region__c"].eq("APAC").sum()
    nowhere = next(f for f in group["findings"] if f["code"] == "XBU004")
    assert nowhere["affected"] == apac  # the leads and contacts of the region no unit takes
    for unit in ("u1", "u2", "u3"):
        readiness = json.loads((tmp_path / "out" / unit / "readiness.json").read_text())
        assert readiness["cross_unit"]["units"] == ["u1", "u2", "u3"]
    u1 = json.loads((tmp_path / "out" / "u1" / "readiness.json").read_text())["cross_unit"]
    assert "XBU002" not in {f["code"] for f in u1["findings"]}  # u1's rule is its own
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert index["cross_unit"][0]["units"] == ["u1", "u2", "u3"]
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "Units of one Salesforce org" in page and "XBU002" in page
    assert not (tmp_path / "out" / batch.SCRATCH).exists()
    assert [r.cross_unit for r in summary.runs] == [
        len(
            json.loads((tmp_path / "out" / u / "readiness.json").read_text())["cross_unit"][
                "findings"
            ]
        )
        for u in ("u1", "u2", "u3")
    ]

    again = batch.run_batch(root, tmp_path / "out", report=False, workers=2)  # history per unit
    assert [(r.verdict_before, r.score_before) for r in again.runs] == [
        (r.verdict, r.score) for r in summary.runs
    ]
    assert [r.cross_unit for r in again.runs] == [r.cross_unit for r in summary.runs]
    from assessment import report

    html = str(report.section(report.load(tmp_path / "out" / "u2"), "cross_unit"))
    assert "Business units of this Salesforce org" in html and "XBU002" in html
    assert "u1, u2, u3" in html


def test_units_are_predicted_before_the_assessment(tmp_path):
    def org(name, lead_text, yml=""):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "Lead.csv").write_text(lead_text, encoding="utf-8")
        (folder / "prospects.csv").write_text(f"Prospect Id\n{name}\n", encoding="utf-8")
        (folder / "connector.yml").write_text(yml, encoding="utf-8")
        return folder

    folders = [
        org("a", "Id\n00Q000000000001AAA\n"),
        org("b", "Id\n00Q000000000001AAA\n"),  # the same Salesforce export as a
        org("c", "Id\n00Q000000000002AAA\n"),  # same size, other content: alone
        org("d", "Id\n1\n", "salesforce_org_id: 00D000000000009\n"),
        org("e", "Id\n2\n", "salesforce_org_id: 00D000000000009\n"),  # same org id as d
    ]
    assert batch.predicted_units(folders) == {"a", "b", "d", "e"}
