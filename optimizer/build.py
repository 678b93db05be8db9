"""Turn the model's arrays into a PuLP problem in bulk.

Variables are created once per kept pair / site option / node; every constraint is built from
slices of those lists with ``LpAffineExpression(zip(vars, coefs))`` (a plain dict construction)
and no per-pair arithmetic on PuLP objects. Measured alternatives are in ``docs/optimizer.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import pulp
from pulp import LpAffineExpression, LpConstraint

LE, GE, EQ = pulp.LpConstraintLE, pulp.LpConstraintGE, pulp.LpConstraintEQ


@dataclass
class ModelArrays:
    """Everything the integer program needs, as flat arrays (positions, not ids).

    Attributes
    ----------
    demand : numpy.ndarray
        ``(n_nodes,)`` demand per node [demand unit, e.g. pupils].
    opt_site, opt_capacity, opt_fixed_cost, opt_min_load : numpy.ndarray
        One entry per site option: its site position, capacity [demand unit; ``inf`` when
        uncapacitated], fixed cost [cost unit] and minimum load [demand unit].
    forced_open : numpy.ndarray of bool
        ``(n_sites,)`` sites that must open one option.
    pair_node, pair_site, pair_cost : numpy.ndarray
        The pairs offered to the model; cost is for the node's whole demand [cost unit].
    placeholder_cost : numpy.ndarray
        ``(n_nodes,)`` cost of the node's placeholder (cheapest pruned pair), ``nan`` when none.
    p : int or None
        Number of options to open in total.
    budget : float or None
        Upper bound on the total fixed cost [cost unit].
    penalty : float or None
        Unserved-demand penalty per unit of demand [cost unit]; ``None`` = all demand must be served.
    single_source, strong_linking : bool
        Binary assignments; add ``x_ij <= sum_o y_jo`` for every pair (always done for uncapacitated sites).
    """

    demand: np.ndarray
    n_sites: int
    opt_site: np.ndarray
    opt_capacity: np.ndarray
    opt_fixed_cost: np.ndarray
    opt_min_load: np.ndarray
    forced_open: np.ndarray
    pair_node: np.ndarray
    pair_site: np.ndarray
    pair_cost: np.ndarray
    placeholder_cost: np.ndarray
    p: int | None = None
    budget: float | None = None
    penalty: float | None = None
    single_source: bool = False
    strong_linking: bool = True
    name: str = "location"
    fixed_open: np.ndarray | None = None  # per option 0/1: fix y (repair of a time-limited run)
    # Modular capacity per option (e.g. classes): integer z in [min, max] when open, each module
    # adding ``opt_module_capacity`` [demand unit] for ``opt_module_cost`` [cost unit].
    opt_module_capacity: np.ndarray | None = None
    opt_module_cost: np.ndarray | None = None
    opt_min_modules: np.ndarray | None = None
    opt_max_modules: np.ndarray | None = None

    def modular(self) -> np.ndarray:
        """Positions of the options with modules."""
        if self.opt_max_modules is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.opt_max_modules > 0)


@dataclass
class BuiltProblem:
    """A PuLP problem and the variables keyed by array position."""

    prob: pulp.LpProblem
    y: list = field(default_factory=list)  # per option
    x: list = field(default_factory=list)  # per pair
    g_nodes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    g: list = field(default_factory=list)  # per node in g_nodes
    u_nodes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    u: list = field(default_factory=list)  # per node in u_nodes
    z_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    z: list = field(default_factory=list)  # modules per option in z_rows


def _variables(prob: pulp.LpProblem, prefix: str, n: int, low, up, cat) -> list:
    make = getattr(prob, "add_variable", None)  # PuLP >= 3.3; older PuLP: the class itself
    if make is None:
        return [pulp.LpVariable(f"{prefix}{i}", low, up, cat) for i in range(n)]
    return [make(f"{prefix}{i}", low, up, cat) for i in range(n)]


def _groups(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable order of ``keys`` and the start of each key's block (length ``n + 1``)."""
    order = np.argsort(keys, kind="stable")
    starts = np.searchsorted(keys[order], np.arange(n + 1))
    return order, starts


def build_problem(a: ModelArrays) -> BuiltProblem:
    """Build the location–allocation MIP (formulation in ``docs/optimizer.md``)."""
    prob = pulp.LpProblem(a.name.replace(" ", "_") or "location", pulp.LpMinimize)
    add = prob.addConstraint
    n_nodes = len(a.demand)
    total_demand = float(a.demand.sum())
    cat_x = pulp.LpBinary if a.single_source else pulp.LpContinuous

    y = _variables(prob, "y_", len(a.opt_site), 0, 1, pulp.LpBinary)
    if a.fixed_open is not None:
        for var, value in zip(y, a.fixed_open.tolist()):
            var.lowBound = var.upBound = value
    x = _variables(prob, "x_", len(a.pair_node), 0, 1, cat_x)
    g_nodes = np.flatnonzero(np.isfinite(a.placeholder_cost))
    g = _variables(prob, "g_", len(g_nodes), 0, 1, pulp.LpContinuous)
    active = np.flatnonzero(a.demand > 0)  # zero-demand nodes need no assignment
    u_nodes = active if a.penalty is not None else np.zeros(0, dtype=np.int64)
    u = _variables(prob, "u_", len(u_nodes), 0, 1, pulp.LpContinuous)
    z_rows = a.modular()
    z = _variables(prob, "z_", len(z_rows), 0, None, pulp.LpInteger)

    # Objective: fixed + assignment + placeholder + unserved penalty, one dict construction.
    terms = list(zip(y, a.opt_fixed_cost.tolist()))
    terms += zip(x, a.pair_cost.tolist())
    terms += zip(g, a.placeholder_cost[g_nodes].tolist())
    if a.penalty is not None:
        terms += zip(u, (a.penalty * a.demand[u_nodes]).tolist())
    if len(z_rows):
        terms += zip(z, a.opt_module_cost[z_rows].tolist())
    prob.setObjective(LpAffineExpression(terms))

    # Modules only when the option is open: min * y <= z <= max * y.
    for t, r in enumerate(z_rows.tolist()):
        add(LpConstraint(LpAffineExpression([(z[t], 1.0), (y[r], -float(a.opt_max_modules[r]))]), LE, f"zmax_{r}", 0))
        if a.opt_min_modules[r] > 0:
            add(LpConstraint(LpAffineExpression([(z[t], 1.0), (y[r], -float(a.opt_min_modules[r]))]), GE, f"zmin_{r}", 0))
    z_of = dict(zip(z_rows.tolist(), z))

    # Options per site.
    o_order, o_start = _groups(a.opt_site, a.n_sites)
    site_y = [[y[r] for r in o_order[o_start[j]:o_start[j + 1]]] for j in range(a.n_sites)]
    for j in range(a.n_sites):
        if a.forced_open[j] or len(site_y[j]) > 1:
            e = LpAffineExpression(zip(site_y[j], repeat(1.0)))
            add(LpConstraint(e, EQ if a.forced_open[j] else LE, f"open_{j}", 1))

    # Assignment: each node's kept pairs are contiguous (pairs are sorted by node).
    p_start = np.searchsorted(a.pair_node, np.arange(n_nodes + 1))
    g_of = dict(zip(g_nodes.tolist(), g))
    u_of = dict(zip(u_nodes.tolist(), u))
    for i in active.tolist():
        e = LpAffineExpression(zip(x[p_start[i]:p_start[i + 1]], repeat(1.0)))
        if i in g_of:
            e[g_of[i]] = 1.0
        if i in u_of:
            e[u_of[i]] = 1.0
        add(LpConstraint(e, EQ, f"assign_{i}", 1))

    # Capacity and minimum load per site.
    cap = np.where(np.isfinite(a.opt_capacity), a.opt_capacity, total_demand)
    capacitated = np.zeros(a.n_sites, dtype=bool)
    capacitated[a.opt_site[np.isfinite(a.opt_capacity)]] = True
    has_floor = np.zeros(a.n_sites, dtype=bool)
    has_floor[a.opt_site[a.opt_min_load > 0]] = True
    s_order, s_start = _groups(a.pair_site, a.n_sites)
    load_coef = a.demand[a.pair_node]
    for j in np.flatnonzero(capacitated | has_floor):
        rows = s_order[s_start[j]:s_start[j + 1]]
        opts = o_order[o_start[j]:o_start[j + 1]]
        load = list(zip([x[t] for t in rows], load_coef[rows].tolist()))
        if capacitated[j]:
            e = LpAffineExpression(load + list(zip(site_y[j], (-cap[opts]).tolist())))
            for r in opts.tolist():
                if r in z_of:
                    e[z_of[r]] = -float(a.opt_module_capacity[r])
            add(LpConstraint(e, LE, f"cap_{j}", 0))
        if has_floor[j]:
            e = LpAffineExpression(load + list(zip(site_y[j], (-a.opt_min_load[opts]).tolist())))
            add(LpConstraint(e, GE, f"floor_{j}", 0))

    # Linking x_ij <= sum_o y_jo: every pair when strong, else only at uncapacitated sites;
    # uncapacitated sites without strong linking get the aggregate sum_i x_ij <= n_j * y_j.
    neg = [[(v, -1.0) for v in site_y[j]] for j in range(a.n_sites)]
    link = np.ones(len(x), dtype=bool) if a.strong_linking else ~capacitated[a.pair_site]
    for t in np.flatnonzero(link).tolist():
        e = LpAffineExpression([(x[t], 1.0), *neg[a.pair_site[t]]])
        add(LpConstraint(e, LE, f"link_{t}", 0))
    if not a.strong_linking:
        for j in np.flatnonzero(~capacitated):
            rows = s_order[s_start[j]:s_start[j + 1]]
            if len(rows):
                e = LpAffineExpression([(x[t], 1.0) for t in rows])
                for v in site_y[j]:
                    e[v] = -float(len(rows))
                add(LpConstraint(e, LE, f"agg_{j}", 0))

    if a.p is not None:
        add(LpConstraint(LpAffineExpression(zip(y, repeat(1.0))), EQ, "p_sites", a.p))
    if a.budget is not None:
        spend = list(zip(y, a.opt_fixed_cost.tolist()))
        if len(z_rows):
            spend += zip(z, a.opt_module_cost[z_rows].tolist())
        add(LpConstraint(LpAffineExpression(spend), LE, "budget", a.budget))
    return BuiltProblem(prob, y, x, g_nodes, g, u_nodes, u, z_rows, z)
