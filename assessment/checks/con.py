"""CON: connector settings (spec/checks.md, connector-behavior.md §5, §6)."""

from __future__ import annotations

import pandas as pd

from ..sync.reasons import has_code
from ..sync.salesforce_side import auto_create_on
from ..sync.simulate import auto_create_stated
from .common import person_accounts
from .registry import (
    NEED_SIMULATION,
    CheckContext,
    Outcome,
    check,
    concat_findings,
    empty_findings,
    make_findings,
)


def _settings_finding(code: str, message: str, fix: str, field: str | None = None) -> pd.DataFrame:
    return make_findings(
        code,
        "setting",
        None,
        index=pd.RangeIndex(1),
        field=field,
        message=message,
        suggested_fix=fix,
    )


@check("CON001", "connector-version", "CON", "warning", source="V-5, CR-17, V-1")
def connector_version(ctx: CheckContext) -> Outcome:
    """Connector version 1, or a version the settings do not state.

    ## What it checks
    Fails when `connector_version` in connector.yml is 1, or when connector.yml does not state
    the version (the toolkit then assumes version 2, the current one).

    ## Why it matters
    Version 1 has no pause, no Salesforce User Sync and no Marketing Data Sharing; the whole
    dry-run logic of this report assumes a paused version 2 connector.

    ## How to fix it
    Check Account Engagement Settings > Connectors: a version 2 connector shows Pause/Unpause
    and can run as the B2BMA Integration user. Write `connector_version: 2` (or 1) in
    connector.yml. Upgrade version 1 connectors before relying on this report.

    ## Known false positives
    A correct version 2 connector is flagged when connector.yml simply leaves the key out.
    """
    s = ctx.settings
    given = "connector_version" in ctx.snapshot.load_report.settings_given
    if s.connector_version == 1:
        msg = "connector version 1: no pause, no User Sync, no Marketing Data Sharing (V-5)"
    elif not given:
        msg = "connector version not stated in connector.yml; version 2 assumed"
    else:
        return Outcome(empty_findings(), f"Connector version {s.connector_version}.", failed=False)
    fix = "state connector_version in connector.yml; upgrade a v1 connector to v2"
    return Outcome(
        _settings_finding("CON001", msg, fix, "connector_version"), msg[0].upper() + msg[1:] + "."
    )


@check("CON002", "connector-unpaused", "CON", "info", source="CR-17, V-1")
def connector_unpaused(ctx: CheckContext) -> Outcome:
    """The connector is already unpaused.

    ## What it checks
    Fails when connector.yml says `paused: false`.

    ## Why it matters
    The report predicts what the first sync after unpausing will do. With a live connector the
    sync is already running, so the report describes the live state, not a dry run.

    ## How to fix it
    Nothing to fix if intended. To use the report as a dry run, pause the connector first
    (Account Engagement Settings > Connectors > Pause).

    ## Known false positives
    None known: the check only reads the setting you gave.
    """
    if ctx.settings.paused:
        return Outcome(empty_findings(), "The connector is paused: this report is a dry run.")
    msg = "the connector is unpaused: the report describes a live sync, not a dry run"
    return Outcome(
        _settings_finding("CON002", msg, "pause the connector for a dry run", "paused"),
        "The connector is unpaused: the report describes the live sync, not a dry run.",
    )


@check("CON003", "integration-user-with-business-units", "CON", "blocker", source="V-3, D-7, D-2")
def integration_user_with_business_units(ctx: CheckContext) -> Outcome:
    """Several business units share the org through the integration user without MDS.

    ## What it checks
    Fails when more than one business unit shares the Salesforce org, the connector user is
    the integration user, and Marketing Data Sharing rules for both Lead and Contact are not
    set in connector.yml.

    ## Why it matters
    The integration user sees every record. Without Marketing Data Sharing each business unit
    would sync every lead and contact, and a record can be linked in only one business unit
    (M-1), so records land in the wrong business unit.

    ## How to fix it
    Define Marketing Data Sharing rules for Lead and Contact in every business unit before
    unpausing, or give each business unit its own connector user with limited visibility.

    ## Known false positives
    The toolkit sees one business unit's settings; it cannot confirm the other units' rules.
    """
    s = ctx.settings
    rules = set(s.marketing_data_sharing)
    missing = [o for o in ("Lead", "Contact") if o not in rules]
    if s.business_unit_count <= 1 or not s.uses_integration_user or not missing:
        return Outcome(
            empty_findings(),
            f"{s.business_unit_count} business unit(s); connector user {s.connector_user!r}; "
            f"MDS rules for {', '.join(sorted(rules)) or 'no object'}.",
            failed=False,
        )
    msg = (
        f"{s.business_unit_count} business units share the org through the integration user "
        f"and MDS has no {' or '.join(missing)} rule"
    )
    return Outcome(
        _settings_finding(
            "CON003", msg, "set Lead and Contact MDS rules in every business unit", "business_units"
        ),
        msg[0].upper() + msg[1:] + ".",
    )


@check(
    "CON004",
    "connector-user-license-and-visibility",
    "CON",
    "warning",
    needs=(NEED_SIMULATION,),
    source="M-3, V-6, V-2",
)
def connector_user_license_and_visibility(ctx: CheckContext) -> Outcome:
    """A named (custom) connector user: licence and visibility.

    ## What it checks
    Fails when connector.yml names a connector user other than the integration user. Lists the
    leads and contacts the simulator predicts that user cannot see.

    ## Why it matters
    A custom connector user needs a Salesforce licence and the connector permissions, and it
    sees only what its sharing allows. Records it cannot see do not sync, and an assigned
    prospect whose only match is invisible creates a duplicate lead (M-3).

    ## How to fix it
    Confirm the user's licence and the connector permission set (View All / Modify All on Lead
    and Contact), or switch to the integration user. Review the listed records.

    ## Known false positives
    Visibility comes from `connector_user_visible_owner_ids` in connector.yml; if that list is
    not given, the toolkit assumes the user sees everything and lists no records.
    """
    s = ctx.settings
    if s.uses_integration_user:
        return Outcome(empty_findings(), "The connector runs as the integration user (sees all).")
    sf = ctx.simulation.salesforce
    out = sf[
        (sf["outcome"] == "out_of_scope") & ~sf["sf_object"].astype("str").str.contains("Account")
    ]
    out = out[has_code(out["reason_code"], "M-3.not_visible")]
    found = make_findings(
        "CON004",
        out["sf_object"],
        out["sf_id"],
        sf_id=out["sf_id"],
        email=out["email"],
        prospect_id=out["prospect_id"],
        message="not visible to the connector user: will not sync",
        suggested_fix="share the record with the connector user, or accept it stays out of sync",
    )
    setting = _settings_finding(
        "CON004",
        f"custom connector user {s.connector_user!r}: needs a Sales Cloud licence and the "
        "connector permissions; sees only what its sharing allows",
        "confirm the licence and permissions, or use the integration user",
        "connector_user",
    )
    if s.connector_user_visible_owner_ids:
        seen = f"{len(found)} lead/contact record(s) it cannot see will not sync."
    else:
        seen = (
            "which records it can see is unknown (set connector_user_visible_owner_ids in "
            "connector.yml); all are assumed visible."
        )
    return Outcome(
        concat_findings([setting, found]),
        f"Custom connector user {s.connector_user!r}: needs a licence and the connector "
        f"permissions; {seen}",
        numbers={"invisible_records": len(found)},
        affected=len(found),
        failed=True,
    )


@check("CON005", "person-accounts", "CON", "warning", needs=("sf_accounts",), source="M-18, M-19")
def person_accounts_setting(ctx: CheckContext) -> Outcome:
    """Person-account records and the person-account sync setting disagree.

    ## What it checks
    Fails when the accounts export holds person accounts (`IsPersonAccount = true`) but
    `person_accounts_enabled` is false (lists them), or when the setting is true and the export
    holds no person account.

    ## Why it matters
    Without person-account sync, person accounts are invisible to the connector: assigned
    prospects with their emails create duplicate leads, and converted person accounts are
    re-created as leads (M-18).

    ## How to fix it
    Enable **Sync Prospects with Person Accounts** on the Salesforce connector (help "Create a
    Person Account"; older help: ask Salesforce Support) and choose the default record type
    before unpausing, or correct `person_accounts_enabled` in connector.yml.

    ## Known false positives
    An accounts export without the IsPersonAccount column shows no person accounts.
    """
    pas = person_accounts(ctx.table("sf_accounts"))
    enabled = ctx.settings.person_accounts_enabled
    if len(pas) and not enabled:
        found = make_findings(
            "CON005",
            "PersonAccount",
            pas["id"],
            sf_id=pas["id"],
            email=pas["person_email"],
            message="person account while person-account sync is off: invisible to the connector",
            suggested_fix="enable Sync Prospects with Person Accounts on the connector "
            "(older help: ask Salesforce Support) before unpausing",
        )
        return Outcome(
            found,
            f"{len(pas)} person account(s) exist but person-account sync is off.",
            population=len(ctx.table("sf_accounts")),
        )
    if enabled and not len(pas):
        msg = "person_accounts_enabled is true but the accounts export holds no person account"
        return Outcome(
            _settings_finding(
                "CON005", msg, "check the setting or the export", "person_accounts_enabled"
            ),
            msg[0].upper() + msg[1:] + ".",
        )
    return Outcome(
        empty_findings(),
        f"{len(pas)} person account(s); person-account sync {'on' if enabled else 'off'}.",
    )


@check(
    "CON006",
    "auto-create-prospects",
    "CON",
    "info",
    needs=(NEED_SIMULATION,),
    source="CR-9, CR-10, CR-11",
)
def auto_create_prospects(ctx: CheckContext) -> Outcome:
    """What the auto-create setting will (and will not) do at unpause.

    ## What it checks
    States the auto-create setting and counts, from the simulation, the leads and contacts that
    will create a prospect and those that will not (auto-create is not retroactive). It never
    fails: the records needing an import are listed by SYN005.

    ## Why it matters
    Admins often expect unpausing to bring every existing lead and contact into Account
    Engagement. It does not: existing records are not back-filled (CR-11).

    ## How to fix it
    Plan an import (by CRM id in same-email mode) for existing records you want as prospects.

    ## Known false positives
    The exports do not show when auto-create was switched on; the cautious reading (no back-fill)
    is used unless `auto_create_enabled_since` is set.
    """
    s = ctx.settings
    sf = ctx.simulation.salesforce
    creates = int((sf["outcome"] == "creates_prospect").sum())
    none_ = int((sf["outcome"] == "no_prospect").sum())
    # The setting decides in both modes (CR-9, CR-10; help "Salesforce Connector Settings").
    on, by_policy = auto_create_on(s, auto_create_stated(ctx.snapshot, s))
    mode = "on" if on else "off"
    why = ""
    if by_policy:
        why = (
            " (same-email mode, not stated in connector.yml: policy "
            f"ampsea_auto_create_default={s.ampsea_auto_create_default})"
        )
    return Outcome(
        empty_findings(),
        f"Auto-create is {mode}{why}: {creates} lead/contact record(s) will create a prospect; "
        f"{none_} will not (auto-create is not retroactive; see SYN005).",
        numbers={"auto_create": mode, "creates_prospect": creates, "no_prospect": none_},
        failed=False,
    )


@check(
    "CON007",
    "same-email-mode",
    "CON",
    "info",
    needs=(NEED_SIMULATION,),
    source="M-5, M-9, M-10, M-11, M-12",
)
def same_email_mode(ctx: CheckContext) -> Outcome:
    """Which matching mode applies: by email, or by CRM id (same-email mode).

    ## What it checks
    States whether the business unit allows several prospects with the same email (AMPSEA) and
    what that means here: the number of prospects without a CRM id that will be matched by email.
    It never fails.

    ## Why it matters
    Without same-email mode the connector matches by email. In same-email mode it matches by
    CRM id, and an import by email creates new prospects and duplicate leads (M-11); the initial
    load must be an import by CRM id.

    ## How to fix it
    Set `allow_multiple_prospects_same_email` in connector.yml to match the business unit. In
    same-email mode, import existing records by CRM id, never by email.

    ## Known false positives
    Whether version 2 same-email mode can switch the email fallback off is unconfirmed (M-10).
    """
    s = ctx.settings
    p = ctx.simulation.prospects
    by_email = int(p["outcome"].isin(["match_email", "match_email_tie"]).sum())
    if s.ampsea:
        text = (
            "Same-email mode (AMPSEA): matching is by CRM id; "
            f"{by_email} prospect(s) without a CRM id fall back to email matching "
            f"(policy ampsea_email_fallback={s.ampsea_email_fallback}). Import existing records "
            "by CRM id, never by email."
        )
    else:
        text = (
            f"One prospect per email: matching is by email; {by_email} prospect(s) will link by "
            "email at unpause."
        )
    return Outcome(
        empty_findings(),
        text,
        numbers={"ampsea": s.ampsea, "match_by_email": by_email},
        failed=False,
    )


@check(
    "CON008",
    "marketing-data-sharing-rules",
    "CON",
    "blocker",
    needs=(NEED_SIMULATION,),
    source="D-2, D-3, D-6, D-8, CR-19",
)
def marketing_data_sharing_rules(ctx: CheckContext) -> Outcome:
    """Marketing Data Sharing rules are incomplete or invalid.

    ## What it checks
    When connector.yml sets any MDS rule, fails if the Lead or the Contact rule is missing, if a
    rule field is itself mapped to an Account Engagement field (field_mappings), or if two
    business units given in `business_units` share a rule value. Reports the leads and contacts
    in and out of scope from the simulation.

    ## Why it matters
    With MDS both Lead and Contact rules are required (D-2), and a rule field must not be
    mapped (D-3): a synced value could move records between business units. Records outside
    the rules do not sync, and their prospects are archived (D-6).

    ## How to fix it
    Pause the connector, then define one equals rule on an unmapped field for both Lead and
    Contact; unmap the rule field from Account Engagement.

    ## Known false positives
    The toolkit sees only this business unit's rules, so values shared with another business
    unit are not detected.
    """
    s = ctx.settings
    rules = s.marketing_data_sharing
    sf = ctx.simulation.salesforce
    out_scope = int((sf["outcome"] == "out_of_scope").sum())
    in_scope = int(len(sf) - out_scope)
    numbers = {"in_scope": in_scope, "out_of_scope": out_scope}
    if not rules:
        return Outcome(empty_findings(), "Marketing Data Sharing is not used.", numbers=numbers)
    problems = []
    for obj in ("Lead", "Contact"):
        if obj not in rules:
            problems.append(
                _settings_finding(
                    "CON008",
                    f"MDS is used but there is no {obj} rule (both are required, D-2)",
                    f"add a {obj} MDS rule before unpausing",
                    "marketing_data_sharing",
                )
            )
    for obj, rule in rules.items():
        if rule.operator != "equals":
            problems.append(
                _settings_finding(
                    "CON008",
                    f"{obj} rule uses {rule.operator!r}; MDS supports equals only (D-3)",
                    "use an equals rule",
                    rule.field,
                )
            )
    if ctx.has("field_mappings"):
        fm = ctx.table("field_mappings")
        mapped = fm["sf_field"].astype("str").str.strip().str.lower()
        for obj, rule in rules.items():
            hit = fm[(mapped == rule.field.strip().lower()).fillna(False)]
            if len(hit):
                problems.append(
                    make_findings(
                        "CON008",
                        "mapping",
                        hit["pardot_field_id"],
                        field=rule.field,
                        value=hit["pardot_field_id"],
                        message=f"{obj} MDS rule field {rule.field} is mapped to a Pardot field (D-3)",
                        suggested_fix="unmap the rule field from Account Engagement",
                    )
                )
    findings = concat_findings(problems)
    # Objects whose scope is in doubt: no rule, a non-equals rule, or a mapped rule field.
    doubt = {o for o in ("Lead", "Contact") if o not in rules}
    doubt |= {o for o, r in rules.items() if r.operator != "equals"}
    doubt |= {o for o, r in rules.items() if (findings["field"] == r.field).any()}
    in_doubt = int(sf["sf_object"].isin(sorted(doubt)).sum())
    numbers["records_in_doubt"] = in_doubt
    summary = (
        f"MDS rules on {', '.join(sorted(rules))}: {in_scope} Salesforce record(s) in scope, "
        f"{out_scope} out of scope."
    )
    if len(findings):
        summary = f"{len(findings)} MDS rule problem(s). " + summary
    return Outcome(
        findings,
        summary,
        numbers=numbers,
        affected=in_doubt,
        population=len(sf),
    )
