"""Rule audit of any layout: travel limits, boarding, class and school size, tiers.

Pure functions of the result tables (``assignments``, ``schools``), so the same audit runs on an
optimised layout, on a plan fixed as a scenario, or on today's network. Nothing here touches a
solver. Each violation is one row of a tidy table with the rule, the place, the value and the limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xuewei.labels import STAGE_ZH, TIER_ZH

VIOLATION_COLUMNS = ["rule", "stage", "period", "school_id", "node_id", "value", "limit", "message"]

RULE_ZH = {
    "travel_limit": "超出走读距离且未寄宿",
    "travel_time_limit": "超出走读用时且未寄宿",
    "boarding_not_allowed": "该学段不允许寄宿",
    "boarding_beds": "寄宿生超过床位",
    "class_size": "平均班额超过上限",
    "oversized_class": "大班额",
    "school_size": "学校规模超过上限",
    "tier": "学段不在允许的聚落层级",
    "capacity": "在校生超过学位",
    "oversize_transition": "超规模或大班额学校过渡期（逐期降到上限）",
}
SCHOOL_RULES = ("capacity", "class_size", "oversized_class", "school_size")


@dataclass(frozen=True)
class AuditRules:
    """The limits a layout is checked against (from the scenario's policy).

    Attributes
    ----------
    travel_limit_km : dict
        Stage → longest day-school trip [km].
    class_cap : dict
        Stage → class-size cap [pupils/class].
    school_size_cap : dict
        Stage → largest school [pupils].
    eligible_tiers : dict
        Stage → tiers where *new or expanded* capacity of that stage may stand.
    boarding_stages : tuple
        Stages that may board (kindergarten never does).
    oversized_class : int
        Average class size at or above which classes count as 大班额 [pupils/class].
    max_travel_min : dict
        Stage → longest day-school trip [min] (only where the policy sets one; checked on
        assignments that carry ``travel_min``, i.e. runs on a road layer).
    transition : dict
        ``(school_id, stage, period)`` → pupils an over-size school may still keep in that period on
        its way down to the limits (`xuewei.optimizer.oversize`); its size and class-size
        violations within that allowance are reported as ``oversize_transition``.
    """

    travel_limit_km: dict
    class_cap: dict
    school_size_cap: dict = field(default_factory=dict)
    eligible_tiers: dict = field(default_factory=dict)
    boarding_stages: tuple = ("primary", "junior", "senior")
    oversized_class: int = 56
    transition: dict = field(default_factory=dict)
    max_travel_min: dict = field(default_factory=dict)


def _rows(df: pd.DataFrame, rule: str, value, limit, message, node=None, school=None) -> pd.DataFrame:
    return pd.DataFrame({
        "rule": rule, "stage": df["stage"].to_numpy(), "period": df["period"].to_numpy(),
        "school_id": df[school].to_numpy() if school else "", "node_id": df[node].to_numpy() if node else "",
        "value": np.asarray(value, dtype=float), "limit": np.asarray(limit, dtype=float), "message": message,
    })


def audit_assignments(assignments: pd.DataFrame, rules: AuditRules) -> pd.DataFrame:
    """Trips beyond the stage's limit that are not boarding, and boarding where the stage may not board.

    A trip flagged ``status_quo_far`` is where the village's pupils go today (现状远距离就读, within
    ``base_reach_km``): keeping it is no violation; the run summary counts those pupils apart."""
    a = assignments[assignments["pupils"] > 0]
    parts = []
    today = a["status_quo_far"].astype(bool) if "status_quo_far" in a else pd.Series(False, index=a.index)
    day = ~a["boarding"].astype(bool) & ~today
    # A day trip beyond a per-stage limit: distance always, minutes where the run is on roads.
    checks = [("travel_limit", "distance_km", rules.travel_limit_km, "走读上限", "{:.1f} km", "{:g} km 且")]
    if rules.max_travel_min and "travel_min" in a:
        checks.append(("travel_time_limit", "travel_min", rules.max_travel_min, "走读用时上限", "{:.0f} 分钟", "{:g} 分钟且"))
    for rule, col, limits, name, value_fmt, limit_fmt in checks:
        limit = a["stage"].map(limits).astype(float)
        over = a[(a[col] > limit + 1e-9) & day]
        if len(over):
            lim = limit[over.index]
            msg = [f"{STAGE_ZH.get(s, s)}：{n} 到 {sc} {value_fmt.format(v)}，超过{name} {limit_fmt.format(L)}未寄宿"
                   for s, n, sc, v, L in zip(over["stage"], over["node_id"], over["school_id"], over[col], lim)]
            parts.append(_rows(over, rule, over[col], lim, msg, node="node_id", school="school_id"))
    board = a[a["boarding"].astype(bool) & ~a["stage"].isin(rules.boarding_stages)]
    if len(board):
        msg = [f"{STAGE_ZH.get(s, s)}不允许寄宿：{n} → {sc}" for s, n, sc in
               zip(board["stage"], board["node_id"], board["school_id"])]
        parts.append(_rows(board, "boarding_not_allowed", board["pupils"], 0, msg, node="node_id", school="school_id"))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=VIOLATION_COLUMNS)


def audit_schools(schools: pd.DataFrame, rules: AuditRules) -> pd.DataFrame:
    """Per school × stage × period: capacity, class size, 大班额, school size, tier, boarding beds.

    ``schools`` needs ``school_id, stage, period, places, pupils, classes, tier`` and may carry
    ``boarding_pupils, boarding_beds, new_capacity`` (classes added since the base year; the tier
    rule applies only to those).
    """
    s = schools[schools["classes"] > 0].copy()
    parts = []
    over = s[s["pupils"] > s["places"] + 1e-6]
    if len(over):
        msg = [f"{sc} {STAGE_ZH.get(g, g)}：{p:.0f} 人超过 {c:.0f} 个学位" for sc, g, p, c in
               zip(over["school_id"], over["stage"], over["pupils"], over["places"])]
        parts.append(_rows(over, "capacity", over["pupils"], over["places"], msg, school="school_id"))
    avg = s["pupils"] / s["classes"]
    cap = s["stage"].map(rules.class_cap).astype(float)
    big = s[avg >= rules.oversized_class]
    if len(big):
        a = avg[big.index]
        msg = [f"{sc} {STAGE_ZH.get(g, g)}：平均班额 {v:.0f} 人，达到大班额 {rules.oversized_class} 人"
               for sc, g, v in zip(big["school_id"], big["stage"], a)]
        parts.append(_rows(big, "oversized_class", a, rules.oversized_class, msg, school="school_id"))
    if rules.school_size_cap:  # per stage: a multi-stage school's sections are sized separately
        limit = s["stage"].map(rules.school_size_cap).astype(float)
        huge = s[s["pupils"] > limit + 1e-6]
        if len(huge):
            msg = [f"{sc} {STAGE_ZH.get(g, g)}：{p:.0f} 人，超过规模上限 {L:g} 人" for sc, g, p, L in
                   zip(huge["school_id"], huge["stage"], huge["pupils"], limit[huge.index])]
            parts.append(_rows(huge, "school_size", huge["pupils"], limit[huge.index], msg, school="school_id"))
    if rules.eligible_tiers and "new_capacity" in s:
        grew = s[s["new_capacity"] > 0]
        ok = np.array([t in rules.eligible_tiers.get(g, ()) for t, g in zip(grew["tier"], grew["stage"])], dtype=bool)
        bad = grew[~ok]
        if len(bad):
            msg = [f"{sc} 位于{TIER_ZH.get(t, t)}，按“一就近四集中”不宜新增{STAGE_ZH.get(g, g)}学位"
                   for sc, t, g in zip(bad["school_id"], bad["tier"], bad["stage"])]
            parts.append(_rows(bad, "tier", bad["new_capacity"], 0, msg, school="school_id"))
    if "boarding_pupils" in s and "boarding_beds" in s:  # beds are apportioned to stages in the model
        short = s[s["boarding_pupils"] > s["boarding_beds"] + 1e-6]
        if len(short):
            msg = [f"{sc} {STAGE_ZH.get(g, g)}：寄宿生 {p:.0f} 人，床位 {b:.0f} 张" for sc, g, p, b in
                   zip(short["school_id"], short["stage"], short["boarding_pupils"], short["boarding_beds"])]
            parts.append(_rows(short, "boarding_beds", short["boarding_pupils"], short["boarding_beds"], msg,
                               school="school_id"))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=VIOLATION_COLUMNS)
    return _mark_transition(out, s, rules.transition)


def _mark_transition(violations: pd.DataFrame, schools: pd.DataFrame, transition: dict) -> pd.DataFrame:
    """Size and class-size violations of an over-size school within what it may still keep on its
    way down become ``oversize_transition``, their message saying so."""
    if violations.empty or not transition:
        return violations
    pupils = schools.groupby(["school_id", "stage", "period"])["pupils"].sum()
    keys = list(zip(violations["school_id"], violations["stage"], violations["period"]))
    allowed = np.array([transition.get(k, -np.inf) for k in keys], dtype=float)
    now = np.array([pupils.get(k, np.inf) for k in keys], dtype=float)
    hit = violations["rule"].isin(SCHOOL_RULES).to_numpy() & (now <= allowed + 1e-6)
    out = violations.copy()
    out.loc[hit, "message"] = [f"{m}（过渡期：按 oversize_target_year 逐期降到上限，本期最多 {a:,.0f} 人）"
                               for m, a in zip(out.loc[hit, "message"], allowed[hit])]
    out.loc[hit, "rule"] = "oversize_transition"
    return out


def audit(assignments: pd.DataFrame, schools: pd.DataFrame, rules: AuditRules) -> pd.DataFrame:
    """All violations of a layout, sorted by rule, period, stage and place."""
    out = pd.concat([audit_assignments(assignments, rules), audit_schools(schools, rules)], ignore_index=True)
    if out.empty:
        return pd.DataFrame(columns=VIOLATION_COLUMNS)
    out["rule_zh"] = out["rule"].map(RULE_ZH)
    return out.sort_values(["rule", "period", "stage", "school_id", "node_id"], kind="stable").reset_index(drop=True)
