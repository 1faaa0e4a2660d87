"""Action files: one importable CSV per check that found records (contract §3 ``actions/``).

Each file lists one row per record to fix. Salesforce records carry their id in ``Id`` (the
Data Loader update shape, with ``Object`` telling which object to load into); prospects carry
``Prospect Id`` (the Account Engagement import column); both carry ``Email``, the field and value
concerned, the issue and the suggested fix; SYN005's file (an import by CRM id) adds
``CRM Lead FID`` / ``CRM Contact FID``. Mapping, field, user and setting findings carry their
own identifier in ``Item``. Every text cell that a spreadsheet would run as a formula (starting
with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with a single quote. Files
are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import csvtext
from .errors import AssessmentError

ACTION_COLUMNS = [
    "Object",
    "Id",
    "Prospect Id",
    "Item",
    "Email",
    "Field",
    "Value",
    "Issue",
    "Suggested Fix",
]
_SF_OBJECTS = {"Lead", "Contact", "PersonAccount", "Account", "User", "Salesforce"}


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix a single quote to every cell a spreadsheet would read as a formula (vectorised)."""
    out = frame.copy()
    for col in out.columns:
        text = out[col].astype("str")
        risky = csvtext.formula_cells(pa.array(text, from_pandas=True))
        out[col] = text.mask(risky, "'" + text) if risky.any() else text
    return out


def _joined(dup: pd.DataFrame, column: str) -> pd.Series:
    """The distinct values of ``column`` per ``_key``, in row order, joined by ``; ``."""
    sub = dup.dropna(subset=[column]).drop_duplicates(["_key", column])
    table = pa.table(
        {
            "k": pa.array(sub["_key"].astype("str"), from_pandas=True),
            "v": pc.cast(pa.array(sub[column].astype("str"), from_pandas=True), pa.large_string()),
        }
    )
    grouped = table.group_by("k", use_threads=False).aggregate([("v", "list")])
    joined = pc.binary_join(grouped["v_list"], pa.scalar("; ", pa.large_string()))
    out = joined.to_pandas()
    out.index = pd.Index(grouped["k"].to_pandas(), name="_key")
    return out.rename(column)


def action_frame(findings: pd.DataFrame) -> pd.DataFrame:
    """The action-file rows of a findings frame: one row per record, formula-safe."""
    obj = findings["object"].astype("str")
    is_sf = obj.isin(sorted(_SF_OBJECTS)).fillna(False)
    is_prospect = (obj == "Prospect").fillna(False)
    sf_id = findings["sf_id"].astype("str").fillna(findings["record_id"].astype("str"))
    frame = pd.DataFrame(
        {
            "Object": obj,
            "Id": sf_id.where(is_sf),
            "Prospect Id": findings["prospect_id"]
            .astype("str")
            .where(is_prospect | findings["prospect_id"].notna()),
            "Item": findings["record_id"].astype("str").where(~is_sf & ~is_prospect),
            "Email": findings["email"],
            "Field": findings["field"],
            "Value": findings["value"],
            "Issue": findings["message"],
            "Suggested Fix": findings["suggested_fix"],
        }
    )
    # One row per record to fix: the same record flagged twice keeps its first issue listed
    # with every further issue joined onto it.
    key = (
        frame["Object"].fillna("")
        + "\x1f"
        + frame["Id"].fillna(frame["Prospect Id"]).fillna(frame["Item"]).fillna("")
    )
    frame = frame.assign(_key=key.to_numpy())
    has_key = frame["_key"] != frame["Object"].fillna("") + "\x1f"
    dup = frame[has_key & frame["_key"].duplicated(keep=False)]
    if len(dup):
        agg = pd.DataFrame(
            {c: _joined(dup, c) for c in ("Field", "Value", "Issue", "Suggested Fix")}
        )
        first = frame[~(has_key & frame["_key"].duplicated(keep="first"))]
        first = first.set_index("_key", drop=False)
        first.update(agg)
        frame = first.reset_index(drop=True)
    frame = frame.drop(columns="_key").reset_index(drop=True)
    frame = frame.dropna(axis=1, how="all")
    return neutralise(frame.astype("str"))


# Checks whose action file is an Account Engagement import by CRM id (SYN005, M-11, CR-11).
CRM_ID_IMPORT_CHECKS = {"SYN005"}


def with_crm_id_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``CRM Lead FID`` / ``CRM Contact FID`` (the import-by-CRM-id columns) from ``Id``."""
    out = frame.copy()
    obj = out["Object"] if "Object" in out else pd.Series("", index=out.index, dtype="str")
    ids = out["Id"] if "Id" in out else pd.Series(pd.NA, index=out.index, dtype="str")
    out["CRM Lead FID"] = ids.where(obj == "Lead")
    out["CRM Contact FID"] = ids.where(obj == "Contact")
    return out


def action_file_name(code: str, name: str) -> str:
    """``<CODE>-<name>.csv`` (contract §3)."""
    return f"{code}-{name}.csv"


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV (UTF-8 with BOM, every cell quoted) to a temp file, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"\xef\xbb\xbf")
            # Quote every cell (as Data Loader does): a cell holding a carriage return stays one cell.
            csvtext.write_frame(frame, handle, quote_all=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def write_action_files(results, actions_dir: Path, input_dir: Path | None = None) -> list[Path]:
    """Write one action CSV per failed check with findings; set each result's ``action_file``.

    ``action_file`` is the path relative to the output folder (``actions/<file>``). Refuses to
    write inside ``input_dir`` (inputs are never written to).
    """
    actions_dir = Path(actions_dir)
    if input_dir is not None and _inside(actions_dir, Path(input_dir)):
        raise AssessmentError(
            "action files must not be written inside the export folder", file=str(actions_dir)
        )
    written = []
    for result in results:
        result.action_file = None
        if result.status != "fail" or result.findings is None or result.findings.empty:
            continue
        frame = action_frame(result.findings)
        if frame.empty:
            continue
        if result.code in CRM_ID_IMPORT_CHECKS:
            frame = with_crm_id_columns(frame)
        name = action_file_name(result.code, result.name)
        path = actions_dir / name
        write_csv_atomic(frame, path)
        result.action_file = f"{actions_dir.name}/{name}"
        written.append(path)
    return written
