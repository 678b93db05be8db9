"""Published optima of the shared standard instances, reproduced through LocationModel.

Optima: OR-Library (Beasley 1985, 1988) and Holmberg et al. (1999), as listed in each folder's
optimal.txt. The slower pmed6 and the remaining Holmberg instances run in
benchmarks/run_benchmarks.py instead.
"""

import pytest

from xuewei.optimizer.instances import read_instance, read_optima

PMED = ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5", "pmed7", "pmed8", "pmed9", "pmed10"]
CAP = ["cap71", "cap72", "cap73", "cap74", "cap101", "cap102", "cap103", "cap104"]
HOLMBERG = ["p1", "p2", "p3", "p5", "p6", "p9", "p10", "p11", "p12", "p13", "p14", "p15", "p18", "p21", "p22", "p23"]


def _check(folder, name, solver="highs"):
    optimum = read_optima(folder / "optimal.txt")[name]
    model = read_instance(folder / f"{name}.txt").to_model().solve(solver=solver)
    s = model.summary.iloc[0]
    assert s["status"] == "optimal"
    assert s["gap"] <= 1e-6
    assert s["objective"] == pytest.approx(optimum, rel=1e-6)
    assert s["solver_objective"] == pytest.approx(optimum, rel=1e-6)
    return model


@pytest.mark.parametrize("name", PMED)
def test_pmed_optimum(bench_dir, name):
    model = _check(bench_dir / "orlib-pmed", name)
    inst = read_instance(bench_dir / "orlib-pmed" / f"{name}.txt")
    assert model.summary["n_open"].iloc[0] == inst.p


@pytest.mark.parametrize("name", CAP)
def test_cap_optimum(bench_dir, name):
    _check(bench_dir / "orlib-cap", name)


@pytest.mark.parametrize("name", HOLMBERG)
def test_holmberg_optimum(bench_dir, name):
    model = _check(bench_dir / "sscflp-holmberg", name)
    # Single source: every customer sits wholly at one facility.
    assert (model.assignments["share"] == 1.0).all()
    assert model.assignments["node_id"].is_unique


@pytest.mark.parametrize("folder,name", [("orlib-pmed", "pmed4"), ("orlib-cap", "cap71"), ("sscflp-holmberg", "p1")])
def test_cbc_fallback_reaches_the_same_optima(bench_dir, folder, name):
    model = _check(bench_dir / folder, name, solver="cbc")
    assert model.summary["solver"].iloc[0] == "cbc"


def test_k_nearest_pruning_widens_until_exact(bench_dir):
    # k = 2 is far too small for pmed1 (p = 5 of 100): placeholders get used, k is widened,
    # and the final answer is still the published optimum.
    model = read_instance(bench_dir / "orlib-pmed" / "pmed1.txt").to_model(k=2).solve()
    s = model.summary.iloc[0]
    assert s["iterations"] > 1
    assert s["pairs_kept"] < s["pairs_feasible"]
    assert s["objective"] == pytest.approx(5819, rel=1e-9)


def test_time_limit_with_placeholders_in_use_repairs_the_incumbent(bench_dir):
    # k = 2 makes the first solve use placeholders; a 0.01 s limit is over by then, so the open
    # sites are kept and every node is re-assigned over all its pairs to them.
    model = read_instance(bench_dir / "orlib-pmed" / "pmed1.txt").to_model(k=2).solve(time_limit_s=0.01)
    s = model.summary.iloc[0]
    assert s["status"] == "feasible"
    assert s["n_open"] == 5
    assert s["bound"] <= 5819 + 1e-6 <= s["objective"] + 2e-6
    assert s["gap"] == (s["objective"] - s["bound"]) / s["objective"]
    a = model.assignments
    assert a.groupby("node_id")["share"].sum().round(9).eq(1.0).all() and len(a.groupby("node_id")) == 100
    # each node sits at its nearest open site, as an uncapacitated optimum for those sites must
    inst = read_instance(bench_dir / "orlib-pmed" / "pmed1.txt")
    open_sites = model.sites.loc[model.sites["open"], "site_id"].to_numpy()
    assert a["cost"].sum() == pytest.approx(inst.cost[:, open_sites].min(axis=1).sum(), rel=1e-9)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_holmberg_with_warm_start(bench_dir, solver):
    model = read_instance(bench_dir / "sscflp-holmberg" / "p1.txt").to_model()
    model.solve(solver=solver, warm_start="relax")
    assert model.summary["status"].iloc[0] == "optimal"
    assert model.objective == pytest.approx(8848, rel=1e-6)
