"""Speed of road-network travel (`xuewei.optimizer.network.network_travel`): 5,000 villages × 2,000
schools on a synthetic (示意) grid road network the size of a mountain county.

Run: ``nice python benchmarks/network_speed.py`` (prints one table; ``--villages``, ``--schools``,
``--side-km``, ``--spacing-m``, ``--repeat`` change the instance). One core (BLAS threads pinned to 1).

``--demo`` instead times the layout's preparation (`build_stage_data`, where every village–school
distance is computed) on the 巫溪 demo scenario twice: as shipped (straight line × detour factor),
and with a 示意 grid road layer over the county (``--spacing-m`` apart, a 1 km grid by default for
this mode) — no real roads of 巫溪 were found; the grid only measures the cost of the network.

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


def demo(spacing_m: float) -> None:
    """Time `build_stage_data` on the demo scenario with and without a 示意 grid road layer."""
    import json
    import shutil
    import tempfile
    from pathlib import Path

    from xuewei.data.crs import to_wgs84
    from xuewei.data.region import load_region
    from xuewei.optimizer.layout_data import build_stage_data
    from xuewei.pipeline import load_inputs, run_forecast

    scen = Path(__file__).resolve().parent.parent / "scenarios" / "demo.toml"
    scenario, path, region, fconf, policy = load_inputs(scen)
    base = scenario.horizon.base_year or region.meta.base_year
    demand = run_forecast(scenario, region, fconf, policy)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / region.path.name
        shutil.copytree(region.path, folder)
        x0, y0, x1, y1 = region.boundary.to_crs(region.metric_crs).total_bounds
        xs, ys = np.arange(x0 - 2000, x1 + 2000, spacing_m), np.arange(y0 - 2000, y1 + 2000, spacing_m)
        feats = []
        for k, c in enumerate(xs):
            lon, lat = to_wgs84(np.full(len(ys), c), ys, region.metric_crs)
            feats.append((k, lon, lat))
        for k, c in enumerate(ys):
            lon, lat = to_wgs84(xs, np.full(len(xs), c), region.metric_crs)
            feats.append((k, lon, lat))
        fc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"等级": "县道" if k % 10 == 0 else "村道"},
             "geometry": {"type": "LineString", "coordinates": np.column_stack([lon, lat]).round(7).tolist()}}
            for k, lon, lat in feats]}
        (folder / "roads.geojson").write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
        with_roads = load_region(folder)
        rows = []
        for label, reg in (("直线距离 × 绕行系数", region), (f"示意方格路网（{spacing_m:g} m）", with_roads)):
            t0 = time.perf_counter()
            parts, _ = build_stage_data(reg, demand, policy, scenario.horizon.periods, base)
            rows.append((label, time.perf_counter() - t0, sum(len(p.pair_node) for p in parts),
                         float(np.mean(np.concatenate([p.pair_km for p in parts])))))
    print(f"| 巫溪演示：{len(region.nodes)} 个村，{len(region.schools)} 所学校 | build_stage_data 用时（秒） | 保留的村–校对 | 其平均路程（km） |")
    print("|---|---|---|---|")
    for label, sec, n, km in rows:
        print(f"| {label} | {sec:.1f} | {n:,} | {km:.2f} |")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=5000)
    ap.add_argument("--schools", type=int, default=2000)
    ap.add_argument("--side-km", type=float, default=60.0)
    ap.add_argument("--spacing-m", type=float, default=500.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--demo", action="store_true", help="time build_stage_data on the 巫溪 demo, with and without 示意 roads")
    a = ap.parse_args(argv)
    if a.demo:
        demo(a.spacing_m if "--spacing-m" in (argv or __import__("sys").argv) else 1000.0)
        return
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
