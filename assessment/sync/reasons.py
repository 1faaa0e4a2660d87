"""Reason codes: the stable name of every rule that decides (or qualifies) a simulated outcome.

Every prospect and Salesforce outcome row carries ``reason_code`` (contract §4, §5): the codes of
the rules that decided it, ``;``-joined in the order of this registry, beside the human
``reason``. People read the text; programs and checks read the codes, so rewording a message
never changes a check. A code is ``<rule id>.<slug>``: the rule id is the spec rule it rests on
(connector-behavior.md; ``S10`` is the §10 procedure itself, ``INP001`` a missing export).
``docs/reason-codes.md`` lists them; a test keeps it equal to this registry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .kernels import bitset_labels

# code -> (applies to, meaning). "prospect", "salesforce" or "both".
REASONS: dict[str, tuple[str, str]] = {
    # prospects: before any link (§10 skip, step 1)
    "S10.recycle_bin": ("prospect", "archived in Account Engagement (recycle bin): not synced"),
    "M-22.sync_disabled": ("prospect", "'do not sync' or [[crm_ignore_prospect]]: CRM sync disabled"),
    # prospects: CRM id link (§10 step 2)
    "M-21.crm_deleted": ("prospect", "CRM id is [[crm_deleted]]: the record was deleted; never resynced"),
    "ID-5.crm_id_invalid": ("prospect", "CRM id field holds a value that is not a Salesforce id"),
    "INP001.object_not_exported": ("prospect", "the export of the CRM id's object is missing: the link cannot be checked"),
    "ID-5.crm_id_missing": ("prospect", "CRM id not in the Salesforce export: deleted, merged or invisible"),
    "M-17.converted_no_contact": ("prospect", "CRM id is a converted lead without ConvertedContactId: updates fail"),
    "M-17.converted_contact_missing": ("prospect", "converted lead whose ConvertedContactId is not in the export"),
    "M-17.follows_converted_contact": ("prospect", "converted lead: the link follows ConvertedContactId"),
    "M-20.merged": ("both", "merged into another record (MasterRecordId in the Export All)"),
    "M-20.deleted": ("both", "deleted in Salesforce (IsDeleted in the Export All)"),
    # scope of a Salesforce record (records; prospects whose record is out of scope)
    "M-18.person_account_off": ("both", "person account while person-account sync is off"),
    "M-3.not_visible": ("both", "not visible to the custom connector user"),
    "D-3.outside_mds": ("both", "outside the Marketing Data Sharing rule (case-sensitive value)"),
    "D-6.will_archive": ("prospect", "its record is out of scope: Account Engagement archives the prospect"),
    "D-3.mds_field_not_exported": ("prospect", "the Marketing Data Sharing rule field is not exported: scope unknown"),
    "M-2.linked_by_crm_id": ("both", "linked by a CRM id found in the export"),
    "M-1.recycle_bin_link": ("prospect", "archived in Account Engagement but keeps its CRM id: still holds its record"),
    # prospects: email matching (§10 step 3)
    "M-16.blank_email": ("both", "blank email: cannot match, does not sync"),
    "M-10.ampsea_no_fallback": ("prospect", "no CRM id and the AMPSEA email fallback is off"),
    "M-1.record_taken_by_crm_id": ("prospect", "a same-email record is already linked to another prospect"),
    "M-1.lost_to_same_email": ("prospect", "another same-email prospect takes the only matching record"),
    "M-5.one_match": ("prospect", "no CRM id; exactly one eligible same-email record: will link"),
    "M-7.tie": ("prospect", "several same-email records: the connector's pick follows policy tie_break"),
    "M-6.unassigned_link": ("prospect", "unassigned prospect links by email (policy unassigned_email_match=links; help disagrees)"),
    "M-6.unassigned_no_sync": ("prospect", "unassigned prospect with a same-email record does not sync (policy unassigned_email_match=no_sync)"),
    "M-13.email_variant": ("prospect", "emails differ only in case or spaces"),
    # prospects: no match → creation (§10 step 3, CR-1, CR-4)
    "M-3.only_match_out_of_scope": ("prospect", "the only same-email record is out of scope"),
    "D-6.duplicate_lead": ("prospect", "creates a duplicate lead: the only same-email record is out of scope"),
    "M-14.invalid_email_no_match": ("prospect", "invalid email; policy invalid_email=no_match: not synced"),
    "CR-1.create_lead": ("prospect", "no match; assigned: the connector creates a lead"),
    "V-4.record_type_created": ("prospect", "the connector creates a contact / person account instead of a lead"),
    "CR-4.unassigned_no_match": ("prospect", "no match; unassigned: nothing is created in Salesforce"),
    "INP001.matches_unseen": ("prospect", "no lead or contact export: same-email matches there are not seen"),
    # prospects: create checks (§10 step 3, U-4, U-5, F-15)
    "CR-6.owner_unknown": ("prospect", "owner unknown: no pardot_users export to map the assigned user"),
    "U-4.owner_unmapped": ("prospect", "the assigned Pardot user maps to no Salesforce user (error or connector user: policy unmapped_owner)"),
    "CR-2.queue_owner": ("prospect", "assigned to a Salesforce lead queue: the queue owns the new lead"),
    "CR-2.queue_needs_leads": ("prospect", "assigned to a queue while the connector creates contacts: queues own leads only"),
    "U-7.portal_owner": ("prospect", "the mapped Salesforce user is a portal user: not predicted as owner (setting or policy portal_owner)"),
    "U-1.owner_by_email": ("prospect", "owner mapped only by a shared email (policy owner_email_match=true)"),
    "U-4.email_only_match": ("prospect", "a Salesforce user shares the assigned user's email but is not mapped (policy owner_email_match)"),
    "U-5.owner_inactive": ("prospect", "the mapped Salesforce owner is inactive (error or connector user: policy inactive_owner)"),
    "U-5.owner_active_unknown": ("prospect", "the owner's active state is unknown (not in the users export)"),
    "M-14.invalid_email": ("prospect", "invalid or over-80-character email: Salesforce rejects the new lead"),
    "CR-5.last_name_not_exported": ("prospect", "Last Name is not in the prospect export: not checked"),
    "F-15.last_name_blank": ("prospect", "blank Last Name: REQUIRED_FIELD_MISSING (policy blank_last_name=error)"),
    "CR-5.last_name_blank": ("prospect", "blank Last Name: may fail or be filled (policy blank_last_name, UNCONFIRMED)"),
    "F-15.required_not_exported": ("prospect", "a required Lead field is not exported: not checked"),
    "F-15.required_blank": ("prospect", "a required Lead field is blank or has no mapped value"),
    "F-15.create_invalid_email": ("prospect", "an email field of the new lead fails INVALID_EMAIL_ADDRESS"),
    "F-15.create_restricted_picklist": ("prospect", "a value of the new lead is not in a restricted picklist"),
    "F-15.create_too_long": ("prospect", "a value of the new lead is longer than the Salesforce field"),
    "F-15.create_type_error": ("prospect", "a value of the new lead is not a number / date / true-false its field needs"),
    # prospects: field resolution on linked / matched pairs (F-2, §3.7)
    "F-2.write_invalid_email": ("prospect", "an AE→Salesforce email write fails INVALID_EMAIL_ADDRESS"),
    "F-2.write_restricted_picklist": ("prospect", "an AE→Salesforce write is not in a restricted picklist"),
    "F-2.write_too_long": ("prospect", "an AE→Salesforce write is longer than the Salesforce field"),
    "F-2.write_type_error": ("prospect", "an AE→Salesforce write is not a number / date / true-false its field needs"),
    "F-7.opt_out_only_in_salesforce": ("prospect", "Opted Out differs: Salesforce opted out, AE not (lost under AE's value)"),
    "F-7.opt_out_only_in_pardot": ("prospect", "Opted Out differs: AE opted out, Salesforce false (lost under Salesforce's value)"),
    # Salesforce records (§10 Salesforce record outcome)
    "M-5.will_link_by_email": ("salesforce", "a prospect will link to it by email"),
    "M-17.converted_lead": ("salesforce", "converted lead: the prospect follows the contact"),
    "M-1.held_by_recycle_bin": ("salesforce", "held by an archived (recycle-bin) prospect's CRM id: no other prospect links to it"),
    "M-1.shadowed": ("salesforce", "another record with the same email holds the link"),
    "CR-9.email_on_other_prospect": ("salesforce", "the email is on a prospect that links elsewhere or does not sync"),
    "CR-11.auto_create_off": ("salesforce", "auto-create is off: import by CRM id to bring it over"),
    "CR-11.not_retroactive": ("salesforce", "existing record: auto-create is not retroactive"),
    "CR-10.ampsea_new_record": ("salesforce", "same-email mode: a new visible record gets its own prospect (not shadowed by a same-email record)"),
    "CR-10.created_after_auto_create": ("salesforce", "created after auto-create was switched on: creates a prospect"),
    "CR-11.created_before_auto_create": ("salesforce", "created before auto-create was switched on: not back-filled"),
}  # fmt: skip

# Write-error codes → the reason code of a failing write on create and on a linked pair.
CREATE_ERROR_CODES = {
    "INVALID_EMAIL_ADDRESS": "F-15.create_invalid_email",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "F-15.create_restricted_picklist",
    "STRING_TOO_LONG": "F-15.create_too_long",
    "INVALID_TYPE_ON_FIELD_IN_RECORD": "F-15.create_type_error",
}
WRITE_ERROR_CODES = {
    "INVALID_EMAIL_ADDRESS": "F-2.write_invalid_email",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "F-2.write_restricted_picklist",
    "STRING_TOO_LONG": "F-2.write_too_long",
    "INVALID_TYPE_ON_FIELD_IN_RECORD": "F-2.write_type_error",
}
_ORDER = {code: i for i, code in enumerate(REASONS)}


def known(code: str) -> str:
    """``code`` itself, after checking it is registered (a typo fails at once, not silently)."""
    if code not in REASONS:
        raise KeyError(f"reason code {code!r} is not in sync.reasons.REASONS")
    return code


def has_code(column: pd.Series, *wanted: str) -> pd.Series:
    """True where a ``;``-joined ``reason_code`` column holds any of ``wanted`` (checks use this)."""
    for code in wanted:
        known(code)
    codes, uniques = pd.factorize(column)
    hit = np.array([bool(set(str(u).split(";")) & set(wanted)) for u in uniques] + [False])
    return pd.Series(hit[codes], index=column.index, name=column.name)


class Notes:
    """Per-record reasons (text and code), policies and caution, built up vectorised."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.reason = np.full(n, "", dtype=object)
        self.codes: dict[str, np.ndarray] = {}
        self.policies: dict[str, np.ndarray] = {}
        self.caution = np.zeros(n, dtype=bool)

    def code(self, mask: np.ndarray, code: str) -> None:
        """Record ``code`` on the records of ``mask``."""
        if mask.any():
            known(code)
            self.codes[code] = self.codes.get(code, np.zeros(self.n, dtype=bool)) | mask

    def add(self, mask: np.ndarray, code: str, text) -> None:
        """Record a reason: its code, and its text appended to any text already there."""
        self.code(mask, code)
        self.add_reason(mask, text)

    def add_reason(self, mask: np.ndarray, text) -> None:
        """Append ``text`` (one text, or one per record) to the reasons of ``mask``."""
        if not mask.any():
            return
        add = text if np.isscalar(text) else np.asarray(text, dtype=object)[mask]
        cur = self.reason[mask]
        more = cur != ""  # join only where a reason is already there
        if np.isscalar(add):
            cur[~more] = add
            cur[more] = cur[more] + ("; " + add)
        else:
            cur[~more] = add[~more]
            cur[more] = cur[more] + "; " + add[more]
        self.reason[mask] = cur

    def policy(self, name: str, mask: np.ndarray) -> None:
        """Note that the prediction of ``mask`` rests on policy ``name``."""
        if mask.any():
            self.policies[name] = self.policies.get(name, np.zeros(self.n, dtype=bool)) | mask

    def policy_column(self, categorical: bool = False) -> pd.Series:
        """``;``-joined policy names per record, in the order they were first noted."""
        policies = list(self.policies)
        return bitset_labels(policies, list(self.policies.values()), self.n, categorical)

    def code_column(self, categorical: bool = False) -> pd.Series:
        """``;``-joined reason codes per record, in registry order."""
        names = sorted(self.codes, key=_ORDER.__getitem__)
        return bitset_labels(names, [self.codes[c] for c in names], self.n, categorical)


def markdown() -> str:
    """docs/reason-codes.md: the registry as a table (``python -m assessment.sync.reasons``)."""
    lines = [
        "# Reason codes",
        "",
        "Every row of `outcomes/prospects.csv` and `outcomes/salesforce.csv` carries `reason_code`:",
        "the stable codes of the rules that decided it (contract.md §4, §5), `;`-joined in the order",
        "below, beside the human `reason`. Programs and checks read the codes; people read the text.",
        "A code is `<rule id>.<slug>`; the rule id is the connector-behavior.md rule it rests on",
        "(`S10` is the §10 procedure itself, `INP001` a missing export).",
        "",
        "Generated from `assessment/sync/reasons.py` (`python -m assessment.sync.reasons >",
        "docs/reason-codes.md`); `tests/test_reason_codes.py` keeps the two equal.",
        "",
        "| code | rule | rows | meaning |",
        "|---|---|---|---|",
    ]
    for code, (applies, meaning) in REASONS.items():
        lines.append(f"| `{code}` | {code.split('.')[0]} | {applies} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
