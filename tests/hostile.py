"""Helpers of the hostile-input tests: run the CLI and check that it failed the way a planner can use.

A clean failure is: exit code 2, exactly one ``错误：`` message on stderr that names the file (and the
row and field where given), no traceback, and no output folder (nor a hidden temporary sibling) left.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from conftest import TESTS, TINY
from xuewei.cli import main

SCEN = TESTS / "data" / "scen" / "tiny_run.toml"


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean_failure(code: int, err: str, file: str | None = None, row: int | None = None,
                         field: str | None = None, text: str | None = None, out: Path | None = None) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "内部错误" not in err, err
    # `run` reports progress as "[hh:mm:ss] ..." lines; the rest is the one error message.
    message = "\n".join(line for line in err.splitlines() if not line.startswith("["))
    assert message.count("错误：") == 1 and message.lstrip().startswith("错误：输入有误"), err
    if file is not None:
        assert file in err, err
    if row is not None:
        assert f"第 {row} 行" in err, err
    if field is not None:
        assert f"字段“{field}”" in err, err
    if text is not None:
        assert text in err, err
    if out is not None:
        assert_no_output(out)


def assert_no_output(out: Path) -> None:
    assert not out.exists(), f"{out} was left behind"
    leftovers = [p.name for p in out.parent.glob(f".{out.name}.*")] if out.parent.exists() else []
    assert not leftovers, leftovers


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (to show inputs were not touched)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def scenario_copy(root: Path, threads: int = 1) -> Path:
    """``root/tiny`` (a copy of the tiny region) and ``root/scen/s.toml`` (tiny_run.toml pointing at it).

    ``threads = 1`` solves in this process: no process pool is forked from a process that has
    already run HiGHS (see the report on issue 8).
    """
    shutil.copytree(TINY, root / "tiny")
    (root / "scen").mkdir()
    text = SCEN.read_text(encoding="utf-8").replace("time_limit_s = 20", f"time_limit_s = 20\nthreads = {threads}")
    (root / "scen" / "s.toml").write_text(text, encoding="utf-8")
    return root / "scen" / "s.toml"


def replace_in(path: Path, old: str, new: str, encoding: str = "utf-8") -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_bytes(text.replace(old, new, 1).encode(encoding))
