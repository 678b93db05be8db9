"""Valid tightening of the layout model: constraints no integer layout violates but its LP relaxation would.

Each function takes a stage's data and variables as `xuewei.optimizer.layout.add_stage` built them and
adds bounds or rows; none changes which integer layouts are feasible or what they cost, so the optimum
is the same and only the LP bound (and with it the proven gap) moves. What each one is worth on the
benchmark regions is in docs/performance.md (``benchmarks/layout_bench.py``).
"""

from __future__ import annotations

import os

import numpy as np
import pulp
from pulp import LpAffineExpression, LpConstraint

GE = pulp.LpConstraintGE

#: Which tightenings are applied (``pairs``, ``limits``, ``floors``). The default is what paid on the
#: benchmark regions (docs/performance.md, section 4): ``limits`` and ``floors`` raise the LP bound by
#: at most 0.2% and HiGHS's root bound not at all (its own cuts find as much) while adding rows, so
#: they are off; ``XUEWEI_STRENGTHEN`` (comma-separated, or ``none``) changes the set for
#: ``benchmarks/layout_bench.py --strengthen`` measurements only.
DEFAULT = ("pairs",)
ENABLED = tuple(x for x in os.environ.get("XUEWEI_STRENGTHEN", ",".join(DEFAULT)).split(",") if x and x != "none")


def strengthen_stage(prob: pulp.LpProblem, sd, v, policy) -> dict:
    """Apply every tightening to one stage; returns how many bounds and rows each added."""
    if not v.x or not v.x[0] or v.x[0][0].cat != pulp.LpInteger:
        return {}  # splittable assignment (policy.single_source off): a village may be shared
    done = {}
    if "pairs" in ENABLED:
        done["pairs_fixed"] = _fix_pairs_too_big(sd, v, policy)
    if "limits" in ENABLED:
        done["class_limit_rows"] = _tighten_class_limits(prob, sd, v, policy)
    if "floors" in ENABLED:
        done["class_floor_rows"] = _add_class_floor_cuts(prob, sd, v, policy)
    return done


def _site_room(sd, policy) -> np.ndarray:
    """Most pupils each site can hold in each period of this stage [pupils], ``(sites, T)``: classes limit
    × the period's allowed class size, and the period's allowed pupils (the size cap, or more while an
    over-size school comes down to it: `xuewei.optimizer.oversize.site_limits`) — the model's own limits."""
    from xuewei.optimizer.oversize import site_limits

    T = sd.demand.shape[1]
    allowed, class_size = site_limits(sd.sites, sd.stage, policy, T)
    return np.minimum(sd.sites["K"].to_numpy(float)[:, None] * class_size, allowed)


def _fix_pairs_too_big(sd, v, policy) -> int:
    """A village whose pupils alone exceed what a school can ever hold cannot be sent there whole
    (single source): fix that pair's assignment to 0 in that period.

    Without it the LP spreads such a village over several schools (a 34,000-person community over
    five primaries) while every integer layout leaves it unserved, and the bound is far too low.
    The same for a boarding pair whose school can add no beds and has fewer than the village's pupils.
    """
    rooms = _site_room(sd, policy)
    beds = sd.sites["beds0"].to_numpy(float)[sd.pair_site]
    fixed_beds = ~sd.sites["can_add_beds"].to_numpy(bool)[sd.pair_site]
    n = 0
    for t in range(sd.demand.shape[1]):
        room = rooms[sd.pair_site, t]
        d = sd.demand[sd.pair_node, t]
        too_big = (d > room + 1e-9) | (sd.pair_boarding & fixed_beds & (d > beds + 1e-9))
        for r in np.flatnonzero(too_big & (d > 0)).tolist():
            v.x[t][r].upBound = 0
            n += 1
    return n


def _add_class_floor_cuts(prob, sd, v, policy) -> int:
    """A school that takes a village of ``d`` pupils has at least ``ceil(d / q)`` classes:
    ``k_st >= ceil(d_nt / q) x_nst`` for pairs where that is 2 or more (1 already follows from
    ``k >= o >= x``)."""
    from xuewei.optimizer.oversize import site_limits

    _, class_size = site_limits(sd.sites, sd.stage, policy, sd.demand.shape[1])  # q, or more in a transition
    n = 0
    for t in range(sd.demand.shape[1]):
        need = np.ceil(sd.demand[sd.pair_node, t] / class_size[sd.pair_site, t] - 1e-9)
        for r in np.flatnonzero(need >= 2).tolist():
            j = int(sd.pair_site[r])
            prob.addConstraint(LpConstraint(LpAffineExpression([(v.k[t][j], 1.0), (v.x[t][r], -float(need[r]))]),
                                            GE, f"kf{v.x[t][r].name[1:]}", 0))
            n += 1
    return n


def _tighten_class_limits(prob, sd, v, policy) -> int:
    """Classes a school can need in a period are bounded by the pupils within its reach:
    ``k_st <= K'_st o_st`` with ``K'_st = ceil(min(size cap, sum of d_nt over its pairs) / q)`` where that
    is below the class limit (``k <= K o`` lets the LP open a school by a sliver ``o = k / K``)."""
    from xuewei.optimizer.oversize import site_limits

    allowed, class_size = site_limits(sd.sites, sd.stage, policy, sd.demand.shape[1])
    n = 0
    for t in range(sd.demand.shape[1]):
        open_pair = np.array([(x.upBound is None or x.upBound > 0) for x in v.x[t]], dtype=bool)
        reach = np.bincount(sd.pair_site[open_pair], weights=sd.demand[sd.pair_node[open_pair], t],
                            minlength=len(sd.sites))
        need = np.ceil(np.minimum(reach, allowed[:, t]) / class_size[:, t] - 1e-9)
        for j, k in enumerate(v.k[t]):
            limit = float("inf") if k.upBound is None else float(k.upBound)
            low = float(k.lowBound or 0.0)
            new = max(need[j], low, 1.0)  # an open school has at least one class
            if new < limit:
                k.upBound = new
                prob.addConstraint(LpConstraint(LpAffineExpression([(k, 1.0), (v.o[t][j], -new)]),
                                                pulp.LpConstraintLE, f"kr{k.name[1:]}", 0))
                n += 1
    return n

