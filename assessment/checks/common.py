"""Small shared helpers for the checks: live-record masks, user mapping, column lookup."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import header_key
from ..sync.users import map_users
from .registry import CheckContext

# Outcomes under which a prospect is (or will be) paired with a Salesforce record (contract §4).
PAIRED_OUTCOMES = ("linked", "match_email", "match_email_tie")


def is_true(values: pd.Series) -> pd.Series:
    """Nullable boolean → plain bool, NA counted as False."""
    return values.astype("boolean").fillna(False).astype(bool)


def live_leads_mask(leads: pd.DataFrame) -> pd.Series:
    """True for leads the connector can match: not converted, not deleted (M-17, §10 step 3)."""
    return ~is_true(leads["is_converted"]) & ~is_true(leads["is_deleted"])


def live_contacts_mask(contacts: pd.DataFrame) -> pd.Series:
    """True for contacts that are not deleted."""
    return ~is_true(contacts["is_deleted"])


def live_prospects_mask(prospects: pd.DataFrame) -> pd.Series:
    """True for prospects not in the Pardot recycle bin (§10: skip archived prospects)."""
    return ~is_true(prospects["is_deleted"])


def person_accounts_mask(accounts: pd.DataFrame) -> pd.Series:
    """True for account rows that are person accounts."""
    return is_true(accounts["is_person_account"])


def live_leads(leads: pd.DataFrame) -> pd.DataFrame:
    """Leads the connector can match: not converted, not deleted (M-17, §10 step 3)."""
    return leads[live_leads_mask(leads)]


def live_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    """Contacts that are not deleted."""
    return contacts[live_contacts_mask(contacts)]


def live_prospects(prospects: pd.DataFrame) -> pd.DataFrame:
    """Prospects that are not in the Pardot recycle bin (§10: skip archived prospects)."""
    return prospects[live_prospects_mask(prospects)]


def person_accounts(accounts: pd.DataFrame) -> pd.DataFrame:
    """Account rows that are person accounts."""
    return accounts[person_accounts_mask(accounts)]


# The live rows of each record table: the same selection as live_leads, live_contacts, …
LIVE_MASKS = {
    "sf_leads": live_leads_mask,
    "sf_contacts": live_contacts_mask,
    "pardot_prospects": live_prospects_mask,
    "sf_accounts": person_accounts_mask,
}


def live_positions(ctx: CheckContext, table: str) -> np.ndarray:
    """Positions of a table's live rows (``LIVE_MASKS``), computed once per run."""
    return ctx.shared(
        f"live_positions:{table}",
        lambda: np.flatnonzero(LIVE_MASKS[table](ctx.table(table)).to_numpy(dtype=bool)),
    )


def first_match_values(keys: pd.Series, ids: pd.Series, values: pd.Series) -> pd.Series:
    """Per key, ``values`` at the first row whose id equals it, as nullable booleans.

    The same as ``keys.map(values.set_axis(ids)[~ids.duplicated()]).astype("boolean")`` (a blank
    key finds the first blank id; no match gives NA), but hashed once in pyarrow instead of
    through an index of Python strings.
    """
    found = pc.index_in(
        pa.array(keys, type=pa.large_string()), value_set=pa.array(ids, type=pa.large_string())
    )
    pos = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.intp)
    return pd.Series(
        values.astype("boolean").array.take(pos, allow_fill=True), index=keys.index, dtype="boolean"
    )


def by_value(values: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``func(values)`` for an element-wise ``func``, computed once per distinct value.

    Outcome, reason and policy columns repeat a handful of texts over millions of rows: the
    values are factorized and ``func`` runs on the distinct ones (and NA) only.
    """
    codes, uniques = pd.factorize(values)  # NA -> -1
    distinct = pd.concat(
        [pd.Series([None], dtype=values.dtype), pd.Series(uniques.array)], ignore_index=True
    )
    result = func(distinct)
    return pd.Series(result.array.take(codes + 1), index=values.index, name=values.name)


def has_policy(policies: pd.Series, name: str) -> pd.Series:
    """True where a ``;``-joined policies column names this policy."""

    def named(values: pd.Series) -> pd.Series:
        text = ";" + values.astype("str").fillna("") + ";"
        return text.str.contains(f";{name};", regex=False).fillna(False).astype(bool)

    return by_value(policies, named)


_HEADER_MAP: list = [None, frozenset(), {}]  # the last header asked for: Index, names, by key


def _columns_by_key(columns: pd.Index) -> tuple[frozenset, dict[str, str]]:
    """The names of a header and header_key → column (the last column wins a shared key), built
    once per header: a wide export (1,400 columns) asked once per field took 39 s when this was
    rebuilt per call."""
    if _HEADER_MAP[0] is not columns:
        names = list(columns)
        _HEADER_MAP[:] = [columns, frozenset(names), {header_key(c): c for c in names}]
    return _HEADER_MAP[1], _HEADER_MAP[2]


def prospect_column(prospects: pd.DataFrame, pardot_field_id: str, pardot_field_name) -> str | None:
    """The prospect column that holds a Pardot field: canonical id, label, or header key."""
    names, by_key = _columns_by_key(prospects.columns)
    for candidate in (pardot_field_id, pardot_field_name):
        if candidate is None or pd.isna(candidate):
            continue
        if candidate in names:
            return candidate
        key = header_key(candidate)
        if key in by_key:
            return by_key[key]
    return None


def describe_fields(ctx: CheckContext, obj: str) -> pd.DataFrame | None:
    """Describe rows of an object indexed by lower-cased API name (F-9: names ignore case)."""
    frame = ctx.snapshot.describe.get(obj)
    if frame is None:
        return None
    out = frame.copy()
    out.index = out["name"].astype("str").str.lower()
    return out[~out.index.duplicated()]


def user_mapping(ctx: CheckContext) -> pd.DataFrame:
    """Pardot users with the Salesforce user each maps to (U-1, U-2).

    The simulator's own user resolution (``simulation.users``, decided once in
    ``sync.users.map_users``): the v5 ``salesforce_user_id`` (User Sync), else the CRM Username
    equal to a Salesforce username, else (the "automatically match users" setting) the same
    email; without a simulation frame the same function runs on the users.
    Columns: ``user_id, email, email_key, sf_user_id, mapped_by, is_active``.
    """
    sim_users = getattr(ctx.simulation, "users", None)
    pusers = ctx.table("pardot_users")
    pusers = pusers[~is_true(pusers["is_deleted"])]
    sfu = ctx.table("sf_users")
    if isinstance(sim_users, pd.DataFrame) and {"user_id", "sf_user_id"} <= set(sim_users):
        # The simulator's own resolution (SimulationResult.users), keyed by Pardot user id.
        by_id = sim_users.drop_duplicates("user_id").set_index("user_id")
        how = by_id["mapped_by"] if "mapped_by" in by_id else pd.Series(dtype="str")
        out = pd.DataFrame(
            {
                "user_id": pusers["user_id"],
                "email": pusers["email"],
                "email_key": pusers["email_key"],
                "sf_user_id": pusers["user_id"].map(by_id["sf_user_id"]).astype("str"),
                "mapped_by": pusers["user_id"].map(how).astype("str"),
            },
            index=pusers.index,
        )
    else:
        # No simulation frame: the simulator's own resolution, run on these users (U-1, U-2).
        sf_user, mapped_by, _ = map_users(pusers, sfu, ctx.settings)
        out = pd.DataFrame(
            {
                "user_id": pusers["user_id"],
                "email": pusers["email"],
                "email_key": pusers["email_key"],
                "sf_user_id": sf_user.set_axis(pusers.index),
                "mapped_by": mapped_by.set_axis(pusers.index),
            },
            index=pusers.index,
        )
    active = sfu.drop_duplicates("id").set_index("id")["is_active"]
    out["is_active"] = out["sf_user_id"].map(active).astype("boolean")
    return out
