"""A run folder written atomically: everything goes to a hidden sibling, renamed into place on success.

An interrupted or failed run (exception, Ctrl-C, SIGTERM) leaves no half folder behind, and an
existing folder is never overwritten unless ``force`` is given.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from xuewei.errors import InputError, Problem

_UNSAFE = re.compile(r"[^\w\-.\u4e00-\u9fff]+")


_RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{i}" for d in ("com", "lpt") for i in range(1, 10)}


def safe_name(text: str) -> str:
    """A file/folder name from user text: no separators, no leading dots, no control characters, and
    not a name Windows reserves (CON, NUL, COM1, ...), so a run folder made from it can be copied there."""
    name = _UNSAFE.sub("_", str(text)).strip("._")[:80].strip("._") or "run"
    if name.split(".")[0].lower() in _RESERVED:
        name = "_" + name
    return name


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Tidy CSV, UTF-8 with BOM so Excel shows Chinese correctly, stable float formatting."""
    df.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.6g", lineterminator="\n")


def write_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False, default=str) + "\n",
                    encoding="utf-8")


class _Terminated(BaseException):
    """SIGTERM turned into an exception so the temporary folder is removed."""


@contextmanager
def atomic_run_folder(target: Path, force: bool = False):
    """Yield a temporary folder; on success it becomes ``target``. On any failure it is deleted."""
    target = Path(target)
    if target.exists() and not force:
        raise InputError(Problem(file=str(target), expected="尚不存在的输出文件夹", found="已存在",
                                 hint="换一个 --out，或加 --force 覆盖。"))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))

    def on_term(signum, frame):
        raise _Terminated()

    previous = signal.getsignal(signal.SIGTERM)
    in_main = True
    try:
        signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread (e.g. a batch worker): the caller cleans up
        in_main = False
    try:
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except _Terminated:
        shutil.rmtree(tmp, ignore_errors=True)
        raise KeyboardInterrupt from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def stop_workers_on_interrupt():
    """While a command runs, Ctrl-C (SIGINT) or ``kill`` (SIGTERM) kills its worker processes (the
    parallel solver pool) at once and raises `KeyboardInterrupt` in the main process.

    Without this, SIGTERM ends the main process but leaves its solver workers running as orphans,
    and Ctrl-C waits for every running solve to reach its time limit before the command stops.
    Workers hold no output (the run folder is written by the main process), so killing them is safe.
    """
    def on_signal(signum, frame):
        for child in multiprocessing.active_children():
            child.kill()
        raise KeyboardInterrupt

    previous = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    except ValueError:  # not the main thread: leave signals alone
        previous = {}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
