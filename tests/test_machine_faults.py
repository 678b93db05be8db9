"""Faults of the machine, provoked for real (issue #16): a run or batch killed outright (SIGKILL)
leaves no process behind; a full disk ends with its own exit code naming the folder and leaves
nothing half-written; an existing or busy output folder is refused at once; a closed pipe ends
quietly."""

import errno
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hostile import assert_no_output, cli, scenario_copy
from test_safe_outputs import ENV, alive, children_of, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and sends POSIX signals")


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = children_of(todo.pop())
        out += kids
        todo += kids
    return out


def test_demo_run_killed_outright_leaves_no_process_and_no_folder(tmp_path):
    """SIGKILL cannot be caught: the solver workers must notice on their own that the run is gone."""
    out = tmp_path / "runs" / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "xuewei.cli", "run", "--out", str(out)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    lines = []
    assert wait_for(lambda: (lines.append(proc.stderr.readline()) or "求解" in lines[-1]), 90), lines
    assert wait_for(lambda: len(children_of(proc.pid)) > 0, 30)
    time.sleep(1.0)  # the workers are solving now
    family = descendants(proc.pid)
    assert family
    proc.kill()
    proc.wait(timeout=10)
    proc.stderr.close()
    assert wait_for(lambda: not any(alive(p) for p in family), 10), \
        [p for p in family if alive(p)]
    assert_no_output(out)


GUARDED_POOL = textwrap.dedent("""
    import multiprocessing, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from xuewei.procs import guard_worker

    def busy(_):
        t = time.time()
        while time.time() - t < 120:
            pass

    if __name__ == "__main__":
        ctx = multiprocessing.get_context(sys.argv[1])
        pool = ProcessPoolExecutor(2, mp_context=ctx, initializer=guard_worker)
        futures = [pool.submit(busy, i) for i in range(2)]
        print("busy", flush=True)
        time.sleep(300)
""")


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_guarded_pool_workers_die_with_their_parent(tmp_path, method):
    """Every pool of xuewei (solver: spawn; map sheets: fork; batch: spawn) uses `guard_worker`."""
    script = tmp_path / "pool.py"
    script.write_text(GUARDED_POOL, encoding="utf-8")
    with subprocess.Popen([sys.executable, str(script), method], env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as proc:
        assert proc.stdout.readline().strip() == "busy"
        assert wait_for(lambda: len(children_of(proc.pid)) >= 2, 30)
        time.sleep(0.5)
        workers = descendants(proc.pid)
        proc.kill()
        proc.wait(timeout=10)
    assert wait_for(lambda: not any(alive(p) for p in workers), 10), [p for p in workers if alive(p)]


def test_batch_on_local_dask_killed_outright_leaves_no_process(tmp_path):
    scen = scenario_copy(tmp_path)
    batch = tmp_path / "b.toml"
    batch.write_text(f'name = "b"\nbase = "{scen.as_posix()}"\n\n[[variants]]\nname = "a"\n\n'
                     '[[variants]]\nname = "c"\n"policy.class_cap.primary" = 40\n', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "xuewei.cli", "batch", str(batch), "--out", str(tmp_path / "o"),
                             "--dask", "local", "--workers", "2"], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    lines = []
    assert wait_for(lambda: (lines.append(proc.stderr.readline()) or "执行方式" in lines[-1]), 90), lines
    assert wait_for(lambda: len(descendants(proc.pid)) >= 2, 30)
    family = descendants(proc.pid)
    proc.kill()
    proc.wait(timeout=10)
    proc.stderr.close()
    assert wait_for(lambda: not any(alive(p) for p in family), 10), [p for p in family if alive(p)]


# --- a full disk -------------------------------------------------------------------------------------


def _small_filesystem(path: Path, size: str = "2m") -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def small_fs(tmp_path):
    mount = tmp_path / "small"
    if not _small_filesystem(mount):
        pytest.skip("cannot mount a small tmpfs here (needs root); the simulated full disk below covers the code")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_run_into_a_2mb_filesystem_is_refused_before_the_solve(tmp_path, small_fs):
    scen = scenario_copy(tmp_path)
    out = small_fs / "run"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "xuewei.cli", "run", str(scen), "--out", str(out)], env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stderr
    assert "磁盘空间不足" in proc.stderr and str(small_fs) in proc.stderr and "MB" in proc.stderr
    assert "内部错误" not in proc.stderr and "Traceback" not in proc.stderr
    assert "尚未开始计算" in proc.stderr and "求解" not in proc.stderr  # refused before the solve
    assert time.monotonic() - t0 < 60
    assert list(small_fs.iterdir()) == []


class _Budget:
    """``open`` for writing with a shared byte budget: past it, a write fails as a full disk does."""

    def __init__(self, budget: int):
        self.left = budget
        self.real_open = io.open

    def open(self, file, mode="r", *args, **kwargs):
        fh = self.real_open(file, mode, *args, **kwargs)
        if not any(c in mode for c in "wax+"):
            return fh
        budget = self
        real_write = fh.write

        def write(data):
            n = len(data)
            if n > budget.left:
                raise OSError(errno.ENOSPC, "No space left on device", str(file))
            budget.left -= n
            return real_write(data)

        try:
            fh.write = write
        except AttributeError:  # a C file object without instance attributes: wrap it
            return _Wrapped(fh, write)
        return fh


class _Wrapped(io.IOBase):
    def __init__(self, fh, write):
        self._fh, self.write = fh, write

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def writable(self):
        return True

    def close(self):
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.mark.parametrize("budget", [0, 20_000, 300_000, 1_500_000])
def test_disk_filling_up_while_writing_ends_cleanly(tmp_path, capsys, monkeypatch, budget):
    """The disk fills up at different points of writing (tables, report, workbook, maps)."""
    import builtins

    scen = scenario_copy(tmp_path)
    out = tmp_path / "runs" / "tiny"
    fake = _Budget(budget)
    import xuewei.reports.run_outputs as ro

    real = ro.write_run

    def write_run(result, folder, target):
        monkeypatch.setattr(builtins, "open", fake.open)
        monkeypatch.setattr(io, "open", fake.open)
        try:
            real(result, folder, target)
        finally:
            monkeypatch.undo()

    monkeypatch.setattr(ro, "write_run", write_run)
    code, _, err = cli(capsys, "run", scen, "--out", out)
    assert code == 4, err
    assert "磁盘空间不足" in err and str(out.parent) in err and "内部错误" not in err and "Traceback" not in err
    assert_no_output(out)


# --- output folders ------------------------------------------------------------------------------------


def test_existing_out_is_refused_at_once(tmp_path):
    """The demo's folder exists: exit 2 before anything is read or solved."""
    out = tmp_path / "there"
    out.mkdir()
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "xuewei.cli", "run", "--out", str(out)], env=ENV,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "已存在" in proc.stderr and "--force" in proc.stderr and "预测" not in proc.stderr
    # Nothing was read: no forecast, no solve (on an idle machine this takes about a second; the bound
    # is loose so a busy test machine does not fail it).
    assert time.monotonic() - t0 < 60
    assert list(out.iterdir()) == []


SLOW_WRITER = textwrap.dedent("""
    import sys, time
    import xuewei.reports.run_outputs as ro
    real = ro.write_run
    def slow(result, folder, target):
        real(result, folder, target)
        (folder / "WRITING").write_text("x")
        time.sleep(30)
    ro.write_run = slow
    from xuewei.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_second_run_into_the_same_folder_is_refused_while_the_first_writes(tmp_path):
    scen = scenario_copy(tmp_path)
    out = tmp_path / "runs" / "same"
    first = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, "run", str(scen), "--out", str(out)], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: any(out.parent.glob(".same.tmp-*/WRITING")) if out.parent.exists() else False, 90)
        second = subprocess.run([sys.executable, "-m", "xuewei.cli", "run", str(scen), "--out", str(out)], env=ENV,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 2, second.stderr
        assert "另一个运行正在写入" in second.stderr and f"进程 {first.pid}" in second.stderr
    finally:
        first.kill()
        first.wait(timeout=10)
        first.stderr.close()
    # The first run was killed outright: the lock went with it, and a new run may write there.
    code = subprocess.run([sys.executable, "-m", "xuewei.cli", "run", str(scen), "--out", str(out)], env=ENV,
                          capture_output=True, text=True, timeout=120).returncode
    assert code in (0, 3)


def test_lock_is_taken_in_process_too(tmp_path, capsys):
    from xuewei.reports.runfolder import claim_output

    scen = scenario_copy(tmp_path)
    out = tmp_path / "runs" / "held"
    with claim_output(out):
        code, _, err = cli(capsys, "run", scen, "--out", out)
    assert code == 2 and "另一个运行正在写入" in err
    assert_no_output(out)


def test_closed_pipe_ends_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "xuewei.cli", "plans", "show", "neijiang", "--json"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes
    err = proc.stderr.read().decode("utf-8")
    proc.wait(timeout=60)
    proc.stderr.close()
    assert err == "" and proc.returncode == 141
