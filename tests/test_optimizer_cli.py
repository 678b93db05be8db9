"""`xuewei bench`: JSON on stdout, exit codes, Chinese errors without tracebacks."""

import json

from xuewei.cli import main

KEYS = {"instance", "objective", "status", "gap", "seconds", "build_seconds"}


def test_bench_json(bench_dir, capsys):
    code = main(["bench", str(bench_dir / "orlib-cap" / "cap71.txt"), "--format", "cap", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads(out)  # nothing but the JSON on stdout
    assert KEYS <= set(result)
    assert result["instance"] == "cap71" and result["status"] == "optimal"
    assert abs(result["objective"] - 932615.75) <= 1e-6 * 932615.75
    assert result["rel_error"] <= 1e-6


def test_bench_text_with_cbc_and_guessed_format(bench_dir, capsys):
    code = main(["bench", str(bench_dir / "sscflp-holmberg" / "p1.txt"), "--solver", "cbc", "--time-limit", "60"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "目标值    8848.000000" in out and "最优" in out and "cbc" in out


def test_bench_bad_file_exits_2_in_chinese(tmp_path, capsys):
    bad = tmp_path / "broken.txt"
    bad.write_text("2 1\n10 5\n10 oops\n", encoding="utf-8")
    code = main(["bench", str(bad), "--format", "cap"])
    err = capsys.readouterr().err
    assert code == 2
    assert "错误：输入有误" in err and "broken.txt" in err and "第 3 行" in err
    assert "Traceback" not in err


def test_bench_listed_in_help(capsys):
    assert main([]) == 0
    assert "bench" in capsys.readouterr().out
