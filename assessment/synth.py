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
import yaml

from .errors import InputError
from .normalize import _id18_from_bytes
from .settings import ConnectorSettings, settings_from_mapping

BOM = b"\xef\xbb\xbf"
_CHUNK_ROWS = 200_000  # rows formatted at a time when writing a CSV
_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)

FIRST = "Ava Ben Cleo Dario Elin Farid Greta Hugo Ines Jonas Kira Luca Mina Nils Omar Pia Quinn Rosa Sami Tove Uma Vik Wren Xena Yusuf Zoe".split()
LAST = "Alder Brook Carver Dale Ember Frost Glenn Hollis Irving Jarrow Keel Lark Moss Nash Orrin Pike Quarry Rowe Sable Thorne Upton Vale Wick Yarrow Zeller".split()
COMPANY = "Northwind Contoso Fabrikam Tailspin Adatum Litware Proseware Wingtip Woodgrove Lucerne Margie Alpine Coho Humongous Trey".split()
SUFFIX = ["Ltd", "GmbH", "Inc", "Labs", "Group", "AB", "SA"]
TITLES = ["Analyst", "Engineer", "Marketing Manager", "Director of Sales", "CFO", "Consultant"]
SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
REGIONS = ["EMEA", "AMER", "APAC"]  # Region__c: restricted picklist in the describe files
BAD_REGIONS = ["Europe", "emea", "LATAM"]  # not exactly in the restricted value set (F-13, §7.2)
LONG_TITLE = (
    "Senior Vice President of Global Strategic Partnerships, Channel Enablement, Customer "
    "Lifecycle Marketing Operations and Regional Demand Generation, "
)
DOMAINS = ["example.com", "example.org", "example.net"]
CONNECTOR_USER = "integration"

# Injected problem kinds: name -> (spec rule, checks it feeds, description, size factor).
KINDS: dict[str, tuple[str, tuple[str, ...], str, float]] = {
    "duplicate_leads": (
        "M-7",
        ("DUP002",),
        "two leads share an email; a prospect without CRM id ties between them "
        "(match_email_tie, newest lead picked; the other lead is shadowed: no_prospect)",
        1.0,
    ),
    "duplicate_contacts": (
        "M-7",
        ("DUP003",),
        "two contacts share an email; a prospect without CRM id ties (newest contact picked)",
        0.6,
    ),
    "lead_contact_shared_email": (
        "M-7",
        ("DUP004",),
        "a lead and a contact share an email; a prospect without CRM id ties (contact picked)",
        0.8,
    ),
    "duplicate_prospects": (
        "M-1",
        ("DUP001", "UNA003"),
        "two assigned prospects share an email that no lead/contact has: both predicted create_lead",
        0.5,
    ),
    "email_case_whitespace_variants": (
        "M-13",
        ("DUP005",),
        "prospect email equals a contact's only after trim + casefold: match_email with caution",
        0.7,
    ),
    "unassigned_no_match": (
        "CR-4",
        ("UNA001",),
        "unassigned prospect, no CRM id, no same-email lead/contact: pardot_only",
        1.2,
    ),
    "unassigned_will_link": (
        "M-6",
        ("UNA002",),
        "unassigned prospect, no CRM id, exactly one same-email lead: match_email",
        0.9,
    ),
    "assigned_no_match": (
        "CR-1",
        ("UNA003",),
        "assigned prospect (mapped, active owner), no CRM id, no match: create_lead",
        1.1,
    ),
    "owner_unmapped": (
        "U-4",
        ("USR002", "USR001", "UNA003"),
        "prospects assigned to a Pardot user that maps to no Salesforce user, no match: "
        "create_lead owned by the connector user (policy unmapped_owner)",
        0.4,
    ),
    "owner_inactive": (
        "U-5",
        ("USR003",),
        "prospects assigned to a Pardot user mapped to an inactive Salesforce user, no match: "
        "will_error INACTIVE_OWNER_OR_USER (policy inactive_owner)",
        0.3,
    ),
    "short_crm_ids": (
        "ID-2",
        ("SYN002",),
        "prospects carry a 15-character CRM Lead FID of an existing lead: linked",
        0.5,
    ),
    "stale_crm_ids": (
        "ID-5",
        ("SYN001",),
        "prospects carry a valid 18-character lead/contact id absent from the export: stale_crm_id",
        0.6,
    ),
    "crm_deleted_sentinel": (
        "M-21",
        ("SYN001",),
        "prospects whose CRM Lead FID is [[crm_deleted]]: stale_crm_id, never re-created",
        0.35,
    ),
    "crm_ignore_sentinel": (
        "M-22",
        (),
        "prospects whose CRM id is [[crm_ignore_prospect]] (CRM sync disabled): pardot_only",
        0.25,
    ),
    "converted_leads": (
        "M-17",
        (),
        "converted lead (IsConverted, ConvertedContactId) with a prospect pointing at the lead "
        "id: the prospect is linked to the contact; the lead is no_prospect (converted)",
        0.8,
    ),
    "blank_email_records": (
        "M-16",
        ("DUP006",),
        "leads and contacts with a blank email: no_prospect",
        0.45,
    ),
    "invalid_prospect_email": (
        "M-14",
        ("DUP006",),
        "assigned prospect with a syntactically invalid email and no match: will_error "
        "INVALID_EMAIL_ADDRESS (policy invalid_email)",
        0.55,
    ),
    "restricted_picklist_value": (
        "F-13",
        ("FLD003",),
        "assigned prospect, no match, Region not in the restricted Region__c picklist: will_error "
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        0.65,
    ),
    "value_too_long": (
        "F-14",
        ("FLD004",),
        "assigned prospect, no match, Job Title longer than Lead.Title (128): will_error "
        "STRING_TOO_LONG (policy long_values)",
        0.3,
    ),
    "blank_last_name": (
        "CR-5",
        ("FLD007", "UNA003"),
        "assigned prospect, no match, blank Last Name: create_lead flagged as a risk "
        "(policy blank_last_name = risk)",
        0.2,
    ),
    "person_accounts": (
        "M-19",
        (),
        "person accounts (IsPersonAccount, PersonEmail, PersonContactId); their prospects link "
        "to the PersonContactId, half by email (match_email), half by CRM Contact FID (linked)",
        0.75,
    ),
    "user_report_short_ids": (
        "ID-1",
        ("SYN002",),
        "User.csv is a Salesforce report export: field labels and 15-character ids",
        0.0,
    ),
    "not_backfilled": (
        "CR-11",
        ("SYN005",),
        "leads/contacts with an email and no prospect; auto-create is off and not retroactive: "
        "no_prospect",
        0.5,
    ),
}

# Compact describe metadata taken from the real CumulusCI describe bodies in
# shared/reference/salesforce/describe (standard fields), plus the fields the sample needs.
# (name, label, type, length, nillable, createable, updateable, defaultedOnCreate, picklist, ref)
_F = tuple[str, str, str, int, bool, bool, bool, bool, tuple[str, ...], tuple[str, ...]]
_SAL = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx.")
_COMMON_TAIL: list[_F] = [
    ("HasOptedOutOfEmail", "Email Opt Out", "boolean", 0, False, True, True, True, (), ()),
    ("DoNotCall", "Do Not Call", "boolean", 0, False, True, True, True, (), ()),
    ("Region__c", "Region", "picklist", 255, True, True, True, False, tuple(REGIONS), ()),
    ("CreatedDate", "Created Date", "datetime", 0, False, False, False, True, (), ()),
    ("LastModifiedDate", "Last Modified Date", "datetime", 0, False, False, False, True, (), ()),
    ("SystemModstamp", "System Modstamp", "datetime", 0, False, False, False, True, (), ()),
]
_LEAD: list[_F] = [
    ("Id", "Lead ID", "id", 18, False, False, False, True, (), ()),
    ("IsDeleted", "Deleted", "boolean", 0, False, False, False, True, (), ()),
    (
        "MasterRecordId",
        "Master Record ID",
        "reference",
        18,
        True,
        False,
        False,
        False,
        (),
        ("Lead",),
    ),
    ("LastName", "Last Name", "string", 80, False, True, True, False, (), ()),
    ("FirstName", "First Name", "string", 40, True, True, True, False, (), ()),
    ("Salutation", "Salutation", "picklist", 40, True, True, True, False, _SAL, ()),
    ("Name", "Full Name", "string", 121, False, False, False, False, (), ()),
    ("Title", "Title", "string", 128, True, True, True, False, (), ()),
    ("Company", "Company", "string", 255, False, True, True, False, (), ()),
    ("Street", "Street", "textarea", 255, True, True, True, False, (), ()),
    ("City", "City", "string", 40, True, True, True, False, (), ()),
    ("State", "State/Province", "string", 80, True, True, True, False, (), ()),
    ("PostalCode", "Zip/Postal Code", "string", 20, True, True, True, False, (), ()),
    ("Country", "Country", "string", 80, True, True, True, False, (), ()),
    ("Phone", "Phone", "phone", 40, True, True, True, False, (), ()),
    ("Email", "Email", "email", 80, True, True, True, False, (), ()),
    ("Website", "Website", "url", 255, True, True, True, False, (), ()),
    ("Description", "Description", "textarea", 32000, True, True, True, False, (), ()),
    ("LeadSource", "Lead Source", "picklist", 255, True, True, True, False, tuple(SOURCES), ()),
    (
        "Status",
        "Status",
        "picklist",
        255,
        False,
        True,
        True,
        True,
        (
            "Open - Not Contacted",
            "Working - Contacted",
            "Closed - Converted",
            "Closed - Not Converted",
        ),
        (),
    ),
    ("AnnualRevenue", "Annual Revenue", "currency", 0, True, True, True, False, (), ()),
    ("NumberOfEmployees", "Employees", "int", 0, True, True, True, False, (), ()),
    ("OwnerId", "Owner ID", "reference", 18, False, True, True, True, (), ("Group", "User")),
    ("IsConverted", "Converted", "boolean", 0, False, True, False, True, (), ()),
    ("ConvertedDate", "Converted Date", "date", 0, True, False, False, False, (), ()),
    (
        "ConvertedAccountId",
        "Converted Account ID",
        "reference",
        18,
        True,
        False,
        False,
        False,
        (),
        ("Account",),
    ),
    (
        "ConvertedContactId",
        "Converted Contact ID",
        "reference",
        18,
        True,
        False,
        False,
        False,
        (),
        ("Contact",),
    ),
] + _COMMON_TAIL
_CONTACT: list[_F] = [
    ("Id", "Contact ID", "id", 18, False, False, False, True, (), ()),
    ("IsDeleted", "Deleted", "boolean", 0, False, False, False, True, (), ()),
    (
        "MasterRecordId",
        "Master Record ID",
        "reference",
        18,
        True,
        False,
        False,
        False,
        (),
        ("Contact",),
    ),
    ("AccountId", "Account ID", "reference", 18, True, True, True, False, (), ("Account",)),
    ("LastName", "Last Name", "string", 80, False, True, True, False, (), ()),
    ("FirstName", "First Name", "string", 40, True, True, True, False, (), ()),
    ("Salutation", "Salutation", "picklist", 40, True, True, True, False, _SAL[:5], ()),
    ("Name", "Full Name", "string", 121, False, False, False, False, (), ()),
    ("MailingStreet", "Mailing Street", "textarea", 255, True, True, True, False, (), ()),
    ("MailingCity", "Mailing City", "string", 40, True, True, True, False, (), ()),
    ("MailingCountry", "Mailing Country", "string", 80, True, True, True, False, (), ()),
    ("Phone", "Business Phone", "phone", 40, True, True, True, False, (), ()),
    ("Email", "Email", "email", 80, True, True, True, False, (), ()),
    ("Title", "Title", "string", 128, True, True, True, False, (), ()),
    ("Department", "Department", "string", 80, True, True, True, False, (), ()),
    ("LeadSource", "Lead Source", "picklist", 255, True, True, True, False, tuple(SOURCES), ()),
    ("Description", "Contact Description", "textarea", 32000, True, True, True, False, (), ()),
    ("OwnerId", "Owner ID", "reference", 18, False, True, True, True, (), ("User",)),
    ("IsEmailBounced", "Is Email Bounced", "boolean", 0, False, False, False, True, (), ()),
] + _COMMON_TAIL
_ACCOUNT: list[_F] = [
    ("Id", "Account ID", "id", 18, False, False, False, True, (), ()),
    ("IsDeleted", "Deleted", "boolean", 0, False, False, False, True, (), ()),
    ("Name", "Account Name", "string", 255, True, True, True, False, (), ()),
    ("LastName", "Last Name", "string", 80, True, True, True, False, (), ()),
    ("FirstName", "First Name", "string", 40, True, True, True, False, (), ()),
    (
        "Type",
        "Account Type",
        "picklist",
        255,
        True,
        True,
        True,
        False,
        ("Prospect", "Customer - Direct", "Customer - Channel", "Other"),
        (),
    ),
    (
        "RecordTypeId",
        "Record Type ID",
        "reference",
        18,
        True,
        True,
        True,
        False,
        (),
        ("RecordType",),
    ),
    ("BillingCountry", "Billing Country", "string", 80, True, True, True, False, (), ()),
    ("Phone", "Account Phone", "phone", 40, True, True, True, False, (), ()),
    ("OwnerId", "Owner ID", "reference", 18, False, True, True, True, (), ("User",)),
    ("CreatedDate", "Created Date", "datetime", 0, False, False, False, True, (), ()),
    ("LastModifiedDate", "Last Modified Date", "datetime", 0, False, False, False, True, (), ()),
    ("PersonContactId", "Contact ID", "reference", 18, True, False, False, False, (), ("Contact",)),
    ("IsPersonAccount", "Is Person Account", "boolean", 0, False, False, False, True, (), ()),
    ("PersonEmail", "Email", "email", 80, True, True, True, False, (), ()),
    ("PersonTitle", "Title", "string", 80, True, True, True, False, (), ()),
    ("PersonHasOptedOutOfEmail", "Email Opt Out", "boolean", 0, False, True, True, True, (), ()),
    ("PersonDoNotCall", "Do Not Call", "boolean", 0, False, True, True, True, (), ()),
    (
        "PersonLeadSource",
        "Lead Source",
        "picklist",
        255,
        True,
        True,
        True,
        False,
        tuple(SOURCES),
        (),
    ),
]
_DESCRIBE = {"Lead": ("00Q", _LEAD), "Contact": ("003", _CONTACT), "Account": ("001", _ACCOUNT)}

# Account Engagement UI prospect export header (export-formats.md §1.1; connector-behavior §9.1).
UI_HEADER = [
    "Prospect Id", "First Name", "Last Name", "Email", "Company", "Last Activity At", "Campaign",
    "Notes", "Score", "Grade", "Website", "Job Title", "Department", "Country", "Address One",
    "Address Two", "City", "State", "Territory", "Zip", "Phone", "Fax", "Source",
    "Annual Revenue", "Employees", "Industry", "Do Not Email", "Do Not Call",
    "Years In Business", "Comments", "Salutation", "Opted Out", "Referrer", "Created Date",
    "Updated Date", "User", "First Assigned", "CRM Contact FID", "CRM Lead FID", "Region",
]  # fmt: skip
V4_HEADER = [
    "id", "campaign_id", "salutation", "first_name", "last_name", "email", "company", "website",
    "job_title", "department", "country", "address_one", "address_two", "city", "state",
    "territory", "zip", "phone", "fax", "source", "annual_revenue", "employees", "industry",
    "years_in_business", "comments", "score", "last_activity_at", "crm_lead_fid",
    "crm_contact_fid", "crm_owner_fid", "crm_account_fid", "crm_last_sync", "crm_url",
    "is_do_not_email", "is_do_not_call", "opted_out", "is_reviewed", "is_starred", "created_at",
    "updated_at", "user_id", "Region",
]  # fmt: skip


def _s(values: Any) -> pa.Array:
    """Any array-like of text as a pyarrow string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.large_string() else values.cast(pa.string())
    arr = np.asarray(values)
    if arr.dtype.kind == "S":
        return pa.array(arr).cast(pa.string())
    if arr.dtype.kind in "iu":
        return pa.array(arr).cast(pa.string())
    return pa.array(arr, type=pa.string())


def _cat(*parts: Any) -> pa.Array:
    """Element-wise concatenation of string arrays / scalars."""
    arrays = [p if isinstance(p, str) else _s(p) for p in parts]
    large = any(not isinstance(a, str) and a.type == pa.large_string() for a in arrays)
    kind = pa.large_string() if large else pa.string()
    arrays = [pa.scalar(a, kind) if isinstance(a, str) else a.cast(kind) for a in arrays]
    return pc.binary_join_element_wise(*arrays, pa.scalar("", kind))


def _pick(choices: list[str], index: np.ndarray) -> pa.Array:
    """choices[index] as a pyarrow string array (no Python objects per record)."""
    return pa.array(choices, pa.string()).take(pa.array(index))


def _join(arrays: list[pa.Array], sep: str) -> pa.Array:
    """Element-wise join of several (large) string arrays with a separator."""
    return pc.binary_join_element_wise(*arrays, pa.scalar(sep, arrays[0].type))


def _null(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


class _Org:
    """Accumulates the records of one synthetic org, block by block (vectorised per block)."""

    def __init__(self, seed: int, clean: bool) -> None:
        self.rng = np.random.default_rng(seed)
        self.clean = clean
        self.people = 0
        self.counters = {"00Q": 0, "003": 0, "001": 0, "005": 0, "stale": 0}
        self.blocks: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("leads", "contacts", "accounts", "prospects", "truth_p", "truth_sf")
        }
        self.kinds: dict[str, dict[str, list]] = {}
        self.n_prospects = 0

    # ----- identities -------------------------------------------------------------------
    def ids(self, prefix: str, n: int, *, stale: bool = False) -> np.ndarray:
        """n unique 18-character Salesforce ids (ID-2 checksum) with a key prefix (ID-3)."""
        key = "stale" if stale else prefix
        start = self.counters.setdefault(key, 0) + (30_000_000_000 if stale else 1_000)
        self.counters[key] += n
        num = np.arange(start, start + n, dtype=np.int64)
        digits = np.empty((n, 6), np.uint8)
        for i in range(5, -1, -1):  # 6 base-62 digits (a loop over digit positions, not records)
            digits[:, i] = _B62[num % 62]
            num //= 62
        head = np.frombuffer((prefix + "5g00000").encode(), np.uint8)[:9]
        u8 = np.concatenate([np.broadcast_to(head, (n, 9)), digits], axis=1)
        return np.ascontiguousarray(_id18_from_bytes(u8)).view("S18").ravel()  # bytes: fast

    def person(self, n: int) -> dict[str, Any]:
        """n synthetic people with unique emails and the values both sides of a pair share."""
        rng = self.rng
        idx = np.arange(self.people, self.people + n)
        self.people += n
        first = _pick(FIRST, rng.integers(0, len(FIRST), n))
        last = _pick(LAST, rng.integers(0, len(LAST), n))
        domain = _pick(DOMAINS, idx % len(DOMAINS))
        email = _cat(pc.utf8_lower(first), ".", pc.utf8_lower(last), ".", _s(idx), "@", domain)
        company = _cat(
            _pick(COMPANY, rng.integers(0, len(COMPANY), n)),
            " ",
            _pick(SUFFIX, rng.integers(0, len(SUFFIX), n)),
        )
        phone = _cat("+1-555-01", pc.utf8_lpad(_s(idx % 100), 2, "0"))
        created = np.datetime64("2019-01-01T00:00:00") + rng.integers(0, 5 * 365 * 86400, n).astype(
            "timedelta64[s]"
        )
        modified = created + rng.integers(3600, 300 * 86400, n).astype("timedelta64[s]")
        return {
            "first": first,
            "last": last,
            "email": email,
            "company": company,
            "title": _pick(TITLES, rng.integers(0, len(TITLES), n)),
            "phone": phone,
            "source": _pick(SOURCES, rng.integers(0, len(SOURCES), n)),
            "region": _pick(REGIONS, rng.integers(0, len(REGIONS), n)),
            "opted_out": rng.random(n) < 0.08,
            "created": created,
            "modified": modified,
        }

    # ----- records ---------------------------------------------------------------------
    def sf_record(
        self, table: str, p: dict[str, Any], owner: np.ndarray, **extra: Any
    ) -> np.ndarray:
        """Add leads or contacts for people ``p``; returns their ids."""
        n = len(p["email"])
        prefix = "00Q" if table == "leads" else "003"
        ids = extra.pop("ids", None)
        if ids is None:
            ids = self.ids(prefix, n)
        block = {**p, "id": ids, "owner": owner, **extra}
        self.blocks[table].append(block)
        return ids

    def prospect(self, p: dict[str, Any], user: np.ndarray, **extra: Any) -> np.ndarray:
        """Add prospects for people ``p`` assigned to Pardot user positions ``user`` (-1 = none)."""
        n = len(p["email"])
        keys = np.arange(self.n_prospects, self.n_prospects + n)
        self.n_prospects += n
        self.blocks["prospects"].append({**p, "key": keys, "user": user, **extra})
        return keys

    def truth_p(
        self,
        keys: np.ndarray,
        outcome: str,
        sf_id: Any,
        case: str,
        error: str = "",
        policies: str = "",
    ) -> None:
        """Expected outcome of prospects (contract §4)."""
        n = len(keys)
        sf = _null(n) if sf_id is None else _s(sf_id)
        self.blocks["truth_p"].append(
            {
                "key": keys,
                "outcome": outcome,
                "sf_id": sf,
                "case": case,
                "error": error,
                "policies": policies,
            }
        )

    def truth_sf(
        self, obj: str, ids: np.ndarray, outcome: str, case: str, keys: Any = None
    ) -> None:
        """Expected outcome of Salesforce records (contract §5)."""
        n = len(ids)
        k = np.full(n, -1) if keys is None else np.asarray(keys)
        self.blocks["truth_sf"].append(
            {"obj": obj, "id": ids, "outcome": outcome, "case": case, "key": k}
        )

    def kind(self, name: str, **records: Any) -> None:
        """Record the ids of an injected problem kind (prospects as internal keys)."""
        entry = self.kinds.setdefault(name, {})
        for obj, values in records.items():
            entry.setdefault(obj, []).append(np.asarray(values))


def _sizes(prospects: int, leads: int, contacts: int) -> tuple[int, dict[str, int]]:
    unit = max(1, min(prospects // 100, leads // 40, contacts // 30))
    return unit, {name: max(1, int(round(unit * spec[3]))) for name, spec in KINDS.items()}


def _fail(message: str) -> InputError:
    return InputError(f"synth: {message}")


def _build(prospects: int, leads: int, contacts: int, seed: int, clean: bool) -> dict[str, Any]:
    """Create every record and its expected outcome; returns the org parts."""
    if min(prospects, leads, contacts) < 0 or prospects < 1:
        raise _fail("--prospects must be at least 1 and no count may be negative")
    org = _Org(seed, clean)
    rng = org.rng

    # --- users: active mapped Salesforce users, their Pardot users (U-1, U-2) -------------
    n_users = int(np.clip(prospects // 150, 5, 60))
    u_people = org.person(n_users)
    u_ids = org.ids("005", n_users)
    users = {
        "id": [i.decode() for i in u_ids],  # a few dozen users
        "first": u_people["first"].to_pylist(),
        "last": u_people["last"].to_pylist(),
        "active": [True] * n_users,
        "mapped": [True] * n_users,
    }
    inactive_pos = unmapped_pos = -1
    if not clean:
        inactive_pos, unmapped_pos = n_users, n_users + 1
        extra = org.person(2)
        # one inactive Salesforce user; the unmapped Pardot user has no Salesforce user
        users["id"] += [org.ids("005", 1)[0].decode(), ""]
        users["first"] += extra["first"].to_pylist()
        users["last"] += extra["last"].to_pylist()
        users["active"] += [False, True]
        users["mapped"] += [True, False]
    owner_of = np.array(users["id"], dtype="S18")

    def pick_users(n: int) -> np.ndarray:
        return rng.integers(0, n_users, n)

    # --- injected kinds ------------------------------------------------------------------
    unit, size = _sizes(prospects, leads, contacts)
    if clean:
        size = {k: 0 for k in size}
        if prospects != leads + contacts:
            raise _fail(
                "a clean org links every lead and contact to its own prospect, so --prospects "
                f"must equal --leads + --contacts ({leads} + {contacts} = {leads + contacts}, "
                f"got {prospects})"
            )
    use_p = (
        size["duplicate_leads"] + size["duplicate_contacts"] + size["lead_contact_shared_email"]
        + 2 * size["duplicate_prospects"] + size["email_case_whitespace_variants"]
        + size["unassigned_no_match"] + size["unassigned_will_link"] + size["assigned_no_match"]
        + size["owner_unmapped"] + size["owner_inactive"] + size["short_crm_ids"]
        + size["stale_crm_ids"] + size["crm_deleted_sentinel"] + size["crm_ignore_sentinel"]
        + size["converted_leads"] + size["invalid_prospect_email"]
        + size["restricted_picklist_value"] + size["value_too_long"] + size["blank_last_name"]
        + size["person_accounts"]
    )  # fmt: skip
    blank_l = (size["blank_email_records"] + 1) // 2
    blank_c = size["blank_email_records"] - blank_l
    np_l = (size["not_backfilled"] + 1) // 2
    np_c = size["not_backfilled"] - np_l
    use_l = (
        2 * size["duplicate_leads"] + size["lead_contact_shared_email"]
        + size["unassigned_will_link"] + size["short_crm_ids"] + size["converted_leads"]
        + blank_l + np_l
    )  # fmt: skip
    use_c = (
        2 * size["duplicate_contacts"] + size["lead_contact_shared_email"]
        + size["email_case_whitespace_variants"] + size["converted_leads"] + blank_c + np_c
    )  # fmt: skip
    rem_p, rem_l, rem_c = prospects - use_p, leads - use_l, contacts - use_c
    if min(rem_p, rem_l, rem_c) < 0:
        raise _fail(
            f"counts too small for the injected problems (need at least {use_p} prospects, "
            f"{use_l} leads, {use_c} contacts; use --clean for a tiny org)"
        )
    pairs = min(rem_p, rem_l + rem_c)
    base_l = min(rem_l, int(round(pairs * rem_l / max(1, rem_l + rem_c))))
    base_c = min(rem_c, pairs - base_l)
    base_l = pairs - base_c
    extra_create = rem_p - pairs  # more prospects than records: more assigned_no_match
    size["assigned_no_match"] += extra_create
    np_l += rem_l - base_l  # more records than prospects: more not_backfilled records
    np_c += rem_c - base_c
    size["not_backfilled"] = np_l + np_c

    # --- business accounts for contacts --------------------------------------------------
    n_acc = max(1, contacts // 5) if contacts else 0
    acc_people = org.person(n_acc)
    acc_ids = org.ids("001", n_acc)
    acc_owner = owner_of[pick_users(n_acc)]
    org.blocks["accounts"].append(
        {
            "id": acc_ids,
            "name": acc_people["company"],
            "owner": acc_owner,
            "type": _s(np.array(["Prospect", "Customer - Direct"])[rng.integers(0, 2, n_acc)]),
            "is_person": np.zeros(n_acc, bool),
            "created": acc_people["created"],
            "modified": acc_people["modified"],
        }
    )

    def contact_people(n: int) -> tuple[dict[str, Any], np.ndarray]:
        p = org.person(n)
        a = rng.integers(0, max(1, n_acc), n)
        p["company"] = acc_people["company"].take(pa.array(a))  # Company = Account.Name (F-5)
        return p, acc_ids[a] if n_acc else np.full(n, b"")

    def lead_pair(n: int, users_: np.ndarray | None = None) -> tuple[dict, np.ndarray, np.ndarray]:
        p = org.person(n)
        u = pick_users(n) if users_ is None else users_
        ids = org.sf_record("leads", p, owner_of[u])
        return p, ids, u

    def contact_pair(n: int) -> tuple[dict, np.ndarray, np.ndarray]:
        p, acc = contact_people(n)
        u = pick_users(n)
        ids = org.sf_record("contacts", p, owner_of[u], account=acc)
        return p, ids, u

    # --- base: clean pairs; 80 % linked by CRM id (M-2), 20 % by email (M-5) ------------
    for table, n in (("leads", base_l), ("contacts", base_c)):
        if n == 0:
            continue
        obj = "Lead" if table == "leads" else "Contact"
        p, ids, u = lead_pair(n) if table == "leads" else contact_pair(n)
        linked = rng.random(n) < 0.8
        col = "crm_lead" if table == "leads" else "crm_contact"
        crm = np.where(linked, ids, b"")
        keys = org.prospect(p, u, **{col: crm})
        org.truth_p(keys[linked], "linked", ids[linked], f"base_linked_{obj.lower()}")
        org.truth_p(keys[~linked], "match_email", ids[~linked], f"base_match_{obj.lower()}")
        org.truth_sf(obj, ids, "linked", f"base_{obj.lower()}", keys)

    if not clean:
        _inject(org, size, pick_users, owner_of, lead_pair, contact_people,
                inactive_pos, unmapped_pos, blank_l, blank_c, np_l, np_c)  # fmt: skip
    return {"org": org, "users": users, "unit": unit, "size": size, "n_users": n_users}


def _inject(org, size, pick_users, owner_of, lead_pair, contact_people,
            inactive_pos, unmapped_pos, blank_l, blank_c, np_l, np_c) -> None:  # fmt: skip
    """Add every injected problem kind, each record carrying exactly one problem."""

    def newer(p: dict, by_seconds: int) -> dict:
        q = dict(p)
        q["modified"] = p["modified"] + np.timedelta64(by_seconds, "s")
        return q

    # Duplicate leads: member A newer than member B -> tie-break picks A (M-7, policy tie_break).
    n = size["duplicate_leads"]
    p = org.person(n)
    u = pick_users(n)
    a = org.sf_record("leads", newer(p, 86400), owner_of[u])
    b = org.sf_record("leads", p, owner_of[u])
    k = org.prospect(p, u)
    org.truth_p(k, "match_email_tie", a, "duplicate_leads", policies="tie_break")
    org.truth_sf("Lead", a, "linked", "duplicate_leads_pick", k)
    org.truth_sf("Lead", b, "no_prospect", "duplicate_leads_shadowed")
    org.kind("duplicate_leads", leads=np.concatenate([a, b]), prospects=k)

    n = size["duplicate_contacts"]
    p, acc = contact_people(n)
    u = pick_users(n)
    a = org.sf_record("contacts", newer(p, 86400), owner_of[u], account=acc)
    b = org.sf_record("contacts", p, owner_of[u], account=acc)
    k = org.prospect(p, u)
    org.truth_p(k, "match_email_tie", a, "duplicate_contacts", policies="tie_break")
    org.truth_sf("Contact", a, "linked", "duplicate_contacts_pick", k)
    org.truth_sf("Contact", b, "no_prospect", "duplicate_contacts_shadowed")
    org.kind("duplicate_contacts", contacts=np.concatenate([a, b]), prospects=k)

    # Lead and contact share an email: contact over lead (M-7 default contact_then_newest);
    # the lead is newer, so a "newest" rule would pick the other record.
    n = size["lead_contact_shared_email"]
    p, acc = contact_people(n)
    u = pick_users(n)
    c = org.sf_record("contacts", p, owner_of[u], account=acc)
    lead = org.sf_record("leads", newer(p, 86400), owner_of[u])
    k = org.prospect(p, u)
    org.truth_p(k, "match_email_tie", c, "lead_contact_shared_email", policies="tie_break")
    org.truth_sf("Contact", c, "linked", "lead_contact_shared_pick", k)
    org.truth_sf("Lead", lead, "no_prospect", "lead_contact_shared_shadowed")
    org.kind("lead_contact_shared_email", leads=lead, contacts=c, prospects=k)

    # Duplicate prospects (same email twice, no Salesforce record): both create a lead (CR-1).
    n = size["duplicate_prospects"]
    p = org.person(n)
    u = pick_users(n)
    k1 = org.prospect(p, u)
    k2 = org.prospect(p, pick_users(n))
    for kk in (k1, k2):
        org.truth_p(kk, "create_lead", None, "duplicate_prospects")
    org.kind("duplicate_prospects", prospects=np.concatenate([k1, k2]))

    # Case / whitespace variants (M-13): prospect email differs from the contact's only by case
    # (and, for every third, surrounding spaces).
    n = size["email_case_whitespace_variants"]
    p, acc = contact_people(n)
    u = pick_users(n)
    c = org.sf_record("contacts", p, owner_of[u], account=acc)
    q = dict(p)
    variant = pc.utf8_capitalize(p["email"])  # "Ava.moss.12@example.com"
    spaced = _cat(" ", variant, " ")
    q["email"] = pc.if_else(pa.array(np.arange(n) % 3 == 2), spaced, variant)
    k = org.prospect(q, u)
    org.truth_p(
        k, "match_email", c, "email_case_whitespace_variants", policies="email_case_insensitive"
    )
    org.truth_sf("Contact", c, "linked", "email_variant_contact", k)
    org.kind("email_case_whitespace_variants", contacts=c, prospects=k)

    # Unassigned prospects (M-6, CR-4).
    n = size["unassigned_no_match"]
    k = org.prospect(org.person(n), np.full(n, -1))
    org.truth_p(k, "pardot_only", None, "unassigned_no_match")
    org.kind("unassigned_no_match", prospects=k)

    n = size["unassigned_will_link"]
    p, ids, _ = lead_pair(n)
    k = org.prospect(p, np.full(n, -1))
    org.truth_p(k, "match_email", ids, "unassigned_will_link")
    org.truth_sf("Lead", ids, "linked", "unassigned_will_link_lead", k)
    org.kind("unassigned_will_link", prospects=k, leads=ids)

    # Assigned, no match: the connector creates a lead (CR-1).
    n = size["assigned_no_match"]
    k = org.prospect(org.person(n), pick_users(n))
    org.truth_p(k, "create_lead", None, "assigned_no_match")
    org.kind("assigned_no_match", prospects=k)

    # Owner problems (U-4, U-5).
    n = size["owner_unmapped"]
    k = org.prospect(org.person(n), np.full(n, unmapped_pos))
    org.truth_p(k, "create_lead", None, "owner_unmapped", policies="unmapped_owner")
    org.kind("owner_unmapped", prospects=k, pardot_user_positions=[unmapped_pos])

    n = size["owner_inactive"]
    k = org.prospect(org.person(n), np.full(n, inactive_pos))
    org.truth_p(k, "will_error", None, "owner_inactive", "INACTIVE_OWNER_OR_USER", "inactive_owner")
    org.kind("owner_inactive", prospects=k, pardot_user_positions=[inactive_pos])

    # 15-character CRM ids of existing leads (ID-1, ID-2): linked.
    n = size["short_crm_ids"]
    p, ids, u = lead_pair(n)
    short = ids.astype("S15")  # the first 15 characters: case-sensitive form
    k = org.prospect(p, u, crm_lead=short)
    org.truth_p(k, "linked", ids, "short_crm_ids")
    org.truth_sf("Lead", ids, "linked", "short_crm_id_lead", k)
    org.kind("short_crm_ids", prospects=k, leads=ids)

    # Stale ids: valid ids absent from the export (ID-5), and the sentinels (M-21, M-22).
    n = size["stale_crm_ids"]
    half = (n + 1) // 2
    stale_l, stale_c = org.ids("00Q", half, stale=True), org.ids("003", n - half, stale=True)
    p = org.person(n)
    u = pick_users(n)
    k1 = org.prospect(
        {kk: _take(v, slice(0, half)) for kk, v in p.items()}, u[:half], crm_lead=stale_l
    )
    k2 = org.prospect(
        {kk: _take(v, slice(half, n)) for kk, v in p.items()}, u[half:], crm_contact=stale_c
    )
    k = np.concatenate([k1, k2])
    org.truth_p(k, "stale_crm_id", None, "stale_crm_ids")
    org.kind("stale_crm_ids", prospects=k, absent_ids=np.concatenate([stale_l, stale_c]))

    n = size["crm_deleted_sentinel"]
    k = org.prospect(org.person(n), pick_users(n), crm_lead=np.full(n, "[[crm_deleted]]"))
    org.truth_p(k, "stale_crm_id", None, "crm_deleted_sentinel")
    org.kind("crm_deleted_sentinel", prospects=k)

    n = size["crm_ignore_sentinel"]
    sentinel = np.full(n, "[[crm_ignore_prospect]]")
    k = org.prospect(org.person(n), pick_users(n), crm_lead=sentinel, crm_contact=sentinel)
    org.truth_p(k, "pardot_only", None, "crm_ignore_sentinel")
    org.kind("crm_ignore_sentinel", prospects=k)

    # Converted leads (M-17): prospect points at the lead id; follows ConvertedContactId.
    n = size["converted_leads"]
    p, acc = contact_people(n)
    u = pick_users(n)
    c = org.sf_record("contacts", newer(p, 3600), owner_of[u], account=acc)
    conv_date = p["modified"]
    lead = org.sf_record(
        "leads", p, owner_of[u], converted=np.ones(n, bool), conv_contact=c, conv_account=acc,
        conv_date=conv_date,
    )  # fmt: skip
    k = org.prospect(newer(p, 3600), u, crm_lead=lead)
    org.truth_p(k, "linked", c, "converted_leads")
    org.truth_sf("Contact", c, "linked", "converted_lead_contact", k)
    org.truth_sf("Lead", lead, "no_prospect", "converted_lead")
    org.kind("converted_leads", prospects=k, leads=lead, contacts=c)

    # Blank emails on Salesforce records (M-16): no_prospect.
    pl = org.person(blank_l)
    pl["email"] = _null(blank_l)
    bl = org.sf_record("leads", pl, owner_of[pick_users(blank_l)])
    pcn, acc = contact_people(blank_c)
    pcn["email"] = _null(blank_c)
    bc = org.sf_record("contacts", pcn, owner_of[pick_users(blank_c)], account=acc)
    org.truth_sf("Lead", bl, "no_prospect", "blank_email")
    org.truth_sf("Contact", bc, "no_prospect", "blank_email")
    org.kind("blank_email_records", leads=bl, contacts=bc)

    # Create-path write errors (F-15, §7.2, §10 step 3).
    n = size["invalid_prospect_email"]
    p = org.person(n)
    local = pc.replace_substring(p["email"], "@", "_at_")  # no "@": not an address
    nodot = pc.replace_substring_regex(p["email"], r"\.[a-z]+$", "")  # no dot in the domain
    p["email"] = pc.if_else(pa.array(np.arange(n) % 2 == 0), local, nodot)
    k = org.prospect(p, pick_users(n))
    org.truth_p(
        k, "will_error", None, "invalid_prospect_email", "INVALID_EMAIL_ADDRESS", "invalid_email"
    )
    org.kind("invalid_prospect_email", prospects=k)

    n = size["restricted_picklist_value"]
    p = org.person(n)
    p["region"] = _s(np.array(BAD_REGIONS)[np.arange(n) % len(BAD_REGIONS)])
    k = org.prospect(p, pick_users(n))
    org.truth_p(
        k,
        "will_error",
        None,
        "restricted_picklist_value",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    )
    org.kind("restricted_picklist_value", prospects=k)

    n = size["value_too_long"]
    p = org.person(n)
    p["title"] = _cat(LONG_TITLE, p["title"])  # > 128 characters whatever the suffix
    k = org.prospect(p, pick_users(n))
    org.truth_p(k, "will_error", None, "value_too_long", "STRING_TOO_LONG", "long_values")
    org.kind("value_too_long", prospects=k)

    n = size["blank_last_name"]
    p = org.person(n)
    p["last"] = _null(n)
    k = org.prospect(p, pick_users(n))
    org.truth_p(k, "create_lead", None, "blank_last_name", policies="blank_last_name")
    org.kind("blank_last_name", prospects=k)

    # Person accounts (M-19): matched by PersonEmail, linked to PersonContactId.
    n = size["person_accounts"]
    p = org.person(n)
    u = pick_users(n)
    pa_ids = org.ids("001", n)
    pc_ids = org.ids("003", n)
    name = _cat(p["first"], " ", p["last"])
    org.blocks["accounts"].append(
        {
            "id": pa_ids, "name": name, "owner": owner_of[u], "type": _null(n),
            "is_person": np.ones(n, bool), "person_email": p["email"], "person_contact": pc_ids,
            "first": p["first"], "last": p["last"], "person_opted_out": p["opted_out"],
            "created": p["created"], "modified": p["modified"],
        }
    )  # fmt: skip
    q = dict(p)
    q["company"] = name
    for col in ("title", "phone", "source", "region"):
        q[col] = _null(n)
    by_id = np.arange(n) % 2 == 1
    k = org.prospect(q, u, crm_contact=np.where(by_id, pc_ids, b""))
    org.truth_p(k[~by_id], "match_email", pc_ids[~by_id], "person_account_by_email")
    org.truth_p(k[by_id], "linked", pc_ids[by_id], "person_account_by_crm_id")
    org.truth_sf("PersonAccount", pa_ids, "linked", "person_account", k)
    org.kind("person_accounts", prospects=k, accounts=pa_ids)

    # Records with an email and no prospect: auto-create off and not retroactive (CR-9..CR-11).
    ln = org.sf_record("leads", org.person(np_l), owner_of[pick_users(np_l)])
    pcn, acc = contact_people(np_c)
    cn = org.sf_record("contacts", pcn, owner_of[pick_users(np_c)], account=acc)
    org.truth_sf("Lead", ln, "no_prospect", "not_backfilled")
    org.truth_sf("Contact", cn, "no_prospect", "not_backfilled")
    org.kind("not_backfilled", leads=ln, contacts=cn)


def _take(v: Any, sl: slice) -> Any:
    return v.slice(sl.start, sl.stop - sl.start) if isinstance(v, pa.Array) else v[sl]


# ----- assembling frames -------------------------------------------------------------------
_STR, _BOOL, _TS = "str", "bool", "ts"
_LEAD_COLS = {
    "id": _STR, "first": _STR, "last": _STR, "email": _STR, "company": _STR, "title": _STR,
    "phone": _STR, "source": _STR, "owner": _STR, "converted": _BOOL, "conv_contact": _STR,
    "conv_account": _STR, "conv_date": _TS, "opted_out": _BOOL, "region": _STR, "created": _TS,
    "modified": _TS,
}  # fmt: skip
_CONTACT_COLS = {
    "id": _STR, "account": _STR, "company": _STR, "first": _STR, "last": _STR, "email": _STR,
    "title": _STR, "phone": _STR, "source": _STR, "owner": _STR, "opted_out": _BOOL,
    "region": _STR, "created": _TS, "modified": _TS,
}  # fmt: skip
_ACCOUNT_COLS = {
    "id": _STR, "name": _STR, "owner": _STR, "type": _STR, "is_person": _BOOL,
    "person_email": _STR, "person_contact": _STR, "first": _STR, "last": _STR,
    "person_opted_out": _BOOL, "created": _TS, "modified": _TS,
}  # fmt: skip
_PROSPECT_COLS = {
    "key": "int", "first": _STR, "last": _STR, "email": _STR, "company": _STR, "title": _STR,
    "phone": _STR, "source": _STR, "region": _STR, "opted_out": _BOOL, "user": "int",
    "crm_lead": _STR, "crm_contact": _STR, "created": _TS, "modified": _TS,
}  # fmt: skip


def _column(block: dict[str, Any], name: str, kind: str, n: int) -> pa.Array:
    value = block.get(name)
    if kind == _STR:
        if value is None:
            return _null(n)
        arr = _s(value)
        return pc.if_else(pc.equal(arr, ""), _null(n), arr)  # "" means absent
    if kind == _BOOL:
        return pa.array(np.zeros(n, bool) if value is None else np.asarray(value, bool))
    if kind == _TS:
        if value is None:
            return pa.nulls(n, pa.timestamp("s"))
        return pa.array(np.asarray(value, "datetime64[s]"))
    return pa.array(np.zeros(n, np.int64) if value is None else np.asarray(value, np.int64))


def _assemble(blocks: list[dict[str, Any]], cols: dict[str, str]) -> pa.Table:
    tables = []
    for block in blocks:
        n = len(block["id"] if "id" in block else block["key"])
        tables.append(pa.table({c: _column(block, c, k, n) for c, k in cols.items()}))
    if not tables:
        return pa.table({c: _column({}, c, k, 0) for c, k in cols.items()})
    return pa.concat_tables(tables).combine_chunks()


def _shuffle(table: pa.Table, rng: np.random.Generator) -> pa.Table:
    return table.take(pa.array(rng.permutation(table.num_rows)))


# ----- formatting --------------------------------------------------------------------------
def _iso(ts: pa.Array, style: str) -> pa.Array:
    """Datetimes in an export's format: Data Loader ``…000Z``, REST/CLI ``…000+0000``, Pardot
    naive ``YYYY-MM-DD HH:MM:SS`` (user time zone; UTC here), date ``YYYY-MM-DD``."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    text = ts.cast(pa.timestamp("s")).cast(pa.string())  # "2019-01-01 00:00:00", nulls kept
    if style == "date":
        return pc.utf8_slice_codeunits(text, 0, 10)
    if style == "pardot":
        return text
    text = pc.replace_substring(text, " ", "T")
    return _cat(text, ".000Z" if style == "dataloader" else ".000+0000")


def _const(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _flag(values: pa.Array, true: str, false: str) -> pa.Array:
    return pc.if_else(values, true, false)


def _csv_field(values: pa.Array, quote_all: bool) -> pa.Array:
    """One column as CSV field text (RFC 4180 quoting), computed by Arrow kernels."""
    text = pc.fill_null(_s(values).cast(pa.large_string()), "")
    has_quote = pc.any(pc.match_substring(text, '"')).as_py()
    escaped = pc.replace_substring(text, '"', '""') if has_quote else text
    if quote_all:  # Data Loader: every field quoted, empty as "" (the line adds the outer quotes)
        return escaped
    needs = pc.match_substring(text, ",")  # generated values hold no line breaks
    if has_quote:
        needs = pc.or_(needs, pc.match_substring(text, '"'))
    if not pc.any(needs).as_py():
        return text
    return pc.if_else(needs, _cat('"', escaped, '"'), text)


def _write_csv(
    path: Path,
    header: list[str],
    columns: list[pa.Array],
    *,
    quote_all: bool = False,
    bom: bool = False,
) -> None:
    """Write one export file: header as given, fields quoted as the exporting tool does."""
    head = ",".join(f'"{h}"' if quote_all or "," in h else h for h in header)
    with open(path, "wb") as fh:
        fh.write((BOM if bom else b"") + head.encode() + b"\n")
        if not columns or len(columns[0]) == 0:
            return
        n = len(columns[0])
        for start in range(0, n, _CHUNK_ROWS):  # a loop over chunks of rows bounds memory
            part = [_s(c).slice(start, _CHUNK_ROWS) for c in columns]
            fh.write(_csv_lines(part, quote_all))


def _csv_lines(columns: list[pa.Array], quote_all: bool) -> memoryview:
    """CSV text of some rows, as one contiguous buffer."""
    fields = [_csv_field(c, quote_all) for c in columns]
    if quote_all:
        fields[0] = _cat('"', fields[0])
        fields[-1] = _cat(fields[-1], '"\n')
        lines = _join(fields, '","')
    else:
        fields[-1] = _cat(fields[-1], "\n")
        lines = _join(fields, ",")
    lines = pa.concat_arrays([lines]) if lines.offset else lines
    offsets = np.frombuffer(lines.buffers()[1], np.int64)[: len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]


def _describe_json(obj: str) -> dict[str, Any]:
    """A ``sf sobject describe --json`` body for the object (shape of the real CLI output)."""
    prefix, spec = _DESCRIBE[obj]
    fields = []
    for name, label, typ, length, nillable, create, update, default, values, ref in spec:
        fields.append(
            {
                "name": name,
                "label": label,
                "type": typ,
                "length": length,
                "nillable": nillable,
                "createable": create,
                "updateable": update,
                "defaultedOnCreate": default,
                "calculated": False,
                "custom": name.endswith("__c"),
                "restrictedPicklist": name == "Region__c",
                "picklistValues": [
                    {
                        "active": True,
                        "defaultValue": False,
                        "label": v,
                        "validFor": None,
                        "value": v,
                    }
                    for v in values
                ],
                "referenceTo": list(ref),
                "unique": False,
                "externalId": False,
            }
        )
    result = {"name": obj, "label": obj, "keyPrefix": prefix, "custom": False, "fields": fields}
    return {"status": 0, "result": result, "warnings": []}


# Opted Out is left to its default row (fields.py): admins list custom fields and a few others.
FIELD_MAPPINGS = [
    # Field Name, Field ID, Type, Salesforce Field, Sync Behavior, Custom, Predefined Values
    ("First Name", "first_name", "Text", "FirstName", "Use Salesforce's value", "No", ""),
    ("Last Name", "last_name", "Text", "LastName", "Use Salesforce's value", "No", ""),
    ("Company", "company", "Text", "Company", "Use Salesforce's value", "No", ""),
    ("Job Title", "job_title", "Text", "Title", "Use Salesforce's value", "No", ""),
    ("Phone", "phone", "Text", "Phone", "Use Salesforce's value", "No", ""),
    ("Source", "source", "Text", "LeadSource", "Use Salesforce's value", "No", ""),
    ("Region", "Region", "Dropdown", "Region__c", "Use Pardot's value", "Yes", ";".join(REGIONS)),
]


def _settings(clean: bool, seed: int) -> dict[str, Any]:
    """connector.yml of the synthetic org (contract keys; settings.py defaults for policies)."""
    return {
        "org_name": f"Synthetic org (seed {seed}{', clean' if clean else ''})",
        "connector_version": 2,
        "paused": True,
        "allow_multiple_prospects_same_email": False,
        "auto_create_prospects_from_salesforce": False,
        "connector_user": CONNECTOR_USER,
        "business_units": 1,
        "person_accounts_enabled": not clean,  # clean orgs have no person accounts (CON005)
        "sync_emails": False,
        "salesforce_edition": "Enterprise",
        "api_daily_limit": 100000,
    }


def _styles(seed: int) -> dict[str, str]:
    """Export styles of the folder; the Pardot side alternates with the seed's parity."""
    ui = seed % 2 == 1
    return {
        "sf_leads": "Data Loader extract (upper-case API names, every field quoted)",
        "sf_contacts": "sf data query --result-format csv (SOQL spelling)",
        "sf_accounts": "Data Loader v61+ extract of a lower-case SOQL query (person accounts)",
        "sf_users": "",  # set in generate(): report export, or CLI when clean
        "pardot_prospects": "ui" if ui else "v4",
        "pardot_users": "v5" if ui else "v4",
    }


def generate(
    out_dir: str | Path,
    prospects: int = 3000,
    leads: int = 2000,
    contacts: int = 1500,
    seed: int = 7,
    clean: bool = False,
) -> dict[str, Any]:
    """Write a synthetic org export folder with ground truth; returns the manifest."""
    out = Path(out_dir)
    built = _build(prospects, leads, contacts, seed, clean)
    org: _Org = built["org"]
    users = built["users"]
    rng = org.rng
    styles = _styles(seed)
    if out.exists() and not out.is_dir():
        raise _fail(f"{out} is a file; give a folder to create")
    if out.exists() and any(out.iterdir()):
        if not (out / "manifest.json").exists():
            raise _fail(f"{out} exists and is not a synthetic org folder; choose an empty folder")
        shutil.rmtree(out)  # regenerate a folder this generator wrote
    (out / "describe").mkdir(parents=True, exist_ok=True)
    (out / "_truth").mkdir(exist_ok=True)

    lead_t = _shuffle(_assemble(org.blocks["leads"], _LEAD_COLS), rng)
    contact_t = _shuffle(_assemble(org.blocks["contacts"], _CONTACT_COLS), rng)
    account_t = _shuffle(_assemble(org.blocks["accounts"], _ACCOUNT_COLS), rng)
    prospect_t = _shuffle(_assemble(org.blocks["prospects"], _PROSPECT_COLS), rng)
    for name in ("leads", "contacts", "accounts", "prospects"):
        org.blocks[name] = []  # the tables hold the records now: free the blocks (peak memory)

    # Prospect ids: increasing in file order, random gaps (pardot_id: digits).
    n_p = prospect_t.num_rows
    pid = 20_000_000 + np.cumsum(rng.integers(1, 4, n_p))
    pid_of_key = np.empty(n_p, np.int64)
    pid_of_key[prospect_t["key"].to_numpy()] = pid

    # Users (Salesforce and Pardot).
    n_u = len(users["id"])
    u_first, u_last = np.array(users["first"]), np.array(users["last"])
    u_email = np.array(
        [
            f"{f.lower()}.{ln.lower()}.u{i}@example.org"
            for i, (f, ln) in enumerate(zip(u_first, u_last, strict=True))
        ]
    )  # a few dozen users: plain Python is fine here
    pardot_uid = 40_001 + np.arange(n_u) * 7
    sf_rows = np.array([bool(i) for i in users["id"]])
    sf_id = np.array(users["id"])[sf_rows]
    # The v2 integration user (V-2) also appears in User.csv.
    int_user = org.ids("005", 1)[0].decode()
    files: dict[str, str] = {}

    # --- Lead.csv: Data Loader extract ----------------------------------------------------
    t = lead_t
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
    files["sf_leads"] = "Lead.csv"

    # --- Contact.csv: sf data query --result-format csv -----------------------------------
    t = contact_t
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
    files["sf_contacts"] = "Contact.csv"

    # --- Account.csv: Data Loader v61+ with a lower-case SOQL query -----------------------
    t = account_t
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
    files["sf_accounts"] = "Account.csv"

    # --- User.csv: report export (labels, 15-character ids, ID-1) or CLI extract ----------
    ids = np.concatenate([sf_id, [int_user]])
    first = np.concatenate([u_first[sf_rows], ["B2BMA"]])
    last = np.concatenate([u_last[sf_rows], ["Integration"]])
    email = np.concatenate([u_email[sf_rows], ["b2bmaintegration@example.org"]])
    username = np.concatenate([u_email[sf_rows], ["b2bmaintegration@00d000000000synth.ext"]])
    active = np.concatenate([np.array(users["active"])[sf_rows], [True]])
    profile = ["Standard User"] * len(sf_id) + ["B2BMA Integration User"]
    if clean:
        styles["sf_users"] = "sf data query --result-format csv (SOQL spelling, 18-character ids)"
        _write_csv(
            out / "User.csv",
            ["Id", "Username", "Email", "FirstName", "LastName", "IsActive", "UserType",
             "Profile.Name"],
            [_s(ids), _s(username), _s(email), _s(first), _s(last),
             _s(np.where(active, "true", "false")), _const("Standard", len(ids)), _s(profile)],
        )  # fmt: skip
    else:
        styles["sf_users"] = "Salesforce report export (labels, 15-character ids)"
        _write_csv(
            out / "User.csv",
            ["User ID", "Full Name", "First Name", "Last Name", "Username", "Email", "Active",
             "Profile", "User Type"],
            [_s(ids.astype("U15")), _cat(_s(first), " ", _s(last)), _s(first), _s(last),
             _s(username), _s(email), _s(np.where(active, "1", "0")), _s(profile),
             _const("Standard", len(ids))],
        )  # fmt: skip
        org.kind("user_report_short_ids", users=ids)
    files["sf_users"] = "User.csv"

    # --- prospects ------------------------------------------------------------------------
    t = prospect_t
    n = t.num_rows
    user = t["user"].to_numpy()
    assigned = user >= 0
    u_safe = np.where(assigned, user, 0)
    truth_p = _assemble_truth_p(org)
    linked_keys = truth_p["key"].filter(pc.equal(truth_p["outcome"], "linked")).to_numpy()
    is_linked = np.zeros(n_p, bool)
    is_linked[linked_keys] = True
    row_linked = is_linked[t["key"].to_numpy()]
    owner_sf = np.array(users["id"], dtype="S18")[u_safe]
    crm_owner = _s(np.where(row_linked & assigned, owner_sf, b""))
    crm_owner = pc.if_else(pc.equal(crm_owner, ""), _null(n), crm_owner)
    pids = _s(pid)
    blank = _null(n)
    no = _const("No", n)
    first_assigned = pc.if_else(pa.array(assigned), _iso(t["created"], "pardot"), blank)
    if styles["pardot_prospects"] == "ui":
        styles["pardot_prospects"] = "Account Engagement UI export (labels, Yes/No, UTF-8 BOM)"
        user_col = pc.if_else(pa.array(assigned), _s(u_email[u_safe]), blank)
        values = {
            "Prospect Id": pids, "First Name": t["first"], "Last Name": t["last"],
            "Email": t["email"], "Company": t["company"], "Job Title": t["title"],
            "Phone": t["phone"], "Source": t["source"], "Do Not Email": no, "Do Not Call": no,
            "Opted Out": _flag(t["opted_out"], "Yes", "No"),
            "Created Date": _iso(t["created"], "pardot"),
            "Updated Date": _iso(t["modified"], "pardot"), "User": user_col,
            "First Assigned": first_assigned, "CRM Contact FID": t["crm_contact"],
            "CRM Lead FID": t["crm_lead"], "Region": t["region"],
        }  # fmt: skip
        header = UI_HEADER
        bom = True
    else:
        styles["pardot_prospects"] = "Account Engagement API v4 / Export API names (1/0)"
        zero = _const("0", n)
        values = {
            "id": pids, "first_name": t["first"], "last_name": t["last"], "email": t["email"],
            "company": t["company"], "job_title": t["title"], "phone": t["phone"],
            "source": t["source"], "crm_lead_fid": t["crm_lead"],
            "crm_contact_fid": t["crm_contact"], "crm_owner_fid": crm_owner,
            "is_do_not_email": zero, "is_do_not_call": zero,
            "opted_out": _flag(t["opted_out"], "1", "0"), "is_reviewed": zero,
            "is_starred": zero, "created_at": _iso(t["created"], "pardot"),
            "updated_at": _iso(t["modified"], "pardot"),
            "user_id": pc.if_else(pa.array(assigned), _s(pardot_uid[u_safe]), blank),
            "Region": t["region"],
        }  # fmt: skip
        header = V4_HEADER
        bom = False
    _write_csv(out / "prospects.csv", header, [values.get(h, blank) for h in header], bom=bom)
    files["pardot_prospects"] = "prospects.csv"

    # --- pardot_users.csv -------------------------------------------------------------------
    roles = np.where(
        np.arange(n_u) == 0,
        "Administrator",
        np.where(np.arange(n_u) % 4 == 1, "Marketing", "Sales"),
    )
    created = np.datetime64("2020-06-01T09:00:00") + (np.arange(n_u) * 86400).astype(
        "timedelta64[s]"
    )
    created_s = _s(np.datetime_as_string(created, unit="s"))
    if styles["pardot_users"] == "v5":
        styles["pardot_users"] = "Account Engagement API v5 (camelCase, salesforceId)"
        _write_csv(
            out / "pardot_users.csv",
            ["id", "email", "username", "firstName", "lastName", "jobTitle", "role", "roleName",
             "salesforceId", "isDeleted", "createdAt", "updatedAt"],
            [_s(pardot_uid), _s(u_email), _s(u_email), _s(u_first), _s(u_last), _null(n_u),
             _s(roles), _s(roles), _s(np.array(users["id"])), _const("false", n_u),
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
    files["pardot_users"] = "pardot_users.csv"

    # --- field_mappings.csv, describe/*.json, connector.yml ---------------------------------
    cols = list(zip(*FIELD_MAPPINGS, strict=True))
    _write_csv(
        out / "field_mappings.csv",
        ["Field Name", "Field ID", "Type", "Salesforce Field", "Sync Behavior", "Custom",
         "Predefined Values"],
        [pc.if_else(pc.equal(_s(c), ""), _null(len(c)), _s(c)) for c in cols],
    )  # fmt: skip
    files["field_mappings"] = "field_mappings.csv"
    for obj in _DESCRIBE:
        (out / "describe" / f"{obj}.json").write_text(
            json.dumps(_describe_json(obj), indent=1) + "\n", encoding="utf-8"
        )
    settings = _settings(clean, seed)
    (out / "connector.yml").write_text(
        "# Connector settings of a synthetic org (contract.md §1 keys)\n"
        + yaml.safe_dump(settings, sort_keys=False),
        encoding="utf-8",
    )
    resolved: ConnectorSettings = settings_from_mapping(settings)

    # --- ground truth -----------------------------------------------------------------------
    p_truth = pa.table(
        {
            "prospect_id": pid_of_key[truth_p["key"].to_numpy()],
            "expected_outcome": truth_p["outcome"],
            "expected_sf_id": truth_p["sf_id"],
            "case": truth_p["case"],
            "expected_error_code": truth_p["error"],
            "policies": truth_p["policies"],
            "expected_owner_sf_user_id": _expected_owner(
                truth_p, prospect_t, lead_t, contact_t, account_t, users
            ),
        }
    ).sort_by("prospect_id")
    pacsv.write_csv(p_truth, out / "_truth" / "prospects.csv")
    sf_truth = _assemble_truth_sf(org, pid_of_key).sort_by(
        [("sf_object", "ascending"), ("sf_id", "ascending")]
    )
    pacsv.write_csv(sf_truth, out / "_truth" / "salesforce.csv")

    counts = {
        "sf_leads": lead_t.num_rows,
        "sf_contacts": contact_t.num_rows,
        "sf_accounts": account_t.num_rows,
        "sf_users": len(ids),
        "pardot_prospects": n_p,
        "pardot_users": n_u,
        "field_mappings": len(FIELD_MAPPINGS),
    }
    kinds = _kind_manifest(org, pid_of_key, pardot_uid)
    manifest = {
        "generator": "assessment.synth",
        "seed": seed,
        "clean": clean,
        "requested": {"prospects": prospects, "leads": leads, "contacts": contacts},
        "counts": counts,
        "files": files,
        "styles": styles,
        "settings": settings,
        "policies": {name: getattr(resolved, name) for name in _POLICY_NAMES},
        "truth": {
            "prospects": "_truth/prospects.csv",
            "salesforce": "_truth/salesforce.csv",
            "prospect_outcomes": _value_counts(p_truth["expected_outcome"]),
            "salesforce_outcomes": _value_counts(sf_truth["expected_outcome"]),
        },
        "notes": [
            "Person-account contacts are not repeated in Contact.csv (the export filtered "
            "IsPersonAccount = false); a person account's row in _truth/salesforce.csv has "
            "sf_object PersonAccount and the Account id, and its prospect's expected_sf_id is the PersonContactId (M-19).",
            "The prospect 'User' column (UI export) holds the assigned Pardot user's email.",
            "Pardot times are naive and written in UTC (pardot_timezone default).",
            "expected_checks sums, per check, the records of the kinds that name it; base "
            "records trigger no check.",
        ],
        "kinds": kinds,
        "expected_checks": _check_totals(kinds),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


_POLICY_NAMES = (
    "tie_break", "email_case_insensitive", "converted_leads_match", "blank_last_name",
    "unmapped_owner", "inactive_owner", "invalid_email", "long_values",
    "auto_create_enabled_since",
)  # fmt: skip

# Which records of a kind a check counts (contract §3: records, or users for USR001/USR003).
_CHECK_OBJECTS = {
    "DUP001": ("prospects",),
    "DUP002": ("leads",),
    "DUP003": ("contacts",),
    "DUP004": ("leads", "contacts"),
    "DUP005": ("prospects", "contacts"),
    "DUP006": ("prospects", "leads", "contacts"),
    "USR001": ("pardot_users",),
    "USR003": ("pardot_users",),
    "SYN002": ("prospects", "users"),
    "SYN005": ("leads", "contacts"),
}


def _expected_owner(
    truth_p: pa.Table,
    prospect_t: pa.Table,
    lead_t: pa.Table,
    contact_t: pa.Table,
    account_t: pa.Table,
    users: dict[str, list],
) -> pa.Array:
    """Expected Salesforce owner per truth row: the linked record's owner (Salesforce wins,
    U-3); for leads to create, the user mapped to the assigned Pardot user (CR-6), blank when
    unmapped (connector user, U-4); blank when nothing syncs."""
    owners = pa.concat_tables(
        [
            pa.table({"sf": lead_t["id"], "owner": lead_t["owner"]}),
            pa.table({"sf": contact_t["id"], "owner": contact_t["owner"]}),
            pa.table({"sf": account_t["person_contact"], "owner": account_t["owner"]}),
        ]
    ).filter(pc.is_valid(pc.field("sf")))
    rows = pa.table({"sf": truth_p["sf_id"], "pos": pa.array(np.arange(truth_p.num_rows))})
    joined = rows.join(owners, "sf", join_type="left outer").sort_by("pos")
    by_record = joined["owner"].combine_chunks()
    user_of_key = np.empty(prospect_t.num_rows, np.int64)
    user_of_key[prospect_t["key"].to_numpy()] = prospect_t["user"].to_numpy()
    user = user_of_key[truth_p["key"].to_numpy()]
    mapped = np.array(users["id"], dtype=object)[np.maximum(user, 0)]
    mapped = np.where((user >= 0) & (mapped != ""), mapped, None)
    creates = pc.is_in(truth_p["outcome"], pa.array(["create_lead", "will_error"]))
    return pc.if_else(creates, pa.array(mapped, pa.string()), by_record)


def _value_counts(values: pa.ChunkedArray) -> dict[str, int]:
    vc = pc.value_counts(values)
    return {str(v["values"]): int(v["counts"]) for v in vc.to_pylist()}


def _assemble_truth_p(org: _Org) -> pa.Table:
    tables = []
    for b in org.blocks["truth_p"]:
        n = len(b["key"])
        tables.append(
            pa.table(
                {
                    "key": pa.array(np.asarray(b["key"], np.int64)),
                    "outcome": _const(b["outcome"], n),
                    "sf_id": _column(b, "sf_id", _STR, n),
                    "case": _const(b["case"], n),
                    "error": _const(b["error"], n),
                    "policies": _const(b["policies"], n),
                }
            )
        )
    return pa.concat_tables(tables).combine_chunks()


def _assemble_truth_sf(org: _Org, pid_of_key: np.ndarray) -> pa.Table:
    tables = []
    for b in org.blocks["truth_sf"]:
        n = len(b["id"])
        keys = np.asarray(b["key"], np.int64)
        pid = _s(np.where(keys >= 0, pid_of_key[np.maximum(keys, 0)], 0))
        tables.append(
            pa.table(
                {
                    "sf_object": _const(b["obj"], n),
                    "sf_id": _s(b["id"]),
                    "expected_outcome": _const(b["outcome"], n),
                    "case": _const(b["case"], n),
                    "prospect_id": pc.if_else(pa.array(keys >= 0), pid, _null(n)),
                }
            )
        )
    return pa.concat_tables(tables).combine_chunks()


def _kind_manifest(org: _Org, pid_of_key: np.ndarray, pardot_uid: np.ndarray) -> dict[str, Any]:
    out = {}
    for name, (rule, checks, description, _factor) in KINDS.items():
        parts = org.kinds.get(name)
        if not parts:
            continue
        records: dict[str, list] = {}
        for obj, arrays in parts.items():
            values = np.concatenate([np.asarray(a) for a in arrays]) if arrays else np.array([])
            if obj == "prospects":
                records[obj] = [int(v) for v in pid_of_key[values.astype(np.int64)]]
            elif obj == "pardot_user_positions":
                records["pardot_users"] = [str(pardot_uid[int(v)]) for v in values]
            else:
                records[obj] = values.astype(str).tolist()
        record_objs = ("prospects", "leads", "contacts", "accounts", "users")
        count_by = {o: len(v) for o, v in records.items() if o in record_objs}
        out[name] = {
            "description": description,
            "rule": rule,
            "checks": list(checks),
            "count": sum(count_by.values()),
            "count_by_object": count_by,
            "affected": {
                c: sum(len(records.get(o, [])) for o in _CHECK_OBJECTS.get(c, ("prospects",)))
                for c in checks
            },
            "ids": records,
        }
    return out


def _check_totals(kinds: dict[str, Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in kinds.values():
        for check, n in entry["affected"].items():
            totals[check] = totals.get(check, 0) + n
    return dict(sorted(totals.items()))
