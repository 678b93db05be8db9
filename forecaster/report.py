"""Outputs of a forecast: ``demand.csv`` and one chart per stage (Chinese labels, no network).

The CJK font is the Noto Sans CJK SC file bundled with ``mplfonts`` (``mplfonts.conf.FONT_DIR``),
registered with matplotlib's font manager; nothing is downloaded and no rc file is changed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from xuewei.forecaster.config import STAGE_ZH, STAGES, VARIANT_ZH  # noqa: E402
from xuewei.forecaster.demand import OUTPUT_COLUMNS  # noqa: E402

FONT_FILE = "NotoSansCJKsc-Regular.otf"
VARIANT_COLOUR = {"low": "#2b83ba", "mid": "#333333", "high": "#d7191c"}


def cjk_font() -> str:
    """Register the bundled Noto Sans CJK SC font and return its family name.

    Raises
    ------
    FileNotFoundError
        If the installed ``mplfonts`` lacks the font file.
    """
    from mplfonts.conf import FONT_DIR

    path = os.path.join(FONT_DIR, FONT_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mplfonts 中找不到字体文件 {path}")
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def write_demand_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``demand.csv`` (UTF-8 with BOM so Excel shows Chinese) atomically.

    Columns: `demand.OUTPUT_COLUMNS`, in that order; pupils rounded to 0.001 [pupils].
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df[OUTPUT_COLUMNS].copy()
    for col in ("pupils", "pupils_all", "pupils_public", "pupils_inclusive", "pupils_lo", "pupils_hi"):
        out[col] = out[col].round(3)
    out["classes_needed"] = out["classes_needed"].astype(int)
    out["places_needed"] = out["places_needed"].astype(int)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".demand-", suffix=".csv")
    os.close(fd)
    try:
        out.to_csv(tmp, index=False, encoding="utf-8-sig")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def stage_series(df: pd.DataFrame) -> pd.DataFrame:
    """County totals by stage × variant × year: ``pupils, pupils_lo, pupils_hi`` [pupils]."""
    return df.groupby(["stage", "variant", "year"], as_index=False)[["pupils", "pupils_lo", "pupils_hi"]].sum()


def plot_stage(df: pd.DataFrame, stage: str, path: str | Path, title_prefix: str = "") -> Path:
    """Chart pupils by year for one stage: a line per variant, the band shaded around each.

    Parameters
    ----------
    df : DataFrame
        Output of `forecast_demand` (any subset of nodes; they are summed).
    stage : str
        kindergarten|primary|junior|senior.
    path : str or Path
        PNG file to write.
    title_prefix : str
        E.g. the county name.
    """
    family = cjk_font()
    series = stage_series(df[df["stage"] == stage])
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    with plt.rc_context({"font.family": family}):
        for variant in ("low", "mid", "high"):
            s = series[series["variant"] == variant].sort_values("year")
            if s.empty:
                continue
            colour = VARIANT_COLOUR[variant]
            ax.fill_between(s["year"], s["pupils_lo"], s["pupils_hi"], color=colour, alpha=0.12, linewidth=0)
            ax.plot(s["year"], s["pupils"], color=colour, marker="o", markersize=3, label=VARIANT_ZH[variant])
        level = df.attrs.get("band_level", 0.8)
        ax.fill_between([], [], [], color="#999999", alpha=0.25, label=f"{level:.0%} 误差带")
        ax.set_title(f"{title_prefix}{STAGE_ZH[stage]}在校生预测", fontfamily=family)
        ax.set_xlabel("年份", fontfamily=family)
        ax.set_ylabel("学生数（人）", fontfamily=family)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(prop={"family": family}, frameon=False)
        ymax = np.nanmax(series["pupils_hi"]) if len(series) else 1.0
        ax.set_ylim(0, ymax * 1.08 if ymax > 0 else 1.0)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    plt.close(fig)
    return path


def write_outputs(df: pd.DataFrame, out_dir: str | Path, title_prefix: str = "") -> list[Path]:
    """``demand.csv`` plus ``demand_<stage>.png`` for every stage present; returns the paths."""
    out_dir = Path(out_dir)
    paths = [write_demand_csv(df, out_dir / "demand.csv")]
    for stage in STAGES:
        if (df["stage"] == stage).any():
            paths.append(plot_stage(df, stage, out_dir / f"demand_{stage}.png", title_prefix))
    return paths
