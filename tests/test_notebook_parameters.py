"""Notebook parameters through papermill's own command line: -p, -r and -y mean what they say."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from assessment.report import NOTEBOOK_DIR

PAPERMILL = [sys.executable, "-m", "papermill", "-k", "python3", "--no-progress-bar"]


def _papermill(name: str, out: Path, *options: str) -> subprocess.CompletedProcess:
    cmd = [*PAPERMILL, str(NOTEBOOK_DIR / name), str(out), "--cwd", str(NOTEBOOK_DIR), *options]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def _html(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(
        o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", [])
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One small org, a finished run of it, and the notebooks executed with each option."""
    from assessment.pipeline import assess
    from assessment.synth import generate

    root = tmp_path_factory.mktemp("params")
    org, done = root / "org", root / "done"
    generate(org, prospects=80, leads=50, contacts=40, seed=3)
    assess(org, done, report=False)
    data = ["-r", "data_dir", str(org)]
    jobs = {
        "p_false": ("04_duplicate_emails.ipynb", *data, "-p", "mask_pii", "False"),
        "r_false": ("04_duplicate_emails.ipynb", *data, "-r", "mask_pii", "False"),
        "p_true": ("04_duplicate_emails.ipynb", *data, "-p", "mask_pii", "True"),
        "bad": ("06_user_mapping.ipynb", *data, "-r", "mask_pii", "maybe"),
        "yaml": (
            "07_sync_dry_run.ipynb",
            *("-r", "out_dir", str(done), *data),
            *("-y", "what_if: {allow_multiple_prospects_same_email: true}"),
        ),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            k: pool.submit(_papermill, job[0], root / f"{k}.ipynb", *job[1:])
            for k, job in jobs.items()
        }
    return org, done, root, {k: f.result() for k, f in futures.items()}


def _emails(org: Path) -> list[str]:
    import pandas as pd

    frame = pd.read_csv(org / "prospects.csv", dtype="str", keep_default_na=False)
    col = next(c for c in frame.columns if c.strip().lower() == "email")
    return [e for e in frame[col] if "@" in e]


@pytest.mark.parametrize("key", ["p_false", "r_false"])
def test_mask_pii_false_leaves_emails_shown_whether_given_with_p_or_r(runs, key):
    org, _, root, results = runs
    assert results[key].returncode == 0, results[key].stderr[-2000:]
    page = _html(root / f"{key}.ipynb")
    assert any(e in page for e in _emails(org))


def test_mask_pii_true_masks_the_tables(runs):
    org, _, root, results = runs
    assert results["p_true"].returncode == 0, results["p_true"].stderr[-2000:]
    page = _html(root / "p_true.ipynb")
    assert "***@" in page and not any(e in page for e in _emails(org))


def test_a_wrong_type_stops_the_first_cell_with_a_clear_message(runs):
    _, _, root, results = runs
    assert results["bad"].returncode != 0
    nb = nbformat.read(root / "bad.ipynb", as_version=4)
    errors = [
        (i, o)
        for i, c in enumerate(nb.cells)
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    index, error = errors[0]
    assert "params.apply" in nb.cells[index].source  # the first cell after the parameters
    assert error["ename"] == "ParameterError"
    assert "mask_pii" in error["evalue"] and "-p NAME true|false" in error["evalue"]


def test_yaml_dict_and_a_finished_run_read_without_recomputing(runs):
    _, done, root, results = runs
    assert results["yaml"].returncode == 0, results["yaml"].stderr[-2000:]
    page = _html(root / "yaml.ipynb")
    assert "read from the finished run" in page and str(done) in page
    assert "Allow multiple prospects same email = Yes" in page  # the -y dict arrived as a dict


def test_an_executed_notebook_exports_offline_with_every_widget_shown(runs):
    from assessment.ui.export import external_references, offline_html

    _, _, root, results = runs
    nb = nbformat.read(root / "p_false.ipynb", as_version=4)
    page = offline_html(nb)
    assert not external_references(page) and "<script" not in page.lower()
    for text in ("Org folder", "Filter:", "Rule that decided", "DUP001"):
        assert text in page
