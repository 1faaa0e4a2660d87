"""The simulator's vectorised helpers give what the plain pandas forms give."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assessment.settings import ConnectorSettings
from assessment.sync import Notes as _Notes
from assessment.sync import _codes, _compare_text, _from_codes, _labels, _member


def test_codes_shared_across_series_and_na_is_minus_one():
    a = pd.Series(["x", None, "y", "x"], dtype="str")
    b = pd.Series(["y", "z", None], dtype="str")
    ca, cb = _codes(a, b)
    assert ca[0] == ca[3] and ca[2] == cb[0]
    assert ca[1] == -1 and cb[2] == -1
    assert len({ca[0], ca[2], cb[1]}) == 3


def test_member_matches_isin_without_na():
    a = pd.Series(["x", None, "y", "q"], dtype="str")
    pool = pd.Series(["y", None, "x"], dtype="str")
    ca, cp = _codes(a, pool)
    expected = (a.isin(pool.dropna()) & a.notna()).to_numpy()
    assert (_member(ca, cp) == expected).all()
    assert not _member(ca, cp[:0]).any()


def test_label_columns_keep_the_str_dtype_and_na():
    values = np.array(["b", None, "a", "b", np.nan], dtype=object)
    got = _labels(values)
    expected = pd.Series(values, dtype="str")
    pd.testing.assert_series_equal(got, expected)
    assert repr(got.dtype) == repr(expected.dtype)
    coded = _from_codes(np.array([1, -1, 0]), ["p", "q"])
    assert coded.tolist()[0] == "q" and pd.isna(coded[1]) and coded[2] == "p"


def test_policy_column_joins_names_in_first_noted_order():
    notes = _Notes(4)
    notes.policy("tie_break", np.array([True, False, True, False]))
    notes.policy("invalid_email", np.array([False, False, True, True]))
    got = notes.policy_column()
    assert got.tolist() == ["tie_break", "", "tie_break;invalid_email", "invalid_email"]
    assert str(got.dtype) == "str"


def test_add_reason_joins_with_semicolons():
    notes = _Notes(3)
    notes.add_reason(np.array([True, True, False]), "first")
    notes.add_reason(np.array([False, True, True]), np.array(["a", "b", "c"], dtype=object))
    assert notes.reason.tolist() == ["first", "first; b", "c"]


def test_compare_text_matches_strip_and_blank_mask():
    values = pd.Series([" a ", "  ", "", None, "b"], dtype="str", index=[5, 6, 7, 8, 9], name="c")
    for blank in (True, False):
        settings = ConnectorSettings(whitespace_is_blank=blank)
        # Only whitespace-only values are blank (F-3); text keeps its spaces (K2, #11).
        probe = values.str.strip() if blank else values
        expected = values.mask(probe == "")
        pd.testing.assert_series_equal(_compare_text(values, settings, False), expected)
