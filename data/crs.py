"""Coordinate systems of inputs: parse what a planner declares, convert to WGS-84, pick a metric CRS.

Inputs may be in any EPSG CRS (e.g. EPSG:4326 WGS-84, EPSG:4490 CGCS2000, EPSG:4547 CGCS2000 GK
zone 38) or in the web-map systems ``gcj02`` / ``bd09``. Internally every point is held as WGS-84
longitude/latitude, and distances are computed in the UTM zone of the region (metres).
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from xuewei.data.webcrs import WEB_CRS, to_wgs84 as web_to_wgs84

WGS84 = "EPSG:4326"


def parse_crs(text: str) -> str | CRS:
    """Return ``"gcj02"``/``"bd09"`` for web-map coordinates, else a pyproj CRS; raise ValueError."""
    key = str(text).strip()
    if key.lower().replace("-", "").replace("_", "") in WEB_CRS:
        return key.lower().replace("-", "").replace("_", "")
    if not key:
        raise ValueError("empty CRS")
    try:
        return CRS.from_user_input(key)
    except CRSError as err:
        raise ValueError(str(err)) from None


def to_wgs84(x, y, crs: str | CRS) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates in ``crs`` to WGS-84 longitude/latitude [degrees]."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if isinstance(crs, str):
        return web_to_wgs84(x, y, crs)
    if crs.equals(CRS.from_epsg(4326)):
        return x, y
    tr = Transformer.from_crs(crs, WGS84, always_xy=True)
    lon, lat = tr.transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def is_geographic(crs: str | CRS) -> bool:
    return isinstance(crs, str) or crs.is_geographic


def degrees_under_projected_crs(bounds, crs: str | CRS, label: str, what: str, key: str):
    """A `Problem` when a layer's coordinates ``bounds`` (x0, y0, x1, y1) look like longitude/latitude
    although ``crs`` is projected (metres), else None; ``what`` names the layer (边界, 道路), ``key`` the
    region.toml key to check (e.g. ``crs（或 boundary_crs）``)."""
    from xuewei.errors import Problem

    x0, y0, x1, y1 = bounds
    if is_geographic(crs) or not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        return None
    return Problem(file=label, field="crs", expected=f"与{what}坐标一致的坐标系",
                   found=f"坐标像经纬度（{x0:.2f}…{x1:.2f}, {y0:.2f}…{y1:.2f}），但坐标系是投影坐标（米）",
                   hint=f"请核对 region.toml 中的 {key}，经纬度请写 \"EPSG:4326\"。")


def geometry_to_wgs84(geometry, crs: str | CRS):
    """Shapely geometry (or array of them) in ``crs`` → WGS-84 longitude/latitude [degrees]."""
    import shapely

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, convert)


def utm_crs(lon_deg: float, lat_deg: float) -> CRS:
    """The WGS-84 UTM zone containing a point: the metric CRS used for distances."""
    zone = int((lon_deg + 180.0) // 6.0) + 1
    epsg = (32600 if lat_deg >= 0 else 32700) + zone
    return CRS.from_epsg(epsg)


def project(lon_deg, lat_deg, metric: CRS) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 degrees → metric CRS [m]."""
    tr = Transformer.from_crs(WGS84, metric, always_xy=True)
    x, y = tr.transform(np.asarray(lon_deg, dtype=float), np.asarray(lat_deg, dtype=float))
    return np.asarray(x), np.asarray(y)
