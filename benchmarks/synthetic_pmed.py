"""Seeded random graphs in the OR-Library p-median format, for sizes the shared set lacks.

Beasley's pmed instances are random connected graphs with m ≈ n²/50 edges and integer lengths
1..100; pmed1–10 (n = 100, 200) are in benchmarks/instances. These files follow the same recipe
for n = 300 … 600 so the side-by-side timing covers n ≥ 400. They have no published optimum:
xuewei and spopt are checked against each other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_instance(path: Path, n: int, p: int, seed: int) -> Path:
    """Write a connected random graph with ``n²/50`` edges and lengths 1..100 [unitless]."""
    rng = np.random.default_rng(seed)
    m = n * n // 50
    # A random spanning tree keeps the graph connected; the rest are random distinct pairs.
    order = rng.permutation(n)
    tree = [(order[i], order[rng.integers(0, i)]) for i in range(1, n)]
    seen = {(min(a, b), max(a, b)) for a, b in tree}
    edges = list(seen)
    while len(edges) < m:
        a, b = rng.integers(0, n, size=2)
        key = (min(a, b), max(a, b))
        if a != b and key not in seen:
            seen.add(key)
            edges.append(key)
    lengths = rng.integers(1, 101, size=len(edges))
    lines = [f" {n} {len(edges)} {p} "] + [f" {a + 1} {b + 1} {w} " for (a, b), w in zip(edges, lengths)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SYNTHETIC = [(300, 10), (400, 10), (400, 40), (500, 20), (600, 60)]


def make_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_instance(folder / f"synth_n{n}_p{p}.txt", n, p, seed=1000 + n + p) for n, p in SYNTHETIC]
