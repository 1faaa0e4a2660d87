"""The notebooks' workbench: typed parameters, the run cache, the views and the widgets in-process."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from assessment import widgets
from assessment.report import REPO_DIR
from assessment.ui import lookup, params, views, workbench

SAMPLE = REPO_DIR / "data" / "sample"


# --- typed parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, kind, expected",
    [
        (False, bool, False),  # -p mask_pii False
        ("False", bool, False),  # -r mask_pii False (the raw string)
        ("false", bool, False),
        (" TRUE ", bool, True),
        ("yes", bool, True),
        (0, bool, False),
        ("12", int, 12),
        (12, int, 12),
        ("1.5", float, 1.5),
        ("00123", str, "00123"),  # -r keeps ids as text
        ("{a: 1}", dict, {"a": 1}),  # -r what_if '{a: 1}' still works
        ({"a": 1}, dict, {"a": 1}),  # -y
        ("", dict, {}),
        (None, str, ""),
        ("x", "str", "x"),  # a string annotation
        ("true", "bool", True),
    ],
)
def test_coerce_accepts_what_papermill_sends(value, kind, expected):
    assert params.coerce("p", value, kind) == expected


@pytest.mark.parametrize(
    "value, kind, hint",
    [
        ("maybe", bool, "-p NAME true|false"),
        (2, bool, "-p NAME true|false"),
        ("twelve", int, "-p NAME 12"),
        (True, int, "-p NAME 12"),
        ("[1, 2]", dict, "-y"),
        ("{a: [", dict, "not valid YAML"),
        (123, str, "-r NAME VALUE"),  # -p org_id 00123 arrives as 123
        ({"a": 1}, str, "-r NAME VALUE"),
    ],
)
def test_coerce_rejects_a_wrong_type_with_the_option_to_use(value, kind, hint):
    with pytest.raises(params.ParameterError) as err:
        params.coerce("the_name", value, kind)
    assert "the_name" in str(err.value) and hint in str(err.value)


def test_apply_types_by_the_annotations_of_the_parameters_cell():
    ns = {"__annotations__": {"mask_pii": bool, "limit": int}, "mask_pii": "False", "limit": "3"}
    ns["data_dir"] = "../x"  # known parameter without annotation: typed by params.TYPES
    shown = params.apply(ns)
    assert ns["mask_pii"] is False and ns["limit"] == 3 and ns["data_dir"] == "../x"
    assert "mask_pii" in shown._repr_html_()


# --- the run cache ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_run():
    return workbench.open_run(SAMPLE, progress=False)


@pytest.fixture(scope="module")
def two_orgs(tmp_path_factory):
    from assessment.synth import generate

    root = tmp_path_factory.mktemp("orgs")
    generate(root / "acme", prospects=60, leads=40, contacts=30, seed=1)
    generate(root / "globex", prospects=90, leads=50, contacts=40, seed=2)
    (root / "acme" / "connector.yml").write_text("org_name: Acme\n", encoding="utf-8")
    (root / "globex" / "connector.yml").write_text("org_name: Globex\n", encoding="utf-8")
    (root / "ampsea.yml").write_text(
        "org_name: Acme AMPSEA\nallow_multiple_prospects_same_email: true\n", encoding="utf-8"
    )
    return root


def _listing(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_analysis_runs_once_per_kernel_and_notices_a_re_export(two_orgs, tmp_path):
    org = tmp_path / "org"
    shutil.copytree(two_orgs / "acme", org)
    before = _listing(org)
    first = workbench.open_run(org, progress=False)
    assert workbench.open_run(org, progress=False) is first  # cached: the same run
    assert first.source == "memory" and len(first.prospects) == 60
    prospects = org / "prospects.csv"  # a re-export into the same folder: fewer rows
    lines = prospects.read_text(encoding="utf-8").splitlines(keepends=True)
    prospects.write_text("".join(lines[:-5]), encoding="utf-8")
    again = workbench.open_run(org, progress=False)
    assert again is not first and len(again.prospects) == 55
    assert set(_listing(org)) == set(before)  # nothing written into the export folder


def test_a_finished_run_is_read_not_recomputed(two_orgs, tmp_path, monkeypatch):
    from assessment import sync
    from assessment.pipeline import assess

    result = assess(two_orgs / "globex", tmp_path / "out", report=False)
    monkeypatch.setattr(sync, "simulate", lambda *a, **k: pytest.fail("recomputed"))
    run = workbench.open_run(out_dir=tmp_path / "out")
    assert run.source == "out_dir" and run.snapshot is None
    assert run.checks["code"].tolist() == [c["code"] for c in result.readiness["checks"]]
    counts = run.prospects["outcome"].value_counts().to_dict()
    assert counts == {k: v for k, v in result.readiness["simulation"]["prospects"].items() if v}
    failed = next(c for c in result.readiness["checks"] if c["action_file"])
    frame, total, path = run.findings(failed["code"], rows=3)
    assert path is not None and total == failed["affected"] or total >= len(frame)
    page = str(views.area_view(run, failed["area"]))
    assert failed["code"] in page and Path(failed["action_file"]).name in page  # CSV linked


# --- the picker ------------------------------------------------------------------------------


def test_org_folders_and_settings_files_offered_by_the_picker(two_orgs):
    assert [p.name for p in widgets.org_folders(two_orgs)] == ["acme", "globex"]
    names = [p.name for p in widgets.settings_files(two_orgs / "acme", two_orgs)]
    assert names == ["connector.yml", "ampsea.yml"]


def test_picker_switches_org_and_settings_and_every_view_follows(two_orgs):
    session = widgets.Session(two_orgs / "acme", orgs_root=two_orgs, progress=False)
    summary = session.summary()
    area = session.view(views.area_view, "DUP")
    picker = session.picker()
    folder, settings = picker.children[0].children
    assert session.run.org == "Acme" and "Acme" in summary.value
    folder.value = str((two_orgs / "globex").resolve())  # what a click in the dropdown does
    assert session.run.org == "Globex" and len(session.run.prospects) == 90
    assert "Globex" in summary.value and "Globex" in picker.result.value
    assert area.value == str(views.area_view(session.run, "DUP"))
    folder.value = str((two_orgs / "acme").resolve())
    settings.value = str(two_orgs / "ampsea.yml")
    assert session.run.org == "Acme AMPSEA" and session.run.settings.ampsea is True


# --- what-if ---------------------------------------------------------------------------------


def test_default_what_if_moves_records_on_the_sample(sample_run):
    result = workbench.compare_settings(sample_run, **views.DEFAULT_WHAT_IF)
    moved = result.changed_salesforce
    assert len(moved) > 0 and set(moved["outcome_other"]) == {"creates_prospect"}
    page = str(views.what_if_view(sample_run))
    assert f"{len(moved):,} move" in page and moved["sf_id"].iloc[0] in page
    # today's plain default (auto-create on, not retroactive) moves nothing: why the date
    plain = workbench.compare_settings(sample_run, auto_create_prospects_from_salesforce=True)
    assert plain.changed_salesforce.empty


def test_what_if_panel_starts_from_the_changes_and_compares_the_controls(sample_run):
    session = widgets.Session(SAMPLE, progress=False)
    panel = session.what_if()
    assert "move" in panel._repr_mimebundle_()["text/html"]
    controls = widgets.WhatIfControls(sample_run.settings, views.DEFAULT_WHAT_IF)
    assert controls.changes(sample_run.settings) == views.DEFAULT_WHAT_IF
    controls.auto.value = False
    controls.since.value = ""
    controls.ampsea.value = True
    controls.policy.value, controls.policy_value.value = "ampsea_email_fallback", "false"
    controls.mds["Lead"].value = "LeadSource=Web"
    changes = controls.changes(sample_run.settings)
    assert changes == {
        "allow_multiple_prospects_same_email": True,
        "marketing_data_sharing": {"Lead": {"field": "LeadSource", "value": "Web"}},
        "ampsea_email_fallback": False,
    }
    result = workbench.compare_settings(sample_run, **changes)
    assert len(result.changed_prospects) > 0


# --- the record lookup -------------------------------------------------------------------------


def test_lookup_explains_one_prospect_end_to_end(sample_run):
    tie = sample_run.prospects.loc[sample_run.prospects["outcome"] == "match_email_tie"].iloc[0]
    found = lookup.explain(sample_run, "  " + tie["email"].upper() + " ")  # trim + casefold
    assert found.prospect["prospect_id"] == tie["prospect_id"]
    cands = found.candidates
    assert len(cands) >= 2 and cands["sf_id"].iloc[0] == tie["sf_id"]  # the pick first
    assert cands["picked"].iloc[0] and not cands["picked"].iloc[1:].astype(bool).any()
    # field by field: the values shown are the records' own
    snap = sample_run.snapshot.tables
    p_row = snap["pardot_prospects"].set_index("prospect_id").loc[tie["prospect_id"]]
    first = found.fields.loc[found.fields["pardot_field_name"] == "First Name"].iloc[0]
    assert first["pardot_value"] == str(p_row["first_name"])
    page = str(views.record_view(sample_run, tie["email"]))
    for text in (tie["prospect_id"], tie["sf_id"], "Rule that decided", "First Name"):
        assert text in page
    assert str(views.record_view(sample_run, tie["prospect_id"])) == page  # by id: the same


def test_lookup_field_results_come_from_the_simulator(sample_run, tmp_path):
    P = sample_run.prospects
    pick = P.loc[(P["outcome"] == "match_email") & (P["sf_object"] == "Lead")].iloc[0]
    org = tmp_path / "org"
    shutil.copytree(SAMPLE, org)
    path = org / "prospects.csv"
    frame = pd.read_csv(path, dtype="str", keep_default_na=False)
    id_col = next(c for c in frame.columns if c.strip().lower() in ("id", "prospect id"))
    title_col = next(c for c in frame.columns if c.strip().lower() in ("job title", "job_title"))
    frame.loc[frame[id_col] == pick["prospect_id"], title_col] = "Chief Tester"
    frame.to_csv(path, index=False)
    run = workbench.open_run(org, progress=False)
    job = lookup.explain(run, pick["prospect_id"]).fields.set_index("pardot_field_name")
    assert job.at["Job Title", "pardot_value"] == "Chief Tester"
    assert job.at["Job Title", "sf_value"] != "Chief Tester"
    assert job.at["Job Title", "result"] == "the Salesforce value overwrites Pardot"  # F-2
    assert job.at["First Name", "result"].startswith("same value")
    counts = run.fields.set_index("pardot_field_name")
    before = sample_run.fields.set_index("pardot_field_name").at["Job Title", "pardot_overwritten"]
    # the same answer as the whole run: one more overwrite than the sample's own (synth drift)
    assert counts.at["Job Title", "pardot_overwritten"] == before + 1


def test_lookup_of_an_unknown_record_says_so(sample_run):
    assert "no prospect" in str(views.record_view(sample_run, "nobody@nowhere.invalid"))


# --- readable tables ---------------------------------------------------------------------------


def test_tables_have_labels_no_empty_columns_and_totals(sample_run):
    frame = pd.DataFrame({"prospect_id": ["1", "2"], "sf_id": [pd.NA, pd.NA], "affected": [3, 4]})
    page = views.table(frame, total=10, total_row={"prospect_id": "Total", "affected": 7})
    assert "Prospect id" in page and "Records affected" in page and "Salesforce id" not in page
    assert "2 of 10 rows" in page and "<td>Total</td>" in page
    out = str(views.outcomes_view(sample_run))
    assert f"<td>{len(sample_run.prospects):,}</td>" in out  # the total row
    assert "_" not in re.sub(r"<[^>]+>", "", "".join(re.findall(r"<th>.*?</th>", out)))


def test_findings_filter_by_area_severity_and_status(sample_run):
    kept = views.filtered_checks(sample_run, ["DUP"], ["warning"], ["fail"])
    checks = sample_run.checks
    expected = checks.loc[
        (checks["area"] == "DUP") & (checks["severity"] == "warning") & (checks["status"] == "fail")
    ]
    assert kept["code"].tolist() == expected["code"].tolist() and len(kept)
    session = widgets.Session(SAMPLE, progress=False)
    panel = session.findings_filter()
    area, severity, status = panel.children[0].children
    area.value, severity.value, status.value = ("USR",), ("blocker", "warning", "info"), ("pass",)
    shown = set(re.findall(r"<td>(USR\d+)</td>", panel.result.value))
    assert shown == set(
        checks.loc[(checks["area"] == "USR") & (checks["status"] == "pass"), "code"]
    )


def test_masked_views_show_no_email(sample_run):
    email = sample_run.prospects["email"].dropna().iloc[0]
    page = str(views.record_view(sample_run, email, mask_pii=True))
    assert email not in page and "***@" in page


def test_offline_export_has_no_internet_and_keeps_widget_copies():
    import nbformat

    from assessment.ui.export import external_references, offline_html

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("session.picker()")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/plain": "Panel(...)",
                "text/html": "<p>static copy</p>",
                "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
            },
        )
    ]
    nb.cells.append(cell)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    page = offline_html(nb)
    assert "<p>static copy</p>" in page and not external_references(page)
    assert "<script" not in page.lower() and json.dumps("x") not in page


def test_parameters_table_masks_an_email_when_masking():
    ns = {"mask_pii": "true", "record": "jane.doe@example.com"}
    assert "jane.doe@example.com" not in params.apply(ns)._repr_html_()
    ns = {"mask_pii": "false", "record": "jane.doe@example.com"}
    assert "jane.doe@example.com" in params.apply(ns)._repr_html_()


def test_embedded_csv_is_formula_safe_and_large_lists_are_not_embedded(monkeypatch):
    import base64

    link = views.csv_link(frame=pd.DataFrame({"value": ["=HYPERLINK(1)", "ok"]}), name="x.csv")
    data = base64.b64decode(re.search(r"base64,([^']+)'", link).group(1)).decode("utf-8")
    assert "'=HYPERLINK(1)" in data and "download='x.csv'" in link
    monkeypatch.setattr(views, "EMBED_LIMIT", 16)
    big = views.csv_link(frame=pd.DataFrame({"a": range(100)}), name="big.csv")
    assert "base64" not in big and "too large" in big


def test_a_finished_run_with_another_orgs_exports_is_not_mixed_up(two_orgs, tmp_path):
    from assessment.pipeline import assess

    assess(two_orgs / "globex", tmp_path / "out", report=False)
    wrong = workbench.open_run(two_orgs / "acme", out_dir=tmp_path / "out")
    assert wrong.source == "out_dir"
    assert "does not hold the exports" in str(views.what_if_view(wrong))
    email = wrong.prospects["email"].dropna().iloc[0]
    assert "does not hold the exports" in str(views.record_view(wrong, email))
    right = workbench.open_run(two_orgs / "globex", out_dir=tmp_path / "out")
    assert "move" in str(views.what_if_view(right)) and "Globex" in workbench.analysed(right).org


def test_notebook_file_bar_is_the_core_tqdm_bar(monkeypatch):
    # One progress home: the notebooks' file bar is assessment.progress.TqdmBar, shown their way.
    import io

    from assessment.progress import TqdmBar
    from assessment.ui.progress import Stages

    class Tty(io.StringIO):
        def isatty(self):
            return True

    err = Tty()
    monkeypatch.setattr("sys.stderr", err)
    stages = Stages("org", show=True)
    files = stages.loader()
    assert isinstance(files, TqdmBar)
    files.start(2, "reading exports")
    files.step("Lead.csv")
    files.step("Contact.csv")
    files.done()
    stages.close()
    text = err.getvalue()
    assert "org: loading the exports" in text and "3/3" in text  # the stage bar stays
    assert "reading exports" in text and "0/2" in text  # the file bar is drawn, then cleared
    assert not isinstance(Stages("org", show=False).loader(), TqdmBar)  # silent when not shown


def test_what_if_panel_uses_the_quick_what_if_and_agrees_with_the_full_one(sample_run, monkeypatch):
    import importlib

    import pandas.testing as pdt

    what_if = importlib.import_module("assessment.sync.what_if")  # the module, not the function
    workbench.clear()
    full = what_if.what_if(sample_run.snapshot, **views.DEFAULT_WHAT_IF)
    workbench.clear()

    def no_full_run(*args, **kwargs):
        raise AssertionError("an auto-create change re-simulated in full")

    monkeypatch.setattr(what_if, "simulate", no_full_run)
    monkeypatch.setattr(importlib.import_module("assessment.sync"), "simulate", no_full_run)
    quick = workbench.compare_settings(sample_run, **views.DEFAULT_WHAT_IF)
    pdt.assert_frame_equal(quick.prospects, full.prospects)
    pdt.assert_frame_equal(quick.salesforce, full.salesforce)
    pdt.assert_frame_equal(
        quick.changed_salesforce.reset_index(drop=True),
        full.changed_salesforce.reset_index(drop=True),
    )
