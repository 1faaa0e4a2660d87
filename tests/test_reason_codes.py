"""Reason codes: registered, documented, written, and what the checks select by."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from assessment.load import load_org
from assessment.sync import simulate, write_outcomes
from assessment.sync.reasons import REASONS, has_code, markdown

ROOT = Path(__file__).resolve().parents[1]


def test_docs_list_every_registered_code():
    assert (ROOT / "docs" / "reason-codes.md").read_text(encoding="utf-8") == markdown()


def test_codes_name_a_rule_and_a_slug():
    for code, (applies, meaning) in REASONS.items():
        rule, _, slug = code.partition(".")
        assert rule and slug and " " not in code, code
        assert applies in ("prospect", "salesforce", "both") and meaning


@pytest.fixture(scope="module")
def sample():
    return simulate(load_org(ROOT / "data" / "sample"))


def test_every_outcome_row_has_registered_codes(sample, tmp_path):
    for frame, kind in ((sample.prospects, "prospect"), (sample.salesforce, "salesforce")):
        codes = frame["reason_code"]
        assert codes.notna().all() and (codes != "").all()
        for joined in codes.unique():
            for code in joined.split(";"):
                assert code in REASONS and REASONS[code][0] in (kind, "both"), code
    paths = write_outcomes(sample, tmp_path)
    for name in ("prospects", "salesforce"):
        written = pd.read_csv(paths[name], dtype=str)
        assert list(written.columns[:9]).count("reason_code") == 1
        assert written["reason_code"].tolist() == getattr(sample, name)["reason_code"].tolist()


def test_codes_follow_the_outcome(sample):
    p = sample.prospects
    by_outcome = {
        "match_email": "M-5.one_match",
        "match_email_tie": "M-7.tie",
        "create_lead": "CR-1.create_lead",
    }
    for outcome, code in by_outcome.items():
        rows = p[p["outcome"] == outcome]
        assert len(rows) and has_code(rows["reason_code"], code).all(), outcome
    unassigned = p[(p["outcome"] == "pardot_only") & ~p["assigned"]]
    assert has_code(unassigned["reason_code"], "CR-4.unassigned_no_match").any()


def test_has_code_refuses_unknown_codes():
    with pytest.raises(KeyError):
        has_code(pd.Series(["M-5.one_match"]), "M-5.one-match")


def test_no_check_selects_by_the_reason_text():
    for path in sorted((ROOT / "assessment" / "checks").glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if '["reason"]' in line:  # shown to people as the finding's message only
                assert "message=" in line or line.strip().startswith("hit = sf[["), (path, n)
