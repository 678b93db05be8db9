"""LocationModel on hand-worked three-node cases and the identities every solution obeys.

Nodes A, B, C on a line at 0, 1 and 3 km with demand 10, 20 and 40; a candidate site at each node.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from xuewei.errors import InputError, SolveError
from xuewei.optimizer.model import LocationModel
from xuewei.optimizer.pairs import from_matrix

POS = np.array([0.0, 1.0, 3.0])
DIST = np.abs(POS[:, None] - POS[None, :])  # km
DEMAND = np.array([10.0, 20.0, 40.0])
IDS = np.array(["A", "B", "C"])


def line(**kwargs) -> LocationModel:
    return LocationModel.from_cost_matrix(DIST, DEMAND, node_ids=IDS, site_ids=IDS, **kwargs)


def opened(model) -> list:
    return sorted(model.sites.loc[model.sites["open"], "site_id"])


def check_identities(model):
    a, u, s = model.assignments, model.unserved, model.summary.iloc[0]
    per_node = a.groupby("node_id")["demand"].sum().reindex(model.node_ids, fill_value=0.0)
    lost = u.set_index("node_id")["unserved"].reindex(model.node_ids, fill_value=0.0)
    np.testing.assert_allclose(per_node + lost, model.demand, atol=1e-6)
    assert s["objective"] == pytest.approx(s["fixed_cost"] + s["assignment_cost"] + s["unserved_cost"])
    assert s["objective"] == pytest.approx(s["solver_objective"], rel=1e-9)
    assert s["fixed_cost"] == pytest.approx(model.sites["fixed_cost"].sum())
    assert s["assignment_cost"] == pytest.approx(a["cost"].sum())
    assert s["assigned"] + s["unserved"] == pytest.approx(s["demand"])
    cap = model.sites.dropna(subset=["capacity"])
    assert (cap["load"] <= cap["capacity"] + 1e-6).all()


def test_p_median_one_site():
    m = line(p=1).solve()
    assert opened(m) == ["C"]
    assert m.objective == pytest.approx(10 * 3 + 20 * 2)
    check_identities(m)


def test_p_median_two_sites():
    m = line(p=2).solve()
    assert opened(m) == ["B", "C"]
    assert m.objective == pytest.approx(10 * 1)
    check_identities(m)


def test_uncapacitated_with_fixed_costs():
    m = line(fixed_cost=[30, 25, 30]).solve()
    assert opened(m) == ["B", "C"]
    assert m.objective == pytest.approx(25 + 30 + 10 * 1)
    check_identities(m)


def test_capacitated_splittable_sends_overflow_to_the_next_site():
    m = line(fixed_cost=[30, 25, 30], capacity=[100, 100, 30]).solve()
    assert m.objective == pytest.approx(25 + 30 + 10 * 1 + 10 * 2)
    c_split = m.assignments[m.assignments["node_id"] == "C"].set_index("site_id")["demand"]
    assert c_split.to_dict() == pytest.approx({"B": 10.0, "C": 30.0})
    check_identities(m)


def test_single_source_cannot_split_c():
    m = line(fixed_cost=[30, 25, 30], capacity=[100, 100, 30], single_source=True).solve()
    assert opened(m) == ["B"]
    assert m.objective == pytest.approx(25 + 10 * 1 + 40 * 2)
    assert m.assignments["node_id"].is_unique
    check_identities(m)


def test_max_distance_prunes_pairs():
    m = line(p=1, max_distance=2.5).solve()  # C alone would send A 3 km
    assert opened(m) == ["B"]
    assert m.objective == pytest.approx(10 * 1 + 40 * 2)
    assert m.assignments["distance"].max() <= 2.5
    check_identities(m)


def test_forced_open_and_closed_sites():
    m = line(p=2, status=["open", "candidate", "candidate"]).solve()
    assert opened(m) == ["A", "C"]
    assert m.objective == pytest.approx(20 * 1)
    m = line(p=1, status=["candidate", "candidate", "closed"]).solve()
    assert opened(m) == ["B"]
    assert m.objective == pytest.approx(10 * 1 + 40 * 2)


def test_multi_option_capacities_choose_one_size():
    options = pd.DataFrame({
        "site_id": ["A", "B", "C", "C"],
        "option": ["std", "std", "small", "large"],
        "capacity": [100, 100, 30, 50],
        "fixed_cost": [30, 25, 30, 45],
    })
    m = line(options=options).solve()
    row = m.sites.set_index("site_id").loc["C"]
    assert row["option"] == "large" and row["capacity"] == 50
    assert m.objective == pytest.approx(25 + 45 + 10 * 1)
    check_identities(m)


def test_budget_on_fixed_cost():
    m = line(fixed_cost=[30, 25, 30], budget=50).solve()
    assert opened(m) == ["C"]
    assert m.objective == pytest.approx(30 + 10 * 3 + 20 * 2)


def test_minimum_load_of_an_open_option():
    options = pd.DataFrame({"site_id": IDS, "capacity": np.inf, "fixed_cost": [30, 25, 30],
                            "min_load": [0, 0, 45]})
    m = line(options=options).solve()
    assert opened(m) == ["B", "C"]
    assert m.objective == pytest.approx(25 + 30 + 10 * 1 + 5 * 2)
    assert m.sites.set_index("site_id").loc["C", "load"] == pytest.approx(45)
    # A placeholder carries no load, so size floors switch k-nearest pruning off.
    pruned = line(options=options, k=1).solve()
    assert pruned.objective == pytest.approx(m.objective)
    assert pruned.summary["pairs_kept"].iloc[0] == pruned.summary["pairs_feasible"].iloc[0] == 9


def test_k_nearest_on_the_line_is_exact():
    m = line(p=1, k=1).solve()  # every node keeps only itself; widening must find C
    assert opened(m) == ["C"]
    assert m.objective == pytest.approx(10 * 3 + 20 * 2)
    assert m.summary["iterations"].iloc[0] > 1


def test_elastic_unserved_demand_is_reported_with_its_penalty():
    m = line(p=1, max_distance=1.5, unserved_penalty=100).solve()
    assert opened(m) == ["C"]
    u = m.unserved.set_index("node_id")
    assert u["unserved"].to_dict() == {"A": 10.0, "B": 20.0}
    assert (u["reason"] == "capacity").all()
    assert m.objective == pytest.approx(100 * (10 + 20))
    assert m.summary["unserved"].iloc[0] == pytest.approx(30)
    check_identities(m)


def test_elastic_node_without_site_gets_reason_no_site():
    m = line(max_distance=1.5, status=["candidate", "candidate", "closed"], unserved_penalty="auto").solve()
    u = m.unserved.set_index("node_id")
    assert list(u.index) == ["C"] and u.loc["C", "reason"] == "no_site"
    assert "没有可用站点" in u.loc["C", "reason_zh"]
    penalty = m.summary["unserved_penalty"].iloc[0]
    assert penalty == 10.0  # ten times the largest unit cost (1 km) and at least 1
    assert m.objective == pytest.approx(penalty * 40)
    check_identities(m)


def test_strict_model_without_feasible_site_raises():
    with pytest.raises(InputError, match="C 没有可达站点"):
        line(max_distance=1.5, status=["candidate", "candidate", "closed"]).solve()


def test_demand_above_total_capacity_raises_with_numbers():
    with pytest.raises(InputError, match="总需求 70 > 最大总容量 30"):
        line(capacity=[10, 10, 10]).solve()


def test_single_source_node_larger_than_every_site_raises():
    with pytest.raises(InputError, match="C 的需求超过其所有可达站点的最大容量"):
        line(capacity=[35, 35, 35], single_source=True).solve()


def test_strict_infeasible_model_is_diagnosed_by_its_elastic_twin():
    with pytest.raises(InputError, match="需求无法满足") as info:
        line(p=1, max_distance=1.5).solve()
    twin = info.value.diagnosis
    assert set(twin.unserved["node_id"]) == {"A", "B"}
    assert twin.unserved["unserved"].sum() == pytest.approx(30)


def test_p_larger_than_usable_sites_raises():
    with pytest.raises(InputError, match="不超过可用站点数 2"):
        line(p=3, status=["candidate", "candidate", "closed"]).solve()


def test_results_before_solve_raise():
    with pytest.raises(SolveError, match="尚未求解"):
        line(p=1).sites


def test_bad_inputs_raise_input_error():
    with pytest.raises(InputError, match="demand"):
        LocationModel.from_cost_matrix(DIST, [1, -2, 3])
    with pytest.raises(InputError, match="cost"):
        LocationModel.from_cost_matrix(DIST[:, :2].T, DEMAND)
    with pytest.raises(InputError, match="status"):
        line(status=["open", "maybe", "closed"])


def test_from_pairs_table():
    pairs = from_matrix(DIST).frame(IDS, IDS)
    pairs = pairs[pairs["distance"] <= 2]
    m = LocationModel.from_pairs(
        pd.DataFrame({"node_id": IDS, "demand": DEMAND}), pd.DataFrame({"site_id": IDS, "status": "candidate"}),
        pd.DataFrame({"site_id": IDS, "capacity": np.inf, "fixed_cost": 0.0}), pairs, cost_basis="per_unit", p=1)
    m.solve()
    assert opened(m) == ["B"]
    assert m.objective == pytest.approx(10 * 1 + 40 * 2)


def test_nearest_keeps_ties_and_reports_the_cheapest_pruned_cost():
    cost = np.array([[5.0, 1.0, 3.0, 3.0, 9.0]])
    kept, floor = from_matrix(cost).nearest(np.array([2]))
    assert kept.sum() == 3  # 1, 3 and the tied 3
    assert floor[0] == 5.0
    kept, floor = from_matrix(cost).nearest(np.array([5]))
    assert kept.all() and np.isnan(floor[0])


def _frames(crs):
    xs = 500_000 + 1000 * POS  # metres in UTM zone 49N
    nodes = gpd.GeoDataFrame({"pupils": DEMAND}, geometry=[Point(x, 3_480_000) for x in xs], crs=32649, index=IDS)
    sites = gpd.GeoDataFrame({"places": [100.0] * 3}, geometry=list(nodes.geometry), crs=32649, index=IDS)
    return nodes.to_crs(crs), sites.to_crs(crs)


@pytest.mark.parametrize("crs", [32649, 4326])
def test_from_geodataframes_projects_before_measuring(crs):
    nodes, sites = _frames(crs)
    m = LocationModel.from_geodataframes(nodes, sites, "pupils", capacity_col="places", p=1).solve()
    assert opened(m) == ["C"]
    assert m.objective == pytest.approx(10 * 3 + 20 * 2, rel=1e-6)


def test_from_geodataframes_requires_a_crs():
    nodes, sites = _frames(32649)
    nodes = nodes.set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="未声明 CRS"):
        LocationModel.from_geodataframes(nodes, sites, "pupils", p=1)


def test_extend_hook_adds_constraints_by_array_position():
    import pulp

    def forbid_c(built, arrays):  # e.g. a rule from the layout policy: site C may not open
        r = int(np.flatnonzero(arrays.opt_site == 2)[0])
        built.prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression([(built.y[r], 1.0)]),
                                                   pulp.LpConstraintEQ, "no_c", 0))

    m = line(p=1).solve(extend=forbid_c)
    assert opened(m) == ["B"]
    assert m.objective == pytest.approx(10 * 1 + 40 * 2)


def test_modular_capacity_counts_classes():
    # Each module (class) holds 10 and costs 2; a site holds at most 5 modules.
    options = pd.DataFrame({"site_id": IDS, "capacity": 0.0, "fixed_cost": [30, 25, 30],
                            "module_capacity": 10.0, "module_cost": 2.0, "max_modules": 5})
    m = line(options=options).solve()
    s = m.sites.set_index("site_id")
    assert opened(m) == ["B", "C"]
    assert s.loc["B", "modules"] == 3 and s.loc["C", "modules"] == 4
    assert s.loc["C", "capacity"] == 40 and s.loc["C", "fixed_cost"] == 30 + 4 * 2
    assert m.objective == pytest.approx(25 + 30 + 7 * 2 + 10 * 1)
    check_identities(m)
    options["min_modules"] = 4
    m = line(options=options).solve()
    assert m.sites.set_index("site_id").loc["B", "modules"] == 4
    assert m.objective == pytest.approx(25 + 30 + 8 * 2 + 10 * 1)


def test_modular_capacity_limits_are_checked_before_solving():
    options = pd.DataFrame({"site_id": IDS, "capacity": 0.0, "fixed_cost": 0.0,
                            "module_capacity": 10.0, "module_cost": 1.0, "max_modules": 2})
    with pytest.raises(InputError, match="总需求 70 > 最大总容量 60"):
        line(options=options).solve()
    options["min_modules"] = 3
    with pytest.raises(InputError, match="min_modules ≤ max_modules"):
        line(options=options)


def test_elastic_penalty_skips_zero_demand_nodes():
    # A has no demand; B can only reach A and B, C only itself within 1.5 km.
    m = LocationModel.from_cost_matrix(DIST, [0.0, 20.0, 40.0], node_ids=IDS, site_ids=IDS, p=1,
                                       max_distance=1.5, unserved_penalty=100).solve()
    assert opened(m) == ["C"]
    assert m.unserved.set_index("node_id")["unserved"].to_dict() == {"B": 20.0}
    assert m.objective == pytest.approx(100 * 20)
    check_identities(m)


def test_warm_start_from_the_repaired_relaxation_keeps_the_optimum():
    # The splittable optimum opens B and C (85); repaired into catchments every node goes to B
    # (145, C too small for its own 40). The solver must still prove 115 (close C), and the
    # returned layout must be the optimum, not the start (HiGHS 1.16 returned the start once).
    m = line(fixed_cost=[30, 25, 30], capacity=[100, 100, 30], single_source=True).solve(warm_start="relax")
    assert opened(m) == ["B"]
    assert m.objective == pytest.approx(25 + 10 * 1 + 40 * 2)
    assert m.summary["start_seconds"].iloc[0] > 0
    check_identities(m)


def test_warm_start_rejects_unknown_strategies():
    with pytest.raises(InputError, match="warm_start"):
        line(p=1, single_source=True).solve(warm_start="magic")
