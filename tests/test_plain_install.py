"""A plain (non-editable) install works from any folder (issue #9.6).

Builds a wheel from a copy of the sources, installs it (within requirements.lock's pins) into a new
virtual environment outside the repository, and runs the sample org from a folder that is not the
repository: the report must be written, so the notebook and templates ship as package data. Slow
(a fresh environment: about 1-3 minutes with a warm pip cache); `make test` runs it,
`pytest -m "not slow"` skips it.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _run(*args, cwd, timeout=900):
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE.exists(), reason="sample org not generated yet")
def test_wheel_in_a_fresh_environment_writes_the_report(tmp_path):
    src = tmp_path / "src"  # build from a copy: a build writes build/ beside the sources
    src.mkdir()
    shutil.copytree(
        ROOT / "assessment", src / "assessment", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", wheels, "./src", cwd=tmp_path)
    wheel = next(wheels.glob("*.whl"))

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    install = _run(
        python, "-m", "pip", "install", "-c", ROOT / "requirements.lock", wheel, cwd=tmp_path
    )
    assert "license" not in install.stderr.lower()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(python, "-c", "import assessment; print(assessment.__file__)", cwd=elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(venv)
    _run(python, "-m", "assessment", "run", SAMPLE, "--out", "OUT", cwd=elsewhere)
    out = elsewhere / "OUT"
    assert (out / "readiness.json").exists()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<html" in page.lower() and len(page) > 10_000
    assert sorted(p.name for p in elsewhere.iterdir()) == ["OUT"]
