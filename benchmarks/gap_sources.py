"""Where a layout model's gap comes from: the LP bound against an incumbent, term by term, and with
the incumbent's school openings fixed.

For one model (one stage, or one independent part of it) of a benchmark region:

1. the incumbent: the default reproducible solve (greedy start, ``--sweeps`` local-search sweeps,
   HiGHS to ``--max-nodes`` nodes, one thread, fixed seed);
2. the LP relaxation of the model as built, and per cost term (variable family: ``k`` classes,
   ``o`` schools open, ``x`` travel/boarding, ``m`` class capital, ``w`` beds, ``mv`` moved pupils,
   ``cu``/``cd`` class changes, ``u`` unserved) what the incumbent and the LP pay [万元];
3. the LP and the MIP (``--fixed-nodes`` nodes) with every ``o`` fixed at the incumbent's value: if the
   LP with the openings fixed is still far below the incumbent, the gap is not about which schools
   to open but about whole villages and whole classes (packing) given the openings.

Usage::

    nice -n 10 python benchmarks/gap_sources.py --region demo --model primary [--sweeps 0] [--fixed-nodes 50]

Objectives and bounds do not depend on the machine (one thread, fixed seed, node limits); seconds do.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from layout_bench import prepare, scenario_path  # noqa: E402


def _highs(arr, mip: bool, lower=None, upper=None, start=None, nodes=None, time_limit=600.0):
    """Solve the exported problem with HiGHS (one thread, seed 0); returns (Highs, seconds)."""
    import highspy

    from xuewei.optimizer.solve import _quiet_stdout

    with _quiet_stdout(True):
        h = highspy.Highs()
    for k, v in (("output_flag", False), ("threads", 1), ("random_seed", 0), ("time_limit", float(time_limit)),
                 ("mip_rel_gap", 1e-6)):
        h.setOptionValue(k, v)
    n = len(arr.cost)
    idx = np.arange(n, dtype=np.int32)
    h.addVars(n, arr.lower if lower is None else lower, arr.upper if upper is None else upper)
    h.changeColsCost(n, idx, arr.cost)
    if mip:
        c = idx[arr.integer]
        h.changeColsIntegrality(len(c), c, np.ones(len(c), dtype=np.uint8))
    h.addRows(len(arr.row_lower), arr.row_lower, arr.row_upper, len(arr.value), arr.starts[:-1], arr.index, arr.value)
    if nodes is not None:
        h.setOptionValue("mip_max_nodes", int(nodes))
    if start is not None:
        h.setSolution(n, idx, start)
    t0 = time.perf_counter()
    h.run()
    return h, time.perf_counter() - t0


def build_model(region: str, model: str, data: Path):
    """The built model ``gm`` of one stage model of a region (with the budget share a run would give
    it, `xuewei.optimizer.layout._split_budget`), its `StageData` and the policy."""
    from xuewei.optimizer.layout import _split_budget, build_group

    sc, policy, stages, _ = prepare(scenario_path(region, data))
    budget = policy.budget_for(len(stages[0].years)) if stages else None
    shares = dict(zip([sd.name for sd in stages], _split_budget(stages, policy, budget)))
    sd = next(s for s in stages if s.name == model)
    return build_group([sd], policy, shares[model]), sd, policy


def gap_sources(region: str, model: str, data: Path, sweeps: int, max_nodes: int, fixed_nodes: int) -> dict:
    """Run the analysis; returns a dict of figures and a per-term table."""
    from xuewei.optimizer.solve import problem_arrays

    gm, sd, policy = build_model(region, model, data)
    arr = problem_arrays(gm.prob)
    off = float(gm.objective.constant)  # the solver sees no constant term
    greedy = np.array([v.varValue or 0.0 for v in arr.variables])
    start, improve_s, clock = greedy, 0.0, False
    if sweeps:
        from xuewei.optimizer.improve import improve

        out, rep = improve(gm, {v: v.varValue for v in gm.prob.variables() if v.varValue is not None}, max_sweeps=sweeps)
        start = np.array([out[v] for v in arr.variables])
        improve_s, clock = rep.seconds, rep.clock_stopped
    h, root_s = _highs(arr, True, start=start, nodes=max_nodes)
    inc = np.asarray(h.getSolution().col_value)
    root_bound = h.getInfo().mip_dual_bound
    family = np.array([re.match(r"[a-z]+?(?=[a-z]{2}\d)", v.name).group(0) for v in arr.variables])
    lp, lp_s = _highs(arr, False)
    x_lp = np.asarray(lp.getSolution().col_value)
    is_o = family == "o"
    lo, up = arr.lower.copy(), arr.upper.copy()
    lo[is_o] = up[is_o] = np.round(inc[is_o])
    lpf, _ = _highs(arr, False, lo, up)
    x_lpf = np.asarray(lpf.getSolution().col_value)
    mipf, mipf_s = _highs(arr, True, lo, up, start=inc, nodes=fixed_nodes)
    terms = pd.DataFrame({"term": family, "incumbent": arr.cost * inc, "lp": arr.cost * x_lp,
                          "lp_open_fixed": arr.cost * x_lpf}).groupby("term").sum()
    terms["incumbent_minus_lp"] = terms["incumbent"] - terms["lp"]
    terms["incumbent_minus_lp_open_fixed"] = terms["incumbent"] - terms["lp_open_fixed"]
    return {"model": f"{region} {model}", "pairs": len(sd.pair_node), "greedy": off + float(arr.cost @ greedy),
            "start": off + float(arr.cost @ start), "improve_s": improve_s, "improve_hit_safety_limit": clock,
            "incumbent": off + float(arr.cost @ inc), "root_bound": off + root_bound,
            "root_s": root_s, "lp": off + lp.getInfo().objective_function_value, "lp_s": lp_s,
            "lp_open_fixed": off + lpf.getInfo().objective_function_value,
            "mip_open_fixed": off + mipf.getInfo().objective_function_value,
            "mip_open_fixed_bound": off + mipf.getInfo().mip_dual_bound, "mip_open_fixed_nodes": mipf.getInfo().mip_node_count,
            "mip_open_fixed_s": mipf_s, "terms": terms}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="布局模型间隙的来源：LP 下界与现有解逐项对比，并固定开办决策")
    p.add_argument("--region", default="demo")
    p.add_argument("--model", default="primary")
    p.add_argument("--sweeps", type=int, default=0, help="现有解先做几轮局部搜索")
    p.add_argument("--max-nodes", type=int, default=1)
    p.add_argument("--fixed-nodes", type=int, default=50, help="固定开办决策后的整数规划节点上限")
    p.add_argument("--data", type=Path)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        r = gap_sources(a.region, a.model, a.data or Path(tmp), a.sweeps, a.max_nodes, a.fixed_nodes)
    terms = r.pop("terms")
    for k, v in r.items():
        print(f"{k}: {v:,.1f}" if isinstance(v, float) else f"{k}: {v}")
    print(terms.round(1).to_string())


if __name__ == "__main__":
    main()
