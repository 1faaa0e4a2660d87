"""§10 Salesforce record outcome: one row per lead, contact and person account (contract §5).

Outcomes, reasons and reason codes are kept as integer codes into small label lists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .kernels import arrow, from_codes, join_groups, member, str_series, take_str
from .reasons import Notes, known
from .result import SALESFORCE_OUTCOMES


class _Records:
    """Outcome, reason text and reason code per Salesforce record, first decision wins."""

    def __init__(self, m: int) -> None:
        self.outcome = np.full(m, -1, dtype=np.int64)  # index into SALESFORCE_OUTCOMES
        self.reason = np.zeros(m, dtype=np.int64)  # index into labels / label_codes
        self.labels: dict[str, int] = {"": 0}
        self.label_codes: list[str] = [""]
        self.notes = Notes(m)  # policies only

    def label(self, text: str, code: str) -> int:
        if text not in self.labels:
            self.labels[text] = len(self.labels)
            self.label_codes.append(known(code))
        return self.labels[text]

    def decide(self, mask, name: str, code: str, text: str) -> np.ndarray:
        """Decide the undecided records of ``mask`` with one reason."""
        mask = mask & (self.outcome < 0)
        self.outcome[mask] = SALESFORCE_OUTCOMES.index(name)
        self.reason[mask] = self.label(text, code)
        return mask

    def decide_each(self, mask, name: str, codes: np.ndarray, texts: list, rcodes: list) -> None:
        """Decide with one reason per record: ``codes`` index ``texts`` / ``rcodes``."""
        mask = mask & (self.outcome < 0)
        self.outcome[mask] = SALESFORCE_OUTCOMES.index(name)
        remap = np.array(
            [self.label(str(t), c) if t else 0 for t, c in zip(texts, rcodes, strict=True)] or [0],
            dtype=np.int64,
        )
        self.reason[mask] = remap[codes[mask]]


def _out_of_scope(r: _Records, sf: pd.DataFrame) -> None:
    """Not visible to the connector user, outside MDS, person accounts off (M-3, D-3, M-18)."""
    texts = sf["scope_reason"].array
    text_list, rcodes = list(texts.categories), list(sf.attrs["scope_codes"])
    t_codes = np.asarray(texts.codes)
    r.decide_each(
        ~sf["in_scope"].to_numpy(), "out_of_scope", t_codes.astype(np.int64), text_list, rcodes
    )


def _linked(r: _Records, target: np.ndarray, how: np.ndarray, m: int) -> np.ndarray:
    """Targeted by a CRM id (M-2) or picked as the email match (M-5) → ``linked``; returns the
    first prospect (in prospect order) linked to each record."""
    first = np.full(m, -1)
    tgt = target >= 0
    if not tgt.any():
        return first
    p_idx, c_pos = np.flatnonzero(tgt), target[tgt]
    lowest = np.full(m, len(tgt))
    np.minimum.at(lowest, c_pos, p_idx)  # prospects in order: the first one wins
    linked_c = np.flatnonzero(lowest < len(tgt))
    first[linked_c] = lowest[linked_c]
    mask = np.zeros(m, dtype=bool)
    mask[linked_c] = True
    by_email = np.zeros(m, dtype=np.int64)
    by_email[linked_c] = how[first[linked_c]] == "email"
    texts = ["a prospect is linked by CRM id (M-2)", "a prospect will link by email (M-5)"]
    r.decide_each(
        mask, "linked", by_email, texts, ["M-2.linked_by_crm_id", "M-5.will_link_by_email"]
    )
    return first


def _linked_prospects(prospects: pd.DataFrame, target: np.ndarray, first: np.ndarray) -> pd.Series:
    """The linked prospect's id; several prospects on one record (M-1 says one): all of them."""
    m = len(first)
    prospect_id = take_str(prospects["prospect_id"], first)
    tgt = target >= 0
    if not tgt.any():
        return prospect_id
    p_idx, c_pos = np.flatnonzero(tgt), target[tgt]
    multi = np.bincount(c_pos, minlength=m)[c_pos] > 1
    if multi.any():
        joined = join_groups(c_pos[multi], take_str(prospects["prospect_id"], p_idx[multi]))
        joined = joined.sort_index()
        put = np.zeros(m, dtype=bool)
        put[joined.index.to_numpy()] = True
        prospect_id = str_series(
            pc.replace_with_mask(arrow(prospect_id), pa.array(put), arrow(joined))
        )
    return prospect_id


def _no_prospect(r: _Records, sf: pd.DataFrame, key_codes, settings) -> None:
    """``no_prospect``: blank email (M-16), converted lead (M-17), shadowed (M-1, M-7), the email
    is on another prospect (CR-9, M-1)."""
    sf_codes, p_codes = key_codes
    r.decide(sf_codes < 0, "no_prospect", "M-16.blank_email", "blank email: does not sync (M-16)")
    text = "converted lead: the prospect follows the contact (M-17)"
    r.decide(sf["is_converted"].to_numpy(), "no_prospect", "M-17.converted_lead", text)
    if settings.ampsea:
        return  # same-email mode: each new visible record gets its own prospect (CR-10, H2)
    linked = SALESFORCE_OUTCOMES.index("linked")
    text = "shadowed: another record with the same email holds the link (M-1, M-7)"
    r.decide(member(sf_codes, sf_codes[r.outcome == linked]), "no_prospect", "M-1.shadowed", text)
    text = "the email is on a prospect that links elsewhere or does not sync: no second prospect (CR-9, M-1)"
    r.decide(member(sf_codes, p_codes), "no_prospect", "CR-9.email_on_other_prospect", text)


def auto_create_on(settings, given: bool) -> tuple[bool, bool]:
    """(auto-create on?, rests on policy ``ampsea_auto_create_default``?).

    The setting decides in both modes: the settings reference lists it with no same-email
    exclusion and says it is not retroactive (help "Salesforce Connector Settings"); in
    same-email BUs it is ticked by default and can be unticked (aquilliance.de, "Sync-Kontrolle
    von Salesforce nach Pardot wieder möglich"). Not stated in connector.yml in a same-email BU:
    the policy picks (CR-9, CR-10).
    """
    if settings.ampsea and not given:
        return settings.ampsea_auto_create_default == "on", True
    return bool(settings.auto_create_prospects_from_salesforce), False


def _auto_create(r: _Records, sf: pd.DataFrame, settings, given: bool = True) -> None:
    """The rest: ``creates_prospect`` only with auto-create on for records created after it was
    switched on (CR-9, CR-10); otherwise not back-filled (CR-11)."""
    rest = r.outcome < 0
    on, by_policy = auto_create_on(settings, given)
    if by_policy:
        r.notes.policy("ampsea_auto_create_default", rest)
    if not on:
        text = "auto-create is off: import it by CRM id to bring it over (CR-9, CR-11)"
        r.decide(rest, "no_prospect", "CR-11.auto_create_off", text)
        return
    r.notes.policy("auto_create_enabled_since", rest)
    since = settings.auto_create_enabled_since
    if since is None:
        text = "existing record: auto-create is not retroactive; import by CRM id (CR-11)"
        r.decide(rest, "no_prospect", "CR-11.not_retroactive", text)
        return
    ts = pd.Timestamp(since)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    newer = (sf["created_date"] > ts).fillna(False).to_numpy(dtype=bool)
    if settings.ampsea:
        text = f"same-email mode: a new visible record created after {since} gets its own prospect (CR-10)"
        r.decide(rest & newer, "creates_prospect", "CR-10.ampsea_new_record", text)
    text = f"created after auto-create was switched on ({since}) (CR-9, CR-10)"
    r.decide(rest & newer, "creates_prospect", "CR-10.created_after_auto_create", text)
    text = f"created before {since} (or date unknown): not back-filled; import by CRM id (CR-11)"
    r.decide(rest, "no_prospect", "CR-11.created_before_auto_create", text)


def salesforce_outcomes(  # noqa: PLR0913
    sf, prospects, target, how, key_codes, settings, auto_create_given: bool = True
) -> pd.DataFrame:
    """One row per lead, contact and person account (§10 Salesforce record outcome).

    ``key_codes`` are the shared integer codes of ``sf["match_key"]`` and the prospects'
    match keys (``kernels.codes``). ``auto_create_given``: connector.yml states the auto-create
    setting (else, in same-email mode, policy ``ampsea_auto_create_default`` decides).
    """
    m = len(sf)
    r = _Records(m)
    r.decide(sf["is_deleted"].to_numpy(), "no_prospect", "M-20.deleted",
             "deleted in Salesforce (IsDeleted, recycle bin) (M-20)")  # fmt: skip
    _out_of_scope(r, sf)
    archived = how == "recycle_bin"  # archived prospects that keep their CRM id (M-1)
    live_target = np.where(archived, -1, target)
    first = _linked(r, live_target, how, m)
    prospect_id = _linked_prospects(prospects, live_target, first)
    held = np.zeros(m, dtype=bool)
    held[target[archived]] = True
    text = (
        "held by an archived (recycle-bin) prospect's CRM id: no other prospect links to it (M-1)"
    )
    r.decide(held, "no_prospect", "M-1.held_by_recycle_bin", text)
    _no_prospect(r, sf, key_codes, settings)
    _auto_create(r, sf, settings, auto_create_given)
    return pd.DataFrame(
        {
            "sf_object": sf["sf_object"],
            "sf_id": sf["sf_id"],
            "email": sf["email"],
            "outcome": from_codes(r.outcome, list(SALESFORCE_OUTCOMES)),
            "prospect_id": prospect_id,
            # The reason columns repeat a few dozen texts: categoricals (issue #19 memory).
            "reason": from_codes(r.reason, list(r.labels), categorical=True),
            "reason_code": from_codes(r.reason, r.label_codes, categorical=True),
            "policies": r.notes.policy_column(categorical=True),
            "email_key": sf["email_key"],
            "owner_id": sf["owner_id"],
            "row": sf["row"].to_numpy(),
        }
    )
