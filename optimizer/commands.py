"""`xuewei bench`: solve one standard facility-location instance and report the result."""

from __future__ import annotations

import json
from pathlib import Path

from xuewei.optimizer.instances import FORMAT_ZH, FORMATS, read_instance, read_optima
from xuewei.optimizer.solve import SOLVERS, STATUS_ZH


def register(subparsers) -> None:
    """Add the ``bench`` subcommand."""
    p = subparsers.add_parser(
        "bench",
        help="设施选址标准算例求解（pmed / cap / sscflp）",
        description="用 xuewei 的选址模型求解 OR-Library p-中位、有容量仓库选址或 Holmberg 单源选址算例，"
        "报告目标值、状态、间隙与用时；同目录有 optimal.txt 时一并给出公布最优值与相对误差。",
    )
    p.add_argument("file", metavar="FILE", help="算例文件")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="算例格式（省略时按文件名推断：pmed*、cap*、p<数字>）")
    p.add_argument("--solver", choices=SOLVERS, default="highs", help="求解器（默认 highs）")
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="求解时间上限（秒）")
    p.add_argument("--gap", type=float, default=None, metavar="G", help="相对间隙容差（默认 1e-6）")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="求解线程数")
    p.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    p.set_defaults(func=handler)


def handler(args) -> int:
    path = Path(args.file)
    inst = read_instance(path, args.format)
    model = inst.to_model().solve(
        solver=args.solver, time_limit_s=args.time_limit, gap_rel=args.gap, threads=args.threads
    )
    s = model.summary.iloc[0]
    out = {
        "instance": inst.name,
        "format": inst.kind,
        "objective": float(s["objective"]),
        "status": str(s["status"]),
        "gap": None if s["gap"] is None else float(s["gap"]),
        "seconds": float(s["seconds"]),
        "build_seconds": float(s["build_seconds"]),
        "solve_seconds": float(s["solve_seconds"]),
        "solver": str(s["solver"]),
        "n_open": int(s["n_open"]),
        "pairs_kept": int(s["pairs_kept"]),
        "pairs_feasible": int(s["pairs_feasible"]),
    }
    optimum = read_optima(path.parent / "optimal.txt").get(inst.name)
    if optimum is not None:
        out["optimum"] = optimum
        out["rel_error"] = abs(out["objective"] - optimum) / abs(optimum) if optimum else abs(out["objective"])
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"算例 {inst.name}（{FORMAT_ZH[inst.kind]}）")
    print(f"  目标值    {out['objective']:.6f}")
    if optimum is not None:
        print(f"  公布最优  {optimum:.6f}（相对误差 {out['rel_error']:.1e}）")
    gap = "—" if out["gap"] is None else f"{out['gap']:.2e}"
    print(f"  状态      {STATUS_ZH.get(out['status'], out['status'])}，相对间隙 {gap}，求解器 {out['solver']}")
    print(f"  开放站点  {out['n_open']} 个；配对 {out['pairs_kept']}/{out['pairs_feasible']}（剪枝后/可行）")
    print(f"  用时      建模 {out['build_seconds']:.3f} 秒，求解 {out['solve_seconds']:.3f} 秒，共 {out['seconds']:.3f} 秒")
    return 0
