"""``batch --scheduler ADDRESS``: one Dask task per org on an existing distributed cluster.

Worth it for portfolios with many business units or orgs, more than one machine's cores can
assess in good time; one org never needs it (an org runs on one core; ``batch --workers`` already
uses every core of this machine). Dask is an optional extra: ``pip install '.[cluster]'``.

Every worker needs this package installed and must see the org folders and the batch output
folder at the same paths as this machine (a shared file system): the workers write each org's
outputs, this process gathers the results into the one index.
"""

from __future__ import annotations

import uuid

from .errors import InputError

CONNECT_TIMEOUT = 20  # seconds to reach the scheduler before giving up (exit 2)


def _client(address: str, timeout: float):
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError(
            "--scheduler needs Dask distributed: pip install 'pardot-readiness[cluster]'"
        ) from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from None


def run_on_cluster(tasks, runner, address: str, bar, timeout: float = CONNECT_TIMEOUT) -> list:
    """Submit one task per org to the scheduler at ``address``; the OrgRuns in task order.

    A task lost with its worker (killed, out of memory) fails that org only.
    """
    from dask.distributed import as_completed

    from .batch import OrgRun

    with _client(address, timeout) as client:
        run_id = uuid.uuid4().hex[:8]  # keys unique per batch: Dask never reuses a stale result
        keys = [f"assess-org-{run_id}-{i}-{t.name}" for i, t in enumerate(tasks)]
        futures = client.map(runner, tasks, pure=False, key=keys)
        index = {f.key: i for i, f in enumerate(futures)}
        results: dict[int, OrgRun] = {}
        for future in as_completed(futures, loop=client.loop):
            i = index[future.key]
            try:
                results[i] = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker fails its org, not the batch
                name = tasks[i].name
                results[i] = OrgRun(
                    org=name,
                    folder=name,
                    status="failed",
                    exit_class="internal",
                    error=f"the Dask task failed ({type(exc).__name__}: {exc})",
                )
            bar.set_postfix_str(tasks[i].name, refresh=False)
            bar.update(1)
    return [results[i] for i in range(len(tasks))]
