"""``report.html``: one self-contained page (images, font and map data inlined; no network).

It opens offline in any browser, also on a computer without Chinese fonts, and can be mailed as one
file: it opens with the key figures, then an interactive map (`xuewei.reports.html_map`: schools,
villages and catchments by period, a click shows a place's figures), solver status (one row per
stage), the schools' actions, places against demand, unserved pupils, the rule audit, the comparison
with the county's plan, the overview maps and the forecast charts. Township sheets and hearing packs
are linked by relative path (they sit beside the report in the run folder).

The page's text is set in a WOFF2 subset of the bundled CJK font holding exactly the characters of
the page (`xuewei.reports.fonts.web_font`), embedded as a base64 ``@font-face``.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from xuewei.labels import ACTION_ZH, STAGE_ZH, VARIANT_ZH
from xuewei.optimizer.travel import basis_zh
from xuewei.reports.pack_tables import oversize_rows

FONT_FAMILY = "XW Noto Sans CJK SC"
CSS = """
body{font-family:"XW Noto Sans CJK SC","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;
max-width:1200px;color:#222;line-height:1.5;padding:0 1em}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #bbb;padding:.25em .6em}
th{background:#eee}td.n{text-align:right}.note{background:#fde8ea;border-left:5px solid #b10026;padding:.6em 1em;
color:#7a0019;font-weight:bold}.muted{color:#666;font-size:.9em}img{max-width:100%;border:1px solid #ccc;margin:.5em 0}
.kpi{display:inline-block;margin:.3em 1.2em .3em 0;padding:.5em 1em;background:#f3f6fa;border-radius:6px}
.kpi b{font-size:1.4em;display:block}
"""
FONT_SLOT = "/*xw-font-face*/"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


COUNT_UNITS = ("（人", "（个", "（所", "（班", "（张", "（万元")  # columns of whole numbers


def _cell(v, col: str) -> str:
    """One table cell: years without a thousands separator, counts [人, 个, 所, 班, 张, 万元] whole."""
    if isinstance(v, (bool, np.bool_)):
        return f"<td>{'是' if v else '否'}</td>"
    if isinstance(v, (int, np.integer)):
        return f'<td class="n">{v}</td>' if ("规划期" in col or "年份" in col) else f'<td class="n">{v:,}</td>'
    if isinstance(v, (float, np.floating)):
        if pd.isna(v):
            return '<td class="n"></td>'
        whole = abs(v) >= 100 or any(u in col for u in COUNT_UNITS)
        return f'<td class="n">{v:,.0f}</td>' if whole else f'<td class="n">{v:,.2f}</td>'
    return f"<td>{html.escape(str(v))}</td>"


def _table(df: pd.DataFrame) -> str:
    if df is None or df.empty:
        return '<p class="muted">（无）</p>'
    cols = [str(c) for c in df.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = ["<tr>" + "".join(_cell(v, c) for v, c in zip(r, cols)) + "</tr>" for r in df.itertuples(index=False)]
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


def _stage_rank(stage: str) -> int:
    """Position of a stage (or the first of ``a+b``) in STAGE_ZH order, for tables in school order."""
    order = list(STAGE_ZH)
    first = str(stage).split("+")[0]
    return order.index(first) if first in order else len(order)


def _solver(run) -> str:
    """One row per stage: independent parts, worst status, largest gap, seconds."""
    from xuewei.reports.run_outputs import STEP_SECONDS, stage_solver_summary, status_zh

    sv = run.solver.copy()
    models = {m.get("model"): m for m in (run.manifest or {}).get("models", [])}
    for col in STEP_SECONDS:  # the timings are in manifest.json, not in solver.csv
        if col not in sv:
            sv[col] = pd.to_numeric(sv["model"].map({k: m.get(col) for k, m in models.items()}), errors="coerce")
    if "gap" in sv:
        sv["gap"] = pd.to_numeric(sv["gap"], errors="coerce")
    if "stop" in sv:  # read back from solver.csv, an all-empty column is float
        sv["stop"] = ["" if pd.isna(x) else str(x) for x in sv["stop"]]
    st = stage_solver_summary(sv)
    st = st.iloc[np.argsort([_stage_rank(g) for g in st["stage"]], kind="stable")]
    out = pd.DataFrame({"学段": ["+".join(STAGE_ZH.get(g, g) for g in s.split("+")) for s in st["stage"]],
                        "独立片区（个）": st["parts"].astype(int),
                        "状态（最差）": [status_zh(a, b) for a, b in zip(st["status"], st["stop"])],
                        "最大间隙": ["—" if pd.isna(g) else f"{g:.2%}" for g in st["gap"]],
                        "用时（秒）": ["—" if pd.isna(x) else f"{x:.1f}" for x in st["seconds"]]})
    from xuewei.reports.run_outputs import BUDGET_NOTE, budget_use, quality_sentence

    page = (_table(out) + f"<p>{html.escape(quality_sentence(run.solver))}</p>"
            + '<p class="muted">各独立片区（模型）的目标值、下界与间隙见 solver.csv。</p>')
    use = budget_use(run.solver, list(run.periods))
    if use is not None:
        page += ("<h3>投资上限与使用（万元）</h3>" + _table(use)
                 + f'<p class="muted">{html.escape(BUDGET_NOTE)}</p>')
    return page


def report_html(run, folder: Path, map_files: list[Path] | None = None, layers: dict | None = None) -> str:
    """The report page as text; images are read from ``folder`` (the run folder being written);
    ``layers`` are the run's GIS layers if already built (`xuewei.reports.gis.results_layers`)."""
    from xuewei.reports.html_map import MAP_CSS, map_section

    folder = Path(folder)
    meta = run.region.meta
    esc = html.escape
    parts = [f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>{esc(meta.name)}学位规划运行报告：{esc(run.scenario_name)}</title>"
             f"<style>{FONT_SLOT}{CSS}{MAP_CSS}</style></head><body>",
             f"<h1>{esc(meta.name)}学位规划运行报告</h1>"]
    if run.synthetic:
        parts.append('<p class="note">示意数据：本区域部分数据为合成（见区域说明），结果只作方法演示，不能作为决策依据。</p>')
    parts += ['<section id="key-figures">', _kpis(run), "</section>",
              f'<p class="muted">情景 {esc(run.scenario_name)}；规划期 {"、".join(map(str, run.periods))}；学校统计基准年 '
              f"{run.base_year}；运行日期 {esc(run.created)}；需求按{VARIANT_ZH.get(run.policy.design_variant, '中方案')}；"
              f"路程按{esc(basis_zh(run.region, run.policy))}计算。</p>"]
    parts += ["<h2>交互地图</h2>", map_section(run, layers)]
    if run.solver is not None and len(run.solver):
        parts += ["<h2>求解</h2>", _solver(run)]
    counts = run.actions.groupby(["period", "action"]).size().unstack(fill_value=0)
    counts = counts[[a for a in ACTION_ZH if a in counts]].rename(columns=ACTION_ZH).reset_index().rename(
        columns={"period": "规划期"})
    parts += ["<h2>各期学校调整（所）</h2>", _table(counts)]
    over = oversize_rows(run.actions)
    if len(over):
        parts += ["<h2>超规模、大班额学校（逐期降到上限）</h2>",
                  f"<p>基准年超过规模上限或班额上限的学校按 oversize_target_year"
                  f"（{run.policy.oversize_year_text(max(run.periods))}）逐期降到上限；超出的学生分流到其他学校：</p>",
                  _table(over)]
    tot = run.summary.groupby(["period", "stage"])[["pupils", "places", "unserved", "boarding_pupils"]].sum().reset_index()
    tot = tot.iloc[np.lexsort([[_stage_rank(g) for g in tot["stage"]], tot["period"].to_numpy()])]
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
    if run.assumptions:
        parts.append("<h2>预测的假设</h2><ul>")
        parts += [f"<li>{esc(a)}</li>" for a in run.assumptions]
        parts.append("</ul>")
    parts.append('<p class="muted">本报告由 xuewei 生成；各表的原始数据见同一运行文件夹中的 CSV 与 workbook.xlsx。</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def embed_font(page: str) -> str:
    """Put a WOFF2 subset of the CJK font holding every character of ``page`` into its style sheet."""
    from xuewei.reports.fonts import web_font

    data = base64.b64encode(web_font(page)).decode("ascii")
    face = (f'@font-face{{font-family:"{FONT_FAMILY}";src:url(data:font/woff2;base64,{data}) format("woff2");'
            "font-display:block}")
    return page.replace(FONT_SLOT, face, 1)


def write_report_html(run, folder: Path, layers: dict | None = None) -> Path:
    """Write ``report.html`` into the run folder (after the maps and charts, which it embeds)."""
    path = Path(folder) / "report.html"
    path.write_text(embed_font(report_html(run, folder, layers=layers)), encoding="utf-8")
    return path
