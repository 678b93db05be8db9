"""Issue #12's acceptance figures for whole runs: one `xuewei run` per scenario, with default settings.

For each scenario (a bundled one such as ``scenarios/jiangyang.toml``, or one written by
``benchmarks/make_counties.py`` / ``benchmarks/make_bigtown.py``, 示意数据) it runs ``xuewei run SCENARIO
--out DIR`` in a child process and prints one row:

- exit code (0, or 3 when some pupils stay unserved) and wall-clock seconds, CPU seconds of the run
  and of its solver processes [s];
- unserved pupils / all design pupils [%];
- village × stage transitions (base year → first period included) that move pupils away from a
  school still open [%] (`catchment_metrics.transitions`), and the same without moves whose reason
  in ``catchment_changes.csv`` is 原校学位不足 (the old school at its class limit or size cap) [%];
- existing schools still open, more than 30 % below their base-year classes in some period, whose
  label in that period is 保留 (the period's own story: no change since the period before; its reason
  then says the school was cut in an earlier period, `xuewei.optimizer.actions`);
- plan-check rows written (``plan_check*.csv``) when the region names a plan.

Usage::

    python benchmarks/make_counties.py /tmp/gc && python benchmarks/make_bigtown.py /tmp/gc
    python benchmarks/county_acceptance.py scenarios/demo.toml scenarios/jiangyang.toml /tmp/gc/*.toml \
        [--out /tmp/acceptance] [--markdown results.md]

Times depend on the machine and on what else runs on it: measure on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catchment_metrics import _read, cut_periods, run_figures  # noqa: E402


def measure(run: Path) -> dict:
    fig = run_figures(run)
    served, un, t = fig["served"], fig["unserved"], fig["t"]
    away = t[t["away_from_open"]]
    full = 0
    changes = _read(run, "catchment_changes.csv")
    if changes is not None and len(changes):
        f = changes[changes["reason"] == "full"][["node_id", "stage", "period"]].drop_duplicates()
        full = len(away.merge(f, on=["node_id", "stage", "period"]))
    # Existing schools still open, > CUT_SHARE below their base-year classes in a period labelled 保留.
    cut = cut_periods(fig["sites"])
    labels = fig["actions"].set_index(["school_id", "period"])["action_zh"]
    kept = labels.reindex(pd.MultiIndex.from_frame(cut[["site_id", "period"]])).to_numpy() == "保留"
    plan_rows = sum(len(pd.read_csv(p, encoding="utf-8-sig")) for p in run.glob("plan_check*.csv"))
    return {"unserved_%": 100 * un / (served + un) if served + un else 0.0,
            "moves_%": 100 * len(away) / max(1, len(t)),
            "moves_not_full_%": 100 * (len(away) - full) / max(1, len(t)),
            "transitions": len(t), "kept_but_cut": int(kept.sum()), "plan_check_rows": plan_rows}


def run_one(scenario: Path, out: Path) -> dict:
    if out.exists():
        shutil.rmtree(out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "xuewei.cli", "run", str(scenario), "--out", str(out)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    row = {"scenario": str(scenario), "exit": proc.returncode, "wall_s": round(wall, 1),
           "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)}
    if proc.returncode in (0, 3):
        row.update({k: round(v, 2) if isinstance(v, float) else v for k, v in measure(out).items()})
    else:
        row["error"] = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
    return row


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenarios", type=Path, nargs="+")
    p.add_argument("--out", type=Path, default=Path("/tmp/xuewei-acceptance"))
    p.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for scen in a.scenarios:
        rows.append(run_one(scen, a.out / scen.stem))
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if a.markdown:
        try:
            text = table.to_markdown(index=False)
        except ImportError:  # tabulate is not a dependency
            text = table.to_string(index=False)
        a.markdown.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
