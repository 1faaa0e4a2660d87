"""Owners by name (issue #14.2): UNA003 names the future owners; the report shows names, ids on hover."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from assessment import report
from assessment.checks.una import user_names
from tests.test_report import FINDING_HEADER, READINESS, visible_text, write_stub


def _ctx(users: pd.DataFrame | None, queues: pd.DataFrame | None = None):
    tables = {} if users is None else {"sf_users": users}
    if queues is not None:
        tables["sf_queues"] = queues
    return SimpleNamespace(has=lambda name: name in tables, table=lambda name: tables[name])


def test_user_names_fall_back_from_name_to_first_last_to_username():
    users = pd.DataFrame(
        {
            "id": ["005A", "005B", "005C", "005D"],
            "name": ["Ann Lee", "", None, "Not asked"],
            "first_name": ["x", "Bo", None, "y"],
            "last_name": ["y", "Ray", None, "z"],
            "username": ["a@x.org", "b@x.org", "c@x.org", "d@x.org"],
        }
    )
    names = user_names(_ctx(users), pd.Series(["005A", "005B", "005C", None, "005Z"]))
    assert names == {"005A": "Ann Lee", "005B": "Bo Ray", "005C": "c@x.org"}
    assert user_names(_ctx(None), pd.Series(["005A"])) == {}


def test_queue_owners_are_named_as_queues():
    # CR-2: a queue owns the leads created for its prospects; UNA003 names it, not its 00G id.
    queues = pd.DataFrame({"id": ["00G1"], "name": ["Inbound Leads Queue"]}, dtype="str")
    names = user_names(_ctx(None, queues), pd.Series(["00G1", "005A"]))
    assert names == {"00G1": "Inbound Leads Queue (queue)"}


def test_report_shows_owner_names_with_the_id_on_hover(tmp_path):
    una = {
        "code": "UNA003",
        "name": "assigned-will-create-leads",
        "area": "UNA",
        "severity": "warning",
        "status": "fail",
        "affected": 1,
        "summary": "1 lead(s) will be created (threshold 0); owners Ann Lee: 1.",
        "remediation": "review",
        "source": "CR-1",
        "action_file": "actions/UNA003.csv",
        "numbers": {"owners": {"005A": 1}, "owner_names": {"005A": "Ann Lee"}},
    }
    readiness = dict(READINESS, checks=[*READINESS["checks"], una])
    out = write_stub(tmp_path / "o", readiness)
    (out / "actions" / "UNA003.csv").write_text(
        FINDING_HEADER + "\nUNA003,Prospect,9,9,,p@x.org,,005A,lead created,unassign\n",
        encoding="utf-8",
    )
    section = str(report.section(report.load(out), "area", "UNA"))
    assert '<span title="005A">Ann Lee</span>' in section
    assert "005A" not in visible_text(section)
