"""Layout rules of the developer guide that a test can hold."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assessment"


def test_no_function_in_the_package_is_longer_than_100_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > 100:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} {lines}")
    assert not long


def test_simulator_steps_fit_on_a_screen():
    # Each rule step of the simulator is a short function of its own (issue #10).
    from assessment.sync.simulate import PROSPECT_STEPS

    for step in PROSPECT_STEPS:
        source = Path(step.__code__.co_filename).read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(source))
        node = next(n for n in ast.walk(tree) if getattr(n, "name", None) == step.__name__)
        assert node.end_lineno - node.lineno + 1 <= 60, step.__name__
