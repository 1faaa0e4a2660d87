"""A large UTF-8 text table is parsed straight from its file (issue #19 memory): the result must
be exactly what the whole-bytes route gives, and every file whose ends need more than a look
(UTF-16, a bad byte, a report footer, CR-only line ends) must go the whole-bytes route."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from assessment import load
from assessment.errors import InputError
from assessment.settings import ConnectorSettings

ROWS = 4_000  # ~140 KB: over the two 64 KB ends the file route looks at


def _lines(n: int = ROWS, sep: str = ",") -> list[str]:
    lines = [sep.join(["Prospect Id", "Email", "Notes", "Score"])]
    for i in range(1, n + 1):
        notes = '"line one\nline two, with ""quotes"""' if i % 97 == 0 else f"note {i}"
        lines.append(sep.join([str(i), f"p{i}@example.org", notes, "" if i % 5 else str(i)]))
    return lines


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


CASES = {
    "plain": _text(_lines()),
    "bom": b"\xef\xbb\xbf" + _text(_lines()),
    "crlf": ("\r\n".join(_lines()) + "\r\n").encode(),
    "excel sep line": _text(["sep=;", *_lines(sep=";")]),
    "semicolons": _text(_lines(sep=";")),
    "blank lines": _text(_lines()[:1000] + ["", ""] + _lines()[1000:]),
    "no final newline": _text(_lines())[:-1],
    "accents": _text([*_lines(), "4001,zoë@example.org,Crème brûlée,"]),
}


def _same(a: load.RawTable, b: load.RawTable) -> None:
    assert a.headers == b.headers
    assert a.rows.equals(b.rows)
    assert (a.encoding, a.notes, a.warnings) == (b.encoding, b.notes, b.warnings)
    assert len(a.columns) == len(b.columns)
    for x, y in zip(a.columns, b.columns, strict=True):
        pd.testing.assert_series_equal(x, y)


@pytest.fixture
def stream_all(monkeypatch):
    monkeypatch.setattr(load, "STREAM_MIN_BYTES", 0)


@pytest.mark.parametrize("case", list(CASES))
def test_the_file_route_reads_exactly_what_the_bytes_route_reads(tmp_path, stream_all, case):
    path = tmp_path / "prospects.csv"
    path.write_bytes(CASES[case])
    from_file = load.read_text_file(path, "prospects.csv")
    assert from_file is not None  # these all take the file route
    _same(from_file, load.read_text_table(CASES[case], "prospects.csv", ".csv"))
    assert path.read_bytes() == CASES[case]  # never written


def test_a_tab_separated_file_takes_the_file_route_too(tmp_path, stream_all):
    data = _text(_lines(sep="\t"))
    path = tmp_path / "prospects.tsv"
    path.write_bytes(data)
    _same(load.read_text_file(path, "p.tsv"), load.read_text_table(data, "p.tsv", ".tsv"))


def _with_footer() -> bytes:
    return _text([*_lines(), "", "Grand Totals (4000 records)", "", "Copyright (c) 2000-2026"])


WHOLE = {
    "report footer": _with_footer(),
    "cp1252 byte in the middle": _text(_lines()).replace(b"note 1500", b"caf\xe9 1500"),
    "utf-16": "\n".join(_lines()).encode("utf-16"),
    "cr only": "\r".join(line.replace("\n", " ") for line in _lines()).encode(),
    "small file": _text(_lines(10)),
}


@pytest.mark.parametrize("case", list(WHOLE))
def test_files_that_need_their_whole_bytes_go_the_bytes_route(tmp_path, case, monkeypatch):
    if case != "small file":
        monkeypatch.setattr(load, "STREAM_MIN_BYTES", 0)
    path = tmp_path / "prospects.csv"
    path.write_bytes(WHOLE[case])
    assert load.read_text_file(path, "prospects.csv") is None
    # and loading the file gives what the bytes route gives (footer dropped, cp1252 warned)
    loaded = load._load_table("pardot_prospects", path, tmp_path, ConnectorSettings())
    assert loaded.error is None
    raw = load.read_text_table(WHOLE[case], "prospects.csv", ".csv")
    assert loaded.file.rows == len(raw.rows) and loaded.notes == raw.notes
    assert loaded.file.sha256 == hashlib.sha256(WHOLE[case]).hexdigest()


def test_a_ragged_row_names_the_same_line_on_both_routes(tmp_path, stream_all):
    lines = _lines()
    lines[2000] = "2000,p2000@example.org,an, unquoted comma,7"
    data = _text(lines)
    path = tmp_path / "prospects.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as from_file:
        load.read_text_file(path, "prospects.csv")
    with pytest.raises(InputError) as from_bytes:
        load.read_text_table(data, "prospects.csv", ".csv")
    assert str(from_file.value) == str(from_bytes.value)
    assert from_file.value.row == from_bytes.value.row is not None


def test_loading_a_large_utf8_file_never_holds_its_bytes(tmp_path, stream_all, monkeypatch):
    path = tmp_path / "prospects.csv"
    path.write_bytes(CASES["bom"])

    def whole(*_args):
        raise AssertionError("the whole file was read into memory")

    monkeypatch.setattr(load, "_read_bytes", whole)
    loaded = load._load_table("pardot_prospects", path, tmp_path, ConnectorSettings())
    assert loaded.error is None and loaded.file.rows == ROWS
    assert loaded.file.sha256 == hashlib.sha256(CASES["bom"]).hexdigest()
    assert loaded.frame["email"].iloc[-1] == f"p{ROWS}@example.org"
    assert loaded.frame["notes"].iloc[96] == 'line one\nline two, with "quotes"'


def test_each_route_hashes_the_file_once(tmp_path, monkeypatch):
    # The file route hashes the file (its bytes are never held); a fallback reuses that hash; the
    # whole-bytes route hashes the bytes it read. No file is read twice for its hash.
    monkeypatch.setattr(load, "STREAM_MIN_BYTES", 0)
    calls = []
    for name in ("_sha256", "_sha256_file"):
        real = getattr(load, name)
        monkeypatch.setattr(
            load, name, lambda x, real=real, name=name: calls.append(name) or real(x)
        )
    for case, data in (("plain", CASES["plain"]), ("footer", _with_footer())):
        path = tmp_path / f"{case}.csv"
        path.write_bytes(data)
        calls.clear()
        loaded = load._load_table("pardot_prospects", path, tmp_path, ConnectorSettings())
        assert loaded.file.sha256 == hashlib.sha256(data).hexdigest()
        assert calls == ["_sha256_file"], case
    monkeypatch.setattr(load, "STREAM_MIN_BYTES", 1 << 40)  # every file small: bytes route
    calls.clear()
    load._load_table("pardot_prospects", tmp_path / "plain.csv", tmp_path, ConnectorSettings())
    assert calls == ["_sha256"]


def test_a_file_pyarrow_cannot_open_falls_back_to_its_bytes(tmp_path, stream_all, monkeypatch):
    path = tmp_path / "prospects.csv"
    path.write_bytes(CASES["plain"])

    def refused(*_args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(load.pa, "OSFile", refused)
    assert load.read_text_file(path, "prospects.csv") is None
    loaded = load._load_table("pardot_prospects", path, tmp_path, ConnectorSettings())
    assert loaded.error is None and loaded.file.rows == ROWS


def test_an_unreadable_file_is_named_not_a_traceback(tmp_path, monkeypatch):
    path = tmp_path / "prospects.csv"
    path.write_bytes(CASES["plain"])

    def refused(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(load, "open", refused, raising=False)  # the module's own open()
    loaded = load._load_table("pardot_prospects", path, tmp_path, ConnectorSettings())
    assert isinstance(loaded.error, InputError)
    assert "prospects.csv" in str(loaded.error) and "Permission denied" in str(loaded.error)
