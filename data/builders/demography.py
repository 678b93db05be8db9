"""Demographic helpers of the region-pack builders (build time only, not used at runtime).

Three steps, each documented in the pack's README and region.toml:

1. :func:`single_ages` splits census 5-year groups into single years of age by monotone (PCHIP)
   interpolation of the cumulative count at the group boundaries, then rounds within each group by
   largest remainder, so every group total is kept exactly and no age is negative.
2. :func:`calibrate_mortality` fits a Gompertz death rate μ(x) = α·exp(β·x) (β fixed) plus an infant
   death probability to the 2010 census crude death rate, so survival is tied to a census figure.
3. :func:`cohort_net_rates` turns the 2010→2020 cohort change into net migration rates per year by age
   band, and :func:`back_project_births` divides census counts at ages 0…15 by the survival and
   retention a birth cohort had up to the census, giving county births by calendar year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.optimize import brentq

#: Lower bounds of the census age groups: 0, 1–4, 5–9, …, 80–84, 85+ (open).
GROUP_LOWER = (0, 1) + tuple(range(5, 90, 5))
OPEN_AGE = 85


def largest_remainder(values, total: int) -> np.ndarray:
    """Round non-negative ``values`` to integers summing to ``total``; ties go to the earlier index."""
    v = np.asarray(values, dtype=float)
    if v.sum() <= 0:
        out = np.zeros(len(v), dtype=int)
        out[0] = total
        return out
    scaled = v / v.sum() * total
    base = np.floor(scaled).astype(int)
    short = int(total - base.sum())
    order = np.lexsort((np.arange(len(v)), -(scaled - base)))
    base[order[:short]] += 1
    return base


def single_ages(group_counts) -> np.ndarray:
    """Census groups (0, 1–4, 5–9, …, 80–84, 85+) → persons by single age 0…84 and 85+ [persons].

    Cumulative persons at the boundaries 0, 1, 5, …, 85 are interpolated with a PCHIP spline, which is
    monotone where the data are, so the single-age values are never negative; each group is then rounded
    by largest remainder to its census total. The last value is the open group 85+ unchanged.
    """
    counts = np.asarray(group_counts, dtype=float)
    if len(counts) != len(GROUP_LOWER):
        raise ValueError(f"expected {len(GROUP_LOWER)} groups, got {len(counts)}")
    knots = np.array(GROUP_LOWER, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(counts[:-1])])
    spline = PchipInterpolator(knots, cum)
    raw = np.diff(spline(np.arange(0, OPEN_AGE + 1, dtype=float)))
    out = np.zeros(OPEN_AGE + 1, dtype=int)
    for g, lo in enumerate(GROUP_LOWER[:-1]):
        hi = GROUP_LOWER[g + 1]
        out[lo:hi] = largest_remainder(raw[lo:hi], int(counts[g]))
    out[OPEN_AGE] = int(counts[-1])
    return out


@dataclass(frozen=True)
class Mortality:
    """Gompertz mortality above age 1 and an infant death probability.

    Attributes
    ----------
    alpha : float
        Gompertz level [1/year].
    beta : float
        Gompertz slope [1/year of age].
    q0 : float
        Probability of dying before age 1 [-].
    """

    alpha: float
    beta: float
    q0: float

    def hazard(self, age) -> np.ndarray:
        """Death rate at exact age [1/year] (ages ≥ 1)."""
        return self.alpha * np.exp(self.beta * np.asarray(age, dtype=float))

    def survival(self, x0: float, x1: float) -> float:
        """Probability of surviving from exact age ``x0`` to ``x1`` [-] (both ≥ 0)."""
        p = 1.0
        if x0 < 1.0:
            p *= (1.0 - self.q0) ** (min(x1, 1.0) - x0)
            x0 = 1.0
        if x1 > x0:
            cum = self.alpha / self.beta * (math.exp(self.beta * x1) - math.exp(self.beta * x0))
            p *= math.exp(-cum)
        return p

    def deaths(self, pop_single) -> float:
        """Expected deaths in one year of a population by single age (last = open group) [persons]."""
        pop = np.asarray(pop_single, dtype=float)
        ages = np.arange(len(pop)) + 0.5
        ages[-1] = OPEN_AGE + 5.0  # mean age of the open group, approximately
        rates = self.hazard(ages)
        rates[0] = -math.log(1.0 - self.q0)
        return float((pop * rates).sum())


def calibrate_mortality(pop_single, crude_death_rate_permille: float, beta: float = 0.085,
                        q0: float = 0.008) -> Mortality:
    """Fit α so the population's expected deaths equal the census crude death rate.

    Parameters
    ----------
    pop_single : array
        Persons by single age, last = open group [persons].
    crude_death_rate_permille : float
        Deaths per 1,000 persons per year [‰] (巫溪 2010 census: 7.42).
    beta : float
        Gompertz slope, assumed [1/year of age].
    q0 : float
        Infant death probability, assumed [-].
    """
    target = crude_death_rate_permille / 1000.0 * float(np.sum(pop_single))

    def gap(log_alpha):
        return Mortality(math.exp(log_alpha), beta, q0).deaths(pop_single) - target

    log_alpha = brentq(gap, math.log(1e-9), math.log(1e-1), xtol=1e-12)
    return Mortality(math.exp(log_alpha), beta, q0)


def group_sums(single, bands) -> np.ndarray:
    """Sum single ages (last = open) into ``bands`` = list of (lo, hi) inclusive, hi=None for open."""
    s = np.asarray(single)
    return np.array([s[lo:(len(s) if hi is None else hi + 1)].sum() for lo, hi in bands])


def cohort_net_rates(pop2010_single, pop2020_single, mort: Mortality, years: int = 10):
    """Net migration per year by age band from the 2010→2020 cohort change.

    The cohort aged a…a+4 in 2010 is aged a+10…a+14 in 2020. Its ratio of persons, divided by the
    expected 10-year survival, is exp(10·m); m is assigned to the band a+5…a+9, the middle of the ages
    the cohort passed through. The 75+ cohort of 2010 (85+ in 2020) gives the band 80+. Ages 0–4 were
    not yet born in 2010; they get the rate of the 5–9 band.

    Returns
    -------
    list of dict
        ``age_from, age_to (None = open), net_rate_per_year, ratio, survival`` per band.
    """
    p10 = np.asarray(pop2010_single, dtype=float)
    p20 = np.asarray(pop2020_single, dtype=float)
    rows = []
    for lo in range(0, 80, 5):
        if lo < 75:
            n10 = p10[lo:lo + 5].sum()
            n20 = p20[lo + 10:lo + 15].sum()
            ages = np.arange(lo, lo + 5) + 0.5
            w = p10[lo:lo + 5]
        else:  # 75+ in 2010 → 85+ in 2020
            n10 = p10[lo:].sum()
            n20 = p20[OPEN_AGE:].sum()
            ages = np.concatenate([np.arange(lo, OPEN_AGE) + 0.5, [OPEN_AGE + 3.0]])
            w = p10[lo:]
        surv = float(np.average([mort.survival(a, a + years) for a in ages], weights=w))
        ratio = n20 / n10
        m = math.log(ratio / surv) / years
        band = (lo + 5, lo + 9) if lo < 75 else (80, None)
        rows.append({"age_from": band[0], "age_to": band[1], "net_rate_per_year": m,
                     "ratio": ratio, "survival": surv, "persons_2010": int(n10), "persons_2020": int(n20)})
    first = dict(rows[0])
    first.update(age_from=0, age_to=4)
    return [first] + rows


def rate_at(rates, age: float) -> float:
    """Net migration rate of the band containing ``age`` [1/year]."""
    for r in rates:
        if r["age_from"] <= age and (r["age_to"] is None or age < r["age_to"] + 1):
            return r["net_rate_per_year"]
    raise ValueError(age)


def retention(age_years: int, mort: Mortality, rates) -> float:
    """Expected persons aged ``age_years`` at a census per birth of the matching year [-].

    Survival from birth to exact age a+0.5 times exp(∫ m), with m the band rates of
    :func:`cohort_net_rates`, integrated in half-year steps.
    """
    x1 = age_years + 0.5
    steps = np.arange(0.0, x1, 0.5)
    mig = sum(rate_at(rates, x + 0.25) * min(0.5, x1 - x) for x in steps)
    return mort.survival(0.0, x1) * math.exp(mig)


def back_project_births(pop2010_single, pop2020_single, mort: Mortality, rates, first_year: int = 2005,
                        last_year: int = 2020):
    """County births by calendar year, from the census count of the matching age.

    A person aged a at a census (1 November) was born in the 12 months up to 1 November of year
    census−a; that is taken as calendar year census−a. Years up to 2010 use the 2010 census (ages 0–5),
    later years the 2020 census (ages 0–9); each count is divided by :func:`retention`.

    Returns
    -------
    dict[int, float]
        Births by year [persons/year], not rounded.
    """
    births = {}
    for y in range(first_year, last_year + 1):
        if y <= 2010:
            a = 2010 - y
            births[y] = pop2010_single[a] / retention(a, mort, rates)
        else:
            a = 2020 - y
            births[y] = pop2020_single[a] / retention(a, mort, rates)
    return births
