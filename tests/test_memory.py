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


REUSE_PROBE = """
import resource, sys
import numpy as np
from assessment.memory import keep_to_small_pages, reuse_freed_memory
keep_to_small_pages()  # faults counted in 4 KiB pages
took = reuse_freed_memory() if sys.argv[1] == "reuse" else False
np.ones(64_000_000, dtype=np.uint8)  # 64 MB touched and freed: above every mmap threshold
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
np.ones(64_000_000, dtype=np.uint8)  # again
print(took, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults_of_a_second_large_array(mode: str) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", REUSE_PROBE, mode], capture_output=True, text=True, check=True
    )
    took, faults = out.stdout.split()
    return took, int(faults)


@linux
def test_a_freed_large_array_is_reused_not_faulted_in_again():
    if memory.libc() is None:
        pytest.skip("not glibc")
    # 64 MB in 4 KiB pages is 15,625 pages: glibc's default maps and faults them in again
    took, faults = _faults_of_a_second_large_array("reuse")
    assert took == "True" and faults < 2_000
    assert _faults_of_a_second_large_array("default")[1] > 5_000


def test_batch_workers_make_the_same_call(monkeypatch):
    from assessment import batch

    calls = []
    monkeypatch.setattr(memory, "reuse_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr("signal.signal", lambda *a: None)
    batch._quiet()
    assert calls == [1]
