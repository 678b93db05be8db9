"""``workbook.xlsx``: the run in the plans' own table layout, for planners who work in Excel.

Sheets (Chinese headers with units, header rows frozen, widths fitted to the text):

- 说明: region, scenario, date, the 示意数据 note, what each sheet holds;
- 布局调整情况表: schools by kind (学段) × action, per period (as 内江 专栏5, 乐山 “学校布局调整计划”);
- 学位递增计划: places added since the base year by township × stage, per period (as 内江 专栏6);
- 幼儿园调整目标 / 义务教育学校调整目标 / 普通高中调整目标: per school and stage, existing and adjusted
  classes and places, like 巫溪 表3–表5 (only schools whose size changes);
- 学位需求预测: pupils by township × stage × variant × year;
- 乡镇汇总: pupils, places, unserved, distances, boarding by township × stage × period;
- 规则审计, 未安排学生, and 对照规划 when the region has a plan;
- 求解质量: per layout model, its objective, the proven lower bound and the gap (how far the answer
  can be from the best layout), with the stop reason and nodes searched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from xuewei.labels import ACTION_ZH, STAGE_ZH
from xuewei.reports.map_data import STAGES
from xuewei.reports.pack_tables import KIND_NAMES, _site_names

HEAD_FILL = PatternFill("solid", fgColor="E8E8E8")
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
ACTION_ORDER = ["close", "merge", "convert", "build", "expand", "shrink", "keep"]
KIND_ORDER = ["kindergarten", "village_kindergarten", "primary", "teaching_point", "junior", "nine_year",
              "complete_secondary", "twelve_year", "senior"]
STAGE_GROUPS = {"幼儿园调整目标": ("kindergarten",), "义务教育学校调整目标": ("primary", "junior"),
                "普通高中调整目标": ("senior",)}

SHEETS = ["说明", "布局调整情况表", "学位递增计划", *STAGE_GROUPS, "学位需求预测", "乡镇汇总", "规则审计", "未安排学生", "换校情况",
          "求解质量"]
STOP_ZH = {"": "完成（最优或达到间隙容差）", "node_limit": "到节点上限", "time_limit": "到时限"}


def _width(v) -> float:
    s = str(v)
    return sum(2.0 if ord(c) > 0x2E80 else 1.1 for c in s)


def write_table(ws, df: pd.DataFrame, start_row: int = 1, heads: list[list[str]] | None = None,
                title: str | None = None) -> int:
    """Write ``df`` at ``start_row`` (a title row first if given); returns the next free row.

    ``heads`` gives several header rows (equal neighbouring labels are merged, as in the plans' tables).
    """
    r = start_row
    if title:
        ws.cell(r, 1, title).font = Font(bold=True, size=12)
        r += 1
    heads = heads or [list(df.columns)]
    for i, row in enumerate(heads):
        for j, label in enumerate(row):
            c = ws.cell(r + i, j + 1, label)
            c.font, c.fill, c.border = Font(bold=True), HEAD_FILL, BORDER
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        j = 0
        while j < len(row):  # merge runs of the same label in an upper header row
            k = j
            while i < len(heads) - 1 and k + 1 < len(row) and row[k + 1] == row[j] and row[j]:
                k += 1
            if k > j:
                ws.merge_cells(start_row=r + i, start_column=j + 1, end_row=r + i, end_column=k + 1)
            j = k + 1
    for j in range(len(heads[0])):  # merge a label spanning all header rows vertically
        col = [h[j] for h in heads]
        if len(heads) > 1 and all(c == col[0] for c in col):
            ws.merge_cells(start_row=r, start_column=j + 1, end_row=r + len(heads) - 1, end_column=j + 1)
    r += len(heads)
    for row in df.itertuples(index=False):
        for j, v in enumerate(row):
            if isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (float, np.floating)):
                v = None if np.isnan(v) else (int(v) if float(v).is_integer() else round(float(v), 3))
            elif isinstance(v, (np.bool_, bool)):
                v = "是" if v else "否"
            ws.cell(r, j + 1, v).border = BORDER
        r += 1
    return r + 1


def _finish(ws, df_list: list[pd.DataFrame], freeze: str) -> None:
    ws.freeze_panes = freeze
    widths: dict[int, float] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and not (isinstance(c.value, str) and len(c.value) > 60):
                widths[c.column] = max(widths.get(c.column, 0), _width(c.value))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(6.0, w + 2), 48.0)


def adjustment_table(run) -> pd.DataFrame:
    """布局调整情况表: per period × school kind, the number of schools by action [所]."""
    a = run.actions.copy()
    if "kind_after" in a:  # the kind after the period (a closed school: the kind it was)
        a["kind"] = a["kind_after"].where(a["kind_after"].fillna("") != "", a["kind"])
    counts = a.groupby(["period", "kind", "action"]).size().unstack("action", fill_value=0)
    for act in ACTION_ORDER:
        if act not in counts:
            counts[act] = 0
    counts = counts[ACTION_ORDER]
    rows = []
    for period, grp in counts.groupby(level=0):
        grp = grp.droplevel(0)
        grp = grp.loc[sorted(grp.index, key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else 99)]
        total = grp.sum()
        for kind, r in [("合计", total), *grp.iterrows()]:
            rows.append({"规划期（年）": period, "学段（办学类型）": KIND_NAMES.get(kind, kind),
                         "调整合计（所）": int(r[ACTION_ORDER[:-1]].sum()),
                         **{f"{ACTION_ZH[x]}（所）": int(r[x]) for x in ACTION_ORDER}})
    return pd.DataFrame(rows)


def places_added(run) -> pd.DataFrame:
    """学位递增计划: places at the end of each period minus places in the base year, by township × stage [个]."""
    s = run.sites.copy()
    cap = s["stage"].map(run.policy.class_cap).astype(float)
    s["added"] = s["places"] - s["classes_before"] * cap
    tw = _site_townships(run)
    s["township_id"] = s["site_id"].map(tw)
    g = s.groupby(["period", "township_id", "stage"])["added"].sum().unstack("stage", fill_value=0.0)
    for st in STAGES:
        if st not in g:
            g[st] = 0.0
    names = run.township_names()
    rows = []
    for period, grp in g.groupby(level=0):
        grp = grp.droplevel(0)
        for tid, r in [("合计", grp.sum()), *grp.iterrows()]:
            comp = r["primary"] + r["junior"]
            rows.append({"规划期（年）": period, "地区": "合计" if tid == "合计" else names.get(tid, tid),
                         "合计（个）": r[list(STAGES)].sum(), "学前教育（个）": r["kindergarten"], "小学（个）": r["primary"],
                         "初中（个）": r["junior"], "义务教育小计（个）": comp, "普通高中（个）": r["senior"]})
    return pd.DataFrame(rows)


def _site_townships(run) -> pd.Series:
    parts = [run.actions.drop_duplicates("school_id").set_index("school_id")["township_id"],
             run.region.schools.set_index("school_id")["township_id"]]
    if run.region.candidate_sites is not None:
        parts.append(run.region.candidate_sites.set_index("site_id")["township_id"])
    s = pd.concat(parts)
    return s[~s.index.duplicated(keep="last")]


def school_targets(run, stages: tuple[str, ...]) -> pd.DataFrame:
    """Per school and stage whose classes change in a period: existing and adjusted size, like 巫溪 表3–表5."""
    s = run.sites[run.sites["stage"].isin(stages)].sort_values(["site_id", "stage", "period"]).copy()
    s["prev"] = s.groupby(["site_id", "stage"])["classes"].shift(1).fillna(s["classes_before"]).astype(int)
    ch = s[s["classes"] != s["prev"]].copy()
    cap = ch["stage"].map(run.policy.class_cap).astype(float)
    names = _site_names(run)
    act = run.actions.set_index(["school_id", "period"])
    notes = []
    for sid, p in zip(ch["site_id"], ch["period"]):
        if (sid, p) in act.index:
            r = act.loc[(sid, p)]
            n = r["action_zh"] + (f"，并入{names.get(r['merged_into'], r['merged_into'])}" if r["merged_into"] else "")
            if isinstance(r.get("reason_zh"), str) and r["reason_zh"] and r["action"] != "merge":
                n += "：" + r["reason_zh"]
        else:
            n = ""
        notes.append(n)
    return pd.DataFrame({"调整年份": ch["period"].to_numpy(), "学校": ch["site_id"].map(names).fillna(ch["site_id"]).to_numpy(),
                         "学段": ch["stage"].map(STAGE_ZH).to_numpy(), "现有班级规模（班）": ch["prev"].to_numpy(),
                         "现有学生容量（人）": (ch["prev"] * cap).to_numpy(), "调整后班级规模（班）": ch["classes"].to_numpy(),
                         "调整后学生容量（人）": ch["places"].to_numpy(), "备注": notes}).sort_values(
        ["调整年份", "学段", "学校"]).reset_index(drop=True)


SCHOOL_HEADS = [["调整年份", "学校", "学段", "现有规模", "现有规模", "调整后规模", "调整后规模", "备注"],
                ["调整年份", "学校", "学段", "班级规模（班）", "学生容量（人）", "班级规模（班）", "学生容量（人）", "备注"]]


def demand_table(run) -> pd.DataFrame:
    """Pupils by township × stage × variant, one column per year [人]."""
    d = run.demand[run.demand["stage"].isin(STAGES)]
    g = d.groupby(["township_id", "stage", "variant", "year"])["pupils"].sum().unstack("year").reset_index()
    names = run.township_names()
    g.insert(0, "乡镇", g["township_id"].map(names))
    g["stage"] = g["stage"].map(STAGE_ZH)
    g["variant"] = g["variant"].map({"low": "低", "mid": "中", "high": "高"})
    g = g.rename(columns={"township_id": "乡镇代码", "stage": "学段", "variant": "方案"})
    g.columns = [f"{c} 年（人）" if isinstance(c, (int, np.integer)) else c for c in g.columns]
    return g.round(1)


SUMMARY_ZH = {"township_id": "乡镇代码", "township": "乡镇", "stage": "学段", "period": "规划期（年）",
              "pupils": "学生（人）", "places": "学位（个）", "unserved": "未安排（人）",
              "mean_distance_km": "平均路程（km）", "max_distance_km": "最远路程（km）",
              "boarding_pupils": "寄宿（人）", "oversized_classes": "大班额班数（班）"}
AUDIT_ZH = {"rule_zh": "规则", "stage": "学段", "period": "规划期（年）", "school_id": "学校代码", "node_id": "村（社区）代码",
            "value": "实际值", "limit": "限值", "message": "说明"}
UNSERVED_ZH = {"node_id": "村（社区）代码", "stage": "学段", "period": "规划期（年）", "pupils": "人数（人）",
               "reason": "原因代码", "reason_zh": "起约束作用的规则", "rule": "规则（情景键.学段）",
               "rule_value": "本次取值", "scenario_key": "修改处"}
CHANGES_ZH = {"node_id": "村（社区）代码", "village": "村（社区）", "stage": "学段", "period": "规划期（年）",
              "from_name": "原就读学校", "to_name": "新就读学校", "pupils": "人数（人）",
              "from_distance_km": "原路程（km）", "to_distance_km": "新路程（km）", "reason_zh": "换校原因"}


def catchment_changes_table(run) -> pd.DataFrame:
    """Each change of school per village × stage × period with names and the reason (换校情况)."""
    ch = getattr(run, "catchment_changes", None)
    if ch is None or not len(ch):
        return pd.DataFrame(columns=list(CHANGES_ZH.values()))
    names = pd.concat([run.region.schools.set_index("school_id")["name"]]
                      + ([run.region.candidate_sites.set_index("site_id")["name"]]
                         if run.region.candidate_sites is not None else []))
    names = names[~names.index.duplicated()]
    villages = run.region.nodes.set_index("node_id")["name"]
    out = ch.assign(village=ch["node_id"].map(villages), from_name=ch["from_school"].map(names).fillna(ch["from_school"]),
                    to_name=ch["to_school"].map(names).fillna(ch["to_school"]).replace("", "（未能安排）"))
    out["pupils"] = out["pupils"].round(0)
    return _zh(out, CHANGES_ZH)


def _zh(df: pd.DataFrame, names: dict) -> pd.DataFrame:
    out = df[[c for c in names if c in df.columns]].rename(columns=names)
    if "学段" in out:
        out["学段"] = out["学段"].map(lambda s: STAGE_ZH.get(s, s))
    return out


def solver_quality_table(run) -> pd.DataFrame:
    """Per layout model: objective, proven bound and gap [万元, fraction], stop reason and nodes."""
    from xuewei.labels import model_zh
    from xuewei.reports.run_outputs import status_zh

    sv = run.solver if run.solver is not None else pd.DataFrame()
    if not len(sv):
        return pd.DataFrame(columns=["模型", "状态", "目标值（万元）", "已证明的下界（万元）", "间隙（%）", "停止原因",
                                     "分支节点（个）"])
    stop = sv["stop"].fillna("").astype(str) if "stop" in sv else pd.Series("", index=sv.index)
    gap = pd.to_numeric(sv["gap"], errors="coerce")
    table = pd.DataFrame({
        "模型": sv["model"].map(model_zh), "状态": [status_zh(a, b) for a, b in zip(sv["status"], stop)],
        "目标值（万元）": pd.to_numeric(sv["objective_wan_yuan"], errors="coerce").round(1),
        "已证明的下界（万元）": pd.to_numeric(sv["bound_wan_yuan"], errors="coerce").round(1),
        "间隙（%）": (100 * gap).round(2), "停止原因": stop.map(STOP_ZH).fillna(stop),
        "分支节点（个）": pd.to_numeric(sv["nodes"], errors="coerce") if "nodes" in sv else np.nan})
    if "budget_wan_yuan" in sv:  # a budget split between the stages: each model's share and spending per period
        table["分得的投资（万元，各期）"] = sv["budget_wan_yuan"].fillna("").astype(str)
        if "capital_wan_yuan" in sv:
            table["已用投资（万元，各期）"] = sv["capital_wan_yuan"].fillna("").astype(str)
    if "split_answer_wan_yuan" in sv:  # before the budget left unspent was handed on (optimizer.layout._reallocate)
        table["按初次分配的投资份额求得的目标值（万元）"] = pd.to_numeric(sv["split_answer_wan_yuan"], errors="coerce").round(1)
    if "warm_wan_yuan" in sv:  # solver.warm_start: the source's openings, re-planned here (empty: could not)
        table["沿用热启动来源开办的目标值（万元）"] = pd.to_numeric(sv["warm_wan_yuan"], errors="coerce").round(1)
    if "solver_answer_wan_yuan" in sv:  # before the polish with openings fixed (solver.polish_nodes)
        table["固定开办决策再解前的目标值（万元）"] = pd.to_numeric(sv["solver_answer_wan_yuan"], errors="coerce").round(1)
    if "polished_wan_yuan" in sv:  # before the refine search (solver.refine_sweeps)
        table["局部搜索前的目标值（万元）"] = pd.to_numeric(sv["polished_wan_yuan"], errors="coerce").round(1)
    if "refined_wan_yuan" in sv:  # before the finish (solver.finish_nodes)
        table["分支定界补充前的目标值（万元）"] = pd.to_numeric(sv["refined_wan_yuan"], errors="coerce").round(1)
    if "finished_wan_yuan" in sv:  # before the opening swaps (solver.swap_rounds)
        table["开办互换前的目标值（万元）"] = pd.to_numeric(sv["finished_wan_yuan"], errors="coerce").round(1)
    return table


def write_workbook(run, path: Path) -> Path:
    """Write ``workbook.xlsx`` for a `RunTables`; returns the path."""
    wb = Workbook()
    ws = wb.active
    ws.title = "说明"
    meta = run.region.meta
    info = [("区域", f"{meta.name}（{meta.admin_code}）"), ("情景", run.scenario_name),
            ("规划期", "、".join(map(str, run.periods))), ("学校统计基准年", run.base_year), ("运行日期", run.created),
            ("数据说明", "示意数据：本区域部分数据为合成，仅作方法演示，不能作为决策依据" if run.synthetic else "真实数据"),
            ("学位", "学位 = 班数 × 班额上限（" + "、".join(f"{STAGE_ZH[g]} {c} 人" for g, c in
                                                  run.policy.class_cap.items() if g in STAGE_ZH) + "）")]
    info += [(f"工作表：{n}", d) for n, d in (
        ("布局调整情况表", "各规划期按办学类型（调整后）统计的学校调整（所）：撤销、合并、转变、新建、改扩建、缩减、保留"),
        ("学位递增计划", "各规划期末较基准年增加的学位（个），按乡镇和学段"),
        ("幼儿园/义务教育/普通高中调整目标", "班数有变化的学校：现有规模与调整后规模（仿巫溪规划表3–表5）"),
        ("学位需求预测", "各乡镇分学段、方案、年份的学生数预测（人）"),
        ("乡镇汇总", "各乡镇分学段、规划期的学生、学位、未安排、路程、寄宿"),
        ("规则审计", "违反走读距离、寄宿、班额、规模、层级规则之处"), ("未安排学生", "未能安排的学生及原因"),
        ("换校情况", "各村（社区）各学段在各规划期换了就读学校的学生：从哪所到哪所、人数与原因（原校撤并、转变、学位不足、新校更近等）"),
        ("求解质量", "各布局模型的目标值、已证明的下界与间隙（布局成本最多比最优高多少）"))]
    from xuewei.reports.run_outputs import quality_sentence

    if run.solver is not None and len(run.solver):
        info.append(("求解质量", quality_sentence(run.solver)))
    info += [(f"预测的假设 {i}", a) for i, a in enumerate(run.assumptions, start=1)]
    for i, (k, v) in enumerate(info, start=1):
        ws.cell(i, 1, k).font = Font(bold=True)
        ws.cell(i, 2, v).alignment = Alignment(wrap_text=True, vertical="top")
    if run.synthetic:
        ws.cell(6, 2).font = Font(bold=True, color="B10026")
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 90

    def sheet(name: str, df: pd.DataFrame, heads=None):
        w = wb.create_sheet(name)
        write_table(w, df, heads=heads)
        _finish(w, [df], f"A{len(heads or [1]) + 1}")
        return w

    sheet("布局调整情况表", adjustment_table(run))
    sheet("学位递增计划", places_added(run))
    for name, stages in STAGE_GROUPS.items():
        sheet(name, school_targets(run, stages), heads=SCHOOL_HEADS)
    sheet("学位需求预测", demand_table(run))
    sheet("乡镇汇总", _zh(run.summary, SUMMARY_ZH))
    sheet("规则审计", _zh(run.violations, AUDIT_ZH))
    sheet("未安排学生", _zh(run.unserved, UNSERVED_ZH))
    sheet("换校情况", catchment_changes_table(run))
    sheet("求解质量", solver_quality_table(run))
    if run.plan_check:
        from xuewei.reports.plan_sections import workbook_sheet

        workbook_sheet(wb, run.plan_check, write_table, _finish)
    path = Path(path)
    wb.save(path)
    return path
