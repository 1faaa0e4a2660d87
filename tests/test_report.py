"""The readiness report: masking, email lookup, escaped sections, and the offline HTML export."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from assessment import report
from assessment.errors import ReportError
from assessment.normalize import email_key

HOSTILE = "<script>alert(1)</script>"

READINESS = {
    "tool_version": "0.1.0",
    "org": "acme <b>corp</b>",
    "generated_at": "2026-11-29T02:00:00+00:00",
    "inputs": {
        "Lead.csv": {"table": "sf_leads", "rows": 3, "sha256": "abc123", "encoding": "utf-8"}
    },
    "settings": {"tie_break": "contact_then_newest", "connector_version": 2},
    "verdict": "not_ready",
    "score": 42,
    "checks": [
        {
            "code": "DUP002",
            "name": "lead-duplicate-email",
            "area": "DUP",
            "severity": "warning",
            "status": "fail",
            "affected": 30,
            "summary": "30 leads share an email",
            "remediation": "merge them",
            "source": "M-7",
            "action_file": "actions/DUP002.csv",
        },
        {
            "code": "FLD007",
            "name": "lead-required-fields",
            "area": "FLD",
            "severity": "blocker",
            "status": "fail",
            "affected": 1,
            "summary": "1 prospect lacks Last Name",
            "remediation": "fill it",
            "source": "CR-5",
            "action_file": "actions/FLD007.csv",
        },
        {
            "code": "CON001",
            "name": "connector-version",
            "area": "CON",
            "severity": "warning",
            "status": "pass",
            "affected": 0,
            "summary": "v2",
            "remediation": "",
            "source": "V-5",
            "action_file": None,
        },
        {
            "code": "SYN004",
            "name": "sync-error-triage",
            "area": "SYN",
            "severity": "warning",
            "status": "not_run",
            "affected": 0,
            "summary": "no export",
            "remediation": "",
            "source": "",
            "action_file": None,
        },
    ],
    "simulation": {
        "prospects": {"linked": 10, "match_email": 3, "create_lead": 2, "will_error": 1},
        "salesforce": {"linked": 13, "no_prospect": 4},
        "fields": [
            {
                "pardot_field_name": "Industry",
                "sf_field": "Industry",
                "sync_behavior": "use_salesforce",
                "pairs": 10,
                "differ": 3,
                "winner": "salesforce",
                "sf_overwritten": 0,
                "pardot_overwritten": 3,
                "blank_overwrites": 0,
                "write_errors": 0,
                "policies": "",
            },
        ],
        "initial_sync": {"records_queued": 15, "cycles": 1},
    },
}
FINDING_HEADER = "code,object,record_id,prospect_id,sf_id,email,field,value,message,suggested_fix"


def write_stub(out: Path, readiness: dict = READINESS) -> Path:
    """An assessment output folder: readiness.json and two action files (25 rows, 1 row)."""
    (out / "actions").mkdir(parents=True)
    (out / "readiness.json").write_text(json.dumps(readiness), encoding="utf-8")
    rows = [FINDING_HEADER]
    rows.append(f"DUP002,Lead,00Q1,,00Q1,john.smith@example.com,last_name,{HOSTILE},dup,merge")
    rows += [
        f"DUP002,Lead,00Q{i},,00Q{i},lead{i}@example.com,email,,dup,merge" for i in range(2, 26)
    ]
    (out / "actions" / "DUP002.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (out / "actions" / "FLD007.csv").write_text(
        FINDING_HEADER + "\nFLD007,Prospect,7,7,,x@y.org,last_name,,blank,fill\n", encoding="utf-8"
    )
    return out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One executed stub report shared by the export tests."""
    out = write_stub(tmp_path_factory.mktemp("report") / "out")
    path = report.render_report(out, None)
    return out, path.read_text(encoding="utf-8")


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("john@example.com", "j***@e***.com"),
        ("Mary.Ann@mail.example.co.uk", "M***@m***.uk"),
        ("not-an-email", "n***"),
        ("", ""),
    ],
)
def test_mask_email(raw, masked):
    assert report.mask_email(pd.Series([raw], dtype="str")).iloc[0] == masked


def test_mask_email_keeps_na():
    assert pd.isna(report.mask_email(pd.Series([pd.NA], dtype="str")).iloc[0])


def test_mask_name_and_frame():
    assert report.mask_name(pd.Series(["John Smith"], dtype="str")).iloc[0] == "J*** S***"
    frame = pd.DataFrame(
        {
            "email": ["ann@corp.io", "bob@corp.io"],
            "first_name": ["Ann", "Bob"],
            "field": ["last_name", "industry"],
            "value": ["Lee", "Retail"],
            "message": ["same as ann@corp.io", "ok"],
        },
        dtype="str",
    )
    out = report.mask_frame(frame)
    assert out["email"].tolist() == ["a***@c***.io", "b***@c***.io"]
    assert out["first_name"].tolist() == ["A***", "B***"]
    assert out["value"].tolist() == ["L***", "Retail"]  # a name value masked, others kept
    assert out["message"].tolist() == ["same as a***@c***.io", "ok"]
    assert frame["email"].iloc[0] == "ann@corp.io"  # input untouched
    # action-file headers as written for people ("Email", "Field": "LastName")
    human = pd.DataFrame(
        {"Email": ["ann@corp.io"], "Field": ["LastName"], "Value": ["Lee"]}, dtype="str"
    )
    assert report.mask_frame(human).values.tolist() == [["a***@c***.io", "LastName", "L***"]]


# --- email lookup ---------------------------------------------------------------------------


def _frame(index, **cols):
    frame = pd.DataFrame(cols, dtype="str", index=pd.Index(index, name="row"))
    if "email" in frame:
        frame["email_key"] = email_key(frame["email"])
    if "person_email" in frame:
        frame["person_email_key"] = email_key(frame["person_email"])
    return frame


def test_lookup_email_across_tables():
    snapshot = SimpleNamespace(
        tables={
            "pardot_prospects": _frame(
                [2, 3],
                prospect_id=["11", "12"],
                email=[" Ann@Corp.io", "x@y.z"],
                first_name=["Ann", "X"],
                last_name=["Lee", "Y"],
                assigned_user=["u1", "u2"],
            ),
            "sf_leads": _frame(
                [5],
                id=["00Q5"],
                email=["ann@corp.io"],
                first_name=["Ann"],
                last_name=["Lee"],
                owner_id=["005A"],
            ),
            "sf_contacts": _frame(
                [2],
                id=["0032"],
                email=["other@corp.io"],
                first_name=["O"],
                last_name=["P"],
                owner_id=["005B"],
            ),
        }
    )
    hits = report.lookup_email(snapshot, "ANN@corp.io ")
    assert hits[["table", "row", "record_id"]].values.tolist() == [
        ["pardot_prospects", 2, "11"],
        ["sf_leads", 5, "00Q5"],
    ]
    assert hits["email"].tolist() == [" Ann@Corp.io", "ann@corp.io"]  # raw values kept
    masked = report.lookup_email(snapshot, "ann@corp.io", mask_pii=True)
    assert masked["last_name"].tolist() == ["L***", "L***"]
    assert report.lookup_email(snapshot, "  ").empty


# --- the data object and sections (no kernel needed) ---------------------------------------

VISIBLE_JUNK = re.compile(r"<NA>|\bnan\b|\bNaN\b|\[\[|\{\"|§|\b[a-z]+(?:_[a-z0-9]+)+\b")


def visible_text(page: str) -> str:
    """What a reader sees: no tags, style, code spans, hrefs or title attributes."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<(code|small class=\"code\")[^>]*>.*?</(code|small)>", " ", page, flags=re.S)
    page = re.sub(r"<a [^>]*>[^<]*\.csv</a>", " ", page)  # file names are links
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def test_first_screen_escapes_and_ranks_by_impact(tmp_path):
    data = report.load(write_stub(tmp_path / "out"))
    first = str(report.section(data, "first_screen"))
    assert "acme &lt;b&gt;corp&lt;/b&gt;" in first and "<b>corp" not in first
    assert "Not ready" in first and ">42<" in first
    # blocker × 1 record (10) vs warning × 30 records (30): the warning has more impact
    assert [c["code"] for c in data.fix_first] == ["DUP002", "FLD007"]
    assert 'href="actions/DUP002.csv"' in first  # a relative link that survives zipping


def test_area_section_samples_records_escaped_and_masked(tmp_path):
    out = write_stub(tmp_path / "out")
    dup = str(report.section(report.load(out), "area", "DUP"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dup and HOSTILE not in dup
    assert "The first 10 of 30 records" in dup and 'href="actions/DUP002.csv"' in dup
    masked = str(report.section(report.load(out, mask_pii=True), "area", "DUP"))
    assert "john.smith@example.com" not in masked and "j***@e***.com" in masked
    assert "Leads sharing an email" in masked  # check titles are not person names


def test_info_check_is_noted_and_severities_differ(tmp_path):
    noted = dict(READINESS["checks"][0], code="DUP005", severity="info", status="fail")
    readiness = dict(READINESS, checks=[*READINESS["checks"], noted])
    page = report.render_html(report.load(write_stub(tmp_path / "out", readiness)))
    assert 'class="badge t-noted">Noted<' in page
    for sev in ("s-blocker", "s-warning", "s-info"):
        assert f"badge {sev}" in page


def test_incomplete_lists_the_exports_to_add(tmp_path):
    fld007 = dict(READINESS["checks"][1], status="not_run", affected=0)
    readiness = dict(
        READINESS,
        verdict="incomplete",
        checks=[fld007],
        missing_inputs=[{"input": "the Pardot prospects export", "checks": ["FLD007"]}],
    )
    first = str(report.section(report.load(write_stub(tmp_path / "o", readiness)), "first_screen"))
    assert "Incomplete" in first and "Add these exports" in first
    assert "the Pardot prospects export" in first


def test_baseline_and_plan_slots_render_nothing_when_absent(tmp_path):
    data = report.load(write_stub(tmp_path / "out"))
    assert str(report.section(data, "baseline")).count("<section") == 0
    assert str(report.section(data, "plan")).count("<section") == 0
    page = report.render_html(data)
    assert 'id="since-last"' not in page and 'id="the-plan"' not in page
    readiness = dict(
        READINESS,
        baseline={"previous_verdict": "not_ready", "previous_score": 30},
        plan={"steps": [{"title": "Merge the duplicate leads", "detail": "first"}]},
    )
    page = report.render_html(report.load(write_stub(tmp_path / "o2", readiness)))
    first, since, plan, contents = (
        page.index('id="fix-first"'),
        page.index('id="since-last"'),
        page.index('id="the-plan"'),
        page.index('id="contents"'),
    )
    assert first < since < plan < contents  # issue #14 item 1: in that order


def test_no_overwrites_says_so_instead_of_an_empty_chart(tmp_path):
    fields = [dict(READINESS["simulation"]["fields"][0], pardot_overwritten=0, differ=0)]
    readiness = dict(READINESS, simulation=dict(READINESS["simulation"], fields=fields))
    text = str(report.section(report.load(write_stub(tmp_path / "o", readiness)), "fields"))
    assert "No overwrites predicted" in text and 'class="bar"' not in text
    shown = str(report.section(report.load(write_stub(tmp_path / "p")), "fields"))
    assert 'class="bar"' in shown and "No overwrites predicted" not in shown


def test_visible_text_has_no_internals(tmp_path):
    readiness = dict(
        READINESS,
        checks=[
            dict(READINESS["checks"][0], summary="30 leads [[crm_deleted]]: share (M-7, §3.7)"),
            *READINESS["checks"][1:],
        ],
        assumptions=[{"policy": "blank_last_name", "records": 7, "rule": "CR-5"}],
    )
    text = visible_text(report.render_html(report.load(write_stub(tmp_path / "o", readiness))))
    found = VISIBLE_JUNK.findall(text)
    assert not found, found[:10]


def test_the_notebook_alone_says_how_to_produce_a_folder(capsys):
    assert report.load("") is None
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "python -m assessment run" in out[0]
    assert str(report.section(None, "first_screen")) == ""


def test_outcome_table_and_filter():
    table = report.outcome_table({"will_error": 1, "linked": 3}, report.PROSPECT_OUTCOMES)
    assert table[["outcome", "records", "share"]].values.tolist() == [
        ["linked", 3, "75.0%"],
        ["will_error", 1, "25.0%"],
    ]
    results = [SimpleNamespace(**c) for c in READINESS["checks"]]
    assert report.filter_checks(results, ["blocker"])["code"].tolist() == ["FLD007"]
    assert report.filter_checks(results, ["warning"], ["DUP", "CON"], failed_only=True)[
        "code"
    ].tolist() == ["DUP002"]


def test_load_without_readiness(tmp_path):
    with pytest.raises(ReportError, match="no readiness.json"):
        report.load(tmp_path)


# --- the written report --------------------------------------------------------------------


def test_report_is_offline_and_has_no_code(rendered):
    out, text = rendered
    assert report.external_references(text) == []
    assert not re.search(r"<script\b", text, re.IGNORECASE)
    assert not re.search(r"<link\b", text, re.IGNORECASE)
    for source in ("report.section", "from assessment import report", "mask_pii: bool"):
        assert source not in text
    assert len(text) < 1_000_000
    assert (out / "report.ipynb").exists()
    assert sorted(p.name for p in out.iterdir()) == [
        "actions",
        "readiness.json",
        "report.html",
        "report.ipynb",
    ]  # no temp files, kernel sockets or connection files left


def test_report_content(rendered):
    _, text = rendered
    assert "<title>Connector readiness report: acme &lt;b&gt;corp&lt;/b&gt;</title>" in text
    assert "Not ready: fix the blockers before unpausing" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and HOSTILE not in text
    for code in ("FLD007", "DUP002", "CON001", "abc123", "Industry"):
        assert code in text
    for anchor in re.findall(r'href="#([^"]+)"', text):
        assert f'id="{anchor}"' in text, anchor


def test_report_records_parameters(rendered):
    out, _ = rendered
    nb = nbformat.read(out / "report.ipynb", as_version=4)
    params = nb.metadata["papermill"]["parameters"]
    assert params["out_dir"] == str(out.resolve()) and params["mask_pii"] is False
    shown = json.dumps([c.get("outputs") for c in nb.cells])
    assert "Fix first" in shown  # the notebook shows the same sections


def test_failing_cell_names_cell_and_cause(tmp_path):
    out = write_stub(tmp_path / "out")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("out_dir = ''\nmask_pii = False")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1\ny = 1 / 0")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    bad = tmp_path / "bad.ipynb"
    nbformat.write(nb, bad)
    with pytest.raises(ReportError) as info:
        report.render_report(out, None, notebook=bad)
    message = str(info.value)
    assert "cell 2 ('x = 1')" in message and "ZeroDivisionError" in message
    assert not (out / "report.html").exists() and not (out / "report.ipynb").exists()
    assert sorted(p.name for p in out.iterdir()) == ["actions", "readiness.json"]


# --- on a loaded synthetic org (the real frames) ------------------------------------------


def test_lookup_and_what_if_on_loaded_org(tmp_path):
    synth = pytest.importorskip("assessment.synth")
    from assessment.load import load_org
    from assessment.sync import simulate

    synth.generate(tmp_path / "org", prospects=40, leads=30, contacts=20, seed=5)
    snapshot = load_org(tmp_path / "org")
    prospects = snapshot.tables["pardot_prospects"]
    first = prospects.loc[prospects["email_key"].notna()].iloc[0]
    hits = report.lookup_email(snapshot, "  " + str(first["email"]).upper())
    expected = sum(
        int((snapshot.tables[t][k] == first["email_key"]).sum())
        for t, k in [
            ("pardot_prospects", "email_key"),
            ("sf_leads", "email_key"),
            ("sf_contacts", "email_key"),
            ("sf_accounts", "person_email_key"),
        ]
        if t in snapshot.tables
    )
    assert len(hits) == expected and hits["row"].iloc[0] == first.name
    assert hits["record_id"].iloc[0] == first["prospect_id"]
    delta = report.outcome_delta(snapshot)  # no change: every delta is zero
    counts = simulate(snapshot).prospect_counts()
    p = delta.loc[delta["records"] == "prospects"].set_index("outcome")
    assert p["now"].to_dict() == counts and (delta["change"] == 0).all()
    assert (delta["with changes"] - delta["now"]).equals(delta["change"])


def test_widgets_drive_the_core_functions(tmp_path, capsys):
    synth = pytest.importorskip("assessment.synth")
    from assessment import widgets
    from assessment.pipeline import analyse

    synth.generate(tmp_path / "orgs" / "one", prospects=40, leads=30, contacts=20, seed=5)
    snapshot, _, results = analyse(tmp_path / "orgs" / "one")
    assert widgets.org_picker(tmp_path / "orgs").options == (
        ("one", str(tmp_path / "orgs" / "one")),
    )
    prospects = snapshot.tables["pardot_prospects"]
    first = prospects.loc[prospects["email_key"].notna()].iloc[0]
    capsys.readouterr()
    lookup = widgets.email_lookup(snapshot)
    lookup.children[0].value = str(first["email"])  # outside a kernel, display() prints
    assert f"<td>{first['prospect_id']}</td>" in capsys.readouterr().out
    flt = widgets.findings_filter(results)
    capsys.readouterr()  # the initial view
    flt.children[0].children[0].value = ("blocker",)
    shown = capsys.readouterr().out
    blockers = [r.code for r in results if r.severity == "blocker" and r.status == "fail"]
    others = [r.code for r in results if r.severity != "blocker"]
    assert blockers and all(f"<td>{c}</td>" in shown for c in blockers)
    assert not any(f"<td>{c}</td>" in shown for c in others)
    what_if = widgets.settings_what_if(snapshot)
    what_if.children[0].value = True  # same-email mode
    what_if.children[4].click()
    assert "with changes" in capsys.readouterr().out


def test_kernel_talks_over_ipc_quietly_and_leaves_nothing_behind(tmp_path, capfd):
    from jupyter_core.paths import jupyter_runtime_dir

    out = write_stub(tmp_path / "out")
    runtime = Path(jupyter_runtime_dir())
    before = set(runtime.glob("*")) if runtime.exists() else set()
    with report.render.kernel_options(out) as options:
        assert options["config"].KernelManager.transport == "ipc"  # Linux: Unix sockets
    report.render_report(out, None)
    assert "without encryption" not in capfd.readouterr().err
    assert (set(runtime.glob("*")) if runtime.exists() else set()) == before
    assert sorted(p.name for p in out.iterdir()) == [
        "actions",
        "readiness.json",
        "report.html",
        "report.ipynb",
    ]


def test_org_summary_for_the_batch_index_links_inside_the_org_folder(tmp_path):
    data = report.load(write_stub(tmp_path / "out"))
    card = str(report.org_summary(data, "acme/"))
    assert 'href="acme/report.html"' in card and 'href="acme/actions/DUP002.csv"' in card
    assert "acme &lt;b&gt;corp&lt;/b&gt;" in card


def test_report_of_a_million_record_org_stays_under_a_megabyte(tmp_path):
    """Samples in the report, full lists in the CSVs: size does not grow with the records."""
    from assessment.checks.registry import CHECKS

    out = tmp_path / "out"
    (out / "actions").mkdir(parents=True)
    long_value = "x" * 200
    rows = "\n".join(
        f"DUP002,Lead,00Q{i},,00Q{i},lead{i}@example.com,last_name,{long_value},dup,merge"
        for i in range(100_000)
    )
    (out / "actions" / "big.csv").write_text(FINDING_HEADER + "\n" + rows + "\n", encoding="utf-8")
    checks = [
        dict(READINESS["checks"][0], code=code, area=code[:3], affected=1_000_000,
             action_file="actions/big.csv")
        for code in sorted(CHECKS)
    ]  # fmt: skip
    fields = [
        dict(READINESS["simulation"]["fields"][0], pardot_field_name=f"Field {i}")
        for i in range(500)
    ]
    readiness = dict(
        READINESS,
        checks=checks,
        simulation=dict(READINESS["simulation"], fields=fields),
        inputs={f"f{i}.csv": {"table": "sf_leads", "rows": 1_000_000} for i in range(12)},
    )
    (out / "readiness.json").write_text(json.dumps(readiness), encoding="utf-8")
    page = report.render_html(report.load(out))
    assert len(page.encode()) < 1_000_000
    assert "1,000,000" in page


def test_fix_first_puts_a_blocker_before_a_warning_on_somewhat_more_records(tmp_path):
    checks = [
        dict(READINESS["checks"][0], affected=60),  # warning × 60
        dict(READINESS["checks"][1], affected=20),  # blocker × 20 weighs more
    ]
    data = report.load(write_stub(tmp_path / "o", dict(READINESS, checks=checks)))
    assert [c["code"] for c in data.fix_first] == ["FLD007", "DUP002"]


def test_appendix_lists_files_not_read_and_names_describe_inputs(tmp_path):
    readiness = dict(
        READINESS,
        inputs={
            **READINESS["inputs"],
            "describe/Lead.json": {"table": "describe:Lead", "rows": 40, "sha256": "d1"},
        },
        ignored_inputs=[
            {"path": "old.zip", "kind": "archive", "reason": "archives are not read"},
            {"path": "backup/", "kind": "folder", "reason": "subfolders are not read"},
        ],
    )
    page = report.render_html(report.load(write_stub(tmp_path / "o", readiness)))
    appendix = page[page.index('id="appendix"') :]
    assert "Files not read" in appendix and "old.zip" in appendix
    assert "Archive" in appendix and "Subfolder" in appendix
    assert "archives are not read" in appendix
    assert "Lead field metadata (describe)" in appendix and "describe:Lead" not in appendix
    text = visible_text(page)
    assert not VISIBLE_JUNK.findall(text) and "Describe:Lead" not in text
    plain = report.render_html(report.load(write_stub(tmp_path / "p")))
    assert "Files not read" not in plain  # no empty section when nothing was skipped


def test_fields_split_linked_pairs_by_object(tmp_path):
    row = dict(
        READINESS["simulation"]["fields"][0],
        pairs=15,
        pairs_lead=10,
        pairs_contact=0,
        pairs_person_account=5,
    )
    readiness = dict(READINESS, simulation=dict(READINESS["simulation"], fields=[row]))
    text = str(report.section(report.load(write_stub(tmp_path / "o", readiness)), "fields"))
    assert "10 lead pairs" in text and "5 person account pairs" in text
    assert "contact pairs" not in text.lower()  # only objects with pairs
    assert "Person account pairs" in text  # a column of the field table
    assert not VISIBLE_JUNK.findall(visible_text(text))
    plain = str(report.section(report.load(write_stub(tmp_path / "p")), "fields"))
    assert "Linked pairs compared" not in plain


def test_fields_take_pairs_by_object_from_the_outcome_file(tmp_path):
    row = dict(READINESS["simulation"]["fields"][0], pardot_field_id="industry")
    readiness = dict(READINESS, simulation=dict(READINESS["simulation"], fields=[row]))
    out = write_stub(tmp_path / "o", readiness)
    (out / "outcomes").mkdir()
    (out / "outcomes" / "fields.csv").write_text(
        "pardot_field_id,pairs,pairs_lead,pairs_contact,pairs_person_account\nindustry,10,7,3,0\n",
        encoding="utf-8",
    )
    text = str(report.section(report.load(out), "fields"))
    assert "7 lead pairs, 3 contact pairs" in text and "person account pairs" not in text
    (out / "outcomes" / "fields.csv").write_text(  # another mapping list: not joined
        "pardot_field_id,pairs_lead\nother,7\n", encoding="utf-8"
    )
    assert "Linked pairs compared" not in str(report.section(report.load(out), "fields"))
