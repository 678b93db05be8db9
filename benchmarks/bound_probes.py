"""Three probes of where a layout model's weak bound comes from (docs/performance.md §4.12).

For one model (one stage, or one independent part) of a benchmark region or scenario, with the budget
share the run would give it (`xuewei.optimizer.layout._split_budget`):

``split``
    The model with every assignment ``x`` continuous (villages may be split between schools), every
    other integer kept, solved by HiGHS for ``--seconds``: a relaxation of the layout model, so its
    bound is a valid bound for it too. If whole villages (single source) were what the LP gets wrong,
    this bound would come out above the layout model's root bound.
``mir``
    Rounds of the LP with lifted mixed-integer-rounding cuts on each school's class row, separated
    here: for a school ``j`` in period ``t`` and a set ``S`` of its villages (greedy prefixes by
    ``x/o``) with ``b = sum_S d_n / q`` and ``f = b - floor(b) > 0``,
    ``k_j + sum_S c_n (o_j - x_nj) >= ceil(b) o_j`` with ``c_n = floor(d_n/q) + min(frac(d_n/q), f)/f``
    (the MIR of ``sum_S d_n x_nj <= q k_j`` for ``o_j = 1``, lifted by ``o_j``: valid at ``o_j = 0``
    where ``x`` and ``k`` are 0). Then HiGHS's root (one node) on the model with the cuts as rows, to
    compare with its root bound without them. Prints how many openings are still fractional.
``shortage``
    The model with a per-school shortage variable in each period (pupils of a school's catchment it
    has no seat for, penalised like unserved pupils) in its class and size rows, so a village can be
    served in part: LP and HiGHS's root (one node). Answers whether whole-village service is what makes
    a budget model's gap large.

Usage::

    nice python benchmarks/bound_probes.py split --region growing --model "kindergarten#1" --seconds 240
    nice python benchmarks/bound_probes.py mir --region mountain --model primary [--rounds 15] [--root]
    nice python benchmarks/bound_probes.py shortage --region budget.toml --model primary

Objectives and bounds do not depend on the machine (one thread, seed 0) except under ``--seconds``.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gap_sources import _highs, build_model  # noqa: E402


def family(arr) -> np.ndarray:
    """Each column's variable family (``x``, ``o``, ``k``, ``sh`` ...)."""
    return np.array([re.match(r"[a-z]+?(?=[a-z]{2}\d)", v.name).group(0) for v in arr.variables])


def probe_split(gm, seconds: float) -> None:
    from xuewei.optimizer.solve import problem_arrays

    arr = problem_arrays(gm.prob)
    off = float(gm.objective.constant)
    arr.integer = arr.integer & (family(arr) != "x")
    h, s = _highs(arr, True, time_limit=seconds)
    info = h.getInfo()
    print(f"x continuous: answer {off + info.objective_function_value:,.1f}, bound {off + info.mip_dual_bound:,.1f}, "
          f"{info.mip_node_count} nodes, {s:.0f} s")


def add_shortage(gm, sd, policy) -> list:
    """Per school and period a shortage variable [pupils] in its class and size rows, at the unserved penalty."""
    import pulp

    (v,) = gm.stage_vars
    rows = gm.prob.constraints
    out = []
    for t in range(sd.demand.shape[1]):
        prefix = v.x[t][0].name[1:].rsplit("_", 1)[0] + "_"
        per = []
        for j in range(len(sd.sites)):
            var = pulp.LpVariable(f"sh{prefix}{j}", 0)
            var.varValue = 0.0
            for name in (f"cap{prefix}{j}", f"size{prefix}{j}"):
                if name in rows:
                    getattr(rows[name], "expr", rows[name]).addterm(var, -1.0)
            gm.prob.objective.addterm(var, policy.unserved_penalty_wan_yuan)
            per.append(var)
        out.append(per)
    return out


def probe_shortage(gm, sd, policy) -> None:
    from xuewei.optimizer.solve import problem_arrays

    add_shortage(gm, sd, policy)
    arr = problem_arrays(gm.prob)
    off = float(gm.prob.objective.constant)
    start = np.array([v.varValue or 0.0 for v in arr.variables])
    lp, _ = _highs(arr, False)
    print(f"with shortage variables: LP {off + lp.getInfo().objective_function_value:,.1f}")
    h, s = _highs(arr, True, start=start, nodes=1)
    info = h.getInfo()
    sol = np.asarray(h.getSolution().col_value)
    fam = family(arr)
    terms = {f: round(float((arr.cost * sol)[fam == f].sum())) for f in ("u", "sh", "k", "o", "x")}
    print(f"root: answer {off + info.objective_function_value:,.1f}, bound {off + info.mip_dual_bound:,.1f}, {s:.0f} s; "
          f"answer by term (万元): {terms}")


def probe_mir(gm, sd, policy, rounds: int, root: bool) -> None:
    import highspy

    from xuewei.optimizer.oversize import site_limits
    from xuewei.optimizer.solve import problem_arrays

    arr = problem_arrays(gm.prob)
    off = float(gm.objective.constant)
    (v,) = gm.stage_vars
    T, S = sd.demand.shape[1], len(sd.sites)
    _, q_of = site_limits(sd.sites, sd.stage, policy, T)
    col = {var.name: i for i, var in enumerate(arr.variables)}
    X = [np.array([col[x.name] for x in v.x[t]]) for t in range(T)]
    O = [np.array([col[x.name] for x in v.o[t]]) for t in range(T)]
    K = [np.array([col[x.name] for x in v.k[t]]) for t in range(T)]
    order = np.argsort(sd.pair_site, kind="stable")
    first = np.searchsorted(sd.pair_site[order], np.arange(S + 1))

    def separate(sol):
        cuts = []
        for t in range(T):
            xv, ov, kv = sol[X[t]], sol[O[t]], sol[K[t]]
            d = sd.demand[sd.pair_node, t]
            for j in np.flatnonzero(ov > 1e-6):
                rows = order[first[j]:first[j + 1]]
                rows = rows[(d[rows] > 0) & (xv[rows] > 1e-6)]
                rows = rows[np.argsort(-xv[rows], kind="stable")]
                best = None
                for m in range(1, len(rows) + 1):
                    s_ = rows[:m]
                    b = d[s_].sum() / q_of[j, t]
                    f = b - math.floor(b)
                    if f < 1e-6:
                        continue
                    a = d[s_] / q_of[j, t]
                    c = np.floor(a) + np.minimum(a - np.floor(a), f) / f
                    viol = math.ceil(b) * ov[j] - kv[j] - (c * (ov[j] - xv[s_])).sum()
                    if viol > 1e-4 and (best is None or viol > best[0]):
                        best = (viol, s_, c, math.ceil(b))
                if best:  # k - sum c x + (sum c - ceil b) o >= 0
                    _, s_, c, rhs = best
                    cuts.append((np.concatenate([[K[t][j]], X[t][s_], [O[t][j]]]).astype(np.int32),
                                 np.concatenate([[1.0], -c, [c.sum() - rhs]])))
        return cuts

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    n = len(arr.cost)
    h.addVars(n, arr.lower, arr.upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), arr.cost)
    h.addRows(len(arr.row_lower), arr.row_lower, arr.row_upper, len(arr.value), arr.starts[:-1], arr.index, arr.value)
    added = []
    t0 = time.perf_counter()
    for r in range(rounds + 1):
        h.run()
        sol = np.asarray(h.getSolution().col_value)
        new = separate(sol) if r < rounds else []
        print(f"round {r}: LP {off + h.getInfo().objective_function_value:,.1f}, {len(new)} cuts violated, "
              f"{len(added)} added so far, {time.perf_counter() - t0:.0f} s")
        if not new:
            break
        for ids, vals in new:
            h.addRow(0.0, highspy.kHighsInf, len(ids), ids, vals)
        added += new
    o_all = np.concatenate([sol[O[t]] for t in range(T)])
    print(f"openings in the LP with cuts: {int((o_all > 1 - 1e-6).sum())} open, {int((o_all < 1e-6).sum())} closed, "
          f"{int(((o_all > 1e-6) & (o_all < 1 - 1e-6)).sum())} fractional")
    if not root:
        return
    pos = len(arr.value)
    starts, index, value = list(arr.starts[:-1]), [arr.index], [arr.value]
    for ids, vals in added:
        starts.append(pos)
        index.append(ids)
        value.append(vals)
        pos += len(ids)
    arr.row_lower = np.concatenate([arr.row_lower, np.zeros(len(added))])
    arr.row_upper = np.concatenate([arr.row_upper, np.full(len(added), np.inf)])
    arr.starts = np.array(starts + [pos], dtype=np.int32)
    arr.index, arr.value = np.concatenate(index).astype(np.int32), np.concatenate(value)
    start = np.array([v_.varValue or 0.0 for v_ in arr.variables])
    hh, s = _highs(arr, True, start=start, nodes=1)
    info = hh.getInfo()
    print(f"root with the cuts: answer {off + info.objective_function_value:,.1f}, bound {off + info.mip_dual_bound:,.1f}, {s:.0f} s")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("probe", choices=["split", "mir", "shortage"])
    p.add_argument("--region", default="demo", help="demo, a generated county (mountain ...) or a scenario file")
    p.add_argument("--model", default="primary")
    p.add_argument("--data", type=Path, help="folder of the generated regions (default: a temporary one)")
    p.add_argument("--seconds", type=float, default=240.0, help="split: HiGHS time limit")
    p.add_argument("--rounds", type=int, default=15, help="mir: separation rounds")
    p.add_argument("--root", action="store_true", help="mir: also HiGHS's root with the cuts")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        gm, sd, policy = build_model(a.region, a.model, a.data or Path(tmp))
        if a.probe == "split":
            probe_split(gm, a.seconds)
        elif a.probe == "mir":
            probe_mir(gm, sd, policy, a.rounds, a.root)
        else:
            probe_shortage(gm, sd, policy)


if __name__ == "__main__":
    main()
