"""schema.py: header keys, per-table resolution, every declared alias resolves to its column."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from assessment.schema import TABLES, header_key, schema, schemas

ROWS = list(
    csv.DictReader(
        resources.files("assessment").joinpath("column_aliases.csv").read_text("utf-8").splitlines()
    )
)
ALIASES = [
    (r["table"], alias.strip(), r["canonical"])
    for r in ROWS
    for alias in [r["canonical"], *r["aliases_seen"].split("|"), *r["aliases_proposed"].split("|")]
    if alias.strip()
]
# dtypes load.py knows how to normalise (docs/architecture.md)
KNOWN_DTYPES = {
    "sf_id",
    "sf_id_or_sentinel",
    "email_str",
    "string",
    "boolean",
    "datetime",
    "datetime_utc",
    "date",
    "pardot_id",
    "float",
    "Int64",
    "category",
}


@pytest.mark.parametrize(
    "header, key",
    [
        ("CRM Lead FID", "crmleadfid"),
        ("crm_lead_fid", "crmleadfid"),
        ("CRMLEADFID", "crmleadfid"),
        ("pi__score__c", "piscorec"),
        ("pi_score_c", "piscorec"),
        ("\ufeffId", "id"),
        ("  Lead ID ", "leadid"),
        ("Owner.Username", "ownerusername"),
        ("Zip/Postal Code", "zippostalcode"),
    ],
)
def test_header_key(header, key):
    assert header_key(header) == key


@pytest.mark.parametrize("table, alias, canonical", ALIASES)
def test_every_alias_resolves(table, alias, canonical):
    assert schema(table).canonical_for(alias) == canonical
    assert schema(table).canonical_for(alias.upper()) == canonical  # Data Loader ≤ v60


@pytest.mark.parametrize(
    "table, header, canonical",
    [
        ("sf_leads", "ID", "id"),
        ("pardot_prospects", "id", "prospect_id"),
        ("pardot_prospects", "Prospect Id", "prospect_id"),
        ("pardot_users", "id", "user_id"),
        ("pardot_prospects", "salesforceLeadId", "crm_lead_fid"),
        ("pardot_prospects", "CRM Contact FID", "crm_contact_fid"),
        ("pardot_prospects", "assigned_to.user.id", "assigned_user_id"),
        ("pardot_prospects", "user_id", "assigned_user_id"),
        ("pardot_prospects", "Created Date", "created_at"),
        ("sf_leads", "Lead Owner", "owner_name"),
        ("sf_leads", "Company / Account", "company"),
        ("sf_leads", "PI__SCORE__C", "pardot_score"),
        ("sf_accounts", "PersonEmail", "person_email"),
        ("field_mappings", "type_id", "pardot_type"),
        ("field_mappings", "crm_id", "sf_field"),
        ("sync_errors", "sf__Error", "error_message"),
        ("sf_leads", "Favourite_Colour__c", None),
    ],
)
def test_resolution_is_per_table(table, header, canonical):
    assert schema(table).canonical_for(header) == canonical


def test_required_columns():
    assert schema("sf_leads").required == ["id", "email"]
    assert schema("pardot_prospects").required == ["prospect_id", "email"]
    assert schema("pardot_users").required == ["user_id"]
    assert schema("field_mappings").required == []  # needs pardot_field_id or _name (load.py)
    assert schema("sync_errors").required == ["error_message"]


def test_tables_and_dtypes():
    assert set(schemas()) == set(TABLES)
    for table in TABLES:
        sch = schema(table)
        assert sch.columns, table
        for c in sch.columns:
            assert c.dtype in KNOWN_DTYPES, (table, c.name, c.dtype)
    assert schema("pardot_prospects").column("crm_lead_fid").dtype == "sf_id_or_sentinel"
    assert schema("sf_leads").columns_of("email_str") == ["email"]


def test_unknown_table_and_column():
    with pytest.raises(KeyError, match="unknown table"):
        schema("sf_opportunities")
    with pytest.raises(KeyError):
        schema("sf_leads").column("nope")
