"""`xuewei run`, `forecast`, `check` end to end on the tiny region: files, exit codes, diagnoses."""

import json

import pandas as pd
import pytest

from conftest import TESTS, TINY
from xuewei.cli import main

SCEN = TESTS / "data" / "scen" / "tiny_run.toml"
ACTION_COLUMNS = ["school_id", "name", "kind", "township_id", "period", "action", "classes_before", "classes_after",
                  "places_before", "places_after", "merged_into", "boarding_beds_after", "cost_wan_yuan", "action_zh"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    code = main(["run", str(SCEN), "--out", str(out)])
    return code, out


def test_run_writes_a_complete_folder(tiny_run):
    code, out = tiny_run
    assert code == 0
    for name in ("manifest.json", "demand.csv", "actions.csv", "assignments.csv", "schools.csv", "summary.csv",
                 "unserved.csv", "audit.csv", "report.md", "layout_sites.csv"):
        assert (out / name).is_file(), name
    actions = pd.read_csv(out / "actions.csv", encoding="utf-8-sig")
    assert set(ACTION_COLUMNS) <= set(actions.columns)
    assert set(actions["action_zh"]) <= {"保留", "改扩建", "缩减", "新建", "合并", "撤销", "转变"}
    asg = pd.read_csv(out / "assignments.csv", encoding="utf-8-sig")
    assert list(asg.columns) == ["node_id", "stage", "period", "school_id", "pupils", "share", "distance_km", "boarding",
                                 "status_quo_far"]
    assert asg.groupby(["node_id", "stage", "period"])["share"].sum().to_numpy() == pytest.approx(1.0, abs=2e-3)
    base = pd.read_csv(out / "catchments_base.csv", encoding="utf-8-sig")
    assert list(base.columns) == ["node_id", "stage", "year", "school_id", "pupils", "distance_km", "boarding"]
    changes = pd.read_csv(out / "catchment_changes.csv", encoding="utf-8-sig")
    assert {"node_id", "stage", "period", "from_school", "to_school", "pupils", "reason", "reason_zh"} <= set(changes)
    schools = pd.read_csv(out / "schools.csv", encoding="utf-8-sig")
    assert {"places", "pupils", "classes", "utilisation", "tier"} <= set(schools.columns)
    assert (schools["pupils"] <= schools["places"] + 1e-6).all()
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["status"] == "served" and man["region"]["synthetic"] is True
    assert {"scenario", "region", "boundary", "schools"} <= set(man["inputs"])
    assert all(len(v["sha256"]) == 64 for v in man["inputs"].values())
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "示意数据" in report
    assert man["reproducible"] is True and "可复现性：是" in report  # the default solver mode
    solver = pd.read_csv(out / "solver.csv", encoding="utf-8-sig", keep_default_na=False)
    assert set(solver["stop"]) <= {"", "node_limit"}
    assert not pd.read_csv(out / "audit.csv", encoding="utf-8-sig").shape[0]  # an optimised run breaks no rule


def test_demand_balances_with_assignments(tiny_run):
    _, out = tiny_run
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    asg = pd.read_csv(out / "assignments.csv", encoding="utf-8-sig")
    un = pd.read_csv(out / "unserved.csv", encoding="utf-8-sig")
    assert summary["pupils"].sum() == pytest.approx(asg["pupils"].sum() + un["pupils"].sum(), abs=0.001 * (len(asg) + len(summary)))


def test_existing_run_folder_is_not_overwritten(tiny_run, capsys):
    _, out = tiny_run
    before = (out / "actions.csv").read_bytes()
    assert main(["run", str(SCEN), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "actions.csv").read_bytes() == before


def test_check_errors(tiny_run, capsys):
    _, out = tiny_run
    assert main(["check", str(out)]) == 2
    assert "区域未指定规划" in capsys.readouterr().err
    assert main(["check", str(out), "--plan", "wuxi"]) == 0  # another region's plan: said, not refused
    assert "不是同一地区" in capsys.readouterr().out
    assert main(["check", str(out), "--plan", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert main(["check", str(out.parent / "nothing-here")]) == 2


def test_stale_run_folder_is_refused(tmp_path, tiny, capsys):
    scen = tmp_path / "s.toml"
    scen.write_text(SCEN.read_text(encoding="utf-8").replace('"../tiny"', f'"{tiny.as_posix()}"'), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(scen), "--out", str(out), "--time-limit", "10"]) == 0
    capsys.readouterr()
    (tiny / "births.csv").write_text((tiny / "births.csv").read_text(encoding="utf-8") + "T1,2021,90,1\n",
                                     encoding="utf-8")
    assert main(["check", str(out), "--plan", "wuxi"]) == 2
    assert "过时" in capsys.readouterr().err


def test_policy_no_layout_can_satisfy_exits_3_with_a_diagnosis(tmp_path, capsys):
    scen = tmp_path / "s.toml"
    scen.write_text(f'''name = "strict"
region = "{TINY.as_posix()}"
[horizon]
periods = [2025]
[policy]
travel_limit_km = {{ primary = 0.5 }}
base_reach_km = {{ primary = 0 }}
boarding_stages = ["junior", "senior"]
[solver]
time_limit_s = 10
''', encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(scen), "--out", str(out)]) == 3
    text = capsys.readouterr().out
    assert "政策无法完全满足" in text and "小学" in text and "走读距离内无学校且不能寄宿" in text
    un = pd.read_csv(out / "unserved.csv", encoding="utf-8-sig")
    assert (un["stage"] == "primary").any() and (un["pupils"] > 0).all()


def test_forecast_command(tmp_path, capsys):
    out = tmp_path / "fc"
    assert main(["forecast", str(SCEN), "--out", str(out)]) == 0
    demand = pd.read_csv(out / "demand.csv", encoding="utf-8-sig", dtype={"node_id": str})
    assert {"node_id", "township_id", "stage", "year", "variant", "pupils", "classes_needed",
            "places_needed"} <= set(demand.columns)
    assert (demand["pupils"] >= 0).all()
    assert sorted(demand["variant"].unique()) == ["high", "low", "mid"]
    assert (out / "charts" / "demand_primary.png").is_file()


def test_bad_scenario_key_exits_2_without_output(tmp_path, capsys):
    scen = tmp_path / "s.toml"
    scen.write_text(f'name = "x"\nregion = "{TINY.as_posix()}"\n[policy]\nclas_cap = {{ primary = 40 }}\n',
                    encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(scen), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "clas_cap" in err and "class_cap" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [scen]


@pytest.mark.parametrize("line,word", [("travel_limit_km = { primary = -5.0 }", "travel_limit_km"),
                                       ("class_cap = { junior = 0 }", "class_cap"),
                                       ("budget_wan_yuan = [-100.0]", "budget_wan_yuan")])
def test_negative_or_zero_policy_values_are_refused(tmp_path, capsys, line, word):
    scen = tmp_path / "s.toml"
    scen.write_text(f'name = "x"\nregion = "{TINY.as_posix()}"\n[policy]\n{line}\n', encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(scen), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert word in err and "Traceback" not in err
    assert not out.exists()
