"""The synthetic org generator: real export shapes, exact counts, ground truth that holds.

Every expectation is recounted from the written files with plain pandas (not from the
generator's own frames), so a generator bug cannot confirm itself.
"""

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from assessment.cli import main
from assessment.errors import InputError
from assessment.normalize import email_is_valid, sf_id18
from assessment.synth import BAD_REGIONS, KINDS, REGIONS, generate

COUNTS = {"prospects": 3000, "leads": 2000, "contacts": 1500}


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "org7"
    manifest = generate(out, seed=7, **COUNTS)
    return out, manifest


@pytest.fixture(scope="module")
def org_v4(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "org8"
    return out, generate(out, seed=8, **COUNTS)


@pytest.fixture(scope="module")
def clean_org(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "clean"
    return out, generate(out, prospects=500, leads=300, contacts=200, seed=5, clean=True)


@pytest.fixture(scope="module")
def frames(org):
    out, _ = org
    return {
        "leads": _csv(out / "Lead.csv"),
        "contacts": _csv(out / "Contact.csv"),
        "accounts": _csv(out / "Account.csv"),
        "users": _csv(out / "User.csv"),
        "prospects": _csv(out / "prospects.csv"),
        "pardot_users": _csv(out / "pardot_users.csv"),
        "truth_p": _csv(out / "_truth" / "prospects.csv"),
        "truth_sf": _csv(out / "_truth" / "salesforce.csv"),
    }


def test_same_seed_gives_identical_files_and_another_seed_differs(org, tmp_path):
    out, _ = org
    again = tmp_path / "again"
    generate(again, seed=7, **COUNTS)
    assert _hashes(again) == _hashes(out)
    other = tmp_path / "other"
    generate(other, seed=9, **COUNTS)
    assert _hashes(other)["Lead.csv"] != _hashes(out)["Lead.csv"]


def test_manifest_counts_equal_the_rows_of_the_written_files(org, frames):
    out, manifest = org
    on_disk = {
        "sf_leads": len(frames["leads"]),
        "sf_contacts": len(frames["contacts"]),
        "sf_accounts": len(frames["accounts"]),
        "sf_users": len(frames["users"]),
        "pardot_prospects": len(frames["prospects"]),
        "pardot_users": len(frames["pardot_users"]),
        "field_mappings": len(_csv(out / "field_mappings.csv")),
    }
    assert manifest["counts"] == on_disk
    assert on_disk["pardot_prospects"] == 3000
    assert on_disk["sf_leads"] == 2000
    assert on_disk["sf_contacts"] == 1500
    assert json.loads((out / "manifest.json").read_text()) == manifest


def test_truth_covers_every_record_exactly_once(frames):
    tp, tsf = frames["truth_p"], frames["truth_sf"]
    assert sorted(tp["prospect_id"]) == sorted(frames["prospects"]["Prospect Id"])
    assert tp["prospect_id"].is_unique
    leads = tsf[tsf.sf_object == "Lead"]["sf_id"]
    contacts = tsf[tsf.sf_object == "Contact"]["sf_id"]
    pas = tsf[tsf.sf_object == "PersonAccount"]["sf_id"]
    assert sorted(leads) == sorted(frames["leads"]["ID"])
    assert sorted(contacts) == sorted(frames["contacts"]["Id"])
    accounts = frames["accounts"]
    assert sorted(pas) == sorted(accounts[accounts.ispersonaccount == "true"]["id"])
    outcomes = {"linked", "match_email", "match_email_tie", "create_lead", "pardot_only"}
    outcomes |= {"stale_crm_id", "out_of_scope", "will_error"}
    assert set(tp.expected_outcome) <= outcomes
    assert set(tsf.expected_outcome) <= {
        "linked",
        "creates_prospect",
        "no_prospect",
        "out_of_scope",
    }


def _key(s: pd.Series) -> pd.Series:
    return s.str.strip().str.casefold()


def test_injected_kinds_recounted_from_the_files(org, frames):
    _, manifest = org
    kinds = manifest["kinds"]
    affected = {k: v["affected"] for k, v in kinds.items()}
    leads, contacts, prospects = frames["leads"], frames["contacts"], frames["prospects"]
    live = leads[leads.ISCONVERTED == "false"]
    lead_keys = _key(live.EMAIL[live.EMAIL != ""])
    contact_keys = _key(contacts.Email[contacts.Email != ""])
    # DUP002 / DUP003: same email twice within one object (a group of two counts 2).
    assert lead_keys.duplicated(keep=False).sum() == affected["duplicate_leads"]["DUP002"] == 60
    assert contact_keys.duplicated(keep=False).sum() == affected["duplicate_contacts"]["DUP003"]
    # DUP004: unconverted leads and contacts sharing an email.
    shared = lead_keys.isin(contact_keys).sum() + contact_keys.isin(lead_keys).sum()
    assert shared == affected["lead_contact_shared_email"]["DUP004"]
    # DUP001: prospects sharing a normalised email.
    p_keys = _key(prospects.Email)
    assert p_keys.duplicated(keep=False).sum() == affected["duplicate_prospects"]["DUP001"]
    # DUP005: raw email differs from its key; each variant's contact is counted too.
    variants = (prospects.Email != p_keys).sum()
    assert 2 * variants == affected["email_case_whitespace_variants"]["DUP005"]
    # DUP006: blank emails on leads/contacts, invalid emails on prospects.
    blank = (leads.EMAIL == "").sum() + (contacts.Email == "").sum()
    invalid = (~email_is_valid(prospects.Email)).sum()
    assert blank == kinds["blank_email_records"]["count"]
    assert invalid == kinds["invalid_prospect_email"]["count"]
    # UNA001 + UNA002: unassigned prospects.
    unassigned = (prospects.User == "").sum()
    assert unassigned == kinds["unassigned_no_match"]["count"] + len(
        kinds["unassigned_will_link"]["ids"]["prospects"]
    )
    # SYN002: 15-character CRM ids on prospects and 15-character user ids (report export).
    crm = pd.concat([prospects["CRM Lead FID"], prospects["CRM Contact FID"]])
    real = ~crm.str.startswith("[[")  # "[[crm_deleted]]" is 15 characters long too
    assert ((crm.str.len() == 15) & real).sum() == affected["short_crm_ids"]["SYN002"] == 15
    assert (frames["users"]["User ID"].str.len() == 15).all()
    # SYN001: valid ids absent from the export, and [[crm_deleted]].
    known = set(leads.ID) | set(contacts.Id) | set(frames["accounts"].personcontactid)
    ids18 = crm[crm.str.len() == 18]
    assert (~ids18.isin(known)).sum() == affected["stale_crm_ids"]["SYN001"]
    assert (crm == "[[crm_deleted]]").sum() == affected["crm_deleted_sentinel"]["SYN001"]
    assert (prospects["CRM Lead FID"] == "[[crm_ignore_prospect]]").sum() == len(
        kinds["crm_ignore_sentinel"]["ids"]["prospects"]
    )
    # Converted leads, and the prospects pointing at them (M-17).
    converted = leads[leads.ISCONVERTED == "true"]
    assert len(converted) == len(kinds["converted_leads"]["ids"]["leads"])
    assert converted.CONVERTEDCONTACTID.isin(contacts.Id).all()
    assert prospects["CRM Lead FID"].isin(converted.ID).sum() == len(converted)
    # FLD003 / FLD004 / FLD007 on would-be-created leads.
    region = prospects.Region
    assert (~region.isin(REGIONS + [""])).sum() == affected["restricted_picklist_value"]["FLD003"]
    assert set(region) - set(REGIONS) - {""} <= set(BAD_REGIONS)
    assert (prospects["Job Title"].str.len() > 128).sum() == affected["value_too_long"]["FLD004"]
    assert (prospects["Last Name"] == "").sum() == affected["blank_last_name"]["FLD007"]
    # Person accounts and their PersonContactIds.
    pas = frames["accounts"][frames["accounts"].ispersonaccount == "true"]
    pa_kinds = ("person_accounts", "person_account_opt_out", "person_account_name_differs")
    assert len(pas) == sum(kinds[k]["count_by_object"]["accounts"] for k in pa_kinds)
    assert pas.personcontactid.str.startswith("003").all()
    # Users: one inactive mapped user, one Pardot user without a Salesforce user, and one left
    # unmapped although a Salesforce user shares its email (U-1).
    assert (frames["users"].Active == "0").sum() == affected["owner_inactive"]["USR003"] == 1
    unmapped = frames["pardot_users"][frames["pardot_users"].salesforceId == ""]
    assert len(unmapped) == 2
    assert unmapped.email.isin(frames["users"].Email).sum() == 1
    # A partner-community user (U-7) and the queue of queue-routed prospects (CR-2).
    assert (frames["users"]["User Type"] == "PowerPartner").sum() == 1
    queue = _csv(org[0] / "Queue.csv")
    assert len(queue) == 1 and queue.Id.str.startswith("00G").all()
    assert (prospects.User == queue.Name.iloc[0]).sum() == kinds["queue_assigned"]["count"]
    # Every kind is present with a positive count, and its ids name real records.
    assert set(kinds) == set(KINDS)
    assert all(v["count"] > 0 for v in kinds.values())
    p_ids = set(prospects["Prospect Id"])
    for entry in kinds.values():
        assert set(map(str, entry["ids"].get("prospects", []))) <= p_ids


def test_truth_rules_hold_on_the_written_files(frames):
    """Spot-check the expected outcomes against §10 with an independent reading of the files."""
    tp, prospects, leads = frames["truth_p"], frames["prospects"], frames["leads"]
    contacts, accounts = frames["contacts"], frames["accounts"]
    p = prospects.merge(tp, left_on="Prospect Id", right_on="prospect_id")
    crm = p["CRM Contact FID"].where(p["CRM Contact FID"] != "", p["CRM Lead FID"])
    # linked by an 18-char id: expected id is that id (converted leads follow ConvertedContactId).
    linked = p[(p.expected_outcome == "linked") & (crm.str.len() == 18)]
    conv = dict(zip(leads.ID, leads.CONVERTEDCONTACTID, strict=True))
    follow = crm[linked.index].map(lambda i: conv.get(i) or i)
    assert (follow == linked.expected_sf_id).all()
    # 15-char ids: expected id is the 18-char form (ID-2).
    short = p[(crm.str.len() == 15) & ~crm.str.startswith("[[")]
    assert (short.expected_sf_id == sf_id18(crm[short.index])[0]).all()
    # match_email: no CRM id and exactly one live record with that email key.
    pool = pd.concat(
        [
            pd.DataFrame({"id": leads.ID, "k": _key(leads.EMAIL)})[leads.ISCONVERTED == "false"],
            pd.DataFrame({"id": contacts.Id, "k": _key(contacts.Email)}),
            pd.DataFrame({"id": accounts.personcontactid, "k": _key(accounts.personemail)}),
        ]
    )
    pool = pool[pool.k != ""]
    by_key = pool.groupby("k")["id"].agg(list)
    m = p[p.expected_outcome == "match_email"]
    assert (crm[m.index] == "").all()
    cands = _key(m.Email).map(by_key)
    assert (cands.map(len) == 1).all()
    assert (cands.map(lambda c: c[0]) == m.expected_sf_id).all()
    # ties: several candidates, the pick is one of them (contact first, M-7).
    t = p[p.expected_outcome == "match_email_tie"]
    tie_cands = _key(t.Email).map(by_key)
    assert (tie_cands.map(len) == 2).all()
    assert all(s in c for s, c in zip(t.expected_sf_id, tie_cands, strict=True))
    has_contact = tie_cands.map(lambda c: any(i.startswith("003") for i in c))
    assert t.expected_sf_id[has_contact].str.startswith("003").all()
    # ... and between two records of one object, the newest LastModifiedDate (policy default).
    modified = dict(zip(leads.ID, leads.LASTMODIFIEDDATE, strict=True))
    modified |= dict(
        zip(contacts.Id, contacts.LastModifiedDate.str.slice(0, 19) + ".000Z", strict=True)
    )
    newest = tie_cands.map(lambda c: max(c, key=modified.get))
    same_object = tie_cands.map(lambda c: c[0][:3] == c[1][:3])
    assert same_object.sum() > 0 and (~same_object).sum() > 0
    assert (newest[same_object] == t.expected_sf_id[same_object]).all()

    # pardot_only: unassigned without a match, or [[crm_ignore_prospect]] (CR-4, M-22).
    po = p[p.expected_outcome == "pardot_only"]
    ignored = po["CRM Lead FID"] == "[[crm_ignore_prospect]]"
    ignored |= po["Is Archived"] == "Yes"  # recycle bin: keeps its link claim (M-1, #11)
    assert (po.User[~ignored] == "").all()
    assert _key(po.Email[~ignored]).map(by_key).isna().all()
    # create_lead / will_error: assigned, no CRM id, no candidate.
    cl = p[p.expected_outcome.isin(["create_lead", "will_error"])]
    assert (cl.User != "").all() and (crm[cl.index] == "").all()
    assert _key(cl.Email).map(by_key).isna().all()
    assert set(cl.expected_error_code) == {
        "",
        "INACTIVE_OWNER_OR_USER",
        "INVALID_EMAIL_ADDRESS",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "STRING_TOO_LONG",
        "INVALID_TYPE_ON_FIELD_IN_RECORD",  # Annual Revenue "50-100" (§3.7, #11)
    }
    # Owners: a linked lead's owner (Salesforce wins, U-3); none for an unmapped user (U-4).
    lead_owner = dict(zip(leads.ID, leads.OWNERID, strict=True))
    on_lead = p[
        p.expected_outcome.isin(["linked", "match_email"]) & p.expected_sf_id.str.startswith("00Q")
    ]
    assert (on_lead.expected_sf_id.map(lead_owner) == on_lead.expected_owner_sf_user_id).all()
    assert (p[p.case == "owner_unmapped"].expected_owner_sf_user_id == "").all()
    assert (
        p[p.expected_outcome.isin(["pardot_only", "stale_crm_id"])].expected_owner_sf_user_id == ""
    ).all()
    # Salesforce side: blank-email and converted records never link.
    tsf = frames["truth_sf"].set_index("sf_id")
    assert (tsf.loc[leads.ID[leads.EMAIL == ""], "expected_outcome"] == "no_prospect").all()
    assert (
        tsf.loc[leads.ID[leads.ISCONVERTED == "true"], "expected_outcome"] == "no_prospect"
    ).all()
    linked_sf = tsf[tsf.expected_outcome == "linked"]
    assert linked_sf.prospect_id.ne("").all() and linked_sf.prospect_id.is_unique


def test_clean_org_injects_nothing(clean_org):
    out, manifest = clean_org
    assert manifest["kinds"] == {} and manifest["expected_checks"] == {}
    tp = _csv(out / "_truth" / "prospects.csv")
    tsf = _csv(out / "_truth" / "salesforce.csv")
    assert set(tp.expected_outcome) == {"linked", "match_email"}
    assert set(tsf.expected_outcome) == {"linked"}
    prospects = _csv(out / "prospects.csv")
    leads, contacts = _csv(out / "Lead.csv"), _csv(out / "Contact.csv")
    emails = pd.concat([prospects.iloc[:, 3], leads.EMAIL, contacts.Email])
    assert email_is_valid(emails).all()
    keys = _key(pd.concat([leads.EMAIL, contacts.Email]))
    assert keys.is_unique and _key(prospects.iloc[:, 3]).is_unique
    assert sorted(keys) == sorted(_key(prospects.iloc[:, 3]))
    users = _csv(out / "User.csv")
    assert (users.IsActive == "true").all() and (users.Id.str.len() == 18).all()
    assert (_csv(out / "Account.csv").ispersonaccount == "false").all()
    assert "person_accounts_enabled: false" in (out / "connector.yml").read_text()


def test_clean_org_needs_one_prospect_per_record(tmp_path):
    with pytest.raises(InputError, match="must equal --leads \\+ --contacts"):
        generate(tmp_path / "x", prospects=10, leads=5, contacts=3, clean=True)
    with pytest.raises(InputError, match="at least 1"):
        generate(tmp_path / "z", prospects=0, leads=0, contacts=0, clean=True)
    tiny = generate(tmp_path / "tiny", prospects=3, leads=0, contacts=3, clean=True)
    assert tiny["counts"]["sf_leads"] == 0 and tiny["counts"]["sf_contacts"] == 3
    assert _csv(tmp_path / "tiny" / "Lead.csv").columns[0] == "ID"  # header-only file
    with pytest.raises(InputError, match="counts too small"):
        generate(tmp_path / "y", prospects=10, leads=5, contacts=3)


def test_header_styles_really_differ(org, org_v4):
    out, manifest = org
    raw = {
        name: (out / name).read_bytes().split(b"\n", 1)[0] for name in manifest["files"].values()
    }
    assert raw["Lead.csv"].startswith(b'"ID","FIRSTNAME","LASTNAME","EMAIL"')  # Data Loader
    assert (out / "Lead.csv").read_bytes().split(b"\n")[1].count(b'""') >= 1  # empty as ""
    assert raw["Contact.csv"].startswith(b"Id,AccountId,Account.Name,FirstName")  # sf CLI
    assert raw["Account.csv"].startswith(b'"id","name","ownerid"')  # lower-case SOQL
    assert raw["User.csv"].startswith(b"User ID,Full Name")  # report labels
    assert raw["prospects.csv"].startswith(b"\xef\xbb\xbfProspect Id,First Name")  # UI, BOM
    assert b"CRM Lead FID" in raw["prospects.csv"]
    assert b"salesforceId" in raw["pardot_users.csv"]  # v5
    p = _csv(out / "prospects.csv")
    assert set(p["Opted Out"]) == {"Yes", "No"}
    leads = _csv(out / "Lead.csv")
    assert leads.CREATEDDATE.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z").all()
    assert set(leads.ISCONVERTED) == {"true", "false"}
    out8, _ = org_v4
    head8 = (out8 / "prospects.csv").read_bytes().split(b"\n", 1)[0]
    assert head8.startswith(b"id,campaign_id,salutation,first_name")  # API v4, no BOM
    assert b"crm_username" in (out8 / "pardot_users.csv").read_bytes().split(b"\n", 1)[0]
    v4 = _csv(out8 / "prospects.csv")
    assert set(v4.opted_out) == {"0", "1"}
    describe = json.loads((out / "describe" / "Lead.json").read_text())
    assert describe["status"] == 0
    region = [f for f in describe["result"]["fields"] if f["name"] == "Region__c"][0]
    assert (
        region["restrictedPicklist"] and [v["value"] for v in region["picklistValues"]] == REGIONS
    )


def test_ids_are_valid_salesforce_ids(frames):
    for frame, col, prefix in [
        (frames["leads"], "ID", "00Q"),
        (frames["contacts"], "Id", "003"),
        (frames["accounts"], "id", "001"),
        (frames["leads"], "OWNERID", "005"),
        (frames["pardot_users"], "salesforceId", "005"),
    ]:
        ids = frame[col][frame[col] != ""]
        assert ids.str.startswith(prefix).all(), col
        assert (ids.str.len() == 18).all()
        assert (sf_id18(ids.str.slice(0, 15))[0] == ids).all(), col  # checksum (ID-2)
    assert frames["leads"].ID.is_unique and frames["contacts"].Id.is_unique
    users = frames["users"]["User ID"]
    assert (users.str.len() == 15).all() and users.str.startswith("005").all()


def test_cli_synth_writes_the_folder(tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["synth", str(out), "--prospects", "300", "--leads", "200", "--contacts", "150"]
    assert main(args + ["--seed", "3"]) == 0
    assert "pardot_prospects': 300" in capsys.readouterr().out
    assert main(["synth", str(out), "--clean"]) == 2  # 3000 != 2000 + 1500
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")
    assert main(["synth", str(tmp_path / "mine")]) == 2  # never deletes a foreign folder
    assert (tmp_path / "mine" / "keep.txt").exists()


def test_loader_reads_the_folder_without_unexpected_problems(org):
    load = pytest.importorskip("assessment.load")
    out, manifest = org
    snapshot = load.load_org(out)
    problems = snapshot.load_report.problems
    assert not (problems.code == "INP002").any()
    assert not (problems.code == "INP003").any()
    syn002 = problems[problems.code == "SYN002"]
    assert len(syn002) == manifest["expected_checks"]["SYN002"]
    assert set(syn002.table) == {"pardot_prospects", "sf_users"}
    assert {t: len(snapshot.tables[t]) for t in manifest["counts"]} == manifest["counts"]
    assert "manifest" not in str([f.path for f in snapshot.load_report.files])


def test_simulator_agrees_with_the_ground_truth(org):
    """Integration: the simulator's outcomes equal the truth files (both read §10 independently)."""
    load = pytest.importorskip("assessment.load")
    sync = pytest.importorskip("assessment.sync")
    out, _ = org
    result = sync.simulate(load.load_org(out))
    truth = _csv(out / "_truth" / "prospects.csv")
    got = result.prospects.astype({"prospect_id": str}).set_index("prospect_id")
    got = got.reindex(truth.prospect_id)
    assert list(got.outcome) == list(truth.expected_outcome)
    assert list(got.sf_id.fillna("")) == list(truth.expected_sf_id)
    assert list(got.owner_sf_user_id.fillna("")) == list(truth.expected_owner_sf_user_id)
    truth_sf = _csv(out / "_truth" / "salesforce.csv").set_index(["sf_object", "sf_id"])
    sf = result.salesforce.set_index(["sf_object", "sf_id"]).reindex(truth_sf.index)
    assert list(sf.outcome) == list(truth_sf.expected_outcome)


def test_chunked_csv_writing_gives_the_same_bytes(org, tmp_path, monkeypatch):
    import assessment.synth.csvfile  # noqa: F401
    from assessment import synth

    out, _ = org
    monkeypatch.setattr(synth.csvfile, "_CHUNK_ROWS", 7)
    generate(tmp_path / "chunked", seed=7, **COUNTS)
    assert _hashes(tmp_path / "chunked") == _hashes(out)
