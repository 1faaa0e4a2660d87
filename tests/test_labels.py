"""Human labels and number formats."""

import pandas as pd
import pytest

from assessment import labels


@pytest.mark.parametrize(
    ("hours", "text"),
    [(0, "none"), (0.001, "under a minute"), (0.2, "12 min"), (2.5, "2 h 30 min"), (49, "2 d 1 h")],
)
def test_fmt_duration(hours, text):
    assert labels.fmt_duration(hours) == text


@pytest.mark.parametrize(
    ("value", "text"), [(1234567, "1,234,567"), (12.0, "12"), (pd.NA, ""), (None, "")]
)
def test_fmt_int(value, text):
    assert labels.fmt_int(value) == text


def test_fmt_share():
    assert labels.fmt_share(1, 4) == "25.0%"
    assert labels.fmt_share(1, 100_000) == "<0.1%"
    assert labels.fmt_share(1, 0) == ""


def test_info_check_that_found_something_is_noted_not_failed():
    assert labels.status_label("fail", "info") == "Noted"
    assert labels.status_label("fail", "warning") == "Needs fixing"
    assert labels.status_label("not_run", "blocker") == "Could not run"


def test_every_outcome_and_verdict_has_words():
    assert labels.outcome_label("match_email") == "Will link by email"
    assert labels.outcome_label("creates_prospect", "salesforce") == "Will create a prospect"
    for v in ("ready", "ready_with_warnings", "incomplete", "not_ready"):
        assert "_" not in labels.verdict_label(v)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        (
            "CRM id found in the export: stays linked (M-2)",
            "CRM id found in the export: stays linked",
        ),
        ("deleted, merged (ID-5, M-20)", "deleted, merged"),
        ("see §3.7 for more", "see for more"),
        ("not reversible (§11 item 20)", "not reversible"),
        (
            "owner as assigned user (Salesforce wins, U-3).",
            "owner as assigned user (Salesforce wins).",
        ),
        ("Opted Out uses use_salesforce", "Opted Out uses \u201cUse Salesforce's value\u201d"),
        ("[[crm_deleted]]: gone", "gone"),
        ("not counted (SY-4, UNCONFIRMED)", "not counted"),
        (pd.NA, ""),
    ],
)
def test_plain_text_drops_spec_references(text, plain):
    assert labels.plain_text(text) == plain


def test_reason_label_by_code_then_text():
    assert labels.reason_label("M-21.crm_deleted", "x (M-21)") == labels.REASONS["M-21.crm_deleted"]
    assert labels.reason_label("Z-99.unknown", "fell back (Z-99)") == "fell back"
    assert labels.reason_label(None, "only text") == "only text"


def test_column_labels_leave_no_snake_case():
    assert labels.column_label("hours_low") == "Hours low"
    assert labels.column_label("sf_overwritten") == "Salesforce values overwritten"
    assert labels.column_label("Already Nice") == "Already Nice"


def test_display_frame_has_no_na_and_labels_codes():
    frame = pd.DataFrame(
        {
            "outcome": ["match_email", "create_lead"],
            "records": [1200, None],
            "reason": ["x (M-2)", pd.NA],
            "reason_code": ["M-21.crm_deleted", pd.NA],
        }
    )
    shown = labels.display_frame(frame)
    text = shown.to_string()
    assert "Will link by email" in text and "1,200" in text
    assert "<NA>" not in text and "nan" not in text and "NaN" not in text
    assert list(shown.columns) == ["Outcome", "Records", "Why", "Reason code"]


def test_reason_codes_of_the_simulator_read_as_sentences():
    import re

    from assessment.sync.reasons import REASONS

    for code in REASONS:  # Salesforce error codes (INVALID_EMAIL_ADDRESS) are quoted on purpose
        text = labels.reason_label(code, "fallback")
        assert text and text != "fallback" and "[[" not in text, code
        assert not re.search(r"\b[a-z]+_[a-z]", text), code
