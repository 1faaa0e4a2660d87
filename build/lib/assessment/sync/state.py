"""The decision state the prospect rule steps read and return (connector-behavior.md §10)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..settings import ConnectorSettings
from .reasons import Notes


@dataclass
class Decisions:
    """Everything decided about the prospects so far, one array slot per prospect.

    ``outcome`` is first set by :meth:`decide` only (a later step never overrides an earlier
    one, except the create checks turning ``create_lead`` into ``will_error`` with
    :meth:`force`). ``target`` is the position in ``sf`` of the record a prospect links to.
    The remaining fields are facts one step computes for later steps.
    """

    snapshot: object
    settings: ConnectorSettings
    P: pd.DataFrame  # the prospect export
    sf: pd.DataFrame  # leads, contacts and person accounts with scope (records.sf_records)
    mappings: pd.DataFrame  # the effective field mapping (fields.effective_mappings)
    notes: Notes
    outcome: np.ndarray
    target: np.ndarray
    error_code: np.ndarray
    candidates: np.ndarray
    how: np.ndarray  # "crm_id" | "email" | "" per prospect
    undecided: np.ndarray
    facts: dict = field(default_factory=dict)

    @classmethod
    def start(cls, snapshot, settings, P, sf, mappings) -> Decisions:
        """Nothing decided yet."""
        n = len(P)
        return cls(
            snapshot=snapshot,
            settings=settings,
            P=P,
            sf=sf,
            mappings=mappings,
            notes=Notes(n),
            outcome=np.full(n, None, dtype=object),
            target=np.full(n, -1),
            error_code=np.full(n, None, dtype=object),
            candidates=np.full(n, None, dtype=object),
            how=np.full(n, "", dtype=object),
            undecided=np.ones(n, dtype=bool),
        )

    @property
    def n(self) -> int:
        """Number of prospects."""
        return len(self.P)

    @property
    def tables(self) -> dict:
        """The snapshot's export tables."""
        return self.snapshot.tables

    def decide(
        self, mask: np.ndarray, name: str, code: str | None = None, reason=None
    ) -> np.ndarray:
        """Give the still undecided records of ``mask`` outcome ``name``; returns who got it."""
        mask = mask & self.undecided
        self.outcome[mask] = name
        self.undecided[mask] = False
        if code is not None:
            self.notes.code(mask, code)
        if reason is not None:
            self.notes.add_reason(mask, reason)
        return mask

    def force(self, mask: np.ndarray, name: str) -> np.ndarray:
        """Override an outcome (create_lead → will_error) where ``mask`` holds."""
        self.outcome[mask] = name
        return mask

    def fail(self, mask: np.ndarray, code: str) -> None:
        """``will_error`` with ``code`` where ``mask`` holds; an earlier error code is kept."""
        self.outcome[mask] = "will_error"
        self.error_code[mask] = np.where(
            pd.isna(self.error_code[mask]), code, self.error_code[mask]
        )
