"""A region pack (``data/regions/<id>/``): load every table, validate it, tie it together.

The pack's files and columns are documented in ``docs/data-format.md``; each table's columns come
from ``data/schema/<table>.csv``. Loading checks each file on its own (types, ranges, allowed values,
unique ids), then across files (every township, school and node referred to exists), then
geography (coordinates plausible, inside the county boundary, lat/lon not swapped).
All coordinates are converted to WGS-84 on load (columns ``lon``, ``lat``); the input values are
kept as ``lon_input``, ``lat_input``. Distances use the region's UTM zone (`Region.metric_crs`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from pyproj import CRS

from xuewei.data import crs as crsmod
from xuewei.data.paths import PACKAGE_ROOT, REGIONS_DIR
from xuewei.data.tables import TABLE_SUFFIXES, read_table
from xuewei.data.tomlio import read_toml, validate_model
from xuewei.errors import InputError, Problem

log = logging.getLogger("xuewei")

# table name → (required?, id column that must be unique)
TABLES: dict[str, tuple[bool, str | None]] = {
    "townships": (True, "township_id"),
    "nodes": (True, "node_id"),
    "schools": (True, "school_id"),
    "school_stages": (True, None),
    "candidate_sites": (False, "site_id"),
    "births": (True, None),
    "population_by_age": (False, None),
    "migration": (False, None),
    "housing": (False, None),
    "grades": (False, None),
}
POINT_TABLES = {"townships": ("seat_lon", "seat_lat"), "nodes": ("lon", "lat"), "schools": ("lon", "lat"),
                "candidate_sites": ("lon", "lat")}
BOUNDARY_TOLERANCE_M = 2000.0  # a point this close outside the boundary is accepted (boundaries are simplified)


class RegionMeta(BaseModel):
    """``region.toml``: what the region is and how its files are to be read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="区域编号，与文件夹同名")
    name: str = Field(description="区域名称，如 巫溪县")
    admin_code: str = Field(description="行政区划代码，如 500238")
    province: str = ""
    crs: str = Field(description='坐标系："EPSG:4326"、"EPSG:4490" 等，或网络地图坐标 "gcj02"、"bd09"')
    boundary_crs: str | None = Field(default=None, description="边界文件坐标系；缺省同 crs")
    base_year: int = Field(ge=1949, le=2100, description="基准年（学校统计年份）")
    plan: str | None = Field(default=None, description="对应的规划编号（data/plans/<id>.toml）")
    synthetic: bool = Field(default=False, description="是否含示意（合成）数据；为真时所有图表标注“示意数据”")
    synthetic_parts: list[str] = Field(default_factory=list)
    description: str = ""
    provenance: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict, description="覆盖默认文件名，如 schools = \"学校.xlsx\"")


@dataclass
class Region:
    """A loaded, validated region. Tables are pandas frames with WGS-84 ``lon``/``lat``."""

    meta: RegionMeta
    path: Path
    boundary: Any  # geopandas.GeoDataFrame in WGS-84
    tables: dict[str, pd.DataFrame]
    metric_crs: CRS
    files: dict[str, Path] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame | None:
        tables = self.__dict__.get("tables", {})
        if name in TABLES:
            return tables.get(name)
        raise AttributeError(name)

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.tables.items()}


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def allowed_roots(base: Path) -> list[Path]:
    """Where a relative path written in a file in folder ``base`` may lead: that folder, the folder
    above it (the usual ``scenarios/`` beside ``regions/`` layout), and the xuewei package."""
    base = base.resolve()
    return [base, base.parent, PACKAGE_ROOT]


def check_inside(path: Path, base: Path, label: str, field: str, ref: str, row: int | None = None) -> None:
    """Refuse a relative reference that climbs (``..``) out of the allowed roots of ``base``."""
    resolved = path.resolve()
    if not any(_inside(resolved, root) for root in allowed_roots(base)):
        raise InputError(Problem(file=label, row=row, field=field, expected="位于情景文件所在文件夹（或其上一级）内的相对路径，或绝对路径",
                                 found=ref, hint="相对路径用“..”跳出了情景所在的文件夹树；如确需引用别处的数据，请写绝对路径。"))


def resolve_region_path(ref: str | Path, base: Path | None = None, label: str | None = None,
                        row: int | None = None) -> Path:
    """A region given as a folder path or as a bundled region id.

    With ``base`` (the folder of the scenario that names the region), a relative path is taken
    relative to ``base`` only — never to the current directory, so a scenario means the same
    wherever it is run from — and must stay inside `allowed_roots` (an absolute path is taken as
    written). Without ``base`` (a path typed on the command line) it is relative to the current
    directory. A bare name is also looked up among the bundled regions.
    """
    ref_path = Path(ref)
    candidates = [ref_path] if ref_path.is_absolute() else []
    if not ref_path.is_absolute():
        if base is not None:
            cand = base / ref_path
            if (cand / "region.toml").is_file():
                check_inside(cand, base, label or str(base), "region", str(ref), row)
            candidates.append(cand)
        else:
            candidates.append(Path.cwd() / ref_path)
        if len(ref_path.parts) == 1:
            candidates.append(REGIONS_DIR / str(ref))
    for cand in candidates:
        if (cand / "region.toml").is_file():
            return cand.resolve()
    raise InputError(Problem(file=label or str(ref), row=row, field="region", expected="含 region.toml 的区域文件夹或内置区域编号",
                             found=str(ref), hint="内置区域：" + "、".join(sorted(p.name for p in REGIONS_DIR.iterdir()
                                                                              if (p / "region.toml").is_file()))))


def _find_file(folder: Path, name: str, override: str | None, label: str = "region.toml") -> Path | None:
    if override:
        path = folder / override
        if Path(override).is_absolute() or not _inside(path.resolve(), folder.resolve()):
            raise InputError(Problem(file=label, field=f"files.{name}", expected="区域文件夹内的文件名",
                                     found=override, hint="区域包须自成一体：请把文件放进区域文件夹。"))
        return path
    for suffix in TABLE_SUFFIXES:
        cand = folder / f"{name}{suffix}"
        if cand.exists():
            return cand
    return None


def _load_boundary(path: Path | None, label: str, crs: str | CRS):
    import geopandas as gpd
    import shapely

    if path is None or not path.exists():
        raise InputError(Problem(file=label, expected="区域边界文件 boundary.geojson（或 .gpkg/.shp）", found="缺失"))
    try:
        gdf = gpd.read_file(path)
    except Exception as err:
        raise InputError(Problem(file=label, expected="可读取的边界文件", found=str(err))) from None
    if gdf.empty or gdf.geometry.isna().all():
        raise InputError(Problem(file=label, expected="至少一个面要素", found="空图层"))
    geoms = gdf.geometry[~gdf.geometry.isna()]
    if not geoms.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise InputError(Problem(file=label, field="geometry", expected="面（Polygon/MultiPolygon）",
                                 found="、".join(sorted(set(geoms.geom_type)))))
    if geoms.is_empty.any():
        raise InputError(Problem(file=label, field="geometry", expected="非空的面", found="空几何"))
    invalid = ~geoms.is_valid
    if invalid.any():
        reason = shapely.is_valid_reason(geoms[invalid].iloc[0])
        log.warning("文件 %s：%d 个面几何无效（%s），已自动修复（make_valid）。", label, int(invalid.sum()), reason)
    geom = shapely.make_valid(shapely.union_all(shapely.make_valid(geoms.to_numpy())))
    if geom.geom_type == "GeometryCollection":  # keep the areas of a repaired geometry
        geom = shapely.union_all([g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")])
    if geom.is_empty or geom.area == 0:
        raise InputError(Problem(file=label, field="geometry", expected="面积大于零的面", found="无效几何"))
    if not crsmod.is_geographic(crs):
        x0, y0, x1, y1 = geom.bounds
        if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90:
            raise InputError(Problem(file=label, field="crs", expected="与边界坐标一致的坐标系",
                                     found=f"坐标像经纬度（{x0:.2f}…{x1:.2f}, {y0:.2f}…{y1:.2f}），但坐标系是投影坐标（米）",
                                     hint="请核对 region.toml 中的 crs（或 boundary_crs），经纬度请写 \"EPSG:4326\"。"))
    # GDAL reports GeoJSON as EPSG:4326 whatever its coordinates are; region.toml says what they are.
    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = crsmod.to_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([lon, lat])

    geom = shapely.transform(geom, convert)
    lon_min, lat_min, lon_max, lat_max = geom.bounds
    if not (-180 <= lon_min <= lon_max <= 180 and -90 <= lat_min <= lat_max <= 90):
        raise InputError(Problem(file=label, field="crs", expected="与边界坐标一致的坐标系",
                                 found=f"换算后范围 {lon_min:.1f}…{lon_max:.1f}, {lat_min:.1f}…{lat_max:.1f}",
                                 hint="请核对 region.toml 中的 crs（或 boundary_crs）。"))
    return gpd.GeoDataFrame({"name": ["boundary"]}, geometry=[geom], crs=crsmod.WGS84)


def _check_refs(tables: dict[str, pd.DataFrame], labels: dict[str, str], problems: list[Problem],
                base_year: int | None = None) -> None:
    def refs(table: str, column: str, target: str, target_col: str, extra: set[str] = frozenset()) -> None:
        if table not in tables or target not in tables:
            return
        valid = set(tables[target][target_col]) | set(extra)
        bad = ~tables[table][column].isin(valid)
        for i in np.flatnonzero(bad.to_numpy())[:20]:
            problems.append(Problem(file=labels[table], row=int(i) + 2, field=column,
                                    expected=f"见于 {Path(labels[target]).name} 的 {target_col}",
                                    found=str(tables[table][column].iloc[i]), hint="引用了不存在的编号。"))

    if "townships" in tables and "county_id" in tables["townships"]:
        county = tables["townships"]["county_id"].astype(str).str.strip()
        if (county != "").any() and (county == "").any():
            # A city whose proper has no county code is plausible; say how it is treated.
            blank = np.flatnonzero((county == "").to_numpy())
            log.warning("文件 %s：%d 个乡镇未填 county_id（第 %s 行等），它们合为一个“未填区县”的组，划片不跨出该组。",
                        labels["townships"], len(blank), "、".join(str(int(i) + 2) for i in blank[:5]))
    refs("nodes", "township_id", "townships", "township_id")
    refs("schools", "township_id", "townships", "township_id")
    refs("candidate_sites", "township_id", "townships", "township_id")
    refs("births", "township_id", "townships", "township_id")
    refs("school_stages", "school_id", "schools", "school_id")
    refs("housing", "node_id", "nodes", "node_id")
    if "candidate_sites" in tables and "schools" in tables:
        clash = tables["candidate_sites"]["site_id"].isin(set(tables["schools"]["school_id"]))
        for i in np.flatnonzero(clash.to_numpy())[:20]:
            problems.append(Problem(file=labels["candidate_sites"], row=int(i) + 2, field="site_id",
                                    expected="不与学校编号重复的编号", found=str(tables["candidate_sites"]["site_id"].iloc[i])))
    if "school_stages" in tables:
        ss = tables["school_stages"]
        dup = ss.duplicated(["school_id", "stage", "year"])
        for i in np.flatnonzero(dup.to_numpy())[:20]:
            problems.append(Problem(file=labels["school_stages"], row=int(i) + 2, field="stage",
                                    expected="每校每学段每年一行", found=f"{ss['school_id'].iloc[i]} {ss['stage'].iloc[i]} 重复"))
        if base_year is not None and len(ss) and not (ss["year"] == base_year).any():
            years = sorted(set(ss["year"].dropna().astype(int)))
            problems.append(Problem(file=labels["school_stages"], field="year", expected=f"含基准年 {base_year} 的记录",
                                    found="、".join(map(str, years[:5])),
                                    hint="学校的班数、学位和学生数须有基准年（region.toml 的 base_year）的数。"))
        over = ss["pupils"] > ss["places"] * 2
        for i in np.flatnonzero(over.to_numpy())[:20]:
            problems.append(Problem(file=labels["school_stages"], row=int(i) + 2, field="pupils",
                                    expected="不超过学位数两倍（否则多半是单位或列填错）",
                                    found=f"{ss['pupils'].iloc[i]}（学位 {ss['places'].iloc[i]}）"))
    if "births" in tables:
        dup = tables["births"].duplicated(["township_id", "year"])
        for i in np.flatnonzero(dup.to_numpy())[:20]:
            problems.append(Problem(file=labels["births"], row=int(i) + 2, field="year",
                                    expected="每乡镇每年一行", found="重复"))


def _convert_points(df: pd.DataFrame, cols: tuple[str, str], crs: str | CRS, label: str,
                    problems: list[Problem], required: bool) -> pd.DataFrame:
    xcol, ycol = cols
    x = df[xcol].to_numpy(dtype=float)
    y = df[ycol].to_numpy(dtype=float)
    have = ~(np.isnan(x) | np.isnan(y))
    if required:
        for i in np.flatnonzero(~have)[:20]:
            problems.append(Problem(file=label, row=int(i) + 2, field=xcol if np.isnan(x[i]) else ycol,
                                    expected="坐标", found="空"))
    if not crsmod.is_geographic(crs) and have.any() and (np.abs(x[have]) <= 180).all() and (np.abs(y[have]) <= 90).all():
        i = int(np.flatnonzero(have)[0])
        problems.append(Problem(file=label, row=i + 2, field=f"{xcol}/{ycol}", expected="投影坐标（米），与所声明的坐标系一致",
                                found=f"{x[i]}, {y[i]}（全部坐标都像经纬度）",
                                hint="请核对 region.toml 中的 crs：经纬度请写 \"EPSG:4326\"。"))
        return df.assign(lon_input=x, lat_input=y, lon=np.nan, lat=np.nan)
    if crsmod.is_geographic(crs):
        bad = have & ((np.abs(x) > 180) | (np.abs(y) > 90))
        for i in np.flatnonzero(bad)[:20]:
            swapped = abs(x[i]) <= 90 and abs(y[i]) <= 180
            hint = ("经纬度疑似填反（经度列是纬度、纬度列是经度）。" if swapped
                    else "坐标可能是投影坐标（米），请在 region.toml 中写明 crs。")
            problems.append(Problem(file=label, row=int(i) + 2, field=f"{xcol}/{ycol}", expected="经度 −180…180、纬度 −90…90",
                                    found=f"{x[i]}, {y[i]}", hint=hint))
        have = have & ~bad
    lon = np.full(len(df), np.nan)
    lat = np.full(len(df), np.nan)
    if have.any():
        lon[have], lat[have] = crsmod.to_wgs84(x[have], y[have], crs)
    out = df.copy()
    out["lon_input"], out["lat_input"] = x, y
    out["lon"], out["lat"] = lon, lat
    return out


def _check_inside(df: pd.DataFrame, boundary, metric: CRS, label: str, problems: list[Problem],
                  cols: tuple[str, str]) -> None:
    import shapely

    have = df["lon"].notna().to_numpy()
    if not have.any():
        return
    poly_m = boundary.to_crs(metric).geometry.iloc[0]
    x, y = crsmod.project(df["lon"].to_numpy()[have], df["lat"].to_numpy()[have], metric)
    dist = shapely.distance(poly_m, shapely.points(x, y))
    outside = dist > BOUNDARY_TOLERANCE_M
    if not outside.any():
        return
    # Would swapping lon and lat put them inside? Then say so.
    lon, lat = df["lon"].to_numpy()[have], df["lat"].to_numpy()[have]
    swapped_inside = np.zeros(len(lon), dtype=bool)
    can_swap = np.abs(lon) <= 90
    if can_swap.any():
        sx, sy = crsmod.project(lat[can_swap], lon[can_swap], metric)
        ok = np.isfinite(sx) & np.isfinite(sy)
        near = np.zeros(len(sx), dtype=bool)
        near[ok] = shapely.distance(poly_m, shapely.points(sx[ok], sy[ok])) <= BOUNDARY_TOLERANCE_M
        swapped_inside[can_swap] = near
    rows = np.flatnonzero(have)
    for k in np.flatnonzero(outside)[:20]:
        i = rows[k]
        hint = "经纬度疑似填反。" if swapped_inside[k] else "请核对坐标及其坐标系（crs）。"
        problems.append(Problem(file=label, row=int(i) + 2, field=f"{cols[0]}/{cols[1]}", expected="位于区域边界内的点",
                                found=f"{df[cols[0]].iloc[i]}, {df[cols[1]].iloc[i]}（距边界 {dist[k] / 1000:.1f} km）",
                                hint=hint))


def load_region(ref: str | Path, base: Path | None = None) -> Region:
    """Load and validate a region pack (a folder path or a bundled region id)."""
    folder = resolve_region_path(ref, base)
    meta_label = str(folder / "region.toml")
    raw, text = read_toml(folder / "region.toml", meta_label)
    meta = validate_model(RegionMeta, raw, meta_label, text)
    try:
        crs = crsmod.parse_crs(meta.crs)
        bcrs = crsmod.parse_crs(meta.boundary_crs) if meta.boundary_crs else crs
    except ValueError as err:
        raise InputError(Problem(file=meta_label, field="crs", expected='"EPSG:4326" 等 EPSG 代码，或 "gcj02"、"bd09"',
                                 found=meta.crs, hint=str(err))) from None
    unknown = set(meta.files) - set(TABLES) - {"boundary"}
    if unknown:
        raise InputError(Problem(file=meta_label, field="files", expected="表名之一：" + "、".join(TABLES),
                                 found="、".join(sorted(unknown))))

    boundary_path = _find_file(folder, "boundary", meta.files.get("boundary"), meta_label)
    boundary = _load_boundary(boundary_path, str(boundary_path or folder / "boundary.geojson"), bcrs)
    c = boundary.geometry.iloc[0].centroid
    metric = crsmod.utm_crs(c.x, c.y)

    tables: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    files: dict[str, Path] = {"region": folder / "region.toml"}
    if boundary_path is not None:
        files["boundary"] = boundary_path
    problems: list[Problem] = []
    for name, (required, unique) in TABLES.items():
        path = _find_file(folder, name, meta.files.get(name), meta_label)
        if path is None:
            if required:
                problems.append(Problem(file=str(folder / f"{name}.csv"), expected="必需的数据表", found="缺失"))
            continue
        label = str(path)
        try:
            df, file_crs = read_table(path, name, label=label, unique=unique)
        except InputError as err:
            problems += err.problems
            continue
        if name in POINT_TABLES:
            point_crs = crsmod.parse_crs(file_crs) if file_crs else crs
            df = _convert_points(df, POINT_TABLES[name], point_crs, label, problems, required=name != "townships")
        tables[name], labels[name], files[name] = df, label, path
    if problems:
        raise InputError(problems)
    _check_refs(tables, labels, problems, meta.base_year)
    for name in POINT_TABLES:
        if name in tables:
            _check_inside(tables[name], boundary, metric, labels[name], problems, POINT_TABLES[name])
    if problems:
        raise InputError(problems)
    return Region(meta=meta, path=folder, boundary=boundary, tables=tables, metric_crs=metric, files=files)
