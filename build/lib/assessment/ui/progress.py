"""tqdm bars for the notebooks: one bar over the stages (load, simulate, checks), one over the files."""

from __future__ import annotations

from contextlib import contextmanager

from ..progress import Silent


class TqdmFiles:
    """The loader's progress (``start`` / ``step`` / ``done``) drawn as a tqdm bar."""

    def __init__(self) -> None:
        self._bar = None

    def start(self, total: int, label: str = "") -> None:
        """Open a bar of TOTAL files."""
        from tqdm.auto import tqdm

        self._bar = tqdm(total=max(int(total), 0), desc=label or "reading exports", leave=False)

    def step(self, label: str = "") -> None:
        """One file read."""
        if self._bar is not None:
            self._bar.set_postfix_str(str(label)[-40:], refresh=False)
            self._bar.update(1)

    def done(self) -> None:
        """Close the bar."""
        if self._bar is not None:
            self._bar.close()


class Stages:
    """A bar over the stages of one analysis; ``loader()`` gives the file bar for load_org."""

    def __init__(self, name: str, show: bool) -> None:
        self.show = show
        self._bar = None
        if show:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=3, desc=f"{name}: loading the exports", leave=True)

    def loader(self):
        """The progress object load_org reports each file to."""
        return TqdmFiles() if self.show else Silent()

    def next(self, label: str) -> None:
        """The previous stage is done; LABEL names the next."""
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_description_str(label, refresh=True)

    def close(self) -> None:
        """All stages done."""
        if self._bar is not None:
            self._bar.update(self._bar.total - self._bar.n)
            self._bar.set_description_str("analysed", refresh=True)
            self._bar.close()


@contextmanager
def stages(name: str, show: bool = True):
    """A Stages bar that closes however the analysis ends."""
    bar = Stages(name, show)
    try:
        yield bar
    finally:
        bar.close()
