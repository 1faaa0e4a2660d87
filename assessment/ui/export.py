"""Export an executed notebook to HTML that opens offline: static copies of widgets, no scripts.

nbconvert's default HTML prefers a widget's view (which needs the widget manager and require.js
from a CDN) and loads MathJax and mermaid from the internet (PITFALLS: nbconvert and offline
HTML). Here widget outputs show the ``text/html`` copy every workbench widget leaves, and every
script and remote stylesheet is dropped.

    python -m assessment.ui.export executed.ipynb executed.html
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from traitlets.config import Config

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PRIORITY = ["text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg", "text/plain"]
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)
_REMOTE_LINK = re.compile(r"<link\b[^>]*href\s*=\s*[\"']?https?://[^>]*>", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+(url\([^)]*\)|[\"'][^\"']*[\"'])\s*;?", re.IGNORECASE)
_EXTERNAL = re.compile(
    r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?\s*(https?:)?//", re.IGNORECASE
)


def external_references(text: str) -> list[str]:
    """Tags that would load a file from the internet (should be none)."""
    return [m.group(0) for m in _EXTERNAL.finditer(text)] + re.findall(
        r"url\(\s*[\"']?https?://[^)]*\)", text
    )


def static_outputs(nb):
    """NB with widget views dropped where a static copy exists (and the saved widget state)."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                data.pop(WIDGET_VIEW)
    return nb


def offline_html(nb) -> str:
    """The executed notebook NB as one HTML page that loads nothing from the internet."""
    from nbconvert import HTMLExporter

    config = Config({"NbConvertBase": {"display_data_priority": PRIORITY}})
    exporter = HTMLExporter(config=config, template_name="lab")
    body, _ = exporter.from_notebook_node(static_outputs(nb))
    body = _CSS_IMPORT.sub("", _REMOTE_LINK.sub("", _SCRIPT.sub("", body)))
    left = external_references(body)
    if left:
        raise ValueError(f"the exported page still loads from the internet: {left[:3]}")
    return body


def main(argv: list[str] | None = None) -> int:
    """``python -m assessment.ui.export IN.ipynb OUT.html``."""
    import nbformat

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m assessment.ui.export EXECUTED.ipynb OUT.html", file=sys.stderr)
        return 2
    nb = nbformat.read(args[0], as_version=4)
    Path(args[1]).write_text(offline_html(nb), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
