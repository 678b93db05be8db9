"""``report.html``: one self-contained page (images inlined as base64, no scripts, no web fonts).

It opens offline in any browser and can be mailed as one file: key numbers, solver status, the
schools' actions, places against demand, unserved pupils, the rule audit, the comparison with the
county's plan, the overview maps and the forecast charts. Township sheets and hearing packs are
linked by relative path (they sit beside the report in the run folder).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from xuewei.labels import ACTION_ZH, STAGE_ZH, model_zh
from xuewei.reports.pack_tables import oversize_rows
from xuewei.reports.run_outputs import status_zh

CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;
max-width:1200px;color:#222;line-height:1.5;padding:0 1em}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #bbb;padding:.25em .6em}
th{background:#eee}td.n{text-align:right}.note{background:#fde8ea;border-left:5px solid #b10026;padding:.6em 1em;
color:#7a0019;font-weight:bold}.muted{color:#666;font-size:.9em}img{max-width:100%;border:1px solid #ccc;margin:.5em 0}
.kpi{display:inline-block;margin:.3em 1.2em .3em 0;padding:.5em 1em;background:#f3f6fa;border-radius:6px}
.kpi b{font-size:1.4em;display:block}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(df: pd.DataFrame) -> str:
    if df is None or df.empty:
        return '<p class="muted">（无）</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for r in df.itertuples(index=False):
        cells = []
        for v in r:
            if isinstance(v, float):
                cells.append(f'<td class="n">{"" if pd.isna(v) else f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"}</td>')
            elif isinstance(v, int):
                cells.append(f'<td class="n">{v:,}</td>')
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _kpis(run) -> str:
    last = max(run.periods)
    s = run.summary[run.summary["period"] == last]
    built = (run.actions["action"] == "build").sum()
    closed = run.actions["action"].isin(["close", "merge"]).sum()
    cost = run.actions["cost_wan_yuan"].sum() if "cost_wan_yuan" in run.actions else float("nan")
    items = [(f"{s['pupils'].sum():,.0f}", f"{last} 年学生（人）"), (f"{s['places'].sum():,.0f}", f"{last} 年学位（个）"),
             (f"{run.unserved.groupby('period')['pupils'].sum().max() if len(run.unserved) else 0:,.0f}",
              "未安排学生（人，各期最大）"), (f"{built}", "新建（所，各期合计）"), (f"{closed}", "撤销与合并（所）"),
             (f"{cost:,.0f}", "建设投入（万元）"), (f"{len(run.violations)}", "规则审计违规（处）")]
    return "".join(f'<div class="kpi"><b>{v}</b>{html.escape(k)}</div>' for v, k in items)


def report_html(run, folder: Path, map_files: list[Path] | None = None) -> str:
    """The report page as text; images are read from ``folder`` (the run folder being written)."""
    folder = Path(folder)
    meta = run.region.meta
    esc = html.escape
    parts = [f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
             f"<title>{esc(meta.name)}学位规划运行报告：{esc(run.scenario_name)}</title><style>{CSS}</style></head><body>",
             f"<h1>{esc(meta.name)}学位规划运行报告</h1>",
             f'<p class="muted">情景 {esc(run.scenario_name)}；规划期 {"、".join(map(str, run.periods))}；学校统计基准年 '
             f"{run.base_year}；运行日期 {esc(run.created)}；需求按{ {'low': '低', 'mid': '中', 'high': '高'}.get(run.policy.design_variant, '中')}方案。</p>"]
    if run.synthetic:
        parts.append('<p class="note">示意数据：本区域部分数据为合成（见区域说明），结果只作方法演示，不能作为决策依据。</p>')
    parts += ["<h2>关键数字</h2>", _kpis(run)]
    if run.solver is not None and len(run.solver):
        sv = run.solver.copy()
        cols = {"model": "模型", "status": "状态", "objective_wan_yuan": "目标值（万元）", "bound_wan_yuan": "下界（万元）",
                "gap": "间隙", "solve_seconds": "用时（秒）"}
        sv = sv[[c for c in cols if c in sv]].rename(columns=cols)
        sv["模型"] = sv["模型"].map(model_zh)
        if "状态" in sv:
            stop = run.solver["stop"].fillna("") if "stop" in run.solver else pd.Series("", index=run.solver.index)
            sv["状态"] = [status_zh(x, y) for x, y in zip(sv["状态"], stop)]
        if "间隙" in sv:
            sv["间隙"] = sv["间隙"].map(lambda g: "—" if pd.isna(g) else f"{g:.2%}")
        parts += ["<h2>求解</h2>", _table(sv)]
    counts = run.actions.groupby(["period", "action"]).size().unstack(fill_value=0)
    counts = counts[[a for a in ACTION_ZH if a in counts]].rename(columns=ACTION_ZH).reset_index().rename(
        columns={"period": "规划期"})
    parts += ["<h2>各期学校调整（所）</h2>", _table(counts)]
    over = oversize_rows(run.actions)
    if len(over):
        parts += ["<h2>超规模、大班额学校（逐期降到上限）</h2>",
                  f"<p>基准年超过规模上限或班额上限的学校按 oversize_target_year"
                  f"（{run.policy.oversize_target_year or max(run.periods)} 年）逐期降到上限；超出的学生分流到其他学校：</p>",
                  _table(over)]
    tot = run.summary.groupby(["period", "stage"])[["pupils", "places", "unserved", "boarding_pupils"]].sum().reset_index()
    tot["stage"] = tot["stage"].map(lambda s: STAGE_ZH.get(s, s))
    tot.columns = ["规划期", "学段", "学生（人）", "学位（个）", "未安排（人）", "寄宿（人）"]
    parts += ["<h2>学位与需求（全县）</h2>", _table(tot)]
    parts.append("<h2>未安排的学生</h2>")
    if len(run.unserved) == 0:
        parts.append("<p>全部学生都已安排。</p>")
    else:
        un = run.unserved.merge(run.region.nodes[["node_id", "township_id"]], on="node_id")
        g = un.groupby(["period", "stage", "township_id", "reason_zh"])["pupils"].sum().reset_index()
        g["township_id"] = g["township_id"].map(run.township_names())
        g["stage"] = g["stage"].map(lambda s: STAGE_ZH.get(s, s))
        g.columns = ["规划期", "学段", "乡镇", "起约束作用的规则", "人数（人）"]
        parts.append(_table(g.sort_values(["规划期", "人数（人）"], ascending=[True, False])))
    parts.append("<h2>规则审计</h2>")
    if len(run.violations) == 0:
        parts.append("<p>没有违反走读距离、寄宿、班额、规模和聚落层级规则的情况。</p>")
    else:
        rule = "rule_zh" if "rule_zh" in run.violations else "rule"
        v = run.violations.groupby(rule).agg(n=(rule, "size"), example=("message", "first")).reset_index()
        v.columns = ["规则", "处数", "示例"]
        parts.append(_table(v))
    if run.plan_check:
        from xuewei.reports.plan_sections import html_parts

        parts += html_parts(run.plan_check, _table, esc)
    overviews = sorted((folder / "maps").glob("overview_*.png"))
    if overviews:
        parts.append("<h2>县域总图</h2>")
        parts += [_img(p, p.stem) for p in overviews]
    townships = sorted((folder / "maps").glob("township_*.pdf"))
    if townships:
        parts.append("<h2>乡镇分图</h2><p class=\"muted\">每个乡镇一张 A3 图（PNG 与 PDF），在运行文件夹的 maps/ 中：</p><ul>")
        parts += [f'<li><a href="maps/{esc(p.name)}">{esc(p.stem.split("_", 2)[-1])}</a>'
                  f' （<a href="maps/{esc(p.with_suffix(".png").name)}">PNG</a>）</li>' for p in townships]
        parts.append("</ul>")
    charts = sorted((folder / "charts").glob("demand_*.png"))
    if charts:
        parts.append("<h2>学位需求预测</h2>")
        parts += [_img(p, p.stem) for p in charts]
    parts.append('<p class="muted">本报告由 xuewei 生成；各表的原始数据见同一运行文件夹中的 CSV 与 workbook.xlsx。</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report_html(run, folder: Path) -> Path:
    """Write ``report.html`` into the run folder (after the maps and charts, which it embeds)."""
    path = Path(folder) / "report.html"
    path.write_text(report_html(run, folder), encoding="utf-8")
    return path
