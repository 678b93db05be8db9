"""Published fertility projections by variant, for the low/high birth variants of the forecast.

``data/birth_projections.csv`` cites a few published figures, one row per area × indicator ×
variant × year, each with its source, edition, URL, the repository, commit and path it was read
from, and its licence. Today it holds the UN *World Population Prospects 2024* total fertility rate
(TFR) of China, low/medium/high variants, 2024–2038 (low/high = medium ∓ ½ child, phased in by WPP:
∓0.25 in 2024–2028, ∓0.4 in 2029–2033, ∓0.5 from 2034).

The forecast keeps a region's own level of births (its medium path) and applies, year by year, the
ratio variant ÷ medium of the projection. For TFR this is the ratio of births as long as the women
of child-bearing age are the same in all variants — about 15 years after the projection starts
(2024 + 14 = 2038, the last year cited): the variants differ only in fertility. A province's own
projection (``area_code`` = the first two digits of the county's administrative code) is preferred
to the country's when the table has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from xuewei.data.paths import DATA_DIR

TABLE = DATA_DIR / "birth_projections.csv"
COLUMNS = ("area_code", "area_name", "indicator", "variant", "year", "value", "unit", "edition", "source",
           "url", "repo", "commit", "path", "licence")
TABLE_VARIANTS = ("low", "medium", "high")
#: forecast variant → table variant
VARIANT_OF = {"low": "low", "mid": "medium", "high": "high"}
COUNTRY_CODE = "CN"  #: the country of every county with a 6-digit Chinese administrative code


@dataclass(frozen=True)
class BirthProjection:
    """One area's published projection: the variant ÷ medium ratios by year and where they come from."""

    area_code: str
    area_name: str
    indicator: str
    edition: str
    source: str
    url: str
    citation: str  #: repository, commit and paths the figures were read from
    licence: str
    years: np.ndarray  #: years of the cited figures, consecutive [年]
    ratio: dict[str, np.ndarray]  #: table variant → value ÷ medium value, aligned with ``years``

    def ratios(self, years: list[int] | np.ndarray, variants: tuple[str, ...]) -> dict[str, dict[int, float]]:
        """Ratio to the medium path for each forecast variant (low|mid|high) and year.

        Years before the first cited year get 1 (the projection's variants start there; earlier
        years are estimates, the same in every variant); years after the last hold its ratio.

        >>> p = BirthProjection("CN", "中国", "tfr", "E", "S", "U", "C", "L", np.array([2024, 2025]),
        ...                     {"low": np.array([0.8, 0.7]), "medium": np.array([1.0, 1.0]), "high": np.array([1.2, 1.3])})
        >>> p.ratios([2023, 2025, 2030], ("low", "mid"))
        {'low': {2023: 1.0, 2025: 0.7, 2030: 0.7}, 'mid': {2023: 1.0, 2025: 1.0, 2030: 1.0}}
        """
        years = np.asarray(years, dtype=int)
        idx = np.clip(years - self.years[0], 0, len(self.years) - 1)
        out = {}
        for v in variants:
            r = self.ratio[VARIANT_OF[v]][idx]
            out[v] = {int(y): float(1.0 if y < self.years[0] else x) for y, x in zip(years, r)}
        return out

    def describe(self, years: tuple[int, ...]) -> str:
        """Chinese description with the ratios of a few years, e.g. for the forecast notes."""
        cells = []
        for y in years:
            if self.years[0] <= y <= self.years[-1]:
                i = y - self.years[0]
                cells.append(f"{y} 年 {self.ratio['low'][i]:.2f}/{self.ratio['high'][i]:.2f}")
        return (f"{self.source}（{self.edition}，{self.url}），{self.area_name}{_INDICATOR_ZH.get(self.indicator, self.indicator)}"
                f"低/中/高方案，低、高方案 ÷ 中方案：{'，'.join(cells)}；许可 {self.licence}；取自 {self.citation}")


_INDICATOR_ZH = {"tfr": "总和生育率", "births": "出生数"}


def read_table(path: str | Path = TABLE) -> pd.DataFrame:
    """The projection table, checked: every column present, values > 0, each area × indicator × year
    with all three variants, years consecutive per area.

    Raises
    ------
    ValueError
        Naming the file and what is wrong (the table ships with the package; a broken copy is a bug).
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: 缺少列 {missing}")
    df["year"] = df["year"].astype(int)
    df["value"] = df["value"].astype(float)
    if (df["value"] <= 0).any() or not df["variant"].isin(TABLE_VARIANTS).all():
        raise ValueError(f"{path}: value 须为正数，variant 须为 {TABLE_VARIANTS} 之一")
    counts = df.groupby(["area_code", "indicator", "year"])["variant"].nunique()
    if (counts != len(TABLE_VARIANTS)).any() or df.duplicated(["area_code", "indicator", "year", "variant"]).any():
        raise ValueError(f"{path}: 每个地区 × 指标 × 年份须恰有低、中、高三个方案各一行")
    for (area, ind), g in df.groupby(["area_code", "indicator"]):
        ys = np.sort(g["year"].unique())
        if (np.diff(ys) != 1).any():
            raise ValueError(f"{path}: 地区 {area} 的 {ind} 年份不连续")
    return df


@lru_cache(maxsize=4)
def _table(path: str) -> pd.DataFrame:
    return read_table(path)


def projection_for(admin_code: str | None, path: str | Path = TABLE) -> BirthProjection | None:
    """The projection that applies to a county: its province's (first two digits of the 6-digit
    administrative code) if the table has one, else China's; None when the code is not a Chinese
    county code or the table has neither.

    >>> projection_for("500238").area_name, projection_for("500238").edition
    ('中国', 'WPP 2024')
    >>> projection_for(None) is None, projection_for("ECASD") is None
    (True, True)
    """
    code = str(admin_code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        return None
    df = _table(str(path))
    for area in (code[:2], COUNTRY_CODE):
        rows = df[df["area_code"] == area]
        if rows.empty:
            continue
        indicator = "births" if (rows["indicator"] == "births").any() else rows["indicator"].iloc[0]
        rows = rows[rows["indicator"] == indicator]
        wide = rows.pivot(index="year", columns="variant", values="value").sort_index()
        first = rows.iloc[0]
        paths = "、".join(sorted(rows["path"].unique()))
        return BirthProjection(
            area_code=area, area_name=str(first["area_name"]), indicator=indicator, edition=str(first["edition"]),
            source=str(first["source"]), url=str(first["url"]),
            citation=f"{first['repo']} 提交 {str(first['commit'])[:12]} 的 {paths}", licence=str(first["licence"]),
            years=wide.index.to_numpy(int),
            ratio={v: (wide[v] / wide["medium"]).to_numpy(float) for v in TABLE_VARIANTS},
        )
    return None
