"""The quick what-if (planning, issue #19) equals the full re-simulation it stands for.

``quick_what_if`` re-runs only the rule step a change is confined to (auto-create, CR-9–CR-11;
same-email mode's hand-over of shadowed records to auto-create, CR-10). On the sample org and two
synthetic orgs with every injected problem (one in same-email mode), under several base settings,
its counts and changed records equal ``compare(base, simulate(snapshot, changed settings))``
frame for frame, and the shortcut cases never run the full simulation.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from assessment.load import load_org
from assessment.sync import compare, simulate
from assessment.synth import generate

ROOT = Path(__file__).resolve().parents[1]
what_if_module = importlib.import_module("assessment.sync.what_if")
quick_what_if = what_if_module.quick_what_if

AC = "auto_create_prospects_from_salesforce"
AMPSEA = "allow_multiple_prospects_same_email"
# Base settings variants: as exported, auto-create on since a date, unassigned prospects not
# linking by email (M-6 no_sync: same-email mode then moves matches, so no shortcut).
BASES = [
    {},
    {AC: True, "auto_create_enabled_since": "2023-06-01"},
    {"unassigned_email_match": "no_sync"},
    {"ampsea_auto_create_default": "off"},
]
# (changes, shortcut expected for a base without same-email mode and without no_sync)
CHANGES = [
    ({AC: True}, True),
    ({AC: False}, True),
    ({AC: True, "auto_create_enabled_since": "2024-01-01"}, True),
    ({"auto_create_enabled_since": "2022-01-01"}, True),
    ({AMPSEA: True}, True),
    ({AMPSEA: True, AC: True}, True),
    ({AMPSEA: True, "ampsea_email_fallback": False}, False),
    ({"person_accounts_enabled": False}, False),
    ({"tie_break": "oldest"}, False),
]


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory):
    base = tmp_path_factory.mktemp("quick")
    generate(base / "org8", prospects=2000, leads=1400, contacts=1000, seed=8)
    generate(base / "same", prospects=1500, leads=1000, contacts=800, seed=9, same_email=True)
    return {
        "sample": load_org(ROOT / "data" / "sample"),
        "org8": load_org(base / "org8"),
        "same_email": load_org(base / "same"),
    }


def _assert_same(quick, full) -> None:
    for part in ("prospects", "salesforce", "changed_prospects", "changed_salesforce"):
        assert_frame_equal(getattr(quick, part), getattr(full, part), obj=part)


def _expect_shortcut(base_settings, changes: dict, shortcut: bool) -> bool:
    """Whether the quick path should skip the full run for this base and change set."""
    if not shortcut:
        return False
    if AMPSEA in changes and base_settings.ampsea:
        return AC in changes  # same-email mode already on: only the auto-create part moves
    return not (AMPSEA in changes and base_settings.unassigned_email_match == "no_sync")


@pytest.mark.parametrize("org", ["sample", "org8", "same_email"])
@pytest.mark.parametrize("base_changes", BASES, ids=lambda b: ",".join(b) or "as_exported")
def test_quick_what_if_equals_the_full_re_simulation(snapshots, org, base_changes, monkeypatch):
    snap = snapshots[org]
    base = simulate(snap, snap.settings.replace(**base_changes))
    moved, cache = 0, {}  # one cache across the what-ifs of a snapshot, as planning keeps it
    for changes, shortcut in CHANGES:
        full = compare(base, simulate(snap, base.settings.replace(**changes)))
        expected = _expect_shortcut(base.settings, changes, shortcut)
        if expected:  # the shortcut must not fall back on the full simulation
            monkeypatch.setattr(what_if_module, "simulate", _no_full_run)
        quick = quick_what_if(snap, base, cache=cache, **changes)
        monkeypatch.setattr(what_if_module, "simulate", simulate)
        _assert_same(quick, full)
        moved += len(full.changed_salesforce) + len(full.changed_prospects)
        if expected:  # the changed settings' full result, as a run would see it
            for part in ("prospects", "salesforce", "fields"):
                assert_frame_equal(getattr(quick.other, part), getattr(full.other, part), obj=part)
            assert quick.other.initial_sync == full.other.initial_sync
    assert moved  # the cases move records: the equality is not between two empty diffs


def _no_full_run(*args, **kwargs):
    raise AssertionError("the quick what-if ran the full simulation")


def test_the_cases_reach_every_re_decided_reason(snapshots):
    """Each reason code the shortcut re-decides occurs in some base run (the cases exercise it)."""
    seen: set[str] = set()
    for snap in snapshots.values():
        for base_changes in BASES:
            base = simulate(snap, snap.settings.replace(**base_changes))
            codes = base.salesforce["reason_code"].dropna().astype(str)
            seen |= set(codes)
    wanted = set(what_if_module.AUTO_CREATE_CODES + what_if_module.SHADOW_CODES)
    wanted -= {"CR-11.not_retroactive", "CR-10.ampsea_new_record"}  # need since=None / AMPSEA on
    assert wanted <= seen, sorted(wanted - seen)


def test_plan_what_ifs_take_the_shortcut_and_keep_their_effect(snapshots, monkeypatch):
    """On the sample, planning runs no full simulation and its effects equal the full what-ifs."""
    from assessment.plan import make_plan
    from assessment.plan.registry import effect_of

    snap = snapshots["sample"]
    base = simulate(snap)
    monkeypatch.setattr(what_if_module, "simulate", _no_full_run)
    plan = make_plan(snap, base)
    monkeypatch.setattr(what_if_module, "simulate", simulate)
    assert plan.what_ifs >= 1
    for rec in plan.recommendations:
        if rec.kind == "setting" and rec.changes:
            full = compare(base, simulate(snap, base.settings.replace(**rec.changes)))
            assert rec.effect == effect_of(full), rec.code


def test_lazy_other_is_the_full_simulation(snapshots):
    snap = snapshots["org8"]
    base = simulate(snap)
    quick = quick_what_if(snap, base, **{AMPSEA: True})
    other = simulate(snap, base.settings.replace(**{AMPSEA: True}))
    assert_frame_equal(quick.other.prospects, other.prospects)
    assert isinstance(quick.changed_prospects, pd.DataFrame)


@pytest.mark.parametrize("org", ["sample", "org8", "same_email"])
@pytest.mark.parametrize("base_changes", BASES[:2], ids=lambda b: ",".join(b) or "as_exported")
def test_plan_equals_the_plan_from_full_re_simulations(snapshots, org, base_changes):
    """readiness.json's plan and recommendations, plan.csv and the combined what-if are the same
    whether each what-if is quick or a full re-simulation (the reference)."""
    from assessment.plan import combined_effect, make_plan, plan_frame

    snap = snapshots[org]
    base = simulate(snap, snap.settings.replace(**base_changes))
    quick, full = make_plan(snap, base), make_plan(snap, base, quick=False)
    assert quick.to_json() == full.to_json()
    assert_frame_equal(plan_frame(quick), plan_frame(full))
    both_q, both_f = combined_effect(quick), combined_effect(full)
    for key in ("accepted", "settings", "effect", "field_overwrites"):
        assert both_q.get(key) == both_f.get(key), key
    for key in ("prospect_counts", "salesforce_counts"):
        if key in both_f:
            assert_frame_equal(both_q[key], both_f[key])
    # Planning on these orgs takes a shortcut; the agreement above is not of two full runs.
    assert quick.what_ifs == full.what_ifs


def test_a_full_what_if_lets_its_second_simulation_go_and_rebuilds_it_when_read(
    snapshots, monkeypatch
):
    # Planning keeps every what-if (issue #19 memory): a change outside the shortcut keeps its
    # counts and moved records, not the whole second simulation, which is simulated again on read.
    import gc
    import weakref

    snap = snapshots["org8"]
    base = simulate(snap)
    changes = {"tie_break": "oldest"}
    built = []

    def counted(*args, **kwargs):
        result = simulate(*args, **kwargs)
        built.append(weakref.ref(result))
        return result

    monkeypatch.setattr(what_if_module, "simulate", counted)
    quick = quick_what_if(snap, base, **changes)
    gc.collect()
    assert len(built) == 1 and built[0]() is None  # compared, then let go
    full = compare(base, simulate(snap, base.settings.replace(**changes)))
    _assert_same(quick, full)
    assert_frame_equal(quick.other.prospects, full.other.prospects)  # rebuilt on read
    assert len(built) == 2
