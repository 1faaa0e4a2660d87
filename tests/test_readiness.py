"""Verdict, score and readiness.json."""

from __future__ import annotations

import json

import pytest
from test_checks import assess_org, base_files

from assessment.checks.registry import CheckResult, empty_findings
from assessment.readiness import (
    BLOCKER_POINTS,
    NOT_READY_CAP,
    NOT_RUN_POINTS,
    TOP_LEVEL_KEYS,
    WARNING_POINTS,
    assumptions,
    build_readiness,
    explain_score,
    score,
    verdict,
    write_json_atomic,
)


def res(code, severity, status, affected=0, population=None):
    return CheckResult(
        code,
        "x",
        code[:3],
        severity,
        status,
        affected,
        "s",
        "r",
        "src",
        None,
        empty_findings(),
        population=population,
    )


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([res("DUP001", "warning", "pass"), res("INP001", "info", "fail")], "ready"),
        ([res("DUP001", "warning", "fail", 1, 10)], "ready_with_warnings"),
        (
            [res("DUP001", "warning", "fail", 1, 10), res("FLD001", "blocker", "fail", 1)],
            "not_ready",
        ),
        # An unverified blocker is never "ready", but it is not a failure either.
        ([res("FLD001", "blocker", "not_run")], "ready_with_warnings"),
        ([res("DUP001", "warning", "not_run"), res("INP001", "info", "fail")], "ready"),
        ([], "ready"),
    ],
)
def test_verdict(results, expected):
    assert verdict(results) == expected


def test_score_formula_exact():
    results = [
        res("DUP002", "warning", "fail", affected=5, population=10),  # 8 × 0.5 = 4
        res("DUP003", "warning", "fail", affected=1, population=100),  # 8 × floor 0.25 = 2
        res("CON001", "warning", "fail"),  # no population: full 8
        res("DUP005", "info", "fail", affected=10, population=10),  # info: 0
        res("SYN004", "warning", "not_run"),  # 2
        res("DUP001", "warning", "pass"),
    ]
    value, breakdown = explain_score(results)
    assert [(b["code"], b["points"]) for b in breakdown] == [
        ("DUP002", 4.0),
        ("DUP003", 2.0),
        ("CON001", WARNING_POINTS),
        ("SYN004", NOT_RUN_POINTS),
    ]
    assert value == 100 - 16 == score(results)
    assert "5 of 10" in breakdown[0]["why"]


def test_blocker_costs_more_and_not_ready_caps_the_score():
    blocker = [res("FLD001", "blocker", "fail", affected=1, population=100)]
    value, breakdown = explain_score(blocker)
    # 30 × 0.25 = 7.5 → 92.5 → rounded 92, then capped at 49 for not_ready
    assert breakdown[0]["points"] == BLOCKER_POINTS * 0.25
    assert value == NOT_READY_CAP
    assert breakdown[-1]["code"] is None and breakdown[-1]["points"] == 92 - NOT_READY_CAP
    assert value + sum(b["points"] for b in breakdown) == pytest.approx(100, abs=0.5)


def test_score_never_below_zero():
    many = [res(f"FLD00{i}", "blocker", "fail") for i in range(1, 9)]
    assert score(many) == 0


def test_build_readiness_end_to_end(tmp_path):
    snapshot, simulation, results = assess_org(tmp_path / "org", base_files())
    doc = build_readiness(
        snapshot, simulation, list(results.values()), "1.2.3", "2026-11-29T00:00:00+00:00"
    )
    assert list(doc)[: len(TOP_LEVEL_KEYS)] == list(TOP_LEVEL_KEYS)
    assert set(doc) - set(TOP_LEVEL_KEYS) == {
        "score_breakdown",
        "assumptions",
        "problems",
        "ignored_inputs",
    }
    assert doc["verdict"] == "not_ready"  # FLD001, FLD009, USR002 … fail as blockers
    assert doc["score"] <= NOT_READY_CAP
    assert doc["tool_version"] == "1.2.3"
    assert len(doc["checks"]) == 40
    first = doc["checks"][0]
    assert list(first)[:10] == [
        "code", "name", "area", "severity", "status", "affected",
        "summary", "remediation", "source", "action_file",
    ]  # fmt: skip
    assert doc["simulation"]["prospects"]["create_lead"] == 2
    assert set(doc["simulation"]) == {"prospects", "salesforce", "fields", "initial_sync"}
    assert doc["settings"]["connector_version"] == 2
    policies = {a["policy"]: a["records"] for a in doc["assumptions"]}
    assert policies == {"tie_break": 1, "unmapped_owner": 1, "blank_last_name": 1, "long_values": 1}
    json.dumps(doc, allow_nan=False)  # plain JSON


def test_assumptions_count_records_per_policy(tmp_path):
    _, simulation, _ = assess_org(tmp_path / "org", base_files())
    rows = {a["policy"]: a for a in assumptions(simulation)}
    assert rows["tie_break"]["rule"] == "M-7"
    assert rows["tie_break"]["value"] == "contact_then_newest"


def test_write_json_atomic(tmp_path):
    path = tmp_path / "out" / "readiness.json"
    write_json_atomic(path, {"a": float("nan"), "b": (1, 2)})
    assert json.loads(path.read_text()) == {"a": None, "b": [1, 2]}
    assert [p.name for p in path.parent.iterdir()] == ["readiness.json"]
