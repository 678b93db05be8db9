"""A run's results as GIS layers: ``results.gpkg`` in the run folder, Shapefile or GeoJSON on request.

Layers (all WGS-84 longitude/latitude, EPSG:4326; the UTM zone the run measured distances and drew
maps in is stated in the ``about`` table and the GeoPackage's metadata):

==================  ==========  ===================================================  ====================
layer               geometry    one feature per                                      rows equal
==================  ==========  ===================================================  ====================
``schools``         point       school × period: action, stages, classes, places,    ``actions.csv``
                                pupils, boarding beds, merged_into, cost
``school_stages``   point       school × stage × period (open schools)               ``schools.csv``
``villages``        point       village × period: per stage demand, main school,     nodes × periods
                                travel, boarding, unserved
``catchments``      line        village → school assignment                          ``assignments.csv``
``townships``       point       township × stage × period (summary figures) at the   ``summary.csv``
                                seat; no geometry where the seat has no coordinates
``boundary``        polygon     the county                                            1
``candidate_sites`` point       candidate site: stages, when built                   candidate_sites
==================  ==========  ===================================================  ====================

plus the attribute tables ``about`` (区域、情景、坐标系、示意数据) and ``fields`` (every field's Chinese
name and unit).

Field names are short ASCII codes (at most 10 characters, the Shapefile limit), the same in every
format and close to the CSV columns; values are Chinese (names, 学段, 调整). This is the convention
of Chinese GIS data (the 三调 and 国土空间规划 databases use ASCII field codes with Chinese aliases):
it survives every tool and code page. In the GeoPackage each field's Chinese name is also written
as its alias in the schema extension table ``gpkg_data_columns`` (``name``; ``title`` with the unit),
for readers that show it (GDAL 3.6 does not); the ``fields`` table lists them for every reader.

The region has no township polygons: townships are their seats (points). Distances are those of the
layout model (`xuewei.optimizer.travel`: on the road layer when the run used one, else straight line ×
the policy's detour factor, km); the ``about`` table and the field notes say which.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from xuewei.errors import InputError, Problem
from xuewei.labels import ACTION_ZH, KIND_ZH, STAGE_ZH, TIER_ZH
from xuewei.optimizer.travel import basis_zh, uses_roads

WGS84 = "EPSG:4326"
STAGES = ("kindergarten", "primary", "junior", "senior")
STAGE_CODE = {"kindergarten": "kg", "primary": "pr", "junior": "jr", "senior": "sr"}
ORIGIN_ZH = {"existing": "现有", "convert": "转设", "candidate": "备选用地"}
KIND_NAMES = {**KIND_ZH, "village_kindergarten": "村级幼儿园"}
GPKG = "results.gpkg"

# layer → (Chinese title, geometry type, description)
LAYERS = {
    "schools": ("学校（各规划期调整）", "Point", "每所学校每个规划期一行：调整、学段、班数、学位、学生、寄宿床位、并入学校"),
    "school_stages": ("学校分学段规模", "Point", "开办学校 × 学段 × 规划期：班数、学位、学生、使用率、寄宿"),
    "villages": ("村（社区）就学", "Point", "每村每个规划期一行：各学段需求、主要就读学校、路程、寄宿、未安排"),
    "catchments": ("就学路线", "LineString", "村 → 学校，每条就学安排一条线"),
    "townships": ("乡镇汇总", "Point", "乡镇 × 学段 × 规划期的汇总数字，画在乡镇驻地（无乡镇界线数据）"),
    "boundary": ("县界", "MultiPolygon", "区域边界"),
    "candidate_sites": ("备选用地", "Point", "可新建学校的备选用地：可开学段、建成年份"),
}

STRAIGHT_NOTE = "直线距离 × 绕行系数"  # the distance notes below; a run on roads says so instead
_STAGE_FIELDS = {"dem": ("{s}需求", "人", "本期设计需求（期内峰值，含未安排）"),
                 "sch": ("{s}就读学校代码", "", "学生最多的就读学校"),
                 "schname": ("{s}就读学校", "", "学生最多的就读学校名称"),
                 "nsch": ("{s}就读学校数", "所", "大于 1 表示本村分到几所学校"),
                 "km": ("{s}平均路程", "公里", "按人数加权，直线距离 × 绕行系数"),
                 "board": ("{s}寄宿生", "人", ""),
                 "unsrv": ("{s}未安排", "人", "")}

# layer → field → (Chinese name, unit, note)
FIELDS: dict[str, dict[str, tuple[str, str, str]]] = {
    "schools": {
        "school_id": ("学校代码", "", "模型新增的村级幼儿园为 V<村代码>"), "name": ("学校名称", "", ""),
        "kind": ("办学类型", "", ""), "town_id": ("乡镇代码", "", ""), "township": ("乡镇", "", ""),
        "period": ("规划期末", "年", ""), "action": ("调整", "", "保留、改扩建、新建、合并、撤销、转变"),
        "action_cd": ("调整代码", "", "keep、expand、build、merge、close、convert"),
        "stages_bf": ("调整前学段", "", ""), "stages_af": ("调整后学段", "", ""),
        "class_bf": ("调整前班数", "班", "上一期末（首期为基准年）"), "class_af": ("调整后班数", "班", "本期末"),
        "places_bf": ("调整前学位", "个", ""), "places_af": ("调整后学位", "个", ""),
        "pupils": ("本期学生", "人", "各学段合计"), "board_pup": ("寄宿生", "人", ""),
        "board_beds": ("寄宿床位", "张", "本期末"), "merged_to": ("并入学校代码", "", "合并时学生主要去向"),
        "merged_nm": ("并入学校", "", ""), "cost_wan": ("建设投入", "万元", "本期")},
    "school_stages": {
        "school_id": ("学校代码", "", ""), "name": ("学校名称", "", ""), "town_id": ("乡镇代码", "", ""),
        "township": ("乡镇", "", ""), "stage": ("学段", "", ""), "period": ("规划期末", "年", ""),
        "origin": ("来源", "", "现有、转设、备选用地"), "action": ("调整", "", "学校本期的调整"),
        "class_base": ("基准年班数", "班", ""), "classes": ("班数", "班", ""), "places": ("学位", "个", ""),
        "pupils": ("学生", "人", ""), "util": ("使用率", "", "学生 / 学位"), "avg_class": ("平均班额", "人/班", ""),
        "board_pup": ("寄宿生", "人", ""), "board_beds": ("寄宿床位", "张", ""),
        "new_class": ("新增班数", "班", ""), "tier": ("聚落层级", "", "")},
    "villages": {
        "node_id": ("村代码", "", ""), "name": ("村（社区）名称", "", ""), "town_id": ("乡镇代码", "", ""),
        "township": ("乡镇", "", ""), "period": ("规划期末", "年", ""),
        "pupils": ("学生合计", "人", "各学段设计需求之和"),
        **{f"{STAGE_CODE[g]}_{k}": (zh.format(s=STAGE_ZH[g]), unit, note)
           for g in STAGES for k, (zh, unit, note) in _STAGE_FIELDS.items()}},
    "catchments": {
        "node_id": ("村代码", "", ""), "village": ("村（社区）", "", ""), "school_id": ("学校代码", "", ""),
        "school": ("学校", "", ""), "town_id": ("村所在乡镇代码", "", ""), "stage": ("学段", "", ""),
        "period": ("规划期末", "年", ""), "pupils": ("学生", "人", ""),
        "dist_km": ("路程", "公里", "有道路图层时为路网距离，否则直线距离 × 绕行系数（见 about 表）"),
        "travel_min": ("用时", "分钟", "按路网计算时的最快用时；没有道路图层时为空"),
        "boarding": ("寄宿", "", "是、否"),
        "far_today": ("现状远距离就读", "", "是：基准年即在这所超出走读距离的学校就读，留在原校（policy.base_reach_km）")},
    "townships": {
        "town_id": ("乡镇代码", "", ""), "township": ("乡镇", "", ""), "tier": ("聚落层级", "", ""),
        "stage": ("学段", "", ""), "period": ("规划期末", "年", ""), "pupils": ("学生", "人", "需求，含未安排"),
        "places": ("学位", "个", ""), "unserved": ("未安排", "人", ""), "mean_km": ("平均路程", "公里", "按人数加权"),
        "max_km": ("最远路程", "公里", ""), "board_pup": ("寄宿生", "人", ""),
        "oversized": ("大班额班数", "班", "平均班额达到大班额")},
    "boundary": {"name": ("区域", "", ""), "admin_code": ("行政区划代码", "", ""),
                 "note": ("说明", "", "含示意数据时注明")},
    "candidate_sites": {
        "site_id": ("用地代码", "", ""), "name": ("名称", "", ""), "town_id": ("乡镇代码", "", ""),
        "township": ("乡镇", "", ""), "stages": ("可开学段", "", ""), "max_class": ("最多班数", "班", ""),
        "built": ("建成于规划期", "年", "空：本次运行未使用"), "stages_op": ("开办学段", "", "末期")},
    "about": {"key": ("项目", "", ""), "value": ("内容", "", "")},
    "fields": {"layer": ("图层", "", ""), "field": ("字段", "", ""), "name_zh": ("中文名", "", ""),
               "unit": ("单位", "", ""), "note": ("说明", "", "")},
}


def _stages_zh(stages) -> str:
    return "、".join(STAGE_ZH.get(s, s) for s in str(stages if isinstance(stages, str) else "").replace("|", ";")
                    .split(";") if s)


def _points(lon, lat):
    import geopandas as gpd

    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    pts = gpd.points_from_xy(lon, lat)
    pts[~(np.isfinite(lon) & np.isfinite(lat))] = None
    return pts


def _gdf(df: pd.DataFrame, geometry, layer: str):
    import geopandas as gpd

    cols = list(FIELDS[layer])
    assert list(df.columns) == cols, (layer, list(df.columns))
    return gpd.GeoDataFrame(df.reset_index(drop=True), geometry=geometry, crs=WGS84)


def _round(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    for col in df.columns:
        if pd.api.types.is_float_dtype(df[col]):
            df[col] = df[col].round(digits)
    return df


def results_layers(run) -> dict:
    """The run's GIS layers (`LAYERS`), as GeoDataFrames in WGS-84, fields as in `FIELDS`."""
    from shapely import linestrings

    from xuewei.reports.map_data import site_lonlat

    region = run.region
    towns = run.township_names()
    sites = site_lonlat(run).drop_duplicates("site_id").set_index("site_id")
    names = sites["name"]
    nodes = region.nodes.set_index("node_id")
    a = run.actions
    pupils = run.schools.groupby(["school_id", "period"])[["pupils", "boarding_pupils"]].sum()
    key = pd.MultiIndex.from_arrays([a["school_id"], a["period"]])
    merged = a["merged_into"].fillna("").astype(str)
    schools = pd.DataFrame({
        "school_id": a["school_id"], "name": a["name"], "kind": a["kind"].map(KIND_NAMES).fillna(a["kind"]),
        "town_id": a["township_id"], "township": a["township_id"].map(towns), "period": a["period"].astype(int),
        "action": a["action"].map(ACTION_ZH).fillna(a["action"]), "action_cd": a["action"],
        "stages_bf": a["stages_before"].map(_stages_zh), "stages_af": a["stages_after"].map(_stages_zh),
        "class_bf": a["classes_before"], "class_af": a["classes_after"], "places_bf": a["places_before"],
        "places_af": a["places_after"], "pupils": pupils["pupils"].reindex(key).fillna(0.0).to_numpy(),
        "board_pup": pupils["boarding_pupils"].reindex(key).fillna(0.0).to_numpy(),
        "board_beds": a["boarding_beds_after"], "merged_to": merged,
        "merged_nm": merged.map(names).fillna(""),
        "cost_wan": a["cost_wan_yuan"] if "cost_wan_yuan" in a else np.nan})
    at = sites.reindex(a["school_id"])
    layers = {"schools": _gdf(_round(schools), _points(at["lon"], at["lat"]), "schools")}

    s = run.schools
    act = a.set_index(["school_id", "period"])["action"]
    st = pd.DataFrame({
        "school_id": s["school_id"], "name": s["school_id"].map(names), "town_id": s["school_id"].map(sites["township_id"]),
        "township": s["school_id"].map(sites["township_id"]).map(towns), "stage": s["stage"].map(STAGE_ZH),
        "period": s["period"].astype(int), "origin": s["origin"].map(ORIGIN_ZH).fillna(s["origin"]),
        "action": act.reindex(pd.MultiIndex.from_arrays([s["school_id"], s["period"]])).map(ACTION_ZH).to_numpy(),
        "class_base": s["classes_before"], "classes": s["classes"], "places": s["places"], "pupils": s["pupils"],
        "util": s["utilisation"], "avg_class": s["avg_class_size"], "board_pup": s["boarding_pupils"],
        "board_beds": s["boarding_beds"], "new_class": s["new_capacity"],
        "tier": s["tier"].map(TIER_ZH).fillna(s["tier"])})
    at = sites.reindex(s["school_id"])
    layers["school_stages"] = _gdf(_round(st), _points(at["lon"], at["lat"]), "school_stages")

    layers["villages"] = _villages(run, names, towns)
    asg = run.assignments.sort_values(["period", "stage", "node_id", "school_id"])  # as assignments.csv
    src, dst = nodes.reindex(asg["node_id"]), sites.reindex(asg["school_id"])
    xy = np.stack([np.column_stack([src["lon"], src["lat"]]), np.column_stack([dst["lon"], dst["lat"]])], axis=1)
    ok = np.isfinite(xy).all(axis=(1, 2))
    lines = np.full(len(asg), None, dtype=object)
    if ok.any():
        lines[ok] = linestrings(xy[ok])
    cat = pd.DataFrame({
        "node_id": asg["node_id"], "village": asg["node_id"].map(nodes["name"]), "school_id": asg["school_id"],
        "school": asg["school_id"].map(names), "town_id": asg["node_id"].map(nodes["township_id"]),
        "stage": asg["stage"].map(STAGE_ZH), "period": asg["period"].astype(int), "pupils": asg["pupils"],
        "dist_km": asg["distance_km"],
        "travel_min": asg["travel_min"].astype(float) if "travel_min" in asg else np.full(len(asg), np.nan),
        "boarding": np.where(asg["boarding"].astype(bool), "是", "否"),
        "far_today": np.where(asg["status_quo_far"].astype(bool) if "status_quo_far" in asg else False, "是", "否")})
    layers["catchments"] = _gdf(_round(cat), lines, "catchments")

    sm = run.summary
    seats = region.townships.set_index("township_id")
    tw = pd.DataFrame({
        "town_id": sm["township_id"], "township": sm["township_id"].map(towns),
        "tier": sm["township_id"].map(seats["tier"]).map(TIER_ZH), "stage": sm["stage"].map(STAGE_ZH),
        "period": sm["period"].astype(int), "pupils": sm["pupils"], "places": sm["places"], "unserved": sm["unserved"],
        "mean_km": sm["mean_distance_km"], "max_km": sm["max_distance_km"], "board_pup": sm["boarding_pupils"],
        "oversized": sm["oversized_classes"]})
    at = seats.reindex(sm["township_id"])
    layers["townships"] = _gdf(_round(tw), _points(at["lon"], at["lat"]), "townships")

    meta = region.meta
    b = pd.DataFrame({"name": [meta.name], "admin_code": [str(meta.admin_code)],
                      "note": ["示意数据：边界或其他数据含合成部分" if meta.synthetic else ""]})
    geom = region.boundary.to_crs(WGS84).geometry.union_all()
    if geom.geom_type == "Polygon":
        from shapely.geometry import MultiPolygon

        geom = MultiPolygon([geom])
    layers["boundary"] = _gdf(b, [geom], "boundary")
    layers["candidate_sites"] = _candidates(run, towns)
    return layers


def _villages(run, names: pd.Series, towns: pd.Series):
    """Village × period, wide by stage."""
    nodes = run.region.nodes
    asg = run.assignments
    un = run.unserved if len(run.unserved) else pd.DataFrame(columns=["node_id", "stage", "period", "pupils"])
    base = pd.MultiIndex.from_product([nodes["node_id"], run.periods], names=["node_id", "period"])
    out = pd.DataFrame(index=base)
    total = pd.Series(0.0, index=base)
    for g in STAGES:
        c = STAGE_CODE[g]
        a = asg[asg["stage"] == g]
        grp = a.groupby(["node_id", "period"])
        served = grp["pupils"].sum().reindex(base).fillna(0.0)
        u = un[un["stage"] == g].groupby(["node_id", "period"])["pupils"].sum().reindex(base).fillna(0.0).astype(float)
        main = a.sort_values("pupils", ascending=False).drop_duplicates(["node_id", "period"]).set_index(
            ["node_id", "period"])["school_id"].reindex(base)
        km = (a["pupils"] * a["distance_km"]).groupby([a["node_id"], a["period"]]).sum().reindex(base) / served
        board = a[a["boarding"].astype(bool)].groupby(["node_id", "period"])["pupils"].sum().reindex(base).fillna(0.0)
        out[f"{c}_dem"] = served + u
        out[f"{c}_sch"] = main.fillna("")
        out[f"{c}_schname"] = main.map(names).fillna("")
        out[f"{c}_nsch"] = grp["school_id"].nunique().reindex(base).fillna(0).astype(int)
        out[f"{c}_km"] = km.where(served > 0)
        out[f"{c}_board"] = board
        out[f"{c}_unsrv"] = u
        total += served + u
    out = out.reset_index()
    n = nodes.set_index("node_id")
    head = pd.DataFrame({"node_id": out["node_id"], "name": out["node_id"].map(n["name"]),
                         "town_id": out["node_id"].map(n["township_id"]),
                         "township": out["node_id"].map(n["township_id"]).map(towns),
                         "period": out["period"].astype(int), "pupils": total.to_numpy()})
    df = pd.concat([head, out.drop(columns=["node_id", "period"])], axis=1)
    at = n.reindex(out["node_id"])
    return _gdf(_round(df), _points(at["lon"], at["lat"]), "villages")


def _candidates(run, towns: pd.Series):
    cols = list(FIELDS["candidate_sites"])
    c = run.region.candidate_sites
    if c is None or len(c) == 0:
        empty = pd.DataFrame({k: pd.Series(dtype="int64" if k in ("max_class", "built") else object) for k in cols})
        return _gdf(empty, _points([], []), "candidate_sites")
    sites = run.sites
    opened = sites[(sites["origin"] == "candidate") & sites["open"].astype(bool)] if len(sites) else sites
    built = opened.groupby("site_id")["period"].min() if len(opened) else pd.Series(dtype=float)
    last = opened[opened["period"] == max(run.periods)] if len(opened) else opened
    stages_open = last.groupby("site_id")["stage"].agg(lambda s: "、".join(STAGE_ZH.get(g, g) for g in s)) \
        if len(last) else pd.Series(dtype=object)
    df = pd.DataFrame({
        "site_id": c["site_id"], "name": c["name"], "town_id": c["township_id"], "township": c["township_id"].map(towns),
        "stages": c["stages"].map(_stages_zh),
        "max_class": pd.to_numeric(c["max_classes"], errors="coerce") if "max_classes" in c else np.nan,
        "built": c["site_id"].map(built).astype("Int64"), "stages_op": c["site_id"].map(stages_open).fillna("")})
    return _gdf(df, _points(c["lon"], c["lat"]), "candidate_sites")


def about_table(run) -> pd.DataFrame:
    """What the GeoPackage is: region, scenario, periods, coordinate systems, travel, synthetic data."""
    meta = run.region.meta
    epsg = run.region.metric_crs.to_epsg()
    rows = [("区域", f"{meta.name}（{meta.admin_code}）"), ("情景", run.scenario_name),
            ("规划期末", "、".join(map(str, run.periods))), ("学校统计基准年", str(run.base_year)),
            ("运行日期", run.created),
            ("坐标系", "WGS-84 经纬度（EPSG:4326）；GeoPackage 各图层与 GeoJSON、Shapefile 导出均用此坐标"),
            ("距离与地图所用投影", f"{run.region.metric_crs.name}（EPSG:{epsg}），距离、比例尺按此 UTM 投影计算"),
            ("路程", f"{basis_zh(run.region, run.policy)}（公里），与布局模型一致"),
            ("乡镇", "无乡镇界线数据：乡镇图层为乡镇驻地点"),
            ("字段", "字段名为英文代码（不超过 10 个字符，Shapefile 可用），中文名与单位见 fields 表"),
            ("示意数据", ("是：" + "；".join(meta.synthetic_parts or ["区域数据部分为合成"]) + "。仅作方法演示，不能作为决策依据")
             if meta.synthetic else "否")]
    rows += [(f"图层 {k}", f"{t}：{d}") for k, (t, _, d) in LAYERS.items()]
    return pd.DataFrame(rows, columns=["key", "value"])


def _fields(run=None) -> dict[str, dict[str, tuple[str, str, str]]]:
    """`FIELDS`, with the distance notes saying the run's travel basis when it used a road layer."""
    if run is None or not uses_roads(run.region, run.policy):
        return FIELDS
    basis = basis_zh(run.region, run.policy)
    return {layer: {f: (zh, unit, note.replace(STRAIGHT_NOTE, basis)) for f, (zh, unit, note) in fs.items()}
            for layer, fs in FIELDS.items()}


def fields_table(run=None) -> pd.DataFrame:
    """Every layer's fields with Chinese name, unit and note."""
    return pd.DataFrame([(layer, f, zh, unit, note) for layer, fs in _fields(run).items()
                         for f, (zh, unit, note) in fs.items()],
                        columns=["layer", "field", "name_zh", "unit", "note"])


def _write_aliases(path: Path, run=None) -> None:
    """Each field's Chinese name as its alias: the GeoPackage schema extension (``gpkg_data_columns``)."""
    con = sqlite3.connect(path)
    try:
        con.executescript("""
            CREATE TABLE IF NOT EXISTS gpkg_data_columns (
              table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
              mime_type TEXT, constraint_name TEXT,
              CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
              CONSTRAINT gdc_tn UNIQUE (table_name, name));
            CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
              constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
              min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
              CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
            CREATE TABLE IF NOT EXISTS gpkg_extensions (
              table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
              scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
        """)
        for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
            con.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_schema', "
                        "'http://www.geopackage.org/spec/#extension_schema', 'read-write')", (table,))
        rows = [(layer, f, zh, f"{zh}（{unit}）" if unit else zh, note or None)
                for layer, fs in _fields(run).items() for f, (zh, unit, note) in fs.items()]
        con.executemany("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, description)"
                        " VALUES (?, ?, ?, ?, ?)", rows)
        con.commit()
    finally:
        con.close()


def write_gpkg(run, path: Path, layers: dict | None = None) -> Path:
    """``results.gpkg``: every layer of `results_layers` (or the ``layers`` given), the ``about`` and
    ``fields`` tables, aliases.

    Written to a temporary file beside ``path`` and renamed, so a reader never sees half a file.
    """
    import pyogrio

    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")  # GDAL wants the .gpkg suffix
    tmp.unlink(missing_ok=True)
    try:
        meta = run.region.meta
        for layer, gdf in (layers or results_layers(run)).items():
            title, geom_type, desc = LAYERS[layer]
            pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GPKG", geometry_type=geom_type, promote_to_multi=False,
                                    layer_options={"IDENTIFIER": title, "DESCRIPTION": desc},
                                    dataset_metadata={"TITLE": f"{meta.name}学位规划运行结果：{run.scenario_name}"}
                                    if layer == "schools" else None)
        for layer, df in (("about", about_table(run)), ("fields", fields_table(run))):
            pyogrio.write_dataframe(df, tmp, layer=layer, driver="GPKG",
                                    layer_options={"IDENTIFIER": {"about": "说明", "fields": "字段说明"}[layer]})
        _write_aliases(tmp, run)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_layers(path: Path) -> dict:
    """The layers of a ``results.gpkg`` (GeoDataFrames; ``about``, ``fields`` as DataFrames), by name."""
    import pyogrio

    return {name: pyogrio.read_dataframe(path, layer=name) for name, _ in pyogrio.list_layers(path)}


# ---- export ----------------------------------------------------------------------------------------
ENCODINGS = {"utf-8": ("UTF-8", "UTF-8"), "gbk": ("CP936", "936")}  # option → (GDAL encoding, .cpg text)


def _check_encodable(layers: dict, encoding: str, source: Path) -> None:
    """Refuse a value the code page cannot hold (GDAL would drop the character silently)."""
    problems = []
    for layer, df in layers.items():
        for col in df.columns:
            if col == "geometry" or not (pd.api.types.is_object_dtype(df[col]) or pd.api.types.is_string_dtype(df[col])):
                continue
            for i, v in df[col].items():
                if isinstance(v, str):
                    try:
                        v.encode(encoding)
                    except UnicodeEncodeError as err:
                        problems.append(Problem(file=str(source), field=f"图层 {layer} 第 {int(i) + 1} 个要素的 {col}",
                                                expected=f"{encoding.upper()} 能表示的字符",
                                                found=f"“{v}”中的“{v[err.start:err.end]}”",
                                                hint="改用 --encoding utf-8（QGIS、ArcGIS 10.x 以上都能读 UTF-8 的 .cpg）。"))
                        if len(problems) >= 10:
                            raise InputError(problems)
    if problems:
        raise InputError(problems)


_EXPORT_SUFFIXES = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".geojson")


def _check_replaceable(out: Path) -> None:
    """An existing ``out`` is replaced only if it holds nothing but an earlier export's files."""
    if not out.exists():
        return
    ok_names = {f"{layer}{ext}" for layer in LAYERS for ext in _EXPORT_SUFFIXES} | {"about.csv", "fields.csv"}
    other = sorted(p.name for p in out.iterdir()) if out.is_dir() else [out.name]
    other = [n for n in other if n not in ok_names]
    if other:
        raise InputError(Problem(file=str(out), field="--out", expected="不存在的文件夹，或以前导出的 GIS 文件夹（将被替换）",
                                 found="已存在，且含其他文件：" + "、".join(other[:5]),
                                 hint="换一个 --out。"))


def export(run_dir: Path, fmt: str, encoding: str = "utf-8", out: Path | None = None) -> Path:
    """Write the run's layers as Shapefiles (one per layer, with ``.cpg``) or GeoJSON files into ``out``
    (default ``RUN_DIR/gis_<fmt>``), plus ``about.csv`` and ``fields.csv``; returns the folder.

    The layers are read from ``RUN_DIR/results.gpkg``; a run folder written before the GeoPackage
    existed is read back (`xuewei.reports.stored_run.read_run`) and its layers built afresh. The
    folder is written beside its target and renamed, so it is whole or absent.
    """
    import pyogrio

    from xuewei.reports.runfolder import write_csv

    run_dir = Path(run_dir)
    gpkg = run_dir / GPKG
    if gpkg.is_file():
        layers = read_layers(gpkg)
        about, fields = layers.pop("about"), layers.pop("fields")
    else:
        from xuewei.reports.stored_run import read_run

        run = read_run(run_dir)
        layers, about, fields = results_layers(run), about_table(run), fields_table(run)
    gdal_enc, cpg = ENCODINGS[encoding]
    if fmt == "shp" and encoding == "gbk":
        _check_encodable(layers, "gbk", gpkg)
    out = Path(out) if out else run_dir / f"gis_{fmt}"
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for layer, gdf in layers.items():
            geom_type = LAYERS.get(layer, (None, None))[1]
            if fmt == "shp":
                pyogrio.write_dataframe(gdf, tmp / f"{layer}.shp", driver="ESRI Shapefile", encoding=gdal_enc,
                                        geometry_type=geom_type)
                (tmp / f"{layer}.cpg").write_text(cpg, encoding="ascii")
            else:
                pyogrio.write_dataframe(gdf, tmp / f"{layer}.geojson", driver="GeoJSON", geometry_type=geom_type)
        write_csv(about, tmp / "about.csv")
        write_csv(fields, tmp / "fields.csv")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
