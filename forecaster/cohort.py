"""Cohort-component steps: births, survival, migration, rural → county-seat transfer.

Arrays are laid out ``[variant, area, age]`` for one year (ages 0 … X, completed years at the
autumn count; age x in year t = born in year t − x) and ``[variant, area, year, age]`` for a
projection. Each function does one step and returns a new array.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.forecaster.config import ForecastConfig


def survival_by_age(n_ages: int, config: ForecastConfig) -> np.ndarray:
    """Probability of living from age x to x+1 within a year, for x = 0 … n_ages−1 [fraction].

    >>> survival_by_age(6, ForecastConfig())[[0, 3, 4]].tolist()
    [0.99957, 0.99957, 0.9998]
    """
    ages = np.arange(n_ages)
    return np.where(ages < 4, config.child_survival_1_4, config.child_survival_5_18)


def project_births(births: pd.DataFrame, years: list[int], config: ForecastConfig,
                   variant_ratios: dict[str, dict[int, float]] | None = None) -> pd.DataFrame:
    """Observed births, then projected births by fertility variant.

    Parameters
    ----------
    births : DataFrame
        ``township_id, year, births`` [persons], observed; consecutive years per township.
    years : list of int
        Years wanted [年]; years before the first observed year are not projected back (the
        caller fills them and says so).
    config : ForecastConfig
        ``births_base_years``, ``births_growth_mid_per_year``, ``variant_birth_offset``,
        ``variant_phase_in_years``, ``variants``, ``births_series``.
    variant_ratios : dict, optional
        Variant → {year: births of the variant ÷ mid births} from a published projection
        (`xuewei.data.birth_projections`); replaces the offset rule for the years it covers.

    Returns
    -------
    DataFrame
        ``township_id, year, variant, births, projected`` with ``projected`` True where the
        number is not observed.

    Notes
    -----
    For the k-th year after the last observed year L of a township,
    ``B(k) = level × (1 + g)^k × (1 + d_v · min(k, n)/n)`` with ``level`` the mean of the last
    ``births_base_years`` observed years, ``g`` the mid growth, ``d_v`` the variant offset and
    ``n`` the phase-in years. With ``variant_ratios`` the variant path is ``mid × ratio_v(year)``
    instead (the region keeps its own level; the projection gives the spread). A user series of
    county births replaces the mid path for the years it covers, split by each township's share of
    ``level``; the variant offsets or ratios still apply.

    Examples
    --------
    >>> b = pd.DataFrame({"township_id": "T", "year": [2022, 2023], "births": [100, 80]})
    >>> cfg = ForecastConfig(births_base_years=2, variant_phase_in_years=2)
    >>> out = project_births(b, [2023, 2024, 2025], cfg)
    >>> out[out.year == 2025].set_index("variant")["births"].round(1).to_dict()
    {'high': 108.0, 'low': 72.0, 'mid': 90.0}
    >>> ratios = {"low": {2024: 0.75, 2025: 0.7}, "mid": {2024: 1.0, 2025: 1.0}, "high": {2024: 1.25, 2025: 1.3}}
    >>> out = project_births(b, [2024, 2025], cfg, ratios)
    >>> out[out.year == 2025].set_index("variant")["births"].round(1).to_dict()
    {'high': 117.0, 'low': 63.0, 'mid': 90.0}
    """
    wide = births.pivot(index="township_id", columns="year", values="births").sort_index()
    wide = wide.reindex(columns=range(int(wide.columns.min()), int(wide.columns.max()) + 1))
    last_obs = wide.notna().to_numpy()[:, ::-1].argmax(axis=1)
    last_year = np.asarray(wide.columns)[wide.shape[1] - 1 - last_obs]
    values = wide.to_numpy(float)
    level = np.array([np.nanmean(row[~np.isnan(row)][-config.births_base_years:]) for row in values])
    share = level / level.sum() if level.sum() > 0 else np.full(len(level), 1 / len(level))
    years = np.asarray(sorted(years))
    variants = list(config.variants)
    col = {int(y): i for i, y in enumerate(wide.columns)}
    out = np.full((len(variants), len(wide), len(years)), np.nan)
    projected = np.zeros((len(wide), len(years)), dtype=bool)
    series = config.births_series or {}
    for j, year in enumerate(years):
        k = year - last_year  # years past the last observation, per township
        obs = np.array([values[i, col[year]] if year in col else np.nan for i in range(len(wide))])
        mid = level * (1 + config.births_growth_mid_per_year) ** np.maximum(k, 0)
        if int(year) in series:
            mid = share * float(series[int(year)])
        is_proj = (k > 0) | np.isnan(obs)
        projected[:, j] = is_proj
        for v, name in enumerate(variants):
            if variant_ratios is not None and int(year) in variant_ratios.get(name, {}):
                path = mid * variant_ratios[name][int(year)]
            else:
                ramp = np.minimum(np.maximum(k, 0), config.variant_phase_in_years) / config.variant_phase_in_years
                path = mid * (1 + config.variant_birth_offset[name] * ramp)
            out[v, :, j] = np.where(is_proj, path, obs)
    frame = pd.DataFrame({
        "township_id": np.tile(np.repeat(wide.index.to_numpy(), len(years)), len(variants)),
        "year": np.tile(years, len(wide) * len(variants)),
        "variant": np.repeat(variants, len(wide) * len(years)),
        "births": out.reshape(-1),
        "projected": np.tile(projected.reshape(-1), len(variants)),
    })
    return frame.sort_values(["township_id", "year", "variant"], ignore_index=True)


def survive(pop: np.ndarray, newborns: np.ndarray, survival: np.ndarray, infant_survival: float) -> np.ndarray:
    """Age a population by one year.

    Parameters
    ----------
    pop : ndarray, shape (..., X+1)
        Persons by age 0 … X in year t [persons].
    newborns : ndarray, shape (...)
        Births of year t+1 [persons].
    survival : ndarray, shape (X+1,)
        Probability of living from age x to x+1 [fraction].
    infant_survival : float
        Share of a year's births counted at age 0 [fraction].

    Returns
    -------
    ndarray, shape (..., X+1)
        Persons by age in year t+1; the oldest age leaves the model.

    Examples
    --------
    >>> survive(np.array([100.0, 90.0, 80.0]), np.array(50.0), np.array([0.9, 0.5, 1.0]), 1.0).tolist()
    [50.0, 90.0, 45.0]
    """
    out = np.empty_like(pop)
    out[..., 0] = newborns * infant_survival
    out[..., 1:] = pop[..., :-1] * survival[:-1]
    return out


def apply_migration(pop: np.ndarray, net_rate: np.ndarray) -> np.ndarray:
    """Add one year of net migration: ``pop × (1 + rate)`` per area and age.

    Parameters
    ----------
    pop : ndarray, shape (V, A, X+1)
        Persons [persons].
    net_rate : ndarray, shape (A, X+1)
        Net migration [fraction of the age group per year]; negative = out-migration (≥ −1).

    Returns
    -------
    ndarray, shape (V, A, X+1)

    Examples
    --------
    >>> apply_migration(np.array([[[100.0, 50.0]]]), np.array([[-0.1, 0.02]])).tolist()
    [[[90.0, 51.0]]]
    """
    return pop * (1.0 + net_rate)[None, :, :]


def transfer_to_seat(pop: np.ndarray, is_seat: np.ndarray, rate: float) -> np.ndarray:
    """Move a share of every age from non-seat areas to the county-seat area(s).

    Parameters
    ----------
    pop : ndarray, shape (V, A, X+1)
        Persons [persons].
    is_seat : ndarray of bool, shape (A,)
        Areas that are the county seat (``tier == county_seat``).
    rate : float
        Share of the non-seat population moving per year [fraction].

    Returns
    -------
    ndarray, shape (V, A, X+1)
        Persons after the move; each age's county total is unchanged. Movers are split among
        seat areas by their share of that age (equally if all are empty).

    Examples
    --------
    >>> transfer_to_seat(np.array([[[10.0], [100.0]]]), np.array([True, False]), 0.1)[0, :, 0].tolist()
    [20.0, 90.0]
    """
    if rate <= 0 or not is_seat.any() or is_seat.all():
        return pop
    movers = (pop[:, ~is_seat, :] * rate).sum(axis=1)  # (V, X+1)
    seat = pop[:, is_seat, :]
    seat_total = seat.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(seat_total > 0, seat / seat_total, 1.0 / is_seat.sum())
    out = pop.copy()
    out[:, ~is_seat, :] *= 1.0 - rate
    out[:, is_seat, :] += share * movers[:, None, :]
    return out


def project_population(base: np.ndarray, births: np.ndarray, config: ForecastConfig,
                       net_rate: np.ndarray, is_seat: np.ndarray) -> np.ndarray:
    """Run the cohort-component projection forward from the base year.

    Parameters
    ----------
    base : ndarray, shape (V, A, X+1)
        Persons by age in the base year [persons].
    births : ndarray, shape (V, A, Y)
        Births in each of the Y projection years (base+1 … base+Y) [persons].
    config : ForecastConfig
        Survival rates and the county-seat transfer rate.
    net_rate : ndarray, shape (A, X+1)
        Net migration [fraction/年].
    is_seat : ndarray of bool, shape (A,)

    Returns
    -------
    ndarray, shape (V, A, Y+1, X+1)
        Persons by age in the base year and the Y following years [persons].
    """
    n_years = births.shape[2]
    surv = survival_by_age(base.shape[-1], config)
    out = np.empty(base.shape[:2] + (n_years + 1, base.shape[-1]))
    out[:, :, 0, :] = base
    current = base
    for k in range(n_years):
        nxt = survive(current, births[:, :, k], surv, config.infant_survival)
        nxt = apply_migration(nxt, net_rate)
        nxt = transfer_to_seat(nxt, is_seat, config.county_seat_transfer_per_year)
        out[:, :, k + 1, :] = nxt
        current = nxt
    return out
