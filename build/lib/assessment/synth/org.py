"""The record accumulator of one synthetic org: ids, people, records and their expected outcome."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc

from ..normalize import _id18_from_bytes
from .arrow import _cat, _null, _pick, _s
from .catalog import COMPANY, DOMAINS, FIRST, LAST, REGIONS, SOURCES, SUFFIX, TITLES

_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)


class _Org:
    """Accumulates the records of one synthetic org, block by block (vectorised per block)."""

    def __init__(self, seed: int, clean: bool) -> None:
        self.rng = np.random.default_rng(seed)
        self.clean = clean
        self.people = 0
        self.counters = {"00Q": 0, "003": 0, "001": 0, "005": 0, "stale": 0}
        self.blocks: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("leads", "contacts", "accounts", "prospects", "truth_p", "truth_sf")
        }
        self.kinds: dict[str, dict[str, list]] = {}
        self.n_prospects = 0

    # ----- identities -------------------------------------------------------------------
    def ids(self, prefix: str, n: int, *, stale: bool = False) -> np.ndarray:
        """n unique 18-character Salesforce ids (ID-2 checksum) with a key prefix (ID-3)."""
        key = "stale" if stale else prefix
        start = self.counters.setdefault(key, 0) + (30_000_000_000 if stale else 1_000)
        self.counters[key] += n
        num = np.arange(start, start + n, dtype=np.int64)
        digits = np.empty((n, 6), np.uint8)
        for i in range(5, -1, -1):  # 6 base-62 digits (a loop over digit positions, not records)
            digits[:, i] = _B62[num % 62]
            num //= 62
        head = np.frombuffer((prefix + "5g00000").encode(), np.uint8)[:9]
        u8 = np.concatenate([np.broadcast_to(head, (n, 9)), digits], axis=1)
        return np.ascontiguousarray(_id18_from_bytes(u8)).view("S18").ravel()  # bytes: fast

    def person(self, n: int) -> dict[str, Any]:
        """n synthetic people with unique emails and the values both sides of a pair share."""
        rng = self.rng
        idx = np.arange(self.people, self.people + n)
        self.people += n
        first = _pick(FIRST, rng.integers(0, len(FIRST), n))
        last = _pick(LAST, rng.integers(0, len(LAST), n))
        domain = _pick(DOMAINS, idx % len(DOMAINS))
        email = _cat(pc.utf8_lower(first), ".", pc.utf8_lower(last), ".", _s(idx), "@", domain)
        company = _cat(
            _pick(COMPANY, rng.integers(0, len(COMPANY), n)),
            " ",
            _pick(SUFFIX, rng.integers(0, len(SUFFIX), n)),
        )
        phone = _cat("+1-555-01", pc.utf8_lpad(_s(idx % 100), 2, "0"))
        created = np.datetime64("2019-01-01T00:00:00") + rng.integers(0, 5 * 365 * 86400, n).astype(
            "timedelta64[s]"
        )
        modified = created + rng.integers(3600, 300 * 86400, n).astype("timedelta64[s]")
        return {
            "first": first,
            "last": last,
            "email": email,
            "company": company,
            "title": _pick(TITLES, rng.integers(0, len(TITLES), n)),
            "phone": phone,
            "source": _pick(SOURCES, rng.integers(0, len(SOURCES), n)),
            "region": _pick(REGIONS, rng.integers(0, len(REGIONS), n)),
            "opted_out": rng.random(n) < 0.08,
            "created": created,
            "modified": modified,
        }

    # ----- records ---------------------------------------------------------------------
    def sf_record(
        self, table: str, p: dict[str, Any], owner: np.ndarray, **extra: Any
    ) -> np.ndarray:
        """Add leads or contacts for people ``p``; returns their ids."""
        n = len(p["email"])
        prefix = "00Q" if table == "leads" else "003"
        ids = extra.pop("ids", None)
        if ids is None:
            ids = self.ids(prefix, n)
        block = {**p, "id": ids, "owner": owner, **extra}
        self.blocks[table].append(block)
        return ids

    def prospect(self, p: dict[str, Any], user: np.ndarray, **extra: Any) -> np.ndarray:
        """Add prospects for people ``p`` assigned to Pardot user positions ``user`` (-1 = none)."""
        n = len(p["email"])
        keys = np.arange(self.n_prospects, self.n_prospects + n)
        self.n_prospects += n
        self.blocks["prospects"].append({**p, "key": keys, "user": user, **extra})
        return keys

    def truth_p(
        self,
        keys: np.ndarray,
        outcome: str,
        sf_id: Any,
        case: str,
        error: str = "",
        policies: str = "",
    ) -> None:
        """Expected outcome of prospects (contract §4)."""
        n = len(keys)
        sf = _null(n) if sf_id is None else _s(sf_id)
        self.blocks["truth_p"].append(
            {
                "key": keys,
                "outcome": outcome,
                "sf_id": sf,
                "case": case,
                "error": error,
                "policies": policies,
            }
        )

    def truth_sf(
        self, obj: str, ids: np.ndarray, outcome: str, case: str, keys: Any = None
    ) -> None:
        """Expected outcome of Salesforce records (contract §5)."""
        n = len(ids)
        k = np.full(n, -1) if keys is None else np.asarray(keys)
        self.blocks["truth_sf"].append(
            {"obj": obj, "id": ids, "outcome": outcome, "case": case, "key": k}
        )

    def kind(self, name: str, **records: Any) -> None:
        """Record the ids of an injected problem kind (prospects as internal keys)."""
        entry = self.kinds.setdefault(name, {})
        for obj, values in records.items():
            entry.setdefault(obj, []).append(np.asarray(values))
