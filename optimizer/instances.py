"""Readers for the standard facility-location test sets in ``shared/benchmarks``.

Three formats, each turned into the *same* `LocationModel` the school layout uses:

- ``pmed``   OR-Library p-median (Beasley 1985): a graph; costs are all-pairs shortest paths.
- ``cap``    OR-Library capacitated warehouse location (Beasley 1988): splittable demand.
- ``sscflp`` Holmberg et al. (1999) single-source capacitated facility location.

A malformed file raises `xuewei.errors.InputError` naming the file and the line.

References
----------
.. [1] J. E. Beasley, "A note on solving large p-median problems", EJOR 21 (1985) 270-273.
.. [2] J. E. Beasley, "An algorithm for solving large capacitated warehouse location problems",
       EJOR 33 (1988) 314-325.
.. [3] K. Holmberg, M. Rönnqvist, D. Yuan, "An exact algorithm for the capacitated facility location
       problems with single sourcing", EJOR 113 (1999) 544-559.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import csgraph_from_dense, shortest_path

from xuewei.errors import InputError, Problem

FORMATS = ("pmed", "cap", "sscflp")
MAX_VALUE = 1e12  #: larger numbers in a file are refused (they break the solver's tolerances)
MAX_PMED_NODES = 10_000  #: the dense n×n distance matrix of a bigger graph does not fit in memory
FORMAT_ZH = {"pmed": "OR-Library p-中位", "cap": "OR-Library 有容量仓库选址", "sscflp": "Holmberg 单源有容量选址"}


@dataclass
class Instance:
    """A benchmark instance, read and checked.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"pmed1"``.
    kind : str
        One of `FORMATS`.
    cost : numpy.ndarray
        ``(n_nodes, n_sites)``: for ``pmed`` the shortest-path distance (per unit of demand);
        for ``cap`` and ``sscflp`` the cost of serving the node's *whole* demand from the site.
    demand : numpy.ndarray
        ``(n_nodes,)`` demand of each node.
    capacity : numpy.ndarray or None
        ``(n_sites,)`` capacities; ``None`` when uncapacitated (``pmed``).
    fixed_cost : numpy.ndarray or None
        ``(n_sites,)`` opening costs; ``None`` for ``pmed``.
    p : int or None
        Number of sites to open (``pmed`` only).
    single_source : bool
        Whether each node goes to exactly one site.
    path : pathlib.Path
        Where it was read from.
    """

    name: str
    kind: str
    cost: np.ndarray
    demand: np.ndarray
    capacity: np.ndarray | None
    fixed_cost: np.ndarray | None
    p: int | None
    single_source: bool
    path: Path

    def to_model(self, **kwargs):
        """Build the `LocationModel` of this instance; keyword arguments go to ``from_cost_matrix``."""
        from xuewei.optimizer.model import LocationModel

        per_node = self.kind in ("cap", "sscflp")
        return LocationModel.from_cost_matrix(
            self.cost,
            self.demand,
            capacity=self.capacity,
            fixed_cost=self.fixed_cost,
            p=self.p,
            single_source=self.single_source,
            cost_basis="per_node" if per_node else "per_unit",
            name=self.name,
            **kwargs,
        )


class _Tokens:
    """Whitespace-separated numbers of a file, each with its line number (line 1 = first line)."""

    def __init__(self, path: Path):
        self.file = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig", errors="strict")  # a BOM is ignored
        except FileNotFoundError:
            raise InputError(Problem(file=self.file, expected="存在的算例文件", found="文件不存在")) from None
        except UnicodeDecodeError:
            raise InputError(Problem(file=self.file, expected="只含数字的文本文件",
                                     found="无法按 UTF-8 读取（二进制文件或含中文注释？）")) from None
        except (IsADirectoryError, PermissionError) as err:
            raise InputError(Problem(file=self.file, expected="可读的文本文件", found=type(err).__name__)) from None
        if not text.strip():
            raise InputError(Problem(file=self.file, expected="算例数据", found="空文件"))
        self.values: list[str] = []
        self.lines: list[int] = []
        for number, line in enumerate(text.splitlines(), start=1):
            words = line.split()
            self.values += words
            self.lines += [number] * len(words)
        self.pos = 0
        self.last_line = len(text.splitlines())

    def _fail(self, what: str, found: str | None, line: int | None, hint: str | None = None):
        raise InputError(Problem(file=self.file, row=line, expected=what, found=found, hint=hint))

    def take(self, count: int, what: str, kind: str = "float") -> np.ndarray:
        """Consume ``count`` numbers; ``kind`` is ``"int"`` (non-negative integer) or ``"float"``."""
        end = self.pos + count
        if end > len(self.values):
            self._fail(
                f"{what}（还需 {end - len(self.values)} 个数）",
                "文件结束",
                self.last_line,
                "文件被截断或表头的规模与内容不符。",
            )
        words = self.values[self.pos:end]
        lines = self.lines[self.pos:end]
        try:
            out = np.array(words, dtype=float)
        except ValueError:
            for word, line in zip(words, lines):
                try:
                    float(word)
                except ValueError:
                    self._fail(f"数字（{what}）", word, line)
            raise  # pragma: no cover - every non-number is caught above
        bad = ~np.isfinite(out) | (out < 0) | (out > MAX_VALUE)
        if kind == "int":
            bad |= out != np.round(out)
        if bad.any():
            first = int(np.argmax(bad))
            expected = "非负整数" if kind == "int" else "非负有限数"
            expected += f"（不超过 {MAX_VALUE:.0e}）" if out[first] > MAX_VALUE else ""
            self._fail(f"{expected}（{what}）", words[first], lines[first])
        self.pos = end
        return out

    def line_of(self, offset: int) -> int:
        """Line number of the token ``offset`` positions before the current one."""
        return self.lines[self.pos - offset]

    def finish(self) -> None:
        """Fail if anything but whitespace follows the expected numbers."""
        if self.pos < len(self.values):
            self._fail("文件结束", self.values[self.pos], self.lines[self.pos], "多出的数据：表头的规模与内容不符。")


def _positive_header(tok: _Tokens, names: list[str]) -> list[int]:
    values = tok.take(len(names), "表头 " + " ".join(names), kind="int").astype(int)
    for name, value in zip(names, values):
        if value <= 0:
            tok._fail(f"正整数（表头 {name}）", str(value), tok.lines[0])
    return [int(v) for v in values]


def read_pmed(path: str | Path) -> Instance:
    """Read an OR-Library p-median file: ``n m p`` then ``m`` edges ``i j cost`` (1-based).

    Costs are all-pairs shortest paths (scipy Dijkstra); of duplicate edges the last one counts.
    Every vertex is a demand node with weight 1 and a candidate site.
    """
    path = Path(path)
    tok = _Tokens(path)
    n, m, p = _positive_header(tok, ["n", "m", "p"])
    if n > MAX_PMED_NODES:
        tok._fail(f"不超过 {MAX_PMED_NODES} 的顶点数 n（全源最短路矩阵为 n×n）", str(n), tok.lines[0])
    if p > n:
        tok._fail(f"不大于顶点数 {n} 的中位数 p", str(p), tok.lines[0])
    edges = tok.take(3 * m, "边 i j cost", kind="float").reshape(m, 3)
    ends = edges[:, :2]
    bad = (ends < 1) | (ends > n) | (ends != np.round(ends))
    if bad.any():
        row = int(np.argmax(bad.any(axis=1)))
        tok._fail(f"1..{n} 之间的顶点编号", " ".join(f"{v:g}" for v in edges[row]), tok.lines[3 + 3 * row])
    tok.finish()
    i = ends[:, 0].astype(int) - 1
    j = ends[:, 1].astype(int) - 1
    w = edges[:, 2]
    # Last duplicate wins: keep, for each unordered pair, its last occurrence.
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    key = lo * n + hi
    _, last_rev = np.unique(key[::-1], return_index=True)
    last = m - 1 - last_rev
    keep = last[lo[last] != hi[last]]  # self-loops carry no information
    dense = np.full((n, n), np.inf)
    dense[lo[keep], hi[keep]] = w[keep]
    dense[hi[keep], lo[keep]] = w[keep]
    graph = csgraph_from_dense(dense, null_value=np.inf)  # keeps zero-length edges
    dist = shortest_path(graph, method="D", directed=False)
    return Instance(
        name=path.stem, kind="pmed", cost=dist, demand=np.ones(n), capacity=None, fixed_cost=None,
        p=p, single_source=False, path=path,
    )


def read_cap(path: str | Path) -> Instance:
    """Read an OR-Library capacitated warehouse file (splittable demand).

    ``m n``; ``m`` lines ``capacity fixed_cost``; then per customer its demand and the ``m`` costs of
    allocating all of its demand to each warehouse.
    """
    path = Path(path)
    tok = _Tokens(path)
    m, n = _positive_header(tok, ["m", "n"])
    cap_fix = tok.take(2 * m, "仓库 capacity fixed_cost").reshape(m, 2)
    demand = np.empty(n)
    cost = np.empty((n, m))
    for c in range(n):
        demand[c] = tok.take(1, f"第 {c + 1} 个客户的需求")[0]
        cost[c] = tok.take(m, f"第 {c + 1} 个客户到 {m} 个仓库的费用")
    tok.finish()
    return Instance(
        name=path.stem, kind="cap", cost=cost, demand=demand, capacity=cap_fix[:, 0].copy(),
        fixed_cost=cap_fix[:, 1].copy(), p=None, single_source=False, path=path,
    )


def read_sscflp(path: str | Path) -> Instance:
    """Read a Holmberg single-source CFLP file.

    ``m n``; ``m`` capacities; ``m`` fixed costs; ``n`` demands; then ``n`` rows of ``m`` costs
    (customer ``j`` by row, facility ``i`` by column).
    """
    path = Path(path)
    tok = _Tokens(path)
    m, n = _positive_header(tok, ["m", "n"])
    capacity = tok.take(m, f"{m} 个设施容量")
    fixed = tok.take(m, f"{m} 个设施固定费用")
    demand = tok.take(n, f"{n} 个客户需求")
    cost = tok.take(n * m, f"{n}×{m} 分配费用矩阵").reshape(n, m)
    tok.finish()
    return Instance(
        name=path.stem, kind="sscflp", cost=cost, demand=demand, capacity=capacity, fixed_cost=fixed,
        p=None, single_source=True, path=path,
    )


READERS = {"pmed": read_pmed, "cap": read_cap, "sscflp": read_sscflp}


def guess_format(path: str | Path) -> str | None:
    """Format from the file or folder name (``pmed*``, ``cap*``, ``p<digits>`` / ``*holmberg*``)."""
    path = Path(path)
    stem, folder = path.stem.lower(), path.parent.name.lower()
    if stem.startswith("pmed") or "pmed" in folder:
        return "pmed"
    if stem.startswith("cap") or folder.endswith("cap"):
        return "cap"
    if "holmberg" in folder or "sscflp" in folder or (stem.startswith("p") and stem[1:].isdigit()):
        return "sscflp"
    return None


def read_instance(path: str | Path, fmt: str | None = None) -> Instance:
    """Read a benchmark file in format ``fmt`` (guessed from its name when ``None``)."""
    fmt = fmt or guess_format(path)
    if fmt not in READERS:
        raise InputError(
            Problem(file=str(path), expected="算例格式 pmed、cap 或 sscflp 之一", found=fmt,
                    hint="用 --format 指定格式。")
        )
    return READERS[fmt](path)


def read_optima(path: str | Path) -> dict[str, float]:
    """Published optima: ``optimal.txt`` lines ``name value``; missing file gives ``{}``."""
    path = Path(path)
    if not path.is_file():
        return {}
    out: dict[str, float] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(Problem(file=str(path), expected="UTF-8 文本（每行“名称 最优值”）", found="无法按 UTF-8 读取")) from None
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        try:
            out[words[0]] = float(words[1])
        except (IndexError, ValueError):
            raise InputError(Problem(file=str(path), row=number, expected="“名称 最优值”", found=line)) from None
    return out
