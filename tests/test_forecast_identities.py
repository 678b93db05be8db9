"""Accounting identities of the forecast: node sums, non-negativity, variant order, bands."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xuewei.forecaster import OUTPUT_COLUMNS, ForecastConfig, ForecastInputs, forecast_demand, forecast_townships


def county(populations, rates, births_level, seed=0):
    rng = np.random.default_rng(seed)
    n_towns = len(rates)
    towns = [f"T{i}" for i in range(n_towns)]
    births = pd.DataFrame([(t, y, int(births_level * rng.uniform(0.5, 1.5))) for t in towns for y in range(2006, 2025)],
                          columns=["township_id", "year", "births"])
    nodes = pd.DataFrame({"node_id": [f"n{j}" for j in range(len(populations))],
                          "township_id": [towns[j % n_towns] for j in range(len(populations))],
                          "population": populations})
    townships = pd.DataFrame({"township_id": towns, "tier": ["county_seat"] + ["township_seat"] * (n_towns - 1)})
    migration = pd.DataFrame({"township_id": towns, "age_from": 0, "age_to": 18, "net_rate_per_year": rates})
    return ForecastInputs(births=births, nodes=nodes, townships=townships, migration=migration, base_year=2024)


@settings(max_examples=25, deadline=None)
@given(
    populations=st.lists(st.integers(0, 5000), min_size=3, max_size=30),
    rates=st.lists(st.floats(-0.3, 0.1), min_size=1, max_size=3),
    births_level=st.integers(0, 500),
    transfer=st.floats(0, 0.2),
)
def test_nodes_sum_to_townships_and_never_negative(populations, rates, births_level, transfer):
    inputs = county(populations, rates, births_level)
    cfg = ForecastConfig(county_seat_transfer_per_year=transfer)
    years = [2024, 2026, 2030]
    df = forecast_demand(inputs, cfg, years)
    towns, _ = forecast_townships(inputs, cfg, years)
    assert list(df.columns) == OUTPUT_COLUMNS
    assert (df["pupils"] >= 0).all() and (df["pupils_lo"] >= 0).all()
    summed = df.groupby(["township_id", "stage", "year", "variant"])["pupils"].sum()
    expected = towns.set_index(["township_id", "stage", "year", "variant"])["pupils"].reindex(summed.index)
    np.testing.assert_allclose(summed.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-9)
    assert len(df) == len(populations) * 4 * len(years) * 3
    assert ((df["pupils_lo"] <= df["pupils"] + 1e-9) & (df["pupils"] <= df["pupils_hi"] + 1e-9)).all()
    assert (df["places_needed"] >= df["pupils"] - 1e-9).all()


def test_variants_are_ordered_and_share_the_observed_cohorts():
    inputs = county([100, 200, 300, 400], [0.0, -0.01], 300)
    df = forecast_demand(inputs, ForecastConfig(), range(2024, 2041))
    tot = df.groupby(["stage", "year", "variant"])["pupils"].sum().unstack("variant")
    # senior (ages 15-17) to 2039 comes from births up to 2024: identical in every variant
    senior = tot.loc["senior"].loc[2024:2039]
    np.testing.assert_allclose(senior["low"], senior["high"])
    kg = tot.loc["kindergarten"].loc[2028:]
    assert (kg["low"] < kg["mid"]).all() and (kg["mid"] < kg["high"]).all()


def test_bands_widen_with_horizon_and_are_reported():
    df = forecast_demand(county([100, 100], [0.0], 200), ForecastConfig(), range(2024, 2035))
    mid = df[(df.variant == "mid") & (df.stage == "primary")].groupby("year")[["pupils", "pupils_lo", "pupils_hi"]].sum()
    width = (mid["pupils_hi"] - mid["pupils_lo"]) / mid["pupils"]
    assert width.loc[2024] == 0
    assert width.is_monotonic_increasing and width.loc[2034] > width.loc[2025]
    assert any("误差带" in n for n in df.attrs["assumptions"])
