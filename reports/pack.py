"""Hearing pack (乡镇听证会材料): one PDF per township.

Pages: (1) the township sheet (A3, one panel per period); (2) its schools before and after each
period — classes, places, pupils, action and the reason read off the numbers; (3) its villages'
schools and travel distances now and in each period, with boarding and unserved pupils; (4) the
forecast of its children by stage. Tables are A4 landscape and run over as many pages as needed.
The CJK font is embedded (TrueType, ``pdf.fonttype = 42``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from xuewei.labels import STAGE_ZH, VARIANT_ZH  # noqa: E402
from xuewei.optimizer.travel import basis_zh  # noqa: E402
from xuewei.reports import map_style as st  # noqa: E402
from xuewei.reports.map_data import STAGES, MapData  # noqa: E402
from xuewei.reports.maps import TownshipRenderer  # noqa: E402
from xuewei.reports.pack_tables import baseline_trips, school_rows, village_rows  # noqa: E402
from xuewei.reports.runfolder import safe_name  # noqa: E402
from xuewei.reports.run_outputs import quality_short  # noqa: E402

A4 = (11.69, 8.27)  # landscape [in]
VARIANT_COLOUR = {"low": "#2b83ba", "mid": "#333333", "high": "#d7191c"}


def pack_file(township_id: str, name: str) -> str:
    return f"pack_{safe_name(township_id)}_{safe_name(name)}.pdf"


def _page(run, family, title: str) -> Figure:
    fig = Figure(figsize=A4)
    FigureCanvasAgg(fig)
    fig.text(0.04, 0.955, title, fontsize=15, fontfamily=family, va="center")
    foot = f"{run.region.meta.name}；情景 {run.scenario_name}；运行日期 {run.created}；学校统计基准年 {run.base_year}"
    fig.text(0.04, 0.025, foot, fontsize=8, fontfamily=family, color="#444444")
    if run.synthetic:
        fig.text(0.96, 0.955, "示意数据", fontsize=15, fontfamily=family, color="#b10026", ha="right", va="center")
        fig.text(0.96, 0.025, st.NOTE_SYNTHETIC, fontsize=8, fontfamily=family, color="#b10026", ha="right")
    return fig


TABLE_BOX = (0.04, 0.07, 0.92, 0.84)  # the table's axes on the page [figure fraction]
ROW_H, LINE_H, HEAD_LINE_H = 0.033, 0.019, 0.021  # one-line row, each further line, header line [axes fraction]
CELL_PAD = 0.1  # matplotlib's cell padding on each side [share of the cell width]


CLOSING = "）)，。；、：！？"
NARROW = {" ": 0.3, ".": 0.3, ",": 0.3, ":": 0.3, ";": 0.3, "/": 0.4, "|": 0.3, "(": 0.35, ")": 0.35, "-": 0.4}


def text_width_em(text: str) -> float:
    """Printed width of ``text`` in ems (upper bounds for Noto Sans CJK): CJK and full-width
    characters 1, digits and Latin letters 0.6, spaces and punctuation less."""
    return sum(1.0 if (ord(c) >= 0x2E80 or 0xFF00 <= ord(c) <= 0xFFEF) else NARROW.get(c, 0.6) for c in text)


def wrap_cell(text: str, width_em: float) -> str:
    """``text`` broken into lines no wider than ``width_em`` ems (after a Chinese comma or semicolon,
    or before an opening bracket, where one falls in the second half of a line, else at the width)."""
    lines = []
    for para in str(text).split("\n"):
        line, w = "", 0.0
        for c in para:
            cw = text_width_em(c)
            if w + cw > width_em and line:
                cut = max([line.rfind(p) for p in "，；、：）"] + [line.rfind("（") - 1])
                if cut >= len(line) // 2 and cut < len(line) - 1:
                    lines.append(line[:cut + 1])
                    line = line[cut + 1:]
                elif c in CLOSING and len(line) > 1:  # no line starts with a closing mark: take a character along
                    lines.append(line[:-1])
                    line = line[-1]
                else:
                    lines.append(line)
                    line = ""
                w = text_width_em(line)
            line += c
            w += cw
        lines.append(line)
    return "\n".join(lines)


def _cell_text(v) -> str:
    if isinstance(v, float) and np.isnan(v):
        return ""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return f"{v:,.0f}"
    return str(v)


def table_layout(df: pd.DataFrame, widths: list[float], fontsize: float = 7.5) -> tuple[list, list, list, float]:
    """Wrapped header and cells of ``df`` in columns of ``widths`` [axes fraction], with each body
    row's height and the header's height [axes fraction]: nothing is cut off at a cell's edge."""
    width_in = [w * TABLE_BOX[2] * A4[0] for w in widths]
    em = [max(1.0, wi * 72.0 * (1 - 2 * CELL_PAD) / fontsize) for wi in width_in]
    heads = [wrap_cell(c, e) for c, e in zip(df.columns, em)]
    cells = [[wrap_cell(_cell_text(v), e) for v, e in zip(row, em)] for row in df.itertuples(index=False)]
    heights = [ROW_H + LINE_H * (max(c.count("\n") for c in row) if row else 0) for row in cells]
    head_h = max(0.06, 0.02 + HEAD_LINE_H * (max(h.count("\n") for h in heads) + 1))
    return heads, cells, heights, head_h


def _table(fig, heads: list, cells: list, heights: list, head_h: float, family, widths: list[float],
           fontsize: float = 7.5) -> None:
    ax = fig.add_axes(TABLE_BOX)
    ax.set_axis_off()
    tab = ax.table(cellText=cells or [[""] * len(heads)], colLabels=heads, colWidths=widths,
                   loc="upper center", cellLoc="left", colLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(fontsize)
    for (r, _), cell in tab.get_celld().items():
        cell.get_text().set_fontfamily(family)
        cell.set_height(head_h if r == 0 else heights[r - 1] if cells else ROW_H)
        cell.set_linewidth(0.3)
        if r == 0:
            cell.set_facecolor("#e8e8e8")


def page_breaks(heights: list[float], head_h: float, room: float = 0.97) -> list[tuple[int, int]]:
    """Row ranges ``[start, end)`` of each page so that header + rows fit in ``room`` [axes fraction]."""
    pages, start, used = [], 0, head_h
    for i, h in enumerate(heights):
        if used + h > room and i > start:
            pages.append((start, i))
            start, used = i, head_h
        used += h
    pages.append((start, len(heights)))
    return pages


def _paged(pdf, run, family, title: str, df: pd.DataFrame, widths: list[float], note: str = "", foot: str = "") -> int:
    heads, cells, heights, head_h = table_layout(df, widths)
    pages = page_breaks(heights, head_h)
    for i, (a, b) in enumerate(pages):
        fig = _page(run, family, title + (f"（{i + 1}/{len(pages)}）" if len(pages) > 1 else ""))
        _table(fig, heads, cells[a:b], heights[a:b], head_h, family, widths)
        if note:
            fig.text(0.04, 0.915, note, fontsize=8.5, fontfamily=family, color="#333333", va="center")
        if foot:
            fig.text(0.04, 0.047, foot, fontsize=7.5, fontfamily=family, color="#333333", va="center")
        pdf.savefig(fig)
    return len(pages)


def compact_villages(v: pd.DataFrame, run) -> pd.DataFrame:
    """The village table in printable width: per period one 学校（km） column and one 学生/寄宿 column."""
    b = run.base_year
    out = pd.DataFrame({"村（社区）": v["村（社区）"], "学段": v["学段"],
                        f"{b} 年就读学校（km）": [f"{s}（{d:.1f}）" if s != "—" and not pd.isna(d) else "—"
                                              for s, d in zip(v[f"{b} 年就读学校"], v[f"{b} 年距离（km）"])]})
    for p in run.periods:
        out[f"{p} 年就读学校（km）"] = [f"{s}（{d:.1f}）" if s != "—" and not pd.isna(d) else "—"
                                      for s, d in zip(v[f"{p} 年就读学校"], v[f"{p} 年距离（km）"])]
        out[f"{p} 年学生/寄宿/未安排（人）"] = [f"{n:.0f} / {bd:.0f} / {u:.0f}" for n, bd, u in
                                           zip(v[f"{p} 年学生（人）"], v[f"{p} 年寄宿（人）"], v[f"{p} 年未安排（人）"])]
    return out


def _demand_page(pdf, run, family, tid: str, name: str) -> None:
    d = run.demand[(run.demand["township_id"] == tid) & run.demand["stage"].isin(STAGES)]
    fig = _page(run, family, f"{name}学龄儿童预测（按学段）")
    axes = fig.subplots(2, 2, gridspec_kw=dict(left=0.07, right=0.97, top=0.88, bottom=0.1, hspace=0.35, wspace=0.18))
    band = "pupils_lo" in d and "pupils_hi" in d
    for ax, stage in zip(axes.ravel(), STAGES):
        s = d[d["stage"] == stage].groupby(["variant", "year"])[["pupils", "pupils_lo", "pupils_hi"]].sum().reset_index()
        for variant in ("low", "mid", "high"):
            v = s[s["variant"] == variant].sort_values("year")
            if v.empty:
                continue
            if band:
                ax.fill_between(v["year"], v["pupils_lo"], v["pupils_hi"], color=VARIANT_COLOUR[variant], alpha=0.1,
                                linewidth=0)
            ax.plot(v["year"], v["pupils"], color=VARIANT_COLOUR[variant], marker="o", markersize=2.5,
                    label=VARIANT_ZH[variant])
        for p in run.periods:
            ax.axvline(p, color="#999999", lw=0.6, ls=":")
        ax.set_title(f"{STAGE_ZH[stage]}（人）", fontsize=10, fontfamily=family, loc="left")
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(labelsize=8)
        if len(s):
            ax.legend(prop={"family": family, "size": 8}, frameon=False)
    fig.text(0.07, 0.915, "线：预测学生数；阴影：误差带；虚线：规划期。" + method_sentence(run, tid), fontsize=8.5,
             fontfamily=family, color="#333333")
    pdf.savefig(fig)


def method_sentence(run, tid: str) -> str:
    """How this township's pupils were forecast, in one sentence.

    >>> class R: grade_methods = {"T1": {"primary": "schools"}, "T3": {"primary": "county", "junior": "county"}}
    >>> method_sentence(R(), "T1")
    '小学按本乡镇各校的年级历史推算（年级升级比法）；其余学段按出生数、存活与迁移推算（队列模型）。'
    >>> method_sentence(R(), "T3")
    '小学、初中按全县的年级历史推算（年级升级比法，按队列模型分到乡镇）；其余学段按出生数、存活与迁移推算（队列模型）。'
    >>> method_sentence(R(), "T2")
    '各学段按出生数、存活与迁移推算（队列模型）。'
    """
    found = getattr(run, "grade_methods", {}).get(tid, {})
    whose = {"township": "按本乡镇的年级历史推算（年级升级比法）", "schools": "按本乡镇各校的年级历史推算（年级升级比法）",
             "county": "按全县的年级历史推算（年级升级比法，按队列模型分到乡镇）"}
    parts = []
    for source, text in whose.items():
        stages = [g for g in STAGES if found.get(g) == source]
        if stages:
            parts.append("、".join(STAGE_ZH[g] for g in stages) + text)
    cohort = "按出生数、存活与迁移推算（队列模型）"
    if not parts:
        return f"各学段{cohort}。"
    if len([g for g in STAGES if g in found]) < len(STAGES):
        parts.append("其余学段" + cohort)
    return "；".join(parts) + "。"


def write_pack(run, township_id: str, out_dir: Path, family=None, renderer: TownshipRenderer | None = None,
               baseline: pd.DataFrame | None = None) -> Path:
    """Write the hearing pack PDF of one township; returns its path."""
    from xuewei.reports.fonts import map_fonts, run_text

    family = family or map_fonts(run_text(run))
    renderer = renderer or TownshipRenderer(MapData.build(run), family)
    name = run.township_names().get(township_id, township_id)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / pack_file(township_id, name)
    schools = school_rows(run, township_id)
    villages = compact_villages(village_rows(run, township_id, baseline), run)
    with plt.rc_context({"pdf.fonttype": 42}), PdfPages(path, metadata={"Title": f"{name}学校布局听证材料"}) as pdf:
        renderer.draw(township_id)
        pdf.savefig(renderer.sheet.fig)
        _paged(pdf, run, family, f"{name}学校调整一览（调整前→后）", schools,
               [0.11, 0.06, 0.045, 0.04, 0.08, 0.04, 0.04, 0.045, 0.045, 0.045, 0.045, 0.045, 0.34],
               note="“前”为上一规划期末（首期为基准年），“后”为本规划期末；学位 = 班数 × 班额上限。",
               foot=quality_short(run.solver))
        n = len(run.periods)
        w_school, w_num = 0.84 * 0.70 / (n + 1), 0.84 * 0.30 / n
        _paged(pdf, run, family, f"{name}各村（社区）就读学校与路程", villages,
               [0.09, 0.07] + [w_school] + [w_school, w_num] * n,
               note=f"路程为{basis_zh(run.region, run.policy)}（公里），与布局模型一致；" + (
                   "基准年为按各校基准年在校生校准的就读去向；一村去几所学校时列出人数占比，路程为占比最大者。"
                   if len(getattr(run, "base_flows", ())) else "基准年为距最近的现有同学段学校。"))
        _demand_page(pdf, run, family, township_id, name)
    return path


def write_packs(run, out_dir: Path, township_ids: list[str]) -> list[Path]:
    """Hearing packs of several townships, sharing one figure and one baseline computation."""
    from xuewei.reports.fonts import map_fonts, run_text

    family = map_fonts(run_text(run))
    renderer = TownshipRenderer(MapData.build(run), family)
    base = baseline_trips(run)
    return [write_pack(run, t, out_dir, family, renderer, base) for t in township_ids]
