"""A decomposition bound for one layout model, to compare with the solver's root bound.

Relax everything that links schools (each village's assignment row, seat rules, beds, budget,
reassignment costs) with Lagrange multipliers and keep, for each school over all periods, its own
rows: classes against assigned pupils (a knapsack of whole villages), class limits, growth capital,
class changes, open/close monotonicity. The best such bound (the Lagrangian dual, equal to the
Dantzig–Wolfe master LP whose columns are whole-school plans) is computed by column generation:
the master LP over school plans, and per school a dynamic programme over periods with a knapsack
per period to price a new plan. Knapsack weights are pupils rounded down, a relaxation, so the
bound stays valid.

It answers one question: does a Lagrangian certificate (assignment relaxed) prove more than the
cuts HiGHS adds at the root? On the 巫溪 primary model it does not (docs/performance.md).

Usage::

    python benchmarks/dw_bound.py [--scenario scenarios/demo.toml] [--model primary] [--iterations 600]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BLOCK_ROWS = ("cap", "size", "kmax", "kmin", "hw", "hm", "mono", "cu", "cd", "ln", "kf", "kr")
_ROW = re.compile(r"^(kmax|kmin|mono|size|cap|hw|hm|cu|cd|ln|kf|kr)[a-z]{2}\d+_")


def school_plans_bound(gm, policy, iterations: int = 600, log=print) -> dict:
    """Column generation for the school-plan (Dantzig–Wolfe) bound of a built single-stage model."""
    import highspy

    from xuewei.optimizer.oversize import site_limits
    from xuewei.optimizer.solve import problem_arrays

    (sd,), (v,) = gm.groups, gm.stage_vars
    arr = problem_arrays(gm.prob)
    A = arr.matrix().tocsc()
    table = gm.prob._constraints if hasattr(gm.prob, "_constraints") else gm.prob.constraints
    names = list(table.keys())
    block_row = np.array([bool(_ROW.match(nm)) for nm in names])
    D = np.flatnonzero(~block_row)
    AD = A[D].tocsc()
    T, S = sd.demand.shape[1], len(sd.sites)
    allowed, class_size = site_limits(sd.sites, sd.stage, policy, T)
    c0 = sd.sites["c0"].to_numpy(float)
    existing = sd.sites["origin"].to_numpy() == "existing"
    col = lambda var: var.index  # noqa: E731
    blocks = []
    in_block = np.zeros(len(arr.cost), dtype=bool)
    for j in range(S):
        per = []
        for t in range(T):
            rows = np.flatnonzero(sd.pair_site == j)
            b = dict(x=np.array([col(v.x[t][r]) for r in rows], dtype=np.int64),
                     w=np.floor(sd.demand[sd.pair_node[rows], t] + 1e-9).astype(int),
                     o=col(v.o[t][j]), k=col(v.k[t][j]), m=col(v.m[t][j]),
                     up=col(v.up[t][j]) if v.up else None, down=col(v.down[t][j]) if v.down else None,
                     q=float(class_size[j, t]), room=float(allowed[j, t]))
            per.append(b)
            in_block[b["x"]] = True
            in_block[[c for c in (b["o"], b["k"], b["m"], b["up"], b["down"]) if c is not None]] = True
        blocks.append(per)
    other = np.flatnonzero(~in_block)
    nD, nB = len(D), S
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    lo_r = np.concatenate([arr.row_lower[D], np.ones(nB)])
    up_r = np.concatenate([arr.row_upper[D], np.ones(nB)])
    h.addRows(nD + nB, lo_r, up_r, 0, np.array([], np.int32), np.array([], np.int32), np.array([]))
    sub = AD[:, other].tocsc()
    h.addCols(len(other), arr.cost[other], arr.lower[other], arr.upper[other], sub.nnz,
              sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data)
    plans = 0

    def add_plan(j, values: dict):
        nonlocal plans
        cols = np.fromiter(values.keys(), np.int64, len(values))
        vals = np.fromiter(values.values(), float, len(values))
        coef = AD[:, cols] @ vals
        nz = np.flatnonzero(np.abs(coef) > 1e-12)
        rows = np.concatenate([nz, [nD + j]]).astype(np.int32)
        h.addCol(float(arr.cost[cols] @ vals), 0.0, highspy.kHighsInf, len(rows), rows,
                 np.concatenate([coef[nz], [1.0]]))
        plans += 1

    def plan(j, ks, takes) -> dict:
        values, kprev, top = {}, c0[j], c0[j]
        for t, b in enumerate(blocks[j]):
            k = ks[t]
            values[b["o"]], values[b["k"]] = float(k >= 1), float(k)
            top = max(top, k)
            values[b["m"]] = float(top - c0[j])
            if b["up"] is not None:
                values[b["up"]], values[b["down"]] = float(max(0, k - kprev)), float(max(0, kprev - k))
            for i in takes[t]:
                values[b["x"][i]] = 1.0
            kprev = k
        return values

    def k_range(b):
        lo_k, up_k = int(round(arr.lower[b["k"]])), int(round(arr.upper[b["k"]]))
        return [k for k in range(lo_k, up_k + 1) if arr.lower[b["o"]] <= float(k >= 1) <= arr.upper[b["o"]]]

    def monotone_ok(j, ks):
        o = [k >= 1 for k in ks]
        return all(o[t] <= o[t - 1] for t in range(1, T)) if existing[j] else all(
            o[t] >= o[t - 1] for t in range(1, T))

    for j in range(S):  # start: each school closed (if it may be) and open with its fewest classes
        ranges = [k_range(b) for b in blocks[j]]
        for pick in (min, lambda r: min([k for k in r if k >= 1], default=min(r))):
            ks = [pick(r) for r in ranges]
            if all(ranges) and monotone_ok(j, ks):
                add_plan(j, plan(j, ks, [[]] * T))

    def price(j, cbar):
        """The best plan of school j at reduced costs ``cbar``: (value, classes per period, villages taken)."""
        per = blocks[j]
        kmax = int(max(arr.upper[b["k"]] for b in per))
        top_max = int(max(kmax, c0[j]))
        INF = np.inf
        f = np.full((T, kmax + 1), INF)
        knap = []
        for t, b in enumerate(per):
            p = -cbar[b["x"]]
            items = np.flatnonzero((p > 1e-12) & (arr.upper[b["x"]] > 0.5))
            cap_max = int(min(b["q"] * kmax, b["room"]))
            V = np.zeros(cap_max + 1)
            keep = np.zeros((len(items), cap_max + 1), dtype=bool)
            for n_, i in enumerate(items):
                wi = b["w"][i]
                if wi > cap_max:
                    continue
                cand = np.concatenate([np.full(wi, -INF), V[:V.size - wi] + p[i]]) if wi else V + p[i]
                keep[n_] = cand > V
                V = np.maximum(V, cand)
            knap.append((items, keep, cap_max))
            for k in k_range(b):
                f[t, k] = cbar[b["k"]] * k + cbar[b["o"]] * (k >= 1) - (V[min(int(b["q"] * k), cap_max)] if k else 0.0)
        kk = np.arange(kmax + 1)
        tops = np.arange(top_max + 1)
        cm = [cbar[b["m"]] for b in per]
        cu = [cbar[b["up"]] if b["up"] is not None else 0.0 for b in per]
        cd = [cbar[b["down"]] if b["down"] is not None else 0.0 for b in per]
        # state: (classes last period, most classes so far, at least c0)
        cost = np.full((kmax + 1, top_max + 1), INF)
        start_k = c0[j]
        for k in range(kmax + 1):
            if f[0, k] < INF:
                top = int(max(c0[j], k))
                cost[k, top] = min(cost[k, top], f[0, k] + cu[0] * max(0, k - start_k) + cd[0] * max(0, start_k - k)
                                   + cm[0] * (top - c0[j]))
        back = [None]
        opened = kk >= 1
        for t in range(1, T):
            mono = (opened[None, :] <= opened[:, None]) if existing[j] else (opened[None, :] >= opened[:, None])
            trans = cu[t] * np.maximum(0, kk[None, :] - kk[:, None]) + cd[t] * np.maximum(0, kk[:, None] - kk[None, :])
            trans = np.where(mono & (f[t] < INF)[None, :], trans + f[t][None, :], INF)
            c3 = cost[:, :, None] + trans[:, None, :]  # (k_prev, top, k)
            arg = np.argmin(c3, axis=0)
            c2 = np.min(c3, axis=0)  # (top, k)
            new = np.full_like(cost, INF)
            bp = np.full(cost.shape + (2,), -1, dtype=np.int64)
            for k in np.flatnonzero(f[t] < INF):
                above = tops > k
                new[k, above] = c2[above, k] + cm[t] * (tops[above] - c0[j])
                bp[k, above, 0], bp[k, above, 1] = arg[above, k], tops[above]
                below = np.flatnonzero(tops <= k)
                if len(below) and k >= c0[j]:
                    i = below[np.argmin(c2[below, k])]
                    new[k, k] = c2[i, k] + cm[t] * (k - c0[j])
                    bp[k, k] = (arg[i, k], i)
            cost, _ = new, back.append(bp)
        value = float(cost.min())
        if not np.isfinite(value):
            return value, None, None
        k, top = np.unravel_index(np.argmin(cost), cost.shape)
        ks = [0] * T
        ks[-1] = int(k)
        for t in range(T - 1, 0, -1):
            k, top = back[t][k, top]
            ks[t - 1] = int(k)
        takes = []
        for t in range(T):
            items, keep, cap_max = knap[t]
            chosen, C = [], min(int(per[t]["q"] * ks[t]), cap_max)
            if ks[t] >= 1:
                for n_ in range(len(items) - 1, -1, -1):
                    if keep[n_, C]:
                        chosen.append(items[n_])
                        C -= per[t]["w"][items[n_]]
            takes.append(chosen)
        return value, ks, takes

    t0 = time.perf_counter()
    master = np.nan
    for it in range(iterations):
        h.run()
        master = h.getInfo().objective_function_value
        y = np.asarray(h.getSolution().row_dual)
        cbar = arr.cost - AD.T @ y[:nD]
        new = 0
        for j in range(S):
            value, ks, takes = price(j, cbar)
            if ks is not None and value - y[nD + j] < -1e-7 * max(1.0, abs(master)):
                add_plan(j, plan(j, ks, takes))
                new += 1
        if it % 20 == 0 or not new:
            log(f"{it}: master {master:,.1f}, {new} new plans, {plans} plans, {time.perf_counter() - t0:.0f} s")
        if not new:
            return {"bound": master + float(gm.objective.constant), "iterations": it, "converged": True,
                    "seconds": time.perf_counter() - t0}
    return {"bound": None, "last_master": master, "iterations": iterations, "converged": False,
            "seconds": time.perf_counter() - t0}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default=None, help="缺省 scenarios/demo.toml")
    p.add_argument("--model", default="primary")
    p.add_argument("--iterations", type=int, default=600)
    a = p.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from layout_bench import prepare, scenario_path

    from xuewei.optimizer.layout import build_group
    from xuewei.optimizer.solve import TimedHiGHS

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        sc, policy, stages, _ = prepare(Path(a.scenario) if a.scenario else scenario_path("demo", Path(tmp)))
    sd = next(s for s in stages if s.name == a.model)
    gm = build_group([sd], policy, None)
    lp = build_group([sd], policy, None)
    lp.prob.solve(TimedHiGHS(msg=False, mip=False, threads=1))
    lp_value = lp.prob.solverModel.getInfo().objective_function_value + float(lp.objective.constant)
    out = school_plans_bound(gm, policy, a.iterations)
    print(f"{a.model}: LP {lp_value:,.1f}；school-plan (Dantzig–Wolfe) bound "
          + (f"{out['bound']:,.1f}" if out["converged"] else f"not converged (master {out['last_master']:,.1f})")
          + f"，{out['iterations']} iterations, {out['seconds']:.0f} s")


if __name__ == "__main__":
    main()
