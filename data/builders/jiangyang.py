"""Build the 泸州市江阳区 (510502) demo region pack ``data/regions/jiangyang/`` from public sources.

Run from the repository root::

    python -m xuewei.data.builders.jiangyang --geodata ../shared/geodata/jiangyang --out data/regions/jiangyang \\
        [--plan-toml data/plans/jiangyang.toml]

Real inputs: ``../shared/geodata/jiangyang`` (NBS 2021 codes of 15 街道/镇 and 156 村/社区, Vonng/adcode
GCJ-02 points and district fence, 2016 城乡分类, census 2010/2020; see its PROVENANCE.md) and the 2020
figures of the district's plan (``data/plans/jiangyang.toml``: 主要指标表 and 专栏7). Everything else is
synthetic — community populations, most positions, births, every school — drawn from streams of one
fixed seed (:data:`SEED`), so two runs write byte-identical files. The pack is written in EPSG:4326;
every GCJ-02 input is converted with :func:`xuewei.data.webcrs.gcj02_to_wgs84` and kept in ``lon_gcj02,
lat_gcj02``. Build tool only; nothing at runtime imports it.

江阳 is unlike 巫溪: an urban district (七普 城镇人口 76%) of 9 街道 and 6 镇, growing (575,231 → 761,576
persons 2010→2020), with communities of tens of thousands of people and large, crowded city schools.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point, shape

from xuewei.data.tomlio import tomllib
from xuewei.data.builders import common as cm
from xuewei.data.builders import geo
from xuewei.data.builders import jiangyang_schools as sch
from xuewei.data.paths import PLANS_DIR, REGIONS_DIR

SEED = 20201101  # the 2020 census reference day
ADMIN_CODE = "510502"
NAME = "江阳区"
BASE_YEAR = 2020
BIRTH_YEARS = range(2005, 2021)
DEFAULT_GEODATA = cm.default_geodata("jiangyang")
SEED_FILE = "001_64d2a26e393c5739.txt"
#: Projected CRS for distances and cells: WGS 84 / UTM zone 48N (江阳 lies at 105.1–105.7°E).
PROJ = geo.Projection("EPSG:32648")
GENERATOR = "python -m xuewei.data.builders.jiangyang"

#: Relative weights of node population (assumption), by 2016 城乡分类代码: 111 主城区, 112 城乡结合区,
#: 121 镇中心区, 122 镇乡结合区, 123 特殊区域; a 社区 without a 2016 code (set up or recoded 2016–2021) is
#: "new" in a 街道 (new housing areas, still filling) and counts as 121 in a 镇. Each × lognormal noise:
#: σ 0.8 for 主城区 (old and new estates differ widely in size), 0.5 other urban, 0.35 rural.
URBAN_WEIGHT = {"111": 15.0, "new": 5.0, "112": 4.0, "121": 3.0, "122": 1.0, "123": 1.0}
RURAL_WEIGHT = {"210": 1.3, "220": 1.0}
SIGMA = {"111": 0.8, "urban": 0.5, "rural": 0.35}
#: Radius around the seat within which a community is drawn [m]: 街道 2.5 km, 镇 1.5 km.
NEAR_M = {"街道": 2500.0, "镇": 1500.0}
#: Grid step of the search for the seats of 街道 without any point [m].
SEAT_GRID_M = 200.0


def rng_for(part: int) -> np.random.Generator:
    return cm.rng_for(SEED, part)


# --------------------------------------------------------------------------------------------------
# townships and nodes
# --------------------------------------------------------------------------------------------------

def tier_of(name: str) -> tuple[str, str]:
    """Every 街道 is 城区 (county_seat); the plan names no 中心镇, so every 镇 is township_seat."""
    if name.endswith("街道"):
        return "county_seat", "街道（主城区；规划“扩大城区学位供给”）"
    return "township_seat", "规划未点名中心镇"


def city_gap_seats(geodata: Path, villages: list[dict], boundary) -> dict:
    """Seats of the 街道 that no source gives a point for, even through their villages (南城、邻玉、况场).

    Rule (synthetic): inside the convex hull of the 街道 seats that are known (real, or the mean of a
    街道's real community points: 华阳), on a :data:`SEAT_GRID_M` grid, the point farthest from every
    seat known so far, taken in code order. That fills the gaps of 城区 without stacking seats.

    Returns ``code → ((lon, lat), rule text)`` for every township without a real point.
    """
    rows = cm.read_csv(geodata / "townships.csv")
    known, out = {}, {}
    for r in rows:
        pt = cm.gcj_to_wgs(r["lon_gcj02"], r["lat_gcj02"])
        if pt:
            known[r["code"]] = pt
            continue
        found = cm.seat_from_villages(r["name"], r["code"], villages)
        if found:
            known[r["code"]] = found[0]
            out[r["code"]] = found
    city = [r for r in rows if r["level"] == "街道"]
    hull = shapely.MultiPoint([PROJ.to_utm(*known[r["code"]]) for r in city if r["code"] in known]).convex_hull
    hull = hull.intersection(PROJ.geom_to_utm(boundary))
    minx, miny, maxx, maxy = hull.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx, SEAT_GRID_M), np.arange(miny, maxy, SEAT_GRID_M))
    inside = shapely.contains_xy(hull, gx.ravel(), gy.ravel())
    cand = np.column_stack([gx.ravel()[inside], gy.ravel()[inside]])
    seats = np.array([PROJ.to_utm(*p) for p in known.values()], dtype=float)
    for r in rows:
        if r["code"] in known:
            continue
        if r["level"] != "街道":
            raise ValueError(f"no point at all for {r['name']}")
        d = np.min(np.hypot(cand[:, None, 0] - seats[None, :, 0], cand[:, None, 1] - seats[None, :, 1]), axis=1)
        i = int(np.argmax(d))
        lon, lat = PROJ.to_lonlat(*cand[i])
        out[r["code"]] = ((round(float(lon), 6), round(float(lat), 6)),
                          f"公开数据无驻地点、本街道也无有点的村（社区）：取已知街道驻地凸包内（{SEAT_GRID_M:.0f} m 网格）"
                          f"离已有驻地最远的点（距最近驻地 {d[i] / 1000:.1f} km），按代码顺序逐个取")
        seats = np.vstack([seats, cand[i]])
    return out


def node_populations(villages, townships, ind, rng) -> list[int]:
    """Census 城镇人口 over urban nodes, 乡村人口 over rural nodes by weights (:data:`URBAN_WEIGHT`,
    :data:`RURAL_WEIGHT`) × lognormal noise (:data:`SIGMA`), largest remainder."""
    level = {t["township_id"]: t["level"] for t in townships}

    def weight(v, urban):
        ur = v["ur_code_2016"] or ("new" if level[v["township_code"]] == "街道" else "121")
        if urban:
            return URBAN_WEIGHT[ur], SIGMA.get(ur, SIGMA["urban"])
        return RURAL_WEIGHT.get(ur, 1.0), SIGMA["rural"]

    return cm.node_populations(villages, ind, rng, weight)


def new_communities(geodata: Path) -> dict[str, list[str]]:
    """Township code → 社区 of the 2021 list with no 2016 unit of that code or name (new housing areas)."""
    out: dict[str, list[str]] = {}
    villages = {v["code"]: v for v in cm.read_csv(geodata / "villages.csv")}
    for r in cm.read_csv(geodata / "village_changes_2016_2021.csv"):
        v = villages.get(r["code"])
        if r["change"] == "added_or_recoded" and v and v["kind"] == "居委会":
            out.setdefault(v["township_code"], []).append(v["code"])
    return out


# --------------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------------

def build(geodata: Path, out: Path, plan_toml: Path | None) -> dict:
    """Write the whole pack into ``out``; return the facts printed in README/region.toml.

    With ``plan_toml=None`` only the parts that do not depend on the plan are written (boundary,
    townships, nodes, births, ages, migration); every part draws from its own seeded stream, so they
    are the same either way.
    """
    geodata, out = Path(geodata), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    facts: dict = {}

    raw = json.loads((geodata / "boundary_gcj02.geojson").read_text(encoding="utf-8"))
    feature = raw["features"][0]
    boundary, bfacts = geo.boundary_from_gcj02(shape(feature["geometry"]), PROJ)
    facts["boundary"] = {"adcode": ADMIN_CODE, "name": NAME, "crs": "EPSG:4326",
                         "source": feature["properties"]["source"] + "；GCJ-02→WGS-84", **bfacts}
    geo.write_boundary(boundary, out / "boundary.geojson", facts["boundary"])

    villages = cm.read_csv(geodata / "villages.csv")
    gap = city_gap_seats(geodata, villages, boundary)
    townships = cm.build_townships(geodata, villages, tier_of, lambda name, code, vs: gap[code])
    ind = cm.indicators(geodata)
    level = {t["township_id"]: t["level"] for t in townships}

    layout = cm.Layout(PROJ, boundary, townships)
    placer = geo.Placer(rng_for(2), layout.boundary_u, min_sep_m=250.0)
    pops = node_populations(villages, townships, ind, rng_for(1))

    def near(n):
        if n["kind"] == "community" or n["ur_code_2016"] in ("111", "112", "121", "122"):
            return NEAR_M[level[n["township_id"]]]
        return None

    nodes, people = cm.build_people(out, geodata, ADMIN_CODE, villages, townships, layout, pops, placer, near, ind,
                                    BIRTH_YEARS, rng_for(3))
    facts.update(people)
    facts["node_pop"] = sorted((n["population"] for n in nodes), reverse=True)
    facts["gap_seats"] = [t["name"] for t in townships if t["township_id"] in gap]
    if plan_toml is None:
        return facts
    write_schools(out, Path(plan_toml), geodata, townships, nodes, layout, facts)
    (out / "region.toml").write_text(region_toml(facts), encoding="utf-8")
    (out / "README.md").write_text(readme(facts), encoding="utf-8")
    return facts


def write_schools(out: Path, plan_toml: Path, geodata: Path, townships, nodes, layout: cm.Layout, facts) -> None:
    """Schools, their 2020 stages and the candidate sites.

    Positions (synthetic): a 街道 school within 600 m of one of its 街道's communities drawn by
    population, a 镇 school within 1.2 km of the seat, a village school or 教学点 within 500 m of its
    village; always inside the township's cell, 150 m apart where possible.
    """
    tw = {t["township_id"]: t for t in townships}
    plan = tomllib.loads(plan_toml.read_text(encoding="utf-8"))
    schools, sfacts = sch.build_schools(plan, townships, nodes, facts["p20"], rng_for(4))
    facts["schools"] = sfacts
    node_xy = {n["node_id"]: layout.xy(n["lon"], n["lat"]) for n in nodes}
    kind_order = list(cm.KIND_STAGES)
    schools.sort(key=lambda s: (s.township_id, s.ownership, kind_order.index(s.kind), s.name))
    placer = geo.Placer(rng_for(5), layout.boundary_u, min_sep_m=150.0)
    rng_pick = rng_for(7)
    urban_nodes = {tid: [n for n in nodes if n["township_id"] == tid and n["urban"]] for tid in tw}
    for i, s in enumerate(schools, start=1):
        s.school_id = f"S{i:03d}"
        tid = s.township_id
        cell = layout.cells[tid]
        if s.village_node:
            s.xy = placer.near(*node_xy[s.village_node], 500.0, within=cell)
        elif tw[tid]["level"] == "街道" and urban_nodes[tid]:
            cands = urban_nodes[tid]
            w = np.array([n["population"] for n in cands], dtype=float)
            n = cands[int(rng_pick.choice(len(cands), p=w / w.sum()))]
            s.xy = placer.near(*node_xy[n["node_id"]], 600.0, within=cell)
        else:
            s.xy = placer.near(*layout.seat_xy[tid], 1200.0, within=cell)

    # Candidate sites (synthetic): per 街道 a 12-class kindergarten + 24-class primary site and a 45-class
    # 九年一贯制 site, a third (24-class kindergarten + primary) where 3 or more 社区 are new since 2016; one
    # 60-class junior + senior site in the 街道 with most new 社区; per 镇 an 18-class kindergarten + primary.
    new = new_communities(geodata)
    most_new = max((tid for tid in tw if tw[tid]["level"] == "街道"), key=lambda i: (len(new.get(i, [])), i))
    sites = []
    for t in townships:
        tid = t["township_id"]
        if t["level"] == "街道":
            plan_sites = [("kindergarten;primary", 36), ("primary;junior", 45)]
            if len(new.get(tid, [])) >= 3:
                plan_sites.append(("kindergarten;primary", 24))
            if tid == most_new:
                plan_sites.append(("junior;senior", 60))
        else:
            plan_sites = [("kindergarten;primary", 18)]
        for j, (stages, mc) in enumerate(plan_sites, start=1):
            why = (f"新设社区附近（本街道2016–2021新设社区{len(new.get(tid, []))}个）" if new.get(tid)
                   else "驻地附近")
            sites.append({"name": f"{t['name']}备选用地{j}（合成）", "township_id": tid, "stages": stages,
                          "max_classes": mc, "named_in_plan": 0, "synthetic": 1,
                          "source": f"合成：{cm.TIER_ZH[t['tier']]}备选用地，{why}随机（种子固定）"})
    placer_c = geo.Placer(rng_for(6), layout.boundary_u, min_sep_m=300.0)
    for i, site in enumerate(sites, start=1):
        site["site_id"] = f"C{i:02d}"
        tid = site["township_id"]
        if new.get(tid):
            code = new[tid][int(placer_c.rng.integers(len(new[tid])))]
            x, y = placer_c.near(*node_xy[code], 800.0, within=layout.cells[tid])
        else:
            x, y = placer_c.near(*layout.seat_xy[tid], NEAR_M[tw[tid]["level"]], within=layout.cells[tid])
        site["lon"], site["lat"] = layout.lonlat(x, y)

    school_rows, stage_rows = cm.school_tables(schools, layout, sch.YEAR, lambda s: s.source + "；位置、学段、规模、学生数均为合成")
    cm.write_csv(out / "schools.csv", cm.SCHOOL_COLUMNS, school_rows)
    cm.write_csv(out / "school_stages.csv", cm.STAGE_COLUMNS, stage_rows)
    cm.write_csv(out / "candidate_sites.csv", cm.SITE_COLUMNS, sites)
    facts["sites"] = len(sites)
    facts["sites_by_township"] = {t["name"]: sum(s["township_id"] == t["township_id"] for s in sites) for t in townships}
    facts["outside"] = sum(1 for r in school_rows + sites if not layout.boundary_u.contains(
        Point(*layout.xy(r["lon"], r["lat"]))))


# --------------------------------------------------------------------------------------------------
# region.toml and README
# --------------------------------------------------------------------------------------------------

KIND_ZH = {"kindergarten": "幼儿园", "primary": "小学", "teaching_point": "教学点", "junior": "初中",
           "nine_year": "九年一贯制", "complete_secondary": "完全中学", "senior": "高中", "vocational": "中职",
           "special": "特教"}


def synthetic_parts(f: dict) -> list[str]:
    sf = f["schools"]
    tot = sf["totals"]
    fig = sf["figures"]
    m = f["mortality"]
    n = f["nodes"]
    pop = f["node_pop"]
    return [
        f"乡镇驻地点：{len(f['gap_seats'])}个街道无公开点（{'、'.join(f['gap_seats'])}）。华阳街道取其3个社区真实点的平均；"
        "南城、邻玉、况场街道本身及其村（社区）都没有点，取已知街道驻地凸包内离已有驻地最远的点（200 m 网格，按代码顺序）；synthetic=1。",
        f"{n['n'] - n['real_points']}个村（社区）的位置：以15个驻地点的泰森多边形（裁剪到区界，UTM 48N）代替无公开来源的街道/镇边界；"
        "社区及2016城乡分类111/112/121/122的村在驻地2.5 km（街道）/1.5 km（镇）内随机，其余村在本街道/镇多边形内随机并向驻地收缩15%；"
        f"点间距尽量≥250 m；种子 {SEED}。",
        f"村（社区）人口：七普城镇人口{f['urban_2020']:,}分给城镇村（2016城乡分类1xx；无代码者社区记城镇），乡村人口{f['rural_2020']:,}"
        "分给其余村；权重为主城区111类15、街道内2016年后新设（无代码）社区5、112类4、121类3（镇内无代码社区同）、122类1、乡村1，"
        f"乘对数正态噪声（111类σ=0.8，其余城镇0.5，乡村0.35），最大余数取整；最大社区{pop[0]:,}人，{sum(p > 20000 for p in pop)}个超过2万人；"
        "街道/镇人口为其村（社区）之和（townships.csv 的 population_synthetic）。",
        f"2005–2020年各街道/镇出生数：全区出生数由人口普查单岁人数回推（2010年及以前用六普0–5岁，以后用七普0–9岁），除以自出生至普查的"
        f"存活×留存；存活为Gompertz死亡率（β=0.085，婴儿死亡概率{m.q0}，α按六普死亡率{f['death_rate_2010']}‰校准）；留存为"
        f"六普→七普队列变化给出的儿童净迁移率；2010年回推{f['county_births'][2010]:,}人，对照六普出生率{f['birth_rate_2010']}‰×"
        f"{f['pop_2010']:,}={f['birth_rate_2010'] * f['pop_2010'] / 1000:,.0f}人；按街道/镇人口份额（乘σ=0.05对数正态噪声）最大余数分配。",
        f"学校：江阳无公开学校名录，{sf['schools']}所学校全部合成（名称带“合成”，synthetic_fields=all）。2020年公办中小学（含教学点）"
        f"{sf['n_public']}所 = 专栏7 保留{fig['kept'][0]} + 撤销{fig['closed'][0]} + 合并{fig['merged'][0]} + 调整类型{fig['retyped'][0]}"
        "（假定四项互不重叠且覆盖全部公办中小学；规划未说明）：街道内小学18、九年一贯制5、初级中学6、完全中学3所（按城镇人口最大余数分到街道，"
        "每街道至少1所小学）；人口最多的3个镇各1所中心小学和1所初中（最大者为完全中学），其余3个镇各1所九年一贯制中心校；"
        f"{sf['teaching_points']}个教学点（只在镇）与村小按乡村人口分配、各占一个村（按人口抽取）。幼儿园：区中心幼儿园1所（规划“办好优质中心幼儿园1所及若干所分园”）、"
        "城区公办园22所、每镇1所中心园、人口最多的8个村的村小附设园；民办园48所按城镇人口分配；另有民办九年一贯制、民办小学各1所，中职4所，特殊教育学校1所。"
        "位置：街道学校在按人口抽取的本街道社区600 m内，镇学校在驻地1.2 km内，村小/教学点在本村500 m内，均在本街道/镇多边形内随机。",
        f"2020年在校生：各学段合计取自规划主要指标表2020年值与七普单岁人口——学前{tot['kindergarten']:,} = 毛入园率"
        f"{fig['kg_rate'][0]:g}% × 3–5岁{tot['ages']['3–5']:,}；小学{tot['primary']:,} = 6–11岁人口（按全部入学）；初中{tot['junior']:,} = "
        f"巩固率{fig['consolidation'][0]:g}% × 12–14岁{tot['ages']['12–14']:,}；普高{tot['senior']:,} = 高中阶段毛入学率"
        f"{fig['upper_rate'][0]:g}% × 15–17岁{tot['ages']['15–17']:,}（={tot['upper']:,}）− 中职在校生{tot['vocational']:,}（1.786万人）；"
        f"公办园在园幼儿{tot['kindergarten_public']:,} = {fig['public_kg_share'][0]:g}% × 学前。各校份额合成：村小40–260人、教学点6–35人、附设园15–45人随机；"
        f"民办学校取学段总数的2%–3%；镇学校取本镇人口份额的{sch.TOWN_KEEP:.0%}（其余进城就读，规划“城挤乡弱村空”）减村级学校；"
        "街道学校分其余（权重1，九年一贯制小学部0.8、初中部0.6，刻意做大的学校×1.9（完全中学×1.35、中心幼儿园×1.7），乘σ=0.2噪声）。"
        "班数 = ⌈学生/班额⌉，班额在区间内随机：街道小学40–45、初中44–50、高中46–50；街道公办学校约45%（小学）/40%（初中）/50%（高中）"
        "及刻意做大的学校为大班额，小学46–55、中学51–55（规划“逐步将小学、初中班额分别控制在45、50人以内”“基本消除56人以上大班额”）；"
        "镇小学32–42、初中38–48；幼儿园22–30。学位 = 班数 × 班额上限（小学45、教学点30、中学50、幼儿园30）。寄宿床位：镇初中学位50%、"
        "高中60%、中心小学10%，街道高中30%，中职50%，取整到10。",
        f"备选用地：每街道2处（幼儿园+小学36班、九年一贯制45班），2016年后新设社区≥3个的街道加1处（幼儿园+小学24班），新设社区最多的街道"
        f"加1处初中+高中60班，每镇1处（幼儿园+小学18班）；有新设社区的街道在其某个新设社区800 m内，其余在驻地附近随机；共{f['sites']}处，"
        "全部 synthetic=1（规划专栏7只给“新建公办学校（点）8所”，未列校名和位置）。",
        "迁移：全区按年龄的年净迁移率由六普→七普队列存活比除以模型存活率得到（非随机合成，但依赖死亡率假设）；无街道/镇级普查数据，"
        "15个街道/镇取同一组值。江阳2010–2020人口增长32%，儿童年龄带净迁入约3%/年：按此推到规划期会高估学龄人口增长，情景可改用更保守的值。",
    ]


def region_toml(f: dict) -> str:
    b = f["boundary"]
    prov = {
        "boundary": (f"Vonng/adcode data/fences/510502.json（CC BY 4.0，高德来源，GCJ-02）；GCJ-02→WGS-84 后以 "
                     f"{b['tolerance_deg']}° 简化（顶点 {b['vertices_source']}→{b['vertices_kept']}，与未简化区界的 Hausdorff 距离 "
                     f"{b['hausdorff_m']} m，面积 {b['area_km2']} km²；公开资料“幅员面积649平方公里”）"),
        "townships": ("代码、名称、级别：国家统计局2021年统计用区划代码（liyanjie2048/AdministrativeDivisionCn, MIT）；与2022年版"
                      "（modood/Administrative-divisions-of-China）一致；11个驻地点：Vonng/adcode, CC BY 4.0（高德行政区划API地理中心，"
                      "GCJ-02，已转WGS-84，原值见 lon_gcj02/lat_gcj02）"),
        "villages": (f"156个村（社区）（76个居委会、80个村委会）：国家统计局2021年统计用区划代码（liyanjie2048/AdministrativeDivisionCn）；"
                     f"{f['nodes']['real_points']}个点及120个2016城乡分类代码：Vonng/adcode, CC BY 4.0"),
        "census": ("六普、七普区级人口（leiii/census, MIT；Dong, Du & Liu, Mapping Evolving Population Geography in China, "
                   "SSRN 4049338），原出自第六/七次人口普查分县资料；七普另经 thebamboogrove/tudigong 核对"),
        "plan": (f"泸州市江阳区教育事业发展“十四五”规划（{SEED_FILE}）主要指标表2020年值（毛入园率、巩固率、高中阶段毛入学率、"
                 "公办园占比、中职在校生）与专栏7计数，经 data/plans/jiangyang.toml"),
        "attribution": ("Vonng/adcode, CC BY 4.0；liyanjie2048/AdministrativeDivisionCn (MIT)；leiii/census (MIT)；"
                        "统计数据版权归国家统计局"),
        "geodata": "../shared/geodata/jiangyang（PROVENANCE.md 记录了各来源的快照与提交）",
        "generator": f"{GENERATOR}（data/builders/jiangyang.py），随机种子 {SEED}，两次运行逐字节相同",
    }
    lines = [
        f"# 泸州市江阳区演示区域包。由 {GENERATOR} 生成，请勿手改。",
        'id = "jiangyang"',
        f'name = "{NAME}"',
        f'admin_code = "{ADMIN_CODE}"',
        'province = "四川省"',
        'crs = "EPSG:4326"',
        f"base_year = {BASE_YEAR}",
        'plan = "jiangyang"',
        f"description = {cm.toml_str('泸州市江阳区（市辖区，9个街道、6个镇）：城区社区大、城区学校大且拥挤；学校与出生数为示意数据')}",
        "synthetic = true",
        "synthetic_parts = [",
        *[f"    {cm.toml_str(s)}," for s in synthetic_parts(f)],
        "]",
        "",
        "[provenance]",
        *[f"{k} = {cm.toml_str(v)}" for k, v in prov.items()],
        "",
    ]
    return "\n".join(lines)


def readme(f: dict) -> str:
    sf = f["schools"]
    b = f["boundary"]
    tot = sf["totals"]
    fig = sf["figures"]
    quotes = "\n".join(f"- {fig[k][1]}" for k in ("kg_rate", "consolidation", "upper_rate", "public_kg_share",
                                                   "vocational_wan", "kept", "closed", "merged", "retyped", "new"))
    kinds = "、".join(f"{KIND_ZH[k]} {v}" for k, v in sf["by_kind"].items())
    stage_zh = {"kindergarten": "学前", "primary": "小学", "junior": "初中", "senior": "普高", "vocational": "中职"}
    pupils = "、".join(f"{stage_zh[k]} {v:,}" for k, v in sf["pupils"].items())
    places = "、".join(f"{stage_zh[k]} {v:,}" for k, v in sf["places"].items())
    largest = "、".join(f"{stage_zh[k]} {v:,}" for k, v in sf["largest"].items())
    check_b = f["county_births"][2010]
    expect_b = f["birth_rate_2010"] * f["pop_2010"] / 1000
    pop = f["node_pop"]
    return f"""# 泸州市江阳区（四川省，510502）演示区域包

由 `{GENERATOR} --geodata ../shared/geodata/jiangyang --out data/regions/jiangyang` 生成（种子 {SEED}，
两次运行逐字节相同）。坐标系 EPSG:4326（WGS-84）；所有 GCJ-02 输入（区界、驻地点、村点）已用
`xuewei.data.webcrs.gcj02_to_wgs84` 转换，原值保留在 `lon_gcj02, lat_gcj02` 列。每行 `synthetic=1` 表示该行有合成的值，
`synthetic_fields` / `real_fields` 说明哪些字段是合成/真实的。

与巫溪不同，江阳是市辖区：七普常住人口 {f['pop_2020']:,}，城镇人口占 {f['urban_2020'] / f['pop_2020']:.0%}；9个街道、6个镇；
2010–2020 年人口增长 {f['pop_2020'] / f['pop_2010'] - 1:.0%}。城区社区人口上万，城区学校大而拥挤，镇里有村小和教学点。

## 真实部分与来源

| 文件 | 真实内容 | 来源 |
|---|---|---|
| boundary.geojson | 区界（{b['vertices_kept']} 个顶点，简化容差 {b['tolerance_deg']}°，与原区界 Hausdorff 距离 {b['hausdorff_m']} m，面积 {b['area_km2']} km²） | Vonng/adcode 区界（CC BY 4.0，高德来源，GCJ-02 已转 WGS-84） |
| townships.csv | 15个街道/镇的代码、名称、级别；11个驻地点 | 国家统计局2021区划代码（liyanjie2048/AdministrativeDivisionCn）；Vonng/adcode, CC BY 4.0 |
| nodes.csv | 156个村（社区）的代码、名称、所属街道/镇、类型；{f['nodes']['real_points']}个点；120个2016城乡分类（城镇/乡村） | 同上 |
| census_age_groups.csv | 六普、七普区级分性别年龄组人口（原样复制） | leiii/census（MIT） |
| population_by_age.csv | 由上表派生的单岁人口（男女合计），组合计与原表相同 | 同上 |
| migration.csv | 六普→七普队列变化派生的全区分年龄净迁移率 | 同上 |
| schools.csv, school_stages.csv | 只有各学段2020年在校生合计（由规划主要指标表的入学率与七普人口推出）、公办园在园幼儿占比、公办中小学数（专栏7）是依据；学校本身全部合成 | 泸州市江阳区教育事业发展“十四五”规划 |

署名：**Vonng/adcode, CC BY 4.0**；liyanjie2048/AdministrativeDivisionCn (MIT)；leiii/census (MIT，
Dong, Du & Liu, SSRN 4049338)。统计数据版权归国家统计局。详见 ../shared/geodata/jiangyang/PROVENANCE.md。

引用的规划原文（data/plans/jiangyang.toml，逐字见 data/plans/seeds/{SEED_FILE}）：

{quotes}

## 合成部分及其做法

{chr(10).join(f"- {s}" for s in synthetic_parts(f))}

## 核对

- 七普总人口 {f['pop_2020']:,} = 城镇 {f['urban_2020']:,} + 乡村 {f['rural_2020']:,}；nodes.csv 人口合计与之相等，城镇/乡村分项也相等。
- 最大的社区（村）人口：{'、'.join(f'{p:,}' for p in pop[:6])}；超过2万人的 {sum(p > 20000 for p in pop)} 个。
- 2010年全区出生回推 {check_b:,} 人，六普出生率 {f['birth_rate_2010']}‰ × {f['pop_2010']:,} = {expect_b:,.0f} 人，相差 {100 * (check_b / expect_b - 1):+.2f}%。
- 学校 {sf['schools']} 所（{kinds}）；公办中小学（含教学点） {sf['public_compulsory']} 所 = 专栏7 的 {sf['n_public']}。
- 2020年在校生：{pupils}（各学段合计与上面的推算逐人相等）；公办园在园幼儿 {sf['public_kg']:,}（{sf['public_kg'] / tot['kindergarten']:.2%}）。
- 学位：{places}；{sf['crowded_rows']} / {sf['stage_rows']} 个学段行学生多于学位（镇里 {sf['crowded_town']} 个），最大平均班额 {sf['max_class_size']:.1f} 人（<56）。
- 单校单学段最大在校生：{largest}。超过缺省规模上限（data/standards.toml school_size_cap：幼儿园540、小学/初中2000、
  九年一贯制2500、高中3000人）的学校 {len(sf['over_cap'])} 所：{'、'.join(sf['over_cap'])}。

## 规格之外的列

- townships.csv：`lon_gcj02, lat_gcj02`（原始 GCJ-02 点）、`coord_quality`（Vonng/adcode 匹配方式）、`population_synthetic`（合成人口，= 其村（社区）之和）。
- nodes.csv：`synthetic_fields`（本行哪些字段是合成的）、`lon_gcj02, lat_gcj02`、`ur_code_2016`（2016 城乡分类代码）。
- schools.csv：`named_in_plan`（规划点名：全为0）、`plan_rows`、`township_rule`（全为 synthetic）、`synthetic_fields`（`all` = 整行合成）。
- school_stages.csv：`synthetic`（全为1）、`real_fields`（全空）、`source`（本行规模的合成规则）。
- candidate_sites.csv：`named_in_plan`（全为0）。

## 全区出生数（回推，人）

| 年 | 出生 |
|---|---|
{cm.births_table(f['county_births'])}

## 六普→七普队列留存与净迁移率（全区）

| 年龄带 | 队列存活比 | 模型10年存活率 | 年净迁移率 |
|---|---|---|---|
{cm.rates_table(f['rates'])}

所有年龄带都是净迁入（城镇化中的市辖区），儿童约 +3%/年：与巫溪（10–24岁强烈外流）相反。

## 街道/镇（人口为合成，合计 = 其村（社区）之和）

| 代码 | 名称 | 级别 | 层级 | 合成人口 | 驻地点 |
|---|---|---|---|---|---|
{cm.townships_table(f['townships'])}
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=GENERATOR, description=__doc__.splitlines()[0])
    ap.add_argument("--geodata", type=Path, default=DEFAULT_GEODATA, help="../shared/geodata/jiangyang")
    ap.add_argument("--out", type=Path, default=REGIONS_DIR / "jiangyang")
    ap.add_argument("--plan-toml", type=Path, default=PLANS_DIR / "jiangyang.toml")
    args = ap.parse_args(argv)
    if cm.inputs_missing(args.geodata, args.plan_toml):
        return 2
    facts = build(args.geodata, args.out, args.plan_toml)
    sf = facts["schools"]
    print(f"已写出 {args.out}：学校 {sf['schools']} 所，学生 {sum(sf['pupils'].values())}，挤占学段行 {sf['crowded_rows']}，"
          f"超规模上限 {len(sf['over_cap'])} 所")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
