"""Users: which Pardot user a prospect is assigned to, and the Salesforce user it maps to.

Decided once here (U-1, U-2) and exposed as ``SimulationResult.users``; the USR checks read
that frame instead of mapping users again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..settings import ConnectorSettings
from .kernels import col, positions, take_str

USER_COLUMNS = ("user_id", "sf_user_id", "mapped_by", "email_match_sf_user_id")


def _casefold(values: pd.Series) -> pd.Series:
    """Usernames and names compare trimmed and case-folded (U-1): each distinct text folded once
    (pandas folds case in Python, one call per row; names repeat a few hundred texts)."""
    codes, distinct = pd.factorize(values)
    folded = _casefold_plain(pd.Series(np.asarray(distinct, dtype=object), dtype="str"))
    return take_str(folded, codes).set_axis(values.index)


def _casefold_plain(values: pd.Series) -> pd.Series:
    """Reference for :func:`_casefold`."""
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
    same email under policy owner_email_match=true. Returns (sf_user_id, mapped_by, by_email).

    ``by_email`` is the unique same-email Salesforce user of each Pardot user still unmapped by
    id or username, whatever the policy: the users an email auto-match alone would map.
    """
    mapped = col(pu, "salesforce_user_id").astype("str").reset_index(drop=True)
    mapped_by = pd.Series(np.where(mapped.notna(), "salesforce_user_id", None), dtype="str")
    no_email = pd.Series(pd.NA, index=mapped.index, dtype="str")
    if su is None or not len(su):
        return mapped, mapped_by, no_email
    su_ids = col(su, "id").astype("str").reset_index(drop=True)
    queries = _casefold(col(pu, "salesforce_username"))
    by_uname = _unique_lookup(_casefold(col(su, "username")), su_ids, queries)
    mapped, mapped_by = _fill(mapped, mapped_by, by_uname, "crm_username")
    emails = col(su, "email_key").astype("str")  # ambiguous emails: USR005
    by_email = _unique_lookup(emails, su_ids, col(pu, "email_key")).where(mapped.isna())
    # "Automatically match Salesforce users to users" is documented for Send from CRM user only
    # ("Salesforce Connector Settings"); "Map Salesforce and Account Engagement Usernames": "If
    # users aren't mapped, the system ignores those users" → policy owner_email_match (U-1).
    if settings.owner_email_match:
        mapped, mapped_by = _fill(mapped, mapped_by, by_email, "email")
    return mapped, mapped_by, by_email.astype("str")


# Salesforce User.UserType values of partner / customer community users (Object Reference,
# User; compared case-insensitively: the doc spells CSPLitePortal, the API CspLitePortal) (U-7).
PORTAL_USER_TYPES = frozenset(
    {"powerpartner", "powercustomersuccess", "cspliteportal", "customersuccess"}
)


def is_portal_user(snapshot, user_ids: pd.Series) -> np.ndarray:
    """True where the Salesforce user is a portal (community) user (U-7)."""
    su = snapshot.tables.get("sf_users")
    out = np.zeros(len(user_ids), dtype=bool)
    if su is None or not len(su):
        return out
    portal = _casefold(col(su, "user_type")).isin(PORTAL_USER_TYPES).to_numpy(dtype=bool)
    hit = positions(col(su, "id"), user_ids)
    out[hit >= 0] = portal[hit[hit >= 0]]
    return out


def queue_owner(snapshot, prospects: pd.DataFrame) -> pd.Series:
    """Per prospect, the Salesforce queue it is assigned to (its Group id), else NA (CR-2).

    A queue is an owner id with the Group key prefix 00G, or an assigned-user name equal to a
    queue's Name or DeveloperName in the queues export ("Assignment Actions": "Prospects
    assigned to a queue are considered assigned to an owner").
    """
    n = len(prospects)
    out = pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="str")
    for name in ("assigned_user_id", "crm_owner_fid"):
        ids = col(prospects, name).astype("str").reset_index(drop=True)
        out = out.fillna(ids.where(ids.str.startswith("00G").fillna(False)))
    q = snapshot.tables.get("sf_queues")
    if q is not None and len(q):
        q_ids = col(q, "id").astype("str").reset_index(drop=True)
        names = pd.concat([_casefold(col(q, "name")), _casefold(col(q, "developer_name"))])
        hit = positions(names.reset_index(drop=True), _casefold(col(prospects, "assigned_user")))
        by_name = take_str(q_ids, np.where(hit >= 0, hit % max(len(q), 1), -1))
        out = out.fillna(by_name)
    return out


def prospect_users(snapshot, settings: ConnectorSettings, prospects: pd.DataFrame):
    """Per prospect: Pardot user id, mapped Salesforce user id, the Salesforce user an email
    match alone would give; and the users frame."""
    t = snapshot.tables
    pu, su = t.get("pardot_users"), t.get("sf_users")
    n = len(prospects)
    index = pd.RangeIndex(n)
    pardot_user_id = pd.Series(pd.NA, index=index, dtype="str")
    sf_user = pd.Series(pd.NA, index=index, dtype="str")
    has_pu = np.zeros(n, dtype=bool)
    users = pd.DataFrame({c: pd.Series(dtype="str") for c in USER_COLUMNS})
    email_only = pd.Series(pd.NA, index=index, dtype="str")
    if pu is not None and len(pu):
        pu_pos = _assigned_positions(pu, prospects)
        has_pu = pu_pos >= 0
        pardot_user_id = take_str(col(pu, "user_id").astype("str").reset_index(drop=True), pu_pos)
        mapped, mapped_by, by_email = map_users(pu, su, settings)
        sf_user = take_str(mapped, np.where(has_pu, pu_pos, -1))
        email_only = take_str(by_email, np.where(has_pu, pu_pos, -1))
        user_ids = col(pu, "user_id").astype("str").reset_index(drop=True)
        users = pd.DataFrame(
            {
                "user_id": user_ids,
                "sf_user_id": mapped,
                "mapped_by": mapped_by,
                "email_match_sf_user_id": by_email,
            }
        )
    users["is_active"] = user_active(snapshot, users["sf_user_id"])
    users["is_portal"] = is_portal_user(snapshot, users["sf_user_id"])
    return pardot_user_id, sf_user, email_only, users


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
