"""Low/high birth variants from a published projection (UN WPP 2024 for China), the flat rule as fallback."""

import numpy as np
import pandas as pd
import pytest

from xuewei.data.birth_projections import TABLE, projection_for, read_table
from xuewei.forecaster import ForecastConfig, ForecastInputs, forecast_demand


def inputs(admin_code="500238"):
    births = pd.DataFrame({"township_id": np.repeat(["T1", "T2"], 20), "year": np.tile(range(2005, 2025), 2),
                           "births": np.tile(np.linspace(300, 200, 20).round(), 2)})
    nodes = pd.DataFrame({"node_id": ["a", "b", "c"], "township_id": ["T1", "T1", "T2"], "population": [500, 500, 800]})
    towns = pd.DataFrame({"township_id": ["T1", "T2"], "tier": ["county_seat", "central_town"]})
    return ForecastInputs(births=births, nodes=nodes, townships=towns, base_year=2024, admin_code=admin_code)


def kindergarten_ratio(df: pd.DataFrame, year: int) -> dict[str, float]:
    """Kindergarten pupils of each variant ÷ mid in one year (all its children born after the base year)."""
    k = df[(df["stage"] == "kindergarten") & (df["year"] == year)].groupby("variant")["pupils_all"].sum()
    return {v: float(k[v] / k["mid"]) for v in ("low", "high")}


def test_the_table_cites_wpp_2024_for_china():
    table = read_table()
    cn = table[table["area_code"] == "CN"]
    assert set(cn["edition"]) == {"WPP 2024"} and set(cn["licence"]) == {"CC BY 3.0 IGO"}
    assert set(cn["repo"]) == {"PPgp/wpp2024"} and cn["commit"].str.len().eq(40).all()
    assert cn["year"].min() == 2024 and cn["year"].max() == 2038
    wide = cn.pivot(index="year", columns="variant", values="value")
    # WPP's low/high variants are medium ∓ ½ child, phased in: 0.25 to 2028, 0.4 to 2033, 0.5 after
    gap = (wide["medium"] - wide["low"]).round(6)
    assert gap.loc[2024:2028].eq(0.25).all() and gap.loc[2029:2033].eq(0.4).all() and gap.loc[2034:].eq(0.5).all()
    assert ((wide["high"] - wide["medium"]).round(6) == gap).all()


def test_ratios_are_variant_over_medium_by_year():
    p = projection_for("500238")
    r = p.ratios([2023, 2025, 2034, 2045], ("low", "mid", "high"))
    assert r["low"][2025] == pytest.approx(0.770907 / 1.020907)  # WPP 2024, China, TFR 2025
    assert r["high"][2034] == pytest.approx(1.588992 / 1.088992)
    assert r["mid"] == {2023: 1.0, 2025: 1.0, 2034: 1.0, 2045: 1.0}
    assert r["low"][2023] == 1.0  # before the projection starts every variant is the same
    assert r["low"][2045] == pytest.approx(0.619977 / 1.119977)  # after 2038 the last ratio is held


def test_forecast_applies_the_projection_to_the_regions_own_births():
    df = forecast_demand(inputs(), ForecastConfig(), list(range(2025, 2031)))
    # kindergarten (ages 3–5) in 2030 was born 2025–2027; mid births are flat, so each variant is the
    # mid forecast times the mean of the three years' ratios (survival differs by < 0.1 ‰ between ages)
    p = projection_for("500238").ratios([2025, 2026, 2027], ("low", "high"))
    got = kindergarten_ratio(df, 2030)
    for v in ("low", "high"):
        assert got[v] == pytest.approx(np.mean(list(p[v].values())), abs=1e-3)
    notes = "\n".join(df.attrs["assumptions"])
    assert "World Population Prospects 2024" in notes and "PPgp/wpp2024" in notes and "CC BY 3.0 IGO" in notes
    assert "0.76/1.24" in notes  # the 2025 ratios, stated


@pytest.mark.parametrize("admin_code, config", [
    (None, ForecastConfig()),  # no county code: no projection applies
    ("500238", ForecastConfig(birth_variant_source="offset")),  # asked for the flat rule
])
def test_flat_rule_is_the_fallback(admin_code, config):
    df = forecast_demand(inputs(admin_code), config, list(range(2025, 2031)))
    # ±20 % phased in over 5 years from 2024: the 2025–2027 births are 1 ∓ 0.04, 0.08, 0.12
    got = kindergarten_ratio(df, 2030)
    assert got["low"] == pytest.approx(1 - 0.08, abs=1e-3) and got["high"] == pytest.approx(1 + 0.08, abs=1e-3)
    notes = "\n".join(df.attrs["assumptions"])
    assert "-20%/+20%，为假设" in notes and "World Population Prospects" not in notes


def test_a_province_projection_is_preferred_to_the_country(tmp_path):
    table = pd.read_csv(TABLE, dtype=str)
    prov = table[table["year"].isin(["2024", "2025"])].copy()
    prov["area_code"], prov["area_name"], prov["edition"] = "50", "重庆市（示意/synthetic）", "示意"
    prov.loc[prov["variant"] == "low", "value"] = "0.5"
    prov.loc[prov["variant"] == "medium", "value"] = "1.0"
    path = tmp_path / "p.csv"
    pd.concat([table, prov]).to_csv(path, index=False)
    p = projection_for("500238", path)
    assert p.area_code == "50" and p.ratios([2025], ("low",))["low"][2025] == pytest.approx(0.5)
    assert projection_for("110101", path).area_code == "CN"  # Beijing: no provincial rows, the country's


def test_a_broken_table_is_refused(tmp_path):
    table = pd.read_csv(TABLE, dtype=str)
    path = tmp_path / "bad.csv"
    table[~((table["year"] == "2030") & (table["variant"] == "high"))].to_csv(path, index=False)
    with pytest.raises(ValueError, match="低、中、高三个方案"):
        read_table(path)


def test_docstring_examples():
    import doctest

    import xuewei.data.birth_projections as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
