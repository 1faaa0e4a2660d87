"""Memory between steps (#19): the loader reads two files at a time only while their sizes fit
LOAD_BYTES_IN_FLIGHT, and the checks give back their temporaries one by one."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from assessment import load
from assessment.load import _ByteBudget, load_org

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _overlap(sizes: list[int], limit: int) -> int:
    """The most jobs seen running at once when jobs of ``sizes`` go through one budget."""
    budget = _ByteBudget(limit)
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def job() -> None:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.2)  # long enough for the other worker to start, if it may
        with lock:
            state["now"] -= 1

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(budget.run, size, job) for size in sizes]:
            future.result(timeout=10)
    return state["most"]


def test_files_larger_together_than_the_budget_are_read_one_at_a_time():
    assert _overlap([80, 80, 80], limit=100) == 1


def test_small_files_are_still_read_two_at_a_time():
    assert _overlap([40, 40, 40, 40], limit=100) == 2


def test_a_file_larger_than_the_budget_is_read_alone_not_refused():
    assert _overlap([1_000, 10, 1_000], limit=100) == 1


def test_a_failing_job_gives_its_bytes_back():
    budget = _ByteBudget(100)

    def boom() -> None:
        raise ValueError("bad file")

    with pytest.raises(ValueError):
        budget.run(80, boom)
    assert (budget.in_flight, budget.running) == (0, 0)
    assert budget.run(80, lambda: "next") == "next"


def test_one_file_at_a_time_loads_the_same_snapshot(monkeypatch):
    together = load_org(SAMPLE)
    monkeypatch.setattr(load, "LOAD_BYTES_IN_FLIGHT", 1)  # every file alone
    alone = load_org(SAMPLE)
    assert list(alone.tables) == list(together.tables)
    for name, frame in together.tables.items():
        pd.testing.assert_frame_equal(alone.tables[name], frame)
    pd.testing.assert_frame_equal(alone.load_report.problems, together.load_report.problems)


def test_checks_give_their_temporaries_back_one_by_one(monkeypatch):
    from assessment.checks import registry
    from assessment.sync import simulate

    snapshot = load_org(SAMPLE)
    simulation = simulate(snapshot)
    calls = []
    monkeypatch.setattr(registry, "release_freed_memory", lambda: calls.append(len(calls)))
    results = registry.run_checks(snapshot, simulation)
    assert len(calls) == len(results) == len(registry.CHECKS)


def test_planning_gives_its_temporaries_back_before_readiness_is_built(monkeypatch, tmp_path):
    # glibc keeps freed memory for reuse (assessment.memory): the what-ifs' temporaries would stay
    # in the process while readiness.json and the report are built.
    import assessment.plan as plan
    from assessment import load, pipeline, readiness

    events = []
    real_plan, real_build = plan.make_plan, readiness.build_readiness
    monkeypatch.setattr(load, "release_freed_memory", lambda: events.append("release"))
    monkeypatch.setattr(
        plan, "make_plan", lambda *a, **k: events.append("plan") or real_plan(*a, **k)
    )
    monkeypatch.setattr(
        readiness,
        "build_readiness",
        lambda *a, **k: events.append("readiness") or real_build(*a, **k),
    )
    pipeline.assess(SAMPLE, tmp_path / "out", report=False)
    after_plan = events[events.index("plan") + 1 :]
    assert after_plan[0] == "release" and "readiness" in after_plan
