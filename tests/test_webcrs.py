"""GCJ-02 / BD-09 conversion against published reference points."""

import numpy as np
import pytest

from xuewei.data import webcrs

# Reference values printed in wandergis/coordtransform test/app.js for the point (116.404, 39.915).
BEIJING = (116.404, 39.915)


def test_wgs84_to_gcj02_reference_point():
    lon, lat = webcrs.wgs84_to_gcj02(*BEIJING)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)


def test_gcj02_bd09_reference_points():
    assert webcrs.gcj02_to_bd09(*BEIJING) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-9)
    assert webcrs.bd09_to_gcj02(*BEIJING) == pytest.approx((116.39762729119315, 39.90865673957631), abs=1e-9)


def test_gcj02_inverse_is_exact_where_the_simple_formula_is_not():
    # The one-step inverse circulated with the reference gives 116.39775550083061, 39.91359571849836,
    # off by ~1 m; iteration must reproduce the WGS-84 point to 1e-8 degree.
    gcj = webcrs.wgs84_to_gcj02(*BEIJING)
    back = webcrs.gcj02_to_wgs84(*gcj)
    assert back == pytest.approx(BEIJING, abs=1e-8)
    assert abs(back[0] - 116.39775550083061) > 1e-6


def test_offset_is_hundreds_of_metres_in_wuxi_and_zero_abroad():
    lon, lat = np.array([109.6, 2.35]), np.array([31.4, 48.85])  # 巫溪县城, Paris
    glon, glat = webcrs.wgs84_to_gcj02(lon, lat)
    dx_m = (glon - lon) * 111_320 * np.cos(np.radians(lat))
    dy_m = (glat - lat) * 110_540
    shift_m = np.hypot(dx_m, dy_m)
    assert 200 < shift_m[0] < 800
    assert shift_m[1] == 0


def test_bd09_round_trip_vectorised():
    rng = np.random.default_rng(0)
    lon = rng.uniform(100, 120, 500)
    lat = rng.uniform(22, 40, 500)
    blon, blat = webcrs.wgs84_to_bd09(lon, lat)
    wlon, wlat = webcrs.bd09_to_wgs84(blon, blat)
    np.testing.assert_allclose(wlon, lon, atol=1e-8)
    np.testing.assert_allclose(wlat, lat, atol=1e-8)
