"""Worked cohort example, checked step by step with the arithmetic written out."""

import numpy as np
import pandas as pd
import pytest

from xuewei.forecaster import ForecastConfig, ForecastInputs, forecast_demand, forecast_townships
from xuewei.forecaster.cohort import apply_migration, project_births, survive, transfer_to_seat
from xuewei.forecaster.enrolment import classes_and_places, housing_pupils, stage_population

ONE = dict(enrolment_ratio={"kindergarten": 1.0, "primary": 1.0, "junior": 1.0, "senior": 1.0},
           public_share={"kindergarten": 1.0, "primary": 1.0, "junior": 1.0, "senior": 1.0})


def births_of(year):
    """Births of the worked example: 1000 in 2000, ten more every year, observed 2000–2024."""
    return 1000 + 10 * (year - 2000)


def one_township(**extra):
    births = pd.DataFrame({"township_id": "T", "year": range(2000, 2025),
                           "births": [births_of(y) for y in range(2000, 2025)]})
    nodes = pd.DataFrame({"node_id": ["a", "b"], "township_id": "T", "population": [300, 100]})
    towns = pd.DataFrame({"township_id": ["T"], "tier": ["county_seat"]})
    return ForecastInputs(births=births, nodes=nodes, townships=towns, base_year=2024, **extra)


def config(**kw):
    base = dict(infant_survival=0.99, child_survival_1_4=1.0, child_survival_5_18=1.0, **ONE)
    base.update(kw)
    return ForecastConfig(**base)


def pupils(df, stage, year, variant="mid"):
    sel = df[(df.stage == stage) & (df.year == year) & (df.variant == variant)]
    return sel["pupils"].sum()


def test_project_births_holds_mean_of_last_years_and_phases_variants_in():
    b = pd.DataFrame({"township_id": "T", "year": [2022, 2023, 2024], "births": [1220, 1230, 1240]})
    out = project_births(b, [2024, 2025, 2027], ForecastConfig()).set_index(["year", "variant"])["births"]
    assert out[(2024, "mid")] == 1240  # observed stays observed
    assert out[(2025, "mid")] == pytest.approx((1220 + 1230 + 1240) / 3)
    assert out[(2025, "high")] == pytest.approx(1230 * (1 + 0.2 * 1 / 5))
    assert out[(2027, "low")] == pytest.approx(1230 * (1 - 0.2 * 3 / 5))


def test_survive_migrate_transfer_steps():
    pop = np.array([[[100.0, 50.0, 20.0], [10.0, 10.0, 10.0]]])  # 1 variant, 2 areas, ages 0-2
    aged = survive(pop, np.array([[40.0, 4.0]]), np.array([0.9, 0.8, 1.0]), 0.99)
    assert aged[0, 0].tolist() == pytest.approx([40 * 0.99, 100 * 0.9, 50 * 0.8])
    moved = apply_migration(aged, np.array([[0.0, 0.0, 0.0], [-0.5, -0.5, -0.5]]))
    assert moved[0, 1].tolist() == pytest.approx([4 * 0.99 * 0.5, 10 * 0.9 * 0.5, 10 * 0.8 * 0.5])
    seat = transfer_to_seat(moved, np.array([True, False]), 0.1)
    assert seat.sum(axis=1) == pytest.approx(moved.sum(axis=1))  # county total kept, age by age
    assert seat[0, 0, 1] == pytest.approx(90 + 0.1 * 4.5)


def test_stage_ages_and_classes():
    assert stage_population(np.ones(19), ForecastConfig()).tolist() == [3, 6, 3, 3]
    classes, places = classes_and_places(np.array([540.0, 541.0]), np.array(45.0))
    assert classes.tolist() == [12, 13] and places.tolist() == [12 * 45, 13 * 45]


def test_worked_example_base_year_and_first_year():
    df = forecast_demand(one_township(), config(), range(2024, 2031))
    # base year 2024: age x = births(2024 - x) x infant survival; primary = ages 6..11
    assert pupils(df, "primary", 2024) == pytest.approx(0.99 * sum(births_of(2024 - x) for x in range(6, 12)))
    # 2025: everybody one year older, nobody dies after age 0 in this example
    assert pupils(df, "primary", 2025) == pytest.approx(0.99 * sum(births_of(y) for y in range(2014, 2020)))
    assert pupils(df, "junior", 2025) == pytest.approx(0.99 * (births_of(2011) + births_of(2012) + births_of(2013)))
    # kindergarten 2030 = ages 3..5 = born 2025..2027, projected from the mean of 2022..2024
    level = (births_of(2022) + births_of(2023) + births_of(2024)) / 3
    assert pupils(df, "kindergarten", 2030) == pytest.approx(0.99 * 3 * level)
    assert pupils(df, "kindergarten", 2030, "high") == pytest.approx(0.99 * level * (1.04 + 1.08 + 1.12))
    assert pupils(df, "kindergarten", 2030, "low") == pytest.approx(0.99 * level * (0.96 + 0.92 + 0.88))
    # node a holds 300 of the township's 400 residents
    a = df[(df.node_id == "a") & (df.stage == "primary") & (df.year == 2025) & (df.variant == "mid")]
    assert a["pupils"].iloc[0] == pytest.approx(0.75 * 0.99 * sum(births_of(y) for y in range(2014, 2020)))
    assert any("2025 年起按生育方案推算" in n for n in df.attrs["assumptions"])
    assert any("未提供 migration.csv" in n for n in df.attrs["assumptions"])


def test_migration_and_enrolment_ratio_and_public_share():
    mig = pd.DataFrame({"township_id": ["T"], "age_from": [0], "age_to": [18], "net_rate_per_year": [-0.02]})
    cfg = config(enrolment_ratio={"kindergarten": 0.9, "primary": 1.0, "junior": 0.95, "senior": 0.5},
                 public_share={"kindergarten": 0.5, "primary": 1.0, "junior": 1.0, "senior": 1.0})
    df = forecast_demand(one_township(migration=mig), cfg, [2026])
    assert pupils(df, "junior", 2026) == pytest.approx(
        0.95 * 0.99 * 0.98 ** 2 * (births_of(2012) + births_of(2013) + births_of(2014)))
    assert pupils(df, "kindergarten", 2026) == pytest.approx(
        0.9 * 0.5 * 0.99 * 0.98 ** 2 * (births_of(2021) + births_of(2022) + births_of(2023)))


def test_calibration_to_base_year_pupils():
    schools = pd.DataFrame({"school_id": ["s1", "s2"], "township_id": "T", "ownership": ["public", "private"]})
    stages = pd.DataFrame({"school_id": ["s1", "s2"], "stage": "primary", "year": 2024, "pupils": [6000, 500]})
    df = forecast_demand(one_township(school_stages=stages, schools=schools), config(), [2024, 2025])
    modelled = 0.99 * sum(births_of(2024 - x) for x in range(6, 12))
    assert pupils(df, "primary", 2024) == pytest.approx(6000)  # public schools only
    assert pupils(df, "primary", 2025) == pytest.approx(6000 / modelled * 0.99 * sum(births_of(y) for y in range(2014, 2020)))
    assert df.attrs["calibrated"] is True
    # all pupils (public + private) are calibrated; the public share is measured: 6000 / 6500
    assert df.attrs["calibration"]["primary"] == pytest.approx(6500 / modelled, abs=1e-4)
    assert df.attrs["public_share_base"]["primary"] == pytest.approx(6000 / 6500, abs=1e-4)
    base = df[(df.stage == "primary") & (df.year == 2024) & (df.variant == "mid")]
    assert base["pupils_all"].sum() == pytest.approx(6500) and base["pupils_public"].sum() == pytest.approx(6000)
    assert df.attrs["calibration"]["junior"] == 1.0  # no junior statistics: left alone


def test_housing_adds_pupils_at_its_node_from_occupation():
    housing = pd.DataFrame({"node_id": ["b"], "year": [2025], "dwellings": [1000]})
    plain = forecast_demand(one_township(), config(), [2025, 2026])
    more = forecast_demand(one_township(housing=housing), config(), [2025, 2026])
    diff = more.set_index(["node_id", "stage", "year", "variant"])["pupils"] - \
        plain.set_index(["node_id", "stage", "year", "variant"])["pupils"]
    assert diff.loc[("b", "primary", 2026, "mid")] == pytest.approx(1000 * 2.62 * 70 / 1000)
    assert diff.loc[("b", "primary", 2025, "mid")] == 0  # completed 2025, occupied 2026
    assert diff.loc[("a", "primary", 2026, "mid")] == 0
    assert housing_pupils(housing, ["b"], [2026], 2024, ForecastConfig(housing_method="yield"))[0, 0, 1] == \
        pytest.approx(1000 * 0.18)


def test_county_seat_transfer_moves_children_not_totals():
    births = pd.DataFrame({"township_id": np.repeat(["S", "R"], 25), "year": np.tile(range(2000, 2025), 2),
                           "births": 100})
    nodes = pd.DataFrame({"node_id": ["s", "r"], "township_id": ["S", "R"], "population": [1, 1]})
    towns = pd.DataFrame({"township_id": ["S", "R"], "tier": ["county_seat", "township_seat"]})
    inputs = ForecastInputs(births=births, nodes=nodes, townships=towns, base_year=2024)
    frame, _ = forecast_townships(inputs, config(county_seat_transfer_per_year=0.1, infant_survival=1.0), [2025])
    mid = frame[(frame.variant == "mid") & (frame.stage == "primary")].set_index("township_id")["pupils"]
    assert mid["R"] == pytest.approx(600 * 0.9)
    assert mid["S"] == pytest.approx(600 + 60)
