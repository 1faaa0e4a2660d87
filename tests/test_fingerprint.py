"""benchmarks/fingerprint.py: equal for two runs of the same org, different when an output changes."""

import importlib.util
import json
from pathlib import Path

import pytest

from assessment.pipeline import assess

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _module():
    spec = importlib.util.spec_from_file_location(
        "fingerprint", ROOT / "benchmarks" / "fingerprint.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample org not generated yet")
def test_fingerprint_covers_every_output_and_ignores_run_details(tmp_path):
    fpm = _module()
    first, times = fpm.fingerprint(SAMPLE)
    assert {"load", "simulate", "checks", "plan"} <= set(times)  # and the output stages
    outputs = first["outputs"]
    assert {"readiness.json", "outcomes/prospects.csv", "outcomes/salesforce.csv"} <= set(outputs)
    assert any(name.startswith("actions/") for name in outputs)

    # A second run elsewhere (another absolute path, another generated_at) gives the same outputs.
    out = tmp_path / "elsewhere" / "run"
    assess(SAMPLE, out, report=False)
    again = fpm.fingerprint_outputs(out, SAMPLE)
    assert again == outputs

    # Any change to a file a user receives shows, and names the file.
    readiness = json.loads((out / "readiness.json").read_text())
    readiness["score"] = readiness["score"] + 1
    (out / "readiness.json").write_text(json.dumps(readiness))
    action = next((out / "actions").glob("*.csv"))
    action.write_text(action.read_text(encoding="utf-8-sig") + '"x"\n', encoding="utf-8-sig")
    changed = fpm.fingerprint_outputs(out, SAMPLE)
    assert changed["readiness.json"]["score"] != outputs["readiness.json"]["score"]
    assert changed["readiness.json"]["checks"] == outputs["readiness.json"]["checks"]
    key = f"actions/{action.name}"
    assert changed[key]["rows"] == outputs[key]["rows"] + 1


def test_fingerprint_command_on_a_folder(tmp_path):
    fpm = _module()
    run = tmp_path / "run"
    (run / "outcomes").mkdir(parents=True)
    (run / "outcomes" / "prospects.csv").write_text(f"a,b\n1,{run}/x\n")
    (run / ".assessment-manifest.json").write_text("{}")
    (run / "report.html").write_text("<html>")
    target = tmp_path / "fp.json"
    fpm.main(["--folder", str(run), str(target)])
    fp = json.loads(target.read_text())["outputs"]
    assert set(fp) == {"outcomes/prospects.csv", "report.html"}
    assert fp["outcomes/prospects.csv"]["rows"] == 1
    other = tmp_path / "other"
    (other / "outcomes").mkdir(parents=True)
    (other / "outcomes" / "prospects.csv").write_text(f"a,b\n1,{other}/x\n")
    assert fpm.fingerprint_outputs(other) == {
        "outcomes/prospects.csv": fp["outcomes/prospects.csv"]
    }
