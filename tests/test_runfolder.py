"""Run folders appear whole or not at all, and never replace an existing one without force."""

import os
import signal

import pytest

from xuewei.errors import InputError
from xuewei.reports.runfolder import atomic_run_folder, safe_name


def test_success_renames_into_place(tmp_path):
    target = tmp_path / "runs" / "r1"
    with atomic_run_folder(target) as tmp:
        (tmp / "a.csv").write_text("x\n1\n")
        assert not target.exists()
    assert (target / "a.csv").read_text() == "x\n1\n"
    assert [p.name for p in target.parent.iterdir()] == ["r1"]


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "r1"
    with pytest.raises(RuntimeError):
        with atomic_run_folder(target) as tmp:
            (tmp / "a.csv").write_text("half")
            raise RuntimeError("solver crashed")
    assert list(tmp_path.iterdir()) == []


def test_sigterm_leaves_nothing(tmp_path):
    target = tmp_path / "r1"
    with pytest.raises(KeyboardInterrupt):
        with atomic_run_folder(target) as tmp:
            (tmp / "a.csv").write_text("half")
            os.kill(os.getpid(), signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_needs_force(tmp_path):
    target = tmp_path / "r1"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    with pytest.raises(InputError, match="--force"):
        with atomic_run_folder(target):
            pass
    assert (target / "keep.txt").read_text() == "old"
    with atomic_run_folder(target, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]


def test_safe_name():
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("演示 情景/1") == "演示_情景_1"
    assert safe_name("...") == "run"
