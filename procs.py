"""Worker processes that never outlive the command that started them.

A command that is killed outright (``kill -9``, Task Manager's "End task", a closed terminal, the
kernel's out-of-memory killer) cannot clean up: SIGKILL is not delivered to the process, so
`xuewei.reports.runfolder.stop_workers_on_interrupt` never runs and, before this module, its solver
workers went on solving for minutes as orphans. Every pool this package starts (layout solves, map
sheets, batch variants) therefore runs `guard_worker` in each worker:

- a watchdog thread waits on the parent's sentinel (`multiprocessing.parent_process`, a pipe on
  POSIX and a process handle on Windows, so the same code works on Linux, macOS and Windows) and
  ends the worker, and everything it started, within a moment of the parent's death. HiGHS releases
  the GIL while it solves, so the watchdog runs even in the middle of a solve;
- on Linux the kernel is asked as well (``prctl(PR_SET_PDEATHSIG, SIGKILL)``);
- on POSIX the worker leads a process group of its own, so a CBC process it started (PuLP runs CBC
  as a child program) dies with it.

Dask's own worker processes (``--dask local``) already exit when their parent dies (distributed's
``AsyncProcess`` watches a pipe to the parent).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1


def _die_with_parent_linux() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not glibc/musl: the watchdog thread still works
        pass


def _end_everything() -> None:
    """End this worker and its own children (its process group on POSIX)."""
    if os.name == "posix":
        try:
            if os.getpgrp() == os.getpid():
                os.killpg(os.getpid(), signal.SIGKILL)
        except OSError:
            pass
    os._exit(1)


def _watch(sentinel) -> None:
    from multiprocessing.connection import wait

    wait([sentinel])  # returns when the parent is gone
    _end_everything()


def guard_worker(ignore_sigint: bool = True) -> None:
    """Initializer of a pool worker: die with the parent process, whatever killed the parent.

    Parameters
    ----------
    ignore_sigint : bool
        Ignore Ctrl-C in the worker (the parent handles it and kills the workers itself).
    """
    if ignore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None:  # not a multiprocessing child: nothing to watch
        return
    if sys.platform.startswith("linux"):
        _die_with_parent_linux()
    if os.name == "posix":
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
    if not parent.is_alive():  # the parent died while this worker was starting
        _end_everything()
    threading.Thread(target=_watch, args=(parent.sentinel,), name="xuewei-parent-watch", daemon=True).start()
