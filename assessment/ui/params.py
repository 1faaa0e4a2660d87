"""Typed notebook parameters: papermill's values coerced to the types of the parameters cell.

papermill's ``-p`` converts text (``-p mask_pii False`` → ``False``, ``-p org_id 00123`` → ``123``),
``-r`` keeps it raw (``-r mask_pii False`` → the truthy string ``"False"``) and ``-y`` parses YAML
(PITFALLS.md, papermill). The first cell after the parameters calls :func:`apply`, which coerces
every parameter to the type annotated in the parameters cell, or stops with a message naming the
parameter, the value, and the papermill option that passes it right.
"""

from __future__ import annotations

import html
from typing import Any

import yaml

from ..errors import AssessmentError

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}
_HINT = {
    bool: "pass it with -p NAME true|false (or -r NAME true|false)",
    int: "pass it with -p NAME 12",
    float: "pass it with -p NAME 1.5",
    dict: "pass it with -y 'NAME: {key: value}' or a YAML file (-f)",
    list: "pass it with -y 'NAME: [a, b]' or a YAML file (-f)",
    str: "pass it with -r NAME VALUE (keeps ids such as 00123 as text)",
}
# Parameters every notebook may have, with their types (used when the cell has no annotation).
TYPES: dict[str, type] = {
    "data_dir": str,
    "settings_file": str,
    "out_dir": str,
    "orgs_root": str,
    "mask_pii": bool,
    "what_if": dict,
    "record": str,
}


class ParameterError(AssessmentError):
    """A notebook parameter of the wrong type (names the parameter and how to pass it)."""


def _fail(name: str, value: Any, kind: type, why: str = "") -> ParameterError:
    expected = {bool: "true or false", dict: "a mapping", list: "a list"}.get(kind, kind.__name__)
    return ParameterError(
        f"parameter {name!r} is {value!r} ({type(value).__name__}); expected {expected}"
        f"{': ' + why if why else ''}; {_HINT.get(kind, '')}"
    )


def _yaml(name: str, value: str, kind: type) -> Any:
    if len(value) > 100_000:
        raise _fail(name, value[:40] + "…", kind, "too long")
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        raise _fail(name, value, kind, "not valid YAML") from None


def coerce(name: str, value: Any, kind: type | str) -> Any:
    """VALUE as KIND (bool, int, float, str, dict, list), or a ParameterError saying how to pass it."""
    if isinstance(kind, str):  # an annotation kept as text (from __future__ import annotations)
        kind = {"bool": bool, "int": int, "float": float, "str": str, "dict": dict}.get(
            kind.split("[")[0].split("|")[0].strip(), str
        )
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise _fail(name, value, bool)
    if kind in (int, float):
        if isinstance(value, bool):
            raise _fail(name, value, kind)
        try:
            return kind(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise _fail(name, value, kind) from None
    if kind in (dict, list):
        if value is None or value == "":
            return kind()
        parsed = _yaml(name, value, kind) if isinstance(value, str) else value
        if isinstance(parsed, kind):
            return parsed
        raise _fail(name, value, kind)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise _fail(name, value, str, "papermill -p turned it into a number or other value")


def coerce_all(values: dict, types: dict | None = None) -> dict:
    """Every known parameter of VALUES coerced to its type (TYPES, overridden by TYPES given)."""
    kinds = {**TYPES, **(types or {})}
    return {
        name: coerce(name, values[name], kind) for name, kind in kinds.items() if name in values
    }


class Parameters(dict):
    """The parameters in force, shown as a small table (a static record of the run)."""

    def _repr_html_(self) -> str:
        shown = {k: repr(v) for k, v in self.items()}
        if self.get("mask_pii"):  # a record parameter may be an email
            from .views import masked_text

            shown = {k: masked_text(v, True) for k, v in shown.items()}
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td><code>{html.escape(v)}</code></td></tr>"
            for k, v in shown.items()
        )
        return f"<table class='rr-table rr-kv'><caption>Parameters</caption>{rows}</table>"


def apply(namespace: dict) -> Parameters:
    """Coerce the notebook's parameters in place, typed by the parameters cell's annotations."""
    annotations = namespace.get("__annotations__") or {}
    coerced = coerce_all(namespace, annotations)
    namespace.update(coerced)
    return Parameters(coerced)
