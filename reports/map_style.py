"""Map symbols and furniture: action colours, school markers, legend, scale bar, north arrow.

Everything takes the CJK font family explicitly (`xuewei.forecaster.report.cjk_font`), so no global
rc setting is touched.
"""

from __future__ import annotations

import math

from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Rectangle

from xuewei.labels import ACTION_ZH, KIND_ZH, STAGE_ZH, TIER_ZH

ACTION_COLOUR = {"keep": "#bdbdbd", "expand": "#2171b5", "shrink": "#8c6bb1", "build": "#31a354", "merge": "#fd8d3c",
                 "close": "#de2d26", "convert": "#e6ab02"}
KIND_MARKER = {"kindergarten": "o", "primary": "s", "teaching_point": "v", "junior": "^", "nine_year": "D",
               "complete_secondary": "p", "twelve_year": "h", "senior": "*", "vocational": "X", "special": "X"}
KIND_SIZE = {"senior": 1.5, "teaching_point": 0.8}
STAGE_COLOUR = {"kindergarten": "#e7298a", "primary": "#1b9e77", "junior": "#7570b3", "senior": "#a6761d"}
TIER_SIZE = {"county_seat": 16.0, "cluster_centre": 13.0, "central_town": 11.0, "township_seat": 9.0}  # [pt]
SEAT_MARKER = "H"
VILLAGE_COLOUR = "#8c8c8c"
UNSERVED_COLOUR = "#b10026"
NOTE_SYNTHETIC = "示意数据：本区域部分数据为合成，仅作方法演示，不能作为决策依据"


def village_size_pt(children, scale: float = 1.0):
    """Marker diameter of a village [pt], its area proportional to its school-age children."""
    import numpy as np

    return scale * (2.5 + 0.45 * np.sqrt(np.maximum(np.asarray(children, dtype=float), 0.0)))


def legend_groups(sizes: tuple[float, ...], scale: float = 1.0) -> list[tuple[str, list, list]]:
    """Legend entries, grouped: (title, handles, labels)."""
    def mk(marker, face, edge="#333333", size=8.0, lw=0.6, **kw):
        return Line2D([], [], linestyle="", marker=marker, markerfacecolor=face, markeredgecolor=edge,
                      markersize=size, markeredgewidth=lw, **kw)

    actions = [(mk("o", ACTION_COLOUR[a]), ACTION_ZH[a]) for a in ACTION_COLOUR]
    kinds = [(mk(KIND_MARKER[k], "white", size=8.0 * KIND_SIZE.get(k, 1.0)), KIND_ZH[k])
             for k in ("kindergarten", "primary", "teaching_point", "junior", "nine_year", "complete_secondary",
                       "twelve_year", "senior")]
    kinds.append((mk("X", "#dddddd", "#777777"), "中职、特教（未优化）"))
    kinds.append((mk("o", "none", "black", size=13, lw=1.6), "寄宿制（有床位）"))
    seats = [(mk(SEAT_MARKER, "white", "black", size=TIER_SIZE[t] * 0.8, lw=1.2), TIER_ZH[t]) for t in TIER_SIZE]
    villages = [(mk("o", VILLAGE_COLOUR, "white", size=float(village_size_pt(n, scale)), lw=0.4, alpha=0.7),
                 f"{n:,.0f} 名学龄儿童") for n in sizes]
    villages.append((mk("o", VILLAGE_COLOUR, UNSERVED_COLOUR, size=9, lw=1.5), "有学生未能安排"))
    lines = [(Line2D([], [], color=STAGE_COLOUR[g], lw=1.4), f"{STAGE_ZH[g]}就学") for g in STAGE_COLOUR]
    lines.append((Line2D([], [], color="#555555", lw=1.2, ls=(0, (3, 2))), "寄宿就读"))
    return [("学校调整", *zip(*actions)), ("学校类型（形状）", *zip(*kinds)), ("乡镇驻地", *zip(*seats)),
            ("村（社区）", *zip(*villages)), ("就学路线（村→学校）", *zip(*lines))]


def nice_length_km(width_km: float) -> float:
    """A round scale-bar length near a fifth of the map width [km]."""
    target = width_km / 5.0
    for step in (0.2, 0.5, 1, 2, 5, 10, 20, 50, 100):
        if step >= target * 0.5:
            return float(step)
    return float(10 ** math.floor(math.log10(target)))


def scale_bar(ax, family: str, fontsize: float = 7.0) -> list:
    """A two-segment scale bar in km at the lower left (axes in metres, equal aspect); returns its artists."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length_km = nice_length_km((x1 - x0) / 1000.0)
    L = length_km * 1000.0
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    arts = [ax.add_patch(Rectangle((bx, by), L / 2, h, facecolor="black", edgecolor="black", lw=0.6, zorder=20)),
            ax.add_patch(Rectangle((bx + L / 2, by), L / 2, h, facecolor="white", edgecolor="black", lw=0.6, zorder=20))]
    bg = ax.add_patch(Rectangle((bx - 0.015 * (x1 - x0), by - 0.5 * h), L + 0.09 * (x1 - x0), 4.2 * h,
                                facecolor="white", edgecolor="none", alpha=0.8, zorder=19))
    arts.append(bg)
    label = f"{length_km:g} 公里"
    for xx, txt in ((bx, "0"), (bx + L, label)):
        arts.append(ax.text(xx, by + 1.6 * h, txt, ha="center" if txt == "0" else "left", va="bottom",
                            fontsize=fontsize, fontfamily=family, zorder=21))
    return arts


def north_arrow(ax, family: str) -> list:
    """An arrow with 北 at the upper right, of fixed size (the map's y axis points to grid north)."""
    a = ax.annotate("北", xy=(0.95, 0.97), xytext=(0.95, 0.87), xycoords="axes fraction", ha="center", va="top",
                    fontsize=10, fontfamily=family, zorder=21,
                    arrowprops=dict(facecolor="black", edgecolor="black", width=3, headwidth=10, headlength=9, shrink=0))
    return [a]
