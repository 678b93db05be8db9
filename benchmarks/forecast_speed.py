"""Speed of `forecast_demand`: 3,000 nodes × 19 ages × 16 years × 3 variants, one core.

Run: ``python benchmarks/forecast_speed.py`` (prints the best of 3 wall times; target < 2 s).
Synthetic county: 30 townships (one county seat), 100 nodes each, births 2005–2024, a migration
table, base-year pupils for calibration and 200 housing completions — every step of the model runs.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from xuewei.forecaster import ForecastConfig, ForecastInputs, forecast_demand  # noqa: E402


def synthetic_county(n_towns: int = 30, nodes_per_town: int = 100, seed: int = 1) -> ForecastInputs:
    rng = np.random.default_rng(seed)
    towns = [f"T{i:02d}" for i in range(n_towns)]
    townships = pd.DataFrame({"township_id": towns, "tier": ["county_seat"] + ["township_seat"] * (n_towns - 1)})
    years = range(2005, 2025)
    births = pd.DataFrame([(t, y, int(rng.integers(80, 400))) for t in towns for y in years],
                          columns=["township_id", "year", "births"])
    nodes = pd.DataFrame({
        "node_id": [f"{t}-{j:03d}" for t in towns for j in range(nodes_per_town)],
        "township_id": np.repeat(towns, nodes_per_town),
        "population": rng.integers(50, 3000, n_towns * nodes_per_town),
    })
    migration = pd.DataFrame({"township_id": towns, "age_from": 0, "age_to": 18,
                              "net_rate_per_year": rng.uniform(-0.03, 0.01, n_towns)})
    schools = pd.DataFrame({"school_id": [f"S{i}" for i in range(n_towns * 4)], "township_id": np.repeat(towns, 4),
                            "ownership": "public"})
    stages = pd.DataFrame({"school_id": schools["school_id"], "stage": ["kindergarten", "primary", "junior", "senior"] * n_towns,
                           "year": 2024, "pupils": rng.integers(200, 2000, n_towns * 4)})
    housing = pd.DataFrame({"node_id": rng.choice(nodes["node_id"], 200), "year": rng.integers(2024, 2035, 200),
                            "dwellings": rng.integers(50, 500, 200)})
    return ForecastInputs(births=births, nodes=nodes, townships=townships, school_stages=stages, schools=schools,
                          migration=migration, housing=housing, base_year=2024)


def main() -> None:
    inputs = synthetic_county()
    config = ForecastConfig()
    years = list(range(2025, 2041))  # 16 years; the model carries ages 0–18 (19 ages)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        df = forecast_demand(inputs, config, years)
        times.append(time.perf_counter() - start)
    print(f"forecast_demand: {inputs.nodes.shape[0]} nodes × 19 ages × {len(years)} years × {len(config.variants)} variants "
          f"-> {len(df):,} rows; best of 3: {min(times):.3f} s (target < 2 s)")


if __name__ == "__main__":
    main()
