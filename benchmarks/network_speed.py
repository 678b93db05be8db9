"""Speed of road-network travel (`xuewei.optimizer.network.network_travel`): 5,000 villages × 2,000
schools on a synthetic (示意) grid road network the size of a mountain county.

Run: ``nice python benchmarks/network_speed.py`` (prints one table; ``--villages``, ``--schools``,
``--side-km``, ``--spacing-m``, ``--repeat`` change the instance). One core (BLAS threads pinned to 1).

The 示意 network: a square county ``side_km`` wide, roads along every grid line ``spacing_m`` apart,
as lines from edge to edge with a vertex at every crossing (shared vertices, i.e. junctions) and a
shape vertex half-way between crossings, as digitised roads have; every 10th line is a 县道
(30 km/h), the rest 村道 (20 km/h). Villages and schools are uniform random points (seed 1), each
snapped to the nearest road. The table gives the graph's size and the wall time of the whole call
(graph, snapping, two Dijkstra passes: shortest distance and fastest time), best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from xuewei.optimizer.network import network_travel  # noqa: E402


def grid_roads(side_km: float, spacing_m: float) -> tuple[list[np.ndarray], np.ndarray]:
    """Lines along every grid row and column [m], vertices at crossings and half-way; speeds [km/h]."""
    ticks = np.arange(0.0, side_km * 1000.0 + 1e-6, spacing_m)
    along = np.arange(0.0, side_km * 1000.0 + 1e-6, spacing_m / 2.0)
    lines, speed = [], []
    for k, c in enumerate(ticks):
        v = 30.0 if k % 10 == 0 else 20.0
        lines.append(np.column_stack([along, np.full(len(along), c)]))
        lines.append(np.column_stack([np.full(len(along), c), along]))
        speed += [v, v]
    return lines, np.array(speed)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=5000)
    ap.add_argument("--schools", type=int, default=2000)
    ap.add_argument("--side-km", type=float, default=60.0)
    ap.add_argument("--spacing-m", type=float, default=500.0)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    lines, speed = grid_roads(a.side_km, a.spacing_m)
    side = a.side_km * 1000.0
    villages = rng.uniform(0, side, (a.villages, 2))
    schools = rng.uniform(0, side, (a.schools, 2))
    best, t = np.inf, None
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        t = network_travel(lines, speed, np.ones(len(lines), bool), villages, schools, walk_kmh=4.0)
        best = min(best, time.perf_counter() - t0)
    straight = np.hypot(villages[:, None, 0] - schools[None, :, 0], villages[:, None, 1] - schools[None, :, 1]) / 1000
    ratio = t.km / np.where(straight > 1.0, straight, np.nan)
    print("| 村 | 学校 | 道路线 | 图节点 | 图的边 | 村–校对 | 用时（秒，最好的一次） | 路网/直线 中位数（直线>1 km） |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {a.villages:,} | {a.schools:,} | {len(lines):,} | {t.n_nodes:,} | {t.n_edges:,} | {t.km.size:,} | "
          f"{best:.1f} | {np.nanmedian(ratio):.2f} |")


if __name__ == "__main__":
    main()
