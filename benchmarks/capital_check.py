"""Does a run's `actions.csv` investment equal what its layout model spent?

Recomputes `capital_cost` from the run's ``layout_sites.csv`` with the model's stage data (the same
scenario rebuilt: forecast and stage data are deterministic) and sets it, per stage and period,
beside ``solver.csv`` ``capital_wan_yuan`` (written when the scenario has ``budget_wan_yuan``).

Usage::

    python benchmarks/capital_check.py SCENARIO.toml RUN_DIR

Prints one line per stage × period: actions [万元], model [万元], and ``ok`` or ``DIFFERS``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenario")
    p.add_argument("run_dir", type=Path)
    a = p.parse_args(argv)
    from xuewei import pipeline
    from xuewei.optimizer.actions import capital_cost
    from xuewei.optimizer.layout_data import build_stage_data

    scenario, _path, region, fconf, policy = pipeline.load_inputs(a.scenario)
    base = scenario.horizon.base_year or region.meta.base_year
    demand = pipeline.run_forecast(scenario, region, fconf, policy)
    stage_data, _ = build_stage_data(region, demand, policy, scenario.horizon.periods, base)
    sites = pd.read_csv(a.run_dir / "layout_sites.csv", dtype={"site_id": str})
    ours = capital_cost(sites, policy, base, stage_data).groupby(["stage", "period"])["cost_wan_yuan"].sum()
    solver = pd.read_csv(a.run_dir / "solver.csv")
    if "capital_wan_yuan" not in solver:
        print("solver.csv 没有 capital_wan_yuan（情景没有投资上限）")
        return 1
    model: dict = {}
    for name, cap in zip(solver["model"], solver["capital_wan_yuan"].astype(str)):
        stage = name.split("#")[0]
        for period, val in zip(scenario.horizon.periods, cap.split(";")):
            model[(stage, period)] = model.get((stage, period), 0.0) + float(val)
    bad = 0
    for key, val in ours.items():
        m = model.get(key, 0.0)
        ok = np.isclose(val, m, atol=1.0)  # solver.csv rounds each model to whole 万元
        bad += not ok
        print(f"{key[0]:<13} {key[1]}  actions {val:>10,.0f}  model {m:>10,.0f}  {'ok' if ok else 'DIFFERS'}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
