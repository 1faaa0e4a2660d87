"""Synthetic org export folder with ground truth (issue "Foundation", item 8).

``generate()`` writes an org export folder in real export formats, mixing header styles the way
real folders do (spec/export-formats.md): a Data Loader lead extract (upper-case headers, every
field quoted), a ``sf data query`` contact extract, a lower-case SOQL account extract with person
accounts, a user report export (labels, 15-character ids) or CLI extract, prospects as an Account
Engagement UI export (labels, Yes/No, UTF-8 BOM) or API v4 pull, Pardot users in API v5 or v4
names, an admin-written ``field_mappings.csv``, ``describe/*.json`` in ``sf sobject describe
--json`` shape and ``connector.yml``. Odd seeds write the UI prospect export and v5 users, even
seeds the API v4 shapes; ``--clean`` writes User.csv as a CLI extract (18-character ids).

Ground truth: ``manifest.json`` (seed, counts, settings, every injected problem kind with its rule,
its checks and the record ids) and ``_truth/prospects.csv`` / ``_truth/salesforce.csv`` (expected
outcome per record under connector-behavior.md §10 and the default policies of settings.py;
columns prospect_id, expected_outcome, expected_sf_id, case, expected_error_code, policies,
expected_owner_sf_user_id / sf_object, sf_id, expected_outcome, case, prospect_id).
Base records are clean; each injected record carries exactly one problem.
Everything is vectorised (numpy + pyarrow); names and emails are synthetic (example.* domains).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..settings import ConnectorSettings, settings_from_mapping
from . import files
from .build import _build, _fail
from .catalog import _POLICY_NAMES, BAD_REGIONS, FIELD_MAPPINGS, KINDS, REGIONS, _styles
from .org import _Org
from .tables import _ACCOUNT_COLS, _CONTACT_COLS, _LEAD_COLS, _PROSPECT_COLS, _assemble, _shuffle
from .truth import (
    _assemble_truth_p,
    _assemble_truth_sf,
    _check_totals,
    _expected_owner,
    _kind_manifest,
    _value_counts,
)

__all__ = ["BAD_REGIONS", "KINDS", "REGIONS", "generate"]

_NOTES = [
    "Person-account contacts are not repeated in Contact.csv (the export filtered "
    "IsPersonAccount = false); a person account's row in _truth/salesforce.csv has "
    "sf_object PersonAccount and the Account id, and its prospect's expected_sf_id is the PersonContactId (M-19).",
    "The prospect 'User' column (UI export) holds the assigned Pardot user's email.",
    "Pardot times are naive and written in UTC (pardot_timezone default).",
    "expected_checks sums, per check, the records of the kinds that name it; base "
    "records trigger no check.",
]


def _prepare(out: Path) -> None:
    """An empty folder to write, or a folder this generator wrote (regenerated)."""
    if out.exists() and not out.is_dir():
        raise _fail(f"{out} is a file; give a folder to create")
    if out.exists() and any(out.iterdir()):
        if not (out / "manifest.json").exists():
            raise _fail(f"{out} exists and is not a synthetic org folder; choose an empty folder")
        shutil.rmtree(out)  # regenerate a folder this generator wrote
    (out / "describe").mkdir(parents=True, exist_ok=True)
    (out / "_truth").mkdir(exist_ok=True)


def _tables(org: _Org) -> dict[str, pa.Table]:
    """The record blocks as shuffled tables (the blocks are freed: peak memory)."""
    cols = {
        "leads": _LEAD_COLS,
        "contacts": _CONTACT_COLS,
        "accounts": _ACCOUNT_COLS,
        "prospects": _PROSPECT_COLS,
    }
    tables = {name: _shuffle(_assemble(org.blocks[name], c), org.rng) for name, c in cols.items()}
    for name in cols:
        org.blocks[name] = []
    return tables


def _write_truth(
    out: Path, org: _Org, t: dict[str, pa.Table], truth_p: pa.Table, pid_of_key: np.ndarray,
    users: dict[str, list],
) -> tuple[pa.Table, pa.Table]:  # fmt: skip
    """_truth/prospects.csv and _truth/salesforce.csv; returns both tables."""
    p_truth = pa.table(
        {
            "prospect_id": pid_of_key[truth_p["key"].to_numpy()],
            "expected_outcome": truth_p["outcome"],
            "expected_sf_id": truth_p["sf_id"],
            "case": truth_p["case"],
            "expected_error_code": truth_p["error"],
            "policies": truth_p["policies"],
            "expected_owner_sf_user_id": _expected_owner(
                truth_p, t["prospects"], t["leads"], t["contacts"], t["accounts"], users
            ),
        }
    ).sort_by("prospect_id")
    pacsv.write_csv(p_truth, out / "_truth" / "prospects.csv")
    sf_truth = _assemble_truth_sf(org, pid_of_key).sort_by(
        [("sf_object", "ascending"), ("sf_id", "ascending")]
    )
    pacsv.write_csv(sf_truth, out / "_truth" / "salesforce.csv")
    return p_truth, sf_truth


def _manifest(
    request: dict[str, Any], counts: dict[str, int], styles: dict[str, str],
    settings: dict[str, Any], truth: tuple[pa.Table, pa.Table], kinds: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """manifest.json: what was asked, written, injected and expected."""
    resolved: ConnectorSettings = settings_from_mapping(settings)
    p_truth, sf_truth = truth
    return {
        "generator": "assessment.synth",
        "seed": request["seed"],
        "clean": request["clean"],
        "requested": {k: request[k] for k in ("prospects", "leads", "contacts")},
        "counts": counts,
        "files": {
            "sf_leads": "Lead.csv",
            "sf_contacts": "Contact.csv",
            "sf_accounts": "Account.csv",
            "sf_users": "User.csv",
            "pardot_prospects": "prospects.csv",
            "pardot_users": "pardot_users.csv",
            "field_mappings": "field_mappings.csv",
        },  # fmt: skip
        "styles": styles,
        "settings": settings,
        "policies": {name: getattr(resolved, name) for name in _POLICY_NAMES},
        "truth": {
            "prospects": "_truth/prospects.csv",
            "salesforce": "_truth/salesforce.csv",
            "prospect_outcomes": _value_counts(p_truth["expected_outcome"]),
            "salesforce_outcomes": _value_counts(sf_truth["expected_outcome"]),
        },
        "notes": _NOTES,
        "kinds": kinds,
        "expected_checks": _check_totals(kinds),
    }


def generate(
    out_dir: str | Path,
    prospects: int = 3000,
    leads: int = 2000,
    contacts: int = 1500,
    seed: int = 7,
    clean: bool = False,
    *,
    same_email: bool = False,
) -> dict[str, Any]:
    """Write a synthetic org export folder with ground truth; returns the manifest.

    ``same_email``: the business unit allows several prospects per email (AMPSEA) and states
    auto-create off; the expected outcomes stay those of §10 (nothing is shadowed, nothing is
    back-filled)."""
    out = Path(out_dir)
    built = _build(prospects, leads, contacts, seed, clean)
    org: _Org = built["org"]
    users = built["users"]
    styles = _styles(seed)
    _prepare(out)
    t = _tables(org)
    # Prospect ids: increasing in file order, random gaps (pardot_id: digits).
    n_p = t["prospects"].num_rows
    pid = 20_000_000 + np.cumsum(org.rng.integers(1, 4, n_p))
    pid_of_key = np.empty(n_p, np.int64)
    pid_of_key[t["prospects"]["key"].to_numpy()] = pid
    u = files.user_columns(users, org)
    files.write_leads(out, t["leads"])
    files.write_contacts(out, t["contacts"])
    files.write_accounts(out, t["accounts"], org)
    sf_user_ids = files.write_sf_users(out, users, u, org, styles)
    truth_p = _assemble_truth_p(org)
    linked = truth_p["key"].filter(pc.equal(truth_p["outcome"], "linked")).to_numpy()
    files.write_prospects(out, t["prospects"], pid, linked, users, u, styles)
    files.write_pardot_users(out, users, u, styles)
    settings = files.write_config(out, clean, seed, same_email)
    files.write_queues(out, users)
    truth = _write_truth(out, org, t, truth_p, pid_of_key, users)
    counts = {
        "sf_leads": t["leads"].num_rows,
        "sf_contacts": t["contacts"].num_rows,
        "sf_accounts": t["accounts"].num_rows,
        "sf_users": len(sf_user_ids),
        "pardot_prospects": n_p,
        "pardot_users": u["n_u"],
        "field_mappings": len(FIELD_MAPPINGS),
    }
    kinds = _kind_manifest(org, pid_of_key, u["pardot_uid"])
    request = {"prospects": prospects, "leads": leads, "contacts": contacts}
    request.update(seed=seed, clean=clean)
    manifest = _manifest(request, counts, styles, settings, truth, kinds)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
