"""INP: input data (spec/checks.md)."""

from __future__ import annotations

import pandas as pd

from .registry import (
    CHECKS,
    CheckContext,
    Outcome,
    check,
    make_findings,
    missing_needs,
    need_label,
)
from .syn import _problem_findings

# Columns the checks and the simulator rely on: (table, columns any of which will do, who loses).
RELIED_ON = [
    ("sf_leads", ("is_converted",), "simulation (converted leads), DUP002, DUP004, USR004"),
    ("sf_leads", ("converted_contact_id",), "simulation (M-17: follow the converted contact)"),
    ("sf_leads", ("owner_id",), "USR004, simulation (owners)"),
    ("sf_contacts", ("owner_id",), "USR004"),
    ("sf_users", ("is_active",), "USR003, USR004, simulation (U-5)"),
    ("pardot_prospects", ("crm_lead_fid", "salesforce_id"), "simulation (linked leads), SYN001"),
    (
        "pardot_prospects",
        ("crm_contact_fid", "salesforce_id"),
        "simulation (linked contacts), SYN001",
    ),
    ("pardot_prospects", ("assigned_user_id", "assigned_user"), "UNA001-UNA003, USR002"),
    ("pardot_prospects", ("opted_out",), "FLD009"),
    ("pardot_users", ("salesforce_user_id", "salesforce_username", "email"), "USR001, USR003"),
]


@check("INP001", "missing-export", "INP", "info", source="contract §1")
def missing_export(ctx: CheckContext) -> Outcome:
    """An export a check needs is absent; that check reports not_run.

    ## What it checks
    Every input that at least one check needs and the export folder does not hold, with the
    checks that could therefore not run.

    ## Why it matters
    A check that cannot run is not a pass: the report cannot say anything about that risk.

    ## How to fix it
    Add the named files (file names in the README's export folder guide) and run again.

    ## Known false positives
    Optional inputs you do not use (sync_errors, sf_queues) are listed too.
    """
    missing: dict[str, list[str]] = {}
    for code in sorted(CHECKS):
        chk = CHECKS[code]
        for need in missing_needs(ctx.snapshot, ctx.simulation, chk):
            missing.setdefault(need_label(need), []).append(code)
    names = list(missing)
    found = make_findings(
        "INP001",
        "file",
        pd.Series(names, dtype="str"),
        value=pd.Series([", ".join(v) for v in missing.values()], dtype="str"),
        message="absent: these checks did not run",
        suggested_fix="add the export and run again",
    )
    return Outcome(
        found,
        f"{len(names)} input(s) missing; "
        f"{len({c for v in missing.values() for c in v})} check(s) not run.",
        numbers={"missing": missing},
        affected=0,
    )


@check("INP002", "schema-problems", "INP", "warning", source="contract §1, export-formats §0")
def schema_problems(ctx: CheckContext) -> Outcome:
    """Values the loader could not read as their column's type.

    ## What it checks
    Every problem the loader recorded as INP002: bad ids, dates, booleans or numbers, encoding
    fallbacks, each with file, row and column.

    ## Why it matters
    A value that cannot be read is treated as blank, so the simulation may be wrong for that
    record.

    ## How to fix it
    Correct the listed cells in the export (or re-export) and run again.

    ## Known false positives
    A Windows-1252 encoding warning when the file is in fact correct.
    """
    found = _problem_findings(ctx, "INP002", "correct the cell and re-export")
    return Outcome(found, f"{len(found)} cell(s) failed validation.")


@check("INP003", "duplicate-record-ids", "INP", "blocker", source="ID-5")
def duplicate_record_ids(ctx: CheckContext) -> Outcome:
    """The same record id appears twice in one export.

    ## What it checks
    Rows the loader found sharing a record id within one file (after 15 → 18 conversion).

    ## Why it matters
    The export is broken (joined twice, or two exports pasted together): every prediction for
    those records is unreliable.

    ## How to fix it
    Re-export the table; remove the duplicate rows.

    ## Known false positives
    None known.
    """
    found = _problem_findings(ctx, "INP003", "re-export; remove the duplicate rows")
    return Outcome(found, f"{len(found)} row(s) repeat a record id.")


@check("INP004", "export-completeness", "INP", "warning", source="connector-behavior §11 item 24")
def export_completeness(ctx: CheckContext) -> Outcome:
    """Columns the checks rely on are absent from an export.

    ## What it checks
    For each given export, the columns the simulation and the checks rely on (IsConverted,
    ConvertedContactId, OwnerId, IsActive, the CRM id columns, the assigned user, Opted Out, the
    user mapping columns) that the file does not have, naming the checks that lose accuracy.
    IsDeleted and IsPersonAccount are not required: a plain export leaves deleted rows out, and
    an org without person accounts has no IsPersonAccount field.

    ## Why it matters
    An absent column reads as blank everywhere: converted leads look open, inactive users look
    active, linked prospects look unlinked. The predictions are then wrong, not just incomplete.

    ## How to fix it
    Re-export with the named columns (the README lists the fields to request).

    ## Known false positives
    A column that is absent because the org does not use the feature (no lead conversion).
    """
    absent: dict[str, set[str]] = {}
    for f in ctx.snapshot.load_report.files:
        absent.setdefault(f.table, set()).update(f.absent)
    rows = []
    for table, cols, who in RELIED_ON:
        if table in absent and all(c in absent[table] for c in cols):
            rows.append({"id": f"{table}.{'/'.join(cols)}", "col": "/".join(cols), "who": who})
    t = pd.DataFrame(rows, columns=["id", "col", "who"])
    found = make_findings(
        "INP004",
        "column",
        t["id"],
        index=t.index,
        field=t["col"],
        message="absent; less accurate: " + t["who"],
        suggested_fix="re-export with this column",
    )
    return Outcome(
        found,
        f"{len(t)} relied-on column(s) absent.",
        numbers={"absent": list(t["id"])},
        affected=0,
    )
