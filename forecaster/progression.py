"""Grade progression ratios (GPR) and the cohort-survival projection of pupils by grade.

The method of the NCES projections and of English school-place forecasts: the pupils of grade
g in year t+1 are the pupils of grade g−1 in year t times a progression ratio; the entry grade
comes from births a fixed number of years earlier times a births→entry ratio (or, without
births, from the recent level of the entry grade). Ratios are estimated from the history by

- ``mean``: plain mean of the last ``window`` ratios,
- ``weighted``: linearly weighted mean of the last ``window`` ratios (latest weight ``window``),
- ``exp_smooth``: exponentially weighted mean of all ratios, weight α(1−α)^k on the k-th latest.

Arrays are ``[area, year, grade]``; a ratio is NaN where it is undefined (first year, a year
excluded as a structural break, a zero denominator). Everything is vectorised over areas and
grades; the functions here know nothing about files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RatioMethod:
    """One ratio estimator: ``kind`` mean|weighted|exp_smooth, ``window`` [年], ``alpha`` [fraction].

    ``trend`` (entry grade without births only): a least-squares line through the last ``window``
    entry cohorts, its slope halved, continued from the launch year (`backtest._entry_trend`)."""

    kind: str
    window: int = 3
    alpha: float = 0.5

    def label(self) -> str:
        if self.kind == "exp_smooth":
            return f"exp_smooth(α={self.alpha:g})"
        if self.kind == "trend":
            return f"trend({self.window}年，斜率减半)"
        return f"{self.kind}({self.window}年)"


#: Candidates tried when the method is chosen by past accuracy.
CANDIDATES: tuple[RatioMethod, ...] = (
    RatioMethod("mean", 1),
    RatioMethod("mean", 3),
    RatioMethod("mean", 5),
    RatioMethod("mean", 10),
    RatioMethod("mean", 100),
    RatioMethod("weighted", 3),
    RatioMethod("weighted", 5),
    RatioMethod("exp_smooth", alpha=0.3),
    RatioMethod("exp_smooth", alpha=0.6),
)


def recency_weights(valid: np.ndarray, method: RatioMethod) -> np.ndarray:
    """Weights of each entry of a series under ``method`` (0 where not valid or out of the window).

    Parameters
    ----------
    valid : ndarray of bool, shape (..., T)
        Usable entries, oldest first.
    method : RatioMethod
        Estimator.

    Returns
    -------
    ndarray, shape (..., T)
        Weight [-]: 1 for ``mean`` within the window, window−rank+1 for ``weighted``,
        α(1−α)^(rank−1) for ``exp_smooth`` (rank 1 = latest valid entry).
    """
    rank = np.flip(np.cumsum(np.flip(valid, -1), -1), -1)
    if method.kind == "mean":
        return np.where(valid & (rank <= method.window), 1.0, 0.0)
    if method.kind == "weighted":
        return np.where(valid & (rank <= method.window), method.window - rank + 1.0, 0.0)
    if method.kind == "exp_smooth":
        return np.where(valid, method.alpha * (1.0 - method.alpha) ** (rank - 1.0), 0.0)
    raise ValueError(f"unknown ratio method {method.kind}")  # pragma: no cover - schema guards it


def weighted_recent(values: np.ndarray, method: RatioMethod) -> np.ndarray:
    """Estimate one value per series from its latest non-NaN entries.

    Parameters
    ----------
    values : ndarray, shape (..., T)
        Series along the last axis, oldest first; NaN = missing.
    method : RatioMethod
        Estimator.

    Returns
    -------
    ndarray, shape (...)
        The weighted mean; NaN where a series has no valid value.

    Examples
    --------
    >>> weighted_recent(np.array([1.0, np.nan, 2.0, 4.0]), RatioMethod("weighted", 2))
    array(3.33333333)
    """
    valid = ~np.isnan(values)
    weight = recency_weights(valid, method)
    total = weight.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.sum(np.where(valid, values, 0.0) * weight, -1) / total, np.nan)


def weighted_sums(num: np.ndarray, den: np.ndarray, method: RatioMethod) -> tuple[np.ndarray, np.ndarray]:
    """Recency-weighted means of numerators and denominators over entries where both are known.

    Weights are normalised to sum to 1, so the results are in the units of ``num`` and ``den``
    per year [pupils]. Both are 0 where no entry is usable.
    """
    valid = ~np.isnan(num) & ~np.isnan(den) & (np.nan_to_num(den) > 0)
    weight = recency_weights(valid, method)
    total = weight.sum(-1)
    norm = np.where(total > 0, total, 1.0)
    top = np.sum(np.where(valid, num, 0.0) * weight, -1) / norm
    bottom = np.sum(np.where(valid, den, 0.0) * weight, -1) / norm
    return top, bottom


def weighted_ratio(num: np.ndarray, den: np.ndarray, method: RatioMethod) -> np.ndarray:
    """Ratio of recency-weighted sums, ``Σ w·num / Σ w·den``, over entries where both are known.

    Summing before dividing weights each year by its cohort size, so small noisy cohorts do not
    pull the ratio up the way a mean of ratios does (E[x/y] > E[x]/E[y]).

    Parameters
    ----------
    num, den : ndarray, shape (..., T)
        Numerators and denominators [pupils or persons]; NaN = missing.
    method : RatioMethod
        Estimator.

    Returns
    -------
    ndarray, shape (...)
        Ratio [fraction]; NaN where no entry is usable.

    Examples
    --------
    >>> weighted_ratio(np.array([90.0, 11.0]), np.array([100.0, 10.0]), RatioMethod("mean", 2))
    array(0.91818182)
    """
    top, bottom = weighted_sums(num, den, method)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / bottom, np.nan)


def shrunk_ratio(num: np.ndarray, den: np.ndarray, method: RatioMethod, strength: float) -> np.ndarray:
    """Progression ratios of each area shrunk toward the ratio of all areas pooled.

    ``r = (top + K·r_pool) / (bottom + K)``: an area whose weighted cohort (``bottom``) is small
    compared with ``K`` [pupils] borrows from the pooled ratio; ``K = 0`` leaves it alone.

    Parameters
    ----------
    num, den : ndarray, shape (A, G, T)
        Numerators and denominators by area, grade and year [pupils].
    method : RatioMethod
        Estimator.
    strength : float
        K [pupils].

    Returns
    -------
    ndarray, shape (A, G)
        Ratio [fraction]; NaN where neither the area nor the pool has data.

    Examples
    --------
    >>> num = np.array([[[110.0]], [[900.0]]]); den = np.array([[[100.0]], [[1000.0]]])
    >>> shrunk_ratio(num, den, RatioMethod("mean", 1), 100.0).round(4).ravel().tolist()
    [1.0091, 0.9017]
    """
    top, bottom = weighted_sums(num, den, method)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = top.sum(0) / bottom.sum(0)
        own = np.where(bottom > 0, top / bottom, np.nan)
        if strength <= 0:
            return own
        mixed = (top + strength * pooled[None, :]) / (bottom + strength)
    return np.where(np.isfinite(mixed), mixed, own)


def ratio_terms(pupils: np.ndarray, break_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Numerators ``pupils[t, g]`` and denominators ``pupils[t-1, g-1]`` of progression ratios.

    Parameters
    ----------
    pupils : ndarray, shape (A, T, G)
        Pupils [pupils] by area, year (consecutive) and grade (consecutive); NaN = not observed.
    break_mask : ndarray of bool, shape (T,), optional
        Years excluded as structural breaks: ratios into or out of them are left out.

    Returns
    -------
    (ndarray, ndarray), each shape (A, T, G)
        NaN at year 0, grade 0, breaks and zero or missing denominators.
    """
    num = np.full(pupils.shape, np.nan)
    den = np.full(pupils.shape, np.nan)
    prev = pupils[:, :-1, :-1]
    ok = np.isfinite(prev) & (np.nan_to_num(prev) > 0) & np.isfinite(pupils[:, 1:, 1:])
    num[:, 1:, 1:] = np.where(ok, pupils[:, 1:, 1:], np.nan)
    den[:, 1:, 1:] = np.where(ok, prev, np.nan)
    if break_mask is not None and break_mask.any():
        bad = break_mask.copy()
        bad[1:] |= break_mask[:-1]
        num[:, bad, :] = np.nan
        den[:, bad, :] = np.nan
    return num, den


def ratio_array(pupils: np.ndarray, break_mask: np.ndarray | None = None) -> np.ndarray:
    """Grade progression ratios ``pupils[t, g] / pupils[t-1, g-1]`` [fraction], NaN where undefined.

    See `ratio_terms` for the shapes and the masking.
    """
    num, den = ratio_terms(pupils, break_mask)
    return num / den


def progression_ratios(grades: pd.DataFrame, break_years: tuple[int, ...] = ()) -> pd.DataFrame:
    """Observed grade progression ratios, tidy.

    Parameters
    ----------
    grades : DataFrame
        ``area, year, grade, pupils`` [pupils]; one row per area × year × grade.
    break_years : tuple of int
        Years excluded as structural breaks (no ratio into or out of them).

    Returns
    -------
    DataFrame
        ``area, year, grade, ratio`` [fraction] for every grade above an area's lowest grade and
        every year after its first, where defined: pupils of the grade in the year over pupils of
        the grade below in the year before.

    Examples
    --------
    >>> g = pd.DataFrame({"area": "A", "year": [2020, 2020, 2021, 2021], "grade": [1, 2, 1, 2],
    ...                   "pupils": [100, 90, 110, 98]})
    >>> progression_ratios(g)["ratio"].tolist()
    [0.98]
    """
    cube = GradeCube.from_frame(grades)
    mask = np.isin(cube.years, list(break_years))
    ratios = ratio_array(cube.pupils, mask)
    a, t, g = np.nonzero(~np.isnan(ratios))
    return pd.DataFrame({
        "area": cube.areas[a], "year": cube.years[t], "grade": cube.grades[g], "ratio": ratios[a, t, g],
    })


@dataclass
class GradeCube:
    """Pupils as a dense ``[area, year, grade]`` array with its labels (NaN = not observed)."""

    areas: np.ndarray
    years: np.ndarray
    grades: np.ndarray
    pupils: np.ndarray

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> "GradeCube":
        areas = np.array(sorted(df["area"].astype(str).unique()), dtype=object)
        years = np.arange(int(df["year"].min()), int(df["year"].max()) + 1)
        grades = np.arange(int(df["grade"].min()), int(df["grade"].max()) + 1)
        cube = np.full((len(areas), len(years), len(grades)), np.nan)
        ai = np.searchsorted(areas, df["area"].astype(str).to_numpy())
        cube[ai, df["year"].to_numpy(int) - years[0], df["grade"].to_numpy(int) - grades[0]] = \
            df["pupils"].to_numpy(float)
        return cls(areas, years, grades, cube)


def project_grades(
    base: np.ndarray,
    ratios: np.ndarray,
    entry: np.ndarray,
) -> np.ndarray:
    """Roll pupils forward grade by grade.

    Parameters
    ----------
    base : ndarray, shape (A, G)
        Pupils in the launch year [pupils].
    ratios : ndarray, shape (A, G)
        Progression ratio into each grade [fraction]; column 0 (entry grade) unused.
    entry : ndarray, shape (A, K)
        Entry-grade pupils in each of the K following years [pupils].

    Returns
    -------
    ndarray, shape (A, K, G)
        Projected pupils [pupils] in years launch+1 … launch+K.

    Examples
    --------
    >>> project_grades(np.array([[100.0, 90.0]]), np.array([[np.nan, 0.98]]), np.array([[110.0, 120.0]]))[0]
    array([[110. ,  98. ],
           [120. , 107.8]])
    """
    n_area, n_grade = base.shape
    steps = entry.shape[1]
    out = np.empty((n_area, steps, n_grade))
    current = base
    for k in range(steps):
        nxt = np.empty_like(current)
        nxt[:, 0] = entry[:, k]
        nxt[:, 1:] = current[:, :-1] * ratios[:, 1:]
        out[:, k, :] = nxt
        current = nxt
    return out
