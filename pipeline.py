"""One run, in the order data flows: scenario → region → forecast → optimise → check → outputs.

Each step is a function of the previous steps' results; `cli` commands call them. Nothing here
reaches back up the chain, and nothing is written until `write_run` (which writes atomically).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xuewei.data.plans import plan_of_region
from xuewei.data.region import Region, load_region
from xuewei.data.tomlio import key_line, validate_model
from xuewei.errors import InputError, Problem
from xuewei.forecaster.config import ForecastConfig
from xuewei.forecaster.demand import forecast_demand
from xuewei.forecaster.inputs import ForecastInputs
from xuewei.labels import STAGE_ZH
from xuewei.optimizer.actions import derive_actions
from xuewei.optimizer.audit import AuditRules, audit
from xuewei.optimizer.travel import pair_minutes, uses_roads
from xuewei.optimizer.catchments import base_flows_table, calibration_table, change_report
from xuewei.optimizer.unserved import diagnose_unserved
from xuewei.optimizer.layout import LayoutResult, budget_shortfall, solve_layout
from xuewei.optimizer.layout_data import build_stage_data
from xuewei.optimizer.policy import PolicyConfig
from xuewei.scenario import Scenario, load_scenario


@dataclass
class RunResult:
    """Everything one run produced, as tidy tables."""

    scenario: Scenario
    scenario_path: Path
    region: Region
    forecast_config: ForecastConfig
    policy: PolicyConfig
    base_year: int
    demand: pd.DataFrame
    layout: LayoutResult | None = None
    actions: pd.DataFrame | None = None
    schools: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    unserved: pd.DataFrame | None = None
    violations: pd.DataFrame | None = None
    plan_check: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    base_flows: pd.DataFrame | None = None  # calibrated base-year catchments (village × stage × school)
    calibration: pd.DataFrame | None = None  # per existing school: base-year pupils placed on villages or not
    catchment_changes: pd.DataFrame | None = None  # each change of school per village × stage × period, and why
    warm_start: dict | None = None  # the earlier run the layout started from (solver.warm_start): path, sha256, scenario


def load_inputs(scenario_ref=None, overrides: dict | None = None):
    """Scenario, region and the typed forecast and policy sections."""
    scenario, path = load_scenario(scenario_ref, overrides)
    region = load_region(scenario.region, base=path.parent)
    plan_of_region(region)  # a missing or malformed plan file stops here, before anything is solved
    text = path.read_text(encoding="utf-8-sig")
    fconf = validate_model(ForecastConfig, _forecast_section(scenario), f"{path} [forecast]", text)
    policy = validate_model(PolicyConfig, scenario.policy, f"{path} [policy]", text)
    budget = policy.budget_wan_yuan
    n_periods = len(scenario.horizon.periods)
    if budget is not None and len(budget) not in (1, n_periods):
        raise InputError(Problem(file=str(path), row=key_line(text, "policy.budget_wan_yuan"),
                                 field="policy.budget_wan_yuan", expected=f"1 个数（各期相同）或 {n_periods} 个数（每个规划期一个）",
                                 found=f"{len(budget)} 个数：{budget}",
                                 hint=f"规划期为 {scenario.horizon.periods}。"))
    return scenario, path, region, fconf, policy


def warm_source(scenario: Scenario, path: Path, region) -> tuple[pd.DataFrame | None, dict | None]:
    """The earlier run's layout named by ``solver.warm_start`` (relative to the scenario file), checked
    to be of this region (`xuewei.optimizer.warm.read_warm_source`); ``(None, None)`` without one."""
    if not scenario.solver.warm_start:
        return None, None
    from xuewei.optimizer.warm import read_warm_source

    where = Path(scenario.solver.warm_start)
    if not where.is_absolute():
        where = path.parent / where
    if not where.exists():
        text = path.read_text(encoding="utf-8-sig")
        raise InputError(Problem(file=str(path), row=key_line(text, "solver.warm_start"), field="solver.warm_start",
                                 expected="一次已完成运行的输出文件夹（或其 layout_sites.csv）", found=scenario.solver.warm_start,
                                 hint=f"路径不存在（{where}）；相对路径从情景文件所在文件夹算起。"))
    return read_warm_source(where, region.meta.id)


def _forecast_section(scenario: Scenario) -> dict:
    return dict(scenario.forecast)


def forecast_inputs(region: Region) -> ForecastInputs:
    """The region's tables in the form the forecaster reads."""
    t = region.tables
    return ForecastInputs(births=t["births"], nodes=t["nodes"], townships=t["townships"],
                          school_stages=t.get("school_stages"), schools=t.get("schools"),
                          population_by_age=t.get("population_by_age"), migration=t.get("migration"),
                          housing=t.get("housing"), grades=t.get("grades"), base_year=region.meta.base_year,
                          admin_code=region.meta.admin_code, region_name=region.meta.name)


def run_forecast(scenario: Scenario, region: Region, fconf: ForecastConfig, policy: PolicyConfig) -> pd.DataFrame:
    """Pupils by village × stage × year × variant, from the year after the base year to the last period."""
    base = scenario.horizon.base_year or region.meta.base_year
    if scenario.horizon.periods[0] <= base:
        raise InputError(Problem(file=scenario.name, field="horizon.periods", expected=f"晚于基年 {base}（基准年）的年份",
                                 found=str(scenario.horizon.periods), hint="规划期须在基准年之后。"))
    years = list(range(base + 1, scenario.horizon.periods[-1] + 1))
    if "class_cap" not in scenario.forecast:  # places needed at the policy's own class caps
        fconf = fconf.model_copy(update={"class_cap": dict(policy.class_cap)})
    return forecast_demand(forecast_inputs(region), fconf, years)


def school_table(layout: LayoutResult, policy: PolicyConfig) -> pd.DataFrame:
    """Per school × stage × period: places, pupils, classes, utilisation, tier (open sites only)."""
    s = layout.sites[layout.sites["open"]].copy()
    s["utilisation"] = np.where(s["places"] > 0, s["pupils"] / s["places"].where(s["places"] > 0, 1), 0.0)
    s["avg_class_size"] = np.where(s["classes"] > 0, s["pupils"] / s["classes"].where(s["classes"] > 0, 1), 0.0)
    s["new_capacity"] = (s["classes"] - s["classes_before"]).clip(lower=0)
    s = s.rename(columns={"site_id": "school_id"})
    cols = ["school_id", "stage", "period", "origin", "classes_before", "classes", "places", "pupils", "utilisation",
            "avg_class_size", "boarding_pupils", "boarding_beds", "new_capacity", "tier"]
    return s[cols].sort_values(["period", "stage", "school_id"]).reset_index(drop=True)


def township_summary(region: Region, layout: LayoutResult, schools: pd.DataFrame, unserved: pd.DataFrame,
                     oversized: int) -> pd.DataFrame:
    """Per township × stage × period: pupils, places, unserved, mean/max distance, boarding, oversized classes."""
    nodes = region.nodes[["node_id", "township_id"]]
    a = layout.assignments.merge(nodes, on="node_id")
    a["pupil_km"] = a["pupils"] * a["distance_km"]
    g = a.groupby(["township_id", "stage", "period"])
    out = g.agg(pupils=("pupils", "sum"), pupil_km=("pupil_km", "sum"), max_distance_km=("distance_km", "max"))
    out["boarding_pupils"] = a[a["boarding"]].groupby(["township_id", "stage", "period"])["pupils"].sum()
    out["mean_distance_km"] = out["pupil_km"] / out["pupils"].where(out["pupils"] > 0)
    sch = schools.merge(region.schools[["school_id", "township_id"]], on="school_id", how="left")
    if region.candidate_sites is not None:
        cand = region.candidate_sites.set_index("site_id")["township_id"]
        sch["township_id"] = sch["township_id"].fillna(sch["school_id"].map(cand))
    sch["oversized_classes"] = np.where(sch["avg_class_size"] >= oversized, sch["classes"], 0)
    by = sch.groupby(["township_id", "stage", "period"])[["places", "oversized_classes"]].sum()
    un = unserved.merge(nodes, on="node_id").groupby(["township_id", "stage", "period"])["pupils"].sum()
    out = out.join(by, how="outer")
    out["unserved"] = un
    out = out.fillna({"pupils": 0.0, "places": 0, "unserved": 0.0, "boarding_pupils": 0.0, "oversized_classes": 0})
    # numbers, whatever dtype an empty join left behind (an object column reaches the GIS layers as text)
    for col in ("pupils", "unserved", "boarding_pupils", "mean_distance_km", "max_distance_km"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out["pupils"] = out["pupils"] + out["unserved"]
    out = out.reset_index()
    names = region.townships.set_index("township_id")["name"]
    out.insert(1, "township", out["township_id"].map(names))
    return out[["township_id", "township", "stage", "period", "pupils", "places", "unserved", "mean_distance_km",
                "max_distance_km", "boarding_pupils", "oversized_classes"]].sort_values(
        ["period", "stage", "township_id"]).reset_index(drop=True)


def unserved_table(layout: LayoutResult, unreachable: pd.DataFrame, stage_data=None, policy=None) -> pd.DataFrame:
    """Unserved pupils with the rule that binds, its value and the scenario key that changes it
    (`xuewei.optimizer.unserved`); without the model's data, only whether a school was in reach."""
    if stage_data is not None and policy is not None and layout.units is not None:
        return diagnose_unserved(layout.units, layout.sites, stage_data, policy, layout.summary)
    un = layout.unserved.copy()
    reach = set(zip(unreachable["stage"], unreachable["node_id"]))
    un["reason"] = ["travel_limit" if (s, n) in reach else "capacity_or_budget" for s, n in zip(un["stage"], un["node_id"])]
    un["reason_zh"] = un["reason"].map({"travel_limit": "走读距离内无学校且不能寄宿",
                                        "capacity_or_budget": "学位、规模上限或预算不足"})
    return un


def audit_rules(policy: PolicyConfig, stage_data=None) -> AuditRules:
    """The audit's limits from the policy; with the layout's ``stage_data``, also what each over-size
    school may still keep in each period on its way down (`xuewei.optimizer.oversize`)."""
    from xuewei.data.standards import standard
    from xuewei.optimizer.oversize import limits_table

    transition = {}
    if stage_data is not None:
        lim = limits_table(stage_data, policy)
        transition = dict(zip(zip(lim["site_id"], lim["stage"], lim["period"]), lim["allowed_pupils"].astype(float)))
    return AuditRules(travel_limit_km=dict(policy.travel_limit_km), class_cap=dict(policy.class_cap),
                      school_size_cap=dict(policy.school_size_cap),
                      eligible_tiers={g: tuple(t) for g, t in policy.eligible_tiers.items()},
                      boarding_stages=tuple(policy.boarding_stages), oversized_class=int(standard("oversized_class.large")),
                      transition=transition, max_travel_min=dict(policy.max_travel_min))


def check_budget(stage_data, policy: PolicyConfig, periods: list[int], path: Path, region=None) -> None:
    """Refuse, before solving, a budget below what the policy makes every layout spend: a township
    seat without a school of a stage must get one (`xuewei.optimizer.layout.mandatory_capital`)."""
    budget = policy.budget_for(len(periods))
    if not budget:
        return
    for t, b, need, must in budget_shortfall(stage_data, policy, budget):
        towns = {} if region is None else region.townships.set_index("township_id")["name"].astype(str).to_dict()
        where = {}  # site id -> "name, township" for the message
        for sd in stage_data:
            for row in sd.sites.reindex(columns=["site_id", "name", "township_id"]).itertuples(index=False):
                bits = [str(b) for b in (row.name, towns.get(row.township_id, row.township_id)) if pd.notna(b) and str(b)]
                where.setdefault(str(row.site_id), "，".join(bits))
        items = "、".join(f"{STAGE_ZH.get(g, g)} {sid}" + (f"（{where[sid]}）" if where.get(sid) else "") + f" {c:,.0f} 万元"
                         for g, sid, c in must[:8])
        text = path.read_text(encoding="utf-8-sig")
        raise InputError(Problem(
            file=str(path), row=key_line(text, "policy.budget_wan_yuan"), field="policy.budget_wan_yuan",
            expected=f"{periods[t]} 年至少 {need:,.0f} 万元（政策要求必建的学校，少于此数任何布局都不可行）",
            found=f"{b:,.0f} 万元",
            hint=f"必建：{items}{'等' if len(must) > 8 else ''}（每个乡镇驻地至少保留一所该学段学校，"
                 "policy.seat_school_stages；新建一所至少要固定投资加一个班）。可提高该期预算，"
                 "或从 policy.seat_school_stages 中去掉该学段。"))


def run(scenario_ref=None, overrides: dict | None = None, progress=None, dask_client=None,
        on_loaded=None, on_model=None) -> RunResult:
    """Forecast, optimise and check one scenario (nothing written). With ``dask_client`` the layout's
    independent models are solved as tasks on that Dask cluster (same tables as the local pool).
    ``on_loaded(region, scenario)`` is called once the inputs are read, before any computing (e.g.
    the check that the output disk has room). ``on_model(done, total, summary)`` is called as each
    layout model is solved (see `solve_layout`)."""
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    say("读取情景与区域数据")
    scenario, path, region, fconf, policy = load_inputs(scenario_ref, overrides)
    warm, warm_meta = warm_source(scenario, path, region)
    base = scenario.horizon.base_year or region.meta.base_year
    if on_loaded is not None:
        on_loaded(region, scenario)
    t1 = time.perf_counter()
    say("预测学位需求")
    demand = run_forecast(scenario, region, fconf, policy)
    t2 = time.perf_counter()
    say("准备布局模型")
    stage_data, unreachable = build_stage_data(region, demand, policy, scenario.horizon.periods, base)
    check_budget(stage_data, policy, scenario.horizon.periods, path, region)
    layout = solve_layout(stage_data, policy, solver=scenario.solver.name, time_limit_s=scenario.solver.time_limit_s,
                          gap_rel=scenario.solver.gap_rel, threads=scenario.solver.threads, progress=say,
                          max_nodes=scenario.solver.max_nodes if scenario.solver.reproducible else None,
                          workers=scenario.solver.worker_count(), dask_client=dask_client, on_model=on_model,
                          improve_sweeps=scenario.solver.local_search,
                          polish_nodes=scenario.solver.polish_nodes,
                          refine_sweeps=scenario.solver.refine_sweeps,
                          finish_nodes=scenario.solver.finish_nodes,
                          swap_rounds=scenario.solver.swap_rounds, warm_source=warm)
    t3 = time.perf_counter()
    say("核查与汇总")
    served_units = layout.units[layout.units["school_id"] != ""] if layout.units is not None else layout.assignments
    actions = derive_actions(region, layout.sites, served_units, stage_data, policy, base)
    schools = school_table(layout, policy)
    unserved = unserved_table(layout, unreachable, stage_data, policy)
    if uses_roads(region, policy):  # the time of each trip, beside its distance (network basis only)
        layout.assignments["travel_min"] = pair_minutes(region, policy, layout.assignments["node_id"].to_numpy(),
                                                        layout.assignments["school_id"].to_numpy())
    rules = audit_rules(policy, stage_data)
    violations = audit(layout.assignments, schools, rules)
    summary = township_summary(region, layout, schools, unserved, rules.oversized_class)
    result = RunResult(scenario=scenario, scenario_path=path, region=region, forecast_config=fconf, policy=policy,
                       base_year=base, demand=demand, layout=layout, actions=actions, schools=schools,
                       summary=summary, unserved=unserved, violations=violations,
                       base_flows=base_flows_table(stage_data, base), calibration=calibration_table(stage_data),
                       catchment_changes=change_report(layout.units, layout.sites, stage_data, policy))
    plan = plan_of_region(region)
    if plan is not None:  # whatever the plan's tables hold, the check says what it could not compare
        from xuewei.optimizer.plan_check import check_against_plan

        result.plan_check = check_against_plan(result, plan)
    result.warm_start = warm_meta
    t4 = time.perf_counter()
    result.timings = {"load_s": t1 - t0, "forecast_s": t2 - t1, "optimise_s": t3 - t2, "check_s": t4 - t3}
    return result
