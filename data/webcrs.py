"""Web-map coordinates used in China: GCJ-02 (高德/腾讯, "火星坐标") and BD-09 (百度).

They are WGS-84 longitude/latitude with a published obfuscation offset of a few hundred metres, so
pyproj cannot convert them. Forward transforms are closed formulas; the inverse GCJ-02 → WGS-84 is
solved by fixed-point iteration to below 1e-9 degree (≈0.1 mm). Outside mainland China the offset is
not applied, as the web maps do.

References
----------
[1] The GCJ-02 formula as circulated publicly (ellipsoid a = 6378245 m, e² = 0.00669342162296594323,
    Krasovsky 1940), e.g. wandergis/coordtransform; BD-09 adds a rotation of 3e-6·sin/cos(x·π·3000/180)
    around an offset of (0.0065, 0.006) degrees.
"""

from __future__ import annotations

import numpy as np

_A_M = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

WEB_CRS = ("gcj02", "bd09")


def _outside_china(lon_deg, lat_deg):
    return (lon_deg < 72.004) | (lon_deg > 137.8347) | (lat_deg < 0.8293) | (lat_deg > 55.8271)


def _offset_deg(lon_deg, lat_deg):
    x = lon_deg - 105.0
    y = lat_deg - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    lat_rad = lat_deg / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(lat_rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A_M * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A_M / sqrt_magic * np.cos(lat_rad) * np.pi)
    outside = _outside_china(lon_deg, lat_deg)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon_deg, lat_deg):
    """WGS-84 → GCJ-02. Arrays or scalars in degrees; returns ``(lon, lat)`` [degrees]."""
    lon = np.asarray(lon_deg, dtype=float)
    lat = np.asarray(lat_deg, dtype=float)
    dlon, dlat = _offset_deg(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon_deg, lat_deg, tol_deg: float = 1e-9, max_iter: int = 30):
    """GCJ-02 → WGS-84 by fixed-point iteration on the forward transform [degrees]."""
    glon = np.asarray(lon_deg, dtype=float)
    glat = np.asarray(lat_deg, dtype=float)
    lon, lat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(lon, lat)
        elon, elat = flon - glon, flat - glat
        lon, lat = lon - elon, lat - elat
        if np.nanmax(np.abs(np.concatenate([np.ravel(elon), np.ravel(elat)])), initial=0.0) < tol_deg:
            break
    return lon, lat


def gcj02_to_bd09(lon_deg, lat_deg):
    """GCJ-02 → BD-09 [degrees]."""
    x = np.asarray(lon_deg, dtype=float)
    y = np.asarray(lat_deg, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon_deg, lat_deg):
    """BD-09 → GCJ-02 [degrees]."""
    x = np.asarray(lon_deg, dtype=float) - 0.0065
    y = np.asarray(lat_deg, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_wgs84(lon_deg, lat_deg):
    """BD-09 → WGS-84 [degrees]."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon_deg, lat_deg))


def wgs84_to_bd09(lon_deg, lat_deg):
    """WGS-84 → BD-09 [degrees]."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon_deg, lat_deg))


def to_wgs84(lon_deg, lat_deg, crs: str):
    """Convert web-map coordinates named by ``crs`` ("gcj02" or "bd09") to WGS-84 [degrees]."""
    if crs == "gcj02":
        return gcj02_to_wgs84(lon_deg, lat_deg)
    if crs == "bd09":
        return bd09_to_wgs84(lon_deg, lat_deg)
    raise ValueError(f"not a web-map CRS: {crs}")
