"""Bad region tables raise InputError naming the file, row and field; grade histories are used."""

import numpy as np
import pandas as pd
import pytest

from xuewei.errors import InputError
from xuewei.forecaster import ForecastConfig, ForecastInputs, forecast_demand


def base(**over):
    births = pd.DataFrame({"township_id": np.repeat(["T1", "T2"], 20), "year": np.tile(range(2005, 2025), 2),
                           "births": np.tile(np.linspace(300, 200, 20).round(), 2)})
    nodes = pd.DataFrame({"node_id": ["a", "b", "c"], "township_id": ["T1", "T1", "T2"], "population": [500, 500, 800]})
    towns = pd.DataFrame({"township_id": ["T1", "T2"], "tier": ["county_seat", "central_town"]})
    kw = dict(births=births, nodes=nodes, townships=towns, base_year=2024, admin_code="500238")
    kw.update(over)
    return ForecastInputs(**kw)


def test_missing_column():
    with pytest.raises(InputError, match=r"births\.csv.*字段“births”"):
        forecast_demand(base(births=base().births.drop(columns="births")), ForecastConfig(), [2025])


def test_negative_births_and_unknown_township():
    b = base().births.copy()
    b.loc[3, "births"] = -5
    with pytest.raises(InputError, match=r"births\.csv，第 5 行，字段“births”：应为非负数值"):
        forecast_demand(base(births=b), ForecastConfig(), [2025])
    n = base().nodes.copy()
    n.loc[2, "township_id"] = "T9"
    with pytest.raises(InputError, match=r"nodes\.csv，第 4 行，字段“township_id”.*T9"):
        forecast_demand(base(nodes=n), ForecastConfig(), [2025])


def test_gap_in_births_and_township_without_nodes():
    b = base().births
    with pytest.raises(InputError, match=r"乡镇“T1”出生年份连续.*2010"):
        forecast_demand(base(births=b[~((b.township_id == "T1") & (b.year == 2010))]), ForecastConfig(), [2025])
    with pytest.raises(InputError, match=r"乡镇“T2”至少有一个需求点"):
        forecast_demand(base(nodes=base().nodes.iloc[:2]), ForecastConfig(), [2025])


def test_years_before_base_year():
    with pytest.raises(InputError, match="不早于基年 2024"):
        forecast_demand(base(), ForecastConfig(), [2020, 2025])


def test_config_refuses_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="extra"):
        ForecastConfig(fertility="mid")
    with pytest.raises(ValueError, match="public_share"):
        ForecastConfig(public_share={"kindergarten": 1.5, "primary": 1, "junior": 1, "senior": 1})
    cfg = ForecastConfig()
    with pytest.raises(ValueError):
        cfg.band_level = 0.5  # frozen


def grades_history(stage_grades=range(1, 7), years=range(2014, 2025)):
    rows = []
    for y in years:
        for g in stage_grades:
            rows.append(("500238", y, g, int(round(1000 * 0.99 ** (y - 2014) * (1 - 0.01 * g)))))
    return pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])


def test_grade_range_must_cover_a_whole_stage():
    with pytest.raises(InputError, match=r"grades\.csv.*小学的全部年级 1–6"):
        forecast_demand(base(grades=grades_history(range(1, 5))), ForecastConfig(), [2025])


def test_grade_history_sets_primary_and_gives_empirical_bands():
    g = grades_history()
    df = forecast_demand(base(grades=g), ForecastConfig(), [2024, 2025, 2028])
    primary = df[(df.stage == "primary") & (df.variant == "mid")].groupby("year")["pupils"].sum()
    observed_2024 = g[g.year == 2024]["pupils"].sum()
    assert primary.loc[2024] == pytest.approx(observed_2024)  # the base year is the observed grades
    assert primary.loc[2025] < primary.loc[2024]  # the history declines 1 %/yr
    notes = " ".join(df.attrs["assumptions"])
    assert "年级升级比法" in notes and "经验区间" in notes


def test_an_area_whose_grade_history_stops_early_keeps_the_cohort_model():
    # T2's grade records stop in 2021, three years before the base year (a school merged, or the
    # bureau has not entered them yet): its pupils come from the cohort model, never 0.
    t1 = grades_history().assign(area="T1")
    t2 = grades_history(years=range(2014, 2022)).assign(area="T2")
    years = [2024, 2025, 2028]
    df = forecast_demand(base(grades=pd.concat([t1, t2])), ForecastConfig(), years)
    alone = forecast_demand(base(grades=t1), ForecastConfig(), years)

    def primary(d, town):
        mid = d[(d.stage == "primary") & (d.variant == "mid") & (d.township_id == town)]
        return mid.groupby("year")["pupils"].sum()

    assert (primary(df, "T2") > 1000).all()
    pd.testing.assert_series_equal(primary(df, "T2"), primary(alone, "T2"))  # T2 has no grades in `alone`
    assert primary(df, "T1").loc[2024] == pytest.approx(t1[t1.year == 2024]["pupils"].sum())
    notes = " ".join(df.attrs["assumptions"])
    assert "地区“T2”年级历史止于 2021 年" in notes and "沿用队列模型" in notes
    assert "T1:小学" in notes and "T2:小学" not in notes


def test_a_year_missing_from_the_grade_history_keeps_the_cohort_model_there():
    # Grades known to 2024 for a run based in 2020; the 2022 records are missing: 2022 gets the
    # cohort model's pupils (not 0), 2023 the observed grades.
    t1 = grades_history().assign(area="T1")
    t1 = t1[t1.year != 2022]
    years = [2022, 2023]
    df = forecast_demand(base(grades=t1, base_year=2020), ForecastConfig(), years)
    none = forecast_demand(base(base_year=2020), ForecastConfig(), years)

    def primary(d, year):
        sel = (d.stage == "primary") & (d.variant == "mid") & (d.township_id == "T1") & (d.year == year)
        return d[sel]["pupils"].sum()

    assert primary(df, 2022) == pytest.approx(primary(none, 2022)) and primary(df, 2022) > 1000
    assert primary(df, 2023) == pytest.approx(t1[t1.year == 2023]["pupils"].sum())
    notes = " ".join(df.attrs["assumptions"])
    assert "地区“T1”缺少 2022 年的记录" in notes and "grades.csv：1 个地区有缺少记录的年份" in notes


def _mig(rows):
    return pd.DataFrame(rows, columns=["township_id", "age_from", "age_to", "net_rate_per_year"])


def _pupils(df, town="T1", year=2030, stage="primary"):
    sel = (df.township_id == town) & (df.year == year) & (df.stage == stage) & (df.variant == "mid")
    return df[sel]["pupils"].sum()


def test_a_county_migration_row_applies_to_every_township_and_a_township_row_overrides_it():
    years = [2030]
    each = forecast_demand(base(migration=_mig([("T1", 0, 19, -0.03), ("T2", 0, 19, -0.03)])), ForecastConfig(), years)
    none = forecast_demand(base(), ForecastConfig(), years)
    for county in ("500238", "全县", "巫溪县"):
        one = forecast_demand(base(migration=_mig([(county, 0, 19, -0.03)]), region_name="巫溪县"), ForecastConfig(), years)
        for t in ("T1", "T2"):
            assert _pupils(one, t) == pytest.approx(_pupils(each, t))
            assert _pupils(one, t) < 0.9 * _pupils(none, t)  # it is applied, not ignored
    mixed = forecast_demand(base(migration=_mig([("T2", 0, 19, 0.0), ("500238", 0, 19, -0.03)])), ForecastConfig(), years)
    assert _pupils(mixed, "T1") == pytest.approx(_pupils(each, "T1"))
    assert _pupils(mixed, "T2") == pytest.approx(_pupils(none, "T2"))


def test_migration_and_age_rows_of_an_unknown_place_are_refused():
    with pytest.raises(InputError) as err:
        forecast_demand(base(migration=_mig([("T1", 0, 19, 0.01), ("T9", 0, 19, 0.01)])), ForecastConfig(), [2030])
    (p,) = err.value.problems
    assert (p.file, p.row, p.field, p.found) == ("migration.csv", 3, "township_id", "T9")
    pba = pd.DataFrame({"area_id": ["城厢"], "year": [2024], "age": [3], "persons": [100]})
    with pytest.raises(InputError, match="population_by_age.csv，第 2 行，字段“area_id”"):
        forecast_demand(base(population_by_age=pba), ForecastConfig(), [2030])


def test_county_age_rows_by_name_are_the_county():
    ages = pd.DataFrame({"year": 2024, "age": range(0, 19), "persons": np.linspace(500, 400, 19).round()})
    by_code = forecast_demand(base(population_by_age=ages.assign(area_id="500238")), ForecastConfig(), [2030])
    by_name = forecast_demand(base(population_by_age=ages.assign(area_id="全县")), ForecastConfig(), [2030])
    assert _pupils(by_name) == pytest.approx(_pupils(by_code))
    assert "分年龄人口只有全县数" in " ".join(by_name.attrs["assumptions"])


def test_age_rows_only_after_the_base_year_are_said_to_be_unused(caplog):
    ages = pd.DataFrame({"area_id": "500238", "year": 2025, "age": range(0, 19), "persons": 300})
    with caplog.at_level("WARNING", logger="xuewei"):
        df = forecast_demand(base(population_by_age=ages), ForecastConfig(), [2030])
    plain = forecast_demand(base(), ForecastConfig(), [2030])
    assert _pupils(df) == pytest.approx(_pupils(plain))
    assert "分年龄人口（population_by_age.csv）只有 2025 年，晚于基年 2024，未使用" in " ".join(df.attrs["assumptions"])
    assert "晚于基年 2024" in caplog.text


def test_county_births_are_split_by_node_population():
    b = base().births
    county = b.groupby("year", as_index=False)["births"].sum().assign(township_id="全县")
    split = forecast_demand(base(births=county), ForecastConfig(), [2030])
    # the nodes hold T1 1000 and T2 800 people: 5/9 and 4/9 of the county's births
    by_town = county.assign(births=county["births"] * 5 / 9, township_id="T1")
    by_town = pd.concat([by_town, county.assign(births=county["births"] * 4 / 9, township_id="T2")])
    direct = forecast_demand(base(births=by_town), ForecastConfig(), [2030])
    for t in ("T1", "T2"):
        assert _pupils(split, t) == pytest.approx(_pupils(direct, t))
    assert "出生数只有全县数（2005–2024 年）：按各乡镇需求点人口占比分到乡镇" in " ".join(split.attrs["assumptions"])


def test_county_births_beside_township_births_are_a_total_or_refused(caplog):
    b = base().births
    county = b.groupby("year", as_index=False)["births"].sum().assign(township_id="500238")
    with caplog.at_level("WARNING", logger="xuewei"):
        both = forecast_demand(base(births=pd.concat([b, county])), ForecastConfig(), [2030])
    plain = forecast_demand(base(), ForecastConfig(), [2030])
    assert _pupils(both) == pytest.approx(_pupils(plain))
    assert "全县的出生数行与各乡镇之和一致" in caplog.text
    with pytest.raises(InputError, match="既有全县的行，又有部分乡镇的行（缺 T2）"):
        forecast_demand(base(births=pd.concat([b[b.township_id == "T1"], county])), ForecastConfig(), [2030])
