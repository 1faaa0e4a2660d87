"""The command keeps to small pages (issue #19): numpy and pyarrow ask for transparent huge
pages, which the kernel compacts or faults in while the run waits (benchmarks show the cost)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assessment import cli, memory

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux process flag")

PROBE = """
import subprocess, sys
from assessment.memory import keep_to_small_pages, huge_pages_disabled
print(keep_to_small_pages(), huge_pages_disabled())
child = subprocess.run(["grep", "THP_enabled", "/proc/self/status"], capture_output=True, text=True)
print(child.stdout.split()[-1])
"""


def _probe(**env: str) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k != memory.HUGE_PAGES_VARIABLE} | env
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=environ
    )
    return out.stdout.split()


@linux
def test_huge_pages_are_turned_off_for_the_process_and_what_it_starts():
    if memory.huge_pages_disabled() is None:
        pytest.skip("this kernel does not report THP_enabled")
    assert _probe() == ["True", "True", "0"]


@linux
def test_the_variable_keeps_huge_pages():
    if memory.huge_pages_disabled() is None:
        pytest.skip("this kernel does not report THP_enabled")
    inherited = memory.huge_pages_disabled()  # off already if a test ran the command in-process
    assert _probe(ASSESSMENT_HUGE_PAGES="1") == ["False", str(inherited), "01"[not inherited]]


def test_the_command_line_asks_before_it_reads_anything(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(cli, "keep_to_small_pages", lambda: calls.append("asked"))
    assert cli.main(["run", str(tmp_path / "no-such-folder"), "--out", str(tmp_path / "o")]) == 2
    assert calls == ["asked"]
