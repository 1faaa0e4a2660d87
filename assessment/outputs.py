"""The output folder (contract §2): the user's folder, written atomically, with a manifest.

``--out`` is the toolkit's own folder: a run replaces what an earlier run wrote there and never
deletes (or overwrites) a file it did not write. A run builds every file in a staging folder
inside OUT_DIR (``.assessment-staging-*``, so temporary files never leave the folder the user
named), then :func:`publish` moves each finished file into place with ``os.replace`` (same
folder tree, so each rename is atomic), removes the files the previous run wrote that this run
did not produce (a stale action file), and records what it wrote in ``.assessment-manifest.json``.
A run that fails before publishing leaves the previous result exactly as it was, and the staging
folder is removed on success and on failure alike.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from .errors import InputError

MANIFEST = ".assessment-manifest.json"
STAGING_PREFIX = ".assessment-staging-"
# What a run writes at fixed names (contract §3); checked before the analysis so that a clash
# with the user's own file is reported at once.
FIXED_OUTPUTS = (
    "readiness.json",
    "report.html",
    "report.ipynb",
    "outcomes/prospects.csv",
    "outcomes/salesforce.csv",
    "outcomes/fields.csv",
)
# A folder written before manifests existed (it holds readiness.json but no manifest): the
# toolkit then wrote the whole folder, so its fixed outputs and the CSVs below these are its own.
LEGACY_FOLDERS = ("outcomes", "actions")
LEGACY_FILES = ("plan.csv",)  # root files other parts of the toolkit write (plan helper, #18)


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write text (UTF-8, as given) to a temporary file beside ``path``, then rename it into place:
    a reader never sees half a file, and a failure leaves no temporary file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_out_dir(out_dir: Path) -> None:
    """Refuse an OUT_DIR that is (or lies below) a file: exit 2 with a clear message."""
    for path in (out_dir, *out_dir.parents):
        if path.exists() and not path.is_dir():
            raise InputError(
                "--out must name a folder (it is created if absent), "
                f"but {path} is a file; choose another output folder",
                file=str(out_dir),
            )


def _relative(name: str) -> str | None:
    """A manifest entry as a safe relative POSIX path inside the folder, else None."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        return None
    return path.as_posix()


def previous_files(out_dir: Path) -> set[str]:
    """The files (relative paths) an earlier run wrote in OUT_DIR, from its manifest."""
    manifest = out_dir / MANIFEST
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            names = data.get("files", []) if isinstance(data, dict) else []
        except (OSError, ValueError, RecursionError):
            names = []
        return {rel for rel in map(_relative, names) if rel}
    if not (out_dir / "readiness.json").is_file():
        return set()
    found = {name for name in FIXED_OUTPUTS + LEGACY_FILES if (out_dir / name).is_file()}
    for folder in LEGACY_FOLDERS:
        if (out_dir / folder).is_dir():
            found |= {
                p.relative_to(out_dir).as_posix()
                for p in (out_dir / folder).rglob("*.csv")
                if p.is_file()
            }
    return found


def _clashes(out_dir: Path, names, previous: set[str]) -> list[str]:
    """Names the run would write over a file (or folder) it did not write, or outside OUT_DIR."""
    root = out_dir.resolve()
    bad = []
    for rel in names:
        dest = out_dir / rel
        outside = root not in dest.resolve().parents
        if outside or ((dest.exists() or dest.is_symlink()) and rel not in previous):
            bad.append(rel)
    return bad


def _refuse(out_dir: Path, clashes: list[str]) -> InputError:
    shown = ", ".join(clashes[:5]) + (f" and {len(clashes) - 5} more" if len(clashes) > 5 else "")
    return InputError(
        f"the output folder holds {shown}, not written by this toolkit; the run would replace "
        "it. Move it away or choose another output folder",
        file=str(out_dir),
    )


def check_fixed_outputs(out_dir: Path) -> None:
    """Before the analysis: refuse early when a user's file stands at a fixed output name."""
    if out_dir.is_dir():
        clashes = _clashes(out_dir, FIXED_OUTPUTS, previous_files(out_dir))
        if clashes:
            raise _refuse(out_dir, clashes)


def _make_dirs(path: Path) -> list[Path]:
    """Create ``path`` and missing parents; returns the folders created, outermost first."""
    missing = [p for p in (path, *path.parents) if not p.exists()][::-1]
    for folder in missing:
        folder.mkdir(exist_ok=True)
    return missing


STALE_STAGING_SECONDS = 24 * 3600


def _remove_abandoned_staging(out_dir: Path) -> None:
    """Staging folders of runs killed outright (no chance to clean up), a day old or more."""
    now = time.time()
    for folder in out_dir.glob(f"{STAGING_PREFIX}*"):
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _remove_tree(folder: Path, attempts: int = 20) -> None:
    """Remove ``folder``; on Ctrl-C the report's kernel (interrupted too) may still be writing in
    its folder inside it for a moment, so a folder not yet empty is tried again (up to ~1 s)."""
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.05)


@contextmanager
def staging(out_dir: Path) -> Iterator[Path]:
    """A fresh staging folder inside OUT_DIR; removed afterwards, whatever happens.

    On failure, OUT_DIR itself (and the parents this run created) are removed again when empty.
    Staging folders a killed run left behind (a day old or more) are removed first.
    """
    created = _make_dirs(out_dir)
    _remove_abandoned_staging(out_dir)
    stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
    try:
        yield stage
    except BaseException:
        _remove_tree(stage)
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """Hold Ctrl-C while files are renamed into place; raise it once they all are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write_manifest(out_dir: Path, files: list[str], info: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f"{MANIFEST}.", suffix=".tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({**info, "files": files}, handle, indent=1)
            handle.write("\n")
        os.chmod(tmp, _file_mode())
        os.replace(tmp, out_dir / MANIFEST)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_stale(out_dir: Path, stale: set[str]) -> None:
    """Delete files an earlier run wrote that this run did not, and folders they leave empty."""
    root = out_dir.resolve()
    for rel in sorted(stale):
        path = out_dir / rel
        if root not in path.resolve().parents or not (path.is_file() or path.is_symlink()):
            continue
        path.unlink(missing_ok=True)
        for folder in path.parents:
            if folder == out_dir or not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()


def publish(stage: Path, out_dir: Path, info: dict | None = None) -> list[str]:
    """Move every file of ``stage`` into OUT_DIR, drop stale ones, write the manifest.

    Refuses (InputError, nothing changed) when a file to write stands where a file the toolkit
    did not write already is. Returns the relative paths written.
    """
    files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    previous = previous_files(out_dir)
    clashes = _clashes(out_dir, files, previous)
    if clashes:
        raise _refuse(out_dir, clashes)
    mode = _file_mode()
    with _interrupt_deferred():
        for rel in files:
            dest = out_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(stage / rel, mode)
            os.replace(stage / rel, dest)
        _remove_stale(out_dir, previous - set(files))
        _write_manifest(out_dir, files, dict(info or {}))
    return files
