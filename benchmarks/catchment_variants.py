"""Compare catchment settings on one scenario: model size, CPU time, objective, changes of school.

Each variant is the scenario with some ``[policy]`` keys overridden; the layout is built and solved
in this process, one model at a time (CPU seconds are this process's: the solver runs in-process),
without maps or workbook. Prints per variant and stage: units, variables, constraints, build and
solve CPU seconds, objective and gap; then the unserved share and the share of village × stage
transitions that leave a school still open (periods only, and with base year → first period).

Usage::

    python benchmarks/catchment_variants.py [SCENARIO] [--stages primary junior]
        [--variant "reassign_per_pupil_wan_yuan=0"] [--variant "catchment_unit_share=0.25"] ...

A variant is ``key=value[,key=value]`` (values parsed as TOML), or ``default``.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from catchment_metrics import transitions  # noqa: E402


def _parse(variant: str) -> dict:
    if variant == "default":
        return {}
    out = {}
    for part in variant.split(","):
        key, value = part.split("=", 1)
        out[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
    return out


def run_variant(scenario, overrides: dict, stages: tuple[str, ...], save: Path | None = None) -> dict:
    from xuewei import pipeline
    from xuewei.optimizer.layout import solve_layout
    from xuewei.optimizer.layout_data import build_stage_data

    sc, path, region, fconf, policy = pipeline.load_inputs(scenario, {"policy": overrides} if overrides else None)
    base = sc.horizon.base_year or region.meta.base_year
    demand = pipeline.run_forecast(sc, region, fconf, policy)
    c0 = time.process_time()
    stage_data, _ = build_stage_data(region, demand, policy, sc.horizon.periods, base, stages=stages)
    prep = time.process_time() - c0
    rows, results = [], []
    max_nodes = sc.solver.max_nodes if sc.solver.reproducible else None
    for g in stages:
        parts = [sd for sd in stage_data if sd.stage == g]
        c0, w0 = time.process_time(), time.perf_counter()
        res = solve_layout(parts, policy, solver=sc.solver.name, time_limit_s=sc.solver.time_limit_s,
                           gap_rel=sc.solver.gap_rel, threads=1, max_nodes=max_nodes, workers=1)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        summ = res.summary
        rows.append({"stage": g, "units": sum(len(sd.node_ids) for sd in parts),
                     "pairs": sum(len(sd.pair_node) for sd in parts), "variables": int(summ["variables"].sum()),
                     "constraints": int(summ["constraints"].sum()), "build_cpu_s": round(float(summ["build_seconds"].sum()), 1),
                     "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
                     "objective": round(float(summ["objective_wan_yuan"].sum())),
                     "gap": round(float(summ["gap"].max()), 4) if summ["gap"].notna().any() else np.nan,
                     "stop": ";".join(sorted(set(summ["stop"].dropna().astype(str)) - {""}))})
        results.append(res)
    sites = pd.concat([r.sites for r in results], ignore_index=True)
    asg = pd.concat([r.assignments for r in results], ignore_index=True)
    un = pd.concat([r.unserved for r in results], ignore_index=True)
    reasons = ""
    try:  # a checkout without catchments (for a before/after comparison) has no base-year flows
        from xuewei.optimizer.catchments import base_flows_table, change_report
        flows = base_flows_table(stage_data, base)
        units = pd.concat([r.units for r in results], ignore_index=True)
        ch = change_report(units, sites, stage_data, policy)
        reasons = "；".join(f"{k} {v}" for k, v in ch.groupby("reason").size().items())
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            ch.to_csv(save / "catchment_changes.csv", index=False)
            units.to_csv(save / "units.csv", index=False)
            sites.to_csv(save / "layout_sites.csv", index=False)
            flows.to_csv(save / "catchments_base.csv", index=False)
    except ImportError:
        flows = None
    t = transitions(asg, sites[sites["open"]], flows, 0.005)
    served, lost = float(asg["pupils"].sum()), float(un["pupils"].sum()) if len(un) else 0.0
    ex = sites[(sites["origin"] == "existing") & (sites["classes_before"] > 0)]
    last = ex[ex["period"] == ex["period"].max()]
    return {"table": pd.DataFrame(rows), "prep_cpu_s": prep, "unserved_share": lost / (served + lost),
            "away_periods": f"{int(t.loc[~t['from_base'], 'away_from_open'].sum())}/{int((~t['from_base']).sum())}",
            "away_all": f"{int(t['away_from_open'].sum())}/{len(t)} = {t['away_from_open'].mean():.1%}",
            "closed_schools": int((~last["open"]).sum()), "reasons": reasons}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", nargs="?", default=None)
    p.add_argument("--stages", nargs="+", default=["kindergarten", "primary", "junior", "senior"])
    p.add_argument("--variant", action="append", default=None)
    p.add_argument("--save", type=Path, default=None, help="每个变体的换校表、单元分配等写入此文件夹下的子文件夹")
    a = p.parse_args(argv)
    for v in a.variant or ["default"]:
        out = run_variant(a.scenario, _parse(v), tuple(a.stages),
                          None if a.save is None else a.save / v.replace("=", "_").replace(",", "+"))
        print(f"== {v}  (数据准备 CPU {out['prep_cpu_s']:.1f} s)")
        print(out["table"].to_string(index=False))
        print(f"未安排 {out['unserved_share']:.2%}；离开仍开办学校：规划期之间 {out['away_periods']}，"
              f"含基准年 {out['away_all']}；末期撤并的现有学校（学段计）{out['closed_schools']}", flush=True)
        if out["reasons"]:
            print(f"换校原因（村×学段×期）：{out['reasons']}", flush=True)


if __name__ == "__main__":
    main()
