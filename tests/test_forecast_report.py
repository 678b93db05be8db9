"""demand.csv and the per-stage charts."""

import pandas as pd

from xuewei.forecaster import OUTPUT_COLUMNS, ForecastConfig, ForecastInputs, forecast_demand
from xuewei.forecaster.report import cjk_font, write_outputs


def small():
    births = pd.DataFrame({"township_id": "T", "year": range(2006, 2025), "births": 120})
    nodes = pd.DataFrame({"node_id": ["a", "b"], "township_id": "T", "population": [1, 3]})
    towns = pd.DataFrame({"township_id": ["T"], "tier": ["county_seat"]})
    return ForecastInputs(births=births, nodes=nodes, townships=towns, base_year=2024)


def test_font_is_the_bundled_cjk_one():
    assert cjk_font() == "Noto Sans CJK SC"


def test_write_outputs(tmp_path):
    df = forecast_demand(small(), ForecastConfig(), range(2024, 2030))
    paths = write_outputs(df, tmp_path / "run", "示例县")
    assert [p.name for p in paths] == ["demand.csv"] + [f"demand_{s}.png" for s in
                                                        ("kindergarten", "primary", "junior", "senior")]
    raw = (tmp_path / "run" / "demand.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese ids correctly
    back = pd.read_csv(tmp_path / "run" / "demand.csv", encoding="utf-8-sig", dtype={"node_id": str})
    assert list(back.columns) == OUTPUT_COLUMNS and len(back) == len(df)
    assert back["pupils"].sum() == __import__("pytest").approx(df["pupils"].sum(), abs=len(df) * 0.001)
    for p in paths[1:]:
        assert p.stat().st_size > 10_000 and p.read_bytes()[:4] == b"\x89PNG"
