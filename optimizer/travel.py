"""Village–school travel for the layout and its checks: one call gives the distance [km] and, with a
road layer, the travel time [min] of every pair, and says which basis was used.

Two bases, never mixed silently:

- **路网距离（道路图层）**: the region pack has a road layer (`xuewei.data.roads`) and the policy's
  ``use_roads`` is true (the default). Distances and times are shortest paths on the roads
  (`xuewei.optimizer.network`), each line at its speed column or its class's ``road_speed_kmh``,
  the leg from a village or school to the nearest road walked at ``walk_speed_kmh``.
- **直线距离 × 绕行系数**: otherwise, the straight line in the region's UTM zone × ``detour_factor``,
  exactly as before roads existed (same arithmetic, so runs without roads are byte-identical).
  There is no time then, and a policy that sets ``max_travel_min`` is refused.

Pairs the road layer cannot join (its pieces do not meet, e.g. an extract that misses the bridge
between two valleys) are not made unreachable — the planner's data is incomplete far more often than
a village is really cut off — but fall back to straight line × ``detour_factor``, at the speed of an
unclassified road, with a warning naming how many pairs and villages; ``Travel.fallback`` marks them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from xuewei.data.crs import project
from xuewei.errors import InputError, Problem
from xuewei.optimizer.network import network_travel

log = logging.getLogger("xuewei")

LONG_WALK_M = 2000.0  # a village or school this far from every road is named in a warning [m]
_CACHE: dict = {}


@dataclass(frozen=True)
class Travel:
    """Travel between origins (rows) and destinations (columns).

    Attributes
    ----------
    km : numpy.ndarray
        ``(n, m)`` distance [km].
    minutes : numpy.ndarray or None
        ``(n, m)`` travel time [min]; None on the straight-line basis (no speeds are known then).
    basis : str
        ``"network"`` or ``"straight"``.
    fallback : numpy.ndarray or None
        ``(n, m)`` bool, network basis only: pairs the roads do not join, given straight line ×
        detour factor instead.
    """

    km: np.ndarray
    minutes: np.ndarray | None
    basis: str
    fallback: np.ndarray | None = None


def uses_roads(region, policy) -> bool:
    """True when travel is measured on the region's road layer."""
    return getattr(region, "roads", None) is not None and bool(getattr(policy, "use_roads", True))


def basis_zh(region, policy) -> str:
    """How distances were measured, as reports and maps state it."""
    if uses_roads(region, policy):
        return "路网距离（道路图层）"
    return f"直线距离 × 绕行系数 {policy.detour_factor:g}"


def _lines(region, policy):
    """The road lines in the region's metric CRS [m], with each line's speed [km/h] and whether
    points may enter it; cached per road layer, CRS and speed table."""
    import shapely

    roads = region.roads
    speeds = tuple(sorted(policy.road_speed_kmh.items()))
    key = (id(roads), region.metric_crs.to_epsg(), speeds)
    hit = _CACHE.get("lines")
    if hit is not None and hit[0] == key and hit[1] is roads:
        return hit[2]
    geoms = roads.geometry.to_numpy()
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    x, y = project(coords[:, 0], coords[:, 1], region.metric_crs)
    xy = np.column_stack([x, y])
    cuts = np.flatnonzero(np.diff(idx)) + 1
    lines = np.split(xy, cuts)
    cls = roads["road_class"].replace("", "unknown").to_numpy()
    by_class = np.array([policy.road_speed_kmh.get(c, policy.road_speed_kmh["unknown"]) for c in cls], dtype=float)
    speed = np.where(np.isnan(roads["speed_kmh"].to_numpy(float)), by_class, roads["speed_kmh"].to_numpy(float))
    enterable = cls != "expressway"
    value = (lines, speed, enterable)
    _CACHE["lines"] = (key, roads, value)
    return value


def _warn_once(region, kind: str, text: str, *args) -> None:
    """One warning of each kind per road layer (the layout asks once per stage, the audit once per year)."""
    done = region.roads.attrs.setdefault("xuewei_warned", set())
    if kind not in done:
        done.add(kind)
        log.warning(text, *args)


def travel_matrix(region, policy, origins_lonlat: tuple[np.ndarray, np.ndarray],
                  destinations_lonlat: tuple[np.ndarray, np.ndarray]) -> Travel:
    """Distance [km] (and, on roads, time [min]) from every origin to every destination.

    Parameters
    ----------
    region : xuewei.data.region.Region
        Gives the metric CRS and the optional road layer.
    policy : xuewei.optimizer.policy.PolicyConfig
        ``detour_factor``, ``use_roads``, ``road_speed_kmh``, ``walk_speed_kmh``.
    origins_lonlat, destinations_lonlat : tuple of numpy.ndarray
        WGS-84 longitudes and latitudes [degrees].
    """
    ox, oy = project(np.asarray(origins_lonlat[0], float), np.asarray(origins_lonlat[1], float), region.metric_crs)
    dx, dy = project(np.asarray(destinations_lonlat[0], float), np.asarray(destinations_lonlat[1], float),
                     region.metric_crs)
    straight_km = cdist(np.column_stack([ox, oy]), np.column_stack([dx, dy])) / 1000.0 * policy.detour_factor
    if not uses_roads(region, policy):
        return Travel(km=straight_km, minutes=None, basis="straight")
    lines, speed, enterable = _lines(region, policy)
    net = network_travel(lines, speed, enterable, np.column_stack([ox, oy]), np.column_stack([dx, dy]),
                         walk_kmh=policy.walk_speed_kmh)
    fallback = ~net.reachable
    km = np.where(fallback, straight_km, net.km)
    minutes = np.where(fallback, straight_km / policy.road_speed_kmh["unknown"] * 60.0, net.minutes)
    if fallback.any():
        _warn_once(region, "disconnected",
                   "道路图层不连通：有村与学校之间沿道路无法到达（首次遇到时 %d 对，涉及 %d 个村），这些对按直线距离 × 绕行系数 %g "
                   "计路程、按 %g km/h 计用时。请检查道路图层是否缺了连接的路段（桥、隧道、县界外的路）。",
                   int(fallback.sum()), int(fallback.any(axis=1).sum()), policy.detour_factor,
                   policy.road_speed_kmh["unknown"])
    far = np.concatenate([net.origin_snap_m, net.destination_snap_m]) > LONG_WALK_M
    if far.any():
        _warn_once(region, "far", "道路图层：%d 个村或学校离最近的道路超过 %g km（最远 %.1f km），这一段按步行 %g km/h 计。",
                   int(far.sum()), LONG_WALK_M / 1000, float(np.concatenate([net.origin_snap_m,
                                                                             net.destination_snap_m]).max() / 1000),
                   policy.walk_speed_kmh)
    return Travel(km=km, minutes=minutes, basis="network", fallback=fallback)


def within_day_limit(travel: Travel, policy, stage: str, label: str = "情景文件 [policy]") -> np.ndarray:
    """``(n, m)`` bool: the pair is within the stage's daily travel limits — ``travel_limit_km`` and,
    where the policy sets it, ``max_travel_min`` (which needs the road basis)."""
    ok = travel.km <= policy.travel_limit_km[stage]
    limit_min = policy.max_travel_min.get(stage)
    if limit_min is None:
        return ok
    if travel.minutes is None:
        raise InputError(Problem(file=label, field=f"max_travel_min.{stage}", expected="按路网计算用时（区域包有道路图层）",
                                 found=f"{limit_min:g} 分钟，但路程按直线距离 × 绕行系数计算，没有用时",
                                 hint="请在区域包中加入道路图层 roads.geojson（见 docs/data-format.md），"
                                      "或删去 max_travel_min 只用 travel_limit_km；use_roads = false 时也不能用分钟限值。"))
    return ok & (travel.minutes <= limit_min)


def pair_minutes(region, policy, node_ids, site_ids) -> np.ndarray:
    """Travel time [min] of each listed village–site pair (the rows of a layout's assignments), on
    the roads; NaN for a site the region does not place (e.g. an empty id).

    Sites are schools, candidate sites and village kindergartens (``V`` + village id, at the village).
    """
    nodes = region.nodes.set_index("node_id")[["lon", "lat"]]
    parts = [region.schools.set_index("school_id")[["lon", "lat"]]]
    if region.candidate_sites is not None and len(region.candidate_sites):
        parts.append(region.candidate_sites.set_index("site_id")[["lon", "lat"]])
    parts.append(nodes.set_axis("V" + nodes.index.astype(str)))
    sites = pd.concat(parts)
    sites = sites[~sites.index.duplicated()]
    node_ids, site_ids = np.asarray(node_ids), np.asarray(site_ids)
    known = pd.Index(site_ids).isin(sites.index) & pd.Index(node_ids).isin(nodes.index)
    out = np.full(len(node_ids), np.nan)
    if not known.any():
        return out
    un, ni = np.unique(node_ids[known], return_inverse=True)
    us, si = np.unique(site_ids[known], return_inverse=True)
    t = travel_matrix(region, policy, (nodes.loc[un, "lon"].to_numpy(float), nodes.loc[un, "lat"].to_numpy(float)),
                      (sites.loc[us, "lon"].to_numpy(float), sites.loc[us, "lat"].to_numpy(float)))
    out[known] = t.minutes[ni.ravel(), si.ravel()]
    return out
