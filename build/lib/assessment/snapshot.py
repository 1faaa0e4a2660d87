"""The typed result of loading one org's export folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .settings import ConnectorSettings

PROBLEM_COLUMNS = ["code", "severity", "table", "file", "row", "column", "value", "message"]


@dataclass
class LoadedFile:
    """One input file as read: where it came from and what it held."""

    table: str
    path: str  # relative to the export folder
    rows: int
    sha256: str
    encoding: str
    columns: dict[str, str]  # raw header -> canonical column (unmatched headers map to themselves)
    unmatched: list[str] = field(default_factory=list)  # headers kept as custom columns
    absent: list[str] = field(default_factory=list)  # canonical columns the file did not have


@dataclass
class LoadReport:
    """What the loader read and every problem it found (all at once, never just the first)."""

    files: list[LoadedFile] = field(default_factory=list)
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    missing: list[str] = field(default_factory=list)  # tables with no file in the folder
    settings_file: str | None = None
    settings_given: list[str] = field(default_factory=list)  # keys stated in connector.yml
    notes: list[str] = field(default_factory=list)  # ignored files, dropped footers (not problems)
    # Every folder entry not read: {"path", "kind" (file | archive | folder), "reason"}.
    ignored: list[dict] = field(default_factory=list)
    # Describe files read (table ``describe:Lead`` …, rows = fields).
    describe_files: list[LoadedFile] = field(default_factory=list)

    def inputs(self) -> dict[str, dict]:
        """The ``inputs`` section of readiness.json: file → table, rows, sha256, encoding."""
        return {
            f.path: {"table": f.table, "rows": f.rows, "sha256": f.sha256, "encoding": f.encoding}
            for f in [*self.files, *self.describe_files]
        }

    def ignored_inputs(self) -> list[dict]:
        """The ``ignored_inputs`` section of readiness.json: what was in the folder but not read."""
        return [dict(entry) for entry in self.ignored]


@dataclass
class OrgSnapshot:
    """An org's exports as typed frames, with the resolved settings and the load report.

    ``tables`` maps a contract table name (``sf_leads``, ``pardot_prospects`` …) to a frame with
    canonical column names; tables with no file are absent. ``describe`` maps ``Lead`` /
    ``Contact`` / ``Account`` to a frame of field metadata. See ``docs`` in README for columns.
    """

    path: Path
    name: str
    settings: ConnectorSettings
    tables: dict[str, pd.DataFrame]
    describe: dict[str, pd.DataFrame]
    load_report: LoadReport

    def has(self, table: str) -> bool:
        """True when the export folder provided this table."""
        return table in self.tables

    def get(self, table: str) -> pd.DataFrame | None:
        """The table's frame, or None when its file was not provided."""
        return self.tables.get(table)

    def with_settings(self, settings: ConnectorSettings) -> OrgSnapshot:
        """The same data under other settings (what-if); frames are shared, not copied."""
        return OrgSnapshot(
            self.path, self.name, settings, self.tables, self.describe, self.load_report
        )
