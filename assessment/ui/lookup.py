"""One prospect explained end to end: its outcome, the Salesforce candidates, the rule, the fields.

The outcome, reason and reason code come from the run's simulation. The field-by-field detail
comes from the simulator too: it re-simulates the prospect with the records sharing its email
(and its CRM target), so the winners shown are the simulator's, not a second copy of its rules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..sync.result import SALESFORCE_COLUMNS

# A candidate shows the Salesforce outcome columns up to its reason code (sync/result.py's order).
CANDIDATE_COLUMNS = SALESFORCE_COLUMNS[: SALESFORCE_COLUMNS.index("reason_code") + 1]
PROSPECT_FIELDS = [
    *("prospect_id", "email", "outcome", "sf_object", "sf_id", "owner_sf_user_id"),
    *("reason", "reason_code", "policies", "caution", "candidates"),
]


@dataclass
class Explanation:
    """What the lookup found for one query."""

    query: str
    matches: pd.DataFrame  # every prospect the query names (email key, prospect id or sf id)
    prospect: pd.Series | None = None  # the one explained (the first match)
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)  # Salesforce side
    fields: pd.DataFrame = field(default_factory=pd.DataFrame)  # field-by-field winners
    notes: list[str] = field(default_factory=list)


def _key(text: str) -> str | None:
    from ..normalize import email_key

    value = email_key(pd.Series([text], dtype="str")).iloc[0]
    return None if pd.isna(value) else str(value)


def _keys(values: pd.Series) -> pd.Series:
    from ..normalize import email_key

    return email_key(values.astype("str"))


def find_prospects(run, query: str) -> pd.DataFrame:
    """Prospects whose email matches QUERY (trim + casefold), or whose prospect or Salesforce id is it."""
    prospects = run.prospects
    text = str(query or "").strip()
    if not text or prospects.empty:
        return prospects.iloc[0:0]
    if "@" in text:
        keys = prospects["email_key"] if "email_key" in prospects else _keys(prospects["email"])
        hit = (keys == _key(text)).fillna(False)
    else:
        hit = (prospects["prospect_id"].astype("str") == text).fillna(False)
        hit |= (prospects["sf_id"].astype("str") == text).fillna(False)
        if not hit.any() and not run.salesforce.empty:  # a Salesforce id with no prospect yet
            linked = run.salesforce.loc[
                run.salesforce["sf_id"].astype("str") == text, "prospect_id"
            ]
            hit = prospects["prospect_id"].astype("str").isin(linked.dropna().astype("str"))
    return prospects.loc[hit.to_numpy()]


def candidates_of(run, prospect: pd.Series) -> pd.DataFrame:
    """Salesforce records sharing the prospect's email, and the record it links to, picked first."""
    sf = run.salesforce
    if sf.empty:
        return sf
    key = _key(str(prospect.get("email", "")))
    keys = sf["email_key"] if "email_key" in sf else _keys(sf["email"])
    target = prospect.get("sf_id")
    hit = (keys == key).fillna(False) if key else pd.Series(False, index=sf.index)
    if pd.notna(target):
        hit |= (sf["sf_id"] == target).fillna(False)
    out = sf.loc[hit.to_numpy(), [c for c in CANDIDATE_COLUMNS if c in sf]]
    picked = (
        (out["sf_id"] == target).fillna(False).to_numpy()
        if pd.notna(target)
        else np.zeros(len(out), bool)
    )
    out = out.assign(picked=np.where(picked, "linked to this prospect", ""))
    return out.iloc[np.argsort(~picked, kind="stable")]


def _subset(snapshot, prospect: pd.Series, candidates: pd.DataFrame):
    """The snapshot cut down to this prospect's email group and its Salesforce candidates."""
    tables = dict(snapshot.tables)
    key = _key(str(prospect.get("email", "")))
    ids = set(candidates["sf_id"].dropna().astype("str"))
    pp = tables["pardot_prospects"]
    keep = (pp["prospect_id"].astype("str") == str(prospect["prospect_id"])).fillna(False)
    if key:
        keep |= (pp["email_key"] == key).fillna(False)
    tables["pardot_prospects"] = pp.loc[keep.to_numpy()]
    for name, key_col in (
        ("sf_leads", "email_key"),
        ("sf_contacts", "email_key"),
        ("sf_accounts", "person_email_key"),
    ):
        frame = tables.get(name)
        if frame is None:
            continue
        hit = frame["id"].astype("str").isin(ids).fillna(False)
        if key and key_col in frame:
            hit |= (frame[key_col] == key).fillna(False)
        tables[name] = frame.loc[hit.to_numpy()]
    return dataclasses.replace(snapshot, tables=tables)


def field_winners(
    run, prospect: pd.Series, candidates: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Per mapped field of this prospect's pair: both values and what the first sync does."""
    from ..sync import simulate

    notes = []
    sub = simulate(_subset(run.snapshot, prospect, candidates), run.settings)
    again = sub.prospects.loc[sub.prospects["prospect_id"] == prospect["prospect_id"]]
    if again.empty or again["outcome"].iloc[0] != prospect["outcome"]:
        notes.append("the field detail could not be reproduced for this record alone")
        return pd.DataFrame(), notes
    fields = sub.fields.loc[sub.fields["pairs"] > 0]
    if fields.empty:
        notes.append("no linked Salesforce record: no field is compared on the first sync")
        return fields, notes
    return _with_values(run, prospect, fields, sub.mappings), notes


RESULTS = [  # fields.csv count column → what it means for one pair
    ("write_errors", "the write fails"),
    ("sf_overwritten", "the Pardot value overwrites Salesforce"),
    ("pardot_overwritten", "the Salesforce value overwrites Pardot"),
    ("blank_overwrites", "a blank overwrites a value"),
    ("blank_fills_sf", "the Pardot value fills the blank in Salesforce"),
    ("blank_fills_pardot", "the Salesforce value fills the blank in Pardot"),
]


def _with_values(run, prospect, fields, mappings) -> pd.DataFrame:
    t = run.snapshot.tables
    pp = t["pardot_prospects"]
    p_row = pp.loc[pp["prospect_id"].astype("str") == str(prospect["prospect_id"])].iloc[0]
    obj = str(prospect.get("sf_object"))
    sf_table = t.get("sf_contacts" if obj == "Contact" else "sf_leads")
    s_rows = (
        sf_table.loc[sf_table["id"] == prospect["sf_id"]]
        if sf_table is not None
        else pd.DataFrame()
    )
    s_row = s_rows.iloc[0] if len(s_rows) else pd.Series(dtype="object")
    by_id = mappings.set_index("pardot_field_id")
    col = "contact_column" if obj == "Contact" else "lead_column"
    same = np.where(fields["differ"] > 0, "the values differ", "same value (nothing changes)")
    result = pd.Series(same, index=fields.index, dtype="str")
    for count, text in reversed(RESULTS):
        result = result.mask(fields[count].fillna(0) > 0, text)
    return (
        pd.DataFrame(
            {
                "pardot_field_name": fields["pardot_field_name"],
                "sf_field": fields["sf_field"],
                "sync_behavior": fields["sync_behavior"],
                "pardot_value": [
                    p_row.get(by_id.at[f, "prospect_column"]) if f in by_id.index else pd.NA
                    for f in fields["pardot_field_id"]
                ],
                "sf_value": [
                    s_row.get(by_id.at[f, col]) if f in by_id.index else pd.NA
                    for f in fields["pardot_field_id"]
                ],
                "winner": fields["winner"],
                "result": result,
            }
        )
        .astype("str")
        .replace({"<NA>": "", "nan": "", "None": ""})
    )


def explain(run, query: str) -> Explanation:
    """Look up QUERY (an email, prospect id or Salesforce id) and explain the first prospect found."""
    from .workbench import analysed

    matches = find_prospects(run, query)
    found = Explanation(str(query), matches)
    if matches.empty:
        found.notes.append("no prospect has this email or id")
        return found
    found.prospect = matches.iloc[0]
    found.candidates = candidates_of(run, found.prospect)
    try:
        full = analysed(run, progress=False)
    except InputError as exc:  # a finished run without its export folder: outcomes only
        found.notes.append(f"field detail needs the exports ({exc})")
        return found
    found.fields, notes = field_winners(full, found.prospect, found.candidates)
    found.notes += notes
    return found
