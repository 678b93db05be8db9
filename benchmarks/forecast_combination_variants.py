"""Sensitivity of the backtest to the settings of the forecast combination (docs/forecast.md §3).

Run: ``nice python benchmarks/forecast_combination_variants.py [--out benchmarks/results]`` (about 2 min).
``--grid`` instead sweeps the two prior weights (`NEW_COHORT_WEIGHT` × `SHORT_RATIO_WEIGHT`, about
3 min) and adds a leave-one-series-out check: for each series, the grid point chosen on the other
series (fewest failing, then the smallest worst margin) scored on the held-out one; it writes
``forecast_prior_grid.md``.
Runs every real series of `forecast_backtests` once per variant of the module constants of
`xuewei.forecaster.backtest` (warm-up years, track length needed, shrinkage pseudo-origins, prior
weights) and writes ``forecast_combination_variants.md``: per variant and series, the model's total
MAPE averaged over horizons minus the better baseline's, and the worst horizon's margin (both in
percentage points; the issue's target is mean < 0 and every horizon ≤ 0.1).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import forecast_backtests as fb  # noqa: E402

from _table import markdown  # noqa: E402

import xuewei.forecaster.backtest as bt  # noqa: E402

#: name → constants of `xuewei.forecaster.backtest` to set (the first is the shipped setting)
VARIANTS: dict[str, dict] = {
    "缺省（预热 6 年，记录 ≥3，收缩 3，新队列 0.7，短升级比 0.75）": {},
    "预热 5 年": {"WARMUP_YEARS": 5},
    "预热 7 年": {"WARMUP_YEARS": 7},
    "不收缩": {"SHRINK_ORIGINS": 0},
    "收缩 6": {"SHRINK_ORIGINS": 6},
    "记录 ≥6": {"MIN_TRACK_ORIGINS": 6},
    "记录 ≥2": {"MIN_TRACK_ORIGINS": 2},
    "新队列 0.5": {"NEW_COHORT_WEIGHT": 0.5},
    "新队列 0.6": {"NEW_COHORT_WEIGHT": 0.6},
    "新队列 0.8": {"NEW_COHORT_WEIGHT": 0.8},
    "新队列 0.9": {"NEW_COHORT_WEIGHT": 0.9},
    "短升级比 0（已入学队列不与持续法组合）": {"SHORT_RATIO_WEIGHT": 0.0},
    "短升级比 0.25": {"SHORT_RATIO_WEIGHT": 0.25},
    "短升级比 0.5": {"SHORT_RATIO_WEIGHT": 0.5},
    "短升级比 1": {"SHORT_RATIO_WEIGHT": 1.0},
    "旧缺省：先验处处 0.5/0/0.5": {"NEW_COHORT_WEIGHT": 0.5, "SHORT_RATIO_WEIGHT": 0.5, "RATIO_WINDOW": 10**9},
    "先验 1/0/0（不与持续法组合）": {"NEW_COHORT_WEIGHT": 0.0, "SHORT_RATIO_WEIGHT": 0.0},
}


def margins(rows: pd.DataFrame) -> tuple[float, float]:
    """(mean over horizons of model − better baseline, worst horizon's model − better baseline) of totals [百分点]."""
    t = rows[rows["level"] == "total"].pivot_table(index="horizon", columns="method", values="mape_pct")
    best_mean = min(t["persistence"].mean(), t["trend"].mean())
    per_h = t["model"] - t[["persistence", "trend"]].min(axis=1)
    return round(float(t["model"].mean() - best_mean), 2), round(float(per_h.max()), 2)


GRID_NEW = (0.5, 0.6, 0.7, 0.8, 0.9)
GRID_SHORT = (0.25, 0.5, 0.75, 1.0)


def run_variants(variants: dict[str, dict], names: list[str]) -> tuple[pd.DataFrame, dict]:
    """Table (one row per variant) and the raw margins {variant: {series: (mean, worst)}}."""
    saved = {k: getattr(bt, k) for v in variants.values() for k in v}
    out, raw = [], {}
    for label, consts in variants.items():
        for k, v in saved.items():
            setattr(bt, k, v)
        for k, v in consts.items():
            setattr(bt, k, v)
        row = {"设置": label}
        fails = 0
        for name in names:
            with contextlib.redirect_stderr(io.StringIO()):
                rows, _ = fb.run_one(name)
            mean, worst = margins(rows)
            raw.setdefault(label, {})[name] = (mean, worst)
            fails += mean >= 0 or worst > 0.1
            row[name] = f"{mean:+.2f} / {worst:+.2f}"
        row["未达标序列数"] = fails
        out.append(row)
        print(row, flush=True)
    for k, v in saved.items():
        setattr(bt, k, v)
    return pd.DataFrame(out), raw


def leave_one_out(raw: dict, names: list[str]) -> pd.DataFrame:
    """For each series: the variant chosen on the others (fewest failing series, then the smallest
    worst margin over them: max of mean and worst horizon − 0.1) and its margins on the held-out series."""
    def fails(v, ns):
        return sum(raw[v][n][0] >= 0 or raw[v][n][1] > 0.1 for n in ns)

    def worst(v, ns):
        return max(max(raw[v][n][0], raw[v][n][1] - 0.1) for n in ns)

    rows = []
    for held in names:
        others = [n for n in names if n != held]
        pick = min(raw, key=lambda v: (fails(v, others), worst(v, others)))
        mean, w = raw[pick][held]
        rows.append({"留出的序列": held, "在其余序列上选出": pick, "留出序列：平均 / 最差年限": f"{mean:+.2f} / {w:+.2f}",
                     "达标": "是" if mean < 0 and w <= 0.1 else "否"})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--grid", action="store_true", help="sweep the two prior weights and check leave-one-series-out")
    args = p.parse_args(argv)
    names = [n for n in fb.SERIES if fb.SERIES[n][0].is_file()]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.grid:
        variants = {f"新队列 {a:g}，短升级比 {b:g}": {"NEW_COHORT_WEIGHT": a, "SHORT_RATIO_WEIGHT": b}
                    for a in GRID_NEW for b in GRID_SHORT}
        table, raw = run_variants(variants, names)
        text = ["# 缺省先验的两个权重：网格与留一序列", "",
                "由 `python benchmarks/forecast_combination_variants.py --grid` 生成。每格同敏感性表：合计 MAPE 各年限平均减较好基准 / "
                "最差年限减较好基准（百分点；目标：前者 < 0，后者 ≤ 0.1）。", "", markdown(table), "",
                "留一序列：在其余序列上按“未达标序列最少、其次最差余量最小”选网格点，再评留出的序列。", "",
                markdown(leave_one_out(raw, names))]
        (Path(args.out) / "forecast_prior_grid.md").write_text("\n".join(text) + "\n", encoding="utf-8")
        return 0
    table, _ = run_variants(VARIANTS, names)
    text = ["# 组合设置的敏感性", "",
            "由 `python benchmarks/forecast_combination_variants.py` 生成。每格：合计 MAPE 各年限平均减较好基准 / 最差年限减较好基准"
            "（百分点；目标：前者 < 0，后者 ≤ 0.1）。", "", markdown(table)]
    (Path(args.out) / "forecast_combination_variants.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
