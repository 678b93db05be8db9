"""A run folder written atomically: everything goes to a hidden sibling, renamed into place on success.

An interrupted or failed run (exception, Ctrl-C, SIGTERM) leaves no half folder behind, and an
existing folder is never overwritten unless ``force`` is given.
"""

from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from xuewei.errors import DiskFullError, InputError, Problem

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


DISK_FULL_ERRNOS = {errno.ENOSPC} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())


def is_disk_full(err: BaseException) -> bool:
    """An `OSError` (or one it wraps) that says the disk or the user's quota is full."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in DISK_FULL_ERRNOS:
            return True
        err = err.__cause__ or err.__context__
    return False


def free_bytes(folder: Path) -> int | None:
    """Free bytes on the disk of ``folder`` (its nearest existing ancestor), or ``None`` if unknown."""
    folder = Path(folder).absolute()
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def refuse_existing(target: Path, force: bool) -> None:
    """An existing output folder is refused (exit 2) unless ``force``."""
    if Path(target).exists() and not force:
        raise InputError(Problem(file=str(target), expected="尚不存在的输出文件夹", found="已存在",
                                 hint="换一个 --out，或加 --force 覆盖。"))


def _lock_path(target: Path) -> Path:
    # The lock lives in the system's temporary folder, not beside the output: a run killed outright
    # leaves nothing in the user's folder (the operating system releases the lock itself).
    key = hashlib.sha256(str(Path(target).absolute()).encode("utf-8")).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / "xuewei-locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.lock"


def _try_lock(fh) -> bool:
    try:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextmanager
def claim_output(target: Path, force: bool = False, need_bytes: int | None = None):
    """Claim an output folder at the start of a command, before anything is read or solved.

    - an existing ``target`` is refused at once (exit 2) unless ``force``;
    - a lock (an operating-system file lock, released even when the process is killed) keeps a
      second command from writing the same folder at the same time: it is refused at once, naming
      the other run;
    - with ``need_bytes``, a disk with less room than that is refused at once
      (`xuewei.errors.DiskFullError`, exit 4), before the solve.
    """
    target = Path(target)
    refuse_existing(target, force)
    path = _lock_path(target)
    fh = open(path, "a+", encoding="utf-8")
    try:
        if not _try_lock(fh):
            fh.seek(0)
            other = fh.read().strip() or "另一个进程"
            raise InputError(Problem(file=str(target), expected="没有其他运行正在写入的输出文件夹",
                                     found=f"另一个运行正在写入（{other}）",
                                     hint="等那个运行结束，或换一个 --out。"))
        fh.seek(0)
        fh.truncate()
        fh.write(f"进程 {os.getpid()}，开始于 {time.strftime('%Y-%m-%d %H:%M:%S')}")
        fh.flush()
        refuse_existing(target, force)  # created between the first look and the lock
        if need_bytes is not None:
            free = free_bytes(target.parent)
            if free is not None and free < need_bytes:
                raise DiskFullError(target.parent, free, need_bytes, before=True)
        yield
    finally:
        fh.close()


def estimate_run_bytes(n_townships: int, n_nodes: int, n_years: int, maps: bool = True) -> int:
    """Rough size of a run folder [bytes], for the free-space check before a solve: tables and
    report about 3 MB, demand.csv about 50 bytes a row (village × stage × year × variant), and about
    1 MB of map sheets (PNG and PDF) per township. Measured on the demo and on generated regions;
    a lower estimate, so a run is not refused on a disk that would have held it."""
    size = 3_000_000 + 50 * n_nodes * 4 * max(1, n_years) * 3
    if maps:
        size += 1_000_000 * (n_townships + 2)
    return int(size)


@contextmanager
def atomic_run_folder(target: Path, force: bool = False):
    """Yield a temporary folder; on success it becomes ``target``. On any failure it is deleted.

    A full disk while writing ends as `xuewei.errors.DiskFullError` (exit 4) naming the folder."""
    target = Path(target)
    refuse_existing(target, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as err:
        if is_disk_full(err):
            raise DiskFullError(target.parent, free_bytes(target.parent)) from None
        raise

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
        if target.exists() and not force:  # made by someone else while this run worked
            refuse_existing(target, force)
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
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_disk_full(err) and not isinstance(err, DiskFullError):
            raise DiskFullError(target.parent, free_bytes(target.parent)) from None
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
