"""`xuewei batch --dask local` on a region big enough for the parallel paths (independent models solved
side by side, map sheets drawn by a pool): Dask workers are daemonic processes and may not start a
pool of their own, so a variant's models go to the same cluster as tasks and its maps are drawn one
by one. The comparison rows must equal those of the local process pool, row for row.

Issue #17: the demo batch failed on Dask with "daemonic processes are not allowed to have children"
while the test with a tiny region (below every parallel threshold) passed.
"""

import re
import sys

import pandas as pd
import pytest

from xuewei.cli import main
from xuewei.data.paths import PACKAGE_ROOT

sys.path.insert(0, str(PACKAGE_ROOT / "benchmarks"))
from make_city import make_city  # noqa: E402

BATCH = '''name = "dask-vs-pool"
base = "{scenario}"

[[variants]]
name = "a"

[[variants]]
name = "b"
"policy.class_cap.primary" = 40
'''


@pytest.fixture(scope="module")
def batch_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask-batch")
    make_city(folder, seed=11, counties=2, townships_per_county=4, n_nodes=440, n_schools=150)
    scen = folder / "city.toml"
    scen.write_text(scen.read_text(encoding="utf-8").replace("periods = [2025, 2030, 2035]", "periods = [2025]"),
                    encoding="utf-8")
    path = folder / "two.toml"
    path.write_text(BATCH.format(scenario=scen.as_posix()), encoding="utf-8")
    return folder, scen, path


def test_the_region_takes_every_parallel_path(batch_file):
    """Guard: the scenario is above the thresholds, or the comparison below would prove nothing."""
    from xuewei import pipeline
    from xuewei.optimizer.layout import PARALLEL_MIN_PAIRS
    from xuewei.optimizer.layout_data import build_stage_data

    _, scen, _ = batch_file
    scenario, _, region, fconf, policy = pipeline.load_inputs(scen)
    demand = pipeline.run_forecast(scenario, region, fconf, policy)
    stages, _ = build_stage_data(region, demand, policy, scenario.horizon.periods, region.meta.base_year)
    assert len(stages) > 1 and sum(len(sd.pair_node) for sd in stages) >= PARALLEL_MIN_PAIRS
    assert len(region.townships) >= 4  # the map sheets would be drawn by a pool


def test_dask_local_gives_the_rows_of_the_process_pool(batch_file, capsys):
    folder, _, path = batch_file
    pool_out, dask_out = folder / "pool", folder / "dask"
    assert main(["batch", str(path), "--out", str(pool_out), "--workers", "2"]) == 0
    assert main(["batch", str(path), "--out", str(dask_out), "--dask", "local", "--workers", "2"]) == 0
    text = capsys.readouterr()
    assert "daemonic" not in text.out + text.err
    pool_rows = pd.read_csv(pool_out / "comparison.csv", encoding="utf-8-sig", keep_default_na=False)
    dask_rows = pd.read_csv(dask_out / "comparison.csv", encoding="utf-8-sig", keep_default_na=False)
    assert list(dask_rows["status"]) == ["ok", "ok"]
    pd.testing.assert_frame_equal(pool_rows, dask_rows)
    for name in ("a", "b"):  # every table of the variant, not only the comparison row
        for table in ("actions.csv", "assignments.csv", "schools.csv", "solver.csv"):
            assert (pool_out / name / table).read_bytes() == (dask_out / name / table).read_bytes(), (name, table)
        assert any((dask_out / name / "maps").iterdir())


def test_inside_a_dask_worker_no_pool_is_started():
    from distributed import Client, LocalCluster

    from xuewei.optimizer.dask_solve import can_start_pool, running_in_dask_worker

    assert can_start_pool() and not running_in_dask_worker()
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        inside = client.submit(lambda: (running_in_dask_worker(), can_start_pool()), pure=False).result()
    assert inside == (True, False)


def test_run_with_dask_gives_the_tables_of_the_local_run(tmp_path, capsys):
    """`xuewei run --dask local`: the run's independent models are solved as Dask tasks; same tables."""
    from conftest import TESTS

    scen = TESTS / "data" / "scen" / "tiny_run.toml"
    assert main(["run", str(scen), "--out", str(tmp_path / "local")]) in (0, 3)
    capsys.readouterr()
    assert main(["run", str(scen), "--out", str(tmp_path / "dask"), "--dask", "local"]) in (0, 3)
    err = capsys.readouterr().err
    assert "交给 Dask 集群" in err
    assert re.search(r"已解 (\d+)/\1 个模型，用时", err), err  # the live progress counts Dask's models too
    for table in ("actions.csv", "assignments.csv", "schools.csv", "solver.csv", "unserved.csv"):
        assert (tmp_path / "local" / table).read_bytes() == (tmp_path / "dask" / table).read_bytes(), table
