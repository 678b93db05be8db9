"""Layout benchmark: per model, the LP bound, root bound, final answer, proven gap and time.

Regions: ``demo`` (巫溪), the six generated counties of `make_counties` (mountain, plain, urban,
shrinking, growing, multi) and ``city`` (`make_city`, 10 counties). Every region is generated from a
fixed seed, so the models are the same on any machine.

Per model (one stage, or one independent part of it) it records:

- ``lp_bound``: the LP relaxation of the model as built (with the strengthening of
  `xuewei.optimizer.strengthen`), solved by HiGHS without its own cuts — what the formulation gives;
- ``root_bound`` (``--root``): HiGHS's bound after the root node (its cuts added), one thread;
- ``objective``, ``bound``, ``gap``, ``nodes``, ``solve_s``, ``stop``: the run with the scenario's
  solver settings (the default unless the scenario says otherwise), as ``xuewei run`` solves it;
- ``best_known`` and ``best_bound``: the lowest objective and highest bound ever recorded for the
  same model (``benchmarks/results/layout_best.csv``, keyed by a fingerprint of the model's data and
  policy, so a model that changed is never compared with an old best).

Usage::

    python benchmarks/layout_bench.py [--regions demo mountain ...] [--root] [--e2e]
        [--csv benchmarks/results/layout_bench.csv] [--md benchmarks/results/layout_bench.md]
    # best known objectives and bounds: the default answer, then S seconds of branch and bound from it
    # (HiGHS, or SCIP with --solver scip if installed); merged into layout_best.csv (lowest objective,
    # highest bound):
    python benchmarks/layout_bench.py --regions demo --long 600 [--min-pairs 300 | --models primary]

``--e2e`` also times ``xuewei run SCENARIO`` end to end (maps, workbook, report included) in a
separate process. Timings depend on the machine and its load; node counts, objectives and bounds
in reproducible mode do not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BEST = RESULTS / "layout_best.csv"
LONG = RESULTS / "layout_long.jsonl"  #: one line per --long solve
COUNTIES = ("mountain", "plain", "urban", "shrinking", "growing", "multi")
REGIONS = ("demo",) + COUNTIES + ("city",)
BIG_MODEL_PAIRS = 300  #: models with fewer village–school pairs are summed per stage in the table


def scenario_path(name: str, data: Path) -> Path:
    """The scenario of a benchmark region (generated into ``data`` when needed)."""
    sys.path.insert(0, str(HERE))
    if name == "demo":
        from xuewei.data.paths import SCENARIOS_DIR

        return SCENARIOS_DIR / "demo.toml"
    if name == "city":
        from make_city import make_city

        if not (data / "city.toml").is_file():
            make_city(data)
        return data / "city.toml"
    if name in COUNTIES:
        from make_counties import make_county

        if not (data / f"{name}.toml").is_file():
            make_county(data, name)
        return data / f"{name}.toml"
    return Path(name)  # any scenario file


def fingerprint(sd, policy) -> str:
    """A short hash of everything that defines one stage model (data arrays and policy)."""
    h = hashlib.sha256()
    for arr in (sd.demand, sd.pair_node, sd.pair_site, sd.pair_km, sd.pair_boarding, sd.years):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(sd.sites.to_csv(index=False).encode())
    for g in sd.seat_groups:
        h.update(np.ascontiguousarray(g).tobytes())
    h.update(policy.model_dump_json().encode())
    return h.hexdigest()[:16]


def prepare(scenario: Path):
    """Load, forecast and build the stage models of a scenario; returns (scenario, policy, stages, seconds)."""
    from xuewei import pipeline
    from xuewei.optimizer.layout_data import build_stage_data

    t0 = time.perf_counter()
    sc, _, region, fconf, policy = pipeline.load_inputs(scenario)
    base = sc.horizon.base_year or region.meta.base_year
    demand = pipeline.run_forecast(sc, region, fconf, policy)
    stages, _ = build_stage_data(region, demand, policy, sc.horizon.periods, base)
    return sc, policy, stages, time.perf_counter() - t0


def lp_bound(grp, policy, budget) -> float:
    """Objective of the LP relaxation of one model as built [万元] (HiGHS, no cuts)."""
    import pulp

    from xuewei.optimizer.layout import build_group
    from xuewei.optimizer.solve import TimedHiGHS

    gm = build_group(grp, policy, budget)
    solver = TimedHiGHS(msg=False, mip=False, threads=1)
    gm.prob.solve(solver)
    if gm.prob.status != pulp.LpStatusOptimal:
        return float("nan")
    return float(gm.prob.solverModel.getInfo().objective_function_value) + float(gm.objective.constant)


def root_bound(grp, policy, budget, solver: str, time_limit_s: float) -> dict:
    """The solver's bound and incumbent after the root node (one thread, fixed seed)."""
    from xuewei.optimizer.layout import _solve_group

    _, s = _solve_group(grp, policy, budget, solver, time_limit_s, 1e-6, 1, max_nodes=1)
    return {"root_bound": s["bound_wan_yuan"], "root_objective": s["objective_wan_yuan"], "root_s": s["solve_seconds"]}


def measure(name: str, data: Path, root: bool, workers: int | None, solver: str | None,
            settings: dict | None = None) -> list[dict]:
    """Per-model rows of one region with the scenario's solver settings (``settings`` overrides
    ``max_nodes``, ``local_search``, ``polish_nodes``, ``refine_sweeps``, ``finish_nodes``, ``reproducible``,
    ``time_limit_s``)."""
    from xuewei.optimizer.layout import _split_budget, solve_layout

    sc, policy, stages, prep_s = prepare(scenario_path(name, data))
    opts = sc.solver.model_copy(update=settings or {})
    reproducible = opts.reproducible
    budget = policy.budget_for(len(stages[0].years)) if stages else None
    budgets = _split_budget(stages, policy, budget)
    t0 = time.perf_counter()
    layout = solve_layout(stages, policy, solver=solver or opts.name, time_limit_s=opts.time_limit_s,
                          gap_rel=opts.gap_rel, threads=opts.threads,
                          max_nodes=opts.max_nodes if reproducible else None,
                          workers=workers or opts.worker_count(), improve_sweeps=opts.local_search,
                          polish_nodes=opts.polish_nodes, refine_sweeps=opts.refine_sweeps,
                          finish_nodes=opts.finish_nodes)
    solve_wall = time.perf_counter() - t0
    summary = layout.summary.set_index("model")
    rows = []
    for sd, b in zip(stages, budgets):
        s = summary.loc[sd.name]
        row = {"region": name, "model": sd.name, "stage": sd.stage, "fingerprint": fingerprint(sd, policy),
               "pairs": len(sd.pair_node), "variables": int(s["variables"]), "constraints": int(s["constraints"]),
               "status": s["status"], "stop": s["stop"], "nodes": s.get("nodes"),
               "objective": s["objective_wan_yuan"], "bound": s["bound_wan_yuan"], "gap": s["gap"],
               "solve_s": s["solve_seconds"], "build_s": s["build_seconds"],
               "greedy": s.get("greedy_wan_yuan"), "improved": s.get("improved_wan_yuan"),
               "improve_s": s.get("improve_seconds"), "solver_answer": s.get("solver_answer_wan_yuan"),
               "polish_s": s.get("polish_seconds"), "polished": s.get("polished_wan_yuan"),
               "refine_s": s.get("refine_seconds"), "refined": s.get("refined_wan_yuan"),
               "finish_s": s.get("finish_seconds"),
               "lp_bound": lp_bound([sd], policy, b) if len(sd.pair_node) >= 20 else np.nan,
               "prep_s": prep_s, "solve_wall_s": solve_wall, "workers": workers or opts.worker_count(),
               "max_nodes": opts.max_nodes if reproducible else None, "solver": solver or opts.name,
               "local_search": opts.local_search, "polish_nodes": opts.polish_nodes,
               "refine_sweeps": opts.refine_sweeps, "finish_nodes": opts.finish_nodes}
        if root and len(sd.pair_node) >= BIG_MODEL_PAIRS:
            row.update(root_bound([sd], policy, b, solver or opts.name, opts.time_limit_s))
        rows.append(row)
    return rows


def long_solve(name: str, data: Path, seconds: float, min_pairs: int, solver: str, threads: int,
               models: list[str] | None = None) -> list[dict]:
    """Best-known candidates: each model of at least ``min_pairs`` pairs (or only ``models``) is
    solved the default way (reproducible mode: root node, polish, refine search, finish), then the solver
    runs in time mode for ``seconds`` more from that answer (branch and bound, ``threads`` threads).
    The row keeps the cheaper answer and the time-mode bound, which is a proven bound of the model."""
    from xuewei.optimizer import layout as L
    from xuewei.optimizer.solve import solve_problem

    _, policy, stages, _ = prepare(scenario_path(name, data))
    budget = policy.budget_for(len(stages[0].years)) if stages else None
    rows = []
    for sd, b in zip(stages, L._split_budget(stages, policy, budget)):
        if (models and sd.name not in models) or (not models and len(sd.pair_node) < min_pairs):
            continue
        t0 = time.perf_counter()
        gm = L.build_group([sd], policy, b, True, seconds)
        off = float(gm.objective.constant)
        start = {v: v.varValue for v in gm.prob.variables() if v.varValue is not None}
        rep = solve_problem(gm.prob, "highs", 600.0, 0.005, 1, start=start, max_nodes=1)
        if rep.gap is not None and rep.gap > max(0.005, L.POLISH_MIN_GAP):  # as the product does
            rep, _ = L._polish(gm, rep, "highs", 600.0, 0.005, L.POLISH_NODES)
            rep, _, _ = L._refine(gm, rep, L.REFINE_SWEEPS, deadline=time.perf_counter() + 600.0)
            if len(sd.pair_node) < L.FINISH_MAX_PAIRS and rep.gap > L.FINISH_MIN_GAP:
                rep, _ = L._finish(gm, rep, "highs", 600.0, 0.005, L.FINISH_NODES)
        default = rep.objective + off
        t1 = time.perf_counter()
        answer = {v: v.varValue for v in gm.prob.variables()}
        long = solve_problem(gm.prob, solver, seconds, 1e-4, threads, start=answer)
        objective = min(default, long.objective + off)
        rows.append({"region": name, "model": sd.name, "fingerprint": fingerprint(sd, policy),
                     "objective": objective, "bound": max(rep.bound, long.bound if long.bound is not None else rep.bound) + off,
                     "default_objective": default, "default_bound": rep.bound + off,
                     "long_objective": long.objective + off, "solver": solver, "nodes": long.nodes,
                     "default_s": round(t1 - t0), "long_s": round(time.perf_counter() - t1),
                     "how": f"layout_bench.py --long {seconds:g} --solver {solver} --threads {threads}"})
        if long.objective + off > default - 1e-6 * abs(default):  # branch and bound found nothing cheaper
            rows[-1]["objective_how"] = "layout_bench.py（缺省设置的答案）"
        line = json.dumps(rows[-1], ensure_ascii=False)
        print(line, file=sys.stderr, flush=True)
        with open(LONG, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    return rows


def merge_best(rows: list[dict]) -> pd.DataFrame:
    """Fold new results into ``layout_best.csv``: per (region, model, fingerprint) the lowest objective
    and the highest bound, each with where it came from."""
    import fcntl

    cols = ["region", "model", "fingerprint", "best_known", "best_known_how", "best_bound", "best_bound_how"]
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / ".layout_best.lock", "w") as lock:  # several --long runs may finish at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _merge_best(rows, cols)


def _merge_best(rows: list[dict], cols: list[str]) -> pd.DataFrame:
    old = pd.read_csv(BEST, dtype={"fingerprint": str}) if BEST.is_file() else pd.DataFrame(columns=cols)
    new = pd.DataFrame([{"region": r["region"], "model": r["model"], "fingerprint": r["fingerprint"],
                         "best_known": r["objective"], "best_known_how": r.get("objective_how", r.get("how", "default")),
                         "best_bound": r["bound"], "best_bound_how": r.get("how", "default")} for r in rows])
    both = pd.concat([old, new], ignore_index=True)
    key = ["region", "model", "fingerprint"]
    obj = both.dropna(subset=["best_known"]).sort_values("best_known").drop_duplicates(key)[key + cols[3:5]]
    bnd = both.dropna(subset=["best_bound"]).sort_values("best_bound", ascending=False).drop_duplicates(key)[
        key + cols[5:]]
    out = obj.merge(bnd, on=key, how="outer").sort_values(key).reset_index(drop=True)
    out[cols].to_csv(BEST, index=False, lineterminator="\n", float_format="%.3f")
    return out


def with_best(df: pd.DataFrame) -> pd.DataFrame:
    """Add best-known objective and bound, gaps against them, LP and root gaps."""
    best = pd.read_csv(BEST, dtype={"fingerprint": str}) if BEST.is_file() else pd.DataFrame(
        columns=["region", "model", "fingerprint", "best_known", "best_bound"])
    df = df.merge(best[["region", "model", "fingerprint", "best_known", "best_bound"]],
                  on=["region", "model", "fingerprint"], how="left")
    ref = np.fmin(df["best_known"].astype(float), df["objective"].astype(float))
    df["best_known"] = ref
    df["lp_gap"] = (ref - df["lp_bound"]) / ref
    if "root_bound" in df:
        df["root_gap"] = (ref - df["root_bound"]) / ref
    df["over_best"] = (df["objective"] - ref) / ref
    return df


def _pct(x) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{100 * x:.2f}%"


def markdown(df: pd.DataFrame) -> str:
    """Per region: the large models one per row, the small parts of a stage summed in one row."""
    lines = ["| 区域 | 模型 | 配对 | LP 间隙 | 根节点间隙 | 目标值（万元） | 下界（万元） | 间隙 | 比已知最好 | 最好已知（万元） | 节点 | 求解 s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (region, stage), grp in df.groupby(["region", "stage"], sort=False):
        big = grp[grp["pairs"] >= BIG_MODEL_PAIRS]
        small = grp[grp["pairs"] < BIG_MODEL_PAIRS]
        for r in big.itertuples():
            lines.append(f"| {region} | {r.model} | {r.pairs} | {_pct(r.lp_gap)} | {_pct(getattr(r, 'root_gap', np.nan))} | "
                         f"{r.objective:,.0f} | {r.bound:,.0f} | {_pct(r.gap)} | {_pct(r.over_best)} | {r.best_known:,.0f} | "
                         f"{'' if pd.isna(r.nodes) else int(r.nodes)} | {r.solve_s:.1f} |")
        if len(small):
            lines.append(f"| {region} | {stage}：{len(small)} 个小片区（合计） | {small['pairs'].sum()} | — | — | "
                         f"{small['objective'].sum():,.0f} | {small['bound'].sum():,.0f} | 最差 {_pct(small['gap'].max())} | "
                         f"— | — | {int(small['nodes'].fillna(0).sum())} | {small['solve_s'].sum():.1f} |")
    return "\n".join(lines)


def _all_sum(x):
    return x.sum() if x.notna().all() else np.nan


def compare(before: Path, after: Path) -> str:
    """Per region and stage (large models, small parts summed): LP and root bounds and gaps of two runs
    of this script on the same regions, e.g. without and with the tightening, gaps against the best
    objective either run (or layout_best.csv) knows."""
    a, b = pd.read_csv(before), pd.read_csv(after)
    key = ["region", "model"]
    m = a.merge(b, on=key, suffixes=("_a", "_b"))
    m["stage"] = m["model"].str.split("#").str[0]
    m["big"] = m["pairs_a"] >= BIG_MODEL_PAIRS
    m["label"] = np.where(m["big"], m["model"], m["stage"] + "（小片区合计）")
    g = m.groupby(["region", "label"], sort=False).agg(
        n=("model", "size"), best=("best_known_b", "sum"), obj_a=("objective_a", "sum"), obj_b=("objective_b", "sum"),
        lp_a=("lp_bound_a", _all_sum), lp_b=("lp_bound_b", _all_sum), bound_a=("bound_a", _all_sum),
        bound_b=("bound_b", _all_sum))
    best = np.fmin(g["best"], np.fmin(g["obj_a"], g["obj_b"]))
    lines = ["| 区域 | 模型 | LP 间隙 前→后 | 根节点/最终间隙 前→后 | 下界提高 | 目标值 前→后（万元） |",
             "|---|---|---|---|---|---|"]
    for (region, label), r in g.iterrows():
        ref = best[(region, label)]
        lp_a, lp_b = (ref - r.lp_a) / ref, (ref - r.lp_b) / ref
        gap_a, gap_b = (r.obj_a - r.bound_a) / r.obj_a, (r.obj_b - r.bound_b) / r.obj_b
        lines.append(f"| {region} | {label} | {_pct(lp_a)} → {_pct(lp_b)} | {_pct(gap_a)} → {_pct(gap_b)} | "
                     f"{_pct((r.bound_b - r.bound_a) / ref)} | {r.obj_a:,.0f} → {r.obj_b:,.0f} |")
    return "\n".join(lines)


def _step_table(big: pd.DataFrame, before: str, after: str, step: str) -> str:
    """Markdown rows for one step after the solver: ``big`` has ``before``, ``after`` [万元], ``bound``,
    ``gap_before``, ``gap_after`` and ``step_s`` [s]; then how many models are within 0.5% / 1% / 2%
    before and after the step, and the step's total seconds."""
    lines = [f"| 区域 | 模型 | 配对 | {before}（万元） | {after}（万元） | 下界（万元） | 间隙 前 → 后 | {step} s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in big.itertuples():
        lines.append(f"| {r.region} | {r.model} | {r.pairs} | {r.before:,.0f} | {r.after:,.0f} | {r.bound:,.0f} | "
                     f"{_pct(r.gap_before)} → {_pct(r.gap_after)} | {r.step_s:.1f} |")
    lines.append("")
    for limit in (0.005, 0.01, 0.02):
        lines.append(f"- 间隙 ≤ {100 * limit:g}%：{int((big['gap_before'] <= limit + 1e-12).sum())} → "
                     f"{int((big['gap_after'] <= limit + 1e-12).sum())} 个（共 {len(big)} 个大模型）")
    lines.append(f"- {step}用时合计 {big['step_s'].sum():.0f} s（{int((big['step_s'] > 0).sum())} 个模型）")
    return "\n".join(lines)


def polish_table(csv: Path, min_gap: float = 0.0) -> str:
    """Large models of one run of this script (default settings): the solver's own answer, the answer
    after the polish with openings fixed (`xuewei.optimizer.layout._polish`), both gaps against the
    same bound, and the polish's seconds; then how many models are within 0.5% / 1% / 2% before and
    after. ``min_gap``: count as polished only models whose first gap is above it (to show what a
    threshold would have kept)."""
    df = pd.read_csv(csv)
    big = df[df["pairs"] >= BIG_MODEL_PAIRS].copy()
    big["before"] = big["solver_answer"]
    big["gap_before"] = (big["before"] - big["bound"]) / big["before"]
    ran = big["gap_before"] > min_gap
    polished = big["polished"].fillna(big["objective"]) if "polished" in big else big["objective"]  # before the refine search
    big["after"] = np.where(ran, polished, big["before"])
    big["gap_after"] = (big["after"] - big["bound"]) / big["after"]
    big["step_s"] = np.where(ran, big["polish_s"], 0.0)
    return _step_table(big, "求解器答案", "再解后", "再解")


def refine_table(csv: Path) -> str:
    """Large models of one run of this script: the answer after the polish, after the refine search
    (`xuewei.optimizer.layout._refine`), both gaps against the same bound, the search's seconds; then
    how many models are within 0.5% / 1% / 2% before and after the search."""
    df = pd.read_csv(csv)
    big = df[df["pairs"] >= BIG_MODEL_PAIRS].copy()
    big["before"] = big["polished"].fillna(big["objective"])
    big["after"] = big["objective"]
    big["gap_before"] = (big["before"] - big["bound"]) / big["before"]
    big["gap_after"] = (big["after"] - big["bound"]) / big["after"]  # both gaps with the same formula
    big["step_s"] = big["refine_s"].fillna(0.0)
    return _step_table(big, "再解后", "局部搜索后", "局部搜索")


def e2e(name: str, data: Path) -> float:
    """Seconds of ``xuewei run SCENARIO`` end to end, in its own process."""
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "xuewei.cli", "run", str(scenario_path(name, data)), "--out",
                               str(Path(out) / "run")], capture_output=True, text=True)
        if proc.returncode not in (0, 3):
            raise SystemExit(f"xuewei run {name} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="布局模型基准：LP 下界、根节点下界、目标值、间隙与用时")
    p.add_argument("--regions", nargs="+", default=list(REGIONS[:-1]), help="缺省：demo 与六个生成的县（city 要单独点名）")
    p.add_argument("--data", type=Path, help="生成区域的文件夹（缺省临时文件夹）")
    p.add_argument("--root", action="store_true", help="另解一次根节点，记录根节点下界")
    p.add_argument("--e2e", action="store_true", help="另计 xuewei run 全程用时")
    p.add_argument("--workers", type=int)
    p.add_argument("--solver", help="缺省按情景")
    p.add_argument("--long", type=float, help="求最好已知解：每个模型按时限模式求解这么多秒，并入 layout_best.csv")
    p.add_argument("--threads", type=int, default=1, help="--long 时每个模型的线程数")
    p.add_argument("--min-pairs", type=int, default=BIG_MODEL_PAIRS, help="--long 只解不少于这么多配对的模型")
    p.add_argument("--models", nargs="+", help="--long 只解这些模型（如 primary kindergarten#1）")
    p.add_argument("--update-best", action="store_true", help="把这次的目标值与下界也并入 layout_best.csv")
    p.add_argument("--max-nodes", type=int, help="覆盖情景的 solver.max_nodes")
    p.add_argument("--local-search", type=int, help="覆盖情景的 solver.local_search（轮数）")
    p.add_argument("--polish-nodes", type=int, help="覆盖情景的 solver.polish_nodes（0 = 不固定开办决策再解）")
    p.add_argument("--refine-sweeps", type=int, help="覆盖情景的 solver.refine_sweeps（0 = 求解后不做局部搜索）")
    p.add_argument("--finish-nodes", type=int, help="覆盖情景的 solver.finish_nodes（0 = 小模型不再做分支定界）")
    p.add_argument("--mode", choices=["reproducible", "time"], help="覆盖情景的 solver.reproducible")
    p.add_argument("--time-limit", type=float, help="覆盖情景的 solver.time_limit_s")
    p.add_argument("--strengthen", help="加强约束：pairs,limits,floors 的子集或 none（缺省为产品的缺省）")
    p.add_argument("--heuristic-effort", help="HiGHS 启发式工作量占比（可复现模式；缺省为产品的缺省 0.05，即 HiGHS 自身的缺省）")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE_CSV", "AFTER_CSV"),
                   help="比较本脚本的两次结果（如不加强与加强约束），打印表格后退出")
    p.add_argument("--csv", type=Path, default=RESULTS / "layout_bench.csv")
    p.add_argument("--md", type=Path, default=RESULTS / "layout_bench.md")
    p.add_argument("--polish-table", type=Path, metavar="CSV",
                   help="打印某次结果的“固定开办决策再解”前后对照表后退出（大模型）")
    p.add_argument("--polish-min-gap", type=float, default=0.0, help="--polish-table：只计首次间隙大于此值的模型的再解")
    p.add_argument("--refine-table", type=Path, metavar="CSV", help="打印某次结果的“求解后局部搜索”前后对照表后退出（大模型）")
    a = p.parse_args(argv)
    if a.refine_table:
        print(refine_table(a.refine_table))
        return
    if a.polish_table:
        print(polish_table(a.polish_table, a.polish_min_gap))
        return
    if a.compare:
        print(compare(*a.compare))
        return
    if a.strengthen is not None:  # read by xuewei.optimizer.strengthen when imported (here and in workers)
        import os

        os.environ["XUEWEI_STRENGTHEN"] = a.strengthen
    if a.heuristic_effort is not None:  # read by xuewei.optimizer.solve when imported (here and in workers)
        import os

        os.environ["XUEWEI_HEURISTIC_EFFORT"] = a.heuristic_effort
    settings = {k: v for k, v in (("max_nodes", a.max_nodes), ("local_search", a.local_search),
                                  ("polish_nodes", a.polish_nodes), ("refine_sweeps", a.refine_sweeps),
                                  ("finish_nodes", a.finish_nodes),
                                  ("time_limit_s", a.time_limit)) if v is not None}
    if a.mode:
        settings["reproducible"] = a.mode == "reproducible"
    with tempfile.TemporaryDirectory() as tmp:
        data = a.data or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        if a.long:
            for name in a.regions:
                merge_best(long_solve(name, data, a.long, a.min_pairs, a.solver or "highs", a.threads, a.models))
            return
        rows, times = [], {}
        for name in a.regions:
            t0 = time.perf_counter()
            rows += measure(name, data, a.root, a.workers, a.solver, settings)
            times[name] = {"bench_s": time.perf_counter() - t0}
            if a.e2e:
                times[name]["e2e_s"] = e2e(name, data)
            print(f"{name}: {times[name]}", file=sys.stderr, flush=True)
    if a.update_best:
        merge_best(rows)
    df = with_best(pd.DataFrame(rows))
    for name, t in times.items():
        for k, v in t.items():
            df.loc[df["region"] == name, k] = v
    a.csv.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(a.csv, index=False, lineterminator="\n", float_format="%.6g")
    table = markdown(df)
    lines = ["| 区域 | 最差间隙 | 准备 s | 求解墙钟 s | 基准全程 s | xuewei run 全程 s |", "|---|---|---|---|---|---|"]
    for name, grp in df.groupby("region", sort=False):
        t = times.get(name, {})
        lines.append(f"| {name} | {_pct(grp['gap'].max())} | {grp['prep_s'].iloc[0]:.1f} | {grp['solve_wall_s'].iloc[0]:.1f} | "
                     f"{t.get('bench_s', np.nan):.0f} | {t.get('e2e_s', np.nan):.0f} |")
    text = table + "\n\n" + "\n".join(lines) + "\n"
    a.md.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
