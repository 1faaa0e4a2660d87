"""HTML from templates (jinja2, autoescape) and the report files of an output folder.

:func:`render_html` lays out a :class:`~assessment.report.data.ReportData` with the templates in
``assessment/templates/report`` (package data). :func:`section` renders one partial for a
notebook cell or the batch index. :func:`render_report` writes ``report.ipynb`` (notebook 08
executed on the folder) and ``report.html``; the kernel talks over IPC sockets kept inside the
output folder, so no "running over TCP without encryption" warning and no file outside it.
"""

from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ReportError
from ..outputs import write_text_atomic
from .data import ReportData, load

REPORT_NOTEBOOK = Path(
    str(resources.files("assessment").joinpath("templates", "08_readiness_report.ipynb"))
)
SECTIONS = {  # name → partial; the notebook and the batch index use these names
    "first_screen": "_first_screen.html.j2",
    "baseline": "_baseline.html.j2",
    "cross_unit": "_cross_unit.html.j2",
    "plan": "_plan.html.j2",
    "contents": "_contents.html.j2",
    "sync": "_sync.html.j2",
    "fields": "_fields.html.j2",
    "appendix": "_appendix.html.j2",
}
_SOCKET_PATH_MAX = 100  # AF_UNIX paths are limited to ~107 bytes; keep room for "-<port>"


@lru_cache(maxsize=1)
def environment():
    """The jinja2 environment of the report templates (autoescape on for every template)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("assessment", "templates/report"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Html(str):
    """Rendered, escaped HTML that Jupyter displays as rich output."""

    def _repr_html_(self) -> str:
        return str(self)


def render_html(data: ReportData) -> str:
    """The whole report page: self-contained, no script, no external reference."""
    text = environment().get_template("report.html.j2").render(d=data)
    left = external_references(text)
    if left:
        raise ReportError(f"the report would reference external files: {left[:3]}")
    return text


def section(data: ReportData | None, name: str, area: str | None = None) -> Html:
    """One section (``SECTIONS`` name, or ``"area"`` with its code) as HTML; empty without data."""
    if data is None:
        return Html("")
    tpl = environment().get_template("section.html.j2")
    css = scoped_css()
    if name == "area":
        found = next((a for a in data.areas if a["key"] == area), None)
        if found is None:
            return Html("")
        return Html(tpl.render(d=data, area=found, css=css))
    if name not in SECTIONS:
        raise ReportError(f"unknown report section {name!r}; known: {', '.join(SECTIONS)}, area")
    return Html(tpl.render(d=data, area=None, partial=SECTIONS[name], css=css))


@lru_cache(maxsize=1)
def scoped_css() -> str:
    """The report's style limited to ``.readiness-report`` (a notebook page keeps its own look)."""
    import jinja2

    css = environment().loader.get_source(environment(), "_style.css")[0]
    css = css.replace("html{-webkit-text-size-adjust:100%}", "").replace(
        "*{box-sizing", ".readiness-report *{box-sizing"
    )
    css = css.replace("body{", ".readiness-report{").replace("main{", ".readiness-report main{")
    css = re.sub(
        r"(^|})\s*(h1|h2|h3|a|p|table|th,td|th|code|details|summary)\b",
        r"\1.readiness-report \2",
        css,
        flags=re.M,
    )
    return str(jinja2.utils.markupsafe.Markup(css))


def org_summary(data: ReportData, prefix: str = "", linked: bool = True) -> Html:
    """One org as a few lines (verdict, score, top fixes) for the batch index; links get ``prefix``."""
    return Html(render_partial("_org_summary.html.j2", d=data, prefix=prefix, linked=linked))


def render_partial(name: str, **context: Any) -> str:
    """A template of the report folder rendered with any context (the batch index uses it)."""
    return environment().get_template(name).render(**context)


_EXTERNAL = re.compile(
    r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?\s*(https?:)?//", re.IGNORECASE
)


def external_references(text: str) -> list[str]:
    """External script/link/img references and CSS imports left in an HTML page (should be none)."""
    found = [m.group(0) for m in _EXTERNAL.finditer(text)]
    found += [m.group(0) for m in re.finditer(r"url\(\s*[\"']?https?://[^)]*\)", text)]
    found += [m.group(0) for m in re.finditer(r"@import\b[^;]*;?", text)]
    return found


# ------------------------------------------------------------------------ kernel transport
@contextmanager
def kernel_options(folder: Path):
    """papermill/nbclient options for a quiet kernel whose files all live in ``folder``.

    IPC (Unix sockets) where the platform has them and the path fits, so the kernel never warns
    about unencrypted TCP; otherwise TCP with that warning silenced at its source (the kernel's
    log level). The connection file and sockets are removed when the block ends.
    """
    from traitlets.config import Config

    workdir = Path(tempfile.mkdtemp(prefix=".kernel-", dir=folder))
    cfg = Config()
    cfg.KernelManager.connection_file = str(workdir / "kernel.json")
    extra = ["--HistoryManager.enabled=False"]  # no IPython history file outside the folder
    ipc_prefix = str(workdir / "k")
    if hasattr(os, "fork") and len(ipc_prefix.encode()) + 6 <= _SOCKET_PATH_MAX:
        cfg.KernelManager.transport = "ipc"
        cfg.KernelManager.ip = ipc_prefix
    else:
        extra.append("--IPKernelApp.log_level=ERROR")
    log = open(workdir / KERNEL_LOG, "ab")  # noqa: SIM115 (closed below, after the kernel)
    launched: list = []  # the kernels' processes, stopped here if a Ctrl-C left one running
    try:
        yield {
            "config": cfg,
            "extra_arguments": extra,
            "kernel_manager_class": _logged_kernel_manager(log, launched),
        }
    finally:
        _stop_kernels(launched)
        log.close()
        for p in workdir.glob("*"):
            p.unlink(missing_ok=True)
        workdir.rmdir() if workdir.exists() and not any(workdir.iterdir()) else None


KERNEL_LOG = "kernel.log"


def _stop_kernels(processes: list) -> None:
    """Kill kernels still running (a Ctrl-C during start or run skips papermill's shutdown): in
    their own session they would go on writing in the staging folder being removed."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.kill()
            try:
                process.wait(timeout=10)
            except Exception:  # noqa: BLE001 (a kernel that will not die must not hide the Ctrl-C)
                pass


def _logged_kernel_manager(log, launched: list):
    """A kernel manager whose kernel writes its own log (stderr) to LOG, not to the console.

    The kernel runs in its own session, so a Ctrl-C reaches only the run, which then removes its
    staging folder (the kernel's cwd and files); a kernel still starting would print "Current
    working directory doesn't exist" after the run's one-line exit. Cell errors do not go through
    stderr: papermill raises them (_cell_error). ``_async_launch_kernel`` is jupyter_client's
    documented hook "to launch kernel subprocesses differently".
    """
    from jupyter_client import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw.setdefault("stderr", log)
            result = await super()._async_launch_kernel(kernel_cmd, **kw)
            launched.append(getattr(self.provisioner, "process", None))
            return result

    return LoggedKernelManager


# ------------------------------------------------------------------------------ render
def _cell_error(exc: Exception, nb_path: Path) -> ReportError:
    """Name the failing cell (index, first line of its source) and the cause."""
    cause = f"{getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', exc)}"
    index = getattr(exc, "cell_index", None)
    source = getattr(exc, "source", None)
    if index is None or source is None:
        return ReportError(f"report notebook failed: {cause}", file=str(nb_path))
    first = (str(source).strip().splitlines() or [""])[0]
    return ReportError(
        f"report notebook cell {index} ({first!r}) failed: {cause}", file=str(nb_path)
    )


def execute_notebook(out_dir: Path, mask_pii: bool, timeout: int, notebook: Path) -> Path:
    """Run notebook 08 on ``out_dir`` into a temporary notebook inside it; returns its path."""
    import papermill as pm

    tmp_nb = out_dir / f".report.{os.getpid()}.ipynb"
    parameters = {"out_dir": str(out_dir), "mask_pii": bool(mask_pii)}
    try:
        with kernel_options(out_dir) as options:
            pm.execute_notebook(
                str(notebook),
                str(tmp_nb),
                parameters=parameters,
                kernel_name="python3",
                execution_timeout=timeout,
                log_output=False,
                progress_bar=False,
                cwd=str(out_dir),
                **options,
            )
    except Exception as exc:  # papermill raises PapermillExecutionError with the cell
        tmp_nb.unlink(missing_ok=True)
        raise _cell_error(exc, tmp_nb) from None
    return tmp_nb


def render_report(
    out_dir,
    data_dir=None,
    settings_file=None,
    mask_pii=False,
    timeout=600,
    notebook: Path | None = None,
) -> Path:
    """Write OUT_DIR/report.ipynb (notebook 08 run on the folder) and OUT_DIR/report.html.

    ``data_dir`` and ``settings_file`` are accepted for the callers' convenience and unused:
    the report reads only the finished output folder.
    """
    out_dir = Path(out_dir).resolve()
    notebook = Path(notebook or REPORT_NOTEBOOK)
    if not notebook.exists():
        raise ReportError("the report notebook is missing", file=str(notebook))
    data = load(out_dir, mask_pii=mask_pii)
    page = render_html(data)
    tmp_nb = execute_notebook(out_dir, mask_pii, timeout, notebook)
    try:
        write_text_atomic(out_dir / "report.html", page)
        os.replace(tmp_nb, out_dir / "report.ipynb")
    finally:
        tmp_nb.unlink(missing_ok=True)
    return out_dir / "report.html"
