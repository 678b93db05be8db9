"""Run a batch's variants: one function per variant, one submit/as_completed loop for every executor.

`run_variant` is what a worker does: the whole ``xuewei run`` (`xuewei.pipeline.run` then
`xuewei.reports.run_outputs.write_run`) into ``DIR/<variant>``, written atomically, then the
variant's decision numbers read back from that folder. It never raises: a failure comes back as
``{"state": "failed", "error": ...}`` so the other variants go on.

`executor` yields a `concurrent.futures.Executor`: a local `ProcessPoolExecutor` by default, or
a Dask distributed cluster through ``client.get_executor()`` (`xuewei.cluster`: ``local`` starts a
`LocalCluster`, ``tcp://host:port`` connects to a running scheduler). `run_batch` drives either with
the same code. On Dask a variant's own independent models go to the same cluster as tasks
(`xuewei.optimizer.dask_solve`): a Dask worker is daemonic and may not start a pool of its own.
"""

from __future__ import annotations

import json
import os
import socket
import time
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from xuewei.errors import InputError, XueweiError

BATCH_META = "batch.json"


def _describe(err: BaseException) -> str:
    if isinstance(err, XueweiError):
        return str(err)
    return f"{type(err).__name__}: {err}"


def run_variant(name: str, scenario: str, overrides: dict, out_dir: str, key: str, meta: dict | None = None) -> dict:
    """Run one variant into ``out_dir/name`` and return its decision numbers, or its error.

    Parameters
    ----------
    name : str
        Variant name (the run folder's name).
    scenario : str
        Base scenario file.
    overrides : dict
        Nested scenario overrides (`xuewei.batch.spec.Variant.run_overrides`).
    out_dir : str
        The batch's output folder.
    key : str
        ``batch_key``, stored in the run folder's ``batch.json`` so a later batch can skip this variant.
    meta : dict, optional
        Extra fields for ``batch.json`` (overrides as text, source file).

    Returns
    -------
    dict
        ``variant``, ``state`` (``done`` or ``failed``), ``row`` (comparison row), ``error``,
        ``seconds`` [s] and ``worker`` (host:pid).
    """
    from xuewei import pipeline
    from xuewei.batch.compare import failed_row, folder_row
    from xuewei.reports.run_outputs import write_run
    from xuewei.reports.runfolder import atomic_run_folder, write_json

    t0 = time.perf_counter()
    target = Path(out_dir) / name
    meta = dict(meta or {})
    try:
        result = pipeline.run(scenario, overrides)
        with atomic_run_folder(target, force=True) as tmp:
            write_run(result, tmp, target)
            write_json({"variant": name, "batch_key": key, **meta}, tmp / BATCH_META)
        row, state, error = folder_row(target, name), "done", ""
    except Exception as err:  # the per-variant boundary: report it, let the others finish
        from xuewei.errors import DiskFullError
        from xuewei.reports.runfolder import free_bytes, is_disk_full

        disk_full = is_disk_full(err)
        if disk_full and not isinstance(err, DiskFullError):
            err = DiskFullError(Path(out_dir), free_bytes(Path(out_dir)))
        error = _describe(err)
        row = failed_row(name, error, Path(scenario).name, meta.get("overrides_text", ""))
        state = "failed"
        return {"variant": name, "state": state, "row": row, "error": error, "disk_full": disk_full,
                "seconds": time.perf_counter() - t0, "worker": f"{socket.gethostname()}:{os.getpid()}"}
    return {"variant": name, "state": state, "row": row, "error": error, "disk_full": False,
            "seconds": time.perf_counter() - t0, "worker": f"{socket.gethostname()}:{os.getpid()}"}


def finished_row(folder: Path, key: str) -> dict | None:
    """The comparison row of a finished run folder whose ``batch_key`` is ``key``; else ``None``."""
    from xuewei.batch.compare import folder_row

    meta_path = folder / BATCH_META
    if not (folder / "manifest.json").is_file() or not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    if meta.get("batch_key") != key:
        return None
    try:
        return folder_row(folder, folder.name)
    except (InputError, KeyError, ValueError):
        return None


@contextmanager
def executor(workers: int = 2, dask: str | None = None):
    """Yield ``(executor, description)``: a local process pool, or a Dask cluster's executor."""
    workers = max(1, int(workers))
    if not dask:
        import multiprocessing

        # spawn: a fresh interpreter per worker, the same as a Dask worker process (no forked locks or threads).
        from xuewei.procs import guard_worker

        # Workers die with this process even when it is killed outright (xuewei.procs).
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=guard_worker) as pool:
            yield pool, f"本机进程池（{workers} 个进程）"
        return
    from xuewei.cluster import dask_cluster

    with dask_cluster(dask, workers) as (client, desc):
        yield client.get_executor(pure=False), desc


def run_batch(variants, out_dir: str | Path, pool: Executor, extra: dict | None = None, force: bool = False,
              on_event=None) -> list[dict]:
    """Run every variant on ``pool`` (skipping finished ones unless ``force``); outcomes in variant order.

    Parameters
    ----------
    variants : list of xuewei.batch.spec.Variant
        Validated variants (each with its ``key``).
    out_dir : str or pathlib.Path
        The batch's output folder; variant ``v`` runs into ``out_dir/v.name``.
    pool : concurrent.futures.Executor
        From `executor`.
    extra : dict, optional
        Overrides applied to every variant (e.g. a time limit), after the variant's own.
    force : bool
        Run finished variants again.
    on_event : callable, optional
        ``on_event(variant_name, state, outcome)`` with state ``submitted``, ``skipped``, ``done`` or
        ``failed``.

    Returns
    -------
    list of dict
        One outcome per variant (see `run_variant`; skipped ones have ``state="skipped"``).
    """
    say = on_event or (lambda name, state, outcome: None)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, dict] = {}
    pending = {}
    remaining = set()
    waiting: dict[str, list] = {}  # source variant -> the variants that start from its layout (warm_start)

    def submit(v) -> None:
        row = None if force else finished_row(out_dir / v.name, v.key)
        if row is not None:
            outcomes[v.name] = {"variant": v.name, "state": "skipped", "row": row, "error": "", "seconds": 0.0,
                                "worker": ""}
            say(v.name, "skipped", outcomes[v.name])
            release(v.name)
            return
        meta = {"overrides": v.overrides, "common": v.common, "overrides_text": v.overrides_text(), "source": v.source,
                "base_scenario": str(v.scenario), "warm_start": v.warm_from or None}
        over = v.run_overrides(extra)
        if v.warm_from:  # the source has finished: its run folder holds the layout to start from
            over.setdefault("solver", {})["warm_start"] = str(out_dir / v.warm_from)
        fut = pool.submit(run_variant, v.name, str(v.scenario), over, str(out_dir), v.key, meta)
        pending[fut] = v
        remaining.add(fut)
        say(v.name, "submitted", None)

    def release(name: str) -> None:
        """``name`` has finished (or was reused): the variants waiting for its layout go."""
        for dep in waiting.pop(name, []):
            submit(dep)

    def fail_waiting(name: str, why: str) -> None:
        from xuewei.batch.compare import failed_row

        for dep in waiting.pop(name, []):
            error = f"未运行：热启动来源变体 {name} {why}"
            outcomes[dep.name] = {"variant": dep.name, "state": "failed", "error": error, "seconds": 0.0,
                                  "row": failed_row(dep.name, error, Path(dep.scenario).name, dep.overrides_text()),
                                  "worker": "", "disk_full": False}
            say(dep.name, "failed", outcomes[dep.name])
            fail_waiting(dep.name, why)

    names = {v.name for v in variants}
    for v in variants:
        if v.warm_from and v.warm_from in names:
            waiting.setdefault(v.warm_from, []).append(v)
    for v in variants:
        if not (v.warm_from and v.warm_from in names):
            submit(v)
    stopped = None  # the disk filled up: the variants not yet started are not started
    while remaining:
        done, _ = wait(remaining, return_when=FIRST_COMPLETED)
        for fut in sorted(done, key=lambda f: list(pending).index(f)):
            remaining.discard(fut)
            v = pending[fut]
            name = v.name
            try:
                outcome = fut.result()
            except Exception as err:  # the worker itself died (killed process, lost Dask worker)
                from xuewei.batch.compare import failed_row

                error = "工作进程异常退出：" + _describe(err)
                row = failed_row(name, error, Path(v.scenario).name, v.overrides_text())
                outcome = {"variant": name, "state": "failed", "row": row, "error": error,
                           "seconds": 0.0, "worker": ""}
            outcomes[name] = outcome
            say(name, outcome["state"], outcome)
            if outcome["state"] == "failed":
                fail_waiting(name, "失败：" + outcome["error"].splitlines()[0] if outcome["error"] else "失败")
            elif stopped is None and not outcome.get("disk_full"):
                release(name)
            if outcome.get("disk_full") and stopped is None:
                stopped = f"变体 {name} 写出时磁盘已满，其余变体停止"
                for other in list(remaining):
                    if other.cancel():  # not started yet; those already running finish (or fail) on their own
                        remaining.discard(other)
                        ov = pending[other]
                        from xuewei.batch.compare import failed_row

                        error = f"未运行：{stopped}"
                        outcomes[ov.name] = {"variant": ov.name, "state": "failed", "error": error, "seconds": 0.0,
                                             "row": failed_row(ov.name, error, Path(ov.scenario).name,
                                                               ov.overrides_text()),
                                             "worker": "", "disk_full": True}
                        say(ov.name, "failed", outcomes[ov.name])
    for src in list(waiting):  # sources that finished after the disk filled up: their variants did not run
        fail_waiting(src, f"已完成，但{stopped}" if stopped else "未完成")
    return [outcomes[v.name] for v in variants]
