"""Tightening keeps the optimum and raises the LP bound; the local search never makes a layout worse,
is deterministic and reaches the optimum of a model it covers whole; SCIP (optional) agrees."""

import numpy as np
import pulp
import pytest

from test_layout import one_stage
from xuewei.optimizer import strengthen
from xuewei.optimizer.improve import improve
from xuewei.optimizer.layout import build_group, solve_layout
from xuewei.optimizer.policy import PolicyConfig
from xuewei.optimizer.solve import TimedHiGHS


def _lp_and_mip(sd, policy):
    lp = build_group([sd], policy, None)
    lp.prob.solve(TimedHiGHS(msg=False, mip=False))
    res = solve_layout([sd], policy, threads=1, gap_rel=1e-9)
    return pulp.value(lp.prob.objective), res.summary["objective_wan_yuan"].iloc[0]


def _villages():
    """Six villages of 30–100 pupils and three schools of room 2–4 classes, two periods."""
    rng = np.random.default_rng(5)
    demand = rng.uniform(30, 100, size=(6, 2)).round(1)
    dist = rng.uniform(0.5, 4.5, size=(6, 3)).round(2)
    return one_stage(demand=demand, c0=[2, 1, 1], K=[4, 3, 4], dist_km=dist, years=(5.0, 5.0))


@pytest.mark.parametrize("which", [(), ("pairs",), ("limits",), ("floors",), strengthen.DEFAULT])
def test_tightening_keeps_the_optimum(monkeypatch, which):
    monkeypatch.setattr(strengthen, "ENABLED", which)
    lp, mip = _lp_and_mip(_villages(), PolicyConfig())
    monkeypatch.setattr(strengthen, "ENABLED", ())
    lp0, mip0 = _lp_and_mip(_villages(), PolicyConfig())
    assert mip == pytest.approx(mip0, rel=1e-7)
    assert lp >= lp0 - 1e-6  # never weaker
    assert lp <= mip + 1e-6


def test_a_village_no_school_can_hold_is_unserved_in_the_lp_too(monkeypatch):
    # 3,000 pupils, two schools of at most 2,000 (size cap): every layout leaves the village unserved.
    sd = one_stage(demand=[[3000.0], [40.0]], c0=[40, 1], K=[48, 3], dist_km=[[1.0, 2.0], [2.0, 1.0]])
    monkeypatch.setattr(strengthen, "ENABLED", ())
    lp0, mip = _lp_and_mip(sd, PolicyConfig())
    monkeypatch.setattr(strengthen, "ENABLED", ("pairs",))
    lp, mip1 = _lp_and_mip(sd, PolicyConfig())
    assert mip1 == pytest.approx(mip)
    penalty = PolicyConfig().unserved_penalty_wan_yuan * 3000
    assert lp0 < 0.5 * mip  # the LP served the big village fractionally
    assert lp >= penalty and lp == pytest.approx(mip, rel=0.05)


def test_local_search_improves_deterministically_to_the_optimum_of_a_small_model():
    sd, policy = _villages(), PolicyConfig()
    runs = []
    for _ in range(2):
        gm = build_group([sd], policy, None)
        start = {v: v.varValue for v in gm.prob.variables() if v.varValue is not None}
        out, rep = improve(gm, start, max_sweeps=3)
        runs.append((rep.after, [out[v] for v in gm.prob.variables()]))
        assert rep.after <= rep.before + 1e-9
    assert runs[0] == runs[1]
    # Three schools, a neighbourhood of up to six: the search re-optimises the whole model at once.
    optimum = solve_layout([sd], policy, threads=1, gap_rel=1e-9).summary["objective_wan_yuan"].iloc[0]
    assert runs[0][0] == pytest.approx(optimum, rel=1e-7)


def test_neighbourhoods_sized_by_pairs_grow_to_cover_the_model():
    sd, policy = _villages(), PolicyConfig()
    optimum = solve_layout([sd], policy, threads=1, gap_rel=1e-9).summary["objective_wan_yuan"].iloc[0]
    after = {}
    for min_pairs in (0, 10_000):
        gm = build_group([sd], policy, None)
        start = {v: v.varValue for v in gm.prob.variables() if v.varValue is not None}
        _, rep = improve(gm, start, max_sweeps=3, neighbours=0, min_pairs=min_pairs, max_neighbours=None)
        after[min_pairs] = rep.after + float(gm.objective.constant)
    # One school at a time cannot move a village between schools; grown to every school it can.
    assert after[0] > optimum * (1 + 1e-4)
    assert after[10_000] == pytest.approx(optimum, rel=1e-7)


def test_solver_summary_counts_nodes_and_keeps_the_start_costs():
    s = solve_layout([_villages()], PolicyConfig(), threads=1, max_nodes=1, improve_sweeps=1).summary.iloc[0]
    assert s["nodes"] >= 0 and s["greedy_wan_yuan"] >= s["improved_wan_yuan"] >= s["objective_wan_yuan"] - 1e-6


def test_scip_reaches_the_same_optimum():
    pytest.importorskip("pyscipopt")
    sd, policy = _villages(), PolicyConfig()
    highs = solve_layout([sd], policy, threads=1, gap_rel=1e-9).summary.iloc[0]
    scip = solve_layout([sd], policy, solver="scip", threads=1, gap_rel=1e-9).summary.iloc[0]
    assert scip["solver"] == "scip" and scip["status"] == "optimal"
    assert scip["objective_wan_yuan"] == pytest.approx(highs["objective_wan_yuan"], rel=1e-6)


def test_reproducible_mode_fixes_the_heuristic_effort():
    # The share of work HiGHS's heuristics may take is set explicitly (counted in LP iterations, not seconds).
    from xuewei.optimizer import solve

    gm = build_group([_villages()], PolicyConfig(), None)
    solve.solve_problem(gm.prob, threads=1, max_nodes=1)
    assert gm.prob.solverModel.getOptionValue("mip_heuristic_effort")[1] == solve.HEURISTIC_EFFORT == 0.05


def test_polish_with_openings_fixed_finds_the_best_answer_for_them_and_restores_the_model():
    from xuewei.optimizer.layout import _polish
    from xuewei.optimizer.solve import SolveReport

    sd, policy = _villages(), PolicyConfig()
    optimum = solve_layout([sd], policy, threads=1, gap_rel=1e-9).summary["objective_wan_yuan"].iloc[0]
    gm = build_group([sd], policy, None)  # holds the greedy start: every school open, poor catchments
    opens = [var for per_t in gm.stage_vars[0].o for var in per_t]
    bounds = [(var.lowBound, var.upBound) for var in opens]
    assert all(var.varValue == 1 for var in opens)
    greedy = pulp.value(gm.prob.objective)
    bound = optimum - 10.0
    report = SolveReport("feasible", greedy, bound, (greedy - bound) / greedy, "highs", None, 1.0, stop="node_limit")
    polished, _ = _polish(gm, report, "highs", 60.0, 1e-9, nodes=1000)
    # The optimum keeps all three schools open, so the fixed problem reaches it; the gap is against
    # the bound given (the whole model's), and the values held by the variables are that answer.
    assert greedy > optimum * 1.1
    assert polished.objective == pytest.approx(optimum, rel=1e-7)
    assert polished.gap == pytest.approx((optimum - bound) / optimum, rel=1e-6)
    assert polished.bound == bound and polished.status == "feasible" and polished.stop == "node_limit"
    assert pulp.value(gm.prob.objective) == pytest.approx(optimum, rel=1e-7)
    assert [(var.lowBound, var.upBound) for var in opens] == bounds
    # Polishing the answer again finds nothing cheaper: the report and the values stay as they are.
    values = [var.varValue for var in gm.prob.variables()]
    again, _ = _polish(gm, polished, "highs", 60.0, 1e-9, nodes=1000)
    assert again == polished and [var.varValue for var in gm.prob.variables()] == values


@pytest.mark.parametrize("sub_options", ["default", "highs-defaults"])
def test_refine_search_on_the_answer_reaches_the_optimum_keeps_the_bound_and_is_repeatable(sub_options, monkeypatch):
    from xuewei.optimizer import improve
    from xuewei.optimizer.layout import REFINE_NEIGHBOURS, _refine
    from xuewei.optimizer.solve import SolveReport

    if sub_options == "highs-defaults":  # what benchmarks/refine_search.py --highs-defaults compares against
        monkeypatch.setattr(improve, "SUB_OPTIONS", {})
    else:
        assert improve.SUB_OPTIONS == {"mip_pool_soft_limit": 1, "mip_allow_restart": False}

    sd, policy = _villages(), PolicyConfig()
    optimum = solve_layout([sd], policy, threads=1, gap_rel=1e-9).summary["objective_wan_yuan"].iloc[0]
    gm = build_group([sd], policy, None)  # holds the greedy start
    greedy = pulp.value(gm.prob.objective)
    bound = optimum - 10.0
    report = SolveReport("feasible", greedy, bound, (greedy - bound) / greedy, "highs", None, 1.0, stop="node_limit")
    # Three schools and neighbourhoods of 1 + REFINE_NEIGHBOURS: one sweep re-optimises the whole model.
    assert REFINE_NEIGHBOURS + 1 >= len(sd.sites)
    refined, seconds, clock = _refine(gm, report, 1, deadline=float("inf"))
    assert greedy > optimum * 1.1 and not clock and seconds >= 0
    assert refined.objective == pytest.approx(optimum, rel=1e-7)
    assert refined.gap == pytest.approx((optimum - bound) / optimum, rel=1e-6)
    assert refined.bound == bound and refined.status == "feasible" and refined.stop == "node_limit"
    assert pulp.value(gm.prob.objective) == pytest.approx(optimum, rel=1e-7)  # the variables hold the answer
    values = [var.varValue for var in gm.prob.variables()]
    again, _, _ = _refine(gm, refined, 1, deadline=float("inf"))
    assert again == refined and [var.varValue for var in gm.prob.variables()] == values


def test_solver_summary_keeps_the_answer_before_the_refine_search():
    # The columns are there whether or not the search ran. It runs on every model whose gap stays
    # above 1%, whatever its size (this one has 18 pairs and stops 2.3% off at its root).
    s = solve_layout([_villages()], PolicyConfig(), threads=1, max_nodes=1, polish_nodes=0).summary.iloc[0]
    assert s["polished_wan_yuan"] == s["solver_answer_wan_yuan"]
    assert s["refine_seconds"] > 0 and s["objective_wan_yuan"] <= s["refined_wan_yuan"] <= s["polished_wan_yuan"]
    off = solve_layout([_villages()], PolicyConfig(), threads=1, max_nodes=1, polish_nodes=0, refine_sweeps=0).summary.iloc[0]
    assert off["refine_seconds"] == 0 and off["objective_wan_yuan"] == off["polished_wan_yuan"]


def test_finish_branches_from_the_answer_keeps_the_cheaper_answer_and_the_higher_bound():
    from xuewei.optimizer.layout import _finish
    from xuewei.optimizer.solve import SolveReport

    sd, policy = _villages(), PolicyConfig()
    optimum = solve_layout([sd], policy, threads=1, gap_rel=1e-9).summary["objective_wan_yuan"].iloc[0]
    gm = build_group([sd], policy, None)  # holds the greedy start
    greedy = pulp.value(gm.prob.objective)
    weak = optimum * 0.5  # a bound far below the model's own
    report = SolveReport("feasible", greedy, weak, (greedy - weak) / greedy, "highs", None, 1.0, stop="node_limit",
                         nodes=1)
    done, seconds = _finish(gm, report, "highs", 60.0, 1e-9, nodes=10_000)
    # A small model: branch and bound proves the optimum; the answer and the bound both improve.
    assert greedy > optimum * 1.1 and seconds >= 0
    assert done.objective == pytest.approx(optimum, rel=1e-7)
    assert done.bound > weak and done.bound <= done.objective + 1e-6
    assert done.status == "optimal" and done.stop == "" and done.nodes >= 1
    assert pulp.value(gm.prob.objective) == pytest.approx(optimum, rel=1e-7)  # the variables hold the answer
    # A report already holding a better bound than branching proves keeps it.
    strong = SolveReport("feasible", optimum, optimum, 0.0, "highs", None, 1.0, stop="", nodes=3)
    kept, _ = _finish(gm, strong, "highs", 60.0, 1e-9, nodes=1)
    assert kept.bound == optimum and kept.objective == optimum


def test_the_finish_runs_only_on_small_models_left_above_its_gap(monkeypatch):
    from xuewei.optimizer import layout as L

    # The villages model (18 pairs) stops at its root 2.3% off; the polish and the refine search find
    # nothing cheaper, and the finish proves the same answer within gap_rel.
    off = solve_layout([_villages()], PolicyConfig(), threads=1, max_nodes=1, finish_nodes=0).summary.iloc[0]
    on = solve_layout([_villages()], PolicyConfig(), threads=1, max_nodes=1).summary.iloc[0]
    assert off["gap"] > L.FINISH_MIN_GAP and off["finish_seconds"] == 0 and off["status"] == "feasible"
    assert on["finish_seconds"] > 0 and on["status"] == "optimal" and on["gap"] <= 0.005
    assert on["objective_wan_yuan"] == off["objective_wan_yuan"] and on["bound_wan_yuan"] > off["bound_wan_yuan"]
    # With the gap threshold lowered it runs after the refine search and keeps what it finds; with
    # finish_nodes = 0, or a model at FINISH_MAX_PAIRS pairs, it does not.
    monkeypatch.setattr(L, "IMPROVE_MIN_PAIRS", 0)
    monkeypatch.setattr(L, "POLISH_MIN_GAP", 0.0)
    monkeypatch.setattr(L, "FINISH_MIN_GAP", -1.0)
    monkeypatch.setattr(L, "_refine", lambda gm, report, sweeps, deadline: (report, 0.0, False))
    monkeypatch.setattr(L, "_polish", lambda gm, report, *a: (report, 0.0))
    called = []
    real = L._finish
    monkeypatch.setattr(L, "_finish", lambda *a: called.append(a[-1]) or real(*a))
    on = solve_layout([_villages()], PolicyConfig(), threads=1, max_nodes=1, gap_rel=1e-9, finish_nodes=50).summary.iloc[0]
    assert called == [50] and on["objective_wan_yuan"] <= on["refined_wan_yuan"] + 1e-9
    solve_layout([_villages()], PolicyConfig(), threads=1, max_nodes=1, gap_rel=1e-9, finish_nodes=0)
    monkeypatch.setattr(L, "FINISH_MAX_PAIRS", 18)
    solve_layout([_villages()], PolicyConfig(), threads=1, max_nodes=1, gap_rel=1e-9, finish_nodes=50)
    assert called == [50]
