"""§10 initial sync estimate: records queued, cycles, hours and API calls (SY-1..SY-4)."""

from __future__ import annotations

import math

from ..settings import ConnectorSettings
from .result import SimulationResult


def initial_sync(result: SimulationResult, settings: ConnectorSettings) -> dict:
    """Records queued, cycles, hours and API calls at unpause (SY-1..SY-4, all estimates)."""
    pc, sc = result.prospect_counts(), result.salesforce_counts()
    updates = pc["linked"] + pc["match_email"] + pc["match_email_tie"]
    creates = pc["create_lead"]
    from_sf = sc["creates_prospect"]
    queued = updates + creates + from_sf
    per_call = settings.batch_size

    def calls(k: int) -> int:
        return math.ceil(k / per_call) if k else 0

    api = {"query": calls(queued), "update": calls(updates), "create": calls(creates)}
    return {
        "records_queued": queued,
        "queued_by_outcome": {
            "linked": pc["linked"],
            "match_email": pc["match_email"],
            "match_email_tie": pc["match_email_tie"],
            "create_lead": creates,
            "creates_prospect": from_sf,
        },
        "will_error_not_counted": pc["will_error"],
        "cycles": calls(queued),
        "hours_low": round(queued / settings.throughput_per_hour, 2),
        "hours_high": round(queued / settings.throughput_low_per_hour, 2),
        "api_calls": sum(api.values()),
        "api_calls_by_operation": api,
        "api_daily_limit": settings.api_daily_limit,
        "api_note": "probably not counted against the daily API limit (SY-4, UNCONFIRMED)",
        "assumptions": {
            "throughput_per_hour": settings.throughput_per_hour,  # SY-2
            "throughput_low_per_hour": settings.throughput_low_per_hour,  # SY-2
            "batch_size": settings.batch_size,  # SY-2, X7: 200 records per call
            "cycle_minutes": settings.cycle_minutes,  # SY-1
            "queued": "linked + match_email + match_email_tie + create_lead + creates_prospect (CR-20, UNCONFIRMED)",
        },
    }
