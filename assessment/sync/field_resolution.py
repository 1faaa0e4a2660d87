"""§10 field outcome: F-2 over every linked / matched pair, per mapped field, and the
AE→Salesforce writes that fail against the describe (§3.7) → ``will_error``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..schema import header_key
from .create_leads import NOT_WRITTEN, absent_columns, describe_lookup
from .kernels import col, positions, take_str
from .reasons import WRITE_ERROR_CODES
from .records import SF_OBJECTS
from .result import COUNT_COLUMNS, FIELD_COLUMNS
from .state import Decisions
from .values import pair_text
from .write_errors import ERROR_ORDER, write_errors_at

MATCHED = ("linked", "match_email", "match_email_tie")
_NUMBER_RE = r"-?\d+(?:\.\d+)?"
_WINNER = {
    "use_pardot": "pardot",
    "use_salesforce": "salesforce",
    "most_recent": "most_recent",
    "email_rules": "none (M-8)",
}


@dataclass
class _FieldRun:
    """What every mapped field's comparison reads, computed once."""

    s: Decisions
    frames: dict
    metas: dict
    sels: dict
    absent: dict
    company_unknown: bool
    account_names: pd.Series | None = None
    write_fail: dict = field(default_factory=dict)

    def contact_account_names(self) -> pd.Series:
        """Each contact's Account Name, else its account's Name (built when first needed)."""
        if self.account_names is None:
            contacts, accounts = self.frames["Contact"], self.s.tables.get("sf_accounts")
            names = col(contacts, "account_name").astype("str")
            if accounts is not None:
                # Account.Name by AccountId: first account of each id (a hash join, not a map).
                acc_ids, c_acc = col(accounts, "id"), col(contacts, "account_id")
                hit = positions(acc_ids, c_acc)
                na_ids = np.flatnonzero(acc_ids.isna().to_numpy())
                if len(na_ids):  # a blank AccountId meets a blank account id, as a map would
                    hit[c_acc.isna().to_numpy()] = na_ids[0]
                by_id = take_str(col(accounts, "name").reset_index(drop=True), hit)
                names = names.fillna(by_id.set_axis(contacts.index))
            self.account_names = names
        return self.account_names


def _start(s: Decisions) -> _FieldRun:
    t = s.tables
    pair_mask = np.logical_or.reduce([s.outcome == o for o in MATCHED]) & (s.target >= 0)
    p_pos = np.flatnonzero(pair_mask)
    c_pos = s.target[p_pos]
    src = s.sf["src_pos"].to_numpy()[c_pos]
    sels = {}
    for o in ("Lead", "Contact"):  # pairs per object, once (not per mapping)
        sel = s.sf["obj_code"].to_numpy()[c_pos] == SF_OBJECTS.index(o)
        sels[o] = sel, p_pos[sel], src[sel]
    absent = absent_columns(s.snapshot)
    c_absent = absent.get("sf_contacts", set())
    return _FieldRun(
        s=s,
        frames={"Lead": t.get("sf_leads"), "Contact": t.get("sf_contacts")},
        metas={o: describe_lookup(s.snapshot, o) for o in ("Lead", "Contact")},
        sels=sels,
        absent=absent,
        company_unknown="account_name" in c_absent
        and (t.get("sf_accounts") is None or "account_id" in c_absent),
    )


def same_values(a: pd.Series, s: pd.Series) -> np.ndarray:
    """Equal comparison texts, or the same number written differently ("500000" vs
    "500000.00" is not a difference)."""
    a_b, s_b = a.isna().to_numpy(), s.isna().to_numpy()
    eq = (a == s).fillna(False).to_numpy(dtype=bool)
    maybe = ~eq & ~a_b & ~s_b  # only unequal values need the (costly) number test
    if maybe.any():
        idx = np.flatnonzero(maybe)
        maybe[idx] = a.iloc[idx].str.fullmatch(_NUMBER_RE).fillna(False).to_numpy(
            dtype=bool
        ) & s.iloc[idx].str.fullmatch(_NUMBER_RE).fillna(False).to_numpy(dtype=bool)
    if maybe.any():
        na = pd.to_numeric(a[maybe], errors="coerce").to_numpy(dtype=float)
        ns = pd.to_numeric(s[maybe], errors="coerce").to_numpy(dtype=float)
        eq[np.flatnonzero(maybe)[na == ns]] = True
    return eq


def _sf_values(run: _FieldRun, r: dict, o: str) -> pd.Series | None:
    """The Salesforce column a mapping reads on object ``o`` (None: not exported / no pairs)."""
    frame = run.frames[o]
    scol = r["lead_column"] if o == "Lead" else r["contact_column"]
    if frame is None or pd.isna(scol) or scol not in frame.columns or not run.sels[o][0].any():
        return None
    table = "sf_leads" if o == "Lead" else "sf_contacts"
    if o == "Contact" and r["pardot_field_id"] == "company":
        return None if run.company_unknown else run.contact_account_names()
    if scol in run.absent.get(table, ()):
        return None  # not exported: unknown, never "blank" (F-2 counts would be wrong)
    return frame[scol]


def _resolve(run: _FieldRun, r: dict, o: str, counts: dict, codes: set, pol: set) -> None:
    """F-2 on one mapping's pairs with object ``o``: counts, and failing AE→SF writes."""
    sf_vals = _sf_values(run, r, o)
    if sf_vals is None:
        return
    s, fid = run.s, r["pardot_field_id"]
    sel, pp, ss = run.sels[o]
    scol = r["lead_column"] if o == "Lead" else r["contact_column"]
    a = pair_text(s.P[r["prospect_column"]], pp, s.settings, False)
    b = pair_text(sf_vals, ss, s.settings, True)
    if isinstance(run.frames[o][scol].dtype, pd.BooleanDtype):
        pol.add("checkbox_false_is_value")  # F-3/F-7
    a_b, s_b = a.isna().to_numpy(), b.isna().to_numpy()
    differ = ~same_values(a, b) & ~(a_b & s_b)
    both = differ & ~a_b & ~s_b
    counts["pairs"] += int(sel.sum())
    if s.facts["unassigned_link"][pp].any():
        pol.add("unassigned_email_match")  # these pairs rest on M-6's policy
    counts["differ"] += int(differ.sum())
    account_name = fid == "company" and o == "Contact"
    # Account.Name is read-only in AE for contacts (F-5, H10).
    eff = "use_salesforce" if account_name else r["sync_behavior"]
    if eff == "email_rules":
        return  # Email changes follow M-8, not the sync behaviour (F-5)
    writes = np.zeros(len(a), dtype=bool)
    if eff == "use_pardot":
        counts["sf_overwritten"] += int(both.sum())
        writes |= both
    elif eff == "use_salesforce":
        counts["pardot_overwritten"] += int(both.sum())
    # F-2: a value beats a blank, both ways (unless Support's blank-overwrite switch).
    fill_sf = ~a_b & s_b & (not account_name)  # AE never writes Account.Name (F-5, H10)
    if eff == "use_salesforce" and s.settings.sf_blanks_overwrite:
        counts["blank_overwrites"] += int(fill_sf.sum())
    else:
        counts["blank_fills_sf"] += int(fill_sf.sum())
        writes |= fill_sf
    counts["blank_fills_pardot"] += int((a_b & ~s_b).sum())
    if fid in NOT_WRITTEN or account_name:
        return  # package fields / owner are not value writes (F-5)
    _failing_writes(run, r, o, a, pp, writes, counts, codes, pol)


def _failing_writes(run, r, o, a, pp, writes, counts, codes, pol) -> None:  # noqa: PLR0913
    """AE→Salesforce writes refused by the describe (write_errors, §3.7)."""
    s = run.s
    sf_name = r["sf_field"] if o == "Lead" else r["contact_sf_field"]
    meta = run.metas[o].get(header_key(sf_name)) if pd.notna(sf_name) else None
    at = np.flatnonzero(writes)
    for bad, code, policy in write_errors_at(a.iloc[at], pp[at], s.n, meta, s.settings):
        # ``bad``: over all prospects, set only at written pairs.
        if policy and bad.any():
            pol.add(policy)
            s.notes.policy(policy, bad)
        if code and bad.any():
            counts["write_errors"] += int(bad.sum())
            codes.add(code)
            run.write_fail[code] = run.write_fail.get(code, np.zeros(s.n, dtype=bool)) | bad
            text = f"{sf_name}: AE→Salesforce write fails, {code} (F-2, §3.7)"
            s.notes.add(bad, WRITE_ERROR_CODES[code], text)


def _field_row(run: _FieldRun, r: dict) -> dict:
    """One fields.csv row: the mapping's counts over Lead then Contact pairs."""
    pol = (
        set(filter(None, str(r["policies"] or "").split(";"))) if pd.notna(r["policies"]) else set()
    )
    pol.add("whitespace_is_blank")  # the comparison rests on F-3
    counts = dict.fromkeys(COUNT_COLUMNS, 0)
    codes: set[str] = set()
    pcol = r["prospect_column"]
    P = run.s.P
    if pd.notna(pcol) and pcol in P.columns and pcol not in run.absent.get("pardot_prospects", ()):
        for o in ("Lead", "Contact"):
            _resolve(run, r, o, counts, codes, pol)
    behavior = r["sync_behavior"]
    return {
        "pardot_field_id": r["pardot_field_id"],
        "pardot_field_name": r["pardot_field_name"],
        "sf_field": r["sf_field"],
        "sync_behavior": behavior,
        **counts,
        "winner": _WINNER.get(behavior, behavior),
        "error_codes": ";".join(sorted(codes)),
        "policies": ";".join(sorted(pol)),
        "source": r["source"],
        "confidence": r["confidence"],
        "sync_behavior_source": r["sync_behavior_source"],
    }


def field_resolution(s: Decisions) -> Decisions:
    """fields.csv rows over linked + match_email (+ tie pick) pairs; failing writes → will_error."""
    run = _start(s)
    rows = [_field_row(run, r) for r in s.mappings.to_dict("records")]
    for code in ERROR_ORDER:
        if code in run.write_fail:
            s.fail(run.write_fail[code], code)
    frame = pd.DataFrame(rows, columns=FIELD_COLUMNS)
    for c in COUNT_COLUMNS:
        frame[c] = frame[c].astype("int64")
    s.facts["fields"] = frame
    return s
