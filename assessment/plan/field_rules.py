"""Field sync behaviour recommendations: for every mapped field, which side should win.

Evidence per field comes from the dry run's linked and matched pairs (vectorised over the pairs;
the only loop is over mapped fields): fill rate on each side, how often both hold different
values, which side was modified more recently (where both exports carry the dates), and type /
length compatibility from the describe. Consent fields get the most protective behaviour: the
one that turns the fewest opt-outs back to "not opted out" (F-7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import header_key
from ..sync.kernels import arrow, str_series
from .common import has_column
from .registry import LABELS, PlanContext, Recommendation

MATCHED = ("linked", "match_email", "match_email_tie")
FILL_GAP = 0.20  # a side filled this much more often maintains the field
NEWER_SHARE = 0.60  # ... or holds the newer value in this share of differing pairs
MIN_DIFFER = 10  # recency is read only over at least this many differing pairs
CONSENT_IDS = {"opted_out", "is_do_not_email", "is_do_not_call"}
_CONSENT_RE = re.compile(r"opt.?out|do.?not.?(email|call|contact)|unsubscrib|consent", re.I)
# Fields whose behaviour the connector fixes (F-5, fields.FIXED), in words.
FIXED_WHY = {
    "email": "email changes follow the email-change rules, not a sync behaviour (M-8, F-5)",
    "assigned_user": "the owner always comes from Salesforce (F-5, U-3)",
    "score": "Account Engagement owns it and it cannot be remapped (F-5)",
    "grade": "Account Engagement owns it and it cannot be remapped (F-5)",
    "campaign_id": "Account Engagement owns it and it cannot be remapped (F-5)",
}
BEHAVIOURS = ("use_pardot", "use_salesforce", "most_recent")


@dataclass
class Pairs:
    """Linked/matched pairs per object: prospect positions and Salesforce record positions."""

    p_pos: dict[str, np.ndarray]
    s_pos: dict[str, np.ndarray]
    p_updated: dict[str, np.ndarray]
    s_modified: dict[str, np.ndarray]


def _first_positions(ids: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Position of each wanted id in ``ids`` (first occurrence), -1 when absent (one hash join)."""
    found = pc.index_in(arrow(wanted), value_set=arrow(ids))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _first_positions_plain(ids: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Reference for :func:`_first_positions` (tests only)."""
    ids = ids.astype("str").reset_index(drop=True)
    first = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
    first = first[~ids.duplicated().to_numpy()]
    return first.reindex(wanted.astype("str").to_numpy()).fillna(-1).to_numpy(dtype=np.int64)


def _epoch(values: pd.Series) -> np.ndarray:
    """Datetimes as float seconds (NaN when unknown)."""
    out = pd.to_datetime(values, utc=True, errors="coerce")
    return (out - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)


def build_pairs(ctx: PlanContext) -> Pairs:
    """The dry run's linked/matched prospect ↔ lead/contact pairs, by position in each table."""
    snap, sim = ctx.snapshot, ctx.simulation
    P = snap.tables.get("pardot_prospects")
    pr = sim.prospects
    matched = pr["outcome"].isin(MATCHED).to_numpy() & pr["sf_id"].notna().to_numpy()
    p_pos, s_pos, p_upd, s_mod = {}, {}, {}, {}
    p_index = pd.Index(P.index) if P is not None else pd.Index([])
    p_updated = _epoch(P["updated_at"]) if P is not None and "updated_at" in P else None
    for obj, table in (("Lead", "sf_leads"), ("Contact", "sf_contacts")):
        frame = snap.tables.get(table)
        sel = matched & (pr["sf_object"] == obj).fillna(False).to_numpy()
        if frame is None or P is None or not sel.any() or "id" not in frame:
            continue
        pos = _first_positions(frame["id"], pr.loc[sel, "sf_id"])
        pp = p_index.get_indexer(pr.loc[sel, "row"].to_numpy())
        keep = (pos >= 0) & (pp >= 0)
        p_pos[obj], s_pos[obj] = pp[keep], pos[keep]
        p_upd[obj] = p_updated[pp[keep]] if p_updated is not None else np.full(keep.sum(), np.nan)
        mod = _epoch(frame["last_modified_date"]) if "last_modified_date" in frame else None
        s_mod[obj] = mod[pos[keep]] if mod is not None else np.full(keep.sum(), np.nan)
    return Pairs(p_pos, s_pos, p_upd, s_mod)


def _text(values: pd.Series) -> pd.Series:
    """Values compared as the connector would: booleans as true/false, trimmed, blank → NA (F-3)."""
    if isinstance(values.dtype, pd.BooleanDtype) or values.dtype == bool:
        return _text_plain(values)
    trimmed = pc.utf8_trim_whitespace(arrow(values))  # what pandas' str.strip() runs
    return str_series(pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed))


def _text_plain(values: pd.Series) -> pd.Series:
    """Reference for :func:`_text` (and its boolean case)."""
    if isinstance(values.dtype, pd.BooleanDtype) or values.dtype == bool:
        out = values.astype("boolean").map({True: "true", False: "false"}).astype("str")
    else:
        out = values.astype("str").str.strip()
    return out.mask(out == "").reset_index(drop=True)


def _same(a: pd.Series, s: pd.Series) -> np.ndarray:
    """Exact equality, with equal numbers equal ("500000" vs "500000.0")."""
    eq = (a == s).fillna(False).to_numpy(dtype=bool, copy=True)
    maybe = np.flatnonzero(~eq & a.notna().to_numpy() & s.notna().to_numpy())
    if len(maybe):  # only unequal pairs need the (costly) number test
        na = pd.to_numeric(a.iloc[maybe], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        ns = pd.to_numeric(s.iloc[maybe], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        eq[maybe[na == ns]] = True
    return eq


def _field_arrays(ctx: PlanContext, m: dict, pairs: Pairs):
    """Pardot and Salesforce values over all pairs of the field, plus dates (or None)."""
    snap = ctx.snapshot
    P = snap.tables["pardot_prospects"]
    a_parts, s_parts, pu, sm = [], [], [], []
    for obj, table, col in (
        ("Lead", "sf_leads", m["lead_column"]),
        ("Contact", "sf_contacts", m["contact_column"]),
    ):
        if obj not in pairs.p_pos or pd.isna(col) or not has_column(snap, table, col):
            continue
        if obj == "Contact" and m["pardot_field_id"] == "company":
            continue  # Account.Name: read-only in AE for contacts (F-5, H10)
        frame = snap.tables[table]
        a_parts.append(pairs.p_pos[obj])  # one prospect column: taken once for both objects
        s_parts.append(_text(frame[col].iloc[pairs.s_pos[obj]]))
        pu.append(pairs.p_updated[obj])
        sm.append(pairs.s_modified[obj])
    if not a_parts:
        return None
    a = _text(P[m["prospect_column"]].iloc[np.concatenate(a_parts)])
    s = s_parts[0] if len(s_parts) == 1 else pd.concat(s_parts, ignore_index=True)
    return a, s, np.concatenate(pu), np.concatenate(sm)


def _describe(ctx: PlanContext, sf_field) -> dict:
    """The Lead (else Contact) describe row of a Salesforce field, as a dict ({} if unknown)."""
    if pd.isna(sf_field):
        return {}
    for obj in ("Lead", "Contact"):
        d = ctx.snapshot.describe.get(obj)
        if d is None or d.empty:
            continue
        hit = d.loc[d["key"] == header_key(sf_field)]
        if len(hit):
            return hit.iloc[0].to_dict()
    return {}


def is_consent(m: dict) -> bool:
    """Opted Out, Do Not Email / Call and custom consent fields (F-7, F-8)."""
    return m["pardot_field_id"] in CONSENT_IDS or bool(
        _CONSENT_RE.search(f"{m['pardot_field_id']} {m['pardot_field_name']} {m['sf_field']}")
    )


def _evidence(a: pd.Series, s: pd.Series, pu: np.ndarray, sm: np.ndarray) -> dict:
    """Fill rates, differences and recency over one field's pairs (vectorised)."""
    a_f, s_f = a.notna().to_numpy(), s.notna().to_numpy()
    differ = a_f & s_f & ~_same(a, s)
    dated = differ & ~np.isnan(pu) & ~np.isnan(sm)
    n = len(a)
    return {
        "pairs": n,
        "pardot_filled": round(float(a_f.mean()), 3) if n else None,
        "salesforce_filled": round(float(s_f.mean()), 3) if n else None,
        "differ": int(differ.sum()),
        "dated_differ": int(dated.sum()),
        "pardot_newer": int((dated & (pu > sm)).sum()),
        "salesforce_newer": int((dated & (sm > pu)).sum()),
        "pardot_fills_salesforce_blank": int((a_f & ~s_f).sum()),
        "salesforce_fills_pardot_blank": int((~a_f & s_f).sum()),
    }


def overwrites(ev: dict, sf_blanks_overwrite: bool = False) -> dict[str, int | None]:
    """Values each behaviour overwrites at the first sync (F-1, F-2); most_recent needs dates."""
    out: dict[str, int | None] = {
        "use_pardot": ev["differ"],  # Salesforce values replaced
        "use_salesforce": ev["differ"],  # Account Engagement values replaced
        "most_recent": ev["differ"] if ev["dated_differ"] == ev["differ"] else None,
    }
    if sf_blanks_overwrite:  # Support switch: Salesforce blanks clear AE values (F-2)
        out["use_salesforce"] += ev["pardot_fills_salesforce_blank"]
    return out


def newer_lost(ev: dict) -> dict[str, int]:
    """Differing values where the losing side held the newer value (older wins)."""
    return {
        "use_pardot": ev["salesforce_newer"],
        "use_salesforce": ev["pardot_newer"],
        "most_recent": 0,
    }


def _consent_losses(a: pd.Series, s: pd.Series, pu: np.ndarray, sm: np.ndarray) -> dict:
    """Opt-outs each behaviour turns back to false (F-7: a false is a value, UNCONFIRMED)."""
    at, st = a.eq("true").fillna(False).to_numpy(), s.eq("true").fillna(False).to_numpy()
    af, sf = a.eq("false").fillna(False).to_numpy(), s.eq("false").fillna(False).to_numpy()
    dated = ~np.isnan(pu) & ~np.isnan(sm)
    recent = (at & sf & dated & (sm > pu)) | (af & st & dated & (pu > sm))
    return {
        "use_pardot": int((af & st).sum()),
        "use_salesforce": int((at & sf).sum()),
        "most_recent": int(recent.sum()) if dated[at & sf | af & st].all() else None,
    }


def _choose(ev: dict, current: str) -> tuple[str, str]:
    """Recommended behaviour for an ordinary field and why (fill gap, else recency, else keep)."""
    if ev["differ"] == 0:
        return (
            current,
            "no linked pair holds two different values: the behaviour overwrites nothing now",
        )
    gap = (ev["salesforce_filled"] or 0) - (ev["pardot_filled"] or 0)
    fills = f"Salesforce holds a value in {ev['salesforce_filled']:.0%} of pairs, AE in {ev['pardot_filled']:.0%}"
    if gap >= FILL_GAP:
        return "use_salesforce", f"{fills}: Salesforce maintains this field"
    if gap <= -FILL_GAP:
        return "use_pardot", f"{fills}: Account Engagement maintains this field"
    if ev["dated_differ"] >= MIN_DIFFER:
        share_sf = ev["salesforce_newer"] / ev["dated_differ"]
        newer = f"of {ev['dated_differ']} differing pairs Salesforce was modified later in {share_sf:.0%}"
        if share_sf >= NEWER_SHARE:
            return "use_salesforce", newer
        if 1 - share_sf >= NEWER_SHARE:
            return "use_pardot", newer
    return current, f"{fills}; neither side clearly maintains it: keep the current behaviour"


def _compat(ctx: PlanContext, m: dict, a: pd.Series) -> tuple[dict, list[str]]:
    """Type and length compatibility of the Pardot values with the Salesforce field (§3.7)."""
    d = _describe(ctx, m["sf_field"])
    if not d:
        return {"sf_type": None}, []
    info = {
        "sf_type": d.get("type"),
        "sf_length": d.get("length"),
        "pardot_type": m.get("pardot_type"),
    }
    risks = []
    length = d.get("length") or 0
    if d.get("type") in ("string", "textarea", "email", "phone", "url") and length:
        too_long = int((a.str.len() > length).fillna(False).sum())
        info["pardot_values_too_long"] = too_long
        if too_long:
            risks.append(
                f"{too_long} AE values exceed {m['sf_field']}'s {length} characters (F-14)"
            )
    if d.get("restricted_picklist"):
        allowed = pd.Series(list(d.get("picklist_values") or ()), dtype="str")
        bad = int((a.notna() & ~a.isin(allowed)).sum())
        info["pardot_values_not_in_picklist"] = bad
        if bad:
            risks.append(f"{bad} AE values are not in the restricted picklist (§7.2)")
    if d.get("calculated") or d.get("updateable") is False:
        info["salesforce_read_only"] = True
    return info, risks


def field_recommendation(ctx: PlanContext, m: dict, pairs: Pairs) -> Recommendation:
    """One mapped field's recommended sync behaviour, with its evidence and overwrite counts."""
    fid, current = m["pardot_field_id"], m["sync_behavior"]
    rec = Recommendation(
        code=f"REC-FIELD-{fid}",
        kind="field",
        decision=f"Sync behaviour of {m['pardot_field_name']} ↔ {m['sf_field']}",
        setting=str(fid),
        current=current,
        recommended=current,
        action="confirm",
        why="",
        source="connector-behavior.md F-1, F-2, F-4, §3.7 (H6, K2)",
        policies=[p for p in str(m.get("policies") or "").split(";") if p and p != "nan"],
    )
    if pd.notna(m.get("fixed_rule")):
        rec.why = "fixed by the connector: " + FIXED_WHY.get(str(fid), str(m["fixed_rule"]))
        return rec
    got = None
    if m["prospect_column"] is not None and has_column(
        ctx.snapshot, "pardot_prospects", m["prospect_column"]
    ):
        got = _field_arrays(ctx, m, pairs)
    if got is None:
        rec.action, rec.recommended = "cannot_tell", None
        rec.why = "no linked pair carries this field on both sides"
        rec.missing_exports = _missing_columns(ctx, m)
        return rec
    a, s, pu, sm = got
    ev = _evidence(a, s, pu, sm)
    info, risks = _compat(ctx, m, a)
    rec.evidence, rec.risks = {**ev, **info}, risks
    over = overwrites(ev, ctx.settings.sf_blanks_overwrite)
    if is_consent(m):
        losses = _consent_losses(a, s, pu, sm)
        rec.evidence["opt_outs_lost"] = losses
        rec.policies = sorted(set(rec.policies) | {"checkbox_false_is_value"})
        rec.source = "connector-behavior.md F-7, F-8, F-2, §11 item 21 (H6, B6, B7)"
        best = _protective(losses, current)
        rec.why = _consent_why(losses, best)
    elif info.get("salesforce_read_only"):
        best = "use_salesforce"
        rec.why = f"{m['sf_field']} is read-only in Salesforce (formula or not updateable, §3.7)"
    else:
        best, rec.why = _choose(ev, current)
        if best != current:
            rec.why += (
                f": {LABELS.get(best, best)}. With {LABELS.get(current, current)}, "
                f"{over.get(current)} values are overwritten, "
                f"{newer_lost(ev).get(current, 0)} of them newer than the value replacing them"
            )
    rec.recommended = best
    rec.action = "change" if best != current else "confirm"
    rec.effect = {
        "overwrites": over,
        "newer_values_lost": newer_lost(ev),
        "current_overwrites": over.get(current),
        "recommended_overwrites": over.get(best),
        "behaviour_labels": {current: LABELS.get(current, current), best: LABELS.get(best, best)},
    }
    return rec


def _missing_columns(ctx: PlanContext, m: dict) -> list[str]:
    """Which export columns would let a field be compared (else: no linked pairs to compare)."""
    snap, out = ctx.snapshot, []
    pcol = m.get("prospect_column")
    if pcol is None or not has_column(snap, "pardot_prospects", pcol):
        out.append(f"the {m['pardot_field_name']} column of the prospect export")
    sides = (("sf_leads", "lead_column", "Lead"), ("sf_contacts", "contact_column", "Contact"))
    if not any(m.get(c) is not None and has_column(snap, t, m[c]) for t, c, _ in sides):
        out.append(f"the {m['sf_field']} column of the Lead or Contact export")
    return out or ["linked or matched pairs (the dry run has none for this field)"]


def _consent_why(losses: dict, best: str) -> str:
    """Why the protective choice: opt-outs each behaviour would lose, and the fix if none is safe."""
    lost = ", ".join(f"{LABELS[k]}: {v}" for k, v in losses.items() if v is not None)
    text = (
        f"consent field: {LABELS.get(best, best)} turns the fewest opt-outs back to "
        f"'not opted out' ({lost}). Under Salesforce's value a Salesforce false is a value and "
        "overwrites an AE opt-out (F-7, policy checkbox_false_is_value)"
    )
    if losses.get("use_pardot") and losses.get("use_salesforce"):
        text += (
            ". No behaviour keeps every opt-out when each side holds ones the other lacks: set "
            "opted-out on both sides for the differing pairs before unpausing"
        )
    return text


def _protective(losses: dict, current: str) -> str:
    """The behaviour losing the fewest opt-outs; ties keep the current one, else AE's value (B6)."""
    known = {k: v for k, v in losses.items() if v is not None and k != "most_recent"}
    if current == "most_recent" and losses.get("most_recent") is not None:
        known["most_recent"] = losses["most_recent"]  # only kept where already chosen (F-4)
    least = min(known.values())
    if known.get(current) == least:
        return current
    return "use_pardot" if known["use_pardot"] == least else min(known, key=known.get)


def field_recommendations(ctx: PlanContext) -> list[Recommendation]:
    """A sync-behaviour recommendation for every mapped field (the loop is over fields only)."""
    mappings = ctx.simulation.mappings
    if mappings is None or mappings.empty:
        return []
    pairs = build_pairs(ctx)
    rows = mappings.astype(object).where(mappings.notna(), None).to_dict("records")
    return [field_recommendation(ctx, m, pairs) for m in rows]
