"""Greedy label placement: placed labels never overlap each other, symbols or the frame."""

import numpy as np
import pytest

from xuewei.reports.label_place import place_labels, text_size_pt


def boxes(places, sizes):
    return np.array([[p.x - w / 2, p.y - h / 2, p.x + w / 2, p.y + h / 2] for p, (w, h) in zip(places, sizes) if p])


def overlap(a, b) -> bool:
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_overlaps_among_many_labels(seed):
    rng = np.random.default_rng(seed)
    n = 120
    anchors = rng.uniform(0, 200, size=(n, 2))
    sizes = np.array([text_size_pt("村" * k, 7) for k in rng.integers(2, 6, n)])
    radii = np.full(n, 3.0)
    places = place_labels(anchors, sizes, radii, (0, 0, 200, 200))
    placed = [(p, s, a) for p, s, a in zip(places, sizes, anchors) if p]
    assert 0 < len(placed) < n  # crowded: some are left off
    b = boxes([p for p, _, _ in placed], [s for _, s, _ in placed])
    for i in range(len(b)):
        assert b[i, 0] >= 0 and b[i, 1] >= 0 and b[i, 2] <= 200 and b[i, 3] <= 200
        for j in range(i + 1, len(b)):
            assert not overlap(b[i], b[j])
        for a, r in zip(anchors, radii):  # never on top of a symbol
            assert not overlap(b[i], [a[0] - r, a[1] - r, a[0] + r, a[1] + r])


def test_first_choice_is_right_of_the_point_and_far_ring_gets_a_leader():
    sizes = np.array([[20.0, 8.0]])
    p = place_labels(np.array([[50.0, 50.0]]), sizes, np.array([2.0]), (0, 0, 100, 100))[0]
    assert (p.x, p.y, p.leader) == (50 + 2 + 2 + 10, 50, False)
    # every near position blocked by obstacles: the label goes to the far ring with a leader line
    blocks = np.array([[20.0, 30.0, 80.0, 70.0]])
    p = place_labels(np.array([[50.0, 50.0]]), sizes, np.array([2.0]), (0, 0, 200, 200), obstacles=blocks,
                     far=30.0)[0]
    assert p is not None and p.leader


def test_no_room_means_skipped():
    p = place_labels(np.array([[5.0, 5.0]]), np.array([[40.0, 8.0]]), np.array([2.0]), (0, 0, 20, 20))
    assert p == [None]


def test_text_size_counts_cjk_as_one_em():
    assert text_size_pt("城关", 10) == (22.0, 12.5)
    assert text_size_pt("ab", 10) == pytest.approx((2 * 5.8 + 2, 12.5))


def test_label_doctests():
    import doctest

    from xuewei import labels

    result = doctest.testmod(labels, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5 and result.failed == 0
