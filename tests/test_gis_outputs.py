"""results.gpkg in the run folder, read back layer by layer, and `xuewei export` to Shapefile/GeoJSON."""

import json
import sqlite3

import numpy as np
import pandas as pd
import pyogrio
import pytest

from xuewei.cli import main
from xuewei.errors import InputError
from xuewei.labels import ACTION_ZH, STAGE_ZH
from xuewei.reports import gis

SPATIAL = list(gis.LAYERS)


def _csv(run_dir, name):
    return pd.read_csv(run_dir / f"{name}.csv", encoding="utf-8-sig", dtype={"node_id": str, "school_id": str})


@pytest.fixture(scope="module")
def layers(tiny_run_dir):
    return gis.read_layers(tiny_run_dir / "results.gpkg")


def test_every_layer_present_in_wgs84(tiny_run_dir, layers):
    listed = pyogrio.list_layers(tiny_run_dir / "results.gpkg")
    assert [name for name, _ in listed] == SPATIAL + ["about", "fields"]
    for name, geom in listed[:len(SPATIAL)]:
        info = pyogrio.read_info(tiny_run_dir / "results.gpkg", layer=name)
        assert info["crs"] == "EPSG:4326", name
        assert geom == gis.LAYERS[name][1], name
        assert list(info["fields"]) == list(gis.FIELDS[name]), name


def test_counts_equal_the_csvs(tiny_run_dir, layers):
    man = json.loads((tiny_run_dir / "manifest.json").read_text(encoding="utf-8"))
    periods = man["scenario"]["resolved"]["horizon"]["periods"]
    nodes = pd.read_csv(man["inputs"]["nodes"]["path"], encoding="utf-8-sig")
    assert len(layers["schools"]) == len(_csv(tiny_run_dir, "actions"))
    assert len(layers["school_stages"]) == len(_csv(tiny_run_dir, "schools"))
    assert len(layers["villages"]) == len(nodes) * len(periods)
    assert len(layers["catchments"]) == len(_csv(tiny_run_dir, "assignments"))
    assert len(layers["townships"]) == len(_csv(tiny_run_dir, "summary"))
    assert len(layers["boundary"]) == 1
    assert len(layers["candidate_sites"]) == 0  # the tiny region has none
    for name in SPATIAL[:-1]:
        assert layers[name].geometry.notna().all(), name


def test_values_agree_with_the_csvs(tiny_run_dir, layers):
    actions = _csv(tiny_run_dir, "actions")
    sch = layers["schools"]
    assert set(sch["action"]) <= set(ACTION_ZH.values())
    assert (sch["action"].to_numpy() == actions["action"].map(ACTION_ZH).to_numpy()).all()
    assert sch.groupby("period")["places_af"].sum().to_dict() == actions.groupby("period")["places_after"].sum().to_dict()
    assert set(layers["school_stages"]["stage"]) <= set(STAGE_ZH.values())

    asg = _csv(tiny_run_dir, "assignments")
    cat = layers["catchments"]
    assert cat["pupils"].sum() == pytest.approx(asg["pupils"].sum())
    assert set(cat["boarding"]) <= {"是", "否"}
    assert (cat["boarding"] == "是").sum() == asg["boarding"].sum()
    assert set(cat["far_today"]) <= {"是", "否"}
    assert (cat["far_today"] == "是").sum() == asg["status_quo_far"].astype(str).str.lower().eq("true").sum()
    assert cat["travel_min"].isna().all()  # no road layer: no minutes
    # each line runs from its village to its school
    man = json.loads((tiny_run_dir / "manifest.json").read_text(encoding="utf-8"))
    nodes = pd.read_csv(man["inputs"]["nodes"]["path"], encoding="utf-8-sig", dtype={"node_id": str}).set_index("node_id")
    start = np.array([g.coords[0] for g in cat.geometry])
    assert np.allclose(start, nodes.loc[cat["node_id"], ["lon", "lat"]].to_numpy(float))
    end = np.array([g.coords[-1] for g in cat.geometry])
    at_school = sch.drop_duplicates("school_id").set_index("school_id").geometry
    assert np.allclose(end, np.array([(p.x, p.y) for p in at_school.loc[cat["school_id"]]]))

    summary = _csv(tiny_run_dir, "summary")
    v = layers["villages"]
    for g, code in gis.STAGE_CODE.items():
        want = summary[summary["stage"] == g].groupby("period")["pupils"].sum()
        got = v.groupby("period")[f"{code}_dem"].sum()
        assert got.reindex(want.index).to_numpy() == pytest.approx(want.to_numpy(), rel=1e-4), g
    assert layers["townships"]["pupils"].to_numpy() == pytest.approx(summary["pupils"].to_numpy(), rel=1e-5)
    assert layers["boundary"]["note"].iloc[0].startswith("示意数据")


def test_about_states_crs_and_utm_zone(tiny_run_dir, layers):
    about = dict(zip(layers["about"]["key"], layers["about"]["value"]))
    assert "EPSG:4326" in about["坐标系"]
    assert "UTM" in about["距离与地图所用投影"] and "EPSG:326" in about["距离与地图所用投影"]
    assert about["示意数据"].startswith("是")


def test_field_names_short_ascii_with_chinese_aliases(tiny_run_dir):
    con = sqlite3.connect(tiny_run_dir / "results.gpkg")
    try:
        alias = {(t, c): n for t, c, n in con.execute("SELECT table_name, column_name, name FROM gpkg_data_columns")}
        ext = con.execute("SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_schema'").fetchone()[0]
    finally:
        con.close()
    assert ext == 2
    for layer, fields in gis.FIELDS.items():
        for f in fields:
            assert f.isascii() and len(f) <= 10, (layer, f)
            assert alias[(layer, f)] == fields[f][0]
        assert len(set(fields.values())) == len(fields)  # aliases unique within a layer


def test_export_shapefile_gbk_and_utf8(tiny_run_dir, layers, tmp_path):
    for enc, cpg in (("gbk", "936"), ("utf-8", "UTF-8")):
        out = tmp_path / enc
        assert main(["export", str(tiny_run_dir), "--format", "shp", "--encoding", enc, "--out", str(out)]) == 0
        for name in SPATIAL:
            assert (out / f"{name}.cpg").read_text(encoding="ascii") == cpg
            back = pyogrio.read_dataframe(out / f"{name}.shp")
            assert len(back) == len(layers[name]), name
            assert list(back.columns) == list(layers[name].columns), name
        back = pyogrio.read_dataframe(out / "villages.shp")
        assert back["name"].tolist() == layers["villages"]["name"].tolist()
        raw = (out / "villages.dbf").read_bytes()
        name0 = layers["villages"]["name"].iloc[0]
        assert name0.encode("gbk" if enc == "gbk" else "utf-8") in raw
        assert (out / "fields.csv").is_file() and (out / "about.csv").is_file()


def test_export_geojson(tiny_run_dir, layers, tmp_path):
    assert main(["export", str(tiny_run_dir), "--format", "geojson", "--out", str(tmp_path / "gj")]) == 0
    back = pyogrio.read_dataframe(tmp_path / "gj" / "schools.geojson")
    assert back["name"].tolist() == layers["schools"]["name"].tolist()
    assert main(["export", str(tiny_run_dir), "--format", "geojson", "--encoding", "gbk"]) == 2


def test_gbk_refuses_characters_it_cannot_hold(tmp_path):
    df = pd.DataFrame({"name": ["城关镇", "𠮷村"]})
    with pytest.raises(InputError) as err:
        gis._check_encodable({"villages": df}, "gbk", tmp_path / "results.gpkg")
    assert "𠮷" in str(err.value) and "utf-8" in str(err.value)


def test_candidate_sites_layer(tiny_run_dir):
    """A region with candidate sites: each site once, the period it was first opened."""
    from xuewei.reports.stored_run import read_run

    run = read_run(tiny_run_dir)
    run.region.tables["candidate_sites"] = pd.DataFrame({
        "site_id": ["C1", "C2"], "name": ["新城幼儿园", "东乡新校"], "township_id": ["T1", "T2"],
        "lon": [109.61, 109.73], "lat": [31.41, 31.43], "stages": ["kindergarten", "primary|junior"],
        "max_classes": [12, 24]})
    extra = pd.DataFrame({"site_id": ["C1", "C1"], "stage": ["kindergarten"] * 2, "period": [2025, 2030],
                          "origin": ["candidate"] * 2, "open": [False, True]})
    run.sites = pd.concat([run.sites, extra], ignore_index=True)
    c = gis.results_layers(run)["candidate_sites"]
    assert c["site_id"].tolist() == ["C1", "C2"]
    assert c["stages"].tolist() == ["学前", "小学、初中"]
    assert c["built"].tolist()[0] == 2030 and pd.isna(c["built"].tolist()[1])
    assert c["stages_op"].tolist() == ["学前", ""]


def test_run_records_gpkg_time(tiny_run_dir):
    man = json.loads((tiny_run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert "gpkg_s" in man["seconds"]


def test_export_from_an_older_run_folder_and_never_over_other_files(tiny_run_dir, layers, tmp_path):
    """A run folder written before results.gpkg existed: layers rebuilt from its CSVs. An --out folder
    holding anything but an earlier export is refused."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(tiny_run_dir, old)
    (old / "results.gpkg").unlink()
    assert main(["export", str(old), "--format", "geojson"]) == 0
    back = pyogrio.read_dataframe(old / "gis_geojson" / "catchments.geojson")
    assert len(back) == len(layers["catchments"])
    assert main(["export", str(old), "--format", "geojson"]) == 0  # an earlier export is replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x", encoding="utf-8")
    assert main(["export", str(old), "--format", "shp", "--out", str(tmp_path / "mine")]) == 2
    assert (tmp_path / "mine" / "notes.txt").is_file()
