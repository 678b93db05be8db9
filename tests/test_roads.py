"""The optional road layer of a region pack: read and validated like the other files, used for every
village–school distance and time when present, refused with file/row/field when broken; without it
nothing changes and outputs say "直线距离 × 绕行系数"."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from conftest import TINY
from hostile import assert_clean_failure, cli, scenario_copy
from xuewei.data.crs import project
from xuewei.data.region import load_region
from xuewei.errors import InputError
from xuewei.optimizer.network import network_travel
from xuewei.optimizer.policy import PolicyConfig
from xuewei.optimizer.travel import basis_zh, travel_matrix, within_day_limit

# 示意 roads for the tiny region (lon, lat): a county road through the three seats, two village
# spurs, and one short road near 西二村 (N6) that meets nothing.
ROADS = [
    ({"等级": "县道"}, [(109.55, 31.35), (109.60, 31.40), (109.72, 31.42), (109.76, 31.45)]),
    ({"等级": "村道"}, [(109.60, 31.40), (109.61, 31.38)]),
    ({"等级": "村道", "speed_kmh": 15}, [(109.55, 31.35), (109.56, 31.34)]),
    ({"等级": "乡道"}, [(109.525, 31.325), (109.535, 31.335)]),
]


def write_roads(folder, roads=ROADS, name="roads.geojson"):
    features = [{"type": "Feature", "properties": props,
                 "geometry": {"type": "LineString", "coordinates": [list(p) for p in coords]}
                 if len(coords) > 1 else {"type": "Point", "coordinates": list(coords[0])}}
                for props, coords in roads]
    (folder / name).write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                               encoding="utf-8")


@pytest.fixture
def tiny_roads(tiny):
    write_roads(tiny)
    return tiny


def test_roads_load_with_classes_and_speeds(tiny_roads):
    region = load_region(tiny_roads)
    roads = region.roads
    assert len(roads) == 4 and roads["row"].tolist() == [2, 3, 4, 5]
    assert roads["road_class"].tolist() == ["county", "village", "village", "township"]
    assert np.isnan(roads["speed_kmh"].iloc[0]) and roads["speed_kmh"].iloc[2] == 15
    assert "roads" in region.files
    assert load_region(TINY).roads is None  # no road layer: nothing read


def _tiny_xy(region):
    n, s = region.nodes, region.schools
    return (n["lon"].to_numpy(), n["lat"].to_numpy()), (s["lon"].to_numpy(), s["lat"].to_numpy())


def test_travel_is_on_the_roads_with_a_fallback_for_what_they_do_not_join(tiny_roads, caplog):
    region = load_region(tiny_roads)
    policy = PolicyConfig()
    nodes, schools = _tiny_xy(region)
    with caplog.at_level(logging.WARNING, logger="xuewei"):
        t = travel_matrix(region, policy, nodes, schools)
    assert t.basis == "network" and basis_zh(region, policy) == "路网距离（道路图层）"
    # N6 (西二村, row 5) sits on the road that meets nothing: every school falls back, with a warning.
    assert t.fallback[5].all() and not t.fallback[:5].any()
    assert "道路图层不连通" in caplog.text and "4 对，涉及 1 个村" in caplog.text
    straight = travel_matrix(region, policy.model_copy(update={"use_roads": False}), nodes, schools)
    assert straight.basis == "straight" and straight.minutes is None
    np.testing.assert_allclose(t.km[5], straight.km[5])
    # Elsewhere: the network numbers themselves, computed here directly from the same lines.
    m = region.metric_crs
    lines = [np.column_stack(project(*np.array(c).T, m)) for _, c in ROADS]
    speed = np.array([30.0, 20.0, 15.0, 25.0])  # 县道, 村道, the row's own speed column, 乡道
    direct = network_travel(lines, speed, np.ones(4, bool), np.column_stack(project(*nodes, m)),
                            np.column_stack(project(*schools, m)), walk_kmh=4.0)
    np.testing.assert_allclose(t.km[:5], direct.km[:5])
    np.testing.assert_allclose(t.minutes[:5], direct.minutes[:5])
    # A road is never shorter than the straight line (km without the detour factor).
    assert (t.km[:5] >= straight.km[:5] / policy.detour_factor - 1e-9).all()


def test_minute_limits_need_roads_and_then_bind(tiny_roads):
    region = load_region(tiny_roads)
    nodes, schools = _tiny_xy(region)
    policy = PolicyConfig(max_travel_min={"primary": 10.0})
    t = travel_matrix(region, policy, nodes, schools)
    ok = within_day_limit(t, policy, "primary")
    np.testing.assert_array_equal(ok, (t.km <= policy.travel_limit_km["primary"]) & (t.minutes <= 10.0))
    assert (t.km <= policy.travel_limit_km["primary"]).sum() > ok.sum()  # the minutes bind somewhere
    no_roads = load_region(TINY)
    with pytest.raises(InputError, match="max_travel_min.primary"):
        within_day_limit(travel_matrix(no_roads, policy, *_tiny_xy(no_roads)), policy, "primary")


@pytest.mark.parametrize("roads,row,field,text", [
    ([({"等级": "县道"}, [(109.55, 31.35), (109.60, 31.40)]), ({"等级": "县道"}, [(109.6, 31.4)])], 3, "geometry", "Point"),
    ([({"等级": "县道"}, [(109.55, 31.35), (109.60, 31.40)]), ({"等级": "规划路"}, [(109.6, 31.4), (109.7, 31.4)])],
     3, "等级", "规划路"),
    ([({"speed_kmh": "快"}, [(109.55, 31.35), (109.60, 31.40)])], 2, "speed_kmh", "快"),
    ([({"speed_kmh": 400}, [(109.55, 31.35), (109.60, 31.40)])], 2, "speed_kmh", "400"),
])
def test_bad_road_files_name_file_row_field(tiny, capsys, roads, row, field, text):
    write_roads(tiny, roads)
    code, out, err = cli(capsys, "validate", tiny)
    assert_clean_failure(code, err, file="roads.geojson", row=row, field=field, text=text)


def test_road_crs_and_unreadable_road_files_are_refused(tiny, capsys):
    write_roads(tiny)
    text = (tiny / "region.toml").read_text(encoding="utf-8")
    (tiny / "region.toml").write_text(text.replace('crs = "EPSG:4326"', 'crs = "EPSG:4326"\nroads_crs = "EPSG:32649"'),
                                      encoding="utf-8")
    code, out, err = cli(capsys, "validate", tiny)
    assert_clean_failure(code, err, file="roads.geojson", field="crs", text="roads_crs")
    (tiny / "region.toml").write_text(text, encoding="utf-8")
    (tiny / "roads.geojson").write_text("这不是 GeoJSON", encoding="utf-8")
    code, out, err = cli(capsys, "validate", tiny)
    assert_clean_failure(code, err, file="roads.geojson", text="可读取的道路图层")


def test_roads_in_a_projected_crs_are_converted(tiny):
    write_roads(tiny)
    region = load_region(tiny)
    (tiny / "roads.geojson").unlink()
    # The same lines in CGCS2000 / 3-degree GK zone 37 (EPSG:4525), written as metres.
    from pyproj import Transformer
    tr = Transformer.from_crs("EPSG:4326", "EPSG:4525", always_xy=True)
    write_roads(tiny, [(p, [tr.transform(*c) for c in coords]) for p, coords in ROADS])
    text = (tiny / "region.toml").read_text(encoding="utf-8")
    (tiny / "region.toml").write_text(text.replace('crs = "EPSG:4326"', 'crs = "EPSG:4326"\nroads_crs = "EPSG:4525"'),
                                      encoding="utf-8")
    again = load_region(tiny)
    a = np.concatenate([np.asarray(g.coords) for g in region.roads.geometry])
    b = np.concatenate([np.asarray(g.coords) for g in again.roads.geometry])
    np.testing.assert_allclose(a, b, atol=1e-7)


@pytest.fixture(scope="module")
def road_run(tmp_path_factory):
    """The tiny scenario run with the road layer (one solver thread, in this process)."""
    from xuewei.cli import main

    root = tmp_path_factory.mktemp("roadrun")
    scen = scenario_copy(root)
    write_roads(root / "tiny")
    assert main(["run", str(scen), "--out", str(root / "out")]) == 0
    return root


def test_a_run_on_roads_uses_network_distances_and_says_so(road_run):
    out = road_run / "out"
    region = load_region(road_run / "tiny")
    asg = pd.read_csv(out / "assignments.csv", encoding="utf-8-sig", dtype={"node_id": str, "school_id": str})
    asg = asg[asg["school_id"].fillna("") != ""]
    loc = pd.concat([region.schools[["school_id", "lon", "lat"]],
                     region.candidate_sites.rename(columns={"site_id": "school_id"})[["school_id", "lon", "lat"]]
                     if region.candidate_sites is not None else None]).set_index("school_id")
    nodes = region.nodes.set_index("node_id")
    real = asg[asg["school_id"].isin(loc.index)]
    assert len(real) >= 5
    t = travel_matrix(region, PolicyConfig(), (nodes.loc[real["node_id"], "lon"], nodes.loc[real["node_id"], "lat"]),
                      (loc.loc[real["school_id"], "lon"], loc.loc[real["school_id"], "lat"]))
    np.testing.assert_allclose(real["distance_km"].to_numpy(), np.diag(t.km), atol=5e-4)
    np.testing.assert_allclose(real["travel_min"].to_numpy(), np.diag(t.minutes), atol=5e-4)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "路程按路网距离（道路图层）计算" in report and "绕行系数" not in report
    assert "路网距离（道路图层）" in (out / "report.html").read_text(encoding="utf-8")
    import pymupdf

    page = pymupdf.open(out / "maps" / "overview_2030.pdf")[0].get_text()
    assert "路程（公里）：路网距离（道路图层）" in page and "道路（路程按路网计算）" in page


def test_a_run_without_roads_says_straight_line(tiny_run_dir):
    report = (tiny_run_dir / "report.md").read_text(encoding="utf-8")
    assert "路程按直线距离 × 绕行系数 1.4计算" in report
    import pymupdf

    page = pymupdf.open(tiny_run_dir / "maps" / "overview_2030.pdf")[0].get_text()
    assert "路程（公里）：直线距离 × 绕行系数 1.4" in page and "道路（路程按路网计算）" not in page


def test_minute_limits_without_roads_fail_cleanly(tmp_path, capsys):
    scen = scenario_copy(tmp_path)
    text = scen.read_text(encoding="utf-8")
    scen.write_text(text.replace("[policy]", "[policy]\nmax_travel_min = { primary = 30 }"), encoding="utf-8")
    code, out, err = cli(capsys, "run", scen, "--out", tmp_path / "out")
    assert_clean_failure(code, err, field="max_travel_min.primary", text="道路图层", out=tmp_path / "out")


def test_a_minute_limit_on_roads_sends_far_villages_to_boarding(tmp_path, capsys):
    scen = scenario_copy(tmp_path)
    write_roads(tmp_path / "tiny")
    text = scen.read_text(encoding="utf-8")
    scen.write_text(text.replace("[policy]", "[policy]\nmax_travel_min = { primary = 8, junior = 8 }"), encoding="utf-8")
    code, out, err = cli(capsys, "run", scen, "--out", tmp_path / "out")
    assert code in (0, 3), err  # 3: some pupils unserved, said so
    asg = pd.read_csv(tmp_path / "out" / "assignments.csv", encoding="utf-8-sig")
    day = asg[asg["stage"].isin(["primary", "junior"]) & ~asg["boarding"]]
    assert len(day) and (day["travel_min"] <= 8 + 1e-3).all()
    far = asg[asg["stage"].isin(["primary", "junior"]) & asg["boarding"]]
    km_limit = far["stage"].map(PolicyConfig().travel_limit_km)
    assert len(far) and ((far["travel_min"] > 8) | (far["distance_km"] > km_limit)).all()
    audit = pd.read_csv(tmp_path / "out" / "audit.csv", encoding="utf-8-sig")
    assert "travel_time_limit" not in set(audit["rule"])


def test_audit_flags_day_trips_over_the_minute_limit():
    from xuewei.optimizer.audit import AuditRules, audit_assignments

    a = pd.DataFrame({"node_id": ["N1", "N2", "N3"], "stage": "primary", "period": 2025, "school_id": "S1",
                      "pupils": [10.0, 10.0, 10.0], "distance_km": [2.0, 2.0, 2.0], "travel_min": [20.0, 45.0, 50.0],
                      "boarding": [False, False, True]})
    out = audit_assignments(a, AuditRules(travel_limit_km={"primary": 5.0}, class_cap={"primary": 45},
                                          max_travel_min={"primary": 40.0}))
    assert out["rule"].tolist() == ["travel_time_limit"] and out["node_id"].tolist() == ["N2"]
    assert out["value"].tolist() == [45.0] and out["limit"].tolist() == [40.0]


def test_validate_describes_the_road_layer(tiny_roads, capsys):
    code, out, err = cli(capsys, "validate", tiny_roads)
    assert code == 0, err
    assert "道路图层：4 条线（村道 2，县道 1，乡道 1；1 条有车速）" in out
    code, out, err = cli(capsys, "validate", TINY)
    assert "道路图层：无；路程按直线距离 × 绕行系数计算" in out


def test_a_geopackage_named_in_region_toml_is_read(tiny):
    import geopandas as gpd

    write_roads(tiny, name="tmp.geojson")
    gpd.read_file(tiny / "tmp.geojson").to_file(tiny / "公路网.gpkg", driver="GPKG")
    (tiny / "tmp.geojson").unlink()
    text = (tiny / "region.toml").read_text(encoding="utf-8")
    (tiny / "region.toml").write_text(text + '\n[files]\nroads = "公路网.gpkg"\n', encoding="utf-8")
    region = load_region(tiny)
    assert region.files["roads"].name == "公路网.gpkg" and len(region.roads) == 4
    (tiny / "公路网.gpkg").unlink()
    with pytest.raises(InputError, match="files.roads"):
        load_region(tiny)


def test_without_roads_the_distances_are_bit_for_bit_those_of_before():
    """No road layer: the same arithmetic as before roads existed (cdist in the UTM zone / 1000 × detour),
    so runs without roads keep byte-identical tables."""
    from scipy.spatial.distance import cdist

    region = load_region(TINY)
    policy = PolicyConfig()
    nodes, schools = _tiny_xy(region)
    nx, ny = project(*nodes, region.metric_crs)
    sx, sy = project(*schools, region.metric_crs)
    before = cdist(np.column_stack([nx, ny]), np.column_stack([sx, sy])) / 1000.0 * policy.detour_factor
    t = travel_matrix(region, policy, nodes, schools)
    assert t.basis == "straight" and t.minutes is None and t.fallback is None
    assert np.array_equal(t.km, before)
    assert basis_zh(region, policy) == "直线距离 × 绕行系数 1.4"
