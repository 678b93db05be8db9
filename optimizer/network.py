r"""Travel on a road network: a graph from road lines, points snapped onto it, shortest paths between them.

The one job of this module is the numbers: given road lines in a metric CRS [m] with a speed each
[km/h], and two sets of points (villages, schools), return the road distance [km] and the travel
time [min] of every pair.

How the graph is built
----------------------
- **Nodes** are the lines' vertices; vertices of different lines that coincide (to 1 cm) are one
  node, so two roads are joined where they share a vertex — the convention of OpenStreetMap and of
  most road centre-line data (a junction is a shared vertex).
- **Lines that cross without a shared vertex are not joined** (a bridge, a tunnel, an overpass).
  The one exception is a dangling line end lying within `JUNCTION_TOLERANCE_M` of another road:
  digitised data often stops a side road a little short of (or just across) the road it meets,
  so that end is joined to the nearest point of that road (the road is split there).
- **Snapping**: each point is joined to the nearest point of the nearest road that may be entered
  (every class except 高速公路, which is entered only at its interchanges, i.e. shared vertices).
  The road is split at that foot point; the leg from the point to the road is walked, at
  ``walk_kmh`` [km/h], and counts in the distance too.
- A pair whose straight-line distance is no more than its two walking legs together is walked
  straight (two points beside each other need no road; a village and a school at the same place
  are 0 km apart).

Shortest paths
--------------
Distance and time are each the shortest path of their own weight: :math:`d_{ij}` the shortest road
distance, :math:`t_{ij}` the fastest time, found by `scipy.sparse.csgraph.dijkstra` on the
undirected graph (every road two-way), from the destination nodes (the smaller side) in chunks, so
memory stays bounded; no Python loop runs over pairs. Parallel edges between the same two nodes keep
the shortest (resp. fastest) one.

.. math::

    d_{ij} = \min_{\text{paths } p: i \to j} \sum_{e \in p} \ell_e, \qquad
    t_{ij} = \min_{\text{paths } p: i \to j} \sum_{e \in p} \frac{60\,\ell_e}{v_e}

where :math:`\ell_e` is an edge's length [km] and :math:`v_e` its speed [km/h] (walking legs: ``walk_kmh``).

A pair with no path (the road layer falls apart into pieces that do not meet) comes back as
``reachable = False`` with NaN distance and time; what to do with it is the caller's choice
(`xuewei.optimizer.travel`).

Examples
--------
Two roads meeting at (1000, 0): a 1 km road east at 60 km/h, then a 2 km road north at 30 km/h.
A village at the west end, a school 2 km up the second road:

>>> import numpy as np
>>> lines = [np.array([[0.0, 0.0], [1000.0, 0.0]]), np.array([[1000.0, 0.0], [1000.0, 2000.0]])]
>>> t = network_travel(lines, np.array([60.0, 30.0]), np.array([True, True]),
...                    np.array([[0.0, 0.0]]), np.array([[1000.0, 2000.0]]), walk_kmh=4.0)
>>> float(t.km[0, 0]), float(t.minutes[0, 0])
(3.0, 5.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

JUNCTION_TOLERANCE_M = 2.0  # a dangling line end this close to another road is joined to it [m]
VERTEX_DECIMALS = 2  # vertices equal when rounded to 10^-2 m = 1 cm are one node
CHUNK_CELLS = 8_000_000  # Dijkstra rows × graph nodes held at once (≈ 64 MB of float64)


@dataclass(frozen=True)
class NetworkTravel:
    """Road travel between origins (rows) and destinations (columns).

    Attributes
    ----------
    km : numpy.ndarray
        ``(n_origins, n_destinations)`` shortest road distance, walking legs included [km]; NaN where
        not reachable.
    minutes : numpy.ndarray
        Same shape, fastest travel time [min]; NaN where not reachable.
    reachable : numpy.ndarray
        Same shape, bool: a path exists.
    origin_snap_m, destination_snap_m : numpy.ndarray
        Each point's walking leg to the road [m].
    n_nodes, n_edges : int
        Size of the graph searched.
    """

    km: np.ndarray
    minutes: np.ndarray
    reachable: np.ndarray
    origin_snap_m: np.ndarray
    destination_snap_m: np.ndarray
    n_nodes: int
    n_edges: int


def _segments(lines: list[np.ndarray], speed_kmh: np.ndarray, enterable: np.ndarray):
    """Every line cut into its straight segments: endpoints [m], line index, speed, enterable."""
    n_pts = np.array([len(c) for c in lines], dtype=np.int64)
    xy = np.concatenate([np.asarray(c, dtype=float)[:, :2] for c in lines]) if lines else np.zeros((0, 2))
    line = np.repeat(np.arange(len(lines)), n_pts)
    last = np.cumsum(n_pts) - 1
    start = np.ones(len(xy), dtype=bool)
    start[last] = False  # a segment starts at every vertex but a line's last
    i = np.flatnonzero(start)
    seg_line = line[i]
    a, b = xy[i], xy[i + 1]
    return a, b, seg_line, np.asarray(speed_kmh, float)[seg_line], np.asarray(enterable, bool)[seg_line]


def _split_edges(seg_a: np.ndarray, seg_b: np.ndarray, seg_km: np.ndarray, split_seg: np.ndarray,
                 split_t: np.ndarray, split_node: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges of the segments after splitting some at points: ``(u, v, km, segment)``.

    ``split_seg``, ``split_t`` (0…1 along the segment from ``a``) and ``split_node`` list the points
    where segments are cut; a segment cut at k points becomes k + 1 edges in order along it.
    """
    order = np.lexsort((split_t, split_seg))
    s, t, nd = split_seg[order], split_t[order], split_node[order]
    first = np.ones(len(s), dtype=bool)
    first[1:] = s[1:] != s[:-1]
    prev_node = np.where(first, seg_a[s], np.roll(nd, 1))
    prev_t = np.where(first, 0.0, np.roll(t, 1))
    lastrow = np.ones(len(s), dtype=bool)
    lastrow[:-1] = s[1:] != s[:-1]
    cut = np.zeros(len(seg_a), dtype=bool)
    cut[s] = True
    whole = np.flatnonzero(~cut)
    u = np.concatenate([seg_a[whole], prev_node, nd[lastrow]])
    v = np.concatenate([seg_b[whole], nd, seg_b[s[lastrow]]])
    km = np.concatenate([seg_km[whole], (t - prev_t) * seg_km[s], (1.0 - t[lastrow]) * seg_km[s[lastrow]]])
    seg = np.concatenate([whole, s, s[lastrow]])
    return u, v, km, seg


def _feet(seg_geoms, ax, ay, bx, by, points):
    """Foot of each point on segment ``seg`` (given per point): t along the segment and the foot's xy."""
    import shapely

    t = shapely.line_locate_point(seg_geoms, points, normalized=True)
    t = np.nan_to_num(np.clip(t, 0.0, 1.0))
    return t, ax + t * (bx - ax), ay + t * (by - ay)


def _simple_edges(u, v, km, minutes):
    """Undirected edges without self-loops, one per node pair: the shortest and the fastest of
    parallel edges (each metric on its own)."""
    edges = pd.DataFrame({"u": np.minimum(u, v), "v": np.maximum(u, v), "km": km, "min": minutes})
    edges = edges[edges["u"] != edges["v"]].groupby(["u", "v"], as_index=False, sort=False).min()
    return (edges["u"].to_numpy(), edges["v"].to_numpy(), edges["km"].to_numpy(float), edges["min"].to_numpy(float))


def _contract_chains(u, v, km, minutes, protect):
    """Replace every chain of degree-2 nodes (a road's shape vertices) by one edge between the
    junctions at its ends, of the chain's summed length and time; protected nodes are kept.

    Shortest paths between the nodes kept are unchanged: a path entering a chain must run through it.
    Chains closing on themselves (a loop back to the same junction, or a ring of degree-2 nodes) can
    be on no shortest path and are dropped.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = int(max(u.max(initial=-1), v.max(initial=-1), len(protect) - 1)) + 1
    deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    inner = deg == 2
    inner[: len(protect)] &= ~protect
    iu, iv = inner[u], inner[v]
    direct, internal, boundary = ~iu & ~iv, iu & iv, iu ^ iv
    if not boundary.any():
        return u[direct], v[direct], km[direct], minutes[direct]
    graph = coo_matrix((np.ones(int(internal.sum())), (u[internal], v[internal])), shape=(n, n))
    n_comp, label = connected_components(graph, directed=False)
    b_in = np.where(iu[boundary], u[boundary], v[boundary])
    b_end = np.where(iu[boundary], v[boundary], u[boundary])
    b_chain = label[b_in]
    tot = {}
    for name, w in (("km", km), ("min", minutes)):
        tot[name] = (np.bincount(label[u[internal]], w[internal], minlength=n_comp)
                     + np.bincount(b_chain, w[boundary], minlength=n_comp))
    order = np.argsort(b_chain, kind="stable")
    bc, be = b_chain[order], b_end[order]
    first = np.ones(len(bc), dtype=bool)
    first[1:] = bc[1:] != bc[:-1]
    starts = np.flatnonzero(first)
    # Every chain of a simple graph has exactly two boundary edges (a path's two ends).
    chain, end_a, end_b = bc[starts], be[starts], be[starts + 1]
    keep = end_a != end_b
    chain, end_a, end_b = chain[keep], end_a[keep], end_b[keep]
    return _simple_edges(np.concatenate([u[direct], end_a]), np.concatenate([v[direct], end_b]),
                         np.concatenate([km[direct], tot["km"][chain]]),
                         np.concatenate([minutes[direct], tot["min"][chain]]))


def network_travel(lines: list[np.ndarray], speed_kmh: np.ndarray, enterable: np.ndarray, origins_xy: np.ndarray,
                   destinations_xy: np.ndarray, walk_kmh: float = 4.0,
                   junction_tolerance_m: float = JUNCTION_TOLERANCE_M) -> NetworkTravel:
    """Shortest road distance [km] and fastest time [min] between every origin and destination.

    Parameters
    ----------
    lines : list of numpy.ndarray
        Each road line's vertices, ``(k, 2)`` in a metric CRS [m], k ≥ 2.
    speed_kmh : numpy.ndarray
        Travel speed of each line [km/h], > 0.
    enterable : numpy.ndarray
        Per line, bool: points may be snapped onto it and dangling ends joined to it (False for
        高速公路, which is entered only at shared vertices).
    origins_xy, destinations_xy : numpy.ndarray
        ``(n, 2)`` and ``(m, 2)`` points [m], same CRS.
    walk_kmh : float
        Walking speed of the leg between a point and the road [km/h].
    junction_tolerance_m : float
        A dangling line end within this distance of another enterable road is joined to it [m].

    Returns
    -------
    NetworkTravel
    """
    import shapely
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    origins_xy = np.asarray(origins_xy, float).reshape(-1, 2)
    destinations_xy = np.asarray(destinations_xy, float).reshape(-1, 2)
    n_o = len(origins_xy)
    a, b, seg_line, seg_speed, seg_enter = _segments(lines, speed_kmh, enterable)
    keep = np.hypot(*(b - a).T) > 0
    a, b, seg_line, seg_speed, seg_enter = a[keep], b[keep], seg_line[keep], seg_speed[keep], seg_enter[keep]
    if not len(a) or not seg_enter.any():
        raise ValueError("road layer has no segment that points may be snapped to")
    # Nodes: vertices equal to 1 cm.
    verts = np.round(np.concatenate([a, b]), VERTEX_DECIMALS)
    uniq, inv = np.unique(verts, axis=0, return_inverse=True)
    inv = inv.ravel()
    seg_a, seg_b = inv[: len(a)], inv[len(a):]
    node_xy = uniq
    seg_km = np.hypot(*(b - a).T) / 1000.0
    seg_geoms = shapely.linestrings(np.stack([a, b], axis=1))
    enter_idx = np.flatnonzero(seg_enter)
    tree = shapely.STRtree(seg_geoms[enter_idx])

    split_seg, split_t, split_node = [], [], []
    extra_u, extra_v, extra_km, extra_speed = [], [], [], []
    n_nodes = len(node_xy)

    # Dangling ends near another enterable road: join them (connector at that road's speed).
    degree = np.bincount(np.concatenate([seg_a, seg_b]), minlength=n_nodes)
    dangling = np.flatnonzero(degree == 1)
    if len(dangling) and junction_tolerance_m > 0:
        pts = shapely.points(node_xy[dangling])
        pi, sj = tree.query(pts, predicate="dwithin", distance=junction_tolerance_m)
        sj = enter_idx[sj]
        own = (seg_a[sj] == dangling[pi]) | (seg_b[sj] == dangling[pi])
        pi, sj = pi[~own], sj[~own]
        if len(pi):
            dist = shapely.distance(pts[pi], seg_geoms[sj])
            order = np.lexsort((sj, dist, pi))
            pi, sj, dist = pi[order], sj[order], dist[order]
            first = np.ones(len(pi), dtype=bool)
            first[1:] = pi[1:] != pi[:-1]
            pi, sj, dist = pi[first], sj[first], dist[first]
            t, fx, fy = _feet(seg_geoms[sj], a[sj, 0], a[sj, 1], b[sj, 0], b[sj, 1], pts[pi])
            feet = n_nodes + np.arange(len(pi))
            n_nodes += len(pi)
            node_xy = np.vstack([node_xy, np.column_stack([fx, fy])])
            split_seg.append(sj), split_t.append(t), split_node.append(feet)
            extra_u.append(dangling[pi]), extra_v.append(feet), extra_km.append(dist / 1000.0)
            extra_speed.append(seg_speed[sj])

    # Snap every origin and destination to its nearest enterable segment; the leg is walked.
    pts_xy = np.vstack([origins_xy, destinations_xy])
    pts = shapely.points(pts_xy)
    hit, snap_m = tree.query_nearest(pts, all_matches=False, return_distance=True)
    sj = enter_idx[hit[1]]
    order = np.argsort(hit[0], kind="stable")
    sj, snap_m = sj[order], snap_m[order]
    t, fx, fy = _feet(seg_geoms[sj], a[sj, 0], a[sj, 1], b[sj, 0], b[sj, 1], pts)
    # Points with the same foot (same segment, same place on it) share one foot node: Dijkstra runs
    # from the unique snapped nodes only. The walked legs are added to the paths afterwards.
    foot_key, point_foot = np.unique(np.column_stack([sj, t]), axis=0, return_inverse=True)
    point_foot = point_foot.ravel()
    foot_node = n_nodes + np.arange(len(foot_key))
    n_nodes += len(foot_key)
    split_seg.append(foot_key[:, 0].astype(np.int64)), split_t.append(foot_key[:, 1]), split_node.append(foot_node)

    u, v, km, seg = _split_edges(seg_a, seg_b, seg_km, np.concatenate(split_seg), np.concatenate(split_t),
                                 np.concatenate(split_node))
    speed = np.concatenate([seg_speed[seg]] + extra_speed)
    u = np.concatenate([u] + extra_u)
    v = np.concatenate([v] + extra_v)
    km = np.concatenate([km] + extra_km)  # zero-length pieces stay explicit zero-weight edges
    minutes = km / speed * 60.0
    protect = np.zeros(n_nodes, dtype=bool)
    protect[foot_node] = True
    eu, ev, ekm, emin = _simple_edges(u, v, km, minutes)
    eu, ev, ekm, emin = _contract_chains(eu, ev, ekm, emin, protect)
    used = np.unique(np.concatenate([eu, ev, foot_node]))  # compact numbering of the nodes left
    pos = np.full(n_nodes, -1, dtype=np.int64)
    pos[used] = np.arange(len(used))
    n_graph = len(used)
    both_u, both_v = np.concatenate([pos[eu], pos[ev]]), np.concatenate([pos[ev], pos[eu]])
    graphs = {w: coo_matrix((np.concatenate([x, x]), (both_u, both_v)), shape=(n_graph, n_graph)).tocsr()
              for w, x in (("km", ekm), ("min", emin))}

    o_foot, d_foot = point_foot[:n_o], point_foot[n_o:]
    o_uniq, o_inv = np.unique(o_foot, return_inverse=True)
    d_uniq, d_inv = np.unique(d_foot, return_inverse=True)
    # Search from the smaller side; the graph is undirected (symmetric), so the matrix is the same.
    transpose = len(d_uniq) <= len(o_uniq)
    src, dst = (d_uniq, o_uniq) if transpose else (o_uniq, d_uniq)
    src, dst = pos[foot_node[src]], pos[foot_node[dst]]
    chunk = max(1, CHUNK_CELLS // max(n_graph, 1))
    snap_km = snap_m / 1000.0
    legs = {"km": snap_km, "min": snap_km / float(walk_kmh) * 60.0}
    out = {}
    for w, g in graphs.items():
        res = np.empty((len(src), len(dst)))
        for k in range(0, len(src), chunk):
            res[k:k + chunk] = dijkstra(g, directed=True, indices=src[k:k + chunk])[:, dst]
        res = res.T if transpose else res
        out[w] = legs[w][:n_o, None] + res[np.ix_(o_inv.ravel(), d_inv.ravel())] + legs[w][None, n_o:]
    o_snap, d_snap = snap_m[:n_o], snap_m[n_o:]
    straight = np.hypot(origins_xy[:, None, 0] - destinations_xy[None, :, 0],
                        origins_xy[:, None, 1] - destinations_xy[None, :, 1])
    walk = straight <= o_snap[:, None] + d_snap[None, :]
    reachable = np.isfinite(out["km"]) | walk
    dist_km = np.where(walk, np.minimum(straight / 1000.0, np.where(np.isfinite(out["km"]), out["km"], np.inf)),
                       out["km"])
    walk_min = straight / 1000.0 / float(walk_kmh) * 60.0
    dist_min = np.where(walk, np.minimum(walk_min, np.where(np.isfinite(out["min"]), out["min"], np.inf)), out["min"])
    dist_km = np.where(reachable, dist_km, np.nan)
    dist_min = np.where(reachable, dist_min, np.nan)
    return NetworkTravel(km=dist_km, minutes=dist_min, reachable=reachable, origin_snap_m=o_snap,
                         destination_snap_m=d_snap, n_nodes=int(n_graph), n_edges=len(eu))
