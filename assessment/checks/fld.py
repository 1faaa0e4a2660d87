"""FLD: field mapping (spec/checks.md, connector-behavior.md §3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..fields import effective_mappings
from ..normalize import byte_lengths, plain_text
from ..sync.create_leads import NOT_WRITTEN
from ..sync.reasons import has_code
from ..sync.values import compare_text
from ..sync.write_errors import (
    PICKLIST_TYPES,
    TEXT_TYPES,
    max_length,
    not_of_type,
    picklist_misses,
    too_long,
    type_kind,
)
from .common import (
    describe_fields,
    has_policy,
    is_true,
    live_positions,
    prospect_column,
)
from .registry import (
    NEED_DESCRIBE,
    NEED_SIMULATION,
    CheckContext,
    Outcome,
    check,
    concat_findings,
    empty_findings,
    make_findings,
)

OBJECTS = ("Lead", "Contact")
_NUMBER_SF_TYPES = {"double", "int", "currency", "percent", "long"}


# Fields the connector does not write through the value path (F-5 fixed fields; email is DUP006).
_NOT_WRITTEN = NOT_WRITTEN


def _effective(ctx: CheckContext) -> pd.DataFrame:
    """The effective mapping (file rows plus documented defaults, fields.effective_mappings)."""
    mappings = getattr(ctx.simulation, "mappings", None)
    if not isinstance(mappings, pd.DataFrame) or mappings.empty:
        mappings = effective_mappings(ctx.snapshot)
    return mappings


def _object_field(mappings: pd.DataFrame, obj: str) -> pd.Series:
    """The Salesforce API name a mapping uses on Lead or Contact, lower-cased (F-9)."""
    col = mappings["sf_field"] if obj == "Lead" else mappings["contact_sf_field"]
    col = col.astype("str").str.strip()
    return col.mask(col.str.contains(".", regex=False).fillna(False)).str.lower()


def _mapped(ctx: CheckContext) -> pd.DataFrame:
    """Mapping rows the admin wrote (field_mappings) that name a Salesforce field."""
    fm = _effective(ctx)
    fm = fm[(fm["source"] == "file") & fm["sf_field"].notna()].copy()
    fm["sf_key"] = fm["sf_field"].astype("str").str.strip().str.lower()
    return fm


def _mapping_findings(code: str, rows: pd.DataFrame, message, fix, value=None) -> pd.DataFrame:
    return make_findings(
        code,
        "mapping",
        rows["pardot_field_id"],
        field=rows["sf_field"],
        value=value,
        message=message,
        suggested_fix=fix,
    )


@check(
    "FLD001",
    "mapped-field-missing",
    "FLD",
    "blocker",
    needs=("field_mappings", NEED_DESCRIBE),
    source="F-9, F-10",
)
def mapped_field_missing(ctx: CheckContext) -> Outcome:
    """A mapping names a Salesforce field that the describe does not have.

    ## What it checks
    Each field mapping whose Salesforce field is absent from every describe given (Lead,
    Contact), compared ignoring case as the connector does. `affected` counts mappings.

    ## Why it matters
    The connector cannot sync a field it cannot see: the mapping silently does nothing, or the
    field was renamed or deleted. A field the connector user has no access to is also missing
    from a describe taken as that user (F-10).

    ## How to fix it
    Correct the Salesforce API name in the mapping, create the field, or grant the connector user
    field-level security on it.

    ## Known false positives
    A describe exported by a user with less access than the connector user hides fields the
    connector can see.
    """
    fm = _mapped(ctx)
    present = pd.Series(False, index=fm.index)
    objs = [o for o in OBJECTS if o in ctx.snapshot.describe]
    for obj in objs:
        present |= _object_field(fm, obj).isin(describe_fields(ctx, obj).index)
    bad = fm[~present]
    found = _mapping_findings(
        "FLD001",
        bad,
        f"Salesforce field not in the {'/'.join(objs)} describe",
        "correct the API name, create the field or grant field-level security",
    )
    return Outcome(
        found,
        f"{len(bad)} of {len(fm)} mapping(s) name a Salesforce field missing from the describe.",
        affected=len(bad),
        population=len(fm),
    )


def _type_problems(fm: pd.DataFrame, key: pd.Series, d: pd.DataFrame) -> pd.Series:
    """Why each mapping's Pardot and Salesforce types cannot carry each other's values (§3.7)."""
    sf_type = key.map(d["type"]).astype("str")
    calculated = is_true(key.map(d["calculated"]))
    ptype = fm["pardot_type"].astype("str").str.strip().str.lower()
    values = fm["predefined_values"].astype("str").str.lower().str.replace(" ", "")
    behaviour = fm["sync_behavior"].astype("str")
    out = pd.Series(pd.NA, index=fm.index, dtype="str")
    rules = [
        # Lookup / master-detail / geolocation / compound fields never sync (H8, K2).
        (
            sf_type.isin(["reference", "location", "address"]),
            "Salesforce " + sf_type + " field cannot sync",
        ),
        # Formula fields are read-only: only "Use Salesforce's value" works (K2).
        (
            calculated & (behaviour != "use_salesforce"),
            "formula field not set to Salesforce's value",
        ),
        # Checkbox needs a Radio with values true/false (K6, B14).
        (
            (sf_type == "boolean")
            & (
                (ptype != "radio button")
                | (values.notna() & ~values.isin(["true;false", "false;true"]))
            ),
            "Salesforce checkbox needs a Pardot radio button with values true/false",
        ),
        # Multi-select into a single picklist (H18).
        (
            (sf_type == "picklist") & ptype.isin(["multi-select", "checkbox"]),
            "Pardot " + ptype + " field mapped to a single-value picklist",
        ),
        # Text into number (K2).
        (
            sf_type.isin(sorted(_NUMBER_SF_TYPES))
            & ptype.isin(["text", "text area", "multi-select", "checkbox", "email", "date"]),
            "Pardot " + ptype + " field mapped to a Salesforce " + sf_type,
        ),
        # Phone as number (H8).
        ((sf_type == "phone") & (ptype == "number"), "Salesforce phone mapped to a Pardot number"),
    ]
    for mask, text in rules:
        mask = mask.fillna(False).astype(bool) & out.isna()
        out = out.mask(mask, text)
    return out


@check(
    "FLD002",
    "type-mismatch",
    "FLD",
    "blocker",
    needs=("field_mappings", NEED_DESCRIBE),
    source="§3.7, F-13, K2, H8",
)
def type_mismatch(ctx: CheckContext) -> Outcome:
    """Pardot and Salesforce field types that cannot carry each other's values.

    ## What it checks
    Mappings where: a Pardot text-like field feeds a Salesforce number; a Pardot multi-select or
    checkbox feeds a single picklist; a Salesforce checkbox is not a Pardot radio button with
    values true/false; a Salesforce phone is a Pardot number; the Salesforce field is a lookup,
    geolocation or address field (never syncs); a formula field is not set to "Use Salesforce's
    value". Default mappings (§3.5) are checked too, by their values: a default mapping is
    listed when live prospects hold values its Salesforce type refuses (a non-number for a
    number/currency field, a non-date for a date, not true/false for a checkbox; the
    simulator's rule). Checked on each describe given. `affected` counts mappings.

    ## Why it matters
    Values that cannot be written fail as sync errors on every affected prospect, and
    unsupported fields never sync at all.

    ## How to fix it
    Change the Pardot field type (text for phones, radio true/false for checkboxes, number for
    numbers, multi-select for multi-select picklists) or map another Salesforce field; set
    formula fields to "Use Salesforce's value".

    ## Known false positives
    A number stored in a Pardot text field syncs if every value is numeric.
    """
    fm = _mapped(ctx)
    parts = []
    for obj in OBJECTS:
        d = describe_fields(ctx, obj)
        if d is None:
            continue
        key = _object_field(fm, obj)
        rows = fm[key.isin(d.index)]
        why = _type_problems(rows, key[rows.index], d)
        bad = rows[why.notna()]
        parts.append(
            _mapping_findings(
                "FLD002",
                bad,
                obj + ": " + why[why.notna()],
                "change the Pardot field type or map a compatible Salesforce field",
                value=bad["pardot_type"],
            )
        )
        parts.append(_default_type_findings(ctx, obj, d))
    found = concat_findings(parts)
    n = int(found["record_id"].nunique()) if len(found) else 0
    n_defaults = len(_effective(ctx).query("source == 'default'"))
    return Outcome(
        found,
        f"{n} mapping(s) with incompatible types.",
        affected=n,
        population=len(fm) + n_defaults,
    )


def _default_type_findings(ctx: CheckContext, obj: str, d: pd.DataFrame) -> pd.DataFrame:
    """Default mappings (§3.5) whose prospects hold values the Salesforce field's type refuses
    (the simulator's rule, ``sync.write_errors.not_of_type``). The admin cannot retype a
    standard field, so only values that would fail are flagged, not the type pair."""
    fm = _effective(ctx)
    fm = fm[(fm["source"] == "default") & fm["prospect_column"].notna()]
    if not ctx.has("pardot_prospects") or fm.empty:
        return empty_findings()
    prospects = ctx.table("pardot_prospects")
    live = live_positions(ctx, "pardot_prospects")
    keys = _object_field(fm, obj)
    rows, whys = [], []
    for pos in range(len(fm)):  # loop over mapped fields (a few), not records
        key, col = keys.iloc[pos], fm["prospect_column"].iloc[pos]
        if pd.isna(key) or key not in d.index or col not in prospects.columns:
            continue
        meta = d.loc[key]
        values = compare_text(prospects[col].take(live), ctx.settings, is_sf=False)
        bad = int(not_of_type(values, meta).sum())
        if bad:
            rows.append(pos)
            whys.append(
                f"{obj}: {bad} prospect value(s) are not a {type_kind(meta)} for Salesforce "
                f"{meta['type']} {meta['name']} (default mapping; INVALID_TYPE_ON_FIELD_IN_RECORD)"
            )
    bad_rows = fm.iloc[rows]
    return _mapping_findings(
        "FLD002",
        bad_rows,
        pd.Series(whys, index=bad_rows.index, dtype="str"),
        "clean the values to the Salesforce type before unpausing",
        value=bad_rows["pardot_type"],
    )


def _prospect_fields(ctx: CheckContext, obj: str, types: set[str]):
    """Yield (describe row, prospect column) per mapped field of the given types."""
    d = describe_fields(ctx, obj)
    if d is None:
        return
    fm = _effective(ctx)
    fm = fm[~fm["pardot_field_id"].isin(sorted(_NOT_WRITTEN)) & fm["prospect_column"].notna()]
    keys = _object_field(fm, obj)
    columns = ctx.table("pardot_prospects").columns
    for pos in range(len(fm)):  # loop over mapped fields (dozens), not records
        key, col = keys.iloc[pos], fm["prospect_column"].iloc[pos]
        if pd.isna(key) or key not in d.index or col not in columns:
            continue
        meta = d.loc[key]
        if str(meta["type"]) not in types:
            continue
        yield meta, col, fm["pardot_field_id"].iloc[pos]


# The objects of the simulator's writes each describe stands for (a person account's contact
# fields are checked against the Contact describe).
_WRITE_OBJECTS = {"Lead": ("Lead",), "Contact": ("Contact", "PersonAccount")}


def _written(ctx: CheckContext, fid: str, obj: str, n: int) -> np.ndarray:
    """Prospects whose value of field ``fid`` the simulator predicts to be written to ``obj``
    (§3.7: on create, AE-wins and differ, Salesforce blank filled); no simulation: all."""
    writes = getattr(ctx.simulation, "writes", None)
    if not isinstance(writes, pd.DataFrame) or "position" not in writes:
        return np.ones(n, dtype=bool)
    sel = (writes["pardot_field_id"] == fid) & writes["sf_object"].isin(_WRITE_OBJECTS[obj])
    mask = np.zeros(n, dtype=bool)
    mask[writes.loc[sel, "position"].to_numpy(dtype=np.int64)] = True
    return mask


def _write_population(ctx: CheckContext) -> int:
    """Prospects with at least one predicted write (the population of FLD003 / FLD004)."""
    writes = getattr(ctx.simulation, "writes", None)
    if not isinstance(writes, pd.DataFrame) or "position" not in writes:
        return len(live_positions(ctx, "pardot_prospects"))
    return int(writes["position"].nunique())


class _ProspectValues:
    """Mapped prospect columns (trimmed, or raw with lengths) and which prospects are live.

    Works on whole columns (the live, non-blank test is a mask) so the wide prospect table is
    never copied; each column is trimmed once per check even when Lead and Contact both map it.
    """

    def __init__(self, ctx: CheckContext):
        self.settings = ctx.settings
        self.table = ctx.table("pardot_prospects")
        self.live = np.zeros(len(self.table), dtype=bool)
        self.live[live_positions(ctx, "pardot_prospects")] = True
        self._seen: dict[str, tuple[pd.Series, np.ndarray]] = {}
        self._raw: dict[str, tuple[pd.Series, np.ndarray]] = {}

    def get(self, col: str) -> tuple[pd.Series, np.ndarray]:
        """(trimmed values on every row, mask of live prospects with a non-blank value)."""
        if col not in self._seen:
            values = plain_text(self.table[col]).str.strip()
            filled = (values.notna() & (values != "")).to_numpy(dtype=bool) & self.live
            self._seen[col] = (values, filled)
        return self._seen[col]

    def compared(self, col: str) -> tuple[pd.Series, np.ndarray]:
        """(values as the simulator writes them, ``sync.values.compare_text``; mask of live
        prospects with a value)."""
        key = "compared:" + col
        if key not in self._seen:
            values = compare_text(self.table[col], self.settings, is_sf=False)
            self._seen[key] = (values, values.notna().to_numpy(dtype=bool) & self.live)
        return self._seen[key]

    def raw(self, col: str) -> tuple[pd.Series, np.ndarray]:
        """(untrimmed values on every row, their lengths in UTF-8 bytes: 0 for a blank)."""
        if col not in self._raw:
            values = plain_text(self.table[col])
            self._raw[col] = (values, byte_lengths(values))
        return self._raw[col]

    def longer_than(self, col: str, length: int, among: np.ndarray) -> np.ndarray:
        """Positions (of ``among``, a mask) whose untrimmed value has more than ``length``
        characters, as ``.str.len()`` counts them."""
        # A value never has more characters than bytes: the byte lengths (read off the
        # offsets, no pass over the text) pick the few candidates, counted exactly.
        values, nbytes = self.raw(col)
        rows = np.flatnonzero(among & (nbytes > length))
        chars = pc.utf8_length(pa.array(values.take(rows), from_pandas=True))
        return rows[pc.fill_null(chars, 0).to_numpy(zero_copy_only=False) > length]

    def who(self, rows: np.ndarray) -> pd.DataFrame:
        """prospect_id and email of the prospects at these positions."""
        return self.table[["prospect_id", "email"]].take(rows)


@check(
    "FLD003",
    "picklist-values",
    "FLD",
    "warning",
    needs=("pardot_prospects", NEED_DESCRIBE),
    source="§3.7, §7.2 INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, F-13",
)
def picklist_values(ctx: CheckContext) -> Outcome:
    """Pardot values that are not values of the mapped Salesforce picklist.

    ## What it checks
    For each mapped picklist or multi-select picklist field (Lead and Contact describes), the
    prospects whose value (each `;`-separated part for multi-select) is not exactly one of the
    active Salesforce values, case and spaces included. A blocker when the picklist is
    restricted, otherwise a warning. Only values the simulator predicts to write are checked
    (§3.7: a created lead's values, an AE-wins field whose values differ, a blank Salesforce
    field filled); other values are never written and cannot fail.

    ## Why it matters
    A restricted picklist rejects the write with INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, so the
    prospect does not sync. Unrestricted picklists accept the value but reports and automation
    keyed on the value list miss it.

    ## How to fix it
    Clean the Pardot values (the action file lists each prospect, field and value), or add the
    values to the Salesforce picklist; turn on "keep this field's values in sync with the CRM".

    ## Known false positives
    Values written later (after the first sync) are not listed.
    """
    parts, restricted = [], False
    prospects = _ProspectValues(ctx)
    for obj in OBJECTS:
        for meta, col, fid in _prospect_fields(ctx, obj, PICKLIST_TYPES):
            # The simulator's rule and value form (sync.write_errors): exact values, each
            # multi-select part untrimmed (§3.7); only the values it predicts to write.
            values, filled = prospects.compared(col)
            rows = np.flatnonzero(filled & _written(ctx, fid, obj, len(filled)))
            multi = meta["type"] == "multipicklist"
            part = values.take(rows)
            bad_rows = rows[picklist_misses(part, meta["picklist_values"], multi)]
            if not len(bad_rows):
                continue
            is_restricted = bool(meta["restricted_picklist"])
            restricted |= is_restricted
            kind = "restricted " if is_restricted else ""
            p = prospects.who(bad_rows)
            parts.append(
                make_findings(
                    "FLD003",
                    "Prospect",
                    p["prospect_id"],
                    prospect_id=p["prospect_id"],
                    email=p["email"],
                    field=f"{obj}.{meta['name']}",
                    value=values.take(bad_rows),
                    message=f"value not in the {kind}{obj}.{meta['name']} picklist",
                    suggested_fix="change the value to an allowed picklist value, or add it in Salesforce",
                )
            )
    found = concat_findings(parts)
    return Outcome(
        found,
        f"{found['record_id'].nunique() if len(found) else 0} prospect(s) hold values missing "
        f"from a mapped picklist{' (restricted: the sync will fail)' if restricted else ''}; "
        "only values the first sync writes are counted.",
        severity="blocker" if restricted else "warning",
        numbers={"restricted": restricted},
        population=_write_population(ctx),
    )


@check(
    "FLD004",
    "value-too-long",
    "FLD",
    "warning",
    needs=("pardot_prospects", NEED_DESCRIBE),
    source="F-14, §7.2 STRING_TOO_LONG, policy long_values",
)
def value_too_long(ctx: CheckContext) -> Outcome:
    """Pardot values longer than the Salesforce field.

    ## What it checks
    For each mapped text-like field (text, text area, email, phone, URL, picklist) with a length
    in the Lead or Contact describe, the prospects whose value is longer than that length,
    among the values the simulator predicts to write (§3.7).

    ## Why it matters
    Salesforce rejects the write with STRING_TOO_LONG (or the value is cut: policy
    `long_values`, unconfirmed), so the prospect does not sync or loses data.

    ## How to fix it
    Shorten the values (the action file lists them) or lengthen the Salesforce field.

    ## Known false positives
    Values written later (after the first sync) are not listed.
    """
    parts = []
    prospects = _ProspectValues(ctx)
    for obj in OBJECTS:
        for meta, col, fid in _prospect_fields(ctx, obj, TEXT_TYPES):
            length = max_length(meta)
            if length is None:
                continue
            # Only values the simulator predicts to write, in its value form (§3.7,
            # sync.values.compare_text, sync.write_errors).
            raw, _ = prospects.raw(col)
            written_here = _written(ctx, fid, obj, len(raw))
            rows = prospects.longer_than(col, length, prospects.live & written_here)
            written = compare_text(raw.take(rows), ctx.settings, is_sf=False)
            over = too_long(written, meta)
            long_rows = rows[over]
            if not len(long_rows):
                continue
            values = written[over]
            p = prospects.who(long_rows)
            parts.append(
                make_findings(
                    "FLD004",
                    "Prospect",
                    p["prospect_id"],
                    prospect_id=p["prospect_id"],
                    email=p["email"],
                    field=f"{obj}.{meta['name']}",
                    value=values,
                    message=f"longer than {obj}.{meta['name']} ({length} characters)",
                    suggested_fix=f"shorten to {length} characters",
                )
            )
    found = concat_findings(parts)
    return Outcome(
        found,
        f"{found['record_id'].nunique() if len(found) else 0} prospect(s) hold values longer than "
        f"the Salesforce field (policy long_values={ctx.settings.long_values}); only values the "
        "first sync writes are counted.",
        numbers={"policy_long_values": ctx.settings.long_values},
        population=_write_population(ctx),
    )


@check(
    "FLD005",
    "lead-contact-asymmetry",
    "FLD",
    "warning",
    needs=("field_mappings", "describe:Lead", "describe:Contact"),
    source="F-9, G3",
)
def lead_contact_asymmetry(ctx: CheckContext) -> Outcome:
    """A custom field maps to the Lead but not the Contact (or the reverse).

    ## What it checks
    Mappings to a custom Salesforce field (`__c`) that exists, by API name ignoring case, on
    only one of Lead and Contact. `affected` counts mappings. Standard fields are left out: the
    connector pairs them per object itself (Street / MailingStreet …).

    ## Why it matters
    One Pardot field maps to one API name used on both objects (F-9). A field that exists only on
    the Lead stops syncing once the lead converts, and values are lost on the contact side.

    ## How to fix it
    Create the field with the same API name on the other object and add it to the lead
    conversion field mapping.

    ## Known false positives
    Fields that are meant for one object only.
    """
    fm = _mapped(ctx)
    fm = fm[fm["sf_key"].str.endswith("__c").fillna(False)]
    on_lead = _object_field(fm, "Lead").isin(describe_fields(ctx, "Lead").index)
    on_contact = _object_field(fm, "Contact").isin(describe_fields(ctx, "Contact").index)
    bad = fm[on_lead != on_contact]
    where = on_lead[bad.index].map({True: "Lead only", False: "Contact only"})
    found = _mapping_findings(
        "FLD005",
        bad,
        "field exists on " + where,
        "create the field with the same API name on the other object",
    )
    return Outcome(
        found,
        f"{len(bad)} custom mapping(s) exist on only one of Lead and Contact.",
        affected=len(bad),
        population=len(fm),
    )


@check(
    "FLD006", "overwrite-risk", "FLD", "warning", needs=(NEED_SIMULATION,), source="F-1, F-2, F-3"
)
def overwrite_risk(ctx: CheckContext) -> Outcome:
    """The first sync will overwrite non-blank values.

    ## What it checks
    From the simulation, for each mapped field over the paired prospects and Salesforce records
    whose values differ: how many non-blank Salesforce values the Pardot value will overwrite,
    how many non-blank Pardot values the Salesforce value will overwrite, and (separately) blank
    overwrites. `affected` counts overwritten values (record and field pairs).

    ## Why it matters
    Overwrites are not reversible: the losing side's data is gone after the first sync.

    ## How to fix it
    Review each field's sync behaviour with the data owners, back up both sides, and clean the
    values that should win before unpausing.

    ## Known false positives
    Differences only in case or surrounding spaces count as different (F-3, unconfirmed).
    """
    f = ctx.simulation.fields
    sf_over = pd.to_numeric(f["sf_overwritten"], errors="coerce").fillna(0).astype(int)
    p_over = pd.to_numeric(f["pardot_overwritten"], errors="coerce").fillna(0).astype(int)
    blanks = pd.to_numeric(f["blank_overwrites"], errors="coerce").fillna(0).astype(int)
    risky = f[(sf_over + p_over) > 0]
    found = make_findings(
        "FLD006",
        "field",
        risky["pardot_field_id"],
        index=risky.index,
        field=risky["sf_field"],
        value="salesforce overwritten: "
        + sf_over[risky.index].astype("str")
        + "; pardot overwritten: "
        + p_over[risky.index].astype("str")
        + "; blank overwrites: "
        + blanks[risky.index].astype("str"),
        message="sync behaviour "
        + risky["sync_behavior"].astype("str")
        + " overwrites differing values",
        suggested_fix="review the sync behaviour and back up both sides before unpausing",
    )
    total = int((sf_over + p_over).sum())
    return Outcome(
        found,
        f"{total} non-blank value(s) will be overwritten across {len(risky)} field(s) "
        f"({int(sf_over.sum())} in Salesforce, {int(p_over.sum())} in Pardot); "
        f"{int(blanks.sum())} blank overwrite(s).",
        numbers={
            "sf_overwritten": int(sf_over.sum()),
            "pardot_overwritten": int(p_over.sum()),
            "blank_overwrites": int(blanks.sum()),
        },
        affected=total,
        population=int(pd.to_numeric(f["pairs"], errors="coerce").fillna(0).sum()),
    )


@check(
    "FLD007",
    "lead-required-fields",
    "FLD",
    "blocker",
    needs=(NEED_SIMULATION,),
    source="F-15, CR-5, CR-7, policy blank_last_name",
)
def lead_required_fields(ctx: CheckContext) -> Outcome:
    """Prospects that would create leads lack a required field.

    ## What it checks
    Prospects the simulation predicts will fail lead creation with REQUIRED_FIELD_MISSING (Last
    Name, or a non-nillable Lead field without default from the describe), plus prospects that
    will create a lead with a blank Last Name (policy `blank_last_name`: the connector's handling
    is unconfirmed). A blank Company is not flagged: the connector sends `[[unknown]]` (CR-5).

    ## Why it matters
    Salesforce refuses the lead and the prospect sits in the sync error list.

    ## How to fix it
    Fill the missing values in Pardot before unpausing, or un-assign the prospects you do not
    want as leads.

    ## Known false positives
    If the connector fills a blank Last Name as it does Company, the blank-Last-Name rows sync.
    """
    p = ctx.simulation.prospects
    # The simulator keeps the first error code per prospect; the reason codes list every failure.
    required = has_code(p["reason_code"], "F-15.last_name_blank", "F-15.required_blank")
    err = (p["error_code"].astype("str") == "REQUIRED_FIELD_MISSING").fillna(False) | (
        (p["outcome"] == "will_error") & required
    )
    risk = (
        p["outcome"].isin(["create_lead", "will_error"])
        & has_policy(p["policies"], "blank_last_name")
        & ~err
    )
    bad = p[(err | risk).fillna(False)]
    found = make_findings(
        "FLD007",
        "Prospect",
        bad["prospect_id"],
        prospect_id=bad["prospect_id"],
        email=bad["email"],
        message=bad["reason"],
        suggested_fix="fill the required field(s) in Pardot, or un-assign the prospect",
    )
    creating = int(p["outcome"].isin(["create_lead"]).sum()) + int(err.sum())
    return Outcome(
        found,
        f"{int(err.sum())} lead creation(s) will fail on a required field; "
        f"{int(risk.sum())} will create a lead with a blank Last Name "
        f"(policy blank_last_name={ctx.settings.blank_last_name}).",
        numbers={"will_error": int(err.sum()), "blank_last_name_risk": int(risk.sum())},
        population=creating,
    )


@check(
    "FLD008",
    "unmapped-custom-fields",
    "FLD",
    "info",
    needs=("pardot_prospects",),
    source="F-9, F-11",
)
def unmapped_custom_fields(ctx: CheckContext) -> Outcome:
    """Pardot custom fields that hold data but map to no Salesforce field.

    ## What it checks
    Custom prospect fields (mapping rows marked custom with no Salesforce field, and prospect
    columns the toolkit does not know and no mapping names) that hold at least one value.
    `affected` counts fields.

    ## Why it matters
    Their data stays in Account Engagement; sales users will not see it in Salesforce.

    ## How to fix it
    Map the fields that sales needs (same API name on Lead and Contact); ignore the rest.

    ## Known false positives
    Fields kept in Pardot on purpose (form-only or scoring helpers).
    """
    prospects = ctx.table("pardot_prospects")
    named: set[str] = set()
    candidates: list[tuple[str, str | None]] = []
    if ctx.has("field_mappings"):
        fm = ctx.table("field_mappings")
        for col in ("pardot_field_id", "pardot_field_name"):
            named |= set(fm[col].dropna().astype("str"))
        rows = fm[is_true(fm["is_custom"]) & fm["sf_field"].isna()]
        candidates += list(zip(rows["pardot_field_id"], rows["pardot_field_name"], strict=True))
    for f in ctx.snapshot.load_report.files:
        if f.table == "pardot_prospects":
            candidates += [(c, None) for c in f.unmatched if c not in named]
    rows, seen = [], set()
    for fid, fname in candidates:  # loop over fields, not records
        col = prospect_column(prospects, fid, fname)
        if col is None or col in seen:
            continue
        seen.add(col)
        filled = int(prospects[col].astype("str").str.strip().replace("", pd.NA).notna().sum())
        if filled:
            rows.append({"field": str(fid if pd.notna(fid) else col), "filled": filled})
    table = pd.DataFrame(rows, columns=["field", "filled"])
    found = make_findings(
        "FLD008",
        "field",
        table["field"],
        index=table.index,
        field=table["field"],
        value=table["filled"].astype("str") + " prospect(s) with a value",
        message="custom field with data and no Salesforce mapping",
        suggested_fix="map it to a Salesforce field if sales needs it",
    )
    return Outcome(
        found,
        f"{len(table)} unmapped custom field(s) hold data.",
        affected=len(table),
    )


@check(
    "FLD009",
    "opt-out-sync",
    "FLD",
    "blocker",
    needs=(NEED_SIMULATION, "pardot_prospects"),
    source="F-7, F-4, F-2, policy checkbox_false_is_value",
)
def opt_out_sync(ctx: CheckContext) -> Outcome:
    """The Opted Out sync behaviour would lose an opt-out.

    ## What it checks
    Reads the Opted Out field's sync behaviour from the simulation and compares Pardot
    `opted_out` with Salesforce `HasOptedOutOfEmail` (person accounts:
    `PersonHasOptedOutOfEmail`) on every pair the simulator compares (each prospect row its own,
    so a recycle-bin copy never stands in for the live one). When the behaviour rests on policy
    `opted_out_default_sync` (no behaviour in the mapping file, `business_unit_created` unknown
    or before 2023-11-15), conflicts of both directions are listed. A blocker when
    consent would be lost: "Use Salesforce's value" with Pardot opted out and Salesforce false,
    or "Use Account Engagement's value" with Salesforce opted out and Pardot false (policy
    `checkbox_false_is_value`: false counts as a value). A warning when "most recently updated"
    is chosen: it needs Field History Tracking on both objects, which exports cannot show.

    ## Why it matters
    Turning an opt-out back to false means emailing people who asked not to be emailed: a
    compliance risk that cannot be undone after the send.

    ## How to fix it
    Set Opted Out to the side that holds the opt-outs (usually "Use Account Engagement's
    value"), or align the listed records first; for "most recently updated", enable Field History
    Tracking on HasOptedOutOfEmail for Lead and Contact.

    ## Known false positives
    If Salesforce treats a checkbox false as blank, no opt-out is lost.
    """
    f = ctx.simulation.fields
    row = f[
        (f["pardot_field_id"].astype("str") == "opted_out")
        | (f["sf_field"].astype("str").str.lower() == "hasoptedoutofemail")
    ]
    if not len(row):
        return Outcome(
            empty_findings(), "Opted Out is not mapped: opt-outs do not sync.", failed=False
        )
    behaviour = str(row["sync_behavior"].iloc[0])
    by_policy = str(row["sync_behavior_source"].iloc[0]) == "policy"
    # The simulator's pairs (Lead, Contact and person-account ``PersonHasOptedOutOfEmail``;
    # each prospect row its own, so a recycle-bin copy never stands in for the live one).
    pairs = getattr(ctx.simulation, "opt_outs", None)
    if not isinstance(pairs, pd.DataFrame) or "pardot" not in pairs:
        pairs = pd.DataFrame(columns=["prospect_id", "email", "sf_object", "sf_id", "row"])
        pairs = pairs.assign(
            pardot=pd.Series(dtype="boolean"), salesforce=pd.Series(dtype="boolean")
        )
    loss, conflict = _opt_out_losses(pairs, behaviour, by_policy, ctx.settings)
    return _opt_out_outcome(ctx, pairs, behaviour, by_policy, loss, conflict)


def _opt_out_losses(pairs: pd.DataFrame, behaviour: str, by_policy: bool, settings):
    """(lost under the behaviour, flagged as a conflict) per pair (F-7, F-2, F-3).

    A behaviour that rests on policy ``opted_out_default_sync`` flags both directions: the
    side that wins is not known (F-7)."""
    pardot, sf_val = pairs["pardot"].astype("boolean"), pairs["salesforce"].astype("boolean")
    only_sf = (sf_val & ~pardot).fillna(False).astype(bool)  # cleared under AE's value
    only_ae = (pardot & ~sf_val).fillna(False).astype(bool)  # cleared under Salesforce's value
    # A checkbox false counts as a value only under policy checkbox_false_is_value (F-3/F-7).
    value = bool(settings.checkbox_false_is_value)
    if behaviour == "use_salesforce":
        loss = only_ae & value
    elif behaviour == "use_pardot":
        loss = only_sf & value
    else:
        loss = pd.Series(False, index=pairs.index)
    conflict = (only_sf | only_ae) & value if by_policy else loss
    if behaviour == "most_recent":
        conflict = only_sf | only_ae
    return loss.astype(bool), conflict.astype(bool)


def _opt_out_outcome(ctx, pairs, behaviour, by_policy, loss, conflict) -> Outcome:
    """FLD009's findings and summary from the flagged pairs."""
    false_is_value = ctx.settings.checkbox_false_is_value
    pardot, sf_val = pairs["pardot"].astype("boolean"), pairs["salesforce"].astype("boolean")
    differ = (pardot != sf_val).fillna(False).astype(bool)
    unknown = int((pardot.isna() | sf_val.isna()).sum())
    most_recent = behaviour == "most_recent"
    show = pairs[conflict]
    side = (sf_val[show.index] == True).fillna(False)  # noqa: E712
    direction = side.map(
        {True: "Salesforce opted out, AE not", False: "AE opted out, Salesforce not"}
    )
    message = direction + np.where(
        loss[show.index],
        f": the opt-out would be turned back to false ({behaviour})",
        ": which side wins rests on policy opted_out_default_sync"
        if by_policy
        else ": opt-out states differ",
    )
    found = make_findings(
        "FLD009",
        show["sf_object"],
        show["sf_id"],
        prospect_id=show["prospect_id"],
        sf_id=show["sf_id"],
        email=show["email"],
        field="opted_out / HasOptedOutOfEmail",
        value="pardot="
        + pardot[show.index].astype("str")
        + "; salesforce="
        + sf_val[show.index].astype("str"),
        message=message,
        suggested_fix="align the opt-out on both sides before unpausing",
    )
    n_loss, n_conflict = int(loss.sum()), int(conflict.sum())
    summary = (
        f"Opted Out uses {behaviour}: {int(differ.sum())} paired record(s) differ; "
        f"{n_loss} opt-out(s) would be lost (policy checkbox_false_is_value={false_is_value})."
    )
    if by_policy:
        summary += (
            f" The behaviour rests on policy opted_out_default_sync (the mapping file and "
            f"business_unit_created do not give it): {n_conflict} consent conflict(s) in either "
            "direction are listed."
        )
    if most_recent:
        summary += " Confirm Field History Tracking on HasOptedOutOfEmail for Lead and Contact."
    flagged = bool(n_conflict) and not most_recent
    numbers = {"behaviour": behaviour, "differ": int(differ.sum()), "lost": n_loss,
               "conflicts": n_conflict, "unknown": unknown}  # fmt: skip
    by_object = pairs.loc[conflict, "sf_object"].value_counts()
    numbers["by_object"] = {str(k): int(v) for k, v in by_object.items()}
    if by_policy:
        numbers["policy"] = "opted_out_default_sync"
    return Outcome(
        found,
        summary,
        numbers=numbers,
        failed=flagged or most_recent,
        severity="blocker" if flagged else ("warning" if most_recent else None),
        population=len(pairs),
    )
