"""Property-based tests of the loaders and of the forecast read from files.

- Valid tables written in any accepted form (encoding, separator, Chinese or English headers,
  Chinese category values) read back to the same values.
- Random garbage (bytes, cells, TOML, benchmark text) never raises anything but `InputError`.
- A forecast from any valid births file keeps its accounting: pupils never negative, and the nodes of
  a township add up to the township's total.
"""

import os
import shutil
import string
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import TINY
from hostile import scenario_copy
from xuewei.data.tables import load_schema, read_table, validate_frame, value_zh
from xuewei.errors import InputError
from xuewei.optimizer.instances import read_instance
from xuewei.scenario import load_scenario

# XUEWEI_HYPOTHESIS_EXAMPLES raises the count for a long local check, e.g.
# XUEWEI_HYPOTHESIS_EXAMPLES=2000 python -m pytest tests/test_hostile_properties.py -k round_trip --hypothesis-seed=1
FAST = settings(max_examples=int(os.environ.get("XUEWEI_HYPOTHESIS_EXAMPLES", "40")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

ids = st.text(alphabet=string.ascii_uppercase + string.digits + "镇村", min_size=1, max_size=6).filter(
    lambda s: not s.replace(".", "").isdigit() and s.lower() not in ("nan", "none", "null"))
stage_rows = st.lists(st.tuples(ids, st.sampled_from(["kindergarten", "primary", "junior", "senior"]),
                                st.integers(1990, 2030), st.integers(0, 200), st.integers(0, 9000),
                                st.integers(0, 9000)), min_size=1, max_size=25)


def _write(df: pd.DataFrame, path: Path, encoding: str, sep: str) -> None:
    text = df.to_csv(index=False, sep=sep, lineterminator="\n")
    path.write_bytes(text.encode(encoding))


@FAST
@given(rows=stage_rows, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]),
       sep=st.sampled_from([",", "\t"]), chinese=st.lists(st.booleans(), min_size=6, max_size=6),
       stage_zh=st.booleans())
# GBK whose only Chinese is the header 学位 (places) is valid UTF-8 too ("ѧλ"): it once failed on a clean clone.
@example(rows=[("S1", "primary", 2020, 1, 0, 0)], encoding="gbk", sep=",", chinese=[False] * 4 + [True, False],
         stage_zh=False)
@example(rows=[("S1", "primary", 2020, 1, 0, 0)], encoding="gbk", sep="\t", chinese=[False] * 4 + [True, False],
         stage_zh=False)
def test_valid_tables_round_trip_in_every_accepted_form(rows, encoding, sep, chinese, stage_zh):
    df = pd.DataFrame(rows, columns=["school_id", "stage", "year", "classes", "places", "pupils"])
    schema = {c.name: c for c in load_schema("school_stages")}
    headers = {c: (schema[c].aliases[0] if use and schema[c].aliases else c) for c, use in zip(df.columns, chinese)}
    written = df.assign(stage=df["stage"].map(lambda g: value_zh("school_stages", "stage", g))) if stage_zh else df
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "school_stages.csv"
        _write(written.rename(columns=headers), path, encoding, sep)
        got, _ = read_table(path, "school_stages")
    pd.testing.assert_frame_equal(got[df.columns].reset_index(drop=True), df, check_dtype=False)
    assert got["pupils"].dtype == np.int64


@FAST
@given(data=st.binary(max_size=400))
def test_garbage_bytes_raise_only_input_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schools.csv"
        path.write_bytes(data)
        try:
            read_table(path, "schools", unique="school_id")
        except InputError as err:
            assert err.problems and all(p.file.endswith("schools.csv") for p in err.problems)


cells = st.one_of(st.text(max_size=12), st.sampled_from(["nan", "NaN", "inf", "-inf", "1e400", "1e30", "-1", "0.5",
                                                         "2020.0", "１２", "1,000", " ", "是", "否", "None"]),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**20, 10**20).map(str))


@FAST
@given(values=st.lists(st.lists(cells, min_size=6, max_size=6), min_size=1, max_size=8))
def test_random_cells_raise_only_input_error_and_what_passes_is_typed(values):
    df = pd.DataFrame(values, columns=["school_id", "stage", "year", "classes", "places", "pupils"], dtype=str)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from a cast either
        try:
            out = validate_frame(df, "school_stages", "school_stages.csv")
        except InputError as err:
            assert all(p.file == "school_stages.csv" for p in err.problems)
            return
    for col in ("classes", "places", "pupils", "year"):
        assert out[col].dtype == np.int64 and (out[col] >= 0).all() and (out[col] <= 1e9).all()
    assert set(out["stage"]) <= {"kindergarten", "primary", "junior", "senior", "vocational", "special"}


toml_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.tuples(st.sampled_from(["name", "region", "extends", "horizon.periods", "solver.threads",
                                        "solver.time_limit_s", "policy.travel_limit_km", "forecast.x", "[solver]",
                                        "[horizon]", "x"]),
                       st.sampled_from(['"a"', "1", "-1", "nan", "inf", "[2025, 2030]", "[]", "{}", '"../tiny"',
                                        '"../../../etc"', "true", '"s.toml"', "1e400", '"\\u0000"'])),
             max_size=8).map(lambda kv: "\n".join(f"{k} = {v}" if not k.startswith("[") else k for k, v in kv)),
)


@FAST
@given(text=toml_text)
def test_random_scenarios_raise_only_input_error(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_scenario(path)
        except InputError as err:
            assert err.problems


@FAST
@given(text=st.one_of(st.text(alphabet="0123456789 .-e\nnaif", max_size=120), st.binary(max_size=60).map(
    lambda b: b.decode("latin-1"))), name=st.sampled_from(["pmed9.txt", "cap9.txt", "p9.txt"]))
def test_random_benchmark_files_raise_only_input_error(text, name):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        try:
            inst = read_instance(path)
        except InputError:
            return
        assert inst.cost.shape == (len(inst.demand), len(inst.capacity) if inst.capacity is not None else len(inst.demand))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levels=st.lists(st.integers(0, 400), min_size=3, max_size=3), trend=st.floats(-0.08, 0.05),
       populations=st.lists(st.integers(0, 20000), min_size=6, max_size=6))
def test_forecast_from_files_keeps_its_accounting(levels, trend, populations):
    from xuewei import pipeline
    from xuewei.forecaster import forecast_townships

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scen = scenario_copy(root)
        rows = [f"T{t + 1},{y},{max(0, round(level * (1 + trend) ** (y - 2005)))},1"
                for t, level in enumerate(levels) for y in range(2005, 2021)]
        (root / "tiny" / "births.csv").write_text("township_id,year,births,synthetic\n" + "\n".join(rows) + "\n",
                                                  encoding="utf-8")
        nodes = pd.read_csv(TINY / "nodes.csv", dtype=str)
        nodes["population"] = [str(p) for p in populations]
        nodes.to_csv(root / "tiny" / "nodes.csv", index=False)
        try:
            scenario, _, region, fconf, policy = pipeline.load_inputs(scen)
            demand = pipeline.run_forecast(scenario, region, fconf, policy)
        except InputError:
            return  # e.g. a township whose nodes all have no population: refused, and that is fine
        shutil.rmtree(root)
    assert (demand[["pupils", "pupils_lo", "pupils_hi", "places_needed"]] >= 0).all().all()
    years = sorted(demand["year"].unique())
    towns, _ = forecast_townships(pipeline.forecast_inputs(region), fconf.model_copy(
        update={"class_cap": dict(policy.class_cap)}), years)
    summed = demand.groupby(["township_id", "stage", "year", "variant"])["pupils"].sum()
    expected = towns.set_index(["township_id", "stage", "year", "variant"])["pupils"].reindex(summed.index)
    np.testing.assert_allclose(summed.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-6)
    assert ((demand["pupils_lo"] <= demand["pupils"] + 1e-9) & (demand["pupils"] <= demand["pupils_hi"] + 1e-9)).all()
