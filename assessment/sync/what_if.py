"""What-if: the same snapshot simulated under changed settings, side by side.

:func:`what_if` and :func:`compare` are the reference: a full re-simulation under the changed
settings. :func:`quick_what_if` gives the same :class:`WhatIf` (outcome counts and changed
records, equal frame for frame) for changes whose effect is confined to one rule step, re-running
only that step for the records it decides; any other change falls back to the full run.
``tests/test_what_if_agreement.py`` holds the two equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..settings import ConnectorSettings, MdsRule, settings_from_mapping
from .kernels import arrow, from_codes, str_series
from .result import SALESFORCE_OUTCOMES, SimulationResult
from .simulate import simulate

_KEEP_P = ["prospect_id", "email", "outcome", "sf_id", "reason"]
_KEEP_S = ["sf_object", "sf_id", "email", "outcome", "prospect_id", "reason"]
# Settings only the Salesforce side's auto-create step reads (CR-9–CR-11; no prospect step does).
AUTO_CREATE_SETTINGS = frozenset(
    {"auto_create_prospects_from_salesforce", "auto_create_enabled_since"}
)
AMPSEA = "allow_multiple_prospects_same_email"
# The reason codes of the records the auto-create step decides (salesforce_side._auto_create).
AUTO_CREATE_CODES = (
    "CR-11.auto_create_off",
    "CR-11.not_retroactive",
    "CR-10.ampsea_new_record",
    "CR-10.created_after_auto_create",
    "CR-11.created_before_auto_create",
)
# Records the email rules leave without a prospect (M-1, CR-9); same-email mode skips these
# rules and hands the records to auto-create (CR-10, H2).
SHADOW_CODES = ("M-1.shadowed", "CR-9.email_on_other_prospect")


@dataclass
class WhatIf:
    """Two simulations side by side: counts per outcome and the records whose outcome changed."""

    base: SimulationResult
    other: SimulationResult
    prospects: pd.DataFrame  # outcome, base, other, delta
    salesforce: pd.DataFrame
    changed_prospects: pd.DataFrame
    changed_salesforce: pd.DataFrame


class _LazyOther(WhatIf):
    """A quick what-if whose ``other`` simulation is built only when it is read."""

    def __init__(self, build: Callable[[], SimulationResult], **parts) -> None:
        self._build, self._other = build, None
        super().__init__(other=None, **parts)

    @property
    def other(self) -> SimulationResult:  # type: ignore[override]
        """The simulation under the changed settings (built on first read)."""
        if self._other is None:
            self._other = self._build()
        return self._other

    @other.setter
    def other(self, value: SimulationResult | None) -> None:
        self._other = value

    def __repr__(self) -> str:
        return (
            f"WhatIf({len(self.changed_prospects)} prospects and"
            f" {len(self.changed_salesforce)} Salesforce records move)"
        )


def _count_table(base: dict, other: dict) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"outcome": list(base), "base": list(base.values()), "other": [other[k] for k in base]}
    )
    frame["delta"] = frame["other"] - frame["base"]
    return frame


def _changed_prospects(bp: pd.DataFrame, op: pd.DataFrame) -> pd.DataFrame:
    """Prospects whose outcome or linked record differs (rows aligned by index)."""
    cp = bp[_KEEP_P].join(op[["outcome", "sf_id", "reason"]].add_suffix("_other"))
    moved = (cp["outcome"] != cp["outcome_other"]) | (
        cp["sf_id"].fillna("") != cp["sf_id_other"].fillna("")
    )
    text = {"reason": "str", "reason_other": "str"}  # categoricals in the frames (issue #19)
    return cp[moved].reset_index(drop=True).astype(text)


def _changed_salesforce(bs: pd.DataFrame, os_: pd.DataFrame) -> pd.DataFrame:
    """Salesforce records whose outcome differs (rows aligned by index)."""
    cs = bs[_KEEP_S].join(os_[["outcome", "prospect_id", "reason"]].add_suffix("_other"))
    text = {"reason": "str", "reason_other": "str"}  # categoricals in the frames (issue #19)
    return cs[cs["outcome"] != cs["outcome_other"]].reset_index(drop=True).astype(text)


def compare(base: SimulationResult, other: SimulationResult) -> WhatIf:
    """Side-by-side outcome counts of two simulations of the same snapshot, plus changed records."""
    return WhatIf(
        base,
        other,
        _count_table(base.prospect_counts(), other.prospect_counts()),
        _count_table(base.salesforce_counts(), other.salesforce_counts()),
        _changed_prospects(base.prospects, other.prospects),
        _changed_salesforce(base.salesforce, other.salesforce),
    )


def _settings_with(base_settings: ConnectorSettings, changes: dict) -> ConnectorSettings:
    """``base_settings`` with ``changes``; MDS rules may be given as plain mappings."""
    if "marketing_data_sharing" in changes:
        mds = changes["marketing_data_sharing"] or {}
        if any(not isinstance(v, MdsRule) for v in mds.values()):
            changes = dict(changes)
            changes["marketing_data_sharing"] = settings_from_mapping(
                {"marketing_data_sharing": mds}
            ).marketing_data_sharing
    return base_settings.replace(**changes)


def what_if(snapshot, base_settings: ConnectorSettings | None = None, **changes) -> WhatIf:
    """Simulate under changed settings (e.g. ``allow_multiple_prospects_same_email=True``) and compare."""
    base_settings = base_settings or snapshot.settings
    other_settings = _settings_with(base_settings, changes)
    return compare(simulate(snapshot, base_settings), simulate(snapshot, other_settings))


# ----------------------------------------------------------------------------- quick what-ifs
def _confined_rows(base: ConnectorSettings, other: ConnectorSettings, changed: set) -> tuple:
    """(codes, prospects_move) of the Salesforce rows a change re-decides, or None: no shortcut.

    Auto-create settings are read by the Salesforce side's last step only (CR-9–CR-11). Same-email
    mode switched on, with its email fallback (M-10) and unassigned prospects linking by email
    (policy unassigned_email_match=links, M-6), keeps every prospect's match (M-9: CRM id first,
    then email as before) and changes only the notes; on the Salesforce side it skips the
    shadowing rules (M-1, CR-9) and lets auto-create decide those records (CR-10).
    """
    if not changed:
        return (), False  # the same settings: the base run is the answer
    if not changed <= AUTO_CREATE_SETTINGS | {AMPSEA}:
        return None
    if AMPSEA not in changed:
        return AUTO_CREATE_CODES, False
    if base.ampsea or not other.ampsea or not other.ampsea_email_fallback:
        return None
    if base.unassigned_email_match == "no_sync":
        return None
    return AUTO_CREATE_CODES + SHADOW_CODES, True


def _auto_create_again(snapshot, settings, rows: np.ndarray, cache: dict | None) -> tuple:
    """The auto-create step (CR-9–CR-11) re-run alone for the Salesforce records at ``rows``:
    ({column: values at rows}, number of Salesforce records). ``cache`` keeps the records'
    creation dates between what-ifs of one snapshot (they depend on no setting)."""
    from .records import sf_records
    from .salesforce_side import _auto_create, _Records
    from .simulate import auto_create_stated

    cache = {} if cache is None else cache
    if "created_date" not in cache:
        cache["created_date"] = sf_records(snapshot, settings)["created_date"]
    created = cache["created_date"]
    part = created.iloc[rows].reset_index(drop=True).to_frame()
    r = _Records(len(rows))
    _auto_create(r, part, settings, auto_create_stated(snapshot, settings))
    return {
        "outcome": from_codes(r.outcome, list(SALESFORCE_OUTCOMES)),
        "reason": from_codes(r.reason, list(r.labels)),
        "reason_code": from_codes(r.reason, r.label_codes),
        "policies": r.notes.policy_column(),
    }, len(created)


def _spliced(frame: pd.DataFrame, rows: np.ndarray, new: dict) -> pd.DataFrame:
    """``frame`` with the columns of ``new`` replaced at positions ``rows``."""
    mask = np.zeros(len(frame), dtype=bool)
    mask[rows] = True
    out = frame.copy(deep=False)
    for name, values in new.items():
        replaced = pc.replace_with_mask(arrow(frame[name]), pa.array(mask), arrow(values))
        out[name] = str_series(replaced).set_axis(frame.index)
        if isinstance(frame[name].dtype, pd.CategoricalDtype):  # as the simulator builds it
            out[name] = out[name].astype("category")
    return out


def _full_other(base: SimulationResult, settings, bs, rows, new) -> SimulationResult:
    """The other simulation when only Salesforce rows moved: every prospect-side part is shared."""
    from .initial_sync import initial_sync

    salesforce = _spliced(bs, rows, new) if len(rows) else bs
    other = SimulationResult(
        settings, base.prospects, salesforce, base.fields, {}, base.mappings, base.users
    )
    other.fields_by_object = base.fields_by_object
    other.opt_outs = base.opt_outs
    other.writes = base.writes
    other.initial_sync = initial_sync(other, settings)
    return other


def _moved_salesforce(bs: pd.DataFrame, rows: np.ndarray, new: dict) -> tuple:
    """(changed_salesforce, other's outcome counts) when only the records at ``rows`` change."""
    old = bs["outcome"].iloc[rows]
    moved = np.flatnonzero(pc.not_equal(arrow(old), arrow(new["outcome"])).to_numpy(False))
    at = rows[moved]
    other = pd.DataFrame(
        {
            "outcome": new["outcome"].iloc[moved].set_axis(at),
            "prospect_id": bs["prospect_id"].iloc[at],
            "reason": new["reason"].iloc[moved].set_axis(at),
        }
    )
    counts = {o: int(n) for o, n in _counts(bs["outcome"]).items()}
    for outcome, n in old.iloc[moved].value_counts().items():
        counts[outcome] -= int(n)
    for outcome, n in other["outcome"].value_counts().items():
        counts[outcome] += int(n)
    return _changed_salesforce(bs.iloc[at], other), counts


def quick_what_if(
    snapshot, base: SimulationResult, *, cache: dict | None = None, **changes
) -> WhatIf:
    """:func:`compare` of ``base`` with a run under changed settings, re-running only what moves.

    Equal to ``compare(base, simulate(snapshot, changed settings))`` in every count and changed
    record (and in ``other``, built when read); changes the shortcut does not cover run the
    full simulation. ``cache``: a dict kept across what-ifs of one snapshot (planning).
    """
    settings = _settings_with(base.settings, changes)
    changed = {k for k in changes if getattr(base.settings, k) != getattr(settings, k)}
    confined = _confined_rows(base.settings, settings, changed)
    if confined is None:
        return _compared_in_full(snapshot, base, settings)
    codes, notes_move = confined
    bs = base.salesforce
    rows = np.flatnonzero(bs["reason_code"].isin(codes).to_numpy(dtype=bool))
    new = {c: bs[c].iloc[:0] for c in ("outcome", "reason", "reason_code", "policies")}
    if len(rows):
        new, m = _auto_create_again(snapshot, settings, rows, cache)
        if m != len(bs):  # not the records the base run saw: no shortcut
            return _compared_in_full(snapshot, base, settings)
    changed_s, s_counts = _moved_salesforce(bs, rows, new)
    p_counts = base.prospect_counts()
    if notes_move:  # prospect notes and field policies differ: the full run, when read
        build = partial(_simulate_when_read, snapshot, settings)
    else:
        build = partial(_full_other, base, settings, bs, rows, new)
    return _LazyOther(
        build,
        base=base,
        prospects=_count_table(p_counts, p_counts),
        salesforce=_count_table(base.salesforce_counts(), s_counts),
        changed_prospects=_changed_prospects(base.prospects.iloc[:0], base.prospects.iloc[:0]),
        changed_salesforce=changed_s,
    )


def _compared_in_full(snapshot, base: SimulationResult, settings) -> WhatIf:
    """:func:`compare` of ``base`` with the full run under ``settings``, which is then let go
    and simulated again if ``other`` is read."""
    # Issue #19 memory: planning keeps each what-if, and a kept full run is a second
    # simulation (0.4 GB at 2.5M records) that nothing in a plan reads after the counts.
    full = compare(base, simulate(snapshot, settings))
    return _LazyOther(
        partial(_simulate_when_read, snapshot, settings),
        base=base,
        prospects=full.prospects,
        salesforce=full.salesforce,
        changed_prospects=full.changed_prospects,
        changed_salesforce=full.changed_salesforce,
    )


def _simulate_when_read(snapshot, settings: ConnectorSettings) -> SimulationResult:
    return simulate(snapshot, settings)


def _counts(outcomes: pd.Series) -> dict[str, int]:
    counts = outcomes.value_counts()
    return {o: int(counts.get(o, 0)) for o in SALESFORCE_OUTCOMES}
