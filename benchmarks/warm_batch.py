"""Warm start between batch variants: the same variants solved cold and from the source variant's layout.

Runs a batch file's variants twice on the same executor: as written (every model from its greedy
start), and with ``warm_start = SOURCE`` (every other variant's models first solved with the source's
openings fixed, then from that answer when it is cheaper; `xuewei.optimizer.layout._solve_group`). The
source itself is solved once: its cold run folder is copied into the warm batch and reused (same
``batch_key``). Per variant it reports:

- the objective and the worst and total gap, cold and warm [万元, %];
- how many (stage, school) open/closed decisions differ from the source's in some period — the
  schools a planner would see change between the two variants;
- the layout seconds (``optimise_s`` of the run's manifest; wall time, so machine load counts).

Usage::

    python benchmarks/warm_batch.py [--batch scenarios/demo-batch.toml] [--source baseline]
                                    [--only a,b,c] [--workers 2] [--out DIR] [--md FILE]

Everything is in reproducible mode (the batch file's settings), so the tables are the same on any
machine; only the seconds are not.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from _table import markdown  # noqa: E402


def _warm_batch_file(batch: Path, source: str, folder: Path) -> Path:
    """The batch file with ``warm_start = source`` and its ``base`` made absolute (top-level keys
    come before the first table header)."""
    from xuewei.data.tomlio import read_toml

    data, text = read_toml(batch)
    base = (batch.parent / data["base"]).resolve()
    out, in_tables = [], False
    for line in text.splitlines():
        in_tables = in_tables or line.strip().startswith("[")
        if not in_tables and line.strip().startswith("base") and "=" in line:
            out += [f'base = "{base.as_posix()}"', f'warm_start = "{source}"']
        else:
            out.append(line)
    path = folder / (batch.stem + "-warm.toml")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def _decisions(run: Path) -> pd.DataFrame:
    sites = pd.read_csv(run / "layout_sites.csv", encoding="utf-8-sig", dtype={"site_id": str})
    return sites[["stage", "site_id", "period", "open"]]


def _changed_schools(run: Path, source: Path) -> int:
    """(stage, school) pairs whose open/closed decision differs from the source's in some period."""
    m = _decisions(run).merge(_decisions(source), on=["stage", "site_id", "period"], suffixes=("", "_src"))
    diff = m[m["open"] != m["open_src"]]
    return int(diff[["stage", "site_id"]].drop_duplicates().shape[0])


def _row(run: Path, source: Path) -> dict:
    man = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    sv = pd.read_csv(run / "solver.csv", encoding="utf-8-sig")
    obj, bound = sv["objective_wan_yuan"].sum(), sv["bound_wan_yuan"].sum()
    return {"objective": float(obj), "total_gap": float((obj - bound) / obj), "worst_gap": float(sv["gap"].max()),
            "changed": _changed_schools(run, source), "seconds": float(man["seconds"]["optimise_s"]),
            "warm_used": int((sv["warm_wan_yuan"] < sv["greedy_wan_yuan"] - 1e-6).sum()) if "warm_wan_yuan" in sv else 0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", default=str(ROOT.parent / "scenarios" / "demo-batch.toml"))
    ap.add_argument("--source", default="baseline")
    ap.add_argument("--only", help="comma-separated variants (the source is always run)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", help="working folder (default: a temporary folder)")
    ap.add_argument("--md", help="write the table (Markdown) to this file")
    args = ap.parse_args(argv)

    from xuewei.batch.commands import select
    from xuewei.batch.runner import executor, run_batch
    from xuewei.batch.spec import load_variants, validate_variants

    work = Path(args.out or tempfile.mkdtemp(prefix="warm-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    batch = Path(args.batch).resolve()
    only = ",".join(dict.fromkeys([args.source] + (args.only.split(",") if args.only else [])))
    cold_v = validate_variants(select(load_variants([batch]), only if args.only else None))
    warm_v = validate_variants(select(load_variants([_warm_batch_file(batch, args.source, work)]), only if args.only else None))
    seconds = {}
    for label, variants in (("cold", cold_v), ("warm", warm_v)):
        if label == "warm" and (work / "cold" / args.source).is_dir() and not (work / "warm" / args.source).exists():
            shutil.copytree(work / "cold" / args.source, work / "warm" / args.source)  # reused: same batch_key
        t0 = time.perf_counter()
        with executor(args.workers) as (pool, _):
            outcomes = run_batch(variants, work / label, pool)
        seconds[label] = time.perf_counter() - t0
        print(f"{label}: {seconds[label]:.0f} s", flush=True)
        failed = {o["variant"]: o["error"] for o in outcomes if o["state"] == "failed"}
        if failed:
            print("\n".join(f"  failed: {k}: {e}" for k, e in failed.items()))
            return 1
    source = work / "cold" / args.source
    rows = []
    for v in cold_v:
        if v.name == args.source:
            continue
        c, w = _row(work / "cold" / v.name, source), _row(work / "warm" / v.name, source)
        rows.append({"变体": v.name, "目标值 冷启动（万元）": round(c["objective"]), "目标值 热启动（万元）": round(w["objective"]),
                     "热−冷": f"{(w['objective'] - c['objective']) / c['objective']:+.2%}",
                     "最大间隙 冷/热": f"{c['worst_gap']:.2%} / {w['worst_gap']:.2%}",
                     "合计间隙 冷/热": f"{c['total_gap']:.2%} / {w['total_gap']:.2%}",
                     "与来源开办不同的学校 冷/热": f"{c['changed']} / {w['changed']}",
                     "从来源出发的模型": w["warm_used"],
                     "布局 s 冷/热": f"{c['seconds']:.0f} / {w['seconds']:.0f}"})
    table = pd.DataFrame(rows)
    text = markdown(table)
    print(text)
    if args.md:
        Path(args.md).write_text(f"`python benchmarks/warm_batch.py {' '.join(argv or sys.argv[1:])}`\n\n" + text
                                 + f"\n批量墙钟：冷启动 {seconds['cold']:.0f} s，热启动 {seconds['warm']:.0f} s"
                                   f"（来源变体沿用冷启动的结果）。\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
