"""The sync simulator: predicts, record by record, what the connector's first sync does.

Follows connector-behavior.md §10. Every connector rule is cited by its spec id; rules the spec
marks UNCONFIRMED or DISAGREE are policies read from ``ConnectorSettings`` and named in the
``policies`` column of every prediction that rests on them. All record work is joins, masks and
groupbys; the only Python loops run over mapped fields (dozens) and outcome names.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .fields import effective_mappings, sf_column
from .normalize import email_is_valid, sf_id18
from .schema import header_key
from .settings import ConnectorSettings, MdsRule, settings_from_mapping

PROSPECT_OUTCOMES = (
    "linked",
    "match_email",
    "match_email_tie",
    "create_lead",
    "pardot_only",
    "stale_crm_id",
    "out_of_scope",
    "will_error",
)
SALESFORCE_OUTCOMES = ("linked", "creates_prospect", "no_prospect", "out_of_scope")
PROSPECT_COLUMNS = [
    "prospect_id",
    "email",
    "outcome",
    "sf_object",
    "sf_id",
    "owner_sf_user_id",
    "reason",
    "policies",
    "caution",
    "email_key",
    "assigned",
    "pardot_user_id",
    "error_code",
    "candidates",
    "row",
]
SALESFORCE_COLUMNS = [
    "sf_object",
    "sf_id",
    "email",
    "outcome",
    "prospect_id",
    "reason",
    "policies",
    "email_key",
    "owner_id",
    "row",
]
FIELD_COLUMNS = [
    "pardot_field_id",
    "pardot_field_name",
    "sf_field",
    "sync_behavior",
    "pairs",
    "differ",
    "winner",
    "sf_overwritten",
    "pardot_overwritten",
    "blank_fills_sf",
    "blank_fills_pardot",
    "blank_overwrites",
    "write_errors",
    "error_codes",
    "policies",
    "source",
    "confidence",
    "sync_behavior_source",
]
_COUNT_COLUMNS = [
    "pairs",
    "differ",
    "sf_overwritten",
    "pardot_overwritten",
    "blank_fills_sf",
    "blank_fills_pardot",
    "blank_overwrites",
    "write_errors",
]
_DT = "datetime64[us, UTC]"
_SF_OBJECTS = ("Lead", "PersonAccount", "Contact", "")  # sf["obj_code"] → sf["sf_object"]
_NUMBER_RE = r"-?\d+(?:\.\d+)?"
_MATCHED = ("linked", "match_email", "match_email_tie")
_TEXT_TYPES = {
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "multipicklist",
    "combobox",
    "encryptedstring",
}
# Fields the connector does not write through the value-sync path (F-5, M-8, CR-6).
_NOT_WRITTEN = {"score", "grade", "campaign_id", "assigned_user", "email"}
_ERROR_ORDER = (
    "CANNOT_UPDATE_CONVERTED_LEAD",
    "INACTIVE_OWNER_OR_USER",
    "INVALID_EMAIL_ADDRESS",
    "REQUIRED_FIELD_MISSING",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "STRING_TOO_LONG",
)


# ----------------------------------------------------------------------------- helpers
def _col(frame: pd.DataFrame | None, name: str, dtype: str = "str") -> pd.Series:
    """A column of the frame, or all-NA when the frame or column is absent."""
    if frame is not None and name in frame.columns:
        return frame[name]
    index = frame.index if frame is not None else pd.RangeIndex(0)
    return pd.Series(pd.NA, index=index, dtype=dtype)


def _flag(frame: pd.DataFrame | None, name: str) -> np.ndarray:
    """A boolean column as a numpy bool array, NA → False."""
    return _col(frame, name, "boolean").fillna(False).to_numpy(dtype=bool)


def _strs(values) -> pd.Series:
    return pd.Series(values, dtype="str")


def _take_str(values: pd.Series, pos: np.ndarray) -> pd.Series:
    """``values`` at positions ``pos`` (-1 → NA) as a ``str`` Series, taken in arrow."""
    if len(values) == 0:
        return pd.Series(pd.NA, index=range(len(pos)), dtype="str")
    taken = pc.take(_arrow(values), pa.array(np.maximum(pos, 0), mask=pos < 0))
    return pd.Series(
        taken.to_pandas(types_mapper=lambda _: pd.StringDtype("pyarrow", na_value=np.nan)),
        dtype="str",
    )


def _str_series(arr: pa.Array) -> pd.Series:
    """A pyarrow text array as a ``str`` Series (RangeIndex), without Python objects."""
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return pd.Series(
        arr.to_pandas(types_mapper=lambda _: pd.StringDtype("pyarrow", na_value=np.nan)),
        dtype="str",
    )


def _from_codes(codes: np.ndarray, labels: list[str]) -> pd.Series:
    """``labels[codes]`` as a ``str`` Series (code -1 → NA), built as an arrow dictionary."""
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=np.asarray(codes) < 0)
    dictionary = pa.array(list(labels), type=pa.large_string())
    return _str_series(pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.large_string()))


def _labels(values: np.ndarray) -> pd.Series:
    """An object array of texts (None/NaN → NA) as a ``str`` Series: each distinct text is
    converted once (record-level label arrays repeat a few texts many times)."""
    values = np.asarray(values, dtype=object)
    at = np.flatnonzero(pd.notna(values))
    if len(at) < len(values) // 2:  # mostly NA (error codes, candidates): factorize the rest
        sub, distinct = pd.factorize(values[at])
        codes = np.full(len(values), -1, dtype=np.int64)
        codes[at] = sub
    else:
        codes, distinct = pd.factorize(values)
    return _from_codes(codes, [str(v) for v in distinct])


def _const_str(n: int, text: str) -> pd.Series:
    """``n`` times ``text`` as a ``str`` Series."""
    return _from_codes(np.zeros(n, dtype=np.int32), [text])


def _codes(*values: pd.Series) -> list[np.ndarray]:
    """Shared integer codes of several text Series (equal text, equal code; NA → -1): one hash
    pass over the union, so joins and membership tests run on integers."""
    return _codes_of([_arrow(v) for v in values])


def _codes_of(arrays: list) -> list[np.ndarray]:
    """``_codes`` of pyarrow text arrays (pure pyarrow: safe on a worker thread)."""
    chunks = [c for a in arrays for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
    whole = pa.chunked_array(chunks, type=pa.large_string()).combine_chunks()
    enc = pc.dictionary_encode(whole)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    return [codes[bounds[i] : bounds[i + 1]] for i in range(len(arrays))]


def _member(codes: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``codes`` found among the ``pool`` codes (both from ``_codes``; -1 is never a member)."""
    pool = pool[pool >= 0]
    if len(pool) == 0 or len(codes) == 0:
        return np.zeros(len(codes), dtype=bool)
    present = np.zeros(max(int(codes.max()), int(pool.max())) + 1, dtype=bool)
    present[pool] = True
    return (codes >= 0) & present[np.maximum(codes, 0)]


def _epoch(values: pd.Series) -> np.ndarray:
    """Datetimes as int64 microseconds (NaT → int64 min), without per-value Python objects."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.astype(_DT)
    return values.array.asi8 if hasattr(values.array, "asi8") else values.astype("int64").to_numpy()


def _is(values: pd.Series, value: str) -> np.ndarray:
    """Elementwise ``values == value`` as a numpy bool array, NA → False."""
    return values.astype("str").eq(value).fillna(False).to_numpy(dtype=bool)


def _arrow(values: pd.Series) -> pa.Array:
    """A text Series as a pyarrow large_string array (nulls kept)."""
    arr = pa.array(values.astype("str"), from_pandas=True)
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def _positions(keys: pd.Series, queries: pd.Series) -> np.ndarray:
    """Position in ``keys`` of each query (first occurrence; NA and misses → -1), hash-joined."""
    if len(keys) == 0 or len(queries) == 0:
        return np.full(len(queries), -1)
    hit = pc.index_in(_arrow(queries), value_set=_arrow(keys), skip_nulls=True)
    return hit.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _isin(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` as a numpy bool array, NA never a member (pyarrow hash set)."""
    if len(values) == 0 or len(pool) == 0:
        return np.zeros(len(values), dtype=bool)
    hit = pc.is_in(_arrow(values), value_set=_arrow(pool), skip_nulls=True)
    return hit.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)


def _join_groups(groups: np.ndarray, values: pd.Series) -> pd.Series:
    """``;``-joined values per group (in the given order), indexed by group, without Python loops."""
    table = pa.table({"g": pa.array(groups), "v": _arrow(values)})
    agg = table.group_by("g", use_threads=False).aggregate([("v", "list")])
    joined = pc.binary_join(agg["v_list"], pa.scalar(";", pa.large_string()))
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=agg["g"].to_numpy(), dtype="str")


class _Notes:
    """Per-record reasons, policies and caution, built up vectorised."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.reason = np.full(n, "", dtype=object)
        self.policies: dict[str, np.ndarray] = {}
        self.caution = np.zeros(n, dtype=bool)

    def set_reason(self, mask: np.ndarray, text) -> None:
        self.reason[mask] = text if np.isscalar(text) else np.asarray(text, dtype=object)[mask]

    def add_reason(self, mask: np.ndarray, text) -> None:
        if not mask.any():
            return
        add = text if np.isscalar(text) else np.asarray(text, dtype=object)[mask]
        cur = self.reason[mask]
        more = cur != ""  # join only where a reason is already there
        if np.isscalar(add):
            cur[~more] = add
            cur[more] = cur[more] + ("; " + add)
        else:
            cur[~more] = add[~more]
            cur[more] = cur[more] + "; " + add[more]
        self.reason[mask] = cur

    def policy(self, name: str, mask: np.ndarray) -> None:
        if mask.any():
            self.policies[name] = self.policies.get(name, np.zeros(self.n, dtype=bool)) | mask

    def policy_column(self) -> pd.Series:
        """``;``-joined policy names per record, in the order they were first noted."""
        names = list(self.policies)
        if len(names) > 62:  # more than fit in the bit set: join as text
            out = np.full(self.n, "", dtype=object)
            for name, mask in self.policies.items():
                cur = out[mask]
                out[mask] = np.where(cur == "", name, cur + ";" + name)
            return _strs(out).fillna("")
        bits = np.zeros(self.n, dtype=np.int64)  # one bit per policy: a few dozen at most
        for i, name in enumerate(names):
            bits |= self.policies[name].astype(np.int64) << i
        if len(names) <= 16:  # small bit sets: a table lookup instead of a sort
            seen = np.flatnonzero(np.bincount(bits, minlength=1))
            combos = seen
            remap = np.zeros(int(seen[-1]) + 1 if len(seen) else 1, dtype=np.int64)
            remap[seen] = np.arange(len(seen))
            codes = remap[bits]
        else:
            combos, codes = np.unique(bits, return_inverse=True)
        labels = [";".join(nm for i, nm in enumerate(names) if int(c) >> i & 1) for c in combos]
        return _from_codes(codes.reshape(-1), labels)


# ----------------------------------------------------------------------------- result
@dataclass
class SimulationResult:
    """What the first sync after unpause is predicted to do, per record and per field."""

    settings: ConnectorSettings
    prospects: pd.DataFrame
    salesforce: pd.DataFrame
    fields: pd.DataFrame
    initial_sync: dict
    mappings: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    # Pardot user → Salesforce user as the simulator resolved it (U-1, U-2): user_id,
    # sf_user_id, mapped_by (salesforce_user_id | crm_username | email), is_active.
    users: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def prospect_counts(self) -> dict[str, int]:
        """Prospect outcome → count (every contract outcome, zeros included)."""
        counts = self.prospects["outcome"].value_counts()
        return {o: int(counts.get(o, 0)) for o in PROSPECT_OUTCOMES}

    def salesforce_counts(self) -> dict[str, int]:
        """Salesforce record outcome → count (every contract outcome, zeros included)."""
        counts = self.salesforce["outcome"].value_counts()
        return {o: int(counts.get(o, 0)) for o in SALESFORCE_OUTCOMES}

    def to_json(self) -> dict:
        """The ``simulation`` object of readiness.json (contract §3)."""
        f = self.fields[FIELD_COLUMNS]
        fields_rows = f.astype(object).where(f.notna(), None)
        return {
            "prospects": self.prospect_counts(),
            "salesforce": self.salesforce_counts(),
            "fields": [
                {k: (int(v) if isinstance(v, np.integer) else v) for k, v in r.items()}
                for r in fields_rows.to_dict("records")
            ],
            "initial_sync": self.initial_sync,
        }


# ----------------------------------------------------------------------------- Salesforce side
def _mds_column(frame: pd.DataFrame | None, table: str, rule: MdsRule) -> str | None:
    if frame is None:
        return None
    col = sf_column(frame, table, rule.field)
    if col is None and table == "sf_accounts" and rule.field.lower().endswith("__c"):
        col = sf_column(frame, table, rule.field[:-3] + "__pc")  # person-account field
    return col


def _sf_records(snapshot, settings: ConnectorSettings) -> pd.DataFrame:
    """Leads, contacts and person accounts as one frame with scope flags (M-3, M-18, D-3, V-2)."""
    t = snapshot.tables
    leads, contacts, accounts = t.get("sf_leads"), t.get("sf_contacts"), t.get("sf_accounts")
    parts = []

    def part(frame, table, obj, sf_id, link_id, email, key, is_person):
        n = len(frame)

        def r(series: pd.Series, dtype: str = "str") -> pd.Series:
            return series.astype(dtype).reset_index(drop=True)

        return pd.DataFrame(
            {
                "sf_object": _const_str(n, obj),
                "table": _const_str(n, table),
                "sf_id": r(sf_id),
                "link_id": r(link_id),
                "email": r(email),
                "email_key": r(key),
                "owner_id": r(_col(frame, "owner_id")),
                "is_converted": _flag(frame, "is_converted"),
                "converted_contact_id": r(_col(frame, "converted_contact_id")),
                "is_deleted": _flag(frame, "is_deleted"),
                "master_record_id": r(_col(frame, "master_record_id")),
                "account_id": r(_col(frame, "account_id")),
                "created_date": r(_col(frame, "created_date", _DT), _DT),
                "last_modified_date": r(_col(frame, "last_modified_date", _DT), _DT),
                "is_person": is_person,
                "obj_code": np.full(n, _SF_OBJECTS.index(obj), dtype=np.int64),
                "src_pos": np.arange(n),
                "row": frame.index.to_numpy(),
            }
        )

    if leads is not None:
        parts.append(
            part(
                leads,
                "sf_leads",
                "Lead",
                _col(leads, "id"),
                _col(leads, "id"),
                _col(leads, "email"),
                _col(leads, "email_key"),
                np.zeros(len(leads), dtype=bool),
            )
        )
    pa_contact_ids = pd.Series([], dtype="str")
    if accounts is not None:
        is_pa = _flag(accounts, "is_person_account")
        pa = accounts[is_pa]
        pa_contact_ids = _col(pa, "person_contact_id").dropna()
        frame = part(
            pa,
            "sf_accounts",
            "PersonAccount",
            _col(pa, "id"),
            _col(pa, "person_contact_id").fillna(_col(pa, "id")),
            _col(pa, "person_email"),
            _col(pa, "person_email_key"),
            np.ones(len(pa), dtype=bool),
        )
        frame["src_pos"] = np.flatnonzero(is_pa)
        parts.append(frame)
    if contacts is not None:
        # The contact side of a person account already exported as an account is one record.
        keep = ~_isin(_col(contacts, "id"), pa_contact_ids)
        c = contacts[keep]
        frame = part(
            c,
            "sf_contacts",
            "Contact",
            _col(c, "id"),
            _col(c, "id"),
            _col(c, "email"),
            _col(c, "email_key"),
            _flag(c, "is_person_account"),
        )
        frame["src_pos"] = np.flatnonzero(keep)
        parts.append(frame)
    if not parts:
        sf = part(pd.DataFrame(), "", "", *(pd.Series([], dtype="str"),) * 4, np.zeros(0, bool))
    else:
        sf = pd.concat(parts, ignore_index=True)
    for col in ("sf_object", "table", "sf_id", "link_id", "email", "email_key", "owner_id"):
        sf[col] = sf[col].astype("str")
    for col in ("converted_contact_id", "master_record_id", "account_id"):
        sf[col] = sf[col].astype("str")
    if not settings.email_case_insensitive:
        # M-13 policy off: match on the raw value, case and spaces included.
        sf["match_key"] = sf["email"].mask(sf["email_key"].isna())
    else:
        sf["match_key"] = sf["email_key"]
    n = len(sf)
    scope_reason = np.zeros(n, dtype=np.int64)  # codes into scope_texts
    scope_texts: dict[str, int] = {"": 0}

    def scope_code(text: str) -> int:
        return scope_texts.setdefault(text, len(scope_texts))

    in_scope = np.ones(n, dtype=bool)
    mds_unknown = np.zeros(n, dtype=bool)
    # Person accounts are invisible to the connector unless person-account sync is on (M-18, M-19).
    if not settings.person_accounts_enabled:
        pa_off = sf["is_person"].to_numpy()
        in_scope &= ~pa_off
        scope_reason[pa_off] = scope_code(
            "person account and person-account sync is off (M-18, M-19)"
        )
    # The connector sees only what the connector user sees; the integration user sees all (M-3, V-2).
    if not settings.uses_integration_user and settings.connector_user_visible_owner_ids:
        ids, _, _ = sf_id18(pd.Series(settings.connector_user_visible_owner_ids, dtype="str"))
        visible = _isin(sf["owner_id"], ids)
        hidden = ~visible & in_scope
        scope_reason[hidden] = scope_code(
            f"not visible to connector user {settings.connector_user!r} "
            "(owner not in connector_user_visible_owner_ids) (M-3)"
        )
        in_scope &= visible
    # Marketing Data Sharing: one field, equals, case-sensitive exact value (D-3, D-8).
    for obj, table, rule_obj, frame in (
        ("Lead", "sf_leads", "Lead", leads),
        ("Contact", "sf_contacts", "Contact", contacts),
        ("PersonAccount", "sf_accounts", "Contact", accounts),
    ):
        rule = settings.marketing_data_sharing.get(rule_obj)
        if rule is None or frame is None:
            continue
        rows = (sf["sf_object"] == obj).to_numpy()
        col = _mds_column(frame, table, rule)
        if col is None:
            mds_unknown |= rows  # rule field not exported: scope cannot be told
            continue
        values = frame[col].astype("str").iloc[sf.loc[rows, "src_pos"].to_numpy()]
        ok = values.eq(rule.value).fillna(False).to_numpy(dtype=bool)
        out = rows.copy()
        out[rows] = ~ok
        out &= in_scope
        scope_reason[out] = scope_code(
            f"outside Marketing Data Sharing rule {rule.field} = {rule.value!r} "
            "(case-sensitive, D-3, D-8)"
        )
        in_scope &= ~out
    sf["in_scope"] = in_scope
    # Few distinct texts: kept as a categorical (sf is internal) so outputs build from codes.
    sf["scope_reason"] = pd.Categorical.from_codes(scope_reason, categories=list(scope_texts))
    sf["mds_unknown"] = mds_unknown
    return sf


def _scope_texts(sf: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    """The scope reasons of the records at ``pos`` as an object array (from the category codes)."""
    scope = sf["scope_reason"].array
    return np.asarray(scope.categories, dtype=object)[np.asarray(scope.codes)[pos]]


# ----------------------------------------------------------------------------- users
def _sf_user_ids(snapshot, settings: ConnectorSettings, prospects: pd.DataFrame):
    """Per prospect: Pardot user id, mapped Salesforce user id, resolved flag, active state."""
    t = snapshot.tables
    pu, su = t.get("pardot_users"), t.get("sf_users")
    n = len(prospects)
    index = pd.RangeIndex(n)
    pardot_user_id = pd.Series(pd.NA, index=index, dtype="str")
    sf_user = pd.Series(pd.NA, index=index, dtype="str")
    has_pu = np.zeros(n, dtype=bool)
    users = pd.DataFrame(
        {c: pd.Series(dtype="str") for c in ("user_id", "sf_user_id", "mapped_by")}
    )
    if pu is not None and len(pu):
        pu_pos = _positions(_col(pu, "user_id"), _col(prospects, "assigned_user_id"))
        # UI export "User": name or email of the assigned user (export-formats.md §1.1).
        names = _col(pu, "first_name").fillna("") + " " + _col(pu, "last_name").fillna("")
        names = names.str.strip().str.casefold()
        keys = pd.concat(
            [
                _col(pu, "email_key"),
                _col(pu, "username").str.strip().str.casefold(),
                names.mask(names == ""),
                _col(pu, "user_id").astype("str"),  # a UI "User" column holding the id
            ],
            ignore_index=True,
        )
        # Few distinct names over many prospects: normalise and look up each name once.
        name_codes, distinct = pd.factorize(_col(prospects, "assigned_user"))
        distinct = pd.Series(distinct, dtype=_col(prospects, "assigned_user").dtype)
        by_name = _positions(keys, distinct.str.strip().str.casefold())
        if len(distinct):
            by_name = np.where(name_codes >= 0, by_name[np.maximum(name_codes, 0)], -1)
        else:
            by_name = np.full(n, -1)
        by_name = np.where(by_name >= 0, by_name % len(pu), -1)
        pu_pos = np.where(pu_pos >= 0, pu_pos, by_name)
        has_pu = pu_pos >= 0
        pardot_user_id = _take_str(_col(pu, "user_id").astype("str").reset_index(drop=True), pu_pos)
        # Pardot user -> Salesforce user: salesforceId (U-2), else CRM Username (U-1),
        # else the same email when "automatically match users" is on (U-1).
        mapped = _col(pu, "salesforce_user_id").astype("str").reset_index(drop=True)
        mapped_by = pd.Series(np.where(mapped.notna(), "salesforce_user_id", None), dtype="str")
        if su is not None and len(su):
            su_ids = _col(su, "id").astype("str").reset_index(drop=True)
            unames = _col(su, "username").str.strip().str.casefold()
            unames = unames.mask(unames.duplicated(keep=False))
            hit = _positions(unames, _col(pu, "salesforce_username").str.strip().str.casefold())
            by_uname = pd.Series(
                np.where(hit >= 0, su_ids.to_numpy(dtype=object)[hit], None), dtype="str"
            )
            mapped_by = mapped_by.fillna(
                by_uname.where(mapped.isna())
                .notna()
                .map({True: "crm_username", False: None})
                .astype("str")
            )
            mapped = mapped.fillna(by_uname)
            if settings.auto_match_users:
                emails = _col(su, "email_key").astype("str")
                emails = emails.mask(emails.duplicated(keep=False))  # ambiguous: USR005
                hit = _positions(emails, _col(pu, "email_key"))
                by_email = pd.Series(
                    np.where(hit >= 0, su_ids.to_numpy(dtype=object)[hit], None), dtype="str"
                )
                mapped_by = mapped_by.fillna(
                    by_email.where(mapped.isna())
                    .notna()
                    .map({True: "email", False: None})
                    .astype("str")
                )
                mapped = mapped.fillna(by_email)
        sf_user = _take_str(mapped, np.where(has_pu, pu_pos, -1))
        users = pd.DataFrame(
            {
                "user_id": _col(pu, "user_id").astype("str").reset_index(drop=True),
                "sf_user_id": mapped,
                "mapped_by": mapped_by,
            }
        )
    users["is_active"] = _user_active(snapshot, users["sf_user_id"])
    return pardot_user_id, sf_user, has_pu, users


def _user_active(snapshot, user_ids: pd.Series) -> pd.Series:
    """IsActive of each Salesforce user id (NA when unknown: no users export, or not in it)."""
    su = snapshot.tables.get("sf_users")
    active = pd.Series(pd.NA, index=user_ids.index, dtype="boolean")
    if su is not None and len(su):
        hit = _positions(_col(su, "id"), user_ids)
        act = _col(su, "is_active", "boolean").reset_index(drop=True)
        active[hit >= 0] = act.to_numpy()[hit[hit >= 0]]
    return active


def _connector_user_id(snapshot, settings: ConnectorSettings) -> str | None:
    su = snapshot.tables.get("sf_users")
    if settings.uses_integration_user or su is None:
        return None
    hit = su[_col(su, "username").str.strip().str.casefold() == settings.connector_user.casefold()]
    return None if hit.empty else str(hit["id"].iloc[0])


# ----------------------------------------------------------------------------- values
def _compare_text(values: pd.Series, settings: ConnectorSettings, is_sf: bool) -> pd.Series:
    """Values as comparable text: booleans true/false, numbers without '.0', blank → NA (F-3)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        text = values.astype("boolean").map({True: "true", False: "false"}).astype("str")
        if not settings.checkbox_false_is_value:
            text = text.mask(text == "false")  # F-3/F-7 policy: a false checkbox counts as blank
        return text
    if pd.api.types.is_numeric_dtype(dtype):
        text = values.astype("Float64").astype("str").str.replace(r"\.0$", "", regex=True)
        return text
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        midnight = (values.dt.hour == 0) & (values.dt.minute == 0) & (values.dt.second == 0)
        return (
            values.dt.strftime("%Y-%m-%d")
            .where(midnight, values.dt.strftime("%Y-%m-%dT%H:%M:%S"))
            .astype("str")
        )
    text = _arrow(values)
    if settings.whitespace_is_blank:
        text = pc.utf8_trim_whitespace(text)  # F-3 policy: whitespace-only counts as blank
    # Blank → NA, in arrow (what ``str.strip`` and ``mask(text == "")`` do, without pandas).
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)
    out = _str_series(text).set_axis(values.index)
    out.name = values.name
    return out


def _pair_text(values: pd.Series, pos: np.ndarray, settings, is_sf: bool) -> pd.Series:
    """``_compare_text`` of ``values`` at positions ``pos``, on a RangeIndex; a column with no
    value at all gives all NA without a take."""
    if values.count() == 0:
        return pd.Series(np.nan, index=pd.RangeIndex(len(pos)), dtype="str")
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        # Text: taken in arrow (no index to carry along), then compared as ``iloc`` would be.
        return _compare_text(_str_series(pc.take(_arrow(values), pa.array(pos))), settings, is_sf)
    return _compare_text(values.iloc[pos], settings, is_sf).reset_index(drop=True)


def _write_errors(
    values: pd.Series, meta: dict | None, settings: ConnectorSettings
) -> list[tuple[np.ndarray, str | None, str]]:
    """Which AE→Salesforce writes of ``values`` fail against the describe entry (§3.7, §7.2).

    One ``(mask, error code or None, policy)`` per kind of failure found; a record is in at most
    one mask (the first failure Salesforce would report). Code None: no error, but the write
    rests on the policy (a long value truncated).
    """
    found: list[tuple[np.ndarray, str | None, str]] = []
    if meta is None:
        return found
    ftype = str(meta.get("type") or "")
    open_ = values.notna().to_numpy(dtype=bool)  # present and not yet failed

    def add(mask: np.ndarray, code: str | None, policy: str) -> None:
        nonlocal open_
        mask = mask & open_
        if mask.any():
            found.append((mask, code, policy))
            open_ = open_ & ~mask

    if ftype == "email" and settings.invalid_email == "error":
        # INVALID_EMAIL_ADDRESS (M-14, X9); policy invalid_email.
        add(~email_is_valid(values).to_numpy(dtype=bool), "INVALID_EMAIL_ADDRESS", "invalid_email")
    if meta.get("restricted_picklist") and ftype in ("picklist", "multipicklist"):
        allowed = list(meta.get("picklist_values") or ())
        if ftype == "multipicklist":
            exploded = values.str.split(";").explode()
            miss = (~exploded.isin(allowed) & exploded.notna()).groupby(level=0).any()
            miss = miss.reindex(values.index, fill_value=False).to_numpy(dtype=bool)
        else:
            miss = ~values.isin(allowed).to_numpy(dtype=bool)
        # Exact value, case and spaces included (K2, H22 KB 000384095).
        add(miss, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "")
    length = meta.get("length")
    if ftype in _TEXT_TYPES and length is not None and not pd.isna(length) and int(length) > 0:
        too_long = (values.str.len() > int(length)).fillna(False).to_numpy(dtype=bool)
        # STRING_TOO_LONG (F-14, X9); whether the connector truncates is policy long_values.
        add(too_long, "STRING_TOO_LONG" if settings.long_values == "error" else None, "long_values")
    return found


def _write_errors_at(
    values: pd.Series, at: np.ndarray, n: int, meta: dict | None, settings: ConnectorSettings
) -> list[tuple[np.ndarray, str | None, str]]:
    """``_write_errors`` of the values written at positions ``at`` (of ``n`` records), with masks
    over all ``n``: every test is per value, so only the written values are looked at."""
    found: list[tuple[np.ndarray, str | None, str]] = []
    if meta is None or len(at) == 0:
        return found
    for bad, code, policy in _write_errors(values.reset_index(drop=True), meta, settings):
        mask = np.zeros(n, dtype=bool)
        mask[at[bad]] = True
        found.append((mask, code, policy))
    return found


def _describe_lookup(snapshot, obj: str) -> dict[str, dict]:
    frame = (snapshot.describe or {}).get(obj)
    if frame is None or len(frame) == 0:
        return {}
    return {r["key"]: r for r in frame.to_dict("records")}


# ----------------------------------------------------------------------------- prospects
def simulate(snapshot, settings: ConnectorSettings | None = None) -> SimulationResult:
    """Predict every prospect's and Salesforce record's outcome at unpause (spec §10)."""
    settings = settings or snapshot.settings
    t = snapshot.tables
    P = t.get("pardot_prospects")
    if P is None:
        P = pd.DataFrame(columns=["prospect_id", "email", "email_key"])
    n = len(P)
    sf = _sf_records(snapshot, settings)
    mappings = effective_mappings(snapshot, settings)
    notes = _Notes(n)
    outcome = np.full(n, None, dtype=object)
    target = np.full(n, -1)  # position in sf of the record the prospect links (or will link) to
    error_code = np.full(n, None, dtype=object)
    candidates = np.full(n, None, dtype=object)
    how = np.full(n, "", dtype=object)

    # Records with no outcome yet: ``decide`` is the only place an outcome is first set.
    undecided = np.ones(n, dtype=bool)

    def decide(mask, name, reason=None):
        mask = mask & undecided
        outcome[mask] = name
        undecided[mask] = False
        if reason is not None:
            notes.add_reason(mask, reason)
        return mask

    # Step 0: prospects in the AE recycle bin are skipped (§10).
    decide(_flag(P, "is_deleted"), "pardot_only", "archived in AE (recycle bin): not synced (§10)")
    # Step 1: "do not sync" or [[crm_ignore_prospect]] (M-22, M-6).
    lead_status, contact_status = _col(P, "crm_lead_status"), _col(P, "crm_contact_status")
    ignored = _flag(P, "do_not_sync") | _is(lead_status, "ignored") | _is(contact_status, "ignored")
    decide(
        ignored,
        "pardot_only",
        "CRM sync disabled (do not sync / [[crm_ignore_prospect]]) (M-22, M-6)",
    )
    # Step 2: CRM ids; the contact id is preferred over the lead id (M-17, ID-5).
    crm = (
        _col(P, "crm_contact_fid").fillna(_col(P, "salesforce_id")).fillna(_col(P, "crm_lead_fid"))
    )
    has_crm = crm.notna().to_numpy(dtype=bool)
    sentinel_deleted = _is(contact_status, "deleted") | (_is(lead_status, "deleted") & ~has_crm)
    decide(
        sentinel_deleted,
        "stale_crm_id",
        "[[crm_deleted]]: the record was deleted in Salesforce; the prospect will not be resynced (M-21)",
    )
    garbage = (_is(contact_status, "invalid") | _is(lead_status, "invalid")) & ~has_crm
    m = decide(
        garbage,
        "stale_crm_id",
        "CRM id field holds a value that is not a Salesforce id (M-22, ID-5)",
    )
    notes.caution[m] = True

    # CRM ids and ConvertedContactIds → position of the first record with that id: one hash
    # pass over all three id columns, then integer lookups (code -1 → the trailing -1 slot).
    # The same-email keys are hashed at the same time on a second thread (pyarrow frees the GIL).
    p_email = _col(P, "email")
    p_key = _col(P, "email_key")
    p_match = p_key if settings.email_case_insensitive else p_email.mask(p_key.isna())
    with ThreadPoolExecutor(max_workers=1) as pool:
        key_job = pool.submit(_codes_of, [_arrow(sf["match_key"]), _arrow(p_match)])
        link_codes, crm_codes, ccid_codes = _codes(sf["link_id"], crm, sf["converted_contact_id"])
        key_codes = key_job.result()
    n_ids = int(
        max(link_codes.max(initial=-1), crm_codes.max(initial=-1), ccid_codes.max(initial=-1))
    )
    first_link = np.full(n_ids + 2, len(sf))
    has_link = link_codes >= 0
    np.minimum.at(first_link, link_codes[has_link], np.flatnonzero(has_link))
    first_link[first_link == len(sf)] = -1
    pos = first_link[crm_codes]
    open_crm = has_crm & undecided
    has_export_all = bool(sf["is_deleted"].any() or sf["master_record_id"].notna().any())
    missing_reason = "CRM id not in the Salesforce export: deleted, merged or invisible to the exporting user (ID-5, M-20)"
    if not has_export_all:
        missing_reason += "; an Export All with IsDeleted/MasterRecordId would tell which"
    # An id whose object was not exported at all cannot be checked: say so, never a sure stale.
    prefix = crm.astype("str").str.slice(0, 3)
    unexported = np.zeros(n, dtype=bool)
    if "sf_leads" not in t:
        unexported |= _is(prefix, "00Q")
    if "sf_contacts" not in t and "sf_accounts" not in t:
        unexported |= _is(prefix, "003")
    m = decide(
        open_crm & (pos < 0) & unexported,
        "stale_crm_id",
        "the export of this id's object is missing: the link cannot be checked (INP001)",
    )
    notes.caution |= m
    decide(open_crm & (pos < 0), "stale_crm_id", missing_reason)
    # Converted lead: the link follows ConvertedContactId (M-17).
    conv = np.zeros(n, dtype=bool)
    conv[open_crm & (pos >= 0)] = sf["is_converted"].to_numpy()[pos[open_crm & (pos >= 0)]]
    conv &= undecided
    conv_contact = pd.Series(pd.NA, index=range(n), dtype="str")
    if conv.any():
        conv_contact[conv] = sf["converted_contact_id"].to_numpy(dtype=object)[pos[conv]]
    no_contact = conv & conv_contact.isna().to_numpy()
    m = decide(
        no_contact,
        "will_error",
        "CRM id is a converted lead with no ConvertedContactId: updates fail (M-17, X9)",
    )
    error_code[m] = "CANNOT_UPDATE_CONVERTED_LEAD"
    target[m] = pos[m]
    follow = conv & ~no_contact
    pos2 = np.full(n, -1)
    pos2[conv] = first_link[ccid_codes[pos[conv]]]
    m = decide(
        follow & (pos2 < 0),
        "stale_crm_id",
        "CRM id is a converted lead whose ConvertedContactId is not in the export (M-17, ID-5)",
    )
    pos = np.where(follow & (pos2 >= 0), pos2, pos)
    notes.add_reason(follow & (pos2 >= 0), "converted lead: follows ConvertedContactId (M-17)")
    open_crm = has_crm & undecided
    tgt_deleted = np.zeros(n, dtype=bool)
    tgt_deleted[open_crm] = sf["is_deleted"].to_numpy()[pos[open_crm]]
    master = pd.Series(pd.NA, index=range(n), dtype="str")
    master[tgt_deleted] = sf["master_record_id"].to_numpy(dtype=object)[pos[tgt_deleted]]
    merged = tgt_deleted & master.notna().to_numpy()
    merged_reason = np.full(n, None, dtype=object)  # texts only where they are used
    merged_reason[merged] = (
        "merged into " + master[merged] + " (MasterRecordId in the Export All) (M-20, ID-5)"
    ).to_numpy(dtype=object)
    decide(merged, "stale_crm_id", merged_reason)
    decide(
        tgt_deleted, "stale_crm_id", "deleted in Salesforce (IsDeleted in the Export All) (M-20)"
    )
    open_crm = has_crm & undecided
    scope_ok = np.zeros(n, dtype=bool)
    scope_ok[open_crm] = sf["in_scope"].to_numpy()[pos[open_crm]]
    m = decide(open_crm & ~scope_ok, "out_of_scope")
    scope_text = np.full(n, "", dtype=object)  # the record's scope reason, where it is used
    scope_text[m] = _scope_texts(sf, pos[m])
    notes.add_reason(m, scope_text)
    notes.add_reason(m, "AE will archive the prospect (D-6)")
    target[m] = pos[m]
    m = decide(open_crm & scope_ok, "linked")
    target[m] = pos[m]
    how[m] = "crm_id"
    notes.add_reason(m, "CRM id found in the export: stays linked (M-2)")

    # Step 3: no CRM id → email matching (M-5; AMPSEA fallback M-10).
    no_crm = undecided.copy()
    if settings.ampsea:
        notes.policy("ampsea_email_fallback", no_crm)
    assigned = (
        _col(P, "assigned_user_id").notna()
        | _col(P, "assigned_user").notna()
        | _col(P, "crm_owner_fid").notna()
    ).to_numpy(dtype=bool)  # CR-1, CR-4, M-6
    blank = no_crm & p_match.isna().to_numpy()
    m = decide(
        blank,
        "pardot_only",
        "blank email (input anomaly): cannot match and not predicted to create a lead (M-16)",
    )
    notes.caution[m] = True
    matching = undecided.copy()
    if settings.ampsea and not settings.ampsea_email_fallback:
        matching = np.zeros(n, dtype=bool)  # M-9/M-10: CRM id only
        notes.add_reason(
            undecided.copy(), "no CRM id and the AMPSEA email fallback is off (M-9, M-10)"
        )
    sf_is_lead = sf["obj_code"].to_numpy() == _SF_OBJECTS.index("Lead")
    claimed = np.zeros(len(sf), dtype=bool)  # records held by a CRM-id link (M-1)
    claimed[target[(target >= 0) & (outcome != "out_of_scope")]] = True
    eligible = (~sf["is_deleted"] & sf["match_key"].notna()).to_numpy()
    converted = sf["is_converted"].to_numpy()
    if not settings.converted_leads_match:
        eligible_now = eligible & ~converted  # policy converted_leads_match (M-17)
    else:
        eligible_now = eligible
    # Same-email pairs: a join on integer codes of the match keys, in the order an inner
    # merge gives (prospects in order, then their records in order).
    sf_codes, p_codes = key_codes
    c_all = np.flatnonzero(eligible_now)
    p_all = np.flatnonzero(matching)
    l_codes, r_codes = p_codes[p_all], sf_codes[c_all]
    l_codes = np.where(l_codes >= 0, l_codes, len(sf_codes) + len(p_codes))  # NA: no match
    n_codes = int(max(r_codes.max(initial=-1), l_codes.max(initial=-1))) + 1
    r_order = np.argsort(r_codes, kind="stable")
    r_count = np.bincount(r_codes, minlength=n_codes)
    r_start = np.cumsum(r_count) - r_count
    k = r_count[l_codes]
    left = np.repeat(np.arange(len(l_codes)), k)
    within = np.arange(len(left)) - np.repeat(np.cumsum(k) - k, k)
    right = r_order[np.repeat(r_start[l_codes], k) + within]
    c_pair = c_all[right]
    pairs = sf[["in_scope", "last_modified_date", "created_date"]].iloc[c_pair]
    pairs = pairs.reset_index(drop=True).assign(
        p_pos=p_all[left],
        c_pos=c_pair,
        claimed=claimed[c_pair],
        is_lead=sf_is_lead[c_pair],
    )
    # Records already linked to another prospect by CRM id cannot link again (M-1).
    taken = pairs[pairs["claimed"]]
    if len(taken):
        mask = np.zeros(n, dtype=bool)
        mask[taken["p_pos"].unique()] = True
        notes.caution |= mask
        notes.add_reason(mask, "a same-email record is already linked to another prospect (M-1)")
    pairs = pairs[~pairs["claimed"]]
    # Policy converted_leads_match rests on any converted same-email lead (M-17).
    conv_keys = sf_codes[eligible & converted]
    notes.policy("converted_leads_match", matching & _member(p_codes, conv_keys))
    inn = pairs[pairs["in_scope"]]
    out = pairs[~pairs["in_scope"]]
    n_in = np.bincount(inn["p_pos"], minlength=n) if n else np.zeros(0, int)
    n_out = np.bincount(out["p_pos"], minlength=n) if n else np.zeros(0, int)
    # Tie-break (M-7, DISAGREE): policy order, never a confident match.
    rank_obj = np.where(inn["is_lead"], 1, 0)
    if settings.tie_break == "lead_then_newest":
        rank_obj = 1 - rank_obj
    elif settings.tie_break in ("newest", "oldest"):
        rank_obj = np.zeros(len(inn), dtype=int)
    inn = inn.assign(rank_obj=rank_obj)
    # Only prospects with several candidates need the order; a stable sort of that subset
    # keeps their rows in the order a sort of all pairs would give.
    several = n_in[inn["p_pos"].to_numpy()] > 1
    one = inn[~several]
    inn = inn[several]
    # Record ids, the last tie-break key and the candidate list, only where there is a tie.
    inn = inn.assign(link_id=_take_str(sf["link_id"], inn["c_pos"].to_numpy()).set_axis(inn.index))
    if settings.tie_break == "oldest":
        order = inn.sort_values(
            ["p_pos", "rank_obj", "created_date", "last_modified_date", "link_id"],
            ascending=[True, True, True, True, True],
            na_position="last",
        )
    else:
        order = inn.sort_values(
            ["p_pos", "rank_obj", "last_modified_date", "link_id"],
            ascending=[True, True, False, True],
            na_position="last",
        )
    picks = pd.concat([one, order.drop_duplicates("p_pos", keep="first").drop(columns="link_id")])
    multi_cand = order[order["p_pos"].duplicated(keep=False)]
    cand_list = _join_groups(multi_cand["p_pos"].to_numpy(), multi_cand["link_id"])
    # One Salesforce record, one prospect (M-1): same-email prospects competing for one record.
    if len(picks):
        # Newest prospect first; NaT reads as the oldest time (int64 min).
        p_act = _epoch(_col(P, "last_activity_at", _DT))[picks["p_pos"].to_numpy()]
        p_upd = _epoch(_col(P, "updated_at", _DT))[picks["p_pos"].to_numpy()]
        picks = picks.assign(p_act=p_act, p_upd=p_upd).sort_values(
            ["c_pos", "p_act", "p_upd", "p_pos"],
            ascending=[True, False, False, True],
            na_position="last",
        )
        lost = picks.duplicated("c_pos", keep="first").to_numpy()
        contested = picks["c_pos"].duplicated(keep=False).to_numpy()
        cmask = np.zeros(n, dtype=bool)
        cmask[picks["p_pos"].to_numpy()[contested]] = True
        notes.caution |= cmask
        notes.policy("tie_break", cmask)
        losers = np.zeros(n, dtype=bool)
        losers[picks["p_pos"].to_numpy()[lost]] = True
        notes.add_reason(
            losers,
            "another prospect with the same email takes the only matching record (M-1; which one is unconfirmed)",
        )
        picks = picks[~lost]
    picked = np.full(n, -1)
    picked[picks["p_pos"].to_numpy()] = picks["c_pos"].to_numpy()
    has_pick = picked >= 0
    single = matching & has_pick & (n_in == 1)
    tie = matching & has_pick & (n_in > 1)
    m = decide(single, "match_email", "no CRM id; one eligible same-email record (M-5)")
    target[m] = picked[m]
    how[m] = "email"
    m = decide(tie, "match_email_tie")
    target[m] = picked[m]
    how[m] = "email"
    notes.add_reason(
        m,
        "no CRM id; several same-email records; the connector's pick is unconfirmed, "
        f"policy tie_break={settings.tie_break} (M-7)",
    )
    notes.caution[m] = True
    notes.policy("tie_break", m)
    if len(cand_list):
        candidates[cand_list.index.to_numpy()] = cand_list.to_numpy()
    # Email case / whitespace variants: matched on trim + casefold, never confident (M-13).
    matched = single | tie
    if matched.any() and settings.email_case_insensitive:
        idx = np.flatnonzero(matched)
        sf_raw = sf["email"].iloc[target[idx]].reset_index(drop=True)
        p_raw = p_email.iloc[idx].reset_index(drop=True)
        variant = np.zeros(n, dtype=bool)
        variant[idx] = p_raw.ne(sf_raw).fillna(True).to_numpy(dtype=bool)
        notes.caution |= variant
        notes.policy("email_case_insensitive", variant)
        notes.add_reason(variant, "emails differ only in case or spaces (M-13)")

    # No usable match: assigned → create a lead (CR-1), else nothing (CR-4).
    rest = undecided.copy()
    only_out = rest & (n_out > 0) & (n_in == 0)
    out_reason = np.full(n, "", dtype=object)
    if len(out):
        first_out = out.drop_duplicates("p_pos")
        out_reason[first_out["p_pos"].to_numpy()] = _scope_texts(sf, first_out["c_pos"].to_numpy())

    def out_text(mask: np.ndarray, prefix: str) -> np.ndarray:
        text = np.full(n, None, dtype=object)  # built only where it is used
        text[mask] = prefix + out_reason[mask]
        return text

    m = decide(only_out & ~assigned, "out_of_scope")
    notes.add_reason(m, out_text(m, "the only same-email record is out of scope: "))
    creating = rest & assigned & undecided
    m = creating & only_out
    notes.add_reason(
        m,
        out_text(
            m, "creates a duplicate lead: the only same-email record is out of scope (M-3, D-6): "
        ),
    )
    # Only records that create a lead are looked at below: test just their emails.
    valid_email = np.ones(n, dtype=bool)
    at = np.flatnonzero(creating)
    valid_email[at] = email_is_valid(p_email.iloc[at].fillna("")).to_numpy(dtype=bool)
    bad_email = creating & ~valid_email
    notes.policy("invalid_email", bad_email)
    if settings.invalid_email == "no_match":
        decide(
            bad_email,
            "pardot_only",
            "invalid or over-80-character email: policy invalid_email=no_match (M-14, M-15)",
        )
        creating &= undecided
    decide(creating, "create_lead")
    notes.add_reason(creating, "no match; assigned: the connector creates a lead (CR-1)")
    if settings.record_type_created != "lead":
        # Support can switch creation to contacts / person accounts (M-6, V-4): checks use Lead.
        notes.caution |= creating
        notes.add_reason(
            creating,
            f"the connector creates a {settings.record_type_created} instead "
            "(record_type_created, V-4); create checks use the Lead describe",
        )
    decide(
        undecided.copy(),
        "pardot_only",
        "no match; unassigned: nothing is created in Salesforce (CR-4)",
    )
    # Without a lead or contact export, same-email records of that object are unseen (§10).
    absent = [name for name in ("sf_leads", "sf_contacts") if name not in t]
    if absent:
        unsure = no_crm & np.isin(
            outcome.astype(str), ("create_lead", "pardot_only", "match_email")
        )
        unsure &= ~blank
        notes.caution |= unsure
        notes.add_reason(unsure, f"no {' / '.join(absent)} export: matches there are not seen")
    create = outcome == "create_lead"

    # Owner of created leads (CR-6, U-4, U-5, U-6).
    pardot_user_id, sf_user, has_pu, users = _sf_user_ids(snapshot, settings, P)
    crm_owner = pd.Series(_col(P, "crm_owner_fid").to_numpy(), index=sf_user.index, dtype="str")
    owner_s = sf_user.fillna(crm_owner)
    active = _user_active(snapshot, owner_s)
    owner = owner_s.to_numpy(dtype=object)
    owner_known = pd.notna(owner)
    conn_id = _connector_user_id(snapshot, settings)
    pu_missing = "pardot_users" not in t
    unresolved = create & ~owner_known
    m = unresolved & pu_missing
    notes.caution |= m
    notes.add_reason(m, "owner unknown: no pardot_users export to map the assigned user (CR-6)")
    unmapped = unresolved & (not pu_missing)
    notes.policy("unmapped_owner", unmapped)
    if settings.unmapped_owner == "error":
        m = decide_force(outcome, unmapped, "will_error")
        notes.add_reason(
            m,
            "assigned Pardot user maps to no Salesforce user; policy unmapped_owner=error (U-4, U-6)",
        )
    else:
        owner[unmapped] = conn_id
        notes.add_reason(
            unmapped,
            "assigned Pardot user maps to no Salesforce user: the connector user owns the lead (U-4, U-6)",
        )
    inactive = create & owner_known & active.eq(False).fillna(False).to_numpy(dtype=bool)
    notes.policy("inactive_owner", inactive)
    if settings.inactive_owner == "error":
        m = decide_force(outcome, inactive, "will_error")
        error_code[m] = "INACTIVE_OWNER_OR_USER"
        notes.add_reason(m, "mapped Salesforce owner is inactive (U-5)")
    else:
        owner[inactive] = conn_id
        notes.add_reason(
            inactive,
            "mapped Salesforce owner is inactive: policy inactive_owner=connector_user (U-5)",
        )
    unknown_active = create & owner_known & active.isna().to_numpy() & ~inactive
    notes.caution |= unknown_active
    notes.add_reason(unknown_active, "owner's active state unknown (not in the users export)")
    if settings.invalid_email == "error":
        m = decide_force(outcome, create & ~valid_email, "will_error")
        error_code[m] = np.where(pd.isna(error_code[m]), "INVALID_EMAIL_ADDRESS", error_code[m])
        notes.add_reason(
            m,
            "email is invalid or longer than 80 characters: Salesforce rejects it (M-14, M-15, X9)",
        )

    # Create checks on the values the new lead gets (F-15, CR-5, §3.7).
    lead_meta = _describe_lookup(snapshot, "Lead")
    absent = _absent_columns(snapshot)
    _create_checks(P, mappings, lead_meta, settings, create, outcome, error_code, notes, absent)

    # Field outcomes and failing AE→SF writes on linked / matched pairs (F-2, §3.7).
    fields_frame = _field_outcomes(  # skips columns the exports did not have
        snapshot, P, sf, mappings, settings, outcome, target, error_code, notes
    )

    # Final prospect frame.
    tgt = target >= 0
    own = create | (outcome == "will_error") & ~tgt  # the owner the connector sets
    owner_out = _take_str(sf["owner_id"], np.where(own, -1, target))  # else the record's
    if own.any():
        owner_out = _str_series(
            pc.replace_with_mask(_arrow(owner_out), pa.array(own), _arrow(_strs(owner[own])))
        )
    mds_unknown = np.zeros(n, dtype=bool)
    mds_unknown[tgt] = sf["mds_unknown"].to_numpy()[target[tgt]]
    notes.caution |= mds_unknown
    notes.add_reason(
        mds_unknown, "the Marketing Data Sharing rule field is not in the export: scope unknown"
    )
    obj_code = np.full(n, -1, dtype=np.int64)  # the linked record's object, as a code
    obj_code[tgt] = sf["obj_code"].to_numpy()[target[tgt]]
    prospects = pd.DataFrame(
        {
            "prospect_id": _col(P, "prospect_id").astype("str").reset_index(drop=True),
            "email": p_email.astype("str").reset_index(drop=True),
            "outcome": _labels(outcome),
            "sf_object": _from_codes(obj_code, list(_SF_OBJECTS)),
            "sf_id": _take_str(sf["link_id"], target),
            "owner_sf_user_id": owner_out,
            "reason": _labels(notes.reason),
            "policies": notes.policy_column(),
            "caution": notes.caution,
            "email_key": p_key.astype("str").reset_index(drop=True),
            "assigned": assigned,
            "pardot_user_id": pardot_user_id.fillna(
                _col(P, "assigned_user_id").astype("str").reset_index(drop=True)
            ),
            "error_code": _labels(error_code),
            "candidates": _labels(candidates),
            "row": P.index.to_numpy(),
        }
    )
    prospects["caution"] = prospects["caution"].astype(bool)
    prospects["assigned"] = prospects["assigned"].astype(bool)
    salesforce = _salesforce_outcomes(sf, prospects, target, how, key_codes, settings)
    result = SimulationResult(settings, prospects, salesforce, fields_frame, {}, mappings, users)
    result.initial_sync = _initial_sync(result, settings)
    return result


def decide_force(outcome: np.ndarray, mask: np.ndarray, name: str) -> np.ndarray:
    """Override an outcome (create_lead → will_error) where ``mask`` holds; returns the mask."""
    outcome[mask] = name
    return mask


def _absent_columns(snapshot) -> dict[str, set[str]]:
    """Canonical columns each table's file did not have (all-NA: unknown, not blank)."""
    out: dict[str, set[str]] = {}
    for f in getattr(snapshot.load_report, "files", []) or []:
        out.setdefault(f.table, set()).update(f.absent)
    return out


def _create_checks(
    P, mappings, lead_meta, settings, create, outcome, error_code, notes, absent
) -> None:
    """Predict creation failures: LastName, required fields, picklists, lengths (F-15, CR-5)."""
    if not create.any():
        return
    n = len(P)
    codes: dict[str, np.ndarray] = {}

    def fail(code: str, mask: np.ndarray, text: str) -> None:
        mask = mask & create
        if mask.any():
            codes[code] = codes.get(code, np.zeros(n, dtype=bool)) | mask
            notes.add_reason(mask, text)

    # Blank Last Name: [[Unknown]] fill is unconfirmed → policy blank_last_name (CR-5, F-15).
    p_absent = absent.get("pardot_prospects", set())
    last = _col(P, "last_name").astype("str").str.strip()
    blank_last = create & (last.isna() | (last == "")).to_numpy(dtype=bool)
    if "last_name" in p_absent:  # not exported: unknown, not blank (INP004)
        blank_last = np.zeros(len(P), dtype=bool)
        notes.caution |= create
        notes.add_reason(create, "Last Name not in the prospect export: not checked")
    notes.policy("blank_last_name", blank_last)
    if settings.blank_last_name == "error":
        fail(
            "REQUIRED_FIELD_MISSING",
            blank_last,
            "blank Last Name: REQUIRED_FIELD_MISSING (F-15, CR-5)",
        )
    else:
        notes.caution |= blank_last
        notes.add_reason(blank_last, "blank Last Name: may fail or be filled (CR-5, UNCONFIRMED)")
    by_sf = {
        header_key(r["sf_field"]): r for r in mappings.to_dict("records") if pd.notna(r["sf_field"])
    }
    skip = {
        "lastname",
        "company",
        "ownerid",
        "email",
    }  # Company → [[unknown]] (CR-5); owner set by the connector
    for key, meta in lead_meta.items():
        if not meta.get("required_on_create") or key in skip:
            continue
        mrow = by_sf.get(key)
        col = None if mrow is None else mrow.get("prospect_column")
        if col is not None and not pd.isna(col) and col in p_absent:
            notes.caution |= create
            notes.add_reason(create, f"required Lead field {meta['name']}: not exported, unchecked")
        elif col is None or pd.isna(col) or col not in P.columns:
            fail(
                "REQUIRED_FIELD_MISSING",
                create,
                f"required Lead field {meta['name']} has no mapped value (F-15)",
            )
        else:
            fail(
                "REQUIRED_FIELD_MISSING",
                P[col].isna().to_numpy(dtype=bool),
                f"required Lead field {meta['name']} is blank (F-15)",
            )
    at_create = np.flatnonzero(create)
    for r in mappings.to_dict("records"):
        if r["pardot_field_id"] in _NOT_WRITTEN or pd.isna(r["sf_field"]):
            continue
        col = r["prospect_column"]
        meta = lead_meta.get(header_key(r["sf_field"]))
        if meta is None or pd.isna(col) or col not in P.columns:
            continue
        # Only the values of created leads are written: others must not decide the error kind.
        values = _compare_text(P[col].iloc[at_create], settings, is_sf=False)
        for bad, code, policy in _write_errors_at(values, at_create, n, meta, settings):
            if policy:
                notes.policy(policy, create & bad)
            if code:
                fail(code, bad, f"{r['sf_field']}: {code} on create (§3.7)")
    for code in _ERROR_ORDER:
        mask = codes.get(code)
        if mask is None:
            continue
        outcome[mask] = "will_error"
        error_code[mask] = np.where(pd.isna(error_code[mask]), code, error_code[mask])


def _field_outcomes(snapshot, P, sf, mappings, settings, outcome, target, error_code, notes):
    """fields.csv rows over linked + match_email (+ tie pick) pairs, and failing writes (F-2)."""
    absent = _absent_columns(snapshot)
    t = snapshot.tables
    frames = {"Lead": t.get("sf_leads"), "Contact": t.get("sf_contacts")}
    metas = {
        "Lead": _describe_lookup(snapshot, "Lead"),
        "Contact": _describe_lookup(snapshot, "Contact"),
    }
    pair_mask = np.logical_or.reduce([outcome == o for o in _MATCHED]) & (target >= 0)
    p_pos = np.flatnonzero(pair_mask)
    c_pos = target[p_pos]
    src = sf["src_pos"].to_numpy()[c_pos]
    # Pairs per object, once (not per mapping).
    sels = {}
    for o in ("Lead", "Contact"):
        sel = sf["obj_code"].to_numpy()[c_pos] == _SF_OBJECTS.index(o)
        sels[o] = sel, p_pos[sel], src[sel]
    n = len(P)
    write_fail: dict[str, np.ndarray] = {}
    rows = []
    contacts = frames["Contact"]
    c_absent = absent.get("sf_contacts", set())
    company_unknown = "account_name" in c_absent and (
        t.get("sf_accounts") is None or "account_id" in c_absent
    )

    def contact_account_names() -> pd.Series:
        """Each contact's Account Name, else its account's Name (built when first needed)."""
        account_names = _col(contacts, "account_name").astype("str")
        accounts = t.get("sf_accounts")
        if accounts is not None:
            # Account.Name by AccountId: first account of each id (a hash join, not a map).
            acc_ids, c_acc = _col(accounts, "id"), _col(contacts, "account_id")
            hit = _positions(acc_ids, c_acc)
            na_ids = np.flatnonzero(acc_ids.isna().to_numpy())
            if len(na_ids):  # a blank AccountId meets a blank account id, as a map would
                hit[c_acc.isna().to_numpy()] = na_ids[0]
            names = _take_str(_col(accounts, "name").reset_index(drop=True), hit)
            account_names = account_names.fillna(names.set_axis(contacts.index))
        return account_names

    for r in mappings.to_dict("records"):
        fid, behavior = r["pardot_field_id"], r["sync_behavior"]
        pol = (
            set(filter(None, str(r["policies"] or "").split(";")))
            if pd.notna(r["policies"])
            else set()
        )
        pol.add("whitespace_is_blank")  # the comparison rests on F-3
        counts = dict.fromkeys(_COUNT_COLUMNS, 0)
        codes: set[str] = set()
        pcol = r["prospect_column"]
        if pd.notna(pcol) and pcol in P.columns and pcol not in absent.get("pardot_prospects", ()):
            for o in ("Lead", "Contact"):
                frame = frames[o]
                scol = r["lead_column"] if o == "Lead" else r["contact_column"]
                sel, pp, ss = sels[o]
                if frame is None or pd.isna(scol) or scol not in frame.columns or not sel.any():
                    continue
                table = "sf_leads" if o == "Lead" else "sf_contacts"
                if o == "Contact" and fid == "company":
                    if company_unknown:
                        continue
                elif scol in absent.get(table, ()):
                    continue  # not exported: unknown, never "blank" (F-2 counts would be wrong)
                if o == "Contact" and fid == "company":
                    sf_vals = contact_account_names()
                else:
                    sf_vals = frame[scol]
                a = _pair_text(P[pcol], pp, settings, False)
                s = _pair_text(sf_vals, ss, settings, True)
                if isinstance(frame[scol].dtype, pd.BooleanDtype):
                    pol.add("checkbox_false_is_value")  # F-3/F-7
                a_b, s_b = a.isna().to_numpy(), s.isna().to_numpy()
                eq = (a == s).fillna(False).to_numpy(dtype=bool)
                numeric = _NUMBER_RE
                maybe = ~eq & ~a_b & ~s_b  # only unequal values need the (costly) number test
                if maybe.any():
                    idx = np.flatnonzero(maybe)
                    maybe[idx] = a.iloc[idx].str.fullmatch(numeric).fillna(False).to_numpy(
                        dtype=bool
                    ) & s.iloc[idx].str.fullmatch(numeric).fillna(False).to_numpy(dtype=bool)
                if maybe.any():  # "500000" vs "500000.00": the same number is not a difference
                    na = pd.to_numeric(a[maybe], errors="coerce").to_numpy(dtype=float)
                    ns = pd.to_numeric(s[maybe], errors="coerce").to_numpy(dtype=float)
                    eq[np.flatnonzero(maybe)[na == ns]] = True
                differ = ~eq & ~(a_b & s_b)
                both = differ & ~a_b & ~s_b
                counts["pairs"] += int(sel.sum())
                counts["differ"] += int(differ.sum())
                eff = behavior
                if fid == "company" and o == "Contact":
                    eff = "use_salesforce"  # Account.Name, read-only in AE for contacts (F-5, H10)
                if eff == "email_rules":
                    continue  # Email changes follow M-8, not the sync behaviour (F-5)
                writes = np.zeros(len(a), dtype=bool)
                if eff == "use_pardot":
                    counts["sf_overwritten"] += int(both.sum())
                    writes |= both
                elif eff == "use_salesforce":
                    counts["pardot_overwritten"] += int(both.sum())
                # F-2: a value beats a blank, both ways (unless Support's blank-overwrite switch).
                fill_sf = ~a_b & s_b
                fill_pd = a_b & ~s_b
                if fid == "company" and o == "Contact":
                    fill_sf &= False  # AE never writes Account.Name (F-5, H10)
                if eff == "use_salesforce" and settings.sf_blanks_overwrite:
                    counts["blank_overwrites"] += int(fill_sf.sum())
                else:
                    counts["blank_fills_sf"] += int(fill_sf.sum())
                    writes |= fill_sf
                counts["blank_fills_pardot"] += int(fill_pd.sum())
                if fid in _NOT_WRITTEN or (fid == "company" and o == "Contact"):
                    continue  # package fields / owner are not value writes (F-5)
                sf_name = r["sf_field"] if o == "Lead" else r["contact_sf_field"]
                meta = metas[o].get(header_key(sf_name)) if pd.notna(sf_name) else None
                at = np.flatnonzero(writes)
                for bad, code, policy in _write_errors_at(a.iloc[at], pp[at], n, meta, settings):
                    # ``bad``: over all prospects, set only at written pairs.
                    if policy and bad.any():
                        pol.add(policy)
                        notes.policy(policy, bad)
                    if code and bad.any():
                        counts["write_errors"] += int(bad.sum())
                        codes.add(code)
                        write_fail[code] = write_fail.get(code, np.zeros(n, dtype=bool)) | bad
                        notes.add_reason(
                            bad, f"{sf_name}: AE→Salesforce write fails, {code} (F-2, §3.7)"
                        )
        winner = {
            "use_pardot": "pardot",
            "use_salesforce": "salesforce",
            "most_recent": "most_recent",
            "email_rules": "none (M-8)",
        }.get(behavior, behavior)
        rows.append(
            {
                "pardot_field_id": fid,
                "pardot_field_name": r["pardot_field_name"],
                "sf_field": r["sf_field"],
                "sync_behavior": behavior,
                **counts,
                "winner": winner,
                "error_codes": ";".join(sorted(codes)),
                "policies": ";".join(sorted(pol)),
                "source": r["source"],
                "confidence": r["confidence"],
                "sync_behavior_source": r["sync_behavior_source"],
            }
        )
    for code in _ERROR_ORDER:
        mask = write_fail.get(code)
        if mask is None:
            continue
        outcome[mask] = "will_error"
        error_code[mask] = np.where(pd.isna(error_code[mask]), code, error_code[mask])
    frame = pd.DataFrame(rows, columns=FIELD_COLUMNS)
    for col in _COUNT_COLUMNS:
        frame[col] = frame[col].astype("int64")
    return frame


# ----------------------------------------------------------------------------- Salesforce records
def _salesforce_outcomes(sf, prospects, target, how, key_codes, settings) -> pd.DataFrame:
    """One row per lead, contact and person account (§10, contract §5).

    ``key_codes`` are the shared integer codes of ``sf["match_key"]`` and the prospects'
    match keys (``_codes``). Outcomes and reasons are kept as codes into small label lists.
    """
    m = len(sf)
    sf_codes, p_codes = key_codes
    notes = _Notes(0)  # policies only; reasons are codes below
    notes.n = m
    outcome = np.full(m, -1, dtype=np.int64)  # index into SALESFORCE_OUTCOMES
    reason = np.zeros(m, dtype=np.int64)  # index into labels
    labels: dict[str, int] = {"": 0}

    def label(text: str) -> int:
        return labels.setdefault(text, len(labels))

    def decide(mask, name, text):
        """``text``: one reason, or (codes, label list) giving each record's reason."""
        mask = mask & (outcome < 0)
        outcome[mask] = SALESFORCE_OUTCOMES.index(name)
        if isinstance(text, str):
            reason[mask] = label(text)
        else:
            codes, names = text
            remap = np.array([label(str(t)) for t in names] or [0], dtype=np.int64)
            reason[mask] = remap[codes[mask]]
        return mask

    deleted = sf["is_deleted"].to_numpy()
    decide(deleted, "no_prospect", "deleted in Salesforce (IsDeleted, recycle bin) (M-20)")
    scope = sf["scope_reason"].array
    decide(
        ~sf["in_scope"].to_numpy(),
        "out_of_scope",
        (np.asarray(scope.codes, dtype=np.int64), list(scope.categories)),
    )
    tgt = target >= 0
    first = np.full(m, -1)  # the first prospect (in prospect order) linked to each record
    if tgt.any():
        p_idx = np.flatnonzero(tgt)
        c_pos = target[tgt]
        lowest = np.full(m, len(tgt))
        np.minimum.at(lowest, c_pos, p_idx)  # prospects in order: the first one wins
        linked_c = np.flatnonzero(lowest < len(tgt))
        first[linked_c] = lowest[linked_c]
        mask = np.zeros(m, dtype=bool)
        mask[linked_c] = True
        by_email = np.zeros(m, dtype=np.int64)
        by_email[linked_c] = how[first[linked_c]] == "email"
        decide(
            mask,
            "linked",
            (
                by_email,
                ["a prospect is linked by CRM id (M-2)", "a prospect will link by email (M-5)"],
            ),
        )
    prospect_id = _take_str(prospects["prospect_id"], first)
    if tgt.any():
        multi = np.bincount(c_pos, minlength=m)[c_pos] > 1
        if multi.any():  # several prospects on one record (M-1 says one): list them all
            joined = _join_groups(
                c_pos[multi], _take_str(prospects["prospect_id"], p_idx[multi])
            ).sort_index()
            put = np.zeros(m, dtype=bool)
            put[joined.index.to_numpy()] = True
            prospect_id = _str_series(
                pc.replace_with_mask(_arrow(prospect_id), pa.array(put), _arrow(joined))
            )
    decide(sf_codes < 0, "no_prospect", "blank email: does not sync (M-16)")
    decide(
        sf["is_converted"].to_numpy(),
        "no_prospect",
        "converted lead: the prospect follows the contact (M-17)",
    )
    linked = SALESFORCE_OUTCOMES.index("linked")
    decide(
        _member(sf_codes, sf_codes[outcome == linked]),
        "no_prospect",
        "shadowed: another record with the same email holds the link (M-1, M-7)",
    )
    if not settings.ampsea:
        decide(
            _member(sf_codes, p_codes),
            "no_prospect",
            "the email is on a prospect that links elsewhere or does not sync: no second prospect (CR-9, M-1)",
        )
    rest = outcome < 0
    auto = settings.auto_create_prospects_from_salesforce or settings.ampsea  # CR-9, CR-10
    if not auto:
        decide(
            rest,
            "no_prospect",
            "auto-create is off: import it by CRM id to bring it over (CR-9, CR-11)",
        )
    else:
        notes.policy("auto_create_enabled_since", rest)
        since = settings.auto_create_enabled_since
        if since is None:
            decide(
                rest,
                "no_prospect",
                "existing record: auto-create is not retroactive; import by CRM id (CR-11)",
            )
        else:
            ts = pd.Timestamp(since)
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            newer = (sf["created_date"] > ts).fillna(False).to_numpy(dtype=bool)
            decide(
                rest & newer,
                "creates_prospect",
                f"created after auto-create was switched on ({since}) (CR-9, CR-10)",
            )
            decide(
                rest,
                "no_prospect",
                f"created before {since} (or date unknown): not back-filled; import by CRM id (CR-11)",
            )
    out = pd.DataFrame(
        {
            "sf_object": sf["sf_object"],
            "sf_id": sf["sf_id"],
            "email": sf["email"],
            "outcome": _from_codes(outcome, list(SALESFORCE_OUTCOMES)),
            "prospect_id": prospect_id,
            "reason": _from_codes(reason, list(labels)),
            "policies": notes.policy_column(),
            "email_key": sf["email_key"],
            "owner_id": sf["owner_id"],
            "row": sf["row"].to_numpy(),
        }
    )
    return out


# ----------------------------------------------------------------------------- initial sync
def _initial_sync(result: SimulationResult, settings: ConnectorSettings) -> dict:
    """Records queued, cycles, hours and API calls at unpause (SY-1..SY-4, all estimates)."""
    pc, sc = result.prospect_counts(), result.salesforce_counts()
    updates = pc["linked"] + pc["match_email"] + pc["match_email_tie"]
    creates = pc["create_lead"]
    from_sf = sc["creates_prospect"]
    queued = updates + creates + from_sf
    per_call = settings.batch_size

    def calls(k: int) -> int:
        return math.ceil(k / per_call) if k else 0

    api = {"query": calls(queued), "update": calls(updates), "create": calls(creates)}
    return {
        "records_queued": queued,
        "queued_by_outcome": {
            "linked": pc["linked"],
            "match_email": pc["match_email"],
            "match_email_tie": pc["match_email_tie"],
            "create_lead": creates,
            "creates_prospect": from_sf,
        },
        "will_error_not_counted": pc["will_error"],
        "cycles": calls(queued),
        "hours_low": round(queued / settings.throughput_per_hour, 2),
        "hours_high": round(queued / settings.throughput_low_per_hour, 2),
        "api_calls": sum(api.values()),
        "api_calls_by_operation": api,
        "api_daily_limit": settings.api_daily_limit,
        "api_note": "probably not counted against the daily API limit (SY-4, UNCONFIRMED)",
        "assumptions": {
            "throughput_per_hour": settings.throughput_per_hour,  # SY-2
            "throughput_low_per_hour": settings.throughput_low_per_hour,  # SY-2
            "batch_size": settings.batch_size,  # SY-2, X7: 200 records per call
            "cycle_minutes": settings.cycle_minutes,  # SY-1
            "queued": "linked + match_email + match_email_tie + create_lead + creates_prospect (CR-20, UNCONFIRMED)",
        },
    }


# ----------------------------------------------------------------------------- what-if
@dataclass
class WhatIf:
    """Two simulations side by side: counts per outcome and the records whose outcome changed."""

    base: SimulationResult
    other: SimulationResult
    prospects: pd.DataFrame  # outcome, base, other, delta
    salesforce: pd.DataFrame
    changed_prospects: pd.DataFrame
    changed_salesforce: pd.DataFrame


def _count_table(base: dict, other: dict) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"outcome": list(base), "base": list(base.values()), "other": [other[k] for k in base]}
    )
    frame["delta"] = frame["other"] - frame["base"]
    return frame


def compare(base: SimulationResult, other: SimulationResult) -> WhatIf:
    """Side-by-side outcome counts of two simulations of the same snapshot, plus changed records."""
    keep_p = ["prospect_id", "email", "outcome", "sf_id", "reason"]
    bp, op = base.prospects[keep_p], other.prospects[keep_p]
    cp = bp.join(op[["outcome", "sf_id", "reason"]].add_suffix("_other"))
    changed_p = cp[
        (cp["outcome"] != cp["outcome_other"])
        | (cp["sf_id"].fillna("") != cp["sf_id_other"].fillna(""))
    ]
    keep_s = ["sf_object", "sf_id", "email", "outcome", "prospect_id", "reason"]
    bs, os_ = base.salesforce[keep_s], other.salesforce[keep_s]
    cs = bs.join(os_[["outcome", "prospect_id", "reason"]].add_suffix("_other"))
    changed_s = cs[cs["outcome"] != cs["outcome_other"]]
    return WhatIf(
        base,
        other,
        _count_table(base.prospect_counts(), other.prospect_counts()),
        _count_table(base.salesforce_counts(), other.salesforce_counts()),
        changed_p.reset_index(drop=True),
        changed_s.reset_index(drop=True),
    )


def what_if(snapshot, base_settings: ConnectorSettings | None = None, **changes) -> WhatIf:
    """Simulate under changed settings (e.g. ``allow_multiple_prospects_same_email=True``) and compare."""
    base_settings = base_settings or snapshot.settings
    if "marketing_data_sharing" in changes:
        mds = changes["marketing_data_sharing"] or {}
        if any(not isinstance(v, MdsRule) for v in mds.values()):
            changes["marketing_data_sharing"] = settings_from_mapping(
                {"marketing_data_sharing": mds}
            ).marketing_data_sharing
    other_settings = base_settings.replace(**changes)
    return compare(simulate(snapshot, base_settings), simulate(snapshot, other_settings))


# ----------------------------------------------------------------------------- outputs
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralise spreadsheet formulas in text cells (PITFALLS: CSV injection)."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col].dtype) and not pd.api.types.is_numeric_dtype(
            out[col].dtype
        ):
            text = out[col].astype("str")
            risky = text.str.startswith(_FORMULA_START).fillna(False)
            if risky.any():
                out[col] = text.mask(risky, "'" + text)
    return out


def write_outcomes(result: SimulationResult, out_dir) -> dict[str, Path]:
    """Write outcomes/prospects.csv, salesforce.csv and fields.csv (contract §3–5 columns first)."""
    folder = Path(out_dir) / "outcomes"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame, cols in (
        ("prospects", result.prospects, PROSPECT_COLUMNS),
        ("salesforce", result.salesforce, SALESFORCE_COLUMNS),
        ("fields", result.fields, FIELD_COLUMNS),
    ):
        ordered = frame[cols + [c for c in frame.columns if c not in cols]]
        path = folder / f"{name}.csv"
        _safe(ordered).to_csv(path, index=False, encoding="utf-8")
        paths[name] = path
    return paths
