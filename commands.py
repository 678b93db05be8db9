"""`xuewei run`, `xuewei forecast`, `xuewei check`: the commands that run the pipeline."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from xuewei.errors import InputError, Problem
from xuewei.labels import STAGE_ZH, VARIANT_ZH
from xuewei.reports.runfolder import atomic_run_folder, safe_name

EXIT_UNSERVED = 3


def register(sub) -> None:
    p = sub.add_parser("run", help="按情景完成预测→优化→核查→输出（无参数时运行演示县巫溪）")
    p.add_argument("scenario", nargs="?", help="情景文件（缺省 scenarios/demo.toml）")
    p.add_argument("--out", help="输出文件夹（缺省 runs/<情景>-<时间>）")
    p.add_argument("--force", action="store_true", help="输出文件夹已存在时覆盖")
    p.add_argument("--time-limit", type=float, help="求解时限（秒），覆盖情景中的 solver.time_limit_s")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="把各独立模型交给 Dask 集群求解：local（本机集群，进程数按 solver.workers）或调度器地址 tcp://主机:端口")
    p.add_argument("--warm-start", metavar="RUN_DIR",
                   help="从一次已完成运行（同一区域）的布局热启动：各模型先沿用它的各校各期开办与否解一次，"
                        "比贪心初始解省就从它出发（覆盖情景中的 solver.warm_start）")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("forecast", help="学位需求预测（分地点、学段、年份、方案），写 demand.csv 和图表")
    p.add_argument("scenario", nargs="?", help="情景文件（缺省 scenarios/demo.toml）")
    p.add_argument("--out", help="输出文件夹（缺省 runs/<情景>-forecast-<时间>）")
    p.add_argument("--force", action="store_true", help="输出文件夹已存在时覆盖")
    p.set_defaults(func=cmd_forecast)

    p = sub.add_parser("audit", help="把规划自身的布局作为情景：按预测审计各校各年学位缺口、闲置与违规")
    p.add_argument("scenario", nargs="?", help="情景文件（缺省 scenarios/demo.toml），提供区域、预测与政策")
    p.add_argument("--plan", required=True, help="规划编号（如 wuxi）或规划文件 .toml")
    p.add_argument("--out", help="输出文件夹（缺省 runs/<情景>-audit-<规划>-<时间>）")
    p.add_argument("--force", action="store_true", help="输出文件夹已存在时覆盖")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("check", help="把一次运行的结果对照规划表")
    p.add_argument("run_dir", help="xuewei run 的输出文件夹")
    p.add_argument("--plan", help="规划编号或规划文件 .toml（缺省取区域对应的规划）")
    p.set_defaults(func=cmd_check)


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _default_out(name: str, suffix: str = "") -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{safe_name(name)}{suffix}-{stamp}"


def room_check(out: Path):
    """``check(region, scenario)``: refuse at once (exit 4) a run whose output disk has too little room
    for its folder, estimated from the region's size, before anything is solved."""
    from xuewei.errors import DiskFullError
    from xuewei.reports.runfolder import estimate_run_bytes, free_bytes

    def check(region, scenario) -> None:
        years = scenario.horizon.periods[-1] - (scenario.horizon.base_year or region.meta.base_year)
        need = estimate_run_bytes(len(region.townships), len(region.nodes), years, scenario.outputs.maps)
        free = free_bytes(out.parent)
        if free is not None and free < need:
            raise DiskFullError(out.parent, free, need, before=True)
    return check


def cmd_run(args) -> int:
    from xuewei import pipeline
    from xuewei.reports.run_outputs import write_run
    from xuewei.reports.runfolder import claim_output, refuse_existing
    from xuewei.scenario import load_scenario

    from xuewei.reports.progress import SolveProgress

    overrides = {"solver": {"time_limit_s": args.time_limit}} if args.time_limit else None
    if getattr(args, "warm_start", None):
        overrides = overrides or {"solver": {}}
        overrides["solver"]["warm_start"] = _warm_path(args.warm_start)
    if args.out:  # refused at once, before anything is read or solved
        refuse_existing(Path(args.out), args.force)
    out = Path(args.out) if args.out else _default_out(load_scenario(args.scenario, overrides)[0].name)
    with claim_output(out, force=args.force):
        display = SolveProgress()
        if getattr(args, "dask", None):
            from xuewei.cluster import dask_cluster

            workers = pipeline.load_inputs(args.scenario, overrides)[0].solver.worker_count()
            with dask_cluster(args.dask, workers) as (client, desc):
                _say(f"求解方式：{desc}")
                with display.live():
                    result = pipeline.run(args.scenario, overrides=overrides, progress=_say, dask_client=client,
                                          on_loaded=room_check(out), on_model=display.update)
        else:
            with display.live():
                result = pipeline.run(args.scenario, overrides=overrides, progress=_say, on_loaded=room_check(out),
                                      on_model=display.update)
        _say("写出结果")
        with atomic_run_folder(out, force=args.force) as tmp:
            write_run(result, tmp, out)
    print(summary_text(result, out))
    return EXIT_UNSERVED if not result.unserved.empty else 0


def _warm_path(given: str) -> str:
    """``--warm-start``: relative to the working folder (unlike the scenario key, which is relative to
    the scenario file); it must exist."""
    where = Path(given)
    if not where.exists():
        raise InputError(Problem(file="--warm-start", field="--warm-start", expected="一次已完成运行的输出文件夹（或其 layout_sites.csv）",
                                 found=given, hint=f"路径不存在：{given}"))
    return str(where.resolve())


def catchment_summary(result) -> list[str]:
    """Console lines: changes of school by reason, and schools whose base-year pupils cannot be placed."""
    from xuewei.optimizer.catchments import calibration_warnings

    out = []
    ch = result.catchment_changes
    if ch is not None and len(ch):
        counts = ch.groupby("reason_zh").size().sort_values(ascending=False)
        out.append(f"  换校（村×学段×期）：{len(ch)} 次，" + "，".join(f"{k} {v}" for k, v in counts.items())
                   + "（见 catchment_changes.csv）")
    a = result.layout.assignments
    if "status_quo_far" in a and a["status_quo_far"].astype(bool).any():
        far = a[a["status_quo_far"].astype(bool)]
        last = far["period"].max()
        out.append(f"  现状远距离就读：{last} 年 {far.loc[far['period'] == last, 'pupils'].sum():,.0f} 人留在超出走读距离的"
                   "原校（基准年即在此就读，不寄宿；policy.base_reach_km；见 assignments.csv 的 status_quo_far 列）")
    warn = calibration_warnings(result.calibration, result.region.schools.set_index("school_id")["name"], most=3)
    if warn:
        out.append("  注意：" + warn[0])
        out += [f"    {w}" for w in warn[1:]]
    return out


def summary_text(result, out: Path) -> str:
    lines = [f"完成：{result.region.meta.name}，情景 {result.scenario.name}，结果在 {out}"]
    if result.region.meta.synthetic:
        lines.append("（示意数据：区域数据部分为合成，结果只作演示）")
    from xuewei.reports.run_outputs import reproducible as reproducible_run, stage_solver_summary, status_zh

    for row in stage_solver_summary(result.layout.summary).itertuples():
        gap = "—" if pd.isna(row.gap) else f"{row.gap:.2%}"
        parts = f"（{row.parts} 个独立片区）" if row.parts > 1 else ""
        bound = "无下界" if pd.isna(row.bound) else f"下界 {row.bound:,.0f}"
        lines.append(f"  {STAGE_ZH.get(row.stage, row.stage)}{parts}：{status_zh(row.status, row.stop)}，"
                     f"目标值 {row.objective:,.0f} 万元（{bound}），最大间隙 {gap}，{row.seconds:.1f} 秒")
    counts = result.actions.groupby("action_zh").size()
    lines.append("  学校调整（各期合计）：" + "，".join(f"{k} {v}" for k, v in counts.items()))
    transition = int((result.violations["rule"] == "oversize_transition").sum()) if len(result.violations) else 0
    lines.append(f"  规则审计：{len(result.violations)} 处违规"
                 + (f"（其中 {transition} 处为超规模、大班额学校的过渡期，逐期降到上限）" if transition else ""))
    lines += catchment_summary(result)
    if reproducible_run(result):
        lines.append(f"  可复现性：是（每个模型到节点上限 {result.scenario.solver.max_nodes} 停止，之后各步也按节点上限停止，"
                     "重跑结果表逐字节相同）")
    else:
        lines.append("  可复现性：否（原因见 report.md）")
    if not result.unserved.empty:
        names = result.region.townships.set_index("township_id")["name"]
        un = result.unserved.merge(result.region.nodes[["node_id", "township_id"]], on="node_id")
        # per township, stage and rule the period with most pupils (its sentence: the values differ by period)
        g = un.sort_values("pupils", ascending=False, kind="stable").drop_duplicates(["stage", "township_id", "reason"])
        lines.append(f"  政策无法完全满足（退出码 {EXIT_UNSERVED}）：以下乡镇和学段有学生未能安排（各期最大值）：")
        for row in g.sort_values("pupils", ascending=False).itertuples():
            lines.append(f"    {names.get(row.township_id, row.township_id)} {STAGE_ZH.get(row.stage, row.stage)}："
                         f"{row.pupils:.0f} 人，原因：{row.reason_zh}")
        dearer = "、提高未安排罚金（unserved_penalty_wan_yuan）" if (result.unserved["reason"] == "penalty").any() else ""
        lines.append(f"  可放宽走读距离、允许寄宿、增加备选用地或预算{dearer}后重试；详见 unserved.csv 与 report.md。")
    return "\n".join(lines)


def cmd_forecast(args) -> int:
    from xuewei import pipeline
    from xuewei.reports.runfolder import claim_output, refuse_existing

    if args.out:  # refused at once, before anything is read
        refuse_existing(Path(args.out), args.force)
    scenario, path, region, fconf, policy = pipeline.load_inputs(args.scenario)
    out = Path(args.out) if args.out else _default_out(scenario.name, "-forecast")
    with claim_output(out, force=args.force):
        _say("预测学位需求")
        demand = pipeline.run_forecast(scenario, region, fconf, policy)
        _write_forecast(out, args.force, demand, region)
    _print_forecast(out, demand, region, scenario)
    return 0


def _write_forecast(out: Path, force: bool, demand, region) -> None:
    from xuewei.forecaster.report import write_demand_csv, write_outputs

    title = region.meta.name + ("（示意数据）" if region.meta.synthetic else "")
    with atomic_run_folder(out, force=force) as tmp:
        write_demand_csv(demand, tmp / "demand.csv")
        write_outputs(demand, tmp / "charts", title_prefix=title)
        (tmp / "assumptions.txt").write_text("\n".join(demand.attrs.get("assumptions", [])) + "\n", encoding="utf-8")
        compare = None
        if region.meta.plan:
            from xuewei.forecaster.plan_targets import compare_with_plan

            compare = compare_with_plan(demand, region.meta.plan)
            if compare is not None:
                compare.to_csv(tmp / "plan_targets.csv", index=False, encoding="utf-8-sig")


def _print_forecast(out: Path, demand, region, scenario) -> None:
    compare = None
    if region.meta.plan:
        from xuewei.forecaster.plan_targets import compare_with_plan

        compare = compare_with_plan(demand, region.meta.plan)
    totals = demand.groupby(["stage", "variant", "year"])["pupils"].sum().unstack("year")
    print(f"预测完成：{region.meta.name}，结果在 {out}")
    years = [y for y in scenario.horizon.periods if y in totals.columns]
    print(totals[years].round(0).to_string())
    if compare is not None:
        print("\n与规划目标对照（只报告，不强行吻合）：")
        mid = compare[compare["variant"] == "mid"] if "mid" in set(compare["variant"]) else compare
        show = mid[["stage", "plan_indicator", "year", "forecast", "plan_target", "difference_pct"]].copy()
        show["stage"] = show["stage"].map(STAGE_ZH)
        show.columns = ["学段", "指标", "年份", "预测（中方案）", "规划目标", "差（%）"]
        print(show.to_string(index=False))
        print("（规划原文引文见 plan_targets.csv 的 source_quote 列）")
    for note in demand.attrs.get("assumptions", []):
        print(f"  假设：{note}")


def cmd_check(args) -> int:
    from xuewei.data.plans import load_plan, resolve_plan_path
    from xuewei.optimizer.plan_check import check_against_plan
    from xuewei.reports.plan_sections import display_tables, title
    from xuewei.reports.stored_run import _read_manifest, check_inputs_unchanged, read_run

    run_dir = Path(args.run_dir)
    # A check compares against the scenario too, so a changed scenario makes the folder stale as well.
    check_inputs_unchanged(run_dir, _read_manifest(run_dir), skip=("plan",))
    run = read_run(run_dir)
    if args.plan:
        plan = load_plan(resolve_plan_path(args.plan))  # a file named on the command line: relative to here
    elif run.region.meta.plan:
        plan = load_plan(resolve_plan_path(run.region.meta.plan, run.region.path))
    else:
        raise InputError(Problem(file=str(args.run_dir), field="--plan", expected="规划编号或规划文件", found="区域未指定规划",
                                 hint="用 --plan 指定，如 --plan wuxi。"))
    pc = check_against_plan(run, plan)
    print(title(pc))
    for note in pc["notes"]:
        print(f"  {note}")
    with pd.option_context("display.width", 200, "display.max_colwidth", 40, "display.max_rows", 60,
                           "display.unicode.east_asian_width", True):
        for name, df in display_tables(pc, brief=True):
            shown = df.drop(columns=[c for c in ("原文引文",) if c in df]).fillna("")
            print(f"\n{name}\n{shown.to_string(index=False)}")
    print("\n（各行的原文引文见 xuewei run 写出的 plan_check_*.csv；本命令只显示，不改运行文件夹。）")
    return 0


def cmd_audit(args) -> int:
    from xuewei import pipeline
    from xuewei.data.plans import load_plan, resolve_plan_path
    from xuewei.optimizer.plan_check import area_match, plan_sentence
    from xuewei.optimizer.plan_items import school_rows
    from xuewei.reports.runfolder import claim_output, refuse_existing

    if args.out:  # refused at once, before anything is read
        refuse_existing(Path(args.out), args.force)
    plan = load_plan(resolve_plan_path(args.plan))
    scenario, path, region, fconf, policy = pipeline.load_inputs(args.scenario)
    area = area_match(plan, region)
    if not len(school_rows(plan)) or area.relation == "other":  # a sentence, not an error; nothing is written
        why = "它没有逐校布局表" if not len(school_rows(plan)) else area.sentence.split("：")[0]
        print(f"规划 {plan.name} 不能作为情景逐年审计：{why}。它可与运行结果对照的是：{plan_sentence(plan)}。"
              f"请在 region.toml 中写 plan = \"{args.plan}\" 后运行 xuewei run，或对已有的运行文件夹用 "
              f"xuewei check 运行文件夹 --plan {args.plan}。")
        return 0
    out = Path(args.out) if args.out else _default_out(scenario.name, f"-audit-{safe_name(plan.id)}")
    with claim_output(out, force=args.force):
        return _audit(args, out, scenario, region, fconf, policy, plan)


def _audit(args, out, scenario, region, fconf, policy, plan) -> int:
    from xuewei import pipeline
    from xuewei.optimizer.audit import audit
    from xuewei.optimizer.plan_audit import audit_plan
    from xuewei.reports.runfolder import write_csv

    base = scenario.horizon.base_year or region.meta.base_year
    _say("预测学位需求")
    demand = pipeline.run_forecast(scenario, region, fconf, policy)
    years = list(range(base + 1, plan.horizon + 1)) + [p for p in scenario.horizon.periods if p > plan.horizon]
    _say(f"按规划 {plan.id} 的布局逐年审计")
    schools, assignments = audit_plan(region, demand, policy, plan, years, base, policy.design_variant)
    violations = audit(assignments, schools, pipeline.audit_rules(policy))
    with atomic_run_folder(out, force=args.force) as tmp:
        write_csv(schools.round(3), tmp / "plan_audit_schools.csv")
        write_csv(assignments.round(3), tmp / "plan_audit_assignments.csv")
        write_csv(violations, tmp / "plan_audit_violations.csv")
    print(f"规划 {args.plan} 的布局审计（{region.meta.name}，需求按{VARIANT_ZH.get(policy.design_variant, policy.design_variant)}），结果在 {out}")
    if region.meta.synthetic:
        print("（示意数据：区域数据部分为合成，结果只作演示）")
    by = schools.groupby(["period", "stage"]).agg(places=("places", "sum"), pupils=("pupils", "sum"),
                                                  shortfall=("shortfall", "sum"), idle=("idle_places", "sum"),
                                                  short_schools=("shortfall", lambda x: int((x > 0).sum())))
    by = by.reset_index()
    by["stage"] = by["stage"].map(STAGE_ZH)
    by.columns = ["年份", "学段", "学位", "学生", "缺口（人）", "闲置学位", "缺位学校数"]
    print(by.round(0).to_string(index=False))
    if len(violations):
        counts = violations.groupby("rule_zh").size()
        print("违反规则：" + "，".join(f"{k} {v} 处" for k, v in counts.items()))
        for msg in violations["message"].head(10):
            print(f"  {msg}")
    else:
        print("没有违反走读距离、寄宿、班额、规模和层级规则的情况。")
    return 0
