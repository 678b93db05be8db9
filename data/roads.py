"""The optional road layer of a region pack (``roads.geojson`` / ``.gpkg`` / ``.shp``): read and validate it.

Each feature is a line (LineString or MultiLineString) in the CRS of ``region.toml``'s ``roads_crs``
(default: ``crs``), like the boundary file. Two optional attribute columns say how fast a line is
travelled:

- a **class** column (``class``, ``road_class``, ``等级``, ``道路等级``, ``技术等级``, ``highway``, ``fclass``):
  the administrative class in Chinese (高速/国道/省道/县道/乡道/村道, also 城市道路, 机耕道, 步道) or the
  OpenStreetMap ``highway`` value (``trunk``, ``tertiary``, ``track`` …), see `ROAD_CLASSES`;
- a **speed** column (``speed_kmh``, ``速度``, ``车速``, ``设计速度``) [km/h], which wins over the class.

A line with neither travels at the policy's speed for class ``unknown``. Every problem of the file
(unreadable file, a feature that is not a line, an unknown class, a speed that is not a number in
0–150 km/h) is listed in one `InputError` naming file, row (the first feature is row 2, as in the
point layers) and field.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import CRS

from xuewei.data import crs as crsmod
from xuewei.data.tables import did_you_mean, normalise_value
from xuewei.errors import InputError, Problem

# code → (Chinese name, accepted writings). OSM ``highway`` values follow the usual tagging of
# Chinese roads in OpenStreetMap (motorway = 高速, trunk = 国道, primary = 省道, secondary = 县道,
# tertiary = 乡道, unclassified = 村道).
ROAD_CLASSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "expressway": ("高速公路", ("高速", "高速公路", "高速路", "motorway", "motorway_link")),
    "national": ("国道", ("国道", "国省道", "一级公路", "trunk", "trunk_link")),
    "provincial": ("省道", ("省道", "二级公路", "primary", "primary_link")),
    "county": ("县道", ("县道", "三级公路", "secondary", "secondary_link")),
    "township": ("乡道", ("乡道", "四级公路", "tertiary", "tertiary_link")),
    "village": ("村道", ("村道", "村级公路", "通村公路", "农村公路", "unclassified", "road")),
    "street": ("城镇街道", ("城市道路", "城镇道路", "街道", "街巷", "residential", "living_street", "service")),
    "track": ("机耕道、便道", ("机耕道", "机耕路", "便道", "等外公路", "track")),
    "path": ("步道", ("步道", "人行道", "小路", "山路", "footway", "path", "pedestrian", "steps", "cycleway",
                      "bridleway")),
    "unknown": ("未分级道路", ("未知", "其他", "其它", "未分级")),
}
CLASS_COLUMNS = ("class", "road_class", "等级", "道路等级", "技术等级", "行政等级", "highway", "fclass")
SPEED_COLUMNS = ("speed_kmh", "速度", "车速", "设计速度", "速度_kmh")
MAX_SPEED_KMH = 150.0
SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")


def class_code(value) -> str | None:
    """The class code of one writing (``"县道"`` → ``"county"``, ``"Tertiary"`` → ``"township"``), an empty
    cell → ``""``, an unknown writing → None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    key = normalise_value(value)
    if key in ("", "nan", "none", "null"):
        return ""
    for code, (_, names) in ROAD_CLASSES.items():
        if key == code or key in (normalise_value(n) for n in names):
            return code
    return None


def _column(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    norm = {normalise_value(c): c for c in df.columns}
    for n in names:
        if normalise_value(n) in norm:
            return norm[normalise_value(n)]
    return None


def read_roads(path, label: str, crs: str | CRS):
    """The road layer as a WGS-84 GeoDataFrame of single lines.

    Parameters
    ----------
    path : path-like
        The road file (GeoPackage, GeoJSON or Shapefile).
    label : str
        How messages name the file.
    crs : str or pyproj.CRS
        The CRS of the file's coordinates (`xuewei.data.crs.parse_crs`); GeoJSON always claims
        EPSG:4326, so ``region.toml`` says what the coordinates are, as for the boundary.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per line part (MultiLineStrings exploded): ``row`` (the feature's row in the file,
        first feature = 2), ``road_class`` (code of `ROAD_CLASSES`, ``""`` when not given),
        ``speed_kmh`` [km/h] (NaN when not given), geometry in WGS-84 lon/lat.

    Raises
    ------
    InputError
        Listing every feature that is not a non-empty line, every unknown class and every bad speed.
    """
    import geopandas as gpd
    import shapely

    try:
        gdf = gpd.read_file(path)
    except Exception as err:
        raise InputError(Problem(file=label, expected="可读取的道路图层（GeoPackage/GeoJSON/Shapefile）",
                                 found=str(err))) from None
    if gdf.empty:
        raise InputError(Problem(file=label, expected="至少一条道路（线要素）", found="空图层"))
    problems: list[Problem] = []
    geom = gdf.geometry
    kinds = geom.geom_type.fillna("空").to_numpy()
    bad = geom.isna().to_numpy() | ~np.isin(kinds, ["LineString", "MultiLineString"])
    bad |= ~bad & geom.is_empty.to_numpy()
    for i in np.flatnonzero(bad)[:20]:
        problems.append(Problem(file=label, row=int(i) + 2, field="geometry", expected="线要素（LineString/MultiLineString）",
                                found="空几何" if kinds[i] in ("LineString", "MultiLineString") else str(kinds[i]),
                                hint="道路图层只放道路中心线；点、面请删去。"))
    n = len(gdf)
    codes = np.full(n, "", dtype=object)
    ccol = _column(gdf, CLASS_COLUMNS)
    if ccol is not None:
        choices = {name: code for code, (_, names) in ROAD_CLASSES.items() for name in names + (code,)}
        gloss = {code: zh for code, (zh, _) in ROAD_CLASSES.items()}
        values = gdf[ccol].to_numpy(dtype=object)
        text = pd.Series(values).astype(str)
        mapped = text.map({v: class_code(v) for v in text.unique()})  # once per distinct writing
        mapped[pd.isna(gdf[ccol]).to_numpy()] = ""
        unknown = np.flatnonzero(mapped.isna().to_numpy()).tolist()
        codes = np.where(mapped.isna(), "", mapped).astype(object)
        for i in unknown[:20]:
            near = did_you_mean(str(values[i]), choices, gloss)
            problems.append(Problem(
                file=label, row=i + 2, field=ccol, expected="道路等级：" + "、".join(zh for zh, _ in ROAD_CLASSES.values())
                + "，或 OpenStreetMap 的 highway 值", found=str(values[i]),
                hint=(near or "") + "规划中的、在建的道路请删去，或把该列清空并在速度列写车速。"))
    speed = np.full(n, np.nan)
    scol = _column(gdf, SPEED_COLUMNS)
    if scol is not None:
        raw = gdf[scol]
        text = raw.astype(str).str.strip()
        empty = raw.isna().to_numpy() | text.isin(["", "nan", "None"]).to_numpy()
        num = pd.to_numeric(text.map(lambda s: normalise_value(s)), errors="coerce").to_numpy(float)
        wrong = ~empty & ~((num > 0) & (num <= MAX_SPEED_KMH))
        for i in np.flatnonzero(wrong)[:20]:
            problems.append(Problem(file=label, row=int(i) + 2, field=scol, expected=f"车速 0–{MAX_SPEED_KMH:g} km/h 的数",
                                    found=str(raw.iloc[i])))
        speed = np.where(~empty & ~wrong, num, np.nan)
    if problems:
        raise InputError(problems)
    geoms = geom.to_numpy()
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    problem = crsmod.degrees_under_projected_crs((x0, y0, x1, y1), crs, label, "道路", "roads_crs（缺省同 crs）")
    if problem:
        raise InputError(problem)
    if crsmod.is_geographic(crs) and not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InputError(Problem(file=label, field="crs", expected="经纬度坐标（−180…180, −90…90）",
                                 found=f"坐标范围 {x0:.0f}…{x1:.0f}, {y0:.0f}…{y1:.0f}",
                                 hint="坐标像投影坐标（米）：请在 region.toml 中写 roads_crs（如 \"EPSG:4547\"）。"))

    out = gpd.GeoDataFrame({"row": np.arange(n) + 2, "road_class": codes, "speed_kmh": speed},
                           geometry=crsmod.geometry_to_wgs84(geoms, crs), crs=crsmod.WGS84)
    out = out.explode(index_parts=False).reset_index(drop=True)
    return out[~out.geometry.is_empty & (shapely.get_num_coordinates(out.geometry.to_numpy()) >= 2)].reset_index(drop=True)
