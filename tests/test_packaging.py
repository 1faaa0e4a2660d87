"""Packaging: the report notebook ships inside the package (contract §2: a plain install reports)."""

from pathlib import Path

from assessment import report

ROOT = Path(__file__).resolve().parents[1]
REPO_COPY = ROOT / "notebooks" / "08_readiness_report.ipynb"


def test_report_notebook_is_found_through_the_package():
    packaged = report.REPORT_NOTEBOOK
    assert packaged.exists()
    assert Path(report.__file__).resolve().parents[1] in packaged.resolve().parents
    assert ROOT / "notebooks" not in packaged.resolve().parents


def test_repository_notebook_is_the_packaged_one():
    # Edit either, then copy it over the other:
    #   cp notebooks/08_readiness_report.ipynb assessment/templates/08_readiness_report.ipynb
    assert REPO_COPY.read_bytes() == report.REPORT_NOTEBOOK.read_bytes(), (
        "notebooks/08_readiness_report.ipynb and assessment/templates/08_readiness_report.ipynb "
        "differ: copy the one you edited over the other"
    )
