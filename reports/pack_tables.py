"""The hearing pack's tables for one township: its schools before/after, its villages' trips.

Both are plain DataFrames with Chinese headers and units, so the pack, the workbook and tests read
the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.data.crs import project
from xuewei.labels import KIND_ZH, STAGE_ZH
from xuewei.optimizer.travel import travel_matrix, uses_roads
from xuewei.reports.map_data import STAGES, short_school, short_village

KIND_NAMES = {**KIND_ZH, "village_kindergarten": "村级幼儿园"}


def _stages_zh(stages: str) -> str:
    return "、".join(STAGE_ZH.get(s, s) for s in str(stages).split(";") if s)


def base_pupils(run) -> pd.Series:
    """Pupils per school in the base year, optimised stages only [pupils]."""
    ss = run.region.school_stages
    ss = ss[(ss["year"] == run.base_year) & ss["stage"].isin(STAGES)]
    return ss.groupby("school_id")["pupils"].sum()


def reason(r) -> str:
    """Why the action, in one Chinese sentence, from the row's own numbers (the run's own
    ``reason_zh`` where the actions table has it)."""
    if isinstance(r.get("reason_zh"), str) and r["reason_zh"]:
        return r["reason_zh"]
    a = r["action"]
    if a == "build":
        return f"新建，开设{_stages_zh(r['stages_after'])}，{r['classes_after']:.0f} 班，就读 {r['pupils_after']:.0f} 人"
    if a == "merge":
        return f"学生（期初 {r['pupils_before']:.0f} 人）主要并入{r['merged_name']}，本校撤销"
    if a == "close":
        return f"学生（期初 {r['pupils_before']:.0f} 人）分流到就近学校，本校撤销"
    if a == "convert":
        return f"办学类型转变：{_stages_zh(r['stages_before']) or '无'} → {_stages_zh(r['stages_after']) or '无'}"
    if a == "expand":
        return (f"需求 {r['pupils_after']:.0f} 人，原学位 {r['places_before']:.0f} 个不足，增至 {r['places_after']:.0f} 个"
                if r["pupils_after"] > r["places_before"] else
                f"增加 {r['classes_after'] - r['classes_before']:.0f} 班（学位 {r['places_before']:.0f}→{r['places_after']:.0f}）")
    used = r["pupils_after"] / r["places_after"] if r["places_after"] > 0 else 0.0
    return f"学位够用（使用率 {used:.0%}）"


OVERSIZE_CODES = ("school_size_cap", "oversized_class")


def oversize_rows(actions: pd.DataFrame) -> pd.DataFrame:
    """The actions of over-size and 大班额 schools brought down by the size rules: 规划期, 学校, 调整,
    说明 (empty where the run has none, or the actions table predates reasons)."""
    cols = ["规划期（年）", "学校", "调整", "说明"]
    if "reason" not in actions:
        return pd.DataFrame(columns=cols)
    hit = actions["reason"].fillna("").str.split(";").map(lambda c: bool(set(c) & set(OVERSIZE_CODES)))
    a = actions[hit].sort_values(["school_id", "period"])
    return pd.DataFrame({"规划期（年）": a["period"].to_numpy(), "学校": a["name"].map(short_school).to_numpy(),
                         "调整": a["action_zh"].to_numpy(), "说明": a["reason_zh"].to_numpy()}, columns=cols)


def school_rows(run, township_id: str) -> pd.DataFrame:
    """Per school of the township × period: classes, places, pupils before and after, action, reason."""
    a = run.actions[run.actions["township_id"] == township_id].copy()
    names = _site_names(run)
    a["name"] = a["school_id"].map(names).fillna(a["name"])
    a["merged_name"] = a["merged_into"].map(names).fillna(a["merged_into"])
    after = run.schools.groupby(["school_id", "period"])["pupils"].sum()
    a["pupils_after"] = [float(after.get((s, p), 0.0)) for s, p in zip(a["school_id"], a["period"])]
    periods = sorted(run.periods)
    prev = {p: q for q, p in zip(periods[:-1], periods[1:])}
    base = base_pupils(run)
    a["pupils_before"] = [float(after.get((s, prev[p]), 0.0)) if p in prev else float(base.get(s, 0.0))
                          for s, p in zip(a["school_id"], a["period"])]
    a["reason_text"] = [reason(r) for _, r in a.iterrows()]
    kind = a["kind_after_zh"] if "kind_after_zh" in a else a["kind"].map(KIND_NAMES).fillna(a["kind"])
    out = pd.DataFrame({
        "学校": a["name"], "类型（调整后）": kind, "规划期（年）": a["period"],
        "调整": a["action_zh"], "学段（调整后）": a["stages_after"].map(_stages_zh),
        "班数（前）": a["classes_before"], "班数（后）": a["classes_after"],
        "学位（前，个）": a["places_before"].round(0), "学位（后，个）": a["places_after"].round(0),
        "学生（前，人）": a["pupils_before"].round(0), "学生（后，人）": a["pupils_after"].round(0),
        "寄宿床位（后，张）": a["boarding_beds_after"], "说明": a["reason_text"]})
    return out.sort_values(["学校", "规划期（年）"]).reset_index(drop=True)


def _site_names(run) -> pd.Series:
    """Display name by school or site id (region schools, candidate sites, sites the model added)."""
    parts = [run.actions.drop_duplicates("school_id").set_index("school_id")["name"],
             run.region.schools.set_index("school_id")["name"]]
    if run.region.candidate_sites is not None:
        parts.append(run.region.candidate_sites.set_index("site_id")["name"])
    s = pd.concat(parts)
    return s[~s.index.duplicated(keep="last")].map(short_school)


def baseline_trips(run) -> pd.DataFrame:
    """Each village's school(s) in the base year: node_id, stage, school_id, distance_km (and pupils).

    The run's calibrated base-year catchments (``catchments_base.csv``: several schools per village
    where its pupils go to several today) when it has them; otherwise each village's nearest school
    hosting the stage. Distance is as in the layout model (`xuewei.optimizer.travel`): on the road
    layer where the run used one, else straight-line in the region's metric CRS × the policy's detour
    factor [km].
    """
    flows = getattr(run, "base_flows", None)
    if flows is not None and len(flows):
        flows = flows[flows["school_id"].fillna("") != ""]  # pupils with no school in reach today
        return flows[["node_id", "stage", "school_id", "distance_km", "pupils"]]
    region = run.region
    ss = region.school_stages
    ss = ss[(ss["year"] == run.base_year) & (ss["classes"] > 0)]
    sch = region.schools.set_index("school_id")
    nodes = region.nodes
    nx, ny = project(nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float), region.metric_crs)
    rows = []
    for stage in STAGES:
        ids = [s for s in ss.loc[ss["stage"] == stage, "school_id"].unique() if s in sch.index]
        if not ids:
            continue
        sx, sy = project(sch.loc[ids, "lon"].to_numpy(float), sch.loc[ids, "lat"].to_numpy(float), region.metric_crs)
        if uses_roads(region, run.policy):
            d = travel_matrix(region, run.policy, (nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float)),
                              (sch.loc[ids, "lon"].to_numpy(float), sch.loc[ids, "lat"].to_numpy(float))).km
        else:
            d = np.hypot(nx[:, None] - sx[None, :], ny[:, None] - sy[None, :]) / 1000.0 * run.policy.detour_factor
        j = d.argmin(axis=1)
        rows.append(pd.DataFrame({"node_id": nodes["node_id"].to_numpy(), "stage": stage,
                                  "school_id": np.asarray(ids)[j], "distance_km": d[np.arange(len(nodes)), j]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["node_id", "stage", "school_id", "distance_km"])


def schools_text(rows: pd.DataFrame, names: pd.Series, most: int = 2) -> str:
    """The school(s) of one village × stage: a name, or where its pupils go to several schools the
    largest shares, e.g. ``城关小学 60%、实验小学 40%`` (``等 N 所`` beyond ``most``)."""
    if "pupils" not in rows or len(rows) == 1:
        sid = rows["school_id"].iloc[0]
        return str(names.get(sid, sid))
    r = rows.sort_values("pupils", ascending=False, kind="stable")
    total = r["pupils"].sum()
    parts = [f"{names.get(sid, sid)} {p / total:.0%}" if total > 0 else str(names.get(sid, sid))
             for sid, p in zip(r["school_id"].head(most), r["pupils"].head(most))]
    return "、".join(parts) + (f" 等 {len(r)} 所" if len(r) > most else "")


def village_rows(run, township_id: str, baseline: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per village of the township × stage: the school and distance now and in each period, boarders."""
    nodes = run.region.nodes
    nodes = nodes[nodes["township_id"] == township_id][["node_id", "name"]]
    base = baseline_trips(run) if baseline is None else baseline
    names = _site_names(run)
    a = run.assignments[run.assignments["node_id"].isin(set(nodes["node_id"]))]
    un = run.unserved[run.unserved["node_id"].isin(set(nodes["node_id"]))] if len(run.unserved) else run.unserved
    rows = []
    for node_id, vname in zip(nodes["node_id"], nodes["name"]):
        for stage in STAGES:
            b = base[(base["node_id"] == node_id) & (base["stage"] == stage)]
            b = b.sort_values("pupils", ascending=False, kind="stable") if "pupils" in b else b
            row = {"村（社区）": short_village(vname), "学段": STAGE_ZH[stage],
                   f"{run.base_year} 年就读学校": schools_text(b, names) if len(b) else "—",
                   f"{run.base_year} 年距离（km）": round(float(b["distance_km"].iloc[0]), 1) if len(b) else np.nan}
            any_pupils = False
            for p in run.periods:
                sel = a[(a["node_id"] == node_id) & (a["stage"] == stage) & (a["period"] == p)]
                u = un[(un["node_id"] == node_id) & (un["stage"] == stage) & (un["period"] == p)]["pupils"].sum() \
                    if len(un) else 0.0
                any_pupils |= bool(len(sel)) or u > 0
                main = sel.sort_values("pupils", ascending=False, kind="stable").head(1)
                row[f"{p} 年就读学校"] = schools_text(sel, names) if len(main) else "—"
                row[f"{p} 年距离（km）"] = round(float(main["distance_km"].iloc[0]), 1) if len(main) else np.nan
                row[f"{p} 年学生（人）"] = round(float(sel["pupils"].sum() + u), 0)
                row[f"{p} 年寄宿（人）"] = round(float(sel.loc[sel["boarding"], "pupils"].sum()), 0)
                row[f"{p} 年未安排（人）"] = round(float(u), 0)
            if any_pupils:
                rows.append(row)
    return pd.DataFrame(rows)
