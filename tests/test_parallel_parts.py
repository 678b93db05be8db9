"""Independent parts: catchments never cross a county line (义务教育以县为主), and the parts solved in
a pool of processes give exactly the answer solved one by one (reproducible mode)."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from xuewei.data.paths import PACKAGE_ROOT
from xuewei.data.region import load_region
from xuewei.errors import InputError, Problem, SolveError
from xuewei.optimizer.layout import solve_layout
from xuewei.optimizer.layout_data import build_stage_data
from xuewei.optimizer.policy import PolicyConfig

sys.path.insert(0, str(PACKAGE_ROOT / "benchmarks"))
from make_city import make_city  # noqa: E402


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    pack = make_city(tmp_path_factory.mktemp("city") / "c", seed=11, counties=2, townships_per_county=4,
                     n_nodes=80, n_schools=50)
    region = load_region(pack)
    rows = [(n.node_id, g, y, "mid", n.population * share) for n in region.nodes.itertuples()
            for g, share in (("primary", 0.06), ("senior", 0.03)) for y in range(2021, 2031)]
    demand = pd.DataFrame(rows, columns=["node_id", "stage", "year", "variant", "pupils"])
    return region, demand


def _county_of_pairs(region, sd):
    county = dict(zip(region.townships["township_id"], region.townships["county_id"]))
    node_town = dict(zip(region.nodes["node_id"], region.nodes["township_id"]))
    nc = np.array([county[node_town[n]] for n in sd.node_ids[sd.pair_node]])
    sc = np.array([county[t] for t in sd.sites["township_id"].to_numpy()[sd.pair_site]])
    return nc, sc


def test_no_catchment_crosses_a_county_line(city):
    region, demand = city
    stages, _ = build_stage_data(region, demand, PolicyConfig(), [2025, 2030], 2020, stages=("primary", "senior"))
    for sd in stages:
        nc, sc = _county_of_pairs(region, sd)
        assert (nc == sc).all(), sd.name
    # senior boards across the whole city by distance; bound to counties it falls apart into one part each
    assert sum(sd.stage == "senior" for sd in stages) >= 2


def test_city_wide_senior_schools_when_the_policy_says_so(city):
    region, demand = city
    policy = PolicyConfig(county_bound_stages=["kindergarten", "primary", "junior"])
    stages, _ = build_stage_data(region, demand, policy, [2025, 2030], 2020, stages=("senior",))
    crossing = sum(int((np.not_equal(*_county_of_pairs(region, sd))).sum()) for sd in stages)
    assert crossing > 0 and len(stages) == 1


def test_unknown_stage_in_county_rule_is_refused():
    with pytest.raises(ValueError, match="county_bound_stages"):
        PolicyConfig(county_bound_stages=["primary", "highschool"])


def _table(res):
    sites = res.sites.sort_values(["stage", "site_id", "period"]).reset_index(drop=True)
    asg = res.assignments.sort_values(["stage", "period", "node_id", "school_id"]).reset_index(drop=True)
    keep = [c for c in res.summary.columns if c not in ("build_seconds", "solve_seconds", "time_limit_s")]
    return sites, asg, res.summary[keep].reset_index(drop=True)


def test_parallel_parts_give_the_sequential_answer(city):
    region, demand = city
    policy = PolicyConfig()
    stages, _ = build_stage_data(region, demand, policy, [2025, 2030], 2020, stages=("primary", "senior"))
    assert len(stages) >= 3
    one = solve_layout(stages, policy, time_limit_s=120, max_nodes=5, workers=1)
    two = solve_layout(stages, policy, time_limit_s=120, max_nodes=5, workers=2, min_parallel_pairs=0)
    for a, b in zip(_table(one), _table(two)):
        pd.testing.assert_frame_equal(a, b)
    assert set(one.summary["stop"]) <= {"", "node_limit"}
    served = one.assignments.groupby(["stage", "period"])["pupils"].sum()
    assert (served > 0).all()


def test_errors_survive_the_trip_from_a_worker_process():
    err = SolveError("求解失败", status="infeasible", gap=0.1)
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.status, back.gap) == ("求解失败", "infeasible", 0.1)
    bad = InputError([Problem(file="a.csv", row=3, field="x", expected="数", found="y")])
    back = pickle.loads(pickle.dumps(bad))
    assert back.problems == bad.problems and str(back) == str(bad)


FAILING_POOL = textwrap.dedent("""
    import dataclasses, multiprocessing, sys
    import pandas as pd
    sys.path.insert(0, sys.argv[2])
    from make_city import make_city
    from xuewei.data.region import load_region
    from xuewei.optimizer.layout import solve_layout
    from xuewei.optimizer.layout_data import build_stage_data
    from xuewei.optimizer.policy import PolicyConfig

    if __name__ == "__main__":
        region = load_region(make_city(__import__("pathlib").Path(sys.argv[1]), seed=11, counties=2,
                                       townships_per_county=4, n_nodes=80, n_schools=50))
        rows = [(n.node_id, "primary", y, "mid", n.population * 0.06) for n in region.nodes.itertuples()
                for y in range(2021, 2031)]
        demand = pd.DataFrame(rows, columns=["node_id", "stage", "year", "variant", "pupils"])
        stages, _ = build_stage_data(region, demand, PolicyConfig(), [2025, 2030], 2020, stages=("primary",))
        broken = dataclasses.replace(stages[0], pair_site=stages[0].pair_site + 10_000)  # sites that do not exist
        try:
            solve_layout([broken] + stages[1:], PolicyConfig(), time_limit_s=120, max_nodes=5, workers=2,
                         min_parallel_pairs=0)
        except IndexError:
            print("raised", len(multiprocessing.active_children()))
""")


def test_a_failing_model_stops_the_pool_and_surfaces(tmp_path):
    """A model that fails in a worker raises in the main process at once: no hang, no worker left
    (in a process of its own, so other tests' pools cannot blur the count)."""
    script = tmp_path / "failing_pool.py"
    script.write_text(FAILING_POOL, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "city"), str(PACKAGE_ROOT / "benchmarks")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["raised", "0"], proc.stdout + proc.stderr
