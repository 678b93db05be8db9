"""A Lagrangian bound by township for one layout model: does it prove more than the root node?

Every row of the built model whose columns all belong to one township's schools (and the villages
"homed" there) is kept in that township's subproblem; every row that links townships (a village's
assignment to schools of two townships, its change-of-school rows, …) is priced with its dual value
from the model's LP relaxation and dropped. Each township's subproblem is then a small MIP solved by
HiGHS (one thread, fixed seed); the bound is

    L(y) = Σ_r y_r·b_r (linking rows, at the bound the dual's sign says) + Σ_township (its MIP's dual bound)

which is a valid lower bound for any sign-correct y, and at least the LP bound for the LP's duals.
Per-school blocks (`dw_bound.py`) prove no more than the root; townships keep the whole-village,
whole-class packing among neighbouring schools, where the gap lives (docs/performance.md §4.2).

Usage::

    nice python benchmarks/cluster_bound.py --region /tmp/u7/mountain.toml --model primary [--sub-seconds 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def build(region: str, model: str, data: Path):
    from layout_bench import scenario_path

    from xuewei import pipeline
    from xuewei.optimizer.layout import _split_budget, build_group
    from xuewei.optimizer.layout_data import build_stage_data

    sc, _, reg, fconf, policy = pipeline.load_inputs(scenario_path(region, data))
    base = sc.horizon.base_year or reg.meta.base_year
    demand = pipeline.run_forecast(sc, reg, fconf, policy)
    stages, _ = build_stage_data(reg, demand, policy, sc.horizon.periods, base)
    budget = policy.budget_for(len(stages[0].years)) if stages else None
    shares = dict(zip([s.name for s in stages], _split_budget(stages, policy, budget)))
    sd = next(s for s in stages if s.name == model)
    return build_group([sd], policy, shares[model]), sd, reg


def township_of_columns(gm, sd, reg, n_cols: int) -> np.ndarray:
    """Cluster (township index) of every column; -1 where the model's structure does not say."""
    town = {}
    for table, key in ((reg.schools, "school_id"), (getattr(reg, "candidate_sites", None), "site_id"),
                       (reg.nodes, "node_id")):
        if table is not None and len(table):
            town.update(dict(zip(table[key].astype(str), table["township_id"].astype(str))))
    names = sorted(set(town.values()))
    idx = {t: i for i, t in enumerate(names)}
    site_town = np.array([idx.get(town.get(str(s), ""), -1) for s in sd.sites["site_id"]])
    node_town = np.array([idx.get(town.get(str(n), ""), -1) for n in sd.node_ids])
    col = np.full(n_cols, -1)
    v = gm.stage_vars[0]
    T = sd.demand.shape[1]
    for t in range(T):
        for fam in (v.o, v.k, v.m, v.w, v.up, v.down):
            if fam:
                for j, var in enumerate(fam[t]):
                    col[var.index] = site_town[j]
        for r, var in enumerate(v.x[t]):
            col[var.index] = site_town[sd.pair_site[r]]
        for n, var in enumerate(v.u[t]):
            if var is not None and hasattr(var, "index"):
                col[var.index] = node_town[n]
    for t, item in enumerate(v.moved or []):
        if item:
            units, variables = item
            for n, var in zip(units, variables):
                if hasattr(var, "index"):
                    col[var.index] = node_town[n]
    return col, names


def solve_lp(arr):
    """The model's LP relaxation (`gap_sources._highs`): its value and the row duals."""
    from gap_sources import _highs

    h, _ = _highs(arr, mip=False)
    return h.getInfo().objective_function_value, np.array(h.getSolution().row_dual)


def sub_mip(cost, lower, upper, integer, A, lo, up, mip: bool, seconds: float, nodes: int | None):
    """Lower bound of min cost·x over one cluster's rows: the MIP's dual bound (or the LP's value)."""
    import highspy

    h = highspy.Highs()
    for k, val in (("output_flag", False), ("threads", 1), ("random_seed", 0), ("time_limit", float(seconds)),
                   ("mip_rel_gap", 1e-6)):
        h.setOptionValue(k, val)
    if nodes is not None:
        h.setOptionValue("mip_max_nodes", int(nodes))
    n = len(cost)
    h.addVars(n, lower, upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
    if mip and integer.any():
        c = np.flatnonzero(integer).astype(np.int32)
        h.changeColsIntegrality(len(c), c, np.ones(len(c), dtype=np.uint8))
    if A.shape[0]:
        A = A.tocsr()
        h.addRows(A.shape[0], lo, up, A.nnz, A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    x = np.array(h.getSolution().col_value)
    if mip and integer.any():
        return float(info.mip_dual_bound), status, x
    return float(info.objective_function_value), status, x


def cluster_bound(gm, sd, reg, mip=True, seconds=30.0, nodes=None, iterations=1, upper=None, log=print) -> dict:
    from xuewei.optimizer.solve import problem_arrays

    arr = problem_arrays(gm.prob)
    n = len(arr.cost)
    const0 = float(gm.prob.objective.constant) if hasattr(gm.prob.objective, "constant") else 0.0
    A = sp.csr_matrix((arr.value, arr.index, arr.starts), shape=(len(arr.row_lower), n))
    col, names = township_of_columns(gm, sd, reg, n)
    # columns the structure does not place: the cluster most of their row neighbours are in
    unknown = np.flatnonzero(col < 0)
    if len(unknown):
        At = A.T.tocsr()
        for c in unknown:
            rows = At.indices[At.indptr[c]:At.indptr[c + 1]]
            nb = col[A[rows].indices] if len(rows) else np.array([], int)
            nb = nb[nb >= 0]
            col[c] = np.bincount(nb).argmax() if len(nb) else 0
    t0 = time.perf_counter()
    lp, y = solve_lp(arr)
    t_lp = time.perf_counter() - t0
    # rows within one cluster are kept; the others are priced
    coo = A.tocoo()
    rc = col[coo.col]
    rmin = np.full(A.shape[0], np.iinfo(np.int64).max)
    rmax = np.full(A.shape[0], -1)
    np.minimum.at(rmin, coo.row, rc)
    np.maximum.at(rmax, coo.row, rc)
    keep = rmin == rmax
    linking = ~keep
    row_cluster = np.where(keep, rmin, -1)
    has_lo, has_up = np.isfinite(arr.row_lower), np.isfinite(arr.row_upper)

    def project(y):
        y = np.where(linking, y, 0.0)
        y = np.where((y > 0) & ~has_lo, 0.0, y)
        return np.where((y < 0) & ~has_up, 0.0, y)

    y = project(y)
    clusters = np.unique(col)
    best, history, t1, parts = -np.inf, [], time.perf_counter(), []
    theta = 1.0
    for it in range(iterations):
        rhs = np.where(y > 0, arr.row_lower, np.where(y < 0, arr.row_upper, 0.0))
        const = const0 + float(np.dot(y, np.nan_to_num(rhs, posinf=0.0, neginf=0.0)))
        reduced = arr.cost - A.T @ y
        total, parts, x = const, [], np.zeros(n)
        for c in clusters:
            cols = np.flatnonzero(col == c)
            rows = np.flatnonzero(row_cluster == c)
            sub = A[rows][:, cols]
            value, status, xs = sub_mip(reduced[cols], arr.lower[cols], arr.upper[cols], arr.integer[cols], sub,
                                        arr.row_lower[rows], arr.row_upper[rows], mip, seconds, nodes)
            total += value
            x[cols] = xs
            parts.append((names[c] if c < len(names) else str(c), len(cols), len(rows), value, status))
        history.append(total)
        if total > best:
            best = total
        else:
            theta /= 2
        log(f"  第 {it + 1} 轮：{total:,.1f}（最好 {best:,.1f}）")
        if it + 1 == iterations or upper is None:
            break
        # subgradient of the priced rows at the subproblems' answers: b − a·x (the violated side)
        ax = A @ x
        g = np.zeros(A.shape[0])
        lo_gap = np.where(has_lo, arr.row_lower - ax, -np.inf)
        up_gap = np.where(has_up, arr.row_upper - ax, np.inf)
        g = np.where(lo_gap > 0, lo_gap, np.where(up_gap < 0, up_gap, 0.0))
        g = np.where(linking, g, 0.0)
        norm = float(g @ g)
        if norm <= 1e-12:
            break
        y = project(y + theta * (upper - total) / norm * g)
    return {"lp": lp + const0, "bound": best, "history": history, "linking_rows": int(linking.sum()),
            "rows": int(A.shape[0]), "clusters": len(parts), "lp_seconds": t_lp,
            "sub_seconds": time.perf_counter() - t1, "parts": parts}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--region", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--data", default="/tmp/xuewei_bench")
    p.add_argument("--sub-seconds", type=float, default=30.0)
    p.add_argument("--sub-nodes", type=int, default=None)
    p.add_argument("--lp-check", action="store_true", help="also the bound with LP subproblems (must equal the LP)")
    p.add_argument("--iterations", type=int, default=1, help="subgradient rounds (Polyak steps toward --upper)")
    p.add_argument("--upper", type=float, default=None, help="a known answer's objective [万元], for the step size")
    args = p.parse_args(argv)
    gm, sd, reg = build(args.region, args.model, Path(args.data))
    if args.lp_check:
        r = cluster_bound(gm, sd, reg, mip=False)
        print(f"LP {r['lp']:,.1f}；township LP bound {r['bound']:,.1f}（应相等）")
    r = cluster_bound(gm, sd, reg, mip=True, seconds=args.sub_seconds, nodes=args.sub_nodes,
                      iterations=args.iterations, upper=args.upper)
    print(f"LP {r['lp']:,.1f}；按乡镇的拉格朗日界 {r['bound']:,.1f}；{r['clusters']} 个乡镇，"
          f"{r['linking_rows']}/{r['rows']} 行跨乡镇；LP {r['lp_seconds']:.1f} s，子问题 {r['sub_seconds']:.1f} s")
    worst = sorted(r["parts"], key=lambda x: x[4] != "Optimal")[:5]
    for name, nc, nr, value, status in worst:
        print(f"  {name}: {nc} 列 {nr} 行 → {value:,.1f}（{status}）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
