"""Properties of the score: fewer exports or more defects never raise it (issue #14 item 4)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.checks.registry import CHECKS, CheckResult, empty_findings
from assessment.pipeline import analyse
from assessment.readiness import VERDICT_ORDER, build_readiness, escalate, explain_score, verdict
from assessment.severity import worst_severity

CODES = sorted(CHECKS)
EMPTY = empty_findings()  # shared: the score never reads findings of these checks
FIVETRAN = Path(__file__).parent / "fixtures" / "loader" / "fivetran"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _result(code, severity, status, affected, population):
    return CheckResult(
        code, CHECKS[code].name, code[:3], severity, status, affected if status == "fail" else 0,
        "s", "r", "src", None, EMPTY, population=population,
    )  # fmt: skip


@st.composite
def check_results(draw):
    """A run's results: every registered check, each passing, failing or not run."""
    out = []
    for code in CODES:
        status = draw(st.sampled_from(["pass", "fail", "not_run"]))
        severity = CHECKS[code].severity
        if status == "fail":  # anything from info up to the worst the check can report
            order = ["info", "warning", "blocker"]
            worst = order.index(worst_severity(code, severity))
            severity = draw(st.sampled_from(order[: worst + 1]))
        population = draw(st.one_of(st.none(), st.integers(1, 5000)))
        affected = draw(st.integers(1, population or 5000))
        out.append(_result(code, severity, status, affected, population))
    return out


def _score(results, thresholds=None):
    return explain_score(escalate(results, thresholds))[0]


def _rank(results):
    return VERDICT_ORDER.index(verdict(escalate(results)))


@settings(max_examples=200, deadline=None)
@given(check_results(), st.integers(0, len(CODES) - 1))
def test_a_check_that_cannot_run_never_raises_the_score(results, i):
    registered = CHECKS[results[i].code].severity  # not_run reports the registered severity
    unrun = [*results]
    unrun[i] = _result(results[i].code, registered, "not_run", 0, results[i].population)
    assert _score(unrun) <= _score(results)
    assert _rank(unrun) >= _rank(results) or results[i].status == "fail"


@settings(max_examples=200, deadline=None)
@given(check_results(), st.integers(0, len(CODES) - 1), st.integers(1, 5000), st.booleans())
def test_adding_a_defect_never_raises_the_score(results, i, more, worse):
    r = results[i]
    if r.status == "not_run":
        return
    order = ["info", "warning", "blocker"]
    worst = order.index(worst_severity(r.code, CHECKS[r.code].severity))
    severity = order[min(worst, order.index(r.severity) + 1)] if worse else r.severity
    population = r.population
    affected = r.affected + more if r.status == "fail" else more
    if population is not None:
        affected = min(affected, population)
    changed = [*results]
    changed[i] = dataclasses.replace(r, status="fail", affected=affected, severity=severity)
    assert _score(changed) <= _score(results)
    assert _rank(changed) >= _rank(results)


def _assess(folder):
    snapshot, simulation, results = analyse(folder)
    return build_readiness(snapshot, simulation, results, "test", "2026-12-01T00:00:00+00:00")


def test_fivetran_seed_org_never_reads_ready():
    """The org assembled from the public Fivetran seeds (shared/reference): 0 of 100 link."""
    doc = _assess(FIVETRAN)
    assert doc["verdict"] in ("incomplete", "not_ready")
    assert doc["score"] <= 49
    added = " ".join(m["input"] for m in doc["missing_inputs"])
    assert "describe" in added and "Field mappings" in added
    syn001 = next(c for c in doc["checks"] if c["code"] == "SYN001")
    assert syn001["severity"] == "blocker"  # 22 of 100 prospects point to missing records


@pytest.fixture(scope="module")
def sample_doc():
    """readiness.json of the full sample (the baseline every removal is compared with)."""
    return _assess(SAMPLE)


@pytest.mark.parametrize(
    "pattern", ["Lead*", "*prospect*", "*mapping*", "pardot_users*", "describe"]
)
def test_removing_an_export_of_the_sample_never_raises_the_score(tmp_path, pattern, sample_doc):
    org = tmp_path / "org"
    shutil.copytree(SAMPLE, org, ignore=shutil.ignore_patterns("_truth"))
    before = sample_doc
    removed = [p for p in org.glob(pattern)]
    assert removed, pattern
    for p in removed:
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    after = _assess(org)
    assert after["score"] <= before["score"]
    assert after["verdict"] in ("incomplete", "not_ready")  # before: not_ready; never better
    assert before["verdict"] == "not_ready"
