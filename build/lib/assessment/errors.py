"""One exception hierarchy: every error a user can cause names the file, row and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AssessmentError(Exception):
    """Base class: a problem the user can act on, rendered without a traceback."""

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    exit_code: int = 1

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        prefix = (", ".join(where) + ": ") if where else ""
        return prefix + self.message


@dataclass
class InputError(AssessmentError):
    """An input file or folder that cannot be used at all (exit code 2)."""

    exit_code: int = 2
    problems: list | None = None

    def __str__(self) -> str:
        text = super().__str__()
        if self.problems:
            lines = [text] + [f"  - {p}" for p in self.problems[:50]]
            if len(self.problems) > 50:
                lines.append(f"  … and {len(self.problems) - 50} more")
            return "\n".join(lines)
        return text


@dataclass
class SettingsError(InputError):
    """connector.yml (or a --settings file) holds an unknown key or a bad value."""


@dataclass
class ReportError(AssessmentError):
    """The report notebook failed; names the cell and the cause."""
