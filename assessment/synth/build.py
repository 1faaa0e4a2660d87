"""Create every record of a synthetic org and its expected outcome (base pairs, then injections)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from .arrow import _s
from .catalog import DRIFT_SHARES, KINDS
from .org import _Org


def _sizes(prospects: int, leads: int, contacts: int) -> tuple[int, dict[str, int]]:
    unit = max(1, min(prospects // 100, leads // 40, contacts // 30))
    return unit, {name: max(1, int(round(unit * spec[3]))) for name, spec in KINDS.items()}


def _fail(message: str) -> InputError:
    return InputError(f"synth: {message}")


@dataclass
class _Ctx:
    """The org being built and what every block needs: users, owners, business accounts."""

    org: _Org
    owner_of: np.ndarray
    n_users: int
    inactive_pos: int = -1
    unmapped_pos: int = -1
    n_acc: int = 0
    acc_ids: np.ndarray = field(default_factory=lambda: np.array([], "S18"))
    acc_people: dict[str, Any] = field(default_factory=dict)
    users: dict[str, list] = field(default_factory=dict)  # Salesforce / Pardot users (_users)

    @property
    def rng(self) -> np.random.Generator:
        """The org's random generator (one stream: the call order fixes the output)."""
        return self.org.rng

    def pick_users(self, n: int) -> np.ndarray:
        """n random positions of active mapped users."""
        return self.rng.integers(0, self.n_users, n)

    def contact_people(self, n: int) -> tuple[dict[str, Any], np.ndarray]:
        """n people working at random business accounts, and those accounts' ids."""
        p = self.org.person(n)
        a = self.rng.integers(0, max(1, self.n_acc), n)
        p["company"] = self.acc_people["company"].take(pa.array(a))  # Company = Account.Name (F-5)
        return p, self.acc_ids[a] if self.n_acc else np.full(n, b"")

    def lead_pair(
        self, n: int, users_: np.ndarray | None = None
    ) -> tuple[dict, np.ndarray, np.ndarray]:
        """n people with a lead each, owned by random (or given) users."""
        p = self.org.person(n)
        u = self.pick_users(n) if users_ is None else users_
        ids = self.org.sf_record("leads", p, self.owner_of[u])
        return p, ids, u

    def contact_pair(self, n: int) -> tuple[dict, np.ndarray, np.ndarray]:
        """n people with a contact each, owned by random users."""
        p, acc = self.contact_people(n)
        u = self.pick_users(n)
        ids = self.org.sf_record("contacts", p, self.owner_of[u], account=acc)
        return p, ids, u


def _users(org: _Org, n_users: int, clean: bool) -> tuple[dict[str, list], int, int]:
    """Active mapped Salesforce users and their Pardot users (U-1, U-2); one inactive Salesforce
    user and one unmapped Pardot user unless clean. Returns users, inactive and unmapped positions."""
    u_people = org.person(n_users)
    u_ids = org.ids("005", n_users)
    users = {
        "id": [i.decode() for i in u_ids],  # a few dozen users
        "first": u_people["first"].to_pylist(),
        "last": u_people["last"].to_pylist(),
        "active": [True] * n_users,
        "mapped": [True] * n_users,
        "type": ["Standard"] * n_users,
    }
    if clean:
        return users, -1, -1
    extra = org.person(2)
    # one inactive Salesforce user; the unmapped Pardot user has no Salesforce user
    users["id"] += [org.ids("005", 1)[0].decode(), ""]
    users["first"] += extra["first"].to_pylist()
    users["last"] += extra["last"].to_pylist()
    users["active"] += [False, True]
    users["mapped"] += [True, False]
    users["type"] += ["Standard", "Standard"]
    return users, n_users, n_users + 1


def _needs(size: dict[str, int], blank_l: int, blank_c: int, np_l: int, np_c: int) -> tuple:
    """Prospects, leads and contacts the injected kinds use."""
    use_p = (
        size["duplicate_leads"] + size["duplicate_contacts"] + size["lead_contact_shared_email"]
        + 2 * size["duplicate_prospects"] + size["email_case_whitespace_variants"]
        + size["unassigned_no_match"] + size["unassigned_will_link"] + size["assigned_no_match"]
        + size["owner_unmapped"] + size["owner_inactive"] + size["short_crm_ids"]
        + size["stale_crm_ids"] + size["crm_deleted_sentinel"] + size["crm_ignore_sentinel"]
        + size["converted_leads"] + size["invalid_prospect_email"]
        + size["restricted_picklist_value"] + size["value_too_long"] + size["blank_last_name"]
        + size["person_accounts"] + size["opt_out_conflict"] + size["region_conflict"]
        + size["person_account_opt_out"] + size["person_account_name_differs"]
        + size["recycle_bin_link"] + size["non_numeric_number"]
        + size["queue_assigned"] + size["owner_portal_user"] + size["owner_email_only"]
    )  # fmt: skip
    use_l = (
        2 * size["duplicate_leads"] + size["lead_contact_shared_email"]
        + size["unassigned_will_link"] + size["short_crm_ids"] + size["converted_leads"]
        + blank_l + np_l + size["opt_out_conflict"] + size["region_conflict"]
        + size["recycle_bin_link"]
    )  # fmt: skip
    use_c = (
        2 * size["duplicate_contacts"] + size["lead_contact_shared_email"]
        + size["email_case_whitespace_variants"] + size["converted_leads"] + blank_c + np_c
    )  # fmt: skip
    return use_p, use_l, use_c


def _plan(prospects: int, leads: int, contacts: int, clean: bool) -> dict[str, Any]:
    """How many records each injected kind and the clean base get (counts only, no randomness)."""
    unit, size = _sizes(prospects, leads, contacts)
    if clean:
        size = {k: 0 for k in size}
        if prospects != leads + contacts:
            raise _fail(
                "a clean org links every lead and contact to its own prospect, so --prospects "
                f"must equal --leads + --contacts ({leads} + {contacts} = {leads + contacts}, "
                f"got {prospects})"
            )
    blank_l = (size["blank_email_records"] + 1) // 2
    blank_c = size["blank_email_records"] - blank_l
    np_l = (size["not_backfilled"] + 1) // 2
    np_c = size["not_backfilled"] - np_l
    use_p, use_l, use_c = _needs(size, blank_l, blank_c, np_l, np_c)
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
    size["assigned_no_match"] += rem_p - pairs  # more prospects than records: more creates
    np_l += rem_l - base_l  # more records than prospects: more not_backfilled records
    np_c += rem_c - base_c
    size["not_backfilled"] = np_l + np_c
    return {
        "unit": unit, "size": size, "blank_l": blank_l, "blank_c": blank_c,
        "np_l": np_l, "np_c": np_c, "base_l": base_l, "base_c": base_c,
    }  # fmt: skip


def _accounts(ctx: _Ctx, contacts: int) -> None:
    """Business accounts for contacts (one per five contacts)."""
    org, rng = ctx.org, ctx.rng
    ctx.n_acc = n_acc = max(1, contacts // 5) if contacts else 0
    ctx.acc_people = org.person(n_acc)
    ctx.acc_ids = org.ids("001", n_acc)
    acc_owner = ctx.owner_of[ctx.pick_users(n_acc)]
    org.blocks["accounts"].append(
        {
            "id": ctx.acc_ids,
            "name": ctx.acc_people["company"],
            "owner": acc_owner,
            "type": _s(np.array(["Prospect", "Customer - Direct"])[rng.integers(0, 2, n_acc)]),
            "is_person": np.zeros(n_acc, bool),
            "created": ctx.acc_people["created"],
            "modified": ctx.acc_people["modified"],
        }
    )


def _drift(p: dict[str, Any], rng: np.random.Generator) -> tuple[dict[str, Any], dict]:
    """The prospect side of linked pairs, with some values differing from the Salesforce side.

    So the dry run of an ordinary org shows what the first sync does to values: job titles the
    Salesforce value overwrites (F-1, FLD006) and Pardot phones left blank that the Salesforce
    value fills (F-2). Each drifted pair differs in one field only; drawn from a stream of its
    own, so every other generated value stays as it was. Returns the values and the drift masks.
    """
    from .catalog import TITLES

    n = len(p["email"])
    order = rng.permutation(n)
    bands = {}
    start = 0
    for name, share in DRIFT_SHARES.items():
        size = max(1, int(round(n * share))) if n >= 4 * len(DRIFT_SHARES) else 0
        mask = np.zeros(n, dtype=bool)
        mask[order[start : start + size]] = True
        bands[name], start = mask, start + size
    q = dict(p)
    q["title"] = _other(p["title"], TITLES, bands["title_overwritten"], rng)
    blank = pa.array(bands["phone_blank_filled"])
    q["phone"] = pc.if_else(blank, pa.nulls(n, pa.string()), p["phone"])
    return q, bands


def _other(values, choices: list[str], mask: np.ndarray, rng: np.random.Generator):
    """``values`` with each masked entry replaced by a different one of ``choices``."""
    idx = pc.index_in(values, value_set=pa.array(choices)).to_numpy(zero_copy_only=False)
    idx = np.nan_to_num(idx.astype("float64"), nan=0).astype(np.int64)
    shifted = (idx + rng.integers(1, len(choices), len(idx))) % len(choices)
    return pc.if_else(pa.array(mask), pa.array(choices).take(pa.array(shifted)), values)


def _base(ctx: _Ctx, base_l: int, base_c: int) -> None:
    """Clean pairs; 80 % linked by CRM id (M-2), 20 % by email (M-5).

    Outside clean orgs some values differ inside pairs (:func:`_drift`), from a second stream.
    """
    org = ctx.org
    drift = np.random.default_rng([org.rng.bit_generator.seed_seq.entropy, 14])
    for table, n in (("leads", base_l), ("contacts", base_c)):
        if n == 0:
            continue
        obj = "Lead" if table == "leads" else "Contact"
        p, ids, u = ctx.lead_pair(n) if table == "leads" else ctx.contact_pair(n)
        p, bands = (p, {}) if org.clean else _drift(p, drift)
        linked = ctx.rng.random(n) < 0.8
        col = "crm_lead" if table == "leads" else "crm_contact"
        crm = np.where(linked, ids, b"")
        keys = org.prospect(p, u, **{col: crm})
        org.truth_p(keys[linked], "linked", ids[linked], f"base_linked_{obj.lower()}")
        org.truth_p(keys[~linked], "match_email", ids[~linked], f"base_match_{obj.lower()}")
        org.truth_sf(obj, ids, "linked", f"base_{obj.lower()}", keys)
        for name, mask in bands.items():
            org.kind(name, prospects=keys[mask])


def _build(prospects: int, leads: int, contacts: int, seed: int, clean: bool) -> dict[str, Any]:
    """Create every record and its expected outcome; returns the org parts."""
    from .inject import inject

    if min(prospects, leads, contacts) < 0 or prospects < 1:
        raise _fail("--prospects must be at least 1 and no count may be negative")
    org = _Org(seed, clean)
    n_users = int(np.clip(prospects // 150, 5, 60))
    users, inactive_pos, unmapped_pos = _users(org, n_users, clean)
    owner_of = np.array(users["id"], dtype="S18")
    ctx = _Ctx(org, owner_of, n_users, inactive_pos, unmapped_pos, users=users)
    plan = _plan(prospects, leads, contacts, clean)
    _accounts(ctx, contacts)
    _base(ctx, plan["base_l"], plan["base_c"])
    if not clean:
        inject(ctx, plan)
    return {
        "org": org,
        "users": users,
        "unit": plan["unit"],
        "size": plan["size"],
        "n_users": n_users,
    }
