"""Ctrl-C at any stage: one line on the console, exit 130, no staging folder left (issue #13.4)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assessment import cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
KERNEL_WARNING = "Kernel is running over TCP"  # silenced: the report kernel talks over IPC


def test_keyboard_interrupt_is_one_line_and_130(monkeypatch, capsys, tmp_path):
    import assessment.pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(assessment.pipeline, "assess", interrupted)
    assert cli.main(["run", str(tmp_path), "--out", str(tmp_path / "out")]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip().count("\n") == 0
    assert "interrupted" in captured.err


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample org not generated yet")
@pytest.mark.parametrize("stage", ["analysis", "report"])
def test_ctrl_c_during_a_run(tmp_path, stage):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "assessment", "run", str(SAMPLE), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,  # its own process group, signalled as a terminal would
    )
    deadline = time.monotonic() + 120
    if stage == "analysis":
        time.sleep(1.5)
    else:  # the report's kernel folder (.kernel-*) appears inside staging when rendering starts
        while not list(out.glob(".assessment-staging-*/.kernel-*")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        time.sleep(0.2)  # the kernel is starting: the render cannot be finished yet
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert KERNEL_WARNING not in stderr
    assert proc.returncode == 130, stderr
    assert lines == ["interrupted"], stderr
    assert "Traceback" not in stderr
    assert not out.exists() or not list(out.glob(".assessment-staging-*"))
