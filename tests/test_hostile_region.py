"""Hostile region packs: every broken variant fails through `xuewei validate` / `xuewei run` with exit 2
and one Chinese message naming file, row and field, and through the API with `InputError`; the common
unambiguous variants are accepted with a warning."""

import datetime
import json

import pandas as pd
import pytest

from conftest import TINY
from hostile import assert_clean_failure, assert_no_output, cli, replace_in, scenario_copy, tree_digest
from xuewei.data.region import load_region
from xuewei.errors import InputError

POLYGON = ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
           '{"type":"Polygon","coordinates":%s}}]}')


def write(name, data):
    def mutate(d):
        (d / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return mutate


def edit(name, old, new):
    return lambda d: replace_in(d / name, old, new)


def xlsx(rows, merge=None, name="school_stages"):
    def mutate(d):
        from openpyxl import Workbook

        (d / f"{name}.csv").unlink()
        wb = Workbook()
        ws = wb.active
        for r in rows:
            ws.append(r)
        if merge:
            ws.merge_cells(merge)
        wb.save(d / f"{name}.xlsx")
    return mutate


def _shapefile_boundary(d, drop):
    import geopandas as gpd

    gdf = gpd.read_file(d / "boundary.geojson")
    (d / "boundary.geojson").unlink()
    gdf.to_file(d / "boundary.shp")
    (d / "boundary.shp").with_suffix(drop).unlink()


STAGE_ROWS = [["S1", "primary", 2020, 24, 1080, 1010], ["S2", "junior", 2020, 18, 900, 880],
              ["S3", "primary", 2020, 6, 270, 150], ["S4", "primary", 2020, 12, 540, 420],
              ["S4", "junior", 2020, 6, 300, 260]]
STAGE_HEADER = ["school_id", "stage", "year", "classes", "places", "pupils"]

# id → (mutation, file named, spreadsheet row, field, words of the message)
BROKEN = {
    "empty_file": (write("nodes.csv", b""), "nodes.csv", None, None, "空文件"),
    "blank_lines_only": (write("nodes.csv", "\n\n \n"), "nodes.csv", None, None, "空文件"),
    "header_only": (write("nodes.csv", "node_id,name,township_id,kind,lon,lat\n"), "nodes.csv", None, None, "至少一行数据"),
    "binary_garbage": (write("schools.csv", b"\x00\x01\x02\xff\xfe\x80garbage\x00"), "schools.csv", None, None, "编码"),
    "nul_bytes": (write("schools.csv", "school_id,name\x00\nS1,x\n"), "schools.csv", None, None, "二进制"),
    "ragged_rows": (edit("schools.csv", "S3,东乡小学", "S3,东乡小学,a,b,c,d,e,f,g,h,i"), "schools.csv", None, None,
                    "每行列数一致"),
    "unclosed_quote": (edit("schools.csv", "S3,东乡小学", 'S3,"东乡小学'), "schools.csv", None, None, "CSV"),
    "table_is_a_folder": (lambda d: ((d / "schools.csv").unlink(), (d / "schools.csv").mkdir()), "schools.csv", None,
                          None, "文件夹"),
    "duplicate_header": (edit("schools.csv", "school_id,name,kind", "school_id,name,name"), "schools.csv", 1, "name",
                         "不重复的列名"),
    "missing_column": (edit("schools.csv", "school_id,name,kind", "school_id,name,type"), "schools.csv", 1, "kind",
                       "必需的列"),
    "nan_in_count": (edit("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,6,270,NaN"),
                     "school_stages.csv", 4, "pupils", "非空值"),
    "empty_cell": (edit("births.csv", "T1,2005,110,1", "T1,2005,,1"), "births.csv", 2, "births", "非空值"),
    "negative_count": (edit("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,6,-270,150"),
                       "school_stages.csv", 4, "places", "非负数"),
    "negative_births": (edit("births.csv", "T2,2010,15,1", "T2,2010,-15,1"), "births.csv", 23, "births", "非负数"),
    "float_for_int": (edit("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,6.5,270,150"),
                      "school_stages.csv", 4, "classes", "整数"),
    "id_saved_as_float": (edit("schools.csv", "S3,东乡小学", "3.0,东乡小学"), "schools.csv", 4, "school_id", "文本"),
    "text_in_number": (edit("nodes.csv", "31.38,1500", "31.38,约1500"), "nodes.csv", 3, "population", "数值"),
    "infinite_value": (edit("nodes.csv", "31.38,1500", "31.38,inf"), "nodes.csv", 3, "population", "有限数值"),
    "huge_value": (edit("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,1e30,270,150"),
                   "school_stages.csv", 4, "classes", "10 亿"),
    "huge_births": (edit("births.csv", "T1,2005,110,1", "T1,2005,1e15,1"), "births.csv", 2, "births", "10 亿"),
    "year_as_string": (edit("births.csv", "T1,2005,110,1", "T1,二〇〇五,110,1"), "births.csv", 2, "year", "数值"),
    "year_as_date": (edit("births.csv", "T1,2005,110,1", "T1,2005-01-01,110,1"), "births.csv", 2, "year", "数值"),
    "xlsx_year_as_date": (xlsx([STAGE_HEADER, ["S1", "primary", datetime.date(2020, 9, 1), 24, 1080, 1010]]
                               + STAGE_ROWS[1:]), "school_stages.xlsx", 2, "year", "数值"),
    "xlsx_merged_title_row": (xlsx([["学校学段统计表"] + [None] * 5, STAGE_HEADER] + STAGE_ROWS, merge="A1:F1"),
                              "school_stages.xlsx", 1, None, "合并单元格"),
    "xlsx_merged_header": (xlsx([["学校代码", "规模", None, None, None, None]] + STAGE_ROWS, merge="B1:F1"),
                           "school_stages.xlsx", 1, None, "合并单元格"),
    "xlsx_empty_workbook": (xlsx([]), "school_stages.xlsx", None, None, "工作表均为空"),
    "xlsx_not_a_workbook": (lambda d: ((d / "school_stages.csv").unlink(),
                                       (d / "school_stages.xlsx").write_bytes(b"PK\x03\x04 broken")),
                            "school_stages.xlsx", None, None, "Excel"),
    "unknown_stage": (edit("school_stages.csv", "S3,primary", "S3,primery"), "school_stages.csv", 4, "stage",
                      "您是否想写“primary”（小学）"),
    "bool_garbage": (edit("schools.csv", "public,50,1", "public,50,也许"), "schools.csv", 4, "synthetic", "0 或 1"),
    "duplicate_id": (edit("schools.csv", "S3,东乡小学", "S1,东乡小学"), "schools.csv", 4, "school_id", "不重复"),
    "duplicate_birth_year": (edit("births.csv", "T1,2006,109,1", "T1,2005,109,1"), "births.csv", 3, "year", "每乡镇每年一行"),
    "school_in_unknown_township": (edit("schools.csv", "S3,东乡小学,primary,T2", "S3,东乡小学,primary,T9"),
                                   "schools.csv", 4, "township_id", "不存在的编号"),
    "stage_of_unknown_school": (edit("school_stages.csv", "S4,junior", "S9,junior"), "school_stages.csv", 6,
                                "school_id", "不存在的编号"),
    "births_of_unknown_township": (edit("births.csv", "T3,2005", "T7,2005"), "births.csv", 34, "township_id",
                                   "不存在的编号"),
    "no_base_year_rows": (lambda d: (d / "school_stages.csv").write_text(
        (d / "school_stages.csv").read_text(encoding="utf-8").replace(",2020,", ",2019,"), encoding="utf-8"),
        "school_stages.csv", None, "year", "基准年 2020"),
    "pupils_far_over_places": (edit("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,6,270,1500"),
                               "school_stages.csv", 4, "pupils", "两倍"),
    "swapped_lat_lon": (edit("schools.csv", "109.72,31.421", "31.421,109.72"), "schools.csv", 4, "lon/lat",
                        "经纬度疑似填反"),
    "swapped_seat": (edit("townships.csv", "109.72,31.42", "31.42,109.72"), "townships.csv", 3, "seat_lon/seat_lat",
                     "经纬度疑似填反"),
    "outside_boundary": (edit("nodes.csv", "109.76,31.45", "112.76,31.45"), "nodes.csv", 5, "lon/lat", "边界内"),
    "projected_in_wgs84": (edit("schools.csv", "109.72,31.421", "500123.4,3476543.2"), "schools.csv", 4, "lon/lat",
                           "投影坐标"),
    "latitude_out_of_range": (edit("nodes.csv", "109.76,31.45", "109.76,95.0"), "nodes.csv", 5, "lon/lat", "纬度"),
    "crs_projected_but_degrees": (edit("region.toml", 'crs = "EPSG:4326"', 'crs = "EPSG:4547"'), "boundary.geojson",
                                  None, "crs", "像经纬度"),
    "crs_unknown": (edit("region.toml", 'crs = "EPSG:4326"', 'crs = "WGS84 please"'), "region.toml", None, "crs",
                    "EPSG"),
    "boundary_empty_geometry": (write("boundary.geojson", POLYGON % "[]"), "boundary.geojson", None, "geometry", "空几何"),
    "boundary_no_features": (write("boundary.geojson", '{"type":"FeatureCollection","features":[]}'),
                             "boundary.geojson", None, None, "空图层"),
    "boundary_null_geometry": (write("boundary.geojson", POLYGON.replace('{"type":"Polygon","coordinates":%s}', "null")),
                               "boundary.geojson", None, None, "空图层"),
    "boundary_is_a_point": (write("boundary.geojson", POLYGON.replace("Polygon", "Point") % "[109.6,31.4]"),
                            "boundary.geojson", None, "geometry", "面"),
    "boundary_not_json": (write("boundary.geojson", "这不是 GeoJSON"), "boundary.geojson", None, None, "边界文件"),
    "boundary_swapped_axes": (write("boundary.geojson", POLYGON % "[[[31.2,109.4],[31.6,109.4],[31.6,109.9],[31.2,109.9],[31.2,109.4]]]"),
                              "boundary.geojson", None, "crs", "换算后范围"),
    "region_toml_gbk": (lambda d: (d / "region.toml").write_bytes((d / "region.toml").read_text(encoding="utf-8").encode("gbk")),
                        "region.toml", None, None, "UTF-8"),
    "region_toml_syntax": (edit("region.toml", 'id = "tiny"', 'id = "tiny'), "region.toml", 2, None, "TOML"),
    "region_toml_nan": (edit("region.toml", "base_year = 2020", "base_year = nan"), "region.toml", 7, "base_year", "有限"),
    "region_base_year_text": (edit("region.toml", "base_year = 2020", 'base_year = "2020年"'), "region.toml", 7,
                              "base_year", "整数"),
    "region_unknown_key": (edit("region.toml", "base_year = 2020", "base_year = 2020\nbase_yaer = 2021"), "region.toml",
                           8, "base_yaer", "base_year"),
    "region_files_escape": (edit("region.toml", "synthetic = true", 'synthetic = true\nfiles = { schools = "../../x/schools.csv" }'),
                            "region.toml", None, "files.schools", "区域文件夹内"),
    "shapefile_without_shx": (lambda d: _shapefile_boundary(d, drop=".shx"), "boundary.shp", None, None, "边界文件"),
    "missing_required_table": (lambda d: (d / "births.csv").unlink(), "births.csv", None, None, "必需的数据表"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_region_fails_cleanly(tiny, capsys, case):
    mutate, file, row, field, words = BROKEN[case]
    mutate(tiny)
    before = tree_digest(tiny)
    code, _, err = cli(capsys, "validate", tiny)
    assert_clean_failure(code, err, file=file, row=row, field=field, text=words)
    with pytest.raises(InputError, match=words.replace("(", r"\(")) as info:
        load_region(tiny)
    assert all(p.file for p in info.value.problems)
    assert tree_digest(tiny) == before  # loading never writes into the inputs


def test_all_problems_of_all_files_in_one_message(tiny, capsys):
    BROKEN["negative_count"][0](tiny)
    BROKEN["text_in_number"][0](tiny)
    BROKEN["year_as_string"][0](tiny)
    code, _, err = cli(capsys, "validate", tiny)
    assert_clean_failure(code, err, text="共 3 处")
    for name in ("school_stages.csv", "nodes.csv", "births.csv"):
        assert name in err


def test_references_across_files_are_checked_with_the_other_problems(tiny, capsys):
    """A bad township code in schools.csv is listed with the first file's own problems, each reference
    with the nearest valid code; a file that cannot be read only leaves out the checks that need it."""
    BROKEN["text_in_number"][0](tiny)  # nodes.csv row 3: population “约1500”
    edit("schools.csv", "S3,东乡小学,primary,T2", "S3,东乡小学,primary,T22")(tiny)
    edit("school_stages.csv", "S4,junior", "S44,junior")(tiny)
    write("births.csv", b"")(tiny)  # unreadable: no references checked against it or from it
    (tiny / "housing.csv").write_text("node_id,year,dwellings,year\nN9,2021,10,2021\n", encoding="utf-8")  # repeated header
    code, _, err = cli(capsys, "validate", tiny)
    assert_clean_failure(code, err, text="共 5 处")
    for words in ("nodes.csv，第 3 行，字段“population”", "births.csv：应为含表头和数据的表格", "housing.csv，第 1 行，字段“year”",
                  "schools.csv，第 4 行，字段“township_id”：应为见于 townships.csv 的 township_id，实际为“T22”。"
                  "引用了不存在的编号。您是否想写“T2”（东乡）？",
                  "school_stages.csv，第 6 行，字段“school_id”", "您是否想写“S4”（西镇九年一贯制学校）？"):
        assert words in err, (words, err)


def test_names_written_for_ids_are_read_as_the_ids_with_a_warning(tiny, caplog):
    """A township or school name where its code belongs (as bureaus write them) is read as the code
    when exactly one row has that name; the file is not changed. A name two rows share is refused."""
    plain = load_region(tiny)
    edit("schools.csv", "S4,西镇九年一贯制学校,nine_year,T3", "S4,西镇九年一贯制学校,nine_year,西 镇")(tiny)
    edit("school_stages.csv", "S4,junior", "西镇九年一贯制学校,junior")(tiny)
    before = tree_digest(tiny)
    with caplog.at_level("WARNING", logger="xuewei"):
        named = load_region(tiny)
    assert tree_digest(tiny) == before
    for table in ("schools", "school_stages", "births", "nodes"):
        pd.testing.assert_frame_equal(named.tables[table].drop(columns=["lon_input", "lat_input"], errors="ignore"),
                                      plain.tables[table].drop(columns=["lon_input", "lat_input"], errors="ignore"))
    assert "字段“township_id”：1 行写的是名称而非编号（如第 5 行“西 镇”），已按 townships.csv 中唯一同名的一行读作编号（“T3”）" \
        in caplog.text
    assert "school_stages.csv 字段“school_id”：1 行写的是名称而非编号" in caplog.text
    edit("townships.csv", ",东乡,", ",西镇,")(tiny)  # now two townships are called 西镇
    with pytest.raises(InputError, match="schools.csv.*township_id.*西 镇"):
        load_region(tiny)


def test_region_toml_boundary_and_table_problems_in_one_message(tiny):
    edit("region.toml", "base_year = 2020", "base_year = 2020\nbase_yaer = 2021")(tiny)
    write("boundary.geojson", POLYGON % "[]")(tiny)
    edit("schools.csv", "S3,东乡小学,primary,T2", "S3,东乡小学,primery,T9")(tiny)
    with pytest.raises(InputError) as info:
        load_region(tiny)
    found = {(p.file.rsplit("/", 1)[-1], p.field) for p in info.value.problems}
    assert found == {("region.toml", "base_yaer"), ("boundary.geojson", "geometry"), ("schools.csv", "kind"),
                     ("schools.csv", "township_id")}, info.value


def planner_pack(d):
    """The tiny pack as a county's technician hands it over: Chinese headers and category values,
    GBK-encoded Excel exports, no boundary file."""
    headers = {"schools.csv": ("school_id,name,kind,township_id,lon,lat,ownership,boarding_beds,synthetic,source",
                               "学校代码,学校名称,办学类型,乡镇代码,经度,纬度,办别,寄宿床位,示意,来源"),
               "townships.csv": ("township_id,name,level,tier,seat_lon,seat_lat,synthetic,source",
                                 "乡镇代码,乡镇名称,级别,层级,驻地经度,驻地纬度,示意,来源"),
               "school_stages.csv": ("school_id,stage,year,classes,places,pupils", "学校代码,学段,年份,班数,学位,在校生数")}
    values = {"schools.csv": [(",primary,", ",小学,"), (",junior,", ",初中,"), (",primary,", ",完全小学,"),
                              (",nine_year,", ",九年一贯制学校,"), (",public,", ",公办,", 4)],
              "townships.csv": [(",county_seat,", ",县城,"), (",township_seat,", ",乡镇驻地,"), (",central_town,", ",中心镇,")],
              "school_stages.csv": [(",primary,", ",小学,", 3), (",junior,", ",初中,", 2)]}
    for name, (old, new) in headers.items():
        text = (d / name).read_text(encoding="utf-8").replace(old, new)
        for old_new_count in values[name]:
            old_v, new_v, *count = old_new_count
            assert old_v in text
            text = text.replace(old_v, new_v, count[0] if count else 1)
        (d / name).write_bytes(text.encode("gbk"))
    (d / "boundary.geojson").unlink()


# id → (mutation, words that must appear in a warning on the `xuewei` logger)
ACCEPTED = {
    "planner_pack": (planner_pack, "示意县界"),
    "gbk_export": (lambda d: (d / "schools.csv").write_bytes((d / "schools.csv").read_text(encoding="utf-8").encode("gbk")),
                   "GBK"),
    "utf8_bom_and_chinese_headers": (lambda d: (d / "nodes.csv").write_bytes(
        b"\xef\xbb\xbf" + (d / "nodes.csv").read_text(encoding="utf-8").replace("node_id,name", "村社代码,村社名称").encode()),
        "村社代码"),
    "mixed_chinese_english_headers": (edit("schools.csv", "school_id,name,kind", "学校代码,name,办学类型"), "办学类型"),
    "utf16_unicode_text": (lambda d: (d / "schools.csv").write_bytes(
        (d / "schools.csv").read_text(encoding="utf-8").replace(",", "\t").encode("utf-16")), "UTF-16"),
    "tab_separated": (lambda d: (d / "schools.csv").write_text(
        (d / "schools.csv").read_text(encoding="utf-8").replace(",", "\t"), encoding="utf-8"), "制表符"),
    "semicolon_separated": (lambda d: (d / "nodes.csv").write_text(
        (d / "nodes.csv").read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8"), "分号"),
    "full_width_digits": (edit("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020,６,２７０,150"), "全角"),
    "self_intersecting_boundary": (write("boundary.geojson", POLYGON % "[[[109.3,31.2],[109.9,31.2],[109.9,31.6],[109.3,31.6],[109.35,31.15],[109.3,31.2]]]"),
                                   "几何无效"),
    "trailing_blank_excel_rows": (xlsx([STAGE_HEADER] + STAGE_ROWS + [[None] * 6, [None] * 6]), None),
    "english_headers_in_another_case": (edit("schools.csv", "school_id,name,kind", "School_ID,Name,KIND"), "School_ID"),
    "county_code_on_some_townships_only": (lambda d: (d / "townships.csv").write_text(
        (d / "townships.csv").read_text(encoding="utf-8").replace("source\n", "source,county_id\n", 1)
        .replace(",test\n", ",test,\n").replace("31.40,1,test,", "31.40,1,test,C1", 1), encoding="utf-8"), "未填 county_id"),
    "integers_written_as_floats": (edit("school_stages.csv", "S3,primary,2020,6,270,150", "S3,primary,2020.0,6.0,270.0,150"),
                                   None),
    "chinese_school_kind": (edit("schools.csv", "S3,东乡小学,primary,", "S3,东乡小学,小学,"), "“小学”→primary"),
    "chinese_tier": (edit("townships.csv", "T1,城关镇,镇,county_seat", "T1,城关镇,镇,县城"), "“县城”→county_seat"),
    "chinese_stage_and_full_width_space": (edit("school_stages.csv", "S3,primary", "S3,　小学　"), "“小学”→primary"),
    "township_names_for_codes": (lambda d: [edit("schools.csv", f",{t},", f",{n},")(d) for t, n in
                                            (("T1", "城关镇"), ("T1", "城关镇"), ("T2", "东乡"), ("T3", "西镇"))],
                                 "写的是名称而非编号"),
    "places_left_out": (lambda d: (d / "school_stages.csv").write_text("\n".join(
        ",".join(r.split(",")[:4] + r.split(",")[5:]) for r in
        (d / "school_stages.csv").read_text(encoding="utf-8").strip().splitlines()) + "\n", encoding="utf-8"), "国家标准班额"),
    "stage_years_left_out": (lambda d: (d / "school_stages.csv").write_text("\n".join(
        ",".join(r.split(",")[:2] + r.split(",")[3:]) for r in
        (d / "school_stages.csv").read_text(encoding="utf-8").strip().splitlines()) + "\n", encoding="utf-8"), "按基准年 2020 计"),
    "gbk_only_header_xuewei": (lambda d: (d / "school_stages.csv").write_bytes(
        (d / "school_stages.csv").read_text(encoding="utf-8").replace("places", "学位").encode("gbk")), "GBK"),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_common_variants_are_accepted_with_a_warning(tiny, capsys, caplog, case):
    mutate, words = ACCEPTED[case]
    mutate(tiny)
    with caplog.at_level("WARNING", logger="xuewei"):
        code, out, err = cli(capsys, "validate", tiny)
    assert code == 0, err
    assert "校验通过" in out
    if words:
        assert any(words in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
    region = load_region(tiny)
    ref = load_region(TINY)
    for name in ("schools", "nodes", "school_stages"):
        if name == "schools" and case == "self_intersecting_boundary":
            continue
        pd.testing.assert_frame_equal(region.tables[name][ref.tables[name].columns].reset_index(drop=True),
                                      ref.tables[name].reset_index(drop=True), check_dtype=False)


RUN_BROKEN = ["school_in_unknown_township", "swapped_lat_lon", "empty_file", "huge_value", "xlsx_merged_header",
              "boundary_empty_geometry", "crs_projected_but_degrees"]


@pytest.mark.parametrize("case", RUN_BROKEN)
def test_run_with_broken_region_leaves_no_folder(tmp_path, capsys, case):
    scen = scenario_copy(tmp_path)
    mutate, file, row, field, words = BROKEN[case]
    mutate(tmp_path / "tiny")
    before = tree_digest(tmp_path)
    out = tmp_path / "runs" / "r1"
    code, _, err = cli(capsys, "run", scen, "--out", out)
    assert_clean_failure(code, err, file=file, row=row, field=field, text=words, out=out)
    assert tree_digest(tmp_path) == before


def births_gap(d):
    p = d / "births.csv"
    p.write_text("".join(line for line in p.read_text(encoding="utf-8").splitlines(True)
                         if not line.startswith("T1,2010")), encoding="utf-8")


@pytest.mark.parametrize("mutate,words", [
    (births_gap, "缺少 [2010]"),  # found by the forecast's own checks, after loading
    (edit("births.csv", "T1,2020,95,1", "T1,2120,95,1"), "出生年份连续"),
])
def test_run_with_inputs_the_forecast_refuses(tmp_path, capsys, mutate, words):
    scen = scenario_copy(tmp_path)
    mutate(tmp_path / "tiny")
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", scen, "--out", out)
    assert_clean_failure(code, err, file="births.csv", field="year", text=words, out=out)


def test_run_writes_nothing_into_the_region(tmp_path, capsys):
    """A good run (same process, one thread) reads its inputs and leaves them byte for byte as they were."""
    scen = scenario_copy(tmp_path)
    before = tree_digest(tmp_path / "tiny"), scen.read_bytes()
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", scen, "--out", out)
    assert code == 0, err
    assert (tree_digest(tmp_path / "tiny"), scen.read_bytes()) == before
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["solver"]["threads"] == 1
    assert_no_output(tmp_path / "never")


def test_run_without_a_boundary_file_marks_the_sketched_boundary_on_the_maps(tmp_path, capsys, caplog):
    from xuewei.reports.fonts import map_fonts, run_text
    from xuewei.reports.map_data import MapData
    from xuewei.reports.maps import NOTE_BOUNDARY_DERIVED, SheetFigure
    from xuewei.reports.stored_run import read_run

    scen = scenario_copy(tmp_path)
    (tmp_path / "tiny" / "boundary.geojson").unlink()
    out = tmp_path / "out"
    with caplog.at_level("WARNING", logger="xuewei"):
        code, _, err = cli(capsys, "run", scen, "--out", out)
    assert code == 0, err
    assert any("示意县界" in r.getMessage() for r in caplog.records)
    assert (out / "maps" / "overview_2025.png").is_file()
    run = read_run(out)
    assert run.region.boundary_derived
    md = MapData.build(run)
    fig = SheetFigure(md, map_fonts(run_text(run)), 1).fig
    assert NOTE_BOUNDARY_DERIVED in [t.get_text() for t in fig.texts]


def test_migration_rows_by_township_name_or_for_the_county_load(tiny, caplog):
    (tiny / "migration.csv").write_text("township_id,age_from,age_to,net_rate_per_year\n西镇,0,14,-0.02\n"
                                        "全县,0,14,-0.01\nT9,0,14,0.0\n", encoding="utf-8")
    with pytest.raises(InputError) as info:  # T9 is no township
        load_region(tiny)
    assert [(p.row, p.field, p.found) for p in info.value.problems] == [(4, "township_id", "T9")]
    edit("migration.csv", "T9,0,14,0.0\n", "")(tiny)
    with caplog.at_level("WARNING", logger="xuewei"):
        region = load_region(tiny)
    assert region.tables["migration"]["township_id"].tolist() == ["T3", "全县"]
    assert "写的是名称而非编号" in caplog.text


def test_places_left_out_are_classes_times_the_standard_class_size(tiny, caplog):
    plain = load_region(tiny)
    text = (tiny / "school_stages.csv").read_text(encoding="utf-8")
    rows = [r.split(",") for r in text.strip().splitlines()]
    (tiny / "school_stages.csv").write_text("\n".join(",".join(r[:4] + r[5:]) for r in rows) + "\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="xuewei"):
        derived = load_region(tiny)  # no places column: 24 × 45, 18 × 50, …
    pd.testing.assert_frame_equal(derived.school_stages[plain.school_stages.columns], plain.school_stages)
    assert "5 行没有学位数，按班数 × 国家标准班额推算（初中 50 人/班、小学 45 人/班" in caplog.text
    edit("schools.csv", "S3,东乡小学,primary", "S3,东乡小学,teaching_point")(tiny)
    (tiny / "school_stages.csv").write_text(text.replace("S3,primary,2020,6,270,", "S3,primary,2020,6,,")
                                            .replace("S4,junior,2020,6,300,", "S4,vocational,2020,6,,"), encoding="utf-8")
    with pytest.raises(InputError) as info:  # 中职 has no standard class size
        load_region(tiny)
    assert [(p.row, p.field) for p in info.value.problems] == [(6, "places")]
    (tiny / "school_stages.csv").write_text(text.replace("S3,primary,2020,6,270,", "S3,primary,2020,6,,"), encoding="utf-8")
    assert load_region(tiny).school_stages.set_index("school_id").loc["S3", "places"] == 6 * 30  # a 教学点


def test_a_region_without_a_county_seat_is_warned(tiny, caplog):
    with caplog.at_level("WARNING", logger="xuewei"):
        load_region(tiny)
    assert "county_seat" not in caplog.text
    edit("townships.csv", ",county_seat,", ",,")(tiny)  # the tier left blank: read as township_seat
    with caplog.at_level("WARNING", logger="xuewei"):
        load_region(tiny)
    assert "本区域没有层级为 county_seat（县城）的乡镇" in caplog.text


def test_a_school_list_with_its_own_counts_stands_for_school_stages(tiny, caplog):
    """A bureau's one-table school list (班数, 在校生数 per school) in place of school_stages.csv."""
    plain = load_region(tiny)
    stages = pd.read_csv(tiny / "school_stages.csv", dtype=str)
    single = stages[stages["school_id"] != "S4"].set_index("school_id")  # S4 is a 九年一贯制 school
    schools = pd.read_csv(tiny / "schools.csv", dtype=str)
    schools = schools[schools["school_id"] != "S4"]
    schools["班数"] = schools["school_id"].map(single["classes"])
    schools["在校生数"] = schools["school_id"].map(single["pupils"])
    schools.to_csv(tiny / "schools.csv", index=False)
    (tiny / "school_stages.csv").unlink()
    with caplog.at_level("WARNING", logger="xuewei"):
        region = load_region(tiny)
    got = region.school_stages.set_index("school_id").sort_index()
    want = plain.school_stages[plain.school_stages["school_id"] != "S4"].set_index("school_id").sort_index()
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)  # places: classes × 45 / × 50
    assert "班数" not in region.schools and "没有 school_stages 表，按学校表自带的“班数”、“在校生数”" in caplog.text
    schools.loc[schools["school_id"] == "S2", "在校生数"] = "约900"  # row 3 of schools.csv
    schools = pd.concat([schools, pd.read_csv(TINY / "schools.csv", dtype=str).query("school_id == 'S4'")])
    schools.to_csv(tiny / "schools.csv", index=False)
    with pytest.raises(InputError) as info:
        load_region(tiny)
    found = {(p.file.rsplit("/", 1)[-1], p.row, p.field) for p in info.value.problems}
    assert ("schools.csv", 3, "在校生数") in found and ("schools.csv", 5, "kind") in found


def test_validate_reads_the_forecasting_inputs_as_a_run_would(tiny, capsys):
    """A grade history naming a place that is neither a school, a township nor the county fails at
    ``xuewei validate``, not minutes later at the start of a run."""
    (tiny / "grades.csv").write_text("area,year,grade,pupils\n" + "".join(
        f"{a},{y},{g},100\n" for a in ("T1", "北镇") for y in (2018, 2019, 2020) for g in range(1, 7)), encoding="utf-8")
    code, _, err = cli(capsys, "validate", tiny)
    assert_clean_failure(code, err, file="grades.csv", field="area", text="北镇")
    (tiny / "grades.csv").write_text((tiny / "grades.csv").read_text(encoding="utf-8").replace("北镇", "S3"),
                                     encoding="utf-8")  # a school of 东乡 (T2): summed into T2
    code, out, err = cli(capsys, "validate", tiny)
    assert code == 0, err
    assert "预测：grades.csv 按学校给出：1 所学校" in out and "校验通过" in out


def test_a_village_without_population_fails_validate_with_the_reason(tiny, capsys):
    edit("nodes.csv", "N2,城南村,T1,village,109.61,31.38,1500,", "N2,城南村,T1,village,109.61,31.38,,")(tiny)
    code, _, err = cli(capsys, "validate", tiny)
    assert_clean_failure(code, err, file="nodes.csv", row=3, field="population", text="需求点人口用来把乡镇的学生分到各村")
    assert "（空）" in err and "nan" not in err
