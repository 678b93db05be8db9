"""Node–site pair tables: only feasible pairs, ranked by cost, pruned to the k nearest.

The model never loops over the full node × site matrix: pairs are selected with numpy masks,
sorted once with `numpy.lexsort`, and handed to the model as flat arrays.

Pruning argument (see ``docs/optimizer.md``): pairs beyond the maximum distance are infeasible
and dropped for good. Pairs beyond a node's k nearest are *replaced* by one placeholder variable
whose cost is the cheapest pruned pair of that node. That restricted model is a relaxation of the
full one, so when its optimum uses no placeholder it is optimal for the full model; otherwise
the nodes that used one get a larger k and the model is solved again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist


@dataclass
class PairTable:
    """Feasible node–site pairs, sorted by node, then cost, then site.

    Attributes
    ----------
    node : numpy.ndarray of int
        Node position (0-based) of each pair.
    site : numpy.ndarray of int
        Site position (0-based) of each pair.
    cost : numpy.ndarray of float
        Cost of serving the node's *whole* demand from the site [cost unit].
    distance : numpy.ndarray of float
        Distance node–site [km, or the instance's own unit].
    n_nodes, n_sites : int
        Sizes of the full problem.
    """

    node: np.ndarray
    site: np.ndarray
    cost: np.ndarray
    distance: np.ndarray
    n_nodes: int
    n_sites: int

    def __post_init__(self):
        order = np.lexsort((self.site, self.cost, self.node))
        self.node = np.asarray(self.node, dtype=np.int64)[order]
        self.site = np.asarray(self.site, dtype=np.int64)[order]
        self.cost = np.asarray(self.cost, dtype=float)[order]
        self.distance = np.asarray(self.distance, dtype=float)[order]
        counts = np.bincount(self.node, minlength=self.n_nodes)
        self.start = np.concatenate(([0], np.cumsum(counts)))  # node i's pairs: start[i]:start[i+1]
        self.rank = np.arange(len(self.node)) - self.start[self.node]

    def __len__(self) -> int:
        return len(self.node)

    @property
    def counts(self) -> np.ndarray:
        """Number of feasible pairs per node."""
        return np.diff(self.start)

    def frame(self, node_ids=None, site_ids=None) -> pd.DataFrame:
        """The table as a DataFrame (``node_id, site_id, cost, distance``)."""
        node_ids = np.arange(self.n_nodes) if node_ids is None else np.asarray(node_ids)
        site_ids = np.arange(self.n_sites) if site_ids is None else np.asarray(site_ids)
        return pd.DataFrame(
            {"node_id": node_ids[self.node], "site_id": site_ids[self.site], "cost": self.cost,
             "distance": self.distance}
        )

    def nearest(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keep each node's k nearest pairs (by cost), plus every pair tied with the k-th.

        Parameters
        ----------
        k : numpy.ndarray of int
            ``(n_nodes,)`` pairs to keep per node; values above the node's count keep them all.

        Returns
        -------
        kept : numpy.ndarray of bool
            Mask over the pairs.
        floor : numpy.ndarray of float
            ``(n_nodes,)`` cheapest *pruned* cost of each node (``nan`` when nothing was pruned): the
            cost of the placeholder that makes the pruned model a relaxation of the full one.
        """
        k = np.clip(np.asarray(k, dtype=np.int64), 1, None)
        counts = self.counts
        has = counts > 0
        kth = np.full(self.n_nodes, np.inf)
        last = self.start[:-1] + np.minimum(k, counts) - 1
        kth[has] = self.cost[last[has]]
        kept = self.cost <= kth[self.node]
        n_kept = np.bincount(self.node[kept], minlength=self.n_nodes)
        floor = np.full(self.n_nodes, np.nan)
        pruned = n_kept < counts
        floor[pruned] = self.cost[self.start[:-1][pruned] + n_kept[pruned]]
        return kept, floor


def from_matrix(
    cost: np.ndarray,
    distance: np.ndarray | None = None,
    max_distance: float | np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> PairTable:
    """Feasible pairs of a dense ``(n_nodes, n_sites)`` cost matrix.

    Parameters
    ----------
    cost : numpy.ndarray
        Cost of serving each node's whole demand from each site [cost unit]; ``inf``/``nan`` marks
        a pair that cannot be used.
    distance : numpy.ndarray, optional
        Distances [km or the instance's unit]; defaults to ``cost``.
    max_distance : float or numpy.ndarray, optional
        Pairs farther than this are infeasible; a ``(n_nodes,)`` array gives a limit per node.
    allowed : numpy.ndarray of bool, optional
        Extra eligibility mask (e.g. tier rules).
    """
    cost = np.asarray(cost, dtype=float)
    distance = cost if distance is None else np.asarray(distance, dtype=float)
    ok = np.isfinite(cost) & np.isfinite(distance)
    if max_distance is not None:
        limit = np.asarray(max_distance, dtype=float)
        if limit.ndim == 1:
            limit = limit[:, None]
        ok &= distance <= limit
    if allowed is not None:
        ok &= np.asarray(allowed, dtype=bool)
    node, site = np.nonzero(ok)
    return PairTable(node, site, cost[node, site], distance[node, site], cost.shape[0], cost.shape[1])


def euclidean_km(node_xy: np.ndarray, site_xy: np.ndarray) -> np.ndarray:
    """Straight-line distances [km] between points in a metric CRS given in metres."""
    return cdist(np.asarray(node_xy, dtype=float), np.asarray(site_xy, dtype=float)) / 1000.0
