r"""The location–allocation model every xuewei layout is solved with.

Sites (existing schools and candidate sites) with one or more capacity options, each with a fixed
cost; demand nodes with demand; a table of feasible node–site pairs with the cost of serving the
node's whole demand there. Build it from a cost matrix, from GeoDataFrames or from tables, call
`LocationModel.solve`, read the result tables.

Formulation (symbols in ``docs/optimizer.md``):

.. math::

   \min \sum_{j,o} f_{jo} y_{jo} + \sum_{(i,j)\in P} c_{ij} x_{ij}
        + \sum_i \pi d_i u_i + \sum_i \ell_i g_i

   \text{s.t.}\quad \sum_{j:(i,j)\in P} x_{ij} + g_i + u_i = 1 \quad \forall i

   \sum_i d_i x_{ij} \le \sum_o Q_{jo} y_{jo},\quad
   \sum_i d_i x_{ij} \ge \sum_o L_{jo} y_{jo},\quad
   x_{ij} \le \sum_o y_{jo},\quad \sum_o y_{jo} \le 1 \;(= 1 \text{ if forced open})

   \sum_{j,o} y_{jo} = p,\quad \sum_{j,o} f_{jo} y_{jo} \le B,\quad
   y \in \{0,1\},\; x \in [0,1] \text{ or } \{0,1\}

:math:`u_i` exists only with an unserved penalty :math:`\pi`; :math:`g_i` (the k-nearest
placeholder) only while a node's pairs are pruned, and a solution is accepted only when no
:math:`g_i` is used.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from xuewei.errors import InputError, Problem, SolveError
from xuewei.optimizer import checks
from xuewei.optimizer import start as start_mod
from xuewei.optimizer.build import ModelArrays, build_problem
from xuewei.optimizer.pairs import PairTable, euclidean_km, from_matrix
from xuewei.optimizer.results import Solution, make_tables
from xuewei.optimizer.solve import SolveReport, _rel_gap, solve_problem

#: Placeholder values under this are treated as zero.
_EPS = 1e-6


def _repaired(report: SolveReport, bound: float | None) -> SolveReport:
    """Report of a repaired time-limited run: feasible, gap against the pruned model's bound."""
    return replace(report, status="feasible", bound=bound, gap=_rel_gap(report.objective, bound))


#: Optional option columns for modular capacity (e.g. classes of 45 places each).
MODULE_COLUMNS = ("module_capacity", "module_cost", "min_modules", "max_modules")


class LocationModel:
    """Capacitated / uncapacitated, splittable / single-source facility location with p, budget,
    forced sites, multi-option capacities and elastic unserved demand.

    Parameters
    ----------
    nodes : pandas.DataFrame
        ``node_id, demand`` [demand unit, e.g. pupils], one row per demand node.
    sites : pandas.DataFrame
        ``site_id, status``; status is ``candidate`` (free), ``open`` (must open) or ``closed``.
    options : pandas.DataFrame
        ``site_id, option, capacity, fixed_cost`` and optionally ``min_load``: each site opens at
        most one option. ``capacity`` [demand unit] is ``inf`` when uncapacitated; ``fixed_cost``
        [cost unit]; ``min_load`` [demand unit] is the least demand an open option must serve.
        Modular capacity (integer class counts instead of a size menu): ``module_capacity``
        [demand unit per module], ``module_cost`` [cost unit per module], ``min_modules`` and
        ``max_modules``; an open option then has ``capacity + module_capacity * z`` places for
        ``fixed_cost + module_cost * z``, with integer ``z`` in ``[min_modules, max_modules]``.
    pairs : PairTable
        Feasible pairs (positions into ``nodes``/``sites``) with the cost of serving the node's
        whole demand [cost unit] and the distance.
    p : int, optional
        Number of sites to open.
    single_source : bool
        Each node to exactly one site (catchments, 划片) instead of splittable demand.
    unserved_penalty : float or "auto", optional
        Penalty per unit of unserved demand [cost unit]. ``None`` (default): all demand must be
        served; anything that makes that impossible raises `InputError` naming the nodes.
        ``"auto"``: ten times the largest cost of serving one unit (reported in ``summary``).
    budget : float, optional
        Upper bound on the total fixed cost [cost unit].
    k : int, "auto" or None
        Pairs kept per node before solving (the rest replaced by a placeholder and restored where
        used, see `xuewei.optimizer.pairs`); ``None`` keeps every feasible pair; ``"auto"`` prunes
        only uncapacitated models. Ignored (no pruning) when any option has a ``min_load``.
    strong_linking : bool
        Add ``x_ij <= y_j`` for every pair even at capacitated sites (tighter LP, more rows).
    name : str
        Label used in the solver and the summary.
    """

    def __init__(self, nodes, sites, options, pairs: PairTable, *, p=None, single_source=False,
                 unserved_penalty=None, budget=None, k="auto", strong_linking=True, name="location"):
        self.node_ids = np.asarray(nodes["node_id"])
        self.demand = np.asarray(nodes["demand"], dtype=float)
        self.site_ids = np.asarray(sites["site_id"])
        self.site_status = np.asarray(sites["status"] if "status" in sites else ["candidate"] * len(sites), dtype=object)
        position = pd.Series(np.arange(len(self.site_ids)), index=self.site_ids)
        if not position.index.is_unique or not pd.Index(self.node_ids).is_unique:
            raise InputError(Problem(file=checks.SOURCE, field="node_id/site_id", expected="唯一的编号", found="有重复"))
        unknown = ~pd.Index(options["site_id"]).isin(position.index)
        if unknown.any():
            raise InputError(Problem(file=checks.SOURCE, field="site_id", expected="sites 中的站点",
                                     found=checks._ids(np.asarray(options["site_id"])[unknown])))
        self.options = pd.DataFrame({
            "site_id": np.asarray(options["site_id"]),
            "option": np.asarray(options["option"]) if "option" in options else "default",
            "capacity": np.asarray(options["capacity"], dtype=float),
            "fixed_cost": np.asarray(options["fixed_cost"], dtype=float),
            "min_load": np.asarray(options["min_load"], dtype=float) if "min_load" in options else 0.0,
        })
        for col in MODULE_COLUMNS:
            self.options[col] = np.asarray(options[col], dtype=float) if col in options else 0.0
        mod = self.options[list(MODULE_COLUMNS)].to_numpy()
        if (~np.isfinite(mod) | (mod < 0)).any() or (self.options["min_modules"] > self.options["max_modules"]).any() \
                or (self.options[["min_modules", "max_modules"]].to_numpy() % 1 != 0).any():
            raise InputError(Problem(file=checks.SOURCE, field="module_*", expected="非负有限数，模块数为整数且 min_modules ≤ max_modules",
                                     found="不合格的模块列"))
        #: Largest capacity each option can reach [demand unit].
        self._opt_max_capacity = (self.options["capacity"] + self.options["module_capacity"] * self.options["max_modules"]).to_numpy()
        self._opt_site = position.loc[self.options["site_id"]].to_numpy()
        checks.check_arrays(self.demand, self.site_status, self._opt_site, self.options["capacity"].to_numpy(),
                            self.options["fixed_cost"].to_numpy(), self.options["min_load"].to_numpy(),
                            len(self.site_ids), p, budget)
        if pairs.n_nodes != len(self.node_ids) or pairs.n_sites != len(self.site_ids):
            raise InputError(Problem(file=checks.SOURCE, field="pairs", expected="与节点、站点数一致的配对表",
                                     found=f"{pairs.n_nodes}×{pairs.n_sites}"))
        self.pairs = pairs
        self.p = None if p is None else int(p)
        self.single_source = bool(single_source)
        self.unserved_penalty = unserved_penalty
        self.budget = budget
        self.k = k
        self.strong_linking = bool(strong_linking)
        self.name = str(name)
        self._solution: Solution | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_cost_matrix(cls, cost, demand, *, capacity=None, fixed_cost=None, options=None, status=None,
                         distance=None, max_distance=None, allowed=None, cost_basis="per_unit",
                         node_ids=None, site_ids=None, **kwargs) -> LocationModel:
        """Build from a dense ``(n_nodes, n_sites)`` matrix.

        Parameters
        ----------
        cost : array_like
            ``per_unit``: cost of serving one unit of demand (e.g. distance [km]), multiplied by the
            demand; ``per_node``: cost of serving the node's whole demand (OR-Library convention).
            ``inf`` marks a pair that cannot be used.
        demand : array_like
            ``(n_nodes,)`` demand [demand unit].
        capacity, fixed_cost : array_like, optional
            ``(n_sites,)`` one option per site; default uncapacitated and free.
        options : pandas.DataFrame, optional
            Several options per site instead (columns as in `LocationModel`, ``site_id`` = column
            position or ``site_ids`` entry).
        status : array_like of str, optional
            ``candidate`` / ``open`` / ``closed`` per site.
        distance : array_like, optional
            Distances for ``max_distance`` [km or the matrix's unit]; default ``cost``.
        max_distance : float or array_like, optional
            Farthest allowed assignment (per node when an array).
        allowed : array_like of bool, optional
            Extra pair eligibility.
        **kwargs
            Passed to `LocationModel` (``p``, ``single_source``, ``unserved_penalty``, ``k`` ...).
        """
        cost = np.asarray(cost, dtype=float)
        demand = np.asarray(demand, dtype=float)
        if cost.ndim != 2 or demand.shape != (cost.shape[0],):
            raise InputError(Problem(file=checks.SOURCE, field="cost", expected="(节点数, 站点数) 矩阵，与 demand 长度一致",
                                     found=f"cost {cost.shape}, demand {demand.shape}"))
        n, m = cost.shape
        if cost_basis not in ("per_unit", "per_node"):
            raise InputError(Problem(file=checks.SOURCE, field="cost_basis", expected="per_unit 或 per_node", found=cost_basis))
        if np.isnan(cost).any() or (cost < 0).any():
            raise InputError(Problem(file=checks.SOURCE, field="cost", expected="非负数（不可用的配对用 inf）", found="负数或空值"))
        node_ids = np.arange(n) if node_ids is None else np.asarray(node_ids)
        site_ids = np.arange(m) if site_ids is None else np.asarray(site_ids)
        pairs = from_matrix(cost, distance=distance, max_distance=max_distance, allowed=allowed)
        if cost_basis == "per_unit":
            pairs.cost = pairs.cost * demand[pairs.node]
        if options is None:
            options = pd.DataFrame({
                "site_id": site_ids, "option": "default",
                "capacity": np.full(m, np.inf) if capacity is None else np.asarray(capacity, dtype=float),
                "fixed_cost": np.zeros(m) if fixed_cost is None else np.asarray(fixed_cost, dtype=float),
            })
        sites = pd.DataFrame({"site_id": site_ids, "status": "candidate" if status is None else np.asarray(status)})
        nodes = pd.DataFrame({"node_id": node_ids, "demand": demand})
        return cls(nodes, sites, options, pairs, **kwargs)

    @classmethod
    def from_pairs(cls, nodes, sites, options, pairs, *, cost_basis="per_node", **kwargs) -> LocationModel:
        """Build from tables; ``pairs`` has ``node_id, site_id, cost`` and optionally ``distance``.

        ``cost_basis`` as in `from_cost_matrix`. Pairs absent from the table are infeasible.
        """
        node_pos = pd.Series(np.arange(len(nodes)), index=np.asarray(nodes["node_id"]))
        site_pos = pd.Series(np.arange(len(sites)), index=np.asarray(sites["site_id"]))
        bad = ~pd.Index(pairs["node_id"]).isin(node_pos.index) | ~pd.Index(pairs["site_id"]).isin(site_pos.index)
        if bad.any():
            raise InputError(Problem(file=checks.SOURCE, field="pairs", expected="nodes 与 sites 中的编号",
                                     found=f"{int(bad.sum())} 行编号未知"))
        i = node_pos.loc[pairs["node_id"]].to_numpy()
        j = site_pos.loc[pairs["site_id"]].to_numpy()
        c = np.asarray(pairs["cost"], dtype=float)
        if cost_basis == "per_unit":
            c = c * np.asarray(nodes["demand"], dtype=float)[i]
        d = np.asarray(pairs["distance"], dtype=float) if "distance" in pairs else c
        table = PairTable(i, j, c, d, len(nodes), len(sites))
        return cls(nodes, sites, options, table, **kwargs)

    @classmethod
    def from_geodataframes(cls, nodes, sites, demand_col, *, capacity_col=None, fixed_cost_col=None,
                           status_col=None, crs=None, detour_factor=1.0, max_distance_km=None,
                           **kwargs) -> LocationModel:
        """Build from point (or polygon) GeoDataFrames; distances in a metric CRS.

        Both frames must declare a CRS. They are projected to ``crs`` when given, else to the
        nodes' CRS when it is projected in metres, else to the UTM zone of the nodes; only then are
        distances computed (polygons use their centroid in that CRS). Cost per unit of demand is
        the straight-line distance [km] × ``detour_factor``; ``max_distance_km`` prunes pairs.
        Row order gives ``node_id`` / ``site_id`` (the frames' index).
        """
        for label, frame in (("nodes", nodes), ("sites", sites)):
            if frame.crs is None:
                raise InputError(Problem(file=label, field="geometry", expected="声明了坐标参考系（CRS）的图层",
                                         found="未声明 CRS", hint="先用 set_crs 声明原始坐标系（如 EPSG:4326）。"))
        target = crs
        if target is None:
            target = nodes.crs if nodes.crs.is_projected else nodes.estimate_utm_crs()
        nodes_m, sites_m = nodes.to_crs(target), sites.to_crs(target)
        unit = nodes_m.crs.axis_info[0].unit_name if nodes_m.crs.axis_info else ""
        if not nodes_m.crs.is_projected or unit not in ("metre", "meter"):
            raise InputError(Problem(file="crs", expected="以米为单位的投影坐标系", found=str(target)))
        xy = lambda g: np.column_stack([g.geometry.centroid.x, g.geometry.centroid.y])  # noqa: E731
        dist_km = euclidean_km(xy(nodes_m), xy(sites_m)) * float(detour_factor)
        cols = {}
        if capacity_col:
            cols["capacity"] = sites[capacity_col].to_numpy(dtype=float)
        if fixed_cost_col:
            cols["fixed_cost"] = sites[fixed_cost_col].to_numpy(dtype=float)
        if status_col:
            cols["status"] = sites[status_col].to_numpy()
        return cls.from_cost_matrix(
            dist_km, nodes[demand_col].to_numpy(dtype=float), distance=dist_km, max_distance=max_distance_km,
            node_ids=nodes.index.to_numpy(), site_ids=sites.index.to_numpy(), **cols, **kwargs)

    # ------------------------------------------------------------------ solving
    def _penalty(self) -> float | None:
        if self.unserved_penalty is None:
            return None
        if self.unserved_penalty != "auto":
            return float(self.unserved_penalty)
        d = self.demand[self.pairs.node]
        unit = self.pairs.cost[d > 0] / d[d > 0]
        fixed = (self.options["fixed_cost"] + self.options["module_cost"] * self.options["max_modules"]).to_numpy()
        dmin = self.demand[self.demand > 0].min() if (self.demand > 0).any() else 1.0
        return 10.0 * max(unit.max() if len(unit) else 0.0, (fixed.max() if len(fixed) else 0.0) / dmin, 1.0)

    def _initial_k(self, counts: np.ndarray) -> np.ndarray:
        """Pairs to keep per node in the first round (``counts`` = feasible pairs per node)."""
        if self.k is None or (self.options["min_load"].to_numpy() > 0).any():
            # A placeholder carries no load, so with size floors the pruned model would not be a
            # relaxation of the full one: never prune then (docs/optimizer.md, section 3).
            return counts.copy()
        if self.k == "auto":
            uncapacitated = np.isinf(self.options["capacity"].to_numpy()).all()
            m = len(self.site_ids)
            if not uncapacitated or m <= 20:
                return counts.copy()
            k0 = int(np.ceil(3.0 * m / max(self.p or 1, 1)))
            return np.full(len(counts), min(m, max(10, k0)))
        return np.full(len(counts), int(self.k))

    def solve(self, solver="highs", time_limit_s=None, gap_rel=None, threads=None, msg=False,
              extend=None, warm_start=None) -> LocationModel:
        """Solve; results in `sites`, `assignments`, `unserved`, `summary`. Returns ``self``.

        Parameters
        ----------
        solver : {"highs", "cbc"}
            HiGHS through highspy (default) or PuLP's bundled CBC.
        time_limit_s : float, optional
            Wall-clock limit for all solver runs together [s].
        gap_rel : float, optional
            Relative MIP gap to stop at (default 1e-6).
        threads : int, optional
            Solver threads.
        msg : bool
            Show the solver log.
        extend : callable, optional
            ``extend(built, arrays)`` is called after every build and may add constraints to
            ``built.prob``; variables are keyed by array position (``built.y[r]`` is option
            ``arrays.opt_site[r]``, ``built.x[t]`` is pair ``arrays.pair_node[t], arrays.pair_site[t]``).
            Extra constraints must stay valid when pairs are pruned (they are re-added each round).
        warm_start : {None, "relax"}
            ``"relax"`` (single-source models): first solve the splittable twin (within a third
            of the time limit, gap at least 0.5%), repair it into catchments and hand that to the
            solver as a starting solution (`xuewei.optimizer.start`). Its time is in ``summary``
            as ``start_seconds`` and counts against ``time_limit_s``.

        Raises
        ------
        InputError
            Demand that no layout can serve (no reachable site, demand above total capacity ...),
            when no ``unserved_penalty`` is set; the message names the nodes and numbers.
        SolveError
            The solver returned no solution (time limit without incumbent, numerical failure).
        """
        penalty = self._penalty()
        n_opts = np.bincount(self._opt_site, minlength=len(self.site_ids))
        structural = checks.structure_problems(self.site_status, self.p, n_opts, self.site_ids)
        if structural:
            raise InputError(structural)
        usable = (self.site_status != "closed")[self.pairs.site]
        pairs = self.pairs
        if not usable.all():
            pairs = PairTable(pairs.node[usable], pairs.site[usable], pairs.cost[usable], pairs.distance[usable],
                              pairs.n_nodes, pairs.n_sites)
        site_max = np.zeros(len(self.site_ids))
        np.maximum.at(site_max, self._opt_site, self._opt_max_capacity)
        reach = np.zeros(len(self.node_ids))
        if len(pairs):
            np.maximum.at(reach, pairs.node, site_max[pairs.site])
        problems, reasons = checks.servable_problems(
            self.node_ids, self.demand, pairs.counts, reach, self.single_source, self._opt_site,
            self._opt_max_capacity, self.site_status, self.p, self.site_ids)
        if problems and penalty is None:
            raise InputError(problems)
        active = self.demand > 0
        if penalty is None:
            keep = active[pairs.node]
        else:  # a too-large node cannot be served by any single site: leave it to u_i
            keep = active[pairs.node] & (reasons[pairs.node] != "too_large")
        pairs = PairTable(pairs.node[keep], pairs.site[keep], pairs.cost[keep], pairs.distance[keep],
                          pairs.n_nodes, pairs.n_sites)
        k = self._initial_k(pairs.counts)
        opt_rows = np.flatnonzero(self.site_status[self._opt_site] != "closed")
        stats = {"build_seconds": 0.0, "transfer_seconds": 0.0, "solve_seconds": 0.0, "iterations": 0}
        started = time.perf_counter()
        n_feasible = len(pairs)
        repair = None
        start = None
        if warm_start == "relax" and self.single_source:
            relaxed = LocationModel(
                pd.DataFrame({"node_id": self.node_ids, "demand": self.demand}),
                pd.DataFrame({"site_id": self.site_ids, "status": self.site_status}), self.options, self.pairs,
                p=self.p, single_source=False, unserved_penalty=self.unserved_penalty, budget=self.budget,
                k=self.k, strong_linking=self.strong_linking, name=self.name + "_relaxed")
            relaxed.solve(solver, None if time_limit_s is None else time_limit_s / 3,
                          max(gap_rel or 0.0, 0.005), threads, msg, extend)
            start = start_mod.repair(self, relaxed)
        elif warm_start not in (None, "relax"):
            raise InputError(Problem(file=checks.SOURCE, field="warm_start", expected="None 或 relax", found=str(warm_start)))
        stats["start_seconds"] = time.perf_counter() - started
        while True:
            kept, floor = pairs.nearest(k) if len(pairs) else (np.zeros(0, bool), np.full(len(k), np.nan))
            t0 = time.perf_counter()
            arrays = ModelArrays(
                demand=np.where(active, self.demand, 0.0), n_sites=len(self.site_ids),
                opt_site=self._opt_site[opt_rows],
                opt_capacity=self.options["capacity"].to_numpy()[opt_rows],
                opt_fixed_cost=self.options["fixed_cost"].to_numpy()[opt_rows],
                opt_min_load=self.options["min_load"].to_numpy()[opt_rows],
                opt_module_capacity=self.options["module_capacity"].to_numpy()[opt_rows],
                opt_module_cost=self.options["module_cost"].to_numpy()[opt_rows],
                opt_min_modules=self.options["min_modules"].to_numpy()[opt_rows],
                opt_max_modules=self.options["max_modules"].to_numpy()[opt_rows],
                forced_open=self.site_status == "open", pair_node=pairs.node[kept], pair_site=pairs.site[kept],
                pair_cost=pairs.cost[kept], placeholder_cost=floor, p=self.p, budget=self.budget,
                penalty=penalty, single_source=self.single_source, strong_linking=self.strong_linking,
                name=self.name, fixed_open=None if repair is None else repair["fixed"])
            built = build_problem(arrays)
            if extend is not None:
                extend(built, arrays)
            stats["build_seconds"] += time.perf_counter() - t0
            remaining = None
            if time_limit_s is not None:
                left = time_limit_s - (time.perf_counter() - started)
                remaining = max(1.0, left if repair is None else max(left, 0.1 * time_limit_s))
            values = None if start is None else start_mod.start_values(start, built, arrays, opt_rows, penalty)
            report = solve_problem(built.prob, solver, remaining, gap_rel, threads, msg, values)
            stats["transfer_seconds"] += report.transfer_seconds or 0.0
            stats["solve_seconds"] += report.seconds
            stats["iterations"] += 1
            if report.status == "infeasible":
                raise self._infeasible(penalty, report, solver, time_limit_s, gap_rel, threads, extend)
            g = np.fromiter((v.varValue or 0.0 for v in built.g), float, len(built.g))
            widen = built.g_nodes[g > _EPS]
            if not len(widen):
                break
            if time_limit_s is not None and time.perf_counter() - started >= time_limit_s:
                if repair is not None:  # pragma: no cover - the repair model has no placeholders
                    raise SolveError("修复解仍使用了占位变量。", status="not_solved", gap=report.gap)
                # Out of time with placeholders in the incumbent: keep its open sites, offer every
                # feasible pair to them, and re-assign. The pruned model's bound stays valid.
                y_open = np.round(np.fromiter((v.varValue or 0.0 for v in built.y), float, len(built.y)))
                repair = {"bound": report.bound, "fixed": y_open}
                site_open = np.zeros(len(self.site_ids), dtype=bool)
                site_open[arrays.opt_site[y_open > 0.5]] = True
                sel = site_open[pairs.site]
                pairs = PairTable(pairs.node[sel], pairs.site[sel], pairs.cost[sel], pairs.distance[sel],
                                  pairs.n_nodes, pairs.n_sites)
                k = pairs.counts.copy()
                continue
            k[widen] = np.minimum(k[widen] * 2, pairs.counts[widen])
        if repair is not None:
            report = _repaired(report, repair["bound"])
        self._solution = Solution(built=built, arrays=arrays, report=report, stats=stats, penalty=penalty,
                                  reasons=reasons, k_final=k, kept_pairs=int(kept.sum()), pairs=pairs, kept=kept, opt_rows=opt_rows,
                                  n_feasible=n_feasible)
        self._tables = make_tables(self, self._solution)
        return self

    def _infeasible(self, penalty, report, solver, time_limit_s, gap_rel, threads, extend=None):
        """Explain an infeasible strict model by solving its elastic twin."""
        if penalty is not None:
            return SolveError("即使允许未满足需求，模型仍无可行解（检查强制开放站点、最小规模与预算）。",
                              status="infeasible", gap=None)
        twin = LocationModel(
            pd.DataFrame({"node_id": self.node_ids, "demand": self.demand}),
            pd.DataFrame({"site_id": self.site_ids, "status": self.site_status}), self.options, self.pairs,
            p=self.p, single_source=self.single_source, unserved_penalty="auto", budget=self.budget,
            k=self.k, strong_linking=self.strong_linking, name=self.name)
        try:
            twin.solve(solver, time_limit_s, gap_rel, threads, extend=extend)
        except SolveError as err:
            return SolveError(f"模型无可行解，诊断求解也失败：{err}", status="infeasible")
        lost = twin.unserved
        problem = Problem(
            file=checks.SOURCE, field="demand", expected="全部需求都能被分配",
            found=f"{checks._ids(lost['node_id'])} 共 {lost['unserved'].sum():g} 的需求无法满足",
            hint="容量、开放数量 p、预算或单源分配的组合放不下这些需求；设置 unserved_penalty 可得到带缺口的最优布局。")
        err = InputError([problem])
        err.diagnosis = twin
        return err

    # ------------------------------------------------------------------ results
    def _table(self, name) -> pd.DataFrame:
        if self._solution is None:
            raise SolveError("模型尚未求解：先调用 solve()。", status="not_solved")
        return self._tables[name]

    @property
    def sites(self) -> pd.DataFrame:
        """Per site: ``site_id, status, open, option, modules, capacity, fixed_cost, load, utilisation, n_nodes``.

        ``capacity`` and ``fixed_cost`` are those of the chosen option including its modules."""
        return self._table("sites")

    @property
    def assignments(self) -> pd.DataFrame:
        """Per used pair: ``node_id, site_id, share, demand, cost, distance``."""
        return self._table("assignments")

    @property
    def unserved(self) -> pd.DataFrame:
        """Per node with unserved demand: ``node_id, demand, unserved, penalty_cost, reason, reason_zh``."""
        return self._table("unserved")

    @property
    def summary(self) -> pd.DataFrame:
        """One row: objective and its parts, status, gap, bound, times [s], sizes, pruning."""
        return self._table("summary")

    @property
    def objective(self) -> float:
        return float(self.summary["objective"].iloc[0])

    @property
    def status(self) -> str:
        """Solver status: ``optimal`` or ``feasible`` (stopped early; see `gap`)."""
        return str(self.summary["status"].iloc[0])

    @property
    def gap(self) -> float | None:
        """Relative MIP gap of the returned solution."""
        value = self.summary["gap"].iloc[0]
        return None if pd.isna(value) else float(value)
