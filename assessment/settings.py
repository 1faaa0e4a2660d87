"""Connector settings and modelling policies: one typed model with documented defaults.

Settings come from ``connector.yml`` in the export folder (or ``--settings FILE``). Keys are the
contract's (spec/contract.md §1); UI labels pasted from the connector settings page are accepted
as aliases (spec/export-formats.md §7). Rules the spec marks UNCONFIRMED or DISAGREE are *policies*:
named settings with the spec's suggested default, so a report can say which predictions rest on them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import SettingsError
from .severity import ThresholdError, parse_thresholds
from .textio import decode_text, read_limited

SETTINGS_FILE_NAMES = ("connector.yml", "connector.yaml")


@dataclass(frozen=True)
class MdsRule:
    """One Marketing Data Sharing rule: one field, operator equals, a case-sensitive value (D-3)."""

    field: str
    value: str
    operator: str = "equals"


@dataclass(frozen=True)
class Policy:
    """A modelling choice for a rule the evidence does not settle."""

    name: str
    rule: str
    status: str  # UNCONFIRMED | DISAGREE | PLANNING
    choices: tuple[str, ...]
    summary: str


# Every UNCONFIRMED / DISAGREE rule the simulator or the checks rely on, with the spec's rule id.
POLICIES: dict[str, Policy] = {
    p.name: p
    for p in [
        Policy(
            "tie_break",
            "M-7",
            "DISAGREE",
            ("contact_then_newest", "lead_then_newest", "newest", "oldest"),
            "which of several same-email Salesforce records the connector links to",
        ),
        Policy(
            "email_case_insensitive",
            "M-13",
            "UNCONFIRMED",
            ("true", "false"),
            "emails are matched after trim + casefold; variants are reported as cautions "
            "(Salesforce-side lookups are case-insensitive, SOQL 'Comparison Operators'; "
            "AE can hold case-variant prospects, segmentio/action-destinations PR #699)",
        ),
        Policy(
            "converted_leads_match",
            "M-17",
            "UNCONFIRMED",
            ("false", "true"),
            "whether converted leads take part in email matching",
        ),
        Policy(
            "blank_last_name",
            "CR-5",
            "UNCONFIRMED",
            ("risk", "error"),
            "a created lead with a blank Last Name: flagged as a risk, or predicted to fail",
        ),
        Policy(
            "unmapped_owner",
            "U-4/U-6",
            "UNCONFIRMED",
            ("connector_user", "error"),
            "owner of a lead created for a prospect whose Pardot user maps to no Salesforce user",
        ),
        Policy(
            "inactive_owner",
            "U-5",
            "UNCONFIRMED",
            ("error", "connector_user"),
            "lead creation for a prospect whose user maps to an inactive Salesforce user",
        ),
        Policy(
            "invalid_email",
            "M-14/M-15",
            "UNCONFIRMED",
            ("error", "no_match"),
            "a syntactically invalid or over-80-character email on a record the connector writes",
        ),
        Policy(
            "ampsea_email_fallback",
            "M-10",
            "UNCONFIRMED",
            ("true", "false"),
            "in same-email (AMPSEA) mode, prospects without a CRM id match by email",
        ),
        Policy(
            "auto_create_enabled_since",
            "CR-9/CR-11",
            "UNCONFIRMED",
            ("never", "<ISO date>"),
            "records created after this date get a prospect at unpause; before it, no back-fill",
        ),
        Policy(
            "whitespace_is_blank",
            "F-3",
            "UNCONFIRMED",
            ("true", "false"),
            "whitespace-only values count as blank when comparing fields",
        ),
        Policy(
            "long_values",
            "F-14",
            "UNCONFIRMED",
            ("error", "truncate"),
            "a value longer than the Salesforce field: the write fails, or is truncated",
        ),
        Policy(
            "checkbox_false_is_value",
            "F-3/F-7",
            "UNCONFIRMED",
            ("true", "false"),
            "a Salesforce checkbox false counts as a value (it can overwrite a Pardot true)",
        ),
        Policy(
            "custom_field_default_sync",
            "F-6",
            "UNCONFIRMED",
            ("use_salesforce", "use_pardot"),
            "sync behaviour of a mapped field whose behaviour the mapping file does not give",
        ),
        Policy(
            "opted_out_default_sync",
            "F-7",
            "UNCONFIRMED",
            ("use_pardot", "use_salesforce", "most_recent", "unmapped"),
            "Opted Out sync behaviour when the mapping file gives none and business_unit_created "
            "is unknown or before 2023-11-15 (new BUs default to AE's value, Green Key Digital "
            "'Select Sync Behavior'; older BUs chose, or the field was unmapped)",
        ),
        Policy(
            "ampsea_auto_create_default",
            "CR-9/CR-10",
            "UNCONFIRMED",
            ("on", "off"),
            "same-email BU whose connector.yml does not state auto-create: ticked by default "
            "(aquilliance.de) and switchable (settings reference lists no same-email exclusion)",
        ),
        Policy(
            "type_errors",
            "§3.7",
            "UNCONFIRMED",
            ("error", "skip"),
            "an AE value that is not a number / date / true-false written to a Salesforce number, "
            "date or checkbox fails (INVALID_TYPE_ON_FIELD_IN_RECORD, code text not documented)",
        ),
        Policy(
            "owner_email_match",
            "U-1",
            "UNCONFIRMED",
            ("false", "true"),
            "a Pardot user mapped to a Salesforce user only by a shared email owns created leads "
            "(the 'automatically match users' setting is documented for Send from CRM user only)",
        ),
        Policy(
            "unassigned_email_match",
            "M-6",
            "DISAGREE",
            ("links", "no_sync"),
            "an unassigned prospect with a same-email lead or contact links to it (non-AMPSEA)",
        ),
        Policy(
            "portal_owner",
            "U-7",
            "UNCONFIRMED",
            ("not_owner", "owner"),
            "a Pardot user mapped to a portal (partner / customer community) Salesforce user: "
            "the created lead's owner",
        ),
        Policy(
            "queue_with_contacts",
            "CR-2",
            "UNCONFIRMED",
            ("risk", "error"),
            "a prospect assigned to a lead queue while the connector creates contacts",
        ),
        Policy(
            "throughput_per_hour",
            "SY-2",
            "PLANNING",
            ("12000",),
            "records synced per hour (range down to throughput_low_per_hour)",
        ),
    ]
}

# UI labels an admin may paste instead of the contract keys (spec/export-formats.md §7).
_LABEL_ALIASES = {
    "automaticallycreateprospectsinpardotiftheyrecreatedasaleadorcontactinsalesforce": (
        "auto_create_prospects_from_salesforce"
    ),
    "automaticallycreateprospectsinaccountengagementiftheyrecreatedasaleadorcontactinsalesforce": (
        "auto_create_prospects_from_salesforce"
    ),
    "automaticallychangeemailaddressesinpardottoreflectchangesinsalesforce": "sync_email_changes",
    "automaticallymatchsalesforceuserstousers": "auto_match_users",
    "automaticallydeleteormergeprospectsifthecorrespondingrecordsinsalesforcearedeletedormerged": (
        "delete_merge_follows_salesforce"
    ),
    "excludesalesforcepartnerandcustomerportalusersfromprospectassignment": "exclude_portal_users",
    "allowmultipleprospectswiththesameemailaddress": "allow_multiple_prospects_same_email",
    "ampsea": "allow_multiple_prospects_same_email",
}

# --- value types: each turns what YAML (or a caller) gives into one canonical value, or says what
# it expected. A validator raises ValueError("expected …"); _settings_error() adds the key and the
# value. Every validator accepts its own output, so ConnectorSettings.replace() can revalidate.

_TRUE = {"true", "yes", "on", "1", "enabled", "checked"}
_FALSE = {"false", "no", "off", "0", "disabled", "unchecked"}


class _Said(ValueError):
    """A complete message (it names the key itself); _settings_error() adds nothing."""


def _switch(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true or false")


def _whole(value: Any) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(str(value).strip().lower().lstrip("v"))  # "v1" from the connector's page
    except (TypeError, ValueError):
        raise ValueError("expected a whole number") from None


def _maybe_whole(value: Any) -> int | None:
    return None if value is None else _whole(value)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError("expected a number") from None


def _text(value: Any) -> str:
    if value is None:
        raise ValueError("expected a value")
    if isinstance(value, dict | list | tuple | set):
        raise ValueError("expected a single value, not a list or mapping")
    return str(value)


def _maybe_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _units(value: Any) -> int | list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return _whole(value)


def _id_list(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        raise ValueError("expected a list of Salesforce user ids")
    return [str(v) for v in value]


def _mds(value: Any) -> dict[str, MdsRule]:
    if value in (None, False, {}):
        return {}
    if not isinstance(value, dict):
        raise _Said(
            "marketing_data_sharing must map an object (Lead, Contact) to {field, operator, value}"
        )
    rules = {}
    for obj, rule in value.items():
        if isinstance(rule, MdsRule):
            rule = dataclasses.asdict(rule)
        if not isinstance(rule, dict) or "field" not in rule or "value" not in rule:
            raise _Said(f"marketing_data_sharing.{obj} needs 'field' and 'value'")
        operator = str(rule.get("operator", "equals")).strip().lower()
        rules[str(obj).strip().capitalize()] = MdsRule(
            field=str(rule["field"]), value=str(rule["value"]), operator=operator
        )
    return rules


def _thresholds(value: Any) -> dict[str, float]:
    try:
        return parse_thresholds(value)
    except ThresholdError as exc:
        raise _Said(str(exc)) from None


def _iso_date(value: str | None) -> str | None:
    if value is not None:
        try:
            date.fromisoformat(value[:10])
        except ValueError:
            raise ValueError("expected a date like 2024-01-31") from None
    return value


def _never_or_date(value: str | None) -> str | None:
    if value in (None, "never"):
        return value
    try:
        return _iso_date(value)
    except ValueError:
        raise ValueError("expected 'never' or a date like 2024-01-31") from None


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA zone such as 'America/New_York' or 'UTC'") from None
    return value


def _version(value: int) -> int:
    if value not in (1, 2):
        raise ValueError("expected 1 or 2")
    return value


Switch = Annotated[bool, BeforeValidator(_switch)]
Whole = Annotated[int, BeforeValidator(_whole)]
MaybeWhole = Annotated[int | None, BeforeValidator(_maybe_whole)]
Number = Annotated[float, BeforeValidator(_number)]
Text = Annotated[str, BeforeValidator(_text)]
MaybeText = Annotated[str | None, BeforeValidator(_maybe_text)]

# Text settings with a fixed set of values: every policy whose choices are words (not true/false,
# not a date), and two format settings. Checked by ConnectorSettings._one_of.
_CHOICES: dict[str, tuple[str, ...]] = {
    name: p.choices
    for name, p in POLICIES.items()
    if len(p.choices) > 1 and not {"true", "never"} & set(p.choices)
} | {
    "date_format": ("auto", "day_first", "month_first"),
    "record_type_created": ("lead", "contact", "person_account"),
}


class ConnectorSettings(BaseModel):
    """Resolved connector settings and policies; every field has a documented default.

    A frozen pydantic model: values are checked and converted once, when the settings are made
    (from connector.yml, a what-if, a test). ``replace()`` gives a changed, revalidated copy. Any
    bad value raises :class:`SettingsError` naming the key and the value, never a pydantic error.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- contract keys (spec/contract.md §1) ---
    # v2 is current; new BUs get v2, created paused (CR-17, V-5)
    connector_version: Annotated[Whole, AfterValidator(_version)] = 2
    paused: Switch = True  # a new v2 connector starts paused (CR-17)
    allow_multiple_prospects_same_email: Switch = False  # AMPSEA; decides email vs CRM-id matching
    auto_create_prospects_from_salesforce: Switch = False  # cautious: not assumed on (open q. 3)
    connector_user: Text = "integration"  # v2 default: B2BMA Integration user, sees all (V-2)
    business_units: Annotated[int | list[str], BeforeValidator(_units)] = 1
    # object -> rule
    marketing_data_sharing: Annotated[dict[str, MdsRule], BeforeValidator(_mds)] = {}
    person_accounts_enabled: Switch = False  # off by default; Support enables it (M-19)
    sync_emails: Switch = False  # email activity as Tasks; no effect on matching (V-4)
    salesforce_edition: MaybeText = None
    api_daily_limit: MaybeWhole = None
    org_name: MaybeText = None
    # Units of one Salesforce org share it (batch cross-unit checks, baseline same-org test).
    salesforce_org_id: MaybeText = None
    # The date the business unit was created: after 2023-11-15 Opted Out defaults to AE's value
    # (F-7; Green Key Digital, "Select Sync Behavior"). Unknown: policy opted_out_default_sync.
    business_unit_created: Annotated[MaybeText, AfterValidator(_iso_date)] = None
    # --- further documented connector settings (spec/export-formats.md §7, V-4) ---
    sync_email_changes: Switch = True
    auto_match_users: Switch = True
    delete_merge_follows_salesforce: Switch = True
    exclude_portal_users: Switch = False
    record_type_created: Text = "lead"  # lead | contact | person_account (Support only, V-4)
    sf_blanks_overwrite: Switch = False  # Support-only switch (F-2)
    # Salesforce user ids whose records a named connector user can see; empty = sees all (M-3).
    connector_user_visible_owner_ids: Annotated[list[str], BeforeValidator(_id_list)] = []
    # --- policies (UNCONFIRMED / DISAGREE rules; see POLICIES) ---
    tie_break: Text = "contact_then_newest"
    email_case_insensitive: Switch = True
    converted_leads_match: Switch = False
    blank_last_name: Text = "risk"
    unmapped_owner: Text = "connector_user"
    inactive_owner: Text = "error"
    invalid_email: Text = "error"
    ampsea_email_fallback: Switch = True
    auto_create_enabled_since: Annotated[MaybeText, AfterValidator(_never_or_date)] = None
    owner_email_match: Switch = False
    unassigned_email_match: Text = "links"
    portal_owner: Text = "not_owner"
    queue_with_contacts: Text = "risk"
    whitespace_is_blank: Switch = True
    long_values: Text = "error"
    checkbox_false_is_value: Switch = True
    custom_field_default_sync: Text = "use_salesforce"
    opted_out_default_sync: Text = "use_pardot"
    ampsea_auto_create_default: Text = "on"
    type_errors: Text = "error"
    # Pardot UI/v3/v4 exports give naive times in the user's zone
    pardot_timezone: Annotated[Text, AfterValidator(_zone)] = "UTC"
    # Report exports write dates in the user's locale (02/06/2025): auto | day_first | month_first.
    # auto: the order the values show (a day above 12), else month first with a warning.
    date_format: Text = "auto"
    # --- planning figures (SY-1, SY-2, SY-4) ---
    throughput_per_hour: Whole = 12000
    throughput_low_per_hour: Whole = 4800
    batch_size: Whole = 200
    cycle_minutes: Number = 3.0
    # --- check thresholds ---
    una003_create_threshold: Whole = 100  # UNA003 warns above this many created leads
    usr002_blocker_threshold: Whole = 0  # USR002 is a blocker above this many prospects
    syn003_max_hours: Number = 24.0  # SYN003 warns above a day of syncing
    # Shares of the org above which record warnings become blockers (severity.ESCALATIONS);
    # only the org's overrides are kept here, severity.resolved() adds the defaults.
    thresholds: Annotated[dict[str, float], BeforeValidator(_thresholds)] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _as_settings_error(cls, data: Any, handler, info: ValidationInfo) -> ConnectorSettings:
        # A pydantic ValidationError never reaches the user: it becomes a SettingsError (exit 2)
        # naming the file and the key (given through the validation context) and the value.
        try:
            return handler(data)
        except ValidationError as exc:
            where = info.context or {}
            raise _settings_error(exc, where.get("source"), where.get("said")) from None

    @field_validator(*_CHOICES)
    @classmethod
    def _one_of(cls, value: str, info: ValidationInfo) -> str:
        choices = _CHOICES[info.field_name]
        if value not in choices:
            if info.field_name in POLICIES:
                raise ValueError(f"expected one of {', '.join(choices)}")
            raise ValueError(f"expected {', '.join(choices[:-1])} or {choices[-1]}")
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"settings are immutable; use settings.replace({name}=...)")

    def __hash__(self) -> int:
        return hash(self.model_dump_json())

    @property
    def uses_integration_user(self) -> bool:
        """True when the connector runs as the v2 integration user (sees every record, V-2)."""
        return self.connector_user.strip().lower() in {"integration", "b2bma integration", ""}

    @property
    def ampsea(self) -> bool:
        """Short name for allow_multiple_prospects_same_email."""
        return self.allow_multiple_prospects_same_email

    @property
    def business_unit_count(self) -> int:
        """How many business units share the org."""
        bu = self.business_units
        return len(bu) if isinstance(bu, list) else int(bu)

    def replace(self, **changes: Any) -> ConnectorSettings:
        """A copy with some settings changed (for what-if runs), checked like the originals."""
        return type(self)(**{**self.__dict__, **changes})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, defaults included (MDS rules as field/value/operator dicts)."""
        return self.model_dump()


SETTING_NAMES: tuple[str, ...] = tuple(ConnectorSettings.model_fields)


def _settings_error(
    exc: ValidationError, source: str | None = None, said: dict[str, str] | None = None
) -> SettingsError:
    """The first problem of a pydantic error as a SettingsError naming the key and its value;
    any further problems are listed under it. ``said``: key -> the label the file used."""
    lines = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        cause = (err.get("ctx") or {}).get("error")
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown setting {name!r}")
        elif isinstance(cause, _Said):
            lines.append(str(cause))
        else:
            reason = str(cause) if cause is not None else err["msg"].lower()
            label = (said or {}).get(name)
            key = f"{name} ({label!r})" if label and _key(label) != _key(name) else name
            lines.append(f"{key} is {err['input']!r}; {reason}")
    return SettingsError(lines[0], file=source, problems=lines[1:] or None)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


_KEYS = {_key(name): name for name in SETTING_NAMES} | _LABEL_ALIASES


def settings_from_mapping(
    data: dict[str, Any] | None, source: str = "settings"
) -> ConnectorSettings:
    """Build settings from a parsed YAML mapping, accepting contract keys and UI labels."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError("expected a mapping of setting: value", file=source)
    values: dict[str, Any] = {}
    said: dict[str, str] = {}
    for raw_key, value in data.items():
        name = _KEYS.get(_key(raw_key))
        if name is None:
            raise SettingsError(f"unknown setting {raw_key!r}", file=source)
        values[name] = value
        said[name] = str(raw_key)
    return ConnectorSettings.model_validate(values, context={"source": source, "said": said})


# Bounds for connector.yml (PITFALLS.md: safe_load still expands aliases, so a few nested anchors
# — "billion laughs" — exhaust memory). A settings file is a few dozen lines.
MAX_SETTINGS_BYTES = 1 << 20
MAX_YAML_NODES = 10_000
MAX_YAML_ALIASES = 100
MAX_YAML_DEPTH = 20


class _YamlTooBig(Exception):
    """The YAML document exceeds one of the bounds."""


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that stops before building a value with too many nodes (aliases
    counted as expanded: each use adds the whole anchored value), aliases or levels. The bounds
    are checked while the document is composed, before any Python value is constructed."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> nodes in its expanded value

    def compose_node(self, parent, index):  # noqa: D102 (yaml API)
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise _YamlTooBig(f"more than {MAX_YAML_ALIASES} aliases (*name references)")
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise _YamlTooBig(f"nested more than {MAX_YAML_DEPTH} levels deep")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if id(node) not in self._sizes:
            if isinstance(node, yaml.SequenceNode):
                children = node.value
            elif isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            else:
                children = []
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(c), 1) for c in children)
            if self._sizes[id(node)] > MAX_YAML_NODES:
                raise _YamlTooBig(f"more than {MAX_YAML_NODES} values once aliases are expanded")
        return node


def parse_settings_yaml(data: bytes, source: str) -> tuple[Any, list[dict]]:
    """Decode (BOMs, UTF-16, Windows-1252 with a warning) and parse a settings file, bounded.

    Returns the YAML value and the decoding warnings (problems). Any YAML that is invalid or over
    the bounds raises :class:`SettingsError` naming the file (exit 2), never a traceback.
    """
    if len(data) > MAX_SETTINGS_BYTES:
        raise SettingsError(
            f"the settings file is larger than {MAX_SETTINGS_BYTES >> 20} MB; "
            "connector.yml holds a few dozen lines",
            file=source,
        )
    text, _, warnings = decode_text(data, source)
    loader = None
    try:
        loader = _BoundedLoader(text)  # the reader rejects control characters already here
        return loader.get_single_data(), warnings
    except _YamlTooBig as exc:
        raise SettingsError(f"settings file refused: {exc}", file=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SettingsError(
            f"not valid YAML: {getattr(exc, 'problem', None) or type(exc).__name__}",
            file=source,
            row=(mark.line + 1) if mark else None,
        ) from None
    except RecursionError:
        raise SettingsError("settings file refused: nested too deeply", file=source) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_settings(path: Path | None) -> tuple[ConnectorSettings, set[str], list[dict]]:
    """Settings of a file, the names it states explicitly, and decoding warnings (problems)."""
    if path is None or not Path(path).exists():
        return ConnectorSettings(), set(), []
    source = str(path)
    data = read_limited(path, source, MAX_SETTINGS_BYTES)
    value, warnings = parse_settings_yaml(data, source)
    settings = settings_from_mapping(value, source=source)
    given = {_KEYS[_key(k)] for k in (value or {}) if _key(k) in _KEYS}
    return settings, given, warnings


def given_keys(path: Path | None) -> set[str]:
    """Names of the settings a file states explicitly (the rest are defaults)."""
    return read_settings(path)[1]


def load_settings(path: Path | None) -> ConnectorSettings:
    """Read connector.yml; a missing file gives the documented defaults."""
    return read_settings(path)[0]


def find_settings_file(folder: Path) -> Path | None:
    """The connector.yml of an export folder, matched case-insensitively."""
    names = {n.lower() for n in SETTINGS_FILE_NAMES}
    for child in sorted(Path(folder).iterdir()):
        if child.is_file() and child.name.lower() in names:
            return child
    return None
