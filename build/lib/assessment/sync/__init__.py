"""The sync simulator: predicts, record by record, what the connector's first sync does.

Follows connector-behavior.md §10 as a short driver (:mod:`.simulate`) over named rule steps,
each in the module of its part of the procedure:

* :mod:`.records` — the Salesforce side and its scope (M-3, M-18, D-3);
* :mod:`.link_by_crm_id` — recycle bin, do-not-sync, CRM-id link, converted, merged/deleted;
* :mod:`.match_by_email` — email matching and the tie-break (M-5, M-7, M-13, M-1);
* :mod:`.create_leads` — creation, owners and the create checks (CR-1, CR-4, U-4, U-5, F-15);
* :mod:`.field_resolution` — F-2 per mapped field and failing writes (§3.7);
* :mod:`.salesforce_side`, :mod:`.initial_sync` — the Salesforce outcomes and the estimate;
* :mod:`.write_errors` — the write-error rules (also read by the FLD checks);
* :mod:`.reasons` — the reason-code registry; :mod:`.kernels` — every vectorised trick.

Rules the spec marks UNCONFIRMED or DISAGREE are policies read from ``ConnectorSettings`` and
named in the ``policies`` column of every prediction that rests on them.
"""

from __future__ import annotations

from ..outcome_files import write_outcomes
from .kernels import codes as _codes
from .kernels import from_codes as _from_codes
from .kernels import labels_of as _labels
from .kernels import member as _member
from .reasons import REASONS, Notes, has_code
from .result import (
    FIELD_COLUMNS,
    PROSPECT_COLUMNS,
    PROSPECT_OUTCOMES,
    SALESFORCE_COLUMNS,
    SALESFORCE_OUTCOMES,
    SimulationResult,
)
from .simulate import simulate
from .values import compare_text as _compare_text
from .what_if import WhatIf, compare, what_if

__all__ = [
    "FIELD_COLUMNS",
    "PROSPECT_COLUMNS",
    "PROSPECT_OUTCOMES",
    "REASONS",
    "SALESFORCE_COLUMNS",
    "SALESFORCE_OUTCOMES",
    "Notes",
    "SimulationResult",
    "WhatIf",
    "_codes",
    "_compare_text",
    "_from_codes",
    "_labels",
    "_member",
    "compare",
    "has_code",
    "simulate",
    "what_if",
    "write_outcomes",
]
