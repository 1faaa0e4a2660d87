"""The pre-unpause checklist: a registry of checks (spec/checks.md) and ``run_checks``.

Each area has its own module; importing this package registers every check.
"""

from . import con, dup, fld, inp, syn, una, usr  # noqa: F401  (registers the checks)
from .registry import (
    CHECKS,
    FINDING_COLUMNS,
    Check,
    CheckContext,
    CheckResult,
    Outcome,
    check,
    doc_sections,
    get_check,
    run_check,
    run_checks,
)

__all__ = [
    "CHECKS",
    "FINDING_COLUMNS",
    "Check",
    "CheckContext",
    "CheckResult",
    "Outcome",
    "check",
    "doc_sections",
    "get_check",
    "run_check",
    "run_checks",
]
