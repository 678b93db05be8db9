"""The 泸州市江阳区 demo region pack: real parts equal their sources, synthetic parts are flagged, the
2020 totals are the plan's own figures, the pack has the shape of an urban district, and it rebuilds
byte for byte.

Comparisons with ../shared/geodata/jiangyang (and the rebuild) are skipped only when that folder is absent.
"""

from __future__ import annotations

import csv
import filecmp
import math
import os
import re
import shutil
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from xuewei.data.paths import PACKAGE_ROOT, PLANS_DIR, REGIONS_DIR, SCENARIOS_DIR, SEEDS_DIR
from xuewei.data.tomlio import tomllib
from xuewei.data.webcrs import gcj02_to_wgs84

PACK = REGIONS_DIR / "jiangyang"
SEED_TEXT = (SEEDS_DIR / "001_64d2a26e393c5739.txt").read_text(encoding="utf-8")
PLAN = tomllib.loads((PLANS_DIR / "jiangyang.toml").read_text(encoding="utf-8"))
CITY_LEVEL = "街道"


def _geodata() -> Path | None:
    for p in (os.environ.get("XUEWEI_JIANGYANG_GEODATA"), PACKAGE_ROOT.parent / "shared/geodata/jiangyang",
              PACKAGE_ROOT.parent.parent / "shared/geodata/jiangyang"):
        if p and (Path(p) / "townships.csv").exists():
            return Path(p)
    return None


GEODATA = _geodata()
needs_geodata = pytest.mark.skipif(GEODATA is None, reason="../shared/geodata/jiangyang is absent")


def rows(name: str, base: Path = PACK) -> list[dict]:
    with open(base / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def level_of_school() -> dict:
    level = {r["township_id"]: r["level"] for r in rows("townships.csv")}
    return {r["school_id"]: level[r["township_id"]] for r in rows("schools.csv")}


@pytest.fixture(scope="module")
def boundary():
    from xuewei.data.builders.geo import read_boundary
    g = read_boundary(PACK / "boundary.geojson")
    shapely.prepare(g)
    return g


# ---------------------------------------------------------------- loading (the column spec: test_region_wuxi)

def test_pack_loads_by_its_id_and_validates():
    from xuewei.data.region import load_region
    region = load_region("jiangyang")
    m = region.meta
    assert (m.id, m.name, m.admin_code, m.base_year, m.plan) == ("jiangyang", "江阳区", "510502", 2020, "jiangyang")
    assert (len(region.townships), len(region.nodes), len(region.schools)) == (15, 156, 157)


def test_validate_command_passes(capsys):
    from xuewei.cli import main
    assert main(["validate", str(PACK)]) == 0
    assert "校验通过" in capsys.readouterr().out


def test_region_toml_names_its_plan_and_credits_its_sources():
    meta = tomllib.loads((PACK / "region.toml").read_text(encoding="utf-8"))
    assert (meta["id"], meta["name"], meta["admin_code"], meta["crs"], meta["plan"]) == (
        "jiangyang", "江阳区", "510502", "EPSG:4326", "jiangyang")
    assert (PLANS_DIR / f"{meta['plan']}.toml").is_file()
    assert meta["base_year"] == 2020 and meta["synthetic"] is True
    assert len(meta["synthetic_parts"]) >= 7 and all(isinstance(s, str) and s for s in meta["synthetic_parts"])
    prov = " ".join(meta["provenance"].values())
    for credit in ("Vonng/adcode, CC BY 4.0", "liyanjie2048", "leiii/census", "MIT", "data/plans/jiangyang.toml",
                   "python -m xuewei.data.builders.jiangyang"):
        assert credit in prov
    readme = (PACK / "README.md").read_text(encoding="utf-8")
    assert "Vonng/adcode, CC BY 4.0" in readme and "../shared/geodata/jiangyang/PROVENANCE.md" in readme


def test_ids_keep_their_digits_and_references_hold():
    assert all(re.fullmatch(r"510502\d{3}", r["township_id"]) for r in rows("townships.csv"))
    assert all(re.fullmatch(r"510502\d{6}", r["node_id"]) for r in rows("nodes.csv"))
    known = {r["township_id"] for r in rows("townships.csv")}
    for name in ("nodes.csv", "schools.csv", "candidate_sites.csv", "births.csv", "migration.csv"):
        assert {r["township_id"] for r in rows(name)} <= known, name
    assert {r["school_id"] for r in rows("school_stages.csv")} == {r["school_id"] for r in rows("schools.csv")}


def test_boundary_is_the_district(boundary):
    from xuewei.data.builders.jiangyang import PROJ
    assert (PACK / "boundary.geojson").stat().st_size < 100_000
    assert boundary.is_valid and boundary.geom_type in ("Polygon", "MultiPolygon")
    assert PROJ.geom_to_utm(boundary).area / 1e6 == pytest.approx(649, rel=0.01)  # 幅员面积649平方公里
    minx, miny, maxx, maxy = boundary.bounds  # GCJ-02 fence 105.145–105.675, 28.732–28.971, shifted to WGS-84
    assert 105.13 < minx < 105.15 and 105.66 < maxx < 105.68 and 28.73 < miny < 28.74 and 28.97 < maxy < 28.98


def test_every_point_is_inside_the_boundary(boundary):
    pts = [(r["seat_lon"], r["seat_lat"]) for r in rows("townships.csv")]
    for name in ("nodes.csv", "schools.csv", "candidate_sites.csv"):
        pts += [(r["lon"], r["lat"]) for r in rows(name)]
    assert [p for p in pts if not boundary.contains(Point(float(p[0]), float(p[1])))] == []


# ---------------------------------------------------------------- real parts equal their sources

@needs_geodata
def test_townships_equal_the_nbs_list_and_converted_points():
    src, out = rows("townships.csv", GEODATA), rows("townships.csv")
    assert [(r["township_id"], r["name"], r["level"]) for r in out] == [(r["code"], r["name"], r["level"]) for r in src]
    assert sum(r["level"] == "街道" for r in out) == 9 and sum(r["level"] == "镇" for r in out) == 6
    for s, o in zip(src, out):
        if s["lon_gcj02"]:
            lon, lat = gcj02_to_wgs84(float(s["lon_gcj02"]), float(s["lat_gcj02"]))
            assert (float(o["seat_lon"]), float(o["seat_lat"])) == pytest.approx((lon, lat), abs=1e-6)
            assert (o["lon_gcj02"], o["synthetic"]) == (s["lon_gcj02"], "0")
        else:
            assert o["synthetic"] == "1" and o["lon_gcj02"] == "" and "驻地点合成" in o["source"]
    assert {r["name"] for r in out if r["synthetic"] == "1"} == {"南城街道", "邻玉街道", "华阳街道", "况场街道"}
    assert {r["tier"] for r in out if r["level"] == "街道"} == {"county_seat"}
    assert {r["tier"] for r in out if r["level"] == "镇"} == {"township_seat"}


@needs_geodata
def test_seats_of_districts_without_points_are_apart():
    from xuewei.data.builders.jiangyang import PROJ
    xy = [PROJ.to_utm(float(r["seat_lon"]), float(r["seat_lat"])) for r in rows("townships.csv")]
    gaps = [math.dist(a, b) for i, a in enumerate(xy) for b in xy[i + 1:]]
    assert min(gaps) > 1000  # no two seats stacked


@needs_geodata
def test_census_copy_and_population_split():
    assert filecmp.cmp(PACK / "census_age_groups.csv", GEODATA / "census_county_agesex_2010_2020.csv", shallow=False)
    ind = {(r["year"], r["field"]): r["value"] for r in rows("census_county_indicators_2010_2020.csv", GEODATA)}
    nodes = rows("nodes.csv")
    assert sum(int(r["population"]) for r in nodes) == int(ind[("2020", "人口数_合计")]) == 761576
    assert sum(int(r["population"]) for r in nodes if r["urban"] == "1") == int(ind[("2020", "城镇人口")]) == 578448
    single = rows("population_by_age.csv")
    assert sum(int(r["persons"]) for r in single if r["year"] == "2020") == 761576
    assert sum(int(r["persons"]) for r in single if r["year"] == "2010") == 575231
    for t in rows("townships.csv"):
        assert int(t["population_synthetic"]) == sum(int(n["population"]) for n in nodes
                                                      if n["township_id"] == t["township_id"])


def test_births_and_migration():
    births = rows("births.csv")
    assert len(births) == 15 * 16 and all(int(r["births"]) > 0 and r["synthetic"] == "1" for r in births)
    county = {}
    for r in births:
        county[int(r["year"])] = county.get(int(r["year"]), 0) + int(r["births"])
    assert county[2010] == pytest.approx(8.81 / 1000 * 575231, rel=0.02)  # 六普出生率 8.81‰
    age0 = next(int(r["persons"]) for r in rows("population_by_age.csv") if r["year"] == "2020" and r["age"] == "0")
    assert county[2020] == pytest.approx(age0, rel=0.02)  # 七普 0 岁 5,149
    mig = [r for r in rows("migration.csv") if r["township_id"] == "510502001"]
    assert all(float(r["net_rate_per_year"]) > 0 for r in mig[:-1])  # a district people move into


# ---------------------------------------------------------------- synthetic parts flagged

def test_every_school_and_stage_row_is_synthetic_and_says_so():
    for r in rows("schools.csv"):
        assert (r["synthetic"], r["synthetic_fields"], r["named_in_plan"], r["township_rule"]) == (
            "1", "all", "0", "synthetic")
        assert "合成" in r["name"] and "合成" in r["source"]
    for r in rows("school_stages.csv"):
        assert (r["synthetic"], r["real_fields"]) == ("1", "") and r["source"].startswith("合成")
    for r in rows("candidate_sites.csv"):
        assert (r["synthetic"], r["named_in_plan"]) == ("1", "0") and "合成" in r["name"]
    for r in rows("nodes.csv"):
        assert r["synthetic"] == "1" and "population" in r["synthetic_fields"].split(";")


# ---------------------------------------------------------------- 2020 totals are the plan's figures

def _plan_value(table: str, key: str, item: str, col: str):
    t = next(t for t in PLAN["tables"] if t["id"] == table)
    r = next(r for r in t["rows"] if r[key] == item)
    assert r["source_quote"] in SEED_TEXT
    return r[col]


def test_2020_pupils_are_the_plans_rates_times_the_census():
    ages = {int(r["age"]): int(r["persons"]) for r in rows("population_by_age.csv") if r["year"] == "2020"}

    def band(a, b):
        return sum(ages[x] for x in range(a, b + 1))

    kg_rate = _plan_value("主要指标表", "主要指标", "学前教育毛入园率", "2020年")
    consolidation = _plan_value("主要指标表", "主要指标", "义务教育巩固率", "2020年")
    upper_rate = _plan_value("主要指标表", "主要指标", "高中阶段毛入学率", "2020年")
    vocational_wan = _plan_value("主要指标表", "主要指标", "在校生", "2020年")
    public_share = _plan_value("主要指标表", "主要指标", "公办幼儿园在园幼儿占比", "2020年")
    assert (kg_rate, consolidation, upper_rate, vocational_wan, public_share) == (95, 97.16, 95.83, 1.786, 50.19)
    expected = {"kindergarten": round(kg_rate / 100 * band(3, 5)), "primary": band(6, 11),
                "junior": round(consolidation / 100 * band(12, 14)), "vocational": round(vocational_wan * 10000)}
    expected["senior"] = round(upper_rate / 100 * band(15, 17)) - expected["vocational"]
    stages = rows("school_stages.csv")
    got = {k: sum(int(r["pupils"]) for r in stages if r["stage"] == k) for k in expected}
    assert got == expected
    owner = {r["school_id"]: r["ownership"] for r in rows("schools.csv")}
    public_kg = sum(int(r["pupils"]) for r in stages if r["stage"] == "kindergarten" and owner[r["school_id"]] == "public")
    assert public_kg == round(public_share / 100 * expected["kindergarten"])


def test_public_school_count_is_the_sum_of_column7():
    n = sum(_plan_value("专栏7", "事项", item, "数量") for item in
            ("保留学校", "撤销公办学校（点）", "合并公办学校", "调整公办学校办学类型"))
    assert n == 73
    compulsory = {"primary", "junior", "nine_year", "complete_secondary", "senior", "teaching_point"}
    assert sum(r["ownership"] == "public" and r["kind"] in compulsory for r in rows("schools.csv")) == n


# ---------------------------------------------------------------- the shape of an urban district

def test_large_urban_communities():
    pop = sorted((int(r["population"]) for r in rows("nodes.csv") if r["urban"] == "1"), reverse=True)
    assert pop[0] > 30000 and sum(p > 20000 for p in pop) >= 5
    # The largest needs more primary places than one school may hold (default cap 2,000 pupils).
    assert pop[0] * 46683 / 761576 > 2000


def test_big_crowded_city_schools_and_small_rural_ones():
    caps = tomllib.loads((PACKAGE_ROOT / "data" / "standards.toml").read_text(encoding="utf-8"))["school_size_cap"]["value"]
    level = level_of_school()
    kind = {r["school_id"]: r["kind"] for r in rows("schools.csv")}
    stages = rows("school_stages.csv")
    total: dict[str, int] = {}
    for r in stages:
        total[r["school_id"]] = total.get(r["school_id"], 0) + int(r["pupils"])
    over = {kind[r["school_id"]] if kind[r["school_id"]] == "nine_year" else r["stage"]
            for r in stages if r["stage"] in caps and (
                total[r["school_id"]] > caps["nine_year"] if kind[r["school_id"]] == "nine_year"
                else int(r["pupils"]) > caps[r["stage"]])}
    assert over >= {"kindergarten", "primary", "junior", "nine_year", "senior"}
    crowded = [r for r in stages if int(r["pupils"]) > int(r["places"])]
    assert len(crowded) >= 10 and all(level[r["school_id"]] == CITY_LEVEL for r in crowded)
    assert all(int(r["pupils"]) / int(r["classes"]) < 56 for r in stages)  # 基本消除56人以上大班额
    assert max(int(r["pupils"]) / int(r["classes"]) for r in stages if r["stage"] == "primary") > 50
    counts = {k: sum(v == k for v in kind.values()) for k in set(kind.values())}
    assert counts["nine_year"] >= 5 and counts["complete_secondary"] >= 3 and 1 <= counts["teaching_point"] <= 10
    assert all(level[s] == "镇" for s, k in kind.items() if k == "teaching_point")
    tp = [r for r in stages if kind[r["school_id"]] == "teaching_point"]
    assert all(int(r["classes"]) <= 3 and int(r["pupils"]) < 40 for r in tp)


def test_candidate_sites_are_in_the_city_and_every_town():
    level = {r["township_id"]: r["level"] for r in rows("townships.csv")}
    sites = rows("candidate_sites.csv")
    assert {r["township_id"] for r in sites} == set(level)
    assert any("senior" in r["stages"] for r in sites if level[r["township_id"]] == CITY_LEVEL)


# ---------------------------------------------------------------- scenario

def test_scenario_runs_to_the_plans_horizon_on_this_region():
    from xuewei.data.region import resolve_region_path
    from xuewei.scenario import load_scenario
    sc, path = load_scenario(SCENARIOS_DIR / "jiangyang.toml")
    assert list(sc.horizon.periods) == [2025] and sc.horizon.base_year == 2020
    assert Path(resolve_region_path(sc.region, path.parent)).resolve() == PACK.resolve()
    assert sc.policy == {"village_kindergarten": True, "oversize_target_year": {"senior": 2023}}
    assert "附属幼儿园（教学点）为补充的学前教育网络" in SEED_TEXT  # the quote behind village_kindergarten
    assert "2023年消除普通高中大班额" in SEED_TEXT  # ... and behind oversize_target_year.senior


# ---------------------------------------------------------------- generator

@needs_geodata
def test_rebuild_is_deterministic_and_equals_the_committed_pack(tmp_path):
    from xuewei.data.builders.jiangyang import build
    a, b = tmp_path / "a", tmp_path / "b"
    build(GEODATA, a, PLANS_DIR / "jiangyang.toml")
    build(GEODATA, b, PLANS_DIR / "jiangyang.toml")
    names = sorted(p.name for p in PACK.iterdir())
    assert sorted(p.name for p in a.iterdir()) == names
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes() == (PACK / n).read_bytes(), n


# ---------------------------------------------------------------- a run on a slice of the district

SLICE = {"510502002", "510502107", "510502109"}  # 北城街道, 江北镇, 丹林镇


def _slice(dst: Path) -> Path:
    """北城街道 + 江北镇 + 丹林镇 of the pack, without the district-wide age table and the plan."""
    dst.mkdir()
    keep_schools = set()
    for name in ("townships.csv", "nodes.csv", "births.csv", "migration.csv", "candidate_sites.csv", "schools.csv",
                 "school_stages.csv"):
        with open(PACK / name, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            cols = reader.fieldnames
            if name == "school_stages.csv":
                kept = [r for r in reader if r["school_id"] in keep_schools]
            else:
                kept = [r for r in reader if r["township_id"] in SLICE]
        if name == "schools.csv":
            keep_schools = {r["school_id"] for r in kept}
        with open(dst / name, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, cols, lineterminator="\n")
            w.writeheader()
            w.writerows(kept)
    shutil.copy(PACK / "boundary.geojson", dst)
    toml = (PACK / "region.toml").read_text(encoding="utf-8")
    toml = toml.replace('id = "jiangyang"', 'id = "slice"').replace('plan = "jiangyang"\n', "")
    (dst / "region.toml").write_text(toml, encoding="utf-8")
    scen = dst.parent / "slice.toml"
    scen.write_text(f'name = "slice"\nregion = {str(dst)!r}\n[horizon]\nperiods = [2025]\n[policy]\n'
                    "village_kindergarten = true\n[outputs]\nmaps = false\nworkbook = false\nreport = false\n",
                    encoding="utf-8")
    return scen


def test_a_slice_of_the_district_runs_end_to_end(tmp_path):
    import pandas as pd
    from xuewei.cli import main
    scen = _slice(tmp_path / "pack")
    out = tmp_path / "out"
    assert main(["run", str(scen), "--out", str(out)]) in (0, 3)
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert set(summary["township_id"].astype(str)) == SLICE
    assert summary["pupils"].sum() > 0
    assert not pd.read_csv(out / "audit.csv", encoding="utf-8-sig").shape[0]
