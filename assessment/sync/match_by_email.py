"""§10 prospect step 3: no CRM id → match by email (M-5), with the tie-break (M-7).

Candidates are the same-email leads, contacts and person accounts (M-13 keys, M-19) that are
not deleted, not converted (policy ``converted_leads_match``, M-17) and not already held by a
CRM-id link (M-1). One in-scope candidate → ``match_email``; several → ``match_email_tie``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from .kernels import DT, arrow, col, epoch, equi_join, join_groups, member, take_str
from .records import SF_OBJECTS
from .state import Decisions


def prepare_email_matching(s: Decisions) -> Decisions:
    """Who is left to match: blank emails cannot match (M-16); with AMPSEA and no email
    fallback nobody matches by email (M-9, M-10). Also notes who is assigned (CR-1, CR-4, M-6)."""
    P, settings, notes = s.P, s.settings, s.notes
    no_crm = s.undecided.copy()
    if settings.ampsea:
        notes.policy("ampsea_email_fallback", no_crm)
    assigned = (
        col(P, "assigned_user_id").notna()
        | col(P, "assigned_user").notna()
        | col(P, "crm_owner_fid").notna()
    ).to_numpy(dtype=bool)  # CR-1, CR-4, M-6
    blank = no_crm & s.facts["p_match"].isna().to_numpy()
    text = "blank email (input anomaly): cannot match and not predicted to create a lead (M-16)"
    m = s.decide(blank, "pardot_only", "M-16.blank_email", text)
    notes.caution[m] = True
    matching = s.undecided.copy()
    if settings.ampsea and not settings.ampsea_email_fallback:
        matching = np.zeros(s.n, dtype=bool)  # M-9/M-10: CRM id only
        text = "no CRM id and the AMPSEA email fallback is off (M-9, M-10)"
        notes.add(s.undecided.copy(), "M-10.ampsea_no_fallback", text)
    s.facts.update(no_crm=no_crm, assigned=assigned, blank=blank, matching=matching)
    return s


def unassigned_need_owner(s: Decisions) -> Decisions:
    """Unassigned prospects with a same-email record (non-AMPSEA): help disagrees (M-6), policy
    unassigned_email_match. "Prospect Syncing Prerequisites for non-AMPSEA accounts": "These
    prospects require an assigned user in Account Engagement to sync"; "Considerations for Using
    the Salesforce Connector": "Unassigned prospects sync". ``links`` (default) follows the
    second and predicts more overwrites, the cautious reading for data loss."""
    f = s.facts
    n = s.n
    f["unassigned_link"] = np.zeros(n, dtype=bool)
    if s.settings.ampsea:
        return s  # AMPSEA has its own email fallback policy (M-10)
    unassigned = f["matching"] & ~f["assigned"]
    if s.settings.unassigned_email_match == "no_sync" and unassigned.any():
        sf_codes, p_codes = f["key_codes"]
        eligible = (~s.sf["is_deleted"] & s.sf["match_key"].notna()).to_numpy(dtype=bool)
        would_link = unassigned & np.isin(p_codes, sf_codes[eligible])
        s.notes.policy("unassigned_email_match", would_link)
        text = "unassigned: a same-email record exists, but policy unassigned_email_match=no_sync (M-6)"
        s.decide(would_link, "pardot_only", "M-6.unassigned_no_sync", text)
        f["matching"] = f["matching"] & ~would_link
    return s


def unassigned_links(s: Decisions) -> Decisions:
    """Unassigned prospects predicted to link by email rest on policy unassigned_email_match."""
    f = s.facts
    if s.settings.ampsea:
        return s
    m = f["matched"] & ~f["assigned"]
    s.notes.policy("unassigned_email_match", m)
    s.notes.caution |= m
    text = "unassigned: links by email (policy unassigned_email_match=links; help disagrees, M-6)"
    s.notes.add(m, "M-6.unassigned_link", text)
    f["unassigned_link"] = m
    return s


def email_candidates(s: Decisions) -> Decisions:
    """Same-email (prospect, record) pairs; records held by a CRM-id link cannot link again (M-1)."""
    sf, n, f = s.sf, s.n, s.facts
    sf_codes, p_codes = f["key_codes"]
    claimed = np.zeros(len(sf), dtype=bool)  # records held by a CRM-id link (M-1)
    claimed[s.target[(s.target >= 0) & (s.outcome != "out_of_scope")]] = True
    eligible = (~sf["is_deleted"] & sf["match_key"].notna()).to_numpy()
    converted = sf["is_converted"].to_numpy()
    eligible_now = eligible if s.settings.converted_leads_match else eligible & ~converted
    c_all, p_all = np.flatnonzero(eligible_now), np.flatnonzero(f["matching"])
    left, right = equi_join(p_codes[p_all], sf_codes[c_all])
    c_pair = c_all[right]
    pairs = sf[["in_scope", "last_modified_date", "created_date"]].iloc[c_pair]
    pairs = pairs.reset_index(drop=True).assign(
        p_pos=p_all[left],
        c_pos=c_pair,
        claimed=claimed[c_pair],
        is_lead=sf["obj_code"].to_numpy()[c_pair] == SF_OBJECTS.index("Lead"),
    )
    taken = pairs[pairs["claimed"]]
    if len(taken):
        mask = np.zeros(n, dtype=bool)
        mask[taken["p_pos"].unique()] = True
        s.notes.caution |= mask
        text = "a same-email record is already linked to another prospect (M-1)"
        s.notes.add(mask, "M-1.record_taken_by_crm_id", text)
    pairs = pairs[~pairs["claimed"]]
    # Policy converted_leads_match rests on any converted same-email lead (M-17).
    conv_keys = sf_codes[eligible & converted]
    s.notes.policy("converted_leads_match", f["matching"] & member(p_codes, conv_keys))
    inn, out = pairs[pairs["in_scope"]], pairs[~pairs["in_scope"]]
    f["n_in"] = np.bincount(inn["p_pos"], minlength=n) if n else np.zeros(0, int)
    f["n_out"] = np.bincount(out["p_pos"], minlength=n) if n else np.zeros(0, int)
    f.update(inn=inn, out=out)
    return s


def break_ties(s: Decisions) -> Decisions:
    """Several in-scope candidates: the policy order picks one, never a confident match (M-7,
    DISAGREE): contact or lead first, then newest (or oldest) modified, then id."""
    sf, settings, inn = s.sf, s.settings, s.facts["inn"]
    rank_obj = np.where(inn["is_lead"], 1, 0)
    if settings.tie_break == "lead_then_newest":
        rank_obj = 1 - rank_obj
    elif settings.tie_break in ("newest", "oldest"):
        rank_obj = np.zeros(len(inn), dtype=int)
    inn = inn.assign(rank_obj=rank_obj)
    # Only prospects with several candidates need the order; a stable sort of that subset
    # keeps their rows in the order a sort of all pairs would give.
    several = s.facts["n_in"][inn["p_pos"].to_numpy()] > 1
    one, inn = inn[~several], inn[several]
    # Record ids, the last tie-break key and the candidate list, only where there is a tie.
    inn = inn.assign(link_id=take_str(sf["link_id"], inn["c_pos"].to_numpy()).set_axis(inn.index))
    if settings.tie_break == "oldest":
        keys = ["p_pos", "rank_obj", "created_date", "last_modified_date", "link_id"]
        ascending = [True, True, True, True, True]
    else:
        keys = ["p_pos", "rank_obj", "last_modified_date", "link_id"]
        ascending = [True, True, False, True]
    order = inn.sort_values(keys, ascending=ascending, na_position="last")
    picks = pd.concat([one, order.drop_duplicates("p_pos", keep="first").drop(columns="link_id")])
    multi_cand = order[order["p_pos"].duplicated(keep=False)]
    s.facts["cand_list"] = join_groups(multi_cand["p_pos"].to_numpy(), multi_cand["link_id"])
    s.facts["picks"] = picks
    return s


def one_record_one_prospect(s: Decisions) -> Decisions:
    """Same-email prospects competing for one record: the newest prospect takes it (M-1; which
    one is unconfirmed, policy tie_break); the others look further."""
    picks, n, notes = s.facts["picks"], s.n, s.notes
    if len(picks):
        # Newest prospect first; NaT reads as the oldest time (int64 min).
        p_act = epoch(col(s.P, "last_activity_at", DT))[picks["p_pos"].to_numpy()]
        p_upd = epoch(col(s.P, "updated_at", DT))[picks["p_pos"].to_numpy()]
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
        text = "another prospect with the same email takes the only matching record (M-1; which one is unconfirmed)"
        notes.add(losers, "M-1.lost_to_same_email", text)
        picks = picks[~lost]
    picked = np.full(n, -1)
    picked[picks["p_pos"].to_numpy()] = picks["c_pos"].to_numpy()
    s.facts["picked"] = picked
    return s


def match_by_email(s: Decisions) -> Decisions:
    """One in-scope candidate → ``match_email`` (M-5); several → ``match_email_tie`` (M-7)."""
    f, notes = s.facts, s.notes
    picked, n_in = f["picked"], f["n_in"]
    has_pick = picked >= 0
    single = f["matching"] & has_pick & (n_in == 1)
    tie = f["matching"] & has_pick & (n_in > 1)
    text = "no CRM id; one eligible same-email record (M-5)"
    m = s.decide(single, "match_email", "M-5.one_match", text)
    s.target[m], s.how[m] = picked[m], "email"
    m = s.decide(tie, "match_email_tie")
    s.target[m], s.how[m] = picked[m], "email"
    text = (
        "no CRM id; several same-email records; the connector's pick is unconfirmed, "
        f"policy tie_break={s.settings.tie_break} (M-7)"
    )
    notes.add(m, "M-7.tie", text)
    notes.caution[m] = True
    notes.policy("tie_break", m)
    cand_list = f["cand_list"]
    if len(cand_list):
        s.candidates[cand_list.index.to_numpy()] = cand_list.to_numpy()
    f["matched"] = single | tie
    return s


def email_variants(s: Decisions) -> Decisions:
    """Matched on trim + casefold while the raw emails differ: never confident (M-13)."""
    matched = s.facts["matched"]
    if not (matched.any() and s.settings.email_case_insensitive):
        return s
    idx = np.flatnonzero(matched)
    sf_raw = arrow(take_str(s.sf["email"], s.target[idx]))
    p_raw = arrow(take_str(s.facts["p_email"], idx))
    variant = np.zeros(s.n, dtype=bool)  # NA on either side: not the same raw email
    variant[idx] = pc.not_equal(p_raw, sf_raw).fill_null(True).to_numpy(zero_copy_only=False)
    s.notes.caution |= variant
    s.notes.policy("email_case_insensitive", variant)
    s.notes.add(variant, "M-13.email_variant", "emails differ only in case or spaces (M-13)")
    return s
