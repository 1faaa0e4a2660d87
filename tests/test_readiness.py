"""Verdict, score and readiness.json."""

from __future__ import annotations

import json

import pytest
from test_checks import assess_org, base_files

from assessment.checks.registry import CheckResult, empty_findings
from assessment.readiness import (
    BLOCKER_POINTS,
    NOT_READY_CAP,
    TOP_LEVEL_KEYS,
    WARNING_POINTS,
    assumptions,
    build_readiness,
    escalate,
    explain_score,
    missing_inputs,
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
        # An unverified blocker is never "ready": the verdict is incomplete (contract §3).
        ([res("FLD001", "blocker", "not_run")], "incomplete"),
        (
            [res("FLD001", "blocker", "not_run"), res("DUP001", "warning", "fail", 1, 9)],
            "incomplete",
        ),
        ([res("FLD001", "blocker", "not_run"), res("FLD002", "blocker", "fail", 1)], "not_ready"),
        # A warning that can escalate to a blocker, unchecked: incomplete too.
        ([res("SYN001", "warning", "not_run")], "incomplete"),
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
        res("SYN004", "warning", "not_run"),  # its full weight: 8
        res("DUP001", "warning", "pass"),
    ]
    value, breakdown = explain_score(results)
    assert [(b["code"], b["points"]) for b in breakdown] == [
        ("DUP002", 4.0),
        ("DUP003", 2.0),
        ("CON001", WARNING_POINTS),
        ("SYN004", WARNING_POINTS),
    ]
    assert value == 100 - 22 == score(results)
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
        "score_breakdown", "assumptions", "problems", "ignored_inputs", "missing_inputs",
        "thresholds",
    }  # fmt: skip
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
    # The one Opted Out conflict (prospect 3 ↔ C2) rests on opted_out_default_sync (F-7, #11).
    assert policies == {
        "tie_break": 1, "unmapped_owner": 1, "blank_last_name": 1, "long_values": 1,
        "opted_out_default_sync": 1, "unassigned_email_match": 1,
    }  # fmt: skip
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


def test_not_run_never_scores_higher_than_failing():
    for code, severity in (("FLD001", "blocker"), ("SYN001", "warning"), ("DUP002", "warning")):
        not_run = score([res(code, severity, "not_run")])
        worst = "blocker" if code in ("FLD001", "SYN001") else severity
        assert not_run <= score([res(code, worst, "fail", 100, 100)])
        assert not_run <= NOT_READY_CAP or severity == "warning" and code == "DUP002"


def test_missing_inputs_name_the_exports():
    r = res("FLD001", "blocker", "not_run")
    r.numbers = {"missing": ["describe"]}
    (entry,) = missing_inputs([r, res("DUP002", "warning", "not_run")])
    assert "describe" in entry["input"] and entry["checks"] == ["FLD001"]


@pytest.mark.parametrize(
    ("affected", "population", "overrides", "escalated"),
    [
        (22, 100, None, True),  # 22% > 5%
        (4, 100, None, False),  # 4% ≤ 5%
        (6, 10, None, False),  # 60% but fewer than min_records
        (6, 10, {"min_records": 5}, True),
        (22, 100, {"stale_crm_ids": 0.3}, False),
    ],
)
def test_stale_crm_ids_escalate_above_their_share(affected, population, overrides, escalated):
    (out,) = escalate([res("SYN001", "warning", "fail", affected, population)], overrides)
    assert (out.severity == "blocker") is escalated
    assert ("threshold" in out.summary) is escalated
    assert verdict([out]) == ("not_ready" if escalated else "ready_with_warnings")


def test_thresholds_come_from_connector_yml(tmp_path):
    from assessment.errors import SettingsError
    from assessment.settings import settings_from_mapping

    s = settings_from_mapping({"thresholds": {"stale_crm_ids": "10%", "UNA003": 0.5}})
    assert s.thresholds == {"stale_crm_ids": 0.1, "mass_lead_creation": 0.5}
    with pytest.raises(SettingsError, match="unknown threshold"):
        settings_from_mapping({"thresholds": {"nonsense": 0.1}})
    with pytest.raises(SettingsError, match="share"):
        settings_from_mapping({"thresholds": {"stale_crm_ids": 5}})
