"""settings.py: documented defaults, UI-label aliases, bad values → SettingsError naming the file."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.errors import SettingsError
from assessment.settings import (
    _LABEL_ALIASES,
    POLICIES,
    SETTING_NAMES,
    ConnectorSettings,
    MdsRule,
    find_settings_file,
    given_keys,
    load_settings,
    settings_from_mapping,
)


def test_defaults():
    s = ConnectorSettings()
    assert s.connector_version == 2
    assert s.paused is True  # CR-17
    assert s.allow_multiple_prospects_same_email is False
    assert s.auto_create_prospects_from_salesforce is False
    assert s.uses_integration_user
    assert s.business_unit_count == 1
    assert s.pardot_timezone == "UTC"
    assert s.marketing_data_sharing == {}
    # every policy's default is its first listed choice (spec's suggested default)
    for name, policy in POLICIES.items():
        value = getattr(s, name)
        if policy.status == "PLANNING" or policy.choices[0] == "never":
            continue
        shown = str(value).lower() if isinstance(value, bool) else value
        assert shown == policy.choices[0], name


def test_missing_file_gives_defaults(tmp_path):
    assert load_settings(None) == ConnectorSettings()
    assert load_settings(tmp_path / "nope.yml") == ConnectorSettings()
    assert given_keys(None) == set()


@pytest.mark.parametrize(
    "key, value, attr, expected",
    [
        ("allow_multiple_prospects_same_email", "yes", "allow_multiple_prospects_same_email", True),
        ("AMPSEA", True, "allow_multiple_prospects_same_email", True),
        ("Allow multiple prospects with the same email address", "on", "ampsea", True),
        (
            "Automatically create prospects in Account Engagement if they're created as a Lead "
            "or Contact in Salesforce",
            "enabled",
            "auto_create_prospects_from_salesforce",
            True,
        ),
        (
            "Automatically create prospects in Pardot if they're created as a Lead or Contact "
            "in Salesforce",
            "false",
            "auto_create_prospects_from_salesforce",
            False,
        ),
        ("Automatically match Salesforce users to users", "no", "auto_match_users", False),
        (
            "Exclude Salesforce 'Partner' and 'Customer Portal' users from prospect assignment",
            "checked",
            "exclude_portal_users",
            True,
        ),
        ("Connector Version", "v1", "connector_version", 1),
        ("business_units", "3", "business_unit_count", 3),
        ("business_units", ["EU", "US"], "business_unit_count", 2),
        ("api_daily_limit", "100000", "api_daily_limit", 100000),
        ("tie_break", "newest", "tie_break", "newest"),
        ("pardot_timezone", "America/New_York", "pardot_timezone", "America/New_York"),
        ("cycle_minutes", "2.5", "cycle_minutes", 2.5),
        ("connector_user", "Integration", "uses_integration_user", True),
        ("connector_user", "sync@acme.com", "uses_integration_user", False),
    ],
)
def test_keys_and_ui_labels(key, value, attr, expected):
    s = settings_from_mapping({key: value})
    assert getattr(s, attr) == expected


def test_marketing_data_sharing():
    s = settings_from_mapping(
        {"marketing_data_sharing": {"lead": {"field": "Sync__c", "value": "Yes"}}}
    )
    assert s.marketing_data_sharing == {"Lead": MdsRule("Sync__c", "Yes", "equals")}


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"no_such_setting": 1}, "unknown setting"),
        ({"paused": "perhaps"}, "expected true or false"),
        ({"connector_version": 3}, "expected 1 or 2"),
        ({"connector_version": "two"}, "whole number"),
        ({"tie_break": "random"}, "expected one of"),
        ({"record_type_created": "account"}, "record_type_created"),
        ({"pardot_timezone": "Mars/Olympus"}, "IANA"),
        ({"auto_create_enabled_since": "soon"}, "auto_create_enabled_since"),
        ({"cycle_minutes": "fast"}, "expected a number"),
        ({"marketing_data_sharing": {"Lead": {"field": "X"}}}, "needs 'field' and 'value'"),
        ({"connector_user_visible_owner_ids": "005"}, "list"),
        (["a", "b"], "mapping"),
    ],
)
def test_bad_values_raise_settings_error(data, needle):
    with pytest.raises(SettingsError) as exc:
        settings_from_mapping(data, source="connector.yml")
    assert needle in str(exc.value)
    assert exc.value.file == "connector.yml"
    assert exc.value.exit_code == 2


def test_file_round_trip_and_given_keys(tmp_path):
    path = tmp_path / "Connector.yml"
    path.write_text("\ufeffpaused: false\nAMPSEA: true\n", encoding="utf-8")
    assert find_settings_file(tmp_path) == path
    s = load_settings(path)
    assert s.paused is False and s.ampsea is True
    assert given_keys(path) == {"paused", "allow_multiple_prospects_same_email"}


def test_bad_yaml_names_line(tmp_path):
    path = tmp_path / "connector.yml"
    path.write_text("paused: false\nampsea: [unclosed\n", encoding="utf-8")
    with pytest.raises(SettingsError) as exc:
        load_settings(path)
    assert exc.value.file == str(path) and exc.value.row is not None


def test_replace_and_to_dict():
    s = ConnectorSettings().replace(tie_break="oldest")
    assert s.tie_break == "oldest"
    with pytest.raises(SettingsError):
        ConnectorSettings().replace(tie_break="bogus")
    d = settings_from_mapping(
        {"marketing_data_sharing": {"Contact": {"field": "F", "value": "V"}}}
    ).to_dict()
    assert d["marketing_data_sharing"] == {
        "Contact": {"field": "F", "value": "V", "operator": "equals"}
    }


# --- the typed model (pydantic): what it accepts, what it refuses, and how it says so ---

ACCEPTED_TRUE = ["true", "yes", "on", "1", "enabled", "checked", " Yes ", True, 1]
ACCEPTED_FALSE = ["false", "no", "off", "0", "disabled", "unchecked", "OFF", False, 0]


@pytest.mark.parametrize("word", ACCEPTED_TRUE + ACCEPTED_FALSE)
def test_switch_words(word):
    s = settings_from_mapping({"sync_emails": word, "paused": word})
    expected = word in ACCEPTED_TRUE
    assert s.sync_emails is expected and s.paused is expected


# One value each setting must refuse, with the words the message gives.
BAD = {
    "bool": ("maybe", "expected true or false"),
    "int": ("12k", "expected a whole number"),
    "float": ("fast", "expected a number"),
    "text": (["a", "b"], "expected a single value"),
    "choice": ("bogus", "expected"),
}
KIND = {
    "connector_version": ("4", "expected 1 or 2"),
    "api_daily_limit": ("lots", "expected a whole number"),
    "business_units": ("several", "expected a whole number"),
    "marketing_data_sharing": ("Sync__c", "marketing_data_sharing must map"),
    "connector_user_visible_owner_ids": ("005000000000001AAA", "expected a list"),
    "business_unit_created": ("last year", "expected a date"),
    "auto_create_enabled_since": ("soon", "expected 'never' or a date"),
    "pardot_timezone": ("Mars/Olympus", "IANA"),
    "thresholds": ({"stale_crm_ids": 3}, "share"),
}


def _bad_value(name):
    if name in KIND:
        return KIND[name]
    default = getattr(ConnectorSettings(), name)
    if isinstance(default, bool):
        return BAD["bool"]
    if isinstance(default, int):
        return BAD["int"]
    if isinstance(default, float):
        return BAD["float"]
    if name in POLICIES or name in ("date_format", "record_type_created"):
        return BAD["choice"]
    return BAD["text"]


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_every_setting_refuses_a_bad_value_naming_file_key_and_value(name):
    value, needle = _bad_value(name)
    with pytest.raises(SettingsError) as exc:
        settings_from_mapping({name: value}, source="connector.yml")
    err = exc.value
    assert err.file == "connector.yml" and err.exit_code == 2
    assert needle in err.message
    if name != "thresholds":  # the threshold message names the threshold, not the section
        assert name in err.message
    if needle.startswith("expected"):
        assert repr(value) in err.message


WORD_POLICIES = sorted(
    n
    for n, p in POLICIES.items()
    if p.status != "PLANNING" and not {"true", "never"} & set(p.choices)
)


@pytest.mark.parametrize("name", WORD_POLICIES)
def test_every_word_policy_refuses_a_word_not_among_its_choices(name):
    policy = POLICIES[name]
    for choice in policy.choices:
        assert getattr(settings_from_mapping({name: choice}), name) == choice
    with pytest.raises(SettingsError, match="expected one of"):
        settings_from_mapping({name: "not_a_choice"})


@pytest.mark.parametrize("alias, name", sorted(_LABEL_ALIASES.items()))
def test_every_ui_label_alias_reaches_its_setting(alias, name):
    default = getattr(ConnectorSettings(), name)
    assert isinstance(default, bool)  # every label on the connector page is a checkbox
    s = settings_from_mapping({alias.upper(): "checked" if not default else "unchecked"})
    assert getattr(s, name) is (not default)
    assert given_keys_of({alias: True}) == {name}


def given_keys_of(mapping):
    from assessment.settings import _KEYS, _key

    return {_KEYS[_key(k)] for k in mapping}


def test_an_error_names_the_label_the_file_used():
    label = "Automatically match Salesforce users to users"
    with pytest.raises(SettingsError) as exc:
        settings_from_mapping({label: "perhaps"}, source="connector.yml")
    assert "auto_match_users" in exc.value.message and label in exc.value.message


def test_every_bad_value_is_listed_not_just_the_first():
    with pytest.raises(SettingsError) as exc:
        settings_from_mapping({"paused": "perhaps", "tie_break": "random", "batch_size": "x"})
    text = str(exc.value)
    assert "paused" in text and "tie_break" in text and "batch_size" in text


def test_direct_construction_and_replace_raise_settings_error_not_pydantic():
    import pydantic

    for make in (
        lambda: ConnectorSettings(paused="perhaps"),
        lambda: ConnectorSettings(no_such_setting=1),
        lambda: ConnectorSettings().replace(batch_size="many"),
    ):
        with pytest.raises(SettingsError) as exc:
            make()
        assert not isinstance(exc.value, pydantic.ValidationError)


def test_settings_are_immutable_comparable_and_hashable():
    s = ConnectorSettings()
    with pytest.raises(AttributeError, match="replace"):
        s.paused = False
    assert s.paused is True
    other = s.replace(paused=False)
    assert other.paused is False and s.paused is True
    assert s == ConnectorSettings() and other != s
    assert hash(s) == hash(ConnectorSettings()) and len({s, ConnectorSettings(), other}) == 2
    # replace checks and converts like the file does
    assert s.replace(batch_size="500").batch_size == 500


def test_to_dict_keeps_field_order_and_plain_values():
    d = ConnectorSettings().to_dict()
    assert list(d) == list(SETTING_NAMES)
    assert d["connector_version"] == 2 and d["cycle_minutes"] == 3.0 and d["thresholds"] == {}


SETTING_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 20_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["yes", "off", "v1", "2", "newest", "UTC", "2024-01-31", "never", "5%"]),
    st.text(max_size=12),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=8), st.text(max_size=5), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(SETTING_NAMES), SETTING_VALUES, max_size=4))
def test_any_yaml_value_gives_settings_or_a_settings_error(data):
    # A pydantic ValidationError (or a TypeError) never reaches the user; accepted values are
    # canonical: they survive to_dict -> settings_from_mapping unchanged (readiness.json round trip).
    try:
        s = settings_from_mapping(data, source="connector.yml")
    except SettingsError as exc:
        assert exc.file == "connector.yml" and exc.message
        return
    assert settings_from_mapping(s.to_dict()) == s
    assert s.replace() == s
