"""grades.csv given school by school (学校年报): summed to townships, with coverage checked."""

import pandas as pd
import pytest

from xuewei.errors import InputError
from xuewei.forecaster import ForecastConfig
from xuewei.forecaster import forecast_demand

from test_forecast_inputs import base

YEARS = [2024, 2025, 2028]
SCHOOLS = pd.DataFrame({"school_id": ["S1", "S2", "S3", "S4"], "township_id": ["T1", "T1", "T2", "T2"],
                        "ownership": "public"})


def school(area, years=range(2014, 2025), size=500, grades=range(1, 7), opened=None):
    """A school's grade records; ``opened``: first year of grade 1 (it adds a grade a year)."""
    rows = []
    for y in years:
        for g in grades:
            if opened is None or y >= opened + g - 1:
                rows.append((area, y, g, int(round(size * 0.99 ** (y - 2014) * (1 - 0.01 * g)))))
    return pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])


def stages(pupils):
    return pd.DataFrame({"school_id": list(pupils), "stage": "primary", "year": 2024, "pupils": list(pupils.values())})


def township_sum(g, town_of):
    return g.assign(area=g["area"].map(town_of)).groupby(["area", "year", "grade"], as_index=False)["pupils"].sum()


def primary(d, town):
    mid = d[(d.stage == "primary") & (d.variant == "mid") & (d.township_id == town)]
    return mid.groupby("year")["pupils"].sum()


def test_schools_are_summed_into_their_townships():
    # S2 opens in 2017 and adds a grade a year; S4 closes after 2021 (its pupils went to S3)
    g = pd.concat([school("S1"), school("S2", size=300, opened=2017), school("S3", size=400),
                   school("S4", years=range(2014, 2022), size=200)])
    town_of = dict(zip(SCHOOLS.school_id, SCHOOLS.township_id))
    by_school = forecast_demand(base(grades=g, schools=SCHOOLS), ForecastConfig(), YEARS)
    by_town = forecast_demand(base(grades=township_sum(g, town_of)), ForecastConfig(), YEARS)
    for t in ("T1", "T2"):
        pd.testing.assert_series_equal(primary(by_school, t), primary(by_town, t))
    assert primary(by_school, "T1").loc[2024] == g[g.area.isin(["S1", "S2"]) & (g.year == 2024)]["pupils"].sum()
    notes = " ".join(by_school.attrs["assumptions"])
    assert "4 所学校按所在乡镇逐年、逐年级相加，得 2 个乡镇" in notes
    assert "S4（2021 年）" in notes and "按停办" in notes
    assert "T1:小学" in notes and "T2:小学" in notes
    # whose history each township's stage came from: for the hearing pack's sentence
    assert by_school.attrs["grade_methods"] == {"T1": {"primary": "schools"}, "T2": {"primary": "schools"}}
    assert by_town.attrs["grade_methods"] == {"T1": {"primary": "township"}, "T2": {"primary": "township"}}
    county = forecast_demand(base(grades=school("500238")), ForecastConfig(), YEARS)
    assert county.attrs["grade_methods"] == {"T1": {"primary": "county"}, "T2": {"primary": "county"}}


def test_a_township_with_a_school_missing_keeps_the_cohort_model():
    g = pd.concat([school("S1"), school("S2"), school("S3")])  # S4 taught primary in 2024 but is not given
    ss = stages({"S1": 480, "S2": 470, "S3": 470, "S4": 160})
    out = forecast_demand(base(grades=g, schools=SCHOOLS, school_stages=ss), ForecastConfig(), YEARS)
    none = forecast_demand(base(schools=SCHOOLS, school_stages=ss), ForecastConfig(), YEARS)
    pd.testing.assert_series_equal(primary(out, "T2"), primary(none, "T2"))
    assert primary(out, "T1").loc[2024] == g[g.area.isin(["S1", "S2"]) & (g.year == 2024)]["pupils"].sum()
    notes = " ".join(out.attrs["assumptions"])
    assert "乡镇“T2”小学有 1 所学校没有年级历史（S4，占基年在校生 25%）" in notes
    assert "T1:小学" in notes and "T2:小学" not in notes


def test_a_year_one_school_lacks_leaves_the_township_year_unobserved():
    s2 = school("S2")
    g = pd.concat([school("S1"), s2[s2.year != 2022]])
    out = forecast_demand(base(grades=g, schools=SCHOOLS, base_year=2020), ForecastConfig(), [2022, 2023])
    none = forecast_demand(base(schools=SCHOOLS, base_year=2020), ForecastConfig(), [2022, 2023])
    assert primary(out, "T1").loc[2022] == pytest.approx(primary(none, "T1").loc[2022])  # not S1 alone
    assert primary(out, "T1").loc[2023] == g[g.year == 2023]["pupils"].sum()
    assert "所在乡镇该年视为未观测：T1 2022 年" in " ".join(out.attrs["assumptions"])


def test_a_township_given_twice_and_an_unknown_school_are_refused():
    twice = pd.concat([school("S1"), school("T1")])
    with pytest.raises(InputError, match="乡镇“T1”两者都有（学校 S1）"):
        forecast_demand(base(grades=twice, schools=SCHOOLS), ForecastConfig(), YEARS)
    with pytest.raises(InputError, match="学校编号（见于 schools）、乡镇编号，或全县.*S9"):
        forecast_demand(base(grades=pd.concat([school("S1"), school("S9")]), schools=SCHOOLS), ForecastConfig(), YEARS)


def test_a_total_area_beside_the_townships_is_left_out_and_checked(caplog):
    t1, t2 = school("T1"), school("T2", size=300)
    total = pd.concat([t1, t2]).groupby(["year", "grade"], as_index=False)["pupils"].sum().assign(area="合计")
    plain = forecast_demand(base(grades=pd.concat([t1, t2])), ForecastConfig(), YEARS)
    with caplog.at_level("WARNING", logger="xuewei"):
        with_total = forecast_demand(base(grades=pd.concat([t1, t2, total])), ForecastConfig(), YEARS)
    for t in ("T1", "T2"):
        pd.testing.assert_series_equal(primary(with_total, t), primary(plain, t))
    assert "地区“合计”是各地区的合计，与其他地区之和逐年、逐年级一致" in caplog.text
    off = total.assign(pupils=total["pupils"] + (total["year"] == 2020))
    with caplog.at_level("WARNING", logger="xuewei"):
        forecast_demand(base(grades=pd.concat([t1, t2, off])), ForecastConfig(), YEARS)
    assert "有 6 处不一致（如 2020 年 1 年级" in caplog.text


@pytest.mark.parametrize("name", ["全县", "巫溪县"])
def test_the_county_by_name_is_the_county(name):
    g = school("500238")
    by_code = forecast_demand(base(grades=g), ForecastConfig(), YEARS)
    by_name = forecast_demand(base(grades=g.assign(area=name), region_name="巫溪县"), ForecastConfig(), YEARS)
    for t in ("T1", "T2"):
        pd.testing.assert_series_equal(primary(by_name, t), primary(by_code, t))
    both = forecast_demand(base(grades=pd.concat([g.assign(area=name), school("T1")]), region_name="巫溪县"),
                           ForecastConfig(), YEARS)
    notes = " ".join(both.attrs["assumptions"])
    if name == "巫溪县":  # (全县 beside T1 is already left out on reading, as a total)
        assert "全县（“巫溪县”）与乡镇（或学校）的年级历史同时给出：按乡镇用，全县的行不读入" in notes
    assert "T1:小学" in notes and f"{name}:小学" not in notes


def test_names_for_ids_are_read_with_a_warning(caplog):
    schools = SCHOOLS.assign(name=["一小", "二小", "三小", "四小"])
    towns = pd.DataFrame({"township_id": ["T1", "T2"], "tier": ["county_seat", "central_town"], "name": ["城厢镇", "白鹿镇"]})
    g = pd.concat([school("S1"), school("S2", size=300), school("T2", size=400)])
    named = g.assign(area=g["area"].map({"S1": "一小", "S2": "二 小", "T2": "白鹿镇"}))
    by_id = forecast_demand(base(grades=g, schools=schools, townships=towns), ForecastConfig(), YEARS)
    with caplog.at_level("WARNING", logger="xuewei"):
        by_name = forecast_demand(base(grades=named, schools=schools, townships=towns), ForecastConfig(), YEARS)
    for t in ("T1", "T2"):
        pd.testing.assert_series_equal(primary(by_name, t), primary(by_id, t))
    assert "3 个地区写的是名称而非编号" in caplog.text and "“白鹿镇”→T2" in caplog.text


def test_docstring_examples():
    import doctest

    import xuewei.forecaster.school_grades as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5 and result.failed == 0
