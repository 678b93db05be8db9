"""What happens to each school in each period: 保留/改扩建/新建/合并/撤销/转变, derived from the layout.

The model decides classes per school × stage × period; the action is read off the change from the
previous period (the base year for the first):

- 新建 build: a candidate site opens;
- 撤销 close / 合并 merge: every stage of the school closes; it is a merge when at least
  ``MERGE_SHARE`` of its former pupils go to one school (named in ``merged_into``);
- 转变 convert: the kind of school changes — 小学→幼儿园, 初中→九年一贯制, 初中→完全中学, or a primary
  school shrinks to teaching-point size (≤ 4 classes: 小学→教学点). A primary school that opens
  kindergarten classes (附设园) stays a primary school: that is an expansion;
- 改扩建 expand: more classes than before;
- 保留 keep: otherwise (including fewer classes at the same school).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.labels import ACTION_ZH
from xuewei.optimizer.policy import PolicyConfig

MERGE_SHARE = 0.6
TEACHING_POINT_CLASSES = 4

ACTION_COLUMNS = ["school_id", "name", "kind", "township_id", "period", "action", "action_zh", "classes_before",
                  "classes_after", "places_before", "places_after", "merged_into", "boarding_beds_after",
                  "cost_wan_yuan", "stages_before", "stages_after"]


def kind_of(stages: set, primary_classes: int, village: bool = True) -> str:
    """The kind of school a set of stages makes (the 办学类型 a convert action changes).

    A primary school of at most `TEACHING_POINT_CLASSES` classes away from a township seat is a 教学点.
    """
    if "primary" in stages and "junior" in stages:
        return "nine_year"
    if "junior" in stages and "senior" in stages:
        return "complete_secondary"
    if "primary" in stages:
        return "teaching_point" if village and primary_classes <= TEACHING_POINT_CLASSES else "primary"
    for kind in ("junior", "senior", "kindergarten"):
        if kind in stages:
            return kind
    return ";".join(sorted(stages))


def capital_cost(sites: pd.DataFrame, policy: PolicyConfig, base_year: int) -> pd.DataFrame:
    """Capital per site × stage × period [万元]: classes beyond the most ever built, new schools, beds."""
    s = sites.sort_values(["site_id", "stage", "period"]).copy()
    grp = s.groupby(["site_id", "stage"], sort=False)
    built = np.maximum(s["classes"], s["classes_before"])
    s["high_water"] = built.groupby([s["site_id"], s["stage"]]).cummax()
    prev_hw = grp["high_water"].shift(1).fillna(s["classes_before"])
    prev_beds = grp["boarding_beds"].shift(1)
    first_beds = grp["boarding_beds"].transform("first")
    unit = np.where(s["origin"] == "candidate", s["stage"].map(policy.build_per_class_wan_yuan),
                    s["stage"].map(policy.expand_per_class_wan_yuan)).astype(float)
    opened = (s["origin"] == "candidate") & s["open"] & ~grp["open"].shift(1, fill_value=False).astype(bool)
    beds_added = (s["boarding_beds"] - prev_beds.fillna(first_beds)).clip(lower=0)
    s["cost_wan_yuan"] = (unit * (s["high_water"] - prev_hw).clip(lower=0) + opened * policy.build_fixed_wan_yuan
                          + beds_added * policy.bed_wan_yuan)
    return s


def _baseline_catchment(stage_data) -> pd.DataFrame:
    """Each village's school today (the catchment before any change): the calibrated base-year
    school of each catchment unit where the model has them, else the nearest school hosting the stage."""
    rows = []
    for sd in stage_data:
        if sd.base_site is not None:
            has = sd.base_site >= 0
            rows.append(pd.DataFrame({"node_id": sd.node_ids[has], "stage": sd.stage,
                                      "school_id": sd.sites["site_id"].to_numpy()[sd.base_site[has]],
                                      "pupils": sd.demand[has, 0], "part": sd.part, "unit": np.flatnonzero(has)}))
            continue
        existing = (sd.sites["origin"].to_numpy() == "existing") & (sd.sites["c0"].to_numpy() > 0)
        ok = existing[sd.pair_site]
        pn, ps, km = sd.pair_node[ok], sd.pair_site[ok], sd.pair_km[ok]
        order = np.lexsort((km, pn))
        first = np.unique(pn[order], return_index=True)[1]
        pick = order[first]
        rows.append(pd.DataFrame({"node_id": sd.node_ids[pn[pick]], "stage": sd.stage,
                                  "school_id": sd.sites["site_id"].to_numpy()[ps[pick]],
                                  "pupils": sd.demand[pn[pick], 0]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["node_id", "stage", "school_id", "pupils"])


def derive_actions(region, sites: pd.DataFrame, assignments: pd.DataFrame, stage_data, policy: PolicyConfig,
                   base_year: int) -> pd.DataFrame:
    """One row per school (and opened candidate site) × period."""
    s = capital_cost(sites, policy, base_year)
    periods = sorted(s["period"].unique())
    cap = s["stage"].map(policy.class_cap).astype(float)
    s["places_after"] = s["classes"] * cap
    prev_classes = s.groupby(["site_id", "stage"])["classes"].shift(1).fillna(s["classes_before"])
    s["prev_classes"] = prev_classes.astype(int)
    s["places_prev"] = s["prev_classes"] * cap
    per = s.groupby(["site_id", "period"], sort=True).agg(
        classes_before=("prev_classes", "sum"), classes_after=("classes", "sum"),
        places_before=("places_prev", "sum"), places_after=("places_after", "sum"),
        boarding_beds_after=("boarding_beds", "sum"), cost_wan_yuan=("cost_wan_yuan", "sum"),
        origin=("origin", "first"), tier=("tier", "first")).reset_index()
    stages_before = s[s["prev_classes"] > 0].groupby(["site_id", "period"])["stage"].agg(lambda x: ";".join(sorted(x)))
    stages_after = s[s["classes"] > 0].groupby(["site_id", "period"])["stage"].agg(lambda x: ";".join(sorted(x)))
    per = per.join(stages_before.rename("stages_before"), on=["site_id", "period"])
    per = per.join(stages_after.rename("stages_after"), on=["site_id", "period"])
    per[["stages_before", "stages_after"]] = per[["stages_before", "stages_after"]].fillna("")
    per = per[(per["stages_before"] != "") | (per["stages_after"] != "")].copy()

    info = pd.concat([sd.sites[["site_id", "name", "kind", "township_id"]] for sd in stage_data])
    info = info.drop_duplicates("site_id").set_index("site_id")
    per = per.join(info, on="site_id")

    # Where did each school's pupils go? Previous period's catchment (base-year nearest school first).
    before = _baseline_catchment(stage_data).assign(period=periods[0])
    later = assignments.copy()
    later["next_period"] = later["period"].map(dict(zip(periods[:-1], periods[1:])))
    # Catchment units (several per village) are followed one by one when the assignments carry them.
    key = ["node_id", "stage", "period"] + (["part", "unit"] if {"part", "unit"} <= set(assignments.columns)
                                            and {"part", "unit"} <= set(before.columns) else [])
    later = later.dropna(subset=["next_period"])[key[:2] + key[3:] + ["school_id", "pupils", "next_period"]]
    later = later.rename(columns={"next_period": "period"})
    old_catch = pd.concat([before, later], ignore_index=True).rename(columns={"school_id": "from_school"})
    now = assignments[key + ["school_id", "pupils"]].rename(columns={"school_id": "to_school", "pupils": "pupils_now"})
    moves = old_catch.merge(now, on=key, how="inner")
    moves = moves[moves["from_school"] != moves["to_school"]]
    flow = moves.groupby(["from_school", "period", "to_school"], as_index=False)["pupils_now"].sum()
    total = old_catch.groupby(["from_school", "period"])["pupils"].sum()
    flow["share"] = flow["pupils_now"] / flow.set_index(["from_school", "period"]).index.map(total).to_numpy(float)
    best = flow.sort_values("share", ascending=False).drop_duplicates(["from_school", "period"])
    best = best.set_index(["from_school", "period"])

    primary_before = s.assign(c=s["prev_classes"].where(s["stage"] == "primary", 0)).groupby(
        ["site_id", "period"])["c"].sum()
    primary_after = s.assign(c=s["classes"].where(s["stage"] == "primary", 0)).groupby(["site_id", "period"])["c"].sum()
    actions, merged_into = [], []
    for r in per.itertuples(index=False):
        before_set, after_set = set(filter(None, r.stages_before.split(";"))), set(filter(None, r.stages_after.split(";")))
        target = ""
        key = (r.site_id, r.period)
        if not before_set and after_set:
            action = "build" if r.origin == "candidate" else "convert"
        elif before_set and not after_set:
            if key in best.index and best.loc[key, "share"] >= MERGE_SHARE:
                action, target = "merge", str(best.loc[key, "to_school"])
            else:
                action = "close"
        elif (kind_of(before_set, primary_before.get(key, 0), r.tier == "village")
              != kind_of(after_set, primary_after.get(key, 0), r.tier == "village")):
            action = "convert"
        elif r.classes_after > r.classes_before:
            action = "expand"
        else:
            action = "keep"
        actions.append(action)
        merged_into.append(target)
    per["action"] = actions
    per["action_zh"] = per["action"].map(ACTION_ZH)
    per["merged_into"] = merged_into
    per = per.rename(columns={"site_id": "school_id"})
    return per[ACTION_COLUMNS].sort_values(["period", "school_id"]).reset_index(drop=True)
