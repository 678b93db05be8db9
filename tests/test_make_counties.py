"""The benchmark county generator: every shape loads as a valid synthetic region pack with its
scenario, shapes differ in what they should, and the same seed gives byte-identical files."""

import sys

import pandas as pd
import pytest

from xuewei.data.paths import PACKAGE_ROOT
from xuewei.data.region import load_region
from xuewei.scenario import load_scenario

sys.path.insert(0, str(PACKAGE_ROOT / "benchmarks"))
from make_counties import SHAPES, make_county  # noqa: E402


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    out = tmp_path_factory.mktemp("counties")
    return out, {name: make_county(out, name) for name in SHAPES}


def test_every_shape_is_a_valid_synthetic_region(packs):
    out, made = packs
    for name, pack in made.items():
        region = load_region(pack)
        assert region.meta.synthetic and "示意" in region.meta.synthetic_parts[0], name
        for table in ("townships", "nodes", "schools", "school_stages", "births"):
            assert region.tables[table]["synthetic"].astype(str).isin(["1", "True"]).all(), (name, table)
        scenario, _ = load_scenario(out / f"{name}.toml")
        assert scenario.horizon.periods == [2025, 2030, 2035]


def test_shapes_differ_as_described(packs):
    out, made = packs
    read = lambda name, table: pd.read_csv(made[name] / f"{table}.csv")  # noqa: E731
    # The city of several counties carries county_id; single counties do not.
    assert read("multi", "townships")["county_id"].nunique() == 3
    assert "county_id" not in read("plain", "townships")
    # The urban district has big communities and schools above the 48-class default limit.
    assert read("urban", "nodes")["population"].max() > 20000
    big = read("urban", "school_stages")
    assert (big.loc[big["stage"] == "primary", "classes"] > 48).any()
    # Births fall fast in the shrinking county and hold in the growing one; housing only there.
    for name, lo, hi in (("shrinking", 0.2, 0.45), ("growing", 0.8, 1.25)):
        b = read(name, "births").groupby("year")["births"].sum()
        assert lo < b[2020] / b[2005] < hi, name
    assert (made["growing"] / "housing.csv").is_file() and not (made["plain"] / "housing.csv").exists()
    # The mountain county boards its pupils at schools with beds.
    assert read("mountain", "schools")["boarding_beds"].sum() > 0


def test_same_seed_same_bytes(tmp_path):
    a, b, c = (make_county(tmp_path / d, "urban", seed=s) for d, s in (("a", 1), ("b", 1), ("c", 2)))
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert (a / "nodes.csv").read_bytes() != (c / "nodes.csv").read_bytes()
