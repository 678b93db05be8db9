"""Maps of a run: a county overview per period and one sheet per township (A3 landscape, PNG and PDF).

- Overview ``maps/overview_<period>.png|pdf``: the whole county in one panel, one sheet per period.
- Township sheet ``maps/township_<id>_<name>.png|pdf``: a row of small multiples, one panel per
  period, framing the township's villages, schools and seat (no township polygons exist, so the
  frame is their bounding box with a margin); neighbours are drawn faded, the county boundary in
  full. Every sheet has a title, legend, scale bar (km, from the region's UTM coordinates), north
  arrow, data date and, for synthetic regions, the note 示意数据; where the pack has no boundary file
  (`Region.boundary_derived`), the note that the county boundary is a sketch.

Schools are coloured by action (保留/改扩建/缩减/新建/合并/撤销/转变) with their marker by kind; villages
are sized by school-age children; catchment lines run village → school, coloured by stage, dashed
where the pupils board. Labels are placed greedily (`label_place`): none overlap; those without room
are left off the map (the hearing pack's tables list every school and village).

Township sheets reuse one figure per worker and are spread over a small process pool; PDFs embed
the CJK font as TrueType (``pdf.fonttype = 42``, set in an ``rc_context``, never globally).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from xuewei.labels import TIER_ZH  # noqa: E402
from xuewei.optimizer.dask_solve import can_start_pool  # noqa: E402
from xuewei.optimizer.travel import basis_zh  # noqa: E402
from xuewei.procs import guard_worker  # noqa: E402
from xuewei.reports import map_style as st  # noqa: E402
from xuewei.reports.label_place import place_labels, text_size_pt  # noqa: E402
from xuewei.reports.map_data import MapData  # noqa: E402
from xuewei.reports.runfolder import safe_name  # noqa: E402

A3 = (16.54, 11.69)  # landscape [in]
DPI = 150
SCHOOL_PT = 8.0  # school marker size [pt]
BOARD_RING = 1.7  # boarding ring diameter, in school markers
MIN_FRAME_M = 5000.0  # smallest township frame [m]
MARGIN = 0.12  # frame margin, share of the extent
NOTE_BOUNDARY_DERIVED = "县界为示意（区域包无边界文件，由村点推算）"
ROAD_COLOUR = "#a3a3a3"  # the road layer (runs that measure travel on it), grey under the coloured catchment lines


def township_file(township_id: str, name: str) -> str:
    """File stem of a township sheet."""
    return f"township_{safe_name(township_id)}_{safe_name(name)}"


def _boundary_patch(geom, **kw) -> PathPatch:
    polys = getattr(geom, "geoms", [geom])
    verts, codes = [], []
    for p in polys:
        for ring in [p.exterior, *p.interiors]:
            xy = np.asarray(ring.coords)
            verts.append(xy)
            codes.append(np.r_[MplPath.MOVETO, np.full(len(xy) - 2, MplPath.LINETO), MplPath.CLOSEPOLY])
    return PathPatch(MplPath(np.vstack(verts), np.concatenate(codes)), **kw)


def _frame(xs: np.ndarray, ys: np.ndarray, aspect: float, margin: float = MARGIN) -> tuple[float, float, float, float]:
    """A box around the points with a margin, at least `MIN_FRAME_M` wide, at the panel's aspect (w/h)."""
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    w = max(x1 - x0, MIN_FRAME_M * 0.6) * (1 + 2 * margin)
    h = max(y1 - y0, MIN_FRAME_M * 0.6) * (1 + 2 * margin)
    w, h = max(w, MIN_FRAME_M), max(h, MIN_FRAME_M)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


class _PeriodCache:
    """Per-period layers, computed once per process."""

    def __init__(self, md: MapData):
        self.md = md
        self._c: dict = {}

    def get(self, period: int):
        if period not in self._c:
            self._c[period] = (self.md.schools(period), self.md.children(period), self.md.catchments(period))
        return self._c[period]


def _in_view(df: pd.DataFrame, ext, pad: float = 0.0) -> np.ndarray:
    x0, x1, y0, y1 = ext
    return ((df["x"] >= x0 - pad) & (df["x"] <= x1 + pad) & (df["y"] >= y0 - pad) & (df["y"] <= y1 + pad)).to_numpy()


def draw_panel(ax, md: MapData, cache: _PeriodCache, period: int, family: str, ext, focus: str | None = None,
               village_scale: float = 1.0, label_size: float = 7.0) -> dict:
    """Draw one period of the map into ``ax`` (cleared first), limited to ``ext`` = (x0, x1, y0, y1) [m].

    With ``focus`` (a township id) the township's villages and schools, and the schools its
    villages attend, are drawn in full and labelled; everything else is faded. Without it (the
    overview) everything is drawn in full and the township seats are labelled.

    Returns counts of labels placed and left off.
    """
    ax.cla()
    ax.set_xlim(ext[0], ext[1])
    ax.set_ylim(ext[2], ext[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("#fbfbf8")
    ax.add_patch(_boundary_patch(md.boundary, facecolor="#f2f0e6", edgecolor="#444444", lw=1.2, zorder=1))
    if md.roads is not None:  # the road layer the distances were measured on, faint, under everything else
        ax.add_collection(LineCollection(md.roads, colors=ROAD_COLOUR, linewidths=0.8, zorder=1.5))
    schools, kids, lines = cache.get(period)
    pad = 0.05 * (ext[1] - ext[0])
    kids = kids[_in_view(kids, ext, pad)]
    seats = md.seats[_in_view(md.seats, ext, pad)]
    if focus is None:
        lines_v = lines
        served_here = set()
        focus_sch = np.ones(len(schools), bool)
    else:
        lines_v = lines[(lines["township_id"] == focus) | _in_view(lines.rename(columns={"x0": "x", "y0": "y"}), ext, pad)]
        served_here = set(lines.loc[lines["township_id"] == focus, "school_id"])
        focus_sch = ((schools["township_id"] == focus) | schools["school_id"].isin(served_here)).to_numpy()
    sch_view = _in_view(schools, ext, pad)

    # catchment lines (under everything but the boundary)
    for stage, colour in st.STAGE_COLOUR.items():
        for boarding in (False, True):
            sel = lines_v[(lines_v["stage"] == stage) & (lines_v["boarding"] == boarding)]
            if sel.empty:
                continue
            mine = (sel["township_id"] == focus).to_numpy() if focus else np.ones(len(sel), bool)
            for m, alpha in ((mine, 0.75 if focus else 0.45), (~mine, 0.12)):
                if not m.any():
                    continue
                segs = np.stack([sel[["x0", "y0"]].to_numpy()[m], sel[["x1", "y1"]].to_numpy()[m]], axis=1)
                ax.add_collection(LineCollection(segs, colors=colour, linewidths=0.9 if focus else 0.6, alpha=alpha,
                                                 linestyles=(0, (3, 2)) if boarding else "solid", zorder=2))

    # villages sized by school-age children
    vs = st.village_size_pt(kids["children"], village_scale)
    mine_v = (kids["township_id"] == focus).to_numpy() if focus else np.ones(len(kids), bool)
    for m, alpha in ((~mine_v, 0.25), (mine_v, 0.75)):
        if m.any():
            k = kids[m]
            edge = np.where(k["unserved"], st.UNSERVED_COLOUR, "white")
            ax.scatter(k["x"], k["y"], s=vs[m] ** 2, c=st.VILLAGE_COLOUR, edgecolors=edge,
                       linewidths=np.where(k["unserved"], 1.5, 0.4), alpha=alpha, zorder=3)

    # township seats by tier
    ax.scatter(seats["x"], seats["y"], s=seats["tier"].map(st.TIER_SIZE).fillna(9.0) ** 2, marker=st.SEAT_MARKER,
               facecolors="white", edgecolors="black", linewidths=1.2, alpha=0.9, zorder=4)

    # schools: marker by kind, colour by action, ring when boarding
    view = schools[sch_view]
    full = focus_sch[sch_view]
    for m, alpha in ((~full, 0.25), (full, 1.0)):
        part = view[m]
        for kind, grp in part.groupby("draw_kind"):
            size = SCHOOL_PT * st.KIND_SIZE.get(kind, 1.0)
            ax.scatter(grp["x"], grp["y"], s=size ** 2, marker=st.KIND_MARKER.get(kind, "o"),
                       c=grp["action"].map(st.ACTION_COLOUR).fillna("#bdbdbd"), edgecolors="#333333",
                       linewidths=0.7, alpha=alpha, zorder=6 if alpha == 1.0 else 5)
        b = part[part["boarding"]]
        if len(b):
            ax.scatter(b["x"], b["y"], s=(SCHOOL_PT * BOARD_RING) ** 2, marker="o", facecolors="none",
                       edgecolors="black", linewidths=1.0, alpha=alpha, zorder=6)
    oth = md.others[_in_view(md.others, ext, pad)]
    if len(oth):
        ax.scatter(oth["x"], oth["y"], s=SCHOOL_PT ** 2, marker="X", c="#dddddd", edgecolors="#777777",
                   linewidths=0.7, zorder=5)

    # labels
    if focus is None:
        lab = [(r.x, r.y, r.name, st.TIER_SIZE.get(r.tier, 9) / 2, label_size + 1.5, "bold") for r in
               seats.sort_values("tier", key=lambda s: s.map({t: i for i, t in enumerate(TIER_ZH)})).itertuples()]
        extra = view[full & view["action"].isin(["build", "merge", "close", "convert"]).to_numpy()]
        lab += [(r.x, r.y, f"{r.name}（{r.action_zh}）", SCHOOL_PT / 2 * st.KIND_SIZE.get(r.draw_kind, 1.0),
                 label_size - 1, "normal") for r in extra.itertuples()]
    else:
        own = view[full].copy()
        own["rank"] = (own["action"] == "keep").astype(int)
        own = own.sort_values(["rank", "pupils"], ascending=[True, False])
        lab = [(r.x, r.y, r.name if r.action == "keep" else f"{r.name}（{r.action_zh}）",
                SCHOOL_PT / 2 * st.KIND_SIZE.get(r.draw_kind, 1.0), label_size, "bold") for r in own.itertuples()]
        kv = kids[mine_v].sort_values("children", ascending=False)
        lab += [(r.x, r.y, r.label, float(st.village_size_pt(r.children, village_scale)) / 2, label_size - 0.5,
                 "normal") for r in kv.itertuples()]
    placed, skipped = _labels(ax, lab, family, kids, view, seats)
    return {"placed": placed, "skipped": skipped}


def _labels(ax, lab: list, family: str, kids: pd.DataFrame, schools: pd.DataFrame, seats: pd.DataFrame) -> tuple[int, int]:
    fig = ax.figure
    px = fig.dpi / 72.0
    to_px = ax.transData.transform
    bb = ax.get_window_extent()
    frame = (bb.x0 + 2, bb.y0 + 2, bb.x1 - 2, bb.y1 - 2)
    # symbols not labelled are obstacles too; so are the scale bar (lower left) and north arrow (upper right)
    obs = []
    radius = [np.full(len(kids), 3.0), np.where(schools["boarding"], SCHOOL_PT * BOARD_RING / 2, SCHOOL_PT / 2)
              if len(schools) else np.zeros(0), seats["tier"].map(st.TIER_SIZE).fillna(9.0).to_numpy() / 2]
    for df, r in zip((kids, schools, seats), radius):
        if len(df):
            p = to_px(df[["x", "y"]].to_numpy())
            r = np.asarray(r, float)[:, None] * px
            obs.append(np.column_stack([p - r, p + r]))
    w, h = bb.width, bb.height
    obs.append(np.array([[bb.x0, bb.y0, bb.x0 + 0.32 * w, bb.y0 + 0.11 * h],
                         [bb.x1 - 0.09 * w, bb.y1 - 0.2 * h, bb.x1, bb.y1]]))
    obstacles = np.vstack(obs)
    if not lab:
        return 0, 0
    anchors = to_px(np.array([(x, y) for x, y, *_ in lab]))
    sizes = np.array([text_size_pt(t, fs) for _, _, t, _, fs, _ in lab]) * px
    radii = np.array([r for *_, r, _, _ in lab]) * px
    places = place_labels(anchors, sizes, radii, frame, obstacles, gap=1.5 * px, far=12 * px)
    inv = ax.transData.inverted().transform
    n = 0
    for (x, y, text, _, fs, weight), p in zip(lab, places):
        if p is None:
            continue
        n += 1
        cx, cy = inv((p.x, p.y))
        if p.leader:
            ax.plot([x, cx], [y, cy], color="#555555", lw=0.5, zorder=7)
        ax.text(cx, cy, text, ha="center", va="center", fontsize=fs, fontfamily=family, zorder=8,
                bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.75))
    return n, len(lab) - n


class SheetFigure:
    """One reusable A3 landscape figure: title, ``n`` map panels, legend strip or column, footer."""

    def __init__(self, md: MapData, family: str, n_panels: int, legend_right: bool = False):
        self.md, self.family = md, family
        self.fig = Figure(figsize=A3, dpi=DPI)
        FigureCanvasAgg(self.fig)
        fig = self.fig
        run = md.run
        if legend_right:
            self.axes = [fig.add_axes((0.02, 0.06, 0.70, 0.84))]
        else:
            w = (0.96 - 0.02 * (n_panels - 1)) / n_panels
            self.axes = [fig.add_axes((0.02 + i * (w + 0.02), 0.36, w, 0.52)) for i in range(n_panels)]
        self.title = fig.text(0.02, 0.965, "", fontsize=20, fontfamily=family, va="center")
        self.subtitle = fig.text(0.02, 0.925, "", fontsize=11, fontfamily=family, va="center", color="#333333")
        sizes = (100, 500, 2000)
        groups = st.legend_groups(sizes)
        if md.roads is not None:  # the road layer is drawn: say what it is, after the catchment lines
            title, handles, labels = groups[-1]
            groups[-1] = (title, (*handles, Line2D([], [], color=ROAD_COLOUR, lw=1.2)), (*labels, "道路（路程按路网计算）"))
        if legend_right:
            y = 0.9
            renderer = fig.canvas.get_renderer()
            for title, handles, labels in groups:
                lg = fig.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(0.74, y), frameon=False,
                                prop={"family": family, "size": 9}, title_fontproperties={"family": family,
                                                                                           "size": 10},
                                ncol=2 if len(labels) > 5 else 1, alignment="left", borderaxespad=0)
                y -= lg.get_window_extent(renderer).height / fig.bbox.height + 0.025
        else:
            xs = (0.02, 0.17, 0.40, 0.52, 0.66)
            for x, (title, handles, labels) in zip(xs, groups):
                fig.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(x, 0.30), frameon=False,
                           prop={"family": family, "size": 9}, ncol=2 if title.startswith("学校类型") else 1,
                           title_fontproperties={"family": family, "size": 10}, alignment="left",
                           borderaxespad=0)
        meta = run.region.meta
        epsg = run.region.metric_crs.to_epsg()
        foot = (f"数据：{meta.name}区域数据包（学校统计基准年 {run.base_year}）；需求按{_variant_zh(run)}方案；"
                f"情景 {run.scenario_name}；运行日期 {run.created}；坐标 WGS-84，按 UTM（EPSG:{epsg}）绘制，比例尺为公里。")
        fig.text(0.02, 0.012, foot, fontsize=8.5, fontfamily=family, color="#333333", va="bottom")
        fig.text(0.02, 0.032, f"路程（公里）：{basis_zh(run.region, run.policy)}", fontsize=8.5, fontfamily=family,
                 color="#333333", va="bottom")
        if run.synthetic:
            fig.text(0.98, 0.965, "示意数据", fontsize=20, fontfamily=family, color="#b10026",
                     ha="right", va="center")
            fig.text(0.98, 0.925, st.NOTE_SYNTHETIC, fontsize=10, fontfamily=family, color="#b10026", ha="right",
                     va="center")
        if getattr(run.region, "boundary_derived", False):  # no boundary file: drawn around the points
            fig.text(0.98, 0.012, NOTE_BOUNDARY_DERIVED, fontsize=10, fontfamily=family, color="#b10026", ha="right",
                     va="bottom")

    def furniture(self, ax) -> None:
        st.scale_bar(ax, self.family)
        st.north_arrow(ax, self.family)

    def save(self, stem: Path) -> list[Path]:
        with plt.rc_context({"pdf.fonttype": 42, "ps.fonttype": 42}):
            self.fig.savefig(stem.with_suffix(".png"), dpi=DPI, pil_kwargs={"compress_level": 1})
            self.fig.savefig(stem.with_suffix(".pdf"))
        return [stem.with_suffix(".png"), stem.with_suffix(".pdf")]


def _variant_zh(run) -> str:
    return {"low": "低", "mid": "中", "high": "高"}.get(getattr(run.policy, "design_variant", "mid"), "中")


def _period_line(run, period: int, township_id: str | None = None) -> str:
    s = run.summary[run.summary["period"] == period]
    if township_id is not None:
        s = s[s["township_id"] == township_id]
    un = s["unserved"].sum()
    text = f"{period} 年：学生 {s['pupils'].sum():,.0f} 人，学位 {s['places'].sum():,.0f} 个"
    return text + (f"，未安排 {un:,.0f} 人" if un >= 0.5 else "")


def render_overview(md: MapData, out_dir: Path, family: str) -> list[Path]:
    """One county overview sheet per period; returns the files written."""
    run = md.run
    sheet = SheetFigure(md, family, 1, legend_right=True)
    ax = sheet.axes[0]
    pos = ax.get_position()
    aspect = (pos.width * A3[0]) / (pos.height * A3[1])
    bx0, by0, bx1, by1 = md.boundary.bounds
    ext = _frame(np.array([bx0, bx1]), np.array([by0, by1]), aspect, margin=0.03)
    cache = _PeriodCache(md)
    paths = []
    for period in run.periods:
        draw_panel(ax, md, cache, period, family, ext, focus=None, village_scale=0.8, label_size=8.0)
        sheet.furniture(ax)
        sheet.title.set_text(f"{run.region.meta.name}学校布局总图（{period} 年）")
        sheet.subtitle.set_text(_period_line(run, period) + f"；学段：学前、小学、初中、普通高中；情景 {run.scenario_name}")
        paths += sheet.save(out_dir / f"overview_{period}")
    return paths


def _township_extent(md: MapData, tid: str, aspect: float):
    pts = [md.nodes.loc[md.nodes["township_id"] == tid, ["x", "y"]],
           md.sites.loc[md.sites["township_id"] == tid, ["x", "y"]],
           md.seats.loc[md.seats["township_id"] == tid, ["x", "y"]]]
    xy = pd.concat(pts).dropna().to_numpy()
    return _frame(xy[:, 0], xy[:, 1], aspect)


class TownshipRenderer:
    """Draws township sheets into one reused figure (one per process)."""

    def __init__(self, md: MapData, family: str):
        self.md, self.family = md, family
        self.sheet = SheetFigure(md, family, len(md.run.periods))
        pos = self.sheet.axes[0].get_position()
        self.aspect = (pos.width * A3[0]) / (pos.height * A3[1])
        self.cache = _PeriodCache(md)
        self.names = md.run.township_names()

    def draw(self, tid: str) -> dict:
        run, sheet = self.md.run, self.sheet
        ext = _township_extent(self.md, tid, self.aspect)
        stats = {"placed": 0, "skipped": 0}
        for ax, period in zip(sheet.axes, run.periods):
            s = draw_panel(ax, self.md, self.cache, period, self.family, ext, focus=tid)
            stats = {k: stats[k] + s[k] for k in stats}
            self.sheet.furniture(ax)
            ax.set_title(_period_line(run, period, tid), fontsize=11, fontfamily=self.family, loc="left")
        name = self.names.get(tid, tid)
        sheet.title.set_text(f"{run.region.meta.name}{name}学校布局图")
        sheet.subtitle.set_text(f"乡镇听证会用图：各规划期（左→右 {'、'.join(map(str, run.periods))} 年）本乡镇的村（社区）、"
                                f"学校与就学路线；周边乡镇淡显；情景 {run.scenario_name}")
        return stats

    def render(self, tid: str, out_dir: Path) -> list[Path]:
        self.draw(tid)
        return self.sheet.save(out_dir / township_file(tid, self.names.get(tid, tid)))


_SHARED: dict = {}  # set in the parent before the pool forks: workers inherit it instead of unpickling the run
_WORKER: dict = {}


def _task(kind: str, tids: list[str], out_dir: str) -> list[str]:
    md, family = _SHARED["md"], _SHARED["family"]
    if kind == "overview":
        return [str(p) for p in render_overview(md, Path(out_dir), family)]
    if "r" not in _WORKER:
        _WORKER["r"] = TownshipRenderer(md, family)
    return [str(p) for tid in tids for p in _WORKER["r"].render(tid, Path(out_dir))]


def render_all(md: MapData, out_dir: Path, family, township_ids: list[str] | None = None, overview: bool = True,
               workers: int | None = None, chunk: int = 4) -> list[Path]:
    """Overview sheets and township sheets (all townships by default), spread over ``workers`` processes
    (default: up to 2) in chunks of ``chunk`` townships; each process reuses one figure. Inside a Dask
    worker (a variant of ``xuewei batch --dask``) or another daemonic process the sheets are drawn one
    by one: such a process may not start a pool (`xuewei.optimizer.dask_solve.can_start_pool`)."""
    tids = list(md.run.region.townships["township_id"]) if township_ids is None else list(township_ids)
    tasks = ([("overview", [])] if overview else []) + [("townships", tids[i:i + chunk])
                                                         for i in range(0, len(tids), chunk)]
    workers = min(workers or min(2, os.cpu_count() or 1), len(tasks))
    if workers <= 1 or len(tids) < 4 or not can_start_pool():
        paths = render_overview(md, out_dir, family) if overview else []
        r = TownshipRenderer(md, family)
        return paths + [p for tid in tids for p in r.render(tid, out_dir)]
    _SHARED.update(md=md, family=family)
    _WORKER.clear()
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=guard_worker) as pool:
            futures = [pool.submit(_task, kind, chunk_ids, str(out_dir)) for kind, chunk_ids in tasks]
            parts = [f.result() for f in futures]
    finally:
        _SHARED.clear()
    return [Path(p) for part in parts for p in part]


def write_maps(run, out_dir: Path, township_ids: list[str] | None = None, overview: bool = True,
               workers: int | None = None) -> list[Path]:
    """Overview sheets and township sheets of a `RunTables` into ``out_dir``; returns the files written."""
    from xuewei.reports.fonts import map_fonts, run_text

    family = map_fonts(run_text(run))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return render_all(MapData.build(run), out_dir, family, township_ids, overview, workers)
