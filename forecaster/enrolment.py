"""From children to pupils: enrolment ratios by stage, calibration, 随迁子女, housing, classes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.forecaster.config import STAGES, ForecastConfig


def stage_population(pop: np.ndarray, config: ForecastConfig) -> np.ndarray:
    """Children of each stage's ages.

    Parameters
    ----------
    pop : ndarray, shape (..., X+1)
        Persons by single age [persons].

    Returns
    -------
    ndarray, shape (..., 4)
        Persons of kindergarten, primary, junior, senior ages [persons].

    Examples
    --------
    >>> stage_population(np.arange(19.0), ForecastConfig()).tolist()
    [12.0, 51.0, 39.0, 48.0]
    """
    ages = config.stage_ages()
    return np.stack([pop[..., lo: hi + 1].sum(-1) for lo, hi in (ages[s] for s in STAGES)], axis=-1)


def enrolment(stage_pop: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Pupils = children of the stage's ages × enrolment ratio (× public share, × calibration).

    Parameters
    ----------
    stage_pop : ndarray, shape (..., 4)
        Children by stage [persons].
    ratio : ndarray, broadcastable to ``stage_pop``
        Effective ratio per stage [pupils per child].

    Returns
    -------
    ndarray
        Pupils [pupils], never negative.

    Examples
    --------
    >>> enrolment(np.array([100.0, 200.0, 90.0, 60.0]), np.array([0.5, 1.0, 0.95, 0.55])).tolist()
    [50.0, 200.0, 85.5, 33.0]
    """
    return np.maximum(stage_pop * ratio, 0.0)


def all_ratio(config: ForecastConfig) -> np.ndarray:
    """Uncalibrated ratio of all pupils (public + private) per child of the stage's ages [fraction]."""
    return np.array([config.enrolment_ratio[s] for s in STAGES])


def policy_paths(config: ForecastConfig, years: list[int], base_year: int, public_base: np.ndarray,
                 measured: np.ndarray, notes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
    """The scenario's target paths as factors and shares by year × stage.

    Parameters
    ----------
    config : ForecastConfig
        ``paths`` (see `config.TargetPath`), ``enrolment_ratio``.
    years : list of int
        Years base … end [年].
    base_year : int
    public_base : ndarray, shape (4,)
        Public share of pupils in the base year [fraction]: measured, or the setting.
    measured : ndarray of bool, shape (4,)
        Whether ``public_base`` was measured from the base-year statistics.
    notes : list of str
        Receives one Chinese sentence per path.

    Returns
    -------
    (rate_factor, public, inclusive, rows)
        ``rate_factor`` (Y, 4): all pupils relative to the calibrated model — enrolment-rate path
        ÷ its base value, times the 普高-share path ÷ its base value (senior) [-]; ``public`` and
        ``inclusive`` (Y, 4): shares of all pupils [fraction]; ``rows``: one dict per path
        (``kind, stage, base, target, year, shape, source``) for the reports.

    Examples
    --------
    >>> from xuewei.forecaster.config import TargetPath
    >>> cfg = ForecastConfig(paths={"public_share": {"kindergarten": TargetPath(target=0.5, year=2024)}})
    >>> f, pub, inc, rows = policy_paths(cfg, [2020, 2022, 2024, 2026], 2020, np.array([0.3, 1, 1, 1]),
    ...                                  np.array([True] * 4), [])
    >>> pub[:, 0].round(3).tolist(), f[:, 0].tolist()
    ([0.3, 0.4, 0.5, 0.5], [1.0, 1.0, 1.0, 1.0])
    """
    from xuewei.forecaster.config import (GENERAL_SENIOR_SHARE_DEFAULT, SENIOR_GROSS_RATE_DEFAULT,
                                          STAGE_ZH, path_name)

    n_y = len(years)
    rate_factor = np.ones((n_y, len(STAGES)))
    public = np.tile(public_base, (n_y, 1)).astype(float)
    inclusive = public.copy()
    rows: list[dict] = []
    paths = config.paths
    for i, stage in enumerate(STAGES):
        for kind in ("enrolment_rate", "general_senior_share", "public_share", "inclusive_share"):
            path = paths.get(kind, {}).get(stage)
            if path is None:
                continue
            if kind == "enrolment_rate":
                default = SENIOR_GROSS_RATE_DEFAULT if stage == "senior" else config.enrolment_ratio[stage]
                base, origin = (path.base, "情景给出") if path.base is not None else (default, "默认设定")
            elif kind == "general_senior_share":
                base, origin = (path.base, "情景给出") if path.base is not None else (GENERAL_SENIOR_SHARE_DEFAULT, "默认设定")
            elif kind == "public_share":
                if measured[i]:
                    base, origin = float(public_base[i]), "基年在校生统计"
                    if path.base is not None and abs(path.base - base) > 0.02:
                        notes.append(f"{STAGE_ZH[stage]}公办占比：情景给出的基年值 {path.base:.1%} 与基年在校生统计 "
                                     f"{base:.1%} 不同，路径从统计值出发。")
                else:
                    base, origin = (path.base, "情景给出") if path.base is not None else (float(public_base[i]), "默认设定")
            else:  # inclusive_share: no 普惠 flag in the school table; public kindergartens count as 普惠
                base, origin = (path.base, "情景给出") if path.base is not None else (float(public[0, i]), "等于基年公办占比")
            value = path.value(years, base_year, base)
            if kind in ("enrolment_rate", "general_senior_share"):
                rate_factor[:, i] *= value / base if base > 0 else 1.0
            elif kind == "public_share":
                public[:, i] = np.clip(value, 0.0, 1.0)
            else:
                inclusive[:, i] = np.clip(value, 0.0, 1.0)
            rows.append({"kind": kind, "kind_zh": path_name(kind, stage), "stage": stage, "base_year": base_year,
                         "base": round(float(base), 4), "base_from": origin, "target": path.target, "year": path.year,
                         "shape": path.shape, "source": path.source})
            how = "逐年线性" if path.shape == "linear" else "到目标年一次到位"
            notes.append(f"目标路径：{path_name(kind, stage)}由 {base_year} 年 {base:.1%}（{origin}）"
                         f"{how}变为 {path.year} 年 {path.target:.1%}，此后保持；在校准之后施加"
                         f"{'（出处：' + path.source + '）' if path.source else '（未注明出处）'}。")
    inclusive = np.maximum(inclusive, public) if "inclusive_share" not in paths else inclusive
    return rate_factor, public, inclusive, rows


def calibration_factors(modelled: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Factor bringing modelled base-year pupils to the observed ones, 1 where not comparable.

    Parameters
    ----------
    modelled, observed : ndarray, same shape
        Base-year pupils [pupils]; NaN in ``observed`` = no statistics for that cell.

    Returns
    -------
    ndarray
        ``observed / modelled`` where both are positive, else 1.

    Examples
    --------
    >>> calibration_factors(np.array([100.0, 0.0, 50.0]), np.array([90.0, 10.0, np.nan])).tolist()
    [0.9, 1.0, 1.0]
    """
    ok = np.isfinite(observed) & (modelled > 0) & (np.nan_to_num(observed) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, observed / np.where(modelled > 0, modelled, 1.0), 1.0)


def migrant_children(pupils: np.ndarray, is_seat: np.ndarray, rate: float) -> np.ndarray:
    """随迁子女 added at primary and junior in county-seat areas, as ``rate`` × resident pupils.

    Parameters
    ----------
    pupils : ndarray, shape (V, A, Y, 4)
        Resident pupils [pupils].
    is_seat : ndarray of bool, shape (A,)
    rate : float
        [fraction].

    Returns
    -------
    ndarray, same shape
        Extra pupils [pupils] (zero outside seats and outside primary/junior).
    """
    extra = np.zeros_like(pupils)
    if rate > 0:
        extra[:, is_seat, :, 1:3] = pupils[:, is_seat, :, 1:3] * rate
    return extra


def housing_pupils(housing: pd.DataFrame, nodes: list[str], years: list[int], base_year: int,
                   config: ForecastConfig) -> np.ndarray:
    """Pupils living in dwellings completed after the base year.

    Parameters
    ----------
    housing : DataFrame
        ``node_id, year, dwellings`` [套], dwellings completed in the year.
    nodes : list of str
        Node order of the result.
    years : list of int
        Output years [年].
    base_year : int
        Dwellings occupied in or before the base year are already in the base-year pupils.
    config : ForecastConfig
        ``housing_method``, ``housing_yield`` or ``persons_per_dwelling`` × ``places_per_thousand``,
        ``housing_lag_years``.

    Returns
    -------
    ndarray, shape (N, Y, 4)
        Pupils [pupils] by node, year and stage: the cumulated dwellings occupied by then × yield.

    Examples
    --------
    >>> h = pd.DataFrame({"node_id": ["n"], "year": [2024], "dwellings": [100]})
    >>> housing_pupils(h, ["n"], [2024, 2025], 2023, ForecastConfig())[0, :, 1].round(2).tolist()
    [0.0, 18.34]
    """
    if config.housing_method == "yield":
        per_dwelling = np.array([config.housing_yield[s] for s in STAGES])
    else:
        per_dwelling = np.array([config.places_per_thousand[s] for s in STAGES]) * config.persons_per_dwelling / 1000
    index = {n: i for i, n in enumerate(nodes)}
    out = np.zeros((len(nodes), len(years), len(STAGES)))
    occupied = housing["year"].to_numpy(int) + config.housing_lag_years
    keep = (occupied > base_year) & housing["node_id"].isin(index).to_numpy()
    for node, occ, dw in zip(housing["node_id"].to_numpy()[keep], occupied[keep],
                             housing["dwellings"].to_numpy(float)[keep]):
        live = np.asarray(years) >= occ
        out[index[node], live, :] += dw * per_dwelling
    return out


def classes_and_places(pupils: np.ndarray, caps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classes needed at the class-size cap and the places they hold.

    Parameters
    ----------
    pupils : ndarray
        Pupils [pupils].
    caps : ndarray, broadcastable
        Class-size cap [pupils/班].

    Returns
    -------
    (ndarray, ndarray)
        ``classes = ceil(pupils / cap)`` [班] and ``places = classes × cap`` [places]. Rounded up
        per row: sums over nodes can exceed the classes of the summed pupils, so round again
        after aggregating to a catchment.

    Examples
    --------
    >>> classes_and_places(np.array([0.0, 1.0, 45.0, 45.2]), np.array(45))
    (array([0., 1., 1., 2.]), array([ 0., 45., 45., 90.]))
    """
    classes = np.ceil(np.maximum(pupils, 0.0) / caps - 1e-9)
    classes = np.maximum(classes, 0.0)
    return classes, classes * caps
