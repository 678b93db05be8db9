"""A seeded synthetic city-scale region pack (示意数据): about ten times the 巫溪 demo.

10 counties × 30 townships = 300 townships, 5,000 villages/communities (demand nodes) and 2,000
schools on a 2° × 2° box in the Sichuan basin, with births 2002–2020 and base-year (2020) school
stages consistent with them. Every row is flagged ``synthetic = 1`` and ``region.toml`` says so. The
townships, nodes and schools carry an extra ``county_id`` column (kept by the loader as an extra
column), so a solver can split the city where catchments cannot cross county lines.

Usage::

    python benchmarks/make_city.py OUT_DIR [--seed 20260101] [--counties 10] [--townships 30]
        [--nodes 5000] [--schools 2000]

writes ``OUT_DIR/city/`` (the region pack) and ``OUT_DIR/city.toml`` (a scenario for it). The same
seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

LON0, LAT0, WIDTH, HEIGHT = 105.0, 29.5, 2.0, 2.0  # degrees: the city's box
COLS = 5  # counties per row of the county grid
CLASS_CAP = {"kindergarten": 30, "primary": 45, "junior": 50, "senior": 50}
STAGE_YEARS = {"kindergarten": (3, 5), "primary": (6, 11), "junior": (12, 14), "senior": (15, 17)}  # ages
ENROL = {"kindergarten": 0.85, "primary": 0.98, "junior": 0.96, "senior": 0.6}
BASE_YEAR = 2020
KIND_NAME = {"kindergarten": "幼儿园", "primary": "小学", "teaching_point": "教学点", "junior": "中学", "senior": "高中"}


def _grid(n: int, cols: int) -> tuple[int, int]:
    cols = max(1, min(n, cols))  # fewer items than columns: they fill the box's width
    rows = int(np.ceil(n / cols))
    return rows, cols


def make_city(out: Path, seed: int = 20260101, counties: int = 10, townships_per_county: int = 30,
              n_nodes: int = 5000, n_schools: int = 2000) -> Path:
    """Write the region pack to ``out / "city"`` and a scenario to ``out / "city.toml"``; return the pack."""
    rng = np.random.default_rng(seed)
    pack = out / "city"
    pack.mkdir(parents=True, exist_ok=True)
    c_rows, c_cols = _grid(counties, COLS)
    cw, ch = WIDTH / c_cols, HEIGHT / c_rows
    t_rows, t_cols = _grid(townships_per_county, 6)
    tw, th = cw / t_cols, ch / t_rows

    # Townships: a grid cell each; the first of a county is its seat (county_seat), every 7th a central town.
    towns = []
    for c in range(counties):
        cx, cy = LON0 + (c % c_cols) * cw, LAT0 + (c // c_cols) * ch
        for k in range(townships_per_county):
            x0, y0 = cx + (k % t_cols) * tw, cy + (k // t_cols) * th
            tier = "county_seat" if k == 0 else "central_town" if k % 7 == 0 else "township_seat"
            towns.append({"township_id": f"C{c:02d}T{k:02d}", "name": f"示意{c + 1}县{k + 1}镇",
                          "level": "街道" if k == 0 else "镇" if k % 3 == 0 else "乡", "tier": tier,
                          "seat_lon": round(x0 + tw * rng.uniform(0.35, 0.65), 6),
                          "seat_lat": round(y0 + th * rng.uniform(0.35, 0.65), 6),
                          "synthetic": 1, "source": "benchmarks/make_city.py（示意数据）", "county_id": f"C{c:02d}",
                          "_x0": x0, "_y0": y0})
    towns = pd.DataFrame(towns)
    n_towns = len(towns)

    # Nodes: an even share per township (the remainder to the first ones); a county seat's nodes are
    # communities around the seat, elsewhere the first node is the seat's community and the rest villages.
    per = np.full(n_towns, n_nodes // n_towns)
    per[: n_nodes - per.sum()] += 1
    nodes = []
    for t, row in towns.iterrows():
        urban_town = row["tier"] == "county_seat"
        for j in range(per[t]):
            near_seat = urban_town or j == 0
            if near_seat:
                lon = row["seat_lon"] + rng.normal(0, tw * 0.06)
                lat = row["seat_lat"] + rng.normal(0, th * 0.06)
            else:
                lon = row["_x0"] + tw * rng.uniform(0.03, 0.97)
                lat = row["_y0"] + th * rng.uniform(0.03, 0.97)
            pop = rng.lognormal(np.log(6000 if urban_town else 2500 if j == 0 else 700), 0.4)
            nodes.append({"node_id": f"{row['township_id']}N{j:03d}", "name": f"{row['name']}{j + 1}村",
                          "township_id": row["township_id"], "kind": "community" if near_seat else "village",
                          "lon": round(float(lon), 6), "lat": round(float(lat), 6), "population": int(round(pop)),
                          "urban": int(near_seat), "synthetic": 1, "source": "benchmarks/make_city.py（示意数据）",
                          "county_id": row["county_id"]})
    nodes = pd.DataFrame(nodes)
    town_pop = nodes.groupby("township_id")["population"].sum().reindex(towns["township_id"]).to_numpy(float)

    # Births 2002–2020: about 9‰ of the population, declining 3 %/yr, with noise.
    years = np.arange(2002, BASE_YEAR + 1)  # seniors of 2020 were born from 2003
    births = []
    for t, tid in enumerate(towns["township_id"]):
        level = town_pop[t] * 0.009
        for y in years:
            births.append((tid, int(y), int(round(level * 1.03 ** (BASE_YEAR - y) * rng.lognormal(0, 0.05))), 1))
    births = pd.DataFrame(births, columns=["township_id", "year", "births", "synthetic"])

    # Schools: per township a central kindergarten, primary and junior (county seats: several, plus
    # seniors); then village primaries and teaching points at villages until there are n_schools
    # (a small city may get more than n_schools: the central schools always come first).
    schools = []

    def add(kind, row, lon, lat, beds=0, village=False):
        schools.append({"_village": village, "school_id": f"S{len(schools) + 1:05d}", "name": f"{row['name']}{KIND_NAME[kind]}{len(schools) + 1}",
                        "kind": kind, "township_id": row["township_id"], "lon": round(float(lon), 6),
                        "lat": round(float(lat), 6), "ownership": "public", "boarding_beds": beds, "synthetic": 1,
                        "source": "benchmarks/make_city.py（示意数据）", "county_id": row["county_id"]})

    for _, row in towns.iterrows():
        seat = row["tier"] == "county_seat"
        near = lambda: (row["seat_lon"] + rng.normal(0, tw * 0.04), row["seat_lat"] + rng.normal(0, th * 0.04))
        for kind, count in (("kindergarten", 4 if seat else 1), ("primary", 5 if seat else 1),
                            ("junior", 3 if seat else 1), ("senior", 3 if seat else 0)):
            for _ in range(count):
                beds = int(rng.integers(10, 40)) * 10 if kind in ("junior", "senior") and not seat else 0
                add(kind, row, *near(), beds=beds)
    villages = nodes[nodes["kind"] == "village"].sample(frac=1.0, random_state=seed).reset_index(drop=True)
    by_id = towns.set_index("township_id")
    i = 0
    while len(schools) < n_schools:
        v = villages.iloc[i % len(villages)]
        add("primary" if i % 2 == 0 else "teaching_point", by_id.loc[v["township_id"]].to_dict() | {
            "township_id": v["township_id"]}, v["lon"] + rng.normal(0, 0.002), v["lat"] + rng.normal(0, 0.002),
            village=True)
        i += 1
    schools = pd.DataFrame(schools)

    # Base-year stages: the pupils a township's births imply, spread over its schools of the stage
    # (seniors: over the county's), classes at 75–95 % of the class cap.
    stage_of = {"kindergarten": "kindergarten", "primary": "primary", "teaching_point": "primary",
                "junior": "junior", "senior": "senior"}
    schools["stage"] = schools["kind"].map(stage_of)
    births_by = births.pivot(index="township_id", columns="year", values="births")
    rows = []
    for stage, (a0, a1) in STAGE_YEARS.items():
        cohort = births_by[[BASE_YEAR - a for a in range(a0, a1 + 1)]].sum(axis=1) * ENROL[stage]
        key = "county_id" if stage == "senior" else "township_id"
        demand = cohort.groupby(towns.set_index("township_id")[key]).sum() if stage == "senior" else cohort
        here = schools[schools["stage"] == stage]
        for group, grp in here.groupby(key):
            weight = np.where(grp["kind"] == "teaching_point", 0.15, np.where(grp["_village"], 0.3, 1.0))
            weight = weight * rng.uniform(0.7, 1.3, len(grp))
            pupils = np.round(float(demand.get(group, 0.0)) * weight / weight.sum()).astype(int)
            for sid, p in zip(grp["school_id"], pupils):
                classes = max(1, int(np.ceil(p / (CLASS_CAP[stage] * rng.uniform(0.75, 0.95)))))
                rows.append((sid, stage, BASE_YEAR, classes, classes * CLASS_CAP[stage], int(p), 1))
    stages = pd.DataFrame(rows, columns=["school_id", "stage", "year", "classes", "places", "pupils", "synthetic"])
    schools = schools.drop(columns=["stage", "_village"])

    # Candidate sites: three per county seat, one per central town.
    sites = []
    for _, row in towns[towns["tier"].isin(["county_seat", "central_town"])].iterrows():
        for _ in range(3 if row["tier"] == "county_seat" else 1):
            sites.append({"site_id": f"C{len(sites) + 1:04d}", "name": f"{row['name']}备选地块{len(sites) + 1}",
                          "township_id": row["township_id"],
                          "lon": round(float(row["seat_lon"] + rng.normal(0, tw * 0.05)), 6),
                          "lat": round(float(row["seat_lat"] + rng.normal(0, th * 0.05)), 6),
                          "stages": "kindergarten;primary;junior", "max_classes": 36, "synthetic": 1,
                          "source": "benchmarks/make_city.py（示意数据）"})
    sites = pd.DataFrame(sites)

    towns = towns.drop(columns=["_x0", "_y0"])
    for name, df in (("townships", towns), ("nodes", nodes), ("schools", schools), ("school_stages", stages),
                     ("births", births), ("candidate_sites", sites)):
        df.to_csv(pack / f"{name}.csv", index=False, lineterminator="\n")
    ring = [[LON0, LAT0], [LON0 + WIDTH, LAT0], [LON0 + WIDTH, LAT0 + HEIGHT], [LON0, LAT0 + HEIGHT], [LON0, LAT0]]
    boundary = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "示意市"},
                                                           "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    (pack / "boundary.geojson").write_text(json.dumps(boundary, ensure_ascii=False) + "\n", encoding="utf-8")
    (pack / "region.toml").write_text(
        "# 城市规模示意区域：由 benchmarks/make_city.py 生成（种子 %d），全部为合成数据，仅供性能测试。\n"
        'id = "city"\nname = "示意市"\nadmin_code = "999000"\ncrs = "EPSG:4326"\nbase_year = %d\nsynthetic = true\n'
        'synthetic_parts = ["全部数据（%d 个县、%d 个乡镇、%d 个村社、%d 所学校、出生数、学校规模、备选用地）均为合成的示意数据，'
        '只用于测量规模与耗时"]\n' % (seed, BASE_YEAR, counties, n_towns, len(nodes), len(schools)), encoding="utf-8")
    (out / "city.toml").write_text(
        'name = "city-scale"\ndescription = "城市规模示意区域（示意数据），性能测试用；政策同演示情景"\nregion = "city"\n\n'
        "[horizon]\nbase_year = 2020\nperiods = [2025, 2030, 2035]\n\n"
        "[policy]\ntravel_limit_km = { kindergarten = 5.0 }\nvillage_kindergarten = true\n\n"
        '[solver]\nname = "highs"\nreproducible = true\nmax_nodes = 1\ntime_limit_s = 600\ngap_rel = 0.005\n', encoding="utf-8")
    return pack


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=20260101)
    p.add_argument("--counties", type=int, default=10)
    p.add_argument("--townships", type=int, default=30, help="每县乡镇数")
    p.add_argument("--nodes", type=int, default=5000)
    p.add_argument("--schools", type=int, default=2000)
    a = p.parse_args(argv)
    pack = make_city(a.out, a.seed, a.counties, a.townships, a.nodes, a.schools)
    counts = {f.stem: sum(1 for _ in f.open(encoding="utf-8")) - 1 for f in sorted(pack.glob("*.csv"))}
    print(f"写出 {pack}：" + "，".join(f"{k} {v} 行" for k, v in counts.items()))


if __name__ == "__main__":
    main()
