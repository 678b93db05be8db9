"""Turn a region, a demand forecast and a policy into the per-stage arrays of the layout model.

Which schools may host which stage, at what size, with which beds, and which village–school pairs
the model may use, are all decided here from the 一就近四集中 rules of the policy, so the model
itself stays a plain integer program.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.data.crs import project
from xuewei.errors import InputError, Problem
from xuewei.optimizer.catchments import Units, base_village_pupils, calibrate_flows, catchment_units
from xuewei.optimizer.layout import StageData
from xuewei.optimizer.oversize import with_limits
from xuewei.optimizer.policy import STAGES, PolicyConfig
from xuewei.optimizer.travel import travel_matrix, within_day_limit

# Existing schools of these kinds may open a stage they do not yet host (转变办学类型):
# a primary school or 教学点 may take a kindergarten (小学→幼儿园 / 附设园), a junior school may take
# primary classes (初中→九年一贯制), a junior school may take senior classes (→完全中学).
CONVERSIONS = {
    "kindergarten": ("primary", "teaching_point", "nine_year"),
    "primary": ("junior",),
    "senior": ("junior", "complete_secondary"),
}


def site_tiers(region, lon, lat, township_ids, seat_radius_km: float) -> np.ndarray:
    """Tier of each point: its township's tier if within ``seat_radius_km`` of the seat, else ``village``."""
    tw = region.townships.set_index("township_id")
    tier = tw["tier"].reindex(township_ids).to_numpy()
    seat_lon = tw["lon"].reindex(township_ids).to_numpy(float)
    seat_lat = tw["lat"].reindex(township_ids).to_numpy(float)
    x, y = project(lon, lat, region.metric_crs)
    has_seat = ~np.isnan(seat_lon)
    sx = np.full(len(x), np.nan)
    sy = np.full(len(x), np.nan)
    if has_seat.any():
        sx[has_seat], sy[has_seat] = project(seat_lon[has_seat], seat_lat[has_seat], region.metric_crs)
    dist_km = np.hypot(x - sx, y - sy) / 1000.0
    at_seat = has_seat & (dist_km <= seat_radius_km)
    return np.where(at_seat, tier, "village").astype(object)


def period_demand(demand: pd.DataFrame, stage: str, node_ids: np.ndarray, periods: list[int], base_year: int,
                  variant: str) -> np.ndarray:
    """Peak pupils of each village within each period window ``(previous period, period]`` [pupils]."""
    d = demand[(demand["stage"] == stage) & (demand["variant"] == variant)]
    if d.empty:
        raise InputError(Problem(file="需求预测", field="variant", expected=f"含方案 {variant} 的{stage}需求", found="无"))
    wide = d.pivot_table(index="node_id", columns="year", values="pupils", aggfunc="sum").reindex(node_ids).fillna(0.0)
    out = np.zeros((len(node_ids), len(periods)))
    start = base_year
    for t, end in enumerate(periods):
        cols = [y for y in wide.columns if start < y <= end]
        if not cols:
            raise InputError(Problem(file="需求预测", field="year", expected=f"{start + 1}–{end} 年的预测",
                                     found="缺失", hint="预测年份须覆盖全部规划期。"))
        out[:, t] = wide[cols].max(axis=1).to_numpy()
        start = end
    return out


def _sites_for_stage(region, g: str, policy: PolicyConfig, base_year: int) -> pd.DataFrame:
    # The county plans public places; private schools are outside its decisions (the forecast is of
    # public pupils too, calibrated on public schools).
    schools = region.schools[region.schools["ownership"] != "private"]
    ss = region.school_stages
    ss = ss[ss["year"] == base_year]
    hosts = ss[ss["stage"] == g].groupby("school_id", as_index=False).agg(c0=("classes", "sum"),
                                                                           pupils0=("pupils", "sum"))
    existing = schools.merge(hosts, on="school_id", how="inner")
    existing["origin"] = "existing"
    conv_kinds = CONVERSIONS.get(g, ())
    conv = schools[schools["kind"].isin(conv_kinds) & ~schools["school_id"].isin(hosts["school_id"])].copy()
    conv["c0"], conv["pupils0"], conv["origin"] = 0, 0, "convert"
    cand = region.candidate_sites
    parts = [existing, conv]
    if cand is not None and len(cand):
        c = cand[cand["stages"].map(lambda st: g in st)].rename(columns={"site_id": "school_id"}).copy()
        c["kind"], c["c0"], c["pupils0"], c["origin"], c["boarding_beds"] = "candidate", 0, 0, "candidate", 0
        parts.append(c)
    if g == "kindergarten" and policy.village_kindergarten:
        v = region.nodes[region.nodes["kind"] == "village"]
        parts.append(pd.DataFrame({
            "school_id": "V" + v["node_id"].astype(str), "name": v["name"].astype(str) + "村级幼儿园（一村一幼）",
            "kind": "village_kindergarten", "township_id": v["township_id"], "lon": v["lon"], "lat": v["lat"],
            "c0": 0, "pupils0": 0, "origin": "candidate", "boarding_beds": 0,
            "max_classes": policy.village_kindergarten_max_classes}))
    sites = pd.concat([p[[col for col in ("school_id", "name", "kind", "township_id", "lon", "lat", "c0", "pupils0",
                                          "origin", "boarding_beds", "max_classes") if col in p]] for p in parts],
                      ignore_index=True)
    sites = sites.rename(columns={"school_id": "site_id"})
    village_kg = sites["kind"].to_numpy() == "village_kindergarten"
    sites["build_fixed"] = np.where(village_kg, policy.village_kindergarten_fixed_wan_yuan,
                                    np.where(sites["origin"] == "candidate", policy.build_fixed_wan_yuan, 0.0))
    sites["tier"] = site_tiers(region, sites["lon"].to_numpy(float), sites["lat"].to_numpy(float),
                               sites["township_id"].to_numpy(), policy.seat_radius_km)
    eligible = sites["tier"].isin(policy.eligible_tiers.get(g, [])).to_numpy() | village_kg
    c0 = sites["c0"].to_numpy(float)
    limit = float(policy.max_classes[g])
    if "max_classes" in sites:
        site_max = pd.to_numeric(sites["max_classes"], errors="coerce").fillna(limit).to_numpy(float)
    else:
        site_max = np.full(len(sites), limit)
    K = np.where(eligible, np.maximum(c0, np.minimum(limit, site_max)), c0)
    sites["K"] = K
    # Beds belong to a school; where it hosts several boarding stages they are shared by base pupils.
    beds = pd.to_numeric(sites["boarding_beds"], errors="coerce").fillna(0).to_numpy(float)
    if g in policy.boarding_stages:
        board_pupils = ss[ss["stage"].isin(policy.boarding_stages)].groupby("school_id")["pupils"].sum()
        share = (sites["pupils0"] / sites["site_id"].map(board_pupils).replace(0, np.nan)).fillna(1.0).to_numpy(float)
        sites["beds0"] = np.floor(beds * np.clip(share, 0, 1))
        sites["can_add_beds"] = sites["tier"].isin(policy.boarding_tiers).to_numpy()
    else:
        sites["beds0"] = 0.0
        sites["can_add_beds"] = False
    kinds_closed = {k: v for k, v in policy.close_below_pupils.items()}
    forced_close = np.array([
        o == "existing" and kind in kinds_closed and p0 < kinds_closed[kind]
        for o, kind, p0 in zip(sites["origin"], sites["kind"], sites["pupils0"])], dtype=bool)
    sites.loc[forced_close, "K"] = 0
    sites["forced_close"] = forced_close
    big = sites["pupils0"].to_numpy(float) >= policy.closable_below_pupils.get(g, 0)
    sites["force_open"] = ((sites["origin"] == "existing").to_numpy() & (policy.keep_existing | big)
                           & ~forced_close & (sites["c0"].to_numpy() > 0))
    sites = sites[(sites["K"] > 0) | (sites["origin"] == "existing")].reset_index(drop=True)
    return sites


def build_stage_data(region, demand: pd.DataFrame, policy: PolicyConfig, periods: list[int], base_year: int,
                     stages: tuple[str, ...] = STAGES) -> tuple[list[StageData], pd.DataFrame]:
    """Per-stage model inputs, and a table of villages no school can reach (stage, node, reason)."""
    nodes = region.nodes
    node_ids = nodes["node_id"].to_numpy()
    years = np.diff(np.array([base_year] + list(periods), dtype=float))
    out, unreachable = [], []
    for g in stages:
        sites = with_limits(_sites_for_stage(region, g, policy, base_year), g, policy, list(periods), base_year)
        d = period_demand(demand, g, node_ids, periods, base_year, policy.design_variant)
        if sites.empty:
            if d.sum() > 0:
                unreachable.append(pd.DataFrame({"stage": g, "node_id": node_ids[d.max(axis=1) > 0],
                                                 "reason": "no_school"}))
            continue
        travel = travel_matrix(region, policy, (nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float)),
                               (sites["lon"].to_numpy(float), sites["lat"].to_numpy(float)))
        km = travel.km
        board_limit = policy.boarding_limit_km.get(g, 0.0) if g in policy.boarding_stages else 0.0
        can_board = (sites["beds0"].to_numpy() > 0) | sites["can_add_beds"].to_numpy(bool)
        usable = (sites["K"].to_numpy() > 0)[None, :]
        # Where pupils may travel (for today's catchments, also to schools a policy closes) and where
        # the model may send them (schools that may host the stage).
        day_reach = within_day_limit(travel, policy, g)
        board_reach = ~day_reach & (km <= board_limit) & can_board[None, :]
        # Beyond both limits but within the reach today's pupils travel: only a unit's own base-year
        # school may be such a pair (现状远距离就读), never a new assignment.
        far_reach = ~day_reach & ~board_reach & (km <= policy.base_reach_km.get(g, 0.0))
        if g in policy.county_bound_stages:
            same = same_county(region, nodes["township_id"].to_numpy(), sites["township_id"].to_numpy())
            if same is not None:
                day_reach &= same
                board_reach &= same
                far_reach &= same
        day_ok = day_reach & usable
        board_ok = board_reach & usable
        village_kg = (sites["kind"] == "village_kindergarten").to_numpy()
        if village_kg.any():
            # A village kindergarten is offered only to its own village, and only where no other
            # kindergarten site is within the day limit ("一村一幼" fills gaps, it does not compete).
            own = sites["site_id"].to_numpy()[None, :] == ("V" + pd.Series(node_ids).astype(str)).to_numpy()[:, None]
            covered = (day_ok & ~village_kg[None, :]).any(axis=1)
            day_ok &= ~village_kg[None, :] | (own & ~covered[:, None])
        keep = _k_nearest(km, day_ok, policy.k_nearest) | _k_nearest(km, board_ok, policy.k_boarding)
        # Every village also keeps its nearest site that can grow (expand, convert or build), day or
        # boarding: the pruned pairs then never make a village unservable just because its k nearest
        # schools are full and may not grow.
        can_grow = ((sites["K"].to_numpy() > sites["c0"].to_numpy()) | (sites["origin"] != "existing").to_numpy())
        keep |= _k_nearest(km, (day_ok | board_ok) & can_grow[None, :], 1)
        first = first_year_demand(demand, g, node_ids, base_year, policy.design_variant)
        units, calibration = stage_units(sites, km, day_reach, board_reach, d, first, policy, g, far_reach)
        pn, ps = unit_pairs(keep, units, km)
        none = ~keep.any(axis=1) & (d.max(axis=1) > 0)
        if none.any():
            unreachable.append(pd.DataFrame({"stage": g, "node_id": node_ids[none], "reason": "travel_limit"}))
        used = np.zeros(len(sites), dtype=bool)
        used[ps] = True
        drop = village_kg & ~used  # village kindergartens nobody can use are not offered at all
        if drop.any():
            remap = np.cumsum(~drop) - 1
            sites = sites[~drop].reset_index(drop=True)
            km = km[:, ~drop]
            day_ok = day_ok[:, ~drop]
            day_reach = day_reach[:, ~drop]
            far_reach = far_reach[:, ~drop]
            ps = remap[ps]
            units.base_site = np.where(units.base_site >= 0, remap[units.base_site], -1)
        groups = _seat_groups(sites, nodes, d, g, policy) if g in policy.seat_school_stages else []
        un_node = units.node[pn]
        pair_far = far_reach[un_node, ps] & (units.base_site[pn] == ps)
        whole = StageData(stage=g, sites=sites, node_ids=node_ids[units.node], demand=units.share[:, None] * d[units.node],
                          pair_node=pn, pair_site=ps, pair_km=km[un_node, ps],
                          pair_boarding=~day_reach[un_node, ps] & ~pair_far, pair_far=pair_far,
                          years=years, periods=list(periods), seat_groups=groups, base_site=units.base_site,
                          base_pupils=units.base_pupils, calibration=calibration)
        out += split_parts(whole)
    un = pd.concat(unreachable, ignore_index=True) if unreachable else pd.DataFrame(columns=["stage", "node_id", "reason"])
    return out, un


def first_year_demand(demand: pd.DataFrame, stage: str, node_ids: np.ndarray, base_year: int,
                      variant: str) -> np.ndarray:
    """Each village's pupils in the first forecast year after the base year [pupils] (zeros if none)."""
    d = demand[(demand["stage"] == stage) & (demand["variant"] == variant) & (demand["year"] > base_year)]
    if d.empty:
        return np.zeros(len(node_ids))
    d = d[d["year"] == d["year"].min()]
    return d.groupby("node_id")["pupils"].sum().reindex(node_ids).fillna(0.0).to_numpy(float)


def stage_units(sites: pd.DataFrame, km: np.ndarray, day_ok: np.ndarray, board_ok: np.ndarray, d: np.ndarray,
                first: np.ndarray, policy: PolicyConfig, g: str,
                far_ok: np.ndarray | None = None) -> tuple[Units, pd.DataFrame]:
    """Calibrated base-year flows of one stage cut into catchment units (`xuewei.optimizer.catchments`),
    and per existing school its base-year pupils and how many of them the flows place on villages
    (``far_ok``: pairs beyond the limits today's pupils may travel, see `calibrate_flows`)."""
    existing = (sites["origin"].to_numpy() == "existing")
    school = np.where(existing, pd.to_numeric(sites["pupils0"], errors="coerce").fillna(0.0).to_numpy(float), 0.0)
    village = base_village_pupils(first, school.sum())
    flows = calibrate_flows(km, day_ok, board_ok, village, school, sites["beds0"].to_numpy(float), far_ok=far_ok)
    one_school = float(policy.class_cap[g]) * float(policy.max_classes[g])
    if g in policy.school_size_cap:
        one_school = min(one_school, float(policy.school_size_cap[g]))
    units = catchment_units(flows, d.max(axis=1), policy.catchment_unit_share * one_school)
    calibration = pd.DataFrame({"site_id": sites["site_id"].to_numpy()[existing], "stage": g,
                                "pupils_base": school[existing], "pupils_placed": flows.placed[existing]})
    return units, calibration


def unit_pairs(keep: np.ndarray, units: Units, km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (unit, site) of the model, sorted by unit then distance: each unit gets its village's
    kept pairs (``keep``, ``(N, S)``) and the pair to its base-year school."""
    keep_u = keep[units.node]
    has = np.flatnonzero(units.base_site >= 0)
    keep_u[has, units.base_site[has]] = True
    pn, ps = np.nonzero(keep_u)
    order = np.lexsort((km[units.node[pn], ps], pn))
    return pn[order], ps[order]


def same_county(region, node_townships: np.ndarray, site_townships: np.ndarray) -> np.ndarray | None:
    """``(n_nodes, n_sites)`` mask: village and site lie in the same county (``county_id`` of their
    townships), or None when the region gives no county (one county: nothing to separate).

    Townships with an empty ``county_id`` count as one county of their own.
    """
    towns = region.townships
    if "county_id" not in towns or not (towns["county_id"].astype(str).str.strip() != "").any():
        return None
    county = dict(zip(towns["township_id"].astype(str), towns["county_id"].astype(str).str.strip()))
    labels = sorted(set(county.values()))
    code = {c: i for i, c in enumerate(labels)}
    node_c = np.array([code[county[str(t)]] for t in node_townships])
    site_c = np.array([code[county[str(t)]] for t in site_townships])
    return node_c[:, None] == site_c[None, :]


def _k_nearest(km: np.ndarray, ok: np.ndarray, k: int) -> np.ndarray:
    """Mask of each row's ``k`` nearest allowed columns."""
    if k <= 0 or not ok.any():
        return np.zeros_like(ok)
    masked = np.where(ok, km, np.inf)
    kk = min(k, masked.shape[1])
    idx = np.argpartition(masked, kk - 1, axis=1)[:, :kk]
    keep = np.zeros_like(ok)
    np.put_along_axis(keep, idx, True, axis=1)
    return keep & ok


def _seat_groups(sites: pd.DataFrame, nodes: pd.DataFrame, demand: np.ndarray, g: str,
                 policy: PolicyConfig) -> list[np.ndarray]:
    """Per township whose seat is an allowed tier for the stage and whose villages have pupils: the
    usable sites at that seat (at least one must stay open)."""
    town_demand = pd.Series(demand.max(axis=1), index=nodes["township_id"].to_numpy()).groupby(level=0).sum()
    at_seat = sites["tier"].isin([t for t in policy.eligible_tiers.get(g, []) if t != "village"]).to_numpy() & (
        sites["K"].to_numpy() > 0)
    groups = []
    for town, idx in sites[at_seat].groupby("township_id").groups.items():
        if town_demand.get(town, 0.0) > 0:
            groups.append(np.asarray(sites.index.get_indexer(idx), dtype=np.int64))
    return groups


def split_parts(sd: StageData) -> list[StageData]:
    """Split a stage into independent parts: sets of villages and schools that no kept pair links.

    Where catchments cannot cross (e.g. two counties of a city, or mountain valleys beyond every
    travel limit) the parts are separate models, each much easier than the whole. Villages and
    schools with no pair at all go with the largest part (they cannot interact with anything).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    N, S = len(sd.node_ids), len(sd.sites)
    if len(sd.pair_node) == 0:
        return [sd]
    graph = coo_matrix((np.ones(len(sd.pair_node)), (sd.pair_node, N + sd.pair_site)), shape=(N + S, N + S))
    _, label = connected_components(graph, directed=False)
    node_label, site_label = label[:N], label[N:]
    linked = np.unique(node_label[sd.pair_node])
    if len(linked) <= 1:
        return [sd]
    sizes = np.bincount(node_label[sd.pair_node], minlength=label.max() + 1)
    largest = int(np.argmax(sizes))
    node_label = np.where(np.isin(node_label, linked), node_label, largest)
    site_label = np.where(np.isin(site_label, linked), site_label, largest)
    parts = []
    for k, comp in enumerate(sorted(linked, key=lambda c: -sizes[c]), start=1):
        nodes = np.flatnonzero(node_label == comp)
        sites = np.flatnonzero(site_label == comp)
        node_pos = np.full(N, -1)
        node_pos[nodes] = np.arange(len(nodes))
        site_pos = np.full(S, -1)
        site_pos[sites] = np.arange(len(sites))
        keep = node_label[sd.pair_node] == comp
        groups = [site_pos[g_][site_pos[g_] >= 0] for g_ in sd.seat_groups]
        groups = [g_ for g_, orig in zip(groups, sd.seat_groups) if len(g_) == len(orig)]
        parts.append(StageData(
            stage=sd.stage, sites=sd.sites.iloc[sites].reset_index(drop=True), node_ids=sd.node_ids[nodes],
            demand=sd.demand[nodes], pair_node=node_pos[sd.pair_node[keep]], pair_site=site_pos[sd.pair_site[keep]],
            pair_km=sd.pair_km[keep], pair_boarding=sd.pair_boarding[keep],
            pair_far=None if sd.pair_far is None else sd.pair_far[keep], years=sd.years, periods=sd.periods,
            seat_groups=groups, part=k, **_part_catchments(sd, nodes, sites, site_pos)))
    return parts


def _part_catchments(sd: StageData, nodes: np.ndarray, sites: np.ndarray, site_pos: np.ndarray) -> dict:
    """The catchment fields of one independent part (base schools renumbered to the part's sites)."""
    if sd.base_site is None:
        return {}
    base = sd.base_site[nodes]
    base = np.where(base >= 0, site_pos[np.maximum(base, 0)], -1)
    cal = sd.calibration
    if cal is not None:
        cal = cal[cal["site_id"].isin(sd.sites["site_id"].to_numpy()[sites])].reset_index(drop=True)
    return {"base_site": base, "base_pupils": sd.base_pupils[nodes], "calibration": cal}
