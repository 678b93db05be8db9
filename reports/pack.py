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
from xuewei.reports import map_style as st  # noqa: E402
from xuewei.reports.map_data import STAGES, MapData  # noqa: E402
from xuewei.reports.maps import TownshipRenderer  # noqa: E402
from xuewei.reports.pack_tables import baseline_trips, school_rows, village_rows  # noqa: E402
from xuewei.reports.runfolder import safe_name  # noqa: E402
from xuewei.reports.run_outputs import quality_short  # noqa: E402

A4 = (11.69, 8.27)  # landscape [in]
ROWS_PER_PAGE = 24
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


def _table(fig, df: pd.DataFrame, family, widths: list[float], fontsize: float = 7.5) -> None:
    ax = fig.add_axes((0.04, 0.07, 0.92, 0.84))
    ax.set_axis_off()
    cells = [["" if (isinstance(v, float) and np.isnan(v)) else (f"{v:,.0f}" if isinstance(v, (float, np.floating))
              and float(v).is_integer() else str(v)) for v in row] for row in df.itertuples(index=False)]
    heads = [c.replace(" 年", " 年\n", 1) if c[:4].isdigit() else c.replace("（", "\n（", 1) if len(c) > 6 else c
             for c in df.columns]
    tab = ax.table(cellText=cells or [[""] * len(df.columns)], colLabels=heads, colWidths=widths,
                   loc="upper center", cellLoc="left", colLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(fontsize)
    for (r, _), cell in tab.get_celld().items():
        cell.get_text().set_fontfamily(family)
        cell.set_height(0.033)
        cell.set_linewidth(0.3)
        if r == 0:
            cell.set_facecolor("#e8e8e8")
            cell.set_height(0.06)


def _paged(pdf, run, family, title: str, df: pd.DataFrame, widths: list[float], note: str = "", foot: str = "") -> int:
    pages = max(1, int(np.ceil(len(df) / ROWS_PER_PAGE)))
    for i in range(pages):
        part = df.iloc[i * ROWS_PER_PAGE:(i + 1) * ROWS_PER_PAGE]
        fig = _page(run, family, title + (f"（{i + 1}/{pages}）" if pages > 1 else ""))
        _table(fig, part, family, widths)
        if note:
            fig.text(0.04, 0.915, note, fontsize=8.5, fontfamily=family, color="#333333", va="center")
        if foot:
            fig.text(0.04, 0.047, foot, fontsize=7.5, fontfamily=family, color="#333333", va="center")
        pdf.savefig(fig)
    return pages


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
    fig.text(0.07, 0.915, "线：预测学生数；阴影：误差带；虚线：规划期。", fontsize=8.5, fontfamily=family, color="#333333")
    pdf.savefig(fig)


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
               [0.13, 0.06, 0.05, 0.045, 0.08, 0.04, 0.04, 0.05, 0.05, 0.05, 0.05, 0.05, 0.24],
               note="“前”为上一规划期末（首期为基准年），“后”为本规划期末；学位 = 班数 × 班额上限。",
               foot=quality_short(run.solver))
        n = len(run.periods)
        w_school, w_num = 0.84 * 0.74 / (n + 1), 0.84 * 0.26 / n
        _paged(pdf, run, family, f"{name}各村（社区）就读学校与路程", villages,
               [0.09, 0.07] + [w_school] + [w_school, w_num] * n,
               note="路程为直线距离 × 绕行系数（公里），与布局模型一致；基准年为距最近的现有同学段学校。")
        _demand_page(pdf, run, family, township_id, name)
    return path


def write_packs(run, out_dir: Path, township_ids: list[str]) -> list[Path]:
    """Hearing packs of several townships, sharing one figure and one baseline computation."""
    from xuewei.reports.fonts import map_fonts, run_text

    family = map_fonts(run_text(run))
    renderer = TownshipRenderer(MapData.build(run), family)
    base = baseline_trips(run)
    return [write_pack(run, t, out_dir, family, renderer, base) for t in township_ids]
