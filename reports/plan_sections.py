"""The plan check in a run folder: its CSVs, and its section of report.md, report.html and workbook.xlsx.

One source for all three presentations: `display_tables` turns the check's tidy tables
(`optimizer.plan_check.check_against_plan`) into Chinese-headed tables; the renderers only lay them out.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

CSV_NAMES = {"levels": "plan_check_levels", "schools": "plan_check", "actions": "plan_check_actions",
             "places": "plan_check_places", "targets": "plan_check_targets"}
ID_COLUMNS = {"school_id": str, "area_code": str, "source_quote": str, "plan_value_text": str}

LEVELS_ZH = {"level_zh": "层级", "plan_tables": "规划表", "rows": "行数", "consistent": "一致", "deviating": "偏离",
             "unchecked": "无法核对", "status": "状态", "reason": "说明"}
TARGETS_ZH = {"source": "规划表", "indicator": "指标（原文）", "stages_zh": "学段", "year": "年份",
              "plan_value_text": "规划（原文）", "metric_zh": "读作", "plan_value": "规划值", "run_value": "运行值",
              "unit": "单位", "run_year": "运行取年", "run_places": "运行学位（个）", "status": "状态", "reason": "说明",
              "source_quote": "原文引文"}
ACTIONS_ZH = {"source": "规划表", "area": "地区", "scope": "学段（原文）", "category": "调整（原文）",
              "run_actions_zh": "运行中对应的调整", "kinds_zh": "学校类型", "plan_schools": "规划（所）",
              "run_schools": "运行（所）", "difference_schools": "差（所）", "status": "状态", "reason": "说明",
              "source_quote": "原文引文"}
PLACES_ZH = {"source": "规划表", "area_level": "地区级别", "area": "地区", "matched_by": "匹配方式",
             "stage_label": "学段（原文）", "plan_places_added": "规划新增学位（个）", "run_places_added": "运行新增学位（个）",
             "run_places_net": "运行净增学位（个）", "difference_places": "差（个）", "status": "状态", "reason": "说明",
             "source_quote": "原文引文"}
SCHOOLS_ZH = {"table": "规划表", "plan_name": "学校", "school_id": "学校编号", "year": "调整年份",
              "classes_plan": "规划班数（班）", "classes_run": "运行班数（班）", "places_plan": "规划学位（个）",
              "places_run": "运行学位（个）", "plan_action": "规划调整", "run_action": "运行调整", "status": "状态",
              "reason": "说明"}
ACTION_ZH = {"build": "新建", "expand": "改扩建", "reduce": "缩减", "keep": "保留", "close": "撤销", "merge": "合并",
             "convert": "转变", "": ""}
_WS = re.compile(r"\s+")


def write_csvs(pc: dict, folder: Path, write_csv, round_fn) -> None:
    """Write the plan check's tables (``plan_check*.csv``) and notes (``plan_check_notes.csv``)."""
    for key, name in CSV_NAMES.items():
        if key in pc and pc[key] is not None:
            write_csv(round_fn(pc[key]), Path(folder) / f"{name}.csv")
    meta = pd.DataFrame({"key": ["plan", "plan_name", "horizon", "target_year", "relation"],
                         "value": [pc["plan"], pc.get("plan_name", ""), pc["horizon"], pc.get("target_year", ""),
                                   pc.get("relation", "")]})
    notes = pd.DataFrame({"key": "note", "value": pc.get("notes", [])})
    write_csv(pd.concat([meta, notes], ignore_index=True), Path(folder) / "plan_check_notes.csv")


def read_csvs(run_dir: Path) -> dict:
    """The plan check of a run folder as `check_against_plan` returns it ({} when the run has none)."""
    run_dir = Path(run_dir)
    if not (run_dir / "plan_check_notes.csv").is_file():
        return {}
    pc: dict = {}
    for key, name in CSV_NAMES.items():
        path = run_dir / f"{name}.csv"
        pc[key] = pd.read_csv(path, encoding="utf-8-sig", dtype=ID_COLUMNS, keep_default_na=True) if path.is_file() \
            else pd.DataFrame()
        for col in ("reason", "source_quote", "status", "area", "scope", "school_id", "matched_by", "area_code"):
            if col in pc[key]:
                pc[key][col] = pc[key][col].fillna("")
    meta = pd.read_csv(run_dir / "plan_check_notes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    kv = dict(zip(meta.loc[meta["key"] != "note", "key"], meta.loc[meta["key"] != "note", "value"]))
    pc.update(plan=kv.get("plan", ""), plan_name=kv.get("plan_name", ""), horizon=int(kv.get("horizon") or 0),
              target_year=int(kv.get("target_year") or 0), relation=kv.get("relation", ""),
              notes=list(meta.loc[meta["key"] == "note", "value"]))
    return pc


def _quote(text) -> str:
    return _WS.sub(" ", str(text or "")).strip()


def display_tables(pc: dict, brief: bool = False) -> list[tuple[str, pd.DataFrame]]:
    """``(title, table with Chinese headers)`` for each level; ``brief`` keeps report.md/html short (targets
    that were read, township rows summed by stage, per-school rows counted by status)."""
    out = []
    lv = pc.get("levels")
    if lv is not None and len(lv):
        out.append(("各层级核对情况", lv[list(LEVELS_ZH)].rename(columns=LEVELS_ZH)))
    if brief and pc.get("relation") == "other":  # nothing was compared: the levels say so, the rows add nothing
        return out
    t = pc.get("targets")
    if t is not None and len(t):
        t = t.copy()
        if brief:
            t = t[t["metric"].fillna("") != ""]
        t["source_quote"] = t["source_quote"].map(_quote)
        t["plan_value_text"] = t["plan_value_text"].astype(str)
        for col in ("year", "run_year"):  # years are labels, not amounts (no thousands separator)
            t[col] = t[col].map(lambda y: "" if pd.isna(y) else str(int(y)))
        cols = [c for c in TARGETS_ZH if not (brief and c in ("run_year",))]
        if len(t):
            out.append(("总量指标：规划目标与运行同年数字", t[cols].rename(columns=TARGETS_ZH)))
    a = pc.get("actions")
    if a is not None and len(a):
        a = a.copy()
        a["source_quote"] = a["source_quote"].map(_quote)
        out.append(("学段×调整：规划所数与运行所数", a[list(ACTIONS_ZH)].rename(columns=ACTIONS_ZH)))
    p = pc.get("places")
    if p is not None and len(p):
        p = p.copy()
        p["source_quote"] = p["source_quote"].map(_quote)
        if brief and (p["area_level"] == "乡镇").sum() > 6:
            town = p[p["area_level"] == "乡镇"]
            g = town.groupby(["source", "stage_label"], as_index=False)[
                ["plan_places_added", "run_places_added", "run_places_net", "difference_places"]].sum(min_count=1)
            n_towns = town.groupby(["source", "stage_label"])["area"].nunique()
            g["area"] = [f"{n_towns[(a, b)]} 个乡镇" for a, b in zip(g["source"], g["stage_label"])]
            g["area_level"], g["matched_by"] = "乡镇合计", "学校所在乡镇"
            st = town.groupby(["source", "stage_label"])["status"].agg(lambda s: "、".join(
                f"{k} {v}" for k, v in s.value_counts().items()))
            g["status"] = g.set_index(["source", "stage_label"]).index.map(st)
            g["reason"], g["source_quote"] = "分乡镇见 plan_check_places.csv 与 workbook.xlsx", ""
            p = pd.concat([p[p["area_level"] != "乡镇"], g[list(PLACES_ZH)]], ignore_index=True)
        out.append(("学位递增：规划新增学位与运行新增学位", p[list(PLACES_ZH)].rename(columns=PLACES_ZH)))
    s = pc.get("schools")
    if s is not None and len(s):
        s = s.copy()
        for col in ("plan_action", "run_action"):
            s[col] = s[col].fillna("").map(lambda x: ACTION_ZH.get(x, x))
        if brief:
            g = s.groupby(["table", "status"]).size().unstack(fill_value=0).reset_index().rename(columns={"table": "规划表"})
            out.append(("逐校：各表学校的核对结果（所；逐校见 plan_check.csv 与 workbook.xlsx）", g))
        else:
            out.append(("逐校：规划表中的学校与运行中的同一学校", s[list(SCHOOLS_ZH)].rename(columns=SCHOOLS_ZH)))
    return out


def title(pc: dict) -> str:
    return f"对照规划（{pc.get('plan_name') or pc['plan']}，规划期末 {pc.get('target_year') or pc['horizon']} 年）"


def _md_cell(v) -> str:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, (float, np.floating)):
        return "" if pd.isna(v) else f"{v:,.0f}" if abs(v) >= 100 or v == int(v) else f"{v:,.2f}"
    return str(v).replace("|", "｜").replace("\n", " ")


def markdown_lines(pc: dict) -> list[str]:
    """The plan check section of report.md."""
    lines = ["", f"## {title(pc)}", ""] + [f"- {n}" for n in pc.get("notes", [])]
    for name, df in display_tables(pc, brief=True):
        lines += ["", f"### {name}", "", "| " + " | ".join(df.columns) + " |", "|---" * len(df.columns) + "|"]
        lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    lines += ["", "各表全文（含原文引文）见 plan_check_*.csv 与 workbook.xlsx 的“对照规划”表。"]
    return lines


def html_parts(pc: dict, table_fn, esc) -> list[str]:
    """The plan check section of report.html (``table_fn`` renders a DataFrame, ``esc`` escapes text)."""
    parts = [f"<h2>{esc(title(pc))}</h2>"] + [f"<p class=\"muted\">{esc(n)}</p>" for n in pc.get("notes", [])]
    for name, df in display_tables(pc, brief=True):
        parts += [f"<h3>{esc(name)}</h3>", table_fn(df)]
    return parts


def workbook_sheet(wb, pc: dict, write_table, finish) -> None:
    """Sheet 对照规划: every level in full, each under its title."""
    w = wb.create_sheet("对照规划")
    r = write_table(w, pd.DataFrame({"说明": pc.get("notes", [])}), title=title(pc))
    for name, df in display_tables(pc, brief=False):
        r = write_table(w, df, start_row=r + 1, title=name)
    finish(w, [], "A3")
