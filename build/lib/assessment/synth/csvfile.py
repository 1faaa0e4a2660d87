"""CSV and describe-JSON writing in the exporting tools' shapes (Arrow kernels, chunked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrow import _cat, _join, _s
from .catalog import _DESCRIBE

BOM = b"\xef\xbb\xbf"
_CHUNK_ROWS = 200_000  # rows formatted at a time when writing a CSV


def _csv_field(values: pa.Array, quote_all: bool) -> pa.Array:
    """One column as CSV field text (RFC 4180 quoting), computed by Arrow kernels."""
    text = pc.fill_null(_s(values).cast(pa.large_string()), "")
    has_quote = pc.any(pc.match_substring(text, '"')).as_py()
    escaped = pc.replace_substring(text, '"', '""') if has_quote else text
    if quote_all:  # Data Loader: every field quoted, empty as "" (the line adds the outer quotes)
        return escaped
    needs = pc.match_substring(text, ",")  # generated values hold no line breaks
    if has_quote:
        needs = pc.or_(needs, pc.match_substring(text, '"'))
    if not pc.any(needs).as_py():
        return text
    return pc.if_else(needs, _cat('"', escaped, '"'), text)


def _write_csv(
    path: Path,
    header: list[str],
    columns: list[pa.Array],
    *,
    quote_all: bool = False,
    bom: bool = False,
) -> None:
    """Write one export file: header as given, fields quoted as the exporting tool does."""
    head = ",".join(f'"{h}"' if quote_all or "," in h else h for h in header)
    with open(path, "wb") as fh:
        fh.write((BOM if bom else b"") + head.encode() + b"\n")
        if not columns or len(columns[0]) == 0:
            return
        n = len(columns[0])
        for start in range(0, n, _CHUNK_ROWS):  # a loop over chunks of rows bounds memory
            part = [_s(c).slice(start, _CHUNK_ROWS) for c in columns]
            fh.write(_csv_lines(part, quote_all))


def _csv_lines(columns: list[pa.Array], quote_all: bool) -> memoryview:
    """CSV text of some rows, as one contiguous buffer."""
    fields = [_csv_field(c, quote_all) for c in columns]
    if quote_all:
        fields[0] = _cat('"', fields[0])
        fields[-1] = _cat(fields[-1], '"\n')
        lines = _join(fields, '","')
    else:
        fields[-1] = _cat(fields[-1], "\n")
        lines = _join(fields, ",")
    lines = pa.concat_arrays([lines]) if lines.offset else lines
    offsets = np.frombuffer(lines.buffers()[1], np.int64)[: len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]


def _describe_json(obj: str) -> dict[str, Any]:
    """A ``sf sobject describe --json`` body for the object (shape of the real CLI output)."""
    prefix, spec = _DESCRIBE[obj]
    fields = []
    for name, label, typ, length, nillable, create, update, default, values, ref in spec:
        fields.append(
            {
                "name": name,
                "label": label,
                "type": typ,
                "length": length,
                "nillable": nillable,
                "createable": create,
                "updateable": update,
                "defaultedOnCreate": default,
                "calculated": False,
                "custom": name.endswith("__c"),
                "restrictedPicklist": name == "Region__c",
                "picklistValues": [
                    {
                        "active": True,
                        "defaultValue": False,
                        "label": v,
                        "validFor": None,
                        "value": v,
                    }
                    for v in values
                ],
                "referenceTo": list(ref),
                "unique": False,
                "externalId": False,
            }
        )
    result = {"name": obj, "label": obj, "keyPrefix": prefix, "custom": False, "fields": fields}
    return {"status": 0, "result": result, "warnings": []}
