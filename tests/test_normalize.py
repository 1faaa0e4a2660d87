"""normalize.py: tables of input → exact output (ids, booleans, datetimes, emails, numbers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assessment import normalize as nz

# 15 → 18 pairs. The first two are from the Salesforce docs; the Data Loader sample's real ids
# (reference/salesforce/dataloader/accountData.csv) give 18-character ids whose 15-char head we convert.
ID_PAIRS = [
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
    ("003000000000001", "003000000000001AAA"),
    ("001x0000002xLCV", "001x0000002xLCVAA2"),
    ("005x0000000fNSi", "005x0000000fNSiAAM"),
    ("00Q1G00000nDnM5", "00Q1G00000nDnM5UAK"),  # Fivetran Lead seed
    ("0051G00000600Ml", "0051G00000600MlQAI"),  # Fivetran User seed
    ("00Q5e00000AbCdE", "00Q5e00000AbCdEEAV"),
    ("00Q5e00000abcde", "00Q5e00000abcdeEAA"),  # differs from the one above only by case
]


@pytest.mark.parametrize("id15, id18", ID_PAIRS)
def test_15_to_18(id15, id18):
    ids, was15, invalid = nz.sf_id18(pd.Series([id15]))
    assert ids.tolist() == [id18]
    assert was15.tolist() == [True] and invalid.tolist() == [False]
    assert nz.to_id18(id15) == id18


@pytest.mark.parametrize("id15, id18", ID_PAIRS)
def test_18_unchanged_and_case_mangled_restored(id15, id18):
    ids, was15, invalid = nz.sf_id18(pd.Series([id18, id18.upper(), id18.lower()]))
    assert ids.tolist() == [id18, id18, id18]  # ID-1/ID-5: case restored from the checksum
    assert not was15.any() and not invalid.any()


@pytest.mark.parametrize("id15, id18", ID_PAIRS)
def test_18_alone_in_a_column_each_mangling(id15, id18):
    # One shape per column, so the all-canonical shortcut and the repair path both run.
    for raw in (id18, id15 + id18[15:].lower(), id18.lower(), id18.upper()):
        ids, _, invalid = nz.sf_id18(pd.Series([raw, raw]))
        assert ids.tolist() == [id18, id18] and not invalid.any(), raw


def test_15_char_ids_differing_by_case_stay_distinct():
    ids, _, _ = nz.sf_id18(pd.Series(["00Q5e00000AbCdE", "00Q5e00000abcde"]))
    assert ids.iloc[0] != ids.iloc[1]


@pytest.mark.parametrize(
    "value, invalid",
    [
        ("abc", True),
        ("001A0000006Vm9", True),  # 14
        ("001A0000006Vm9rIA", True),  # 17
        ("001A0000006Vm9rIA9", True),  # 9 is not a checksum character
        ("001A0000006Vm9r-AC", True),
        ("001A0000006Vm9rIAC0", True),  # 19
        ("", False),
        ("   ", False),
        (None, False),
        (" 001A0000006Vm9r ", False),  # spaces trimmed
    ],
)
def test_invalid_ids(value, invalid):
    ids, _, bad = nz.sf_id18(pd.Series([value], dtype="str"))
    assert bad.tolist() == [invalid]
    if invalid or value is None or not value.strip():
        assert ids.isna().all()
    else:
        assert ids.tolist() == ["001A0000006Vm9rIAC"]


def test_mixed_widths_blanks_and_junk_keep_row_order():
    # 15- and 18-character ids interleaved with blanks and junk (the byte-gather path).
    (a15, a18), (b15, b18) = ID_PAIRS[0], ID_PAIRS[4]
    raw = [a15, None, b18.lower(), "junk", "", b15, a18.upper()]
    ids, was15, invalid = nz.sf_id18(pd.Series(raw, dtype="str", index=range(10, 17)))
    assert ids.tolist()[:1] + ids.tolist()[2:3] + ids.tolist()[5:] == [a18, b18, b18, a18]
    assert ids.isna().tolist() == [False, True, False, True, True, False, False]
    assert was15.tolist() == [True, False, False, False, False, True, False]
    assert invalid.tolist() == [False, False, False, True, False, False, False]
    assert ids.index.tolist() == list(range(10, 17)) and str(ids.dtype) == "str"


@pytest.mark.parametrize("width", [15, 16, 18])
def test_head_scan_word_checks_match_the_byte_tables(width):
    # ID-2: the 8-bytes-at-a-time letter/digit and upper-case checks give what the per-byte
    # tables give, for every byte value at every head position (non-ASCII, edges like @ [ ` {).
    rng = np.random.default_rng(width)
    edges = np.frombuffer(b"azAZ09@[`{/:\x7f\x80\xc1\xe1\xff", dtype=np.uint8)
    blocks = [rng.integers(0, 256, (5000, width)), rng.choice(edges, (5000, width))]
    for pos in range(15):
        for fill in b"aZ5":
            block = np.full((256, width), fill)
            block[:, pos] = np.arange(256)
            blocks.append(block)
    u8 = np.concatenate(blocks).astype(np.uint8)
    alnum, upper = nz._head_scan(u8)
    assert (alnum == nz._ALNUM[u8[:, :15]].all(axis=1)).all()
    bits = nz._UPPER[u8[:, :15]].reshape(-1, 3, 5)
    codes = np.packbits(bits, axis=2, bitorder="little").reshape(-1, 3)
    assert (nz._codes_of(upper) == codes).all()
    assert (nz._checksum_codes(u8) == codes).all()
    empty = nz._head_scan(np.zeros((0, width), dtype=np.uint8))
    assert len(empty[0]) == 0 and len(empty[1]) == 0


def test_to_id18_rejects_junk():
    with pytest.raises(ValueError):
        nz.to_id18("nope")


def test_crm_id_sentinels():
    ids, status, was15, invalid = nz.crm_id(
        pd.Series(
            ["[[crm_deleted]]", "[[CRM_IGNORE_PROSPECT]]", "003000000000001", None, "xx"],
            dtype="str",
        )
    )
    assert ids.isna().tolist() == [True, True, False, True, True]
    assert ids.iloc[2] == "003000000000001AAA"
    assert status.tolist()[:2] == ["deleted", "ignored"]
    assert status.iloc[4] == "invalid"
    assert status.iloc[2:4].isna().all()
    assert was15.tolist() == [False, False, True, False, False]
    assert invalid.tolist() == [False, False, False, False, True]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("t", True),
        ("1", True),
        ("1.0", True),
        ("yes", True),
        ("Y", True),
        ("x", True),
        ("checked", True),
        ("on", True),
        ("false", False),
        ("FALSE", False),
        ("f", False),
        ("0", False),
        ("0.0", False),
        ("No", False),
        ("n", False),
        ("unchecked", False),
        ("off", False),
        (" true ", True),
    ],
)
def test_parse_bool(raw, expected):
    out, bad = nz.parse_bool(pd.Series([raw], dtype="str"))
    assert out.dtype == "boolean"
    assert out.tolist() == [expected] and bad.tolist() == [False]


@pytest.mark.parametrize("raw, bad", [("", False), (None, False), ("maybe", True), ("2", True)])
def test_parse_bool_blank_and_bad(raw, bad):
    out, mask = nz.parse_bool(pd.Series([raw], dtype="str"))
    assert out.isna().all() and mask.tolist() == [bad]


UTC = "UTC"


DATETIME_CASES = [
    ("2024-01-02T03:04:05.000+0000", UTC, "2024-01-02 03:04:05"),
    ("2024-01-02T03:04:05.000Z", UTC, "2024-01-02 03:04:05"),
    ("2024-01-02T03:04:05Z", "America/New_York", "2024-01-02 03:04:05"),  # offset wins
    ("2019-07-12 09:50:36 UTC", UTC, "2019-07-12 09:50:36"),
    ("2024-01-02T03:04:05-05:00", UTC, "2024-01-02 08:04:05"),
    ("2024-01-02 03:04:05", UTC, "2024-01-02 03:04:05"),
    ("2024-01-02 03:04:05", "America/New_York", "2024-01-02 08:04:05"),
    ("2024-07-02 03:04:05", "America/New_York", "2024-07-02 07:04:05"),  # summer time
    ("2024-07-02 03:04:05", "Europe/Berlin", "2024-07-02 01:04:05"),
    ("2024-01-02", UTC, "2024-01-02 00:00:00"),
    ("2024-03-10 02:30:00", "America/New_York", "2024-03-10 07:00:00"),  # DST gap
    ("2024-11-03 01:30:00", "America/New_York", "2024-11-03 06:30:00"),  # repeated hour
]


@pytest.mark.parametrize("raw, tz, expected", DATETIME_CASES)
def test_parse_datetime(raw, tz, expected):
    out, bad = nz.parse_datetime_utc(pd.Series([raw], dtype="str"), naive_tz=tz)
    assert str(out.dtype) == "datetime64[us, UTC]"
    assert out.tolist() == [pd.Timestamp(expected, tz="UTC")]
    assert bad.tolist() == [False]


@pytest.mark.parametrize("raw, tz, expected", DATETIME_CASES)
def test_parse_datetime_general_path_agrees(raw, tz, expected):
    # A "… UTC" neighbour makes the column mixed, so the pandas path parses it, not pyarrow's.
    column = pd.Series([raw, "2019-07-12 09:50:36 UTC"], dtype="str")
    out, bad = nz.parse_datetime_utc(column, naive_tz=tz)
    assert out.tolist() == [pd.Timestamp(expected, tz="UTC"), pd.Timestamp("2019-07-12 09:50:36Z")]
    assert bad.tolist() == [False, False]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2024-01-02T03:04:05+00", "2024-01-02 03:04:05"),  # short offset: not a naive time
        ("2024-01-02T03:04:05 +0200", "2024-01-02 01:04:05"),  # space before the offset
        ("2024-01-02T03:04+02", "2024-01-02 01:04:00"),
    ],
)
def test_parse_datetime_offset_shapes(raw, expected):
    out, bad = nz.parse_datetime_utc(pd.Series([raw, "2024-01-02"], dtype="str"), "Europe/Berlin")
    assert out.iloc[0] == pd.Timestamp(expected, tz="UTC")
    assert out.iloc[1] == pd.Timestamp("2024-01-01 23:00:00", tz="UTC")  # the date is local
    assert not bad.any()


def test_parse_datetime_keeps_index_and_blanks():
    column = pd.Series(["2024-01-02T03:04:05Z", None, " 2024-01-03T00:00:00Z "], index=[7, 8, 9])
    out, bad = nz.parse_datetime_utc(column.astype("str"))
    assert out.index.tolist() == [7, 8, 9]
    assert out.iloc[0] == pd.Timestamp("2024-01-02 03:04:05Z") and pd.isna(out.iloc[1])
    assert out.iloc[2] == pd.Timestamp("2024-01-03", tz="UTC") and not bad.any()


@pytest.mark.parametrize("raw, bad", [("yesterday", True), ("", False), (None, False)])
def test_parse_datetime_bad(raw, bad):
    out, mask = nz.parse_datetime_utc(pd.Series([raw], dtype="str"))
    assert out.isna().all() and mask.tolist() == [bad]


@pytest.mark.parametrize(
    "raw, key",
    [
        ("a@b.com", "a@b.com"),
        (" Ann.Lee@Example.COM ", "ann.lee@example.com"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_email_key(raw, key):
    out = nz.email_key(pd.Series([raw], dtype="str"))
    assert (out.iloc[0] if key is not None else None) == key
    if key is None:
        assert out.isna().all()


@pytest.mark.parametrize(
    "raw, valid",
    [
        ("a@b.com", True),
        ("a.b+c@sub.example.co.uk", True),
        ("no-at-sign", False),
        ("a@b", False),
        ("a b@c.com", False),
        ("x" * 70 + "@example.com", False),  # 82 > 80 (M-15)
    ],
)
def test_email_is_valid(raw, valid):
    assert nz.email_is_valid(pd.Series([raw], dtype="str")).tolist() == [valid]


def test_email_variant():
    out = nz.email_has_variant(pd.Series(["a@b.com", "A@b.com", " a@b.com", None], dtype="str"))
    assert out.tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    "raw, value, bad",
    [
        ("500000.0", 500000.0, False),
        ("1,234.5", 1234.5, False),
        ("abc", None, True),
        ("", None, False),
    ],
)
def test_parse_number(raw, value, bad):
    out, mask = nz.parse_number(pd.Series([raw], dtype="str"))
    assert out.dtype == "Float64"
    assert (None if pd.isna(out.iloc[0]) else out.iloc[0]) == value
    assert mask.tolist() == [bad]


def test_email_key_non_ascii_casefold():
    out = nz.email_key(pd.Series(["Straße@X.de", "ÀB@x.com", "A@B.com"], dtype="str"))
    assert out.tolist() == ["strasse@x.de", "àb@x.com", "a@b.com"]


def test_null_strings_share_storage_but_not_writes():
    # Absent columns of one length share one pyarrow null array; writing to one copy never
    # shows in another (pandas replaces the array on write).
    a, b = nz.null_strings(pd.RangeIndex(3)), nz.null_strings(pd.RangeIndex(3))
    a.iloc[1] = "x"
    frame = pd.DataFrame({"c": b})
    frame.loc[0, "c"] = "z"
    assert a.isna().tolist() == [True, False, True]
    assert b.isna().all() and nz.null_strings(pd.RangeIndex(3)).isna().all()
    assert str(b.dtype) == "str"


def test_as_text_trims_and_blanks_like_pandas_strip():
    raw = pd.Series(["a", " b ", "", "  ", None, "\t\n", "\u00a0x\u00a0", "\u3000"], name="c")
    text = nz.as_text(raw)
    expected = raw.astype("str").str.strip()
    pd.testing.assert_series_equal(text, expected.mask(expected == ""))
    assert text.tolist()[:2] == ["a", "b"] and text.iloc[2:6].isna().all()
    assert text.name == "c" and str(text.dtype) == "str"
    mixed = pd.Series([1, 2.5, None], dtype="object", index=[7, 8, 9])
    assert nz.as_text(mixed).tolist()[:2] == ["1", "2.5"] and nz.as_text(mixed).index.tolist() == [
        7,
        8,
        9,
    ]


def test_byte_lengths_read_utf8_bytes_and_count_na_as_zero():
    values = pd.Series(["abc", None, "é", "", "日本"], dtype="str")
    assert nz.byte_lengths(values).tolist() == [3, 0, 2, 0, 6]
    assert nz.byte_lengths(values.iloc[2:]).tolist() == [2, 0, 6]  # a slice: offsets shifted
    assert nz.byte_lengths(nz.null_strings(pd.RangeIndex(4))).tolist() == [0, 0, 0, 0]
    picklist = pd.Series(["Gold", "Silver", None, "Gold"], dtype="category")
    assert nz.byte_lengths(picklist).tolist() == [4, 6, 0, 4]
