"""Opening swaps on the answer of a small model: which schools are open, changed a site or two at a time.

The refine search (`xuewei.optimizer.improve`) re-optimises clusters of schools that share villages.
A cheaper layout can need a change it cannot see: on the kindergarten part of a growing county seat
(173 village–school pairs), closing a new-build site and converting a primary school to a
kindergarten from the first period saves 3.1% (two rounds), but the two sites share one village, and the pupils
move through a chain of other kindergartens (docs/performance.md §4.14).

A *move* changes the opening pattern (``o`` over the periods, monotone as the model requires: an
existing school only closes, a new or converted site only opens) of one site, or closes one open site
and opens another in every period the first was open. Each round:

1. every move is scored by the LP of the model with all openings fixed at the move's pattern (a
   lower bound on any layout with those openings; milliseconds each, from the previous basis);
2. the `SINGLES` best single-site moves and the `PAIRS` best swaps whose LP is below the current
   answer are solved as integer programs with the openings fixed, at their root (one node, the
   refine search's lean cut pool);
3. the cheapest answer better than the current one is kept.

Rounds repeat while they improve, at most ``rounds``. Deterministic: a fixed order, one thread, a
fixed seed and node limits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from xuewei.optimizer.improve import SUB_OPTIONS, SUB_SECONDS, _feasible
from xuewei.optimizer.solve import _quiet_stdout, problem_arrays

SINGLES = 2  #: single-site moves solved as integer programs per round (best LP first)
PAIRS = 3  #: swaps solved as integer programs per round (best LP first)


@dataclass
class SwapReport:
    """What the swap search did: objective before and after [cost unit], moves scored by LP and
    solved as integer programs, rounds, moves kept, seconds, and whether the safety limit stopped a solve."""

    before: float
    after: float
    scored: int
    solved: int
    rounds: int
    kept: int
    seconds: float
    clock_stopped: bool = False


def patterns(existing: bool, T: int) -> list[tuple[int, ...]]:
    """The monotone opening patterns of a site over ``T`` periods (1 = open).

    An existing school only closes (open until some period); a new or converted site only opens.

    >>> patterns(True, 2)
    [(0, 0), (1, 0), (1, 1)]
    >>> patterns(False, 2)
    [(1, 1), (0, 1), (0, 0)]
    """
    if existing:
        return [tuple(int(t < p) for t in range(T)) for p in range(T + 1)]
    return [tuple(int(t >= p) for t in range(T)) for p in range(T + 1)]


def moves(pattern: list[tuple], existing: list[bool], free: list[int]) -> tuple[list[dict], list[dict]]:
    """Single-site pattern changes, and close-one-open-another swaps, for the sites in ``free``.

    A swap closes an open site ``a`` in every period and gives ``b`` the least pattern it can have
    that is open wherever ``a`` or ``b`` was.

    >>> singles, pairs = moves([(1, 1), (0, 0)], [False, False], [0, 1])
    >>> singles
    [{0: (0, 1)}, {0: (0, 0)}, {1: (1, 1)}, {1: (0, 1)}]
    >>> pairs
    [{0: (0, 0), 1: (1, 1)}]
    """
    singles, pairs = [], []
    for i in free:
        singles += [{i: p} for p in patterns(existing[i], len(pattern[i])) if p != pattern[i]]
    for a in (i for i in free if any(pattern[i])):
        for b in free:
            if b == a:
                continue
            want = [max(u, w) for u, w in zip(pattern[a], pattern[b])]
            fits = [p for p in patterns(existing[b], len(want)) if all(q >= w for q, w in zip(p, want))]
            if fits and min(fits, key=sum) != pattern[b]:
                pairs.append({a: (0,) * len(pattern[a]), b: min(fits, key=sum)})
    return singles, pairs


def opening_columns(gm) -> tuple[list[np.ndarray], list[bool]]:
    """Per site of each stage of the built model ``gm`` (after `problem_arrays` numbered its columns):
    its ``o`` columns over the periods, and whether it is an existing school."""
    cols, existing = [], []
    for sd, v in zip(gm.groups, gm.stage_vars):
        origin = sd.sites["origin"].to_numpy()
        for j in range(len(sd.sites)):
            cols.append(np.array([v.o[t][j].index for t in range(len(v.o))], dtype=np.int32))
            existing.append(bool(origin[j] == "existing"))
    return cols, existing


def highs_model(arr, A, integer: bool, options: dict | None = None):
    """A HiGHS model of a problem's arrays (`xuewei.optimizer.solve.problem_arrays`, ``A`` its matrix),
    one thread, seed 0, no output, plus ``options``; integer or its LP relaxation."""
    import highspy

    with _quiet_stdout(True):  # HiGHS prints its banner when the first model is made
        h = highspy.Highs()
    for name, value in {"output_flag": False, "threads": 1, "random_seed": 0, **(options or {})}.items():
        h.setOptionValue(name, value)
    n = len(arr.cost)
    h.addVars(n, arr.lower, arr.upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), arr.cost)
    if integer:
        cols = np.flatnonzero(arr.integer).astype(np.int32)
        h.changeColsIntegrality(len(cols), cols, np.ones(len(cols), dtype=np.uint8))
    h.addRows(len(arr.row_lower), arr.row_lower, arr.row_upper, A.nnz, A.indptr[:-1].astype(np.int32),
              A.indices.astype(np.int32), A.data)
    return h


def swap_search(gm, start: dict, rounds: int, deadline: float | None = None) -> tuple[dict, SwapReport]:
    """Improve the layout ``start`` (``{variable: value}``, feasible) of the built model ``gm``.

    Returns the improved ``{variable: value}`` and a report; ``deadline`` (a ``time.perf_counter()``
    value) is a safety net only.
    """
    import highspy

    t0 = time.perf_counter()
    arr = problem_arrays(gm.prob)
    A = arr.matrix()
    x = np.array([float(start.get(v, 0.0) or 0.0) for v in arr.variables])
    x[arr.integer] = np.round(x[arr.integer])
    before = current = float(arr.cost @ x)
    cols, existing = opening_columns(gm)
    every = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int32)
    free = [i for i, c in enumerate(cols) if (arr.upper[c] > arr.lower[c]).any()]
    lp = highs_model(arr, A, False)
    mip = highs_model(arr, A, True, {"mip_max_nodes": 1, "time_limit": SUB_SECONDS, "mip_rel_gap": 1e-6, **SUB_OPTIONS})
    scored = solved = kept = done = 0
    clock = False
    for _ in range(rounds):
        done += 1
        pattern = [tuple(int(round(x[c])) for c in cs) for cs in cols]
        picks = []
        for group, take in zip(moves(pattern, existing, free), (SINGLES, PAIRS)):
            ranked = []
            for order, move in enumerate(group):
                values = np.concatenate([np.array(move.get(i, pattern[i]), float) for i in range(len(cols))])
                if (values < arr.lower[every] - 1e-9).any() or (values > arr.upper[every] + 1e-9).any():
                    continue  # forced open, or a site that cannot open in some period
                lp.changeColsBounds(len(every), every, values, values)
                lp.run()
                scored += 1
                if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                    continue
                value = lp.getInfo().objective_function_value
                if value < current - 1e-6 * max(1.0, abs(current)):
                    ranked.append((value, order, values))
            picks += sorted(ranked, key=lambda r: (r[0], r[1]))[:take]
        best = None
        for _value, _order, values in picks:
            if deadline is not None and time.perf_counter() > deadline:
                clock = True
                break
            mip.changeColsBounds(len(every), every, values, values)
            mip.run()
            solved += 1
            if mip.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
                clock = True
            if mip.getInfo().primal_solution_status != 2:
                continue
            trial = np.asarray(mip.getSolution().col_value, dtype=float).copy()
            trial[arr.integer] = np.round(trial[arr.integer])
            cost = float(arr.cost @ trial)
            if (cost < current - 1e-6 * max(1.0, abs(current)) and (best is None or cost < best[0])
                    and _feasible(A, arr, trial)):
                best = (cost, trial)
        if best is not None:  # also when the limit stopped the round: a better answer is still better
            current, x = best
            kept += 1
        if best is None or clock:
            break
    out = {v: float(x[i]) for i, v in enumerate(arr.variables)}
    return out, SwapReport(before, current, scored, solved, done, kept, time.perf_counter() - t0, clock)
