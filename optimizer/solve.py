"""Solve a PuLP problem with HiGHS (default) or CBC; always report status, gap and times.

HiGHS runs in-process through ``pulp.HiGHS`` (highspy). CBC runs through ``pulp.PULP_CBC_CMD``;
its gap is read from its log. A run that yields no solution raises `xuewei.errors.SolveError`.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pulp

from xuewei.errors import SolveError

SOLVERS = ("highs", "cbc", "scip")

#: HiGHS's ``mip_heuristic_effort`` in reproducible mode (``max_nodes`` given): the share of the work
#: its primal heuristics may take, counted in LP iterations (not seconds), so the answer does not depend
#: on the machine. 0.05 is HiGHS's own default; 0.3 was measured on the benchmark regions and did not
#: pay (primary models unchanged, two junior/senior models 0.03–0.14 points better, more time:
#: docs/performance.md, section 4). ``XUEWEI_HEURISTIC_EFFORT`` changes it for
#: ``benchmarks/layout_bench.py --heuristic-effort`` measurements only.
HEURISTIC_EFFORT = float(os.environ.get("XUEWEI_HEURISTIC_EFFORT", "0.05"))

#: Relative MIP gap used when the caller gives none: tight enough to reproduce published
#: optima to 1e-6 (HiGHS's own default, 1e-4, is not).
DEFAULT_GAP_REL = 1e-6

STATUS_ZH = {
    "optimal": "最优",
    "feasible": "可行（未证明最优，见间隙）",
    "infeasible": "无可行解",
    "unbounded": "无界",
    "not_solved": "未求得解",
}


@dataclass
class SolveReport:
    """What a solver run returned.

    Attributes
    ----------
    status : str
        ``optimal``, ``feasible`` (stopped with an incumbent), ``infeasible``, ``unbounded`` or
        ``not_solved``.
    objective : float or None
        Objective of the solution found [cost unit].
    bound : float or None
        Best proven lower bound [cost unit].
    gap : float or None
        Relative gap ``(objective - bound) / |objective|`` (0 when proven optimal within tolerance).
    solver : str
        ``highs`` or ``cbc``.
    transfer_seconds : float or None
        Passing the PuLP model to the solver [s] (HiGHS; CBC writes a file, counted in `seconds`).
    seconds : float
        Solver wall time including transfer [s].
    stop : str
        Why the solver stopped before proving optimality: ``time_limit``, ``node_limit`` or ``""``
        (finished: optimal within the gap, infeasible, ...).
    nodes : int or None
        Branch-and-bound nodes explored (a deterministic measure of the work done, unlike seconds).
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    transfer_seconds: float | None
    seconds: float
    stop: str = ""
    nodes: int | None = None


def _rel_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not math.isfinite(objective) or not math.isfinite(bound):
        return None
    return max(0.0, (objective - bound) / max(abs(objective), 1e-10))


@contextlib.contextmanager
def _quiet_stdout(active: bool):
    """Silence file descriptor 1 (HiGHS prints its banner from C when the first model is made)."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@dataclass
class ProblemArrays:
    """A PuLP problem as arrays (minimisation): columns in ``prob.variables()`` order (each variable's
    ``index`` set to its position), rows in constraint order, the matrix row-wise (CSR)."""

    variables: list
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    starts: np.ndarray  # (m + 1,) row starts into index/value
    index: np.ndarray
    value: np.ndarray

    def matrix(self):
        """The constraint matrix as a `scipy.sparse.csr_matrix`."""
        from scipy.sparse import csr_matrix

        return csr_matrix((self.value, self.index, self.starts), shape=(len(self.row_lower), len(self.cost)))


def problem_arrays(lp: pulp.LpProblem, mip: bool = True) -> ProblemArrays:
    """Export ``lp`` in bulk (no per-column or per-row Python calls into the solver)."""
    inf = np.inf
    variables = lp.variables()
    n = len(variables)
    for i, var in enumerate(variables):
        var.index = i
    sign = -1 if lp.sense == pulp.LpMaximize else 1
    objective = lp.objective
    cost = np.fromiter((sign * objective.get(v, 0.0) for v in variables), float, n)
    lower = np.fromiter((-inf if v.lowBound is None else v.lowBound for v in variables), float, n)
    upper = np.fromiter((inf if v.upBound is None else v.upBound for v in variables), float, n)
    integer = (np.fromiter((v.cat == pulp.LpInteger for v in variables), bool, n) if mip
               else np.zeros(n, dtype=bool))
    # PuLP >= 3 keeps constraints in ``_constraints`` (``constraints`` became a method);
    # PuLP 2.x has the dict in ``constraints`` and a constraint is itself the expression.
    table = lp._constraints if hasattr(lp, "_constraints") else lp.constraints
    constraints = list(table.values())
    terms = [getattr(c, "expr", c) for c in constraints]
    m = len(constraints)
    sizes = np.fromiter((len(e) for e in terms), np.int64, m)
    index = np.fromiter((v.index for e in terms for v in e), np.int32, int(sizes.sum()))
    value = np.fromiter((a for e in terms for a in e.values()), float, int(sizes.sum()))
    nonzero = value != 0
    if not nonzero.all():
        row = np.repeat(np.arange(m), sizes)[nonzero]
        index, value = index[nonzero], value[nonzero]
        sizes = np.bincount(row, minlength=m)
    starts = np.zeros(m + 1, dtype=np.int32)
    np.cumsum(sizes, out=starts[1:])
    row_lower = np.fromiter((-inf if c.getLb() is None else c.getLb() for c in constraints), float, m)
    row_upper = np.fromiter((inf if c.getUb() is None else c.getUb() for c in constraints), float, m)
    for i, c in enumerate(constraints):
        c.index = i
    return ProblemArrays(variables, cost, lower, upper, integer, row_lower, row_upper, starts, index, value)


class TimedHiGHS(pulp.HiGHS):
    """`pulp.HiGHS` that records how long the model transfer and the run take, and fills the
    columns in bulk (one ``addVars``/``addRows`` call each) instead of one call per column/row."""

    transfer_seconds: float = 0.0
    run_seconds: float = 0.0
    #: ``{variable: value}`` passed to HiGHS as a (possibly partial) starting solution.
    start: dict | None = None

    def createAndConfigureSolver(self, lp):  # noqa: N802 - PuLP's name
        with _quiet_stdout(not self.msg):
            super().createAndConfigureSolver(lp)

    def buildSolverModel(self, lp):  # noqa: N802 - PuLP's name
        import highspy

        t0 = time.perf_counter()
        h = lp.solverModel
        arr = problem_arrays(lp, mip=self.mip)
        n, m = len(arr.cost), len(arr.row_lower)
        h.addVars(n, arr.lower, arr.upper)
        idx = np.arange(n, dtype=np.int32)
        h.changeColsCost(n, idx, arr.cost)
        if arr.integer.any():
            cols = idx[arr.integer]
            kind = np.full(len(cols), int(highspy.HighsVarType.kInteger), dtype=np.uint8)
            h.changeColsIntegrality(len(cols), cols, kind)
        if m:
            h.addRows(m, arr.row_lower, arr.row_upper, len(arr.value), arr.starts[:-1], arr.index, arr.value)
        if self.start:
            cols = np.fromiter((v.index for v in self.start), np.int32, len(self.start))
            vals = np.fromiter(self.start.values(), float, len(self.start))
            h.setSolution(len(cols), cols, vals)
        self.transfer_seconds = time.perf_counter() - t0

    def findSolutionValues(self, lp):  # noqa: N802 - PuLP's name
        # PuLP has no entry for kSolutionLimit, the status HiGHS reports when a work limit
        # (mip_max_nodes) stops it: treat it like a time limit, with or without an incumbent.
        # PuLP assigns the variable values before it looks the status up, so they are in place.
        try:
            return super().findSolutionValues(lp)
        except KeyError:
            if lp.solverModel.getInfo().primal_solution_status == 2:  # a feasible incumbent exists
                return pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
            return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound

    def callSolver(self, lp):  # noqa: N802 - PuLP's name
        import numpy as np

        t0 = time.perf_counter()
        super().callSolver(lp)
        if self.start:
            # HiGHS 1.16 can hand back the user's start instead of the optimum when presolve
            # solves the whole MIP (objective 115 reported, start vector costing 145 returned).
            # Check the returned vector against the reported objective; on mismatch solve again
            # without the start.
            h = lp.solverModel
            x = np.asarray(h.getSolution().col_value)
            cost = np.asarray(h.getLp().col_cost_)
            reported = h.getInfo().objective_function_value
            if len(x) == len(cost) and abs(float(cost @ x) - reported) > 1e-6 * max(1.0, abs(reported)):
                h.clearSolver()
                h.run()
        self.run_seconds = time.perf_counter() - t0


def _status(prob: pulp.LpProblem) -> str:
    sol = prob.sol_status
    if sol == pulp.LpSolutionOptimal:
        return "optimal"
    if sol == pulp.LpSolutionIntegerFeasible:
        return "feasible"
    if sol == pulp.LpSolutionInfeasible or prob.status == pulp.LpStatusInfeasible:
        return "infeasible"
    if sol == pulp.LpSolutionUnbounded or prob.status == pulp.LpStatusUnbounded:
        return "unbounded"
    return "not_solved"


_highs_threads: int | None = None  # size of HiGHS's per-process thread pool, once a solve has set it


def _solve_highs(prob, time_limit_s, gap_rel, threads, msg, start, options=None) -> SolveReport:
    import highspy

    global _highs_threads
    if threads != _highs_threads:
        # HiGHS keeps one thread pool per process, sized by the first solve; a later solve asking
        # for another size fails (model status "not set") unless the pool is reset first.
        highspy.Highs.resetGlobalScheduler(True)
        _highs_threads = threads
    solver = TimedHiGHS(msg=msg, timeLimit=time_limit_s, gapRel=gap_rel, threads=threads, **(options or {}))
    solver.start = start
    t0 = time.perf_counter()
    prob.solve(solver)
    seconds = time.perf_counter() - t0
    h = prob.solverModel
    info = h.getInfo()
    model_status = h.getModelStatus()
    status = _status(prob)
    if model_status == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    objective = info.objective_function_value if status in ("optimal", "feasible") else None
    integer = any(v.cat == pulp.LpInteger for v in prob.variables())
    if integer:
        bound = info.mip_dual_bound
        gap = _rel_gap(objective, bound)
    else:
        bound = objective
        gap = 0.0 if status == "optimal" else None
    stop = {highspy.HighsModelStatus.kTimeLimit: "time_limit",
            highspy.HighsModelStatus.kSolutionLimit: "node_limit"}.get(model_status, "")
    nodes = int(info.mip_node_count) if integer else None
    return SolveReport(status, objective, bound, gap, "highs", solver.transfer_seconds, seconds, stop, nodes)


_CBC_BOUND = re.compile(r"^(Lower bound|Objective value):\s+(\S+)", re.MULTILINE)
_CBC_GAP = re.compile(r"^Gap:\s+(\S+)", re.MULTILINE)
_CBC_NODES = re.compile(r"^Enumerated nodes:\s+(\d+)", re.MULTILINE)


def _solve_cbc(prob, time_limit_s, gap_rel, threads, msg, start, max_nodes=None) -> SolveReport:
    handle, log_path = tempfile.mkstemp(prefix="xuewei-cbc-", suffix=".log")
    os.close(handle)
    for var, value in (start or {}).items():
        var.setInitialValue(value)
    try:
        solver = pulp.PULP_CBC_CMD(
            msg=msg, timeLimit=time_limit_s, gapRel=gap_rel, threads=threads, logPath=log_path,
            warmStart=bool(start), maxNodes=max_nodes,
        )
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            # PuLP 2.8 opens os.devnull for CBC's output and never closes it.
            warnings.simplefilter("ignore", ResourceWarning)
            prob.solve(solver)
        seconds = time.perf_counter() - t0
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            log = fh.read()
    finally:
        os.unlink(log_path)
    status = _status(prob)
    objective = pulp.value(prob.objective) if status in ("optimal", "feasible") else None
    found = dict(_CBC_BOUND.findall(log))
    bound = None
    if "Lower bound" in found:
        bound = float(found["Lower bound"])
    elif status == "optimal":
        bound = objective
    gap = _rel_gap(objective, bound)
    if gap is None and status == "optimal":
        gap = 0.0
    stop = "time_limit" if "Stopped on time" in log else "node_limit" if "Stopped on node" in log else ""
    if status == "optimal" and stop:
        status = "feasible"
    nodes = _CBC_NODES.findall(log)
    return SolveReport(status, objective, bound, gap, "cbc", None, seconds, stop, int(nodes[-1]) if nodes else None)


def _solve_scip(prob, time_limit_s, gap_rel, threads, msg, start, max_nodes=None) -> SolveReport:
    """SCIP through PySCIPOpt (optional: ``pip install pyscipopt``), one thread, fixed seed."""
    try:
        from pyscipopt import Model, quicksum
    except ImportError:
        raise SolveError("求解器 scip 需要 PySCIPOpt：pip install pyscipopt（或改用 highs）。", status="not_solved") from None
    t0 = time.perf_counter()
    arr = problem_arrays(prob)
    m = Model()
    if not msg:
        m.hideOutput()
    cols = [m.addVar(lb=None if not np.isfinite(lo) else float(lo), ub=None if not np.isfinite(up) else float(up),
                     vtype="I" if integer else "C", obj=float(c))
            for lo, up, integer, c in zip(arr.lower, arr.upper, arr.integer, arr.cost)]
    for i in range(len(arr.row_lower)):
        a, b = arr.starts[i], arr.starts[i + 1]
        expr = quicksum(float(v) * cols[j] for j, v in zip(arr.index[a:b], arr.value[a:b]))
        lo, up = arr.row_lower[i], arr.row_upper[i]
        m.addCons(expr == float(lo) if lo == up else
                  (float(lo) <= expr) if not np.isfinite(up) else (expr <= float(up)) if not np.isfinite(lo)
                  else (float(lo) <= (expr <= float(up))))
    m.setParam("randomization/randomseedshift", 0)
    m.setParam("parallel/maxnthreads", 1)
    m.setParam("limits/gap", float(gap_rel))
    if time_limit_s:
        m.setParam("limits/time", float(time_limit_s))
    if max_nodes is not None:
        m.setParam("limits/nodes", int(max_nodes))
    if start:
        sol = m.createSol()
        for var, value in start.items():
            if value is not None:
                m.setSolVal(sol, cols[var.index], float(value))
        m.addSol(sol, free=True)
    transfer = time.perf_counter() - t0
    m.optimize()
    seconds = time.perf_counter() - t0
    state = m.getStatus()
    has_sol = m.getNSols() > 0
    status = ("optimal" if state == "optimal" else "infeasible" if state == "infeasible"
              else "unbounded" if state == "unbounded" else "feasible" if has_sol else "not_solved")
    objective = m.getObjVal() if has_sol else None
    if has_sol:
        best = m.getBestSol()
        for var, col in zip(arr.variables, cols):
            var.varValue = m.getSolVal(best, col)
    bound = m.getDualbound()
    gap = _rel_gap(objective, bound) if status != "optimal" else 0.0
    stop = {"timelimit": "time_limit", "nodelimit": "node_limit", "totalnodelimit": "node_limit"}.get(state, "")
    return SolveReport(status, objective, bound, gap, "scip", transfer, seconds, stop, int(m.getNTotalNodes()))


def solve_problem(
    prob: pulp.LpProblem,
    solver: str = "highs",
    time_limit_s: float | None = None,
    gap_rel: float | None = None,
    threads: int | None = None,
    msg: bool = False,
    start: dict | None = None,
    max_nodes: int | None = None,
) -> SolveReport:
    """Solve ``prob`` and report; raise `SolveError` when no solution came back.

    Parameters
    ----------
    prob : pulp.LpProblem
        The model.
    solver : {"highs", "cbc", "scip"}
        HiGHS through highspy (default), the CBC binary bundled with PuLP, or SCIP through
        PySCIPOpt (optional package).
    time_limit_s : float, optional
        Wall-clock limit [s].
    gap_rel : float, optional
        Stop at this relative MIP gap; default `DEFAULT_GAP_REL`.
    threads : int, optional
        Solver threads.
    msg : bool
        Show the solver's log.
    start : dict, optional
        ``{variable: value}``: a starting solution, possibly partial (HiGHS completes it).
    max_nodes : int, optional
        Stop after this many branch-and-bound nodes (HiGHS: with a fixed random seed), so the same
        model gives the same answer on any machine with one thread (the time limit is then a
        safety net).
    """
    if solver not in SOLVERS:
        raise SolveError(f"未知求解器“{solver}”，可选：highs、cbc、scip。", status="not_solved")
    gap_rel = DEFAULT_GAP_REL if gap_rel is None else gap_rel
    run = {"highs": _solve_highs, "cbc": _solve_cbc, "scip": _solve_scip}[solver]
    try:
        if max_nodes is not None and solver == "highs":
            report = run(prob, time_limit_s, gap_rel, threads, msg, start,
                         {"mip_max_nodes": int(max_nodes), "random_seed": 0,
                          "mip_heuristic_effort": HEURISTIC_EFFORT})
        elif max_nodes is not None:
            report = run(prob, time_limit_s, gap_rel, threads, msg, start, int(max_nodes))
        else:
            report = run(prob, time_limit_s, gap_rel, threads, msg, start)
    except pulp.PulpSolverError as err:
        raise SolveError(f"求解器 {solver} 运行失败：{err}", status="not_solved") from err
    if report.status in ("not_solved", "unbounded"):
        raise SolveError(
            f"求解器 {solver} 未返回可用的解（状态：{STATUS_ZH[report.status]}）。"
            + ("可放宽时间限制（--time-limit）后重试。" if time_limit_s else ""),
            status=report.status,
            gap=report.gap,
        )
    return report
