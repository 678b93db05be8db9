"""HiGHS, CBC and SCIP on the same layout models, with the reproducible default's settings.

Per region, each model with at least ``--min-pairs`` village–school pairs is built once per solver
(same data, same greedy start) and solved with one thread, a fixed seed and ``--max-nodes``
branch-and-bound nodes (default 1: the root node, as ``xuewei run`` does by default). Records the
objective, the proven bound, the gap and the seconds. SCIP needs ``pip install pyscipopt``; it is
skipped (with a note) when that is missing.

Usage::

    nice -n 10 python benchmarks/solver_compare.py [--regions demo scenarios/jiangyang.toml]
        [--solvers highs cbc scip] [--max-nodes 1] [--min-pairs 300] [--csv benchmarks/results/solver_compare.csv]

Objectives, bounds and node counts do not depend on the machine; seconds do (and on its load).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from layout_bench import RESULTS, prepare, scenario_path  # noqa: E402


def compare(regions, solvers, max_nodes: int, min_pairs: int, data: Path, time_limit_s: float) -> pd.DataFrame:
    """One row per region × model × solver: ``objective_wan_yuan``, ``bound_wan_yuan``, ``gap``,
    ``nodes``, ``solve_s`` [s] and ``stop``."""
    from xuewei.optimizer.layout import _solve_group, _split_budget

    rows = []
    for name in regions:
        sc, policy, stages, _ = prepare(scenario_path(name, data))
        budget = policy.budget_for(len(stages[0].years)) if stages else None
        for sd, b in zip(stages, _split_budget(stages, policy, budget)):
            if len(sd.pair_node) < min_pairs:
                continue
            for solver in solvers:
                t0 = time.perf_counter()
                _, s = _solve_group([sd], policy, b, solver, time_limit_s, sc.solver.gap_rel, 1, max_nodes)
                rows.append({"region": Path(name).stem, "model": sd.name, "pairs": len(sd.pair_node), "solver": solver,
                             "status": s["status"], "stop": s["stop"], "nodes": s["nodes"],
                             "greedy_wan_yuan": s["greedy_wan_yuan"], "objective_wan_yuan": s["objective_wan_yuan"],
                             "bound_wan_yuan": s["bound_wan_yuan"], "gap": s["gap"], "solve_s": s["solve_seconds"],
                             "total_s": time.perf_counter() - t0})
                r = rows[-1]
                print(f"{r['region']} {r['model']} {solver}: {r['objective_wan_yuan']:.1f} / {r['bound_wan_yuan']} "
                      f"gap {r['gap']} {r['solve_s']:.0f} s", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    lines = ["| 区域 | 模型 | 配对 | 求解器 | 目标值（万元） | 下界（万元） | 间隙 | 节点 | 求解 s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        gap = "—" if pd.isna(r.gap) else f"{100 * r.gap:.2f}%"
        bound = "—" if pd.isna(r.bound_wan_yuan) else f"{r.bound_wan_yuan:,.0f}"
        lines.append(f"| {r.region} | {r.model} | {r.pairs} | {r.solver} | {r.objective_wan_yuan:,.0f} | {bound} | {gap} | "
                     f"{'' if pd.isna(r.nodes) else int(r.nodes)} | {r.solve_s:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="同一批布局模型上比较 HiGHS、CBC 与 SCIP（单线程、固定种子、节点上限）")
    p.add_argument("--regions", nargs="+", default=["demo", "scenarios/jiangyang.toml"])
    p.add_argument("--solvers", nargs="+", default=["highs", "cbc", "scip"])
    p.add_argument("--max-nodes", type=int, default=1)
    p.add_argument("--min-pairs", type=int, default=300)
    p.add_argument("--time-limit", type=float, default=600.0, help="每个模型的保险时限 [s]")
    p.add_argument("--data", type=Path, help="生成区域的文件夹（缺省临时文件夹）")
    p.add_argument("--csv", type=Path, default=RESULTS / "solver_compare.csv")
    a = p.parse_args(argv)
    solvers = [s for s in a.solvers if s != "scip" or importlib.util.find_spec("pyscipopt")]
    if len(solvers) < len(a.solvers):
        print("未安装 pyscipopt：跳过 SCIP（pip install pyscipopt）", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        data = a.data or Path(tmp)
        df = compare(a.regions, solvers, a.max_nodes, a.min_pairs, data, a.time_limit)
    a.csv.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(a.csv, index=False, lineterminator="\n", float_format="%.6g")
    print(markdown(df))


if __name__ == "__main__":
    main()
