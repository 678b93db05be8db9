import subprocess
import sys

from xuewei.cli import main


def test_help_lists_planned_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "学位规划工具" in out
    for planned in ("run", "batch", "maps"):
        assert planned in out


def test_console_script_runs():
    proc = subprocess.run([sys.executable, "-m", "xuewei.cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("xuewei ")
