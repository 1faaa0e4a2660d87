"""§10 prospect step 3, no usable match: assigned → create a lead (CR-1), else nothing (CR-4);
then the create checks (owner mapped and active, email syntax, required fields, picklists,
lengths; U-4, U-5, M-14, F-15, CR-5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..normalize import email_is_valid, plain_text
from ..schema import header_key
from .kernels import arrow, col, str_series
from .link_by_crm_id import note_scope_codes
from .reasons import CREATE_ERROR_CODES
from .records import scope_texts
from .state import Decisions
from .users import (
    connector_user_id,
    is_portal_user,
    prospect_users,
    queue_owner,
    user_active,
)
from .values import compare_text
from .write_errors import ERROR_ORDER, write_errors_at

# Fields the connector does not write through the value-sync path (F-5, M-8, CR-6).
NOT_WRITTEN = {"score", "grade", "campaign_id", "assigned_user", "email"}


def only_out_of_scope(s: Decisions) -> Decisions:
    """The only same-email records are out of scope: unassigned → ``out_of_scope``; assigned →
    a duplicate lead is created (M-3, D-6)."""
    f, n = s.facts, s.n
    rest = s.undecided.copy()
    only_out = rest & (f["n_out"] > 0) & (f["n_in"] == 0)
    out_reason = np.full(n, "", dtype=object)
    out_pos = np.full(n, -1)
    if len(f["out"]):
        first_out = f["out"].drop_duplicates("p_pos")
        out_pos[first_out["p_pos"].to_numpy()] = first_out["c_pos"].to_numpy()
        out_reason[first_out["p_pos"].to_numpy()] = scope_texts(s.sf, first_out["c_pos"].to_numpy())

    def out_text(mask: np.ndarray, prefix: str) -> np.ndarray:
        text = np.full(n, None, dtype=object)  # built only where it is used
        text[mask] = prefix + out_reason[mask]
        return text

    m = s.decide(only_out & ~f["assigned"], "out_of_scope", "M-3.only_match_out_of_scope")
    s.notes.add_reason(m, out_text(m, "the only same-email record is out of scope: "))
    note_scope_codes(s, m, out_pos)
    creating = rest & f["assigned"] & s.undecided
    m = creating & only_out
    prefix = "creates a duplicate lead: the only same-email record is out of scope (M-3, D-6): "
    s.notes.add(m, "D-6.duplicate_lead", out_text(m, prefix))
    note_scope_codes(s, m, out_pos)
    f["creating"] = creating
    return s


def create_or_not(s: Decisions) -> Decisions:
    """Assigned → ``create_lead`` (CR-1); an invalid email under policy invalid_email=no_match
    stays in AE (M-14, M-15); unassigned → ``pardot_only`` (CR-4)."""
    f, settings, notes, n = s.facts, s.settings, s.notes, s.n
    creating = f["creating"]
    valid_email = np.ones(n, dtype=bool)  # only records that create a lead are tested
    at = np.flatnonzero(creating)
    valid_email[at] = email_is_valid(f["p_email"].iloc[at].fillna("")).to_numpy(dtype=bool)
    bad_email = creating & ~valid_email
    notes.policy("invalid_email", bad_email)
    if settings.invalid_email == "no_match":
        text = "invalid or over-80-character email: policy invalid_email=no_match (M-14, M-15)"
        s.decide(bad_email, "pardot_only", "M-14.invalid_email_no_match", text)
        creating &= s.undecided
    s.decide(creating, "create_lead")
    notes.add(
        creating, "CR-1.create_lead", "no match; assigned: the connector creates a lead (CR-1)"
    )
    if settings.record_type_created != "lead":
        # Support can switch creation to contacts / person accounts (M-6, V-4): checks use Lead.
        notes.caution |= creating
        text = (
            f"the connector creates a {settings.record_type_created} instead "
            "(record_type_created, V-4); create checks use the Lead describe"
        )
        notes.add(creating, "V-4.record_type_created", text)
    text = "no match; unassigned: nothing is created in Salesforce (CR-4)"
    s.decide(s.undecided.copy(), "pardot_only", "CR-4.unassigned_no_match", text)
    f["valid_email"] = valid_email
    return s


def unseen_exports(s: Decisions) -> Decisions:
    """Without a lead or contact export, same-email records of that object are unseen (§10)."""
    absent = [name for name in ("sf_leads", "sf_contacts") if name not in s.tables]
    if absent:
        outcomes = ("create_lead", "pardot_only", "match_email")
        unsure = s.facts["no_crm"] & np.isin(s.outcome.astype(str), outcomes)
        unsure &= ~s.facts["blank"]
        s.notes.caution |= unsure
        text = f"no {' / '.join(absent)} export: matches there are not seen"
        s.notes.add(unsure, "INP001.matches_unseen", text)
    return s


def set_where(values: pd.Series, mask: np.ndarray, value: str | None) -> pd.Series:
    """``values`` (a ``str`` Series on a RangeIndex) with ``value`` (None: NA) where ``mask``
    holds, in arrow (no per-row Python text)."""
    if not mask.any():
        return values
    scalar = pa.scalar(value, pa.large_string())
    return str_series(pc.if_else(pa.array(mask), scalar, arrow(values)))


def _unmapped_owner(s: Decisions, unmapped: np.ndarray, owner: pd.Series, conn_id) -> pd.Series:
    """The assigned Pardot user maps to no Salesforce user (U-4, U-6; policy unmapped_owner)."""
    s.notes.policy("unmapped_owner", unmapped)
    if s.settings.unmapped_owner == "error":
        m = s.force(unmapped, "will_error")
        text = "assigned Pardot user maps to no Salesforce user; policy unmapped_owner=error (U-4, U-6)"
        s.notes.add(m, "U-4.owner_unmapped", text)
        return owner
    text = "assigned Pardot user maps to no Salesforce user: the connector user owns the lead (U-4, U-6)"
    s.notes.add(unmapped, "U-4.owner_unmapped", text)
    return set_where(owner, unmapped, conn_id)


def _inactive_owner(s: Decisions, inactive: np.ndarray, owner: pd.Series, conn_id) -> pd.Series:
    """The mapped Salesforce owner is inactive (U-5; policy inactive_owner)."""
    s.notes.policy("inactive_owner", inactive)
    if s.settings.inactive_owner == "error":
        m = s.force(inactive, "will_error")
        s.error_code[m] = "INACTIVE_OWNER_OR_USER"
        s.notes.add(m, "U-5.owner_inactive", "mapped Salesforce owner is inactive (U-5)")
        return owner
    text = "mapped Salesforce owner is inactive: policy inactive_owner=connector_user (U-5)"
    s.notes.add(inactive, "U-5.owner_inactive", text)
    return set_where(owner, inactive, conn_id)


def _queue_owners(s: Decisions, create: np.ndarray, queue: pd.Series) -> np.ndarray:
    """Prospects assigned to a Salesforce lead queue: the queue owns the new lead (CR-2).

    "Assignment Actions": "Prospects assigned to a queue are considered assigned to an owner";
    "You can assign only leads to Salesforce lead queues" → a caution when the connector
    creates contacts or person accounts instead (V-4).
    """
    queued = create & queue.notna().to_numpy(dtype=bool)
    text = "assigned to a Salesforce queue: the queue owns the new lead (CR-2)"
    s.notes.add(queued, "CR-2.queue_owner", text)
    if s.settings.record_type_created != "lead":
        s.notes.caution |= queued
        text = "queues own leads only, but the connector creates contacts here (CR-2, V-4)"
        s.notes.add(queued, "CR-2.queue_needs_leads", text)
    return queued


def _portal_owners(s: Decisions, create: np.ndarray, owner: pd.Series) -> pd.Series:
    """A mapped owner who is a portal (community) user is not predicted as owner (U-7): the
    "Exclude Salesforce partner and customer portal users" setting, else policy portal_owner."""
    portal = create & owner.notna().to_numpy(dtype=bool)
    if portal.any():
        portal &= is_portal_user(s.snapshot, owner)
    if not s.settings.exclude_portal_users:
        s.notes.policy("portal_owner", portal)
        if s.settings.portal_owner == "owner":
            return owner
    text = "the mapped Salesforce user is a portal user: not predicted as owner (U-7)"
    s.notes.add(portal, "U-7.portal_owner", text)
    return set_where(owner, portal, None)


def _email_only_owners(s: Decisions, create: np.ndarray, email_only: pd.Series, owner) -> None:
    """Owners an email auto-match alone would find (U-1; policy owner_email_match)."""
    by_email = create & email_only.notna().to_numpy(dtype=bool)
    s.notes.policy("owner_email_match", by_email)
    if s.settings.owner_email_match:
        text = "owner mapped only by a shared email (policy owner_email_match=true, U-1)"
        s.notes.add(by_email, "U-1.owner_by_email", text)
    else:
        s.notes.caution |= by_email
        text = "a Salesforce user shares the assigned user's email but is not mapped (U-1)"
        s.notes.add(by_email & owner.isna().to_numpy(dtype=bool), "U-4.email_only_match", text)


def owners_of_created_leads(s: Decisions) -> Decisions:
    """Owner of created leads: a queue (CR-2), else the mapped Salesforce user (CR-6, U-1, U-2,
    U-7); unmapped (U-4) or inactive (U-5) owners per policy; an invalid email fails the create
    (M-14, M-15, X9)."""
    notes, create = s.notes, s.outcome == "create_lead"
    pardot_user_id, sf_user, email_only, users = prospect_users(s.snapshot, s.settings, s.P)
    crm_owner = col(s.P, "crm_owner_fid")
    queue = queue_owner(s.snapshot, s.P)
    queued = _queue_owners(s, create, queue)
    # The owner ids stay arrow text (one Python object per row would cost ~70 bytes each).
    owner = str_series(pc.coalesce(arrow(sf_user), arrow(queue), arrow(crm_owner)))  # one pass
    owner = _portal_owners(s, create & ~queued, owner)
    _email_only_owners(s, create & ~queued, email_only, owner)
    active = user_active(s.snapshot, owner)
    owner_known = owner.notna().to_numpy(dtype=bool)
    conn_id = connector_user_id(s.snapshot, s.settings)
    pu_missing = "pardot_users" not in s.tables
    m = create & ~owner_known & pu_missing
    notes.caution |= m
    text = "owner unknown: no pardot_users export to map the assigned user (CR-6)"
    notes.add(m, "CR-6.owner_unknown", text)
    owner = _unmapped_owner(s, create & ~owner_known & (not pu_missing), owner, conn_id)
    inactive = create & owner_known & active.eq(False).fillna(False).to_numpy(dtype=bool)
    owner = _inactive_owner(s, inactive, owner, conn_id)
    unknown_active = create & owner_known & active.isna().to_numpy() & ~inactive & ~queued
    notes.caution |= unknown_active
    text = "owner's active state unknown (not in the users export)"
    notes.add(unknown_active, "U-5.owner_active_unknown", text)
    _invalid_email_fails(s, create)
    s.facts.update(create=create, owner=owner, pardot_user_id=pardot_user_id, users=users)
    return s


def _invalid_email_fails(s: Decisions, create: np.ndarray) -> None:
    """An invalid email fails the create under policy invalid_email=error (M-14, M-15, X9)."""
    if s.settings.invalid_email == "error":
        m = s.force(create & ~s.facts["valid_email"], "will_error")
        s.error_code[m] = np.where(
            pd.isna(s.error_code[m]), "INVALID_EMAIL_ADDRESS", s.error_code[m]
        )
        text = (
            "email is invalid or longer than 80 characters: Salesforce rejects it (M-14, M-15, X9)"
        )
        s.notes.add(m, "M-14.invalid_email", text)


def describe_lookup(snapshot, obj: str) -> dict[str, dict]:
    """Describe rows of an object keyed by ``header_key`` of the field name."""
    frame = (snapshot.describe or {}).get(obj)
    if frame is None or len(frame) == 0:
        return {}
    return {r["key"]: r for r in frame.to_dict("records")}


def absent_columns(snapshot) -> dict[str, set[str]]:
    """Canonical columns each table's file did not have (all-NA: unknown, not blank)."""
    out: dict[str, set[str]] = {}
    for f in getattr(snapshot.load_report, "files", []) or []:
        out.setdefault(f.table, set()).update(f.absent)
    return out


class _CreateFailures:
    """Create failures by error code, applied in Salesforce's order at the end."""

    def __init__(self, s: Decisions, create: np.ndarray) -> None:
        self.s, self.create = s, create
        self.codes: dict[str, np.ndarray] = {}

    def fail(self, code: str, mask: np.ndarray, reason_code: str, text: str) -> None:
        mask = mask & self.create
        if mask.any():
            self.codes[code] = self.codes.get(code, np.zeros(self.s.n, dtype=bool)) | mask
            self.s.notes.add(mask, reason_code, text)

    def apply(self) -> None:
        for code in ERROR_ORDER:
            if code in self.codes:
                self.s.fail(self.codes[code], code)


def _blank_last_name(s: Decisions, fails: _CreateFailures, p_absent: set) -> None:
    """Blank Last Name: the [[Unknown]] fill is unconfirmed → policy blank_last_name (CR-5, F-15)."""
    create, notes = fails.create, s.notes
    last = plain_text(col(s.P, "last_name")).str.strip()
    blank_last = create & (last.isna() | (last == "")).to_numpy(dtype=bool)
    if "last_name" in p_absent:  # not exported: unknown, not blank (INP004)
        blank_last = np.zeros(s.n, dtype=bool)
        notes.caution |= create
        text = "Last Name not in the prospect export: not checked"
        notes.add(create, "CR-5.last_name_not_exported", text)
    notes.policy("blank_last_name", blank_last)
    if s.settings.blank_last_name == "error":
        text = "blank Last Name: REQUIRED_FIELD_MISSING (F-15, CR-5)"
        fails.fail("REQUIRED_FIELD_MISSING", blank_last, "F-15.last_name_blank", text)
    else:
        notes.caution |= blank_last
        text = "blank Last Name: may fail or be filled (CR-5, UNCONFIRMED)"
        notes.add(blank_last, "CR-5.last_name_blank", text)


def _required_fields(s: Decisions, fails: _CreateFailures, lead_meta: dict, p_absent: set) -> None:
    """Required Lead fields (describe ``required_on_create``) need a value (F-15); Company gets
    [[unknown]] (CR-5) and the owner is set by the connector."""
    create, P = fails.create, s.P
    by_sf = {
        header_key(r["sf_field"]): r
        for r in s.mappings.to_dict("records")
        if pd.notna(r["sf_field"])
    }
    for key, meta in lead_meta.items():
        if not meta.get("required_on_create") or key in {"lastname", "company", "ownerid", "email"}:
            continue
        mrow = by_sf.get(key)
        c = None if mrow is None else mrow.get("prospect_column")
        if c is not None and not pd.isna(c) and c in p_absent:
            s.notes.caution |= create
            text = f"required Lead field {meta['name']}: not exported, unchecked"
            s.notes.add(create, "F-15.required_not_exported", text)
        elif c is None or pd.isna(c) or c not in P.columns:
            text = f"required Lead field {meta['name']} has no mapped value (F-15)"
            fails.fail("REQUIRED_FIELD_MISSING", create, "F-15.required_blank", text)
        else:
            text = f"required Lead field {meta['name']} is blank (F-15)"
            blank = P[c].isna().to_numpy(dtype=bool)
            fails.fail("REQUIRED_FIELD_MISSING", blank, "F-15.required_blank", text)


def _created_values(s: Decisions, fails: _CreateFailures, lead_meta: dict) -> None:
    """The values a new lead gets, against the Lead describe (write_errors, §3.7)."""
    create, P, n = fails.create, s.P, s.n
    at_create = np.flatnonzero(create)
    for r in s.mappings.to_dict("records"):
        if r["pardot_field_id"] in NOT_WRITTEN or pd.isna(r["sf_field"]):
            continue
        c = r["prospect_column"]
        meta = lead_meta.get(header_key(r["sf_field"]))
        if meta is None or pd.isna(c) or c not in P.columns:
            continue
        s.facts.setdefault("writes", []).append((r["pardot_field_id"], "Lead", at_create))
        # Only the values of created leads are written: others must not decide the error kind.
        values = compare_text(P[c].iloc[at_create], s.settings, is_sf=False)
        for bad, code, policy in write_errors_at(values, at_create, n, meta, s.settings):
            if policy:
                s.notes.policy(policy, create & bad)
            if code:
                text = f"{r['sf_field']}: {code} on create (§3.7)"
                fails.fail(code, bad, CREATE_ERROR_CODES[code], text)


def create_checks(s: Decisions) -> Decisions:
    """Create checks on the values the new lead gets: Last Name, required fields, picklists,
    lengths (F-15, CR-5, §3.7); failures → ``will_error`` with the first error code."""
    create = s.facts["create"]
    if not create.any():
        return s
    lead_meta = describe_lookup(s.snapshot, "Lead")
    p_absent = absent_columns(s.snapshot).get("pardot_prospects", set())
    fails = _CreateFailures(s, create)
    _blank_last_name(s, fails, p_absent)
    _required_fields(s, fails, lead_meta, p_absent)
    _created_values(s, fails, lead_meta)
    fails.apply()
    return s
