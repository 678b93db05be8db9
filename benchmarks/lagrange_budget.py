"""A Lagrangian lower bound for a layout model under a budget: the budget rows priced into the
objective instead of kept as constraints.

Under ``budget_wan_yuan`` the LP bound of a layout model is far below its answers (growing county,
primary, 15,000 万元 per period: answer 1,284,373 against root bound 544,730 万元, a 58% gap): the LP
buys fractions of classes where an answer must buy whole ones, so it serves almost everyone the
budget could never serve. For prices λ_t ≥ 0 on each period's capital,

    min { f(x) : capital_t(x) ≤ B_t }  ≥  min { f(x) + Σ_t λ_t (capital_t(x) − B_t) }   (no budget rows)

and any lower bound of the right-hand problem (here its branch-and-bound root bound from HiGHS: whole
classes, no budget, its own cuts) is a lower bound of the budgeted model. The probe starts from the LP
duals of the budget rows and scales them.

Usage::

    nice -n 10 python benchmarks/lagrange_budget.py --region /tmp/gc/growing_bud.toml --model primary \
        [--scales 0.5 1 1.5 2 3] [--nodes 1]

One thread, seed 0, node limits: the bounds do not depend on the machine; seconds do.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gap_sources import _highs, build_model  # noqa: E402


def budget_rows(gm, arr) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the budget constraints (``budget_t``) and their limits [万元]."""
    table = gm.prob._constraints if hasattr(gm.prob, "_constraints") else gm.prob.constraints
    names = sorted((k for k in table if k.startswith("budget_")), key=lambda k: int(k.split("_")[1]))
    rows = np.array([table[k].index for k in names], dtype=np.int64)
    return rows, arr.row_upper[rows].copy()


def priced(arr, rows: np.ndarray, lam: np.ndarray):
    """The arrays with the budget rows dropped (made free) and ``lam`` × capital added to the cost."""
    from dataclasses import replace

    cost = arr.cost.copy()
    for r, l in zip(rows.tolist(), lam.tolist()):
        s, e = arr.starts[r], arr.starts[r + 1]
        np.add.at(cost, arr.index[s:e], l * arr.value[s:e])
    up = arr.row_upper.copy()
    up[rows] = np.inf
    return replace(arr, cost=cost, row_upper=up)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--region", required=True)
    p.add_argument("--model", default="primary")
    p.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0, 3.0])
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--data", type=Path)
    a = p.parse_args(argv)
    from xuewei.optimizer.solve import problem_arrays

    with tempfile.TemporaryDirectory() as tmp:
        gm, sd, policy = build_model(a.region, a.model, a.data or Path(tmp))
    arr = problem_arrays(gm.prob)
    off = float(gm.objective.constant)
    rows, B = budget_rows(gm, arr)
    if not len(rows):
        sys.exit("该模型没有投资上限约束")
    t = time.perf_counter()
    lp, _ = _highs(arr, False)
    lam0 = -np.asarray(lp.getSolution().row_dual)[rows]
    print(f"model {a.region} {a.model}: pairs {len(sd.pair_node)}, budget {B.round().tolist()}, "
          f"LP {off + lp.getInfo().objective_function_value:,.0f}, LP duals λ {lam0.round(3).tolist()} "
          f"({time.perf_counter() - t:.1f} s)", flush=True)
    root, _ = _highs(arr, True, nodes=a.nodes)
    print(f"budgeted model, {a.nodes} node(s): answer {off + root.getInfo().objective_function_value:,.0f}, "
          f"bound {off + root.getInfo().mip_dual_bound:,.0f}", flush=True)
    for s in a.scales:
        lam = np.maximum(lam0 * s, 0.0)
        t = time.perf_counter()
        h, _ = _highs(priced(arr, rows, lam), True, nodes=a.nodes)
        bound = off + h.getInfo().mip_dual_bound - float(lam @ B)
        val = off + h.getInfo().objective_function_value - float(lam @ B)
        print(f"scale {s:4}: λ {lam.round(3).tolist()}  Lagrangian bound {bound:,.0f}  (priced answer {val:,.0f}; "
              f"{time.perf_counter() - t:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
