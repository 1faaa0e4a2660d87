"""Progress of the loader as a ``tqdm.auto`` bar where someone watches, silence everywhere else.

``load_org(progress=...)`` takes ``None`` (choose: a bar in a Jupyter kernel or on a terminal,
silent in batch runs, tests and CI), ``False`` (silent), ``True`` (a bar on stderr) or any object
with ``start`` / ``step`` / ``done``. The bar is tqdm's: ``tqdm.auto`` draws a notebook widget in
a kernel and a text bar elsewhere.

The core imports no UI at module level: tqdm is imported when a bar opens, and only inside a
Jupyter kernel does ``tqdm.auto`` load ipywidgets. ``assessment.ui.progress`` builds on
:class:`TqdmBar` for the notebooks (a finished bar becomes a line of text).
"""

from __future__ import annotations

import sys
from typing import Protocol


class Progress(Protocol):
    """What the loader calls: ``start(total)``, ``step(label)`` per unit of work, ``done()``."""

    def start(self, total: int, label: str = "") -> None:
        """Begin a task of ``total`` steps."""

    def step(self, label: str = "") -> None:
        """One step done; ``label`` says what comes next or what finished."""

    def done(self) -> None:
        """The task is finished."""


class Silent:
    """No output (CI, batch runs, tests)."""

    def start(self, total: int, label: str = "") -> None:
        """Begin a task (nothing shown)."""

    def step(self, label: str = "") -> None:
        """One step done (nothing shown)."""

    def done(self) -> None:
        """Finished (nothing shown)."""


class TqdmBar:
    """``start`` / ``step`` / ``done`` drawn as a ``tqdm.auto`` bar (one per ``start``).

    ``stream``: where a text bar goes (default: stderr when the bar opens); a notebook widget
    ignores it. ``leave``: keep the finished bar on screen.
    """

    def __init__(self, stream=None, leave: bool = True) -> None:
        self.stream = stream
        self.leave = leave
        self._bar = None

    def _open(self, total: int, desc: str):
        from tqdm.auto import tqdm  # here, not at import: in a kernel it loads ipywidgets

        return tqdm(total=total, desc=desc, file=self.stream, leave=self.leave, unit="file")

    def _close(self) -> None:
        self._bar.close()

    def start(self, total: int, label: str = "") -> None:
        """Open a bar of ``total`` steps (closing any bar still open)."""
        if self._bar is not None:
            self.done()
        self._bar = self._open(max(int(total), 0), label or "working")

    def step(self, label: str = "") -> None:
        """Advance the bar by one step; ``label`` (the file just read) shows beside it."""
        if self._bar is not None:
            self._bar.set_postfix_str(str(label)[-40:], refresh=False)
            self._bar.update(1)

    def done(self) -> None:
        """Close the bar."""
        if self._bar is not None:
            self._close()
            self._bar = None


def in_jupyter_kernel() -> bool:
    """True when running inside a Jupyter (ipykernel) kernel."""
    ipython_mod = sys.modules.get("IPython")
    if ipython_mod is None:
        return False
    try:
        shell = ipython_mod.get_ipython()
    except AttributeError:
        return False
    return shell is not None and "ipykernel" in type(shell).__module__ + str(type(shell))


def auto(stream=None) -> Progress:
    """A tqdm bar in a Jupyter kernel or on a terminal (``stream``, default stderr); else silent."""
    if in_jupyter_kernel():
        return TqdmBar()
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return TqdmBar(stream)
    return Silent()


def resolve(progress: Progress | bool | None) -> Progress:
    """``None`` → :func:`auto`; ``False`` → silent; ``True`` → a tqdm bar; an object → itself."""
    if progress is None:
        return auto()
    if progress is False:
        return Silent()
    if progress is True:
        return TqdmBar()
    return progress
