"""--out is the user's folder (contract §2, issue #13.2 and #9.3): manifest, atomic replace, no
file deleted or overwritten that the toolkit did not write, nothing written outside the folder."""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assessment import outputs
from assessment.errors import InputError
from assessment.pipeline import assess

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason="sample org not generated yet")


def _cli(*args, cwd=ROOT, env=None):
    return subprocess.run(
        [sys.executable, "-m", "assessment", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _tiny_org(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "prospects.csv").write_text("Prospect Id,Email\n1,ana.lima@example.com\n")
    return folder


def _manifest(out: Path) -> list[str]:
    return json.loads((out / outputs.MANIFEST).read_text())["files"]


def test_out_naming_a_file_exits_2(tmp_path):
    org = _tiny_org(tmp_path / "org")
    target = tmp_path / "report.txt"
    target.write_text("mine")
    for out in (target, target / "sub"):
        run = _cli("run", org, "--out", out, "--no-report")
        assert run.returncode == 2, run.stderr
        assert "Traceback" not in run.stderr and "internal error" not in run.stderr
        assert "must name a folder" in run.stderr and "report.txt" in run.stderr
    assert target.read_text() == "mine"


@needs_sample
def test_rerun_replaces_only_what_the_toolkit_wrote(tmp_path):
    out = tmp_path / "out"
    assess(SAMPLE, out, report=False)
    first = set(_manifest(out))
    assert first == set(_digests(out)) - {outputs.MANIFEST}
    assert any(name.startswith("actions/") for name in first)
    (out / "sign-off.pdf").write_bytes(b"%PDF signed")
    (out / "actions" / "my-notes.txt").write_text("call Ana")

    # A second, different org into the same folder: fewer action files than the sample's.
    assess(_tiny_org(tmp_path / "tiny"), out, report=False)
    second = set(_manifest(out))
    stale = first - second
    assert stale, "the tiny org should not produce every action file the sample did"
    left = set(_digests(out))
    assert left == second | {outputs.MANIFEST, "sign-off.pdf", "actions/my-notes.txt"}
    assert (out / "sign-off.pdf").read_bytes() == b"%PDF signed"
    assert not any((out / name).exists() for name in stale)


def test_user_files_in_the_folder_are_kept_and_never_overwritten(tmp_path):
    org = _tiny_org(tmp_path / "org")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assess(org, out, report=False)  # a folder of the user's own files is fine
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "readiness.json").exists()

    other = tmp_path / "other"
    other.mkdir()
    (other / "readiness.json").write_text("{}")  # the user's, no manifest beside
    (other / "outcomes").mkdir()
    (other / "outcomes" / "prospects.csv").write_text("mine")
    (other / outputs.MANIFEST).write_text(json.dumps({"files": ["readiness.json"]}))
    run = _cli("run", org, "--out", other, "--no-report")
    assert run.returncode == 2, run.stderr
    assert "outcomes/prospects.csv" in run.stderr and "not written by this toolkit" in run.stderr
    assert (other / "outcomes" / "prospects.csv").read_text() == "mine"
    assert not list(other.glob(".assessment-staging-*"))


def test_manifest_cannot_point_outside_the_folder(tmp_path):
    org = _tiny_org(tmp_path / "org")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / outputs.MANIFEST).write_text(
        json.dumps({"files": ["../victim.txt", str(victim), "a/../../victim.txt"]})
    )
    assess(org, out, report=False)
    assert victim.read_text() == "keep"


@needs_sample
def test_failed_run_leaves_previous_result_and_no_temporary_file(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assess(SAMPLE, out, report=False)
    (out / "sign-off.pdf").write_bytes(b"%PDF")
    before = _digests(out)

    from assessment import report

    def broken(staging, *args, **kwargs):
        (Path(staging) / "report.html").write_text("half")
        raise RuntimeError("kernel died")

    monkeypatch.setattr(report, "render_report", broken)
    with pytest.raises(RuntimeError):
        assess(_tiny_org(tmp_path / "tiny"), out, report=True)
    assert _digests(out) == before
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [outputs.MANIFEST]


@needs_sample
@pytest.mark.parametrize("failing", ["outcomes", "actions"])
def test_a_failure_beside_the_outcome_writer_leaves_the_previous_result(
    tmp_path, monkeypatch, failing
):
    # outcomes/ are written on their own thread while the action files are built (issue #19):
    # a failure on either side fails the run, and the staging folder goes only once the
    # writer has stopped (no file of it may land in OUT_DIR or outlive the run).
    import threading

    from assessment import actions, sync

    out = tmp_path / "out"
    assess(SAMPLE, out, report=False)
    before = _digests(out)
    writing = threading.Event()
    real = sync.write_outcomes

    def outcomes(simulation, staging, stop=None):
        writing.set()
        if failing == "outcomes":
            raise OSError("disk full")
        time.sleep(0.5)  # still writing when the action files fail
        return real(simulation, staging, stop=stop)

    def action_files(*args, **kwargs):
        assert writing.wait(5)
        raise RuntimeError("action files failed")

    monkeypatch.setattr(sync, "write_outcomes", outcomes)
    if failing == "actions":
        monkeypatch.setattr(actions, "write_action_files", action_files)
    with pytest.raises(OSError if failing == "outcomes" else RuntimeError):
        assess(_tiny_org(tmp_path / "tiny"), out, report=False)
    time.sleep(0.7)  # a writer left running would now be writing into a removed folder
    assert _digests(out) == before
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [outputs.MANIFEST]


def test_a_failure_beside_the_outcome_writer_stops_it_at_its_next_slice(tmp_path, monkeypatch):
    # Ctrl-C or a failure while outcomes/ are still being written (at 10M records that takes
    # 10-20 s) must not wait for the last file: the writer ends at its next slice.
    import threading

    from assessment import actions, csvtext, sync

    monkeypatch.setattr(csvtext, "SLICE_ROWS", 1)  # one slice per record: thousands of slices
    first_slice = threading.Event()
    real_lines = csvtext._line_bytes

    def slow_lines(*args, **kwargs):
        first_slice.set()
        time.sleep(0.01)  # the whole sample would take a minute
        return real_lines(*args, **kwargs)

    ended = []
    real = sync.write_outcomes

    def outcomes(simulation, staging, stop=None):
        try:
            return real(simulation, staging, stop=stop)
        except BaseException as error:
            ended.append(type(error))
            raise

    def action_files(*args, **kwargs):
        assert first_slice.wait(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(csvtext, "_line_bytes", slow_lines)
    monkeypatch.setattr(sync, "write_outcomes", outcomes)
    monkeypatch.setattr(actions, "write_action_files", action_files)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        assess(SAMPLE, out, report=False)
    assert ended == [csvtext.WriteStopped]
    assert not out.exists()


def test_failed_first_run_leaves_no_folder(tmp_path, monkeypatch):
    from assessment import report

    monkeypatch.setattr(report, "render_report", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        assess(_tiny_org(tmp_path / "org"), tmp_path / "new" / "out", report=True)
    assert not (tmp_path / "new").exists()


def test_legacy_output_folder_is_replaced(tmp_path):
    org = _tiny_org(tmp_path / "org")
    out = tmp_path / "out"
    assess(org, out, report=False)
    (out / outputs.MANIFEST).unlink()  # as written before manifests existed
    (out / "actions").mkdir(exist_ok=True)
    (out / "actions" / "OLD001-gone.csv").write_text("x")
    (out / "notes.txt").write_text("mine")
    assess(org, out, report=False)
    assert not (out / "actions" / "OLD001-gone.csv").exists()
    assert (out / "notes.txt").read_text() == "mine"


@needs_sample
def test_nothing_is_written_outside_the_output_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "parent" / "out"
    env = {**os.environ, "TMPDIR": str(tmp)}
    run = _cli("run", SAMPLE, "--out", out, env=env)
    assert run.returncode == 0, run.stderr
    assert list(tmp.iterdir()) == []
    assert [p.name for p in (tmp_path / "parent").iterdir()] == ["out"]
    assert (out / "report.html").exists()
    assert not [p for p in out.rglob("*") if p.name.startswith(".") and p.name != outputs.MANIFEST]


def test_check_out_dir_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(InputError) as err:
        outputs.check_out_dir(tmp_path / "f" / "x")
    assert err.value.exit_code == 2


def test_staging_left_by_a_killed_run_is_cleaned_up(tmp_path):
    org = _tiny_org(tmp_path / "org")
    out = tmp_path / "out"
    old = out / f"{outputs.STAGING_PREFIX}killed"
    recent = out / f"{outputs.STAGING_PREFIX}running"
    for folder in (old, recent):
        folder.mkdir(parents=True)
        (folder / "readiness.json").write_text("{}")
    day_ago = time.time() - outputs.STALE_STAGING_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    assess(org, out, report=False)
    assert not old.exists()
    assert recent.exists()  # perhaps another run's, still working


def test_a_failing_outcome_file_stops_its_sibling(tmp_path, monkeypatch):
    # outcomes/ files are written two at a time: when one fails (disk full), the other must
    # stop at its next slice rather than finish a file the failed run will throw away.
    import threading

    from assessment import csvtext
    from assessment.pipeline import analyse
    from assessment.sync import write_outcomes

    _, simulation, _ = analyse(SAMPLE)
    monkeypatch.setattr(csvtext, "SLICE_ROWS", 1)
    started = threading.Event()
    real_lines = csvtext._line_bytes
    real_write = csvtext.write_csv
    ended = {}

    def slow_lines(*args, **kwargs):
        started.set()
        time.sleep(0.01)  # a whole file would take a minute
        return real_lines(*args, **kwargs)

    def write_csv(frame, path, **kwargs):
        if path.name == "prospects.csv":
            assert started.wait(10)  # the sibling is writing
            ended[path.name] = OSError
            raise OSError("disk full")
        try:
            return real_write(frame, path, **kwargs)
        except BaseException as error:
            ended[path.name] = type(error)
            raise

    monkeypatch.setattr(csvtext, "_line_bytes", slow_lines)
    monkeypatch.setattr(csvtext, "write_csv", write_csv)
    with pytest.raises(OSError, match="disk full"):
        write_outcomes(simulation, tmp_path)
    stopped = csvtext.WriteStopped  # fields.csv starts once prospects.csv failed: stopped at once
    assert ended == {"prospects.csv": OSError, "salesforce.csv": stopped, "fields.csv": stopped}
