"""Decoding input files the way real exports are saved (spec/export-formats.md §0 "encoding").

UTF-8 with or without a BOM; UTF-16 with a BOM (Data Loader, PowerShell ``Out-File``) or without
one (detected from its NUL bytes); anything else read as Windows-1252 with a warning problem.
Shared by the CSV reader (load.py), connector.yml (settings.py) and JSON files (describe.py).
"""

from __future__ import annotations

from .errors import InputError

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def sniff_utf16(data: bytes) -> str | None:
    """``utf-16-le`` / ``utf-16-be`` for UTF-16 text without a BOM, else None.

    Text in a Latin script saved as UTF-16 has a NUL as every second byte; UTF-8 and
    Windows-1252 text has none. The first 4 KB decide (an even number of bytes).
    """
    if data.startswith(UTF16_BOMS) or len(data) < 4:
        return None
    head = data[: min(len(data), 4096) & ~1]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2
    if odd >= 0.4 * half and even <= 0.05 * half:
        return "utf-16-le"
    if even >= 0.4 * half and odd <= 0.05 * half:
        return "utf-16-be"
    return None


def decode_text(data: bytes, source: str) -> tuple[str, str, list[dict]]:
    """Text of a file and the encoding used; the Windows-1252 fallback adds a warning problem."""
    bom = data.startswith(UTF8_BOM)
    if bom:
        data = data[3:]  # a UTF-8 BOM with a bad byte later still falls back to Windows-1252
    else:
        utf16 = "utf-16" if data.startswith(UTF16_BOMS) else sniff_utf16(data)
        if utf16 is not None:
            try:
                return data.decode(utf16), utf16, []
            except UnicodeDecodeError as exc:
                raise InputError(f"invalid UTF-16 text at byte {exc.start}", file=source) from None
    try:
        return data.decode("utf-8"), "utf-8-sig" if bom else "utf-8", []
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
    try:
        text = data.decode("cp1252")
        enc = "cp1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        enc = "latin-1"
    warning = {
        "code": "INP002",
        "severity": "warning",
        "file": source,
        "row": bad_line,
        "column": None,
        "value": None,
        "message": f"file is not UTF-8 (first bad byte on line {bad_line}); read as {enc} "
        "(Windows-1252). Check accented characters; export as UTF-8 to be sure",
    }
    return text, enc, [warning]


def read_limited(path, source: str, limit: int) -> bytes:
    """The bytes of a small input file (settings, describe), refusing one over ``limit`` bytes."""
    try:
        with open(path, "rb") as fh:  # read-only; inputs are never written
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", file=source) from None
    if len(data) > limit:
        raise InputError(
            f"the file is larger than {limit // (1 << 20)} MB; this is not a file of that kind",
            file=source,
        )
    return data
