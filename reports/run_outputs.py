"""Write a run's tables, manifest and short report into its (atomic) run folder."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from xuewei import __version__
from xuewei.labels import ACTION_ZH, STAGE_ZH, VARIANT_ZH, model_zh
from xuewei.optimizer import layout
from xuewei.optimizer.travel import basis_zh
from xuewei.reports.runfolder import file_sha256, write_csv, write_json

STATUS_ZH = {"optimal": "最优（在间隙容差内）", "feasible": "可行（到时限或节点上限，见间隙）",
             "heuristic": "启发式解（求解器到时限未给出解，无下界）"}
PACKAGES = ("numpy", "scipy", "pandas", "geopandas", "shapely", "pyproj", "PuLP", "highspy", "matplotlib", "pydantic")


_STATUS_RANK = {"optimal": 0, "feasible": 1, "heuristic": 2}
_STOP_RANK = {"": 0, "node_limit": 1, "time_limit": 2}
_FEASIBLE_BY_STOP = {"node_limit": "可行（到节点上限，见间隙）", "time_limit": "可行（到时限，见间隙）"}


def status_zh(status: str, stop: str = "") -> str:
    """Chinese label of a (worst) solver status, saying which limit stopped a feasible solve."""
    if status == "feasible" and stop in _FEASIBLE_BY_STOP:
        return _FEASIBLE_BY_STOP[stop]
    return STATUS_ZH.get(status, status)


#: Each model's time, step by step [s] (manifest.json ``models``; defined with the solve chain).
STEP_SECONDS = layout.STEP_SECONDS


def model_seconds(summary: pd.DataFrame) -> pd.Series:
    """Each model's whole time [s]: the sum of its `STEP_SECONDS` (NaN where none is known)."""
    cols = [c for c in STEP_SECONDS if c in summary]
    if not cols:
        return pd.Series(np.nan, index=summary.index)
    steps = summary[cols].apply(pd.to_numeric, errors="coerce")
    return steps.sum(axis=1, min_count=1)


def stage_solver_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per stage from the per-model solver table: parts, worst status, largest gap, seconds (every
    step of every part, `model_seconds`), and the stage's objective and proven bound [万元] (summed over
    its parts; no bound when a part has none)."""
    stop = summary["stop"].fillna("") if "stop" in summary else pd.Series("", index=summary.index)
    s = summary.assign(stage=summary["model"].str.split("#").str[0], model_s=model_seconds(summary),
                       rank=summary["status"].map(_STATUS_RANK).fillna(3), stop_rank=stop.map(_STOP_RANK).fillna(0))
    for col in ("objective_wan_yuan", "bound_wan_yuan"):
        s[col] = pd.to_numeric(s[col], errors="coerce") if col in s else np.nan
    out = s.groupby("stage", sort=False).agg(parts=("model", "size"), rank=("rank", "max"), gap=("gap", "max"),
                                             seconds=("model_s", lambda x: x.sum(min_count=1)), stop_rank=("stop_rank", "max"),
                                             objective=("objective_wan_yuan", "sum"),
                                             bound=("bound_wan_yuan", lambda b: b.sum() if b.notna().all() else np.nan))
    inverse = {v: k for k, v in _STATUS_RANK.items()}
    out["status"] = out["rank"].map(inverse).fillna("not_solved")
    out["stop"] = out["stop_rank"].map({v: k for k, v in _STOP_RANK.items()}).fillna("")
    return out.drop(columns=["rank", "stop_rank"]).reset_index()


def quality_sentence(summary: pd.DataFrame) -> str:
    """How far the layout can be from the best possible one, in one sentence a hearing can read."""
    if summary is None or not len(summary):
        return ""
    obj = pd.to_numeric(summary["objective_wan_yuan"], errors="coerce")
    bound = pd.to_numeric(summary["bound_wan_yuan"], errors="coerce")
    gap = pd.to_numeric(summary["gap"], errors="coerce")
    if bound.isna().any() or gap.isna().any():
        missing = summary.loc[bound.isna() | gap.isna(), "model"].tolist()
        return (f"求解质量：{len(missing)} 个模型（{'、'.join(missing[:3])}{'等' if len(missing) > 3 else ''}）"
                "只有启发式解、没有证明的下界，无法说明其成本离最优有多远。")
    total_gap = max(0.0, float((obj.sum() - bound.sum()) / obj.sum())) if obj.sum() else 0.0
    return (f"求解质量：全部模型的目标值合计 {obj.sum():,.0f} 万元，已证明任何布局都不低于 {bound.sum():,.0f} 万元，"
            f"即本布局的成本最多比最优高 {total_gap:.2%}（单个模型最大间隙 {gap.max():.2%}）。"
            + _polish_clause(summary) + "成本相差小于间隙的方案之间，求解器不能判定孰优。")


def _polish_clause(summary: pd.DataFrame) -> str:
    """What the steps after the solver saved, or "": the polish with openings fixed
    (``solver_answer_wan_yuan`` − ``polished_wan_yuan``), the refine search (``polished_wan_yuan`` −
    ``refined_wan_yuan``), the finish (``refined_wan_yuan`` − ``finished_wan_yuan``) and the opening swaps
    (``finished_wan_yuan`` − objective); a summary without ``polished_wan_yuan`` counts everything as the
    polish, one without ``refined_wan_yuan`` counts the rest as the refine search, one without
    ``finished_wan_yuan`` counts the rest as the finish."""
    if "solver_answer_wan_yuan" not in summary:
        return ""
    obj = pd.to_numeric(summary["objective_wan_yuan"], errors="coerce")
    polished = pd.to_numeric(summary["polished_wan_yuan"], errors="coerce").fillna(obj) \
        if "polished_wan_yuan" in summary else obj
    tol = 1e-6 * obj.abs()
    parts = []
    if "warm_wan_yuan" in summary:  # solver.warm_start: the earlier run's openings, re-planned here
        warm = pd.to_numeric(summary["warm_wan_yuan"], errors="coerce")
        saved = pd.to_numeric(summary["greedy_wan_yuan"], errors="coerce") - warm
        hit = saved > tol
        if hit.any():
            parts.append(f"{int(hit.sum())} 个模型从热启动来源的开办方案出发（solver.warm_start：沿用其各校各期开办与否、为本情景重排划片与班数，"
                         f"比贪心初始解省 {saved[hit].sum():,.0f} 万元）")
        lacking = int(warm.isna().sum())
        if lacking:
            parts.append(f"{lacking} 个模型不能沿用热启动来源的开办方案（本情景不允许，或来源中没有这些学校），从贪心初始解出发")
    if "split_answer_wan_yuan" in summary:  # the budget a first split left unspent, handed on (_reallocate)
        saved = pd.to_numeric(summary["split_answer_wan_yuan"], errors="coerce") - obj
        hit = saved > tol
        if hit.any():
            parts.append(f"{int(hit.sum())} 个模型用完了分得的投资（投资上限先按各学段所需分配，别的学段有份额没有用完），"
                         f"分得余款后从原答案出发重解，比按初次分配求得的省 {saved[hit].sum():,.0f} 万元"
                         "（solver.csv：budget_wan_yuan 为最终份额，capital_wan_yuan 为已用）")
    saved = pd.to_numeric(summary["solver_answer_wan_yuan"], errors="coerce") - polished
    hit = saved > tol
    if hit.any():
        parts.append(f"{int(hit.sum())} 个模型在求解器停下后，把各校各期开办与否固定为其答案、再解一次划片与班数"
                     f"（solver.polish_nodes），又省 {saved[hit].sum():,.0f} 万元")
    refined = pd.to_numeric(summary["refined_wan_yuan"], errors="coerce").fillna(obj) \
        if "refined_wan_yuan" in summary else obj
    saved = polished - refined
    hit = saved > tol
    if hit.any():
        parts.append(f"{int(hit.sum())} 个模型再在答案上做局部搜索（solver.refine_sweeps：每所学校与相邻几所学校一起重新优化），"
                     f"又省 {saved[hit].sum():,.0f} 万元")
    finished = pd.to_numeric(summary["finished_wan_yuan"], errors="coerce").fillna(obj) \
        if "finished_wan_yuan" in summary else obj
    saved = refined - finished
    hit = saved > tol
    if hit.any():
        from xuewei.optimizer.layout import FINISH_BUDGET_MAX_PAIRS, FINISH_MAX_PAIRS, FINISH_MIN_GAP

        parts.append(f"{int(hit.sum())} 个模型（村–校配对少于 {FINISH_MAX_PAIRS:,}，或用完了投资份额、少于 "
                     f"{FINISH_BUDGET_MAX_PAIRS:,}）间隙仍大于 {FINISH_MIN_GAP:.0%}，从答案出发对整个模型再做分支定界（solver.finish_nodes），"
                     f"又省 {saved[hit].sum():,.0f} 万元")
    saved = finished - obj
    hit = saved > tol
    if hit.any():
        from xuewei.optimizer.layout import FINISH_MIN_GAP

        parts.append(f"{int(hit.sum())} 个小模型间隙仍大于 {FINISH_MIN_GAP:.0%}，再试“开办互换”（solver.swap_rounds：一处改变各期开办与否，"
                     f"或撤一处、开一处，按固定开办后的线性松弛排序后求整数解），又省 {saved[hit].sum():,.0f} 万元")
    return "其中 " + "；".join(parts) + "。" if parts else ""


def budget_use(summary: pd.DataFrame, periods: list[int]) -> pd.DataFrame | None:
    """Per period under ``budget_wan_yuan``: the county's limit (the models' final shares add up to it),
    what each stage's models spent (``capital_wan_yuan``, equal to `actions.csv` ``cost_wan_yuan`` summed)
    and what is left [万元]. ``None`` without a budget.

    >>> s = pd.DataFrame({"model": ["primary", "kindergarten#1", "kindergarten#2"],
    ...                   "budget_wan_yuan": ["600;500", "300;400", "100;100"], "capital_wan_yuan": ["600;80", "290;0", "0;0"]})
    >>> budget_use(s, [2025, 2030]).to_dict("records")[1]
    {'规划期': 2030, '全县投资上限（万元）': 1000, '学前': 0, '小学': 80, '合计已用': 80, '未用': 920}
    """
    if summary is None or "capital_wan_yuan" not in summary or "budget_wan_yuan" not in summary:
        return None

    def per(col: str) -> np.ndarray:
        # one period read back from solver.csv comes as a number, several as "a;b;c"
        return np.array([[0.0] * len(periods) if pd.isna(v) or str(v) == "" else [float(x) for x in str(v).split(";")]
                         for v in summary[col]], dtype=float).reshape(len(summary), len(periods))

    share, spent = per("budget_wan_yuan"), per("capital_wan_yuan")
    stage = summary["model"].astype(str).str.split("#").str[0].to_numpy()
    stages = [g for g in STAGE_ZH if g in set(stage)]
    out = pd.DataFrame({"规划期": list(periods), "全县投资上限（万元）": share.sum(axis=0).round()})
    for g in stages:
        out[STAGE_ZH[g]] = spent[stage == g].sum(axis=0).round()
    out["合计已用"] = spent.sum(axis=0).round()
    out["未用"] = (out["全县投资上限（万元）"] - out["合计已用"]).clip(lower=0)
    return out.astype(int)  # whole 万元, as solver.csv writes them


BUDGET_NOTE = ("来源：情景 policy.budget_wan_yuan（全县每期上限）。每期先给各学段非建不可的学校（乡镇驻地必保的新校），"
               "余下的按各学段所需分配，解完后把没用完的份额再分给因投资不够而有学生未能安排的学段；各学段“已用”是布局模型的各期投资"
               "（solver.csv 的 capital_wan_yuan），等于 actions.csv 中该学段各校 cost_wan_yuan 之和。")


def quality_short(summary: pd.DataFrame) -> str:
    """One printed line for a hearing pack: how far the whole layout can be from the best one."""
    if summary is None or not len(summary):
        return ""
    obj = pd.to_numeric(summary["objective_wan_yuan"], errors="coerce")
    bound = pd.to_numeric(summary["bound_wan_yuan"], errors="coerce")
    if bound.isna().any() or not obj.sum():
        return "布局求解：部分模型只有启发式解，没有证明的下界，不能说明离最优多远。"
    total_gap = max(0.0, float((obj.sum() - bound.sum()) / obj.sum()))
    return (f"布局求解：全县布局的成本最多比最优高 {total_gap:.2%}（与已证明的下界相比；"
            f"单个模型最大间隙 {pd.to_numeric(summary['gap'], errors='coerce').max():.2%}）。")


def _stopped_by_clock(result) -> list[str]:
    """Models the clock stopped (``stop == "time_limit"``), in solver-table order."""
    summary = result.layout.summary if result.layout is not None else pd.DataFrame()
    if "stop" not in summary:
        return []
    return summary.loc[summary["stop"] == "time_limit", "model"].tolist()


def reproducible(result) -> bool:
    """True when the run's tables do not depend on the machine: the solver ran in reproducible mode
    and no model was stopped by its safety time limit."""
    return bool(result.scenario.solver.reproducible and not _stopped_by_clock(result))


def reproducibility_note(result) -> str:
    """One sentence for the report: can this run be reproduced byte for byte, and why (not)."""
    opts = result.scenario.solver
    if not opts.reproducible:
        return ("可复现性：按时限停止（solver.reproducible = false），同一情景在不同机器或负载下结果可能不同；"
                "需要可复现时去掉该设置。")
    hit = _stopped_by_clock(result)
    if hit:
        return (f"可复现性：否——{len(hit)} 个模型（{'、'.join(hit[:5])}{'等' if len(hit) > 5 else ''}）在节点上限前触到"
                f"保险时限 {opts.time_limit_s:g} 秒，结果与机器快慢有关；加大 solver.time_limit_s 或减小 solver.max_nodes 后重跑。")
    return (f"可复现性：是——各模型按分支节点上限（{opts.max_nodes}）停止，单线程、随机种子固定；"
            f"同一情景与输入重跑（xuewei rerun）得到逐字节相同的结果表。")


def package_versions() -> dict:
    out = {"xuewei": __version__, "python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def input_hashes(result) -> dict:
    files = {"scenario": result.scenario_path, **{k: v for k, v in result.region.files.items()}}
    if result.region.meta.plan:
        from xuewei.data.plans import resolve_plan_path

        files["plan"] = resolve_plan_path(result.region.meta.plan, result.region.path)
    return {k: {"path": str(p), "sha256": file_sha256(Path(p))} for k, p in sorted(files.items())}


def manifest(result, run_dir: Path) -> dict:
    summary = result.layout.summary if result.layout is not None else pd.DataFrame()
    worst_gap = summary["gap"].max() if len(summary) else None
    return {
        "xuewei_version": __version__,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scenario": {"name": result.scenario.name, "path": str(result.scenario_path),
                     "resolved": result.scenario.model_dump(mode="json")},
        "region": {"id": result.region.meta.id, "name": result.region.meta.name,
                   "admin_code": result.region.meta.admin_code, "path": str(result.region.path),
                   "synthetic": result.region.meta.synthetic},
        "forecast": result.forecast_config.model_dump(mode="json"),
        "forecast_assumptions": list(result.demand.attrs.get("assumptions", [])),
        "forecast_grade_methods": dict(result.demand.attrs.get("grade_methods", {})),
        "policy": result.policy.model_dump(mode="json"),
        "inputs": input_hashes(result),
        "packages": package_versions(),
        "platform": platform.platform(),
        "solver": result.scenario.solver.model_dump(mode="json"),
        "status": "served" if result.unserved.empty else "unserved_pupils",
        "models": summary.replace({np.nan: None}).to_dict(orient="records"),
        "worst_gap": None if worst_gap is None or pd.isna(worst_gap) else float(worst_gap),
        "reproducible": reproducible(result),
        "warm_start": getattr(result, "warm_start", None),
        "seconds": result.timings,
        "rerun": f"xuewei run {result.scenario_path} --out {run_dir}",
    }


def _round(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(digits)
    return out


def catchment_lines(r) -> list[str]:
    """Report section: base-year catchments as calibrated, and the changes of school by reason."""
    from xuewei.optimizer.catchments import calibration_warnings

    if r.base_flows is None:
        return []
    lines = ["", "## 就学流向与换校", ""]
    cal = r.calibration
    if cal is not None and len(cal):
        placed = cal["pupils_placed"].sum() / max(1.0, cal["pupils_base"].sum())
        lines.append(f"基准年各村（社区）到各校的就学流向按各校基准年在校生校准（运输问题，按路程最短），"
                     f"落位 {placed:.1%} 的在校生（catchments_base.csv、catchments_calibration.csv）。"
                     f"此后一个村的学生留在原校，除非原校撤并、转变、学位不足或新校明显更好；"
                     f"每名换校学生计 {r.policy.reassign_per_pupil_wan_yuan:g} 万元（reassign_per_pupil_wan_yuan）。")
        names = r.region.schools.set_index("school_id")["name"]
        warn = calibration_warnings(cal, names)
        if warn:
            lines += ["", "**注意**：" + warn[0], ""] + [f"- {w}" for w in warn[1:]]
    ch = r.catchment_changes
    if ch is not None and len(ch):
        lines += ["", "换校的村（社区）× 学段（次）与人数，按原因（catchment_changes.csv）：", "",
                  "| 规划期 | 原因 | 村×学段（次） | 人数 |", "|---|---|---|---|"]
        g = ch.groupby(["period", "reason_zh"]).agg(n=("node_id", "size"), pupils=("pupils", "sum")).reset_index()
        for row in g.itertuples():
            lines.append(f"| {row.period} | {row.reason_zh} | {row.n} | {row.pupils:,.0f} |")
    elif ch is not None:
        lines.append("各规划期没有学生换校。")
    return lines


def report_markdown(result) -> str:
    """A short report in Chinese: key numbers, unserved pupils, rule audit, plan comparison."""
    r = result
    lines = [f"# {r.region.meta.name} 学位规划运行报告：情景 {r.scenario.name}", ""]
    if r.region.meta.synthetic:
        lines += ["> **示意数据**：本区域部分数据为合成（见区域 README），结果只作方法演示，不能作为决策依据。", ""]
    lines += [f"- 基准年 {r.base_year}，规划期 {', '.join(map(str, r.scenario.horizon.periods))}；"
              f"需求按{VARIANT_ZH.get(r.policy.design_variant, r.policy.design_variant)}；求解器 {r.scenario.solver.name}；"
              f"路程按{basis_zh(r.region, r.policy)}计算。", ""]
    lines += ["## 求解", "", "| 学段 | 独立片区 | 状态（最差） | 目标值（万元） | 已证明的下界（万元） | 最大间隙 | 用时（秒） |",
              "|---|---|---|---|---|---|---|"]
    for row in stage_solver_summary(r.layout.summary).itertuples():
        gap = "—" if pd.isna(row.gap) else f"{row.gap:.2%}"
        bound = "—" if pd.isna(row.bound) else f"{row.bound:,.0f}"
        lines.append(f"| {STAGE_ZH.get(row.stage, row.stage)} | {row.parts} | {status_zh(row.status, row.stop)} | "
                     f"{row.objective:,.0f} | {bound} | {gap} | {row.seconds:.1f} |")
    lines += ["", quality_sentence(r.layout.summary),
              "各模型（片区）的目标值、下界与间隙见 solver.csv 与工作簿“求解质量”表。", "", reproducibility_note(result)]
    if getattr(result, "warm_start", None):
        w = result.warm_start
        lines += ["", f"热启动：各模型先沿用 {w['path']}" + (f"（情景 {w['scenario']}）" if w.get("scenario") else "")
                  + " 的各校各期开办与否解一次，比贪心初始解省就从它出发（solver.warm_start）；同一来源文件（sha256 "
                  + w["sha256"][:12] + "…）重跑得到同一结果。"]
    use = budget_use(r.layout.summary, r.scenario.horizon.periods)
    if use is not None:
        lines += ["", "## 投资上限与使用（万元）", "", "| " + " | ".join(use.columns) + " |", "|---" * len(use.columns) + "|"]
        lines += ["| " + " | ".join(f"{v:,.0f}" if k != "规划期" else str(v) for k, v in row.items()) + " |"
                  for row in use.to_dict("records")]
        lines += ["", BUDGET_NOTE]
    lines += ["", "## 各期学校调整（所）", ""]
    counts = r.actions.groupby(["period", "action"]).size().unstack(fill_value=0)
    cols = [a for a in ACTION_ZH if a in counts.columns]
    lines += ["| 规划期 | " + " | ".join(ACTION_ZH[a] for a in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for period, row in counts.iterrows():
        lines.append(f"| {period} | " + " | ".join(str(int(row[a])) for a in cols) + " |")
    from xuewei.reports.pack_tables import oversize_rows

    over = oversize_rows(r.actions)
    if len(over):
        lines += ["", "## 超规模、大班额学校（逐期降到上限）", "",
                  f"基准年超过规模上限或班额上限的学校按 oversize_target_year（{r.policy.oversize_year_text(max(r.scenario.horizon.periods))}）"
                  "逐期降到上限，超出的学生分流到其他学校：", "", "| 规划期 | 学校 | 调整 | 说明 |", "|---|---|---|---|"]
        lines += [f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} |" for row in over.itertuples(index=False)]
    lines += ["", "## 学位与需求（全县）", "", "| 规划期 | 学段 | 需求（人） | 学位 | 未安排（人） |", "|---|---|---|---|---|"]
    tot = r.summary.groupby(["period", "stage"])[["pupils", "places", "unserved"]].sum()
    for (period, stage), row in tot.iterrows():
        lines.append(f"| {period} | {STAGE_ZH.get(stage, stage)} | {row['pupils']:,.0f} | {row['places']:,.0f} | "
                     f"{row['unserved']:,.0f} |")
    lines += ["", "## 未安排的学生", ""]
    if r.unserved.empty:
        lines.append("全部学生都已安排。")
    else:
        names = r.region.townships.set_index("township_id")["name"]
        un = r.unserved.merge(r.region.nodes[["node_id", "township_id"]], on="node_id")
        g = un.groupby(["period", "stage", "township_id", "reason_zh"])["pupils"].sum().reset_index()
        lines += ["| 规划期 | 学段 | 乡镇 | 人数 | 起约束作用的规则 |", "|---|---|---|---|---|"]
        for row in g.itertuples():
            lines.append(f"| {row.period} | {STAGE_ZH.get(row.stage, row.stage)} | {names.get(row.township_id, row.township_id)} | "
                         f"{row.pupils:,.0f} | {row.reason_zh} |")
    lines += catchment_lines(r)
    lines += ["", "## 规则审计", ""]
    if r.violations.empty:
        lines.append("没有违反走读距离、寄宿、班额、规模和聚落层级规则的情况。")
    else:
        for rule, grp in r.violations.groupby("rule_zh"):
            lines.append(f"- {rule}：{len(grp)} 处，例如：{grp['message'].iloc[0]}")
    if r.plan_check:
        from xuewei.reports.plan_sections import markdown_lines

        lines += markdown_lines(r.plan_check)
    lines += ["", "## 预测的假设", ""] + [f"- {a}" for a in r.demand.attrs.get("assumptions", [])]
    return "\n".join(lines) + "\n"


def write_catchments(result, folder: Path) -> None:
    """Base-year catchments (calibrated flows, per-school check) and each change of school, with why."""
    if result.base_flows is not None:
        write_csv(_round(result.base_flows), folder / "catchments_base.csv")
    if result.calibration is not None:
        write_csv(_round(result.calibration), folder / "catchments_calibration.csv")
    if result.catchment_changes is not None:
        write_csv(_round(result.catchment_changes), folder / "catchment_changes.csv")


def write_run(result, folder: Path, target: Path) -> None:
    """Every table of a run into ``folder`` (the temporary run folder that becomes ``target``)."""
    from xuewei.forecaster.report import write_demand_csv, write_outputs

    write_demand_csv(result.demand, folder / "demand.csv")
    title = result.region.meta.name + ("（示意数据）" if result.region.meta.synthetic else "")
    write_outputs(result.demand, folder / "charts", title_prefix=title)
    actions = result.actions.copy()
    write_csv(_round(actions), folder / "actions.csv")
    asg = result.layout.assignments[["node_id", "stage", "period", "school_id", "pupils", "share", "distance_km"]
                                    + (["travel_min"] if "travel_min" in result.layout.assignments else []) + ["boarding"]
                                    + (["status_quo_far"] if "status_quo_far" in result.layout.assignments else [])]
    write_csv(_round(asg.sort_values(["period", "stage", "node_id", "school_id"])), folder / "assignments.csv")
    write_csv(_round(result.schools), folder / "schools.csv")
    write_csv(_round(result.summary), folder / "summary.csv")
    write_csv(_round(result.unserved), folder / "unserved.csv")
    write_catchments(result, folder)
    write_csv(_round(result.violations), folder / "audit.csv")
    # Timings vary from run to run; they go to manifest.json so that the tables of a run are reproducible.
    timing = [c for c in ("time_limit_s", *STEP_SECONDS) if c in result.layout.summary]
    write_csv(_round(result.layout.summary.drop(columns=timing)), folder / "solver.csv")
    if result.plan_check:
        from xuewei.reports.plan_sections import write_csvs

        write_csvs(result.plan_check, folder, write_csv, _round)
    (folder / "report.md").write_text(report_markdown(result), encoding="utf-8")
    write_csv(_round(result.layout.sites.sort_values(["period", "stage", "site_id"])), folder / "layout_sites.csv")
    timings = write_presentations(result, folder)
    result.timings.update(timings)
    write_json(manifest(result, target), folder / "manifest.json")


def write_presentations(result, folder: Path) -> dict:
    """``results.gpkg`` (always), maps (overview + every township), ``workbook.xlsx`` and ``report.html``,
    each as the scenario's ``[outputs]`` asks; returns the seconds each took (recorded in the manifest)."""
    import time

    from xuewei.reports.stored_run import from_result

    outputs = result.scenario.outputs
    run = from_result(result)
    seconds = {}
    from xuewei.reports.gis import GPKG, results_layers, write_gpkg

    t = time.perf_counter()
    layers = results_layers(run)
    write_gpkg(run, folder / GPKG, layers)
    seconds["gpkg_s"] = time.perf_counter() - t
    if outputs.maps:
        from xuewei.reports.maps import write_maps

        t = time.perf_counter()
        write_maps(run, folder / "maps")
        seconds["maps_s"] = time.perf_counter() - t
    if outputs.workbook:
        from xuewei.reports.workbook import write_workbook

        t = time.perf_counter()
        write_workbook(run, folder / "workbook.xlsx")
        seconds["workbook_s"] = time.perf_counter() - t
    if outputs.report:
        from xuewei.reports.html_report import write_report_html

        t = time.perf_counter()
        write_report_html(run, folder, layers)
        seconds["report_html_s"] = time.perf_counter() - t
    return seconds
