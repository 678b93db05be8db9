"""The school-layout model: hand-worked optimum, accounting identities, rules, diagnosis."""

import numpy as np
import pandas as pd
import pytest

from conftest import TESTS
from xuewei.data.region import load_region
from xuewei.optimizer.actions import derive_actions, kind_of
from xuewei.optimizer.layout import StageData, solve_layout
from xuewei.optimizer.layout_data import build_stage_data
from xuewei.optimizer.policy import PolicyConfig

TINY = TESTS / "data" / "tiny"


def one_stage(demand, c0, K, dist_km, boarding=None, origin=None, years=(5.0,)):
    """A primary-stage model with given villages × schools (existing schools unless told otherwise)."""
    n, s = np.asarray(dist_km).shape
    pn, ps = np.nonzero(np.ones((n, s), dtype=bool))
    sites = pd.DataFrame({"site_id": [f"S{j}" for j in range(s)], "origin": origin or ["existing"] * s,
                          "c0": c0, "K": K, "beds0": 0.0, "can_add_beds": False, "tier": "township_seat",
                          "force_open": False, "build_fixed": 0.0, "name": "x", "kind": "primary",
                          "township_id": "T"})
    return StageData(stage="primary", sites=sites, node_ids=np.array([f"N{i}" for i in range(n)]),
                     demand=np.asarray(demand, dtype=float), pair_node=pn, pair_site=ps,
                     pair_km=np.asarray(dist_km, dtype=float)[pn, ps],
                     pair_boarding=np.zeros(len(pn), bool) if boarding is None else np.asarray(boarding)[pn, ps],
                     years=np.asarray(years), periods=[2025 + 5 * t for t in range(len(years))])


def test_hand_worked_single_school():
    """90 pupils, one school of 2 classes 3 km away: keep 2 classes; cost written out by hand."""
    pol = PolicyConfig(class_change_wan_yuan=0.0)
    sd = one_stage(demand=[[90.0]], c0=[2], K=[4], dist_km=[[3.0]])
    res = solve_layout([sd], pol, threads=1)
    years, rate = 5.0, pol.travel_per_pupil_km_year_wan_yuan
    expected = years * (2 * pol.running_per_class_year_wan_yuan["primary"] + pol.running_per_school_year_wan_yuan
                        + 90 * 3.0 * rate)
    assert res.summary["objective_wan_yuan"].iloc[0] == pytest.approx(expected)
    assert res.sites["classes"].tolist() == [2]


def test_small_school_closes_when_travel_is_cheap_and_stays_when_it_is_not():
    # Village N1 (20 pupils) sits at small school S1; S0 is a big school 2 km away with room.
    dist = [[0.5, 2.0], [2.0, 0.2]]
    cheap = one_stage(demand=[[400.0], [20.0]], c0=[10, 1], K=[12, 1], dist_km=dist)
    res = solve_layout([cheap], PolicyConfig(), threads=1)
    assert res.sites.set_index("site_id")["open"].to_dict() == {"S0": True, "S1": False}
    dear = PolicyConfig(travel_per_pupil_km_year_wan_yuan=10.0)
    res = solve_layout([one_stage(demand=[[400.0], [20.0]], c0=[10, 1], K=[12, 1], dist_km=dist)], dear, threads=1)
    assert res.sites.set_index("site_id")["open"].to_dict() == {"S0": True, "S1": True}


@pytest.mark.parametrize("single_source,served_pupils", [(False, 90.0), (True, 0.0)])
def test_unserved_when_capacity_is_short(single_source, served_pupils):
    """Two villages of 100 and one school of 2 × 45 places: split, 90 go; as catchments, no village fits."""
    sd = one_stage(demand=[[100.0, 100.0], [100.0, 100.0]], c0=[2], K=[2], dist_km=[[1.0], [1.0]],
                   years=(5.0, 5.0))
    res = solve_layout([sd], PolicyConfig(single_source=single_source), threads=1)
    served = res.assignments.groupby("period")["pupils"].sum().reindex([2025, 2030], fill_value=0.0)
    unserved = res.unserved.groupby("period")["pupils"].sum().reindex([2025, 2030], fill_value=0.0)
    assert (served + unserved).tolist() == pytest.approx([200.0, 200.0])
    assert served.tolist() == pytest.approx([served_pupils] * 2)


@pytest.fixture(scope="module")
def tiny_layout():
    region = load_region(TINY)
    rows = []
    share = {"kindergarten": 0.03, "primary": 0.07, "junior": 0.035, "senior": 0.03}
    for n in region.nodes.itertuples():
        for g, s in share.items():
            for y in range(2021, 2031):
                rows.append((n.node_id, g, y, "mid", n.population * s * (1 - 0.02 * (y - 2020))))
    demand = pd.DataFrame(rows, columns=["node_id", "stage", "year", "variant", "pupils"])
    policy = PolicyConfig(village_kindergarten=True, travel_limit_km={"kindergarten": 5.0})
    stage_data, unreachable = build_stage_data(region, demand, policy, [2025, 2030], 2020)
    result = solve_layout(stage_data, policy, threads=1)
    return region, demand, policy, stage_data, unreachable, result


def test_every_pupil_is_assigned_or_reported(tiny_layout):
    region, demand, policy, stage_data, unreachable, res = tiny_layout
    demand_by_stage = {}
    for sd in stage_data:  # a stage may be split into independent parts
        demand_by_stage[sd.stage] = demand_by_stage.get(sd.stage, 0.0) + sd.demand.sum(axis=0)
    for stage, expected in demand_by_stage.items():
        got = res.assignments[res.assignments["stage"] == stage].groupby("period")["pupils"].sum()
        miss = res.unserved[res.unserved["stage"] == stage].groupby("period")["pupils"].sum()
        total = got.add(miss, fill_value=0.0)
        assert total.tolist() == pytest.approx(expected.tolist())


def test_capacity_class_caps_and_travel_limits_hold(tiny_layout):
    region, demand, policy, stage_data, unreachable, res = tiny_layout
    s = res.sites
    assert (s["pupils"] <= s["places"] + 1e-6).all()
    assert (s["places"] == s["classes"] * s["stage"].map(policy.class_cap)).all()
    a = res.assignments
    day = ~a["boarding"]
    assert (a.loc[day, "distance_km"] <= a.loc[day, "stage"].map(policy.travel_limit_km) + 1e-9).all()
    assert not a.loc[a["stage"] == "kindergarten", "boarding"].any()


def test_closed_schools_never_reopen(tiny_layout):
    *_, res = tiny_layout
    s = res.sites[res.sites["origin"] == "existing"].pivot_table(index=["site_id", "stage"], columns="period",
                                                                 values="open")
    assert not ((s[2025] == 0) & (s[2030] == 1)).any()


def test_actions_cover_every_school_each_period(tiny_layout):
    region, demand, policy, stage_data, unreachable, res = tiny_layout
    actions = derive_actions(region, res.sites, res.assignments, stage_data, policy, 2020)
    assert set(actions["action"]) <= {"keep", "expand", "shrink", "build", "merge", "close", "convert"}
    first = actions[actions["period"] == 2025]
    assert set(region.schools["school_id"]) <= set(first["school_id"])
    assert (actions["action_zh"].notna()).all()


@pytest.mark.parametrize("stages,primary,village,kind", [
    ({"primary", "junior"}, 12, False, "nine_year"),
    ({"junior", "senior"}, 0, False, "complete_secondary"),
    ({"primary"}, 3, True, "teaching_point"),
    ({"primary"}, 3, False, "primary"),
    ({"kindergarten", "primary"}, 12, True, "primary"),
    ({"kindergarten"}, 0, True, "kindergarten"),
])
def test_kind_of_stage_sets(stages, primary, village, kind):
    assert kind_of(stages, primary, village) == kind


def test_independent_parts_are_solved_apart_with_the_same_optimum():
    """Two valleys no pair links: the split gives two models whose optima add up to the whole's."""
    from xuewei.optimizer.layout_data import split_parts

    far = 999.0
    dist = [[1.0, 2.0, far, far], [2.0, 1.0, far, far], [far, far, 1.0, 3.0], [far, far, 2.0, 0.5]]
    whole = one_stage(demand=[[80.0], [30.0], [60.0], [20.0]], c0=[2, 1, 2, 1], K=[3, 1, 3, 1], dist_km=dist)
    keep = whole.pair_km < far
    whole.pair_node, whole.pair_site = whole.pair_node[keep], whole.pair_site[keep]
    whole.pair_km, whole.pair_boarding = whole.pair_km[keep], whole.pair_boarding[keep]
    parts = split_parts(whole)
    assert [len(p.node_ids) for p in parts] == [2, 2] and [p.name for p in parts] == ["primary#1", "primary#2"]
    pol = PolicyConfig()
    split = solve_layout(parts, pol, threads=1).summary["objective_wan_yuan"].sum()
    joint = solve_layout([whole], pol, threads=1).summary["objective_wan_yuan"].iloc[0]
    assert split == pytest.approx(joint, rel=1e-6)


def test_node_limited_solves_are_reproducible_and_never_worse_than_the_start():
    """Reproducible mode: a work limit (nodes) instead of the clock, fixed seed, one thread."""
    region = load_region(TINY)
    rows = [(n.node_id, "primary", y, "mid", n.population * 0.07) for n in region.nodes.itertuples()
            for y in range(2021, 2031)]
    demand = pd.DataFrame(rows, columns=["node_id", "stage", "year", "variant", "pupils"])
    policy = PolicyConfig()
    runs = []
    for _ in range(2):
        stage_data, _ = build_stage_data(region, demand, policy, [2025, 2030], 2020, stages=("primary",))
        res = solve_layout(stage_data, policy, threads=1, max_nodes=1)
        runs.append(res.sites.sort_values(["site_id", "period"])[["site_id", "period", "classes"]].to_numpy().tolist())
        assert res.summary["status"].isin(["optimal", "feasible"]).all()
    assert runs[0] == runs[1]


def test_budget_a_split_leaves_unspent_goes_to_the_model_it_left_short(monkeypatch):
    """The budget is split between the stages before solving (`_split_budget`). When a share goes unspent
    while another model's share binds and leaves pupils unserved, the money left is handed to that model,
    which is solved again: here the split gives the junior model everything and primary nothing, primary
    (180 pupils, 2 classes of 45) leaves a village of 90 unserved, and after the reallocation it builds its
    2 classes and serves everyone. solver.csv states the final shares, what each spends, and the answer
    under the first split; the shares still add up to the budget."""
    from dataclasses import replace as dc_replace

    from xuewei.optimizer import layout as layout_mod
    from xuewei.optimizer.unserved import diagnose_unserved

    pol = PolicyConfig(class_change_wan_yuan=0.0)
    need = 2 * pol.expand_per_class_wan_yuan["primary"]
    budget = need + 1.0
    policy = PolicyConfig(class_change_wan_yuan=0.0, budget_wan_yuan=[budget])
    primary = one_stage(demand=[[90.0], [90.0]], c0=[2], K=[4], dist_km=[[1.0], [2.0]])
    junior = dc_replace(one_stage(demand=[[40.0]], c0=[1], K=[1], dist_km=[[1.0]]), stage="junior")
    monkeypatch.setattr(layout_mod, "_split_budget", lambda stages, policy, b: [[0.0], [budget]])
    first = solve_layout([primary, junior], policy, threads=1, max_nodes=1)
    assert first.unserved.empty
    s = first.summary.set_index("model")
    assert s.loc["primary", "budget_wan_yuan"] == f"{budget:.0f}"
    assert s.loc["primary", "capital_wan_yuan"] == f"{need:.0f}"
    assert s.loc["junior", "budget_wan_yuan"] == "0" and s.loc["junior", "capital_wan_yuan"] == "0"
    assert s.loc["primary", "split_answer_wan_yuan"] > s.loc["primary", "objective_wan_yuan"] + 90 * 0.9 * \
        policy.unserved_penalty_wan_yuan
    assert first.sites.set_index(["site_id", "stage"]).loc[("S0", "primary"), "classes"] == 4

    # Without reallocation rounds the primary village stays unserved, and the reason names the
    # split: the county's limit, the stage's share and what it spends.
    monkeypatch.setattr(layout_mod, "REALLOCATE_ROUNDS", 0)
    short = solve_layout([primary, junior], policy, threads=1, max_nodes=1)
    assert short.unserved["pupils"].sum() == pytest.approx(90.0)
    why = diagnose_unserved(short.units, short.sites, [primary, junior], policy, short.summary)
    assert why["reason"].tolist() == ["budget"]
    assert f"本期全县 {budget:g} 万元，其中该学段分得 0 万元、已用 0 万元；接收该村至少还要 {need:,.0f} 万元" \
        in why["reason_zh"].iloc[0]
    # Had the stage been left enough of its share for the village's classes, the budget would not be what binds:
    # the solver stopped before it used the money, and the reason says so.
    rich = short.summary.assign(budget_wan_yuan=[f"{budget:.0f}" if m == "primary" else "0" for m in short.summary["model"]])
    why = diagnose_unserved(short.units, short.sites, [primary, junior], policy, rich)
    assert why["reason"].tolist() == ["solver"]


def test_unserved_because_taking_them_costs_more_than_the_penalty_says_so():
    """One pupil whose only school in reach is a site still to be built: a new school (500 万元 fixed, a
    class, its running) costs more than the penalty for leaving one pupil unserved, so the model leaves
    them and the reason names the penalty with both sums — not "the solver stopped"."""
    from dataclasses import replace as dc_replace

    from xuewei.optimizer.layout import class_unit_capital
    from xuewei.optimizer.unserved import diagnose_unserved

    policy = PolicyConfig(class_change_wan_yuan=0.0)
    sd = one_stage(demand=[[1.0]], c0=[0], K=[2], dist_km=[[1.0]], origin=["candidate"])
    sd = dc_replace(sd, sites=sd.sites.assign(build_fixed=500.0))
    res = solve_layout([sd], policy, threads=1, max_nodes=1)
    assert res.unserved["pupils"].sum() == pytest.approx(1.0) and res.summary["status"].iloc[0] == "optimal"
    why = diagnose_unserved(res.units, res.sites, [sd], policy, res.summary).iloc[0]
    take = (class_unit_capital(sd.sites, policy, "primary")[0] + 5 * policy.running_per_class_year_wan_yuan["primary"]
            + 5 * policy.running_per_school_year_wan_yuan + 500.0 + 5 * 1.0 * policy.travel_per_pupil_km_year_wan_yuan)
    assert take > policy.unserved_penalty_wan_yuan
    assert why["reason"] == "penalty" and why["scenario_key"] == "[policy] unserved_penalty_wan_yuan"
    assert why["rule_value"] == f"每人每期 200 万元，这些学生共 200 万元；接收他们本期至少要 {take:,.0f} 万元"
    # With a penalty above that cost the model builds the school and serves the pupil.
    dear = PolicyConfig(class_change_wan_yuan=0.0, unserved_penalty_wan_yuan=take + 100.0)
    assert solve_layout([sd], dear, threads=1, max_nodes=1).unserved.empty


def test_unserved_doctests_pass():
    import doctest

    from xuewei.optimizer import unserved

    result = doctest.testmod(unserved, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0


def _seat_and_school():
    """Two stages: primary with one existing school, junior whose only township-seat site is a candidate
    (a new school must be built there, `mandatory_capital`)."""
    from dataclasses import replace as dc_replace

    primary = one_stage(demand=[[90.0], [90.0]], c0=[2], K=[4], dist_km=[[1.0], [2.0]])
    junior = one_stage(demand=[[40.0]], c0=[0], K=[2], dist_km=[[1.0]], origin=["candidate"])
    junior = dc_replace(junior, stage="junior", sites=junior.sites.assign(build_fixed=500.0),
                        seat_groups=[np.array([0])])
    return primary, junior


def test_budget_split_gives_each_stage_the_schools_it_must_build_first():
    """A junior seat with only a candidate site must get its school (500 + one class at 150 万元): the
    split gives junior that first and shares the rest by greedy need; proportional shares alone once
    left such a model with no layout at all (江阳, 3,000 万元). The greedy start stays within the share
    even though it opens the seat's school before anything else."""
    from xuewei.optimizer.layout import _greedy, _split_budget, budget_shortfall, mandatory_capital

    primary, junior = _seat_and_school()
    policy = PolicyConfig(class_change_wan_yuan=0.0, budget_wan_yuan=[700.0])
    assert mandatory_capital(junior, policy).tolist() == [650.0]
    assert mandatory_capital(primary, policy).tolist() == [0.0]
    shares = _split_budget([primary, junior], policy, [700.0])
    assert shares[1][0] >= 650.0 and shares[0][0] + shares[1][0] == pytest.approx(700.0)
    start = _greedy(junior, policy, np.zeros(1, dtype=bool), shares[1])
    assert start["capital"][0] <= shares[1][0] + 1e-9
    res = solve_layout([primary, junior], policy, threads=1, max_nodes=1)
    assert set(res.summary["status"]) <= {"optimal", "feasible"}
    served = res.assignments.groupby("stage")["pupils"].sum()
    assert served["junior"] == pytest.approx(40.0)
    assert budget_shortfall([primary, junior], policy, [700.0]) == []
    assert budget_shortfall([primary, junior], policy, [600.0]) == [(0, 600.0, 650.0, [("junior", "S0", 650.0)])]


def test_budget_below_what_must_be_built_is_refused_before_solving(tmp_path, capsys):
    """`xuewei run` with a budget below the seats' new schools ends with exit code 2, one message naming
    the scenario key and the schools, and no output folder."""
    from xuewei.cli import main

    root = TESTS.parent
    src = (root / "scenarios" / "jiangyang.toml").read_text(encoding="utf-8")
    src = src.replace('region = "../data/regions/jiangyang"', f'region = "{(root / "data/regions/jiangyang").as_posix()}"')
    src = src.replace("[policy]\n", "[policy]\nbudget_wan_yuan = [100.0]\n", 1)
    scen = tmp_path / "jy.toml"
    scen.write_text(src, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scen), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "policy.budget_wan_yuan" in err and "必建" in err and "第 " in err and "Traceback" not in err
    assert "备选用地" in err  # each site to build is named (site name, township), not only its id
    assert not out.exists()


def test_actions_count_capital_as_the_model_does():
    """`actions.csv` `cost_wan_yuan` per period adds up to the model's `capital_wan_yuan` (what the budget
    limits): the new school's own fixed cost (here 500, not the policy's default), classes beyond the
    most ever built (`classes_built`), and beds from today's. Before, the two differed (江阳 under 3,000
    万元: 2,910 against 2,986; beds added in the first period were not counted)."""
    from xuewei.optimizer.actions import capital_cost

    primary, junior = _seat_and_school()
    policy = PolicyConfig(class_change_wan_yuan=0.0, budget_wan_yuan=[1000.0], build_fixed_wan_yuan=800.0)
    res = solve_layout([primary, junior], policy, threads=1, max_nodes=1)
    cost = capital_cost(res.sites, policy, 2020, [primary, junior]).groupby("stage")["cost_wan_yuan"].sum()
    spent = res.summary.set_index("model")["capital_wan_yuan"].astype(float)
    assert cost["junior"] == pytest.approx(spent["junior"]) == pytest.approx(650.0)
    assert cost["primary"] == pytest.approx(spent["primary"]) == pytest.approx(2 * policy.expand_per_class_wan_yuan["primary"])
    assert (res.sites["classes_built"] >= res.sites["classes"]).all()


def test_classes_are_built_whole_under_a_budget():
    """Under a budget the classes built (``m``) are whole: the objective sees only their sum over periods, so a
    continuous ``m`` could pay for a third of a class in one period and the rest in the next (山区县 under
    3,000 万元: 427 万元 in 2030 against 400 in `actions.csv`). Without a budget they stay continuous (they are
    whole at every optimum and the model is smaller for HiGHS)."""
    from xuewei.optimizer.layout import build_group

    for budget, cat in ((None, "Continuous"), ([1000.0, 1000.0], "Integer")):
        two = one_stage(demand=[[90.0, 120.0]], c0=[2], K=[4], dist_km=[[1.0]], years=(5.0, 5.0))
        gm = build_group([two], PolicyConfig(budget_wan_yuan=budget), budget)
        cats = {v.cat for v in gm.prob.variables() if v.name.startswith("mpr")}
        assert cats == {cat}
