"""Population by census age group (0-4岁 … 85岁及以上) read as single years of age."""

import doctest

import numpy as np
import pandas as pd
import pytest

from conftest import TESTS
from xuewei.data.age_groups import split_age_groups
from xuewei.data.region import load_region
from xuewei.data.tables import validate_frame
from xuewei.errors import InputError

WUXI = TESTS.parent / "data" / "regions" / "wuxi"


def census_2020() -> pd.DataFrame:
    """巫溪's 2020 census groups (both sexes), as the county's statistics bureau prints them."""
    c = pd.read_csv(WUXI / "census_age_groups.csv", encoding="utf-8-sig")
    c = c[c["year"] == 2020].groupby("age_group", sort=False)["persons"].sum().reset_index()
    return pd.DataFrame({"地区代码": "500238", "年份": "2020", "年龄": c["age_group"], "人数": c["persons"].astype(str)})


def test_census_groups_split_like_the_bundled_pack(caplog):
    with caplog.at_level("WARNING", logger="xuewei"):
        got = validate_frame(census_2020(), "population_by_age", "population_by_age.csv")
    pack = pd.read_csv(WUXI / "population_by_age.csv", encoding="utf-8-sig")
    pack = pack[pack["year"] == 2020].set_index("age")
    got = got.set_index("age")
    assert list(got.index) == list(range(0, 86)) and got.loc[85, "open_ended"] and not got.loc[84, "open_ended"]
    # the pack's builder rounds each group to whole persons; the same interpolation, unrounded
    assert np.abs(got["persons"] - pack["persons"]).max() < 1.0
    for lo, hi in ((1, 4), (5, 9), (10, 14)):
        assert got.loc[lo:hi, "persons"].sum() == pytest.approx(pack.loc[lo:hi, "persons"].sum())
    assert "按年龄组给出" in caplog.text and "PCHIP" in caplog.text


def test_groups_with_a_gap_or_overlap_are_refused_with_the_row():
    t = census_2020()
    t.loc[3, "年龄"] = "11-14岁"  # row 5: 10-14岁 printed as 11-14岁 leaves age 10 out
    with pytest.raises(InputError) as err:
        validate_frame(t, "population_by_age", "p.csv")
    rows = [(p.row, p.field) for p in err.value.problems]
    assert (5, "age") in rows


def test_a_bad_count_in_a_group_names_its_row():
    t = census_2020()
    t.loc[4, "人数"] = "约3000"
    with pytest.raises(InputError) as err:
        validate_frame(t, "population_by_age", "p.csv")
    assert [(p.row, p.field) for p in err.value.problems] == [(6, "persons")]


def test_a_region_with_age_groups_loads_and_forecasts(tiny):
    (tiny / "population_by_age.csv").write_text(
        "area_id,year,age,persons\n" + "".join(f"999999,2020,{g},{n}\n" for g, n in
                                              (("0-4岁", 500), ("5-9岁", 520), ("10-14岁", 540), ("15-19岁", 560),
                                               ("20岁及以上", 8000))), encoding="utf-8")
    region = load_region(tiny)
    pba = region.tables["population_by_age"]
    assert len(pba) == 21 and pba["persons"].sum() == pytest.approx(500 + 520 + 540 + 560 + 8000)


def test_docstring_examples():
    import xuewei.data.age_groups as module

    assert doctest.testmod(module).failed == 0
