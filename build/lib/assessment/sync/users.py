"""Users: which Pardot user a prospect is assigned to, and the Salesforce user it maps to.

Decided once here (U-1, U-2) and exposed as ``SimulationResult.users``; the USR checks read
that frame instead of mapping users again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..settings import ConnectorSettings
from .kernels import col, positions, take_str

USER_COLUMNS = ("user_id", "sf_user_id", "mapped_by")


def _casefold(values: pd.Series) -> pd.Series:
    """Usernames and names compare trimmed and case-folded (U-1)."""
    return values.str.strip().str.casefold()


def _assigned_positions(pu: pd.DataFrame, prospects: pd.DataFrame) -> np.ndarray:
    """Per prospect, the position of its assigned Pardot user (-1: none or not found).

    By user id, else by the UI export's "User" column: email, username, name or id
    (export-formats.md §1.1).
    """
    n = len(prospects)
    pu_pos = positions(col(pu, "user_id"), col(prospects, "assigned_user_id"))
    names = col(pu, "first_name").fillna("") + " " + col(pu, "last_name").fillna("")
    names = _casefold(names)
    keys = pd.concat(
        [
            col(pu, "email_key"),
            _casefold(col(pu, "username")),
            names.mask(names == ""),
            col(pu, "user_id").astype("str"),  # a UI "User" column holding the id
        ],
        ignore_index=True,
    )
    # Few distinct names over many prospects: normalise and look up each name once.
    name_codes, distinct = pd.factorize(col(prospects, "assigned_user"))
    distinct = pd.Series(distinct, dtype=col(prospects, "assigned_user").dtype)
    by_name = positions(keys, _casefold(distinct))
    if len(distinct):
        by_name = np.where(name_codes >= 0, by_name[np.maximum(name_codes, 0)], -1)
    else:
        by_name = np.full(n, -1)
    by_name = np.where(by_name >= 0, by_name % len(pu), -1)
    return np.where(pu_pos >= 0, pu_pos, by_name)


def _fill(mapped: pd.Series, mapped_by: pd.Series, found: pd.Series, how: str) -> tuple:
    """Fill still-unmapped users from ``found``, noting ``how``."""
    mapped_by = mapped_by.fillna(
        found.where(mapped.isna()).notna().map({True: how, False: None}).astype("str")
    )
    return mapped.fillna(found), mapped_by


def _unique_lookup(keys: pd.Series, ids: pd.Series, queries: pd.Series) -> pd.Series:
    """The id of the one record whose key equals each query; ambiguous keys map to nothing."""
    keys = keys.mask(keys.duplicated(keep=False))
    hit = positions(keys, queries)
    return pd.Series(np.where(hit >= 0, ids.to_numpy(dtype=object)[hit], None), dtype="str")


def map_users(pu: pd.DataFrame, su: pd.DataFrame | None, settings: ConnectorSettings):
    """Pardot user → Salesforce user: salesforceId (U-2), else the CRM Username (U-1), else the
    same email when "automatically match users" is on (U-1). Returns (sf_user_id, mapped_by)."""
    mapped = col(pu, "salesforce_user_id").astype("str").reset_index(drop=True)
    mapped_by = pd.Series(np.where(mapped.notna(), "salesforce_user_id", None), dtype="str")
    if su is None or not len(su):
        return mapped, mapped_by
    su_ids = col(su, "id").astype("str").reset_index(drop=True)
    queries = _casefold(col(pu, "salesforce_username"))
    by_uname = _unique_lookup(_casefold(col(su, "username")), su_ids, queries)
    mapped, mapped_by = _fill(mapped, mapped_by, by_uname, "crm_username")
    if settings.auto_match_users:
        emails = col(su, "email_key").astype("str")  # ambiguous emails: USR005
        by_email = _unique_lookup(emails, su_ids, col(pu, "email_key"))
        mapped, mapped_by = _fill(mapped, mapped_by, by_email, "email")
    return mapped, mapped_by


def prospect_users(snapshot, settings: ConnectorSettings, prospects: pd.DataFrame):
    """Per prospect: Pardot user id, mapped Salesforce user id, resolved flag; and the users."""
    t = snapshot.tables
    pu, su = t.get("pardot_users"), t.get("sf_users")
    n = len(prospects)
    index = pd.RangeIndex(n)
    pardot_user_id = pd.Series(pd.NA, index=index, dtype="str")
    sf_user = pd.Series(pd.NA, index=index, dtype="str")
    has_pu = np.zeros(n, dtype=bool)
    users = pd.DataFrame({c: pd.Series(dtype="str") for c in USER_COLUMNS})
    if pu is not None and len(pu):
        pu_pos = _assigned_positions(pu, prospects)
        has_pu = pu_pos >= 0
        pardot_user_id = take_str(col(pu, "user_id").astype("str").reset_index(drop=True), pu_pos)
        mapped, mapped_by = map_users(pu, su, settings)
        sf_user = take_str(mapped, np.where(has_pu, pu_pos, -1))
        user_ids = col(pu, "user_id").astype("str").reset_index(drop=True)
        users = pd.DataFrame({"user_id": user_ids, "sf_user_id": mapped, "mapped_by": mapped_by})
    users["is_active"] = user_active(snapshot, users["sf_user_id"])
    return pardot_user_id, sf_user, has_pu, users


def user_active(snapshot, user_ids: pd.Series) -> pd.Series:
    """IsActive of each Salesforce user id (NA when unknown: no users export, or not in it)."""
    su = snapshot.tables.get("sf_users")
    active = pd.Series(pd.NA, index=user_ids.index, dtype="boolean")
    if su is not None and len(su):
        hit = positions(col(su, "id"), user_ids)
        act = col(su, "is_active", "boolean").reset_index(drop=True)
        active[hit >= 0] = act.to_numpy()[hit[hit >= 0]]
    return active


def connector_user_id(snapshot, settings: ConnectorSettings) -> str | None:
    """The Salesforce id of a custom connector user (None for the integration user)."""
    su = snapshot.tables.get("sf_users")
    if settings.uses_integration_user or su is None:
        return None
    hit = su[_casefold(col(su, "username")) == settings.connector_user.casefold()]
    return None if hit.empty else str(hit["id"].iloc[0])
