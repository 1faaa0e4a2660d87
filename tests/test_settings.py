"""settings.py: documented defaults, UI-label aliases, bad values → SettingsError naming the file."""

from __future__ import annotations

import pytest

from assessment.errors import SettingsError
from assessment.settings import (
    POLICIES,
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
