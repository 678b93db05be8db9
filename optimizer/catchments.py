r"""Catchments as they are today, and the units the layout model assigns.

Where pupils go in the base year is not where the nearest school is: town schools take rural children,
and a large community fills several schools. This module

1. **calibrates base-year flows** village → school so that every public school's base-year pupils
   (``school_stages.csv``) are reproduced: a transportation problem solved as a linear programme
   (`scipy.optimize.linprog`, HiGHS) on distance, over the pairs a pupil may use (within the day
   limit, or the boarding limit to a school with beds, inside the county; and, at ``FAR_COST`` × the
   distance, pairs beyond both limits up to ``base_reach_km``, the reach today's pupils are known to
   travel — a town school full of rural children must get them from somewhere):

   .. math::

      \min \sum_{(n,s)} c_{ns} f_{ns} + M \big(\sum_n e_n + \sum_s h_s\big)
      \quad\text{s.t.}\quad \sum_s f_{ns} + e_n = D_n,\quad \sum_n f_{ns} + h_s = P_s,\quad
      \sum_{n:(n,s)\text{ boarding}} f_{ns} \le \beta_s,\quad f, e, h \ge 0

   with :math:`D_n` the village's base-year pupils (the first forecast year's spread, scaled to the
   county's base-year public pupils), :math:`P_s` the school's base-year pupils, :math:`\beta_s` its
   beds, :math:`c_{ns}` the distance [km] (× ``FAR_COST`` beyond the limits); :math:`h_s > 0` is a school whose pupils no village in reach
   can supply (reported as a warning; priced in steps so that schools short of pupils in reach share
   the shortfall), :math:`e_n` village pupils no school in reach takes. Schools a policy closes
   (``close_below_pupils``) take part: their pupils are somewhere today;

2. **cuts every village into catchment units**: one per school it sends pupils to today (its share
   of the village's demand in every period) and one for pupils with no school today; a unit whose
   peak demand exceeds ``catchment_unit_share`` × what one school may take (size cap, class limit)
   is split into equal parts, so a large community is served by several schools while each unit
   stays single-source (划片).

A unit whose base school lies beyond the travel limits (a calibrated flow within ``base_reach_km``)
may stay there as a day pupil, as today (现状远距离就读, ``pair_far``; not a rule violation), and
may be moved to a school in reach. The layout model keeps each unit with its base school unless moving it pays more than the
reassignment cost (`PolicyConfig.reassign_per_pupil_wan_yuan` per pupil and
`PolicyConfig.reassign_per_village_wan_yuan` per unit, charged only when the school left stays
open); `change_report` says, per village × stage × period, which pupils changed school and why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

SLACK_KM = 1.0e4  #: cost of a pupil left unplaced by the calibration [km-equivalent]: above any real trip
SLACK_STEPS = 4  #: a school's unplaced pupils cost more with each quarter of its pupils left unplaced
MIN_FLOW_PUPILS = 0.5  #: calibrated flows below this many pupils join the village's largest flow
MIN_FLOW_SHARE = 0.1  #: ... and so do flows (and pupils with no school) below this share of the village
KEEP_NEAREST = 8  #: schools kept per village in the calibration
COVER = 3.0  #: per school, villages kept (nearest first) until they hold this multiple of its pupils
FAR_COST = 4.0  #: a base-year flow beyond the travel limits costs this many times its distance


@dataclass
class BaseFlows:
    """Calibrated base-year flows village → school (positions), with what could not be placed.

    Attributes
    ----------
    node, site : numpy.ndarray of int
        Village and school position of each flow.
    pupils : numpy.ndarray
        Base-year pupils of each flow [pupils].
    school_pupils, placed : numpy.ndarray
        ``(n_sites,)`` base-year pupils of each school, and how many of them the flows place on
        villages in reach [pupils]; the difference cannot be reached.
    village_pupils, unplaced : numpy.ndarray
        ``(n_nodes,)`` base-year pupils of each village, and how many of them go to no school [pupils].
    """

    node: np.ndarray
    site: np.ndarray
    pupils: np.ndarray
    school_pupils: np.ndarray
    placed: np.ndarray
    village_pupils: np.ndarray
    unplaced: np.ndarray


def base_village_pupils(first_year: np.ndarray, school_pupils: float) -> np.ndarray:
    """Base-year pupils per village [pupils]: the first forecast year's spread over the villages,
    scaled to the base-year pupils of the schools (the forecast is calibrated on them too)."""
    first_year = np.clip(np.asarray(first_year, dtype=float), 0.0, None)
    total = first_year.sum()
    return first_year * (school_pupils / total) if total > 0 else first_year


def _calibration_pairs(km: np.ndarray, allowed: np.ndarray, village: np.ndarray, school: np.ndarray,
                       keep_nearest: int, cover: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs for the calibration: each village's nearest allowed schools, and each school's nearest
    villages until they hold ``cover`` × its pupils (vectorised over the ``(N, S)`` matrices)."""
    masked = np.where(allowed, km, np.inf)
    keep = np.zeros_like(allowed)
    if keep_nearest > 0 and masked.shape[1]:
        k = min(keep_nearest, masked.shape[1])
        idx = np.argpartition(masked, k - 1, axis=1)[:, :k]
        np.put_along_axis(keep, idx, True, axis=1)
    order = np.argsort(masked, axis=0, kind="stable")
    d_sorted = village[order]
    before = np.cumsum(d_sorted, axis=0) - d_sorted
    take = before < cover * school[None, :]
    np.put_along_axis(keep, order, take | np.take_along_axis(keep, order, axis=0), axis=0)
    keep &= allowed
    return np.nonzero(keep)


def calibrate_flows(km: np.ndarray, day_ok: np.ndarray, board_ok: np.ndarray, village_pupils: np.ndarray,
                    school_pupils: np.ndarray, beds: np.ndarray, keep_nearest: int = KEEP_NEAREST,
                    cover: float = COVER, far_ok: np.ndarray | None = None) -> BaseFlows:
    """Base-year flows village → school that reproduce each school's pupils at least total distance.

    Parameters
    ----------
    km : numpy.ndarray
        ``(N, S)`` travel distance village → school [km].
    day_ok, board_ok : numpy.ndarray of bool
        ``(N, S)``: the pair is within the day limit; beyond it but within the boarding limit.
        Boarding flows are allowed only to schools with beds and at most fill them.
    far_ok : numpy.ndarray of bool, optional
        ``(N, S)``: beyond both limits but within the reach today's pupils are known to travel
        (`PolicyConfig.base_reach_km`). Such a flow costs ``FAR_COST`` × its distance, so it only
        carries what the villages in reach cannot supply: a town school's pupils from far villages.
    village_pupils, school_pupils, beds : numpy.ndarray
        ``(N,)`` base-year pupils of each village, ``(S,)`` of each school [pupils], ``(S,)`` beds [beds].

    Returns
    -------
    BaseFlows
    """
    D = np.asarray(village_pupils, dtype=float)
    P = np.asarray(school_pupils, dtype=float)
    beds = np.asarray(beds, dtype=float)
    N, S = len(D), len(P)
    far = np.zeros_like(day_ok) if far_ok is None else (far_ok & ~day_ok & ~(board_ok & (beds > 0)[None, :]))
    allowed = (day_ok | (board_ok & (beds > 0)[None, :]) | far) & (D > 0)[:, None] & (P > 0)[None, :]
    pn, ps = _calibration_pairs(km, allowed, D, P, keep_nearest, cover) if allowed.any() else (
        np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    F = len(pn)
    if F == 0:
        return BaseFlows(pn, ps, np.zeros(0), P, np.zeros(S), D, D.copy())
    # Variables: flows (F), village slack e (N), school slack h in SLACK_STEPS steps of P_s / SLACK_STEPS
    # each (S × SLACK_STEPS), dearer step by step, so that schools competing for too few pupils in
    # reach share the shortfall in proportion instead of one of them losing all its pupils.
    K = SLACK_STEPS
    h_site = np.repeat(np.arange(S), K)
    h_cost = SLACK_KM * (1.0 + np.tile(np.arange(K), S))
    cost = np.concatenate([km[pn, ps] * np.where(far[pn, ps], FAR_COST, 1.0), np.full(N, SLACK_KM), h_cost])
    rows = np.concatenate([pn, N + ps, np.arange(N), N + h_site])
    cols = np.concatenate([np.arange(F), np.arange(F), F + np.arange(N), F + N + np.arange(S * K)])
    a_eq = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(N + S, F + N + S * K))
    upper = np.concatenate([np.full(F + N, np.inf), P[h_site] / K])
    b_eq = np.concatenate([D, P])
    board = ~day_ok[pn, ps] & ~far[pn, ps]
    bed_sites = np.unique(ps[board])
    a_ub = b_ub = None
    if len(bed_sites):
        row_of = np.full(S, -1)
        row_of[bed_sites] = np.arange(len(bed_sites))
        fb = np.flatnonzero(board)
        a_ub = sparse.csr_matrix((np.ones(len(fb)), (row_of[ps[fb]], fb)), shape=(len(bed_sites), a_eq.shape[1]))
        b_ub = beds[bed_sites]
    bounds = np.column_stack([np.zeros(len(cost)), upper])
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:  # cannot happen (the slacks make every instance feasible); say so if it does
        raise RuntimeError(f"基准年就学流向校准失败：{res.message}")
    f = np.where(res.x[:F] > 1e-9, res.x[:F], 0.0)
    used = f > 0
    placed = np.bincount(ps[used], weights=f[used], minlength=S)
    return BaseFlows(pn[used], ps[used], f[used], P, placed, D, np.maximum(res.x[F:F + N], 0.0))


@dataclass
class Units:
    """Catchment units of one stage: the model's demand points.

    Attributes
    ----------
    node : numpy.ndarray of int
        Village position of each unit (units of a village are contiguous, in site order).
    base_site : numpy.ndarray of int
        School position the unit's pupils attend in the base year, ``-1`` for none.
    share : numpy.ndarray
        The unit's share of its village's demand in every period [0–1]; a village's shares sum to 1.
    base_pupils : numpy.ndarray
        The unit's base-year pupils [pupils].
    """

    node: np.ndarray
    base_site: np.ndarray
    share: np.ndarray
    base_pupils: np.ndarray


def catchment_units(flows: BaseFlows, peak: np.ndarray, unit_limit: float) -> Units:
    """Cut villages into units by base school, and units larger than ``unit_limit`` into equal parts.

    Parameters
    ----------
    flows : BaseFlows
        Calibrated base-year flows (positions into the village and school lists).
    peak : numpy.ndarray
        ``(N,)`` each village's largest design demand over the periods [pupils].
    unit_limit : float
        Largest peak demand of one unit [pupils] (``inf``: no split).
    """
    D = flows.village_pupils
    N = len(D)
    f_node, f_site, f_pupils = flows.node, flows.site, flows.pupils.astype(float)
    # Small flows join the village's largest flow (the calibration's basic solution splits few villages):
    # a unit of a few pupils costs the model as much as a whole village.
    small = (f_pupils < MIN_FLOW_PUPILS) | (f_pupils < MIN_FLOW_SHARE * D[f_node])
    if small.any():
        order = np.lexsort((f_site, -f_pupils, f_node))
        first = order[np.unique(f_node[order], return_index=True)[1]]
        main = np.full(N, -1)
        main[f_node[first]] = first
        merge = small & (np.arange(len(f_pupils)) != main[f_node])
        f_pupils = f_pupils + np.bincount(main[f_node[merge]], weights=f_pupils[merge], minlength=len(f_pupils))
        f_node, f_site, f_pupils = f_node[~merge], f_site[~merge], f_pupils[~merge]
    rest = np.maximum(D - np.bincount(f_node, weights=f_pupils, minlength=N), 0.0)
    none = ((rest >= MIN_FLOW_PUPILS) & (rest >= MIN_FLOW_SHARE * D)) | (np.bincount(f_node, minlength=N) == 0)
    node = np.concatenate([f_node, np.flatnonzero(none)])
    site = np.concatenate([f_site, np.full(none.sum(), -1)])
    pupils = np.concatenate([f_pupils, rest[none]])
    total = np.bincount(node, weights=pupils, minlength=N)
    share = np.where(total[node] > 0, pupils / np.where(total[node] > 0, total[node], 1.0), 1.0)
    order = np.lexsort((site, node))
    node, site, share, pupils = node[order], site[order], share[order], pupils[order]
    parts = np.ones(len(node), dtype=np.int64)
    if np.isfinite(unit_limit) and unit_limit > 0:
        parts = np.maximum(1, np.ceil(share * np.asarray(peak, dtype=float)[node] / unit_limit - 1e-9)).astype(np.int64)
    rep = np.repeat(np.arange(len(node)), parts)
    return Units(node=node[rep], base_site=site[rep], share=(share / parts)[rep],
                 base_pupils=(pupils / parts)[rep])


REASON_ZH = {
    "closed": "原校撤并",
    "converted": "原校转变（不再办本学段）",
    "full": "原校学位不足",
    "new_nearer": "新校更近",
    "new_school": "新校",
    "nearer": "就近调整",
    "rebalance": "统筹调整（班额与办学成本）",
    "unserved": "未能安排",
}


def base_flows_table(stage_data, base_year: int) -> pd.DataFrame:
    """Calibrated base-year flows per village × stage × school: ``node_id, stage, year, school_id,
    pupils`` [pupils], ``distance_km``, ``boarding``. A row with an empty ``school_id`` holds the
    village's base-year pupils that no school in reach takes (its share of the village with no
    school today)."""
    rows = []
    for sd in stage_data:
        if sd.base_site is None:
            continue
        has = np.flatnonzero(sd.base_site >= 0)
        pair_of = np.full(len(sd.node_ids), -1)
        match = np.flatnonzero(sd.pair_site == sd.base_site[sd.pair_node])
        pair_of[sd.pair_node[match]] = match
        r = pair_of[has]
        rows.append(pd.DataFrame({"node_id": sd.node_ids[has], "stage": sd.stage, "year": base_year,
                                  "school_id": sd.sites["site_id"].to_numpy()[sd.base_site[has]],
                                  "pupils": sd.base_pupils[has], "distance_km": sd.pair_km[r],
                                  "boarding": sd.pair_boarding[r]}))
        none = np.flatnonzero((sd.base_site < 0) & (sd.base_pupils > 0))
        rows.append(pd.DataFrame({"node_id": sd.node_ids[none], "stage": sd.stage, "year": base_year, "school_id": "",
                                  "pupils": sd.base_pupils[none], "distance_km": np.nan, "boarding": False}))
    cols = ["node_id", "stage", "year", "school_id", "pupils", "distance_km", "boarding"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True).groupby(["node_id", "stage", "year", "school_id"], as_index=False).agg(
        pupils=("pupils", "sum"), distance_km=("distance_km", "first"), boarding=("boarding", "first"))
    return out[cols].sort_values(["stage", "node_id", "school_id"]).reset_index(drop=True)


def calibration_table(stage_data) -> pd.DataFrame:
    """Per existing school × stage: base-year pupils, how many the calibrated flows place on villages
    within reach, and the rest (``pupils_unplaced`` > 0: the school's pupils cannot all come from
    villages within the day limit, where it has beds the boarding limit, or ``base_reach_km``) [pupils]."""
    parts = [sd.calibration for sd in stage_data if sd.calibration is not None]
    if not parts:
        return pd.DataFrame(columns=["school_id", "stage", "pupils_base", "pupils_placed", "pupils_unplaced"])
    out = pd.concat(parts, ignore_index=True).rename(columns={"site_id": "school_id"})
    out["pupils_unplaced"] = (out["pupils_base"] - out["pupils_placed"]).clip(lower=0.0)
    return out.sort_values(["stage", "school_id"]).reset_index(drop=True)


def change_report(units: pd.DataFrame, sites: pd.DataFrame, stage_data, policy) -> pd.DataFrame:
    """Each change of school of a village's pupils, per village × stage × period, and why.

    Parameters
    ----------
    units : DataFrame
        `LayoutResult.units`: per catchment unit × period ``stage, part, unit, node_id, period,
        school_id`` ("" = unserved), ``pupils``, ``distance_km``, ``base_school``, ``base_km``.
    sites : DataFrame
        `LayoutResult.sites` (open, pupils per site × stage × period).
    stage_data : list of StageData
        For the class limits of the schools.
    policy : PolicyConfig

    Returns
    -------
    DataFrame
        ``node_id, stage, period, from_school, to_school, pupils`` [pupils now], ``from_distance_km,
        to_distance_km`` [km], ``reason`` and ``reason_zh``: 原校撤并 (every stage of the old school
        closes), 原校转变 (the old school stops the stage), 原校学位不足 (the old school, at its class limit
        or size cap, has no room for them), 新校更近 / 新校 (to a school that opens now), 就近调整 (to a
        nearer school), 统筹调整 (anything else: class sizes and running costs), 未能安排 (no school).
        A unit with no pupils or no school in the previous period (or no base-year school) is not a change.
    """
    cols = ["node_id", "stage", "period", "from_school", "to_school", "pupils", "from_distance_km",
            "to_distance_km", "reason", "reason_zh"]
    if units is None or units.empty:
        return pd.DataFrame(columns=cols)
    u = units.sort_values(["stage", "part", "unit", "period"]).copy()
    grp = u.groupby(["stage", "part", "unit"], sort=False)
    periods = sorted(u["period"].unique())
    prev_period = dict(zip(periods[1:], periods[:-1]))
    u["from_school"] = grp["school_id"].shift(1)
    u["from_distance_km"] = grp["distance_km"].shift(1)
    u["from_period"] = grp["period"].shift(1)
    first = u["period"] == periods[0]
    u.loc[first, "from_school"] = u.loc[first, "base_school"]
    u.loc[first, "from_distance_km"] = u.loc[first, "base_km"]
    # A unit without pupils in the previous period has no row there: nothing to change from.
    gap = ~first & (u["from_period"] != u["period"].map(prev_period))
    u = u[~gap & u["from_school"].fillna("").ne("") & (u["from_school"] != u["school_id"]) & (u["pupils"] > 0)]
    if u.empty:
        return pd.DataFrame(columns=cols)
    s = sites.set_index(["site_id", "stage", "period"])
    key = pd.MultiIndex.from_arrays([u["from_school"], u["stage"], u["period"]])
    from_open = s["open"].reindex(key).fillna(False).astype(bool).to_numpy()
    from_load = s["pupils"].reindex(key).fillna(0.0).to_numpy(float)
    any_open = sites[sites["open"].astype(bool)].groupby("period")["site_id"].agg(set)
    school_open = np.array([f in any_open.get(p, set()) for f, p in zip(u["from_school"], u["period"])])
    limit = _school_limits(stage_data, policy)
    from_limit = pd.Series(limit).reindex(pd.MultiIndex.from_arrays([u["from_school"], u["stage"]])).to_numpy(float)
    to_key = pd.MultiIndex.from_arrays([u["school_id"], u["stage"], u["period"].map(prev_period).fillna(-1).astype(int)])
    to_was_open = s["open"].reindex(to_key).fillna(False).astype(bool).to_numpy()
    origin = s["origin"].reindex(pd.MultiIndex.from_arrays([u["school_id"], u["stage"], u["period"]])).to_numpy()
    to_new = np.where(u["period"] == periods[0], origin != "existing", ~to_was_open)
    nearer = u["distance_km"].to_numpy(float) < u["from_distance_km"].to_numpy(float) - 1e-6
    reason = np.select(
        [u["school_id"].eq("").to_numpy(), ~from_open & ~school_open, ~from_open,
         from_load + u["pupils"].to_numpy(float) > np.nan_to_num(from_limit, nan=np.inf) + 1e-6,
         to_new & nearer, to_new, nearer],
        ["unserved", "closed", "converted", "full", "new_nearer", "new_school", "nearer"], default="rebalance")
    u["reason"] = reason
    out = u.groupby(["node_id", "stage", "period", "from_school", "school_id", "reason"], as_index=False,
                    sort=False).agg(pupils=("pupils", "sum"), from_distance_km=("from_distance_km", "first"),
                                    to_distance_km=("distance_km", "first"))
    out = out.rename(columns={"school_id": "to_school"})
    out["reason_zh"] = out["reason"].map(REASON_ZH)
    return out[cols].sort_values(["period", "stage", "node_id", "from_school", "to_school"]).reset_index(drop=True)


def _school_limits(stage_data, policy) -> dict:
    """``{(site_id, stage): pupils}`` one school may take: its class limit × class cap, at most the size cap."""
    out = {}
    for sd in stage_data:
        lim = sd.sites["K"].to_numpy(float) * float(policy.class_cap[sd.stage])
        if sd.stage in policy.school_size_cap:
            lim = np.minimum(lim, float(policy.school_size_cap[sd.stage]))
        out.update(zip(zip(sd.sites["site_id"], [sd.stage] * len(sd.sites)), lim))
    return out


def calibration_warnings(calibration: pd.DataFrame, names: dict | pd.Series | None = None, most: int = 10,
                         min_pupils: float = 1.0) -> list[str]:
    """Chinese lines on schools whose base-year pupils the calibrated flows cannot all place on
    villages in reach (at least ``min_pupils`` unplaced), largest first, at most ``most`` named."""
    if calibration is None or calibration.empty:
        return []
    c = calibration[calibration["pupils_unplaced"] >= min_pupils].sort_values("pupils_unplaced", ascending=False,
                                                                               kind="stable")
    if c.empty:
        return []
    from xuewei.labels import STAGE_ZH

    names = {} if names is None else names
    total = float(calibration["pupils_base"].sum())
    lines = [f"{len(c)} 所学校（学段计）的基准年在校生不能全部由走读距离内、有寄宿床位时寄宿距离内、"
             "或现状生源距离（policy.base_reach_km）内的村（社区）落位，"
             f"共 {c['pupils_unplaced'].sum():,.0f} 人（占基准年公办在校生 {c['pupils_unplaced'].sum() / total:.1%}）。"
             "这些学生不计入任何村的现有就读学校；常见原因：学校的学生来自更远处（寄宿床位或村的位置、人口数据不全），"
             "或预测按人口分到各村的学生与学校所在位置不符。"]
    for r in c.head(most).itertuples():
        name = names.get(r.school_id, r.school_id)
        lines.append(f"{name}（{r.school_id}）{STAGE_ZH.get(r.stage, r.stage)}：基准年 {r.pupils_base:,.0f} 人，"
                     f"可落位 {r.pupils_placed:,.0f} 人，缺 {r.pupils_unplaced:,.0f} 人")
    if len(c) > most:
        lines.append(f"……另有 {len(c) - most} 所，见 catchments_calibration.csv")
    return lines
