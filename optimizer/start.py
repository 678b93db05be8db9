"""Warm start for single-source models: solve the splittable relaxation, repair it into catchments.

The splittable model (each node may be split across sites) solves far faster than the
single-source one (docs/optimizer.md, section 7). Its open sites, options and modules are kept,
and every node is then sent whole to one open site: largest nodes first, each to the site that
carried most of it in the relaxation among those with room left, then the cheapest. Nodes that fit
nowhere are left out of the start (HiGHS completes or discards a partial start) or, with an
unserved penalty, marked unserved. The result is only a starting point; the solver proves the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Start:
    """A single-source starting layout, by position.

    Attributes
    ----------
    option_open : numpy.ndarray of bool
        Per row of ``model.options``: opened.
    modules : numpy.ndarray
        Per row of ``model.options``: modules of an opened option.
    site_of : numpy.ndarray of int
        Per node: site position it is sent to, ``-1`` when it fits nowhere.
    """

    option_open: np.ndarray
    modules: np.ndarray
    site_of: np.ndarray


def repair(model, relaxed) -> Start:
    """Turn the solved splittable twin ``relaxed`` of ``model`` into a single-source start."""
    site_pos = pd.Index(model.site_ids)
    node_pos = pd.Index(model.node_ids)
    sites = relaxed.sites
    open_sites = site_pos.get_indexer(sites.loc[sites["open"], "site_id"])
    option_open = np.zeros(len(model.options), dtype=bool)
    modules = np.zeros(len(model.options))
    rows = model.options.reset_index(drop=True)
    for j, option, mods in zip(open_sites, sites.loc[sites["open"], "option"], sites.loc[sites["open"], "modules"]):
        match = np.flatnonzero((model._opt_site == j) & (rows["option"].to_numpy() == option))
        if len(match):
            option_open[match[0]] = True
            modules[match[0]] = mods
    room = np.zeros(len(model.site_ids))
    room[open_sites] = np.nan_to_num(sites.loc[sites["open"], "capacity"].to_numpy(dtype=float), posinf=np.inf)
    share = np.zeros(len(model.pairs))
    a = relaxed.assignments
    if len(a):
        key = pd.MultiIndex.from_arrays([node_pos.get_indexer(a["node_id"]), site_pos.get_indexer(a["site_id"])])
        pair_key = pd.MultiIndex.from_arrays([model.pairs.node, model.pairs.site])
        where = pair_key.get_indexer(key)
        share[where[where >= 0]] = a["share"].to_numpy()[where >= 0]
    is_open = np.zeros(len(model.site_ids), dtype=bool)
    is_open[open_sites] = True
    site_of = np.full(len(model.node_ids), -1)
    pairs = model.pairs
    for i in np.argsort(-model.demand, kind="stable"):
        d = model.demand[i]
        if d <= 0:
            continue
        lo, hi = pairs.start[i], pairs.start[i + 1]
        s = pairs.site[lo:hi]
        fits = is_open[s] & (room[s] >= d - 1e-9)
        if not fits.any():
            continue
        cand = np.flatnonzero(fits)
        best = cand[np.lexsort((pairs.cost[lo:hi][cand], -share[lo:hi][cand]))[0]]
        site_of[i] = s[best]
        room[s[best]] -= d
    return Start(option_open, modules, site_of)


def start_values(start: Start, built, arrays, opt_rows, penalty) -> dict:
    """Map a `Start` onto the variables of one built problem: ``{variable: value}``."""
    values = {}
    for r, var in enumerate(built.y):
        values[var] = 1.0 if start.option_open[opt_rows[r]] else 0.0
    for t, var in zip(built.z_rows.tolist(), built.z):
        values[var] = float(start.modules[opt_rows[t]]) if start.option_open[opt_rows[t]] else 0.0
    chosen = start.site_of[arrays.pair_node]
    known = chosen >= 0
    for t in np.flatnonzero(known).tolist():
        values[built.x[t]] = 1.0 if arrays.pair_site[t] == chosen[t] else 0.0
    for i, var in zip(built.u_nodes.tolist(), built.u):
        values[var] = 1.0 if start.site_of[i] < 0 and penalty is not None else 0.0
    for var in built.g:
        values[var] = 0.0
    return values
