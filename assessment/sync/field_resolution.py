"""§10 field outcome: F-2 over every linked / matched pair, per mapped field, and the
AE→Salesforce writes that fail against the describe (§3.7) → ``will_error``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..fields import sf_column
from ..normalize import plain_text
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
    opt_outs: list = field(default_factory=list)  # per-pair Opted Out states (F-7)
    by_object: list = field(default_factory=list)  # per (field, object) counts

    def contact_account_names(self) -> pd.Series:
        """Each contact's Account Name, else its account's Name (built when first needed)."""
        if self.account_names is None:
            contacts, accounts = self.frames["Contact"], self.s.tables.get("sf_accounts")
            names = plain_text(col(contacts, "account_name"))
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


# Field-resolution objects: a person account's contact-level fields map to prospect fields
# (help "Person Account Syncing with Salesforce": "Contact-level fields map to prospect fields").
PAIR_OBJECTS = ("Lead", "Contact", "PersonAccount")
TABLES = {"Lead": "sf_leads", "Contact": "sf_contacts", "PersonAccount": "sf_accounts"}
PAIR_COLUMNS = {
    "Lead": "pairs_lead",
    "Contact": "pairs_contact",
    "PersonAccount": "pairs_person_account",
}
# Contact fields a person account shows on Account under their own name (PLATFORM).
_PERSON_SAME_NAME = {"firstname", "lastname", "salutation", "middlename", "suffix", "ownerid"}


def person_field(contact_field) -> str | None:
    """The Account field holding a contact field on a person account: ``X__c`` → ``X__pc``,
    names as-is, other standard fields ``Person<X>`` (PLATFORM; Account.Name is account-level)."""
    if contact_field is None or pd.isna(contact_field) or "." in str(contact_field):
        return None
    name = str(contact_field).strip()
    if name.lower().endswith("__c"):
        return name[:-3] + "__pc"
    if name.lower() in _PERSON_SAME_NAME:
        return name
    return "Person" + name


def _start(s: Decisions) -> _FieldRun:
    t = s.tables
    pair_mask = np.logical_or.reduce([s.outcome == o for o in MATCHED]) & (s.target >= 0)
    p_pos = np.flatnonzero(pair_mask)
    c_pos = s.target[p_pos]
    src = s.sf["src_pos"].to_numpy()[c_pos]
    sels = {}
    for o in PAIR_OBJECTS:  # pairs per object, once (not per mapping)
        sel = s.sf["obj_code"].to_numpy()[c_pos] == SF_OBJECTS.index(o)
        sels[o] = sel, p_pos[sel], src[sel]
    absent = absent_columns(s.snapshot)
    c_absent = absent.get("sf_contacts", set())
    return _FieldRun(
        s=s,
        frames={o: t.get(TABLES[o]) for o in PAIR_OBJECTS},
        metas={o: describe_lookup(s.snapshot, o) for o in ("Lead", "Contact", "Account")},
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


def sf_field_on(run: _FieldRun, r: dict, o: str) -> str | None:
    """The Salesforce API name a mapping writes on object ``o``."""
    if o == "Lead":
        return r["sf_field"]
    if o == "Contact":
        return r["contact_sf_field"]
    if r["pardot_field_id"] == "company":
        return None  # Account.Name is account-level: prospect account, not prospect (H10)
    return person_field(r["contact_sf_field"])


def _sf_column(run: _FieldRun, r: dict, o: str) -> str | None:
    if o == "Lead":
        return r["lead_column"]
    if o == "Contact":
        return r["contact_column"]
    name = sf_field_on(run, r, o)
    return sf_column(run.frames[o], "sf_accounts", name) if name else None


def _sf_values(run: _FieldRun, r: dict, o: str) -> pd.Series | None:
    """The Salesforce column a mapping reads on object ``o`` (None: not exported / no pairs)."""
    frame = run.frames[o]
    if frame is None or not run.sels[o][0].any():
        return None
    scol = _sf_column(run, r, o)
    if scol is None or pd.isna(scol) or scol not in frame.columns:
        return None
    table = TABLES[o]
    if o == "Contact" and r["pardot_field_id"] == "company":
        return None if run.company_unknown else run.contact_account_names()
    if scol in run.absent.get(table, ()):
        return None  # not exported: unknown, never "blank" (F-2 counts would be wrong)
    return frame[scol]


def _checkbox(values: pd.Series) -> pd.Series:
    """A checkbox column as true / false / NA (text "true"/"false" read as such)."""
    if isinstance(values.dtype, pd.BooleanDtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean").reset_index(drop=True)
    text = values.astype("str").str.strip().str.lower().reset_index(drop=True)
    return text.map({"true": True, "false": False, "1": True, "0": False}).astype("boolean")


OPT_OUT_CODES = {
    "salesforce": "F-7.opt_out_only_in_salesforce",
    "pardot": "F-7.opt_out_only_in_pardot",
}


def opt_out_pairs(s: Decisions, r: dict, o: str, pp, sf_vals, ss) -> pd.DataFrame:
    """Opted Out on each pair (AE ``opted_out`` ↔ ``HasOptedOutOfEmail``, person accounts
    ``PersonHasOptedOutOfEmail``, F-7); a pair whose two sides disagree gets the code of the
    side that holds the opt-out (FLD009 reads them). NA: not exported, unknown."""
    ae = _checkbox(s.P[r["prospect_column"]].iloc[pp])
    if sf_vals is None:
        sf = pd.Series(pd.NA, index=ae.index, dtype="boolean")
    else:
        sf = _checkbox(sf_vals.iloc[ss])
    for side, mask in (("salesforce", sf & ~ae), ("pardot", ae & ~sf)):
        hit = np.zeros(s.n, dtype=bool)
        hit[pp[mask.fillna(False).to_numpy(dtype=bool)]] = True
        text = f"Opted Out differs: only {'Salesforce' if side == 'salesforce' else 'AE'} opted out (F-7)"
        s.notes.add(hit, OPT_OUT_CODES[side], text)
        if r["sync_behavior_source"] == "policy":
            s.notes.policy("opted_out_default_sync", hit)
    return pd.DataFrame({"p_pos": pp, "sf_object": o, "pardot": ae, "salesforce": sf})


def _resolve(run: _FieldRun, r: dict, o: str, counts: dict, codes: set, pol: set) -> None:
    """F-2 on one mapping's pairs with object ``o``: counts, and failing AE→SF writes."""
    sf_vals = _sf_values(run, r, o)
    s, fid = run.s, r["pardot_field_id"]
    if sf_vals is None:
        if fid == "opted_out" and run.sels[o][0].any():
            run.opt_outs.append(opt_out_pairs(s, r, o, run.sels[o][1], None, run.sels[o][2]))
        return
    sel, pp, ss = run.sels[o]
    a = pair_text(s.P[r["prospect_column"]], pp, s.settings, False)
    b = pair_text(sf_vals, ss, s.settings, True)
    if isinstance(sf_vals.dtype, pd.BooleanDtype):
        pol.add("checkbox_false_is_value")  # F-3/F-7
    if fid == "opted_out":
        run.opt_outs.append(opt_out_pairs(s, r, o, pp, sf_vals, ss))
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


def _describe_of(run: _FieldRun, r: dict, o: str) -> tuple[str | None, dict | None]:
    """(field name, describe entry) a write on object ``o`` is checked against; a person field
    from the Account describe when given, else the Contact field it stands for."""
    name = sf_field_on(run, r, o)
    if name is None or pd.isna(name):
        return name, None
    if o != "PersonAccount":
        return name, run.metas[o].get(header_key(name))
    meta = run.metas["Account"].get(header_key(name))
    if meta is None and pd.notna(r["contact_sf_field"]):
        meta = run.metas["Contact"].get(header_key(r["contact_sf_field"]))
    return name, meta


def _failing_writes(run, r, o, a, pp, writes, counts, codes, pol) -> None:  # noqa: PLR0913
    """AE→Salesforce writes refused by the describe (write_errors, §3.7)."""
    s = run.s
    sf_name, meta = _describe_of(run, r, o)
    at = np.flatnonzero(writes)
    s.facts.setdefault("writes", []).append((r["pardot_field_id"], o, pp[at]))  # FLD003/FLD004
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
    """One fields.csv row: the mapping's counts over Lead, Contact and person-account pairs."""
    pol = (
        set(filter(None, str(r["policies"] or "").split(";"))) if pd.notna(r["policies"]) else set()
    )
    pol.add("whitespace_is_blank")  # the comparison rests on F-3
    counts = dict.fromkeys(COUNT_COLUMNS, 0)
    split = dict.fromkeys(PAIR_COLUMNS.values(), 0)
    codes: set[str] = set()
    pcol = r["prospect_column"]
    P = run.s.P
    if pd.notna(pcol) and pcol in P.columns and pcol not in run.absent.get("pardot_prospects", ()):
        for o in PAIR_OBJECTS:  # counts per object, summed into the field's one row
            part = dict.fromkeys(COUNT_COLUMNS, 0)
            _resolve(run, r, o, part, codes, pol)
            run.by_object.append({"pardot_field_id": r["pardot_field_id"], "sf_object": o, **part})
            for c in COUNT_COLUMNS:
                counts[c] += part[c]
            split[PAIR_COLUMNS[o]] = part["pairs"]
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
        **split,
    }


def field_resolution(s: Decisions) -> Decisions:
    """fields.csv rows over linked + match_email (+ tie pick) pairs; failing writes → will_error."""
    run = _start(s)
    rows = [_field_row(run, r) for r in s.mappings.to_dict("records")]
    for code in ERROR_ORDER:
        if code in run.write_fail:
            s.fail(run.write_fail[code], code)
    # The pairs of each field by object: extra fields.csv columns after the contract's.
    frame = pd.DataFrame(rows, columns=FIELD_COLUMNS + list(PAIR_COLUMNS.values()))
    for c in COUNT_COLUMNS + list(PAIR_COLUMNS.values()):
        frame[c] = frame[c].astype("int64")
    s.facts["fields"] = frame
    by_object = pd.DataFrame(
        run.by_object, columns=["pardot_field_id", "sf_object", *COUNT_COLUMNS]
    )
    s.facts["fields_by_object"] = by_object
    empty = pd.DataFrame({"p_pos": [], "sf_object": [], "pardot": [], "salesforce": []})
    s.facts["opt_out_pairs"] = pd.concat(run.opt_outs or [empty], ignore_index=True)
    return s
