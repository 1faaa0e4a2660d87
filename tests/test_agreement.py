"""Checks agree with the simulator: for each kind of predicted failure, the records the
simulator marks are the records the matching check lists (issue #10 item 4).

On the sample org and a second synthetic org (every injected kind) the sets are equal; on small
random orgs (hypothesis) they are equal for the checks that read the simulator's codes, and
the simulator's marks are contained in the value checks' lists (FLD003, FLD004, DUP006 list
every prospect's bad value; the simulator only the values it writes). The core invariants hold
on every random org: each prospect gets exactly one outcome, and a Salesforce record is linked
by email by at most one prospect, never one already held by a CRM-id link (M-1).
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assessment.checks import run_checks
from assessment.load import load_org
from assessment.normalize import to_id18
from assessment.sync import PROSPECT_OUTCOMES, simulate
from assessment.sync.reasons import has_code
from assessment.synth import generate

ROOT = Path(__file__).resolve().parents[1]


def _ids(frame, column="record_id") -> set[str]:
    return set(frame[column].dropna().astype(str))


def _marked(p, *codes, outcomes=None):
    hit = has_code(p["reason_code"], *codes)
    if outcomes is not None:
        hit &= p["outcome"].isin(outcomes)
    return _ids(p[hit], "prospect_id")


def _findings(results, code, **where):
    f = {r.code: r for r in results}[code].findings
    for column, value in where.items():
        f = f[f[column].astype(str).str.contains(value, regex=False)]
    return f


# (name, check, simulator side, check side, equal on every org (else: simulator ⊆ check))
AGREEMENTS = [
    (
        "stale CRM ids",
        lambda sim, res: _ids(sim.prospects[sim.prospects["outcome"] == "stale_crm_id"], "prospect_id"),
        lambda sim, res: _ids(_findings(res, "SYN001")),
        True,
    ),
    (
        "required field / blank last name (FLD007)",
        lambda sim, res: _marked(sim.prospects, "F-15.last_name_blank", "F-15.required_blank",
                                 outcomes=["will_error"])
        | _marked(sim.prospects, "CR-5.last_name_blank", outcomes=["create_lead", "will_error"]),
        lambda sim, res: _ids(_findings(res, "FLD007")),
        True,
    ),
    (
        "create_lead to an unmapped owner (USR002)",
        lambda sim, res: _marked(sim.prospects, "U-4.owner_unmapped"),
        lambda sim, res: _ids(_findings(res, "USR002")),
        True,
    ),
    (
        "unassigned, no match (UNA001)",
        lambda sim, res: _marked(sim.prospects, "CR-4.unassigned_no_match", outcomes=["pardot_only"]),
        lambda sim, res: _ids(_findings(res, "UNA001")),
        True,
    ),
    (
        "not back-filled (SYN005)",
        lambda sim, res: _ids(sim.salesforce[
            has_code(sim.salesforce["reason_code"], "CR-11.auto_create_off", "CR-11.not_retroactive",
                     "CR-11.created_before_auto_create") & sim.salesforce["email_key"].notna()
        ], "sf_id"),
        lambda sim, res: _ids(_findings(res, "SYN005")),
        True,
    ),
    (
        "restricted picklist (FLD003)",
        lambda sim, res: _marked(sim.prospects, "F-15.create_restricted_picklist",
                                 "F-2.write_restricted_picklist", outcomes=["will_error"]),
        lambda sim, res: _ids(_findings(res, "FLD003", message="restricted")),
        False,
    ),
    (
        "value too long (FLD004)",
        lambda sim, res: _marked(sim.prospects, "F-15.create_too_long", "F-2.write_too_long",
                                 outcomes=["will_error"]),
        lambda sim, res: _ids(_findings(res, "FLD004")),
        False,
    ),
    (
        "invalid email on create (DUP006)",
        lambda sim, res: _marked(sim.prospects, "M-14.invalid_email", "M-14.invalid_email_no_match"),
        lambda sim, res: _ids(_findings(res, "DUP006", message="invalid")),
        False,
    ),
    (
        "invisible to the connector user (CON004)",
        lambda sim, res: _ids(sim.salesforce[
            has_code(sim.salesforce["reason_code"], "M-3.not_visible")
            & ~sim.salesforce["sf_object"].str.contains("Account")], "sf_id"),
        lambda sim, res: _ids(_findings(res, "CON004").dropna(subset=["sf_id"]), "sf_id"),
        True,
    ),
]  # fmt: skip


def _analyse(folder: Path):
    snapshot = load_org(folder)
    sim = simulate(snapshot)
    return sim, run_checks(snapshot, sim)


def _assert_agree(sim, results, all_equal: bool) -> None:
    for name, sim_side, check_side, equal in AGREEMENTS:
        marked, listed = sim_side(sim, results), check_side(sim, results)
        if equal or all_equal:
            assert marked == listed, (name, sorted(marked ^ listed)[:10])
        else:
            assert marked <= listed, (name, sorted(marked - listed)[:10])


@pytest.fixture(scope="module")
def synthetic_orgs(tmp_path_factory):
    second = tmp_path_factory.mktemp("agree") / "org8"
    generate(second, prospects=3000, leads=2000, contacts=1500, seed=8)
    return [ROOT / "data" / "sample", second]


def test_checks_list_what_the_simulator_marks_on_synthetic_orgs(synthetic_orgs):
    for folder in synthetic_orgs:
        sim, results = _analyse(folder)
        _assert_agree(sim, results, all_equal=True)
        # Every agreement is exercised: each kind has records on at least one org.
        assert len(sim.prospects) == len(set(sim.prospects["prospect_id"]))


def test_every_agreement_is_exercised_by_the_synthetic_orgs(synthetic_orgs):
    seen = {name: 0 for name, *_ in AGREEMENTS}
    for folder in synthetic_orgs:
        sim, results = _analyse(folder)
        for name, sim_side, _, _ in AGREEMENTS:
            seen[name] += len(sim_side(sim, results))
    unexercised = {n for n, c in seen.items() if c == 0} - {
        "invisible to the connector user (CON004)"
    }
    assert not unexercised


# ----------------------------------------------------------------------------- random orgs
FILES = {
    "sf_leads": "Lead.csv",
    "sf_contacts": "Contact.csv",
    "sf_users": "User.csv",
    "pardot_prospects": "prospects.csv",
    "pardot_users": "pardot_users.csv",
    "field_mappings": "field_mappings.csv",
}
U1, U2 = to_id18("005000000000001"), to_id18("005000000000002")
LEADS = [to_id18(f"00Q{n:012d}") for n in range(1, 6)]
CONTACTS = [to_id18(f"003{n:012d}") for n in range(1, 6)]
GONE = to_id18("00Q000000000099")
EMAILS = ["a@x.com", "A@x.com", " b@x.com", "b@x.com", "c@x.com", "bad", "d@x", ""]
REGIONS = ["EMEA", "emea", "EMEA;AMER", "EMEA; AMER", "LATAM", ""]
TITLES = ["CEO", "Head of Everything Important", ""]
DESCRIBE = [
    {"name": "LastName", "type": "string", "length": 80, "nillable": False, "createable": True},
    {"name": "Company", "type": "string", "length": 255, "nillable": False, "createable": True},
    {"name": "Email", "type": "email", "length": 80, "nillable": True, "createable": True},
    {"name": "Title", "type": "string", "length": 20, "nillable": True, "createable": True},
    {"name": "Region__c", "type": "multipicklist", "length": 255, "nillable": True,
     "createable": True, "restrictedPicklist": True,
     "picklistValues": [{"value": v, "active": True} for v in ("EMEA", "AMER", "APAC")]},
]  # fmt: skip
MAPPING = [
    {"Field Name": "Job Title", "Field ID": "job_title", "Type": "Text", "Salesforce Field": "Title",
     "Sync Behavior": "Use Pardot's value"},
    {"Field Name": "Region", "Field ID": "Region", "Type": "Multi-Select",
     "Salesforce Field": "Region__c", "Sync Behavior": "Use Pardot's value"},
]  # fmt: skip


@st.composite
def random_org(draw):
    """A tiny export folder's rows and connector settings."""
    leads = [
        {"Id": LEADS[i], "Email": draw(st.sampled_from(EMAILS)), "LastName": "L", "Company": "Co",
         "OwnerId": draw(st.sampled_from([U1, U2])), "Title": draw(st.sampled_from(TITLES)),
         "Region__c": draw(st.sampled_from(REGIONS)),
         "LastModifiedDate": f"2024-01-0{draw(st.integers(1, 3))}T00:00:00Z"}
        for i in range(draw(st.integers(0, 4)))
    ]  # fmt: skip
    contacts = [
        {"Id": CONTACTS[i], "Email": draw(st.sampled_from(EMAILS)), "LastName": "C",
         "OwnerId": draw(st.sampled_from([U1, U2])), "Region__c": draw(st.sampled_from(REGIONS))}
        for i in range(draw(st.integers(0, 3)))
    ]  # fmt: skip
    crm = st.sampled_from(["", "", GONE, "[[crm_deleted]]", *LEADS[:3], *CONTACTS[:2]])
    prospects = [
        {"id": 1000 + i, "email": draw(st.sampled_from(EMAILS)),
         "last_name": draw(st.sampled_from(["P", "", "P"])),
         "crm_lead_fid": draw(crm), "user_id": draw(st.sampled_from(["", "7", "8", "9"])),
         "job_title": draw(st.sampled_from(TITLES)), "Region": draw(st.sampled_from(REGIONS)),
         "updated_at": f"2024-02-0{draw(st.integers(1, 3))} 00:00:00"}
        for i in range(draw(st.integers(1, 6)))
    ]  # fmt: skip
    config = {
        "email_case_insensitive": draw(st.booleans()),
        "allow_multiple_prospects_same_email": draw(st.booleans()),
        "tie_break": draw(st.sampled_from(["contact_then_newest", "newest", "oldest"])),
        "blank_last_name": draw(st.sampled_from(["error", "risk"])),
        "connector_user": "sync@x.com",
        "connector_user_visible_owner_ids": draw(st.sampled_from([[], [U1]])),
    }
    return leads, contacts, prospects, config


def _write(folder: Path, leads, contacts, prospects, config) -> None:
    tables = {
        "sf_leads": leads,
        "sf_contacts": contacts,
        "sf_users": [
            {"Id": U1, "Username": "rep@x.com", "Email": "rep@x.com", "IsActive": "true"},
            {"Id": U2, "Username": "old@x.com", "Email": "old@x.com", "IsActive": "false"},
        ],
        "pardot_users": [
            {"id": 7, "email": "rep@x.com", "salesforceId": U1},
            {"id": 8, "email": "old@x.com", "salesforceId": U2},
            {"id": 9, "email": "nobody@x.com"},
        ],
        "pardot_prospects": prospects,
        "field_mappings": MAPPING,
    }
    for table, rows in tables.items():
        if not rows:
            continue
        header = list(dict.fromkeys(k for r in rows for k in r))
        with open(folder / FILES[table], "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=header)
            w.writeheader()
            w.writerows(rows)
    (folder / "connector.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (folder / "Lead_describe.json").write_text(json.dumps({"fields": DESCRIBE}))
    (folder / "Contact_describe.json").write_text(json.dumps({"fields": DESCRIBE[2:]}))


def _p(pid, email, user="7", **kw):
    row = {
        "id": pid,
        "email": email,
        "last_name": "P",
        "crm_lead_fid": "",
        "user_id": user,
        "job_title": "CEO",
        "Region": "EMEA",
        "updated_at": "2024-02-01 00:00:00",
    }
    return {**row, **kw}  # fmt: skip


# One org with every kind the agreements compare, so each is exercised on every run.
RICH = (
    [{"Id": LEADS[0], "Email": "a@x.com", "LastName": "L", "Company": "Co", "OwnerId": U1,
      "Region__c": "EMEA"},
     {"Id": LEADS[1], "Email": "b@x.com", "LastName": "L", "Company": "Co", "OwnerId": U2,
      "Region__c": ""}],
    [{"Id": CONTACTS[0], "Email": "c@x.com", "LastName": "C", "OwnerId": U2}],
    [_p(1, "a@x.com", Region="EMEA; AMER"), _p(2, "", user=""), _p(3, "new@x.com", user=""),
     _p(4, "new2@x.com", user="9"), _p(5, "new3@x.com", last_name=""), _p(6, "bad"),
     _p(7, "b@x.com", job_title=TITLES[1]), _p(8, "gone@x.com", crm_lead_fid=GONE),
     _p(9, "new4@x.com", user="8"), _p(10, "new5@x.com", Region="EMEA;AMER")],
    {"blank_last_name": "error", "connector_user": "sync@x.com",
     "connector_user_visible_owner_ids": [U1]},
)  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(RICH)
@given(random_org())
def test_invariants_and_agreement_on_random_orgs(org):
    with tempfile.TemporaryDirectory(prefix="agree-") as tmp:
        _write(Path(tmp), *org)
        sim, results = _analyse(Path(tmp))
    p = sim.prospects
    # Every prospect gets exactly one outcome.
    assert len(p) == len(org[2]) and p["prospect_id"].is_unique
    assert p["outcome"].isin(PROSPECT_OUTCOMES).all()
    # A record is linked by email by at most one prospect, never one a CRM id holds (M-1); the
    # codes stay on a pair whose write later fails (will_error).
    by_email = p[has_code(p["reason_code"], "M-5.one_match", "M-7.tie")]
    by_crm = p[has_code(p["reason_code"], "M-2.linked_by_crm_id")]
    assert by_email["sf_id"].notna().all() and by_email["sf_id"].is_unique
    assert not set(by_email["sf_id"]) & set(by_crm["sf_id"])
    # The Salesforce side says linked exactly for the records prospects link to.
    targeted = p[p["sf_id"].notna() & (p["outcome"] != "out_of_scope")]
    linked = sim.salesforce[sim.salesforce["outcome"] == "linked"]
    assert set(linked["sf_id"]) == set(targeted["sf_id"])
    _assert_agree(sim, results, all_equal=False)
