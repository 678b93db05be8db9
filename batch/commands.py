"""``xuewei batch`` and ``xuewei compare``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from xuewei.errors import InputError, Problem

STATE_ZH = {"waiting": "等待", "submitted": "已提交，排队或计算中", "skipped": "已完成（沿用上次结果）",
            "done": "完成", "failed": "失败"}


def register(sub) -> None:
    p = sub.add_parser("batch", help="批量比较政策方案（本机进程池或 Dask 集群）",
                       description="运行批量文件中的每个变体（各为一次完整的 xuewei run，结果在 DIR/<变体>），"
                                   "并写出 DIR/comparison.csv、comparison.xlsx 和图表。已完成且输入未变的变体自动跳过。")
    p.add_argument("files", nargs="+", metavar="FILE", help="批量文件（*-batch.toml）或情景文件，可多个")
    p.add_argument("--out", help="输出文件夹（缺省 runs/<第一个文件名>；重复运行时沿用已完成的变体）")
    p.add_argument("--workers", type=int, default=2, help="并行的变体数（本机进程数或 Dask 本机集群的工作进程数；缺省 2）")
    p.add_argument("--dask", metavar="ADDRESS|local",
                   help="在 Dask 集群上运行：local 启动本机集群，或调度器地址如 tcp://10.0.0.5:8786")
    p.add_argument("--time-limit", type=float, help="每个变体的求解时限（秒），覆盖 solver.time_limit_s")
    p.add_argument("--force", action="store_true", help="重算所有变体（不沿用已完成的结果）")
    p.add_argument("--only", metavar="NAME,...", help="只运行这些变体（逗号分隔的变体名）")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("compare", help="比较多个运行结果（写 comparison.csv、comparison.xlsx 和图表）")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="xuewei run 的输出文件夹，或批量输出文件夹")
    p.add_argument("--out", help="输出文件夹（缺省 runs/compare-<时间>）")
    p.set_defaults(func=cmd_compare)


def _console():
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:  # a log file: wide enough for variant names and error messages
        console = Console(stderr=True, width=140)
    return console


def cmd_batch(args) -> int:
    from xuewei.batch.compare import write_comparison
    from xuewei.batch.runner import executor, run_batch
    from xuewei.batch.spec import load_variants, validate_variants
    from xuewei.reports.runfolder import safe_name

    if args.workers < 1:
        raise InputError(Problem(file="--workers", expected="正整数", found=str(args.workers)))
    console = _console()
    variants = select(load_variants(args.files), args.only)
    extra = {"solver": {"time_limit_s": args.time_limit}} if args.time_limit else None
    with console.status("检查批量文件与各变体的情景……"):
        validate_variants(variants, extra)
    out = Path(args.out) if args.out else Path("runs") / safe_name(Path(args.files[0]).stem)
    console.print(f"批量运行：{len(variants)} 个变体，结果在 {out}")
    t0 = time.perf_counter()
    with executor(args.workers, args.dask) as (pool, desc):
        console.print(f"执行方式：{desc}；每个变体单进程求解（solver.threads = 1）")
        outcomes = _run_with_progress(console, variants, out, pool, extra, args.force)
    df = write_comparison([o["row"] for o in outcomes], out)
    wall = time.perf_counter() - t0
    print(summary_text(outcomes, out, wall))
    if (df["synthetic_data"] == True).any():  # noqa: E712 (object column with NaN for failed rows)
        print("（示意数据：区域数据部分为合成，结果只作演示）")
    return 1 if any(o["state"] == "failed" for o in outcomes) else 0


def select(variants, only: str | None):
    """The variants named in ``only`` (comma-separated), in file order; all when ``only`` is empty."""
    import difflib

    if not only:
        return variants
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    names = [v.name for v in variants]
    problems = []
    for w in wanted:
        if w not in names:
            near = difflib.get_close_matches(w, names, n=1)
            problems.append(Problem(file="--only", field=w, expected="批量文件中的变体名", found=w,
                                    hint=f"是否应为“{near[0]}”？" if near else "变体：" + "、".join(names)))
    if problems:
        raise InputError(problems)
    # A variant that starts from another's layout (the batch file's warm_start) brings that one along
    # (run, or reused when finished).
    wanted += [v.warm_from for v in variants if v.name in wanted and v.warm_from]
    return [v for v in variants if v.name in wanted]


def _run_with_progress(console, variants, out, pool, extra, force):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from xuewei.batch.runner import run_batch

    columns = [SpinnerColumn(finished_text=" "), TextColumn("{task.description}"), BarColumn(bar_width=24),
               MofNCompleteColumn(), TextColumn("{task.fields[status]}"), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        total = progress.add_task("[bold]全部变体", total=len(variants), status="")
        tasks = {v.name: progress.add_task(v.name, total=1, status=STATE_ZH["waiting"], start=False)
                 for v in variants}
        worst: list = []  # (gap, variant) of finished variants

        def worst_text() -> str:
            if not worst:
                return ""
            gap, name = max(worst)
            return f"最差间隙 {gap:.2%}（{name}）"

        def on_event(name, state, outcome):
            task = tasks[name]
            if state == "submitted":
                progress.start_task(task)
                progress.update(task, status=STATE_ZH[state])
                return
            progress.start_task(task)
            text = STATE_ZH[state]
            if state in ("done", "skipped"):
                gap = (outcome.get("row") or {}).get("solver_gap")
                if gap is not None and gap == gap:  # not NaN
                    worst.append((float(gap), name))
                    progress.update(total, status=worst_text())
            if state == "done":
                gap = (outcome.get("row") or {}).get("solver_gap")
                text += f"（{outcome['seconds']:.0f} 秒" + ("" if gap is None or gap != gap else f"，间隙 {gap:.2%}") + "）"
            elif state == "failed":
                text += "：" + outcome["error"].splitlines()[0][:80]
            progress.update(task, completed=1, status=text)
            progress.stop_task(task)
            progress.advance(total)

        return run_batch(variants, out, pool, extra=extra, force=force, on_event=on_event)


def summary_text(outcomes: list[dict], out: Path, wall_s: float) -> str:
    counts = {s: sum(o["state"] == s for o in outcomes) for s in ("done", "skipped", "failed")}
    lines = [f"批量完成：新运行成功 {counts['done']} 个，沿用 {counts['skipped']} 个，失败 {counts['failed']} 个，"
             f"用时 {wall_s:.0f} 秒。比较表：{out / 'comparison.csv'}（及 comparison.xlsx、charts/）"]
    for o in outcomes:
        if o["state"] == "failed":
            lines.append(f"  失败：{o['variant']}：{o['error']}")
    if counts["failed"]:
        lines.append("  失败的变体已记入比较表（状态“失败”及错误信息）；修正后重新运行同一命令，只重算未完成的变体。")
    return "\n".join(lines)


def cmd_compare(args) -> int:
    from xuewei.batch.compare import folder_row, run_folders, write_comparison

    folders = run_folders(args.run_dirs)
    names = [f.name for f in folders]
    rows = []
    for f in folders:
        # Folders of the same name from different batches: tell them apart by their parent.
        label = f.name if names.count(f.name) == 1 else f"{f.parent.name}/{f.name}"
        rows.append(folder_row(f, label))
    out = Path(args.out) if args.out else Path("runs") / f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
    df = write_comparison(rows, out)
    print(f"比较完成：{len(df)} 个运行，结果在 {out}（comparison.csv、comparison.xlsx、charts/）", file=sys.stdout)
    show = df[["variant", "capital_cost_wan_yuan", "mean_distance_km", "unserved_pupils", "rule_violations",
               "solver_status"]]
    print(show.to_string(index=False))
    return 0
