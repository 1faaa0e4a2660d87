"""A tiny progress abstraction: a widget in Jupyter, a text bar on a terminal, silence in batch.

The core never imports UI code at module level; the widget is created inside :func:`auto`.
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


class TextBar:
    """A one-line bar redrawn on a stream (stderr by default)."""

    def __init__(self, stream=None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.total = 0
        self.count = 0
        self.label = ""

    def _draw(self, label: str) -> None:
        filled = int(self.width * self.count / self.total) if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.count}/{self.total} {label[:50]:<50}")
        self.stream.flush()

    def start(self, total: int, label: str = "") -> None:
        """Begin a task of ``total`` steps and draw the empty bar."""
        self.total, self.count = max(int(total), 0), 0
        self._draw(label)

    def step(self, label: str = "") -> None:
        """Advance the bar by one step."""
        self.count = min(self.count + 1, self.total) if self.total else self.count + 1
        self._draw(label)

    def done(self) -> None:
        """Finish the line."""
        self.stream.write("\n")
        self.stream.flush()


class WidgetBar:
    """An ipywidgets IntProgress shown in the running notebook."""

    def __init__(self) -> None:
        import ipywidgets  # UI import stays inside (core imports no UI at module level)
        from IPython.display import display

        self._bar = ipywidgets.IntProgress(value=0, min=0, max=1, description="Loading")
        self._label = ipywidgets.Label("")
        display(ipywidgets.HBox([self._bar, self._label]))

    def start(self, total: int, label: str = "") -> None:
        """Begin a task of ``total`` steps."""
        self._bar.max = max(int(total), 1)
        self._bar.value = 0
        self._label.value = label

    def step(self, label: str = "") -> None:
        """Advance the bar by one step."""
        self._bar.value = min(self._bar.value + 1, self._bar.max)
        self._label.value = label

    def done(self) -> None:
        """Mark the bar complete."""
        self._bar.value = self._bar.max
        self._bar.bar_style = "success"


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
    """The right progress display for where we run: widget, text bar on a TTY, or silent."""
    if in_jupyter_kernel():
        try:
            return WidgetBar()
        except Exception:  # widgets unavailable in this kernel: fall back to silence
            return Silent()
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return TextBar(stream)
    return Silent()


def resolve(progress: Progress | bool | None) -> Progress:
    """``None`` → :func:`auto`; ``False`` → silent; ``True`` → text bar; an object → itself."""
    if progress is None:
        return auto()
    if progress is False:
        return Silent()
    if progress is True:
        return TextBar()
    return progress
