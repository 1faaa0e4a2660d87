"""Business units of one Salesforce org, checked across units after a batch (issue #17.6).

Each unit of a batch is assessed on its own; units that share one Salesforce org are then read
back from their output folders and checked together. Units share an org when their connector.yml
gives the same ``salesforce_org_id``, or else when their Salesforce exports (leads, contacts,
accounts, users) have the same checksums. Only output folders are read (readiness.json and
``outcomes/*.csv``); record tables are compared with group-bys, never row by row.

Findings (codes are this module's; each cites its source in spec/connector-behavior.md):

* ``XBU001`` a lead or contact claimed by prospects of two units (M-1, V-3: a lead or contact links
  to a prospect in only one BU);
* ``XBU002`` the same Marketing Data Sharing rule (object, field, value) in two units (D-3: rules
  must be unique across BUs, one value cannot feed two BUs);
* ``XBU003`` Salesforce records in the sync scope of more than one unit (D-7, V-3: MDS is what
  splits records between BUs; overlapping scopes land records in several BUs);
* ``XBU004`` Salesforce records in the scope of no unit (D-6, D-7: out of every unit's MDS rules or
  connector user's view, they never sync anywhere);
* ``XBU005`` one connector user shared by units without MDS rules for both Lead and Contact (V-3,
  D-2, D-7: the integration user sees every record; sharing it works only with MDS).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

SF_TABLES = ("sf_leads", "sf_contacts", "sf_accounts", "sf_users")
CLAIMING = ("linked", "match_email", "match_email_tie")  # prospect outcomes that take a record
EXAMPLES = 20  # record ids quoted per finding


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    header = list(pd.read_csv(path, nrows=0).columns)
    cols = [c for c in columns if c in header]
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            include_columns=cols,
            column_types={c: pa.large_string() for c in cols},
            strings_can_be_null=True,
        ),
    )
    return table.to_pandas()


def org_key(readiness: dict) -> tuple[str, str] | None:
    """What ties a unit to its Salesforce org: ("salesforce_org_id", id) or ("exports", digests)."""
    org_id = (readiness.get("settings") or {}).get("salesforce_org_id")
    if org_id:
        return ("salesforce_org_id", str(org_id))
    digests = sorted(
        str(meta.get("sha256"))
        for meta in (readiness.get("inputs") or {}).values()
        if isinstance(meta, dict) and meta.get("table") in SF_TABLES
    )
    return ("salesforce_exports", ";".join(digests)) if digests else None


def group_units(readiness_by_unit: dict[str, dict]) -> list[dict]:
    """Groups of two or more units of one Salesforce org: ``{"by", "units"}``."""
    groups: dict[tuple, list[str]] = {}
    for unit, readiness in readiness_by_unit.items():
        key = org_key(readiness)
        if key is not None:
            groups.setdefault(key, []).append(unit)
    return [
        {"by": key[0], "units": sorted(units)}
        for key, units in sorted(groups.items())
        if len(units) > 1
    ]


def _finding(code: str, severity: str, source: str, summary: str, **extra) -> dict:
    return {"code": code, "severity": severity, "source": source, "summary": summary, **extra}


def _claimed_by_two(prospects: pd.DataFrame) -> list[dict]:
    """XBU001: Salesforce records that prospects of two or more units claim (M-1, V-3)."""
    claims = prospects[prospects["outcome"].isin(CLAIMING) & prospects["sf_id"].notna()]
    claims = claims.drop_duplicates(["unit", "sf_id"])
    units_per = claims.groupby("sf_id", sort=True)["unit"].nunique()
    shared = units_per[units_per > 1].index
    if shared.empty:
        return []
    hit = claims[claims["sf_id"].isin(shared)]
    return [
        _finding(
            "XBU001",
            "blocker",
            "connector-behavior.md M-1, V-3 (H12)",
            f"{len(shared)} lead(s)/contact(s) would link to prospects of more than one unit; "
            "a record links to a prospect in one business unit only",
            affected=len(shared),
            per_unit={u: int(n) for u, n in hit.groupby("unit")["sf_id"].nunique().items()},
            examples=list(shared[:EXAMPLES]),
        )
    ]


def _same_rule(rules: dict[str, dict]) -> list[dict]:
    """XBU002: one MDS rule (object, field, value) used by two units (D-3)."""
    rows = [
        {"unit": u, "object": obj, "field": r.get("field"), "value": r.get("value")}
        for u, per_object in rules.items()
        for obj, r in (per_object or {}).items()
    ]
    if not rows:
        return []
    frame = pd.DataFrame(rows)
    dup = frame[frame.duplicated(["object", "field", "value"], keep=False)]
    return [
        _finding(
            "XBU002",
            "blocker",
            "connector-behavior.md D-3 (G2)",
            f"{obj} rule {field} = {value!r} is used by {', '.join(sorted(g['unit']))}; "
            "MDS rules must be unique across business units",
            affected=len(g),
            per_unit={u: 1 for u in g["unit"]},
            examples=[],
        )
        for (obj, field, value), g in dup.groupby(["object", "field", "value"], sort=True)
    ]


def _scopes(salesforce: pd.DataFrame, units: list[str]) -> list[dict]:
    """XBU003 / XBU004: records in the scope of several units, or of none (D-6, D-7, V-3)."""
    records = salesforce.drop_duplicates(["unit", "sf_id"])
    in_scope = records["outcome"].ne("out_of_scope")
    count = in_scope.groupby(records["sf_id"], sort=True).sum()
    seen_by = records.groupby("sf_id", sort=True)["unit"].nunique()
    out = []
    several = count[count > 1].index
    if len(several):
        per = records[in_scope & records["sf_id"].isin(several)].groupby("unit")["sf_id"].nunique()
        out.append(
            _finding(
                "XBU003",
                "warning",
                "connector-behavior.md D-7, V-3 (G2, H12)",
                f"{len(several)} Salesforce record(s) are in the sync scope of more than one unit; "
                "MDS rules (or connector users) should split records between units",
                affected=len(several),
                per_unit={u: int(n) for u, n in per.items()},
                examples=list(several[:EXAMPLES]),
            )
        )
    nowhere = count[(count == 0) & (seen_by == len(units))].index
    if len(nowhere):
        out.append(
            _finding(
                "XBU004",
                "warning",
                "connector-behavior.md D-6, D-7, M-3 (G2)",
                f"{len(nowhere)} Salesforce record(s) are in no unit's scope (outside every unit's "
                "MDS rules or connector user's view): they never sync to any unit",
                affected=len(nowhere),
                per_unit={u: len(nowhere) for u in units},
                examples=list(nowhere[:EXAMPLES]),
            )
        )
    return out


def _shared_user(settings: dict[str, dict]) -> list[dict]:
    """XBU005: units sharing a connector user without Lead and Contact MDS rules (V-3, D-2, D-7)."""
    users: dict[str, list[str]] = {}
    for unit, s in settings.items():
        user = str(s.get("connector_user") or "integration").strip().lower()
        user = "integration" if user in {"", "integration", "b2bma integration"} else user
        users.setdefault(user, []).append(unit)
    out = []
    for user, units in sorted(users.items()):
        unsplit = [
            u
            for u in units
            if not {"Lead", "Contact"} <= set(settings[u].get("marketing_data_sharing") or {})
        ]
        if len(units) > 1 and unsplit:
            out.append(
                _finding(
                    "XBU005",
                    "blocker",
                    "connector-behavior.md V-3, D-2, D-7 (H12, G2)",
                    f"units {', '.join(sorted(units))} share the connector user {user!r} but "
                    f"{', '.join(sorted(unsplit))} have no Lead and Contact MDS rules: every record "
                    "would sync to every unit",
                    affected=len(units),
                    per_unit={u: 1 for u in units},
                    examples=[],
                )
            )
    return out


def check_group(out_dirs: dict[str, Path], readiness: dict[str, dict]) -> list[dict]:
    """Cross-unit findings for one group of units (unit name -> its output folder)."""
    units = sorted(out_dirs)
    prospects = pd.concat(
        [
            _read(out_dirs[u] / "outcomes" / "prospects.csv", ["outcome", "sf_id"]).assign(unit=u)
            for u in units
        ],
        ignore_index=True,
    )
    salesforce = pd.concat(
        [
            _read(out_dirs[u] / "outcomes" / "salesforce.csv", ["outcome", "sf_id"]).assign(unit=u)
            for u in units
        ],
        ignore_index=True,
    )
    settings = {u: readiness[u].get("settings") or {} for u in units}
    rules = {u: settings[u].get("marketing_data_sharing") or {} for u in units}
    return [
        *_claimed_by_two(prospects),
        *_same_rule(rules),
        *_scopes(salesforce[salesforce["sf_id"].notna()], units),
        *_shared_user(settings),
    ]


def check_units(out_dirs: dict[str, Path]) -> list[dict]:
    """Every group of units of one Salesforce org with its findings (unit -> output folder)."""
    readiness = {
        u: json.loads((d / "readiness.json").read_text(encoding="utf-8"))
        for u, d in out_dirs.items()
    }
    groups = group_units(readiness)
    for group in groups:
        members = {u: out_dirs[u] for u in group["units"]}
        group["findings"] = check_group(members, readiness)
    return groups


def for_unit(groups: list[dict], unit: str) -> dict | None:
    """The readiness.json ``cross_unit`` value of one unit: its group and the findings on it."""
    for group in groups:
        if unit in group["units"]:
            findings = [
                {**{k: v for k, v in f.items() if k != "per_unit"}, "unit_affected": n}
                for f in group["findings"]
                if (n := f["per_unit"].get(unit))
            ]
            return {"group_by": group["by"], "units": group["units"], "findings": findings}
    return None
