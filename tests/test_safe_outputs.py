"""Safe outputs: an interrupted run (Ctrl-C, kill, a crash while writing) leaves no half folder, no
orphaned solver process and untouched inputs; an existing folder is replaced only with --force."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hostile import assert_no_output, cli, scenario_copy, tree_digest
from xuewei.data.paths import PACKAGE_ROOT, REGIONS_DIR, SCENARIOS_DIR

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def processes_mentioning(text: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text.encode() in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the solver workers of a run)."""
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(proc.name))
            except (OSError, ValueError, IndexError):
                pass
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_demo_run_interrupted_while_solving(tmp_path, sig):
    """The demo run is stopped in the middle of its parallel solve: it exits at once (130), leaves no
    folder and no solver worker behind, and the bundled inputs are as they were."""
    inputs_before = tree_digest(REGIONS_DIR / "wuxi"), (SCENARIOS_DIR / "demo.toml").read_bytes()
    out = tmp_path / "runs" / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "xuewei.cli", "run", "--out", str(out)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    lines = []
    assert wait_for(lambda: (lines.append(proc.stderr.readline()) or "求解" in lines[-1]), 60), lines
    time.sleep(1.0)  # the workers are solving now
    workers = children_of(proc.pid)
    if (os.cpu_count() or 1) > 1:
        assert workers, "on several cores the demo run solves its models in worker processes"
    t0 = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 10, "the run did not stop promptly"
    assert proc.returncode == 130, err
    assert "已中断" in err and "Traceback" not in err, err
    assert_no_output(out)
    assert wait_for(lambda: not processes_mentioning(str(out)), 5), "solver workers outlived the run"
    assert wait_for(lambda: not any(alive(p) for p in workers), 5), "solver workers outlived the run"
    assert (tree_digest(REGIONS_DIR / "wuxi"), (SCENARIOS_DIR / "demo.toml").read_bytes()) == inputs_before


SLOW_WRITER = textwrap.dedent("""
    import sys, time
    import xuewei.reports.run_outputs as ro
    real = ro.write_run
    def slow(result, folder, target):
        real(result, folder, target)
        (folder / "WRITING").write_text("x")
        time.sleep(60)
    ro.write_run = slow
    from xuewei.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_interrupted_while_writing_leaves_nothing(tmp_path, sig):
    scen = scenario_copy(tmp_path)
    before = tree_digest(tmp_path)
    out = tmp_path / "runs" / "tiny"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, "run", str(scen), "--out", str(out)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: any((out.parent).glob(".tiny.tmp-*/WRITING")) if out.parent.exists() else False, 60)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert_no_output(out)
    assert list(out.parent.iterdir()) == []
    after = tree_digest(tmp_path)
    assert after == before


def test_crash_while_writing_leaves_nothing(tmp_path, capsys, monkeypatch):
    import xuewei.reports.run_outputs as ro

    def broken(result, folder, target):
        (folder / "demand.csv").write_text("half", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ro, "write_run", broken)
    scen = scenario_copy(tmp_path)
    out = tmp_path / "runs" / "tiny"
    code, _, err = cli(capsys, "run", scen, "--out", out)
    # A full disk is not an internal error: its own exit code, the folder named, nothing left.
    assert code == 4 and "磁盘空间不足" in err and str(out.parent) in err and "Traceback" not in err, err
    assert "内部错误" not in err
    assert_no_output(out)


def test_existing_folder_is_replaced_only_with_force(tmp_path, capsys):
    scen = scenario_copy(tmp_path)
    out = tmp_path / "runs" / "tiny"
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("planner's own notes", encoding="utf-8")
    code, _, err = cli(capsys, "run", scen, "--out", out)
    assert code == 2 and "--force" in err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "planner's own notes"
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny"]
    code, _, err = cli(capsys, "run", scen, "--out", out, "--force")
    assert code == 0, err
    assert not (out / "notes.txt").exists() and (out / "manifest.json").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny"]  # no .old or .tmp sibling left


def test_output_names_are_sanitised():
    from xuewei.reports.runfolder import safe_name

    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert "/" not in safe_name("a/b\\c") and "\\" not in safe_name("a/b\\c")
    assert safe_name("情景 一：扩班") == "情景_一_扩班"
    assert safe_name("\x00\x1f..") == "run" and safe_name("") == "run"
    assert len(safe_name("长" * 500)) <= 80
    assert safe_name("CON") != "CON" and safe_name("nul.txt").lower() != "nul.txt"


def test_default_run_folder_name_comes_from_a_sanitised_scenario_name(tmp_path, capsys, monkeypatch):
    scen = scenario_copy(tmp_path)
    text = scen.read_text(encoding="utf-8").replace('name = "tiny-run"', 'name = "../../逃逸/情景"')
    scen.write_text(text, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, err = cli(capsys, "run", scen)
    assert code == 0, err
    made = list((work / "runs").iterdir())
    assert len(made) == 1 and made[0].name.startswith("逃逸_情景-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scen", "tiny", "work"]


def test_no_eval_exec_or_pickle_of_user_input():
    """Scenario, region, plan and batch inputs are data: the package never evaluates or unpickles them."""
    import re

    pattern = re.compile(r"\b(eval|exec)\(|\bpickle\.loads?\(|yaml\.load\(|shell=True|__import__\(")
    offenders = []
    for path in PACKAGE_ROOT.rglob("*.py"):
        rel = path.relative_to(PACKAGE_ROOT)
        if rel.parts[0] in ("tests", "benchmarks") or ".venv" in rel.parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []


def test_scenario_values_are_never_evaluated(tmp_path, capsys):
    scen = scenario_copy(tmp_path)
    marker = tmp_path / "pwned"
    text = scen.read_text(encoding="utf-8").replace(
        'name = "tiny-run"', f'name = "__import__(\'os\').system(\'touch {marker}\')"')
    scen.write_text(text.replace("time_limit_s = 20", f'time_limit_s = "__import__(\'os\').system(\'touch {marker}\')"'),
                    encoding="utf-8")
    code, _, err = cli(capsys, "validate", scen)
    assert code == 2 and "time_limit_s" in err
    assert not marker.exists()


@pytest.mark.parametrize("region,ok", [
    ("../tiny", True),               # beside the scenario's folder (like scenarios/ beside data/)
    ("../../../x/tiny", False),      # climbs out of the scenario's tree, though a region is there
    ("tiny", False),                 # not beside the scenario; the current directory is never searched
])
def test_relative_region_paths_stay_near_the_scenario(tmp_path, capsys, monkeypatch, region, ok):
    root = tmp_path / "a" / "b"
    root.mkdir(parents=True)
    scen = scenario_copy(root)
    shutil.copytree(root / "tiny", tmp_path / "x" / "tiny")
    monkeypatch.chdir(root)  # root/tiny exists, but a scenario never means the current directory
    scen.write_text(scen.read_text(encoding="utf-8").replace('region = "../tiny"', f'region = "{region}"'),
                    encoding="utf-8")
    code, _, err = cli(capsys, "validate", scen)
    if ok:
        assert code == 0, err
    else:
        assert code == 2 and "s.toml" in err and "字段“region”" in err, err


def test_bundled_demo_scenario_still_resolves_its_region():
    from xuewei.scenario import load_scenario

    scenario, path = load_scenario("demo")
    assert scenario.region == "../data/regions/wuxi" and path.parent == SCENARIOS_DIR


def test_absolute_region_path_is_taken_as_written(tmp_path, capsys):
    scen = scenario_copy(tmp_path / "s")
    far = tmp_path / "elsewhere" / "deep"
    far.mkdir(parents=True)
    (tmp_path / "s" / "tiny").rename(far / "tiny")
    scen.write_text(scen.read_text(encoding="utf-8").replace('region = "../tiny"', f'region = "{far / "tiny"}"'),
                    encoding="utf-8")
    code, _, err = cli(capsys, "validate", scen)
    assert code == 0, err
