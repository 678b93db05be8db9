"""Does a batch really use both cores? The demo batch on 2 workers vs the same variants one by one.

Target (issue 7): batch wall time ≤ 1.2 × (sum of the single runs' times ÷ 2).

Fairness: both ways run the very same function (`xuewei.batch.runner.run_variant`) with the very same
per-variant settings — the batch file's overrides, ``solver.threads = 1`` and the same solver time
limit — so each variant's solves get the same time either way. The single runs go one after another in
this process (imports already warm, no pool to start); the batch pays for starting its worker
processes. Solves are time-limited, so both ways mostly measure time limits, which is what a planner's
batch does too. The machine's load average is printed before and after each phase: on a shared
machine other work slows both phases.

Usage::

    python benchmarks/batch_speed.py [--batch scenarios/demo-batch.toml] [--variants 6] [--workers 2]
                                     [--time-limit S] [--out DIR] [--json FILE]

Takes about (variants × time limit) × 1.5, i.e. ~20 minutes with the demo batch's 120 s limit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", default=str(ROOT / "scenarios" / "demo-batch.toml"))
    ap.add_argument("--variants", type=int, default=6, help="run the first N variants of the batch file")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, help="solver time limit per variant [s] (default: the batch file's)")
    ap.add_argument("--out", help="working folder (default: a temporary folder)")
    ap.add_argument("--json", help="write the figures to this JSON file")
    args = ap.parse_args(argv)

    from xuewei.batch.compare import comparison_table
    from xuewei.batch.runner import executor, run_batch, run_variant
    from xuewei.batch.spec import load_variants, validate_variants

    extra = {"solver": {"time_limit_s": args.time_limit}} if args.time_limit else None
    variants = validate_variants(load_variants([args.batch])[: args.variants], extra)
    work = Path(args.out or tempfile.mkdtemp(prefix="batch-speed-"))
    limits = {v.name: v.run_overrides(extra)["solver"].get("time_limit_s") for v in variants}
    print(f"{len(variants)} variants: {', '.join(v.name for v in variants)}")
    print(f"per variant: solver.threads = 1, time limit {sorted(set(limits.values()))} s; cores: {os.cpu_count()}")

    print(f"batch on {args.workers} workers ... (load {load()})", flush=True)
    t0 = time.perf_counter()
    with executor(args.workers) as (pool, desc):
        batch = run_batch(variants, work / "batch", pool, extra=extra, force=True)
    batch_s = time.perf_counter() - t0
    print(f"  {desc}: {batch_s:.1f} s (load {load()})", flush=True)

    print("one by one ...", flush=True)
    singles = {}
    single_rows = []
    for v in variants:
        meta = {"overrides": v.overrides, "common": v.common, "overrides_text": v.overrides_text(),
                "source": v.source, "base_scenario": str(v.scenario)}
        t1 = time.perf_counter()
        out = run_variant(v.name, str(v.scenario), v.run_overrides(extra), str(work / "single"), v.key, meta)
        singles[v.name] = time.perf_counter() - t1
        single_rows.append(out["row"])
        print(f"  {v.name}: {singles[v.name]:.1f} s, {out['state']} (load {load()})", flush=True)
    total = sum(singles.values())
    bound = 1.2 * total / args.workers
    ok = batch_s <= bound
    same = comparison_table([o["row"] for o in batch]).equals(comparison_table(single_rows))
    print(f"sum of single runs: {total:.1f} s; ideal on {args.workers} cores: {total / args.workers:.1f} s; "
          f"target ≤ 1.2 × that = {bound:.1f} s")
    print(f"batch: {batch_s:.1f} s = {batch_s / (total / args.workers):.2f} × ideal -> {'MET' if ok else 'NOT MET'}")
    print(f"comparison rows identical batch vs one by one: {same} (must be in reproducible mode; time-limited solves need not be)")
    for o in batch:
        print(f"  {o['variant']}: batch {o['seconds']:.1f} s, single {singles[o['variant']]:.1f} s, {o['state']}, "
              f"gap {o['row'].get('solver_gap')}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "variants": [v.name for v in variants], "workers": args.workers, "time_limit_s": limits,
            "batch_s": batch_s, "single_s": singles, "sum_single_s": total, "target_s": bound, "met": ok,
            "rows_identical": same, "cpu_count": os.cpu_count()}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
