"""Reproducible mode is the default; the report says whether a run can be reproduced and why not."""

from types import SimpleNamespace

import pandas as pd

from xuewei.reports.run_outputs import reproducibility_note, reproducible, stage_solver_summary, status_zh
from xuewei.scenario import Scenario


def _result(stops, **solver):
    scenario = Scenario.model_validate({"name": "x", "region": "r", "solver": solver})
    summary = pd.DataFrame({"model": [f"primary#{i + 1}" for i in range(len(stops))], "status": "feasible",
                            "gap": 0.01, "solve_seconds": 1.0, "stop": stops})
    return SimpleNamespace(scenario=scenario, layout=SimpleNamespace(summary=summary))


def test_defaults_are_reproducible():
    opts = Scenario.model_validate({"name": "x", "region": "r"}).solver
    assert opts.reproducible and opts.max_nodes == 1 and opts.worker_count() >= 1


def test_node_limited_run_is_reproducible():
    r = _result(["node_limit", ""])
    assert reproducible(r) and "可复现性：是" in reproducibility_note(r)


def test_safety_limit_hit_makes_the_run_not_reproducible():
    r = _result(["node_limit", "time_limit"], time_limit_s=30)
    assert not reproducible(r)
    note = reproducibility_note(r)
    assert "可复现性：否" in note and "primary#2" in note and "30" in note


def test_time_mode_is_never_called_reproducible():
    r = _result(["time_limit"], reproducible=False)
    assert not reproducible(r) and "reproducible = false" in reproducibility_note(r)


def test_stage_status_names_the_limit_that_stopped_it():
    rows = stage_solver_summary(_result(["node_limit", "time_limit"]).layout.summary)
    assert rows.loc[0, "stop"] == "time_limit"
    assert status_zh("feasible", "node_limit") == "可行（到节点上限，见间隙）"
    assert status_zh("feasible", "time_limit") == "可行（到时限，见间隙）"
    assert status_zh("optimal", "") .startswith("最优")
