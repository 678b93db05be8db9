"""The synthetic city generator: a small city loads as a valid region pack, flagged 示意数据, and the
same seed gives byte-identical files (the full-size city is for benchmarks/scale.py)."""

import sys

from xuewei.data.paths import PACKAGE_ROOT
from xuewei.data.region import load_region
from xuewei.scenario import load_scenario

sys.path.insert(0, str(PACKAGE_ROOT / "benchmarks"))
from make_city import make_city  # noqa: E402


def test_small_city_is_a_valid_synthetic_region(tmp_path):
    pack = make_city(tmp_path / "a", seed=7, counties=2, townships_per_county=4, n_nodes=60, n_schools=60)
    region = load_region(pack)
    assert region.counts()["townships"] == 8 and len(region.nodes) == 60 and len(region.schools) == 60
    assert region.meta.synthetic and "合成" in region.meta.synthetic_parts[0]
    for name in ("townships", "nodes", "schools", "school_stages", "births", "candidate_sites"):
        assert region.tables[name]["synthetic"].astype(str).isin(["1", "True"]).all(), name
    assert set(region.townships["county_id"]) == {"C00", "C01"}
    assert (region.school_stages["year"] == 2020).all()
    scenario, _ = load_scenario(tmp_path / "a" / "city.toml")
    assert scenario.policy["village_kindergarten"] is True


def test_same_seed_same_bytes(tmp_path):
    a = make_city(tmp_path / "a", seed=3, counties=2, townships_per_county=3, n_nodes=30, n_schools=20)
    b = make_city(tmp_path / "b", seed=3, counties=2, townships_per_county=3, n_nodes=30, n_schools=20)
    c = make_city(tmp_path / "c", seed=4, counties=2, townships_per_county=3, n_nodes=30, n_schools=20)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir()) and len(files) == 8
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert (a / "nodes.csv").read_bytes() != (c / "nodes.csv").read_bytes()
