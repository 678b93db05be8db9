"""How fast can PuLP take a p-median model? Three ways to build it, two ways to hand it to HiGHS.

Same full pair set (no pruning), same formulation (assignment, x_ij <= y_j, sum y = p):

- ``operators``: spopt style: ``LpVariable.dicts`` over (i, j), objective ``lpSum(c * x)``,
  constraints ``prob += x[i, j] <= y[j]`` written with PuLP's operators.
- ``lpsum_dicts``: ``lpSum`` over ``(var, coef)`` tuples per row, constraints still by operators.
- ``zipped`` (xuewei, `xuewei.optimizer.build`): every expression one
  ``LpAffineExpression(zip(vars, coefs))`` and ``LpConstraint(expr, sense, name, rhs)``.

Transfer: PuLP's ``HiGHS.buildSolverModel`` (one ``addCol``/``addRow`` call each) against
xuewei's ``TimedHiGHS`` (arrays, one ``addVars``/``addRows`` call). Nothing is solved.

Usage: ``python benchmarks/build_methods.py [--out benchmarks/results]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import repeat
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pulp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _table import markdown  # noqa: E402
from synthetic_pmed import write_instance  # noqa: E402

from xuewei.optimizer.build import ModelArrays, build_problem  # noqa: E402
from xuewei.optimizer.instances import read_instance  # noqa: E402
from xuewei.optimizer.solve import TimedHiGHS, _quiet_stdout  # noqa: E402


def operators(cost, p):
    n, m = cost.shape
    prob = pulp.LpProblem("ops", pulp.LpMinimize)
    y = [prob.add_variable(f"y_{j}", 0, 1, pulp.LpBinary) for j in range(m)]
    x = {(i, j): prob.add_variable(f"x_{i}_{j}", 0, 1) for i in range(n) for j in range(m)}
    prob += pulp.lpSum(cost[i, j] * x[i, j] for i in range(n) for j in range(m))
    for i in range(n):
        prob += pulp.lpSum(x[i, j] for j in range(m)) == 1
    for i in range(n):
        for j in range(m):
            prob += x[i, j] <= y[j]
    prob += pulp.lpSum(y) == p
    return prob


def lpsum_dicts(cost, p):
    n, m = cost.shape
    prob = pulp.LpProblem("lpsum", pulp.LpMinimize)
    y = prob.add_variable_dicts("y", range(m), 0, 1, pulp.LpBinary)
    idx = [(i, j) for i in range(n) for j in range(m)]
    x = prob.add_variable_dicts("x", idx, 0, 1)
    prob += pulp.lpSum((x[k], cost[k]) for k in idx)
    for i in range(n):
        prob += pulp.lpSum((x[i, j], 1.0) for j in range(m)) == 1
    for k in idx:
        prob += x[k] - y[k[1]] <= 0
    prob += pulp.lpSum(y.values()) == p
    return prob


def zipped(cost, p):
    n, m = cost.shape
    node, site = np.divmod(np.arange(n * m), m)
    arrays = ModelArrays(
        demand=np.ones(n), n_sites=m, opt_site=np.arange(m), opt_capacity=np.full(m, np.inf),
        opt_fixed_cost=np.zeros(m), opt_min_load=np.zeros(m), forced_open=np.zeros(m, bool),
        pair_node=node, pair_site=site, pair_cost=cost.ravel(), placeholder_cost=np.full(n, np.nan), p=p)
    return build_problem(arrays).prob


def transfer(prob, bulk: bool) -> float:
    solver = TimedHiGHS(msg=False) if bulk else pulp.HiGHS(msg=False)
    with _quiet_stdout(True):
        prob.solverModel = highspy.Highs()
    prob.solverModel.setOptionValue("output_flag", False)
    t0 = time.perf_counter()
    solver.buildSolverModel(prob)
    seconds = time.perf_counter() - t0
    assert prob.solverModel.getNumCol() == len(prob.variables())
    assert prob.solverModel.getNumRow() == len(prob.constraints())
    return seconds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cases = [read_instance(HERE / "instances" / "orlib-pmed" / "pmed6.txt")]
    cases.append(read_instance(write_instance(out / "synthetic_n500_p20.txt", 500, 20, seed=1520), "pmed"))
    rows = []
    for inst in cases:
        pairs = inst.cost.size
        for name, make in (("operators", operators), ("lpsum_dicts", lpsum_dicts), ("zipped", zipped)):
            t0 = time.perf_counter()
            prob = make(inst.cost, inst.p)
            build = time.perf_counter() - t0
            row = {"instance": inst.name, "pairs": pairs, "method": name, "build_s": build,
                   "us_per_pair": 1e6 * build / pairs}
            if name == "zipped":
                row["transfer_pulp_s"] = transfer(prob, bulk=False)
                row["transfer_bulk_s"] = transfer(prob, bulk=True)
            rows.append(row)
            print(row, flush=True)
            del prob
    table = pd.DataFrame(rows)
    table.to_csv(out / "build_methods.csv", index=False)
    (out / "build_methods.md").write_text(markdown(table), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
