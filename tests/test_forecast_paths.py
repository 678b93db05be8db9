"""Policy targets as paths (hand-computed), applied after calibration; plan comparison; late-starting grades."""

import numpy as np
import pandas as pd
import pytest

from xuewei.forecaster import ForecastConfig, ForecastInputs, forecast_demand
from xuewei.forecaster.backtest import Engine, run_backtest
from xuewei.forecaster.config import TargetPath
from xuewei.forecaster.history import build_history, check_enrollment
from xuewei.forecaster.plan_targets import compare_with_plan


def county(base_year=2020):
    births = pd.DataFrame({"township_id": "T", "year": range(2000, base_year + 1), "births": 1000})
    nodes = pd.DataFrame({"node_id": ["a"], "township_id": "T", "population": [1]})
    towns = pd.DataFrame({"township_id": ["T"], "tier": ["county_seat"]})
    schools = pd.DataFrame({"school_id": ["k1", "k2", "s1"], "township_id": "T",
                            "ownership": ["public", "private", "public"]})
    stages = pd.DataFrame({"school_id": ["k1", "k2", "s1"], "stage": ["kindergarten", "kindergarten", "senior"],
                           "year": base_year, "pupils": [600, 1400, 1500]})
    return ForecastInputs(births=births, nodes=nodes, townships=towns, schools=schools, school_stages=stages,
                          base_year=base_year)


def flat(**kw):  # no deaths: every cohort is 1000 children, so stage populations are constant
    return ForecastConfig(infant_survival=1.0, child_survival_1_4=1.0, child_survival_5_18=1.0, **kw)


def county_total(df, stage, year, col="pupils"):
    return df[(df.stage == stage) & (df.year == year) & (df.variant == "mid")][col].sum()


def test_path_values_hand_computed():
    p = TargetPath(target=0.55, year=2025)
    assert p.value([2020, 2021, 2023, 2025, 2030], 2020, 0.30).round(6).tolist() == [0.30, 0.35, 0.45, 0.55, 0.55]
    step = TargetPath(target=0.9, year=2023, shape="step")
    assert step.value([2020, 2022, 2023, 2024], 2020, 0.8).tolist() == [0.8, 0.8, 0.9, 0.9]


def test_public_share_path_starts_from_the_measured_share_after_calibration():
    # kindergarten: 2,000 pupils in 2020, 600 of them public (30 %); target 55 % in 2025
    cfg = flat(paths={"public_share": {"kindergarten": TargetPath(target=0.55, year=2025, base=0.372, source="表2")}})
    df = forecast_demand(county(), cfg, range(2020, 2031))
    assert county_total(df, "kindergarten", 2020, "pupils_all") == pytest.approx(2000)   # calibrated, as observed
    assert county_total(df, "kindergarten", 2020) == pytest.approx(600)                   # base year untouched
    assert county_total(df, "kindergarten", 2022) == pytest.approx(2000 * (0.30 + 0.25 * 2 / 5))
    assert county_total(df, "kindergarten", 2025) == pytest.approx(2000 * 0.55)
    assert county_total(df, "kindergarten", 2030) == pytest.approx(2000 * 0.55)            # held after
    assert (df["pupils"] == df["pupils_public"]).all() and (df["pupils_all"] >= df["pupils"] - 1e-9).all()
    notes = " ".join(df.attrs["assumptions"])
    assert "37.2%" in notes and "30.0%" in notes and "表2" in notes  # the scenario's base is only recorded
    assert df.attrs["paths"][0]["base"] == pytest.approx(0.30) and df.attrs["paths"][0]["base_from"] == "基年在校生统计"


def test_rate_paths_scale_all_pupils_relative_to_their_base_value():
    cfg = flat(paths={"enrolment_rate": {"kindergarten": TargetPath(target=0.93, year=2025, base=0.851),
                                         "senior": TargetPath(target=0.985, year=2025, base=0.953)},
                      "general_senior_share": {"senior": TargetPath(target=0.727, year=2025, base=0.767)}})
    df = forecast_demand(county(), cfg, [2020, 2025])
    # calibration first (2,000 and 1,500 pupils in 2020), then the paths' relative change
    assert county_total(df, "kindergarten", 2025, "pupils_all") == pytest.approx(2000 * 0.93 / 0.851)
    assert county_total(df, "senior", 2025, "pupils_all") == pytest.approx(1500 * 0.985 / 0.953 * 0.727 / 0.767)
    assert county_total(df, "senior", 2020, "pupils_all") == pytest.approx(1500)
    plain = forecast_demand(county(), flat(), [2020, 2025])
    assert df.attrs["calibration"] == plain.attrs["calibration"]  # the paths do not touch calibration


def test_inclusive_share_defaults_to_public_and_follows_its_path():
    df = forecast_demand(county(), flat(), [2020, 2025])
    assert county_total(df, "kindergarten", 2025, "pupils_inclusive") == pytest.approx(600)
    cfg = flat(paths={"inclusive_share": {"kindergarten": TargetPath(target=1.0, year=2022, base=0.968)}})
    df = forecast_demand(county(), cfg, [2020, 2021, 2025])
    assert county_total(df, "kindergarten", 2021, "pupils_inclusive") == pytest.approx(2000 * (0.968 + 0.032 / 2))
    assert county_total(df, "kindergarten", 2025, "pupils_inclusive") == pytest.approx(2000)


def test_share_paths_must_be_fractions_and_general_share_only_senior():
    with pytest.raises(ValueError, match="0–1"):
        ForecastConfig(paths={"public_share": {"kindergarten": {"target": 1.2, "year": 2025}}})
    with pytest.raises(ValueError, match="senior"):
        ForecastConfig(paths={"general_senior_share": {"primary": {"target": 0.6, "year": 2025}}})


def test_plan_comparison_uses_all_pupils_and_shares():
    cfg = flat(paths={"public_share": {"kindergarten": TargetPath(target=0.55, year=2025)}})
    df = forecast_demand(county(), cfg, [2020, 2022, 2025])
    cmp = compare_with_plan(df, "wuxi")
    mid = cmp[cmp.variant == "mid"].set_index(["plan_indicator", "year"])
    share = mid.loc[("公办园在园幼儿占比", 2025)]
    assert share["indicator_kind"] == "share" and share["forecast"] == pytest.approx(0.55)
    assert share["plan_target"] == pytest.approx(0.55) and "55.0" in share["source_quote"]
    kg = mid.loc[("在园幼儿数（万人）", 2025)]
    assert kg["forecast"] == pytest.approx(2000) and kg["plan_target"] == pytest.approx(16200)


def late_school():
    """Area B opens in 2013 with grade 1 and adds a grade a year; area A has grades 1-3 throughout."""
    rows = []
    for y in range(2010, 2019):
        rows += [("A", y, g, 100) for g in (1, 2, 3)]
        rows += [("B", y, g, 50) for g in (1, 2, 3) if y >= 2012 + g]
    return pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"])


def test_late_starting_grades_are_accepted_with_a_warning_and_enter_with_their_cohort(caplog):
    e = check_enrollment(late_school(), "E.csv")
    assert "晚于该地区首年" in caplog.text
    hist = build_history(e, None, 6, ())
    assert np.isnan(hist.cube.pupils[1, 0, :]).all()  # before opening: absent, not 0
    assert any("晚开设" in n or "晚于该地区首年" in n for n in hist.notes)
    engine = Engine(hist)
    c = 2013 - 2010  # B has grade 1 only; grade 2 enters in 2014 from grade 1, grade 3 in 2015
    f, _ = engine.forecast(c, c + 2, engine.robust_choice())
    b = f[1]
    assert np.isfinite(b[0, :2]).all() and np.isnan(b[0, 2])
    assert np.isfinite(b[1]).all()
    # the backtest scores B's totals only where they exist, and never counts missing years as 0
    cases = run_backtest(hist, [2013, 2014], 2).cases
    b_cases = cases[(cases.area == "B") & (cases.method == "persistence")]
    assert set(b_cases["actual"]) <= {100.0, 150.0}


def test_a_grade_that_stops_before_the_area_is_still_refused():
    e = late_school()
    with pytest.raises(Exception, match="队列中断"):
        check_enrollment(e[~((e.area == "A") & (e.grade == 3) & (e.year >= 2017))], "E.csv")


def test_a_year_without_records_is_unobserved_neither_zero_nor_an_error(caplog):
    # A lacks grade 2 in 2015, B lacks the whole of 2016 (years not published): accepted with a
    # warning; those area-years are not fitted, not scored, and left out of the total.
    e = late_school()
    e = e[~((e.area == "A") & (e.grade == 2) & (e.year == 2015)) & ~((e.area == "B") & (e.year == 2016))]
    e = check_enrollment(e, "E.csv")
    assert "缺少 2015 年的部分年级记录" in caplog.text and "缺少 2016 年的全部记录" in caplog.text
    hist = build_history(e, None, 6, ())
    assert hist.gaps.sum() == 2 and np.isnan(hist.cube.pupils[0, 5]).all() and np.isnan(hist.cube.pupils[1, 6]).all()
    assert any("缺少记录的年份" in n for n in hist.notes)
    cases = run_backtest(hist, [2014, 2015, 2016], 2).cases
    area = cases[cases.level == "area"]
    assert not ((area.area == "A") & ((area.year == 2015) | (area.origin == 2015))).any()
    assert not ((area.area == "B") & ((area.year == 2016) | (area.origin == 2016))).any()
    # A: 300 pupils a year; B: 100 in 2014, 150 from 2015. Persistence from 2014 to 2015 is scored
    # on B alone (A unobserved in 2015), to 2016 on A alone; from 2015, A is left out throughout.
    tot = cases[(cases.level == "total") & (cases.method == "persistence")].set_index(["origin", "year"])
    assert tuple(tot.loc[(2014, 2015), ["forecast", "actual"]]) == (100.0, 150.0)
    assert tuple(tot.loc[(2014, 2016), ["forecast", "actual"]]) == (300.0, 300.0)
    assert tuple(tot.loc[(2015, 2017), ["forecast", "actual"]]) == (150.0, 150.0)
    assert (2015, 2016) not in tot.index
