"""Salesforce field metadata from ``sf sobject describe --json`` or a raw REST describe body.

Both shapes are accepted (export-formats.md §0 "describe JSON"): the CLI wraps the REST body as
``{"status": 0, "result": {...}}``; without ``--json`` (or from the REST API) the body has a
top-level ``fields`` list. The frame has one row per field (docs/architecture.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .schema import header_key
from .textio import decode_text, read_limited

DESCRIBE_COLUMNS = [
    "name",
    "key",
    "label",
    "type",
    "length",
    "nillable",
    "createable",
    "updateable",
    "defaulted_on_create",
    "calculated",
    "restricted_picklist",
    "picklist_values",
    "reference_to",
    "required_on_create",
]

OBJECTS = ("Lead", "Contact", "Account")


def describe_body(data: Any, source: str = "describe") -> dict:
    """The REST describe body inside a CLI ``--json`` wrapper or a raw body; InputError if neither."""
    if isinstance(data, dict) and "fields" not in data and isinstance(data.get("result"), dict):
        if data.get("status") not in (0, None):
            raise InputError(
                f"sf describe reported status {data.get('status')!r}: {data.get('message', '')}",
                file=source,
            )
        data = data["result"]
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
        raise InputError(
            "not a Salesforce describe: expected a top-level 'fields' list "
            "(REST body) or {'status': 0, 'result': {'fields': [...]}} (sf sobject describe --json)",
            file=source,
        )
    return data


def describe_frame(data: Any, source: str = "describe") -> pd.DataFrame:
    """One row per field with the columns of docs/architecture.md (``required_on_create`` derived)."""
    body = describe_body(data, source)
    rows = []
    for i, f in enumerate(body["fields"]):  # metadata: a few hundred fields, not records
        if not isinstance(f, dict) or not f.get("name"):
            raise InputError("field entry without a name", file=source, row=i + 1, column="name")
        picklist = tuple(
            str(p.get("value"))
            for p in (f.get("picklistValues") or [])
            if isinstance(p, dict) and p.get("active", True)
        )
        rows.append(
            {
                "name": str(f["name"]),
                "key": header_key(f["name"]),
                "label": f.get("label"),
                "type": f.get("type"),
                "length": f.get("length"),
                "nillable": bool(f.get("nillable", True)),
                "createable": bool(f.get("createable", False)),
                "updateable": bool(f.get("updateable", False)),
                "defaulted_on_create": bool(f.get("defaultedOnCreate", False)),
                "calculated": bool(f.get("calculated", False)),
                "restricted_picklist": bool(f.get("restrictedPicklist", False)),
                "picklist_values": picklist,
                "reference_to": tuple(str(r) for r in (f.get("referenceTo") or [])),
            }
        )
    frame = pd.DataFrame(rows, columns=DESCRIBE_COLUMNS[:-1])
    for col in ("name", "key", "label", "type"):
        frame[col] = frame[col].astype("str")
    length = pd.to_numeric(frame["length"], errors="coerce")
    wrong = frame["length"].notna() & (length.isna() | (length != length.round()))
    if wrong.any():
        i = int(wrong.to_numpy().argmax())
        raise InputError(
            f"field {frame['name'].iloc[i]!r}: length is not a whole number",
            file=source,
            row=i + 1,
            column="length",
        )
    frame["length"] = pd.array(length, dtype="Int64")
    # Required on create: createable, not nillable, not defaulted, and not a checkbox
    # (booleans are never nillable but default to false) — export-formats.md §4.1.
    frame["required_on_create"] = (
        frame["createable"]
        & ~frame["nillable"]
        & ~frame["defaulted_on_create"]
        & (frame["type"] != "boolean")
    ).astype(bool)
    return frame


# Bounds for JSON inputs: a describe of 800 fields is about 3 MB; real bodies nest under 10 levels.
MAX_DESCRIBE_BYTES = 256 << 20
MAX_JSON_DEPTH = 64


def json_depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when a parsed JSON value nests at most ``limit`` levels (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return True


def parse_json(data: bytes, source: str, limit: int) -> tuple[Any, str, list[dict]]:
    """Decode and parse a JSON input, bounded in size and depth (InputError, never a
    RecursionError); returns (value, encoding, decoding warnings)."""
    if len(data) > limit:
        raise InputError(
            f"the JSON file is larger than {limit >> 20} MB: export the records as CSV instead",
            file=source,
        )
    text, enc, warnings = decode_text(data, source)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg}", file=source, row=exc.lineno, column=f"char {exc.colno}"
        ) from None
    except RecursionError:
        value = None
        depth_ok = False
    else:
        depth_ok = json_depth_ok(value)
    if not depth_ok:
        raise InputError(
            f"JSON nested more than {MAX_JSON_DEPTH} levels deep: not an export of records "
            "or a describe",
            file=source,
        )
    return value, enc, warnings


def read_describe(path: Path | str, source: str | None = None) -> tuple[str | None, pd.DataFrame]:
    """Parse a describe file; returns (object name from the body, field frame)."""
    path = Path(path)
    source = source or str(path)
    raw = read_limited(path, source, MAX_DESCRIBE_BYTES)
    return describe_from_bytes(raw, source)


def describe_from_bytes(raw: bytes, source: str) -> tuple[str | None, pd.DataFrame]:
    """Parse the bytes of a describe file; returns (object name from the body, field frame)."""
    data, _, _ = parse_json(raw, source, MAX_DESCRIBE_BYTES)
    body = describe_body(data, source)
    name = body.get("name")
    return (str(name) if name else None), describe_frame(body, source)
