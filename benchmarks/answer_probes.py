"""Probes of the answer side of one layout model after the default chain (docs/performance.md §4.14).

For one model (one stage, or one independent part) of a benchmark region or scenario, the default
chain runs first (solver root, polish, refine search, finish: `xuewei.optimizer.layout._solve_group`
with the product's `Search`), then one probe starts from its answer. Every run is one thread with a
fixed seed and node limits, so objectives and bounds do not depend on the machine; seconds do.

``nodes``
    HiGHS branch and bound on the whole model from the default answer, for each ``--nodes`` limit
    (a fresh run each): how far more nodes move the answer and the bound.
``local-branching``
    The same with a local-branching row (at most ``Δ`` of the opening variables ``o`` differ from
    the answer), for each ``--delta`` and ``--nodes``.
``seeds``
    The same with HiGHS random seeds ``0 .. --count - 1`` at ``--nodes`` each.
``swaps``
    The moves of `xuewei.optimizer.swap` (one site's opening pattern changed, or one open site closed
    and another opened) from the default answer (which already includes the product's swap step, so
    with the default settings none of them is cheaper). Each move is scored by the LP with all
    openings fixed, and the first ``--mip`` moves in LP order (``--mip all``: every move) also by
    HiGHS's root with the openings fixed (the refine search's lean cut pool). Prints the moves in LP
    order with their root value, and the LP rank of the best. ``--no-swap`` stops the default chain
    before the product's swap step (``solver.swap_rounds = 0``), to see the moves it chooses from.
``refine``
    The default chain again with ``--sweeps`` sweeps and ``--sub-nodes`` nodes per neighbourhood of
    the refine search (`REFINE_SWEEPS`, `REFINE_SUB_NODES`).

Usage::

    python benchmarks/make_counties.py /tmp/u3 --seed 31337
    python benchmarks/answer_probes.py nodes --region /tmp/u3/growing.toml --model "kindergarten#2" --no-swap --nodes 300 3000
    python benchmarks/answer_probes.py local-branching --region /tmp/u3/growing.toml --model "kindergarten#2" --no-swap --delta 4 6 8 --nodes 100 300
    python benchmarks/answer_probes.py seeds --region /tmp/u3/growing.toml --model "kindergarten#2" --no-swap --count 6 --nodes 300
    python benchmarks/answer_probes.py swaps --region /tmp/u3/growing.toml --model "kindergarten#2" --no-swap --mip 10
    python benchmarks/answer_probes.py refine --region /tmp/u3/mountain.toml --model primary --sweeps 1 2 4 [--sub-nodes 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from xuewei.optimizer.swap import highs_model, opening_columns  # noqa: E402


def default_answer(region: str, model: str, sweeps: int | None = None, sub_nodes: int | None = None,
                   swap_rounds: int | None = None):
    """Build ``model`` of ``region`` and run the default chain; returns (built model, summary)."""
    from layout_bench import prepare

    from xuewei.optimizer import layout as L

    _, policy, stages, _ = prepare(Path(region))
    grp = [sd for sd in stages if L.group_name([sd]) == model]
    if not grp:
        raise SystemExit(f"{region} 没有模型 {model}：{sorted(L.group_name([sd]) for sd in stages)}")
    if sub_nodes is not None:
        L.REFINE_SUB_NODES = sub_nodes
    gm = L.build_group(grp, policy, None, True, 600)
    build = L.build_group
    L.build_group = lambda *a, **k: gm  # keep the variables (and their answer) of this model
    try:
        search = L.Search(0, L.POLISH_NODES, L.REFINE_SWEEPS if sweeps is None else sweeps, L.FINISH_NODES,
                          L.SWAP_ROUNDS if swap_rounds is None else swap_rounds)
        _, summary = L._solve_group(grp, policy, None, "highs", 600, 0.005, 1, 1, search)
    finally:
        L.build_group = build
    summary["pairs"] = sum(len(sd.pair_node) for sd in grp)
    return gm, summary


def _arrays(gm):
    from xuewei.optimizer.solve import problem_arrays

    arr = problem_arrays(gm.prob)
    x = np.array([float(v.varValue or 0.0) for v in arr.variables])
    x[arr.integer] = np.round(x[arr.integer])
    return arr, arr.matrix(), x


def _run(h, x, nodes: int) -> tuple[float, float, int, float]:
    h.setOptionValue("mip_max_nodes", int(nodes))
    h.setSolution(len(x), np.arange(len(x), dtype=np.int32), x)
    t0 = time.perf_counter()
    h.run()
    info = h.getInfo()
    return info.objective_function_value, info.mip_dual_bound, info.mip_node_count, time.perf_counter() - t0


def probe_swaps(gm, mip: str) -> None:
    import highspy

    from xuewei.optimizer.improve import SUB_OPTIONS
    from xuewei.optimizer.swap import moves

    arr, A, x = _arrays(gm)
    current = float(arr.cost @ x)
    cols, existing = opening_columns(gm)
    every = np.concatenate(cols)
    pattern = [tuple(int(round(x[c])) for c in cs) for cs in cols]
    free = [i for i, cs in enumerate(cols) if (arr.upper[cs] > arr.lower[cs]).any()]
    lp = highs_model(arr, A, False)
    root = highs_model(arr, A, True, {"mip_max_nodes": 1, **SUB_OPTIONS})
    scored = []
    t0 = time.perf_counter()
    singles, pairs = moves(pattern, existing, free)
    for move in singles + pairs:
        values = np.concatenate([np.array(move.get(i, pattern[i]), float) for i in range(len(cols))])
        if (values < arr.lower[every] - 1e-9).any() or (values > arr.upper[every] + 1e-9).any():
            continue
        lp.changeColsBounds(len(every), every, values, values)
        lp.run()
        if lp.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            scored.append([lp.getInfo().objective_function_value, move, values, None])
    lp_s = time.perf_counter() - t0
    scored.sort(key=lambda s: s[0])
    limit = len(scored) if mip == "all" else int(mip)
    t0 = time.perf_counter()
    for row in scored[:limit]:
        root.changeColsBounds(len(every), every, row[2], row[2])
        root.run()
        if root.getInfo().primal_solution_status == 2:
            row[3] = root.getInfo().objective_function_value
    mip_s = time.perf_counter() - t0
    print(f"答案 {current:,.0f} 万元；{len(scored)} 个移动，线性松弛 {lp_s:.1f} s，前 {limit} 个的根节点 {mip_s:.1f} s")
    for rank, (value, move, _, value_mip) in enumerate(scored):
        mark = "" if value_mip is None else f"  根节点 {value_mip:,.0f}" + (" 更省" if value_mip < current - 1e-6 * current else "")
        print(f"{rank:4d}  线性松弛 {value:,.0f}{mark}  {move}")
    done = [(r[3], rank) for rank, r in enumerate(scored) if r[3] is not None]
    if done:
        best, rank = min(done)
        print(f"根节点最省的移动：{best:,.0f} 万元，在线性松弛次序中排第 {rank}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("probe", choices=["nodes", "local-branching", "seeds", "swaps", "refine"])
    p.add_argument("--region", required=True, help="a scenario TOML (e.g. written by make_counties.py)")
    p.add_argument("--model", required=True)
    p.add_argument("--nodes", type=int, nargs="+", default=[300])
    p.add_argument("--delta", type=int, nargs="+", default=[4, 6, 8])
    p.add_argument("--count", type=int, default=6)
    p.add_argument("--mip", default="25", help="moves scored by the root with openings fixed: a number or all")
    p.add_argument("--sweeps", type=int, nargs="+", default=[1])
    p.add_argument("--sub-nodes", type=int, default=None)
    p.add_argument("--no-swap", action="store_true", help="the default chain without the swap step (solver.swap_rounds = 0)")
    args = p.parse_args(argv)
    if args.probe == "refine":
        for sweeps in args.sweeps:
            _, s = default_answer(args.region, args.model, sweeps, args.sub_nodes, 0 if args.no_swap else None)
            print(f"sweeps {sweeps} sub_nodes {args.sub_nodes or 'default'}: 再解 {s['polished_wan_yuan']:,.0f} → "
                  f"局部搜索 {s['refined_wan_yuan']:,.0f} 万元（{s['refine_seconds']:.1f} s）；下界 {s['bound_wan_yuan']:,.0f}")
        return 0
    gm, s = default_answer(args.region, args.model, swap_rounds=0 if args.no_swap else None)
    print(f"{args.model}（{s['pairs']} 个配对）缺省：{s['objective_wan_yuan']:,.0f} 万元，下界 {s['bound_wan_yuan']:,.0f}，"
          f"间隙 {s['gap']:.2%}")
    if args.probe == "swaps":
        probe_swaps(gm, args.mip)
        return 0
    arr, A, x = _arrays(gm)
    offset = float(gm.objective.constant)
    runs = []
    if args.probe == "nodes":
        runs = [({}, None, n) for n in args.nodes]
    elif args.probe == "seeds":
        runs = [({"random_seed": seed}, None, args.nodes[0]) for seed in range(args.count)]
    else:
        cols, _ = opening_columns(gm)
        every = np.concatenate(cols)
        now = np.round(x[every])
        runs = [({}, (every, now, d), n) for d in args.delta for n in args.nodes]
    for options, branch, nodes in runs:
        h = highs_model(arr, A, True, options)
        label = ", ".join(f"{k} {v}" for k, v in options.items())
        if branch is not None:  # sum_{o=1 now}(1 - o) + sum_{o=0 now} o <= delta
            every, now, delta = branch
            h.addRow(-np.inf, delta - now.sum(), len(every), every, np.where(now > 0.5, -1.0, 1.0))
            label = f"Δ ≤ {delta}"
        obj, bound, count, secs = _run(h, x, nodes)
        which = "限制后问题的下界" if branch is not None else "下界"
        print(f"{label or '从答案出发'}，{nodes} 个节点：{obj + offset:,.0f} 万元，{which} {bound + offset:,.0f}，"
              f"{count} 个节点，{secs:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
