"""What a map shows, as tables in the region's metric CRS: schools by period, villages, catchments.

Built once per run (`MapData.build`), then sliced per period and township by the drawing code.
Coordinates ``x``, ``y`` are metres in `Region.metric_crs` (UTM), so a map's scale bar is exact
in kilometres and its aspect is true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xuewei.data.crs import project
from xuewei.optimizer.travel import uses_roads

STAGES = ("kindergarten", "primary", "junior", "senior")


def short_village(name: str) -> str:
    """``九磷社区居民委员会`` → ``九磷社区``, ``城北村村民委员会`` → ``城北村``."""
    return re.sub(r"(村民委员会|居民委员会|委员会)$", "", str(name)) or str(name)


def short_school(name: str) -> str:
    """``古路村村民委员会村级幼儿园（一村一幼）`` → ``古路村村级幼儿园``."""
    return re.sub(r"(村民委员会|居民委员会)|（一村一幼）$", "", str(name)) or str(name)


def display_kind(kind: str, stages: str) -> str:
    """The kind a school is drawn as, from the stages it hosts (after the period's change)."""
    s = set(filter(None, str(stages).split(";")))
    if {"primary", "junior", "senior"} <= s:
        return "twelve_year"
    if {"primary", "junior"} <= s:
        return "nine_year"
    if {"junior", "senior"} <= s:
        return "complete_secondary"
    if kind == "village_kindergarten" and s <= {"kindergarten"}:
        return "kindergarten"
    if "primary" in s:
        return "teaching_point" if kind == "teaching_point" else "primary"
    for k in ("junior", "senior", "kindergarten"):
        if k in s:
            return k
    return kind


def site_lonlat(run) -> pd.DataFrame:
    """Every site a run can name, WGS-84: ``site_id, name, kind, township_id, lon, lat``.

    Region schools and candidate sites (a candidate's kind from the stages it may host); a village
    kindergarten the model made up (``V<node_id>``) stands at its village. Sites without
    coordinates are left out.
    """
    region = run.region
    parts = [region.schools[["school_id", "name", "kind", "township_id", "lon", "lat"]].rename(
        columns={"school_id": "site_id"})]
    if region.candidate_sites is not None:
        cand = region.candidate_sites[["site_id", "name", "township_id", "lon", "lat", "stages"]].copy()
        cand["kind"] = cand["stages"].map(lambda s: display_kind("", str(s).replace("|", ";")))
        parts.append(cand.drop(columns="stages"))
    sites = pd.concat(parts, ignore_index=True)
    sites = sites[sites["lon"].notna() & sites["lat"].notna()]
    extra = run.actions.drop_duplicates("school_id")
    extra = extra[~extra["school_id"].isin(set(sites["site_id"]))]
    at = region.nodes.set_index("node_id")
    extra = extra[extra["school_id"].str[1:].isin(at.index)]
    if len(extra):
        node = extra["school_id"].str[1:]
        sites = pd.concat([sites, pd.DataFrame({
            "site_id": extra["school_id"].to_numpy(), "name": extra["name"].to_numpy(),
            "kind": extra["kind"].to_numpy(), "township_id": extra["township_id"].to_numpy(),
            "lon": at.loc[node, "lon"].to_numpy(float), "lat": at.loc[node, "lat"].to_numpy(float)})],
            ignore_index=True)
    return sites.reset_index(drop=True)


@dataclass
class MapData:
    """A run's map layers in metres."""

    boundary: object  # shapely geometry in metric CRS
    nodes: pd.DataFrame  # node_id, name, label, township_id, x, y
    sites: pd.DataFrame  # site_id, name, kind, township_id, x, y (schools and candidate sites)
    seats: pd.DataFrame  # township_id, name, tier, x, y
    others: pd.DataFrame  # schools of stages not optimised (vocational, special): x, y, name, kind
    run: object  # the RunTables
    roads: list | None = None  # road lines in metres, ``(k, 2)`` arrays, when the run measured travel on them

    @classmethod
    def build(cls, run) -> "MapData":
        region = run.region
        crs = region.metric_crs
        boundary = region.boundary.to_crs(crs).geometry.iloc[0]

        def xy(df: pd.DataFrame, lon: str = "lon", lat: str = "lat") -> pd.DataFrame:
            df = df.copy()
            ok = df[lon].notna() & df[lat].notna()
            df = df[ok]
            df["x"], df["y"] = project(df[lon].to_numpy(float), df[lat].to_numpy(float), crs)
            return df

        nodes = xy(region.nodes[["node_id", "name", "township_id", "lon", "lat"]])
        nodes["label"] = nodes["name"].map(short_village)
        sites = xy(site_lonlat(run))
        sites["name"] = sites["name"].map(short_school)
        optimised = set(run.actions["school_id"])
        others = sites[~sites["site_id"].isin(optimised) & sites["kind"].isin(["vocational", "special"])]
        seats = xy(region.townships[["township_id", "name", "tier", "lon", "lat"]])  # lon/lat: the seat, WGS-84
        roads = None
        if uses_roads(region, run.policy):
            import shapely

            coords, idx = shapely.get_coordinates(region.roads.geometry.to_numpy(), return_index=True)
            x, y = project(coords[:, 0], coords[:, 1], crs)
            roads = np.split(np.column_stack([x, y]), np.flatnonzero(np.diff(idx)) + 1)
        return cls(boundary=boundary, nodes=nodes.reset_index(drop=True), sites=sites.reset_index(drop=True),
                   seats=seats.reset_index(drop=True), others=others.reset_index(drop=True), run=run, roads=roads)

    # ---- per period -------------------------------------------------------------------------
    def schools(self, period: int) -> pd.DataFrame:
        """Schools present in ``period`` (open after it, or closing in it) with action and drawing kind."""
        a = self.run.actions[self.run.actions["period"] == period]
        cols = ["school_id", "action", "action_zh", "classes_before", "classes_after", "places_before",
                "places_after", "merged_into", "boarding_beds_after", "stages_before", "stages_after"]
        out = a[cols].merge(self.sites.rename(columns={"site_id": "school_id"}), on="school_id", how="inner")
        stages = np.where(out["stages_after"] != "", out["stages_after"], out["stages_before"])
        out["draw_kind"] = [display_kind(k, s) for k, s in zip(out["kind"], stages)]
        out["boarding"] = out["boarding_beds_after"].fillna(0) > 0
        sch = self.run.schools
        pupils = sch[sch["period"] == period].groupby("school_id")["pupils"].sum()
        out["pupils"] = out["school_id"].map(pupils).fillna(0.0)
        return out.reset_index(drop=True)

    def children(self, period: int) -> pd.DataFrame:
        """Villages with their school-age children in ``period`` (design variant, all optimised stages)."""
        d = self.run.demand
        variant = getattr(self.run.policy, "design_variant", "mid")
        sel = d[(d["year"] == period) & (d["variant"] == variant) & d["stage"].isin(STAGES)]
        kids = sel.groupby("node_id")["pupils"].sum()
        out = self.nodes.copy()
        out["children"] = out["node_id"].map(kids).fillna(0.0)
        un = self.run.unserved
        bad = set(un.loc[un["period"] == period, "node_id"]) if len(un) else set()
        out["unserved"] = out["node_id"].isin(bad)
        return out

    def catchments(self, period: int) -> pd.DataFrame:
        """Assignment lines village → school in ``period``: x0, y0, x1, y1, stage, boarding, township_id."""
        a = self.run.assignments
        a = a[a["period"] == period][["node_id", "stage", "school_id", "pupils", "boarding"]]
        n = self.nodes[["node_id", "township_id", "x", "y"]].rename(columns={"x": "x0", "y": "y0"})
        s = self.sites[["site_id", "x", "y"]].rename(columns={"site_id": "school_id", "x": "x1", "y": "y1"})
        return a.merge(n, on="node_id").merge(s, on="school_id")
