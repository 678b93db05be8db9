"""Compare runs: one row of decision numbers per run folder, ``comparison.csv``/``.xlsx`` and two charts.

Every number is read back from a run folder's own files (``actions.csv``, ``schools.csv``,
``summary.csv``, ``assignments.csv``, ``unserved.csv``, ``audit.csv``, ``solver.csv``,
``layout_sites.csv``, ``manifest.json``), so ``xuewei compare`` works on any run folders and a batch's
rows do not depend on which executor produced them.

Periods: costs and action counts are summed over all periods; places, pupils, distances and boarding
are those of the last period (the end state of the plan); unserved pupils and oversized classes are the
worst period's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from xuewei.errors import InputError, Problem
from xuewei.labels import ACTION_ZH, STAGE_ZH
from xuewei.reports.runfolder import write_csv

STAGES = ("kindergarten", "primary", "junior", "senior")
ACTIONS = tuple(ACTION_ZH)  # keep, expand, shrink, build, merge, close, convert
CHANGE_ACTIONS = tuple(a for a in ACTIONS if a != "keep")

ID_COLUMNS = ["variant", "status", "error", "scenario", "overrides", "synthetic_data"]
NUMBER_COLUMNS = (
    ["capital_cost_wan_yuan", "running_cost_wan_yuan_per_year", "objective_wan_yuan"]
    + [f"schools_{a}" for a in ACTIONS]
    + [f"schools_{a}_{g}" for a in CHANGE_ACTIONS for g in STAGES]
    + [f"places_{g}" for g in STAGES] + [f"pupils_{g}" for g in STAGES] + [f"places_added_{g}" for g in STAGES]
    + ["unserved_pupils", "mean_distance_km", "max_distance_km", "boarding_pupils", "oversized_classes",
       "rule_violations", "solver_status", "solver_gap", "bound_wan_yuan", "objective_gap",
       "objective_over_lowest_wan_yuan", "objective_vs_lowest"])
COLUMNS = ID_COLUMNS + NUMBER_COLUMNS

_ZH_FIXED = {
    "variant": "变体", "status": "状态", "error": "错误信息", "scenario": "情景", "overrides": "覆盖的设置",
    "synthetic_data": "示意数据", "capital_cost_wan_yuan": "投资（万元，各期合计）",
    "running_cost_wan_yuan_per_year": "末期年运行费（万元/年）", "objective_wan_yuan": "目标函数值（万元）",
    "unserved_pupils": "未安排学生（人，最多一期）", "mean_distance_km": "平均上学距离（km，末期）",
    "max_distance_km": "最远上学距离（km，末期）", "boarding_pupils": "寄宿生（人，末期）",
    "oversized_classes": "大班额班数（最多一期）", "rule_violations": "规则审计违规（处）",
    "solver_status": "求解状态", "solver_gap": "最优间隙（最大）",
    "bound_wan_yuan": "目标函数下界（万元，已证明）", "objective_gap": "目标函数间隙（全部模型合计）",
    "objective_over_lowest_wan_yuan": "目标值比最低者高（万元）", "objective_vs_lowest": "与最低者比较",
}

#: ``objective_vs_lowest``: the variant with the lowest objective; one whose difference from it is within
#: the two answers' gaps (its proven bound is not above the lowest objective), so the solver cannot say
#: which is cheaper; one proven costlier.
VS_LOWEST = ("最低", "无法区分", "更高（差值超过间隙）")


def column_zh(col: str) -> str:
    """The Chinese header of a comparison column."""
    if col in _ZH_FIXED:
        return _ZH_FIXED[col]
    parts = col.split("_")
    if col.startswith("schools_"):
        action = parts[1]
        stage = parts[2] if len(parts) > 2 else None
        return f"{ACTION_ZH[action]}学校数" + (f"·{STAGE_ZH[stage]}" if stage else "") + "（所，各期合计）"
    if col.startswith("places_added_"):
        return f"学位增减·{STAGE_ZH[parts[2]]}（末期比基准年）"
    if col.startswith("places_"):
        return f"学位·{STAGE_ZH[parts[1]]}（末期）"
    if col.startswith("pupils_"):
        return f"需求·{STAGE_ZH[parts[1]]}（人，末期）"
    return col


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise InputError(Problem(file=str(folder), field=name, expected="xuewei run 的完整输出文件夹", found="缺少该文件"))
    try:
        return pd.read_csv(path, encoding="utf-8-sig", dtype={"school_id": str, "site_id": str, "node_id": str})
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise InputError(Problem(file=str(folder), expected="xuewei run 的输出文件夹（含 manifest.json）",
                                 found="没有 manifest.json"))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(Problem(file=str(path), expected="完整的运行清单（JSON）", found=str(err))) from None


def _stage_of_action(row) -> list[str]:
    stages = row.stages_before if row.action in ("close", "merge") else row.stages_after
    return [s for s in str(stages if isinstance(stages, str) else "").split(";") if s]


def decision_numbers(folder: str | Path) -> dict:
    """The decision numbers of one run folder (see the module docstring for the periods used)."""
    folder = Path(folder)
    man = read_manifest(folder)
    policy = man["policy"]
    periods = man["scenario"]["resolved"]["horizon"]["periods"]
    last = periods[-1]
    actions, schools, summary = _read(folder, "actions.csv"), _read(folder, "schools.csv"), _read(folder, "summary.csv")
    asg, unserved = _read(folder, "assignments.csv"), _read(folder, "unserved.csv")
    audit, solver, sites = _read(folder, "audit.csv"), _read(folder, "solver.csv"), _read(folder, "layout_sites.csv")
    out: dict = {}
    out["capital_cost_wan_yuan"] = float(actions["cost_wan_yuan"].sum()) if len(actions) else 0.0
    end = schools[schools["period"] == last] if len(schools) else schools
    a_end = asg[asg["period"] == last] if len(asg) else asg
    running = 0.0
    if len(end):
        running += float((end["classes"] * end["stage"].map(policy["running_per_class_year_wan_yuan"])).sum())
        running += float((end["classes"] > 0).sum() * policy["running_per_school_year_wan_yuan"])
    if len(a_end):
        running += float(a_end.loc[a_end["boarding"].astype(bool), "pupils"].sum()
                         * policy["boarding_per_pupil_year_wan_yuan"])
    out["running_cost_wan_yuan_per_year"] = running
    out["objective_wan_yuan"] = float(solver["objective_wan_yuan"].sum()) if len(solver) else np.nan
    for a in ACTIONS:
        out[f"schools_{a}"] = int((actions["action"] == a).sum()) if len(actions) else 0
    counts = {(a, g): 0 for a in CHANGE_ACTIONS for g in STAGES}
    for row in actions.itertuples(index=False) if len(actions) else []:
        if row.action in CHANGE_ACTIONS:
            for g in _stage_of_action(row):
                if (row.action, g) in counts:
                    counts[(row.action, g)] += 1
    for (a, g), n in counts.items():
        out[f"schools_{a}_{g}"] = n
    caps = policy["class_cap"]
    base = sites.drop_duplicates(["site_id", "stage"]) if len(sites) else sites
    s_end = summary[summary["period"] == last] if len(summary) else summary
    for g in STAGES:
        places = float(end.loc[end["stage"] == g, "places"].sum()) if len(end) else 0.0
        before = float(base.loc[base["stage"] == g, "classes_before"].sum() * caps[g]) if len(base) else 0.0
        out[f"places_{g}"] = places
        out[f"pupils_{g}"] = float(s_end.loc[s_end["stage"] == g, "pupils"].sum()) if len(s_end) else 0.0
        out[f"places_added_{g}"] = places - before
    out["unserved_pupils"] = float(unserved.groupby("period")["pupils"].sum().max()) if len(unserved) else 0.0
    if len(a_end) and a_end["pupils"].sum() > 0:
        out["mean_distance_km"] = float((a_end["pupils"] * a_end["distance_km"]).sum() / a_end["pupils"].sum())
        out["max_distance_km"] = float(a_end.loc[a_end["pupils"] > 0, "distance_km"].max())
    else:
        out["mean_distance_km"] = out["max_distance_km"] = np.nan
    out["boarding_pupils"] = float(a_end.loc[a_end["boarding"].astype(bool), "pupils"].sum()) if len(a_end) else 0.0
    out["oversized_classes"] = (int(summary.groupby("period")["oversized_classes"].sum().max())
                                if len(summary) else 0)
    out["rule_violations"] = int(len(audit))
    statuses = sorted(set(solver["status"].astype(str))) if len(solver) else []
    out["solver_status"] = ";".join(statuses)
    gaps = pd.to_numeric(solver["gap"], errors="coerce") if len(solver) else pd.Series(dtype=float)
    out["solver_gap"] = float(gaps.max()) if gaps.notna().any() else np.nan
    bounds = pd.to_numeric(solver["bound_wan_yuan"], errors="coerce") if len(solver) else pd.Series(dtype=float)
    # A model without a bound (heuristic answer) leaves the total unproven.
    out["bound_wan_yuan"] = float(bounds.sum()) if len(bounds) and bounds.notna().all() else np.nan
    obj = out["objective_wan_yuan"]
    out["objective_gap"] = (max(0.0, (obj - out["bound_wan_yuan"]) / abs(obj))
                            if np.isfinite(out["bound_wan_yuan"]) and np.isfinite(obj) and obj else np.nan)
    return {k: (round(v, 3) if isinstance(v, float) and np.isfinite(v) else v) for k, v in out.items()}


def folder_row(folder: str | Path, variant: str | None = None) -> dict:
    """A comparison row for one run folder (status ``ok``); its overrides from ``batch.json`` if present."""
    folder = Path(folder)
    man = read_manifest(folder)
    meta = {}
    if (folder / "batch.json").is_file():
        meta = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    row = {"variant": variant or meta.get("variant") or folder.name, "status": "ok", "error": "",
           "scenario": Path(meta["base_scenario"]).name if meta.get("base_scenario") else man["scenario"]["name"],
           "overrides": meta.get("overrides_text", ""),
           "synthetic_data": bool(man["region"].get("synthetic"))}
    row.update(decision_numbers(folder))
    return row


def failed_row(variant: str, error: str, scenario: str = "", overrides: str = "") -> dict:
    """A comparison row for a variant that failed: its error, no numbers."""
    return {"variant": variant, "status": "failed", "error": error, "scenario": scenario, "overrides": overrides}


def comparison_table(rows: list[dict]) -> pd.DataFrame:
    """Rows in a fixed column order (missing numbers empty)."""
    df = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    df = df[COLUMNS]
    df["error"] = df["error"].fillna("")
    df["overrides"] = df["overrides"].fillna("")
    return mark_indistinguishable(df)


def mark_indistinguishable(df: pd.DataFrame) -> pd.DataFrame:
    """Fill ``objective_over_lowest_wan_yuan`` and ``objective_vs_lowest``: each finished variant against the
    one with the lowest objective. The true optimum of a variant lies between its bound and its
    objective; when a variant's bound is not above the lowest objective, the difference is within the
    gaps and the two cannot be told apart (无法区分). Without a bound nothing is proven."""
    df = df.copy()
    obj = pd.to_numeric(df["objective_wan_yuan"], errors="coerce")
    ok = (df["status"] == "ok") & obj.notna()
    df["objective_vs_lowest"] = df["objective_vs_lowest"].astype(object)
    if not ok.any():
        return df
    lowest = obj[ok].idxmin()
    bound = pd.to_numeric(df["bound_wan_yuan"], errors="coerce")
    df.loc[ok, "objective_over_lowest_wan_yuan"] = (obj[ok] - obj[lowest]).round(3)
    proven = ok & bound.notna() & (bound > obj[lowest] + 1e-6)
    df.loc[ok, "objective_vs_lowest"] = np.where(proven[ok], VS_LOWEST[2], VS_LOWEST[1])
    df.loc[lowest, "objective_vs_lowest"] = VS_LOWEST[0]
    return df


def run_folders(paths: list[str | Path]) -> list[Path]:
    """Run folders among ``paths``: each path is a run folder, or a folder of run folders (a batch's output)."""
    found, problems = [], []
    for p in map(Path, paths):
        if (p / "manifest.json").is_file():
            found.append(p)
        elif p.is_dir() and any((c / "manifest.json").is_file() for c in p.iterdir()):
            runs = sorted(c for c in p.iterdir() if c.is_dir() and not c.name.startswith(".")
                          and (c / "manifest.json").is_file())
            found += sorted(runs, key=lambda c: _batch_order(p).get(c.name, len(runs)))
        else:
            problems.append(Problem(file=str(p), expected="xuewei run 的输出文件夹（含 manifest.json）或批量输出文件夹",
                                    found="不是" if p.exists() else "不存在"))
    if problems:
        raise InputError(problems)
    return found


def _batch_order(folder: Path) -> dict[str, int]:
    """Variant name → position in a batch folder's ``comparison.csv`` (the batch file's order), if any."""
    try:
        names = pd.read_csv(folder / "comparison.csv", encoding="utf-8-sig", usecols=["variant"])["variant"]
    except (OSError, ValueError):
        return {}
    return {str(n): i for i, n in enumerate(names)}


def write_comparison(rows: list[dict], out: str | Path) -> pd.DataFrame:
    """``comparison.csv``, ``comparison.xlsx`` and ``charts/`` into ``out``; returns the table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    df = comparison_table(rows)
    write_csv(df, out / "comparison.csv")
    _write_xlsx(df, out / "comparison.xlsx")
    write_charts(df, out / "charts")
    return df


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    zh = df.rename(columns={c: column_zh(c) for c in df.columns})
    zh["状态"] = zh["状态"].map({"ok": "完成", "failed": "失败"}).fillna(zh["状态"])
    notes = pd.DataFrame({"列": [column_zh(c) for c in df.columns], "字段": list(df.columns)})
    tmp = path.with_name(f".{path.name}.tmp")
    with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        zh.to_excel(xl, sheet_name="比较", index=False)
        notes.to_excel(xl, sheet_name="说明", index=False)
        sheet = xl.sheets["比较"]
        sheet.freeze_panes = "B2"
        for i, col in enumerate(zh.columns, start=1):
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(10, min(40, len(str(col)) * 2))
    tmp.replace(path)


def write_charts(df: pd.DataFrame, folder: Path) -> list[Path]:
    """Cost vs mean travel distance, and places vs demand by variant (last period, per stage), each as
    PNG and PDF (the CJK font embedded as a TrueType subset, see `xuewei.reports.fonts`)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from xuewei.reports.fonts import map_fonts, module_text

    folder.mkdir(parents=True, exist_ok=True)
    ok = df[df["status"] == "ok"]
    note = "（示意数据）" if ok["synthetic_data"].astype(bool).any() else ""
    family = map_fonts(module_text() + "".join(ok["variant"].astype(str)))
    paths = []

    def save(fig, stem: str) -> None:
        for ext in (".png", ".pdf"):
            paths.append(folder / f"{stem}{ext}")
            fig.savefig(paths[-1])

    with matplotlib.rc_context({"font.family": family, "axes.unicode_minus": False, "pdf.fonttype": 42}):
        fig = Figure(figsize=(7.5, 5.0), dpi=120)
        ax = fig.subplots()
        if len(ok):
            x, y = ok["mean_distance_km"].astype(float), ok["capital_cost_wan_yuan"].astype(float)
            ax.scatter(x, y, s=40, color="#2b83ba", zorder=3)
            for name, xi, yi in zip(ok["variant"], x, y):
                ax.annotate(str(name), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xlabel("平均上学距离（km，末期）")
        ax.set_ylabel("投资（万元，各期合计）")
        ax.set_title("各方案：投资与平均上学距离" + note)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        save(fig, "cost_vs_distance")

        fig = Figure(figsize=(10, 7.5), dpi=120)
        axes = fig.subplots(2, 2).ravel()
        names = ok["variant"].astype(str).tolist()
        pos = np.arange(len(names))
        for ax, g in zip(axes, STAGES):
            if len(ok):
                ax.bar(pos - 0.2, ok[f"places_{g}"].astype(float), width=0.4, label="学位", color="#2b83ba")
                ax.bar(pos + 0.2, ok[f"pupils_{g}"].astype(float), width=0.4, label="需求", color="#fdae61")
            ax.set_xticks(pos, names, rotation=30, ha="right", fontsize=8)
            ax.set_title(STAGE_ZH[g])
            ax.set_ylabel("人")
            ax.grid(axis="y", alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.suptitle("各方案末期学位与需求" + note)
        fig.tight_layout()
        save(fig, "places_vs_demand")
    return paths
