"""What-if: the same snapshot simulated under changed settings, side by side."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..settings import ConnectorSettings, MdsRule, settings_from_mapping
from .result import SimulationResult
from .simulate import simulate


@dataclass
class WhatIf:
    """Two simulations side by side: counts per outcome and the records whose outcome changed."""

    base: SimulationResult
    other: SimulationResult
    prospects: pd.DataFrame  # outcome, base, other, delta
    salesforce: pd.DataFrame
    changed_prospects: pd.DataFrame
    changed_salesforce: pd.DataFrame


def _count_table(base: dict, other: dict) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"outcome": list(base), "base": list(base.values()), "other": [other[k] for k in base]}
    )
    frame["delta"] = frame["other"] - frame["base"]
    return frame


def compare(base: SimulationResult, other: SimulationResult) -> WhatIf:
    """Side-by-side outcome counts of two simulations of the same snapshot, plus changed records."""
    keep_p = ["prospect_id", "email", "outcome", "sf_id", "reason"]
    bp, op = base.prospects[keep_p], other.prospects[keep_p]
    cp = bp.join(op[["outcome", "sf_id", "reason"]].add_suffix("_other"))
    changed_p = cp[
        (cp["outcome"] != cp["outcome_other"])
        | (cp["sf_id"].fillna("") != cp["sf_id_other"].fillna(""))
    ]
    keep_s = ["sf_object", "sf_id", "email", "outcome", "prospect_id", "reason"]
    bs, os_ = base.salesforce[keep_s], other.salesforce[keep_s]
    cs = bs.join(os_[["outcome", "prospect_id", "reason"]].add_suffix("_other"))
    changed_s = cs[cs["outcome"] != cs["outcome_other"]]
    return WhatIf(
        base,
        other,
        _count_table(base.prospect_counts(), other.prospect_counts()),
        _count_table(base.salesforce_counts(), other.salesforce_counts()),
        changed_p.reset_index(drop=True),
        changed_s.reset_index(drop=True),
    )


def what_if(snapshot, base_settings: ConnectorSettings | None = None, **changes) -> WhatIf:
    """Simulate under changed settings (e.g. ``allow_multiple_prospects_same_email=True``) and compare."""
    base_settings = base_settings or snapshot.settings
    if "marketing_data_sharing" in changes:
        mds = changes["marketing_data_sharing"] or {}
        if any(not isinstance(v, MdsRule) for v in mds.values()):
            changes["marketing_data_sharing"] = settings_from_mapping(
                {"marketing_data_sharing": mds}
            ).marketing_data_sharing
    other_settings = base_settings.replace(**changes)
    return compare(simulate(snapshot, base_settings), simulate(snapshot, other_settings))
