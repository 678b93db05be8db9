"""Does a layout model split into independent pieces once its openings are fixed?

For one model of a benchmark region: the connected components of the graph of villages (catchment
units) and schools joined by their kept pairs, first with every school, then per period with only
the schools the greedy start keeps open. If fixing the openings left many small components, the
fixed problem could be solved exactly piece by piece; a giant component means it cannot.

Usage::

    python benchmarks/components.py --region demo --model primary [--data /tmp/lb]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from layout_bench import prepare, scenario_path  # noqa: E402


def _components(n_nodes: int, n_sites: int, node: np.ndarray, site: np.ndarray) -> np.ndarray:
    """Component sizes of the bipartite graph (villages, then sites)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    size = n_nodes + n_sites
    graph = coo_matrix((np.ones(len(node)), (node, n_nodes + site)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    return np.bincount(label)


def main(argv: list[str] | None = None) -> None:
    from xuewei.optimizer import layout as L

    p = argparse.ArgumentParser(description="固定开办决策后，布局模型能否拆成互不相关的小块")
    p.add_argument("--region", default="demo")
    p.add_argument("--model", default="primary")
    p.add_argument("--data", type=Path, help="生成区域的文件夹（缺省临时文件夹）")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        _, policy, stages, _ = prepare(scenario_path(a.region, a.data or Path(tmp)))
    sd = next(s for s in stages if s.name == a.model)
    N, S = len(sd.node_ids), len(sd.sites)
    sizes = _components(N, S, sd.pair_node, sd.pair_site)
    print(f"{a.region} {a.model}: {N} 个划片单元、{S} 所学校、{len(sd.pair_node)} 个配对；"
          f"全部学校：{len(sizes)} 块，最大 {sizes.max()} 个点")
    start = L._greedy(sd, policy, np.zeros(S, dtype=bool))
    for t, opened in enumerate(start["o"]):
        keep = opened[sd.pair_site] > 0.5
        sizes = _components(N, S, sd.pair_node[keep], sd.pair_site[keep])
        print(f"  第 {t + 1} 期，贪心初始解开办 {int((opened > 0.5).sum())} 所：{len(sizes)} 块（含关闭学校各自成块），"
              f"最大 {sizes.max()} 个点（共 {N + S} 个）")


if __name__ == "__main__":
    main()
