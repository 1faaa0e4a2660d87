"""tqdm bars for the notebooks: one bar over the stages (load, simulate, checks), one over the files.

The file bar is the core's :class:`assessment.progress.TqdmBar`; this module only changes how a
bar is shown and closed in a notebook.

In a notebook the bars are tqdm's notebook widgets, shown through a display handle: when a stage
ends, the bar's output is replaced by a line of text, so a saved notebook records what happened
(done, how long) instead of a widget frozen at 0 %.
"""

from __future__ import annotations

import html
import time
from contextlib import contextmanager

from ..progress import Silent, TqdmBar, in_jupyter_kernel


class _Done:
    """The line that replaces a finished bar."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_html_(self) -> str:
        return f"<p class='wb-note'>{html.escape(self.text)}</p>"

    def __repr__(self) -> str:
        return self.text


def _open(total: int, desc: str, leave: bool):
    """A tqdm bar and, in a notebook, the display handle that shows it."""
    if in_jupyter_kernel():
        from IPython.display import display
        from tqdm.notebook import tqdm as notebook_tqdm

        bar = notebook_tqdm(total=total, desc=desc, display=False)
        return bar, display(bar.container, display_id=True)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=leave), None


def _close(bar, handle, text: str) -> None:
    bar.close()
    if handle is not None:
        handle.update(_Done(text))


class TqdmFiles(TqdmBar):
    """The loader's bar (:class:`assessment.progress.TqdmBar`) shown the notebooks' way."""

    def __init__(self) -> None:
        super().__init__(leave=False)
        self._handle = None

    def _open(self, total: int, desc: str):
        bar, self._handle = _open(total, desc, self.leave)
        return bar

    def _close(self) -> None:
        _close(self._bar, self._handle, f"read {self._bar.n} export files")


class Stages:
    """A bar over the stages of one analysis; ``loader()`` gives the file bar for load_org."""

    def __init__(self, name: str, show: bool) -> None:
        self.name = name
        self.show = show
        self.started = time.perf_counter()
        self._bar = self._handle = None
        if show:
            self._bar, self._handle = _open(3, f"{name}: loading the exports", True)

    def loader(self):
        """The progress object load_org reports each file to."""
        return TqdmFiles() if self.show else Silent()

    def next(self, label: str) -> None:
        """The previous stage is done; LABEL names the next."""
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_description_str(f"{self.name}: {label}", refresh=True)

    def close(self, ok: bool = True) -> None:
        """All stages done (or stopped by an error)."""
        if self._bar is not None:
            seconds = time.perf_counter() - self.started
            said = "loaded, simulated and checked" if ok else "stopped"
            if ok:
                self._bar.update(self._bar.total - self._bar.n)
            _close(self._bar, self._handle, f"{self.name}: {said} in {seconds:.1f} s")


@contextmanager
def stages(name: str, show: bool = True):
    """A Stages bar that closes however the analysis ends."""
    bar = Stages(name, show)
    try:
        yield bar
    except BaseException:
        bar.close(ok=False)
        raise
    bar.close()
