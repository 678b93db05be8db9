"""Existing schools above the size rules (大校额, 大班额), and how fast they come down.

The plans ask to 消除大班额/大校额 by a target year (内江: “到2025年全面消除5000人以上普通高中校点”;
江阳: “2023年消除普通高中大班额”; 桓台: “逐步减少大校额并降低班额”), not overnight. So an existing
school whose base-year pupils exceed what the rules let it hold in the long run — the stage's size cap
``school_size_cap``, and its allowed classes ``K`` × the class cap ``class_cap`` — may keep, in each
period, at most a number of pupils that falls linearly from its base-year enrolment to that limit by
``policy.oversize_target_year`` (default: the last period). Where even the allowed pupils do not fit its
allowed classes at the standard class size, the allowed average class size falls alongside.

Both limits are stored on the model's site table as one column per period (``allowed_pupils_<t>``,
``allowed_class_size_<t>``), so they follow the sites wherever the table goes (independent parts,
workers). `site_limits` reads them back as arrays, with the plain policy values for tables that do
not carry them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.optimizer.policy import PolicyConfig

PUPILS_COL = "allowed_pupils_{t}"
CLASS_COL = "allowed_class_size_{t}"


def remaining_share(periods: list[int], base_year: int, target_year: int | None) -> np.ndarray:
    """Share of a school's excess (base-year pupils above the rule limit) still allowed at the end of
    each period: 1 in the base year, 0 from the target year on, linear in between.

    >>> remaining_share([2025, 2030, 2035], 2020, None).round(3).tolist()
    [0.667, 0.333, 0.0]
    >>> remaining_share([2025, 2030, 2035], 2020, 2025).tolist()
    [0.0, 0.0, 0.0]
    """
    target = periods[-1] if target_year is None else int(target_year)
    years = np.asarray(periods, dtype=float) - base_year
    span = float(target - base_year)
    if span <= 0:
        return np.zeros(len(years))
    return np.clip(1.0 - years / span, 0.0, 1.0)


def rule_limit(sites: pd.DataFrame, stage: str, policy: PolicyConfig) -> np.ndarray:
    """Long-run pupils each site may hold [pupils]: min(size cap, allowed classes × class cap)."""
    size_cap = float(policy.school_size_cap.get(stage, np.inf))
    return np.minimum(size_cap, sites["K"].to_numpy(float) * float(policy.class_cap[stage]))


def excess_pupils(sites: pd.DataFrame, stage: str, policy: PolicyConfig) -> np.ndarray:
    """Base-year pupils above the long-run limit, for existing schools that stay usable [pupils]."""
    p0 = pd.to_numeric(sites["pupils0"], errors="coerce").fillna(0.0).to_numpy(float) if "pupils0" in sites \
        else np.zeros(len(sites))
    existing = (sites["origin"].to_numpy() == "existing") & (sites["c0"].to_numpy(float) > 0) & \
        (sites["K"].to_numpy(float) > 0)
    return np.where(existing, np.maximum(p0 - rule_limit(sites, stage, policy), 0.0), 0.0)


def with_limits(sites: pd.DataFrame, stage: str, policy: PolicyConfig, periods: list[int],
                base_year: int) -> pd.DataFrame:
    """``sites`` with the per-period columns ``allowed_pupils_<t>`` [pupils] and
    ``allowed_class_size_<t>`` [pupils/class] (t = 0 .. periods − 1)."""
    q = float(policy.class_cap[stage])
    size_cap = float(policy.school_size_cap.get(stage, np.inf))
    K = np.maximum(sites["K"].to_numpy(float), 1.0)
    excess = excess_pupils(sites, stage, policy)
    limit = rule_limit(sites, stage, policy)
    share = remaining_share(periods, base_year, policy.oversize_year(stage))
    out = sites.copy()
    for t, r in enumerate(share):
        allowed = limit + excess * r
        out[PUPILS_COL.format(t=t)] = np.where(excess > 0, np.maximum(size_cap, allowed), size_cap)
        out[CLASS_COL.format(t=t)] = np.where(excess > 0, np.maximum(q, allowed / K), q)
    return out


def site_limits(sites: pd.DataFrame, stage: str, policy: PolicyConfig, n_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """``(S, T)`` arrays: allowed pupils [pupils] and allowed average class size [pupils/class] per
    site × period (the policy's cap and class cap where the table carries no limits)."""
    S = len(sites)
    size_cap = float(policy.school_size_cap.get(stage, np.inf))
    q = float(policy.class_cap[stage])
    pupils = np.full((S, n_periods), size_cap)
    size = np.full((S, n_periods), q)
    for t in range(n_periods):
        if PUPILS_COL.format(t=t) in sites:
            pupils[:, t] = sites[PUPILS_COL.format(t=t)].to_numpy(float)
            size[:, t] = sites[CLASS_COL.format(t=t)].to_numpy(float)
    return pupils, size


def limits_table(stage_data, policy: PolicyConfig) -> pd.DataFrame:
    """Tidy table of the sites whose limits glide: ``site_id, stage, period, pupils0, classes0,
    excess_pupils, allowed_pupils`` (on the glide path: long-run limit + the excess still allowed),
    ``rule_pupils`` (the long-run limit) [pupils]."""
    rows = []
    for sd in stage_data:
        excess = excess_pupils(sd.sites, sd.stage, policy)
        idx = np.flatnonzero(excess > 0)
        if not len(idx):
            continue
        base_year = int(round(sd.periods[0] - float(sd.years[0])))
        share = remaining_share(list(sd.periods), base_year, policy.oversize_year(sd.stage))
        limit = rule_limit(sd.sites, sd.stage, policy)
        for t, p in enumerate(sd.periods):
            rows.append(pd.DataFrame({
                "site_id": sd.sites["site_id"].to_numpy()[idx], "stage": sd.stage, "period": p,
                "pupils0": sd.sites["pupils0"].to_numpy(float)[idx], "classes0": sd.sites["c0"].to_numpy(float)[idx],
                "excess_pupils": excess[idx], "allowed_pupils": limit[idx] + excess[idx] * share[t],
                "rule_pupils": limit[idx]}))
    cols = ["site_id", "stage", "period", "pupils0", "classes0", "excess_pupils", "allowed_pupils", "rule_pupils"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def base_year_breaches(region, policy: PolicyConfig, base_year: int | None = None) -> pd.DataFrame:
    """Public schools above the size cap or with 大班额 in the base year, one row per school:
    ``school_id, name, text`` (the Chinese sentence naming each value and its cap key)."""
    from xuewei.data.standards import standard
    from xuewei.labels import STAGE_ZH

    year = region.meta.base_year if base_year is None else base_year
    ss = region.school_stages
    ss = ss[(ss["year"] == year) & ss["stage"].isin(policy.class_cap)]
    public = region.schools[region.schools["ownership"] != "private"].set_index("school_id")["name"]
    g = ss[ss["school_id"].isin(public.index)].groupby(["school_id", "stage"], sort=True)[["classes", "pupils"]].sum()
    big, huge = float(standard("oversized_class.large")), float(standard("oversized_class.super_large"))
    notes: dict = {}
    for (sid, stage), r in g.iterrows():
        cap = policy.school_size_cap.get(stage)
        if cap is not None and r["pupils"] > cap:
            notes.setdefault(sid, []).append(
                f"{STAGE_ZH[stage]} {r['pupils']:,.0f} 人，超过规模上限 school_size_cap.{stage} = {cap:g} 人")
        avg = r["pupils"] / r["classes"] if r["classes"] > 0 else 0.0
        if avg >= big:
            notes.setdefault(sid, []).append(
                f"{STAGE_ZH[stage]}平均班额 {avg:.0f} 人（{r['pupils']:,.0f} 人 / {r['classes']:.0f} 班），"
                f"{'超大班额' if avg >= huge else '大班额'}（≥{big if avg < huge else huge:.0f} 人，oversized_class."
                f"{'large' if avg < huge else 'super_large'}），班额上限 class_cap.{stage} = {policy.class_cap[stage]} 人/班")
    kinds = region.schools.set_index("school_id")["kind"]
    whole = g.groupby(level=0)["pupils"].sum()
    for sid, total in whole.items():  # a school-wide cap of its kind (九年一贯制): the model caps each stage
        kind = kinds.get(sid)
        cap = policy.school_size_cap.get(kind) if kind not in policy.class_cap else None
        if cap is not None and total > cap:
            notes.setdefault(sid, []).append(f"全校 {total:,.0f} 人，超过规模上限 school_size_cap.{kind} = {cap:g} 人"
                                             "（布局模型按学段执行上限，全校上限只作提示）")
    rows = [{"school_id": sid, "name": public.get(sid, sid),
             "text": f"学校 {sid}（{public.get(sid, sid)}）{year} 年：" + "；".join(parts)} for sid, parts in notes.items()]
    return pd.DataFrame(rows, columns=["school_id", "name", "text"])
