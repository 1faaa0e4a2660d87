"""Ground truth of a synthetic org: expected outcomes, owners and the injected-kind manifest."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .arrow import _const, _null, _s
from .catalog import _CHECK_OBJECTS, KINDS
from .org import _Org
from .tables import _STR, _column


def _expected_owner(
    truth_p: pa.Table,
    prospect_t: pa.Table,
    lead_t: pa.Table,
    contact_t: pa.Table,
    account_t: pa.Table,
    users: dict[str, list],
) -> pa.Array:
    """Expected Salesforce owner per truth row: the linked record's owner (Salesforce wins,
    U-3); for leads to create, the queue (CR-2) or the user mapped to the assigned Pardot user
    (CR-6), blank when unmapped or a portal user (connector user, U-4, U-7); blank when nothing
    syncs."""
    owners = pa.concat_tables(
        [
            pa.table({"sf": lead_t["id"], "owner": lead_t["owner"]}),
            pa.table({"sf": contact_t["id"], "owner": contact_t["owner"]}),
            pa.table({"sf": account_t["person_contact"], "owner": account_t["owner"]}),
        ]
    ).filter(pc.is_valid(pc.field("sf")))
    rows = pa.table({"sf": truth_p["sf_id"], "pos": pa.array(np.arange(truth_p.num_rows))})
    joined = rows.join(owners, "sf", join_type="left outer").sort_by("pos")
    by_record = joined["owner"].combine_chunks()
    user_of_key = np.empty(prospect_t.num_rows, np.int64)
    user_of_key[prospect_t["key"].to_numpy()] = prospect_t["user"].to_numpy()
    user = user_of_key[truth_p["key"].to_numpy()]
    pos = np.maximum(user, 0)
    mapped = np.array(users["id"], dtype=object)[pos]
    # An owner only through a mapping (U-1, U-2), never a portal user (U-7).
    owns = np.array(users["mapped"], bool)[pos] & (np.array(users["type"])[pos] == "Standard")
    mapped = np.where((user >= 0) & (mapped != "") & owns, mapped, None)
    queue_of_key = np.empty(prospect_t.num_rows, object)
    queue_of_key[prospect_t["key"].to_numpy()] = prospect_t["queue"].to_numpy(zero_copy_only=False)
    queue = queue_of_key[truth_p["key"].to_numpy()]
    mapped = np.where(pd.notna(queue), queue, mapped)  # a queue owns its leads (CR-2)
    creates = pc.is_in(truth_p["outcome"], pa.array(["create_lead", "will_error"]))
    # A recycle-bin prospect keeps its record (M-1) but syncs nothing: no owner.
    by_record = pc.if_else(
        pc.equal(truth_p["outcome"], "pardot_only"),
        pa.nulls(len(by_record), by_record.type),
        by_record,
    )
    return pc.if_else(creates, pa.array(mapped, pa.string()), by_record)


def _value_counts(values: pa.ChunkedArray) -> dict[str, int]:
    vc = pc.value_counts(values)
    return {str(v["values"]): int(v["counts"]) for v in vc.to_pylist()}


def _assemble_truth_p(org: _Org) -> pa.Table:
    tables = []
    for b in org.blocks["truth_p"]:
        n = len(b["key"])
        tables.append(
            pa.table(
                {
                    "key": pa.array(np.asarray(b["key"], np.int64)),
                    "outcome": _const(b["outcome"], n),
                    "sf_id": _column(b, "sf_id", _STR, n),
                    "case": _const(b["case"], n),
                    "error": _const(b["error"], n),
                    "policies": _const(b["policies"], n),
                }
            )
        )
    return pa.concat_tables(tables).combine_chunks()


def _assemble_truth_sf(org: _Org, pid_of_key: np.ndarray) -> pa.Table:
    tables = []
    for b in org.blocks["truth_sf"]:
        n = len(b["id"])
        keys = np.asarray(b["key"], np.int64)
        pid = _s(np.where(keys >= 0, pid_of_key[np.maximum(keys, 0)], 0))
        tables.append(
            pa.table(
                {
                    "sf_object": _const(b["obj"], n),
                    "sf_id": _s(b["id"]),
                    "expected_outcome": _const(b["outcome"], n),
                    "case": _const(b["case"], n),
                    "prospect_id": pc.if_else(pa.array(keys >= 0), pid, _null(n)),
                }
            )
        )
    return pa.concat_tables(tables).combine_chunks()


def _kind_manifest(org: _Org, pid_of_key: np.ndarray, pardot_uid: np.ndarray) -> dict[str, Any]:
    out = {}
    for name, (rule, checks, description, _factor) in KINDS.items():
        parts = org.kinds.get(name)
        if not parts:
            continue
        records: dict[str, list] = {}
        for obj, arrays in parts.items():
            values = np.concatenate([np.asarray(a) for a in arrays]) if arrays else np.array([])
            if obj == "prospects":
                records[obj] = [int(v) for v in pid_of_key[values.astype(np.int64)]]
            elif obj == "pardot_user_positions":
                records["pardot_users"] = [str(pardot_uid[int(v)]) for v in values]
            else:
                records[obj] = values.astype(str).tolist()
        record_objs = ("prospects", "leads", "contacts", "accounts", "users")
        count_by = {o: len(v) for o, v in records.items() if o in record_objs}
        out[name] = {
            "description": description,
            "rule": rule,
            "checks": list(checks),
            "count": sum(count_by.values()),
            "count_by_object": count_by,
            "affected": {
                c: sum(len(records.get(o, [])) for o in _CHECK_OBJECTS.get(c, ("prospects",)))
                for c in checks
            },
            "ids": records,
        }
    return out


def _check_totals(kinds: dict[str, Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in kinds.values():
        for check, n in entry["affected"].items():
            totals[check] = totals.get(check, 0) + n
    return dict(sorted(totals.items()))
