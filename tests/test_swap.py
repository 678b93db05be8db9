"""Opening swaps (`xuewei.optimizer.swap`): a small model whose answer opened the dearer of two sites
gets the cheaper one by closing one site and opening the other, deterministically, never dearer."""

import doctest

import numpy as np
import pytest

from test_layout import one_stage
from xuewei.optimizer import swap
from xuewei.optimizer.layout import Search, _solve_group, build_group, solve_layout
from xuewei.optimizer.policy import PolicyConfig
from xuewei.optimizer.solve import solve_problem


def test_doctests():
    assert doctest.testmod(swap).failed == 0


def _two_sites():
    """One village of 40 pupils and two new sites 1 km away; building A costs 500 万元, B 100 万元."""
    sd = one_stage(demand=[[40.0, 40.0]], c0=[0, 0], K=[2, 2], dist_km=[[1.0, 1.0]], origin=["candidate"] * 2,
                   years=(5.0, 5.0))
    sd.sites["build_fixed"] = [500.0, 100.0]
    return sd


def _answer_with_a_open(sd, policy):
    """The model built, solved with site B kept closed: an answer that opens A in both periods."""
    gm = build_group([sd], policy, None)
    o = gm.stage_vars[0].o
    for per_t in o:
        per_t[1].upBound = 0
    solve_problem(gm.prob, threads=1, max_nodes=1000)
    for per_t in o:
        per_t[1].upBound = 1
    answer = {v: v.varValue for v in gm.prob.variables()}
    assert [round(per_t[0].varValue) for per_t in o] == [1, 1]
    return gm, answer


def test_a_swap_opens_the_cheaper_site_and_reaches_the_optimum():
    sd, policy = _two_sites(), PolicyConfig()
    best = solve_layout([sd], policy, threads=1, gap_rel=1e-9).summary["objective_wan_yuan"].iloc[0]
    runs = []
    for _ in range(2):
        gm, answer = _answer_with_a_open(sd, policy)
        out, rep = swap.swap_search(gm, answer, rounds=3)
        # The first round keeps the swap; the second finds nothing cheaper and stops.
        assert rep.kept == 1 and rep.rounds == 2 and not rep.clock_stopped
        assert rep.before - rep.after == pytest.approx(400.0, rel=1e-6)  # the difference in building costs
        assert rep.after + float(gm.objective.constant) == pytest.approx(best, rel=1e-9)
        o = gm.stage_vars[0].o
        assert [[round(out[per_t[j]]) for per_t in o] for j in (0, 1)] == [[0, 0], [1, 1]]
        runs.append([out[v] for v in gm.prob.variables()])
    assert runs[0] == runs[1]  # deterministic


def test_no_move_is_kept_unless_it_is_cheaper():
    sd, policy = _two_sites(), PolicyConfig()
    gm = build_group([sd], policy, None)
    solve_problem(gm.prob, threads=1, gap_rel=1e-9, max_nodes=1000)  # the optimum: only B open
    answer = {v: v.varValue for v in gm.prob.variables()}
    out, rep = swap.swap_search(gm, answer, rounds=3)
    assert rep.kept == 0 and rep.rounds == 1 and rep.after == pytest.approx(rep.before)
    assert all(out[v] == pytest.approx(answer[v] or 0.0, abs=1e-9) for v in gm.prob.variables())


def test_the_step_runs_after_the_finish_only_while_the_gap_is_large(monkeypatch):
    sd, policy = _two_sites(), PolicyConfig()
    # Proved optimal by the solver: neither the finish nor the swaps run.
    _, s = _solve_group([sd], policy, None, "highs", 60.0, 0.005, 1, max_nodes=1, search=Search(1, 1, 1, 300, 3))
    assert s["gap"] <= 0.005 and s["swap_seconds"] == 0 and s["finished_wan_yuan"] == pytest.approx(s["objective_wan_yuan"])
    assert np.isfinite(s["refined_wan_yuan"])
