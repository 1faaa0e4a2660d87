"""The Salesforce side as one frame: leads, contacts and person accounts with their scope.

Scope rules (§10 Salesforce record step 1): person accounts need person-account sync (M-18,
M-19); a custom connector user sees only what it may see (M-3, V-2); Marketing Data Sharing
keeps records whose rule field equals the value exactly (D-3, D-8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..fields import sf_column
from ..normalize import plain_text, sf_id18
from ..settings import ConnectorSettings, MdsRule
from .kernels import DT, col, const_str, flag, isin

SF_OBJECTS = ("Lead", "PersonAccount", "Contact", "")  # sf["obj_code"] → sf["sf_object"]


def _part(frame, obj, sf_id, link_id, email, key, is_person) -> pd.DataFrame:
    """One object's records in the common shape (sf_object tells the table: SF_OBJECTS)."""
    n = len(frame)

    def r(series: pd.Series, dtype: str = "str") -> pd.Series:
        return (plain_text(series) if dtype == "str" else series.astype(dtype)).reset_index(
            drop=True
        )

    return pd.DataFrame(
        {
            "sf_object": const_str(n, obj),
            "sf_id": r(sf_id),
            "link_id": r(link_id),
            "email": r(email),
            "email_key": r(key),
            "owner_id": r(col(frame, "owner_id")),
            "is_converted": flag(frame, "is_converted"),
            "converted_contact_id": r(col(frame, "converted_contact_id")),
            "is_deleted": flag(frame, "is_deleted"),
            "master_record_id": r(col(frame, "master_record_id")),
            "account_id": r(col(frame, "account_id")),
            "created_date": r(col(frame, "created_date", DT), DT),
            "last_modified_date": r(col(frame, "last_modified_date", DT), DT),
            "is_person": is_person,
            "obj_code": np.full(n, SF_OBJECTS.index(obj), dtype=np.int64),
            "src_pos": np.arange(n),
            "row": frame.index.to_numpy(),
        }
    )


# The export columns a record frame reads (select columns before rows: a row filter of the
# whole table would copy every column).
_READ = (
    "id", "email", "email_key", "owner_id", "is_converted", "converted_contact_id", "is_deleted",
    "master_record_id", "account_id", "created_date", "last_modified_date", "is_person_account",
    "person_contact_id", "person_email", "person_email_key",
)  # fmt: skip


def _rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows of ``keep`` of the columns a record frame reads."""
    frame = frame[[c for c in _READ if c in frame.columns]]
    return frame if keep.all() else frame[keep]


def _parts(snapshot) -> list[pd.DataFrame]:
    """Leads, person accounts, then contacts (a person account's contact is one record)."""
    t = snapshot.tables
    leads, contacts, accounts = t.get("sf_leads"), t.get("sf_contacts"), t.get("sf_accounts")
    parts = []
    if leads is not None:
        ids = col(leads, "id")
        no = np.zeros(len(leads), dtype=bool)
        parts.append(
            _part(
                leads,
                "Lead",
                ids,
                ids,
                col(leads, "email"),
                col(leads, "email_key"),
                no,
            )
        )
    pa_contact_ids = pd.Series([], dtype="str")
    if accounts is not None:
        is_pa = flag(accounts, "is_person_account")
        pa = _rows(accounts, is_pa)
        pa_contact_ids = col(pa, "person_contact_id").dropna()
        link = col(pa, "person_contact_id").fillna(col(pa, "id"))
        email, key = col(pa, "person_email"), col(pa, "person_email_key")
        frame = _part(pa, "PersonAccount", col(pa, "id"), link, email, key,
                      np.ones(len(pa), dtype=bool))  # fmt: skip
        frame["src_pos"] = np.flatnonzero(is_pa)
        parts.append(frame)
    if contacts is not None:
        # The contact side of a person account already exported as an account is one record.
        keep = ~isin(col(contacts, "id"), pa_contact_ids)
        c = _rows(contacts, keep)
        ids = col(c, "id")
        frame = _part(c, "Contact", ids, ids, col(c, "email"), col(c, "email_key"),
                      flag(c, "is_person_account"))  # fmt: skip
        frame["src_pos"] = np.flatnonzero(keep)
        parts.append(frame)
    return parts


def match_keys(email: pd.Series, email_key: pd.Series, settings: ConnectorSettings) -> pd.Series:
    """The email text matching compares (M-13): the normalised key (``normalize.email_key``:
    trim + casefold), or with policy ``email_case_insensitive`` off the raw value as given."""
    if settings.email_case_insensitive:
        return email_key
    return email.mask(email_key.isna())


class _Scope:
    """In-scope flags with the reason (text and code) of each out-of-scope record."""

    def __init__(self, n: int) -> None:
        self.in_scope = np.ones(n, dtype=bool)
        self.reason = np.zeros(n, dtype=np.int64)  # codes into texts / codes
        self.texts: list[str] = [""]
        self.codes: list[str] = [""]
        self.mds_unknown = np.zeros(n, dtype=bool)

    def out(self, mask: np.ndarray, code: str, text: str) -> None:
        """Records of ``mask`` still in scope go out of scope for this reason."""
        mask = mask & self.in_scope
        if text not in self.texts:
            self.texts.append(text)
            self.codes.append(code)
        self.reason[mask] = self.texts.index(text)
        self.in_scope &= ~mask


def _mds_column(frame: pd.DataFrame | None, table: str, rule: MdsRule) -> str | None:
    if frame is None:
        return None
    c = sf_column(frame, table, rule.field)
    if c is None and table == "sf_accounts" and rule.field.lower().endswith("__c"):
        c = sf_column(frame, table, rule.field[:-3] + "__pc")  # person-account field
    return c


def _visible(sf: pd.DataFrame, settings: ConnectorSettings) -> np.ndarray | None:
    """Records the custom connector user sees (M-3, V-2); None: it sees everything."""
    if settings.uses_integration_user or not settings.connector_user_visible_owner_ids:
        return None
    ids, _, _ = sf_id18(pd.Series(settings.connector_user_visible_owner_ids, dtype="str"))
    return isin(sf["owner_id"], ids)


def _mds(sf: pd.DataFrame, snapshot, settings: ConnectorSettings, scope: _Scope) -> None:
    """Marketing Data Sharing: one field, equals, case-sensitive exact value (D-3, D-8)."""
    t = snapshot.tables
    for obj, table, rule_obj in (
        ("Lead", "sf_leads", "Lead"),
        ("Contact", "sf_contacts", "Contact"),
        ("PersonAccount", "sf_accounts", "Contact"),
    ):
        rule, frame = settings.marketing_data_sharing.get(rule_obj), t.get(table)
        if rule is None or frame is None:
            continue
        rows = (sf["sf_object"] == obj).to_numpy()
        c = _mds_column(frame, table, rule)
        if c is None:
            scope.mds_unknown |= rows  # rule field not exported: scope cannot be told
            continue
        values = frame[c].astype("str").iloc[sf.loc[rows, "src_pos"].to_numpy()]
        ok = values.eq(rule.value).fillna(False).to_numpy(dtype=bool)
        out = rows.copy()
        out[rows] = ~ok
        text = f"outside Marketing Data Sharing rule {rule.field} = {rule.value!r} (case-sensitive, D-3, D-8)"
        scope.out(out, "D-3.outside_mds", text)


def _scope(sf: pd.DataFrame, snapshot, settings: ConnectorSettings) -> _Scope:
    """Which records the connector sees (M-18, M-19, M-3, V-2, D-3, D-8), each with its reason."""
    scope = _Scope(len(sf))
    if not settings.person_accounts_enabled:
        text = "person account and person-account sync is off (M-18, M-19)"
        scope.out(sf["is_person"].to_numpy(), "M-18.person_account_off", text)
    visible = _visible(sf, settings)
    if visible is not None:
        text = (
            f"not visible to connector user {settings.connector_user!r} "
            "(owner not in connector_user_visible_owner_ids) (M-3)"
        )
        scope.out(~visible, "M-3.not_visible", text)
    _mds(sf, snapshot, settings, scope)
    return scope


def sf_records(snapshot, settings: ConnectorSettings) -> pd.DataFrame:
    """Leads, contacts and person accounts as one frame with match keys and scope."""
    parts = _parts(snapshot)
    if not parts:
        empty = pd.Series([], dtype="str")
        sf = _part(pd.DataFrame(), "", empty, empty, empty, empty, np.zeros(0, bool))
    else:
        sf = pd.concat(parts, ignore_index=True)
    for c in ("sf_object", "sf_id", "link_id", "email", "email_key", "owner_id"):
        sf[c] = sf[c].astype("str")
    for c in ("converted_contact_id", "master_record_id", "account_id"):
        sf[c] = sf[c].astype("str")
    sf["match_key"] = match_keys(sf["email"], sf["email_key"], settings)
    scope = _scope(sf, snapshot, settings)
    sf["in_scope"] = scope.in_scope
    # Few distinct texts: kept as categoricals (sf is internal) so outputs build from codes.
    sf["scope_reason"] = pd.Categorical.from_codes(scope.reason, categories=scope.texts)
    sf.attrs["scope_codes"] = scope.codes  # the code of each scope_reason category
    sf["mds_unknown"] = scope.mds_unknown
    return sf


def scope_texts(sf: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    """The scope reasons of the records at ``pos`` as an object array (from the category codes)."""
    scope = sf["scope_reason"].array
    return np.asarray(scope.categories, dtype=object)[np.asarray(scope.codes)[pos]]


def scope_codes(sf: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    """The scope reason codes of the records at ``pos`` ("" where in scope)."""
    codes = np.asarray(sf.attrs["scope_codes"], dtype=object)
    return codes[np.asarray(sf["scope_reason"].array.codes)[pos]]
