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


def _module_name(path: Path) -> str:
    parts = ("assessment", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _load_time_imports(path: Path, modules: set[str]) -> set[str]:
    """The package modules PATH imports when it is loaded (top level, not TYPE_CHECKING)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                break  # a statement that defines a function: its body runs later
            if isinstance(sub, ast.Import):
                found |= {a.name for a in sub.names if a.name in modules}
            elif isinstance(sub, ast.ImportFrom):
                base = sub.module or ""
                if sub.level:
                    anchor = package.rsplit(".", sub.level - 1)[0] if sub.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in sub.names:
                    target = f"{base}.{alias.name}"
                    found.add(target if target in modules else base)
    return {m for m in found if m in modules and m != name}


def test_no_import_cycle_at_load_time():
    # Modules import one another in one direction (core -> edges); a cycle at load time makes
    # import order matter and hides layering mistakes. Deferred imports inside functions are
    # allowed (they say where a module reaches out on purpose).
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _load_time_imports(p, modules) for p in paths}
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(trail[trail.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles
