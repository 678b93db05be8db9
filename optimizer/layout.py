r"""The school-layout model: multi-period, integer classes, catchments, boarding, tiers, budget.

One model per stage (stages share nothing unless a budget spans them, in which case all stages are
solved together). For stage :math:`g`, periods :math:`t = 1..T`, sites :math:`s` (existing schools
of the stage, existing schools that may convert to host it, candidate sites) and villages :math:`n`:

.. math::

   \min \sum_t \Big[ \sum_s \big(e_s (m_{st} - m_{s,t-1}) + F_s (o_{st} - o_{s,t-1})^{+}
        + b (w_{st} - w_{s,t-1})\big)
        + Y_t \big( \sum_s (r_c k_{st} + r_s o_{st}) + \sum_{(n,s)} d_{nt} c_{ns} x_{nst} \big)
        + \pi \sum_n d_{nt} u_{nt} \Big]

   \text{s.t.}\quad \sum_{s:(n,s)\in P} x_{nst} + u_{nt} = 1, \qquad
   \sum_{n} d_{nt} x_{nst} \le q\, k_{st}, \qquad
   o_{st} \le k_{st} \le K_s o_{st}, \qquad x_{nst} \le o_{st},

   m_{st} \ge k_{st} - c_s,\; m_{st} \ge m_{s,t-1} \ge 0, \qquad
   \sum_{n:(n,s)\in P_b} d_{nt} x_{nst} \le \beta_s + w_{st},\; w_{st} \ge w_{s,t-1},

   o_{st} \le o_{s,t-1} \text{ (existing)}, \quad o_{st} \ge o_{s,t-1} \text{ (new)}, \qquad
   \text{capital}_t \le B_t

Where :math:`x` is the (binary, single-source) assignment of village :math:`n` to school :math:`s`,
:math:`k` integer classes, :math:`o` open, :math:`m` classes built beyond today's :math:`c_s` so far
(capital is paid only on growth), :math:`w` boarding beds added, :math:`u` the unserved share; :math:`q` the class cap,
:math:`K_s` the class limit (the current size where the tier rule forbids growth), :math:`c_{ns}`
the yearly travel cost per pupil for day pairs or the boarding cost for boarding pairs
:math:`P_b`, :math:`Y_t` the years in period :math:`t`, :math:`\pi` the unserved penalty.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import repeat

import numpy as np
import pandas as pd
import pulp
from pulp import LpAffineExpression, LpConstraint

from xuewei.optimizer.oversize import site_limits
from xuewei.optimizer.policy import PolicyConfig
from xuewei.procs import guard_worker
from xuewei.errors import SolveError
from xuewei.optimizer.solve import SolveReport, _rel_gap, solve_problem
from xuewei.optimizer.strengthen import strengthen_stage

LE, GE, EQ = pulp.LpConstraintLE, pulp.LpConstraintGE, pulp.LpConstraintEQ


@dataclass
class StageData:
    """Everything one stage's model needs, as tables and flat arrays.

    Attributes
    ----------
    stage : str
    sites : pandas.DataFrame
        ``site_id, origin (existing|convert|candidate), c0 (classes now), K (class limit), beds0,
        can_add_beds, tier``; row order = site position.
    node_ids : numpy.ndarray
        Village ids; position = node position.
    demand : numpy.ndarray
        ``(n_nodes, T)`` design pupils per period [pupils].
    pair_node, pair_site : numpy.ndarray
        Kept pairs (positions).
    pair_km : numpy.ndarray
        Travel distance of each pair [km].
    pair_boarding : numpy.ndarray of bool
        The pair is beyond the day limit: its pupils board.
    pair_far : numpy.ndarray of bool, optional
        The pair is a unit's base-year school beyond the day and boarding limits (现状远距离就读,
        within ``base_reach_km``): the unit may stay there as it does today, as day pupils.
    years : numpy.ndarray
        ``(T,)`` years each period lasts [years].
    seat_groups : list of numpy.ndarray
        Site positions at one township's seat; each group must keep at least one school of the
        stage open (小学向乡镇集中: every township seat keeps its school).
    """

    stage: str
    sites: pd.DataFrame
    node_ids: np.ndarray
    demand: np.ndarray
    pair_node: np.ndarray
    pair_site: np.ndarray
    pair_km: np.ndarray
    pair_boarding: np.ndarray
    years: np.ndarray
    periods: list[int] = field(default_factory=list)
    seat_groups: list[np.ndarray] = field(default_factory=list)
    part: int = 0  # independent part of the region (1, 2, ...; 0 = the stage is one part)
    # Catchment units (optimizer/catchments.py): node positions are units, several per village when
    # its pupils go to several schools today or it is too large for one school; ``node_ids`` then
    # repeats the village id. ``base_site``: the unit's base-year school position (-1 none);
    # ``base_pupils``: its base-year pupils; ``calibration``: per existing school, base-year pupils
    # and how many the calibrated flows place on villages. None when the model was built without them.
    base_site: np.ndarray | None = None
    base_pupils: np.ndarray | None = None
    calibration: pd.DataFrame | None = None
    pair_far: np.ndarray | None = None

    @property
    def name(self) -> str:
        return f"{self.stage}#{self.part}" if self.part else self.stage


@dataclass
class _StageVars:
    x: list  # [t][pair]
    o: list  # [t][site]
    k: list
    m: list
    w: list
    u: list  # [t][node]
    capital: list  # [t] -> LpAffineExpression
    up: list = field(default_factory=list)  # [t][site], class changes
    down: list = field(default_factory=list)
    moved: list = field(default_factory=list)  # [t] -> (unit positions, their "changed school" variables)


def _vars(prob, prefix: str, n: int, low, up, cat) -> list:
    make = getattr(prob, "add_variable", None)
    if make is None:
        return [pulp.LpVariable(f"{prefix}{i}", low, up, cat) for i in range(n)]
    return [make(f"{prefix}{i}", low, up, cat) for i in range(n)]


def _groups(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    return order, np.searchsorted(keys[order], np.arange(n + 1))


def class_unit_capital(sites: pd.DataFrame, policy: PolicyConfig, stage: str) -> np.ndarray:
    """Capital of one more class at each site [万元]: the build cost on a candidate site, else the expansion cost."""
    return np.where(sites["origin"].to_numpy() == "candidate", policy.build_per_class_wan_yuan[stage],
                    policy.expand_per_class_wan_yuan[stage])


def add_stage(prob: pulp.LpProblem, sd: StageData, policy: PolicyConfig, objective: list) -> _StageVars:
    """Add one stage's variables and constraints to ``prob``; append its objective terms."""
    g, S, N, T = sd.stage, len(sd.sites), len(sd.node_ids), sd.demand.shape[1]
    sites = sd.sites
    allowed, class_size = site_limits(sites, g, policy, T)  # per site × period (oversize.py)
    c0 = sites["c0"].to_numpy(float)
    K = sites["K"].to_numpy(float)
    beds0 = sites["beds0"].to_numpy(float)
    existing = sites["origin"].to_numpy() == "existing"
    cat_x = pulp.LpBinary if policy.single_source else pulp.LpContinuous
    unit_capital = class_unit_capital(sites, policy, g)
    fixed_build = sites["build_fixed"].to_numpy(float)
    m_cat = pulp.LpContinuous if policy.budget_wan_yuan is None else pulp.LpInteger
    day_rate = policy.travel_per_pupil_km_year_wan_yuan * sd.pair_km
    pair_rate = np.where(sd.pair_boarding, policy.boarding_per_pupil_year_wan_yuan, day_rate)
    s_order, s_start = _groups(sd.pair_site, S)
    n_start = np.searchsorted(sd.pair_node, np.arange(N + 1))
    board_sites = np.flatnonzero(np.bincount(sd.pair_site[sd.pair_boarding], minlength=S) > 0)
    add = prob.addConstraint
    v = _StageVars([], [], [], [], [], [], [])
    for t in range(T):
        p = f"{g[:2]}{sd.part}_{t}_"
        d = sd.demand[:, t]
        Y = float(sd.years[t])
        x = _vars(prob, f"x{p}", len(sd.pair_node), 0, 1, cat_x)
        o = _vars(prob, f"o{p}", S, 0, 1, pulp.LpBinary)
        k = [pulp.LpVariable(f"k{p}{j}", 0, float(K[j]), pulp.LpInteger) for j in range(S)]
        # Classes built beyond c0 so far. Whole classes under a budget: the objective only sees their sum
        # over periods, so a continuous m could spend a third of a class in one period and the rest in
        # the next, which no builder does and `actions.csv` could not show (山区县 under 3,000 万元).
        m = [pulp.LpVariable(f"m{p}{j}", 0, None, m_cat) for j in range(S)]
        w = [pulp.LpVariable(f"w{p}{j}", 0, None, pulp.LpInteger) for j in range(S)]
        u = _vars(prob, f"u{p}", N, 0, 1, pulp.LpContinuous)
        v.x.append(x), v.o.append(o), v.k.append(k), v.m.append(m), v.w.append(w), v.u.append(u)

        # Objective: running (classes, schools), travel/boarding, unserved penalty, capital.
        objective += zip(k, repeat(Y * policy.running_per_class_year_wan_yuan[g]))
        objective += zip(o, repeat(Y * policy.running_per_school_year_wan_yuan))
        objective += zip(x, (Y * d[sd.pair_node] * pair_rate).tolist())
        objective += zip(u, (policy.unserved_penalty_wan_yuan * d).tolist())
        cap_terms = list(zip(m, unit_capital.tolist())) + list(zip(w, repeat(policy.bed_wan_yuan)))
        if t > 0:
            cap_terms += zip(v.m[t - 1], (-unit_capital).tolist())
            cap_terms += zip(v.w[t - 1], repeat(-policy.bed_wan_yuan))
            cap_terms += [(o[j], fixed_build[j]) for j in np.flatnonzero(fixed_build)]
            cap_terms += [(v.o[t - 1][j], -fixed_build[j]) for j in np.flatnonzero(fixed_build)]
        else:
            cap_terms += [(o[j], fixed_build[j]) for j in np.flatnonzero(fixed_build)]
        capital = LpAffineExpression(cap_terms)
        v.capital.append(capital)
        objective.append((capital, 1.0))
        if policy.class_change_wan_yuan > 0:  # |k_t - k_{t-1}| (k_0 - c0 in the first period)
            up = [pulp.LpVariable(f"cu{p}{j}", 0, None) for j in range(S)]
            down = [pulp.LpVariable(f"cd{p}{j}", 0, None) for j in range(S)]
            v.up.append(up), v.down.append(down)
            objective += zip(up, repeat(policy.class_change_wan_yuan))
            objective += zip(down, repeat(policy.class_change_wan_yuan))
            for j in range(S):
                prev = [(v.k[t - 1][j], -1.0)] if t > 0 else []
                rhs = 0.0 if t > 0 else float(c0[j])
                add(LpConstraint(LpAffineExpression([(up[j], 1.0), (k[j], -1.0)] + [(a, -b) for a, b in prev]),
                                 GE, f"cu{p}{j}", -rhs))
                add(LpConstraint(LpAffineExpression([(down[j], 1.0), (k[j], 1.0)] + prev), GE, f"cd{p}{j}", rhs))

        # Each village: its kept pairs + unserved = 1.
        for i in np.flatnonzero(d > 0).tolist():
            e = LpAffineExpression(zip(x[n_start[i]:n_start[i + 1]], repeat(1.0)))
            e[u[i]] = 1.0
            add(LpConstraint(e, EQ, f"as{p}{i}", 1))
        for i in np.flatnonzero(d <= 0).tolist():  # no pupils: assign nothing
            for var in x[n_start[i]:n_start[i + 1]]:
                var.upBound = 0
            u[i].upBound = 0
        v.moved.append(_add_reassignment(prob, sd, policy, v, t, p, objective))
        load = d[sd.pair_node]
        for j in range(S):
            rows = s_order[s_start[j]:s_start[j + 1]]
            e = LpAffineExpression(list(zip([x[r] for r in rows], load[rows].tolist()))
                                   + [(k[j], -float(class_size[j, t]))])
            add(LpConstraint(e, LE, f"cap{p}{j}", 0))
            if np.isfinite(allowed[j, t]):
                e = LpAffineExpression(list(zip([x[r] for r in rows], load[rows].tolist())))
                add(LpConstraint(e, LE, f"size{p}{j}", float(allowed[j, t])))
            add(LpConstraint(LpAffineExpression([(k[j], 1.0), (o[j], -float(K[j]))]), LE, f"kmax{p}{j}", 0))
            add(LpConstraint(LpAffineExpression([(k[j], 1.0), (o[j], -1.0)]), GE, f"kmin{p}{j}", 0))
            add(LpConstraint(LpAffineExpression([(m[j], 1.0), (k[j], -1.0)]), GE, f"hw{p}{j}", -float(c0[j])))
            if t > 0:
                add(LpConstraint(LpAffineExpression([(m[j], 1.0), (v.m[t - 1][j], -1.0)]), GE, f"hm{p}{j}", 0))
                add(LpConstraint(LpAffineExpression([(w[j], 1.0), (v.w[t - 1][j], -1.0)]), GE, f"hb{p}{j}", 0))
                sign = 1.0 if existing[j] else -1.0  # existing: never reopen; new: never close
                add(LpConstraint(LpAffineExpression([(o[j], sign), (v.o[t - 1][j], -sign)]), LE, f"mono{p}{j}", 0))
        for r in range(len(x)):
            add(LpConstraint(LpAffineExpression([(x[r], 1.0), (o[sd.pair_site[r]], -1.0)]), LE, f"ln{p}{r}", 0))
        bpairs = np.flatnonzero(sd.pair_boarding)
        for j in board_sites.tolist():
            rows = bpairs[sd.pair_site[bpairs] == j]
            e = LpAffineExpression(list(zip([x[r] for r in rows], load[rows].tolist())) + [(w[j], -1.0)])
            add(LpConstraint(e, LE, f"bed{p}{j}", float(beds0[j])))
        for j in np.flatnonzero(~sites["can_add_beds"].to_numpy(bool)).tolist():
            w[j].upBound = 0
        for j in np.flatnonzero(sites["force_open"].to_numpy(bool)).tolist():
            o[j].lowBound = 1
        for q, grp in enumerate(sd.seat_groups):
            add(LpConstraint(LpAffineExpression(zip([o[j] for j in grp.tolist()], repeat(1.0))), GE, f"seat{p}{q}", 1))
    return v


def base_pairs(sd: StageData) -> np.ndarray:
    """Per unit, the position of its pair to its base-year school (-1 when it has none)."""
    out = np.full(len(sd.node_ids), -1)
    if sd.base_site is None:
        return out
    rows = np.flatnonzero(sd.pair_site == sd.base_site[sd.pair_node])
    out[sd.pair_node[rows]] = rows
    return out


def _add_reassignment(prob, sd: StageData, policy: PolicyConfig, v: _StageVars, t: int, p: str,
                      objective: list) -> tuple[np.ndarray, list]:
    r"""Cost of pupils leaving a school that still hosts the stage, in period ``t``:
    (``reassign_per_pupil_wan_yuan`` × pupils + ``reassign_per_village_wan_yuan``) × :math:`\mu_{nt}`.

    :math:`\mu_{nt} \ge x_{ns,t-1} - x_{nst} - (1 - o_{st})` for each pair of unit :math:`n` (it left
    school :math:`s`, which is still open); in the first period :math:`\mu_{n1} \ge o_{b1} - x_{nb1}`
    for its base-year school :math:`b`. Pupils whose school closes or stops the stage move for free
    (the closure is weighed on its own costs); a unit unserved or without pupils in the previous
    period pays nothing. Returns the units and their variables.
    """
    rate, fixed = policy.reassign_per_pupil_wan_yuan, policy.reassign_per_village_wan_yuan
    d = sd.demand[:, t]
    if rate <= 0 and fixed <= 0:
        return np.zeros(0, dtype=np.int64), []
    add, x, o = prob.addConstraint, v.x[t], v.o[t]
    if t == 0:
        bp = base_pairs(sd)
        units = np.flatnonzero((bp >= 0) & (d > 0))
        mv = _vars(prob, f"mv{p}", len(units), 0, 1, pulp.LpContinuous)
        for var, i in zip(mv, units.tolist()):
            e = LpAffineExpression([(var, 1.0), (x[bp[i]], 1.0), (o[sd.pair_site[bp[i]]], -1.0)])
            add(LpConstraint(e, GE, f"mv{p}{i}", 0))
    else:
        units = np.flatnonzero((d > 0) & (sd.demand[:, t - 1] > 0))
        mv = _vars(prob, f"mv{p}", len(units), 0, 1, pulp.LpContinuous)
        n_start = np.searchsorted(sd.pair_node, np.arange(len(sd.node_ids) + 1))
        prev = v.x[t - 1]
        for var, i in zip(mv, units.tolist()):
            for r in range(n_start[i], n_start[i + 1]):
                e = LpAffineExpression([(var, 1.0), (prev[r], -1.0), (x[r], 1.0), (o[sd.pair_site[r]], -1.0)])
                add(LpConstraint(e, GE, f"mv{p}{r}", -1))
    objective += zip(mv, (rate * d[units] + fixed).tolist())
    return units, mv


def _greedy(sd: StageData, policy: PolicyConfig, closed: np.ndarray, budget: list[float] | None = None) -> dict:
    """Assign every village, period by period, to its nearest school with room (day school first) —
    a catchment unit tries the school it attends first (base year, then the previous period); open
    a closed site only when nothing open has room; never spend beyond the period's budget (a village
    that would need more capital stays unserved). Returns the layout and its objective."""
    g, S, N, T = sd.stage, len(sd.sites), len(sd.node_ids), sd.demand.shape[1]
    sites = sd.sites
    allowed, class_size = site_limits(sites, g, policy, T)  # per site × period (oversize.py)
    c0 = sites["c0"].to_numpy(float)
    K = sites["K"].to_numpy(float)
    beds0 = sites["beds0"].to_numpy(float)
    origin = sites["origin"].to_numpy()
    bed_room = np.where(sites["can_add_beds"].to_numpy(bool), np.inf, beds0)
    usable = np.minimum(class_size[:, 0] * K, allowed[:, 0])
    is_open = (origin == "existing") & (c0 > 0) & (K > 0) & ~closed
    standing = is_open.copy()
    for grp in sd.seat_groups:  # each township seat keeps a school: open one if none is
        if not is_open[grp].any():
            is_open[grp[np.argmax(K[grp] * ~closed[grp])]] = True
    seat_new = is_open & ~standing  # opened for a seat: its fixed cost and first class are spent at once
    n_start = np.searchsorted(sd.pair_node, np.arange(N + 1))
    pair_cost = np.where(sd.pair_boarding, policy.boarding_per_pupil_year_wan_yuan,
                         policy.travel_per_pupil_km_year_wan_yuan * sd.pair_km)
    unit = class_unit_capital(sites, policy, g)
    fixed = sites["build_fixed"].to_numpy(float)
    out = {"x": [], "u": [], "o": [], "k": [], "m": [], "w": [], "up": [], "down": [], "moved": []}
    m_prev, w_prev, k_prev, o_prev = np.zeros(S), np.zeros(S), c0.copy(), np.zeros(S, dtype=bool)
    cost = 0.0
    prefer = base_pairs(sd)  # each unit tries the school it attends (base year, then last period) first
    for t in range(T):
        d = sd.demand[:, t]
        Y = float(sd.years[t])
        cap = class_size[:, t]
        usable = np.minimum(cap * K, allowed[:, t])
        if t > 0:
            prefer = _previous_rows(sd, out["x"][-1])
        load = np.zeros(S)
        bload = np.zeros(S)
        xv = np.zeros(len(sd.pair_node))
        built = c0 + m_prev  # classes standing (built) at the start of the period
        spent, limit = 0.0, (np.inf if budget is None else float(budget[t]))
        if t == 0 and seat_new.any():  # the seats' schools come first, within the budget (`mandatory_capital`)
            first = seat_new & (built < 1)
            spent = float(fixed[seat_new].sum() + unit[first].sum())
            built = np.where(first, 1.0, built)
        # Three passes: fill the classes already built, then let open schools grow, then open sites.
        for may_grow, may_open in ((False, False), (True, False), (True, True)):
            room = usable if may_grow else np.minimum(usable, built * cap)
            for i in np.argsort(-d, kind="stable"):  # big villages first
                if d[i] <= 0 or xv[n_start[i]:n_start[i + 1]].any():
                    continue
                for r in _first(prefer[i], n_start[i], n_start[i + 1]):
                    j = sd.pair_site[r]
                    if not is_open[j] and not (may_open and not closed[j] and usable[j] > 0):
                        continue
                    if load[j] + d[i] > room[j] + 1e-9:
                        continue
                    if sd.pair_boarding[r] and bload[j] + d[i] > bed_room[j] + 1e-9:
                        continue
                    extra = (max(0.0, np.ceil((load[j] + d[i]) / cap[j] - 1e-9) - max(built[j], np.ceil(load[j] / cap[j] - 1e-9)))
                             * unit[j] + (fixed[j] if not is_open[j] and not o_prev[j] else 0.0)
                             + (policy.bed_wan_yuan * max(0.0, min(d[i], bload[j] + d[i] - beds0[j] - w_prev[j]))
                                if sd.pair_boarding[r] else 0.0))
                    if spent + extra > limit + 1e-9:
                        continue
                    spent += extra
                    is_open[j] = True
                    xv[r] = 1.0
                    load[j] += d[i]
                    if sd.pair_boarding[r]:
                        bload[j] += d[i]
                    break
        _one_opt(sd, policy, t, d, xv, load, bload, is_open, usable, bed_room, built, unit, pair_cost, n_start,
                 budget_left=limit - spent, cap=cap, prefer=prefer)
        moved = np.zeros(N)  # left a school that is still open
        has = (prefer >= 0) & (d > 0)
        moved[has] = (xv[prefer[has]] == 0) & is_open[sd.pair_site[prefer[has]]]
        served = np.bincount(sd.pair_node, weights=xv, minlength=N)
        uv = ((d > 0) & (served == 0)).astype(float)
        k = np.where(is_open, np.clip(np.ceil(load / cap - 1e-9), 1, K), 0)
        m = np.maximum(m_prev, k - c0)
        w = np.maximum(w_prev, np.ceil(np.maximum(bload - beds0, 0)))
        up, down = np.maximum(k - k_prev, 0), np.maximum(k_prev - k, 0)
        capital = ((unit * (m - m_prev)).sum() + (fixed * (is_open & ~o_prev)).sum()
                   + policy.bed_wan_yuan * (w - w_prev).sum())
        out.setdefault("capital", []).append(float(capital))
        cost += (Y * (policy.running_per_class_year_wan_yuan[g] * k.sum()
                      + policy.running_per_school_year_wan_yuan * is_open.sum()
                      + (d[sd.pair_node] * xv * pair_cost).sum())
                 + policy.unserved_penalty_wan_yuan * (d * uv).sum()
                 + (unit * (m - m_prev)).sum() + (fixed * (is_open & ~o_prev)).sum()
                 + policy.bed_wan_yuan * (w - w_prev).sum() + policy.class_change_wan_yuan * (up + down).sum()
                 + (policy.reassign_per_pupil_wan_yuan * d + policy.reassign_per_village_wan_yuan) @ moved)
        for key, val in (("x", xv), ("u", uv), ("o", is_open.astype(float)), ("k", k), ("m", m), ("w", w),
                         ("up", up), ("down", down), ("moved", moved)):
            out[key].append(val.copy())
        m_prev, w_prev, k_prev, o_prev = m, w, k, is_open.copy()
    out["cost"] = cost
    return out


def _one_opt(sd, policy, t, d, xv, load, bload, is_open, usable, bed_room, built, unit, pair_cost, n_start,
             budget_left, passes: int = 3, cap: np.ndarray | None = None,
             prefer: np.ndarray | None = None) -> None:
    """Move single villages to another open school while that lowers the period's cost (travel or
    boarding, classes, new classes' capital, leaving the school a unit attended: ``prefer``, pair
    positions or -1). Changes the arrays in place. ``cap``: allowed class size per site
    [pupils/class] (default: the stage's class cap)."""
    rate = policy.reassign_per_pupil_wan_yuan if prefer is not None else 0.0
    fixed = policy.reassign_per_village_wan_yuan if prefer is not None else 0.0
    if cap is None:
        cap = np.full(len(sd.sites), float(policy.class_cap[sd.stage]))
    Y = float(sd.years[t])
    r_c = policy.running_per_class_year_wan_yuan[sd.stage]

    def classes(x, j):
        return np.ceil(x / cap[j] - 1e-9)

    for _ in range(passes):
        moved = False
        for i in np.flatnonzero(d > 0):
            rows = np.arange(n_start[i], n_start[i + 1])
            cur = rows[xv[rows] > 0]
            if len(cur) != 1:
                continue
            r0 = cur[0]
            j0 = sd.pair_site[r0]
            gain_old = r_c * Y * (classes(load[j0], j0) - classes(load[j0] - d[i], j0))
            best, best_delta, best_extra = None, -1e-6, 0.0
            for r in rows:
                j = sd.pair_site[r]
                if r == r0 or not is_open[j] or load[j] + d[i] > usable[j] + 1e-9:
                    continue
                if sd.pair_boarding[r] and bload[j] + d[i] > bed_room[j] + 1e-9:
                    continue
                new_k = classes(load[j] + d[i], j)
                extra = max(0.0, new_k - max(built[j], classes(load[j], j))) * unit[j]
                if extra > budget_left + 1e-9:
                    continue
                delta = (Y * d[i] * (pair_cost[r] - pair_cost[r0]) + r_c * Y * (new_k - classes(load[j], j))
                         + extra - gain_old)
                if (rate or fixed) and prefer[i] >= 0 and is_open[sd.pair_site[prefer[i]]]:
                    delta += (rate * d[i] + fixed) * (float(r != prefer[i]) - float(r0 != prefer[i]))
                if delta < best_delta:
                    best, best_delta, best_extra = r, delta, extra
            if best is not None:
                j = sd.pair_site[best]
                xv[r0], xv[best] = 0.0, 1.0
                load[j0] -= d[i]
                load[j] += d[i]
                if sd.pair_boarding[r0]:
                    bload[j0] -= d[i]
                if sd.pair_boarding[best]:
                    bload[j] += d[i]
                budget_left -= best_extra
                moved = True
        if not moved:
            break


def _first(row: int, lo: int, hi: int):
    """Pair positions ``lo..hi-1`` with ``row`` (if any) tried first."""
    return range(lo, hi) if row < 0 else [row, *range(lo, row), *range(row + 1, hi)]


def _previous_rows(sd: StageData, x_prev: np.ndarray) -> np.ndarray:
    """Per unit, the pair it was assigned in the previous period (-1: none)."""
    out = np.full(len(sd.node_ids), -1)
    rows = np.flatnonzero(x_prev > 0.5)
    out[sd.pair_node[rows]] = rows
    return out


START_TRIALS = 400  #: closures the drop search tries in reproducible mode (smallest schools first)


def greedy_start(sd: StageData, v: _StageVars, policy: PolicyConfig, budget: list[float] | None = None,
                 time_budget_s: float = np.inf, max_trials: int | None = None) -> dict:
    """Set a feasible start for the solver on the variables; returns it (with its objective, ``cost`` [万元]).

    Greedy assignment with every school kept, then a drop search: each closable school (small,
    not protected by the township-seat rule) is closed for good if the greedy cost of the layout
    without it is lower. HiGHS takes the result as its first incumbent, so a time-limited solve
    never returns a layout worse than this one.
    """
    S = len(sd.sites)
    closed = np.zeros(S, dtype=bool)
    best = _greedy(sd, policy, closed, budget)
    existing = (sd.sites["origin"].to_numpy() == "existing") & (sd.sites["c0"].to_numpy() > 0)
    closable = existing & ~sd.sites["force_open"].to_numpy(bool)
    stop = time.perf_counter() + time_budget_s  # the drop search must leave the solver its time
    trials = np.flatnonzero(closable)[np.argsort(sd.sites["pupils0"].to_numpy(float)[closable]
                                                 if "pupils0" in sd.sites else np.zeros(closable.sum()),
                                                 kind="stable")]
    for j in trials[:max_trials]:
        if time.perf_counter() > stop:
            break
        closed[j] = True
        trial = _greedy(sd, policy, closed, budget)
        if trial["cost"] < best["cost"] - 1e-6 and not trial["o"][0][j]:
            best = trial
        else:
            closed[j] = False
    set_values(v, best)
    return best


def set_values(v: _StageVars, best: dict) -> None:
    """Put a layout (as returned by `_greedy`) on the model's variables."""
    for t in range(len(best["x"])):
        for name in ("x", "u", "o", "k", "m", "w"):
            for var, val in zip(getattr(v, name)[t], best[name][t]):
                var.setInitialValue(float(val))
        if v.moved and len(v.moved[t][0]):
            units, mv = v.moved[t]
            for var, val in zip(mv, best["moved"][t][units]):
                var.setInitialValue(float(val))
        if v.up:
            for var, val in zip(v.up[t], best["up"][t]):
                var.setInitialValue(float(val))
            for var, val in zip(v.down[t], best["down"][t]):
                var.setInitialValue(float(val))


@dataclass
class LayoutResult:
    """Tidy results of one solved layout (one row per site × stage × period, per assignment, ...)."""

    sites: pd.DataFrame
    assignments: pd.DataFrame
    unserved: pd.DataFrame
    summary: pd.DataFrame
    units: pd.DataFrame | None = None  # per catchment unit × period: school_id ("" unserved), pupils, base_school


def _read_stage(sd: StageData, v: _StageVars, policy: PolicyConfig) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    g, T = sd.stage, sd.demand.shape[1]
    cap = policy.class_cap[g]
    site_rows, asg_rows, un_rows = [], [], []
    for t in range(T):
        d = sd.demand[:, t]
        xv = np.array([var.varValue or 0.0 for var in v.x[t]])
        kv = np.array([round(var.varValue or 0.0) for var in v.k[t]], dtype=np.int64)
        ov = np.array([round(var.varValue or 0.0) for var in v.o[t]], dtype=np.int64)
        wv = np.array([max(0.0, var.varValue or 0.0) for var in v.w[t]])
        mv = np.array([max(0.0, var.varValue or 0.0) for var in v.m[t]])
        uv = np.array([max(0.0, var.varValue or 0.0) for var in v.u[t]])
        used = xv > 1e-6
        pupils = d[sd.pair_node] * xv
        load = np.bincount(sd.pair_site[used], weights=pupils[used], minlength=len(sd.sites))
        bload = np.bincount(sd.pair_site[used & sd.pair_boarding], weights=pupils[used & sd.pair_boarding],
                            minlength=len(sd.sites))
        site_rows.append(pd.DataFrame({
            "site_id": sd.sites["site_id"].to_numpy(), "stage": g, "period": sd.periods[t],
            "origin": sd.sites["origin"].to_numpy(), "open": ov.astype(bool), "classes_before": sd.sites["c0"].to_numpy(),
            "classes": kv * ov, "classes_built": sd.sites["c0"].to_numpy() + np.round(mv).astype(np.int64),
            "places": kv * ov * cap, "pupils": load, "boarding_pupils": bload,
            "boarding_beds": sd.sites["beds0"].to_numpy() + wv, "tier": sd.sites["tier"].to_numpy()}))
        asg_rows.append(pd.DataFrame({
            "node_id": sd.node_ids[sd.pair_node[used]], "stage": g, "period": sd.periods[t],
            "school_id": sd.sites["site_id"].to_numpy()[sd.pair_site[used]], "pupils": pupils[used],
            "share": xv[used], "distance_km": sd.pair_km[used], "boarding": sd.pair_boarding[used],
            "status_quo_far": (np.zeros(len(used), dtype=bool) if sd.pair_far is None else sd.pair_far)[used],
            "unit": sd.pair_node[used]}))
        mask = (uv > 1e-6) & (d > 0)
        un_rows.append(pd.DataFrame({"node_id": sd.node_ids[mask], "stage": g, "period": sd.periods[t],
                                     "pupils": d[mask] * uv[mask], "unit": np.flatnonzero(mask)}))
    units = pd.concat(asg_rows + un_rows, ignore_index=True)
    units["school_id"] = units["school_id"].fillna("")
    units["part"] = sd.part
    base = base_pairs(sd)
    base_school = np.full(len(base), "", dtype=object)
    base_school[base >= 0] = sd.sites["site_id"].to_numpy()[sd.pair_site[base[base >= 0]]]
    base_km = np.full(len(base), np.nan)
    base_km[base >= 0] = sd.pair_km[base[base >= 0]]
    units["base_school"] = base_school[units["unit"].to_numpy(np.int64)]
    units["base_km"] = base_km[units["unit"].to_numpy(np.int64)]
    units["demand"] = sd.demand[units["unit"].to_numpy(), pd.Index(sd.periods).get_indexer(units["period"])]
    return (pd.concat(site_rows, ignore_index=True), per_village(pd.concat(asg_rows, ignore_index=True)),
            per_village(pd.concat(un_rows, ignore_index=True)), units)


def per_village(units: pd.DataFrame) -> pd.DataFrame:
    """Unit rows summed per village (× school for assignments): ``share`` becomes the share of the
    village's pupils of the stage that goes to that school."""
    if "school_id" not in units:
        return units.groupby(["node_id", "stage", "period"], as_index=False, sort=False)["pupils"].sum()
    out = units.groupby(["node_id", "stage", "period", "school_id"], as_index=False, sort=False).agg(
        pupils=("pupils", "sum"), distance_km=("distance_km", "first"), boarding=("boarding", "first"),
        **({"status_quo_far": ("status_quo_far", "any")} if "status_quo_far" in units else {}))
    total = out.groupby(["node_id", "stage", "period"])["pupils"].transform("sum")
    out.insert(5, "share", np.where(total > 0, out["pupils"] / total.where(total > 0, 1.0), 1.0))
    return out


@dataclass
class GroupModel:
    """One independent model, built: the PuLP problem, each stage's variables and greedy start, and
    the objective (its constant is not seen by the solver)."""

    name: str
    prob: pulp.LpProblem
    stage_vars: list
    starts: list
    objective: LpAffineExpression
    groups: list = field(default_factory=list)  # the StageData of each stage in the model


@dataclass(frozen=True)
class Search:
    """How hard each model is searched beyond the solver's own stop (both deterministic).

    Attributes
    ----------
    improve_sweeps : int
        Sweeps of local search on the greedy start before the solver (`xuewei.optimizer.improve`);
        0 = none.
    polish_nodes : int
        Reproducible mode only: when the solver stops with a gap above the target (and above
        `POLISH_MIN_GAP`), the model is solved once more with every school's open/closed decision
        (``o``, all periods) fixed at the answer's, from that answer, for at most this many
        branch-and-bound nodes; the cheaper answer is kept, and the gap is stated against the whole
        model's bound. 0 = no polish.
    refine_sweeps : int
        Reproducible mode only: when the gap is still above the target (and above `POLISH_MIN_GAP`)
        after the solver and the polish, sweeps of local search on that answer (`xuewei.optimizer.improve`,
        neighbourhoods of `REFINE_NEIGHBOURS` schools, `REFINE_SUB_NODES` nodes each); it only keeps
        improvements, and the gap is stated against the whole model's bound. 0 = none.
    swap_rounds : int
        Reproducible mode only: a model of fewer than `SWAP_MAX_PAIRS` village–school pairs whose gap is
        still above `FINISH_MIN_GAP` (and the target) after the finish gets at most this many
        rounds of opening swaps (`xuewei.optimizer.swap`: one site's opening pattern changed, or one
        site closed and another opened, screened by the LP and solved with the openings fixed); only
        improvements are kept. 0 = none.
    finish_nodes : int
        Reproducible mode only: a model of fewer than `FINISH_MAX_PAIRS` village–school pairs whose gap
        is still above `FINISH_MIN_GAP` (and the target) after all of that is solved once more, whole,
        from its answer, for at most this many branch-and-bound nodes (`_finish`); the cheaper answer
        and the higher bound are kept. 0 = none.
    """

    improve_sweeps: int = 0
    polish_nodes: int = 0
    refine_sweeps: int = 0
    finish_nodes: int = 0
    swap_rounds: int = 0


def build_group(grp: list[StageData], policy: PolicyConfig, budget, reproducible: bool = True,
                time_limit_s: float = 600.0) -> GroupModel:
    """Build one independent model (one stage, or all stages under a shared budget) with its start."""
    prob = pulp.LpProblem(f"layout_{group_name(grp).replace('+', '_')}", pulp.LpMinimize)
    objective: list = []
    stage_vars = [add_stage(prob, sd, policy, objective) for sd in grp]
    for sd, v in zip(grp, stage_vars):
        strengthen_stage(prob, sd, v, policy)
    # Reproducible mode: the drop search tries a fixed number of closures instead of using a share
    # of the clock, so the start (and with it the answer) does not depend on the machine's speed.
    search = dict(max_trials=START_TRIALS) if reproducible else dict(time_budget_s=0.15 * time_limit_s)
    starts = [greedy_start(sd, v, policy, budget if len(grp) == 1 else None, **search)
              for sd, v in zip(grp, stage_vars)]
    expr = LpAffineExpression()
    for term in objective:
        if isinstance(term[0], LpAffineExpression):
            expr += term[0]
        else:
            expr[term[0]] = expr.get(term[0], 0.0) + term[1]
    prob.setObjective(expr)
    if budget is not None:
        for t in range(len(grp[0].years)):
            cap_t = LpAffineExpression()
            for v in stage_vars:
                cap_t += v.capital[t]
            prob.addConstraint(LpConstraint(cap_t, LE, f"budget_{t}", float(budget[t])))
    return GroupModel(group_name(grp), prob, stage_vars, starts, expr, list(grp))


@contextmanager
def _fixed(values: dict):
    """Fix each variable of ``values`` at its value (both bounds) for the ``with`` block, then give
    every one its bounds back, whatever happens inside."""
    saved = [(var, var.lowBound, var.upBound) for var in values]
    for var, value in values.items():
        var.lowBound = var.upBound = value
    try:
        yield
    finally:
        for var, lo, up in saved:
            var.lowBound, var.upBound = lo, up


OPEN_CLASSES_UNKNOWN = -2  #: `warm_openings`: open in the source, its class count not given


def warm_openings(grp: list[StageData], source: pd.DataFrame | None) -> list[np.ndarray] | None:
    """Each stage's ``(T, n_sites)`` decisions of an earlier run's layout (``layout_sites.csv``:
    ``stage, site_id, period, open`` and, as xuewei writes it, ``classes``): 0 closed, the class count
    (≥ 1) when open, `OPEN_CLASSES_UNKNOWN` when open without a class count, -1 where the source has no
    row for that school and period (a site or period the earlier run did not have). ``None`` when the
    source has none of this model's schools.

    >>> sd = StageData("primary", pd.DataFrame({"site_id": ["A", "B"]}), np.array(["v"]), np.ones((1, 2)),
    ...                np.array([0]), np.array([0]), np.array([1.0]), np.array([False]), np.array([5.0, 5.0]),
    ...                periods=[2025, 2030])
    >>> src = pd.DataFrame({"stage": ["primary"] * 3, "site_id": ["A", "A", "B"], "period": [2025, 2030, 2025],
    ...                     "open": [True, False, True], "classes": [6, 0, 2]})
    >>> warm_openings([sd], src)[0].tolist()
    [[6, 2], [0, -1]]
    >>> warm_openings([sd], src.drop(columns="classes"))[0].tolist()
    [[-2, -2], [0, -1]]
    """
    if source is None or source.empty:
        return None
    out, found = [], False
    for sd in grp:
        rows = source[source["stage"] == sd.stage]
        table = np.full((len(sd.periods), len(sd.sites)), -1, dtype=np.int32)
        if len(rows):
            site_pos = pd.Index(sd.sites["site_id"]).get_indexer(rows["site_id"])
            period_pos = pd.Index(sd.periods).get_indexer(rows["period"])
            ok = (site_pos >= 0) & (period_pos >= 0)
            is_open = rows["open"].to_numpy(bool)
            if "classes" in rows:
                classes = pd.to_numeric(rows["classes"], errors="coerce").fillna(0).to_numpy().round().astype(np.int64)
                value = np.where(is_open, np.where(classes >= 1, classes, OPEN_CLASSES_UNKNOWN), 0)
            else:
                value = np.where(is_open, OPEN_CLASSES_UNKNOWN, 0)
            table[period_pos[ok], site_pos[ok]] = value[ok]
            found = found or bool(ok.any())
        out.append(table)
    return out if found else None


def _warm_candidate(gm: GroupModel, warm: list[np.ndarray], solver: str, time_limit_s: float, gap_rel: float,
                    nodes: int) -> tuple[dict | None, float | None]:
    """The model solved with each school's openings fixed at an earlier run's (``warm``, from
    `warm_openings`; schools and periods it lacks stay free), at most ``nodes`` nodes, one thread, with
    the source's class counts as a partial start (the solver completes it when it can); a decision this
    model's bounds forbid (a school a variant keeps or closes by rule) is left free. Returns the answer
    (variable → value) and its objective without the constant, or ``(None, None)`` when those openings
    are infeasible here (e.g. a township seat left without a school) or the solver found no answer.
    The bounds of the ``o`` variables are restored."""
    fixed, hint = {}, {}
    for v, table in zip(gm.stage_vars, warm):
        for t, per_t in enumerate(v.o):
            for s in np.flatnonzero(table[t] != -1):
                var, value = per_t[s], float(table[t, s] != 0)
                if (var.lowBound is not None and value < var.lowBound) or (var.upBound is not None and value > var.upBound):
                    continue  # a decision this model forbids (e.g. keep every school): left to the solver
                fixed[var] = value
                k = v.k[t][s]
                if table[t, s] >= 1 and (k.upBound is None or table[t, s] <= k.upBound):
                    hint[var], hint[k] = 1.0, float(table[t, s])
                elif table[t, s] == 0:
                    hint[var], hint[k] = 0.0, 0.0
    with _fixed(fixed):
        try:
            run = solve_problem(gm.prob, solver=solver, time_limit_s=time_limit_s, gap_rel=gap_rel, threads=1,
                                start=hint or None, max_nodes=nodes)
        except SolveError:
            run = None
    if run is None or run.objective is None:
        return None, None
    return {var: var.varValue for var in gm.prob.variables() if var.varValue is not None}, float(run.objective)


def _solve_group(grp: list[StageData], policy: PolicyConfig, budget, solver: str, time_limit_s: float,
                 gap_rel: float, threads: int, max_nodes: int | None = None, search: Search = Search(),
                 warm: list[np.ndarray] | None = None):
    """Build and solve one independent model (one stage, or all stages under a shared budget): greedy
    start, local search on it (`xuewei.optimizer.improve`, ``search.improve_sweeps`` sweeps), the
    solver, then in reproducible mode the polish with the openings fixed (`_polish`) and local search
    on the answer (`_refine`).

    ``warm`` (`warm_openings` of an earlier run, e.g. a batch's baseline): the model is first solved
    with the openings fixed at that run's (`_warm_candidate`); when that answer is cheaper than the
    greedy start, the solver starts from it instead, so the answer is never dearer than the earlier
    run's openings allow here."""
    name = group_name(grp)
    t0 = time.perf_counter()
    gm = build_group(grp, policy, budget, max_nodes is not None, time_limit_s)
    prob, stage_vars, starts, expr = gm.prob, gm.stage_vars, gm.starts, gm.objective
    build_s = time.perf_counter() - t0
    start = {var: var.varValue for var in prob.variables() if var.varValue is not None}
    offset = float(expr.constant)  # the solver sees no constant term; add it back
    greedy_cost = float(sum(st["cost"] for st in starts))
    improved_cost, improve_s, clock = greedy_cost, 0.0, False
    pairs = sum(len(sd.pair_node) for sd in grp)
    warm_cost, warm_s = None, 0.0
    if warm is not None:
        tw = time.perf_counter()
        answer, objective = _warm_candidate(gm, warm, solver, time_limit_s, gap_rel, max(1, search.polish_nodes))
        warm_s = time.perf_counter() - tw
        if objective is not None:
            warm_cost = objective + offset
            if warm_cost < greedy_cost - 1e-6 * max(1.0, abs(greedy_cost)):
                start, improved_cost = answer, warm_cost
        for var, value in start.items():  # the chosen start, for the local search and the solver
            var.varValue = value
    if search.improve_sweeps and pairs >= IMPROVE_MIN_PAIRS:
        from xuewei.optimizer.improve import improve

        # Reproducible mode: sweeps and node limits only (the clock is a safety net at the whole
        # model's limit); time mode: the search may use 40% of the model's time.
        share = 1.0 if max_nodes is not None else 0.4
        start, rep = improve(gm, start, max_sweeps=search.improve_sweeps, deadline=time.perf_counter() + share * time_limit_s)
        improved_cost, improve_s, clock = rep.after + offset, rep.seconds, rep.clock_stopped
    try:
        report: SolveReport = solve_problem(prob, solver=solver, time_limit_s=time_limit_s, gap_rel=gap_rel,
                                            threads=threads, start=start, max_nodes=max_nodes)
    except SolveError as err:
        within_budget = budget is None or all(
            sum(st["capital"][t] for st in starts) <= budget[t] + 1e-6 for t in range(len(budget)))
        if err.status != "not_solved" or not within_budget:
            raise
        # Out of time before the solver kept any solution: the (improved) start is feasible, use it
        # and say so (no proven bound).
        for var, value in start.items():
            var.varValue = value
        report = SolveReport("heuristic", improved_cost - offset, None, None, solver, None, time_limit_s)
    if report.objective is None:  # infeasible: never read a layout that is not there
        share = "" if budget is None else "（本模型分得的投资：" + "；".join(f"{b:,.0f}" for b in budget) + " 万元）"
        raise SolveError(f"模型 {name} 无可行解{share}：求解器状态 {report.status}。请检查强制开放的学校、"
                         "乡镇驻地必保的学校与投资上限（policy.budget_wan_yuan）。", status=report.status)
    root_cost = None if report.objective is None else report.objective + offset
    polish_s = refine_s = 0.0

    def still_open(step: int) -> bool:  # a step after the solver runs (reproducible mode) while the gap is large
        # Whatever the model's size: a 171-pair kindergarten part of a growing county seat stopped 36%
        # off with the solver's answer, and the polish and the refine search cut it by a third (§4.14).
        return (max_nodes is not None and bool(step)
                and report.gap is not None and report.gap > max(gap_rel, POLISH_MIN_GAP))

    if still_open(search.polish_nodes):
        report, polish_s = _polish(gm, report, solver, time_limit_s, gap_rel, search.polish_nodes)
    polished_cost = None if report.objective is None else report.objective + offset
    if still_open(search.refine_sweeps):
        report, refine_s, refine_clock = _refine(gm, report, search.refine_sweeps, deadline=t0 + time_limit_s)
        clock = clock or refine_clock
    refined_cost = None if report.objective is None else report.objective + offset
    finish_s = 0.0
    # The finish runs on small models too: a small part under a tight budget share can stop at its
    # root with a gap of 10% and more, and there nodes cost next to nothing (docs/performance.md §4.11).
    # Under a share it uses up, larger models too (`FINISH_BUDGET_MAX_PAIRS`).
    finish_pairs = FINISH_BUDGET_MAX_PAIRS if _share_binds(grp, stage_vars, policy, budget) else FINISH_MAX_PAIRS
    if (max_nodes is not None and search.finish_nodes and pairs < finish_pairs and report.gap is not None
            and report.gap > max(gap_rel, FINISH_MIN_GAP)):
        report, finish_s = _finish(gm, report, solver, max(1.0, t0 + time_limit_s - time.perf_counter()), gap_rel,
                                   search.finish_nodes)
    finished_cost = None if report.objective is None else report.objective + offset
    swap_s = 0.0
    if (max_nodes is not None and search.swap_rounds and pairs < SWAP_MAX_PAIRS and report.gap is not None
            and report.gap > max(gap_rel, FINISH_MIN_GAP)):
        report, swap_s, swap_clock = _swap(gm, report, search.swap_rounds, deadline=t0 + time_limit_s)
        clock = clock or swap_clock
    frames = [_read_stage(sd, v, policy) for sd, v in zip(grp, stage_vars)]
    # capital each period spends [万元] (what a budget share is measured against: `_reallocate`)
    capital = [float(sum(pulp.value(v.capital[t]) or 0.0 for v in stage_vars)) for t in range(len(grp[0].years))]
    summary = {"model": name, "status": report.status,
               "objective_wan_yuan": None if report.objective is None else report.objective + offset,
               "bound_wan_yuan": None if report.bound is None else report.bound + offset, "gap": report.gap, "solver": report.solver,
               "stop": "time_limit" if clock and max_nodes is not None else report.stop, "nodes": report.nodes,
               "greedy_wan_yuan": greedy_cost,
               "improved_wan_yuan": improved_cost, "improve_seconds": improve_s,
               "solver_answer_wan_yuan": root_cost, "polish_seconds": polish_s,
               "polished_wan_yuan": polished_cost, "refine_seconds": refine_s,
               "refined_wan_yuan": refined_cost, "finish_seconds": finish_s,
               "finished_wan_yuan": finished_cost, "swap_seconds": swap_s,
               **({} if warm is None else {"warm_wan_yuan": warm_cost, "warm_seconds": warm_s}),
               "time_limit_s": time_limit_s, "build_seconds": build_s, "solve_seconds": report.seconds,
               "variables": len(prob.variables()), "constraints": len(prob.constraints),
               "capital_wan_yuan": capital}
    return frames, summary


def _share_binds(grp: list[StageData], stage_vars: list, policy: PolicyConfig, budget) -> bool:
    """The model's current answer leaves less than one class's capital (`class_capital`) of its budget
    share in some period."""
    if budget is None:
        return False
    unit = min(class_capital(policy, sd.stage) for sd in grp)
    return any(float(budget[t]) - sum(pulp.value(v.capital[t]) or 0.0 for v in stage_vars) < unit
               for t in range(len(budget)))


def _solve_from_answer(gm: GroupModel, report: SolveReport, solver: str, time_limit_s: float, gap_rel: float,
                       nodes: int) -> tuple[SolveReport | None, bool]:
    """Solve ``gm`` as it stands (one thread, at most ``nodes`` nodes) from its current answer.
    Returns the run (``None`` when the solver failed) and whether it found an answer cheaper than
    ``report.objective``; unless it did, the variables get the current answer back."""
    answer = {var: var.varValue for var in gm.prob.variables()}
    try:
        run = solve_problem(gm.prob, solver=solver, time_limit_s=time_limit_s, gap_rel=gap_rel, threads=1,
                            start=answer, max_nodes=nodes)
    except SolveError:
        run = None
    cheaper = (run is not None and run.objective is not None
               and run.objective < report.objective - 1e-6 * abs(report.objective))
    if not cheaper:
        for var, value in answer.items():  # keep the first answer
            var.varValue = value
    return run, cheaper


def _polish(gm: GroupModel, report: SolveReport, solver: str, time_limit_s: float, gap_rel: float,
            nodes: int) -> tuple[SolveReport, float]:
    """Re-solve ``gm`` with every ``o`` (school open in a period) fixed at the current answer, from
    that answer, for at most ``nodes`` nodes; keep the cheaper answer. Returns the report (objective
    and gap updated; status, bound and stop of the whole model's run kept) and the seconds spent.

    Fixing the openings leaves a much smaller problem (which villages go where, how many classes,
    beds) whose own root cuts and heuristics often find a cheaper answer than the whole model's root
    (docs/performance.md, section 4). The bound stays the whole model's: the fixed problem's bound
    holds only for these openings.
    """
    t0 = time.perf_counter()
    opens = {var: float(round(var.varValue or 0.0)) for v in gm.stage_vars for per_t in v.o for var in per_t}
    with _fixed(opens):
        fixed, cheaper = _solve_from_answer(gm, report, solver, time_limit_s, gap_rel, nodes)
    if not cheaper:
        return report, time.perf_counter() - t0
    gap = _rel_gap(fixed.objective, report.bound)
    stop = "time_limit" if fixed.stop == "time_limit" else report.stop
    return replace(report, objective=fixed.objective, gap=gap, stop=stop), time.perf_counter() - t0


def _refine(gm: GroupModel, report: SolveReport, sweeps: int, deadline: float) -> tuple[SolveReport, float, bool]:
    """Local search on the current answer of ``gm`` (`xuewei.optimizer.improve`): each school with
    the `REFINE_NEIGHBOURS` schools that share most villages with it is re-optimised exactly
    (openings, classes, catchments) with the rest fixed, `REFINE_SUB_NODES` nodes each, in a fixed
    order. Only improvements are kept. Returns the report (objective and gap updated against the
    whole model's bound), the seconds spent, and whether ``deadline`` (the model's safety limit)
    stopped it — then the answer depends on the clock.
    """
    from xuewei.optimizer.improve import improve

    return _keep_cheaper(gm, report, lambda answer: improve(
        gm, answer, max_sweeps=sweeps, neighbours=REFINE_NEIGHBOURS, sub_nodes=REFINE_SUB_NODES, deadline=deadline))


def _keep_cheaper(gm: GroupModel, report: SolveReport, search) -> tuple[SolveReport, float, bool]:
    """Run ``search(answer)`` (a local search returning ``({variable: value}, report)`` with ``after``
    and ``clock_stopped``) on the current answer of ``gm``; keep its answer only when it is cheaper, the
    gap stated against the whole model's bound. Returns the report, the seconds spent and whether the
    search's safety limit stopped it."""
    t0 = time.perf_counter()
    out, rep = search({var: var.varValue for var in gm.prob.variables()})
    if rep.after >= report.objective - 1e-6 * max(1.0, abs(report.objective)):
        return report, time.perf_counter() - t0, rep.clock_stopped
    for var, value in out.items():
        var.varValue = value
    return (replace(report, objective=rep.after, gap=_rel_gap(rep.after, report.bound)), time.perf_counter() - t0,
            rep.clock_stopped)


def _swap(gm: GroupModel, report: SolveReport, rounds: int, deadline: float) -> tuple[SolveReport, float, bool]:
    """Opening swaps on the current answer of ``gm`` (`xuewei.optimizer.swap`), kept as `_refine` keeps
    its answer (`_keep_cheaper`); ``deadline`` is the model's safety limit."""
    from xuewei.optimizer.swap import swap_search

    return _keep_cheaper(gm, report, lambda answer: swap_search(gm, answer, rounds, deadline=deadline))


def _finish(gm: GroupModel, report: SolveReport, solver: str, time_limit_s: float, gap_rel: float,
            nodes: int) -> tuple[SolveReport, float]:
    """Branch and bound on the whole of ``gm`` from its current answer, for at most ``nodes`` nodes
    (one thread, fixed seed). Keeps the cheaper answer and the higher bound (both runs bound the same
    model); returns the report and the seconds spent. For small models the local search leaves
    far from the best: on the growing county's kindergarten model (596 pairs) 300 nodes find an
    answer 2.3% cheaper than the search's, while 600 s of branching on the primary models gain at
    most 0.24% (docs/performance.md §4.10), hence `FINISH_MAX_PAIRS`.
    """
    t0 = time.perf_counter()
    more, cheaper = _solve_from_answer(gm, report, solver, time_limit_s, gap_rel, nodes)
    if more is None or more.objective is None:
        return report, time.perf_counter() - t0
    bound = report.bound if more.bound is None else max(report.bound, more.bound)
    objective = more.objective if cheaper else report.objective
    gap = _rel_gap(objective, bound)
    status, stop = ("optimal", "") if gap <= gap_rel else (report.status, report.stop)
    if more.stop == "time_limit":  # the safety limit: the answer or the bound may depend on the clock
        stop = "time_limit"
    return (replace(report, objective=objective, bound=bound, gap=gap, stop=stop, status=status,
                    nodes=(report.nodes or 0) + (more.nodes or 0)), time.perf_counter() - t0)


def group_name(grp: list[StageData]) -> str:
    if len(grp) > 1 and len({sd.stage for sd in grp}) == 1 and all(sd.part for sd in grp):
        return f"{grp[0].stage}#{grp[0].part}-{grp[-1].part}"
    return "+".join(sd.name for sd in grp)


def mandatory_capital(sd: StageData, policy: PolicyConfig) -> np.ndarray:
    """The least capital any layout of ``sd`` must spend, per period [万元]: schools it must open.

    A site forced open (``force_open``) and, for each township seat group (``seat_groups``) with
    no such site, its cheapest site to open: ``build_fixed`` plus one class at the build or
    expansion cost when the site has none today (an existing school with classes stays open for
    nothing). Both constraints hold from the first period, and a new school never closes, so
    all of it falls in the first period. A budget share below this leaves the model without any
    layout (`_split_budget` gives each model at least this).

    >>> sites = pd.DataFrame({"origin": ["existing", "candidate", "candidate"], "c0": [10, 0, 0],
    ...                       "build_fixed": [0.0, 500.0, 300.0], "force_open": [False, False, False]})
    >>> sd = StageData("junior", sites, np.array(["v"]), np.zeros((1, 2)), np.zeros(0, int), np.zeros(0, int),
    ...                np.zeros(0), np.zeros(0, bool), np.array([5, 5]), seat_groups=[np.array([0, 1]), np.array([1, 2])])
    >>> p = PolicyConfig()
    >>> mandatory_capital(sd, p).tolist()  # seat 1 keeps school 0; seat 2 builds site 2 (300 + one class)
    [450.0, 0.0]
    """
    out = np.zeros(sd.demand.shape[1])
    if len(out):
        out[0] = sum(cost for _j, cost in mandatory_openings(sd, policy))
    return out


def mandatory_openings(sd: StageData, policy: PolicyConfig) -> list[tuple[int, float]]:
    """The sites `mandatory_capital` counts, as ``(site position, capital [万元])``, with capital > 0."""
    sites = sd.sites
    unit = class_unit_capital(sites, policy, sd.stage)
    opening = sites["build_fixed"].to_numpy(float) + unit * (sites["c0"].to_numpy(float) < 1)
    forced = sites["force_open"].to_numpy(bool)
    picks = [int(j) for j in np.flatnonzero(forced)]
    picks += [int(grp[np.argmin(opening[grp])]) for grp in sd.seat_groups if len(grp) and not forced[grp].any()]
    return [(j, float(opening[j])) for j in picks if opening[j] > 0]


def _split_budget(stages: list[StageData], policy: PolicyConfig, budget: list[float] | None) -> list:
    """Each stage's share of the per-period budget: first the capital it cannot do without
    (`mandatory_capital`), then the rest in proportion to what its greedy layout needs beyond that
    (equal shares where no stage needs more). A joint model of all stages under one budget is
    exact but, on a county, far too slow for HiGHS; the split is stated in the solver summary.
    A period whose budget is below what all stages must spend gets the floors in proportion (no
    layout fits; `budget_shortfall` lets the caller say so first).

    Proportional shares alone once gave a junior model with three township seats to build on 565
    of 3,000 万元 when its seats alone needed 1,950: it had no layout at all.
    """
    if budget is None:
        return [None] * len(stages)
    B = np.asarray(budget, dtype=float)
    floor = np.array([mandatory_capital(sd, policy) for sd in stages])
    need = np.maximum(np.array([_greedy(sd, policy, np.zeros(len(sd.sites), dtype=bool))["capital"]
                                for sd in stages]) - floor, 0.0)
    total, floors = need.sum(axis=0), floor.sum(axis=0)
    rest = np.maximum(B - floors, 0.0)
    share = np.where(total > 0, need / np.where(total > 0, total, 1.0), 1.0 / len(stages))
    scale = np.where(floors > B, B / np.where(floors > 0, floors, 1.0), 1.0)
    out = floor * scale + rest * share
    return [list(out[i]) for i in range(len(stages))]


def budget_shortfall(stages: list[StageData], policy: PolicyConfig, budget: list[float]) -> list[tuple]:
    """Periods whose budget is below what the layout must spend (`mandatory_capital` of all stages):
    ``(period position, budget [万元], needed [万元], [(stage, site_id, capital [万元]), ...])`` for
    each; empty when the budget covers it. Only the first period can fall short (see
    `mandatory_capital`)."""
    must = [(sd.stage, str(sd.sites["site_id"].iloc[j]), c) for sd in stages for j, c in mandatory_openings(sd, policy)]
    need = sum(c for _g, _s, c in must)
    if budget and need > float(budget[0]) + 1e-6:
        return [(0, float(budget[0]), need, must)]
    return []


#: Each model's time, step by step [s] (its summary; manifest.json ``models``): building it, the warm
#: start, the local search before the solver, the solver, the polish, the refine search, the finish and
#: the opening swaps.
STEP_SECONDS = ("build_seconds", "warm_seconds", "improve_seconds", "solve_seconds", "polish_seconds",
                "refine_seconds", "finish_seconds", "swap_seconds")

#: Rounds of `_reallocate` (each re-solves the models whose share bound and got more). After the
#: first, only models of fewer than `REALLOCATE_LATER_PAIRS` village–school pairs take part: on the
#: demo under a 20,000 万元 budget a second round re-solved the primary model again (another ~150 s
#: under load) for the little money the first left over, while a small kindergarten part re-solves in
#: seconds and a village of it may need only one more class (docs/performance.md §4.12).
REALLOCATE_ROUNDS = 3
REALLOCATE_LATER_PAIRS = 1000


def class_capital(policy: PolicyConfig, stage: str) -> float:
    """The least capital one more class of ``stage`` costs [万元] (expanding a school or building on a site):
    a budget share with less than this left is used up (`_reallocate`)."""
    return float(min(policy.expand_per_class_wan_yuan[stage], policy.build_per_class_wan_yuan[stage]))


def _reallocate(budget: list[float], shares: list[list[float]], spent: np.ndarray, unserved: np.ndarray,
                unit: np.ndarray, eligible: np.ndarray | None = None) -> tuple[list[list[float]], list[int]]:
    """Hand the budget a split left unspent to the models whose share it bound.

    ``spent`` and ``unserved`` are ``(models, periods)``: capital each model's answer spends [万元]
    and the pupils it leaves unserved; ``unit`` ``(models,)`` the least a class costs there
    (`class_capital`); ``eligible`` ``(models,)`` which may get more (default all). In a period where
    some money is left (the budget less what all models spend) and some eligible model has less than
    ``unit`` of its share left (it bound), every model's share becomes
    what it spends, and the money left goes to the models whose share bound and that leave pupils
    unserved: one class's worth (``unit``) to each while it lasts, most unserved pupils first, and the
    rest in proportion to their unserved pupils; a model that gets nothing keeps what it spends. Other periods keep their shares (money for a model that
    serves everyone would only trade running costs for capital, at the price of solving it again). The shares still add up to the budget and every answer still fits its share, so
    only the models that got more need solving again. Returns the new shares and those models.

    >>> unit = np.array([8.0, 8.0])
    >>> new, todo = _reallocate([100.0], [[60.0], [40.0]], np.array([[55.0], [10.0]]), np.array([[5.0], [0.0]]), unit)
    >>> [round(b[0], 6) for b in new], todo
    ([90.0, 10.0], [0])
    >>> _reallocate([100.0], [[60.0], [40.0]], np.array([[50.0], [10.0]]), np.array([[5.0], [0.0]]), unit)[1]
    []
    >>> _reallocate([100.0], [[60.0], [40.0]], np.array([[60.0], [10.0]]), np.array([[0.0], [0.0]]), unit)[1]
    []
    >>> _reallocate([100.0], [[60.0], [40.0]], np.array([[55.0], [10.0]]), np.array([[5.0], [0.0]]), unit,
    ...             eligible=np.array([False, True]))[1]
    []
    >>> new, todo = _reallocate([100.0], [[30.0], [30.0], [40.0]], np.array([[25.0], [25.0], [40.0]]),
    ...                         np.array([[9.0], [1.0], [0.0]]), np.array([8.0, 8.0, 8.0]))
    >>> [round(b[0], 6) for b in new], todo  # 10 left: one class for the first, not two slivers
    ([35.0, 25.0, 40.0], [0])
    """
    share = np.asarray(shares, dtype=float)
    left = np.asarray(budget, dtype=float) - spent.sum(axis=0)
    binding = share - spent < np.asarray(unit, dtype=float)[:, None]
    if eligible is not None:
        binding &= np.asarray(eligible, dtype=bool)[:, None]
    new, todo = share.copy(), set()
    for t in range(share.shape[1]):
        weight = np.where(binding[:, t], unserved[:, t], 0.0)
        if left[t] <= 1.0 or weight.sum() <= 0:
            continue
        # One class's worth each first, most unserved pupils first (a share split pro rata into slivers
        # smaller than a class buys nothing), then the rest pro rata.
        add, rest = np.zeros(len(share)), float(left[t])
        for i in sorted(np.flatnonzero(weight > 0).tolist(), key=lambda i: -weight[i]):
            if rest >= unit[i]:
                add[i], rest = unit[i], rest - unit[i]
        got = add > 0
        if got.any():
            add[got] += rest * weight[got] / weight[got].sum()
        new[:, t] = spent[:, t] + add
        todo |= set(np.flatnonzero(got).tolist())
    return [[float(b) for b in row] for row in new], sorted(todo)


PARALLEL_MIN_PAIRS = 3000  #: pairs in all models below which they are solved one by one (a process start costs ~2 s)
IMPROVE_MIN_PAIRS = 200  #: smaller models skip the local search before the solver (``Search.improve_sweeps``)
#: The polish runs only on models whose gap after the solver is above this (and above ``gap_rel``):
#: on the benchmark regions, models between 0.5% and 1% gained at most 0.3 points for 4–30 s each,
#: most nothing (docs/performance.md, section 4.7).
POLISH_MIN_GAP = 0.01
#: The refine search after the polish (`Search.refine_sweeps`): neighbourhood size and nodes per
#: neighbourhood. 20 nodes gave the same answers as 200 (the neighbourhoods are solved at their root);
#: 4 schools per neighbourhood were measured against 3 and 5 (docs/performance.md §4.8).
REFINE_NEIGHBOURS = 4
REFINE_SUB_NODES = 20
REFINE_SWEEPS = 1  #: default sweeps of the refine search (`Search.refine_sweeps`)
#: The finish (`Search.finish_nodes`, `_finish`): branch and bound on the whole model from its answer,
#: only for models of fewer pairs than this whose gap is still above `FINISH_MIN_GAP` after the refine
#: search: there nodes are cheap and pay; on the primary models 600 s of branching gained at most 0.24%.
FINISH_MAX_PAIRS = 1000
FINISH_MIN_GAP = 0.02
#: The opening swaps (`Search.swap_rounds`, `xuewei.optimizer.swap`) after the finish, on models of fewer
#: pairs than this whose gap is still above `FINISH_MIN_GAP` (docs/performance.md §4.14).
SWAP_MAX_PAIRS = 1000
SWAP_ROUNDS = 3  #: default rounds of the opening swaps
FINISH_NODES = 300  #: default node limit of the finish
#: Under a budget share its answer uses up (`_share_binds`), the finish runs on models of fewer pairs than
#: this: there the root answer is far from what nodes find (江阳 under 3,000 万元: 300 nodes cut the
#: junior model's answer by 6.7% in 15 s, primary's by 6.7%), while on the 2,724-pair 巫溪 primary
#: model under 20,000 万元 they found nothing better in 180 s (docs/performance.md §4.13).
FINISH_BUDGET_MAX_PAIRS = 2000
POLISH_NODES = 1  #: default node limit of the polish with openings fixed (`Search.polish_nodes`): the answer comes from the fixed
#: problem's root; 1 and 20 nodes gave the same answers on four models, 20 took 1.4–1.8× as long (docs/performance.md §4.7)


def solve_layout(stages: list[StageData], policy: PolicyConfig, solver: str = "highs", time_limit_s: float = 60,
                 gap_rel: float = 0.005, threads: int = 2, joint: bool | None = None, progress=None,
                 max_nodes: int | None = None, workers: int = 1,
                 min_parallel_pairs: int | None = None, dask_client=None, on_model=None,
                 improve_sweeps: int = 0, polish_nodes: int = POLISH_NODES,
                 refine_sweeps: int = REFINE_SWEEPS, finish_nodes: int = FINISH_NODES,
                 swap_rounds: int = SWAP_ROUNDS, warm_source: pd.DataFrame | None = None) -> LayoutResult:
    """Build and solve the layout: one model per stage and independent part (a budget is split
    between the stages by `_split_budget`; ``joint=True`` solves all stages as one model under the
    whole budget instead).

    Two ways to stop each model:

    - ``max_nodes`` given (reproducible mode): HiGHS stops after that many branch-and-bound nodes,
      with one thread and a fixed seed, and the greedy start tries a fixed number of closures, so
      the answer does not depend on the machine or its load. ``time_limit_s`` is then only a safety
      net for each model; a model stopped by it is reported as ``time_limit`` (not reproducible).
    - otherwise the whole solve takes about ``time_limit_s``: each model gets a share of the time
      by its size, and in sequence the time a small model does not need passes to the larger ones.

    With ``workers`` > 1 and several models, the models are solved side by side in that many
    processes, largest first, once the models have ``min_parallel_pairs`` village–school pairs in all
    (default `PARALLEL_MIN_PAIRS`; below it starting the processes costs more than it saves).
    Results never depend on the number of workers in reproducible mode.

    With ``dask_client`` (``xuewei run --dask``), or when this run is itself a task on a Dask worker
    (a variant of ``xuewei batch --dask``), the models go to that Dask cluster as tasks instead
    (`xuewei.optimizer.dask_solve`); a daemonic process that is not a Dask worker solves them one by
    one, since it may not start a pool.

    ``on_model(done, total, summary)``, if given, is called as each model is solved (in the order
    they finish) with the model's solver summary (a dict with ``model``, ``gap``, ...), for a live
    progress display.

    ``warm_source``: an earlier run's ``layout_sites.csv`` (``stage, site_id, period, open``; e.g. a
    batch's baseline, ``solver.warm_start``). Each model is first solved with its openings fixed at
    that run's and starts from that answer when it is cheaper than the greedy start (`_solve_group`).
    """
    from xuewei.optimizer import dask_solve

    budget = policy.budget_for(len(stages[0].years)) if stages else None
    joint = False if joint is None else joint
    budgets = [budget] if joint else _split_budget(stages, policy, budget)
    groups = [stages] if joint else [[sd] for sd in stages]
    sizes = np.array([sum(len(sd.pair_node) for sd in grp) + 1 for grp in groups], dtype=float)
    order = np.argsort(sizes, kind="stable")
    workers = max(1, min(int(workers), len(groups)))
    big_enough = sizes.sum() >= (PARALLEL_MIN_PAIRS if min_parallel_pairs is None else min_parallel_pairs)
    if not big_enough:
        workers = 1
    on_dask = len(groups) > 1 and (dask_client is not None or (big_enough and dask_solve.running_in_dask_worker()))
    if workers > 1 and not on_dask and not dask_solve.may_start_processes():
        workers = 1  # a daemonic process may not start a pool of its own
        if progress:
            progress("本进程不能再启动子进程（守护进程）：各模型逐个求解")
    reproducible = max_nodes is not None
    search = Search(improve_sweeps, polish_nodes, refine_sweeps, finish_nodes, swap_rounds)
    warms = [warm_openings(grp, warm_source) for grp in groups]
    if warm_source is not None and progress:
        used = sum(w is not None for w in warms)
        progress(f"热启动：{used} / {len(groups)} 个模型在来源中有对应的学校" if used else
                 "热启动：来源中没有本次任何模型的学校（区域或学校编号不同？），全部从贪心初始解出发")
    solve_threads = 1 if reproducible else max(1, threads // workers)

    def solve_some(idxs: list[int], budgets_: list, warms_: list, on_model_=None, polish: bool = True) -> dict[int, tuple]:
        """Solve the models ``idxs`` (positions in ``groups``) the way this run solves models (``polish``
        False: without the polish, `Search.polish_nodes`)."""
        srch = search if polish else replace(search, polish_nodes=0)
        g_sub, b_sub, w_sub = [groups[i] for i in idxs], [budgets_[i] for i in idxs], [warms_[i] for i in idxs]
        s_sub = sizes[idxs]
        o_sub = np.argsort(s_sub, kind="stable")
        if on_dask:
            got = _solve_dask(dask_client, g_sub, b_sub, s_sub, policy, solver, time_limit_s, gap_rel,
                              max_nodes, progress, srch, on_model_, w_sub)
        elif workers > 1 and len(idxs) > 1:
            got = _solve_parallel(g_sub, b_sub, s_sub, o_sub, policy, solver, time_limit_s, gap_rel,
                                  solve_threads, max_nodes, min(workers, len(idxs)), progress, on_model_, srch, w_sub)
        else:
            got = {}
            deadline = time.perf_counter() + time_limit_s
            if progress and len(idxs) > 1:
                progress(f"求解：{len(idxs)} 个模型，逐个求解（小的先解）")
            for n, k in enumerate(o_sub):
                if reproducible:
                    limit = float(time_limit_s)
                else:
                    remaining = max(0.0, deadline - time.perf_counter())
                    limit = max(5.0, remaining * s_sub[k] / s_sub[o_sub[n:]].sum())
                if progress and s_sub[k] >= 0.05 * sizes.sum():  # not one line for each of a city's 1,000 small parts
                    progress("求解：" + group_name(g_sub[k]) + f"（时限 {limit:.0f} 秒）")
                got[k] = _solve_group(g_sub[k], policy, b_sub[k], solver, float(limit), gap_rel,
                                      solve_threads, max_nodes, srch, w_sub[k])
                if on_model_:
                    on_model_(n + 1, len(idxs), got[k][1])
        return {idxs[k]: res for k, res in got.items()}

    results = solve_some(list(range(len(groups))), budgets, warms, on_model)
    if budget is not None and len(groups) > 1 and reproducible:
        budgets = _reallocate_rounds(groups, policy, budget, budgets, results, solve_some, progress)
    site_t, asg_t, un_t, unit_t, summaries = [], [], [], [], []
    for idx in order:  # the same order whatever the workers did first
        frames, summary = results[idx]
        capital = summary.pop("capital_wan_yuan", None)
        if budgets[idx] is not None:
            summary["budget_wan_yuan"] = ";".join(f"{b:.0f}" for b in budgets[idx])
            summary["capital_wan_yuan"] = ";".join(f"{max(0.0, b):.0f}" for b in capital)  # never "-0"
        summary["max_nodes"] = max_nodes
        if warm_source is not None:  # every model says whether it could start from the source
            summary.setdefault("warm_wan_yuan", None)
        for s_df, a_df, u_df, n_df in frames:
            site_t.append(s_df), asg_t.append(a_df), un_t.append(u_df), unit_t.append(n_df)
        summaries.append(summary)
    return LayoutResult(pd.concat(site_t, ignore_index=True), pd.concat(asg_t, ignore_index=True),
                        pd.concat(un_t, ignore_index=True), pd.DataFrame(summaries),
                        pd.concat(unit_t, ignore_index=True))


def _reallocate_rounds(groups, policy, budget, budgets, results, solve_some, progress) -> list:
    """Up to `REALLOCATE_ROUNDS` rounds of `_reallocate` (after the first, only among models of fewer
    than `REALLOCATE_LATER_PAIRS` pairs): the models that get more of a period's budget are solved again, starting from their answer (its openings and class counts, `_warm_candidate`).
    A new answer is kept only when it is cheaper; ``results`` is updated in place, and each kept
    model's summary gets ``split_answer_wan_yuan`` (its answer under the first split) and the seconds
    of both solves. Returns the final shares."""
    T = len(budget)
    first = {}
    small = np.array([sum(len(sd.pair_node) for sd in grp) < REALLOCATE_LATER_PAIRS for grp in groups])
    for rnd in range(REALLOCATE_ROUNDS):
        spent = np.array([results[i][1]["capital_wan_yuan"] for i in range(len(groups))], dtype=float)
        unserved = np.zeros((len(groups), T))
        for i, grp in enumerate(groups):
            for _s, _a, u_df, _n in results[i][0]:
                if len(u_df):
                    per = u_df.groupby("period")["pupils"].sum()
                    unserved[i] += per.reindex(grp[0].periods).fillna(0.0).to_numpy(float)
        unit = np.array([min(class_capital(policy, sd.stage) for sd in grp) for grp in groups])
        shares, todo = _reallocate(budget, budgets, spent, unserved, unit, None if rnd == 0 else small)
        if not todo:
            break
        if progress:
            names = [group_name(groups[i]) for i in todo]
            progress("投资上限：各学段分得的份额有 " + "；".join(
                f"{p} 年 {budget[t] - spent[:, t].sum():,.0f} 万元" for t, p in enumerate(groups[0][0].periods)
                if budget[t] - spent[:, t].sum() > 1.0) + f" 没有用完，分给份额已用完、有学生未能安排的 {len(todo)} 个模型（"
                     + "、".join(names[:5]) + ("等" if len(names) > 5 else "") + "）重解")
        warms = [None] * len(groups)
        for i in todo:
            warms[i] = warm_openings(groups[i], pd.concat([f[0] for f in results[i][0]], ignore_index=True))
        # From its own answer (openings fixed, more money) a model needs no polish: that is what the
        # start already is
        again = solve_some(todo, shares, warms, polish=False)
        for i, (frames, summary) in again.items():
            old_frames, old = results[i]
            for key in ("warm_wan_yuan", "warm_seconds"):  # the start was this run's own answer, not a source
                summary.pop(key, None)
                if key in old:
                    summary[key] = old[key]
            for key in STEP_SECONDS:  # both solves' (the warm start is the first's, kept above)
                if key != "warm_seconds":
                    summary[key] = (summary.get(key) or 0.0) + (old.get(key) or 0.0)
            first.setdefault(i, old.get("split_answer_wan_yuan", old["objective_wan_yuan"]))
            if summary["objective_wan_yuan"] is not None and old["objective_wan_yuan"] is not None and \
                    summary["objective_wan_yuan"] <= old["objective_wan_yuan"]:
                summary["split_answer_wan_yuan"] = first[i]
                results[i] = (frames, summary)
            else:
                # Keep the first answer and its bound, under the smaller of the two shares in each period:
                # the answer spends no more than either, and the bound, proven for the first share, holds
                # for any smaller one.
                results[i] = (old_frames, {**old, **{k: summary[k] for k in STEP_SECONDS if k in summary}})
                shares[i] = [min(a, b) for a, b in zip(budgets[i], shares[i])]
        budgets = shares
    return budgets


def _solve_dask(client, groups, budgets, sizes, policy, solver, time_limit_s, gap_rel, max_nodes,
                progress, search: Search = Search(), on_model=None, warms=None) -> dict[int, tuple]:
    """Solve the models as tasks on a Dask cluster (`xuewei.optimizer.dask_solve`). In the
    time-limited mode each model's limit is its share by size of ``slots × time_limit_s`` (slots =
    the cluster's worker threads), at most ``time_limit_s``; HiGHS then uses one thread per model."""
    from xuewei.optimizer import dask_solve

    total = sizes.sum()
    with dask_solve.task_client(client) as c:
        slots = dask_solve.cluster_slots(c)
        jobs = {}
        for idx in range(len(groups)):
            limit = float(time_limit_s) if max_nodes is not None else \
                float(min(time_limit_s, max(5.0, slots * time_limit_s * sizes[idx] / total)))
            jobs[idx] = (groups[idx], policy, budgets[idx], solver, limit, gap_rel, 1, max_nodes, search,
                         None if warms is None else warms[idx])
        if progress:
            progress(f"求解：{len(groups)} 个模型，交给 Dask 集群（{slots} 个工作线程）")
        return dask_solve.solve_on_dask(c, _solve_group, jobs, {i: float(sizes[i]) for i in jobs}, progress,
                                        describe=lambda i: group_name(groups[i]), on_model=on_model)


def _solve_parallel(groups, budgets, sizes, order, policy, solver, time_limit_s, gap_rel, threads, max_nodes,
                    workers, progress, on_model=None, search: Search = Search(), warms=None) -> dict[int, tuple]:
    """Solve the models in a pool of ``workers`` processes, largest first (each worker takes the
    next model when it is free). In the time-limited mode each model's limit is its share by size
    of ``workers × time_limit_s``, at most ``time_limit_s``, so the pool finishes in about
    ``time_limit_s``.

    A `concurrent.futures` pool hands a worker one model at a time (a ``multiprocessing.Pool``
    queues every model's data into its pipe up front and can hang on shutdown when a model fails),
    and a worker that dies makes the pool fail loudly instead of waiting for ever.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    total = sizes.sum()
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that may hold solver threads
    out: dict[int, tuple] = {}
    # Each worker ignores Ctrl-C (the main process kills the workers: reports.runfolder) and dies with
    # the main process even when that is killed outright (xuewei.procs).
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=guard_worker)
    queue = getattr(pool, "_call_queue", None)
    if queue is not None:
        # A model's data is larger than a pipe's buffer: if its worker is killed (Ctrl-C) while the
        # queue's feeder thread is writing it, joining that thread blocks the exit for ever
        # (seen on Python 3.10). Results are only read after every model has been handed over.
        queue.cancel_join_thread()
    finished = False
    try:
        pending = {}
        for idx in order[::-1]:
            if max_nodes is not None:
                limit = float(time_limit_s)
            else:
                limit = float(min(time_limit_s, max(5.0, workers * time_limit_s * sizes[idx] / total)))
            pending[int(idx)] = pool.submit(_solve_group, groups[idx], policy, budgets[idx], solver, limit,
                                            gap_rel, threads, max_nodes, search, None if warms is None else warms[idx])
        if progress:
            progress(f"求解：{len(groups)} 个模型，{workers} 个进程并行（最大的：{group_name(groups[order[-1]])}）")
        position = {fut: idx for idx, fut in pending.items()}
        for fut in as_completed(position):
            idx = position[fut]
            try:
                out[idx] = fut.result()
            except BrokenProcessPool as err:
                raise SolveError(f"求解进程异常退出（模型 {group_name(groups[idx])}，可能是内存不足）；"
                                 f"可设 solver.workers = 1 逐个求解后重试。", status="not_solved") from err
            if on_model:
                on_model(len(out), len(groups), out[idx][1])
            if progress and sizes[idx] >= 0.05 * total:
                progress("已解：" + group_name(groups[idx]))
        finished = True
    finally:
        if not finished:  # a model failed: stop the others now rather than let them run to their limits
            procs = list((getattr(pool, "_processes", None) or {}).values())
            for proc in procs:
                proc.kill()
            for proc in procs:
                proc.join(timeout=5)
        # With the workers dead the pool's manager thread ends at once; waiting for it also reaps a
        # worker that was still starting when the others were killed.
        pool.shutdown(wait=True, cancel_futures=True)
    return out
