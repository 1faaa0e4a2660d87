"""Load one org's export folder into an :class:`OrgSnapshot` (the one entry point for all callers).

Steps: find the files of contract.md §1 (names matched case-insensitively, with aliases), read each
as text (CSV/TSV in UTF-8, UTF-8 BOM, UTF-16 BOM or Windows-1252; XLSX; Pardot API JSON/XML),
resolve headers per table (schema.py), normalise per dtype (normalize.py, docs/architecture.md),
and collect every problem at once. Files that cannot be used raise one :class:`InputError`.
Input files are opened read-only and never written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import memory
from . import normalize as nz
from .describe import MAX_DESCRIBE_BYTES, OBJECTS, describe_from_bytes, parse_json
from .errors import AssessmentError, InputError, SettingsError
from .progress import Progress, resolve
from .schema import TABLES, header_key, schema
from .settings import ConnectorSettings, find_settings_file, read_settings
from .snapshot import PROBLEM_COLUMNS, LoadedFile, LoadReport, OrgSnapshot
from .textio import UTF16_BOMS, decode_text, read_limited, sniff_utf16

TEXT_EXTS = {".csv", ".txt", ".tsv"}
XLSX_EXTS = {".xlsx", ".xlsm"}
API_EXTS = {".json", ".xml"}
TABLE_EXTS = TEXT_EXTS | XLSX_EXTS | API_EXTS | {".xls"}

# Files that belong in an export folder but are not tables (no note when skipped).
# JSON record files are parsed whole into Python objects (about ten times their size).
MAX_JSON_TABLE_BYTES = 512 << 20

_QUIET_FILES = {"manifest.json", "connector.yml", "connector.yaml", "readme.md", "readme.txt"}

# --- file names → tables -------------------------------------------------------------------

_NOISE = {
    "data", "export", "exports", "exported", "extract", "extracted", "all", "report", "table",
    "api", "v3", "v4", "v5", "dump", "pull", "query", "records", "record", "file", "latest",
    "final", "full", "copy", "object", "objects", "bulk", "dataloader", "loader", "raw", "list",
    "response", "results", "result", "details",
}  # fmt: skip
_SF_MARKERS = {"sf", "sfdc", "salesforce", "crm"}
_PARDOT_MARKERS = {"pardot", "ae", "pi", "accountengagement", "b2bma", "mcae"}
_NOUNS = {
    "lead": "sf_leads", "leads": "sf_leads",
    "contact": "sf_contacts", "contacts": "sf_contacts",
    "account": "sf_accounts", "accounts": "sf_accounts",
    "user": "users", "users": "users",
    "group": "sf_queues", "groups": "sf_queues", "queue": "sf_queues", "queues": "sf_queues",
    "prospect": "pardot_prospects", "prospects": "pardot_prospects",
}  # fmt: skip
_FIELD_WORDS = {"field", "fields", "mapping", "mappings", "map", "customfield", "customfields"}
_FIELD_COMPOUNDS = {
    "fieldmapping", "fieldmappings", "prospectfield", "prospectfields", "customfield",
    "customfields", "fieldmap",
}  # fmt: skip


def _name_tokens(stem: str) -> list[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", stem)  # camelCase → words
    text = re.sub(r"([A-Za-z])(\d)|(\d)([A-Za-z])", r"\1\3 \2\4", text)  # letters|digits
    tokens = [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]
    out: list[str] = []
    i = 0
    while i < len(tokens):  # join "account engagement" before "account" is read as a noun
        if tokens[i] == "account" and i + 1 < len(tokens) and tokens[i + 1] == "engagement":
            out.append("accountengagement")
            i += 2
            continue
        out.append(tokens[i])
        i += 1
    return out


def classify_file(name: str) -> str | None:
    """Table a file name stands for (``sf_leads`` …, ``describe:Lead``), or None when unknown."""
    path = Path(name)
    ext = path.suffix.lower()
    if ext not in TABLE_EXTS:
        return None
    stem = path.name[: -len(path.suffix)]
    tokens = _name_tokens(stem)
    if "describe" in tokens:
        objects = {t.rstrip("s") for t in tokens if t.rstrip("s") in ("lead", "contact", "account")}
        rest = [t for t in tokens if t != "describe" and t.rstrip("s") not in objects]
        if ext == ".json" and len(objects) == 1 and all(t in _NOISE | _SF_MARKERS for t in rest):
            return "describe:" + objects.pop().capitalize()
        return None
    tables: set[str] = set()
    words = set(tokens)
    if ({"sync"} <= words and words & {"error", "errors"}) or words & {"syncerrors", "syncerror"}:
        tables.add("sync_errors")
        tokens = [t for t in tokens if t not in {"sync", "error", "errors", "syncerrors"}]
    if words & _FIELD_COMPOUNDS or words & _FIELD_WORDS:
        tables.add("field_mappings")
        drop = _FIELD_WORDS | _FIELD_COMPOUNDS | {"prospect", "custom"}
        tokens = [t for t in tokens if t not in drop]
    pardot = bool(words & _PARDOT_MARKERS)
    sf = bool(words & _SF_MARKERS)
    for t in tokens:
        if t in _NOUNS:
            tables.add(_NOUNS[t])
        elif t in _NOISE or t in _SF_MARKERS or t in _PARDOT_MARKERS or t.isdigit():
            continue
        else:
            return None  # an unknown word: better to skip (with a note) than guess
    if len(tables) != 1:
        return None
    table = tables.pop()
    if table == "users":
        if pardot and sf:
            return None
        return "pardot_users" if pardot else "sf_users"
    if pardot and table.startswith("sf_"):
        return None  # e.g. pardot_accounts = prospect accounts, not Salesforce accounts
    if sf and table in ("pardot_prospects", "field_mappings"):
        return None
    return table


# --- reading raw files ----------------------------------------------------------------------


@dataclass
class RawTable:
    """A file read as text: headers in file order, one ``str`` column each, spreadsheet rows."""

    headers: list[str]
    columns: list[pd.Series]
    rows: pd.Index  # row number per record (header = 1 for CSV/XLSX; record number for API pulls)
    encoding: str
    notes: list[str] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)  # problems (encoding fallback)
    blank_is_null: bool = False  # the reader already turned empty cells into NA (pyarrow CSV)


def _decode(data: bytes, source: str) -> tuple[str, str, list[dict]]:
    """Text of a file and the encoding used; Windows-1252 fallback adds a warning problem."""
    return decode_text(data, source)


_FOOTER_RE = re.compile(
    r"^\W*(grand totals?\b|copyright\b.*salesforce|confidential information|generated by\b)",
    re.IGNORECASE,
)


def _strip_footer(text: str) -> tuple[str, str | None]:
    """Drop a report-export footer: a blank row, then lines like "Grand Totals" / "Copyright …"."""
    tail_start = max(0, len(text) - 8192)
    tail = text[tail_start:]
    lines = tail.split("\n")
    blank = [
        i
        for i, line in enumerate(lines)
        if i > 0 and line.strip().strip('",;\t\r').strip() == "" and i < len(lines) - 1
    ]
    for i in blank:
        after = [ln for ln in lines[i + 1 :] if ln.strip().strip('",;\t\r').strip()]
        if not after or not any(_FOOTER_RE.match(ln.strip().strip('"')) for ln in after):
            continue
        # every footer line holds at most one non-empty cell
        try:
            one_cell = all(
                len([c for c in next(csv.reader([ln])) if c.strip()]) <= 1 for ln in after
            )
        except csv.Error:  # a stray CR or quote: not a report footer
            continue
        if one_cell:
            cut = tail_start + sum(len(ln) + 1 for ln in lines[:i])
            dropped = " | ".join(ln.strip().strip('"') for ln in after)[:200]
            return text[:cut], f"dropped {len(after)} report footer line(s): {dropped}"
    return text, None


def _sniff_delimiter(header_line: str, ext: str) -> str:
    if ext == ".tsv":
        return "\t"
    counts = {d: header_line.count(d) for d in (",", "\t", ";", "|")}
    if counts[","] == 0:
        best = max(counts, key=counts.get)
        if counts[best] > 0:
            return best
    return ","


def _line_of(text: str, fragment: str) -> int | None:
    """Line number of the first line that starts with ``fragment`` (ragged-row messages)."""
    if not fragment:
        return None
    if text.startswith(fragment):
        return 1
    pos = text.find("\n" + fragment)
    return text.count("\n", 0, pos + 1) + 1 if pos >= 0 else None


def _check_is_table(data: bytes, text: str | None, source: str) -> None:
    if not data[:65536].strip() and not data.strip():
        raise InputError("the file is empty", file=source)
    if text is None:
        return
    head = text[:2048].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<table", "<?xml")) or "<html" in head[:300]:
        raise InputError(
            "this is an HTML/XML page, not a CSV table (a report saved as 'Details Only' .xls is "
            "HTML): export it as CSV or XLSX",
            file=source,
        )
    if "\x00" in text[:8192]:
        raise InputError("binary data, not a text table", file=source)


_MAGIC = {
    b"PK\x03\x04": "a zip/XLSX file with a text extension",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls (OLE) workbook; save it as XLSX or CSV",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive (unpack it first)",
}


_EDGE = 1 << 16  # bytes decoded at each end of a UTF-8 file: the header and any report footer


def _utf8_edges(data: bytes) -> tuple[bytes, str, str, int, str] | None:
    """For a file that looks like UTF-8: (data, head text, tail text, tail offset, encoding).

    Only the two ends are decoded here; pyarrow checks the UTF-8 of every value while it reads,
    so a large file is never held twice as Python text. The bytes are returned whole, a UTF-8
    BOM included (pyarrow skips it; no copy of the file). None when an end is not UTF-8.
    """
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    enc = "utf-8-sig" if bom else "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff"), bom) or data.startswith(
        (b"\xff\xfe", b"\xfe\xff")
    ):
        return None
    if len(data) - bom <= 2 * _EDGE:
        try:
            text = data[bom:].decode("utf-8")
        except UnicodeDecodeError:
            return None
        return data, text, text, bom, enc
    head_end = data.rfind(b"\n", bom, bom + _EDGE) + 1
    if head_end == 0:  # a header row longer than _EDGE (a thousand columns): decode all of it
        newline = data.find(b"\n", bom)
        head_end = newline + 1 if newline >= 0 else len(data)
    newline = data.find(b"\n", len(data) - _EDGE)
    tail_start = newline + 1 if newline >= 0 else bom  # a line start: a character boundary
    try:
        return (
            data,
            data[bom:head_end].decode("utf-8"),
            data[tail_start:].decode("utf-8"),
            tail_start,
            enc,
        )
    except UnicodeDecodeError:
        return None


def read_text_table(data: bytes, source: str, ext: str = ".csv") -> RawTable:
    """Read CSV/TSV bytes as all-string columns (pyarrow), dropping report footers."""
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise InputError(f"this is {what}, not a CSV text table", file=source)
    notes: list[str] = []
    utf16 = data.startswith(UTF16_BOMS) or sniff_utf16(data) is not None
    if not utf16 and data.find(b"\n") < 0 and data.find(b"\r") >= 0:
        # Classic Mac line ends (CR only): in UTF-8 and Windows-1252 a CR byte is only ever a CR.
        data = data.replace(b"\r", b"\n")
        notes.append(f"{source}: classic Mac line ends (CR only) read as line breaks")
    edges = None if utf16 else _utf8_edges(data)
    if edges is not None:
        try:
            return _read_text_table(data, source, ext, edges, notes)
        except _NotUtf8:
            pass  # a bad byte in the middle: decode the whole file (Windows-1252 fallback)
    return _read_text_table(data, source, ext, None, notes)


# A UTF-8 text table at least this large is parsed straight from its file (issue #19 memory:
# its bytes were held beside their parsed text, 1 GB more at the peak of a 10M-record load);
# smaller files, and any file whose ends need more than a look (UTF-16, another encoding,
# a report footer, CR-only line ends), are read whole as before.
STREAM_MIN_BYTES = 16 * 1024 * 1024


def read_text_file(path: Path, source: str) -> RawTable | None:
    """Read a large UTF-8 CSV/TSV file as :func:`read_text_table` reads its bytes, but with
    pyarrow reading the file block by block; None when only the whole bytes will do."""
    size = _file_size(path)
    if not _streamable(path.suffix, size):
        return None
    try:
        with open(path, "rb") as fh:  # read-only; inputs are never written
            start = fh.read(_EDGE + 3)
            fh.seek(size - _EDGE)
            end = fh.read()
    except OSError:
        return None  # the whole-bytes route names the error
    if start.startswith(tuple(_MAGIC)) or start.startswith(UTF16_BOMS) or sniff_utf16(start):
        return None
    bom = 3 if start.startswith(b"\xef\xbb\xbf") else 0
    head_end = start.rfind(b"\n", bom, bom + _EDGE) + 1
    newline = end.find(b"\n")
    if head_end == 0 or newline < 0 or not start[:65536].strip():
        return None  # a huge header row or last line, or a blank start: the whole-bytes route
    try:
        head = start[bom:head_end].decode("utf-8")
        tail = end[newline + 1 :].decode("utf-8")
    except UnicodeDecodeError:
        return None
    _check_is_table(start, head, source)
    if _strip_footer(tail)[1] is not None:
        return None
    enc = "utf-8-sig" if bom else "utf-8"
    try:
        return _parse_csv(path, source, path.suffix.lower(), head, bom, enc, [], [], None, True)
    except _NotUtf8:
        return None  # a bad byte in the middle: the whole-bytes route decodes it (cp1252)
    except OSError:
        return None  # gone or unreadable since: the whole-bytes route names the error


def _streamable(suffix: str, size: int) -> bool:
    """Whether a table file of this extension and size may take the file route."""
    return suffix.lower() in TEXT_EXTS and size >= max(STREAM_MIN_BYTES, 2 * _EDGE + 1)


def _head_of(text: str) -> str:
    """The start of a decoded file that holds the header row, however long that row is."""
    newline = text.find("\n")
    return text[: max(_EDGE, newline + 1)] if newline >= 0 else text


_SEP_RE = re.compile(r'^\s*"?sep=(.)"?[\s,;]*$', re.IGNORECASE)


def _blank_rows(table: pa.Table) -> np.ndarray | None:
    """Rows with no value in any cell (blank lines: pyarrow keeps them as all-null rows when
    ``ignore_empty_lines`` is off); None when there are none. O(1) when a column has no null."""
    if table.num_rows == 0 or any(col.null_count == 0 for col in table.columns):
        return None
    mask = table.column(0).is_null()
    for col in table.columns[1:]:
        mask = pc.and_(mask, col.is_null())
    blank = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
    return blank if blank.any() else None


class _NotUtf8(Exception):
    """pyarrow met a value that is not UTF-8 (the file's ends were)."""


def _ragged_error(source: str, text: str, ragged: list[tuple[int, int, str]]) -> InputError:
    """The error for rows with the wrong number of fields, naming each line."""
    problems = []
    for expected, actual, fragment in ragged[:50]:
        line = _line_of(text, fragment)
        problems.append(
            f"{source} line {line}: {actual} fields where the header has {expected}"
            f" ({fragment[:60]!r})"
        )
    return InputError(
        f"malformed CSV: {len(ragged)} row(s) with the wrong number of fields "
        "(an unquoted delimiter or line break?)",
        file=source,
        row=_line_of(text, ragged[0][2]),
        problems=problems,
    )


def _read_text_table(data: bytes, source: str, ext: str, edges, notes: list[str]) -> RawTable:
    notes = list(notes)
    if edges is None:
        text, enc, warnings = _decode(data, source)
        if enc.startswith("utf-16") and "\n" not in text and "\r" in text:
            text = text.replace("\r", "\n")  # classic Mac line ends in a UTF-16 file
            notes.append(f"{source}: classic Mac line ends (CR only) read as line breaks")
        _check_is_table(data, text, source)
        text, footer_note = _strip_footer(text)
        changed = footer_note or enc != "utf-8" or len(notes)
        payload = text.encode("utf-8") if changed else data
        head = _head_of(text)  # the header row; never wrap the whole text (UCS-4 copy)
        bom = 0
    else:
        body, head, tail, tail_start, enc = edges
        bom = 3 if enc == "utf-8-sig" else 0
        warnings = []
        _check_is_table(data, head, source)
        kept, footer_note = _strip_footer(tail)
        payload = body
        if footer_note:  # cut the body where the footer starts (a line start of the tail)
            payload = body[: tail_start + len(kept.encode("utf-8"))]
            if tail_start == bom:
                head = _head_of(kept)
        text = None  # decoded only if a message needs line numbers
    if footer_note:
        notes.append(f"{source}: {footer_note}")
    return _parse_csv(
        payload, source, ext, head, bom, enc, warnings, notes, text, edges is not None
    )


def _parse_csv(
    payload: bytes | Path,
    source: str,
    ext: str,
    head: str,
    bom: int,
    enc: str,
    warnings: list[dict],
    notes: list[str],
    text: str | None,
    utf8: bool,
) -> RawTable:
    """Parse the CSV ``payload`` (bytes, or a file pyarrow reads block by block) whose header
    row starts ``head``; ``utf8``: a value that is not UTF-8 raises :class:`_NotUtf8`."""
    first, _, rest = head.partition("\n")
    sep = _SEP_RE.match(first)
    skip = 1
    if sep:  # Excel's "sep=;" first line names the delimiter; Excel hides it (rows unchanged)
        delim, head, skip = sep.group(1), rest, 2
        notes.append(f"{source}: Excel 'sep={delim}' line read as the delimiter")
    else:
        delim = _sniff_delimiter(first, ext)
    try:
        headers = next(csv.reader(io.StringIO(head), delimiter=delim))
    except (StopIteration, csv.Error):
        raise InputError("no header row", file=source, row=1) from None
    if not any(h.strip() for h in headers):
        raise InputError("the header row is empty", file=source, row=1)
    names = [f"c{i}" for i in range(len(headers))]
    ragged: list[tuple[int, int, str]] = []

    def on_bad_row(row: Any) -> str:
        ragged.append((row.expected_columns, row.actual_columns, row.text or ""))
        return "skip"

    if isinstance(payload, Path):
        stream = pa.OSFile(str(payload))  # read-only; block by block, never whole in memory
    else:
        if not payload.endswith(b"\n"):
            payload += b"\n"  # a header-only file without a final newline
        stream = io.BytesIO(payload)
    try:
        table = pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delim,
                newlines_in_values=True,
                invalid_row_handler=on_bad_row,
                ignore_empty_lines=False,  # blank lines count as spreadsheet rows (dropped below)
            ),
            convert_options=pacsv.ConvertOptions(
                # 32-bit offsets while parsing (half the bytes per cell, twice as fast as
                # large_string); each column is widened to pandas' large_string once combined.
                column_types={n: pa.string() for n in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        if utf8 and "UTF8" in str(exc):
            raise _NotUtf8 from None
        raise InputError(f"malformed CSV: {exc}", file=source) from None
    finally:
        stream.close()
    if ragged and text is None:
        whole = payload.read_bytes() if isinstance(payload, Path) else payload
        text = whole[bom:].decode("utf-8", errors="replace")
    if ragged:
        raise _ragged_error(source, text, ragged)
    blank = _blank_rows(table)
    if blank is None:
        rows = pd.RangeIndex(2, table.num_rows + 2, name="row")
    else:  # blank lines are rows in a spreadsheet: later records keep their row numbers
        rows = pd.Index(np.flatnonzero(~blank) + 2, name="row")
        table = table.filter(pa.array(~blank))
    chunked = table.columns
    del table  # the list is now the only owner of the parsed text: freed column by column
    return RawTable(headers, _str_columns(chunked), rows, enc, notes, warnings, blank_is_null=True)


def _str_columns(chunked: list[pa.ChunkedArray]) -> list[pd.Series]:
    """Each parsed column as one contiguous pandas ``str`` Series (pyarrow reads in blocks).

    One chunk per column means every later pyarrow kernel and byte view works on it without
    combining (a copy) again; each column's blocks are released as soon as it is combined, so the
    file's text is never held twice.
    """
    index = pd.RangeIndex(len(chunked[0]) if chunked else 0)
    columns = []
    for i in range(len(chunked)):
        column, chunked[i] = chunked[i], None
        if column.null_count == len(column):  # an empty column: the shared all-NA one
            columns.append(nz.null_strings(index))
            continue
        if column.type != pa.large_string():  # widened chunk by chunk: 2 GB of text fits
            column = column.cast(pa.large_string())
        arr = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        del column
        columns.append(nz.str_series(arr, index))
    return columns


def _cell_text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _xlsx_column(values: np.ndarray) -> pd.Series:
    """One worksheet column (Python cell values from calamine) as ``str``; empty cell → NA."""
    if (
        pd.api.types.infer_dtype(values, skipna=True) == "string"
    ):  # the usual case: no per-cell work
        col = pd.Series(values, dtype="str")
    else:  # numbers, booleans, dates: converted cell by cell (the reader hands out Python objects)
        col = pd.Series([_cell_text(v) for v in values], dtype="str")
    return col.mask(col == "")


def read_xlsx_table(data: bytes, source: str) -> RawTable:
    """Read the first worksheet of an XLSX (pandas' calamine engine) as all-string columns."""
    try:
        sheet = pd.read_excel(
            io.BytesIO(data),
            engine="calamine",
            sheet_name=0,
            header=None,
            dtype=object,
            keep_default_na=False,
            na_values=[],
        )
    except Exception as exc:  # calamine errors, zip errors, a workbook without sheets …
        raise InputError(
            f"not a readable XLSX workbook ({type(exc).__name__})", file=source
        ) from None
    cells = sheet.to_numpy(dtype=object)
    if cells.shape[0] == 0 or not any(str(h).strip() for h in cells[0]):
        raise InputError("the first worksheet has no header row", file=source, row=1)
    headers = [_cell_text(h) or "" for h in cells[0]]
    columns = [_xlsx_column(cells[1:, j]) for j in range(len(headers))]
    filled = np.zeros(len(cells) - 1, dtype=bool)
    for col in columns:
        filled |= col.notna().to_numpy()
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    notes: list[str] = []
    # Report exports: a blank row then footer lines (Grand Totals, Copyright …).
    for i in range(max(0, last - 20), last):  # footers are short: scan the tail
        if filled[i]:
            continue
        after = [c.iloc[i + 1 : last].dropna() for c in columns]
        if any(v.str.match(_FOOTER_RE).any() for v in after):
            notes.append(f"{source}: dropped {last - i} report footer row(s)")
            last = i
            break
    # Blank rows are dropped; the others keep the row number the spreadsheet shows.
    keep = np.flatnonzero(filled[:last])
    columns = [c.take(keep).reset_index(drop=True) for c in columns]
    rows = pd.Index(keep + 2, name="row")
    return RawTable(headers, columns, rows, "xlsx", notes)


def _flatten(record: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes" and isinstance(value, dict):
            continue  # sf data query --json: {"type": "Lead", "url": ...} on every record
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, list):
            out[name] = ";".join(
                str(_cell_text(v))
                for v in value
                if not isinstance(v, dict | list) and v is not None
            )
        else:
            out[name] = _cell_text(value)
    return out


def _records_table(records: list[dict], source: str, encoding: str) -> RawTable:
    flat = [_flatten(r) for r in records]
    headers = list(dict.fromkeys(k for r in flat for k in r))
    columns = [pd.Series([r.get(h) for r in flat], dtype="str") for h in headers]
    return RawTable(headers, columns, pd.RangeIndex(1, len(flat) + 1, name="row"), encoding)


def read_json_table(data: bytes, source: str) -> RawTable:
    """Pardot API v5 JSON (``{"values": [...]}`` or a list of objects) as all-string columns."""
    _check_is_table(data, None, source)
    doc, enc, warnings = parse_json(data, source, MAX_JSON_TABLE_BYTES)
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
        doc = doc["result"]  # sf data query --json: {"status": 0, "result": {"records": [...]}}
    if isinstance(doc, dict) and isinstance(doc.get("fields"), list):
        raise InputError(
            "this is a Salesforce describe, not records: put it in describe/ "
            "or name it <Object>.describe.json",
            file=source,
        )
    if isinstance(doc, dict):
        for key in ("values", "records", "data", "result"):
            if isinstance(doc.get(key), list):
                doc = doc[key]
                break
        else:
            if "id" in doc and not any(isinstance(v, list) for v in doc.values()):
                doc = [doc]  # a single-record read (v5 GET /objects/prospects/{id})
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise InputError(
            'not a table: expected {"values": [ {...}, ... ]} (API v5) or a list of objects',
            file=source,
        )
    raw = _records_table(doc, source, enc)
    raw.warnings.extend(warnings)
    return raw


_XML_SKIP = {"profile", "visitors", "visitor_activities", "lists", "visits"}


def _xml_record(elem: ET.Element, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in elem:
        name = prefix + child.tag
        kids = list(child)
        if not kids:
            out[name] = child.text or None  # kept as given (F-3 decides about whitespace)
        elif all(k.tag == "value" for k in kids):  # multi-select: repeated <value> children
            out[name] = ";".join((k.text or "").strip() for k in kids)
        elif child.tag in _XML_SKIP or depth >= 2:
            continue
        else:
            out.update(_xml_record(child, name + ".", depth + 1))
    return out


def read_xml_table(data: bytes, source: str) -> RawTable:
    """Pardot API v3/v4 XML (``<rsp><result><prospect>…``) as all-string columns."""
    if b"<!DOCTYPE" in data[:2048] or b"<!ENTITY" in data[:4096]:
        raise InputError("XML with a DOCTYPE/ENTITY declaration is not accepted", file=source)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, col = exc.position
        raise InputError(
            f"not valid XML: {exc}", file=source, row=line, column=f"char {col}"
        ) from None
    if root.tag == "rsp" and root.get("stat") not in (None, "ok"):
        err = root.find("err")
        raise InputError(
            f"the API response is an error: {err.text if err is not None else ''}", file=source
        )
    container = root.find("result") if root.find("result") is not None else root
    records = [
        e for e in container if len(e) and e.tag not in ("total_results", "err", "result")
    ]  # the record elements (<prospect>, <user>, <customField>)
    return _records_table([_xml_record(e) for e in records], source, "utf-8")


def read_raw(path: Path, data: bytes, source: str) -> RawTable:
    """Dispatch on the extension: CSV/TSV/TXT, XLSX, JSON or XML."""
    ext = path.suffix.lower()
    if ext == ".xls":
        raise InputError(
            "old .xls workbooks are not read: save as .xlsx or CSV (UTF-8)", file=source
        )
    if ext in XLSX_EXTS:
        return read_xlsx_table(data, source)
    if ext == ".json":
        return read_json_table(data, source)
    if ext == ".xml":
        return read_xml_table(data, source)
    return read_text_table(data, source, ext)


# --- value normalisation --------------------------------------------------------------------

_SYNC_BEHAVIOR = {
    "usesalesforce": "use_salesforce",
    "usesalesforcesvalue": "use_salesforce",
    "usesalesforcevalue": "use_salesforce",
    "salesforce": "use_salesforce",
    "usepardot": "use_pardot",
    "usepardotsvalue": "use_pardot",
    "usepardotvalue": "use_pardot",
    "useaccountengagementsvalue": "use_pardot",
    "useaccountengagementvalue": "use_pardot",
    "pardot": "use_pardot",
    "accountengagement": "use_pardot",
    "mostrecent": "most_recent",
    "mostrecentlyupdated": "most_recent",
    "usethemostrecentlyupdatedfield": "most_recent",
    "usethemostrecentlyupdatedrecord": "most_recent",
    "usemostrecentlyupdatedfield": "most_recent",
    "usemostrecentlyupdatedrecord": "most_recent",
    "usemostrecent": "most_recent",
}

# Pardot custom field types by type_id (export-formats.md §3).
PARDOT_TYPES = {
    1: "text", 2: "radio button", 3: "checkbox", 4: "dropdown", 5: "text area",
    6: "multi-select", 7: "hidden", 8: "number", 9: "email", 10: "email with valid mx record",
    11: "email from non-free provider", 12: "date", 13: "relational", 14: "crm user",
}  # fmt: skip
_TYPE_BY_KEY = {header_key(v): v for v in PARDOT_TYPES.values()} | {
    str(k): v for k, v in PARDOT_TYPES.items()
}


def _key_series(values: pd.Series) -> pd.Series:
    return nz.as_text(values).str.lower().str.replace(r"[^a-z0-9]", "", regex=True)


def parse_sync_behavior(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """UI labels / tokens of a field's sync behaviour → use_salesforce | use_pardot | most_recent."""
    keys = _key_series(values)
    out = keys.map(_SYNC_BEHAVIOR).astype("str")
    return out, (keys.notna() & out.isna()).astype(bool)


def parse_pardot_type(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Pardot field types (any case, or type_id 1–14) → lower-case type name; unknown flagged."""
    text = nz.as_text(values).str.lower().str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    keys = text.str.replace(r"[^a-z0-9]", "", regex=True)
    mapped = keys.map(_TYPE_BY_KEY).astype("str")
    unknown = (keys.notna() & mapped.isna()).astype(bool)
    return mapped.fillna(text), unknown


def parse_pardot_id(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Pardot numeric ids as digit strings (a spreadsheet's trailing ``.0`` dropped)."""
    text = nz.as_text(values)
    arr = nz.arrow_strings(text)
    if arr.null_count < len(arr) and pc.all(pc.ascii_is_decimal(arr)).as_py():
        # Only ASCII digits: no ".0" to drop and every value matches \d+ (the usual export).
        return text, pd.Series(False, index=values.index, name=values.name)
    text = text.str.replace(r"\.0+$", "", regex=True)
    ok = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    bad = (text.notna() & ~ok).astype(bool)
    return text.where(ok), bad


def parse_int(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers written as text (``12``, ``12.0``) → Int64; fractions are flagged."""
    num, bad = nz.parse_number(values)
    frac = (num.notna() & (num != num.round())).fillna(False).astype(bool)
    out = num.where(~frac).round().astype("Int64")
    return out, (bad | frac).astype(bool)


# --- problems --------------------------------------------------------------------------------


class _Problems:
    """Accumulates problem frames (vectorised) and file-level errors."""

    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []

    def add(self, **values: Any) -> None:
        self.frames.append(pd.DataFrame([{c: values.get(c) for c in PROBLEM_COLUMNS}]))

    def add_mask(
        self,
        mask: pd.Series,
        raw: pd.Series,
        *,
        code: str,
        severity: str,
        table: str,
        file: str,
        column: str,
        message: str,
    ) -> None:
        if not mask.any():
            return
        rows = mask.index[mask.to_numpy()]
        self.frames.append(
            pd.DataFrame(
                {
                    "code": code,
                    "severity": severity,
                    "table": table,
                    "file": file,
                    "row": np.asarray(rows, dtype=np.int64),
                    "column": column,
                    "value": raw[mask].astype("str").to_numpy(),
                    "message": message,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.frames:
            out = pd.DataFrame({c: pd.Series(dtype="str") for c in PROBLEM_COLUMNS})
            out["row"] = out["row"].astype("Int64")
            return out
        out = pd.concat(self.frames, ignore_index=True)[PROBLEM_COLUMNS]
        for c in PROBLEM_COLUMNS:
            out[c] = out[c].astype("Int64") if c == "row" else out[c].astype("str")
        return out


_EXPECTED = {
    "sf_id": "a 15- or 18-character Salesforce id",
    "sf_id_or_sentinel": "a 15/18-character Salesforce id, [[crm_deleted]] or [[crm_ignore_prospect]]",
    "boolean": "true/false, 1/0, yes/no",
    "datetime": "a date-time like 2024-01-02 03:04:05 or 2024-01-02T03:04:05Z",
    "datetime_utc": "a date-time like 2024-01-02T03:04:05.000Z",
    "date": "a date like 2024-01-02",
    "float": "a number",
    "Int64": "a whole number",
    "pardot_id": "a numeric Pardot id",
}


@dataclass
class _Cells:
    """Problems about the cells of one column (INP002 bad values, SYN002 15-character ids)."""

    problems: _Problems
    table: str
    source: str
    col: str
    dtype: str
    raw: pd.Series

    def add(self, mask: pd.Series, message: str, code: str = "INP002", severity="warning"):
        """One problem per cell of ``mask``, quoting the cell as given."""
        self.problems.add_mask(
            mask,
            self.raw,
            code=code,
            severity=severity,
            table=self.table,
            file=self.source,
            column=self.col,
            message=message,
        )

    def bad(self, mask: pd.Series, what: str | None = None) -> None:
        """Cells that could not be converted to the column's dtype."""
        self.add(mask, f"expected {what or _EXPECTED.get(self.dtype, self.dtype)}")

    def short_ids(self, mask: pd.Series) -> None:
        """SYN002: 15-character (case-sensitive) ids, converted with the checksum (ID-2)."""
        self.add(mask, "15-character id converted to 18 characters (ID-2)", "SYN002", "info")

    def bad_ids(self, invalid: pd.Series) -> None:
        """ID-2: not an id; or an 18-character id whose checksum does not fit its case, which is
        damaged: NA (never joined, never counted as a duplicate), reported as given."""
        if not invalid.any():
            return
        damaged = nz.checksum_failures(self.raw, invalid)
        self.bad(invalid & ~damaged)
        self.bad(damaged, "an 18-character id whose checksum (last 3 characters) fits its case")


_DATE_ORDERS = {"day_first": "dmy", "month_first": "mdy", "auto": None}
_DATE_DTYPES = ("datetime", "datetime_utc", "date")


def _convert(
    spec, raw: pd.Series, cells: _Cells, settings: ConnectorSettings, derived: dict, dates: dict
) -> pd.Series:
    """One canonical column converted to its dtype; derived columns go into ``derived``."""
    col, dtype, table = spec.name, spec.dtype, cells.table
    if dtype == "sf_id":
        ids, was15, invalid = nz.sf_id18(raw)
        cells.bad_ids(invalid)
        cells.short_ids(was15)
        return ids
    if dtype == "sf_id_or_sentinel":
        # Sentinels [[crm_deleted]] / [[crm_ignore_prospect]] (M-21, M-22) → status column.
        ids, status, was15, invalid = nz.crm_id(raw)
        cells.bad_ids(invalid)
        cells.short_ids(was15)
        derived[col.removesuffix("_fid") + "_status"] = status
        return ids
    if dtype == "email_str":
        derived[f"{col}_key"] = nz.email_key(raw)  # M-13 policy key (trim + casefold)
        return raw  # kept as given (variants in case/spaces are findings, M-13)
    if dtype in _DATE_DTYPES:
        # Pardot times without an offset are in the exporting user's zone (export-formats §0);
        # Salesforce API/warehouse times without an offset are UTC.
        tz = settings.pardot_timezone if dtype == "datetime" else "UTC"
        report: dict = {}
        order = _DATE_ORDERS.get(settings.date_format)
        values, mask = nz.parse_datetime_utc(raw, naive_tz=tz, date_order=order, report=report)
        if report.get("count"):  # locale dates (report exports): settled per file below
            dates[col] = (report, raw, tz, cells, mask)
        else:
            cells.bad(mask)
        return values
    parsers = {
        "boolean": nz.parse_bool,
        "pardot_id": parse_pardot_id,
        "float": nz.parse_number,
        "Int64": parse_int,
    }
    what = None
    if dtype in parsers:
        parse = parsers[dtype]
    elif table == "field_mappings" and col == "sync_behavior":
        parse = parse_sync_behavior
        what = (
            "Use Salesforce's value, Use Account Engagement's value (Use Pardot's value), "
            "Use the most recently updated field, or use_salesforce/use_pardot/most_recent"
        )
    elif table == "field_mappings" and col == "pardot_type":
        parse, what = parse_pardot_type, "a Pardot field type (Text, Dropdown, … or type_id 1–14)"
    else:
        return raw  # raw text, untrimmed: whether whitespace counts as blank is a policy (F-3)
    values, mask = parse(raw)
    cells.bad(mask, what)
    return values


def _settle_dates(dates: dict, out: dict, notes: list[str], settings: ConnectorSettings) -> None:
    """One day/month order per file for locale dates: the order some column's values show
    (a day above 12) is used for every column; with none, month first and a warning."""
    if not dates:
        return
    reports = {col: entry[0] for col, entry in dates.items()}
    shown = {r["order"] for r in reports.values() if r["inferred"]}
    order = shown.pop() if len(shown) == 1 else None
    first_col = next(iter(dates))
    cells0 = dates[first_col][3]
    for col, (report, raw, tz, cells, mask) in dates.items():
        if order is not None and report["order"] != order:  # an ambiguous column: re-read
            out[col], mask = nz.parse_datetime_utc(raw, naive_tz=tz, date_order=order)
        cells.bad(mask)
    example = reports[first_col]["example"]
    if settings.date_format != "auto":
        return
    if order is not None:
        words = "day first (DD/MM)" if order == "dmy" else "month first (MM/DD)"
        notes.append(
            f"{cells0.source}: report-style dates (like {example!r}) read {words}, as the "
            "values show; set date_format in connector.yml to override"
        )
        return
    cells0.problems.add(
        code="INP002",
        severity="warning",
        table=cells0.table,
        file=cells0.source,
        column=first_col,
        value=example,
        message=f"dates like {example!r} could be day or month first and no value tells; read "
        "month first (MM/DD/YYYY). Set date_format: day_first in connector.yml if wrong",
    )


def _normalise(
    frame: pd.DataFrame,
    table: str,
    source: str,
    settings: ConnectorSettings,
    problems: _Problems,
    absent: frozenset[str] = frozenset(),
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Convert every canonical column to its dtype (docs/architecture.md) and add derived columns."""
    derived: dict[str, pd.Series] = {}
    out: dict[str, pd.Series] = {}
    dates: dict[str, tuple] = {}
    for spec in schema(table).columns:
        # An absent column is converted empty (for its dtype) and widened to all-NA below.
        raw = frame[spec.name].iloc[:0] if spec.name in absent else frame[spec.name]
        cells = _Cells(problems, table, source, spec.name, spec.dtype, raw)
        out[spec.name] = _convert(spec, raw, cells, settings, derived, dates)
    _settle_dates(dates, out, notes if notes is not None else [], settings)
    n = len(frame)
    blank: dict[str, pd.Series] = {}
    for name, values in (out | derived).items():
        # absent columns: an all-NA column of the converted dtype (no reindex: fast on 1M rows).
        # The absent columns of one dtype share one all-NA Series: copy-on-write gives a column
        # its own values only if something writes into it.
        frame[name] = values if len(values) == n else _blank_column(values.dtype, frame, blank)
    return frame


def _blank_column(dtype, frame: pd.DataFrame, blank: dict[str, pd.Series]) -> pd.Series:
    """The all-NA column of ``dtype`` the columns of ``frame`` share (``blank`` holds one per
    dtype; text: ``nz.null_strings``, which holds no resident memory)."""
    if dtype == "str":
        return nz.null_strings(frame.index)
    key = str(dtype)
    if key not in blank:
        blank[key] = pd.Series(index=frame.index, dtype=dtype)
    return blank[key]


# Record key of each table (INP003 duplicates, blank keys).
KEY_COLUMN = {
    "sf_leads": "id",
    "sf_contacts": "id",
    "sf_accounts": "id",
    "sf_users": "id",
    "sf_queues": "id",
    "pardot_prospects": "prospect_id",
    "pardot_users": "user_id",
}

# Key prefixes (ID-3): an id of another object in a column is reported, never silently used.
_LEAD, _CONTACT, _ACCOUNT = (nz.PREFIX_LEAD,), (nz.PREFIX_CONTACT,), (nz.PREFIX_ACCOUNT,)
_USER, _USER_OR_QUEUE = (nz.PREFIX_USER,), (nz.PREFIX_USER, nz.PREFIX_GROUP)
ID_PREFIXES: dict[tuple[str, str], tuple[str, ...]] = {
    ("sf_leads", "id"): _LEAD,
    ("sf_leads", "owner_id"): _USER_OR_QUEUE,  # Lead.OwnerId → User or Group (queue)
    ("sf_leads", "converted_contact_id"): _CONTACT,
    ("sf_leads", "converted_account_id"): _ACCOUNT,
    ("sf_leads", "master_record_id"): _LEAD,
    ("sf_contacts", "id"): _CONTACT,
    ("sf_contacts", "account_id"): _ACCOUNT,
    ("sf_contacts", "owner_id"): _USER,  # Contact.OwnerId → User only
    ("sf_contacts", "master_record_id"): _CONTACT,
    ("sf_accounts", "id"): _ACCOUNT,
    ("sf_accounts", "owner_id"): _USER,
    ("sf_accounts", "person_contact_id"): _CONTACT,
    ("sf_users", "id"): _USER,
    ("sf_queues", "id"): (nz.PREFIX_GROUP,),
    ("pardot_prospects", "crm_lead_fid"): _LEAD,  # ID-3: fid = lead id (00Q) / contact id (003)
    ("pardot_prospects", "crm_contact_fid"): _CONTACT,
    ("pardot_prospects", "crm_account_fid"): _ACCOUNT,
    ("pardot_prospects", "crm_owner_fid"): _USER_OR_QUEUE,
    ("pardot_prospects", "salesforce_id"): _LEAD + _CONTACT,
    ("pardot_users", "salesforce_user_id"): _USER,
}

_OBJECT_OF_PREFIX = {"00Q": "Lead", "003": "Contact", "001": "Account", "005": "User"}
_OBJECT_OF_PREFIX["00G"] = "Group/Queue"


def _prefix_check(prefixes: tuple[str, ...]):
    import pandera.pandas as pa_

    names = " or ".join(f"{_OBJECT_OF_PREFIX.get(p, p)} id ({p}…)" for p in prefixes)
    return pa_.Check(
        lambda s: s.str.slice(0, 3).isin(prefixes),
        element_wise=False,
        name="id_prefix",
        error=f"expected a {names} (ID-3)",
    )


@cache
def pandera_schema(table: str):
    """The pandera schema of a loaded table, built once from schema.py (keys, id prefixes)."""
    import pandera.pandas as pa_

    key = KEY_COLUMN.get(table)
    columns = {}
    for spec in schema(table).columns:
        checks = []
        if (table, spec.name) in ID_PREFIXES:
            checks.append(_prefix_check(ID_PREFIXES[(table, spec.name)]))
        if spec.name == key:
            columns[spec.name] = pa_.Column(
                nullable=False, unique=True, report_duplicates="all", checks=checks
            )
        elif checks:
            columns[spec.name] = pa_.Column(nullable=True, checks=checks)
    return pa_.DataFrameSchema(columns, strict=False, name=table)


def _fixed_width_bytes(arr: pa.Array, width: int) -> np.ndarray | None:
    """(non-null count, width) bytes of a string array whose values are all ``width`` bytes;
    None for any other shape (the bytes themselves come from :func:`normalize.bytes_matrix`)."""
    present = len(arr) - arr.null_count
    lengths = pc.fill_null(pc.binary_length(arr), 0).to_numpy()
    rows = np.flatnonzero(lengths == width)
    if present == 0 or len(rows) != present:
        return None
    return nz.bytes_matrix(arr, rows, width)


def _prefixes_ok(values: pd.Series, prefixes: tuple[str, ...]) -> bool:
    """True when every present value starts with one of ``prefixes`` (what the ID-3 pandera check
    accepts); False when some may not, or the values are not 18-byte ids (pandera decides)."""
    arr = nz.arrow_strings(values)
    if arr.null_count == len(arr):
        return True
    u8 = _fixed_width_bytes(arr, 18)
    if u8 is None:
        return False
    head = (u8[:, 0].astype(np.int32) << 16) | (u8[:, 1].astype(np.int32) << 8) | u8[:, 2]
    allowed = [int.from_bytes(p.encode("ascii"), "big") for p in prefixes]
    return bool(np.isin(head, allowed).all())


_MIX = [np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)]


def _keys_unique(values: pd.Series) -> bool:
    """True when the keys are surely all present and distinct: a 64-bit value per key (the bytes
    of 18-byte ids mixed, or the number of a digit key), sorted, with no two equal. Equal values
    may still be different keys, so False only means pandera decides."""
    arr = nz.arrow_strings(values)
    if arr.null_count or len(arr) == 0:
        return False
    u8 = _fixed_width_bytes(arr, 18)
    if u8 is not None:
        u8 = np.ascontiguousarray(u8)
        words = [
            np.ndarray((len(u8),), dtype="<u8", buffer=u8, offset=at, strides=(18,))
            for at in (0, 8, 10)  # bytes 0–7, 8–15, 10–17: all 18
        ]
        mixed = words[0] * _MIX[0]
        mixed += words[1] * _MIX[1]
        mixed += words[2] * _MIX[2]
    else:
        try:
            mixed = pc.cast(arr, pa.int64()).to_numpy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False
    mixed = np.sort(mixed)
    return not (mixed[1:] == mixed[:-1]).any()


def _surely_valid(frame: pd.DataFrame, table: str, sch) -> bool:
    """Quick vectorised pass: True only when pandera would find no failure (keys present and
    unique, ID-3 prefixes right), so the schema need not run on a clean table."""
    key = KEY_COLUMN.get(table)
    for column in sch.columns:
        if column == key and not _keys_unique(frame[column]):
            return False
        prefixes = ID_PREFIXES.get((table, column))
        if prefixes is not None and not _prefixes_ok(frame[column], prefixes):
            return False
    return True


def _validate(
    frame: pd.DataFrame,
    table: str,
    source: str,
    problems: _Problems,
    raw_key: pd.Series | None = None,
) -> None:
    """Lazy pandera validation; every failure case becomes a problem naming row and column.

    INP003: the same record id twice in one export (every row listed). INP002: a blank record
    id, or an id of the wrong object (key prefix, ID-3).
    """
    import pandera.errors as pe

    sch = pandera_schema(table)
    if not sch.columns or _surely_valid(frame, table, sch):
        return
    try:
        sch.validate(frame[list(sch.columns)], lazy=True)
    except pe.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna() & fc["column"].notna()]
        for (column, check), group in fc.groupby(["column", "check"], sort=False):
            rows = group["index"].astype("int64").to_numpy()
            mask = pd.Series(frame.index.isin(rows), index=frame.index)
            if check == "field_uniqueness":
                code, severity, message = (
                    "INP003",
                    "blocker",
                    "the same record id appears more than once in this export",
                )
            elif check == "not_nullable":
                # Only truly blank keys; an invalid id was already reported as such.
                if raw_key is not None:
                    mask &= nz.as_text(raw_key).isna()
                code, severity, message = "INP002", "warning", "blank record id: row not usable"
            else:
                code, severity = "INP002", "warning"
                message = next(
                    (str(c.error) for c in sch.columns[column].checks if c.name == check),
                    str(check),
                )
            problems.add_mask(
                mask,
                frame[column],
                code=code,
                severity=severity,
                table=table,
                file=source,
                column=str(column),
                message=message,
            )


# --- tables ----------------------------------------------------------------------------------


# Tables an admin writes by hand (headers in their own words): the loader says which header it
# took for which column.
_ADMIN_WRITTEN = ("field_mappings", "sync_errors")


def _short(text: str, width: int = 40) -> str:
    text = text.replace("\ufeff", "").strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def _missing_columns(table: str, source: str, missing: list[str], headers: list[str]) -> InputError:
    """The error for required columns not found: the headers the file has and those accepted."""
    sch = schema(table)
    wanted = [name for m in missing for name in m.split(" or ")]
    accepted = "; ".join(f"{m}: {', '.join(sch.column(m).aliases)}" for m in wanted)
    found = ", ".join(repr(_short(h)) for h in headers[:30] if h.strip())
    if len(headers) > 30:
        found += f" … ({len(headers)} in all)"
    return InputError(
        f"required column(s) missing for {table}: {', '.join(missing)}. "
        f"Headers found: {found or '(none)'}. Accepted headers — {accepted}",
        file=source,
        row=1,
        column=missing[0],
    )


def _headers_taken(source: str, mapping: dict[str, str], unmatched: list[str]) -> str | None:
    """A note saying which header each canonical column was read from (admin-written files)."""
    taken = [
        f"{_short(h)!r} → {c}"
        for h, c in mapping.items()
        if h not in unmatched and header_key(h) != header_key(c)
    ]
    if not taken:
        return None
    return f"{source}: columns read as " + ", ".join(taken)


def build_table(
    raw: RawTable, table: str, source: str, settings: ConnectorSettings, problems: _Problems
) -> tuple[pd.DataFrame, dict[str, str], list[str], list[str]]:
    """Resolve headers, check required columns, normalise; returns (frame, mapping, unmatched, absent).

    The raw columns are handed over (``raw.columns`` is emptied): a column's text is freed as
    soon as its normalised values replace it, so a table is never held twice.
    """
    sch = schema(table)
    mapping: dict[str, str] = {}
    data: dict[str, pd.Series] = {}
    unmatched: list[str] = []
    columns, raw.columns = raw.columns, []
    for i, (header, values) in enumerate(zip(raw.headers, columns, strict=True)):
        clean = header.replace("\ufeff", "").strip()
        if not clean and values.isna().all():
            continue  # a trailing delimiter: a blank header over an empty column
        canon = sch.canonical_for(clean) if clean else None
        if canon is not None and canon not in data:
            name = canon
        else:
            name = clean or f"unnamed_{i + 1}"
            base, n = name, 2
            while name in data or sch.canonical_for(name) == name:
                name = f"{base} ({n})"
                n += 1
            unmatched.append(header)
        mapping.setdefault(header, name)
        values = values.astype("str")
        if not raw.blank_is_null and (values == "").any():  # empty cell → NA
            values = values.mask(values == "")
        data[name] = values.array  # arrays, not Series: no index alignment (a copy per column)
    columns = values = None  # the raw Series: each freed once its column is replaced
    frame = pd.DataFrame(data, index=raw.rows)
    del data
    frame.index.name = "row"
    required = list(sch.required)
    missing = [c for c in required if c not in frame.columns]
    if table == "field_mappings" and not (
        "pardot_field_id" in frame.columns or "pardot_field_name" in frame.columns
    ):
        missing.append("pardot_field_id or pardot_field_name")
    if missing:
        raise _missing_columns(table, source, missing, raw.headers)
    if table in _ADMIN_WRITTEN:
        note = _headers_taken(source, mapping, unmatched)
        if note:
            raw.notes.append(note)
    absent = [c.name for c in sch.columns if c.name not in frame.columns]
    for c in absent:
        frame[c] = nz.null_strings(frame.index)
    key = KEY_COLUMN.get(table)
    raw_key = frame[key] if key in frame.columns else None  # replaced, never written: no copy
    frame = _normalise(frame, table, source, settings, problems, frozenset(absent), raw.notes)
    if table == "sync_errors":
        # error_code absent or blank: the STATUS_CODE prefix of the message (export-formats §5).
        parsed = frame["error_message"].str.extract(r"^\s*([A-Z][A-Z_]{2,})\s*:", expand=False)
        frame["error_code"] = frame["error_code"].fillna(parsed.astype("str"))
    _validate(frame, table, source, problems, raw_key)
    _share_blank_columns(frame)
    for name in _compactable(frame, table):
        frame[name] = nz.low_cardinality(frame[name])
    return frame, mapping, unmatched, absent


def _share_blank_columns(frame: pd.DataFrame) -> None:
    """Columns without a single value share one all-NA column per dtype (text: one that holds
    no resident memory at all)."""
    # Issue #19 memory: exports carry many columns nobody fills (fax, address two, unused
    # custom fields); each held its own NA buffers (a loaded 2.5M-record org: 868 -> 676 MB).
    # pandas copies on write, so a shared column is never changed through another.
    blank: dict[str, pd.Series] = {}
    for name in frame.columns:
        values = frame[name]
        if len(values) and values.count() == 0:
            frame[name] = _blank_column(values.dtype, frame, blank)


_RECORD_PREFIXES = {nz.PREFIX_LEAD, nz.PREFIX_CONTACT, nz.PREFIX_ACCOUNT}
# The tables an org's size is made of; users, queues and admin-written tables stay text.
_RECORD_TABLES = ("sf_leads", "sf_contacts", "sf_accounts", "pardot_prospects")


def _compactable(frame: pd.DataFrame, table: str) -> list[str]:
    """Text columns of a record table that may be held as categoricals: all but those that
    identify records (the key, emails and their keys, CRM match ids, lead/contact/account ids)."""
    # Issue #19 memory: the rule itself (distinct count) is nz.low_cardinality's; this only
    # keeps what joins and matches run on as plain text, whatever its count.
    if table not in _RECORD_TABLES:
        return []
    keep = {KEY_COLUMN.get(table)}
    for spec in schema(table).columns:
        if spec.dtype in ("email_str", "sf_id_or_sentinel", "pardot_id"):
            keep |= {spec.name, f"{spec.name}_key"}
        elif spec.dtype == "sf_id" and _RECORD_PREFIXES & set(
            ID_PREFIXES.get((table, spec.name), ())
        ):
            keep.add(spec.name)
    return [c for c in frame.columns if c not in keep and frame[c].dtype == "str"]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str | None:
    """The file's hash, read in blocks (hashlib and the reads release the GIL); None if unreadable."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


_ARCHIVE_EXTS = {".zip", ".gz", ".tgz", ".7z", ".rar", ".tar", ".bz2", ".xz"}
_LINK_REFUSED = (
    "this is a link to a file outside the export folder; it is not read (its content is never "
    "quoted): copy the file itself into the folder"
)


def _links_outside(path: Path, root: Path) -> bool:
    """True for a symbolic link (at any level) whose target lies outside the export folder."""
    try:
        return not path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop
        return True


def _ignore_reason(child: Path) -> tuple[str, str] | None:
    """(kind, reason) when a folder entry is not read; None for a candidate table/describe."""
    name, low = child.name, child.name.lower()
    if name.startswith("~$"):
        return "file", "an Office lock file (the workbook is open in Excel)"
    if name.startswith((".", "_")):
        what = "folder" if child.is_dir() else "file"
        return what, f"{what} names starting with '.' or '_' are skipped (tool or system files)"
    if child.is_dir():
        if low == "describe":
            return None
        return "folder", "subfolders are not read: move its export files up into the folder"
    if not child.exists():
        return "file", "a broken link (its target does not exist)"
    if not child.is_file():  # a named pipe, socket or device would block or never end
        return "file", "not a regular file (a pipe, socket or device)"
    if low in _QUIET_FILES:
        return "file", "not a table (export manifest or read-me)"
    if child.suffix.lower() in _ARCHIVE_EXTS or low.endswith(".tar.gz"):
        return "archive", "archives are not read: unpack the export files into the folder"
    return None


def _find_files(
    root: Path, notes: list[str], ignored: list[dict], refused: list[str]
) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """Table files and describe files of the folder, by table / object.

    Everything not read is listed in ``ignored`` (path, kind, reason) and, except tool files,
    in ``notes``; links to files outside the folder are listed in ``refused`` (never read).
    """
    tables: dict[str, list[Path]] = {}
    describes: dict[str, list[Path]] = {}

    def skip(path: str, kind: str, reason: str, note: str | None = None) -> None:
        ignored.append({"path": path, "kind": kind, "reason": reason})
        if note:
            notes.append(note)

    settings_names = {"connector.yml", "connector.yaml"}
    for child in sorted(root.iterdir(), key=lambda p: p.name.lower()):
        name = child.name
        if name.lower() in settings_names and child.is_file():
            continue  # read by _resolve_settings
        why = _ignore_reason(child)
        if why is not None:
            kind, reason = why
            quiet = name.startswith((".", "_")) or name.lower() in _QUIET_FILES
            suffix = "/" if child.is_dir() else ""
            note = None if quiet else f"ignored {kind} {name}{suffix}: {reason}"
            if kind == "folder" and not quiet:
                note = f"ignored subfolder {name}/: {reason}"
            skip(name + suffix, kind, reason, note)
            continue
        if child.is_dir():  # describe/
            for f in sorted(child.iterdir(), key=lambda p: p.name.lower()):
                rel = f"{name}/{f.name}"
                obj = f.stem.split(".")[0].capitalize()
                if not f.is_file() or f.suffix.lower() != ".json" or obj not in OBJECTS:
                    # (a pipe or device is not a regular file either: never opened)
                    reason = f"only {', '.join(OBJECTS)} describe .json files are used"
                    skip(rel, "file", reason, f"ignored {rel} ({reason})")
                elif _links_outside(f, root):
                    refused.append(rel)
                else:
                    describes.setdefault(obj, []).append(f)
            continue
        kind = classify_file(name)
        if kind is None:
            reason = "not a known export table name"
            skip(name, "file", reason, f"ignored {name}: {reason}")
        elif _links_outside(child, root):
            refused.append(name)
        elif kind.startswith("describe:"):
            describes.setdefault(kind.split(":", 1)[1], []).append(child)
        else:
            tables.setdefault(kind, []).append(child)
    return tables, describes


def _resolve_settings(
    root: Path, settings_file: Path | str | None
) -> tuple[ConnectorSettings, Path | None, list[str], list[dict]]:
    """Settings, their file, the keys it states and its decoding warnings (problems)."""
    if settings_file is not None:
        path = Path(settings_file)
        if not path.is_file():
            raise SettingsError("settings file not found", file=str(path))
    else:
        path = find_settings_file(root)
        if path is not None and _links_outside(path, root):
            raise SettingsError(_LINK_REFUSED, file=_rel(path, root))
    settings, given, warnings = read_settings(path)
    return settings, path, sorted(given), warnings


@dataclass
class _LoadedTable:
    source: str
    frame: pd.DataFrame | None = None
    file: LoadedFile | None = None
    problems: _Problems = field(default_factory=_Problems)
    notes: list[str] = field(default_factory=list)
    error: AssessmentError | None = None


# Two files are read at the same time only while their sizes add up to at most this; a larger
# file is read alone. A file in flight holds its parsed text and its normalised columns (and its
# bytes, off the file route: read_text_file), 2-3x its size at the peak: two 1 GB exports side by
# side took a 10M-record load from 4.3 GB to 6.5 GB (issue #19: under 6 GB at 10M).
LOAD_BYTES_IN_FLIGHT = 512 * 1024 * 1024


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # reported by _load_table, which opens it
        return 0


class _ByteBudget:
    """Lets a job start while the bytes of the jobs running stay within ``limit``; a job
    always starts when nothing else runs (so a file larger than the limit is read alone)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.running = 0
        self.changed = threading.Condition()

    def run(self, size: int, func, *args):
        """``func(*args)`` once ``size`` bytes fit beside the jobs running."""
        with self.changed:
            self.changed.wait_for(lambda: self.running == 0 or self.in_flight + size <= self.limit)
            self.in_flight += size
            self.running += 1
        try:
            return func(*args)
        finally:
            with self.changed:
                self.in_flight -= size
                self.running -= 1
                self.changed.notify_all()


def _load_table(
    table: str, file_path: Path, root: Path, settings: ConnectorSettings
) -> _LoadedTable:
    """Read, resolve and normalise one table file; errors are returned, not raised."""
    out = _LoadedTable(_rel(file_path, root))
    # hashlib releases the GIL: the file's hash is taken on its own thread while it is parsed,
    # from the file on the file route (whose bytes are never held), else from the bytes read.
    with ThreadPoolExecutor(max_workers=1) as hasher:
        try:
            raw = digest = None
            if _streamable(file_path.suffix, _file_size(file_path)):
                digest = hasher.submit(_sha256_file, file_path)
                raw = read_text_file(file_path, out.source)
            if raw is None:
                data = _read_bytes(file_path, out.source)
                digest = digest or hasher.submit(_sha256, data)
                raw = read_raw(file_path, data, out.source)
                del data  # parsed: not held while the table is normalised
        except AssessmentError as exc:
            out.error = exc
            return out
        sha256 = digest.result()
    _build_table(out, table, raw, settings, sha256)
    return out


def _read_bytes(path: Path, source: str) -> bytes:
    """A table file's bytes (read-only; inputs are never written)."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", file=source) from None


def _build_table(
    out: _LoadedTable, table: str, raw: RawTable, settings: ConnectorSettings, sha256: str
) -> None:
    """Resolve and normalise the raw columns of one table file into ``out``."""
    try:
        frame, mapping, unmatched, absent = build_table(
            raw, table, out.source, settings, out.problems
        )
    except AssessmentError as exc:
        out.error = exc
        return
    for w in raw.warnings:
        out.problems.add(table=table, **w)
    out.notes = list(raw.notes)
    out.frame = frame
    out.file = LoadedFile(
        table=table,
        path=out.source,
        rows=len(frame),
        sha256=sha256,
        encoding=raw.encoding,
        columns=mapping,
        unmatched=unmatched,
        absent=absent,
    )


def _load_describe(obj: str, path: Path, source: str) -> tuple[pd.DataFrame, LoadedFile]:
    """Read one describe file: its field frame and what readiness.json lists for it."""
    data = read_limited(path, source, MAX_DESCRIBE_BYTES)
    body_name, frame = describe_from_bytes(data, source)
    if body_name and body_name != obj:
        raise InputError(f"file name says {obj} but it describes {body_name}", file=source)
    loaded = LoadedFile(
        table=f"describe:{obj}",
        path=source,
        rows=len(frame),
        sha256=_sha256(data),
        encoding="json",
        columns={},
    )
    return frame, loaded


def release_freed_memory() -> None:
    """Give the memory freed while reading back to the system: pyarrow's pool and (glibc) the
    malloc arenas of the reading threads keep it otherwise, about 0.4 GB at 2.5M records, and
    the later stages allocate elsewhere (numpy) rather than reuse it."""
    pa.default_memory_pool().release_unused()
    libc = memory.libc()
    if libc is not None:
        libc.malloc_trim(0)


def load_org(
    path: Path | str,
    settings_file: Path | str | None = None,
    progress: Progress | bool | None = None,
) -> OrgSnapshot:
    """Load an org export folder: find, read, resolve headers, normalise and validate every file."""
    root = Path(path)
    if not root.is_dir():
        raise InputError("export folder not found (or not a folder)", file=str(root))
    settings, settings_path, given, settings_warnings = _resolve_settings(root, settings_file)
    notes: list[str] = []
    ignored: list[dict] = []
    refused: list[str] = []
    found, describe_files = _find_files(root, notes, ignored, refused)

    errors: list[str] = []
    first_error: AssessmentError | None = None

    def fail(exc: AssessmentError) -> None:
        nonlocal first_error
        first_error = first_error or exc
        errors.append(str(exc))

    for name in refused:
        fail(InputError(_LINK_REFUSED, file=name))
    for table, files in found.items():
        if len(files) > 1:
            names = " and ".join(_rel(f, root) for f in files)
            fail(InputError(f"two files for table {table}: {names}; keep one", file=names))
    for obj, files in describe_files.items():
        if len(files) > 1:
            names = " and ".join(_rel(f, root) for f in files)
            fail(InputError(f"two describe files for {obj}: {names}; keep one", file=names))

    bar = resolve(progress)
    bar.start(len(found) + len(describe_files), "reading exports")
    problems = _Problems()
    for w in settings_warnings:
        problems.add(table="settings", **(w | {"file": _rel(settings_path, root)}))
    report = LoadReport(
        settings_file=str(settings_path) if settings_path else None,
        settings_given=given,
        ignored=ignored,
    )
    tables: dict[str, pd.DataFrame] = {}
    todo = [t for t in TABLES if t in found and len(found[t]) == 1]
    # Two tables at a time: pyarrow and numpy release the GIL, so normalising one table while
    # another is read uses the second core. Results are merged in TABLES order: the problems,
    # notes and errors come out exactly as a one-by-one load would give them.
    budget = _ByteBudget(LOAD_BYTES_IN_FLIGHT)
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [
            pool.submit(
                budget.run, _file_size(found[t][0]), _load_table, t, found[t][0], root, settings
            )
            for t in todo
        ]
        for table, job in zip(todo, jobs, strict=True):
            loaded = job.result()
            bar.step(loaded.source)
            if loaded.error is not None:
                fail(loaded.error)
                continue
            problems.frames.extend(loaded.problems.frames)
            notes.extend(loaded.notes)
            tables[table] = loaded.frame
            report.files.append(loaded.file)

    describe: dict[str, pd.DataFrame] = {}
    for obj, files in describe_files.items():
        if len(files) > 1:
            continue
        source = _rel(files[0], root)
        try:
            describe[obj], loaded = _load_describe(obj, files[0], source)
        except AssessmentError as exc:
            fail(exc)
        else:
            report.describe_files.append(loaded)
        bar.step(source)
    bar.done()

    if errors:
        if len(errors) == 1 and first_error is not None:
            raise first_error
        raise InputError(
            f"{len(errors)} input file(s) cannot be used",
            file=str(root),
            problems=errors,
        )
    report.problems = problems.frame()
    report.missing = [t for t in TABLES if t not in tables]
    release_freed_memory()
    report.notes = notes
    name = settings.org_name or root.resolve().name
    return OrgSnapshot(root, name, settings, tables, describe, report)


__all__ = [
    "RawTable",
    "build_table",
    "classify_file",
    "load_org",
    "parse_pardot_id",
    "parse_pardot_type",
    "parse_sync_behavior",
    "read_raw",
]
