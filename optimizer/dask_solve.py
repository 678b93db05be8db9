"""Where the independent models of one run are solved: a local process pool, a Dask cluster, or one
by one.

A run's models (one per stage and independent part) share nothing, so they can go anywhere:

- ``xuewei run --dask ADDRESS`` hands them to a Dask cluster as tasks (a provincial department's
  100+ counties on many machines);
- a run that is itself a Dask task (a variant of ``xuewei batch --dask``) sends its models to the
  same cluster through `distributed.worker_client`, so a batch and one large run share the cluster.
  A Dask worker process is daemonic and may not start a process pool of its own ("daemonic
  processes are not allowed to have children"), so the local pool is never tried there;
- any other daemonic process (a worker of someone else's ``multiprocessing.Pool``) solves the models
  one by one, and says so;
- otherwise the local process pool of `xuewei.optimizer.layout` is used.

In reproducible mode each model stops by its node limit with one thread and a fixed seed, so where
it was solved never changes the answer: the tables are the same on a Dask cluster as in the pool.
"""

from __future__ import annotations

import multiprocessing
import sys
import uuid
from contextlib import contextmanager


def running_in_dask_worker() -> bool:
    """True inside a task of a Dask worker (only checked when `distributed` is already imported)."""
    if "distributed" not in sys.modules:
        return False
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


def may_start_processes() -> bool:
    """A daemonic process (a Dask worker, a `multiprocessing.Pool` worker) may not have children."""
    return not multiprocessing.current_process().daemon


def can_start_pool() -> bool:
    """May this process start a local process pool? Not a daemonic process, and not a task of a Dask
    worker (even a threaded one: forking a process that runs Dask's threads is unsafe)."""
    return may_start_processes() and not running_in_dask_worker()


def cluster_slots(client) -> int:
    """Worker threads of the cluster behind ``client`` (at least 1)."""
    try:
        return max(1, int(sum(client.nthreads().values())))
    except Exception:  # noqa: BLE001 - a scheduler that does not say: one slot
        return 1


@contextmanager
def task_client(client=None):
    """Yield a client for submitting models: ``client`` itself, or, inside a Dask task, a client of
    the worker's own cluster (the calling task secedes from the worker's thread pool while it waits,
    so the models can run on that worker too)."""
    if client is not None:
        yield client
        return
    from distributed import worker_client

    with worker_client() as wc:
        yield wc


def solve_on_dask(client, solve, jobs: dict[int, tuple], sizes: dict[int, float], progress=None,
                  describe=None, on_model=None) -> dict[int, tuple]:
    """Run ``solve(*jobs[i])`` for every ``i`` as Dask tasks, largest first; results by ``i``.

    Parameters
    ----------
    client : distributed.Client
    solve : callable
        Picklable function (module level) that solves one model.
    jobs : dict
        ``{index: args}``.
    sizes : dict
        ``{index: size}`` used as task priority (larger first) [pairs].
    progress : callable, optional
        ``progress(message)`` after each finished model large enough to mention.
    describe : callable, optional
        ``describe(index) -> str`` for messages.
    on_model : callable, optional
        ``on_model(done, total, summary)`` after each finished model (``summary``: the second item of
        its result, the solver summary), for the live progress display.

    A model that fails cancels the others and its error is raised here (Dask re-raises the task's
    own exception, with its fields).
    """
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]
    total = sum(sizes.values()) or 1.0
    futures = {}
    for i in sorted(jobs, key=lambda j: -sizes[j]):
        fut = client.submit(solve, *jobs[i], key=f"xuewei-model-{token}-{i}", pure=False,
                            priority=int(sizes[i]))
        futures[fut] = i
    out: dict[int, tuple] = {}
    try:
        for fut in as_completed(list(futures)):
            i = futures[fut]
            out[i] = fut.result()
            if on_model:
                on_model(len(out), len(futures), out[i][1])
            if progress and describe and sizes[i] >= 0.05 * total:
                progress("已解：" + describe(i))
    except BaseException:
        client.cancel(list(futures))
        raise
    return out
