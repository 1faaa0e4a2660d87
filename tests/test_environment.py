"""environment.yml stays consistent with pyproject.toml (the single source of dependencies)."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_installs_the_package_from_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python == [f"python{pyproject['project']['requires-python']}"]
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    # The package from this folder, within the pinned versions make installs (requirements.lock).
    assert pip == [{"pip": ["-c requirements.lock", "-e .[test]"]}], (
        "environment.yml must install the package within the lock, not list deps"
    )
    assert (ROOT / "requirements.lock").is_file()


def test_required_packages_are_declared():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = {
        d.split(">")[0].split("=")[0].split("<")[0].strip().lower()
        for d in pyproject["project"]["dependencies"]
        + pyproject["project"]["optional-dependencies"]["test"]
    }
    for required in [
        "jupyterlab",
        "pandas",
        "ipywidgets",
        "papermill",
        "nbval",
        "pyarrow",
        "pandera",
        "pydantic",  # settings.py's typed model
        "tqdm",  # progress bars (core and notebooks)
    ]:
        assert required in names
