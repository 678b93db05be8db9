"""The refine search after the solver (`xuewei.optimizer.layout._refine`) on one model, with its settings varied.

For one model (one stage, or one independent part of it) of a benchmark region: the default
reproducible solve (greedy start, HiGHS root node or ``--max-nodes``, one thread, fixed seed), the polish with the
openings fixed, then local search on that answer (`xuewei.optimizer.improve`) with ``--neighbours``
schools per neighbourhood, ``--sub-nodes`` nodes per neighbourhood and ``--sweeps`` sweeps. Prints
one JSON line: the answer after each step, the bound, both gaps and the seconds of each step;
``--jsonl FILE`` appends it there too. Used to choose `REFINE_NEIGHBOURS` and `REFINE_SUB_NODES`
(docs/performance.md §4.8).

Usage::

    python benchmarks/refine_search.py --region demo --model primary --neighbours 4 [--sub-nodes 20] [--sweeps 1]

Objectives and bounds do not depend on the machine (one thread, fixed seed, node limits); seconds do.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from layout_bench import prepare, scenario_path  # noqa: E402


@contextmanager
def _highs_options(options: dict):
    """Every HiGHS run inside the block gets ``options`` set first (a measurement aid only)."""
    import highspy

    run = highspy.Highs.run

    def with_options(h):
        for name, value in options.items():
            h.setOptionValue(name, value)
        return run(h)

    highspy.Highs.run = with_options
    try:
        yield
    finally:
        highspy.Highs.run = run


def build_model(region: str, model: str, data: Path):
    """One model of a benchmark region as the product builds it (reproducible mode, its budget share):
    ``(stage data, built model, objective constant)``; the solver sees no constant term."""
    from xuewei.optimizer import layout as L

    _, policy, stages, _ = prepare(scenario_path(region, data))
    budget = policy.budget_for(len(stages[0].years)) if stages else None
    budgets = dict(zip([sd.name for sd in stages], L._split_budget(stages, policy, budget)))
    sd = next(s for s in stages if s.name == model)
    gm = L.build_group([sd], policy, budgets[model], True, 600.0)
    return sd, gm, float(gm.objective.constant)


def emit(record: dict, jsonl: Path | None) -> None:
    """Print one JSON line, and append it to ``jsonl`` if given."""
    line = json.dumps(record, ensure_ascii=False)
    print(line)
    if jsonl:
        with jsonl.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


def refine_search(region: str, model: str, data: Path, neighbours: int, sub_nodes: int, sweeps: int,
                  max_nodes: int = 1, polish_options: dict | None = None,
                  root_options: dict | None = None, min_pairs: int = 0, max_neighbours: int | None = None,
                  rounds: int = 1) -> dict:
    """Run the three steps on one model; returns the figures. ``rounds`` > 1 repeats the polish and
    the search on the searched answer (a measurement: whether a second round pays)."""
    from xuewei.optimizer import layout as L
    from xuewei.optimizer.improve import improve
    from xuewei.optimizer.solve import solve_problem

    sd, gm, off = build_model(region, model, data)
    start = {v: v.varValue for v in gm.prob.variables() if v.varValue is not None}
    t0 = time.perf_counter()
    with _highs_options(root_options or {}):
        root = solve_problem(gm.prob, "highs", 600.0, 0.005, 1, start=start, max_nodes=max_nodes)
    t1 = time.perf_counter()
    with _highs_options(polish_options or {}):
        polished, _ = L._polish(gm, root, "highs", 600.0, 0.005, L.POLISH_NODES)
    t2 = time.perf_counter()
    answer = {v: v.varValue for v in gm.prob.variables()}
    out, rep = improve(gm, answer, max_sweeps=sweeps, neighbours=neighbours, sub_nodes=sub_nodes, min_pairs=min_pairs,
                       max_neighbours=max_neighbours)
    t3 = time.perf_counter()
    more = []
    best, best_out = min(rep.after, polished.objective), (out if rep.after < polished.objective else None)
    for _ in range(rounds - 1):
        if best_out is not None:  # the variables hold the searched answer
            for var, value in best_out.items():
                var.varValue = value
        t = time.perf_counter()
        again, _ = L._polish(gm, replace(root, objective=best), "highs", 600.0, 0.005, L.POLISH_NODES)
        t_pol = time.perf_counter() - t
        best, best_out = again.objective, None
        out2, rep2 = improve(gm, {v: v.varValue for v in gm.prob.variables()}, max_sweeps=sweeps,
                             neighbours=neighbours, sub_nodes=sub_nodes, min_pairs=min_pairs,
                             max_neighbours=max_neighbours)
        if rep2.after < best:
            best, best_out = rep2.after, out2
        more.append({"polished": again.objective + off, "refined": best + off, "polish_s": round(t_pol, 1),
                     "refine_s": round(time.perf_counter() - t - t_pol, 1)})
    bound = root.bound + off
    after = min(rep.after, polished.objective) + off
    return {"region": region, "model": model, "pairs": len(sd.pair_node), "neighbours": neighbours,
            **({"min_pairs": min_pairs, "max_neighbours": max_neighbours} if min_pairs else {}),
            **({"rounds": more} if more else {}),
            "sub_nodes": sub_nodes, "sweeps": rep.sweeps, "max_nodes": max_nodes, "root": root.objective + off,
            "polished": polished.objective + off, "refined": after, "bound": bound,
            "gap_polished": (polished.objective + off - bound) / (polished.objective + off),
            "gap_refined": (after - bound) / after, "root_s": round(t1 - t0, 1), "polish_s": round(t2 - t1, 1),
            "refine_s": round(t3 - t2, 1), "sub_options": improve_options(), "polish_options": polish_options or {},
            "root_options": root_options or {}, "neighbourhoods": rep.solved, "improved": rep.improved,
            "hit_safety_limit": rep.clock_stopped}


def improve_options() -> str:
    from xuewei.optimizer import improve

    return ",".join(f"{k}={v}" for k, v in improve.SUB_OPTIONS.items()) or "highs-defaults"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="求解后局部搜索（_refine）在一个模型上的得失：邻域大小、节点数、轮数")
    p.add_argument("--region", default="demo")
    p.add_argument("--model", default="primary")
    p.add_argument("--neighbours", type=int, default=4, help="每个邻域除中心学校外的学校数")
    p.add_argument("--rounds", type=int, default=1, help="再解与局部搜索做几轮（缺省 1，同产品；2 = 在搜索后的答案上再做一轮）")
    p.add_argument("--min-pairs", type=int, default=0,
                   help="邻域按配对数加大：学校不少于 --neighbours，再按共享村数依次加入，直到邻域的村–校配对不少于此数（缺省 0：不加大）")
    p.add_argument("--max-neighbours", type=int, help="--min-pairs 时邻域除中心学校外最多的学校数")
    p.add_argument("--sub-nodes", type=int, default=20, help="每个邻域的分支节点上限")
    p.add_argument("--sweeps", type=int, default=1)
    p.add_argument("--max-nodes", type=int, default=1, help="求解器的分支节点上限（缺省 1：根节点，同产品缺省）")
    p.add_argument("--highs-defaults", action="store_true",
                   help="邻域子问题用 HiGHS 自身的设置（不用 improve.SUB_OPTIONS），供对照")
    p.add_argument("--polish-options", metavar="JSON",
                   help='再解（固定开办决策）时另加的 HiGHS 设置，如 \'{"mip_pool_soft_limit": 1}\'，供对照')
    p.add_argument("--root-options", metavar="JSON",
                   help="求解器根节点另加的 HiGHS 设置，如 '{\"mip_heuristic_run_rens\": false}'，供对照")
    p.add_argument("--data", type=Path, help="生成区域的文件夹（缺省临时文件夹）")
    p.add_argument("--jsonl", type=Path, help="把结果追加到这个文件")
    a = p.parse_args(argv)
    if a.highs_defaults:
        from xuewei.optimizer import improve

        improve.SUB_OPTIONS = {}
    with tempfile.TemporaryDirectory() as tmp:
        r = refine_search(a.region, a.model, a.data or Path(tmp), a.neighbours, a.sub_nodes, a.sweeps, a.max_nodes,
                          json.loads(a.polish_options) if a.polish_options else None,
                          json.loads(a.root_options) if a.root_options else None, a.min_pairs, a.max_neighbours, a.rounds)
    emit(r, a.jsonl)


if __name__ == "__main__":
    main()
