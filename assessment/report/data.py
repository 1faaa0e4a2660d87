"""The one data object behind the report, the batch index and notebook 08.

:func:`load` reads a finished output folder (``readiness.json``, ``outcomes/``, ``actions/``) and
builds a :class:`ReportData` of plain values already in human words (:mod:`assessment.labels`):
templates only lay it out. Nothing here runs an assessment; the report only reads.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .. import labels as L
from ..errors import ReportError

SAMPLE_ROWS = 10  # records shown per check; the full lists are the action files
FIX_FIRST = 5  # checks on the first screen
PLAN_FIRST = 5  # plan steps shown before "the other steps"
# Ranking weights of "Fix first" (impact = weight × records affected): a blocker weighs ten
# warnings, so a blocker on a few records comes before a warning on many.
WEIGHTS = {"blocker": 10.0, "warning": 1.0, "info": 0.0}
HOW_TO_PRODUCE = (
    "No output folder given: run `python -m assessment run EXPORT_FOLDER --out OUT_FOLDER`, "
    "then open this notebook with out_dir set to OUT_FOLDER."
)


@dataclass
class ReportData:
    """Everything the report shows, in words and formatted numbers (see :func:`load`)."""

    out_dir: Path
    readiness: dict
    mask_pii: bool = False
    org: str = ""
    generated: str = ""
    verdict: str = ""
    verdict_label: str = ""
    verdict_short: str = ""
    score: int = 0
    counts: dict = field(default_factory=dict)
    fix_first: list = field(default_factory=list)
    fix_more: int = 0
    missing_inputs: list = field(default_factory=list)
    baseline: dict | None = None
    plan: dict | None = None
    recommendations: list = field(default_factory=list)
    plan_steps: list = field(default_factory=list)
    areas: list = field(default_factory=list)
    sync: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    appendix: dict = field(default_factory=dict)
    contents: list = field(default_factory=list)


def load(out_dir: str | os.PathLike | None, mask_pii: bool = False) -> ReportData | None:
    """The report data of a finished output folder; ``None`` (and one line) without a folder."""
    if out_dir is None or str(out_dir).strip() == "":
        print(HOW_TO_PRODUCE)
        return None
    out = Path(out_dir).expanduser().resolve()
    marker = out / "readiness.json"
    if not marker.is_file():
        raise ReportError(
            "no readiness.json here: give the output folder of `python -m assessment run`",
            file=str(out),
        )
    try:
        readiness = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read readiness.json: {exc}", file=str(marker)) from None
    return build(readiness, out, mask_pii=mask_pii)


def build(readiness: dict, out_dir: Path, mask_pii: bool = False) -> ReportData:
    """Build the report data from a readiness document and the folder holding its files."""
    users = _user_names(readiness.get("checks") or [])
    checks = [_check(c, out_dir, mask_pii, users) for c in readiness.get("checks") or []]
    verdict = str(readiness.get("verdict") or "")
    data = ReportData(
        out_dir=Path(out_dir),
        readiness=readiness,
        mask_pii=bool(mask_pii),
        org=str(readiness.get("org") or "This org"),
        generated=_when(readiness.get("generated_at")),
        verdict=verdict,
        verdict_label=L.verdict_label(verdict),
        verdict_short=L.verdict_label(verdict, short=True),
        score=int(readiness.get("score") or 0),
        counts=_counts(checks),
        missing_inputs=list(readiness.get("missing_inputs") or []),
        baseline=readiness.get("baseline") or None,
        plan=readiness.get("plan") or None,
        recommendations=_recommendations(readiness.get("recommendations") or []),
    )
    ranked = fix_first(checks)
    data.fix_first, data.fix_more = ranked[:FIX_FIRST], max(0, len(ranked) - FIX_FIRST)
    data.areas = _areas(checks)
    sim = readiness.get("simulation") or {}
    data.sync = _sync(sim)
    data.fields = _fields(_with_pairs_by_object(sim.get("fields") or [], out_dir))
    data.appendix = _appendix(readiness, checks)
    data.plan_steps = _plan_steps(data.plan, out_dir)
    data.contents = _contents(data)
    return data


_RULE_PARENS = re.compile(r"\s*\((?=[^()]*\b[A-Z]{1,3}\d*-\d+\b)[^()]*\)")
_RULE_BARE = re.compile(r"\b[A-Z]{1,3}-\d+(?:[/–-][A-Z]{1,3}-\d+)*:?\s*")


def _words(text) -> str:
    """A plan text in words: rule references (kept in readiness.json) left to the appendix."""
    out = _RULE_BARE.sub("", _RULE_PARENS.sub("", L.plain_text(text)))
    return re.sub(r"\s{2,}", " ", out).strip()


def _recommendations(recs: list) -> list[dict]:
    """Recommendations as the report shows them: texts in words; codes, policies and sources are
    kept as they are (the template shows them apart, as codes)."""
    return [
        {
            **r,
            "decision": _words(r.get("decision")),
            "why": _words(r.get("why")),
            "effect_summary": _words(r.get("effect_summary")),
            "current_label": _words(r.get("current_label")),
            "recommended_label": _words(r.get("recommended_label")),
            "risks": [_words(x) for x in r.get("risks") or []],
            "missing_exports": [_words(x) for x in r.get("missing_exports") or []],
        }
        for r in recs
        if isinstance(r, dict)
    ]


def _plan_steps(plan: dict | None, out_dir: Path) -> list[dict]:
    """The plan's steps in words, each with a relative link to its list when there is one."""
    steps = (plan or {}).get("steps") or []
    return [
        {
            "title": L.plain_text(s.get("title")),
            "detail": L.plain_text(s.get("detail")),
            "records": L.fmt_int(s.get("records")),
            "href": _href(out_dir, s.get("action_file")),
        }
        for s in steps
        if isinstance(s, dict)
    ]


# ------------------------------------------------------------------------------- checks
def _user_names(checks: list) -> dict[str, str]:
    """Salesforce user id → name, from the checks' ``owner_names`` numbers (issue #14.2)."""
    names: dict[str, str] = {}
    for c in checks:
        numbers = c.get("numbers") if isinstance(c, dict) else None
        found = numbers.get("owner_names") if isinstance(numbers, dict) else None
        if isinstance(found, dict):
            names.update({str(k): str(v) for k, v in found.items()})
    return names


def _check(c: dict, out_dir: Path, mask_pii: bool, users: dict[str, str] | None = None) -> dict:
    code, severity, status = str(c.get("code")), str(c.get("severity")), str(c.get("status"))
    affected = int(c.get("affected") or 0)
    action = c.get("action_file") or None
    href = _href(out_dir, action)
    reg = _registered(code)
    return {
        "code": code,
        "anchor": f"check-{code.lower()}",
        "title": L.check_title(code, c.get("name")),
        "area": str(c.get("area") or code[:3]),
        "severity": severity,
        "severity_label": L.severity_label(severity),
        "status": L.status_key(status, severity),
        "status_label": L.status_label(status, severity),
        "affected": affected,
        "affected_text": L.fmt_int(affected),
        "summary": L.plain_text(c.get("summary")),
        "remediation": L.plain_text(c.get("remediation")),
        "why": _first_sentence(reg.get("why")) if reg else "",
        "source": str(c.get("source") or ""),
        "policies": [L.humanize(p) for p in L.policies_in(c.get("summary"))],
        "href": href,
        "sample": _sample(out_dir, href, affected, mask_pii, users) if status == "fail" else None,
        "impact": WEIGHTS.get(severity, 0.0) * max(affected, 1) if status == "fail" else 0.0,
    }


def _registered(code: str) -> dict:
    from ..checks.registry import CHECKS

    chk = CHECKS.get(code)
    if chk is None:
        return {}
    return {"why": chk.section("Why it matters"), "what": chk.section("What it checks")}


def _first_sentence(text: Any) -> str:
    text = L.plain_text(text)
    if not text:
        return ""
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def fix_first(checks: list[dict]) -> list[dict]:
    """Failing blocker and warning checks, by impact (severity weight × records affected)."""
    failing = [c for c in checks if c["status"] == "fail" and c["severity"] != "info"]
    return sorted(failing, key=lambda c: (-c["impact"], c["code"]))


def _counts(checks: list[dict]) -> dict:
    def n(pred) -> int:
        return sum(1 for c in checks if pred(c))

    return {
        "blockers": n(lambda c: c["status"] == "fail" and c["severity"] == "blocker"),
        "warnings": n(lambda c: c["status"] == "fail" and c["severity"] == "warning"),
        "noted": n(lambda c: c["status"] == "noted"),
        "not_run": n(lambda c: c["status"] == "not_run"),
        "passed": n(lambda c: c["status"] == "pass"),
        "total": len(checks),
    }


def _areas(checks: list[dict]) -> list[dict]:
    order = list(L.AREAS) + sorted({c["area"] for c in checks} - set(L.AREAS))
    out = []
    for area in order:
        mine = [c for c in checks if c["area"] == area]
        if not mine:
            continue
        rank = {"fail": 0, "noted": 1, "not_run": 2, "pass": 3}
        mine.sort(key=lambda c: (rank.get(c["status"], 4), L.SEVERITY_ORDER.get(c["severity"], 3)))
        out.append(
            {
                "key": area,
                "anchor": f"area-{area.lower()}",
                "title": L.area_label(area),
                "why": L.area_why(area),
                "checks": mine,
                "failing": sum(1 for c in mine if c["status"] == "fail"),
            }
        )
    return out


def _href(out_dir: Path, action: Any) -> str | None:
    """The action file as a link relative to report.html (works when the folder is zipped)."""
    if not action:
        return None
    rel = Path(str(action))
    if rel.is_absolute() or ".." in rel.parts:
        return None
    if len(rel.parts) == 1:
        rel = Path("actions") / rel
    return rel.as_posix() if (out_dir / rel).exists() else None


def _sample(
    out_dir: Path, href: str | None, affected: int, mask_pii: bool, users: dict | None = None
) -> dict | None:
    """The first records of an action file, labelled, empty columns dropped; a Salesforce user id
    reads as the user's name (the id on hover)."""
    if not href:
        return None
    try:
        frame = pd.read_csv(out_dir / href, dtype="str", keep_default_na=False, nrows=SAMPLE_ROWS)
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    if mask_pii:
        from .views import mask_frame

        frame = mask_frame(frame)
    frame = frame.drop(columns=[c for c in ("code",) if c in frame.columns])
    frame = frame.loc[:, [(frame[c].astype("str") != "").any() for c in frame.columns]]
    shown = L.display_frame(frame)
    for col in shown.columns:  # words, not codes, in the explaining columns (never in values)
        if col in _WORDED:
            shown[col] = shown[col].map(L.plain_text)
    table = _table(shown, total=max(affected, len(shown)), href=href)
    if users and not mask_pii:  # names are personal data: a masked report keeps the ids
        table["rows"] = [
            [{"text": users[v], "title": v} if v in users else v for v in row]
            for row in table["rows"]
        ]
    return table


_WORDED = {"Object", "Item", "Field", "Issue", "Problem", "Suggested fix", "Suggested Fix"}


def _table(frame: pd.DataFrame, total: int | None = None, href: str | None = None) -> dict:
    rows = frame.astype("str").fillna("").to_numpy().tolist()
    total = len(rows) if total is None else total
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": rows,
        "shown": len(rows),
        "total": total,
        "total_text": L.fmt_int(total),
        "href": href,
    }


# --------------------------------------------------------------------------------- sync
def _outcome_rows(counts: dict, kind: str) -> list[dict]:
    table = L.PROSPECT_OUTCOMES if kind == "prospects" else L.SALESFORCE_OUTCOMES
    order = [k for k in table if k in counts] + [k for k in counts if k not in table]
    total = sum(int(counts[k] or 0) for k in order) or 0
    top = max([int(counts[k] or 0) for k in order] or [0]) or 1
    return [
        {
            "key": k,
            "label": L.outcome_label(k, kind),
            "meaning": L.outcome_meaning(k, kind),
            "count": int(counts[k] or 0),
            "count_text": L.fmt_int(counts[k]),
            "share": L.fmt_share(counts[k], total),
            "width": round(100 * int(counts[k] or 0) / top, 1),
        }
        for k in order
    ]


def _sync(sim: dict) -> dict:
    out = {
        "prospects": _outcome_rows(sim.get("prospects") or {}, "prospects"),
        "salesforce": _outcome_rows(sim.get("salesforce") or {}, "salesforce"),
        "prospects_href": "outcomes/prospects.csv",
        "salesforce_href": "outcomes/salesforce.csv",
    }
    out["first_sync"] = _first_sync(sim.get("initial_sync") or {})
    return out


def _first_sync(init: dict) -> dict:
    """The first-sync estimate as sentences and a small table of what is queued."""
    if not init:
        return {}
    queued = int(init.get("records_queued") or 0)
    by = init.get("queued_by_outcome") or {}
    kinds = {"creates_prospect": "salesforce"}
    rows = [
        {"label": L.outcome_label(k, kinds.get(k, "prospects")), "count": L.fmt_int(v)}
        for k, v in by.items()
        if int(v or 0)
    ]
    low, high = init.get("hours_low"), init.get("hours_high")
    assume = init.get("assumptions") or {}
    sentences = [
        f"Unpausing queues {L.fmt_int(queued)} records for the first sync, "
        f"in about {L.fmt_int(init.get('cycles'))} sync cycles.",
    ]
    if queued:
        sentences.append(
            f"At {L.fmt_int(assume.get('throughput_per_hour'))} to "
            f"{L.fmt_int(assume.get('throughput_low_per_hour'))} records an hour this takes "
            f"{L.fmt_duration(low)} to {L.fmt_duration(high)}."
        )
        sentences.append(
            f"It needs about {L.fmt_int(init.get('api_calls'))} Salesforce API calls, "
            "which the connector probably does not count against the daily limit "
            "(rests on an assumption)."
        )
    errors = int(init.get("will_error_not_counted") or 0)
    if errors:
        sentences.append(
            f"{L.fmt_int(errors)} prospects are predicted to fail and are not counted."
        )
    return {"sentences": sentences, "rows": rows}


# ------------------------------------------------------------------------------- fields
_OVERWRITES = ("sf_overwritten", "pardot_overwritten", "blank_overwrites")
# Linked pairs compared, by Salesforce object (#11: person-account pairs are compared too).
_PAIR_COLUMNS = {
    "pairs_lead": "Lead",
    "pairs_contact": "Contact",
    "pairs_person_account": "PersonAccount",
}


def _with_pairs_by_object(rows: list[dict], out_dir: Path) -> list[dict]:
    """The fields rows with the per-object pair counts of outcomes/fields.csv (not in
    readiness.json), joined when the file lists the same mappings in the same order."""
    if not rows or all(c in rows[0] for c in _PAIR_COLUMNS):
        return rows
    try:
        csv = pd.read_csv(out_dir / "outcomes" / "fields.csv", dtype="str", keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError):
        return rows
    extra = [c for c in _PAIR_COLUMNS if c in csv.columns]
    ids = [str(r.get("pardot_field_id") or "") for r in rows]
    if not extra or "pardot_field_id" not in csv.columns or csv["pardot_field_id"].tolist() != ids:
        return rows
    return [r | p for r, p in zip(rows, csv[extra].to_dict("records"), strict=True)]


def _pairs_by_object(frame: pd.DataFrame) -> tuple[list[str], str]:
    """The per-object pair columns holding pairs, and a line naming them ("1,200 leads, 5 …")."""
    present = [c for c in _PAIR_COLUMNS if c in frame.columns and int(frame[c].max()) > 0]
    parts = [
        f"{L.fmt_int(frame[c].max())} {L.OBJECT_NAMES[_PAIR_COLUMNS[c]].lower()} pairs"
        for c in present
    ]
    return present, ", ".join(parts)


def _fields(rows: list[dict]) -> dict:
    if not rows:
        return {
            "rows": [],
            "chart": [],
            "table": None,
            "overwrites": 0,
            "fills": 0,
            "pairs_text": "",
        }
    frame = pd.DataFrame(rows)
    counts = [*_OVERWRITES, "blank_fills_sf", "blank_fills_pardot", "write_errors", "pairs"]
    counts += [c for c in _PAIR_COLUMNS if c in frame.columns]
    for col in [*counts, "differ"]:
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("int64")
    present = [c for c in _OVERWRITES if c in frame.columns]
    frame["_over"] = frame[present].sum(axis=1) if present else 0
    fills = [c for c in ("blank_fills_sf", "blank_fills_pardot") if c in frame.columns]
    frame["_fill"] = frame[fills].sum(axis=1) if fills else 0
    frame = frame.sort_values(["_over", "_fill"], ascending=False, kind="stable")
    top = int(frame["_over"].max() or 0) or 1
    chart = [
        {
            "label": str(r.get("pardot_field_name") or r.get("sf_field") or ""),
            "sf": int(r.get("sf_overwritten", 0)),
            "pardot": int(r.get("pardot_overwritten", 0)),
            "blank": int(r.get("blank_overwrites", 0)),
            "total_text": L.fmt_int(r["_over"]),
            "sf_w": round(100 * int(r.get("sf_overwritten", 0)) / top, 1),
            "pardot_w": round(100 * int(r.get("pardot_overwritten", 0)) / top, 1),
            "blank_w": round(100 * int(r.get("blank_overwrites", 0)) / top, 1),
        }
        for r in frame.loc[frame["_over"] > 0].head(15).to_dict("records")
    ]
    by_object, pairs_text = _pairs_by_object(frame)
    cols = [
        c
        for c in (
            "pardot_field_name", "sf_field", "sync_behavior", "pairs", *by_object, "differ",
            "sf_overwritten", "pardot_overwritten", "blank_fills_sf", "blank_fills_pardot",
            "blank_overwrites", "write_errors",
        )
        if c in frame.columns
    ]  # fmt: skip
    shown = L.display_frame(frame[cols].head(30))
    return {
        "chart": chart,
        "table": _table(shown, total=len(frame), href="outcomes/fields.csv"),
        "pairs_text": pairs_text,
        "overwrites": int(frame["_over"].sum()),
        "fills": int(frame["_fill"].sum()),
        "overwrites_text": L.fmt_int(frame["_over"].sum()),
        "fills_text": L.fmt_int(frame["_fill"].sum()),
    }


# ----------------------------------------------------------------------------- appendix
def _appendix(readiness: dict, checks: list[dict]) -> dict:
    settings = readiness.get("settings") or {}
    assumptions = [
        {
            "name": L.humanize(a.get("policy")),
            "summary": L.plain_text(a.get("summary")),
            "value": L.fmt_value(a.get("value")),
            "records": L.fmt_int(a.get("records")),
            "rule": str(a.get("rule") or ""),
            "status": L.humanize(str(a.get("status") or "").lower()),
        }
        for a in readiness.get("assumptions") or []
        if isinstance(a, dict)
    ]
    inputs = [
        {
            "file": str(name),
            "table": L.table_label(v.get("table")) if isinstance(v, dict) else "",
            "rows": L.fmt_int(v.get("rows")) if isinstance(v, dict) else "",
            "sha256": str(v.get("sha256") or "") if isinstance(v, dict) else "",
        }
        for name, v in (readiness.get("inputs") or {}).items()
    ]
    ignored = [
        {
            "file": str(v.get("path") or ""),
            "kind": L.IGNORED_KINDS.get(str(v.get("kind")), L.humanize(v.get("kind"))),
            "reason": L.plain_text(v.get("reason")),
        }
        for v in readiness.get("ignored_inputs") or []
        if isinstance(v, dict)
    ]
    names = {c["code"]: c["title"] for c in checks}
    score_lines = [
        {
            "title": names.get(b.get("code"), "Cap for the verdict") if b.get("code") else
            "Cap for the verdict",
            "points": f"{float(b.get('points') or 0):g}",
            "why": str(b.get("why") or ""),
        }
        for b in readiness.get("score_breakdown") or []
    ]  # fmt: skip
    thresholds = [
        {"key": k, "value": f"{v:.0%}" if k != "min_records" else L.fmt_int(v)}
        for k, v in (readiness.get("thresholds") or {}).items()
    ]
    keys = (
        "connector_version", "paused", "allow_multiple_prospects_same_email",
        "auto_create_prospects_from_salesforce", "connector_user", "business_units",
        "person_accounts_enabled",
    )  # fmt: skip
    return {
        "assumptions": assumptions,
        "references": [
            {"code": c["code"], "title": c["title"], "source": c["source"]} for c in checks
        ],
        "inputs": inputs,
        "ignored": ignored,
        "score_lines": score_lines,
        "thresholds": thresholds,
        "settings": [
            {"label": L.humanize(k), "value": L.fmt_value(settings.get(k))}
            for k in keys
            if k in settings
        ],
        "tool_version": str(readiness.get("tool_version") or ""),
        "generated_at": str(readiness.get("generated_at") or ""),
    }


def _contents(data: ReportData) -> list[dict]:
    out = [{"anchor": "fix-first", "title": "Fix first"}]
    if data.baseline:
        out.append({"anchor": "since-last", "title": "Since the last assessment"})
    if data.plan or data.recommendations:
        out.append({"anchor": "the-plan", "title": "The plan"})
    out.append({"anchor": "first-sync", "title": "The first sync, record by record"})
    out.append({"anchor": "fields", "title": "Field by field: what the first sync overwrites"})
    out += [{"anchor": a["anchor"], "title": a["title"]} for a in data.areas]
    out.append({"anchor": "appendix", "title": "Appendix: assumptions, rules and inputs"})
    return out


def _when(value: Any) -> str:
    try:
        stamp = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return str(value or "")
    return f"{stamp.day} {stamp:%B %Y, %H:%M} UTC"
