"""What a simulation returns: the outcome vocabularies, output columns and SimulationResult."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..settings import ConnectorSettings

PROSPECT_OUTCOMES = (
    "linked",
    "match_email",
    "match_email_tie",
    "create_lead",
    "pardot_only",
    "stale_crm_id",
    "out_of_scope",
    "will_error",
)
SALESFORCE_OUTCOMES = ("linked", "creates_prospect", "no_prospect", "out_of_scope")
PROSPECT_COLUMNS = [
    "prospect_id",
    "email",
    "outcome",
    "sf_object",
    "sf_id",
    "owner_sf_user_id",
    "reason",
    "reason_code",
    "policies",
    "caution",
    "email_key",
    "assigned",
    "pardot_user_id",
    "error_code",
    "candidates",
    "row",
]
SALESFORCE_COLUMNS = [
    "sf_object",
    "sf_id",
    "email",
    "outcome",
    "prospect_id",
    "reason",
    "reason_code",
    "policies",
    "email_key",
    "owner_id",
    "row",
]
FIELD_COLUMNS = [
    "pardot_field_id",
    "pardot_field_name",
    "sf_field",
    "sync_behavior",
    "pairs",
    "differ",
    "winner",
    "sf_overwritten",
    "pardot_overwritten",
    "blank_fills_sf",
    "blank_fills_pardot",
    "blank_overwrites",
    "write_errors",
    "error_codes",
    "policies",
    "source",
    "confidence",
    "sync_behavior_source",
]
COUNT_COLUMNS = [
    "pairs",
    "differ",
    "sf_overwritten",
    "pardot_overwritten",
    "blank_fills_sf",
    "blank_fills_pardot",
    "blank_overwrites",
    "write_errors",
]


@dataclass
class SimulationResult:
    """What the first sync after unpause is predicted to do, per record and per field."""

    settings: ConnectorSettings
    prospects: pd.DataFrame
    salesforce: pd.DataFrame
    fields: pd.DataFrame
    initial_sync: dict
    mappings: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    # Pardot user → Salesforce user as the simulator resolved it (U-1, U-2): user_id,
    # sf_user_id, mapped_by (salesforce_user_id | crm_username | email), is_active.
    users: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    # fields.csv counts split by object (Lead, Contact, PersonAccount): pardot_field_id,
    # sf_object, the COUNT_COLUMNS. One fields.csv row sums its objects.
    fields_by_object: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    # Opted Out on every compared pair (F-7): prospect_id, email, sf_object, sf_id, outcome,
    # pardot, salesforce (boolean, NA = unknown), row (the prospect's export row).
    opt_outs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    # Every predicted AE→Salesforce value write (§3.7: on create, AE-wins and differ, SF blank
    # filled): pardot_field_id, sf_object, position (the prospect's position in the export).
    writes: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def prospect_counts(self) -> dict[str, int]:
        """Prospect outcome → count (every contract outcome, zeros included)."""
        counts = self.prospects["outcome"].value_counts()
        return {o: int(counts.get(o, 0)) for o in PROSPECT_OUTCOMES}

    def salesforce_counts(self) -> dict[str, int]:
        """Salesforce record outcome → count (every contract outcome, zeros included)."""
        counts = self.salesforce["outcome"].value_counts()
        return {o: int(counts.get(o, 0)) for o in SALESFORCE_OUTCOMES}

    def to_json(self) -> dict:
        """The ``simulation`` object of readiness.json (contract §3)."""
        f = self.fields[FIELD_COLUMNS]
        fields_rows = f.astype(object).where(f.notna(), None)
        return {
            "prospects": self.prospect_counts(),
            "salesforce": self.salesforce_counts(),
            "fields": [
                {k: (int(v) if isinstance(v, np.integer) else v) for k, v in r.items()}
                for r in fields_rows.to_dict("records")
            ],
            "initial_sync": self.initial_sync,
        }
