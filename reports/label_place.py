"""Greedy label placement: labels that do not pile on each other or on the symbols.

Labels are placed one by one in priority order. Each tries a ring of offsets around its anchor
(right, left, above, below, the four diagonals), first close, then farther out; the first box that
overlaps no placed label, no symbol but its own and stays inside the frame wins. A label placed on
the far ring gets a leader line back to its anchor; a label with no free box is skipped (and
reported, so a caller can list it elsewhere). Everything is in display points, so the result does
not depend on the map's units. No dependency beyond numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (dx, dy) directions in units of the gap; the label box is anchored on the side facing the point.
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))


@dataclass(frozen=True)
class Placement:
    """Where one label went: its box centre [pt], and whether it needs a leader line."""

    x: float
    y: float
    leader: bool


def text_size_pt(text: str, fontsize: float) -> tuple[float, float]:
    """Width and height of one line of ``text`` [pt]: a CJK glyph is one em wide, others about 0.55 em."""
    wide = sum(1 for ch in text if ord(ch) > 0x2E80)
    return (wide + 0.58 * (len(text) - wide)) * fontsize + 2.0, fontsize * 1.25


def _box(cx: float, cy: float, w: float, h: float) -> np.ndarray:
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _overlaps(box: np.ndarray, boxes: np.ndarray) -> bool:
    if not len(boxes):
        return False
    return bool(np.any((boxes[:, 0] < box[2]) & (boxes[:, 2] > box[0]) & (boxes[:, 1] < box[3]) & (boxes[:, 3] > box[1])))


def place_labels(anchors: np.ndarray, sizes: np.ndarray, radii: np.ndarray, frame: tuple[float, float, float, float],
                 obstacles: np.ndarray | None = None, gap: float = 2.0, far: float = 14.0) -> list[Placement | None]:
    """Place labels greedily, in the order given (put the important ones first).

    Parameters
    ----------
    anchors : (n, 2) array
        Anchor points (the symbols being labelled) [pt].
    sizes : (n, 2) array
        Label width and height [pt].
    radii : (n,) array
        Half-size of each anchor's symbol [pt]; labels keep clear of it.
    frame : (x0, y0, x1, y1)
        Labels must lie inside this box [pt].
    obstacles : (m, 4) array, optional
        Further boxes to avoid (other symbols, the legend) [pt].
    gap : float
        Distance between symbol and label on the first ring [pt].
    far : float
        Extra distance of the second ring, whose labels get a leader line [pt].

    Returns
    -------
    list of Placement or None
        One entry per label, ``None`` where no free place was found.

    Examples
    --------
    >>> a = np.array([[50.0, 50.0], [52.0, 50.0]])
    >>> s = np.array([[20.0, 8.0], [20.0, 8.0]])
    >>> p = place_labels(a, s, np.array([2.0, 2.0]), (0, 0, 200, 200))
    >>> p[0].x > 50, p[1].x < 52   # the second goes left because the right is taken
    (True, True)
    """
    anchors = np.asarray(anchors, dtype=float).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=float).reshape(-1, 2)
    radii = np.asarray(radii, dtype=float).reshape(-1)
    symbols = np.column_stack([anchors - radii[:, None], anchors + radii[:, None]]) if len(anchors) else np.zeros((0, 4))
    fixed = symbols if obstacles is None or not len(obstacles) else np.vstack([symbols, np.asarray(obstacles, float)])
    placed = np.zeros((0, 4))
    x0, y0, x1, y1 = frame
    out: list[Placement | None] = []
    for i, ((ax, ay), (w, h), r) in enumerate(zip(anchors, sizes, radii)):
        others = np.delete(fixed, i, axis=0) if i < len(symbols) else fixed
        choice = None
        for ring, extra in enumerate((0.0, far)):
            for dx, dy in DIRECTIONS:
                d = r + gap + extra
                cx = ax + dx * (d + w / 2)
                cy = ay + dy * (d + h / 2)
                box = _box(cx, cy, w, h)
                if box[0] < x0 or box[1] < y0 or box[2] > x1 or box[3] > y1:
                    continue
                if _overlaps(box, placed) or _overlaps(box, others):
                    continue
                choice = Placement(float(cx), float(cy), leader=ring > 0)
                placed = np.vstack([placed, box])
                break
            if choice:
                break
        out.append(choice)
    return out
