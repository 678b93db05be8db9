"""Why pupils stay unserved: the rule that binds, its value, and the scenario key that changes it.

For each catchment unit the layout leaves unserved, every school it could go to (its kept pairs) is
examined in that period: no school at all within the day limit or, with beds, the boarding limit
(``travel_limit_km``); the school is at its size cap (``school_size_cap``), at its class limit
(``max_classes``; or its current size where the tier rule forbids growth, ``eligible_tiers``), has no
bed for a boarder and may not add beds (``boarding_tiers``), is closed for good by a policy
(``close_below_pupils``); if some school still had room the period's budget binds
(``budget_wan_yuan``); taking the unit would cost more this period (classes, opening the school, the
trip) than leaving it unserved (``unserved_penalty_wan_yuan``); or else the solver stopped before it
found a place (its gap is in ``solver.csv``). The rule most of the unit's schools hit is named; a
village with several units takes the rule of its largest unserved unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.optimizer.layout import class_unit_capital

COLUMNS = ["node_id", "stage", "period", "pupils", "reason", "rule", "rule_value", "scenario_key", "reason_zh"]

# rule -> (Chinese wording, scenario key, unit of its value)
RULES = {
    "travel_limit": ("走读距离内无学校且不能寄宿", "travel_limit_km", "km"),
    "school_size_cap": ("可去的学校都已达学校规模上限", "school_size_cap", "人"),
    "max_classes": ("可去的学校都已达班数上限", "max_classes", "班"),
    "eligible_tiers": ("可去的学校都不在允许扩建的聚落层级，已满", "eligible_tiers", ""),
    "boarding_beds": ("可寄宿的学校床位已满且不能加床", "boarding_tiers", ""),
    "forced_close": ("可去的学校按政策强制撤并", "close_below_pupils", "人"),
    "budget": ("尚有学校可扩建，但本期投资不够再增建", "budget_wan_yuan", ""),
    "penalty": ("可去的学校要增班或开办，本期费用高于未安排的罚金", "unserved_penalty_wan_yuan", ""),
    "solver": ("尚有学校可容纳，求解在节点或时间上限处停止（见 solver.csv 的间隙）", "solver.max_nodes", ""),
}
ORDER = list(RULES)  # ties: the earlier rule is named


def _rule_name(reason: str, stage: str) -> str:
    """The policy key that binds, with the stage where the key is per stage (``school_size_cap.primary``)."""
    key = RULES[reason][1]
    return f"{key}.{stage}" if reason in ("travel_limit", "school_size_cap", "max_classes", "eligible_tiers") else key


def _rule_value(rule: str, stage: str, policy, budget) -> str:
    if rule == "travel_limit":
        minutes = getattr(policy, "max_travel_min", {}).get(stage)
        if minutes is not None:  # both limits bind the day trip (roads only): name both
            return f"{policy.travel_limit_km[stage]:g} km / {minutes:g} 分钟（max_travel_min.{stage}）"
        return f"{policy.travel_limit_km[stage]:g}"
    if rule == "school_size_cap":
        return f"{policy.school_size_cap.get(stage, '')}"
    if rule == "max_classes":
        return f"{policy.max_classes[stage]}"
    if rule == "eligible_tiers":
        return ";".join(policy.eligible_tiers.get(stage, []))
    if rule == "boarding_beds":
        return ";".join(policy.boarding_tiers)
    if rule == "forced_close":
        return ";".join(f"{k}={v}" for k, v in policy.close_below_pupils.items())
    return ""  # "budget": `_budget_value`


def _share_spent(model: str, t: int, summary: pd.DataFrame | None) -> tuple[float, float] | None:
    """A model's budget share and spending in period ``t`` [万元] from the solver summary, or None."""
    if summary is None or "capital_wan_yuan" not in summary or "budget_wan_yuan" not in summary:
        return None
    row = summary[summary["model"] == model]
    if row.empty or not isinstance(row["budget_wan_yuan"].iloc[0], str) or not isinstance(row["capital_wan_yuan"].iloc[0], str):
        return None
    return float(row["budget_wan_yuan"].iloc[0].split(";")[t]), float(row["capital_wan_yuan"].iloc[0].split(";")[t])


def _classes_to_add(sd, policy, room: np.ndarray, j: np.ndarray, pupils: float) -> np.ndarray:
    """Classes each school ``j`` (site positions) must add to take ``pupils`` beyond its free places ``room``."""
    return np.ceil(np.maximum(0.0, pupils - room[j]) / float(policy.class_cap[sd.stage]) - 1e-9)


def _cheapest_intake(sd, policy, room: np.ndarray, rows: np.ndarray, pupils: float) -> float:
    """Least capital [万元] that would let one of the schools of pairs ``rows`` take ``pupils`` more: the
    classes beyond its free places (``room``), at the cost per class of expanding it (building, on a
    candidate site, plus the site's fixed cost when it is not open)."""
    j = sd.pair_site[rows]
    classes = _classes_to_add(sd, policy, room, j, pupils)
    candidate = sd.sites["origin"].to_numpy()[j] == "candidate"
    per_class = class_unit_capital(sd.sites, policy, sd.stage)[j]
    fixed = np.where(candidate & (room[j] <= 0), sd.sites["build_fixed"].to_numpy(float)[j], 0.0)
    return float((classes * per_class + fixed).min())


def _intake_cost(sd, policy, t: int, room: np.ndarray, is_open: np.ndarray, rows: np.ndarray, pupils: float) -> float:
    """Least cost [万元] in period ``t`` of taking ``pupils`` more at one of the schools of pairs ``rows``:
    the classes beyond its free places (``room``) — their capital (`class_unit_capital`) and running for
    the period's years — plus, for a school not open, its running for the period and its fixed cost on a
    candidate site, plus the pupils' trips (or boarding) for the period. The capital of a class counts in
    full in this period, as the model pays it when the class is built."""
    Y = float(sd.years[t])
    j = sd.pair_site[rows]
    classes = _classes_to_add(sd, policy, room, j, pupils)
    per_class = class_unit_capital(sd.sites, policy, sd.stage)[j] + Y * policy.running_per_class_year_wan_yuan[sd.stage]
    opening = np.where(is_open[j], 0.0, Y * policy.running_per_school_year_wan_yuan
                       + sd.sites["build_fixed"].to_numpy(float)[j])
    trip = Y * pupils * np.where(sd.pair_boarding[rows], policy.boarding_per_pupil_year_wan_yuan,
                                 policy.travel_per_pupil_km_year_wan_yuan * sd.pair_km[rows])
    return float((classes * per_class + opening + trip).min())


def _budget_value(model: str, t: int, budget: list[float], summary: pd.DataFrame | None, cost: float = np.nan) -> str:
    """The budget rule's value for one model and period: the county's limit, and when the budget was
    split between the stages (`xuewei.optimizer.layout._split_budget`), the model's share and what its
    layout spends (``solver.csv``: ``budget_wan_yuan``, ``capital_wan_yuan``).

    >>> s = pd.DataFrame({"model": ["primary"], "budget_wan_yuan": ["5993;0"], "capital_wan_yuan": ["5990;0"]})
    >>> _budget_value("primary", 0, [20000.0, 20000.0], s)
    '本期全县 20000 万元，其中该学段分得 5,993 万元、已用 5,990 万元'
    """
    text = f"本期全县 {budget[t]:g} 万元"
    got = _share_spent(model, t, summary)
    if got is None:
        return text
    share, spent = got
    who = "该片区" if "#" in model else "该学段"
    text += f"，其中{who}分得 {share:,.0f} 万元、已用 {spent:,.0f} 万元"
    return text + (f"；接收该村至少还要 {cost:,.0f} 万元" if np.isfinite(cost) else "")


def _penalty_value(policy, pupils: float, cost: float) -> str:
    """The penalty rule's value: the penalty per pupil, what leaving these pupils costs, what taking them would.

    >>> from xuewei.optimizer.policy import PolicyConfig
    >>> _penalty_value(PolicyConfig(), 1.16, 300.0)
    '每人每期 200 万元，这些学生共 232 万元；接收他们本期至少要 300 万元'
    """
    p = policy.unserved_penalty_wan_yuan
    return f"每人每期 {p:g} 万元，这些学生共 {p * pupils:,.0f} 万元；接收他们本期至少要 {cost:,.0f} 万元"


def _site_rules(sd, policy, loads: np.ndarray, bloads: np.ndarray, rows: np.ndarray, need: float) -> list[str]:
    """The rule that keeps the unit out of each of its schools (pair positions ``rows``)."""
    g = sd.stage
    cap = float(policy.class_cap[g])
    size_cap = float(policy.school_size_cap.get(g, np.inf))
    K = sd.sites["K"].to_numpy(float)
    c0 = sd.sites["c0"].to_numpy(float)
    beds0 = sd.sites["beds0"].to_numpy(float)
    can_beds = sd.sites["can_add_beds"].to_numpy(bool)
    forced = sd.sites["forced_close"].to_numpy(bool) if "forced_close" in sd.sites else np.zeros(len(K), bool)
    out = []
    for r in rows:
        j = sd.pair_site[r]
        if forced[j]:
            out.append("forced_close")
        elif loads[j] + need > size_cap + 1e-6 and size_cap <= K[j] * cap:
            out.append("school_size_cap")
        elif loads[j] + need > K[j] * cap + 1e-6:
            out.append("eligible_tiers" if K[j] <= c0[j] and K[j] < float(policy.max_classes[g]) else "max_classes")
        elif sd.pair_boarding[r] and not can_beds[j] and bloads[j] + need > beds0[j] + 1e-6:
            out.append("boarding_beds")
        else:
            out.append("budget" if policy.budget_wan_yuan is not None else "solver")
    return out


def diagnose_unserved(units: pd.DataFrame | None, sites: pd.DataFrame, stage_data, policy,
                      summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Unserved pupils per village × stage × period with the binding rule (see the module docstring).

    Parameters
    ----------
    units : DataFrame
        `LayoutResult.units` (rows with ``school_id == ""`` are unserved units).
    sites : DataFrame
        `LayoutResult.sites`: pupils per site × stage × period (loads of the schools).
    stage_data : list of StageData
    policy : PolicyConfig
    summary : DataFrame, optional
        `LayoutResult.summary`: with a budget, each model's share and spending per period, named in
        the budget rule's value.

    Returns
    -------
    DataFrame
        ``node_id, stage, period, pupils`` [pupils], ``reason`` (the rule's code), ``rule`` (the
        policy key and stage, e.g. ``school_size_cap.primary``), ``rule_value`` (its value in this
        run), ``scenario_key`` (where to change it: ``[policy] school_size_cap``), ``reason_zh``.
    """
    if units is None or units.empty or not (units["school_id"] == "").any():
        return pd.DataFrame(columns=COLUMNS)
    budget = policy.budget_for(len(stage_data[0].periods)) if stage_data else None
    by_part = {(sd.stage, sd.part): sd for sd in stage_data}
    load = sites.set_index(["site_id", "stage", "period"])
    rows = []
    for (g, part, period), grp in units[units["school_id"] == ""].groupby(["stage", "part", "period"], sort=True):
        sd = by_part[(g, part)]
        key = pd.MultiIndex.from_arrays([sd.sites["site_id"], [g] * len(sd.sites), [period] * len(sd.sites)])
        loads = load["pupils"].reindex(key).fillna(0.0).to_numpy(float)
        bloads = load["boarding_pupils"].reindex(key).fillna(0.0).to_numpy(float)
        room = load["places"].reindex(key).fillna(0.0).to_numpy(float) - loads
        is_open = load["open"].reindex(key).fillna(False).to_numpy(bool)
        t = list(sd.periods).index(period)
        n_start = np.searchsorted(sd.pair_node, np.arange(len(sd.node_ids) + 1))
        for unit, node_id, pupils in zip(grp["unit"].astype(int), grp["node_id"], grp["pupils"]):
            pair_rows = np.arange(n_start[unit], n_start[unit + 1])
            cost = np.nan
            if len(pair_rows) == 0:
                rule = "travel_limit"
            else:
                found = _site_rules(sd, policy, loads, bloads, pair_rows, float(pupils))
                counts = pd.Series(found).value_counts()
                rule = min(counts[counts == counts.max()].index, key=ORDER.index)
                if rule == "budget":
                    cost = _cheapest_intake(sd, policy, room, pair_rows[np.array(found) == "budget"], float(pupils))
                elif rule == "solver":
                    cost = _intake_cost(sd, policy, t, room, is_open, pair_rows[np.array(found) == "solver"], float(pupils))
                    if cost > policy.unserved_penalty_wan_yuan * float(pupils):
                        rule = "penalty"  # the model's own prices say: leave them (a small village far out)
            rows.append((node_id, g, period, float(pupils), rule, sd.name, t, cost))
    u = pd.DataFrame(rows, columns=["node_id", "stage", "period", "pupils", "reason", "model", "t", "cost"])
    # The budget binds only if what is left of the model's share cannot pay for the classes the unit
    # needs at its cheapest school: otherwise the solver stopped before it used the money (its gap is
    # in solver.csv).
    for i in np.flatnonzero(u["reason"].to_numpy() == "budget"):
        got = _share_spent(u["model"].iat[i], int(u["t"].iat[i]), summary)
        if got is not None and got[0] - got[1] >= u["cost"].iat[i]:
            u.loc[u.index[i], "reason"] = "solver"
    main = u.sort_values("pupils", ascending=False, kind="stable").drop_duplicates(["node_id", "stage", "period"])
    out = u.groupby(["node_id", "stage", "period"], as_index=False)["pupils"].sum().merge(
        main[["node_id", "stage", "period", "reason", "model", "t", "cost"]], on=["node_id", "stage", "period"])
    out["rule"] = [_rule_name(r, g) for r, g in zip(out["reason"], out["stage"])]
    out["rule_value"] = [_budget_value(m, t, budget, summary, c) if r == "budget" else
                         _penalty_value(policy, p, c) if r == "penalty" else _rule_value(r, g, policy, budget)
                         for r, g, m, t, c, p in zip(out["reason"], out["stage"], out["model"], out["t"], out["cost"],
                                                     out["pupils"])]
    out["scenario_key"] = ["[solver] max_nodes" if r == "solver" else f"[policy] {RULES[r][1]}" for r in out["reason"]]
    out["reason_zh"] = [
        f"{RULES[r][0]}（{rule}" + (f" = {val}{RULES[r][2]}" if val else "") + f"；在情景 {key} 中修改）"
        for r, rule, val, key in zip(out["reason"], out["rule"], out["rule_value"], out["scenario_key"])]
    # With a minute limit the day trip is bound by distance or time: say so in the sentence too.
    timed = (out["reason"] == "travel_limit") & out["stage"].map(lambda g: g in policy.max_travel_min).astype(bool)
    out.loc[timed, "reason_zh"] = out.loc[timed, "reason_zh"].str.replace(
        RULES["travel_limit"][0], "走读距离或用时内无学校且不能寄宿", n=1, regex=False)
    # A village beyond every kindergarten's day limit: "一村一幼" is the other remedy planners use.
    kg_far = (out["reason"] == "travel_limit") & (out["stage"] == "kindergarten") & (not policy.village_kindergarten)
    out.loc[kg_far, "reason_zh"] = out.loc[kg_far, "reason_zh"].str.rstrip("）") + \
        "；或设 [policy] village_kindergarten = true，允许在村里办村级幼儿园（一村一幼））"
    return out[COLUMNS].sort_values(["period", "stage", "node_id"]).reset_index(drop=True)
