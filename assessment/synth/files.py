"""The export files of a synthetic org, each in the shape of the tool that writes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .arrow import _cat, _const, _flag, _iso, _null, _s
from .catalog import _DESCRIBE, FIELD_MAPPINGS, UI_HEADER, V4_HEADER, _settings
from .csvfile import _describe_json, _write_csv
from .org import _Org


def user_columns(users: dict[str, list], org: _Org) -> dict[str, Any]:
    """Users (Salesforce and Pardot) as arrays; the v2 integration user (V-2) joins User.csv."""
    n_u = len(users["id"])
    u_first, u_last = np.array(users["first"]), np.array(users["last"])
    u_email = np.array(
        [
            f"{f.lower()}.{ln.lower()}.u{i}@example.org"
            for i, (f, ln) in enumerate(zip(u_first, u_last, strict=True))
        ]
    )  # a few dozen users: plain Python is fine here
    sf_rows = np.array([bool(i) for i in users["id"]])
    return {
        "n_u": n_u,
        "first": u_first,
        "last": u_last,
        "email": u_email,
        "pardot_uid": 40_001 + np.arange(n_u) * 7,
        "sf_rows": sf_rows,
        "sf_id": np.array(users["id"])[sf_rows],
        "int_user": org.ids("005", 1)[0].decode(),
    }


def write_leads(out: Path, t: pa.Table) -> None:
    """Lead.csv: Data Loader extract."""
    _write_csv(
        out / "Lead.csv",
        ["ID", "FIRSTNAME", "LASTNAME", "EMAIL", "COMPANY", "TITLE", "PHONE", "LEADSOURCE",
         "STATUS", "OWNERID", "ISCONVERTED", "CONVERTEDCONTACTID", "CONVERTEDACCOUNTID",
         "CONVERTEDDATE", "HASOPTEDOUTOFEMAIL", "DONOTCALL", "REGION__C", "ISDELETED",
         "CREATEDDATE", "LASTMODIFIEDDATE"],
        [t["id"], t["first"], t["last"], t["email"], t["company"], t["title"], t["phone"],
         t["source"], _flag(t["converted"], "Closed - Converted", "Open - Not Contacted"),
         t["owner"], _flag(t["converted"], "true", "false"), t["conv_contact"],
         t["conv_account"], _iso(t["conv_date"], "date"), _flag(t["opted_out"], "true", "false"),
         _const("false", t.num_rows), t["region"], _const("false", t.num_rows),
         _iso(t["created"], "dataloader"), _iso(t["modified"], "dataloader")],
        quote_all=True,
    )  # fmt: skip


def write_contacts(out: Path, t: pa.Table) -> None:
    """Contact.csv: sf data query --result-format csv."""
    _write_csv(
        out / "Contact.csv",
        ["Id", "AccountId", "Account.Name", "FirstName", "LastName", "Email", "Title", "Phone",
         "LeadSource", "OwnerId", "HasOptedOutOfEmail", "DoNotCall", "Region__c", "CreatedDate",
         "LastModifiedDate"],
        [t["id"], t["account"], t["company"], t["first"], t["last"], t["email"], t["title"],
         t["phone"], t["source"], t["owner"], _flag(t["opted_out"], "true", "false"),
         _const("false", t.num_rows), t["region"], _iso(t["created"], "rest"),
         _iso(t["modified"], "rest")],
    )  # fmt: skip


def write_accounts(out: Path, t: pa.Table, org: _Org) -> None:
    """Account.csv: Data Loader v61+ with a lower-case SOQL query."""
    rt_business, rt_person = (i.decode() for i in org.ids("012", 2))
    _write_csv(
        out / "Account.csv",
        ["id", "name", "ownerid", "type", "recordtypeid", "ispersonaccount", "personemail",
         "personcontactid", "firstname", "lastname", "personhasoptedoutofemail", "createddate"],
        [t["id"], t["name"], t["owner"], t["type"],
         _flag(t["is_person"], rt_person, rt_business), _flag(t["is_person"], "true", "false"),
         t["person_email"], t["person_contact"], t["first"], t["last"],
         _flag(t["person_opted_out"], "true", "false"), _iso(t["created"], "dataloader")],
        quote_all=True,
    )  # fmt: skip


def write_sf_users(
    out: Path, users: dict[str, list], u: dict[str, Any], org: _Org, styles: dict[str, str]
) -> np.ndarray:
    """User.csv: report export (labels, 15-character ids, ID-1) or CLI extract; returns the ids."""
    sf_rows = u["sf_rows"]
    ids = np.concatenate([u["sf_id"], [u["int_user"]]])
    first = np.concatenate([u["first"][sf_rows], ["B2BMA"]])
    last = np.concatenate([u["last"][sf_rows], ["Integration"]])
    email = np.concatenate([u["email"][sf_rows], ["b2bmaintegration@example.org"]])
    username = np.concatenate([u["email"][sf_rows], ["b2bmaintegration@00d000000000synth.ext"]])
    active = np.concatenate([np.array(users["active"])[sf_rows], [True]])
    user_type = _s(np.concatenate([np.array(users["type"])[sf_rows], ["Standard"]]))
    profile = ["Standard User"] * len(u["sf_id"]) + ["B2BMA Integration User"]
    if org.clean:
        styles["sf_users"] = "sf data query --result-format csv (SOQL spelling, 18-character ids)"
        _write_csv(
            out / "User.csv",
            ["Id", "Username", "Email", "FirstName", "LastName", "IsActive", "UserType",
             "Profile.Name"],
            [_s(ids), _s(username), _s(email), _s(first), _s(last),
             _s(np.where(active, "true", "false")), user_type, _s(profile)],
        )  # fmt: skip
    else:
        styles["sf_users"] = "Salesforce report export (labels, 15-character ids)"
        _write_csv(
            out / "User.csv",
            ["User ID", "Full Name", "First Name", "Last Name", "Username", "Email", "Active",
             "Profile", "User Type"],
            [_s(ids.astype("U15")), _cat(_s(first), " ", _s(last)), _s(first), _s(last),
             _s(username), _s(email), _s(np.where(active, "1", "0")), _s(profile), user_type],
        )  # fmt: skip
        org.kind("user_report_short_ids", users=ids)
    return ids


def _ui_prospects(t: pa.Table, pids: pa.Array, u: dict, assigned: np.ndarray) -> dict:
    """Account Engagement UI export columns (labels, Yes/No)."""
    n, blank, no = t.num_rows, _null(t.num_rows), _const("No", t.num_rows)
    u_safe = np.where(assigned, t["user"].to_numpy(), 0)
    user_col = pc.if_else(pa.array(assigned), _s(u["email"][u_safe]), blank)
    first_assigned = pc.if_else(pa.array(assigned), _iso(t["created"], "pardot"), _null(n))
    return {
        "Prospect Id": pids, "First Name": t["first"], "Last Name": t["last"],
        "Email": t["email"], "Company": t["company"], "Job Title": t["title"],
        "Phone": t["phone"], "Source": t["source"], "Do Not Email": no, "Do Not Call": no,
        "Opted Out": _flag(t["opted_out"], "Yes", "No"),
        "Created Date": _iso(t["created"], "pardot"),
        "Updated Date": _iso(t["modified"], "pardot"), "User": user_col,
        "First Assigned": first_assigned, "CRM Contact FID": t["crm_contact"],
        "CRM Lead FID": t["crm_lead"], "Region": t["region"],
        "Annual Revenue": t["revenue"], "Is Archived": _flag(t["archived"], "Yes", "No"),
    }  # fmt: skip


def _v4_prospects(
    t: pa.Table, pids: pa.Array, u: dict, assigned: np.ndarray, crm_owner: pa.Array
) -> dict:
    """Account Engagement API v4 / Export API columns (1/0)."""
    n, blank = t.num_rows, _null(t.num_rows)
    u_safe = np.where(assigned, t["user"].to_numpy(), 0)
    zero = _const("0", n)
    return {
        "id": pids, "first_name": t["first"], "last_name": t["last"], "email": t["email"],
        "company": t["company"], "job_title": t["title"], "phone": t["phone"],
        "source": t["source"], "crm_lead_fid": t["crm_lead"],
        "crm_contact_fid": t["crm_contact"], "crm_owner_fid": crm_owner,
        "is_do_not_email": zero, "is_do_not_call": zero,
        "opted_out": _flag(t["opted_out"], "1", "0"), "is_reviewed": zero,
        "is_starred": zero, "created_at": _iso(t["created"], "pardot"),
        "updated_at": _iso(t["modified"], "pardot"),
        "user_id": pc.if_else(pa.array(assigned), _s(u["pardot_uid"][u_safe]), blank),
        "Region": t["region"], "annual_revenue": t["revenue"],
        "is_archived": _flag(t["archived"], "1", "0"),
    }  # fmt: skip


def write_prospects(
    out: Path,
    t: pa.Table,
    pid: np.ndarray,
    linked_keys: np.ndarray,
    users: dict[str, list],
    u: dict[str, Any],
    styles: dict[str, str],
) -> None:
    """prospects.csv: UI export (odd seeds) or API v4 pull; CRM owner only on linked prospects."""
    n = t.num_rows
    user = t["user"].to_numpy()
    assigned = user >= 0
    u_safe = np.where(assigned, user, 0)
    is_linked = np.zeros(n, bool)
    is_linked[linked_keys] = True
    row_linked = is_linked[t["key"].to_numpy()]
    owner_sf = np.array(users["id"], dtype="S18")[u_safe]
    crm_owner = _s(np.where(row_linked & assigned, owner_sf, b""))
    crm_owner = pc.if_else(pc.equal(crm_owner, ""), _null(n), crm_owner)
    queue = t["queue"]  # CR-2: the API pull shows the queue as CRM owner, the UI by name
    crm_owner = pc.if_else(pc.is_valid(queue), queue, crm_owner)
    if styles["pardot_prospects"] == "ui":
        styles["pardot_prospects"] = "Account Engagement UI export (labels, Yes/No, UTF-8 BOM)"
        values, header, bom = _ui_prospects(t, _s(pid), u, assigned), UI_HEADER, True
        queue_name = (users.get("queue") or {}).get("name", "")
        values["User"] = pc.if_else(pc.is_valid(queue), _const(queue_name, n), values["User"])
    else:
        styles["pardot_prospects"] = "Account Engagement API v4 / Export API names (1/0)"
        values = _v4_prospects(t, _s(pid), u, assigned, crm_owner)
        header, bom = V4_HEADER, False
    blank = _null(n)
    _write_csv(out / "prospects.csv", header, [values.get(h, blank) for h in header], bom=bom)


def write_queues(out: Path, users: dict[str, list]) -> None:
    """Queue.csv (SOQL on Group WHERE Type = 'Queue'), when the org routes leads to a queue."""
    queue = users.get("queue")
    if queue:
        _write_csv(
            out / "Queue.csv",
            ["Id", "Name", "DeveloperName", "Type"],
            [_s([queue["id"]]), _s([queue["name"]]), _s([queue["name"].replace(" ", "_")]),
             _s(["Queue"])],
        )  # fmt: skip


def write_pardot_users(
    out: Path, users: dict[str, list], u: dict[str, Any], styles: dict[str, str]
) -> None:
    """pardot_users.csv: API v5 (camelCase, salesforceId) or v4 names with crm_username."""
    n_u = u["n_u"]
    roles = np.where(
        np.arange(n_u) == 0,
        "Administrator",
        np.where(np.arange(n_u) % 4 == 1, "Marketing", "Sales"),
    )
    created = np.datetime64("2020-06-01T09:00:00") + (np.arange(n_u) * 86400).astype(
        "timedelta64[s]"
    )
    created_s = _s(np.datetime_as_string(created, unit="s"))
    pardot_uid, u_email, u_first, u_last = u["pardot_uid"], u["email"], u["first"], u["last"]
    mapped = np.array(users["mapped"])
    if styles["pardot_users"] == "v5":
        styles["pardot_users"] = "Account Engagement API v5 (camelCase, salesforceId)"
        _write_csv(
            out / "pardot_users.csv",
            ["id", "email", "username", "firstName", "lastName", "jobTitle", "role", "roleName",
             "salesforceId", "isDeleted", "createdAt", "updatedAt"],
            [_s(pardot_uid), _s(u_email), _s(u_email), _s(u_first), _s(u_last), _null(n_u),
             _s(roles), _s(roles), _s(np.where(mapped, np.array(users["id"]), "")),
             _const("false", n_u),
             _cat(created_s, "+00:00"), _cat(created_s, "+00:00")],
        )  # fmt: skip
    else:
        styles["pardot_users"] = "Account Engagement API v4 names with crm_username"
        _write_csv(
            out / "pardot_users.csv",
            ["id", "email", "first_name", "last_name", "job_title", "role", "crm_username",
             "created_at", "updated_at"],
            [_s(pardot_uid), _s(u_email), _s(u_first), _s(u_last), _null(n_u), _s(roles),
             _s(np.where(np.array(users["mapped"]), u_email, "")),
             pc.replace_substring(created_s, "T", " "), pc.replace_substring(created_s, "T", " ")],
        )  # fmt: skip


def write_config(out: Path, clean: bool, seed: int, same_email: bool = False) -> dict[str, Any]:
    """field_mappings.csv, describe/*.json and connector.yml; returns the settings written."""
    cols = list(zip(*FIELD_MAPPINGS, strict=True))
    _write_csv(
        out / "field_mappings.csv",
        ["Field Name", "Field ID", "Type", "Salesforce Field", "Sync Behavior", "Custom",
         "Predefined Values"],
        [pc.if_else(pc.equal(_s(c), ""), _null(len(c)), _s(c)) for c in cols],
    )  # fmt: skip
    for obj in _DESCRIBE:
        (out / "describe" / f"{obj}.json").write_text(
            json.dumps(_describe_json(obj), indent=1) + "\n", encoding="utf-8"
        )
    settings = _settings(clean, seed, same_email)
    (out / "connector.yml").write_text(
        "# Connector settings of a synthetic org (contract.md §1 keys)\n"
        + yaml.safe_dump(settings, sort_keys=False),
        encoding="utf-8",
    )
    return settings
