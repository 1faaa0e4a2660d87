"""Scale-aware severity: warnings about records that become blockers above a share of the org.

``../shared/spec/checks.md`` (preamble): "a warning about records (stale CRM ids, leads to be
created, owners unmapped …) may escalate to a blocker above a documented share of the org,
overridable per org". These are the shares; ``connector.yml`` overrides them in a
``thresholds:`` section::

    thresholds:
      mass_lead_creation: 0.2   # UNA003: leads created / prospects
      stale_crm_ids: 5%         # SYN001: prospects pointing to a missing record / prospects
      unmapped_owners: 0.05     # USR002: prospects owned by unmapped users / prospects creating leads
      unmapped_users: 0.5       # USR001: Pardot users with no Salesforce user / Pardot users
      min_records: 10           # never escalate for fewer records than this (record checks)

Why these defaults: one prospect in five becoming a new lead is a data migration, not a sync,
and needs a decision before unpausing; one in twenty linked to a record that is gone means the
CRM ids are out of date for a visible part of the org (the connector archives or relinks them);
leads owned by the connector user lose their owner for good once created; when half the Pardot
users have no Salesforce user, assignment cannot be trusted. ``min_records`` keeps a tiny test
org from escalating on one record.

This module imports nothing from the package, so settings (validation) and readiness
(applying) can both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Escalation:
    """A check whose severity becomes ``blocker`` above ``share`` of its population."""

    code: str
    share: float
    of: str  # what the population is, in words
    label: str = ""  # what the threshold is about, in words
    records: bool = True  # True: the population is records, so ``min_records`` applies


ESCALATIONS: dict[str, Escalation] = {
    "mass_lead_creation": Escalation("UNA003", 0.20, "prospects", "mass lead creation"),
    "stale_crm_ids": Escalation("SYN001", 0.05, "prospects", "links to missing records"),
    "unmapped_owners": Escalation(
        "USR002", 0.05, "prospects that would create leads", "leads without their owner"
    ),
    "unmapped_users": Escalation(
        "USR001", 0.50, "Pardot users", "Pardot users with no Salesforce user", records=False
    ),
}
MIN_RECORDS = 10
THRESHOLD_KEYS = (*ESCALATIONS, "min_records")

# Checks that can be blockers: registered blockers, blockers by setting or value (checks.md:
# FLD003 restricted picklists, FLD009 consent loss, USR002 above its count) and the escalations.
MAY_BLOCK_EXTRA = frozenset({"FLD003", "FLD009", "USR002"} | {e.code for e in ESCALATIONS.values()})


class ThresholdError(ValueError):
    """A ``thresholds:`` entry that is not a known name or not a share between 0 and 1."""


def parse_thresholds(value: Any) -> dict[str, float]:
    """The ``thresholds:`` section as ``{name: share}`` (``min_records`` as a count).

    Shares may be written ``0.05`` or ``5%``; names are the keys of :data:`ESCALATIONS` or the
    check codes they apply to (``SYN001: 0.1``).
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ThresholdError("thresholds must be a mapping of name: share (e.g. stale_crm_ids: 5%)")
    by_code = {e.code: name for name, e in ESCALATIONS.items()}
    out: dict[str, float] = {}
    for raw_key, raw in value.items():
        key = str(raw_key).strip()
        name = by_code.get(key.upper(), key.lower().replace("-", "_").replace(" ", "_"))
        if name not in THRESHOLD_KEYS:
            raise ThresholdError(
                f"unknown threshold {raw_key!r}; known: {', '.join(THRESHOLD_KEYS)}"
            )
        out[name] = _number(name, raw)
    return out


def _number(name: str, raw: Any) -> float:
    text = str(raw).strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ThresholdError(f"threshold {name} is {raw!r}; expected a number") from None
    if name == "min_records":
        if number < 0 or number != int(number):
            raise ThresholdError(f"threshold min_records is {raw!r}; expected a whole number")
        return float(int(number))
    if not 0 <= number <= 1:
        raise ThresholdError(f"threshold {name} is {raw!r}; expected a share from 0 to 1 (or %)")
    return number


def resolved(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Every threshold with its value for this run (defaults, then the org's overrides)."""
    out = {name: e.share for name, e in ESCALATIONS.items()} | {"min_records": float(MIN_RECORDS)}
    out.update(overrides or {})
    return out


# Checks registered as info that become warnings by value (checks.md: SYN003 above a day).
MAY_WARN_EXTRA = frozenset({"SYN003"})


def may_block(code: str, severity: str) -> bool:
    """True when a check can be a blocker (so not running it leaves a blocker risk unchecked)."""
    return severity == "blocker" or code in MAY_BLOCK_EXTRA


def worst_severity(code: str, severity: str) -> str:
    """The worst severity a check can have, whatever it found (what an unrun check may hide)."""
    if may_block(code, severity):
        return "blocker"
    if severity == "warning" or code in MAY_WARN_EXTRA:
        return "warning"
    return severity
