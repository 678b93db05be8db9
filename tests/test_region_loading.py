"""Region packs: valid ones load with WGS-84 points; every kind of broken one fails with file/row/field."""

import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, edit_csv
from xuewei.cli import main
from xuewei.data import webcrs
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
    with pytest.raises(InputError, match="是否应为“primary”"):
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


def test_missing_region_folder_and_boundary(tiny):
    with pytest.raises(InputError, match="region.toml"):
        load_region(tiny / "nowhere")
    (tiny / "boundary.geojson").unlink()
    with pytest.raises(InputError, match="边界"):
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
