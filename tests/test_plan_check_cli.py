"""A region naming any plan runs to the end; `check` works for all five plans, `audit` says what a plan allows."""

import shutil

import pandas as pd
import pytest

from conftest import TINY
from xuewei.cli import main
from xuewei.data.plans import PLAN_IDS

SCENARIO = """name = "plan-{plan}"
region = "{region}"
[horizon]
periods = [2025, 2030]
[policy]
travel_limit_km = {{ kindergarten = 5.0 }}
village_kindergarten = true
[solver]
time_limit_s = 20
[outputs]
maps = false
workbook = true
report = true
"""


def _region(tmp_path, plan: str, admin_code: str):
    """The tiny region (示意) as if it were the plan's own county, naming that plan."""
    region = tmp_path / f"tiny_{plan}"
    shutil.copytree(TINY, region)
    toml = region / "region.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('admin_code = "999999"',
                                                             f'admin_code = "{admin_code}"\nplan = "{plan}"'),
                    encoding="utf-8")
    scen = tmp_path / f"{plan}.toml"
    scen.write_text(SCENARIO.format(plan=plan, region=region.as_posix()), encoding="utf-8")
    return scen


@pytest.fixture(scope="module")
def jiangyang_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plan")
    scen = _region(tmp, "jiangyang", "510502")
    out = tmp / "run"
    code = main(["run", str(scen), "--out", str(out)])
    return code, out, scen


def test_a_region_naming_a_summary_only_plan_runs_to_the_end(jiangyang_run):
    code, out, _ = jiangyang_run
    assert code in (0, 3)
    levels = pd.read_csv(out / "plan_check_levels.csv", encoding="utf-8-sig", keep_default_na=False)
    assert dict(zip(levels["level"], levels["status"])) == {
        "schools": "规划无此层级", "actions": "已核对", "places": "规划无此层级", "targets": "部分核对"}
    actions = pd.read_csv(out / "plan_check_actions.csv", encoding="utf-8-sig")
    assert {"plan_schools", "run_schools", "status", "reason", "source_quote"} <= set(actions.columns)
    assert "全区新建公办学校（点）8所" in set(actions["source_quote"])
    targets = pd.read_csv(out / "plan_check_targets.csv", encoding="utf-8-sig", keep_default_na=False)
    assert set(targets["status"]) <= {"一致", "偏离", "无法核对"}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## 对照规划（泸州市江阳区" in report and "学段×调整" in report
    assert "对照规划（泸州市江阳区" in (out / "report.html").read_text(encoding="utf-8")
    from openpyxl import load_workbook

    assert "对照规划" in load_workbook(out / "workbook.xlsx").sheetnames


@pytest.mark.parametrize("plan", PLAN_IDS)
def test_check_works_for_every_plan(jiangyang_run, plan, capsys):
    _, out, _ = jiangyang_run
    assert main(["check", str(out), "--plan", plan]) == 0
    text = capsys.readouterr().out
    assert "各层级核对情况" in text
    assert ("同一地区" in text) if plan == "jiangyang" else ("不是同一地区" in text)


def test_audit_of_a_plan_without_school_rows_is_a_sentence(jiangyang_run, capsys, tmp_path):
    _, _, scen = jiangyang_run
    assert main(["audit", str(scen), "--plan", "jiangyang", "--out", str(tmp_path / "a")]) == 0
    text = capsys.readouterr().out
    assert "没有逐校布局表" in text and "学段×调整计数（专栏7）" in text and "xuewei check" in text
    assert not (tmp_path / "a").exists()


def test_a_missing_plan_stops_the_run_before_solving(tmp_path, capsys):
    scen = _region(tmp_path, "nosuch", "510502")
    assert main(["run", str(scen), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "jiangyang" in err
    assert not (tmp_path / "run").exists()
