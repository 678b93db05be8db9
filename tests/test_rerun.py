"""Reproducible runs: the same scenario and inputs give byte-identical tables, and `xuewei rerun`
reproduces a run folder, refuses when inputs changed, and names the tables and rows that differ."""

import json

import pandas as pd
import pytest

from hostile import assert_clean_failure, assert_no_output, cli, replace_in, scenario_copy
from xuewei.reports.rerun import EXIT_DIFFERENT, compare_runs


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    """The tiny scenario run twice (one solver thread, in this process) into two folders."""
    root = tmp_path_factory.mktemp("repro")
    scen = scenario_copy(root)
    codes = [__import__("xuewei.cli", fromlist=["main"]).main(["run", str(scen), "--out", str(root / name)])
             for name in ("a", "b")]
    assert codes == [0, 0]
    return root


def test_two_runs_give_byte_identical_tables(tiny_pair):
    a, b = tiny_pair / "a", tiny_pair / "b"
    tables = sorted(p.relative_to(a) for p in a.rglob("*.csv"))
    assert len(tables) >= 10
    differ = [str(t) for t in tables if (a / t).read_bytes() != (b / t).read_bytes()]
    assert differ == []  # timings live in manifest.json, so every table is byte-identical
    diff = compare_runs(a, b)
    assert (diff["verdict"] == "identical").all(), diff
    assert (a / "report.md").read_text(encoding="utf-8").count("示意数据") >= 1


def test_manifest_has_what_a_rerun_needs(tiny_pair):
    man = json.loads((tiny_pair / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert man["scenario"]["resolved"]["solver"]["threads"] == 1
    assert {"scenario", "region", "boundary", "schools", "school_stages", "births", "nodes", "townships"} <= set(man["inputs"])
    assert man["packages"]["highspy"] and man["packages"]["pandas"]


def test_rerun_reproduces_identically(tiny_pair, capsys):
    out = tiny_pair / "a-again"
    code, stdout, err = cli(capsys, "rerun", tiny_pair / "a", "--out", out)
    assert code == 0, err
    assert "全部表格相同" in stdout and "actions.csv：相同" in stdout
    diff = pd.read_csv(out / "rerun_diff.csv", encoding="utf-8-sig")
    assert (diff["verdict"] == "identical").all() and "demand.csv" in set(diff["table"])
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["scenario"]["resolved"] == json.loads((tiny_pair / "a" / "manifest.json").read_text(
        encoding="utf-8"))["scenario"]["resolved"]


def test_rerun_names_the_rows_that_differ(tiny_pair, capsys, tmp_path):
    import shutil

    run = tmp_path / "edited"
    shutil.copytree(tiny_pair / "b", run)
    lines = (run / "schools.csv").read_text(encoding="utf-8-sig").splitlines()
    cells = lines[3].split(",")
    cells[6] = "99999"  # places of the school on spreadsheet row 4
    lines[3] = ",".join(cells)
    (run / "schools.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    (run / "unserved.csv").unlink()
    code, stdout, err = cli(capsys, "rerun", run, "--out", tmp_path / "again")
    assert code == EXIT_DIFFERENT, err
    assert "schools.csv：不同，1 行不同（表格第 4 行；列 places）" in stdout
    assert "unserved.csv：多出" in stdout
    assert "actions.csv：相同" in stdout


def test_rerun_refuses_when_an_input_changed(tmp_path, capsys):
    scen = scenario_copy(tmp_path)
    run = tmp_path / "run"
    code, _, err = cli(capsys, "run", scen, "--out", run)
    assert code == 0, err
    replace_in(tmp_path / "tiny" / "births.csv", "T1,2005,110,1", "T1,2005,111,1")
    (tmp_path / "tiny" / "region.toml").unlink()
    out = tmp_path / "again"
    code, _, err = cli(capsys, "rerun", run, "--out", out)
    assert_clean_failure(code, err, text="共 2 处", out=out)
    assert "births.csv" in err and "已改变" in err and "region.toml" in err and "已缺失" in err


@pytest.mark.parametrize("manifest,words", [
    (None, "manifest.json"),
    ("{", "运行清单"),
    ("[]", "运行清单"),
    ('{"scenario": {"path": "x", "resolved": 5}, "inputs": {}}', "运行清单"),
    ('{"scenario": {"path": "x", "resolved": {}}, "inputs": {"a": {"path": "y"}}}', "运行清单"),
])
def test_rerun_of_something_that_is_not_a_run_folder(tmp_path, capsys, manifest, words):
    run = tmp_path / "run"
    run.mkdir()
    if manifest is not None:
        (run / "manifest.json").write_text(manifest, encoding="utf-8")
    code, _, err = cli(capsys, "rerun", run, "--out", tmp_path / "out")
    assert_clean_failure(code, err, text=words, out=tmp_path / "out")


def test_rerun_into_the_original_folder_is_refused(tiny_pair, capsys):
    before = (tiny_pair / "a" / "actions.csv").read_bytes()
    code, _, err = cli(capsys, "rerun", tiny_pair / "a", "--out", tiny_pair / "a", "--force")
    assert_clean_failure(code, err, field="--out")
    assert (tiny_pair / "a" / "actions.csv").read_bytes() == before
    assert_no_output(tiny_pair / "never")
