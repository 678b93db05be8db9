"""`xuewei validate` and `xuewei plans`."""

from __future__ import annotations

import dataclasses

import json
import logging
from pathlib import Path

from xuewei.data.tomlio import tomllib
from xuewei.data.plans import available_plans, load_plan, missing_quotes, read_seed
from xuewei.data.region import load_region
from xuewei.data.roads import ROAD_CLASSES
from xuewei.errors import InputError, Problem
from xuewei.labels import STAGE_ZH

log = logging.getLogger("xuewei")


def register(sub) -> None:
    p = sub.add_parser("validate", help="校验区域数据文件夹、情景文件、批量文件或规划表文件，列出全部问题")
    p.add_argument("path", help="区域文件夹、情景 .toml、批量 .toml 或 data/plans/<id>.toml")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("plans", help="查看五份规划的指标表和布局表（逐行附原文引文）")
    psub = p.add_subparsers(dest="plans_command", metavar="子命令", required=True)
    pl = psub.add_parser("list", help="列出已收录的规划及其表")
    pl.set_defaults(func=cmd_plans_list)
    ps = psub.add_parser("show", help="显示一份规划的表")
    ps.add_argument("plan_id", help="规划编号：leshan、jiangyang、neijiang、wuxi、huantai")
    ps.add_argument("--table", help="只显示这一张表（如 表3、专栏14）")
    ps.add_argument("--json", action="store_true", help="以 JSON 输出")
    ps.set_defaults(func=cmd_plans_show)


def describe_region(region) -> str:
    m = region.meta
    counts = region.counts()
    lines = [f"区域 {m.name}（{m.admin_code}）：基准年 {m.base_year}，坐标系 {m.crs}，距离计算用 {region.metric_crs.name}",
             "  " + "，".join(f"{k} {v} 行" for k, v in counts.items())]
    if "school_stages" in counts:
        ss = region.school_stages
        base = ss[ss["year"] == m.base_year]
        by = base.groupby("stage")[["classes", "places", "pupils"]].sum()
        for stage, row in by.iterrows():
            lines.append(f"  {STAGE_ZH.get(stage, stage)}：{row['classes']} 班，{row['places']} 学位，{row['pupils']} 人（{m.base_year} 年）")
    if region.boundary_derived:
        lines.append("  县界：区域包没有边界文件，已由各点推算示意县界（地图上注明“县界为示意”）")
    if getattr(region, "roads", None) is not None:
        r = region.roads
        classes = r["road_class"].replace("", "unknown").value_counts()
        lines.append(f"  道路图层：{len(r)} 条线（" + "，".join(f"{ROAD_CLASSES[c][0]} {n}" for c, n in classes.items())
                     + f"；{int(r['speed_kmh'].notna().sum())} 条有车速）；路程与用时按路网计算")
    else:
        lines.append("  道路图层：无；路程按直线距离 × 绕行系数计算")
    if m.synthetic:
        lines.append("  注意：本区域含示意数据（synthetic）：")
        lines += [f"    - {s}" for s in m.synthetic_parts]
    return "\n".join(lines)


def warn_oversize(region, policy=None, base_year: int | None = None) -> int:
    """One warning per public school above the size cap or with 大班额 in the base year; returns
    how many (the run brings them down over the periods: ``oversize_target_year``)."""
    from xuewei.optimizer.oversize import base_year_breaches
    from xuewei.optimizer.policy import PolicyConfig

    rows = base_year_breaches(region, policy or PolicyConfig(), base_year)
    for text in rows["text"]:
        log.warning("%s。", text)
    if len(rows):
        log.warning("以上 %d 所学校超过规模或班额上限：运行时逐期降到上限（policy.oversize_target_year，缺省为最后一个规划期），"
                    "超出的学生分流到其他学校，动作记为“缩减”。", len(rows))
    return len(rows)


def cmd_validate(args) -> int:
    path = Path(args.path)
    if path.is_dir():
        region = load_region(path)
        print(describe_region(region))
        _describe_plan(region)
        _check_forecast_inputs(region)
        warn_oversize(region)
        print("校验通过。")
        return 0
    if not path.exists():
        raise InputError(Problem(file=str(path), expected="存在的区域文件夹或 .toml 文件", found="找不到"))
    if path.suffix != ".toml":
        raise InputError(Problem(file=str(path), expected="区域文件夹、情景 .toml 或规划 .toml", found=path.suffix or "无扩展名"))
    try:
        head = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        head = {}
    if "tables" in head and "plan" in head:
        plan = load_plan(path)
        missing = missing_quotes(plan, read_seed(plan))
        if missing:
            raise InputError([Problem(file=str(path), row=None, field=f"{t} 第{r}行 source_quote",
                                      expected=f"逐字见于原文 {plan.source} 的引文", found=q) for t, r, q in missing])
        rows = sum(len(t.rows) for t in plan.tables)
        print(f"规划 {plan.name}：{len(plan.tables)} 张表，{rows} 行，引文全部见于原文。校验通过。")
        return 0
    if "variants" in head or "grid" in head or "base" in head:  # a batch file: check every variant as a run would
        from xuewei.batch.spec import load_variants, validate_variants

        variants = validate_variants(load_variants([path]))
        print(f"批量文件 {path}：{len(variants)} 个变体（{'、'.join(v.name for v in variants[:12])}"
              f"{' 等' if len(variants) > 12 else ''}），每个变体的情景、区域与政策均已按运行时的方式读取。")
        sources = sorted({v.warm_from for v in variants if v.warm_from})
        if sources:
            print(f"热启动：其余变体在 {'、'.join(sources)} 算完后从它的布局出发（warm_start）。")
        print("校验通过。")
        return 0
    from xuewei.pipeline import load_inputs  # validates the [forecast] and [policy] sections too

    scenario, spath, region, fconf, policy = load_inputs(path)
    print(f"情景 {scenario.name}（{spath}）：规划期 {scenario.horizon.periods}，求解器 {scenario.solver.name}")
    print(describe_region(region))
    _describe_plan(region)
    _check_forecast_inputs(region, fconf, scenario.horizon.base_year)
    warn_oversize(region, policy, scenario.horizon.base_year)
    print("校验通过。")
    return 0


def _check_forecast_inputs(region, fconf=None, base_year: int | None = None) -> None:
    """Read the region's forecasting inputs as a run would (births by township, grade histories by
    school or township, migration, ages) and forecast one year, so their problems surface here, not
    at the start of a run; prints how the grade histories are used."""
    from xuewei.forecaster import ForecastConfig, forecast_demand
    from xuewei.pipeline import forecast_inputs

    inputs = forecast_inputs(region)
    base = base_year or region.meta.base_year
    if base_year:
        inputs = dataclasses.replace(inputs, base_year=base_year)
    demand = forecast_demand(inputs, fconf or ForecastConfig(), [base + 1])
    grades = [n for n in demand.attrs.get("assumptions", []) if "年级升级比法" in n or n.startswith("grades.csv")]
    for note in grades[:4]:
        print(f"  预测：{note}")


def _describe_plan(region) -> None:
    """The plan a region names: loaded now (a bad plan file is an input error), and what it can check."""
    from xuewei.data.plans import plan_of_region
    from xuewei.optimizer.plan_check import area_match, plan_sentence

    plan = plan_of_region(region)
    if plan is not None:
        print(f"  规划：{plan.name}；可对照：{plan_sentence(plan)}。{area_match(plan, region).sentence}")


def cmd_plans_list(args) -> int:
    for pid in available_plans():
        plan = load_plan(pid)
        print(f"{pid}\t{plan.name}（原文 {plan.source}）")
        for t in plan.tables:
            print(f"    {t.id}\t{t.title}\t{len(t.rows)} 行")
    return 0


def _cell(value) -> str:
    return "" if value is None else str(value)


def cmd_plans_show(args) -> int:
    plan = load_plan(args.plan_id)
    tables = [plan.table(args.table)] if args.table else plan.tables
    if args.json:
        out = {"plan": plan.id, "source": plan.source,
               "tables": [{"id": t.id, "title": t.title, "unit": t.unit, "rows": t.rows, "notes": t.notes}
                          for t in tables]}
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console = Console(soft_wrap=False, width=200)
    console.print(f"[bold]{plan.name}[/bold]（原文 {plan.source}）")
    for t in tables:
        table = Table(title=f"{t.id}  {t.title}" + (f"（单位：{t.unit}）" if t.unit else ""), show_lines=False)
        for col in t.columns:
            table.add_column(col)
        for row in t.rows:
            table.add_row(*[_cell(row.get(c)) for c in t.columns])
        console.print(table)
        for note in t.notes:
            console.print(f"  注：{note}")
    return 0
