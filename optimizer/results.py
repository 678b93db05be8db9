"""Result tables of a solved `LocationModel`: sites, assignments, unserved demand, summary.

Values are read from the solver once, as arrays, and every table is a pure function of them, so
the identities hold by construction and are tested: assigned + unserved = demand per node, and
objective = fixed + assignment + unserved penalty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xuewei.optimizer.build import BuiltProblem, ModelArrays
from xuewei.optimizer.pairs import PairTable
from xuewei.optimizer.solve import SolveReport

_EPS = 1e-9

REASON_ZH = {
    "no_site": "在距离限制内没有可用站点",
    "too_large": "需求超过任一可达站点的最大容量（单源分配）",
    "capacity": "可达站点的容量、开放数量或预算不足",
}


@dataclass
class Solution:
    """Raw outcome of the last solver run of a model."""

    built: BuiltProblem
    arrays: ModelArrays
    report: SolveReport
    stats: dict
    penalty: float | None
    reasons: np.ndarray
    k_final: np.ndarray
    kept_pairs: int
    pairs: PairTable
    kept: np.ndarray
    opt_rows: np.ndarray
    n_feasible: int


def _values(variables) -> np.ndarray:
    out = np.fromiter((v.varValue or 0.0 for v in variables), float, len(variables))
    return np.clip(out, 0.0, 1.0)


def make_tables(model, sol: Solution) -> dict[str, pd.DataFrame]:
    """Build ``sites``, ``assignments``, ``unserved`` and ``summary``."""
    a, built = sol.arrays, sol.built
    y = np.round(_values(built.y))
    x = _values(built.x)
    if a.single_source:
        x = np.round(x)
    u = np.zeros(len(model.node_ids))
    u[built.u_nodes] = _values(built.u)
    # A node is served up to rounding: let the shares of a served node sum to exactly 1.
    demand = model.demand

    # Sites.
    n_sites = len(model.site_ids)
    chosen = np.full(n_sites, -1)
    chosen[a.opt_site[y > 0.5]] = sol.opt_rows[y > 0.5]
    is_open = chosen >= 0
    opts = model.options
    modules = np.zeros(n_sites)
    if len(built.z_rows):
        z = np.round(np.fromiter((v.varValue or 0.0 for v in built.z), float, len(built.z)))
        z_site = a.opt_site[built.z_rows]
        live = y[built.z_rows] > 0.5
        modules[z_site[live]] = z[live]
    capacity = np.where(is_open, opts["capacity"].to_numpy()[chosen] + opts["module_capacity"].to_numpy()[chosen] * modules, np.nan)
    fixed = np.where(is_open, opts["fixed_cost"].to_numpy()[chosen] + opts["module_cost"].to_numpy()[chosen] * modules, 0.0)
    load_pair = x * demand[a.pair_node]
    load = np.bincount(a.pair_site, weights=load_pair, minlength=n_sites)
    used = x > _EPS
    n_nodes = np.bincount(a.pair_site[used], minlength=n_sites)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(np.isfinite(capacity) & (capacity > 0), load / capacity, np.nan)
    sites = pd.DataFrame({
        "site_id": model.site_ids, "status": model.site_status, "open": is_open,
        "option": np.where(is_open, opts["option"].to_numpy()[chosen], None),
        "modules": modules, "capacity": capacity, "fixed_cost": fixed, "load": load, "utilisation": util, "n_nodes": n_nodes,
    })

    # Assignments (pairs actually used).
    kept_idx = np.flatnonzero(sol.kept)
    assignments = pd.DataFrame({
        "node_id": model.node_ids[a.pair_node[used]], "site_id": model.site_ids[a.pair_site[used]],
        "share": x[used], "demand": load_pair[used], "cost": x[used] * a.pair_cost[used],
        "distance": sol.pairs.distance[kept_idx][used],
    })

    # Unserved demand.
    lost = (u > _EPS) & (demand > 0)
    reasons = np.where(sol.reasons[lost] == "", "capacity", sol.reasons[lost]).astype(object)
    penalty = sol.penalty or 0.0
    unserved = pd.DataFrame({
        "node_id": model.node_ids[lost], "demand": demand[lost], "unserved": u[lost] * demand[lost],
        "penalty_cost": penalty * u[lost] * demand[lost], "reason": reasons,
        "reason_zh": [REASON_ZH[r] for r in reasons],
    })

    fixed_total = float(fixed.sum())
    assign_total = float(assignments["cost"].sum())
    penalty_total = float(unserved["penalty_cost"].sum())
    r = sol.report
    summary = pd.DataFrame([{
        "name": model.name,
        "objective": fixed_total + assign_total + penalty_total,
        "solver_objective": r.objective,
        "fixed_cost": fixed_total, "assignment_cost": assign_total, "unserved_cost": penalty_total,
        "demand": float(demand.sum()), "assigned": float(load.sum()), "unserved": float(unserved["unserved"].sum()),
        "unserved_penalty": sol.penalty, "status": r.status, "gap": r.gap, "bound": r.bound, "solver": r.solver,
        "build_seconds": sol.stats["build_seconds"], "transfer_seconds": sol.stats["transfer_seconds"],
        "solve_seconds": sol.stats["solve_seconds"],
        "start_seconds": sol.stats.get("start_seconds", 0.0),
        "seconds": sol.stats.get("start_seconds", 0.0) + sol.stats["build_seconds"] + sol.stats["solve_seconds"],
        "iterations": sol.stats["iterations"], "n_nodes": len(model.node_ids), "n_sites": n_sites,
        "n_open": int(is_open.sum()), "pairs_feasible": sol.n_feasible, "pairs_kept": sol.kept_pairs,
        "k_max": int(sol.k_final.max()) if len(sol.k_final) else 0,
    }])
    return {"sites": sites, "assignments": assignments, "unserved": unserved, "summary": summary}
