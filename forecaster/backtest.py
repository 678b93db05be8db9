"""Rolling-origin backtest of the grade-progression model against persistence and linear trend.

For each origin T the model is fitted on years ≤ T only (ratios, method choice, births known up to
T), forecasts T+1 … T+H, and is scored where actuals exist. The model's forecast combines, per
horizon, the cohort forecast with fixed robust estimators, the cohort forecast with estimators
selected on past accuracy, and persistence; the weights are half robust, half persistence while the
track record is short, and are otherwise learned on the procedure's own out-of-sample record at
warm inner origins < T and shrunk toward that prior (see `Engine.weights`). Structural-break years (e.g. ECASD
2020, a COVID count of in-person pupils only) are neither fitted on nor scored, for any method:
forecasts launch from the last good year ≤ T and the horizon still counts from T.

Errors are percentages of the actual: ``APE = |F − A| / A × 100``, ``bias = mean((F − A) / A) × 100``.
Per-area figures score each area's pupils summed over its grades; ``total`` scores the sum over
areas (the district/county total). With several origins, each figure is the mean over the origins
that could be scored at that horizon, and ``n`` is the number of scored cases over all of them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xuewei.errors import InputError, Problem
from xuewei.forecaster.history import History
from xuewei.forecaster.progression import CANDIDATES, RatioMethod, shrunk_ratio, weighted_ratio, weighted_recent

METHODS = ("model", "persistence", "trend")
TREND_WINDOW = 5  #: years of history the linear-trend baseline is fitted on [年]
BIRTHS_LEVEL_YEARS = 3  #: known birth years averaged for births not yet known at the origin [年]


@dataclass(frozen=True)
class ModelChoice:
    """Ratio estimators for progression (``gpr``) and for the entry grade (``entry``)."""

    gpr: RatioMethod
    entry: RatioMethod
    shrink: float = 0.0  #: K [pupils] pulling each area's progression ratios toward the pooled ratio
    damping: float = 1.0  #: weight of the cohort forecast against the launch-year pupils [fraction]

    def label(self) -> str:
        text = f"升级比 {self.gpr.label()}，入口 {self.entry.label()}"
        if self.shrink:
            text += f"，向全体收缩 K={self.shrink:g}"
        if self.damping < 1:
            text += f"，与起点人数加权 λ={self.damping:g}"
        return text


#: Second-stage candidates: (shrink K [pupils], damping λ [fraction]).
ADJUSTMENTS: tuple[tuple[float, float], ...] = tuple(
    (k, lam) for k in (0.0, 50.0, 200.0) for lam in (1.0, 0.75, 0.5)
)


def _base_index(hist: History, c: int) -> int:
    b = c
    while b >= 0 and hist.breaks[b]:
        b -= 1
    return b


def _estimates(num: np.ndarray, den: np.ndarray, c: int, method: RatioMethod, shrink: float) -> np.ndarray:
    """Progression ratios (A, G) estimated from years ≤ index c; gaps filled by the median over
    areas of the grade, then by 1."""
    gpr = shrunk_ratio(np.moveaxis(num[:, : c + 1, :], 1, 2), np.moveaxis(den[:, : c + 1, :], 1, 2), method, shrink)
    has = np.isfinite(gpr).any(axis=0)
    if has.any():
        pooled = np.full(gpr.shape[1], np.nan)
        pooled[has] = np.nanmedian(gpr[:, has], axis=0)
        gpr = np.where(np.isnan(gpr), pooled[None, :], gpr)
    gpr = np.where(np.isnan(gpr), 1.0, gpr)
    return gpr


def _entry_trend(values: np.ndarray, window: int, steps: int, offset: int) -> np.ndarray:
    """Entry-grade pupils (A, steps) on a least-squares line through each area's last ``window``
    known values, for the ``steps`` years after launch; ``offset`` = launch index − origin index
    (≤ 0). The slope is halved (damped) and the path never goes below 0. Areas with one value keep it."""
    n_area, n_year = values.shape
    out = np.full((n_area, steps), np.nan)
    x = np.arange(n_year, dtype=float)
    for a in range(n_area):
        idx = np.flatnonzero(np.isfinite(values[a]))[-window:]
        if len(idx) == 0:
            continue
        if len(idx) == 1:
            out[a] = values[a, idx[0]]
            continue
        slope, icept = np.polyfit(x[idx], values[a, idx], 1)
        base = icept + slope * (n_year - 1 + offset)
        out[a] = np.maximum(base + TREND_DAMPING * slope * np.arange(1, steps + 1), 0.0)
    return out


TREND_DAMPING = 0.5


def _entry_series(hist: History, pupils_fit: np.ndarray) -> np.ndarray:
    """Entry-grade pupils (A, T), NaN at breaks."""
    a = np.arange(len(hist.cube.areas))
    return pupils_fit[a, :, hist.entry_index]


def _births_for(hist: History, years: np.ndarray, known_until: int) -> tuple[np.ndarray, bool]:
    """Births (A, len(years)) of each area's entry cohort for target ``years``.

    Births of years after ``known_until`` (or beyond the file) are replaced by the mean of the
    last `BIRTHS_LEVEL_YEARS` known years; the flag says whether that happened.
    """
    by = years[None, :] - hist.lag[:, None]  # birth year per area × target
    idx = by - hist.birth_years[0]
    inside = (idx >= 0) & (idx < len(hist.birth_years)) & (by <= known_until)
    safe = np.clip(idx, 0, len(hist.birth_years) - 1)
    got = np.take_along_axis(hist.births, safe, axis=1)
    got = np.where(inside, got, np.nan)
    projected = False
    if not inside.all():
        last_known = min(known_until, int(hist.birth_years[-1]))
        j = last_known - hist.birth_years[0]
        level = np.nanmean(hist.births[:, max(0, j - BIRTHS_LEVEL_YEARS + 1): j + 1], axis=1)
        need = ~inside & (by > last_known)
        got = np.where(need, level[:, None], got)
        projected = bool(need.any())
    return got, projected


class Engine:
    """Forecasts from any origin of one history; caches estimates across method choices."""

    def __init__(self, hist: History, births_are_known: bool = False, groups: np.ndarray | None = None,
                 births_observed_until: int | None = None):
        self.hist = hist
        #: last birth year that is observed, not projected [年]; None: the origin year (a backtest)
        self.births_observed_until = births_observed_until
        #: (G,) grade group of each grade (a stage): the combination weights are the same within a
        #: group (`cell_prior`); one group by default
        self.groups = np.zeros(len(hist.cube.grades), dtype=int) if groups is None else np.asarray(groups)
        #: True when the births given for years after the origin are to be used as they are (a
        #: forecast with projected births); False in a backtest (births after the origin unknown).
        self.births_are_known = births_are_known
        self.pupils_fit = hist.pupils_fit
        self.num, self.den = hist.ratio_terms()
        self.entry = _entry_series(hist, self.pupils_fit)
        self.years = hist.cube.years
        seen = np.isfinite(hist.cube.pupils).any(axis=1)  # (A, G): grades each area ever has
        g = np.arange(seen.shape[1])
        lo = np.where(seen.any(axis=1), seen.argmax(axis=1), 0)
        hi = np.where(seen.any(axis=1), seen.shape[1] - 1 - seen[:, ::-1].argmax(axis=1), -1)
        #: (A, G) grades inside each area's grade range (its lowest to highest grade in the data)
        self.in_range = (g[None, :] >= lo[:, None]) & (g[None, :] <= hi[:, None])
        if hist.births is not None:
            self.births_x, _ = _births_for(hist, self.years, known_until=10**6)
        self._cache: dict = {}

    def _gpr(self, c: int, method: RatioMethod, shrink: float) -> np.ndarray:
        key = ("g", c, method, shrink)
        if key not in self._cache:
            self._cache[key] = _estimates(self.num, self.den, c, method, shrink)
        return self._cache[key]

    def _entry_stat(self, c: int, method: RatioMethod) -> np.ndarray:
        key = ("e", c, method)
        if key not in self._cache:
            if self.hist.births is not None:
                self._cache[key] = weighted_ratio(self.entry[:, : c + 1], self.births_x[:, : c + 1], method)
            else:
                self._cache[key] = weighted_recent(self.entry[:, : c + 1], method)
        return self._cache[key]

    def forecast(self, c: int, last: int, choice: ModelChoice) -> tuple[np.ndarray, bool]:
        """Pupils ``[area, year, grade]`` for year indices c+1 … last, fitted on indices ≤ c.

        Returns the array (NaN for areas without data in the launch year) and whether births had
        to be projected.
        """
        b = _base_index(self.hist, c)
        steps = last - b
        gpr = self._gpr(c, choice.gpr, choice.shrink)
        stat = None if (choice.entry.kind == "trend" and self.hist.births is None) else self._entry_stat(c, choice.entry)
        target_years = self.years[0] + np.arange(b + 1, last + 1)
        projected = False
        if self.hist.births is not None:
            known = 10**6 if self.births_are_known else int(self.years[c])
            births, projected = _births_for(self.hist, target_years, known_until=known)
            entry = births * stat[:, None]
        elif choice.entry.kind == "trend":
            entry = _entry_trend(self.entry[:, : c + 1], choice.entry.window, steps, b - c)
        else:
            entry = np.repeat(stat[:, None], steps, axis=1)
        current = self.hist.cube.pupils[:, b, :].copy()
        n_area = current.shape[0]
        rows = np.arange(n_area)
        out = np.empty((n_area, steps, current.shape[1]))
        for k in range(steps):
            nxt = np.full_like(current, np.nan)
            nxt[:, 1:] = current[:, :-1] * gpr[:, 1:]
            nxt[rows, self.hist.entry_index] = entry[:, k]
            # grades outside an area's range stay empty; a grade inside it that has no pupils yet
            # (a school adding a grade a year) enters when the cohort below moves up into it
            nxt = np.where(self.in_range, nxt, np.nan)
            out[:, k, :] = nxt
            current = nxt
        if choice.damping < 1:
            launch = self.hist.cube.pupils[:, b, :]
            out = choice.damping * out + (1 - choice.damping) * launch[:, None, :]
        return out[:, c - b:, :], projected

    def _area_totals(self, o: int, horizon: int, choice: ModelChoice) -> np.ndarray:
        """Area totals (A, horizon) forecast from origin index ``o`` with ``choice``, cached.

        NaN past the last year and where the forecast misses a grade the area has in the launch
        year (e.g. an entry ratio that cannot be estimated yet): such a total is not comparable.
        """
        key = ("t", o, horizon, choice)
        if key not in self._cache:
            out = np.full((len(self.hist.cube.areas), horizon), np.nan)
            last = min(o + horizon, len(self.years) - 1)
            if last > o:
                f, _ = self.forecast(o, last, choice)
                out[:, : last - o] = _complete_totals(f, self.hist.cube.pupils[:, _base_index(self.hist, o), :])
            self._cache[key] = out
        return self._cache[key]

    def _inner(self, c: int, horizon: int) -> tuple[list[int], np.ndarray]:
        """Inner origins ``o < c`` (not breaks) and a mask (len, horizon) of targets ``o + h ≤ c``."""
        inner = [o for o in range(1, c) if not self.hist.breaks[o]]
        mask = np.array([[o + h <= c for h in range(1, horizon + 1)] for o in inner], dtype=bool).reshape(-1, horizon)
        return inner, mask

    def _actuals(self, inner: list[int], horizon: int) -> np.ndarray:
        """Actual area totals (len(inner), A, horizon) of the targets of each inner origin; NaN at breaks."""
        totals = self.hist.totals.copy()
        totals[:, self.hist.breaks] = np.nan
        n_year = len(self.years)
        out = np.full((len(inner), totals.shape[0], horizon), np.nan)
        for i, o in enumerate(inner):
            k = min(horizon, n_year - 1 - o)
            out[i, :, :k] = totals[:, o + 1: o + 1 + k]
        return out

    def choose(self, c: int, horizon: int) -> tuple[ModelChoice, float | None]:
        """Pick the estimators with the lowest mean APE of area totals on rolling origins inside ≤ c."""
        inner, mask = self._inner(c, horizon)
        best, best_loss = ModelChoice(RatioMethod("weighted", 3), RatioMethod("weighted", 3)), None
        if not inner:
            return best, None
        act = self._actuals(inner, horizon)
        use = mask[:, None, :] & np.isfinite(act) & (np.nan_to_num(act) > 0)

        def loss(choice: ModelChoice) -> float:
            fc = np.stack([self._area_totals(o, horizon, choice) for o in inner])
            ok = use & np.isfinite(fc)
            if not ok.any():
                return np.inf
            return float(np.mean(np.abs(fc[ok] - act[ok]) / act[ok]))

        # stage 1: the ratio estimators; stage 2: shrinkage and damping given them
        for gpr in CANDIDATES:
            for entry in CANDIDATES:
                choice = ModelChoice(gpr, entry)
                value = loss(choice)
                if best_loss is None or value < best_loss - 1e-12:
                    best, best_loss = choice, value
        for shrink, damping in ADJUSTMENTS[1:]:
            choice = ModelChoice(best.gpr, best.entry, shrink, damping)
            value = loss(choice)
            if value < best_loss - 1e-12:
                best, best_loss = choice, value
        return best, best_loss

    def _track_record(self, o: int, horizon: int) -> np.ndarray:
        """Area totals (A, horizon) that the whole procedure (`choose` at ``o``, then `forecast`)
        gave from origin ``o``: its honest out-of-sample record, cached."""
        key = ("r", o, horizon)
        if key not in self._cache:
            choice, _ = self.choose(o, horizon)
            self._cache[key] = self._area_totals(o, horizon, choice)
        return self._cache[key]

    def _warm_inner(self, c: int, horizon: int) -> tuple[list[int], np.ndarray]:
        """Warm inner origins ``o < c`` (at least `WARMUP_YEARS` good years up to ``o``) and their
        target mask (len, horizon) of ``o + h ≤ c``: the origins whose record is learned from."""
        inner, mask = self._inner(c, horizon)
        good = np.cumsum(~self.hist.breaks)
        keep = [i for i, o in enumerate(inner) if good[o] >= WARMUP_YEARS]
        return [inner[i] for i in keep], mask[keep].reshape(-1, horizon)

    def _record(self, c: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Track record of the components at the warm inner origins of ``c``.

        Returns the component forecasts of area totals (K, O, A, horizon) in `COMPONENTS` order
        (robust fixed method, method selected at ``o``, persistence), the actual totals
        (O, A, horizon) and the usable cases (O, A, horizon): target ``o + h ≤ c``, actual > 0,
        every component finite. O = 0 gives empty arrays.
        """
        inner, mask = self._warm_inner(c, horizon)
        n_area = len(self.hist.cube.areas)
        if not inner:
            empty = np.zeros((0, n_area, horizon))
            return np.zeros((len(COMPONENTS), 0, n_area, horizon)), empty, empty.astype(bool)
        act = self._actuals(inner, horizon)
        robust = np.stack([self._area_totals(o, horizon, self.robust_choice()) for o in inner])
        selected = np.stack([self._track_record(o, horizon) for o in inner])
        launch = np.stack([self.hist.totals[:, _base_index(self.hist, o)] for o in inner])
        persist = np.repeat(launch[:, :, None], horizon, axis=2)
        comps = np.stack([robust, selected, persist])
        use = mask[:, None, :] & np.isfinite(act) & (np.nan_to_num(act) > 0) & np.isfinite(comps).all(axis=0)
        return comps, act, use

    def track_length(self, c: int, horizon: int) -> int:
        """Warm inner origins ``o < c`` with at least one scored case on years ≤ c: the track record."""
        _, _, use = self._record(c, horizon)
        return int(use.any(axis=(1, 2)).sum())

    def cell_prior(self, c: int, steps: int, horizon: int) -> np.ndarray:
        """Prior persistence weight (A, steps, G) of each area × forecast year × grade from origin index ``c``.

        Persistence hedges what the cohort forecast has to guess, in proportion to how much of the
        forecast rests on guesses. Of the pupils of a grade group (`groups`: a stage) in year h after
        launch (h counted up to ``horizon`` and held after: the backtested range), a cohort already
        enrolled is only carried by progression ratios and counts `SHORT_RATIO_WEIGHT` · (1 − r /
        `RATIO_WINDOW`) while the area has r < `RATIO_WINDOW` ratio years (its good years up to launch − 1),
        0 after. A cohort not yet in school at launch (grade g < entry grade + h) whose births are
        observed (birth year ≤ `births_observed_until`, or ≤ the origin year in a backtest) enters as
        births × the entry ratio, a ratio like the others, and counts the same; without observed births
        its entry is extrapolated and counts `NEW_COHORT_WEIGHT`. The group's weight is their mean over its grades,
        each grade weighted by its launch-year pupils, and applies to all its grades alike (weighting
        each grade on its own backtests worse: see docs/forecast.md).

        >>> # 6 grades of 10 pupils, entry grade 0; 2 good years (r = 1): enrolled cohorts 0.75·(1 − 1/5) = 0.6
        >>> import pandas as pd
        >>> from xuewei.forecaster.history import build_history
        >>> rows = [("A", y, g, 10) for y in (2000, 2001) for g in range(6)]
        >>> e = Engine(build_history(pd.DataFrame(rows, columns=["area", "year", "grade", "pupils"]), None, 6, ()))
        >>> e.cell_prior(1, 2, 5)[0, :, 0].round(4).tolist()  # (0.7 + 5·0.6) / 6, (2·0.7 + 4·0.6) / 6
        [0.6167, 0.6333]
        """
        b = _base_index(self.hist, c)
        good = np.isfinite(self.hist.totals[:, : b + 1]) & ~self.hist.breaks[None, : b + 1]
        r = np.clip(good.sum(axis=1) - 1, 0, RATIO_WINDOW)
        known = SHORT_RATIO_WEIGHT * (1 - r / RATIO_WINDOW)  # (A,)
        h = np.minimum(np.arange(1, steps + 1), horizon)  # (K,)
        g = np.arange(len(self.hist.cube.grades))
        e = self.hist.entry_index
        new = (g[None, None, :] >= e[:, None, None]) & (g[None, None, :] < e[:, None, None] + h[None, :, None])
        if self.hist.births is not None:  # entering cohorts born in an observed year are not guessed
            until = int(self.years[c]) if self.births_observed_until is None else self.births_observed_until
            until = min(until, int(self.hist.birth_years[-1]))
            entered = int(self.years[c]) + h[None, :, None] - (g[None, None, :] - e[:, None, None])
            born = entered - self.hist.lag[:, None, None]
            new &= (born > until) | (born < int(self.hist.birth_years[0]))
        cell = np.where(new, NEW_COHORT_WEIGHT, known[:, None, None])  # (A, K, G)
        launch = np.nan_to_num(self._launch(c))[:, None, :]  # (A, 1, G)
        out = np.empty_like(cell)
        for grp in np.unique(self.groups):
            cols = self.groups == grp
            size = launch[:, :, cols].sum(axis=2)
            mean = np.where(size > 0, (cell[:, :, cols] * launch[:, :, cols]).sum(axis=2) / np.where(size > 0, size, 1),
                            cell[:, :, cols].mean(axis=2))
            out[:, :, cols] = mean[:, :, None]
        return out

    def _launch(self, c: int) -> np.ndarray:
        """Launch-year pupils (A, G) as persistence keeps them: a grade the area has not opened yet
        (inside its grade range) has 0 of them, so a grade that enters during the forecast is kept
        (the cohort members carry it) instead of turning the whole cell into NaN."""
        launch = self.hist.cube.pupils[:, _base_index(self.hist, c), :]
        return np.where(self.in_range & np.isnan(launch) & np.isfinite(launch).any(axis=1)[:, None], 0.0, launch)

    def _learned(self, c: int, horizon: int) -> tuple[int, np.ndarray | None]:
        """Track length n and, when n ≥ `MIN_TRACK_ORIGINS`, the weights (horizon, 3) of `COMPONENTS`
        learned on it: for each h, the weights on `simplex_grid` (step `WEIGHT_STEP`) with the lowest
        mean APE of area totals over the cases at h (all horizons pooled when h has fewer than
        `MIN_WEIGHT_CASES`)."""
        comps, act, use = self._record(c, horizon)
        n = int(use.any(axis=(1, 2)).sum())
        if n < MIN_TRACK_ORIGINS:
            return n, None
        out = np.zeros((horizon, len(COMPONENTS)))
        for h in range(horizon):
            sel = use.copy()
            sel[:, :, np.arange(horizon) != h] = False
            if sel.sum() < MIN_WEIGHT_CASES:
                sel = use
            out[h] = combination_weights(comps[:, sel], act[sel])
        return n, out

    def cell_weights(self, c: int, steps: int, horizon: int) -> np.ndarray:
        """Combination weights (A, steps, G, 3) of `COMPONENTS` for each cell of the forecast.

        The prior is the robust cohort forecast and persistence with `cell_prior` on persistence.
        With fewer than `MIN_TRACK_ORIGINS` warm inner origins in the track record the prior is used
        as it is; otherwise the weights learned on the record (`_learned`; horizons past ``horizon``
        use the last) are shrunk toward it: ``(n·w + n0·prior) / (n + n0)``, n the track length and
        n0 = `SHRINK_ORIGINS`.
        """
        p = self.cell_prior(c, steps, horizon)
        prior = np.stack([1 - p, np.zeros_like(p), p], axis=-1)
        n, learned = self._learned(c, horizon)
        if learned is None:
            return prior
        lk = learned[np.minimum(np.arange(steps), horizon - 1)]  # (K, 3)
        return (n * lk[None, :, None, :] + SHRINK_ORIGINS * prior) / (n + SHRINK_ORIGINS)

    def weights(self, c: int, horizon: int) -> np.ndarray:
        """Weights (horizon, 3) of `COMPONENTS` for horizons 1 … ``horizon`` over all cells:
        `cell_weights` averaged with the launch-year pupils of each cell as weights (what the
        combination amounts to for the total; the forecast itself uses the cell weights)."""
        return self._over_cells(c, self.cell_weights(c, horizon, horizon))

    def _over_cells(self, c: int, w: np.ndarray) -> np.ndarray:
        """Cell weights (A, K, G, 3) averaged with each cell's launch-year pupils as weights: (K, 3)."""
        launch = np.nan_to_num(self._launch(c))
        if launch.sum() <= 0:
            return w.mean(axis=(0, 2))
        return np.einsum("akgm,ag->km", w, launch) / launch.sum()

    def robust_choice(self) -> ModelChoice:
        """Fixed estimators of the robust component: pooled ratios of the last 5 years; entry from
        births × the ratio of the last 3 years, or, without births, a damped trend of the last 5
        entry cohorts."""
        return ROBUST_CHOICE if self.hist.births is not None else ROBUST_CHOICE_NO_BIRTHS

    def predict(self, c: int, last: int, horizon: int) -> tuple[np.ndarray, bool, "Combination"]:
        """The backtested forecast from origin index ``c``: a combination by horizon of the robust
        cohort forecast, the cohort forecast with the selected method and persistence.

        Weights per cell from `cell_weights` (the prior while the track record is short; learned on it
        and shrunk toward the prior otherwise). The method is selected (`choose`) only when its weight
        is not 0.

        Returns pupils ``[area, year, grade]`` for indices c+1 … last, whether births were
        projected, and the `Combination` (its weights are the cell weights averaged over the launch
        pupils; horizons beyond ``horizon`` use the learned weights of the last).
        """
        steps = last - c
        # a cell's weights do not depend on how many years are asked for: one call serves both the
        # forecast (its first `steps` years) and the Combination (its first `horizon` years)
        both = self.cell_weights(c, max(steps, horizon), horizon)  # (A, K, G, 3)
        wc = both[:, :steps]
        launch = self._launch(c)
        f_rob, projected = self.forecast(c, last, self.robust_choice())
        out = wc[..., 0] * f_rob + wc[..., 2] * launch[:, None, :]
        selected = None
        if (wc[..., 1] > 0).any():
            selected, _ = self.choose(c, horizon)
            f_sel, _ = self.forecast(c, last, selected)
            out = out + np.where(wc[..., 1] > 0, wc[..., 1] * f_sel, 0.0)
        return out, projected, Combination(self.robust_choice(), selected, self._over_cells(c, both[:, :horizon]),
                                           self.track_length(c, horizon))


@dataclass(frozen=True)
class Combination:
    """How a forecast was combined: the robust estimators, the selected ones (None when not used),
    the weights (horizon, 3) of `COMPONENTS` and the track length (warm inner origins)."""

    robust: ModelChoice
    selected: ModelChoice | None
    weights: np.ndarray
    track: int

    def label(self) -> str:
        """Chinese one-line description, e.g. for the backtest report and the forecast notes."""
        def path(k: int) -> str:
            return "/".join(f"{v:.2g}" for v in self.weights[:, k])
        prior = (f"缺省：尚未入学的队列持续法占 {NEW_COHORT_WEIGHT:g}，已入学的队列在升级比不足 {RATIO_WINDOW} 年时"
                 f"持续法占 {SHORT_RATIO_WEIGHT:g}×(1−年数/{RATIO_WINDOW})")
        if self.track < MIN_TRACK_ORIGINS:
            head = f"记录不足（{self.track} 个可学习的内部起点，少于 {MIN_TRACK_ORIGINS}）：用{prior}"
        else:
            head = f"按 {self.track} 个内部起点的记录学权重，向{prior}收缩"
        text = f"{head}；固定方法（{self.robust.label()}）权重 {path(0)}"
        if self.selected is not None:
            text += f"，选定方法（{self.selected.label()}）权重 {path(1)}"
        return text + f"，持续法权重 {path(2)}（1–{len(self.weights)} 年，按起点年各年级人数平均）"


#: Components of the combined forecast, in the order of the weight arrays.
COMPONENTS = ("robust", "selected", "persistence")
#: Good years (not breaks) an inner origin needs before its forecasts count in the track record: the
#: robust estimators' full window (5 progression ratios span 6 years), so a record is made the way
#: today's forecast is; forecasts from 2–5 years of data are far worse and would dominate it [年].
WARMUP_YEARS = 6
#: Warm inner origins needed before weights are learned on the track record.
MIN_TRACK_ORIGINS = 3
#: Pseudo-origins of the prior when learned weights are shrunk toward it.
SHRINK_ORIGINS = 3
#: Fixed estimators of the robust default: pooled ratios of the last 5 years, entry level of the last 3.
ROBUST_CHOICE = ModelChoice(RatioMethod("mean", 5), RatioMethod("mean", 3))
ROBUST_CHOICE_NO_BIRTHS = ModelChoice(RatioMethod("mean", 5), RatioMethod("trend", 5))
#: Prior persistence weight of a cell whose cohort enters school after the origin (its cohort
#: forecast rests on an estimated entry) [fraction]; see `Engine.cell_prior`.
NEW_COHORT_WEIGHT = 0.7
#: Prior persistence weight of an enrolled cohort when the area has no ratio year yet, falling
#: linearly to 0 at `RATIO_WINDOW` ratio years [fraction] (0.5 backtests as well on full histories
#: and worse from 3–5 years of history: benchmarks/forecast_short_history.py).
SHORT_RATIO_WEIGHT = 0.75
#: Ratio years of the robust progression estimator (its window) [年].
RATIO_WINDOW = ROBUST_CHOICE.gpr.window
MIN_WEIGHT_CASES = 10  #: past cases (area × origin) needed to set a horizon's weights on its own
WEIGHT_STEP = 0.1  #: spacing of the weight grid [fraction]


def simplex_grid(k: int, step: float = WEIGHT_STEP) -> np.ndarray:
    """All weight vectors of ``k`` components on multiples of ``step`` that sum to 1, shape (N, k).

    >>> simplex_grid(2, 0.5).tolist()
    [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]
    >>> len(simplex_grid(3))
    66
    """
    n = int(round(1 / step))
    pts = [p for p in itertools.product(range(n + 1), repeat=k) if sum(p) == n]
    return np.array(pts, dtype=float) / n




def combination_weights(forecasts: np.ndarray, actual: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
    """Weights minimising the mean APE of ``Σ_k w_k·forecasts[k]`` against ``actual``.

    Parameters
    ----------
    forecasts : ndarray, shape (K, N)
        Each component's forecasts of the N cases [pupils].
    actual : ndarray, shape (N,)
        Actual values [pupils], > 0.
    grid : ndarray, shape (M, K), optional
        Candidate weight vectors; default `simplex_grid` (K components, step `WEIGHT_STEP`).

    Returns
    -------
    ndarray, shape (K,)
        The mean of the candidates whose loss ties the minimum (the loss is convex in w, so the
        tied candidates form a convex set and their mean lies in it; the loss is often flat when few
        past cases decide it).

    Examples
    --------
    >>> combination_weights(np.array([[110.0, 104.0], [90.0, 100.0]]), np.array([100.0, 100.0])).tolist()
    [0.5, 0.5]
    >>> combination_weights(np.array([[110.0], [120.0]]), np.array([100.0])).tolist()
    [1.0, 0.0]
    """
    if grid is None:
        grid = simplex_grid(forecasts.shape[0])
    losses = np.mean(np.abs(grid @ forecasts - actual[None, :]) / actual[None, :], axis=1)
    return grid[losses <= losses.min() + 1e-12].mean(axis=0)


def _complete_totals(f: np.ndarray, launch: np.ndarray) -> np.ndarray:
    """Totals over grades of ``f`` (A, K, G); NaN where a grade present in ``launch`` (A, G) is NaN."""
    present = np.isfinite(launch)
    missing = (np.isnan(f) & present[:, None, :]).any(axis=2) | ~present.any(axis=1)[:, None]
    return np.where(missing, np.nan, np.nansum(f, axis=2))


def _trend(totals: np.ndarray, b: int, targets: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Least-squares line through each area's last `TREND_WINDOW` good totals up to index b."""
    out = np.full((totals.shape[0], len(targets)), np.nan)
    for a in range(totals.shape[0]):
        idx = [t for t in range(b, -1, -1) if np.isfinite(totals[a, t])][:TREND_WINDOW]
        if not idx:
            continue
        x, y = years[idx].astype(float), totals[a, idx]
        if len(idx) == 1:
            out[a] = y[0]
        else:
            slope, intercept = np.polyfit(x, y, 1)
            out[a] = intercept + slope * targets
    return out


@dataclass
class BacktestResult:
    """Scored cases and the notes of a backtest.

    ``cases`` columns: ``origin, horizon, year, level (area|total), area, method, forecast, actual``.
    """

    cases: pd.DataFrame
    horizon: int
    origins: list[int]
    choices: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """Figures in the issue's JSON shape (see module docstring)."""
        out: dict = {}
        for level, holder in (("area", out), ("total", out.setdefault("total", {}))):
            sub = self.cases[self.cases["level"] == level]
            for method in METHODS:
                block = {}
                for h in range(1, self.horizon + 1):
                    cell = sub[(sub["method"] == method) & (sub["horizon"] == h)]
                    if cell.empty:
                        block[str(h)] = {"mape": None, "bias": None, "n": 0}
                        continue
                    pe = (cell["forecast"] - cell["actual"]) / cell["actual"] * 100
                    per_origin = pd.DataFrame({"origin": cell["origin"], "ape": pe.abs(), "pe": pe}) \
                        .groupby("origin").mean()
                    block[str(h)] = {"mape": round(float(per_origin["ape"].mean()), 4),
                                     "bias": round(float(per_origin["pe"].mean()), 4), "n": int(len(cell))}
                holder[method] = block
        return {"model": out["model"], "persistence": out["persistence"], "trend": out["trend"],
                "total": out["total"]}


def run_backtest(hist: History, origins: list[int], horizon: int) -> BacktestResult:
    """Fit at each origin on years ≤ origin, forecast ``horizon`` years, score against actuals.

    Parameters
    ----------
    hist : History
        The grade history (and births), with break years marked.
    origins : list of int
        Origin years [年]; each must lie after the first year and not after the last.
    horizon : int
        Years ahead [年], ≥ 1.

    Raises
    ------
    InputError
        An origin outside the data, births that do not reach the entry cohort of the launch year,
        or no origin with any actual to score.
    """
    years = hist.cube.years
    problems = []
    for y in origins:
        if y < years[0] + 1 or y > years[-1]:
            problems.append(Problem(file="--origin", expected=f"{years[0] + 1}–{years[-1]} 之间的年份（拟合至少需要两年数据）",
                                    found=str(y)))
    if horizon < 1:
        problems.append(Problem(file="--horizon", expected="≥1 的整数", found=str(horizon)))
    if problems:
        raise InputError(problems)
    engine = Engine(hist)
    totals = hist.totals
    records = []
    result = BacktestResult(pd.DataFrame(), horizon, list(origins), notes=list(hist.notes))
    projected_any = []
    for y in origins:
        c = int(y - years[0])
        b = _base_index(hist, c)
        if b < 1:
            problems.append(Problem(file="--origin", expected="起点前至少有两个非断点年份", found=str(y)))
            continue
        if hist.births is not None:
            need = years[b] - hist.lag
            short = need < hist.birth_years[0]
            late = need > hist.birth_years[-1]
            for a in np.nonzero(short | late)[0][:10]:
                problems.append(Problem(file="births", field="year",
                                        expected=f"地区“{hist.cube.areas[a]}”含 {need[a]} 年出生数（{years[b]} 年入口年级的出生队列，滞后 {hist.lag[a]} 年）",
                                        found=f"出生年份 {hist.birth_years[0]}–{hist.birth_years[-1]}",
                                        hint="出生数据短于入学滞后所需；请补齐出生数或改用不含 --births 的回测。"))
            if short.any() or late.any():
                continue
        last = min(c + horizon, len(years) - 1)
        if last <= c:
            continue
        f, projected, combination = engine.predict(c, last, horizon)
        result.choices[int(y)] = combination.label()
        if projected:
            projected_any.append(int(y))
        model_tot = np.where(np.isnan(f).all(axis=2), np.nan, np.nansum(f, axis=2))
        targets = years[c + 1: last + 1]
        persist = np.repeat(totals[:, b][:, None], len(targets), axis=1)
        trend_in = totals.copy()
        trend_in[:, hist.breaks] = np.nan
        trend = _trend(trend_in, b, targets.astype(float), years)
        launched = np.isfinite(totals[:, b])
        gaps = np.zeros(totals.shape, dtype=bool) if hist.gaps is None else hist.gaps
        for k, ty in enumerate(targets):
            t = c + 1 + k
            if hist.breaks[t]:
                continue
            actual = totals[:, t]
            ok = launched & np.isfinite(actual) & (actual > 0)
            # The total leaves out, forecast and actual alike, an area without records in the launch
            # year or in this year (`holes`): its pupils are there but not known. An area that has not
            # started yet counts in the actual only, as before (no method knew of it).
            off = gaps[:, b] | gaps[:, t]
            for method, fc in (("model", model_tot[:, k]), ("persistence", persist[:, k]), ("trend", trend[:, k])):
                for a in np.nonzero(ok)[0]:
                    records.append((int(y), k + 1, int(ty), "area", hist.cube.areas[a], method, float(fc[a]), float(actual[a])))
                if ok.any():
                    records.append((int(y), k + 1, int(ty), "total", "（合计）", method,
                                    float(np.nansum(fc[launched & ~off])), float(np.nansum(actual[~off]))))
    if problems:
        raise InputError(problems)
    if not records:
        raise InputError(Problem(file="--origin", expected="起点之后至少有一年实际数据可供评分",
                                 found=f"{origins[0]}–{origins[-1]}（数据止于 {years[-1]} 年）"))
    result.cases = pd.DataFrame(records, columns=["origin", "horizon", "year", "level", "area", "method",
                                                  "forecast", "actual"])
    if hist.breaks.any():
        br = "、".join(str(v) for v in years[hist.breaks])
        result.notes.append(f"{br} 年视为结构断点：不参与拟合（进出该年的升级比、入口比例均剔除），也不评分；"
                            f"起点落在断点年时，从之前最近的正常年份起推。")
    if projected_any:
        result.notes.append(f"起点 {projected_any[0]}–{projected_any[-1]} 等处，所需出生年份晚于起点或超出出生数据："
                            f"用起点前最近 {BIRTHS_LEVEL_YEARS} 个已知年份的平均出生数代替（不使用起点之后的出生数）。")
    return result
