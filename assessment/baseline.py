"""Compare two assessments of one org: what the cleanup fixed, what is new, which records moved.

Used by ``run --baseline PREVIOUS_OUT`` (readiness.json key ``baseline`` and ``outcomes/moved.csv``,
contract.md §2-§3), by ``diff OLD_OUT NEW_OUT`` and by batch history. Only output folders are read
(readiness.json and ``outcomes/prospects.csv`` / ``salesforce.csv``); the record tables are
compared with one outer join each, never row by row.

Two runs are the same org when their org names or their Salesforce org ids (``salesforce_org_id``)
agree; otherwise the comparison is refused (exit 2) unless forced. Added or removed columns are
allowed and reported. When tool versions or settings differ the comparison warns; when the input
checksums are identical every move is attributed to the rules, not the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import InputError

MOVED_COLUMNS = [
    "record",  # prospect | salesforce
    "prospect_id",
    "sf_object",
    "sf_id",
    "old_outcome",  # blank: the record was not in the earlier export
    "new_outcome",  # blank: the record is no longer in the export
    "reason_code",  # the rule codes that decide the row now (blank when the run has none)
    "reason",  # the reason now, for people
]
# Record tables: file name -> (join key, columns read besides key/outcome/reasons).
_TABLES = {
    "prospects": ("prospect_id", ["sf_object", "sf_id"]),
    "salesforce": ("sf_id", ["sf_object", "prospect_id"]),
}
_IGNORED_SETTINGS = {"org_name"}  # differs by design when a baseline is forced


@dataclass
class OutputFolder:
    """One assessment output as the comparison needs it."""

    path: Path
    readiness: dict
    tables: dict[str, pa.Table] = field(default_factory=dict)  # key, outcome, reasons, ids
    columns: dict[str, list[str]] = field(default_factory=dict)  # every header of each table

    @property
    def org(self) -> str | None:
        """The org name the run reported."""
        return self.readiness.get("org")

    @property
    def salesforce_org_id(self) -> str | None:
        """The Salesforce org id from the run's settings, when connector.yml gave one."""
        return (self.readiness.get("settings") or {}).get("salesforce_org_id")


@dataclass
class Comparison:
    """The ``baseline`` document (counts only) and the moved records."""

    baseline: dict
    moved: pa.Table  # MOVED_COLUMNS, one row per moved record

    def moved_frame(self) -> pd.DataFrame:
        """The moved records as a DataFrame."""
        return self.moved.to_pandas()


def _read_table(path: Path, key: str, extra: list[str]) -> tuple[pa.Table, list[str]]:
    """Key, outcome, reason(s) and ``extra`` columns of an outcomes CSV, read by pyarrow."""
    if not path.is_file():
        raise InputError("not an assessment output: the outcomes file is missing", file=str(path))
    header = list(pd.read_csv(path, nrows=0).columns)
    for col in (key, "outcome"):
        if col not in header:
            raise InputError("outcomes file without a required column", file=str(path), column=col)
    wanted = [key, "outcome", *(c for c in [*extra, "reason_code", "reason"] if c in header)]
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            include_columns=wanted,
            column_types={c: pa.large_string() for c in wanted},
            strings_can_be_null=True,
        ),
    )
    return table, header


def load_output(path: Path | str, readiness: dict | None = None) -> OutputFolder:
    """Read an output folder (readiness.json unless given, and the two record outcome files)."""
    path = Path(path)
    if readiness is None:
        marker = path / "readiness.json"
        if not marker.is_file():
            raise InputError("not an assessment output folder (no readiness.json)", file=str(path))
        try:
            readiness = json.loads(marker.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"readiness.json cannot be read: {exc}", file=str(marker)) from None
        if not isinstance(readiness, dict) or "checks" not in readiness:
            raise InputError("readiness.json is not an assessment result", file=str(marker))
    out = OutputFolder(path, readiness)
    for name, (key, extra) in _TABLES.items():
        out.tables[name], out.columns[name] = _read_table(
            path / "outcomes" / f"{name}.csv", key, extra
        )
    return out


def same_org(old: OutputFolder, new: OutputFolder) -> str | None:
    """How two runs are known to be the same org (``salesforce_org_id`` | ``org_name``), or None."""
    if old.salesforce_org_id and old.salesforce_org_id == new.salesforce_org_id:
        return "salesforce_org_id"
    if old.org and old.org == new.org:
        return "org_name"
    return None


def _check_entry(code: str, old: dict | None, new: dict | None) -> dict:
    now = new or old or {}
    return {
        "code": code,
        "name": now.get("name"),
        "severity": now.get("severity"),
        "status_before": (old or {}).get("status"),
        "status_after": (new or {}).get("status"),
        "affected_before": (old or {}).get("affected"),
        "affected_after": (new or {}).get("affected"),
    }


def compare_checks(old_checks: list[dict], new_checks: list[dict]) -> dict:
    """Checks ``fixed`` / ``new`` (incl. not_run -> fail) / ``worse`` / ``better`` / ``still_failing``."""
    old = {c["code"]: c for c in old_checks}
    new = {c["code"]: c for c in new_checks}
    out: dict[str, list] = {
        k: [] for k in ("fixed", "new", "worse", "better", "still_failing", "no_longer_run")
    }
    for code in sorted(old.keys() | new.keys()):
        before = (old.get(code) or {}).get("status")
        after = (new.get(code) or {}).get("status")
        a_before = (old.get(code) or {}).get("affected") or 0
        a_after = (new.get(code) or {}).get("affected") or 0
        if after == "fail" and before != "fail":
            kind = "new"
        elif before == "fail" and after == "pass":
            kind = "fixed"
        elif before == "fail" and after == "fail":
            kind = "worse" if a_after > a_before else "better" if a_after < a_before else None
            kind = kind or "still_failing"
        elif before == "fail":  # now not_run or no longer a check: nothing known
            kind = "no_longer_run"
        else:
            continue
        out[kind].append(_check_entry(code, old.get(code), new.get(code)))
    out["added"] = sorted(new.keys() - old.keys())
    out["removed"] = sorted(old.keys() - new.keys())
    return out


def _codes(old: pa.ChunkedArray, new: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes of two text columns over one shared dictionary (null -> -1)."""
    both = pa.chunked_array(old.chunks + new.chunks, type=old.type).cast(pa.large_string())
    encoded = pc.dictionary_encode(both).combine_chunks()
    codes = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64)
    return codes[: len(old)], codes[len(old) :], len(encoded.dictionary)


def _match(
    old_keys: np.ndarray, new_keys: np.ndarray, n_keys: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each new row its old row (-1: new record); the old rows no record matches now."""
    where_old = np.full(n_keys + 1, -1, dtype=np.int64)  # slot n_keys: the null key, never matched
    where_old[np.where(old_keys < 0, n_keys, old_keys)] = np.arange(len(old_keys))
    where_old[n_keys] = -1
    old_of_new = where_old[np.where(new_keys < 0, n_keys, new_keys)]
    seen = np.zeros(len(old_keys), dtype=bool)
    seen[old_of_new[old_of_new >= 0]] = True
    return old_of_new, np.flatnonzero(~seen)


def _moves(name: str, old: pa.Table, new: pa.Table) -> pa.Table:
    """Records whose outcome differs, in MOVED_COLUMNS, matched on integer key codes.

    Rows follow the new outcomes file, then the records no longer in the export (old order);
    a record no longer in the export keeps its last known object and ids.
    """
    key = _TABLES[name][0]
    old_keys, new_keys, n_keys = _codes(old[key], new[key])
    old_of_new, gone = _match(old_keys, new_keys, n_keys)
    old_out, new_out, _ = _codes(old["outcome"], new["outcome"])
    before = np.where(old_of_new >= 0, old_out[np.maximum(old_of_new, 0)], -1)
    changed = np.flatnonzero(before != new_out)
    # positions into each side per moved row; -1 = no such row (null after take)
    new_pos = np.concatenate([changed, np.full(len(gone), -1)])
    old_pos = np.concatenate([old_of_new[changed], gone])
    new_idx = pa.array(new_pos, mask=new_pos < 0)
    old_idx = pa.array(old_pos, mask=old_pos < 0)
    rows = len(new_pos)
    null = pa.nulls(rows, pa.large_string())

    def side(table: pa.Table, idx: pa.Array, col: str) -> pa.Array:
        return table[col].take(idx).combine_chunks() if col in table.column_names else null

    def column(col: str) -> pa.Array:
        return pc.coalesce(side(new, new_idx, col), side(old, old_idx, col))

    cols = {
        "record": pa.repeat(pa.scalar("prospect" if name == "prospects" else "salesforce"), rows),
        "prospect_id": column("prospect_id"),
        "sf_object": column("sf_object"),
        "sf_id": column("sf_id"),
        "old_outcome": side(old, old_idx, "outcome"),
        "new_outcome": side(new, new_idx, "outcome"),
        "reason_code": side(new, new_idx, "reason_code"),
        "reason": pc.if_else(
            pc.is_null(new_idx), "no longer in the export", side(new, new_idx, "reason")
        ),
    }
    return pa.table({c: pc.cast(v, pa.large_string()) for c, v in cols.items()})


def _move_counts(moved: pa.Table) -> list[dict]:
    """Counts old -> new outcome (``null`` = absent from that run), largest first."""
    if moved.num_rows == 0:
        return []
    counts = (
        moved.group_by(["old_outcome", "new_outcome"], use_threads=False)
        .aggregate([([], "count_all")])
        .sort_by(
            [
                ("count_all", "descending"),
                ("old_outcome", "ascending"),
                ("new_outcome", "ascending"),
            ]
        )
    )
    return [
        {"from": row["old_outcome"], "to": row["new_outcome"], "count": int(row["count_all"])}
        for row in counts.to_pylist()
    ]


def _inputs(readiness: dict) -> dict[str, str]:
    return {f: (meta or {}).get("sha256") for f, meta in (readiness.get("inputs") or {}).items()}


def _provenance(old: OutputFolder, new: OutputFolder) -> dict:
    """Tool versions, settings differences and input checksums of both runs."""
    before, after = _inputs(old.readiness), _inputs(new.readiness)
    s_old, s_new = old.readiness.get("settings") or {}, new.readiness.get("settings") or {}
    settings_changed = [
        {"key": k, "before": s_old.get(k), "after": s_new.get(k)}
        for k in sorted(s_old.keys() | s_new.keys())
        if k not in _IGNORED_SETTINGS and s_old.get(k) != s_new.get(k)
    ]
    return {
        "tool_version": {
            "before": old.readiness.get("tool_version"),
            "after": new.readiness.get("tool_version"),
        },
        "settings_changed": settings_changed,
        "inputs": {
            "before": before,
            "after": after,
            "identical": sorted(before.values(), key=str) == sorted(after.values(), key=str),
            "added": sorted(after.keys() - before.keys()),
            "removed": sorted(before.keys() - after.keys()),
            "changed": sorted(f for f in before.keys() & after.keys() if before[f] != after[f]),
        },
    }


def _attribution(prov: dict) -> tuple[str, list[str]]:
    """Whom the moves are due to (``rules`` | ``data`` | ``data_and_rules``) and the warnings."""
    warnings = []
    versions = prov["tool_version"]
    rules_changed = versions["before"] != versions["after"] or bool(prov["settings_changed"])
    if versions["before"] != versions["after"]:
        warnings.append(
            f"the runs used different tool versions ({versions['before']} -> {versions['after']}): "
            "some moves may come from changed rules"
        )
    if prov["settings_changed"]:
        keys = ", ".join(s["key"] for s in prov["settings_changed"])
        warnings.append(f"the runs used different settings ({keys})")
    if prov["inputs"]["identical"]:
        return "rules", warnings
    return ("data_and_rules" if rules_changed else "data"), warnings


def _columns(old: OutputFolder, new: OutputFolder) -> dict:
    return {
        name: {
            "added": [c for c in new.columns[name] if c not in old.columns[name]],
            "removed": [c for c in old.columns[name] if c not in new.columns[name]],
        }
        for name in _TABLES
    }


def compare(old: OutputFolder, new: OutputFolder, force: bool = False) -> Comparison:
    """Compare an earlier output with a later one of the same org (InputError when not, unless forced)."""
    same = same_org(old, new)
    warnings = []
    if same is None:
        what = f"{old.org!r} (in {old.path}) vs {new.org!r}"
        if not force:
            raise InputError(
                f"the baseline is an assessment of a different org: {what}; "
                "compare anyway with --force-baseline",
                file=str(old.path / "readiness.json"),
            )
        warnings.append(f"compared across orgs ({what}): forced")
    moved = {name: _moves(name, old.tables[name], new.tables[name]) for name in _TABLES}
    prov = _provenance(old, new)
    attribution, more = _attribution(prov)
    doc = {
        "previous_out": str(old.path),
        "previous_generated_at": old.readiness.get("generated_at"),
        "org": {"before": old.org, "after": new.org, "same_org_by": same},
        **prov,
        "verdict": {"before": old.readiness.get("verdict"), "after": new.readiness.get("verdict")},
        "score": {"before": old.readiness.get("score"), "after": new.readiness.get("score")},
        "checks": compare_checks(old.readiness.get("checks") or [], new.readiness["checks"]),
        "outcome_moves": {name: _move_counts(frame) for name, frame in moved.items()},
        "moved_records": {name: len(frame) for name, frame in moved.items()},
        "moved_file": "outcomes/moved.csv",
        "moves_attributed_to": attribution,
        "columns": _columns(old, new),
        "warnings": warnings + more,
    }
    return Comparison(doc, pa.concat_tables(list(moved.values())))


_FORMULA_START = r"^[=+\-@\t\r]"  # as actions.neutralise: a spreadsheet would run it


def write_moved(moved: pa.Table, path: Path | str) -> Path:
    """Write the moved records as CSV (formula-safe, atomically), vectorised in pyarrow."""
    quote, empty = pa.scalar("'", pa.large_string()), pa.scalar("", pa.large_string())
    safe = pa.table(
        {
            c: pc.if_else(
                pc.fill_null(pc.match_substring_regex(moved[c], _FORMULA_START), False),
                pc.binary_join_element_wise(quote, moved[c], empty),
                moved[c],
            )
            for c in moved.column_names
        }
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        pacsv.write_csv(safe, tmp, pacsv.WriteOptions(quoting_style="needed"))
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def attach(
    readiness: dict, previous: OutputFolder, out_dir: Path | str, force: bool = False
) -> dict:
    """Compare a finished run (readiness + OUT_DIR/outcomes) with ``previous``.

    Sets ``readiness["baseline"]``, writes ``outcomes/moved.csv`` and returns the baseline.
    """
    out_dir = Path(out_dir)
    result = compare(previous, load_output(out_dir, readiness), force=force)
    write_moved(result.moved, out_dir / "outcomes" / "moved.csv")
    readiness["baseline"] = result.baseline
    return result.baseline


def _check_line(entry: dict) -> str:
    return (
        f"{entry['code']} {entry['name']} ({entry['severity']}): "
        f"{entry['status_before'] or 'absent'} {entry['affected_before'] or 0} -> "
        f"{entry['status_after'] or 'absent'} {entry['affected_after'] or 0}"
    )


def describe(baseline: dict) -> str:
    """A short console summary of a comparison."""
    v, s = baseline["verdict"], baseline["score"]
    lines = [
        f"{baseline['org']['after']}: {v['before']} ({s['before']}) -> {v['after']} ({s['after']})"
    ]
    checks = baseline["checks"]
    for kind in ("fixed", "new", "worse", "better"):
        lines.append(f"{kind}: {len(checks[kind])}")
        lines.extend(f"  {_check_line(e)}" for e in checks[kind])
    if checks["still_failing"]:
        codes = ", ".join(e["code"] for e in checks["still_failing"])
        lines.append(f"still failing, unchanged: {codes}")
    for name, moves in baseline["outcome_moves"].items():
        total = baseline["moved_records"][name]
        shown = ", ".join(
            f"{m['from'] or '(new)'} -> {m['to'] or '(gone)'} {m['count']}" for m in moves[:6]
        )
        more = f", … {len(moves) - 6} more" if len(moves) > 6 else ""
        lines.append(f"{name} moved: {total}" + (f" ({shown}{more})" if shown else ""))
    if not any(baseline["moved_records"].values()):  # no move to attribute
        same = baseline["inputs"]["identical"]
        cause = "no record moved" + (" (the inputs are identical)" if same else "")
    else:
        cause = {
            "rules": "the inputs are identical: every move comes from the rules (tool version or "
            "settings)",
            "data": "same tool version and settings: the moves come from the data",
            "data_and_rules": "both the data and the rules changed",
        }[baseline["moves_attributed_to"]]
    lines.append(cause)
    for name, cols in baseline["columns"].items():
        if cols["added"] or cols["removed"]:
            lines.append(f"{name}.csv columns: added {cols['added']}, removed {cols['removed']}")
    lines.extend(f"warning: {w}" for w in baseline["warnings"])
    return "\n".join(lines)


def diff(old_out: Path | str, new_out: Path | str, out_dir=None, force: bool = False) -> Comparison:
    """Compare two existing output folders; with ``out_dir`` write diff.json and moved.csv there."""
    result = compare(load_output(old_out), load_output(new_out), force=force)
    if out_dir is not None:
        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise InputError("--out exists and is not a folder", file=str(out_dir))
        out_dir.mkdir(parents=True, exist_ok=True)
        from .readiness import write_json_atomic

        write_json_atomic(out_dir / "diff.json", result.baseline)
        write_moved(result.moved, out_dir / "moved.csv")
    return result


# --- views for the stage notebook (09_since_last_assessment) ---------------------------------


def pick_previous(previous_out: Path | str | None, data_dir: Path | str) -> Path:
    """The baseline folder: ``previous_out`` when given, else a fresh assessment of ``data_dir``.

    The stand-in (written to a temporary folder) shows the comparison working but no change:
    point ``previous_out`` at the output of the earlier assessment to see what the cleanup did.
    """
    if previous_out:
        return Path(previous_out)
    import tempfile

    from .pipeline import assess

    stand_in = Path(tempfile.mkdtemp(prefix="assessment-baseline-")) / "previous"
    assess(data_dir, stand_in, report=False, plan=False)
    return stand_in


def since(
    data_dir: Path | str,
    previous_out: Path | str,
    out_dir: Path | str | None = None,
    settings_file: Path | str | None = None,
    force: bool = False,
) -> Comparison:
    """Assess ``data_dir`` again (into ``out_dir``, else a temporary folder) against ``previous_out``."""
    import tempfile

    from .pipeline import assess

    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="assessment-now-")) / "now"
    result = assess(
        data_dir,
        out,
        settings_file=settings_file,
        report=False,
        baseline=previous_out,
        force_baseline=force,
    )
    moved = pacsv.read_csv(
        out / "outcomes" / "moved.csv",
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.large_string() for c in MOVED_COLUMNS}, strings_can_be_null=True
        ),
    )
    return Comparison(result.readiness["baseline"], moved)


def checks_frame(baseline: dict) -> pd.DataFrame:
    """One row per changed check: kind (fixed, new, worse, better), code, status and affected."""
    kinds = ("fixed", "new", "worse", "better", "no_longer_run")
    rows = [{"change": k, **e} for k in kinds for e in baseline["checks"][k]]
    columns = ["change", "code", "name", "severity", "status_before", "status_after",
               "affected_before", "affected_after"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def moves_frame(baseline: dict) -> pd.DataFrame:
    """Outcome moves as counts: records (prospects | salesforce), from, to, count."""
    rows = [
        {
            "records": name,
            "from": m["from"] or "(not in the export)",
            "to": m["to"] or "(no longer in the export)",
            "count": m["count"],
        }  # fmt: skip
        for name, moves in baseline["outcome_moves"].items()
        for m in moves
    ]
    return pd.DataFrame(rows, columns=["records", "from", "to", "count"])


def provenance_frame(baseline: dict) -> pd.DataFrame:
    """Before and after: verdict, score, tool version, settings changed, input files changed."""
    inputs = baseline["inputs"]
    changed = [*inputs["changed"], *(f"+{f}" for f in inputs["added"]),
               *(f"-{f}" for f in inputs["removed"])]  # fmt: skip
    moved = any(baseline["moved_records"].values())
    rows = [
        ("verdict", baseline["verdict"]["before"], baseline["verdict"]["after"]),
        ("score", baseline["score"]["before"], baseline["score"]["after"]),
        ("tool version", baseline["tool_version"]["before"], baseline["tool_version"]["after"]),
        ("settings changed", "", ", ".join(s["key"] for s in baseline["settings_changed"])),
        ("input files changed", "", ", ".join(changed) or "none (identical checksums)"),
        ("moves due to", "", baseline["moves_attributed_to"] if moved else "(no record moved)"),
    ]
    return pd.DataFrame(rows, columns=["", "before", "now"]).set_index("")
