"""One schema per export table, declared once in ``column_aliases.csv``.

Aliases, dtypes and required columns of every table come from that file (a copy of
spec/column-aliases.csv with the loader's own required flags). Headers are matched on a key
with case and punctuation removed, resolved per table (export-formats.md §0).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

# Tables of the export folder (contract.md §1), in load order.
TABLES = (
    "sf_leads",
    "sf_contacts",
    "sf_accounts",
    "sf_users",
    "sf_queues",
    "pardot_prospects",
    "pardot_users",
    "field_mappings",
    "sync_errors",
)

# Salesforce object behind each Salesforce table (for describe lookups and outputs).
SF_OBJECT = {"sf_leads": "Lead", "sf_contacts": "Contact", "sf_accounts": "Account"}


def header_key(header: str) -> str:
    """Match key of a header: BOM/spaces stripped, lower-cased, non-alphanumerics dropped."""
    return re.sub(r"[^a-z0-9]", "", str(header).replace("\ufeff", "").strip().lower())


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column: its dtype, whether the table is unusable without it, its aliases."""

    table: str
    name: str
    dtype: str  # sf_id | sf_id_or_sentinel | email_str | string | boolean | datetime | ...
    required: bool
    aliases: tuple[str, ...]
    notes: str = ""


@dataclass(frozen=True)
class TableSchema:
    """The canonical columns of one export table."""

    name: str
    columns: tuple[ColumnSpec, ...]
    _by_key: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def required(self) -> list[str]:
        """Canonical columns without which the file cannot be used."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> ColumnSpec:
        """The spec of a canonical column."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no canonical column {name!r}")

    def canonical_for(self, header: str) -> str | None:
        """Canonical column a raw header resolves to, or None (kept as a custom column)."""
        return self._by_key.get(header_key(header))

    def columns_of(self, *dtypes: str) -> list[str]:
        """Canonical columns with one of the given dtypes."""
        return [c.name for c in self.columns if c.dtype in dtypes]


def _split(text: str) -> list[str]:
    return [a.strip() for a in (text or "").split("|") if a.strip()]


@cache
def schemas() -> dict[str, TableSchema]:
    """All table schemas, read once from the packaged alias table."""
    text = resources.files("assessment").joinpath("column_aliases.csv").read_text("utf-8")
    specs: dict[str, list[ColumnSpec]] = {t: [] for t in TABLES}
    for row in csv.DictReader(text.splitlines()):
        aliases = tuple(
            dict.fromkeys(
                [row["canonical"]] + _split(row["aliases_seen"]) + _split(row["aliases_proposed"])
            )
        )
        specs.setdefault(row["table"], []).append(
            ColumnSpec(
                table=row["table"],
                name=row["canonical"],
                dtype=row["dtype"],
                required=row["required"].strip().lower() == "yes",
                aliases=aliases,
                notes=row.get("notes", ""),
            )
        )
    out = {}
    for table, cols in specs.items():
        by_key: dict[str, str] = {}
        # Canonical names and seen aliases first, so a proposed alias never shadows a real one.
        for c in cols:
            for alias in c.aliases:
                by_key.setdefault(header_key(alias), c.name)
        out[table] = TableSchema(table, tuple(cols), by_key)
    return out


def schema(table: str) -> TableSchema:
    """The schema of one table."""
    try:
        return schemas()[table]
    except KeyError:
        raise KeyError(f"unknown table {table!r}; known: {', '.join(TABLES)}") from None
