"""How the command asks the operating system for memory (issue #19: speed and memory at scale)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import cache

_PR_SET_THP_DISABLE = 41  # <linux/prctl.h>
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # <malloc.h>
HUGE_PAGES_VARIABLE = "ASSESSMENT_HUGE_PAGES"


@cache
def libc():
    """glibc, or None (macOS, musl, Windows). Found once per process: ``find_library`` runs
    ``ldconfig`` in a subprocess, and the checks release memory after each check."""
    try:
        found = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        found.malloc_trim  # noqa: B018 (AttributeError when not glibc)
    except (OSError, AttributeError):
        return None
    return found


def keep_to_small_pages() -> bool:
    """Ask Linux not to back this process, nor the processes it starts, with transparent huge
    pages (unless ``ASSESSMENT_HUGE_PAGES=1``); True when that took effect."""
    # numpy and pyarrow ask for huge pages on every large array (madvise). Where free memory is
    # fragmented by the page cache, or handed back to a VM's host (free page reporting), each
    # huge page is compacted or faulted in by the kernel while the run waits. Measured on the
    # 2-core VM (benchmarks/bench_command.py): 1.5 GB touched cost 9.4 s of kernel time in huge
    # pages against 0.5-1.3 s in 4 KiB pages; a 2.5M-record run took 16.8-20.0 s with them and
    # 10.7-15.1 s without (user CPU the same), and peaked 0.15 GB lower.
    if os.environ.get(HUGE_PAGES_VARIABLE) == "1" or not sys.platform.startswith("linux"):
        return False
    found = libc()
    if found is None:
        return False
    try:
        return found.prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
    except AttributeError:
        return False


def huge_pages_disabled() -> bool | None:
    """Whether transparent huge pages are off for this process (Linux), else None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("THP_enabled:"):
                    return line.split()[1] == "0"
    except OSError:
        pass
    return None


def reuse_freed_memory() -> bool:
    """Have glibc's malloc keep freed blocks, large ones too, for the next allocation, and give
    memory back only when asked (``load.release_freed_memory``); True when that took effect."""
    # glibc maps each block above 32 MB (its largest mmap threshold) on its own and unmaps it
    # when freed: every 4M-row int64 array of a 10M-record run was fresh memory, faulted in
    # page by page (7.2M page faults, 38 s of kernel time). From the heap they are reused:
    # measured 64-67 s -> 54 s, kernel 38 -> 22 s, peak unchanged (4.9-5.0 GB). The settings
    # belong to this process only; batch workers make the same call when they start.
    found = libc()
    if found is None or not hasattr(found, "mallopt"):
        return False
    no_mmap = found.mallopt(_M_MMAP_MAX, 0) == 1
    keep_top = found.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1
    return no_mmap and keep_top
