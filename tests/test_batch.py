"""Batch runs: one org failing does not stop the others; the index lists every org."""

from __future__ import annotations

import html
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from assessment import batch, pipeline
from assessment.errors import InputError
from assessment.progress import resolve as resolve_progress

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _fake_assess(data_dir, out_dir, settings_file=None, report=True, mask_pii=False, **kw):
    """Stands in for pipeline.assess: behaviour chosen by the org folder's name."""
    bar = resolve_progress(kw.get("progress"))  # the loader's bar, as load_org draws it
    bar.start(1, "reading exports")
    bar.step("prospects.csv")
    bar.done()
    name = Path(data_dir).name
    if name.startswith("bad"):
        raise InputError("required column missing", file="Lead.csv", row=1, column="Id")
    if name.startswith("crash"):
        raise RuntimeError("boom")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True)
    if report:
        (out_dir / "report.html").write_text("<html></html>", encoding="utf-8")
    checks = [
        {"code": "A", "severity": "blocker", "status": "fail"},
        {"code": "B", "severity": "warning", "status": "fail"},
        {"code": "C", "severity": "warning", "status": "fail"},
        {"code": "D", "severity": "blocker", "status": "pass"},
    ]
    return SimpleNamespace(org=name, verdict="not_ready", score=40, readiness={"checks": checks})


@pytest.fixture
def orgs(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "assess", _fake_assess)
    root = tmp_path / "orgs"
    for name in ("good <i>", "bad", "crash", "=evil", ".hidden"):
        (root / name).mkdir(parents=True)
        (root / name / "prospects.csv").write_text("Prospect Id,Email\n1,a@example.com\n")
    (root / "stray.csv").write_text("x\n", encoding="utf-8")
    return root


def test_batch_records_failures_and_continues(orgs, tmp_path):
    summary = batch.run_batch(orgs, tmp_path / "out", workers=1)
    rows = {r.folder: r for r in summary.runs}
    assert sorted(rows) == ["=evil", "bad", "crash", "good <i>"]  # hidden folder and file skipped
    good = rows["good <i>"]
    assert (good.status, good.verdict, good.score) == ("ok", "not_ready", 40)
    assert (good.blockers_failed, good.warnings_failed) == (1, 2)
    assert good.report == "good <i>/report.html"
    assert (rows["bad"].status, rows["bad"].exit_class) == ("failed", "input")
    assert rows["bad"].error == "file Lead.csv, row 1, column 'Id': required column missing"
    assert (rows["crash"].exit_class, rows["crash"].error) == ("internal", "RuntimeError: boom")
    assert len(summary.failed) == 2
    assert "4 org(s): 2 assessed, 2 failed" in summary.describe()


def test_batch_index_files(orgs, tmp_path):
    out = tmp_path / "out"
    batch.run_batch(orgs, out, report=False, workers=1)
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))["orgs"]
    assert [o["folder"] for o in index] == ["=evil", "bad", "crash", "good <i>"]
    assert index[3]["report"] is None  # report=False
    csv = pd.read_csv(out / "index.csv", dtype="str", keep_default_na=False)
    assert csv.columns.tolist() == batch.INDEX_COLUMNS
    assert csv["org"].tolist()[0] == "'=evil"  # formula neutralised
    assert csv[["score", "blockers_failed", "warnings_failed"]].values.tolist() == [
        ["40", "1", "2"],
        ["", "", ""],
        ["", "", ""],
        ["40", "1", "2"],
    ]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "good &lt;i&gt;" in page and "good <i>" not in page
    assert "required column missing" in page and "<script" not in page
    assert "http:" not in page and "https:" not in page  # self-contained: no external reference


def test_batch_bad_orgs_dir(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        batch.run_batch(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no org subfolders"):
        batch.run_batch(tmp_path / "empty", tmp_path / "out")
    (tmp_path / "empty" / "notes").mkdir()
    (tmp_path / "empty" / "notes" / "readme.txt").write_text("hello")
    with pytest.raises(InputError, match="no org subfolders"):
        batch.run_batch(tmp_path / "empty", tmp_path / "out")


def test_folders_without_exports_are_skipped_with_a_note(orgs, tmp_path):
    (orgs / "notes").mkdir()
    (orgs / "notes" / "minutes.docx").write_text("x")
    (orgs / "_truth").mkdir()
    (orgs / "_truth" / "prospects.csv").write_text("Prospect Id\n1\n")
    (orgs / "describe").mkdir()
    (orgs / "describe" / "Lead.json").write_text("{}")
    (orgs / "empty").mkdir()
    summary = batch.run_batch(orgs, tmp_path / "out", report=False, workers=1)
    assert sorted(r.folder for r in summary.runs) == ["=evil", "bad", "crash", "good <i>"]
    assert len(summary.failed) == 2  # the skipped folders are notes, not failures
    notes = " ".join(summary.notes)
    for name in ("notes/", "_truth/", "describe/", "empty/"):
        assert name in notes
    index = json.loads((tmp_path / "out" / "index.json").read_text(encoding="utf-8"))
    assert index["failed"] == ["bad", "crash"] and len(index["notes"]) == 4
    assert "skipped notes/" in summary.describe()


def test_a_folder_that_is_an_org_is_one_org(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "assess", _fake_assess)
    org = tmp_path / "acme"
    (org / "describe").mkdir(parents=True)
    (org / "describe" / "Lead.json").write_text("{}")
    (org / "_truth").mkdir()
    (org / "_truth" / "prospects.csv").write_text("Prospect Id\n1\n")
    (org / "Lead.csv").write_text("Id\n00Q000000000001AAA\n")
    summary = batch.run_batch(org, tmp_path / "out", report=False, workers=1)
    assert [r.folder for r in summary.runs] == ["acme"] and not summary.failed
    assert "holds exports itself" in summary.notes[0]


@pytest.mark.skipif(not (SAMPLE / "prospects.csv").exists(), reason="sample not generated")
def test_sample_folder_is_one_org_not_three():
    folders, notes = batch.find_orgs(SAMPLE, SAMPLE.parent / "out")
    assert folders == [SAMPLE] and len(notes) == 1


def test_cli_batch_exit_3_names_each_failed_org(orgs, tmp_path, capsys):
    from assessment.cli import main

    assert (
        main(["batch", str(orgs), "--out", str(tmp_path / "out"), "--no-report", "--workers", "1"])
        == 3
    )
    console = capsys.readouterr().out
    assert "2 org(s) failed: bad, crash" in console
    assert "bad: FAILED (input)" in console and "crash: FAILED (internal)" in console
    for name in ("bad", "crash"):
        shutil.rmtree(orgs / name)
    assert (
        main(["batch", str(orgs), "--out", str(tmp_path / "out2"), "--no-report", "--workers", "1"])
        == 0
    )


def _real_pipeline_available() -> bool:
    try:
        from assessment import actions, checks, readiness, sync, synth  # noqa: F401
    except ImportError:
        return False
    return hasattr(synth, "generate") and hasattr(sync, "simulate")


@pytest.mark.skipif(not _real_pipeline_available(), reason="pipeline modules not all landed")
def test_batch_real_synthetic_orgs(tmp_path):
    from assessment.synth import generate

    root = tmp_path / "orgs"
    for i, name in enumerate(("org_a", "org_b", "org_broken")):
        generate(root / name, prospects=60, leads=40, contacts=30, seed=i + 1)
    (root / "org_broken" / "connector.yml").write_text("no_such_setting: 1\n", encoding="utf-8")
    out = tmp_path / "out"
    summary = batch.run_batch(root, out, report=True, workers=2)
    rows = {r.folder: r for r in summary.runs}
    assert [rows[n].status for n in ("org_a", "org_b", "org_broken")] == ["ok", "ok", "failed"]
    assert (
        rows["org_broken"].exit_class == "input" and "no_such_setting" in rows["org_broken"].error
    )
    for name in ("org_a", "org_b"):
        readiness = json.loads((out / name / "readiness.json").read_text(encoding="utf-8"))
        assert rows[name].verdict == readiness["verdict"] and rows[name].score == readiness["score"]
        assert (out / name / "report.html").exists()
    assert not (out / "org_broken").exists()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "org_a/report.html" in page and "org_b/report.html" in page
    from assessment import labels, report

    for name in ("org_a", "org_b"):  # each org's card: verdict in words and its first fix
        data = report.load(out / name)
        assert f'id="org-{name}"' in page and f"href='#org-{name}'" not in page
        assert f'href="#org-{name}"' in page
        assert data.fix_first and html.escape(data.fix_first[0]["title"]) in page
        assert labels.verdict_label(data.verdict, short=True) in page


def test_batch_output_inside_orgs_dir_is_not_an_org(orgs):
    summary = batch.run_batch(orgs, orgs / "results", workers=1)
    assert "results" not in [r.folder for r in summary.runs]
    page = (orgs / "results" / "index.html").read_text(encoding="utf-8")
    assert "href='good%20%3Ci%3E/report.html'" in page  # link URL-quoted, then escaped


class _Tty:
    def __init__(self, tty):
        self.text, self.tty = "", tty

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_batch_one_progress_bar_only_on_a_tty(orgs, tmp_path, monkeypatch, tty):
    stream = _Tty(tty)
    monkeypatch.setattr("sys.stderr", stream)
    batch.run_batch(orgs, tmp_path / "out", report=False, workers=1)
    if tty:
        assert "orgs" in stream.text and "4/4" in stream.text
        assert stream.text.count("0/4") == 1  # one bar for the batch, not one per org
        assert "reading exports" not in stream.text  # no loader bar of any org
    else:
        assert stream.text == ""


# --- parallel runs (#17.4) -------------------------------------------------------------------


def _runner(task):
    """A stand-in for assess_org in worker processes: 'die' kills its worker, 'bad' fails."""
    name = Path(task.folder).name
    if name.startswith("die"):
        os._exit(1)  # a hard crash (out of memory, native code): the pool breaks
    if name.startswith("bad"):
        return batch.OrgRun(org=name, folder=name, status="failed", exit_class="input", error="x")
    return batch.OrgRun(org=name, folder=name, status="ok", verdict="ready", score=100 - len(name))


def test_processes_keep_order_and_a_dead_worker_fails_only_its_org(tmp_path):
    root = tmp_path / "orgs"
    names = ["a", "bb", "bad", "ccc", "die", "dddd"]
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "Lead.csv").write_text("Id\n")
    summary = batch.run_batch(root, tmp_path / "out", workers=2, runner=_runner)
    rows = {r.folder: r for r in summary.runs}
    assert [r.folder for r in summary.runs] == sorted(names)
    assert [rows[n].score for n in ("a", "bb", "ccc", "dddd")] == [99, 98, 97, 96]
    assert rows["bad"].status == "failed" and rows["die"].status == "failed"
    assert "worker process died" in rows["die"].error
    assert sorted(r.folder for r in summary.failed) == ["bad", "die"]


def test_workers_must_be_positive(orgs, tmp_path):
    with pytest.raises(InputError, match="--workers"):
        batch.run_batch(orgs, tmp_path / "out", workers=0)


def _without_timing(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["seconds"])


@pytest.mark.skipif(not _real_pipeline_available(), reason="pipeline modules not all landed")
def test_two_workers_equal_one_and_a_rerun_shows_the_trend(tmp_path):
    from assessment.synth import generate

    root = tmp_path / "orgs"
    for i, name in enumerate(("org_a", "org_b", "org_c")):
        generate(root / name, prospects=80, leads=50, contacts=40, seed=i + 11)
    serial = batch.run_batch(root, tmp_path / "one", report=False, workers=1)
    parallel = batch.run_batch(root, tmp_path / "two", report=False, workers=2)
    pd.testing.assert_frame_equal(
        _without_timing(serial.frame()), _without_timing(parallel.frame())
    )
    for name in ("org_a", "org_b", "org_c"):
        one, two = (
            json.loads((tmp_path / d / name / "readiness.json").read_text(encoding="utf-8"))
            for d in ("one", "two")
        )
        assert one["checks"] == two["checks"] and one["simulation"] == two["simulation"]
    assert all(r.verdict_before is None for r in parallel.runs)  # no earlier result yet

    again = batch.run_batch(root, tmp_path / "two", report=False, workers=2)
    for before, now in zip(parallel.runs, again.runs, strict=True):
        assert (now.verdict_before, now.score_before) == (before.verdict, before.score)
        assert (now.fixed, now.new) == (0, 0)
        baseline = json.loads(
            (tmp_path / "two" / now.folder / "readiness.json").read_text(encoding="utf-8")
        )["baseline"]
        assert baseline["moves_attributed_to"] == "rules"  # same inputs
    page = (tmp_path / "two" / "index.html").read_text(encoding="utf-8")
    assert f"before: {again.runs[0].verdict_before} ({again.runs[0].score_before})" in page
    index = pd.read_csv(tmp_path / "two" / "index.csv", dtype=str, keep_default_na=False)
    assert index["score_before"].tolist() == [str(r.score) for r in parallel.runs]


# --- Dask distributed (#17.5) ----------------------------------------------------------------


@pytest.mark.skipif(not _real_pipeline_available(), reason="pipeline modules not all landed")
def test_scheduler_runs_one_task_per_org_on_a_local_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    from assessment.synth import generate

    root = tmp_path / "orgs"
    for i, name in enumerate(("unit_a", "unit_b", "unit_broken")):
        generate(root / name, prospects=60, leads=40, contacts=30, seed=i + 21)
    (root / "unit_broken" / "connector.yml").write_text("no_such_setting: 1\n", encoding="utf-8")
    serial = batch.run_batch(root, tmp_path / "serial", report=False, workers=1)
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        on_dask = batch.run_batch(
            root, tmp_path / "dask", report=False, scheduler=cluster.scheduler_address
        )
    pd.testing.assert_frame_equal(_without_timing(serial.frame()), _without_timing(on_dask.frame()))
    assert [r.status for r in on_dask.runs] == ["ok", "ok", "failed"]
    assert (tmp_path / "dask" / "unit_a" / "readiness.json").exists()
    assert "unit_broken" in json.loads((tmp_path / "dask" / "index.json").read_text())["failed"]


def test_unreachable_scheduler_is_an_input_error(orgs, tmp_path):
    pytest.importorskip("dask.distributed")
    from assessment import cluster

    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        cluster.run_on_cluster([], None, "tcp://127.0.0.1:9", bar=None, timeout=1)
