"""Better answers by local search on the incumbent: fix-and-optimise over clusters of nearby schools.

A layout model has hundreds of schools, but a change at one school only interacts with the schools
that share villages with it. Starting from a feasible layout (the greedy start, or the solver's
answer), each neighbourhood — a school and the schools that share most villages with it, over all
periods — is re-optimised exactly while everything else stays fixed: which of these schools are open
and how many classes each has, and where the villages now at these schools go among them (reassign,
swap, close, open all at once). A neighbourhood is a small integer program cut out of the full model
(its columns, and the rows that touch them with the fixed part moved to the bounds), so whatever the
model contains — budget rows, seat rules, terms added later — is respected. An improvement is kept
and the search moves on; a sweep over all schools is repeated while it still improves.

Everything is deterministic: a fixed order of neighbourhoods, one thread, a fixed seed and node
limits, so the same model and start always give the same answer, on any machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from xuewei.optimizer.solve import _quiet_stdout, problem_arrays

NEIGHBOURS = 5  #: schools added to each seed school to form its neighbourhood
SUB_NODES = 200  #: branch-and-bound nodes for one neighbourhood
SUB_SECONDS = 30.0  #: safety limit for one neighbourhood [s] (not expected to bind)
DUMP = ""  # a path: write each neighbourhood's model there (for profiling)
#: HiGHS options for every neighbourhood besides the limits: a cut pool of at most about one row
#: (``mip_pool_soft_limit``; cuts age out at once, so the node LPs stay small) and no restart of the
#: root after presolve fixes columns. A neighbourhood starts from the current answer and only has to
#: find a cheaper one; it needs no strong bound. On the 12 benchmark models the refine search ran on,
#: it took 37% less time, with answers 0.03% dearer in total (docs/performance.md §4.9). The same
#: options made the polish worse (5 of 6 models), so only the neighbourhoods use them. An empty dict
#: restores HiGHS's own settings (``benchmarks/refine_search.py --highs-defaults``).
SUB_OPTIONS = {"mip_pool_soft_limit": 1, "mip_allow_restart": False}


@dataclass
class ImproveReport:
    """What the local search did: objective before and after [cost unit], neighbourhoods solved and
    improved, sweeps, seconds, and whether a neighbourhood hit its safety time limit."""

    before: float
    after: float
    solved: int
    improved: int
    sweeps: int
    seconds: float
    clock_stopped: bool = False


def _structure(gm, n_cols: int):
    """Per site and per village of each stage: the columns that belong to it (all periods)."""
    site_cols, pair_site, pair_node, pair_cols, node_cols = [], [], [], [], []
    offset_s = offset_n = 0
    for sd, v in zip(gm.groups, gm.stage_vars):
        S, N = len(sd.sites), len(sd.node_ids)
        cols = [[] for _ in range(S)]
        for name in ("o", "k", "m", "w", "up", "down"):
            for per_t in getattr(v, name):
                for j, var in enumerate(per_t):
                    cols[j].append(var.index)
        site_cols += [np.array(c, dtype=np.int64) for c in cols]
        xc = [[] for _ in range(len(sd.pair_node))]
        for per_t in v.x:
            for r, var in enumerate(per_t):
                xc[r].append(var.index)
        pair_cols += [np.array(c, dtype=np.int64) for c in xc]
        pair_site.append(sd.pair_site + offset_s)
        pair_node.append(sd.pair_node + offset_n)
        uc = [[] for _ in range(N)]
        for per_t in v.u:
            for i, var in enumerate(per_t):
                uc[i].append(var.index)
        node_cols += [np.array(c, dtype=np.int64) for c in uc]
        offset_s += S
        offset_n += N
    known = np.zeros(n_cols, dtype=bool)
    for group in (site_cols, pair_cols, node_cols):
        for c in group:
            known[c] = True
    return (site_cols, np.concatenate(pair_site), np.concatenate(pair_node), pair_cols, node_cols, known)


def improve(gm, start: dict, max_sweeps: int = 3, neighbours: int = NEIGHBOURS, sub_nodes: int = SUB_NODES,
            deadline: float | None = None, log=None, seeds: int | None = None,
            min_pairs: int = 0, max_neighbours: int | None = None) -> tuple[dict, ImproveReport]:
    """Improve the layout ``start`` (``{variable: value}``, feasible) of the built model ``gm``.

    Returns the improved ``{variable: value}`` and a report. ``deadline`` (``time.perf_counter()``
    value) stops the search early; it is only a safety net (the answer then depends on the clock,
    which the report says). ``min_pairs`` > 0 grows a neighbourhood past ``neighbours`` schools, in
    the same order, until its schools have at least that many village–school pairs (at most
    ``max_neighbours`` schools besides the seed), so models of small schools get wider neighbourhoods;
    the product does not use it (measured in docs/performance.md §4.9: mixed answers, +27–35% time on
    the primary models).
    """
    import highspy

    t0 = time.perf_counter()
    arr = problem_arrays(gm.prob)
    n = len(arr.cost)
    A = arr.matrix()
    At = A.tocsc()
    x = np.array([float(start.get(v, 0.0) or 0.0) for v in arr.variables])
    x[arr.integer] = np.round(x[arr.integer])
    before = float(arr.cost @ x)
    site_cols, pair_site, pair_node, pair_cols, node_cols, known = _structure(gm, n)
    S = len(site_cols)
    # Sites sharing villages: score = number of villages with a pair to both.
    from scipy.sparse import csr_matrix

    incidence = csr_matrix((np.ones(len(pair_site)), (pair_site, pair_node)), shape=(S, len(node_cols)))
    share = (incidence @ incidence.T).toarray()
    np.fill_diagonal(share, 0)
    site_pairs = np.bincount(pair_site, minlength=S)
    solved = improved = sweeps = 0
    clock = False
    # A neighbourhood is solved again only when one of its schools changed since (an improvement
    # changes only the columns of its own schools and their villages).
    stamp, site_stamp, seen = 0, np.zeros(S, dtype=np.int64), {}
    with _quiet_stdout(True):  # HiGHS prints its banner when the first model is made
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    for name, val in SUB_OPTIONS.items():  # kept by every neighbourhood (clearModel keeps options)
        h.setOptionValue(name, val)
    for sweep in range(max_sweeps):
        sweeps += 1
        gain = 0.0
        for seed in range(S if seeds is None else min(S, seeds)):
            if deadline is not None and time.perf_counter() > deadline:
                clock = True
                break
            order = np.lexsort((np.arange(S), -share[seed]))
            order = order[share[seed, order] > 0]
            size = neighbours
            if min_pairs:
                # Grow the neighbourhood past ``neighbours`` schools until its schools have at least
                # ``min_pairs`` village pairs, up to ``max_neighbours`` schools besides the seed.
                cum = site_pairs[seed] + np.cumsum(site_pairs[order])
                cap = len(order) if max_neighbours is None else min(len(order), max_neighbours)
                size = max(neighbours, min(cap, int(np.searchsorted(cum, min_pairs)) + 1))
            mates = order[:size].tolist()
            sites = np.array([seed] + mates, dtype=np.int64)
            key = tuple(sorted(sites.tolist()))
            if key in seen and site_stamp[sites].max() <= seen[key]:
                continue
            seen[key] = stamp
            in_sites = np.zeros(S, dtype=bool)
            in_sites[sites] = True
            pairs_here = np.flatnonzero(in_sites[pair_site])
            assigned = np.array([x[pair_cols[r]].max() > 0.5 if len(pair_cols[r]) else False for r in pairs_here])
            nodes = np.unique(pair_node[pairs_here[assigned]]) if assigned.any() else np.array([], dtype=np.int64)
            in_nodes = np.zeros(len(node_cols), dtype=bool)
            in_nodes[nodes] = True
            free_pairs = pairs_here[in_nodes[pair_node[pairs_here]]]
            parts = [site_cols[j] for j in sites] + [pair_cols[r] for r in free_pairs] + [node_cols[i] for i in nodes]
            free = np.zeros(n, dtype=bool)
            free[np.concatenate(parts)] = True
            free &= arr.upper > arr.lower  # fixed by bounds anyway
            if not free.any():
                continue
            rows = np.unique(At[:, np.flatnonzero(free)].indices)
            # Auxiliary columns added by other parts of the model (not site, pair or village columns)
            # that share a row with the neighbourhood move with it.
            aux = np.unique(A[rows].indices)
            free[aux[~known[aux]]] = True
            free &= arr.upper > arr.lower
            t_sub = time.perf_counter()
            value = _solve_sub(h, arr, A, x, free, rows, sub_nodes)
            solved += 1
            if log and time.perf_counter() - t_sub > 2.0:
                log(f"  slow neighbourhood at seed {seed}: {time.perf_counter() - t_sub:.1f} s, {int(free.sum())} columns, "
                    f"{len(rows)} rows")
            if value is None:
                continue
            cols, sol, status_time = value
            if status_time:
                clock = True
            trial = x.copy()
            trial[cols] = sol
            trial[arr.integer] = np.round(trial[arr.integer])
            new = float(arr.cost @ trial)
            if new < float(arr.cost @ x) - 1e-6 * max(1.0, abs(new)) and _feasible(A, arr, trial):
                gain += float(arr.cost @ x) - new
                x = trial
                improved += 1
                stamp += 1
                site_stamp[sites] = stamp
                seen[key] = stamp
            if log and seed % 20 == 0:
                log(f"sweep {sweep} seed {seed}/{S}: {float(arr.cost @ x):.1f} ({time.perf_counter() - t0:.0f} s)")
        if clock or gain <= 1e-6 * max(1.0, abs(before)):
            break
    out = {v: float(x[i]) for i, v in enumerate(arr.variables)}
    return out, ImproveReport(before, float(arr.cost @ x), solved, improved, sweeps, time.perf_counter() - t0, clock)


def _feasible(A, arr, x, tol: float = 1e-6) -> bool:
    ax = A @ x
    scale = 1.0 + np.abs(ax)
    return bool(np.all(ax >= arr.row_lower - tol * scale) and np.all(ax <= arr.row_upper + tol * scale)
                and np.all(x >= arr.lower - tol) and np.all(x <= arr.upper + tol))


def _solve_sub(h, arr, A, x, free, rows, sub_nodes):
    """Solve the neighbourhood: free columns, rows touching them, the rest fixed at ``x``."""
    import highspy

    cols = np.flatnonzero(free)
    sub = A[rows]
    fixed_part = sub @ np.where(free, 0.0, x)
    sub = sub[:, cols].tocsr()
    lo = arr.row_lower[rows] - fixed_part
    up = arr.row_upper[rows] - fixed_part
    h.clearModel()
    for name, val in (("threads", 1), ("random_seed", 0), ("mip_max_nodes", int(sub_nodes)),
                      ("time_limit", SUB_SECONDS), ("mip_rel_gap", 1e-6), ("output_flag", False)):
        h.setOptionValue(name, val)
    k = len(cols)
    h.addVars(k, arr.lower[cols], arr.upper[cols])
    h.changeColsCost(k, np.arange(k, dtype=np.int32), arr.cost[cols])
    integer = np.flatnonzero(arr.integer[cols]).astype(np.int32)
    if len(integer):
        h.changeColsIntegrality(len(integer), integer, np.ones(len(integer), dtype=np.uint8))
    h.addRows(len(rows), lo, up, sub.nnz, sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32),
              sub.data)
    h.setSolution(k, np.arange(k, dtype=np.int32), x[cols])
    if DUMP:
        h.writeModel(DUMP)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None
    sol = np.asarray(h.getSolution().col_value)
    return cols, sol, h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
