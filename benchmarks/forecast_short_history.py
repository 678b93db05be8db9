"""Forecasts from short histories: each origin of each real series forecast from only its last k years.

The rolling backtest (`forecast_backtests.py`) gives every origin all the years before it, so most
origins have a track record. A county bureau often has 3–5 years of grade history, and the issue's
"large urban system with births, short history" lost to persistence at every horizon with the pure
cohort forecast. Here every origin o keeps only the years o − k + 1 … o (k = 3, 4, 5), so the
combination never learns and the prior alone decides. Per series and k: the total's MAPE averaged
over horizons 1–5 for the model under each prior setting, persistence and linear trend [%].

Run: ``nice python benchmarks/forecast_short_history.py [--out benchmarks/results]`` (about 1 min);
writes ``forecast_short_history.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import forecast_backtests as fb  # noqa: E402

from _table import markdown  # noqa: E402

import xuewei.forecaster.backtest as bt  # noqa: E402
from xuewei.forecaster.history import build_history, detect_break_years, read_births, read_enrollment  # noqa: E402

#: prior settings compared: label → module constants of `xuewei.forecaster.backtest`
SETTINGS: dict[str, dict] = {
    "旧缺省（处处 0.5）": {"NEW_COHORT_WEIGHT": 0.5, "SHORT_RATIO_WEIGHT": 0.5, "RATIO_WINDOW": 10**9},
    "新队列 0.7，短升级比 0.5": {"NEW_COHORT_WEIGHT": 0.7, "SHORT_RATIO_WEIGHT": 0.5},
    "新队列 0.7，短升级比 0.75": {"NEW_COHORT_WEIGHT": 0.7, "SHORT_RATIO_WEIGHT": 0.75},
    "新队列 0.7，短升级比 1": {"NEW_COHORT_WEIGHT": 0.7, "SHORT_RATIO_WEIGHT": 1.0},
}
KEEP_YEARS = (3, 4, 5)


def short_backtest(name: str, k: int) -> pd.DataFrame:
    """Total APE [%] by origin × horizon × method, each origin forecast from its last ``k`` years."""
    e_path, b_path, origins, horizon, entry_age = fb.SERIES[name]
    with contextlib.redirect_stderr(io.StringIO()):
        enr = read_enrollment(e_path)
        births = read_births(b_path) if b_path else None
    a, b = (int(v) for v in origins.split(":"))
    frames = []
    for o in range(a, b + 1):
        sub = enr[enr["year"] >= o - k + 1]
        if sub["year"].min() > o - k + 1:
            continue  # fewer than k years before this origin
        hist = build_history(sub, births, entry_age, detect_break_years(sub))
        cases = bt.run_backtest(hist, [o], horizon).cases
        tot = cases[cases["level"] == "total"]
        frames.append(tot.assign(ape=(tot["forecast"] - tot["actual"]).abs() / tot["actual"] * 100))
    return pd.concat(frames, ignore_index=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--only", help="comma-separated series names")
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else [n for n in fb.SERIES if fb.SERIES[n][0].is_file()]
    saved = {key: getattr(bt, key) for consts in SETTINGS.values() for key in consts}
    logging.disable(logging.WARNING)  # the same notes for every origin
    rows = []
    try:
        for name in names:
            for k in KEEP_YEARS:
                row = {"序列": name, "保留年数": k}
                for label, consts in SETTINGS.items():
                    for key, value in saved.items():
                        setattr(bt, key, value)
                    for key, value in consts.items():
                        setattr(bt, key, value)
                    t = short_backtest(name, k).pivot_table(index="horizon", columns="method", values="ape").mean()
                    row[label] = round(float(t["model"]), 2)
                row["持续法"] = round(float(t["persistence"]), 2)
                row["线性趋势"] = round(float(t["trend"]), 2)
                rows.append(row)
                print(row, flush=True)
    finally:
        for key, value in saved.items():
            setattr(bt, key, value)
        logging.disable(logging.NOTSET)
    table = pd.DataFrame(rows)
    best = table[["持续法", "线性趋势"]].min(axis=1)
    summary = [{"设置": label, "模型平均不低于较好基准的格数": int((table[label] >= best).sum()),
                "超出较好基准之和（百分点）": round(float(np.maximum(table[label] - best, 0).sum()), 2)}
               for label in SETTINGS]
    text = ["# 短历史：每个起点只用其前 k 年", "",
            "由 `python benchmarks/forecast_short_history.py` 生成。每格：合计 MAPE 在 1–5 年上的平均（%），"
            "各起点只保留起点及其前 k − 1 年的数据（记录永远不足，只用缺省）。", "", markdown(table), "",
            f"共 {len(table)} 格（序列 × 保留年数）。", "", markdown(pd.DataFrame(summary))]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "forecast_short_history.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
