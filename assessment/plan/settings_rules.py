"""Setting recommendations: one small rule per decision the Trailhead planning unit names.

Each rule confirms the current choice or recommends a change, with counts from the snapshot and,
when the evidence puts the decision in question, the dry-run effect of the change (a what-if).
A rule never recommends from absent data: it answers ``cannot_tell`` and names the export.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import header_key
from .common import duplicate_groups, flag, has_column, live_prospects, problems
from .registry import PlanContext, Recommendation, effect_of, rule

RECENT_DAYS = 365  # "records still being created": created within a year of the newest record


@rule("connector_user")
def connector_user(ctx: PlanContext) -> Recommendation:
    """Integration user (v2, sees all, no licence) or a named user (V-2, V-3, M-3)."""
    s = ctx.settings
    rec = Recommendation(
        code="REC-CONNECTOR-USER",
        kind="setting",
        decision="Connector user: the v2 integration user or a named Salesforce user",
        setting="connector_user",
        current=s.connector_user,
        recommended=s.connector_user,
        action="confirm",
        why="",
        source="connector-behavior.md V-2, V-3, M-3 (H11, H1, H12)",
        changes_matching=True,
        evidence={
            "connector_version": s.connector_version,
            "business_units": s.business_unit_count,
        },
    )
    if s.connector_version == 1:
        rec.why = (
            "a v1 connector runs as a licensed user; the integration user exists only in v2 (V-2)"
        )
        return rec
    mds_complete = {"Lead", "Contact"} <= set(s.marketing_data_sharing)
    rec.evidence["mds_objects"] = sorted(s.marketing_data_sharing)
    if s.business_unit_count > 1 and s.uses_integration_user and not mds_complete:
        rec.action, rec.recommended = "change", "integration user with MDS rules (see REC-MDS)"
        rec.why = (
            f"{s.business_unit_count} business units share the org and the integration user sees "
            "every record: without Marketing Data Sharing rules for Lead and Contact every business "
            "unit would sync every record (V-3, D-7). Alternatively a named user per business unit "
            "whose sharing is limited."
        )
        rec.risks = [
            "unpausing before the rules are set puts records in the wrong business unit (D-7)"
        ]
        return rec
    if s.uses_integration_user:
        rec.why = (
            "the integration user sees every record and needs no Salesforce licence (V-2, H11)"
        )
        return rec
    if not s.connector_user_visible_owner_ids:
        rec.action = "cannot_tell"
        rec.recommended = None
        rec.why = (
            f"a named connector user ({s.connector_user!r}) sees only what its sharing allows (M-3); "
            "what it cannot see is not given, so the effect of the integration user is unknown"
        )
        rec.missing_exports = [
            "connector_user_visible_owner_ids in connector.yml (owners whose records the "
            "connector user sees), or Lead/Contact exports run as the connector user"
        ]
        return rec
    wi = ctx.what_if(connector_user="integration")
    rec.effect = effect_of(wi)
    rec.changes = {"connector_user": "integration"}
    if rec.effect["moved_prospects"] + rec.effect["moved_salesforce"] and (
        s.business_unit_count == 1
    ):
        rec.action, rec.recommended = "change", "integration"
        rec.why = (
            "one business unit and the named connector user cannot see some records: the "
            "integration user sees all of them and needs no licence (V-2, M-3)"
        )
        rec.risks = ["every lead and contact becomes visible to the connector (V-2)"]
    else:
        rec.why = (
            "the named user's visibility hides no record the sync would use, or partitions BUs"
        )
        rec.risks = ["a named connector user needs a Sales Cloud licence (CON004, V-6)"]
    return rec


@rule("connector_user_visibility")
def visibility(ctx: PlanContext) -> Recommendation:
    """A named connector user's visibility: View All on Lead and Contact, or a partition (M-3)."""
    s = ctx.settings
    rec = Recommendation(
        code="REC-VISIBILITY",
        kind="setting",
        decision="What the named connector user can see",
        setting="connector_user_visible_owner_ids",
        current="all records" if not s.connector_user_visible_owner_ids else "some owners",
        recommended=None,
        action="confirm",
        why="",
        source="connector-behavior.md M-3, V-3, V-6 (H13, H19, B12)",
        changes_matching=True,
    )
    if s.uses_integration_user:
        rec.recommended = rec.current = "all records"
        rec.why = "the integration user sees every record (V-2): nothing to widen"
        return rec
    if not s.connector_user_visible_owner_ids:
        rec.action = "cannot_tell"
        rec.why = "the connector user's visibility is not given: hidden records cannot be counted"
        rec.missing_exports = ["connector_user_visible_owner_ids in connector.yml"]
        return rec
    wi = ctx.what_if(connector_user_visible_owner_ids=[])
    rec.effect = effect_of(wi)
    rec.changes = {"connector_user_visible_owner_ids": []}
    hidden = int((wi.changed_salesforce["outcome"] == "out_of_scope").sum())
    dupes = int(
        (
            (wi.changed_prospects["outcome"] == "create_lead")
            & (wi.changed_prospects["outcome_other"] != "create_lead")
        ).sum()
    )
    rec.evidence = {"hidden_records": hidden, "duplicate_leads_avoided": dupes}
    if hidden and s.business_unit_count == 1:
        rec.action, rec.recommended = "change", "all records (View All on Lead and Contact)"
        rec.why = (
            f"{hidden} leads/contacts are hidden from the connector user; with View All "
            f"they sync, and {dupes} assigned prospects stop creating duplicate leads (M-3, H13)"
        )
    else:
        rec.recommended = rec.current
        rec.why = "the visibility hides nothing the sync uses, or is the business-unit partition"
        rec.risks = [
            f"{dupes} assigned prospects whose record is hidden create duplicate leads (M-3)"
        ]
    return rec


@rule("same_email_mode")
def same_email(ctx: PlanContext) -> Recommendation:
    """Allow multiple prospects with the same email (AMPSEA): CRM-id vs email matching (M-5, M-9)."""
    s, sim = ctx.settings, ctx.simulation
    P = live_prospects(ctx.snapshot, ["email_key"])
    groups, records = duplicate_groups(P["email_key"]) if "email_key" in P else (0, 0)
    ties = int(sim.prospect_counts().get("match_email_tie", 0))
    rec = Recommendation(
        code="REC-SAME-EMAIL",
        kind="setting",
        decision="Allow multiple prospects with the same email address (AMPSEA)",
        setting="allow_multiple_prospects_same_email",
        current=s.ampsea,
        recommended=s.ampsea,
        action="confirm",
        why="",
        source="connector-behavior.md M-5, M-9–M-12 (H2, H3, G1)",
        changes_matching=True,
        evidence={"prospect_email_groups": groups, "prospects_in_groups": records, "ties": ties},
    )
    if "pardot_prospects" not in ctx.snapshot.tables:
        rec.action, rec.recommended = "cannot_tell", None
        rec.why = "no prospect export: shared emails cannot be counted"
        rec.missing_exports = ["pardot_prospects (Pardot prospect export)"]
        return rec
    if s.ampsea:
        rec.why = "same-email mode cannot be switched off once on (H3, M-12); load by CRM id (M-11)"
        rec.policies = ["ampsea_email_fallback"]
        return rec
    if not groups and not ties:
        rec.why = "no two prospects share an email and no email match is a tie: email matching fits"
        return rec
    wi = ctx.what_if(allow_multiple_prospects_same_email=True)
    rec.effect = effect_of(wi)
    rec.changes = {"allow_multiple_prospects_same_email": True}
    rec.policies = ["ampsea_email_fallback", "tie_break"]
    other_counts = dict(zip(wi.prospects["outcome"], wi.prospects["other"], strict=True))
    gain = problems(sim.prospect_counts()) - problems(other_counts)
    moved_sf = wi.changed_salesforce
    gained = int(
        (
            (moved_sf["outcome"] == "no_prospect") & (moved_sf["outcome_other"] != "out_of_scope")
        ).sum()
    )
    rec.evidence["problem_outcomes_removed"] = gain
    rec.evidence["salesforce_records_gaining_a_prospect"] = gained  # CR-10
    gain += gained
    rec.risks = [
        "irreversible: same-email mode cannot be switched off (H3)",
        "the initial load becomes an import by CRM id; imports by email create duplicates (M-11)",
    ]
    if groups and gain > 0:
        rec.action, rec.recommended = "change", True
        rec.why = (
            f"{records} prospects share an email in {groups} groups; with same-email mode "
            f"{gain} fewer records end on a tie, an error, a lost link or without a prospect "
            "(dry run; CR-10, M-9)"
        )
    else:
        rec.why = (
            f"{groups} shared-email groups and {ties} ties, but same-email mode removes no "
            "problem outcome in the dry run: keep email matching"
        )
    return rec


def _recent_without_prospect(ctx: PlanContext) -> tuple[int, int] | None:
    """(records with an email and no prospect, of which created in the last year); None if unknown."""
    sf = ctx.simulation.salesforce
    none = sf[["sf_object", "row"]].loc[(sf["outcome"] == "no_prospect") & sf["email_key"].notna()]
    recent, known = 0, False
    for obj, table in (("Lead", "sf_leads"), ("Contact", "sf_contacts")):
        if not has_column(ctx.snapshot, table, "created_date"):
            continue
        known = True
        created = ctx.snapshot.tables[table]["created_date"]
        newest = created.max()
        rows = none.loc[none["sf_object"] == obj, "row"]
        at = created.reindex(rows.to_numpy())
        recent += int((at >= newest - pd.Timedelta(days=RECENT_DAYS)).fillna(False).sum())
    return (len(none), recent) if known else None


@rule("auto_create")
def auto_create(ctx: PlanContext) -> Recommendation:
    """Auto-create prospects from new leads/contacts: ongoing only, never retroactive (CR-9–CR-11)."""
    s = ctx.settings
    rec = Recommendation(
        code="REC-AUTO-CREATE",
        kind="setting",
        decision="Automatically create prospects from new Salesforce leads and contacts",
        setting="auto_create_prospects_from_salesforce",
        current=s.auto_create_prospects_from_salesforce,
        recommended=s.auto_create_prospects_from_salesforce,
        action="confirm",
        why="",
        source="connector-behavior.md CR-9–CR-11, M-12 (H5, K5, G1)",
    )
    if s.ampsea:
        rec.why = (
            "in same-email mode the connector creates prospects for new records itself (CR-10)"
        )
        return rec
    counts = _recent_without_prospect(ctx)
    if counts is None:
        rec.action, rec.recommended = "cannot_tell", None
        rec.why = "whether leads and contacts are still being created cannot be told"
        rec.missing_exports = ["CreatedDate in the Lead and Contact exports"]
        return rec
    total, recent = counts
    rec.evidence = {"records_without_prospect": total, "created_last_year": recent}
    if s.auto_create_prospects_from_salesforce:
        rec.why = "on: new records get prospects; existing ones still need an import (CR-11)"
        rec.policies = ["auto_create_enabled_since"]
        return rec
    if not recent:
        rec.why = "no lead or contact without a prospect was created in the last year"
        return rec
    wi = ctx.what_if(auto_create_prospects_from_salesforce=True)
    rec.effect = effect_of(wi)
    rec.changes = {"auto_create_prospects_from_salesforce": True}
    rec.policies = ["auto_create_enabled_since"]
    rec.action, rec.recommended = "change", True
    rec.why = (
        f"{recent} of {total} leads/contacts without a prospect were created in the last year: "
        "records keep arriving, and only auto-create gives new ones a prospect. It is not "
        f"retroactive: {rec.effect['moved_salesforce']} existing records move at unpause; "
        "import the rest by CRM id (SYN005 action file)"
    )
    rec.risks = [
        "every new lead/contact with an email becomes a prospect (mailable database grows)"
    ]
    return rec


def _mds_candidates(ctx: PlanContext) -> list[str]:
    """Unmapped columns present on both Lead and Contact with a few distinct values."""
    leads, contacts = ctx.table("sf_leads"), ctx.table("sf_contacts")
    if leads is None or contacts is None:
        return []
    mapped = set(ctx.simulation.mappings.get("lead_column", pd.Series(dtype=str)).dropna())
    mapped |= set(ctx.simulation.mappings.get("contact_column", pd.Series(dtype=str)).dropna())
    c_keys = {header_key(c): c for c in contacts.columns}
    out = []
    for col in leads.columns:
        other = c_keys.get(header_key(col))
        if (
            other is None
            or col in mapped
            or other in mapped
            or not str(col).lower().endswith("__c")
        ):
            continue
        distinct = leads[col].nunique()
        if 2 <= distinct <= max(10, 3 * ctx.settings.business_unit_count):
            out.append(str(col))
    return out


@rule("marketing_data_sharing")
def marketing_data_sharing(ctx: PlanContext) -> list[Recommendation]:
    """Marketing Data Sharing per object: both rules, one unmapped field, exact values (D-1–D-8)."""
    s = ctx.settings
    base = dict(
        kind="setting",
        setting="marketing_data_sharing",
        source="connector-behavior.md D-2, D-3, D-7, V-3 (G2)",
        changes_matching=True,
    )
    if not s.marketing_data_sharing:
        rec = Recommendation(
            code="REC-MDS",
            decision="Marketing Data Sharing rules",
            current=None,
            recommended=None,
            action="confirm",
            why="one business unit: no rules needed (D-7)",
            **base,
        )
        if s.business_unit_count > 1:
            cands = _mds_candidates(ctx)
            rec.action, rec.recommended = "change", "a Lead and a Contact rule"
            rec.evidence = {"business_units": s.business_unit_count, "candidate_fields": cands}
            rec.why = (
                f"{s.business_unit_count} business units share the org: MDS rules (one unmapped "
                "field per object, equals, exact value) decide which records each unit syncs (D-7)"
            )
            rec.missing_exports = (
                [] if cands else ["a Lead/Contact field that names the business unit"]
            )
        return [rec]
    return [_mds_object(ctx, obj, base) for obj in ("Lead", "Contact")]


def _mds_object(ctx: PlanContext, obj: str, base: dict) -> Recommendation:
    """One object's MDS rule: present, exported, unmapped, values matching exactly."""
    s = ctx.settings
    rule_ = s.marketing_data_sharing.get(obj)
    rec = Recommendation(
        code=f"REC-MDS-{obj.upper()}",
        decision=f"Marketing Data Sharing rule for {obj}",
        current=None if rule_ is None else f"{rule_.field} = {rule_.value}",
        recommended=None,
        action="confirm",
        why="",
        **base,
    )
    rec.recommended = rec.current
    if rule_ is None:
        rec.action, rec.recommended = "change", f"add a {obj} rule"
        rec.why = (
            f"MDS is used but has no {obj} rule: both Lead and Contact rules are required (D-2)"
        )
        return rec
    frame = ctx.table("sf_leads" if obj == "Lead" else "sf_contacts")
    cols = {header_key(c): c for c in (frame.columns if frame is not None else [])}
    col = cols.get(header_key(rule_.field))
    if col is None:
        rec.action, rec.recommended = "cannot_tell", None
        rec.why = f"{rule_.field} is not in the {obj} export: scope cannot be counted"
        rec.missing_exports = [f"{obj} export with the {rule_.field} column"]
        return rec
    values = frame[col].astype("str")
    exact = values.eq(rule_.value).fillna(False)
    loose = values.str.strip().str.casefold().eq(rule_.value.strip().casefold()).fillna(False)
    variants = int((loose & ~exact).sum())
    mapped = ctx.simulation.mappings
    keys = set(mapped["sf_field"].dropna().map(header_key)) | set(
        mapped["contact_sf_field"].dropna().map(header_key)
    )
    rec.evidence = {
        "in_scope": int(exact.sum()),
        "out_of_scope": int(len(values) - exact.sum()),
        "case_or_space_variants": variants,
        "rule_field_mapped": header_key(rule_.field) in keys,
    }
    if rec.evidence["rule_field_mapped"]:
        rec.action, rec.recommended = "change", "an unmapped rule field"
        rec.why = f"{rule_.field} is mapped to a Pardot field: MDS rule fields must not be (D-3)"
    elif variants:
        rec.why = f"rule kept; {variants} records differ from {rule_.value!r} only by case/spaces"
        rec.risks = [f"{variants} records fall out of scope: values compare exactly (D-3)"]
    else:
        rec.why = f"{int(exact.sum())} {obj} records match the rule exactly (D-3)"
    return rec


@rule("person_accounts")
def person_accounts(ctx: PlanContext) -> Recommendation:
    """Person-account sync: needed when person accounts exist, enabled by Support (M-18, M-19)."""
    s = ctx.settings
    rec = Recommendation(
        code="REC-PERSON-ACCOUNTS",
        kind="setting",
        decision="Person-account syncing (enabled by Salesforce Support)",
        setting="person_accounts_enabled",
        current=s.person_accounts_enabled,
        recommended=s.person_accounts_enabled,
        action="confirm",
        why="",
        source="connector-behavior.md M-18, M-19 (H1, H14)",
        changes_matching=True,
    )
    if not has_column(ctx.snapshot, "sf_accounts", "is_person_account"):
        rec.action, rec.recommended = "cannot_tell", None
        rec.why = "whether the org has person accounts cannot be told"
        rec.missing_exports = ["Account export with IsPersonAccount and PersonEmail"]
        return rec
    accounts = ctx.table("sf_accounts")
    is_pa = flag(accounts, "is_person_account")
    keys = (
        accounts.loc[is_pa, "person_email_key"].dropna() if "person_email_key" in accounts else []
    )
    P = live_prospects(ctx.snapshot, ["email_key"])
    same = int(P["email_key"].isin(pd.Series(keys, dtype="str")).sum()) if len(keys) else 0
    rec.evidence = {"person_accounts": int(np.sum(is_pa)), "prospects_sharing_their_email": same}
    if not is_pa.any():
        rec.why = "no person accounts in the Account export: person-account sync changes nothing"
        return rec
    if s.person_accounts_enabled:
        rec.why = f"{int(is_pa.sum())} person accounts exist and person-account sync is on (M-19)"
        return rec
    wi = ctx.what_if(person_accounts_enabled=True)
    rec.effect = effect_of(wi)
    rec.changes = {"person_accounts_enabled": True}
    rec.action, rec.recommended = "change", True
    rec.why = (
        f"{int(is_pa.sum())} person accounts are invisible while person-account sync is off; "
        f"{same} prospects share their emails and would create duplicate leads (M-18)"
    )
    rec.risks = [
        "Support enables it; choose the default person-account record type (H14)",
        "the connector user needs Create on Account to create person accounts (H14)",
    ]
    return rec
