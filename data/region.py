"""A region pack (``data/regions/<id>/``): load every table, validate it, tie it together.

The pack's files and columns are documented in ``docs/data-format.md``; each table's columns come
from ``data/schema/<table>.csv``. Loading checks each file on its own (types, ranges, allowed values,
unique ids), across files (every township, school and node referred to exists) and geography
(coordinates plausible, inside the county boundary, lat/lon not swapped), all in one pass: one
`InputError` lists every problem. The boundary file is optional (see `xuewei.data.boundary`).
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
from xuewei.data.boundary import derive_boundary, gross_outliers, metric_crs_of, read_boundary
from xuewei.data.forms import (fill_places, fill_stage_years, ids_for_names, stages_from_school_list, usable,
                               warn_without_county_seat)
from xuewei.data.tables import TABLE_SUFFIXES, did_you_mean, read_table
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
    roads_crs: str | None = Field(default=None, description="道路图层坐标系；缺省同 crs")
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
    boundary_derived: bool = False  # no boundary file: ``boundary`` is a sketch from the points (示意)
    roads: Any = None  # optional road lines (`xuewei.data.roads.read_roads`), WGS-84; None without a road layer

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


def suggest_id(value: str, target: pd.DataFrame, id_col: str) -> str:
    """The hint for an id that is not in ``target``: the nearest id (or the id of a row whose name is
    ``value``, when a name was written for a code), glossed with its name."""
    ids = target[id_col].dropna().astype(str)
    names = target["name"].astype(str) if "name" in target else pd.Series("", index=target.index)
    gloss = dict(zip(ids, names.loc[ids.index]))
    same_name = ids[names.loc[ids.index].str.strip() == str(value).strip()]
    if len(same_name):
        return (f"该列应填编号而非名称：您是否想写“{same_name.iloc[0]}”"
                f"{'（' + gloss[same_name.iloc[0]] + '）' if gloss.get(same_name.iloc[0]) else ''}？")
    choices = {i: i for i in ids} | {n: i for i, n in gloss.items() if n and n != "nan"}
    near = did_you_mean(str(value), choices, gloss)
    return "引用了不存在的编号。" + (near or "")


def _check_refs(tables: dict[str, pd.DataFrame], labels: dict[str, str], problems: list[Problem],
                base_year: int | None = None, whole_county: frozenset[str] = frozenset()) -> None:
    """Every id a table refers to exists; ``whole_county``: the names of the whole county (code, name),
    accepted where a table may give one row for the county (``migration``, ``population_by_age``)."""
    from xuewei.data.grade_columns import is_total_area

    def refs(table: str, column: str, target: str, target_col: str, extra: set[str] = frozenset()) -> None:
        if not (usable(tables, table, column) and usable(tables, target, target_col)):
            return  # the file, or the column, is missing or unreadable: already reported
        valid = set(tables[target][target_col].dropna()) | set(extra)
        values = tables[table][column]
        whole = values.astype(str).map(is_total_area) if extra else pd.Series(False, index=values.index)
        bad = ~values.isin(valid) & ~whole & values.notna() & (values.astype(str).str.strip() != "")
        if bad.any() and "name" in tables[target]:
            values = ids_for_names(tables, labels, table, column, target, target_col, bad)
            bad = ~values.isin(valid) & ~whole & values.notna() & (values.astype(str).str.strip() != "")
        for i in np.flatnonzero(bad.to_numpy())[:20]:
            problems.append(Problem(file=labels[table], row=int(i) + 2, field=column,
                                    expected=f"见于 {Path(labels[target]).name} 的 {target_col}",
                                    found=str(values.iloc[i]), hint=suggest_id(values.iloc[i], tables[target], target_col)))

    if usable(tables, "townships", "county_id"):
        county = tables["townships"]["county_id"].astype(str).str.strip()
        if (county != "").any() and (county == "").any():
            # A city whose proper has no county code is plausible; say how it is treated.
            blank = np.flatnonzero((county == "").to_numpy())
            log.warning("文件 %s：%d 个乡镇未填 county_id（第 %s 行等），它们合为一个“未填区县”的组，划片不跨出该组。",
                        labels["townships"], len(blank), "、".join(str(int(i) + 2) for i in blank[:5]))
    refs("nodes", "township_id", "townships", "township_id")
    refs("schools", "township_id", "townships", "township_id")
    refs("candidate_sites", "township_id", "townships", "township_id")
    refs("births", "township_id", "townships", "township_id", extra=whole_county)  # or the county (split later)
    refs("school_stages", "school_id", "schools", "school_id")
    refs("housing", "node_id", "nodes", "node_id")
    refs("migration", "township_id", "townships", "township_id", extra=whole_county)
    refs("population_by_age", "area_id", "townships", "township_id", extra=whole_county)
    if usable(tables, "candidate_sites", "site_id") and usable(tables, "schools", "school_id"):
        clash = tables["candidate_sites"]["site_id"].isin(set(tables["schools"]["school_id"]))
        for i in np.flatnonzero(clash.to_numpy())[:20]:
            problems.append(Problem(file=labels["candidate_sites"], row=int(i) + 2, field="site_id",
                                    expected="不与学校编号重复的编号", found=str(tables["candidate_sites"]["site_id"].iloc[i])))
    if "school_stages" in tables and not tables["school_stages"].attrs.get("missing_columns"):
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
        over = (ss["pupils"] > ss["places"] * 2).fillna(False)
        for i in np.flatnonzero(over.to_numpy(dtype=bool))[:20]:
            problems.append(Problem(file=labels["school_stages"], row=int(i) + 2, field="pupils",
                                    expected="不超过学位数两倍（否则多半是单位或列填错）",
                                    found=f"{ss['pupils'].iloc[i]}（学位 {ss['places'].iloc[i]}）"))
    if usable(tables, "births", "township_id") and usable(tables, "births", "year"):
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


def _meta_or_problems(raw: dict, label: str, text: str, problems: list[Problem]) -> tuple[RegionMeta | None, dict]:
    """``region.toml`` validated; when it is wrong, its problems join ``problems`` and what can still be
    used to read the tables (``files``, ``crs``, ``base_year``) is taken from it as written."""
    try:
        return validate_model(RegionMeta, raw, label, text), {}
    except InputError as err:
        problems += err.problems
    files = raw.get("files") if isinstance(raw.get("files"), dict) else {}
    return None, {"files": {k: v for k, v in files.items() if isinstance(v, str)},
                  "crs": raw.get("crs") if isinstance(raw.get("crs"), str) else None,
                  "boundary_crs": raw.get("boundary_crs") if isinstance(raw.get("boundary_crs"), str) else None,
                  "roads_crs": raw.get("roads_crs") if isinstance(raw.get("roads_crs"), str) else None,
                  "base_year": raw.get("base_year") if type(raw.get("base_year")) is int else None}


def _points(tables: dict[str, pd.DataFrame]) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(table, row positions, lon, lat) of every point read, WGS-84."""
    out = []
    for name in POINT_TABLES:
        if name in tables and "lon" in tables[name]:
            df = tables[name]
            have = np.flatnonzero(df["lon"].notna().to_numpy() & df["lat"].notna().to_numpy())
            out.append((name, have, df["lon"].to_numpy(float)[have], df["lat"].to_numpy(float)[have]))
    return out


def _derived_boundary(tables: dict[str, pd.DataFrame], labels: dict[str, str], problems: list[Problem],
                      folder: Path):
    """No boundary file: flag gross outliers among the points, then sketch the boundary around the rest."""
    pts = _points(tables)
    if not pts or not sum(len(p[1]) for p in pts):
        return None, None
    lon = np.concatenate([p[2] for p in pts])
    lat = np.concatenate([p[3] for p in pts])
    metric = metric_crs_of(lon, lat)
    x, y = crsmod.project(lon, lat, metric)
    outlier, nn, centre = gross_outliers(x, y)
    k = 0
    for name, rows, _, _ in pts:
        cols = POINT_TABLES[name]
        for j in np.flatnonzero(outlier[k:k + len(rows)])[:20]:
            i = rows[j]
            df = tables[name]
            far = f"距最近的其他点 {nn[k + j] / 1000:.0f} km，距各点中心 {centre[k + j] / 1000:.0f} km"
            problems.append(Problem(
                file=labels[name], row=int(i) + 2, field=f"{cols[0]}/{cols[1]}", expected="与本县其他点相近的坐标",
                found=f"{df[cols[0]].iloc[i]}, {df[cols[1]].iloc[i]}（{far}）",
                hint="区域包没有边界文件，远离其他所有点的点多半是坐标填错；若位置无误，请提供县界文件 boundary.geojson。"))
        k += len(rows)
    boundary, buffer_m = derive_boundary(x[~outlier], y[~outlier], metric)
    log.warning("区域 %s 没有边界文件（boundary.geojson/.gpkg/.shp），已由 %d 个乡镇驻地、村（社区）、学校和地块的点推算示意县界"
                "（凹包外扩 %.1f km）；地图上注明“县界为示意”。正式县界的来源见 docs/data-format.md。",
                folder.name, int((~outlier).sum()), buffer_m / 1000)
    return boundary, metric


def load_region(ref: str | Path, base: Path | None = None) -> Region:
    """Load and validate a region pack (a folder path or a bundled region id).

    Every problem of every file is collected in one pass and raised as one `InputError`:
    ``region.toml``, each table's cells, references across files (with the nearest valid id), and
    geography. A table that cannot be read, or a column it lacks, only leaves out the checks that
    need it. Without a boundary file the boundary is derived from the points
    (`Region.boundary_derived`, with a warning).
    """
    folder = resolve_region_path(ref, base)
    meta_label = str(folder / "region.toml")
    raw, text = read_toml(folder / "region.toml", meta_label)
    problems: list[Problem] = []
    meta, partial = _meta_or_problems(raw, meta_label, text, problems)
    files_override = meta.files if meta else partial["files"]
    crs_text = meta.crs if meta else partial["crs"]
    bcrs_text = meta.boundary_crs if meta else partial["boundary_crs"]
    rcrs_text = meta.roads_crs if meta else partial["roads_crs"]
    base_year = meta.base_year if meta else partial["base_year"]
    crs = bcrs = rcrs = None
    if crs_text is not None:
        try:
            crs = crsmod.parse_crs(crs_text)
            bcrs = crsmod.parse_crs(bcrs_text) if bcrs_text else crs
        except ValueError as err:
            crs = bcrs = None
            problems.append(Problem(file=meta_label, field="crs", expected='"EPSG:4326" 等 EPSG 代码，或 "gcj02"、"bd09"',
                                    found=str(crs_text), hint=str(err)))
        try:
            rcrs = crsmod.parse_crs(rcrs_text) if rcrs_text else crs
        except ValueError as err:
            problems.append(Problem(file=meta_label, field="roads_crs", expected='"EPSG:4326" 等 EPSG 代码，或 "gcj02"、"bd09"',
                                    found=str(rcrs_text), hint=str(err)))
    unknown = set(files_override) - set(TABLES) - {"boundary", "roads"}
    if unknown:
        problems.append(Problem(file=meta_label, field="files", expected="表名之一：" + "、".join(TABLES),
                                found="、".join(sorted(unknown))))

    boundary = None
    files: dict[str, Path] = {"region": folder / "region.toml"}
    try:
        boundary_path = _find_file(folder, "boundary", files_override.get("boundary"), meta_label)
    except InputError as err:
        problems += err.problems
        boundary_path = None
    if boundary_path is not None and not boundary_path.exists() and files_override.get("boundary"):
        problems.append(Problem(file=str(boundary_path), expected="region.toml 的 files.boundary 所指的边界文件",
                                found="找不到该文件"))
    elif boundary_path is not None and bcrs is not None:
        files["boundary"] = boundary_path
        try:
            boundary = read_boundary(boundary_path, str(boundary_path), bcrs)
        except InputError as err:
            problems += err.problems

    roads = _roads(folder, files_override, meta_label, rcrs, files, problems)

    tables: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    present: set[str] = set()  # tables with a file (read or not)
    for name, (required, unique) in TABLES.items():
        try:
            path = _find_file(folder, name, files_override.get(name), meta_label)
        except InputError as err:
            problems += err.problems
            continue
        if path is None:
            if required and name != "school_stages":  # school_stages may come from the school list
                problems.append(Problem(file=str(folder / f"{name}.csv"), expected="必需的数据表", found="缺失"))
            continue
        label = str(path)
        present.add(name)
        df, file_crs = read_table(path, name, label=label, unique=unique, problems=problems)
        if df is None:
            continue
        if name in POINT_TABLES:
            cols = POINT_TABLES[name]
            if crs is None or set(cols) & set(df.attrs.get("missing_columns", ())):
                df = df.assign(lon_input=np.nan, lat_input=np.nan, lon=np.nan, lat=np.nan)
            else:
                point_crs = crsmod.parse_crs(file_crs) if file_crs else crs
                df = _convert_points(df, cols, point_crs, label, problems, required=name != "townships")
        tables[name], labels[name], files[name] = df, label, path
    if "school_stages" not in present:
        stages_from_school_list(tables, labels, problems, folder, base_year)
    fill_stage_years(tables, labels, base_year)
    fill_places(tables, labels, problems)
    warn_without_county_seat(tables, labels)
    _check_refs(tables, labels, problems, base_year,
                whole_county=frozenset({str(meta.admin_code), meta.name}) if meta else frozenset({"\0"}))

    derived = boundary_path is None
    metric = None
    if boundary is not None:
        c = boundary.geometry.iloc[0].centroid
        metric = crsmod.utm_crs(c.x, c.y)
        for name in POINT_TABLES:
            if name in tables:
                _check_inside(tables[name], boundary, metric, labels[name], problems, POINT_TABLES[name])
    elif derived:
        boundary, metric = _derived_boundary(tables, labels, problems, folder)
        if boundary is None and not problems:
            problems.append(Problem(file=str(folder / "boundary.geojson"), expected="县界文件，或至少一个有坐标的村（社区）",
                                    found="都没有"))
    if problems:
        raise InputError(_unique(problems))
    return Region(meta=meta, path=folder, boundary=boundary, tables=tables, metric_crs=metric, files=files,
                  boundary_derived=derived, roads=roads)


def _roads(folder: Path, files_override: dict, meta_label: str, crs, files: dict, problems: list[Problem]):
    """The optional road layer (`xuewei.data.roads`), or None; its problems join ``problems``."""
    from xuewei.data.roads import SUFFIXES, read_roads

    override = files_override.get("roads")
    try:
        path = _find_file(folder, "roads", override, meta_label)
    except InputError as err:
        problems += err.problems
        return None
    if path is None and not override:
        return None
    if not path.exists():
        problems.append(Problem(file=str(path), expected="region.toml 的 files.roads 所指的道路图层", found="找不到该文件"))
        return None
    if path.suffix.lower() not in SUFFIXES:
        problems.append(Problem(file=str(path), expected="道路线图层（.gpkg、.geojson、.shp）", found=path.suffix or "无扩展名"))
        return None
    if crs is None:
        return None
    files["roads"] = path
    try:
        return read_roads(path, str(path), crs)
    except InputError as err:
        problems += err.problems
        return None


def _unique(problems: list[Problem]) -> list[Problem]:
    """The problems in order, one per file, row and field (a cell that is empty is not also “no coordinate”)."""
    seen: set = set()
    out = []
    for p in problems:
        key = (p.file, p.row, p.field) if p.row is not None else p
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
