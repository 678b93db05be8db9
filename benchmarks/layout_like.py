"""A school-layout-shaped instance on the core model: how fast to a 0.5% gap?

DESIGN.md reports that a naive single-source model with 400 nodes, 200 sites, the 8 nearest sites
per node and 6 size options took ~200 s to reach a 0.5% gap (one stage, one period). This script
builds that shape with a fixed seed and solves it through `LocationModel` (strong linking,
multi-option sites, single source, elastic unserved demand), so the layout work (issue 5) starts
from a measured number.

Usage: ``python benchmarks/layout_like.py [--nodes 400] [--sites 200] [--k 8] [--gap 0.005]``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from xuewei.optimizer.model import LocationModel
from xuewei.optimizer.pairs import PairTable, euclidean_km

CLASS_CAP = 45  # pupils per class (primary, GB/T standard class size)
SIZES = np.array([6, 12, 18, 24, 30, 36])  # classes: six standard sizes


def instance(n_nodes: int, n_sites: int, k: int, seed: int, modular: bool = False):
    rng = np.random.default_rng(seed)
    node_xy = rng.uniform(0, 60_000, size=(n_nodes, 2))  # metres, a 60 km × 60 km county
    site_xy = rng.uniform(0, 60_000, size=(n_sites, 2))
    pupils = rng.integers(20, 200, size=n_nodes).astype(float)
    dist = euclidean_km(node_xy, site_xy)
    nearest = np.argsort(dist, axis=1)[:, :k]
    i = np.repeat(np.arange(n_nodes), k)
    j = nearest.ravel()
    travel = 0.05  # 万元 per pupil-km per period (assumption, only the shape matters here)
    pairs = PairTable(i, j, travel * pupils[i] * dist[i, j], dist[i, j], n_nodes, n_sites)
    existing = rng.random(n_sites) < 0.5  # half are existing 6-class schools, kept for free
    step = SIZES[0]  # sizes are multiples of 6 classes
    rows = []
    for s in range(n_sites):
        if modular:  # the same sizes and costs as integer counts of 6-class blocks
            if existing[s]:
                rows.append({"site_id": s, "option": "existing", "capacity": step * CLASS_CAP, "fixed_cost": 0,
                             "module_capacity": step * CLASS_CAP, "module_cost": 25 * step,
                             "min_modules": 0, "max_modules": len(SIZES) - 1})
            else:
                rows.append({"site_id": s, "option": "new", "capacity": 0, "fixed_cost": 60,
                             "module_capacity": step * CLASS_CAP, "module_cost": 25 * step,
                             "min_modules": 1, "max_modules": len(SIZES)})
            continue
        for c in SIZES:
            # 万元: expanding an existing school pays for the added classes, a new one for all + 60
            build = 25 * (c - step) if existing[s] else 60 + 25 * c
            rows.append({"site_id": s, "option": f"{c}班", "capacity": c * CLASS_CAP, "fixed_cost": build})
    nodes = pd.DataFrame({"node_id": np.arange(n_nodes), "demand": pupils})
    sites = pd.DataFrame({"site_id": np.arange(n_sites), "status": "candidate"})
    return nodes, sites, pd.DataFrame(rows), pairs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=400)
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--gap", type=float, default=0.005)
    ap.add_argument("--time-limit", type=float, default=300)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--splittable", action="store_true")
    ap.add_argument("--weak", action="store_true", help="no x_ij <= y_j rows at capacitated sites")
    ap.add_argument("--modular", action="store_true", help="integer module counts instead of a size menu")
    ap.add_argument("--warm-start", action="store_true", help="splittable relaxation repaired into catchments")
    args = ap.parse_args(argv)
    nodes, sites, options, pairs = instance(args.nodes, args.sites, args.k, args.seed, args.modular)
    t0 = time.perf_counter()
    model = LocationModel(nodes, sites, options, pairs, single_source=not args.splittable,
                          unserved_penalty="auto", k=None, strong_linking=not args.weak, name="layout_like")
    model.solve(gap_rel=args.gap, time_limit_s=args.time_limit, warm_start="relax" if args.warm_start else None)
    s = model.summary.iloc[0]
    print(f"nodes {args.nodes} sites {args.sites} k {args.k} options {len(options)} "
          f"single_source {not args.splittable} strong {not args.weak} modular {args.modular} warm {args.warm_start}: status {s['status']} gap {s['gap']:.4f} "
          f"objective {s['objective']:.1f} unserved {s['unserved']:.0f} open {s['n_open']} "
          f"start {s['start_seconds']:.2f}s build {s['build_seconds']:.2f}s solve {s['solve_seconds']:.2f}s total {time.perf_counter() - t0:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
