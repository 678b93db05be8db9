"""Warm start from an earlier run's layout (solver.warm_start, --warm-start, a batch's warm_start):
the model starts from "the earlier openings, re-planned here", decisions the model forbids stay free,
the model is left as it was, and a wrong source is one clear error."""

import json

import pandas as pd
import pytest

from test_bounds_and_search import _villages
from xuewei.errors import InputError
from xuewei.optimizer.layout import Search, _solve_group, _warm_candidate, build_group, solve_layout, warm_openings
from xuewei.optimizer.policy import PolicyConfig
from xuewei.optimizer.warm import read_warm_source


def _optimum(sd, policy):
    res = solve_layout([sd], policy, threads=1, gap_rel=1e-9)
    return res.summary["objective_wan_yuan"].iloc[0], res.sites


def test_warm_start_from_the_optimal_openings_starts_at_the_optimum():
    sd, policy = _villages(), PolicyConfig()
    optimum, sites = _optimum(sd, policy)
    # The openings are fixed, the rest solved for up to polish_nodes nodes (enough here to prove it).
    frames, s = _solve_group([sd], policy, None, "highs", 60.0, 0.005, 1, max_nodes=1,
                             search=Search(polish_nodes=1000), warm=warm_openings([sd], sites))
    assert s["warm_wan_yuan"] == pytest.approx(optimum, rel=1e-7)
    assert s["greedy_wan_yuan"] > s["warm_wan_yuan"] == pytest.approx(s["improved_wan_yuan"])
    assert s["objective_wan_yuan"] == pytest.approx(optimum, rel=1e-7)
    assert frames[0][0]["open"].tolist() == sites["open"].tolist()
    # Without a source the summary has no warm columns (solver.csv unchanged for ordinary runs).
    _, cold = _solve_group([sd], policy, None, "highs", 60.0, 0.005, 1, max_nodes=1, search=Search())
    assert "warm_wan_yuan" not in cold


def test_a_decision_the_model_forbids_is_left_free_and_the_bounds_are_restored():
    sd, policy = _villages(), PolicyConfig()
    gm = build_group([sd], policy, None)
    o = gm.stage_vars[0].o
    closed_everywhere = [[0] * len(sd.sites) for _ in sd.periods]  # the source closed every school
    o[0][0].lowBound = 1.0  # ... but this model must keep S0 open in the first period (as keep-existing does)
    before = [(v.lowBound, v.upBound) for per_t in o for v in per_t]
    import numpy as np

    answer, objective = _warm_candidate(gm, [np.array(closed_everywhere, dtype=np.int8)], "highs", 60.0, 1e-9, 100)
    assert [(v.lowBound, v.upBound) for per_t in o for v in per_t] == before
    # Every other school is fixed closed, S0 is free and must be open: the villages are served by S0
    # alone (or left unserved), which is a feasible answer of this model.
    assert answer is not None and objective is not None
    assert answer[o[0][0]] == pytest.approx(1.0)
    assert all(answer[v] == pytest.approx(0.0) for v in o[0][1:])


def test_openings_are_matched_by_stage_site_and_period():
    sd = _villages()
    src = pd.DataFrame({"stage": ["primary", "primary", "junior"], "site_id": ["S1", "S9", "S0"],
                        "period": [2030, 2025, 2025], "open": [False, True, True]})
    table = warm_openings([sd], src)[0]
    assert table.tolist() == [[-1, -1, -1], [-1, 0, -1]]
    assert warm_openings([sd], src[src["stage"] == "junior"]) is None  # nothing of this model's


def _source(folder, rows="site_id,stage,period,open\nS0,primary,2025,True\n", region="tiny"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layout_sites.csv").write_text(rows, encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"scenario": {"name": "old"}, "region": {"id": region}}),
                                          encoding="utf-8")
    return folder


def test_source_is_read_from_a_run_folder_or_its_table(tmp_path):
    run = _source(tmp_path / "run", "site_id,stage,period,open\nS0,primary,2025,是\nS1,primary,2025,0\n")
    table, meta = read_warm_source(run, "tiny")
    assert table.to_dict("list") == {"stage": ["primary"] * 2, "site_id": ["S0", "S1"], "period": [2025, 2025],
                                     "open": [True, False]}
    assert meta["scenario"] == "old" and meta["region"] == "tiny" and len(meta["sha256"]) == 64
    assert read_warm_source(run / "layout_sites.csv", "tiny")[1] == meta
    with_classes = _source(tmp_path / "run2", "site_id,stage,period,open,classes\nS0,primary,2025,True,6\n")
    assert read_warm_source(with_classes, "tiny")[0]["classes"].tolist() == [6]


@pytest.mark.parametrize("rows, region, match", [
    ("site_id,stage,period\nS0,primary,2025\n", "tiny", r"字段“open”.*缺少 open"),
    ("site_id,stage,period,open\nS0,primary,2025,True\nS1,primary,2025,maybe\n", "tiny", r"第 3 行，字段“open”.*maybe"),
    ("site_id,stage,period,open\nS0,primary,二〇二五,True\n", "tiny", r"第 2 行，字段“period”"),
    ("site_id,stage,period,open,classes\nS0,primary,2025,True,-3\n", "tiny", r"第 2 行，字段“classes”.*-3"),
    ("site_id,stage,period,open\nS0,primary,2025,True\n", "wuxi", r"manifest.json，字段“region.id”.*同一区域（tiny）.*wuxi"),
])
def test_a_wrong_source_is_one_clear_error(tmp_path, rows, region, match):
    run = _source(tmp_path / "run", rows, region)
    with pytest.raises(InputError, match=match):
        read_warm_source(run, "tiny")


def test_a_folder_without_a_layout_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"layout_sites.csv"):
        read_warm_source(tmp_path, "tiny")


def test_cli_and_scenario_key_name_a_missing_source(tmp_path, capsys):
    from conftest import TESTS
    from xuewei.cli import main

    scen = (TESTS / "data" / "scen" / "tiny_run.toml").resolve()
    assert main(["run", str(scen), "--out", str(tmp_path / "a"), "--warm-start", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "--warm-start" in err and "nope" in err and "Traceback" not in err
    keyed = tmp_path / "keyed.toml"
    keyed.write_text(f'extends = "{scen.as_posix()}"\nname = "k"\n\n[solver]\nwarm_start = "old-run"\n', encoding="utf-8")
    assert main(["run", str(keyed), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert f"文件 {keyed}，第 5 行，字段“solver.warm_start”" in err and "old-run" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_warm_started_run_reruns_identically_and_refuses_a_changed_source(tmp_path, capsys):
    from conftest import TESTS
    from xuewei.cli import main

    scen = (TESTS / "data" / "scen" / "tiny_run.toml").resolve()
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["run", str(scen), "--out", str(first)]) == 0
    assert main(["run", str(scen), "--out", str(second), "--warm-start", str(first)]) == 0
    man = json.loads((second / "manifest.json").read_text(encoding="utf-8"))
    assert man["warm_start"]["path"] == str((first / "layout_sites.csv").resolve())
    assert "warm_wan_yuan" in pd.read_csv(second / "solver.csv", encoding="utf-8-sig")
    sheet = pd.read_excel(second / "workbook.xlsx", sheet_name="求解质量")
    assert "沿用热启动来源开办的目标值（万元）" in sheet.columns
    assert main(["rerun", str(second), "--out", str(tmp_path / "again")]) == 0
    with open(first / "layout_sites.csv", "a", encoding="utf-8") as f:
        f.write("\n")  # the source changed after the run
    capsys.readouterr()
    assert main(["rerun", str(second), "--out", str(tmp_path / "again2")]) == 2
    assert "inputs.warm_start" in capsys.readouterr().err


def test_a_source_without_this_models_schools_is_said_and_changes_nothing():
    sd, policy = _villages(), PolicyConfig()
    said = []
    other = pd.DataFrame({"stage": ["primary"], "site_id": ["X1"], "period": [2025], "open": [True]})
    warm = solve_layout([sd], policy, threads=1, max_nodes=1, warm_source=other, progress=said.append).summary
    cold = solve_layout([sd], policy, threads=1, max_nodes=1).summary
    assert "来源中没有本次任何模型的学校" in " ".join(said)
    assert warm["warm_wan_yuan"].isna().all()
    pd.testing.assert_frame_equal(warm.drop(columns=["warm_wan_yuan"]).filter(regex="wan_yuan|gap|nodes|status"),
                                  cold.filter(regex="wan_yuan|gap|nodes|status"))


def test_layout_doctests_pass():
    import doctest

    from xuewei.optimizer import layout

    result = doctest.testmod(layout, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0


def test_the_source_classes_are_a_hint_the_solver_may_complete():
    # The optimum's openings and classes as the source: the warm candidate is the optimum itself,
    # already at the root (no nodes beyond it).
    sd, policy = _villages(), PolicyConfig()
    optimum, sites = _optimum(sd, policy)
    gm = build_group([sd], policy, None)
    _, objective = _warm_candidate(gm, warm_openings([sd], sites), "highs", 60.0, 1e-9, 1)
    assert objective + float(gm.objective.constant) == pytest.approx(optimum, rel=1e-7)
