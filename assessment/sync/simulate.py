"""The driver: named rule steps in the order of connector-behavior.md §10."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..fields import effective_mappings
from ..settings import ConnectorSettings
from . import create_leads, field_resolution, link_by_crm_id, match_by_email
from .initial_sync import initial_sync
from .kernels import arrow, col, from_codes, labels_of, str_series, take_str
from .records import SF_OBJECTS, sf_records
from .result import SimulationResult
from .salesforce_side import salesforce_outcomes
from .state import Decisions

# The prospect rule steps, in §10 order; each reads and returns the decision state.
PROSPECT_STEPS = (
    link_by_crm_id.skip_recycle_bin,  # §10
    link_by_crm_id.do_not_sync,  # step 1: M-22, M-6
    link_by_crm_id.crm_id_sentinels,  # step 2: M-21, M-22, ID-5
    link_by_crm_id.index_ids_and_keys,  # mechanics: id and email-key codes
    link_by_crm_id.crm_id_missing,  # ID-5, M-20, INP001
    link_by_crm_id.follow_converted_leads,  # M-17
    link_by_crm_id.merged_or_deleted,  # M-20
    link_by_crm_id.link_in_scope,  # M-2, D-6
    link_by_crm_id.recycle_bin_keeps_link,  # M-1: archived prospects hold their record
    match_by_email.prepare_email_matching,  # step 3: M-16, M-9, M-10
    match_by_email.unassigned_need_owner,  # M-6 (policy unassigned_email_match)
    match_by_email.email_candidates,  # M-5, M-1, M-17, M-19
    match_by_email.break_ties,  # M-7
    match_by_email.one_record_one_prospect,  # M-1
    match_by_email.match_by_email,  # M-5, M-7
    match_by_email.unassigned_links,  # M-6 (policy unassigned_email_match)
    match_by_email.email_variants,  # M-13
    create_leads.only_out_of_scope,  # M-3, D-6
    create_leads.create_or_not,  # CR-1, CR-4, M-14
    create_leads.unseen_exports,  # §10, INP001
    create_leads.owners_of_created_leads,  # CR-6, U-4, U-5, M-14
    create_leads.create_checks,  # F-15, CR-5, §3.7
    field_resolution.field_resolution,  # F-2, §3.7
)

# Facts no step after the keyed one reads, dropped once it has run: the record frames and
# per-prospect arrays would otherwise live until the outcome frames are built (issue #19).
LAST_READ = {
    link_by_crm_id.crm_id_missing: ("crm",),
    link_by_crm_id.recycle_bin_keeps_link: ("pos", "ccid_pos"),
    match_by_email.break_ties: ("inn",),
    match_by_email.one_record_one_prospect: ("picks",),
    match_by_email.match_by_email: ("picked", "cand_list"),
    create_leads.only_out_of_scope: ("n_in", "n_out", "out"),
}

# The facts the frames after prospect_frame read.
KEPT_FACTS = ("key_codes", "fields", "fields_by_object", "users", "opt_out_pairs", "writes")


def mds_unknown(s: Decisions) -> Decisions:
    """A linked record whose Marketing Data Sharing field was not exported: scope unknown (D-3)."""
    tgt = s.target >= 0
    unknown = np.zeros(s.n, dtype=bool)
    unknown[tgt] = s.sf["mds_unknown"].to_numpy()[s.target[tgt]]
    s.notes.caution |= unknown
    text = "the Marketing Data Sharing rule field is not in the export: scope unknown"
    s.notes.add(unknown, "D-3.mds_field_not_exported", text)
    return s


def _owners(s: Decisions) -> pd.Series:
    """The owner per prospect: the connector sets it on created leads, else the record's (U-3)."""
    create, owner, tgt = s.facts["create"], s.facts["owner"], s.target >= 0
    own = create | (s.outcome == "will_error") & ~tgt
    # An archived prospect holds its record but syncs nothing: no owner (M-1).
    held = own | (s.how == "recycle_bin")
    owner_out = take_str(s.sf["owner_id"], np.where(held, -1, s.target))
    if own.any():
        owner_out = str_series(
            pc.replace_with_mask(arrow(owner_out), pa.array(own), arrow(owner[own]))
        )
    return owner_out


def prospect_frame(s: Decisions) -> pd.DataFrame:
    """outcomes/prospects.csv rows (contract §4)."""
    P, tgt = s.P, s.target >= 0
    owner_out = _owners(s)
    s = mds_unknown(s)
    obj_code = np.full(s.n, -1, dtype=np.int64)  # the linked record's object, as a code
    obj_code[tgt] = s.sf["obj_code"].to_numpy()[s.target[tgt]]
    assigned_id = col(P, "assigned_user_id").astype("str").reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "prospect_id": col(P, "prospect_id").astype("str").reset_index(drop=True),
            "email": s.facts["p_email"].astype("str").reset_index(drop=True),
            "outcome": labels_of(s.outcome),
            "sf_object": from_codes(obj_code, list(SF_OBJECTS)),
            "sf_id": take_str(s.sf["link_id"], s.target),
            "owner_sf_user_id": owner_out,
            # The reason columns repeat a few dozen texts: categoricals (issue #19 memory).
            "reason": labels_of(s.notes.reason, categorical=True),
            "reason_code": s.notes.code_column(categorical=True),
            "policies": s.notes.policy_column(categorical=True),
            "caution": s.notes.caution,
            "email_key": s.facts["p_key"].astype("str").reset_index(drop=True),
            "assigned": s.facts["assigned"],
            "pardot_user_id": s.facts["pardot_user_id"].fillna(assigned_id),
            "error_code": labels_of(s.error_code),
            "candidates": labels_of(s.candidates),
            "row": P.index.to_numpy(),
        }
    )
    frame["caution"] = frame["caution"].astype(bool)
    frame["assigned"] = frame["assigned"].astype(bool)
    return frame


def write_frame(writes: list) -> pd.DataFrame:
    """The predicted AE→Salesforce writes as one frame (one row per prospect and field).

    The field ids and objects repeat a few texts on up to millions of rows: categoricals built
    from integer codes (no per-row text; checks compare them with ``==`` / ``isin``)."""
    sizes = np.array([len(pos) for _, _, pos in writes], dtype=np.int64)
    part = np.repeat(np.arange(len(writes)), sizes)

    def labels(i: int) -> pd.Series:
        return from_codes(part, [w[i] for w in writes], categorical=True)

    return pd.DataFrame(
        {
            "pardot_field_id": labels(0),
            "sf_object": labels(1),
            "position": np.concatenate(
                [np.asarray(p, np.int64) for *_, p in writes] or [[]]
            ).astype(np.int64),
        }
    )


def opt_out_frame(pairs: pd.DataFrame, prospects: pd.DataFrame) -> pd.DataFrame:
    """The compared Opted Out pairs with the prospect's id, email, record and final outcome."""
    pos = pairs["p_pos"].to_numpy(dtype=np.int64)
    who = prospects[["prospect_id", "email", "sf_id", "outcome", "row"]].take(pos)
    # Columns as they stand (RangeIndex both): no per-row Python objects; pardot and
    # salesforce as nullable booleans (were object arrays of True / False / NA).
    out = who.reset_index(drop=True).assign(
        sf_object=pairs["sf_object"].astype("str").reset_index(drop=True),
        pardot=pairs["pardot"].astype("boolean").reset_index(drop=True),
        salesforce=pairs["salesforce"].astype("boolean").reset_index(drop=True),
    )
    return out[
        ["prospect_id", "email", "sf_object", "sf_id", "outcome", "pardot", "salesforce", "row"]
    ]


def auto_create_stated(snapshot, settings: ConnectorSettings) -> bool:
    """connector.yml states the auto-create setting, or a what-if run changed it."""
    report = getattr(snapshot, "load_report", None)
    given = "auto_create_prospects_from_salesforce" in (getattr(report, "settings_given", ()) or ())
    base = getattr(snapshot, "settings", settings)
    key = "auto_create_prospects_from_salesforce"
    return given or getattr(base, key) != getattr(settings, key)


def simulate(snapshot, settings: ConnectorSettings | None = None) -> SimulationResult:
    """Predict every prospect's and Salesforce record's outcome at unpause (spec §10)."""
    settings = settings or snapshot.settings
    P = snapshot.tables.get("pardot_prospects")
    if P is None:
        P = pd.DataFrame(columns=["prospect_id", "email", "email_key"])
    sf = sf_records(snapshot, settings)
    s = Decisions.start(snapshot, settings, P, sf, effective_mappings(snapshot, settings))
    for step in PROSPECT_STEPS:
        s = step(s)
        for name in LAST_READ.get(step, ()):
            del s.facts[name]
    prospects = prospect_frame(s)
    # The decision state is read no further: keep what the other frames need, free the rest.
    target, how, mappings = s.target, s.how, s.mappings
    f = {name: s.facts[name] for name in KEPT_FACTS if name in s.facts}
    del s
    given = auto_create_stated(snapshot, settings)
    salesforce = salesforce_outcomes(
        sf, prospects, target, how, f.pop("key_codes"), settings, given
    )
    del sf, target, how
    result = SimulationResult(
        settings, prospects, salesforce, f["fields"], {}, mappings, f["users"]
    )
    result.fields_by_object = f["fields_by_object"]
    result.opt_outs = opt_out_frame(f["opt_out_pairs"], prospects)
    result.writes = write_frame(f.get("writes", []))
    result.initial_sync = initial_sync(result, settings)
    return result
