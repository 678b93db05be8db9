"""`xuewei batch` and `xuewei compare` on the tiny region: executors agree, resumes, failures, bad addresses."""

import json
import socket

import pandas as pd
import pytest

from conftest import TESTS
from xuewei.cli import main

SCEN = (TESTS / "data" / "scen" / "tiny_run.toml").resolve()
BATCH = f'''name = "tiny-batch"
base = "{SCEN}"

[[variants]]
name = "cap45"

[[variants]]
name = "cap40"
"policy.class_cap.primary" = {{cap}}

[[variants]]
name = "broken"
description = "规划期早于基准年：这个变体运行时失败，其余照常完成"
"horizon.periods" = [2019]
'''


def write_batch(folder, cap=40, name="tiny-batch.toml"):
    path = folder / name
    path.write_text(BATCH.replace("{cap}", str(cap)), encoding="utf-8")
    return path


def read_rows(out):
    return pd.read_csv(out / "comparison.csv", encoding="utf-8-sig", keep_default_na=False)


@pytest.fixture(scope="module")
def pool_batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    path = write_batch(folder)
    out = folder / "out-pool"
    code = main(["batch", str(path), "--out", str(out), "--workers", "2"])
    return code, path, out


@pytest.fixture(scope="module")
def dask_batch(tmp_path_factory):
    from distributed import LocalCluster

    folder = tmp_path_factory.mktemp("batch-dask")
    path = write_batch(folder)
    out = folder / "out-dask"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        code = main(["batch", str(path), "--out", str(out), "--dask", cluster.scheduler_address])
    return code, out


def test_failed_variant_is_reported_and_the_others_finish(pool_batch):
    code, _, out = pool_batch
    assert code == 1  # some variant failed
    rows = read_rows(out).set_index("variant")
    assert list(rows.index) == ["cap45", "cap40", "broken"]
    assert rows.loc["broken", "status"] == "failed"
    assert "horizon.periods" in rows.loc["broken", "error"] and rows.loc["broken", "capital_cost_wan_yuan"] == ""
    assert (rows.loc[["cap45", "cap40"], "status"] == "ok").all()
    assert not (out / "broken").exists()  # no half-written run folder
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    for name in ("cap45", "cap40"):
        assert (out / name / "manifest.json").is_file()
        assert json.loads((out / name / "batch.json").read_text(encoding="utf-8"))["variant"] == name
        assert json.loads((out / name / "manifest.json").read_text(encoding="utf-8"))["solver"]["threads"] == 1
    for name in ("comparison.xlsx", "charts/cost_vs_distance.png", "charts/places_vs_demand.png"):
        assert (out / name).is_file(), name


def test_decision_numbers_match_the_run_folder(pool_batch):
    _, _, out = pool_batch
    rows = read_rows(out).set_index("variant")
    actions = pd.read_csv(out / "cap40" / "actions.csv", encoding="utf-8-sig")
    assert float(rows.loc["cap40", "capital_cost_wan_yuan"]) == pytest.approx(actions["cost_wan_yuan"].sum())
    asg = pd.read_csv(out / "cap40" / "assignments.csv", encoding="utf-8-sig")
    last = asg[asg["period"] == asg["period"].max()]
    mean_km = (last["pupils"] * last["distance_km"]).sum() / last["pupils"].sum()
    assert float(rows.loc["cap40", "mean_distance_km"]) == pytest.approx(mean_km, abs=5e-4)
    assert rows.loc["cap40", "overrides"] == "policy.class_cap.primary=40"
    # Smaller classes need more classrooms: a cap of 40 costs more than 45, and both serve everyone.
    assert float(rows.loc["cap40", "capital_cost_wan_yuan"]) > float(rows.loc["cap45", "capital_cost_wan_yuan"])
    assert float(rows.loc["cap40", "unserved_pupils"]) == float(rows.loc["cap45", "unserved_pupils"]) == 0
    assert rows.loc["cap40", "solver_status"] == "optimal"


def test_dask_and_process_pool_give_identical_rows(pool_batch, dask_batch):
    code, out = dask_batch
    assert code == 1
    pd.testing.assert_frame_equal(read_rows(pool_batch[2]), read_rows(out))


def test_second_run_skips_finished_variants_and_reruns_changed_ones(pool_batch, tmp_path, capsys):
    _, path, out = pool_batch
    before = (out / "cap45" / "manifest.json").read_bytes()
    capsys.readouterr()
    assert main(["batch", str(path), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert "新运行成功 0 个，沿用 2 个，失败 1 个" in text  # the failed variant is tried again, the others are kept
    assert (out / "cap45" / "manifest.json").read_bytes() == before
    changed = write_batch(tmp_path, cap=42)
    assert main(["batch", str(changed), "--out", str(out)]) == 1
    assert "新运行成功 1 个，沿用 1 个，失败 1 个" in capsys.readouterr().out  # cap40 now means a cap of 42: rerun
    assert (out / "cap45" / "manifest.json").read_bytes() == before
    assert read_rows(out).set_index("variant").loc["cap40", "overrides"] == "policy.class_cap.primary=42"


def test_unreachable_dask_address_is_an_input_error(tmp_path, monkeypatch, capsys):
    from xuewei import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    assert main(["batch", str(SCEN), "--out", str(tmp_path / "out"), "--dask", address]) == 2
    err = capsys.readouterr().err
    assert address in err and "Dask 调度器" in err
    assert not (tmp_path / "out").exists()


def test_compare_any_run_folders(pool_batch, tmp_path):
    _, _, out = pool_batch
    single = tmp_path / "single"
    assert main(["run", str(SCEN), "--out", str(single)]) == 0
    cmp = tmp_path / "cmp"
    assert main(["compare", str(single), str(out), "--out", str(cmp)]) == 0
    rows = read_rows(cmp).set_index("variant")
    assert list(rows.index) == ["single", "cap45", "cap40"]  # a batch folder stands for its runs, in batch order
    # The same scenario run alone (2 solver processes) and in the batch (1) reaches the same optimum.
    assert rows.loc["single", "objective_wan_yuan"] == rows.loc["cap45", "objective_wan_yuan"]
    assert rows.loc["single", "overrides"] == ""
    sheet = pd.read_excel(cmp / "comparison.xlsx", sheet_name="比较")
    assert list(sheet["变体"]) == ["single", "cap45", "cap40"] and "投资（万元，各期合计）" in sheet.columns


def test_compare_refuses_folders_that_are_not_runs(tmp_path, capsys):
    assert main(["compare", str(tmp_path), "--out", str(tmp_path / "cmp")]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_only_names_variants_of_the_batch(tmp_path, capsys):
    path = write_batch(tmp_path)
    assert main(["batch", str(path), "--out", str(tmp_path / "out"), "--only", "cap4"]) == 2
    err = capsys.readouterr().err
    assert "--only" in err and ("是否应为“cap40”" in err or "是否应为“cap45”" in err)
    assert not (tmp_path / "out").exists()


def test_warm_started_variants_run_after_their_source_and_start_from_its_layout(tmp_path):
    path = tmp_path / "warm-batch.toml"
    path.write_text(f'name = "w"\nbase = "{SCEN}"\nwarm_start = "cap45"\n\n[[variants]]\nname = "cap40"\n'
                    f'"policy.class_cap.primary" = 40\n\n[[variants]]\nname = "cap45"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--workers", "2"]) == 0
    source = json.loads((out / "cap45" / "manifest.json").read_text(encoding="utf-8"))
    run = json.loads((out / "cap40" / "manifest.json").read_text(encoding="utf-8"))
    assert source["warm_start"] is None
    assert run["warm_start"]["path"] == str((out / "cap45" / "layout_sites.csv").resolve())
    assert run["warm_start"]["scenario"] == "cap45"
    assert json.loads((out / "cap40" / "batch.json").read_text(encoding="utf-8"))["warm_start"] == "cap45"
    assert run["created_utc"] >= source["created_utc"]  # the variant ran after its source had finished
    solver = pd.read_csv(out / "cap40" / "solver.csv", encoding="utf-8-sig")
    assert "warm_wan_yuan" in solver and "warm_seconds" not in solver  # timings stay out of the tables
    assert "热启动" in (out / "cap40" / "report.md").read_text(encoding="utf-8")


def test_variants_warm_started_from_a_failed_one_are_not_run(tmp_path):
    path = tmp_path / "warm-broken.toml"
    path.write_text(BATCH.replace("{cap}", "40").replace('base = ', 'warm_start = "broken"\nbase = '), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out)]) == 1
    rows = read_rows(out).set_index("variant")
    assert (rows["status"] == "failed").all()
    assert rows.loc["cap40", "error"].startswith("未运行：热启动来源变体 broken 失败")
    assert not (out / "cap40").exists() and not (out / "cap45").exists()
