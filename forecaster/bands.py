"""Empirical error bands by horizon, from backtest errors (not from a stochastic model).

For each horizon h the band is the central ``band_level`` range of ``actual / forecast`` over the
scored backtest cases, applied to every forecast ``h`` years after the base year. Beyond the
longest backtested horizon the log-width grows with √h; without a backtest a fallback width is
used and reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.forecaster.config import ForecastConfig

MIN_CASES = 5  #: fewest backtest cases at a horizon for an empirical band there


def band_factors(cases: pd.DataFrame | None, horizons: list[int], config: ForecastConfig,
                 notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers of the point forecast giving the band's lower and upper edges.

    Parameters
    ----------
    cases : DataFrame or None
        Backtest cases ``horizon, forecast, actual`` of the model (see `backtest.BacktestResult`).
    horizons : list of int
        Years after the base year of each output year [年]; ≤ 0 gets a zero-width band.
    config : ForecastConfig
        ``band_level``, ``band_fallback_pct_per_sqrt_year``.
    notes : list of str
        Receives a Chinese note on how the band was made.

    Returns
    -------
    (ndarray, ndarray)
        Lower and upper multipliers [-], with ``lo ≤ 1 ≤ hi`` and never narrowing with horizon.

    Examples
    --------
    >>> lo, hi = band_factors(None, [0, 1, 4], ForecastConfig(band_fallback_pct_per_sqrt_year=2.0), [])
    >>> lo.round(3).tolist(), hi.round(3).tolist()
    ([1.0, 0.98, 0.961], [1.0, 1.02, 1.04])
    """
    h = np.asarray(horizons, dtype=float)
    tail = (1 - config.band_level) / 2
    table: dict[int, tuple[float, float]] = {}
    if cases is not None and len(cases):
        ok = cases[(cases["forecast"] > 0) & (cases["actual"] > 0)]
        for hz, grp in ok.groupby("horizon"):
            if len(grp) >= MIN_CASES:
                r = np.log(grp["actual"].to_numpy(float) / grp["forecast"].to_numpy(float))
                table[int(hz)] = (float(np.quantile(r, tail)), float(np.quantile(r, 1 - tail)))
    if table:
        hmax = max(table)
        lo_l = np.zeros(len(h))
        hi_l = np.zeros(len(h))
        for i, hz in enumerate(h):
            if hz <= 0:
                continue
            key = int(min(hz, hmax))
            while key not in table:
                key -= 1 if key > min(table) else -1
            scale = np.sqrt(hz / hmax) if hz > hmax else 1.0
            lo_l[i], hi_l[i] = table[key][0] * scale, table[key][1] * scale
        notes.append(f"误差带：{config.band_level:.0%} 经验区间，取自年级历史回测中各预测年限的实际/预测比"
                     f"（1–{hmax} 年）；更远年限按 √年限 外推。")
    else:
        w = np.log1p(config.band_fallback_pct_per_sqrt_year / 100) * np.sqrt(np.maximum(h, 0))
        lo_l, hi_l = -w, w
        notes.append(f"误差带：无年级历史可回测，按假定宽度 ±{config.band_fallback_pct_per_sqrt_year:g}%×√年限 给出"
                     f"（{config.band_level:.0%} 区间的近似，不是实测误差）。")
    lo = np.exp(np.minimum.accumulate(np.minimum(lo_l, 0.0)))
    hi = np.exp(np.maximum.accumulate(np.maximum(hi_l, 0.0)))
    return lo, hi
