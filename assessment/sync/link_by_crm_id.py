"""§10 prospect steps 0–2: skip, CRM sync disabled, and the link by CRM id.

Every step takes the :class:`~.state.Decisions` and returns it, having decided some prospects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .kernels import (
    arrow,
    codes,
    codes_in_parts,
    col,
    first_position,
    flag,
    is_value,
    positions_in_parts,
)
from .records import match_keys, scope_codes, scope_texts
from .state import Decisions


def skip_recycle_bin(s: Decisions) -> Decisions:
    """Prospects in the AE recycle bin are skipped (§10)."""
    text = "archived in AE (recycle bin): not synced (§10)"
    s.decide(flag(s.P, "is_deleted"), "pardot_only", "S10.recycle_bin", text)
    return s


def do_not_sync(s: Decisions) -> Decisions:
    """ "Do not sync" or ``[[crm_ignore_prospect]]``: nothing syncs (M-22, M-6)."""
    lead_status, contact_status = col(s.P, "crm_lead_status"), col(s.P, "crm_contact_status")
    ignored = (
        flag(s.P, "do_not_sync")
        | is_value(lead_status, "ignored")
        | is_value(contact_status, "ignored")
    )
    text = "CRM sync disabled (do not sync / [[crm_ignore_prospect]]) (M-22, M-6)"
    s.decide(ignored, "pardot_only", "M-22.sync_disabled", text)
    return s


def crm_id_sentinels(s: Decisions) -> Decisions:
    """The CRM id (contact id preferred, M-17, ID-5); ``[[crm_deleted]]`` (M-21) and values that
    are no Salesforce id (M-22, ID-5) are stale."""
    P = s.P
    lead_status, contact_status = col(P, "crm_lead_status"), col(P, "crm_contact_status")
    crm = col(P, "crm_contact_fid").fillna(col(P, "salesforce_id")).fillna(col(P, "crm_lead_fid"))
    has_crm = crm.notna().to_numpy(dtype=bool)
    deleted = is_value(contact_status, "deleted") | (is_value(lead_status, "deleted") & ~has_crm)
    text = "[[crm_deleted]]: the record was deleted in Salesforce; the prospect will not be resynced (M-21)"
    s.decide(deleted, "stale_crm_id", "M-21.crm_deleted", text)
    garbage = (is_value(contact_status, "invalid") | is_value(lead_status, "invalid")) & ~has_crm
    text = "CRM id field holds a value that is not a Salesforce id (M-22, ID-5)"
    m = s.decide(garbage, "stale_crm_id", "ID-5.crm_id_invalid", text)
    s.notes.caution[m] = True
    s.facts.update(crm=crm, has_crm=has_crm)
    return s


def index_ids_and_keys(s: Decisions) -> Decisions:
    """Mechanics: the record each CRM id names and the record each converted lead's
    ConvertedContactId names (hash lookups into the records' ids, the first record wins), and
    integer codes of the email match keys (M-13). Both hash in parts, one after the other: a
    second thread saved wall time but added its hash tables to the peak (issue #19)."""
    sf, P, settings = s.sf, s.P, s.settings
    p_email, p_key = col(P, "email"), col(P, "email_key")
    p_match = match_keys(p_email, p_key, settings)
    key_codes = codes_in_parts([arrow(sf["match_key"]), arrow(p_match)])
    pos, ccid_pos = record_positions(sf, s.facts["crm"])
    s.facts.update(
        p_email=p_email, p_key=p_key, p_match=p_match, key_codes=key_codes,
        ccid_pos=ccid_pos, pos=pos,
    )  # fmt: skip
    return s


def record_positions(sf, crm: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``sf`` of each CRM id's record, position of each converted lead's
    ConvertedContactId record; -1: none or not converted), one lookup into ``link_id``."""
    conv = np.flatnonzero(sf["is_converted"].to_numpy(dtype=bool))
    ccid = sf["converted_contact_id"].iloc[conv].reset_index(drop=True)
    queries = pd.concat([crm.reset_index(drop=True), ccid], ignore_index=True)
    hit = positions_in_parts(sf["link_id"], queries)
    ccid_pos = np.full(len(sf), -1, dtype=np.int64)
    ccid_pos[conv] = hit[len(crm) :]
    return hit[: len(crm)], ccid_pos


def record_positions_plain(sf, crm: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Reference for :func:`record_positions`: shared codes of every id, first position per code."""
    link_codes, crm_codes, ccid_codes = codes(sf["link_id"], crm, sf["converted_contact_id"])
    n_ids = max(link_codes.max(initial=-1), crm_codes.max(initial=-1), ccid_codes.max(initial=-1))
    first_link = first_position(link_codes, int(n_ids) + 1)  # code -1 → the trailing -1 slot
    conv = sf["is_converted"].to_numpy(dtype=bool)
    return first_link[crm_codes], np.where(conv, first_link[ccid_codes], -1)


def crm_id_missing(s: Decisions) -> Decisions:
    """A CRM id absent from the export is stale (ID-5, M-20); when its object was not exported
    at all the link cannot be checked (INP001), never a sure stale."""
    f, t = s.facts, s.tables
    pos, crm = f["pos"], f["crm"]
    open_crm = f["has_crm"] & s.undecided
    has_export_all = bool(s.sf["is_deleted"].any() or s.sf["master_record_id"].notna().any())
    missing = "CRM id not in the Salesforce export: deleted, merged or invisible to the exporting user (ID-5, M-20)"
    if not has_export_all:
        missing += "; an Export All with IsDeleted/MasterRecordId would tell which"
    prefix = crm.astype("str").str.slice(0, 3)
    unexported = np.zeros(s.n, dtype=bool)
    if "sf_leads" not in t:
        unexported |= is_value(prefix, "00Q")
    if "sf_contacts" not in t and "sf_accounts" not in t:
        unexported |= is_value(prefix, "003")
    text = "the export of this id's object is missing: the link cannot be checked (INP001)"
    m = s.decide(
        open_crm & (pos < 0) & unexported, "stale_crm_id", "INP001.object_not_exported", text
    )
    s.notes.caution |= m
    s.decide(open_crm & (pos < 0), "stale_crm_id", "ID-5.crm_id_missing", missing)
    return s


def follow_converted_leads(s: Decisions) -> Decisions:
    """A CRM id of a converted lead follows ConvertedContactId (M-17); without one, updates fail
    (CANNOT_UPDATE_CONVERTED_LEAD, X9)."""
    f, sf, n = s.facts, s.sf, s.n
    pos = f["pos"]
    open_crm = f["has_crm"] & s.undecided
    conv = np.zeros(n, dtype=bool)
    conv[open_crm & (pos >= 0)] = sf["is_converted"].to_numpy()[pos[open_crm & (pos >= 0)]]
    conv &= s.undecided
    conv_contact = pd.Series(pd.NA, index=range(n), dtype="str")
    if conv.any():
        conv_contact[conv] = sf["converted_contact_id"].to_numpy(dtype=object)[pos[conv]]
    no_contact = conv & conv_contact.isna().to_numpy()
    text = "CRM id is a converted lead with no ConvertedContactId: updates fail (M-17, X9)"
    m = s.decide(no_contact, "will_error", "M-17.converted_no_contact", text)
    s.error_code[m] = "CANNOT_UPDATE_CONVERTED_LEAD"
    s.target[m] = pos[m]
    follow = conv & ~no_contact
    pos2 = np.full(n, -1)
    pos2[conv] = f["ccid_pos"][pos[conv]]
    text = "CRM id is a converted lead whose ConvertedContactId is not in the export (M-17, ID-5)"
    s.decide(follow & (pos2 < 0), "stale_crm_id", "M-17.converted_contact_missing", text)
    f["pos"] = np.where(follow & (pos2 >= 0), pos2, pos)
    text = "converted lead: follows ConvertedContactId (M-17)"
    s.notes.add(follow & (pos2 >= 0), "M-17.follows_converted_contact", text)
    return s


def merged_or_deleted(s: Decisions) -> Decisions:
    """A CRM id of a record deleted or merged (IsDeleted / MasterRecordId in an Export All) is
    stale (M-20, ID-5)."""
    sf, n, pos = s.sf, s.n, s.facts["pos"]
    open_crm = s.facts["has_crm"] & s.undecided
    tgt_deleted = np.zeros(n, dtype=bool)
    tgt_deleted[open_crm] = sf["is_deleted"].to_numpy()[pos[open_crm]]
    master = pd.Series(pd.NA, index=range(n), dtype="str")
    master[tgt_deleted] = sf["master_record_id"].to_numpy(dtype=object)[pos[tgt_deleted]]
    merged = tgt_deleted & master.notna().to_numpy()
    merged_reason = np.full(n, None, dtype=object)  # texts only where they are used
    merged_reason[merged] = (
        "merged into " + master[merged] + " (MasterRecordId in the Export All) (M-20, ID-5)"
    ).to_numpy(dtype=object)
    s.decide(merged, "stale_crm_id", "M-20.merged", merged_reason)
    text = "deleted in Salesforce (IsDeleted in the Export All) (M-20)"
    s.decide(tgt_deleted, "stale_crm_id", "M-20.deleted", text)
    return s


def link_in_scope(s: Decisions) -> Decisions:
    """A CRM id found in the export: out of scope → AE archives the prospect (D-6), else it
    stays linked (M-2)."""
    sf, n, pos = s.sf, s.n, s.facts["pos"]
    open_crm = s.facts["has_crm"] & s.undecided
    scope_ok = np.zeros(n, dtype=bool)
    scope_ok[open_crm] = sf["in_scope"].to_numpy()[pos[open_crm]]
    m = s.decide(open_crm & ~scope_ok, "out_of_scope")
    scope_text = np.full(n, "", dtype=object)  # the record's scope reason, where it is used
    scope_text[m] = scope_texts(sf, pos[m])
    s.notes.add_reason(m, scope_text)
    note_scope_codes(s, m, pos)
    s.notes.add(m, "D-6.will_archive", "AE will archive the prospect (D-6)")
    s.target[m] = pos[m]
    m = s.decide(open_crm & scope_ok, "linked")
    s.target[m] = pos[m]
    s.how[m] = "crm_id"
    s.notes.add(m, "M-2.linked_by_crm_id", "CRM id found in the export: stays linked (M-2)")
    return s


def recycle_bin_keeps_link(s: Decisions) -> Decisions:
    """An archived (recycle-bin) prospect keeps its CRM id, so it still holds its record: no
    other prospect links to it (M-1; an undelete restores the pair, help "Automatically Merge and
    Delete Prospects"; "Permanently Delete Prospects" needs the record deleted first). The
    outcome stays ``pardot_only``."""
    f, sf = s.facts, s.sf
    archived = flag(s.P, "is_deleted") & f["has_crm"] & (s.outcome == "pardot_only")
    pos = np.where(archived, f["pos"], -1)
    hold = pos >= 0
    if not hold.any():
        return s
    # A converted lead's link has moved to its contact (M-17).
    conv = np.zeros(s.n, dtype=bool)
    conv[hold] = sf["is_converted"].to_numpy()[pos[hold]]
    follow = np.full(s.n, -1)
    follow[conv] = f["ccid_pos"][pos[conv]]
    pos = np.where(conv & (follow >= 0), follow, pos)
    hold[hold] = ~sf["is_deleted"].to_numpy()[pos[hold]]  # a deleted record holds nothing
    s.target[hold] = pos[hold]
    s.how[hold] = "recycle_bin"
    text = "keeps its CRM id: still holds its Salesforce record (M-1)"
    s.notes.add(hold, "M-1.recycle_bin_link", text)
    return s


def note_scope_codes(s: Decisions, mask: np.ndarray, pos: np.ndarray) -> None:
    """The scope reason code of each masked prospect's record (``pos``) on the prospect."""
    if not mask.any():
        return
    rec_codes = np.full(s.n, "", dtype=object)
    rec_codes[mask] = scope_codes(s.sf, pos[mask])
    for code in pd.unique(rec_codes[mask]):
        if code:
            s.notes.code(mask & (rec_codes == code), code)
