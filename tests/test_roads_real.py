"""Road travel on a real road network: central Aguascalientes (Mexico) from OpenStreetMap, 674 ways
(© OpenStreetMap contributors, ODbL; provenance in tests/data/osm_aguascalientes/PROVENANCE.md).

No road layer of a Chinese county was found in a public source with a licence (see PROVENANCE.md);
this is the real network the brief allows instead. The check is independent of how xuewei builds
its graph: OSM records a junction as a node id shared by two ways, so a graph built from the ids
(no coordinates compared, nothing split or contracted) must give the same shortest paths as
`network_travel`, which only sees the coordinates.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from xuewei.data.crs import parse_crs, project, utm_crs
from xuewei.data.roads import read_roads
from xuewei.optimizer.network import network_travel
from xuewei.optimizer.policy import PolicyConfig

FIXTURE = Path(__file__).parent / "data" / "osm_aguascalientes" / "roads.geojson"


@pytest.fixture(scope="module")
def osm():
    import geopandas as gpd

    roads = read_roads(FIXTURE, str(FIXTURE), parse_crs("EPSG:4326"))
    raw = gpd.read_file(FIXTURE)
    metric = utm_crs(-102.27, 21.87)
    speeds = PolicyConfig().road_speed_kmh
    lines = [np.column_stack(project(*np.asarray(g.coords).T, metric)) for g in roads.geometry]
    speed = roads["road_class"].replace("", "unknown").map(speeds).to_numpy(float)
    return roads, raw, metric, lines, speed


def _id_graph(raw, lines, speed):
    """The graph of OSM node ids: consecutive nodes of a way joined, length from their coordinates."""
    ids = [s.split() for s in raw["osm_nodes"]]
    u = np.concatenate([w[:-1] for w in ids])
    v = np.concatenate([w[1:] for w in ids])
    seg = np.concatenate([np.hypot(*np.diff(xy, axis=0).T) / 1000.0 for xy in lines])
    minutes = seg / np.repeat(speed, [len(w) - 1 for w in ids]) * 60.0
    names, code = np.unique(np.concatenate([u, v]), return_inverse=True)
    cu, cv = code[: len(u)], code[len(u):]
    xy = {}
    for w, line in zip(ids, lines):
        xy.update(zip(w, map(tuple, line)))
    return names, cu, cv, seg, minutes, np.array([xy[n] for n in names])


def test_real_osm_file_reads_with_its_highway_classes(osm):
    roads, raw, *_ = osm
    assert len(roads) == len(raw) == 674
    classes = roads["road_class"].value_counts()
    assert classes["street"] == 350 + 77 + 30  # residential, service, living_street
    assert classes["path"] == 63 + 16 + 10 + 2  # pedestrian, footway, path, steps
    assert classes["provincial"] == 46 + 7 and classes["county"] == 38 + 8  # primary(_link), secondary(_link)


def test_shortest_paths_match_the_osm_topology(osm):
    roads, raw, metric, lines, speed = osm
    names, cu, cv, km, minutes, xy = _id_graph(raw, lines, speed)
    n = len(names)
    deg = np.bincount(np.concatenate([cu, cv]), minlength=n)
    # 40 junctions (nodes shared by ways, degree ≥ 3) of the largest connected piece, fixed choice.
    g_km = coo_matrix((km, (cu, cv)), shape=(n, n)).tocsr()
    _, comp = connected_components(g_km, directed=False)
    big = np.bincount(comp).argmax()
    junctions = np.flatnonzero((deg >= 3) & (comp == big))
    pick = junctions[np.linspace(0, len(junctions) - 1, 40).astype(int)]
    # Parallel OSM segments between the same two nodes: keep the shorter / faster, as a road user would.
    e = pd.DataFrame({"u": np.minimum(cu, cv), "v": np.maximum(cu, cv), "km": km, "min": minutes})
    e = e[e["u"] != e["v"]].groupby(["u", "v"], as_index=False).min()
    sym = lambda w: coo_matrix((np.r_[e[w], e[w]], (np.r_[e["u"], e["v"]], np.r_[e["v"], e["u"]])),  # noqa: E731
                               shape=(n, n)).tocsr()
    want_km = dijkstra(sym("km"), indices=pick)[:, pick]
    want_min = dijkstra(sym("min"), indices=pick)[:, pick]
    t = network_travel(lines, speed, np.ones(len(lines), bool), xy[pick], xy[pick], walk_kmh=4.0,
                       junction_tolerance_m=0.0)
    assert t.origin_snap_m.max() < 1e-6  # the points are the junctions themselves
    np.testing.assert_allclose(t.km, want_km, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(t.minutes, want_min, rtol=1e-9, atol=1e-9)
    # A real street grid: the road is never shorter than the straight line, and a few tenths longer.
    straight = np.hypot(*(xy[pick][:, None, :] - xy[pick][None, :, :]).transpose(2, 0, 1)) / 1000.0
    off = ~np.eye(len(pick), dtype=bool)
    assert (t.km[off] >= straight[off] - 1e-9).all()
    ratio = np.median(t.km[off] / straight[off])
    assert 1.05 < ratio < 1.6, ratio


def test_points_off_the_roads_snap_and_walk(osm):
    roads, raw, metric, lines, speed = osm
    rng = np.random.default_rng(7)
    allxy = np.concatenate(lines)
    lo, hi = allxy.min(axis=0), allxy.max(axis=0)
    villages = rng.uniform(lo, hi, (60, 2))
    schools = rng.uniform(lo, hi, (15, 2))
    t = network_travel(lines, speed, np.ones(len(lines), bool), villages, schools, walk_kmh=4.0)
    # Each snap leg is the distance to the nearest road (checked with shapely on the original lines).
    import shapely

    nearest = shapely.distance(shapely.points(villages)[:, None], np.array([shapely.LineString(c) for c in lines])[None, :]).min(axis=1)
    np.testing.assert_allclose(t.origin_snap_m, nearest, atol=1e-6)
    ok = t.reachable
    straight = np.hypot(villages[:, None, 0] - schools[None, :, 0], villages[:, None, 1] - schools[None, :, 1]) / 1000
    assert (t.km[ok] >= straight[ok] - 1e-9).all()
    legs = (t.origin_snap_m[:, None] + t.destination_snap_m[None, :]) / 1000.0
    walked = straight <= legs
    # On foot legs at 4 km/h: time ≥ legs' walking time for every pair that uses the roads.
    assert (t.minutes[ok & ~walked] >= (legs / 4.0 * 60.0)[ok & ~walked] - 1e-9).all()
