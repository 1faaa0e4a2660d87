"""Record blocks assembled into shuffled pyarrow tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrow import _null, _s

_STR, _BOOL, _TS = "str", "bool", "ts"
_LEAD_COLS = {
    "id": _STR, "first": _STR, "last": _STR, "email": _STR, "company": _STR, "title": _STR,
    "phone": _STR, "source": _STR, "owner": _STR, "converted": _BOOL, "conv_contact": _STR,
    "conv_account": _STR, "conv_date": _TS, "opted_out": _BOOL, "region": _STR, "created": _TS,
    "modified": _TS,
}  # fmt: skip
_CONTACT_COLS = {
    "id": _STR, "account": _STR, "company": _STR, "first": _STR, "last": _STR, "email": _STR,
    "title": _STR, "phone": _STR, "source": _STR, "owner": _STR, "opted_out": _BOOL,
    "region": _STR, "created": _TS, "modified": _TS,
}  # fmt: skip
_ACCOUNT_COLS = {
    "id": _STR, "name": _STR, "owner": _STR, "type": _STR, "is_person": _BOOL,
    "person_email": _STR, "person_contact": _STR, "first": _STR, "last": _STR,
    "person_opted_out": _BOOL, "created": _TS, "modified": _TS,
}  # fmt: skip
_PROSPECT_COLS = {
    "key": "int", "first": _STR, "last": _STR, "email": _STR, "company": _STR, "title": _STR,
    "phone": _STR, "source": _STR, "region": _STR, "opted_out": _BOOL, "user": "int",
    "crm_lead": _STR, "crm_contact": _STR, "created": _TS, "modified": _TS,
    "revenue": _STR, "archived": _BOOL, "queue": _STR,
}  # fmt: skip


def _column(block: dict[str, Any], name: str, kind: str, n: int) -> pa.Array:
    value = block.get(name)
    if kind == _STR:
        if value is None:
            return _null(n)
        arr = _s(value)
        return pc.if_else(pc.equal(arr, ""), _null(n), arr)  # "" means absent
    if kind == _BOOL:
        return pa.array(np.zeros(n, bool) if value is None else np.asarray(value, bool))
    if kind == _TS:
        if value is None:
            return pa.nulls(n, pa.timestamp("s"))
        return pa.array(np.asarray(value, "datetime64[s]"))
    return pa.array(np.zeros(n, np.int64) if value is None else np.asarray(value, np.int64))


def _assemble(blocks: list[dict[str, Any]], cols: dict[str, str]) -> pa.Table:
    tables = []
    for block in blocks:
        n = len(block["id"] if "id" in block else block["key"])
        tables.append(pa.table({c: _column(block, c, k, n) for c, k in cols.items()}))
    if not tables:
        return pa.table({c: _column({}, c, k, 0) for c, k in cols.items()})
    return pa.concat_tables(tables).combine_chunks()


def _shuffle(table: pa.Table, rng: np.random.Generator) -> pa.Table:
    return table.take(pa.array(rng.permutation(table.num_rows)))
