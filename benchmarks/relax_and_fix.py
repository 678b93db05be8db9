"""Relax-and-fix by period on one model, against the product's polish (docs/performance.md §4.9).

The product's chain in reproducible mode is: the solver's root node (answer and the model's bound),
the polish (every school's open/closed decision fixed at the answer, the rest solved again), then the
refine search. This script puts relax-and-fix in the polish's place: for period t = 1..T, solve the
model with the periods after t relaxed (continuous) and the openings of the periods before t fixed,
root node only, from the previous step's answer; then fix period t's openings. The last step has
every opening fixed and every variable integer. The refine search then runs on the better of the
two answers, as in the product. Prints one JSON line; ``--jsonl FILE`` appends it.

Usage::

    python benchmarks/relax_and_fix.py --region growing --model "kindergarten#1" --data /tmp/lb

Objectives and bounds do not depend on the machine (one thread, fixed seed, node limits); seconds do.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from refine_search import build_model, emit  # noqa: E402


def _period_vars(v, t: int) -> list:
    out = []
    for name in ("x", "o", "k", "m", "w", "u", "up", "down"):
        per = getattr(v, name)
        if per:
            out += list(per[t])
    if v.moved:
        out += list(v.moved[t][1])
    return out


def relax_and_fix(region: str, model: str, data: Path, after_polish: bool = False) -> dict:
    """Root, then relax-and-fix by period from the root's answer (``after_polish``: from the polished
    answer, the polish kept), then the refine search."""
    import pulp

    from xuewei.optimizer import layout as L
    from xuewei.optimizer.improve import improve
    from xuewei.optimizer.solve import solve_problem

    sd, gm, off = build_model(region, model, data)
    (v,) = gm.stage_vars
    variables = gm.prob.variables()
    start = {var: var.varValue for var in variables if var.varValue is not None}
    t0 = time.perf_counter()
    root = solve_problem(gm.prob, "highs", 600.0, 0.005, 1, start=start, max_nodes=1)
    t1 = time.perf_counter()
    polished = None
    if after_polish:
        pol, _ = L._polish(gm, root, "highs", 600.0, 0.005, L.POLISH_NODES)
        polished = pol.objective + off
        root = pol  # the answer to start from and to beat (the bound is the root's)
    t_pol = time.perf_counter()
    root_answer = {var: var.varValue for var in variables}
    cats = {var: var.cat for var in variables}
    saved = {var: (var.lowBound, var.upBound) for per in v.o for var in per}
    steps, answer = [], root_answer
    try:
        for t in range(len(v.o)):
            for var, cat in cats.items():
                var.cat = cat
            for later in range(t + 1, len(v.o)):
                for var in _period_vars(v, later):
                    var.cat = pulp.LpContinuous
            step = solve_problem(gm.prob, "highs", 600.0, 0.005, 1, start=answer, max_nodes=1)
            answer = {var: var.varValue for var in variables}
            steps.append(round(step.objective + off, 1))
            for var in v.o[t]:
                var.lowBound = var.upBound = float(round(var.varValue))
    finally:
        for var, cat in cats.items():
            var.cat = cat
        for var, (lo, up) in saved.items():
            var.lowBound, var.upBound = lo, up
    t2 = time.perf_counter()
    fixed = steps[-1] - off
    best = answer if fixed < root.objective else root_answer
    _, rep = improve(gm, best, max_sweeps=L.REFINE_SWEEPS, neighbours=L.REFINE_NEIGHBOURS, sub_nodes=L.REFINE_SUB_NODES)
    t3 = time.perf_counter()
    after = min(rep.after, fixed, root.objective) + off
    bound = root.bound + off
    return {"region": region, "model": model, "pairs": len(sd.pair_node), "root": root.objective + off, "bound": bound,
            "polished": polished, "steps": steps, "relax_and_fix": steps[-1], "refined": after, "gap_refined": (after - bound) / after,
            "root_s": round(t1 - t0, 1), "polish_s": round(t_pol - t1, 1), "relax_and_fix_s": round(t2 - t_pol, 1), "refine_s": round(t3 - t2, 1)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="按规划期松弛再固定（relax-and-fix）代替再解：一个模型上的得失")
    p.add_argument("--region", default="demo")
    p.add_argument("--model", default="primary")
    p.add_argument("--data", type=Path, help="生成区域的文件夹（缺省临时文件夹）")
    p.add_argument("--after-polish", action="store_true", help="在再解（固定开办决策）之后做，而不是代替它")
    p.add_argument("--jsonl", type=Path, help="把结果追加到这个文件")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        r = relax_and_fix(a.region, a.model, a.data or Path(tmp), a.after_polish)
    emit(r, a.jsonl)


if __name__ == "__main__":
    main()
