"""Check a run against the county's own plan tables, in the plan's own table form.

Three comparisons, each a tidy table with the plan's number, the run's number and the difference:

- ``schools``: per school the plan lists (巫溪 表3–表6), its planned classes and places at the plan's
  horizon beside the run's for the same school and stage (the plan's row quoted as source);
- ``actions``: per stage, how many schools the plan and the run build, expand, shrink, close;
- ``places``: 学位递增 by township × stage, planned against the run.

Plans whose tables do not list schools (内江, 江阳, 乐山, 桓台) have no adapter yet: checking against
them says so instead of guessing.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from xuewei.data.plans import Plan, load_plan
from xuewei.errors import InputError, Problem
from xuewei.labels import STAGE_ZH

PLAN_HORIZON = 2025
ACTION_PLAN_ZH = {"build": "新建", "expand": "改扩建", "shrink": "缩减", "keep": "保留", "close": "撤销"}


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


def _stages_of_row(table_id: str, name: str) -> tuple[str, ...]:
    if table_id == "表3":
        return ("kindergarten",)
    if table_id == "表5":
        return ("senior",)
    if table_id == "表6":
        return ("vocational",)
    if "小学" in name:
        return ("primary",)
    if "初中" in name or "中学" in name:
        return ("junior",)
    return ("primary", "junior")  # 九年一贯制 / 实验学校: both compulsory stages


def wuxi_school_rows(plan: Plan) -> pd.DataFrame:
    """巫溪 表3–表6 as one tidy table: one row per school and table, state before and at 2025."""
    rows = []
    for tid in ("表3", "表4"):
        t = plan.table(tid)
        by_school: dict[str, list[dict]] = {}
        for r in t.rows:
            by_school.setdefault(r["学校"], []).append(r)
        for name, rs in by_school.items():
            first, last = rs[0], rs[-1]
            rows.append({"table": tid, "plan_name": name, "year": str(last["调整年份"]).replace("年", ""),
                         "classes_before": _num(first["现有规模_班级规模"]), "places_before": _num(first["现有规模_学生容量"]),
                         "classes_plan": _num(last["调整后规模_班级规模"]), "places_plan": _num(last["调整后规模_学生容量"]),
                         "source_quote": " / ".join(r["source_quote"] for r in rs)})
    for tid, cb, pb, ca, pa in (("表5", "现有规模(2020)_班级规模（高中）", "现有规模(2020)_学生实有容量（高中）",
                                 "调整后规模_2025年_教学班(个)", "调整后规模_2025年_学生容量(人)"),
                                ("表6", "现有规模(2020)_教学班(个)", "现有规模(2020)_学生(人)",
                                 "调整后规模_2025年_教学班(个)", "调整后规模_2025年_学生(人)")):
        for r in plan.table(tid).rows:
            if r["学校名称"] == "合计":
                continue
            rows.append({"table": tid, "plan_name": r["学校名称"], "year": str(PLAN_HORIZON),
                         "classes_before": _num(r[cb]), "places_before": _num(r[pb]),
                         "classes_plan": _num(r[ca]), "places_plan": _num(r[pa]), "source_quote": r["source_quote"]})
    out = pd.DataFrame(rows)
    out["stages"] = [_stages_of_row(t, n) for t, n in zip(out["table"], out["plan_name"])]
    out["plan_action"] = np.select(
        [out["classes_before"] == 0, out["classes_plan"] > out["classes_before"],
         out["classes_plan"] < out["classes_before"]], ["build", "expand", "shrink"], "keep")
    return out


ADAPTERS = {"wuxi": wuxi_school_rows}


def _link_sites(region, rows: pd.DataFrame) -> pd.Series:
    """Region site id of each plan row: through ``schools.plan_rows`` or a candidate site's name."""
    link: dict[tuple[str, str], str] = {}
    if "plan_rows" in region.schools:
        for sid, refs in zip(region.schools["school_id"], region.schools["plan_rows"].fillna("")):
            for ref in re.split(r"[;；]", str(refs)):
                if ":" in ref:
                    tid, name = ref.split(":", 1)
                    link[(tid.strip(), name.strip())] = sid
    cand = {} if region.candidate_sites is None else dict(zip(region.candidate_sites["name"],
                                                              region.candidate_sites["site_id"]))
    def candidate(name: str) -> str:  # the plan writes 凤凰中学（高中部） for the new 凤凰中学
        return cand.get(name, cand.get(re.sub(r"（[^）]*部）$", "", name), ""))

    return pd.Series([link.get((t, n), candidate(n)) for t, n in zip(rows["table"], rows["plan_name"])],
                     index=rows.index)


def check_region_matches(plan: Plan, region) -> None:
    """A plan belongs to the region whose admin code it carries (a city plan covers its counties)."""
    code = str(plan.admin_code or "")
    rcode = str(region.meta.admin_code)
    if not code or not (rcode == code or rcode.startswith(code.rstrip("0")[:4]) and code.endswith("00")):
        raise InputError(Problem(file=f"规划 {plan.id}", field="admin_code", expected=f"区域 {region.meta.name}（{rcode}）的规划",
                                 found=f"{plan.region or plan.name}（{code}）",
                                 hint="运行结果与规划不属同一地区，不能对照。"))


def check_against_plan(result, plan_id: str) -> dict:
    """All comparisons of a run (a `pipeline.RunResult`) with plan ``plan_id``."""
    plan = load_plan(plan_id)
    check_region_matches(plan, result.region)
    if plan_id not in ADAPTERS:
        raise InputError(Problem(file=f"规划 {plan_id}", expected="含逐校布局表的规划（目前：" + "、".join(ADAPTERS) + "）",
                                 found="该规划只有汇总表", hint="可用 xuewei plans show 查看其表。"))
    rows = ADAPTERS[plan_id](plan)
    rows["school_id"] = _link_sites(result.region, rows)
    sites = result.layout.sites
    periods = sorted(sites["period"].unique())
    horizon = next((p for p in periods if p >= PLAN_HORIZON), periods[-1])
    at = sites[sites["period"] == horizon]
    run_classes, run_places, run_open = [], [], []
    for sid, stages in zip(rows["school_id"], rows["stages"]):
        sel = at[(at["site_id"] == sid) & at["stage"].isin(stages)]
        optimised = any(g in set(at["stage"]) for g in stages)
        run_classes.append(float(sel["classes"].sum()) if optimised and sid else np.nan)
        run_places.append(float(sel["places"].sum()) if optimised and sid else np.nan)
    rows["period"] = horizon
    rows["classes_run"] = run_classes
    rows["places_run"] = run_places
    rows["classes_diff"] = rows["classes_run"] - rows["classes_plan"]
    rows["places_diff"] = rows["places_run"] - rows["places_plan"]
    rows["run_action"] = np.select(
        [rows["classes_run"].isna(), (rows["classes_before"] == 0) & (rows["classes_run"] > 0),
         (rows["classes_before"] > 0) & (rows["classes_run"] == 0), rows["classes_run"] > rows["classes_before"],
         rows["classes_run"] < rows["classes_before"]], ["not_optimised", "build", "close", "expand", "shrink"], "keep")
    rows["note"] = np.where(rows["school_id"] == "", "区域数据中找不到该校",
                            np.where(rows["classes_run"].isna(), "该学段不在优化范围内", ""))
    schools = rows[["table", "plan_name", "school_id", "stages", "year", "classes_before", "places_before", "classes_plan",
                    "places_plan", "classes_run", "places_run", "classes_diff", "places_diff", "plan_action",
                    "run_action", "note", "source_quote"]].copy()
    schools["stages"] = schools["stages"].map(lambda s: ";".join(s))

    # 学段 × action counts: the plan's rows against the run's stage-level changes at the same horizon.
    base = sites[sites["period"] == periods[0]]
    run = at.merge(base[["site_id", "stage"]], on=["site_id", "stage"], how="left")
    run_action = np.select(
        [(run["origin"] != "existing") & (run["classes_before"] == 0) & (run["classes"] > 0),
         (run["classes_before"] > 0) & (run["classes"] == 0), run["classes"] > run["classes_before"],
         (run["classes"] < run["classes_before"]) & (run["classes"] > 0),
         (run["classes"] == run["classes_before"]) & (run["classes"] > 0)],
        ["build", "close", "expand", "shrink", "keep"], "none")
    run_counts = pd.Series(run_action, index=run.index).groupby(run["stage"]).value_counts().rename("run")
    plan_counts = schools.assign(stage=schools["stages"].str.split(";")).explode("stage").groupby("stage")[
        "plan_action"].value_counts().rename("plan")
    actions = pd.concat([plan_counts, run_counts], axis=1).fillna(0).astype(int).reset_index()
    actions.columns = ["stage", "action", "plan", "run"]
    actions = actions[actions["action"] != "none"]
    actions["difference"] = actions["run"] - actions["plan"]
    actions["stage_zh"] = actions["stage"].map(STAGE_ZH)
    actions["action_zh"] = actions["action"].map(ACTION_PLAN_ZH)

    # 学位递增 by township × stage.
    tw = result.region.schools.set_index("school_id")["township_id"]
    if result.region.candidate_sites is not None:
        tw = pd.concat([tw, result.region.candidate_sites.set_index("site_id")["township_id"]])
    p_rows = schools[schools["school_id"] != ""].assign(stage=schools["stages"].str.split(";")).explode("stage")
    p_rows = p_rows.drop_duplicates(["table", "plan_name"])  # a two-stage row counts once, under its first stage
    p_rows["township_id"] = p_rows["school_id"].map(tw)
    p_rows["added"] = p_rows["places_plan"] - p_rows["places_before"]
    plan_places = p_rows.groupby(["township_id", "stage"])["added"].sum().rename("plan_places_added")
    r = at.assign(township_id=at["site_id"].map(tw))
    r_base = r["classes_before"] * r["stage"].map(result.policy.class_cap)
    r["added"] = r["places"] - r_base
    run_places_added = r.groupby(["township_id", "stage"])["added"].sum().rename("run_places_added")
    places = pd.concat([plan_places, run_places_added], axis=1).fillna(0.0).reset_index()
    places["difference"] = places["run_places_added"] - places["plan_places_added"]
    names = result.region.townships.set_index("township_id")["name"]
    places.insert(1, "township", places["township_id"].map(names))
    places["stage_zh"] = places["stage"].map(STAGE_ZH)
    notes = [f"对照规划：{plan.name}（原文 {plan.source}）表3–表6，规划期末取 {PLAN_HORIZON} 年，运行结果取 {horizon} 年。",
             "规划表只列出有调整的学校，故“保留”只统计运行结果。",
             "运行的“学位递增”以基准年班数×班额上限为起点；规划以表中“现有规模”学位为起点。"]
    return {"plan": plan.id, "horizon": int(horizon), "schools": schools, "actions": actions, "places": places,
            "notes": notes}
