"""What the synthetic org holds: problem kinds, names, describe metadata, export headers, settings."""

from __future__ import annotations

from typing import Any

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

# Shares of the clean linked pairs whose prospect side differs in one value (build._drift).
# (Region and opt-out conflicts are injected kinds of their own: region_conflict, opt_out_conflict.)
DRIFT_SHARES = {"title_overwritten": 0.10, "phone_blank_filled": 0.05}

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
    "queue_assigned": (
        "CR-2",
        ("UNA003",),
        "prospects assigned to a Salesforce lead queue (UI export: the queue's name in User; API "
        "pull: CRM owner = the queue id), no match: create_lead owned by the queue",
        0.3,
    ),
    "owner_portal_user": (
        "U-7",
        ("USR002", "UNA003"),
        "prospects assigned to a Pardot user mapped to a partner-community Salesforce user "
        "(UserType PowerPartner), no match: create_lead not owned by the portal user "
        "(policy portal_owner)",
        0.2,
    ),
    "owner_email_only": (
        "U-1",
        ("USR002", "USR001", "UNA003"),
        "prospects assigned to a Pardot user that is not mapped although a Salesforce user shares "
        "its email, no match: create_lead owned by the connector user (policy owner_email_match)",
        0.2,
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
    "opt_out_conflict": (
        "F-7",
        ("FLD009", "FLD006"),
        "linked lead/prospect pairs: Pardot opted out, Salesforce HasOptedOutOfEmail false; under "
        "Opted Out = Salesforce's value (field_mappings.csv) the opt-out is lost (the plan "
        "recommends the Account Engagement value)",
        0.3,
    ),
    "region_conflict": (
        "F-1",
        ("FLD006",),
        "linked lead/prospect pairs whose Region differs, the lead modified later; Region uses "
        "Pardot's value, so newer Salesforce values are overwritten (the plan recommends "
        "Salesforce's value)",
        0.5,
    ),
    # Drift inside linked pairs (build._drift): sized by DRIFT_SHARES, not by the factor.
    "title_overwritten": (
        "F-1",
        ("FLD006",),
        "linked pair, job titles differ; Salesforce's value wins: the prospect's title is overwritten",
        0.0,
    ),
    "phone_blank_filled": (
        "F-2",
        (),
        "linked pair, the prospect's phone is blank: the Salesforce value fills it (no overwrite)",
        0.0,
    ),
    # Issue #11 cases (appended: earlier kinds keep their random stream).
    "person_account_opt_out": (
        "F-7",
        ("FLD009", "FLD006"),
        "person-account pairs linked by CRM Contact FID (PersonContactId): Pardot opted out, "
        "PersonHasOptedOutOfEmail false; contact-level fields map to prospect fields, so under "
        "Opted Out = Salesforce's value the opt-out is lost",
        0.2,
    ),
    "person_account_name_differs": (
        "F-9",
        ("FLD006",),
        "person-account pairs linked by CRM Contact FID whose First Name differs: Salesforce's "
        "value overwrites Pardot's",
        0.2,
    ),
    "recycle_bin_link": (
        "M-1",
        (),
        "assigned prospects in the AE recycle bin (Is Archived) whose CRM Lead FID names a live "
        "lead: pardot_only, and the lead stays held by the archived prospect (no_prospect, "
        "M-1.held_by_recycle_bin)",
        0.2,
    ),
    "non_numeric_number": (
        "§3.7",
        ("FLD002",),
        "assigned prospects with no match whose Annual Revenue is not a number ('50-100'): the "
        "new lead fails INVALID_TYPE_ON_FIELD_IN_RECORD (policy type_errors); FLD002 flags the "
        "default Annual Revenue mapping (text into currency) once",
        0.2,
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
    "Is Archived",
]  # fmt: skip
V4_HEADER = [
    "id", "campaign_id", "salutation", "first_name", "last_name", "email", "company", "website",
    "job_title", "department", "country", "address_one", "address_two", "city", "state",
    "territory", "zip", "phone", "fax", "source", "annual_revenue", "employees", "industry",
    "years_in_business", "comments", "score", "last_activity_at", "crm_lead_fid",
    "crm_contact_fid", "crm_owner_fid", "crm_account_fid", "crm_last_sync", "crm_url",
    "is_do_not_email", "is_do_not_call", "opted_out", "is_reviewed", "is_starred", "created_at",
    "updated_at", "user_id", "Region", "is_archived",
]  # fmt: skip


FIELD_MAPPINGS = [
    # Field Name, Field ID, Type, Salesforce Field, Sync Behavior, Custom, Predefined Values
    ("First Name", "first_name", "Text", "FirstName", "Use Salesforce's value", "No", ""),
    ("Last Name", "last_name", "Text", "LastName", "Use Salesforce's value", "No", ""),
    ("Company", "company", "Text", "Company", "Use Salesforce's value", "No", ""),
    ("Job Title", "job_title", "Text", "Title", "Use Salesforce's value", "No", ""),
    ("Phone", "phone", "Text", "Phone", "Use Salesforce's value", "No", ""),
    ("Source", "source", "Text", "LeadSource", "Use Salesforce's value", "No", ""),
    ("Region", "Region", "Dropdown", "Region__c", "Use Pardot's value", "Yes", ";".join(REGIONS)),
    # An older BU that chose Salesforce's value for Opted Out (F-7): stated, no policy.
    (
        "Opted Out",
        "opted_out",
        "Radio Button",
        "HasOptedOutOfEmail",
        "Use Salesforce's value",
        "No",
        "true;false",
    ),
]


def _settings(clean: bool, seed: int, same_email: bool = False) -> dict[str, Any]:
    """connector.yml of the synthetic org (contract keys; settings.py defaults for policies).

    ``same_email``: an AMPSEA business unit with auto-create stated off (CR-9, CR-10; #11):
    records created after ``auto_create_enabled_since`` still get no prospect."""
    if same_email:
        return {
            **_settings(clean, seed),
            "allow_multiple_prospects_same_email": True,
            "auto_create_enabled_since": "2018-01-01",
        }
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
    "FLD002": ("mappings",),
}
