"""The effective field mapping: the org's mapping file plus the documented defaults (§3.5).

One row per mapped Pardot field, with the columns of the prospect, lead and contact frames that
hold its values, so the simulator compares and validates values without re-resolving headers.
"""

from __future__ import annotations

import pandas as pd

from .schema import header_key, schema
from .settings import ConnectorSettings

MAPPING_COLUMNS = [
    "pardot_field_id",
    "pardot_field_name",
    "pardot_type",
    "is_custom",
    "sf_field",
    "contact_sf_field",
    "sync_behavior",
    "sync_behavior_source",
    "source",
    "confidence",
    "prospect_column",
    "lead_column",
    "contact_column",
    "predefined_values",
    "is_use_values",
    "fixed_rule",
    "policies",
]

# Default mapping of standard prospect fields (connector-behavior.md §3.5). Columns:
# field id (v3/v4), UI label, prospect column, Lead field, Contact field, confidence, default type.
# Rows with a source other than [H7] are UNCONFIRMED as defaults. Not listed on purpose:
# Address Two (shares Street with Address One; which one wins is unknown), Comments / Notes
# (Description? in §3.5), Do Not Email (no default mapping, F-8).
_DEFAULTS: tuple[tuple[str, str, str, str | None, str | None, str, str | None], ...] = (
    ("first_name", "First Name", "first_name", "FirstName", "FirstName", "H7", "text"),
    ("last_name", "Last Name", "last_name", "LastName", "LastName", "H7", "text"),
    ("email", "Email", "email", "Email", "Email", "H7", "email"),
    # Company: Lead.Company / Contact -> Account.Name, read-only in AE for contacts (F-5, H10).
    ("company", "Company", "company", "Company", "Account.Name", "H7", "text"),
    # Assigned User <-> OwnerId: Salesforce always wins, not remappable (F-5, U-3).
    ("assigned_user", "Assigned User", "crm_owner_fid", "OwnerId", "OwnerId", "H7", "crm user"),
    # Score / Grade / Campaign: AE-owned package fields, not remappable (F-5, H7).
    ("score", "Score", "score", "pi__score__c", "pi__score__c", "H7", "number"),
    ("grade", "Grade", "grade", "pi__grade__c", "pi__grade__c", "H7", "text"),
    ("campaign_id", "Campaign", "campaign_name", "pi__campaign__c", "pi__campaign__c", "H7", None),
    ("salutation", "Salutation", "salutation", "Salutation", "Salutation", "UNCONFIRMED", None),
    ("job_title", "Job Title", "job_title", "Title", "Title", "UNCONFIRMED", "text"),
    ("department", "Department", "department", None, "Department", "UNCONFIRMED", "text"),
    ("phone", "Phone", "phone", "Phone", "Phone", "UNCONFIRMED", "text"),
    ("fax", "Fax", "fax", "Fax", "Fax", "UNCONFIRMED", "text"),
    ("website", "Website", "website", "Website", None, "UNCONFIRMED", "text"),
    ("address_one", "Address One", "address_one", "Street", "MailingStreet", "UNCONFIRMED", "text"),
    ("city", "City", "city", "City", "MailingCity", "UNCONFIRMED", "text"),
    ("state", "State", "state", "State", "MailingState", "UNCONFIRMED", "text"),
    ("zip", "Zip", "zip", "PostalCode", "MailingPostalCode", "UNCONFIRMED", "text"),
    ("country", "Country", "country", "Country", "MailingCountry", "UNCONFIRMED", "text"),
    (
        "annual_revenue",
        "Annual Revenue",
        "annual_revenue",
        "AnnualRevenue",
        None,
        "UNCONFIRMED",
        "text",
    ),
    ("employees", "Employees", "employees", "NumberOfEmployees", None, "UNCONFIRMED", "text"),
    ("industry", "Industry", "industry", "Industry", None, "UNCONFIRMED", "text"),
    ("source", "Source", "source", "LeadSource", "LeadSource", "UNCONFIRMED", "text"),
    # Opted Out <-> HasOptedOutOfEmail [B6, B7 CONS] (F-7).
    (
        "opted_out",
        "Opted Out",
        "opted_out",
        "HasOptedOutOfEmail",
        "HasOptedOutOfEmail",
        "UNCONFIRMED",
        None,
    ),
    (
        "is_do_not_call",
        "Do Not Call",
        "is_do_not_call",
        "DoNotCall",
        "DoNotCall",
        "UNCONFIRMED",
        None,
    ),
)

# Fixed rules (F-5): field id -> (sync behaviour, rule). Not changeable by the mapping file.
FIXED = {
    "score": ("use_pardot", "F-5: AE-owned, not remappable"),
    "grade": ("use_pardot", "F-5: AE-owned, not remappable"),
    "campaign_id": ("use_pardot", "F-5: AE-owned, not remappable"),
    "assigned_user": ("use_salesforce", "F-5/U-3: owner is always Salesforce's"),
    "email": ("email_rules", "M-8/F-5: email changes follow M-8, not the sync behaviour"),
}

_DEFAULT_BY_KEY = {header_key(d[0]): d for d in _DEFAULTS} | {
    header_key(d[1]): d for d in _DEFAULTS
}
# Further spellings of standard fields a mapping file may use (v5 names, API aliases).
for _alias, _fid in {
    "firstname": "first_name",
    "lastname": "last_name",
    "jobtitle": "job_title",
    "addressone": "address_one",
    "annualrevenue": "annual_revenue",
    "optedout": "opted_out",
    "isdonotcall": "is_do_not_call",
    "donotcall": "is_do_not_call",
    "campaign": "campaign_id",
    "campaignid": "campaign_id",
    "assignedto": "assigned_user",
    "assignedtoid": "assigned_user",
    "user": "assigned_user",
    "crmownerfid": "assigned_user",
}.items():
    _DEFAULT_BY_KEY.setdefault(_alias, _DEFAULT_BY_KEY[header_key(_fid)])


# Business units created after this date default Opted Out to "Use Account Engagement's value"
# (F-7; Green Key Digital, "Select Sync Behavior": "New business units created after November
# 15, 2023, will default the sync behavior to 'Use Account Engagement's value'").
NEW_BU_OPTED_OUT_DATE = "2023-11-15"


def opted_out_default(settings: ConnectorSettings) -> tuple[str, str, str | None]:
    """(behaviour, its source, rule) of Opted Out when the mapping file gives no behaviour.

    A BU created after 2023-11-15 defaults to AE's value. An older BU chose one when asked, or,
    past the deadline with no choice, the field was unmapped (same source): no default is
    documented, so policy ``opted_out_default_sync`` picks (F-7).
    """
    created = settings.business_unit_created
    if created is not None and str(created)[:10] > NEW_BU_OPTED_OUT_DATE:
        return "use_pardot", f"default (BU after {NEW_BU_OPTED_OUT_DATE})", "F-7"
    return settings.opted_out_default_sync, "policy", None


def _text(value) -> str | None:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _column_by_key(frame: pd.DataFrame | None, *candidates: str | None) -> str | None:
    """The frame column whose header_key equals one of the candidates' keys (first wins)."""
    if frame is None:
        return None
    keys = {header_key(c): c for c in frame.columns}
    for cand in candidates:
        if cand and header_key(cand) in keys:
            return keys[header_key(cand)]
    return None


def sf_column(frame: pd.DataFrame | None, table: str, sf_field: str | None) -> str | None:
    """Column of a Salesforce frame holding ``sf_field``: canonical name, else matched by header_key."""
    if frame is None or not sf_field:
        return None
    if sf_field == "Account.Name" and table == "sf_contacts":
        return "account_name" if "account_name" in frame.columns else None
    canonical = schema(table).canonical_for(sf_field)
    if canonical and canonical in frame.columns:
        return canonical
    return _column_by_key(frame, sf_field)


def _prospect_column(
    prospects: pd.DataFrame | None, field_id: str, name: str | None, default_col: str | None
) -> str | None:
    if prospects is None:
        return default_col
    if default_col and default_col in prospects.columns:
        return default_col
    # Custom fields: by field id, `<fieldId>__c` (v5) or label (UI export) (export-formats.md §1).
    return _column_by_key(prospects, field_id, f"{field_id}__c", name)


def effective_mappings(snapshot, settings: ConnectorSettings | None = None) -> pd.DataFrame:
    """One row per mapped Pardot field: file rows plus documented defaults (§3.5) not in the file."""
    settings = settings or snapshot.settings
    tables = snapshot.tables
    prospects = tables.get("pardot_prospects")
    leads = tables.get("sf_leads")
    contacts = tables.get("sf_contacts")
    file = tables.get("field_mappings")
    rows: list[dict] = []
    seen: set[str] = set()
    if file is not None:
        for row_no, rec in zip(
            file.index, file.to_dict("records"), strict=True
        ):  # mappings: few rows
            fid = _text(rec.get("pardot_field_id"))
            name = _text(rec.get("pardot_field_name"))
            if fid is None and name is None:
                continue
            default = _DEFAULT_BY_KEY.get(header_key(fid or "")) or (
                None if fid else _DEFAULT_BY_KEY.get(header_key(name or ""))
            )
            custom_flag = rec.get("is_custom")
            is_custom = (
                bool(custom_flag)
                if custom_flag is not None and not pd.isna(custom_flag)
                else default is None
            )
            if is_custom:
                default = None
            sf_field = _text(rec.get("sf_field"))
            contact_sf = sf_field
            if default is not None:
                fid = default[0]
                name = name or default[1]
                # A standard row with no Salesforce field keeps the documented default field.
                if sf_field is None or header_key(sf_field) == header_key(default[3] or ""):
                    sf_field, contact_sf = default[3], default[4]
                if sf_field is None and contact_sf is None:
                    continue
            elif sf_field is None:
                continue  # a custom field with no Salesforce field is not mapped (FLD008)
            behavior = _text(rec.get("sync_behavior"))
            rows.append(
                _row(
                    fid or name,
                    name,
                    _text(rec.get("pardot_type")) or (default[6] if default else None),
                    is_custom,
                    sf_field,
                    contact_sf,
                    behavior,
                    "file",
                    "file",
                    default,
                    settings,
                    prospects,
                    leads,
                    contacts,
                    _text(rec.get("predefined_values")),
                    rec.get("is_use_values"),
                    row_no,
                )
            )
            seen.add(fid or name)
    for default in _DEFAULTS:
        if default[0] in seen:
            continue
        rows.append(
            _row(
                default[0],
                default[1],
                default[6],
                False,
                default[3],
                default[4],
                None,
                "default",
                default[5],
                default,
                settings,
                prospects,
                leads,
                contacts,
                None,
                None,
                None,
            )
        )
    # Policy opted_out_default_sync=unmapped: Opted Out stopped syncing (F-7).
    rows = [r for r in rows if r["sync_behavior"] != "unmapped"]
    out = pd.DataFrame(rows, columns=MAPPING_COLUMNS + ["file_row"])
    for col in MAPPING_COLUMNS:
        if col not in ("is_custom", "is_use_values"):
            out[col] = out[col].astype("str")
    out["is_custom"] = out["is_custom"].astype(bool)
    out["is_use_values"] = out["is_use_values"].astype("boolean")
    out["file_row"] = out["file_row"].astype("Int64")
    return out


def _row(
    fid,
    name,
    ptype,
    is_custom,
    sf_field,
    contact_sf,
    behavior,
    source,
    confidence,
    default,
    settings,
    prospects,
    leads,
    contacts,
    predefined,
    use_values,
    file_row,
) -> dict:
    policies = []
    fixed = FIXED.get(fid) if default is not None else None
    if fixed is not None:
        behavior, behavior_source, fixed_rule = fixed[0], "fixed", fixed[1]
    elif behavior is not None:
        behavior_source, fixed_rule = source, None
    elif fid == "opted_out" and default is not None:
        behavior, behavior_source, fixed_rule = opted_out_default(settings)
        if behavior_source == "policy":
            policies.append("opted_out_default_sync")
    elif default is not None:
        # Standard fields: "in most cases, Salesforce is the primary system" (F-5, H7).
        behavior, behavior_source, fixed_rule = "use_salesforce", "default", None
    else:
        # Custom field with no behaviour in the file: policy (F-6, UNCONFIRMED).
        behavior, behavior_source, fixed_rule = settings.custom_field_default_sync, "policy", None
        policies.append("custom_field_default_sync")
    default_col = default[2] if default is not None else None
    if fid == "company":
        contact_col = sf_column(contacts, "sf_contacts", "Account.Name")
    else:
        contact_col = sf_column(contacts, "sf_contacts", contact_sf)
    return {
        "pardot_field_id": fid,
        "pardot_field_name": name,
        "pardot_type": ptype,
        "is_custom": bool(is_custom),
        "sf_field": sf_field if sf_field is not None else contact_sf,
        "contact_sf_field": contact_sf,
        "sync_behavior": behavior,
        "sync_behavior_source": behavior_source,
        "source": source,
        "confidence": confidence,
        "prospect_column": _prospect_column(prospects, fid, name, default_col),
        "lead_column": sf_column(leads, "sf_leads", sf_field),
        "contact_column": contact_col,
        "predefined_values": predefined,
        "is_use_values": None if use_values is None or pd.isna(use_values) else bool(use_values),
        "fixed_rule": fixed_rule,
        "policies": ";".join(policies),
        "file_row": file_row,
    }
