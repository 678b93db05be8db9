"""Does the layout solve give the same answer twice? HiGHS options compared on a scenario's models.

Each configuration solves the scenario's stage models ``--repeat`` times in one process (one model
at a time) and fingerprints the result (sha256 of the sorted site and assignment tables), so equal
fingerprints mean byte-identical layouts. Extra HiGHS options are passed the way ``pulp.HiGHS``
passes them (its ``**solverParams`` → ``Highs.setOptionValue``), by wrapping the solver class that
``optimizer.solve`` uses; nothing in the optimizer is changed.

Configurations:

- ``wall``: what runs do now — each model with one HiGHS thread (``solve_layout`` gives each of
  its parallel workers ``threads // workers``) and a wall-clock ``time_limit`` (here ``--time-limit``
  per model, shared out by model size as ``solve_layout`` does).
- ``nodes``: the same, plus ``random_seed=0`` and a deterministic work limit ``mip_max_nodes``,
  with a generous wall-clock limit (``--safety-limit``, 1 h per model) that is only a safety net.

Usage::

    python benchmarks/solver_determinism.py [--scenario demo] [--time-limit 10] [--nodes 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

CONFIGS = {
    "wall": {},
    "nodes": {"random_seed": 0},  # + mip_max_nodes and a safety time limit
}


def fingerprint(layout) -> str:
    h = hashlib.sha256()
    for df, keys in ((layout.sites, ["stage", "period", "site_id"]),
                     (layout.assignments, ["stage", "period", "node_id", "school_id"])):
        h.update(df.sort_values(keys).round(6).to_csv(index=False).encode())
    return h.hexdigest()[:16]


def main(argv=None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", default="demo")
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--nodes", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--safety-limit", type=float, default=3600.0, help="nodes：每个模型的墙钟安全时限 [s]")
    p.add_argument("--configs", nargs="+", default=list(CONFIGS))
    a = p.parse_args(argv)

    import xuewei.optimizer.solve as solve_mod
    from xuewei import pipeline
    from xuewei.optimizer.layout import solve_layout
    from xuewei.optimizer.layout_data import build_stage_data

    sc, _, region, fconf, policy = pipeline.load_inputs(a.scenario)
    demand = pipeline.run_forecast(sc, region, fconf, policy)
    base = sc.horizon.base_year or region.meta.base_year
    stages, _ = build_stage_data(region, demand, policy, sc.horizon.periods, base)
    original = solve_mod.TimedHiGHS
    results = {}
    for name in a.configs:
        options = dict(CONFIGS[name])
        limit = a.time_limit
        if name == "nodes":
            options["mip_max_nodes"] = a.nodes
            limit = a.safety_limit

        class WithOptions(original):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs, **options)

            def findSolutionValues(self, lp):  # noqa: N802 - PuLP's name
                # PuLP 3.3 has no entry for kSolutionLimit, the status HiGHS reports when
                # mip_max_nodes / mip_max_leaves stops it: treat it like a time limit.
                import pulp

                try:
                    return super().findSolutionValues(lp)
                except KeyError:
                    found = lp.solverModel.getInfo().primal_solution_status == 2
                    return ((pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible) if found
                            else (pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound))

        solve_mod.TimedHiGHS = WithOptions
        runs = []
        try:
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                # one model at a time in this process; threads = HiGHS threads of that model
                layout = solve_layout(stages, policy, time_limit_s=limit * len(stages), gap_rel=sc.solver.gap_rel,
                                      threads=1)
                s = layout.summary
                runs.append({"fingerprint": fingerprint(layout), "seconds": round(time.perf_counter() - t0, 1),
                             "objective": [round(v, 3) for v in s["objective_wan_yuan"]],
                             "gap": [None if g is None else round(g, 5) for g in s["gap"]],
                             "status": list(s["status"]),
                             "solve_seconds": [round(v, 1) for v in s["solve_seconds"]]})
                print(json.dumps({name: runs[-1]}, ensure_ascii=False), file=sys.stderr, flush=True)
        finally:
            solve_mod.TimedHiGHS = original
        results[name] = {"options": options, "time_limit_s": limit, "runs": runs,
                         "identical": len({r["fingerprint"] for r in runs}) == 1}
        print(json.dumps({name: results[name]}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
