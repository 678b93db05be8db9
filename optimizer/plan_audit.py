"""A plan as a scenario: the plan's own layout fixed, audited against the forecast.

The schools the plan lists (巫溪 表3–表6) take the plan's classes from their adjustment year on;
every other public school keeps its base-year classes. Each year, each village goes to its nearest
school of the stage within the day limit, else to the nearest boarding school within the boarding
limit, else to the nearest school at all (which the rule audit then flags). Capacity is not
enforced: the point is to see where the plan's places fall short or stand idle, and which rules
the layout breaks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.data.plans import Plan
from xuewei.optimizer.layout_data import site_tiers
from xuewei.optimizer.plan_check import link_sites
from xuewei.optimizer.plan_items import school_rows
from xuewei.optimizer.policy import STAGES, PolicyConfig
from xuewei.optimizer.travel import travel_matrix, within_day_limit

IDLE_BELOW = 0.6  # utilisation under which places count as standing idle (assumption)


def plan_classes(region, plan: Plan, years: list[int], base_year: int) -> pd.DataFrame:
    """Classes per school × stage × year under the plan: ``site_id, stage, year, classes, source``.

    The plan's per-school rows (tables declaring ``per_school``) take effect from their year on;
    the caller has checked that the plan has such rows (`optimizer.plan_items.school_rows`).
    """
    rows = school_rows(plan)
    rows["site_id"] = link_sites(region, rows)
    ss = region.school_stages
    ss = ss[(ss["year"] == base_year) & ss["school_id"].isin(
        region.schools.loc[region.schools["ownership"] != "private", "school_id"])]
    base = ss[ss["stage"].isin(STAGES)].groupby(["school_id", "stage"], as_index=False)["classes"].sum()
    base = base.rename(columns={"school_id": "site_id"})
    out = []
    for y in years:
        yb = base.assign(year=y, source="基准年现状")
        out.append(yb)
    table = pd.concat(out, ignore_index=True).set_index(["site_id", "stage", "year"])
    for r in rows.itertuples():
        if not r.site_id:
            continue
        stages = [g for g in r.stages if g in STAGES]
        if not stages:
            continue
        start = int(r.year) if str(r.year).isdigit() else plan.horizon
        for y in years:
            if y < start:
                continue
            # A row spanning primary + junior (九年一贯制) keeps the base split between the stages.
            base_split = base[(base["site_id"] == r.site_id) & base["stage"].isin(stages)].set_index("stage")["classes"]
            total0 = float(base_split.sum())
            for g in stages:
                share = base_split.get(g, 0.0) / total0 if total0 > 0 else 1.0 / len(stages)
                table.loc[(r.site_id, g, y), ["classes", "source"]] = [round(r.classes_plan * share),
                                                                       f"规划{r.table}：{r.plan_name}"]
    return table.reset_index()


def nearest_assignment(region, demand_year: pd.DataFrame, sites: pd.DataFrame, policy: PolicyConfig) -> pd.DataFrame:
    """Each village × stage to its nearest open school: day school, else boarding, else nearest of all."""
    nodes = region.nodes
    loc = pd.concat([region.schools[["school_id", "lon", "lat"]].rename(columns={"school_id": "site_id"}),
                     region.candidate_sites[["site_id", "lon", "lat"]] if region.candidate_sites is not None else None])
    loc = loc.drop_duplicates("site_id").set_index("site_id")
    beds = region.schools.set_index("school_id")["boarding_beds"]
    rows = []
    for g, grp in sites[sites["classes"] > 0].groupby("stage"):
        d = demand_year[demand_year["stage"] == g].set_index("node_id")["pupils"].reindex(nodes["node_id"]).fillna(0.0)
        ids = grp["site_id"].to_numpy()
        travel = travel_matrix(region, policy, (nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float)),
                               (loc.loc[ids, "lon"].to_numpy(float), loc.loc[ids, "lat"].to_numpy(float)))
        km = travel.km
        within = within_day_limit(travel, policy, g)
        board_ok = np.asarray([beds.get(s, 0) > 0 for s in ids]) & (g in policy.boarding_stages)
        board_limit = policy.boarding_limit_km.get(g, 0.0)
        day = np.where(within, km, np.inf)
        board = np.where(~within & (km <= board_limit) & board_ok[None, :], km, np.inf)
        pick_day, pick_board, pick_any = day.argmin(1), board.argmin(1), km.argmin(1)
        has_day = np.isfinite(day.min(1))
        has_board = np.isfinite(board.min(1))
        pick = np.where(has_day, pick_day, np.where(has_board, pick_board, pick_any))
        boarding = ~has_day & has_board
        rows.append(pd.DataFrame({"node_id": nodes["node_id"].to_numpy(), "stage": g, "school_id": ids[pick],
                                  "pupils": d.to_numpy(), "distance_km": km[np.arange(len(pick)), pick],
                                  "boarding": boarding}))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return out[out["pupils"] > 0].reset_index(drop=True)


def audit_plan(region, demand: pd.DataFrame, policy: PolicyConfig, plan: Plan, years: list[int], base_year: int,
               variant: str = "mid"):
    """Schools × stage × year (places, pupils, shortfall, idle) and the assignments under the plan's layout."""
    classes = plan_classes(region, plan, years, base_year)
    tiers = site_tiers(region, *_lonlat(region, classes["site_id"]), _townships(region, classes["site_id"]),
                       policy.seat_radius_km)
    classes["tier"] = tiers
    cap = classes["stage"].map(policy.class_cap)
    classes["places"] = classes["classes"] * cap
    d = demand[demand["variant"] == variant]
    schools, assignments = [], []
    for y in years:
        at = classes[classes["year"] == y]
        asg = nearest_assignment(region, d[d["year"] == y], at, policy).assign(period=y)
        load = asg.groupby(["school_id", "stage"])["pupils"].sum()
        bload = asg[asg["boarding"]].groupby(["school_id", "stage"])["pupils"].sum()
        s = at.rename(columns={"site_id": "school_id"}).assign(period=y)
        key = pd.MultiIndex.from_frame(s[["school_id", "stage"]])
        s["pupils"] = load.reindex(key).fillna(0.0).to_numpy()
        s["boarding_pupils"] = bload.reindex(key).fillna(0.0).to_numpy()
        schools.append(s)
        assignments.append(asg)
    s = pd.concat(schools, ignore_index=True)
    s["utilisation"] = np.where(s["places"] > 0, s["pupils"] / s["places"].where(s["places"] > 0, 1), np.nan)
    s["shortfall"] = (s["pupils"] - s["places"]).clip(lower=0)
    s["idle_places"] = np.where(s["utilisation"] < IDLE_BELOW, s["places"] - s["pupils"], 0.0)
    s["boarding_beds"] = s["school_id"].map(region.schools.set_index("school_id")["boarding_beds"]).fillna(0)
    s["new_capacity"] = 0  # the plan's own expansions are audited for tier separately below
    return s, pd.concat(assignments, ignore_index=True)


def _lonlat(region, ids: pd.Series):
    loc = pd.concat([region.schools.set_index("school_id")[["lon", "lat"]],
                     region.candidate_sites.set_index("site_id")[["lon", "lat"]]
                     if region.candidate_sites is not None else None])
    loc = loc[~loc.index.duplicated()]
    return loc.loc[ids, "lon"].to_numpy(float), loc.loc[ids, "lat"].to_numpy(float)


def _townships(region, ids: pd.Series) -> np.ndarray:
    tw = pd.concat([region.schools.set_index("school_id")["township_id"],
                    region.candidate_sites.set_index("site_id")["township_id"]
                    if region.candidate_sites is not None else None])
    tw = tw[~tw.index.duplicated()]
    return tw.loc[ids].to_numpy()
