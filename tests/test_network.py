"""Road network travel (`xuewei.optimizer.network`) on a hand-made network whose shortest paths are
worked out by hand below, in metres and km/h.

    D(0,4000) ───L4 (3 km, 20 km/h)─── C(3000,4000) ── F (side road, 1.9985 km, 20 km/h) → G(5000,2000)
      │                         ╱          │            (its west end is 1.5 m short of L2, at (3001.5, 2000))
    L3 (4 km, 20 km/h)   L5 path (5 km, 4 km/h)
      │                 ╱                 L2 (4 km, 30 km/h)
    A(0,0) ──────L1 (3 km, 60 km/h)───── B(3000,0)
               │ E: (2200,-1000)→(2200,1000), crosses L1 without a shared vertex (a bridge)
"""

import numpy as np
import pytest

from xuewei.optimizer.network import network_travel

A, B, C, D = (0.0, 0.0), (3000.0, 0.0), (3000.0, 4000.0), (0.0, 4000.0)
LINES = {
    "L1": ([A, B], 60.0), "L2": ([B, C], 30.0), "L3": ([A, D], 20.0), "L4": ([D, C], 20.0),
    "L5": ([A, C], 4.0), "E": ([(2200.0, -1000.0), (2200.0, 1000.0)], 30.0),
    "F": ([(3001.5, 2000.0), (5000.0, 2000.0)], 20.0),
}


def travel(origins, destinations, lines=LINES, enterable=None, **kw):
    coords = [np.array(c, dtype=float) for c, _ in lines.values()]
    speed = np.array([s for _, s in lines.values()])
    enter = np.ones(len(coords), bool) if enterable is None else np.asarray(enterable)
    return network_travel(coords, speed, enter, np.array(origins, float), np.array(destinations, float),
                          walk_kmh=4.0, **kw)


def test_distance_and_time_are_each_their_own_shortest_path():
    t = travel([A], [C])
    # Shortest road: the 5 km path L5. Fastest: L1 then L2, 3 km at 60 + 4 km at 30 km/h.
    assert t.km[0, 0] == pytest.approx(5.0)
    assert t.minutes[0, 0] == pytest.approx(3 / 60 * 60 + 4 / 30 * 60)  # 11 min
    assert t.reachable.all()


def test_snap_leg_is_walked_and_counted():
    t = travel([(1500.0, -300.0)], [C])
    # 300 m walk to L1 at (1500, 0), then 1.5 km east and 4 km north; or 1.5 km west and 5 km on L5.
    assert t.origin_snap_m[0] == pytest.approx(300.0)
    assert t.km[0, 0] == pytest.approx(0.3 + min(1.5 + 4.0, 1.5 + 5.0))
    assert t.minutes[0, 0] == pytest.approx(0.3 / 4 * 60 + 1.5 / 60 * 60 + 4 / 30 * 60)


def test_both_directions_and_many_pairs_agree():
    pts = [A, B, C, D, (1500.0, -300.0)]
    t = travel(pts, pts)
    np.testing.assert_allclose(t.km, t.km.T)
    np.testing.assert_allclose(t.minutes, t.minutes.T)
    assert np.diag(t.km).max() == pytest.approx(0.0)
    assert t.km[0, 3] == pytest.approx(4.0) and t.minutes[0, 3] == pytest.approx(4 / 20 * 60)
    # Searched from the origins (fewer) or the destinations (fewer): the same numbers.
    few = travel(pts[:2], pts)
    np.testing.assert_allclose(few.km, t.km[:2])
    np.testing.assert_allclose(few.minutes, t.minutes[:2])


def test_a_crossing_without_a_shared_vertex_is_not_a_junction():
    t = travel([A], [(2200.0, -1000.0)])  # the far end of E, which passes over L1
    assert not t.reachable[0, 0] and np.isnan(t.km[0, 0]) and np.isnan(t.minutes[0, 0])
    joined = dict(LINES, E=([(2200.0, -1000.0), (2200.0, 0.0), (2200.0, 1000.0)], 30.0))  # a vertex on L1
    t = travel([A], [(2200.0, -1000.0)], lines=dict(joined, L1=([A, (2200.0, 0.0), B], 60.0)))
    assert t.km[0, 0] == pytest.approx(2.2 + 1.0)


def test_dangling_end_within_tolerance_is_joined():
    G = (5000.0, 2000.0)
    t = travel([A], [G])
    # A→B 3 km at 60, B→(3000,2000) 2 km at 30, the 1.5 m gap at L2's speed, then F at 20 km/h.
    assert t.km[0, 0] == pytest.approx(3.0 + 2.0 + 0.0015 + 1.9985)
    assert t.minutes[0, 0] == pytest.approx(3.0 + 2 / 30 * 60 + 0.0015 / 30 * 60 + 1.9985 / 20 * 60)
    far = dict(LINES, F=([(3003.0, 2000.0), (5000.0, 2000.0)], 20.0))  # 3 m short: beyond 2 m
    assert not travel([A], [G], lines=far).reachable[0, 0]
    assert travel([A], [G], lines=far, junction_tolerance_m=5.0).reachable[0, 0]


def test_parallel_roads_keep_the_shorter_and_the_faster():
    slow_twin = dict(LINES, L1b=([A, B], 20.0))  # same two nodes, slower
    t = travel([A], [B], lines=slow_twin)
    assert t.km[0, 0] == pytest.approx(3.0)  # not 6: duplicates are not summed
    assert t.minutes[0, 0] == pytest.approx(3.0)


def test_points_are_not_snapped_onto_an_expressway():
    lines = dict(LINES, X=([(-500.0, -100.0), (3500.0, -100.0)], 80.0))  # 100 m south of L1
    enter = [k != "X" for k in lines]
    t = travel([(1500.0, -150.0)], [B], lines=lines, enterable=enter)
    assert t.origin_snap_m[0] == pytest.approx(150.0)  # to L1, not the expressway 50 m away
    assert t.km[0, 0] == pytest.approx(0.15 + 1.5)


def test_neighbours_walk_straight():
    t = travel([(1500.0, -300.0)], [(1500.0, -300.0), (1600.0, -300.0)])
    assert t.km[0, 0] == 0.0 and t.minutes[0, 0] == 0.0  # same place
    assert t.km[0, 1] == pytest.approx(0.1) and t.minutes[0, 1] == pytest.approx(0.1 / 4 * 60)


def test_docstring_example():
    import doctest

    import xuewei.optimizer.network as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
