"""The county boundary of a region pack: read from its file, or, when the pack has none, derived
from its points (a buffered concave hull of the township seats, villages, schools and sites).

A derived boundary is a sketch (示意): `Region.boundary_derived` is then true, maps say so, and
points are checked for gross outliers (`gross_outliers`) instead of for lying inside it.
"""

from __future__ import annotations

import logging

import numpy as np
from pyproj import CRS

from xuewei.data import crs as crsmod
from xuewei.errors import InputError, Problem

log = logging.getLogger("xuewei")

HULL_RATIO = 0.3  # shapely.concave_hull ratio: 0 = tightest, 1 = convex hull
BUFFER_MIN_M = 1000.0  # the derived boundary lies at least this far beyond the outermost points [m]
BUFFER_MAX_M = 5000.0  # ... and at most this far [m]
OUTLIER_MIN_M = 30_000.0  # a point this far from every other point (and 10× the usual spacing) is a typo [m]
OUTLIER_SPACING = 10.0  # ... where the usual spacing is the median nearest-neighbour distance
SPREAD_MIN_M = 100_000.0  # a point this far from the median centre (and 8× the median such distance) too [m]
SPREAD_FACTOR = 8.0


def read_boundary(path, label: str, crs: str | CRS):
    """The boundary file as one WGS-84 polygon (a GeoDataFrame of one row); invalid polygons are
    repaired with a warning; anything that is not an area of the stated CRS raises `InputError`."""
    import geopandas as gpd
    import shapely

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
    problem = crsmod.degrees_under_projected_crs(geom.bounds, crs, label, "边界", "crs（或 boundary_crs）")
    if problem:
        raise InputError(problem)

    # GDAL reports GeoJSON as EPSG:4326 whatever its coordinates are; region.toml says what they are.
    geom = crsmod.geometry_to_wgs84(geom, crs)
    lon_min, lat_min, lon_max, lat_max = geom.bounds
    if not (-180 <= lon_min <= lon_max <= 180 and -90 <= lat_min <= lat_max <= 90):
        raise InputError(Problem(file=label, field="crs", expected="与边界坐标一致的坐标系",
                                 found=f"换算后范围 {lon_min:.1f}…{lon_max:.1f}, {lat_min:.1f}…{lat_max:.1f}",
                                 hint="请核对 region.toml 中的 crs（或 boundary_crs）。"))
    return gpd.GeoDataFrame({"name": ["boundary"]}, geometry=[geom], crs=crsmod.WGS84)


def metric_crs_of(lon: np.ndarray, lat: np.ndarray) -> CRS:
    """The UTM zone of the median point [WGS-84 degrees in]."""
    return crsmod.utm_crs(float(np.median(lon)), float(np.median(lat)))


def gross_outliers(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points far from all the others, in metres: the typos (a wrong degree, a digit dropped) that a
    derived boundary would otherwise swallow.

    A point is an outlier when its nearest other point is more than `OUTLIER_MIN_M` away and more
    than `OUTLIER_SPACING` × the median nearest-neighbour distance, or when it lies more than
    `SPREAD_MIN_M` and `SPREAD_FACTOR` × the median such distance from the median centre (a group
    of points entered with the same wrong degree).

    Returns
    -------
    (outlier mask, distance to the nearest other point [m], distance to the median centre [m])
    """
    from scipy.spatial import cKDTree

    n = len(x)
    if n < 3:
        return np.zeros(n, bool), np.full(n, np.nan), np.full(n, np.nan)
    xy = np.column_stack([x, y])
    dist, _ = cKDTree(xy).query(xy, k=2)
    nn = dist[:, 1]
    far = (nn > OUTLIER_MIN_M) & (nn > OUTLIER_SPACING * np.median(nn))
    r = np.hypot(*(xy - np.median(xy, axis=0)).T)
    spread = (r > SPREAD_MIN_M) & (r > SPREAD_FACTOR * np.median(r))
    return far | spread, nn, r


def derive_boundary(x: np.ndarray, y: np.ndarray, metric: CRS):
    """A sketch of the county boundary from its points [m in ``metric``]: their concave hull
    (`HULL_RATIO`), buffered by the median nearest-neighbour distance clamped to
    `BUFFER_MIN_M`…`BUFFER_MAX_M`. Returns the WGS-84 GeoDataFrame and the buffer [m]."""
    import geopandas as gpd
    import shapely
    from scipy.spatial import cKDTree

    xy = np.unique(np.column_stack([x, y]), axis=0)
    if len(xy) >= 2:
        dist, _ = cKDTree(xy).query(xy, k=2)
        spacing = float(np.median(dist[:, 1]))
    else:
        spacing = 0.0
    buffer_m = float(np.clip(spacing, BUFFER_MIN_M, BUFFER_MAX_M))
    hull = shapely.concave_hull(shapely.multipoints(xy), ratio=HULL_RATIO)
    geom = shapely.make_valid(hull.buffer(buffer_m, quad_segs=8)).simplify(buffer_m / 20)
    gdf = gpd.GeoDataFrame({"name": ["boundary (derived)"]}, geometry=[geom], crs=metric).to_crs(crsmod.WGS84)
    return gdf, buffer_m
