"""Solve every shared standard instance through LocationModel and write the table.

Usage::

    python benchmarks/run_benchmarks.py [--solver highs|cbc|both] [--out benchmarks/results]
                                        [--time-limit S] [--only pmed1,cap71] [--synthetic]

Writes ``benchmarks.csv`` and ``benchmarks.md`` (instance, optimum, objective, rel. error, status,
gap, build_s, transfer_s, solve_s, ...). ``--synthetic`` adds the seeded n = 300…600 p-median
graphs of ``synthetic_pmed.py`` (no published optimum).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _table import markdown  # noqa: E402
from synthetic_pmed import make_all  # noqa: E402

from xuewei.optimizer.instances import read_instance, read_optima  # noqa: E402

SETS = [("pmed", "orlib-pmed"), ("cap", "orlib-cap"), ("sscflp", "sscflp-holmberg")]


def solve_one(path: Path, fmt: str, solver: str, time_limit: float | None, optimum: float | None) -> dict:
    t0 = time.perf_counter()
    inst = read_instance(path, fmt)
    read_s = time.perf_counter() - t0
    model = inst.to_model().solve(solver=solver, time_limit_s=time_limit)
    s = model.summary.iloc[0]
    rel = None if optimum is None else abs(s["objective"] - optimum) / abs(optimum)
    return {
        "instance": inst.name, "format": fmt, "solver": solver, "n_nodes": int(s["n_nodes"]),
        "n_sites": int(s["n_sites"]), "optimum": optimum, "objective": float(s["objective"]), "rel_error": rel,
        "status": s["status"], "gap": s["gap"], "read_s": read_s, "build_s": s["build_seconds"],
        "transfer_s": s["transfer_seconds"] if solver == "highs" else None, "solve_s": s["solve_seconds"],
        "build_share": s["build_seconds"] / (s["build_seconds"] + s["solve_seconds"]),
        "pairs_kept": int(s["pairs_kept"]), "pairs_feasible": int(s["pairs_feasible"]),
        "iterations": int(s["iterations"]),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--solver", choices=["highs", "cbc", "both"], default="highs")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--only", default="")
    ap.add_argument("--synthetic", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for fmt, folder in SETS:
        optima = read_optima(HERE / "instances" / folder / "optimal.txt")
        jobs += [(HERE / "instances" / folder / f"{name}.txt", fmt, value) for name, value in optima.items()]
    if args.synthetic:
        jobs += [(path, "pmed", None) for path in make_all(out / "synthetic")]
    if args.only:
        wanted = set(args.only.split(","))
        jobs = [job for job in jobs if job[0].stem in wanted]
    solvers = ["highs", "cbc"] if args.solver == "both" else [args.solver]
    rows = []
    for solver in solvers:
        for path, fmt, optimum in jobs:
            row = solve_one(path, fmt, solver, args.time_limit, optimum)
            rows.append(row)
            rel = "—" if row["rel_error"] is None else f"{row['rel_error']:.1e}"
            print(f"{solver:>5} {row['instance']:>16} obj {row['objective']:.3f} rel {rel} {row['status']} "
                  f"build {row['build_s']:.3f}s solve {row['solve_s']:.3f}s", flush=True)
    table = pd.DataFrame(rows)
    suffix = "" if args.solver == "highs" else f"_{args.solver}"
    table.to_csv(out / f"benchmarks{suffix}.csv", index=False)
    cols = ["instance", "solver", "optimum", "objective", "rel_error", "status", "gap", "build_s", "transfer_s",
            "solve_s", "build_share", "pairs_kept", "pairs_feasible", "iterations"]
    (out / f"benchmarks{suffix}.md").write_text(markdown(table[cols]), encoding="utf-8")
    worst = table["rel_error"].dropna().max()
    print(f"最大相对误差 {worst:.1e}；{int((table['rel_error'] <= 1e-6).sum())}/{table['rel_error'].notna().sum()} 个算例达到公布最优。")
    return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
