"""Issue 4, item 4: the same p-median instances solved by spopt's PMedian and by xuewei.

Same machine, same solver (HiGHS through PuLP, msg off), same relative gap (1e-6), one process,
instances run one after the other. spopt is not a runtime dependency: install the ``bench``
extra (``pip install -e ".[bench]"``) to run this.

Usage::

    python benchmarks/pmed_vs_spopt.py [--out benchmarks/results] [--only pmed1,pmed2] [--synthetic]

Writes ``pmed_vs_spopt.csv`` and ``pmed_vs_spopt.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import pulp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _table import markdown  # noqa: E402
from synthetic_pmed import make_all  # noqa: E402

from xuewei.optimizer.instances import read_instance, read_optima  # noqa: E402

GAP = 1e-6
LIMIT_S = 600.0  # per solver run; a run that hits it is reported with its gap


def warm_up() -> None:
    """Create one HiGHS model first so neither side pays the one-off library start-up."""
    prob = pulp.LpProblem("warm", pulp.LpMinimize)
    x = pulp.LpVariable("x", 0, 1, cat=pulp.LpBinary)
    prob += x
    prob.solve(pulp.HiGHS(msg=False))


def run_spopt(inst):
    from spopt.locate import PMedian

    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(inst.cost, inst.demand, p_facilities=inst.p)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    model.solve(pulp.HiGHS(msg=False, gapRel=GAP, timeLimit=LIMIT_S), results=False)
    solve = time.perf_counter() - t1
    gap = model.problem.solverModel.getInfo().mip_gap
    return pulp.value(model.problem.objective), build, solve, gap


def run_xuewei(inst):
    t0 = time.perf_counter()
    model = inst.to_model()
    model.solve(solver="highs", gap_rel=GAP, time_limit_s=LIMIT_S)
    total = time.perf_counter() - t0
    s = model.summary.iloc[0]
    return s["objective"], s["build_seconds"], total - s["build_seconds"], s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--only", default="")
    ap.add_argument("--synthetic", action="store_true", help="also the seeded n = 300…600 graphs")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = HERE / "instances" / "orlib-pmed"
    optima = read_optima(folder / "optimal.txt")
    files = [folder / f"{name}.txt" for name in optima]
    if args.synthetic:
        files += make_all(out / "synthetic")
    if args.only:
        wanted = set(args.only.split(","))
        files = [f for f in files if f.stem in wanted]
    try:
        import spopt  # noqa: F401
    except ImportError:
        print("spopt 未安装：pip install -e '.[bench]' 后再运行。", file=sys.stderr)
        return 2
    warm_up()
    rows = []
    for path in files:
        inst = read_instance(path, "pmed")
        n = inst.cost.shape[0]
        sp_obj, sp_build, sp_solve, sp_gap = run_spopt(inst)
        xw_obj, xw_build, xw_solve, s = run_xuewei(inst)
        row = {
            "instance": inst.name, "n": n, "p": inst.p, "optimum": optima.get(inst.name),
            "spopt_objective": sp_obj, "xuewei_objective": xw_obj,
            "spopt_build_s": sp_build, "spopt_solve_s": sp_solve, "spopt_total_s": sp_build + sp_solve,
            "xuewei_build_s": xw_build, "xuewei_solve_s": xw_solve, "xuewei_total_s": xw_build + xw_solve,
            "ratio": (xw_build + xw_solve) / (sp_build + sp_solve),
            "spopt_gap": sp_gap, "xuewei_gap": s["gap"], "xuewei_status": s["status"],
            "xuewei_pairs_kept": int(s["pairs_kept"]), "xuewei_iterations": int(s["iterations"]),
        }
        row["equal"] = abs(sp_obj - xw_obj) <= 1e-6 * max(1.0, abs(sp_obj))
        rows.append(row)
        print(f"{row['instance']:>16} n={n} p={inst.p} spopt {sp_obj:.1f} {row['spopt_total_s']:.2f}s | "
              f"xuewei {xw_obj:.1f} {row['xuewei_total_s']:.2f}s | ratio {row['ratio']:.2f}", flush=True)
        write(rows, out)  # after every instance, so a long run can be stopped without losing rows
    return 0


def write(rows, out: Path) -> None:
    table = pd.DataFrame(rows)
    table.to_csv(out / "pmed_vs_spopt.csv", index=False)
    cols = ["instance", "n", "p", "optimum", "spopt_objective", "xuewei_objective", "equal",
            "spopt_gap", "xuewei_gap", "spopt_build_s", "spopt_total_s", "xuewei_build_s", "xuewei_total_s", "ratio"]
    (out / "pmed_vs_spopt.md").write_text(markdown(table[cols]), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
