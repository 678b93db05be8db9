"""Region packs: valid ones load with WGS-84 points; every kind of broken one fails with file/row/field."""

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, edit_csv
from xuewei.cli import main
from xuewei.data import crs as crsmod
from xuewei.data import webcrs
from xuewei.data.boundary import BUFFER_MIN_M
from xuewei.data.region import load_region
from xuewei.errors import InputError


def test_tiny_region_loads():
    region = load_region(TINY)
    assert region.counts() == {"townships": 3, "nodes": 6, "schools": 4, "school_stages": 5, "births": 48}
    assert region.metric_crs.to_epsg() == 32649
    ss = region.school_stages
    assert ss["pupils"].dtype == np.int64
    assert ss.loc[ss["stage"] == "primary", "pupils"].sum() == 1010 + 150 + 420
    assert region.schools["school_id"].tolist() == ["S1", "S2", "S3", "S4"]


def run_validate(path, capsys):
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_validate_cli_ok(capsys):
    code, out = run_validate(TINY, capsys)
    assert code == 0, out
    assert "校验通过" in out and "示意数据" in out


@pytest.mark.parametrize("file,old,new,field,row", [
    ("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,6,270,abc", "pupils", 4),
    ("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,6,270,-5", "pupils", 4),
    ("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,6.5,270,150", "classes", 4),
    ("school_stages.csv", "S3,primary", "S3,primery", "stage", 4),
    ("schools.csv", "S3,东乡小学", "S1,东乡小学", "school_id", 4),
    ("nodes.csv", "N4,东二村,T2", "N4,东二村,T9", "township_id", 5),
    ("school_stages.csv", "S4,junior", "S9,junior", "school_id", 6),
    ("schools.csv", "109.72,31.421", "111.72,31.421", "lon/lat", 4),
    ("births.csv", "T1,2005,110,1", "T1,2005,,1", "births", 2),
])
def test_broken_cells_name_file_row_field(tiny, capsys, file, old, new, field, row):
    edit_csv(tiny / file, old, new)
    code, out = run_validate(tiny, capsys)
    assert code == 2
    assert file in out and f"第 {row} 行" in out and f"“{field}”" in out, out
    assert "Traceback" not in out


def test_unknown_stage_suggests_the_nearest(tiny):
    edit_csv(tiny / "school_stages.csv", "S3,primary", "S3,primery")
    with pytest.raises(InputError, match="您是否想写“primary”（小学）"):
        load_region(tiny)


def test_missing_column_is_named(tiny):
    df = pd.read_csv(tiny / "schools.csv", dtype=str).drop(columns=["kind"])
    df.to_csv(tiny / "schools.csv", index=False)
    with pytest.raises(InputError, match="schools.csv.*字段“kind”.*必需的列"):
        load_region(tiny)


def test_every_problem_is_listed_at_once(tiny):
    edit_csv(tiny / "school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,-6,270,x")
    edit_csv(tiny / "nodes.csv", "N4,东二村,T2", "N4,东二村,T2")
    with pytest.raises(InputError) as info:
        load_region(tiny)
    assert len(info.value.problems) == 2
    assert "共 2 处" in str(info.value)


def test_swapped_lat_lon_is_diagnosed(tiny):
    edit_csv(tiny / "schools.csv", "109.72,31.421", "31.421,109.72")
    with pytest.raises(InputError, match="经纬度疑似填反"):
        load_region(tiny)


def test_unknown_crs(tiny):
    edit_csv(tiny / "region.toml", 'crs = "EPSG:4326"', 'crs = "EPSG:99999"')
    with pytest.raises(InputError, match="region.toml.*字段“crs”"):
        load_region(tiny)


def test_projected_coordinates_without_crs_are_refused(tiny):
    edit_csv(tiny / "schools.csv", "109.72,31.421", "500123.4,3476543.2")
    with pytest.raises(InputError, match="投影坐标"):
        load_region(tiny)


def test_gcj02_region_is_converted(tiny):
    """The same places given in GCJ-02 load to the same WGS-84 points."""
    for name in ("nodes.csv", "schools.csv"):
        df = pd.read_csv(tiny / name, dtype=str)
        lon, lat = webcrs.wgs84_to_gcj02(df["lon"].astype(float), df["lat"].astype(float))
        df["lon"], df["lat"] = [f"{v:.9f}" for v in lon], [f"{v:.9f}" for v in lat]
        df.to_csv(tiny / name, index=False)
    edit_csv(tiny / "region.toml", 'crs = "EPSG:4326"', 'crs = "gcj02"\nboundary_crs = "EPSG:4326"')
    edit_csv(tiny / "townships.csv", "T1,城关镇", "T1,城关镇")
    region = load_region(tiny)
    ref = load_region(TINY)
    np.testing.assert_allclose(region.schools["lon"], ref.schools["lon"], atol=1e-8)
    np.testing.assert_allclose(region.schools["lat"], ref.schools["lat"], atol=1e-8)
    assert (region.schools["lon_input"] != ref.schools["lon_input"]).all()


def test_gbk_export_and_chinese_headers_are_accepted_with_a_warning(tiny, caplog):
    df = pd.read_csv(tiny / "schools.csv", dtype=str).rename(columns={"name": "学校名称", "school_id": "学校代码"})
    (tiny / "schools.csv").write_bytes(df.to_csv(index=False).encode("gbk"))
    with caplog.at_level("WARNING", logger="xuewei"):
        region = load_region(tiny)
    assert region.schools["name"].iloc[0] == "城关小学"
    assert any("GBK" in r.message for r in caplog.records)
    assert any("学校名称" in r.message for r in caplog.records)


def test_bom_is_accepted(tiny):
    raw = (tiny / "nodes.csv").read_bytes()
    (tiny / "nodes.csv").write_bytes(b"\xef\xbb\xbf" + raw)
    assert len(load_region(tiny).nodes) == 6


def test_excel_roster_is_read(tiny):
    df = pd.read_csv(tiny / "school_stages.csv", dtype=str)
    (tiny / "school_stages.csv").unlink()
    df.to_excel(tiny / "school_stages.xlsx", index=False)
    assert load_region(tiny).school_stages["places"].sum() == 1080 + 900 + 270 + 540 + 300


def test_excel_merged_header_is_refused(tiny):
    from openpyxl import Workbook

    (tiny / "school_stages.csv").unlink()
    wb = Workbook()
    ws = wb.active
    ws.append(["学校代码", "规模", None, None, None, None])
    ws.merge_cells("B1:F1")
    ws.append(["S1", "primary", 2020, 24, 1080, 1010])
    wb.save(tiny / "school_stages.xlsx")
    with pytest.raises(InputError, match="合并单元格"):
        load_region(tiny)


def test_unreadable_and_empty_files(tiny):
    (tiny / "nodes.csv").write_bytes(b"")
    (tiny / "schools.csv").unlink()
    (tiny / "schools.xlsx").write_bytes(b"not really a workbook")
    with pytest.raises(InputError) as info:
        load_region(tiny)
    text = str(info.value)
    assert "nodes.csv" in text and "空文件" in text
    assert "schools.xlsx" in text and "Excel" in text


def test_missing_region_folder(tiny):
    with pytest.raises(InputError, match="region.toml"):
        load_region(tiny / "nowhere")


def test_missing_boundary_is_derived_from_the_points_with_a_warning(tiny, caplog):
    import shapely

    (tiny / "boundary.geojson").unlink()
    with caplog.at_level("WARNING", logger="xuewei"):
        region = load_region(tiny)
    assert region.boundary_derived and not load_region(TINY).boundary_derived
    assert any("示意县界" in r.getMessage() for r in caplog.records)
    assert "boundary" not in region.files
    poly = region.boundary.to_crs(region.metric_crs).geometry.iloc[0]
    assert poly.geom_type in ("Polygon", "MultiPolygon") and poly.is_valid
    for name in ("nodes", "schools", "townships"):
        df = region.tables[name].dropna(subset=["lon"])
        x, y = crsmod.project(df["lon"], df["lat"], region.metric_crs)
        # every point inside, at least the minimum buffer from the edge
        assert (shapely.distance(poly.exterior, shapely.points(x, y)) >= 0.9 * BUFFER_MIN_M).all()
        assert shapely.contains(poly, shapely.points(x, y)).all()
    assert region.metric_crs == load_region(TINY).metric_crs


def test_derived_boundary_refuses_a_point_far_from_all_others(tiny):
    (tiny / "boundary.geojson").unlink()
    edit_csv(tiny / "nodes.csv", "109.76,31.45", "112.76,31.45")  # a wrong degree: 285 km east
    with pytest.raises(InputError, match="nodes.csv.*第 5 行.*距最近的其他点 2[89]\\d km.*boundary.geojson"):
        load_region(tiny)


def test_a_named_boundary_file_that_is_missing_is_refused(tiny):
    edit_csv(tiny / "region.toml", "synthetic = true", 'synthetic = true\nfiles = { boundary = "县界.geojson" }')
    with pytest.raises(InputError, match="县界.geojson.*找不到"):
        load_region(tiny)


def test_point_layer_geopackage_is_read(tiny):
    import geopandas as gpd

    df = pd.read_csv(tiny / "nodes.csv", dtype={"node_id": str, "township_id": str})
    gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                           crs="EPSG:4326")
    (tiny / "nodes.csv").unlink()
    gdf.to_file(tiny / "nodes.gpkg")
    region = load_region(tiny)
    np.testing.assert_allclose(region.nodes["lon"], df["lon"])


def test_inputs_are_never_modified(tiny):
    before = {p.name: p.read_bytes() for p in tiny.iterdir()}
    load_region(tiny)
    assert {p.name: p.read_bytes() for p in tiny.iterdir()} == before


def test_copy_of_tiny_is_independent(tiny):
    shutil.rmtree(tiny)
    assert TINY.is_dir()


@pytest.mark.parametrize("text,encoding,expect_gbk", [
    ("school_id,places\nS1,5\n".replace("places", "学位"), "gbk", True),  # valid UTF-8 too: “ѧλ”
    ("school_id,学校\nS1,5\n", "gbk", True),  # “ѧУ”
    ("id,name\nN1,城关镇\n", "gbk", True),  # not valid UTF-8 at all
    ("id,name\nN1,城关镇\n", "utf-8", False),
    ("id,source\nN1,© OpenStreetMap 25°\n", "utf-8", False),  # no hanzi; GBK would read “漏 …”
    ("id,name\nN1,Café\n", "utf-8", False),
    ("id,name\nN1,氹垴\n", "utf-8", False),  # rare hanzi (outside GB 2312) stay UTF-8
])
def test_utf8_or_gbk_is_chosen_by_what_reads_as_chinese(caplog, text, encoding, expect_gbk):
    from xuewei.data.tables import decode_text

    with caplog.at_level("WARNING", logger="xuewei"):
        assert decode_text(text.encode(encoding), "t.csv") == text
    assert any("GBK" in r.getMessage() for r in caplog.records) == expect_gbk


def test_gbk_file_whose_only_chinese_is_the_header_xuewei(tiny, caplog):
    """The property test's failing case, through the loader: a GBK school_stages.csv with 学位 as its
    one Chinese header reads the places column (it used to be “missing”: UTF-8 “ѧλ”)."""
    text = (tiny / "school_stages.csv").read_text(encoding="utf-8").replace("places", "学位", 1)
    (tiny / "school_stages.csv").write_bytes(text.encode("gbk"))
    with caplog.at_level("WARNING", logger="xuewei"):
        region = load_region(tiny)
    assert region.school_stages["places"].sum() == 1080 + 900 + 270 + 540 + 300
    assert any("GBK" in r.getMessage() for r in caplog.records)


def chinese_values(d):
    """The tiny pack as a planner types it: every category in Chinese, with the usual slips."""
    sub = {"townships.csv": [(",镇,county_seat,", ",镇,县城区　,"), (",乡,township_seat,", ",乡,乡镇驻地,"),
                             (",镇,central_town,", ",镇,中心镇,")],
           "schools.csv": [(",primary,T1,", ",小学,T1,"), (",junior,T1,", ",初级中学,T1,"),
                           (",primary,T2,", ",小 学 ,T2,"), (",nine_year,T3,", ",九年一贯制学校,T3,"),
                           (",public,0,", ",公办,0,"), (",public,50,", ",公立,50,"), (",public,120,", ",Public,120,")],
           "school_stages.csv": [("S1,primary", "S1,小学"), ("S2,junior", "S2,初中"), ("S4,junior", "S4,初中")],
           "nodes.csv": [(",community,", ",社区,"), (",T1,village,", ",T1,村,"), (",8000,1,", ",8000,城镇,"),
                         (",1500,0,", ",1500,乡村,")]}
    for name, pairs in sub.items():
        for old, new in pairs:
            edit_csv(d / name, old, new)


def test_chinese_category_values_read_as_the_codes_with_one_warning_per_column(tiny, caplog):
    chinese_values(tiny)
    with caplog.at_level("WARNING", logger="xuewei"):
        region = load_region(tiny)
    ref = load_region(TINY)
    for name in ("townships", "schools", "school_stages", "nodes"):
        cols = [c for c in ref.tables[name].columns if not c.endswith("_input")]
        pd.testing.assert_frame_equal(region.tables[name][cols], ref.tables[name][cols], check_dtype=False)
    text = [r.getMessage() for r in caplog.records if "已按代码读取" in r.getMessage()]
    for file, field, words in (("townships.csv", "tier", "“县城区”→county_seat"),  # full-width space dropped
                               ("schools.csv", "kind", "“九年一贯制学校”→nine_year"),
                               ("schools.csv", "ownership", "“Public”→public"),
                               ("school_stages.csv", "stage", "“初中”→junior（第 3、6 行）"),
                               ("nodes.csv", "kind", "“村”→village"), ("nodes.csv", "urban", "“城镇”→1")):
        [line] = [t for t in text if f"{file} 字段“{field}”" in t]  # one warning per column
        assert words in line, (words, line)


@pytest.mark.parametrize("file,old,new,field,words", [
    ("townships.csv", ",乡,township_seat,", ",乡,村,", "tier", "乡镇的层级不能是村"),
    ("townships.csv", ",乡,township_seat,", ",乡,中心乡镇,", "tier", "请按本县规划写明其一"),
    ("schools.csv", ",public,0,", ",公办民助,0,", "ownership", "请按举办者填"),
    ("schools.csv", ",nine_year,T3,", ",九年制,T3,", "kind", "您是否想写“nine_year”（九年一贯制）？"),
    ("schools.csv", ",primary,T2,", ",小学校,T2,", "kind", "您是否想写“primary”（小学）？"),
    ("school_stages.csv", "S3,primary", "S3,高 级", "stage", "您是否想写“senior”（普通高中）？"),
    ("nodes.csv", ",1500,0,", ",1500,半城镇,", "urban", "您是否想写“1”（城镇）？"),
])
def test_chinese_values_that_are_not_allowed_get_a_reason_or_the_nearest_code(tiny, file, old, new, field, words):
    edit_csv(tiny / file, old, new)
    with pytest.raises(InputError) as info:
        load_region(tiny)
    [p] = info.value.problems
    assert p.file.endswith(file) and p.field == field and words in p.hint, p


def test_candidate_stages_in_chinese_with_chinese_separators(tiny, caplog):
    (tiny / "candidate_sites.csv").write_text(
        "地块编号,名称,乡镇代码,经度,纬度,可建学段,最大班数\nC1,城东地块,T1,109.61,31.41,小学、初中,24\n"
        "C2,东乡地块,T2,109.72,31.43,幼儿园,6\nC3,城北地块,T1,109.60,31.41,中职,6\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_region(tiny)
    [p] = info.value.problems
    assert (p.row, p.field) == (4, "stages") and "中职、特教学校请列入 schools" in p.hint
    edit_csv(tiny / "candidate_sites.csv", "C3,城北地块,T1,109.60,31.41,中职,6\n", "")
    with caplog.at_level("WARNING", logger="xuewei"):
        region = load_region(tiny)
    assert region.candidate_sites["stages"].tolist() == [("primary", "junior"), ("kindergarten",)]
    assert any("分号分隔" in r.getMessage() for r in caplog.records)


def test_every_value_name_maps_to_an_allowed_code_of_its_column():
    from xuewei.data.tables import load_schema, normalise_value, value_rows

    seen = {}
    for row in value_rows():
        for target in row["columns"].split("|"):
            table, column = target.split(".")
            col = {c.name: c for c in load_schema(table)}[column]
            allowed = set(col.allowed) if col.dtype != "bool" else {"0", "1"}
            assert row["code"] in allowed or (row["code"] == "" and row["note"]), row
            for name in filter(None, row["names"].split("|")):
                key = (target, normalise_value(name))
                assert key not in seen, f"{name} listed twice for {target}"  # one meaning per writing
                seen[key] = row["code"]


def test_derived_boundary_refuses_a_group_of_points_with_the_same_wrong_degree(tiny):
    """Three schools typed with 111 for 109 sit together (so each has a near neighbour) but 190 km
    from the rest: the distance from the centre catches them."""
    (tiny / "boundary.geojson").unlink()
    text = (tiny / "schools.csv").read_text(encoding="utf-8")
    (tiny / "schools.csv").write_text(text.replace(",109.6", ",111.6").replace(",109.7", ",111.7"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_region(tiny)
    rows = sorted(p.row for p in info.value.problems if p.file.endswith("schools.csv"))
    assert rows == [2, 3, 4], info.value
    for p in info.value.problems:
        assert int(re.search(r"距各点中心 (\d+) km", p.found).group(1)) > 150, p.found


def test_gross_outliers_leave_an_ordinary_spread_alone():
    from xuewei.data.boundary import gross_outliers

    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 120_000, 300), rng.uniform(0, 80_000, 300)  # a 120 × 80 km county, 300 villages
    assert not gross_outliers(x, y)[0].any()
    x[7] += 400_000
    assert np.flatnonzero(gross_outliers(x, y)[0]).tolist() == [7]


def test_grades_written_as_names_are_read_as_numbers_with_a_warning(caplog):
    import pandas as pd

    from xuewei.data.tables import validate_frame

    raw = pd.DataFrame({"area": ["T1"] * 6, "year": ["2024"] * 6,
                        "grade": ["大班", "一年级", "小学六年级", "初一", "初三", "高二"],
                        "pupils": ["10", "11", "12", "13", "14", "15"]})
    with caplog.at_level("WARNING", logger="xuewei"):
        out = validate_frame(raw, "grades", "grades.csv")
    assert out["grade"].tolist() == [0, 1, 6, 7, 9, 11]
    assert "grades.csv" in caplog.text and "按六三制" in caplog.text
    five_four = raw.assign(grade=["小五", "初一", "初二", "初三", "初四", "高一"])
    assert validate_frame(five_four, "grades", "grades.csv")["grade"].tolist() == [5, 6, 7, 8, 9, 10]


def test_years_with_a_unit_or_as_school_years_are_read_with_a_warning(caplog):
    import pandas as pd

    from xuewei.data.tables import validate_frame

    raw = pd.DataFrame({"area": ["T1"] * 3, "year": ["2023年", "2024-2025学年", "2025"], "grade": ["1"] * 3,
                        "pupils": ["10", "11", "12"]})
    with caplog.at_level("WARNING", logger="xuewei"):
        out = validate_frame(raw, "grades", "grades.csv")
    assert out["year"].tolist() == [2023, 2024, 2025]
    assert "grades.csv" in caplog.text and "“2024-2025学年”→2024" in caplog.text
