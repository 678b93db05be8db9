"""Schools of the 江阳区 demo pack (build time only, not used at runtime).

No public school list exists for 江阳 (see ../shared/geodata/jiangyang/PROVENANCE.md, "Searched, not
found"), so every school is synthetic and says so (``synthetic_fields = all``, names end in （合成…）).
What is real are the figures the schools are made to agree with, all from the district's own plan
(``data/plans/jiangyang.toml``) and the 2020 census:

- 2020 pupils by stage (:func:`base_totals`): 学前教育毛入园率 95% × 七普 3–5 岁人口; 七普 6–11 岁人口 (小学按
  全部入学); 义务教育巩固率 97.16% × 七普 12–14 岁人口; 高中阶段毛入学率 95.83% × 七普 15–17 岁人口, less the
  中职在校生 1.786 万人 of the same table, is 普高; 公办幼儿园在园幼儿占比 50.19% splits 学前.
- 73 public primary and secondary schools (incl. 教学点) in 2020 = 专栏7's 保留 46 + 撤销 20 + 合并 2 +
  调整类型 5 (an assumption: the plan does not say the four counts are disjoint and cover every school).

The shape is that of an urban district where "义务教育“城挤乡弱村空”现象突出，城市学校学位不足" (plan text):
large 街道 schools, several above the default size caps and many with classes above the plan's 45/50
target ("逐步将小学、初中班额分别控制在45、50人以内") but none at 56 or more ("基本消除56人以上大班额");
九年一贯制 and 完全中学 ("鼓励建设九年一贯制学校"); one large central kindergarten ("办好优质中心幼儿园1所及
若干所分园"); small village schools and a few 教学点 in the six 镇. The rules are in :func:`build_schools`.
"""

from __future__ import annotations

import math

import numpy as np

from xuewei.data.builders.common import CAP, KIND_STAGES, School, Stage, short_name, village_stem
from xuewei.data.builders.demography import largest_remainder

YEAR = 2020
STAGES = ("kindergarten", "primary", "junior", "senior", "vocational")

#: Public schools in 街道 by kind (assumption: about 2,000 primary and 1,500 junior pupils a school).
CITY_COUNTS = {"primary": 18, "nine_year": 5, "junior": 6, "complete_secondary": 3}
#: The 3 镇 of most people each get a 中心小学 and a 初级中学 (the largest a 完全中学); the others one
#: 九年一贯制 centre school. 教学点 only in 镇; 村小 make up the public count.
N_TOWN_SPLIT = 3
N_TEACHING_POINTS = 8
N_CITY_PUBLIC_KG = 22
N_PRIVATE_KG = 48
N_KG_ATTACHED = 8
N_VOCATIONAL = 4
#: Share of a 镇's children taught in its own schools; the rest attend 街道 schools ("城挤乡弱村空").
TOWN_KEEP = 0.75
#: Pupils per class drawn uniformly in these ranges [pupils/class] (assumption). Crowded 街道 rows stay
#: below 56 ("基本消除56人以上大班额") and above the class caps of 45/50 (GB 50099-2011; plan target).
CLASS_SIZE = {
    ("city", "kindergarten"): (26, 30), ("city", "primary"): (40, 45), ("city", "junior"): (44, 50),
    ("city", "senior"): (46, 50), ("crowded", "primary"): (46, 55), ("crowded", "junior"): (51, 55),
    ("crowded", "senior"): (51, 55), ("town", "kindergarten"): (22, 28), ("town", "primary"): (32, 42),
    ("town", "junior"): (38, 48), ("town", "senior"): (42, 50), ("any", "vocational"): (40, 48),
}
#: Chance that a 街道 primary / junior / senior row is crowded (大班额 against 45/50); "big" rows always are.
CROWDED_SHARE = {"primary": 0.45, "junior": 0.4, "senior": 0.5}
#: Size multiplier of the schools drawn big on purpose (above the default caps: 小学/初中 2,000,
#: 九年一贯制 2,500, 高中 3,000, 幼儿园 540 pupils; data/standards.toml school_size_cap).
BIG = {"primary": 1.9, "junior": 1.9, "nine_year": 1.9, "complete_secondary": 1.35, "kg_central": 1.7}


# --------------------------------------------------------------------------------------------------
# the plan's figures
# --------------------------------------------------------------------------------------------------

def plan_figures(plan: dict) -> dict:
    """The 2020 figures of 主要指标表 and the counts of 专栏7 used here, each with its quote.

    Returns ``{key: (value, quote)}`` for ``kg_rate, consolidation, upper_rate, public_kg_share`` [%],
    ``vocational_wan`` [万人], ``kept, closed, merged, retyped, new`` [所].
    """
    tables = {t["id"]: t for t in plan["tables"]}
    ind = {r["主要指标"]: r for r in tables["主要指标表"]["rows"]}
    col7 = {r["事项"]: r for r in tables["专栏7"]["rows"]}
    out = {}
    for key, name in (("kg_rate", "学前教育毛入园率"), ("consolidation", "义务教育巩固率"),
                      ("upper_rate", "高中阶段毛入学率"), ("public_kg_share", "公办幼儿园在园幼儿占比"),
                      ("vocational_wan", "在校生")):
        r = ind[name]
        label = "中等职业教育 在校生" if name == "在校生" else name
        out[key] = (float(r["2020年"]), f"主要指标表“{label}”2020年 {r['2020年']}{r['单位']}")
    for key, name in (("kept", "保留学校"), ("closed", "撤销公办学校（点）"), ("merged", "合并公办学校"),
                      ("retyped", "调整公办学校办学类型"), ("new", "新建公办学校（点）")):
        r = col7[name]
        out[key] = (int(r["数量"]), f"专栏7“{r['source_quote']}”")
    return out


def base_totals(fig: dict, p20) -> dict:
    """2020 pupils by stage [persons] from the plan's rates and the census single ages ``p20``."""
    p = np.asarray(p20)
    kg = round(fig["kg_rate"][0] / 100 * int(p[3:6].sum()))
    vocational = round(fig["vocational_wan"][0] * 10_000)
    upper = round(fig["upper_rate"][0] / 100 * int(p[15:18].sum()))
    return {"kindergarten": kg, "primary": int(p[6:12].sum()),
            "junior": round(fig["consolidation"][0] / 100 * int(p[12:15].sum())),
            "senior": upper - vocational, "vocational": vocational,
            "kindergarten_public": round(fig["public_kg_share"][0] / 100 * kg),
            "ages": {"3–5": int(p[3:6].sum()), "6–11": int(p[6:12].sum()), "12–14": int(p[12:15].sum()),
                     "15–17": int(p[15:18].sum())}, "upper": upper}


def public_school_count(fig: dict) -> int:
    """2020 public primary and secondary schools (incl. 教学点): 专栏7 保留 + 撤销 + 合并 + 调整类型."""
    return sum(fig[k][0] for k in ("kept", "closed", "merged", "retyped"))


# --------------------------------------------------------------------------------------------------
# the school list
# --------------------------------------------------------------------------------------------------

def _stem(node_name: str) -> str:
    """Village name for a school: 龙门村村民委员会 → 龙门; a one-character stem keeps 村/社区 (白村)."""
    stem = village_stem(node_name)
    return stem if len(stem) >= 2 else node_name.replace("村民委员会", "").replace("居民委员会", "")


def _alloc(weights: dict, n: int) -> dict:
    ids = list(weights)
    return dict(zip(ids, (int(v) for v in largest_remainder([weights[i] for i in ids], n))))


def _school(name, kind, tid, source, role, **kw) -> School:
    s = School(name=name, kind=kind, township_id=tid, named=False, township_rule="synthetic", source=source,
               role=role, **kw)
    for stage in KIND_STAGES[kind]:
        s.add(Stage(stage, 0, 0, note="合成"))
    return s


def build_schools(plan: dict, townships: list[dict], nodes: list[dict], p20, rng: np.random.Generator):
    """All schools of 2020, synthetic, sized so the stage totals of :func:`base_totals` hold exactly.

    Structure: :data:`CITY_COUNTS` public schools over the 9 街道 by urban population (largest remainder;
    every 街道 at least one 小学); per 镇 a centre school or two (:data:`N_TOWN_SPLIT`); 教学点 and 村小 on
    rural villages (drawn by population, one school a village) so the public primary and secondary
    count is :func:`public_school_count`; one central and :data:`N_CITY_PUBLIC_KG` other public
    kindergartens in 街道, a 中心幼儿园 per 镇, 附设园 at the :data:`N_KG_ATTACHED` 村小 of largest villages;
    :data:`N_PRIVATE_KG` private kindergartens by urban population; a private 九年一贯制 and a private
    小学; :data:`N_VOCATIONAL` 中职 and a special school.

    Returns
    -------
    (list[School], dict)
        Schools (positions not yet set) and facts for the README.
    """
    fig = plan_figures(plan)
    totals = base_totals(fig, p20)
    n_public = public_school_count(fig)
    tw = {t["township_id"]: t for t in townships}
    city = [t["township_id"] for t in townships if t["level"] == "街道"]
    towns = [t["township_id"] for t in townships if t["level"] != "街道"]
    urban_pop = {t["township_id"]: t["population"] - t["rural_population"] for t in townships}
    by_urban = sorted(city, key=lambda i: (-urban_pop[i], i))
    schools: list[School] = []

    def short(tid):
        return short_name(tw[tid]["name"])

    # 街道 public schools.
    label = {"primary": "小学", "nine_year": "九年一贯制学校", "junior": "初级中学", "complete_secondary": "中学"}
    city_w = {i: float(urban_pop[i]) for i in city}
    for kind, n in CITY_COUNTS.items():
        alloc = ({i: 1 + a for i, a in _alloc(city_w, n - len(city)).items()} if kind == "primary"
                 else _alloc(city_w, n))
        for tid in city:
            for j in range(alloc[tid]):
                schools.append(_school(f"{short(tid)}{label[kind]}（合成{j + 1}）", kind, tid,
                                       "合成：城区（街道）公办学校", "city"))
    # Big on purpose: the first primary of the 3 街道 of most urban people, the first junior, 九年一贯制
    # and 完全中学 of the largest.
    for kind, k in (("primary", 3), ("junior", 1), ("nine_year", 1), ("complete_secondary", 1)):
        firsts = [next((s for s in schools if s.kind == kind and s.township_id == tid), None) for tid in by_urban]
        for s in [s for s in firsts if s is not None][:k]:
            s.role = "big"

    # 镇 centre schools.
    by_pop = sorted(towns, key=lambda i: (-tw[i]["population"], i))
    for rank, tid in enumerate(by_pop):
        if rank < N_TOWN_SPLIT:
            schools.append(_school(f"{short(tid)}中心小学（合成）", "primary", tid, "合成：镇中心小学", "centre"))
            kind = "complete_secondary" if rank == 0 else "junior"
            schools.append(_school(f"{short(tid)}中学（合成）", kind, tid,
                                   "合成：镇" + ("完全中学" if rank == 0 else "初级中学"), "centre"))
        else:
            schools.append(_school(f"{short(tid)}九年一贯制学校（合成）", "nine_year", tid, "合成：镇九年一贯制中心校",
                                   "centre"))

    # 教学点 (镇 only) and 村小 on rural villages, by rural population, one school a village.
    n_village = n_public - len(schools) - N_TEACHING_POINTS
    if n_village < 0:
        raise ValueError(f"{len(schools)} public schools before the village schools; 专栏7 gives {n_public}")
    used: set[str] = set()
    for role, count, where in (("teaching_point", N_TEACHING_POINTS, towns), ("village", n_village, city + towns)):
        rural = {i: float(tw[i]["rural_population"]) for i in where if tw[i]["rural_population"] > 0}
        for tid, n in _alloc(rural, count).items():
            cands = [v for v in nodes if v["township_id"] == tid and not v["urban"] and v["node_id"] not in used]
            if len(cands) < n:
                raise ValueError(f"{tw[tid]['name']}: {n} village schools but {len(cands)} free villages")
            w = np.array([v["population"] for v in cands], dtype=float)
            pick = rng.choice(len(cands), size=n, replace=False, p=w / w.sum()) if n else []
            for i in sorted(int(p) for p in pick):
                v = cands[i]
                used.add(v["node_id"])
                if role == "village":
                    schools.append(_school(f"{_stem(v['name'])}小学（合成）", "primary", tid, "合成：村小",
                                           "village", village_node=v["node_id"]))
                else:
                    schools.append(_school(f"{_stem(v['name'])}教学点（合成）", "teaching_point", tid,
                                           "合成：村级教学点", "teaching_point", village_node=v["node_id"]))
    pop_of = {v["node_id"]: v["population"] for v in nodes}
    village_schools = sorted((s for s in schools if s.role == "village"),
                             key=lambda s: (-pop_of[s.village_node], s.village_node))
    for s in village_schools[:N_KG_ATTACHED]:
        s.add(Stage("kindergarten", 0, 0, note="合成：附设园"))

    # Kindergartens.
    centre_tid = by_urban[0]
    schools.append(_school("江阳区中心幼儿园（合成）", "kindergarten", centre_tid,
                           "合成：区优质中心幼儿园（规划正文“办好优质中心幼儿园1所及若干所分园”）", "kg_central"))
    for tid, n in _alloc(city_w, N_CITY_PUBLIC_KG).items():
        for j in range(n):
            schools.append(_school(f"{short(tid)}幼儿园（合成{j + 1}）", "kindergarten", tid, "合成：城区公办幼儿园",
                                   "city"))
    for tid in towns:
        schools.append(_school(f"{short(tid)}中心幼儿园（合成）", "kindergarten", tid, "合成：镇公办中心幼儿园",
                               "centre"))
    all_urban = {t["township_id"]: float(urban_pop[t["township_id"]]) for t in townships}
    for tid, n in _alloc(all_urban, N_PRIVATE_KG).items():
        for j in range(n):
            schools.append(_school(f"{short(tid)}民办幼儿园（合成{j + 1}）", "kindergarten", tid, "合成：民办幼儿园",
                                   "private", ownership="private"))

    # Private compulsory schools, 中职, special school (district-level: in the 街道 of most urban people).
    schools.append(_school(f"{short(by_urban[0])}民办九年一贯制学校（合成）", "nine_year", by_urban[0],
                           "合成：民办学校", "private", ownership="private"))
    schools.append(_school(f"{short(by_urban[1])}民办小学（合成）", "primary", by_urban[1], "合成：民办学校", "private",
                           ownership="private"))
    for j in range(N_VOCATIONAL):
        tid = by_urban[j % len(by_urban)]
        schools.append(_school(f"江阳区中等职业学校（合成{j + 1}）", "vocational", tid, "合成：区属中职学校", "city"))
    schools.append(_school("江阳区特殊教育学校（合成）", "special", centre_tid, "合成：特殊教育学校", "city"))

    _pupils(schools, totals, tw, rng)
    _classes(schools, rng)
    _beds(schools, tw)
    return schools, _facts(schools, totals, fig, n_public, tw)


# --------------------------------------------------------------------------------------------------
# sizes
# --------------------------------------------------------------------------------------------------

def _rows(schools, stage, pred=lambda s: True):
    return [(s, s.stages[stage]) for s in schools if stage in s.stages and pred(s)]


def _split(rows, weights, total: int, note: str) -> None:
    for (s, st), p in zip(rows, largest_remainder(weights, total)):
        st.pupils = int(p)
        st.note = note


def _town_share(tw, tid, total: int) -> float:
    pop_all = sum(t["population"] for t in tw.values())
    return total * tw[tid]["population"] / pop_all * TOWN_KEEP


def _pupils(schools, totals, tw, rng) -> None:
    """Pupils of every stage row; each stage sums exactly to its total of :func:`base_totals`.

    In order: village schools, 教学点 and 附设园 draw a small number; private kindergartens share 学前 less
    its public part, private compulsory schools take a fixed share; each 镇's centre schools take
    :data:`TOWN_KEEP` of the 镇's population share of the (public) stage total less its village schools
    (at least 150; the one 镇 高中部 8% of 普高); the public 街道 rows split what is left by weight (1;
    九年一贯制 primary 0.8, junior 0.6; × :data:`BIG` for the big ones) × lognormal noise (σ 0.2), largest
    remainder.
    """
    town = {tid for tid, t in tw.items() if t["level"] != "街道"}
    for s, st in _rows(schools, "primary", lambda s: s.role in ("village", "teaching_point")):
        st.pupils = int(rng.integers(6, 36)) if s.role == "teaching_point" else int(rng.integers(40, 261))
        st.note = "合成：村级学校，随机取人数"
    for s, st in _rows(schools, "kindergarten", lambda s: s.role == "village"):
        st.pupils = int(rng.integers(15, 46))
        st.note = "合成：村小附设园，随机取人数"
    private_share = {("primary", "nine_year"): 0.025, ("primary", "primary"): 0.02, ("junior", "nine_year"): 0.03}
    for stage in STAGES:
        public_total = totals["kindergarten_public"] if stage == "kindergarten" else totals[stage]
        private = _rows(schools, stage, lambda s: s.ownership == "private")
        if stage == "kindergarten":
            _split(private, np.exp(rng.normal(0.0, 0.35, len(private))), totals[stage] - public_total,
                   "合成：民办园在园幼儿合计 = 学前总数 − 公办园在园幼儿（见 region.toml），按噪声权重分")
        else:
            for s, st in private:
                st.pupils = round(private_share[(stage, s.kind)] * totals[stage])
                st.note = f"合成：民办学校，取本学段总数的{private_share[(stage, s.kind)]:.1%}"
            public_total -= sum(st.pupils for _, st in private)
        village = {}
        for s, st in _rows(schools, stage, lambda s: s.role in ("village", "teaching_point")):
            village[s.township_id] = village.get(s.township_id, 0) + st.pupils
        left = public_total - sum(village.values())
        centre = _rows(schools, stage, lambda s: s.role == "centre")
        for tid in sorted({s.township_id for s, _ in centre}):
            mine = [(s, st) for s, st in centre if s.township_id == tid]
            if stage == "senior":
                amount, note = 0.08 * totals["senior"], "合成：镇完全中学高中部，取全区普高的8%"
            else:
                amount = max(150.0, _town_share(tw, tid, public_total) - village.get(tid, 0))
                note = f"合成：镇学校，本镇人口份额×{TOWN_KEEP:.0%}（其余进城就读）减去村级学校"
            w = [0.6 if s.kind == "nine_year" and stage == "junior" else 1.0 for s, _ in mine]
            _split(mine, w, int(round(amount)), note)
            left -= sum(st.pupils for _, st in mine)
        rows = _rows(schools, stage, lambda s: s.ownership == "public" and s.township_id not in town
                     and s.role in ("city", "big", "kg_central"))
        if left < len(rows):
            raise ValueError(f"{stage}: {left} pupils left for {len(rows)} 街道 rows")
        w = []
        for s, _ in rows:
            base = 1.0 if stage == "vocational" else {"nine_year": 0.8 if stage == "primary" else 0.6}.get(s.kind, 1.0)
            if s.role == "big":
                base *= BIG[s.kind]
            elif s.role == "kg_central":
                base *= BIG["kg_central"]
            w.append(base * float(np.exp(rng.normal(0.0, 0.2))))
        _split(rows, w, left, f"合成：{STAGE_ZH[stage]}总数{totals[stage]:,}人（见 region.toml）减去民办、镇、村学校后，"
                              "按权重×噪声分给城区学校")
    for s, st in _rows(schools, "special"):
        st.classes, st.places = 6, 6 * CAP["special"]
        st.pupils = int(round(st.places * 0.8))
        st.note = "合成：特殊教育学校6班，学生=学位×0.8"


STAGE_ZH = {"kindergarten": "学前", "primary": "小学", "junior": "初中", "senior": "普高", "vocational": "中职"}


def _classes(schools, rng) -> None:
    """Classes = ceil(pupils / drawn class size), places = classes × class cap (教学点 30).

    Village schools: 6 classes from 120 pupils on, else ⌈pupils/20⌉ (at least 3); 教学点 ⌈pupils/12⌉
    (1–3); 附设园 ⌈pupils/25⌉. Class sizes: :data:`CLASS_SIZE` by place (街道 crowded or not, 镇).
    """
    for s in schools:
        for st in s.stages.values():
            if st.stage == "special":
                continue
            cap = CAP["teaching_point"] if s.kind == "teaching_point" else CAP[st.stage]
            if s.role == "teaching_point":
                st.classes = max(1, min(3, math.ceil(st.pupils / 12)))
            elif s.role == "village" and st.stage == "primary":
                st.classes = 6 if st.pupils >= 120 else max(3, math.ceil(st.pupils / 20))
            elif s.role == "village":
                st.classes = max(1, math.ceil(st.pupils / 25))
            else:
                if st.stage == "vocational":
                    where = "any"
                elif s.role == "centre":
                    where = "town"
                elif (s.ownership == "public" and st.stage in CROWDED_SHARE
                      and (s.role == "big" or rng.random() < CROWDED_SHARE[st.stage])):
                    where = "crowded"
                else:
                    where = "city"
                lo, hi = CLASS_SIZE[(where, st.stage)]
                size = lo + (hi - lo) * float(rng.random())
                st.classes = max(1, math.ceil(st.pupils / size))
            st.places = st.classes * cap


def _beds(schools, tw) -> None:
    """Boarding beds (synthetic), rounded to 10: in 镇, 50% of junior and 60% of senior places and 10% of a
    centre school's primary places (plan: "大力加强农村寄宿制学校建设"); in 街道, 30% of senior and 50% of
    中职 places."""
    for s in schools:
        town = tw[s.township_id]["level"] != "街道"
        beds = 0.0
        for st in s.stages.values():
            if town and st.stage == "junior":
                beds += 0.5 * st.places
            elif st.stage == "senior":
                beds += (0.6 if town else 0.3) * st.places
            elif st.stage == "vocational":
                beds += 0.5 * st.places
            elif town and st.stage == "primary" and s.role == "centre":
                beds += 0.1 * st.places
        s.boarding_beds = int(round(beds / 10.0)) * 10


#: Default size caps of data/standards.toml (school_size_cap) [pupils], to report which schools exceed them.
SIZE_CAP = {"kindergarten": 540, "primary": 2000, "junior": 2000, "nine_year": 2500, "senior": 3000}


def over_cap(s: School) -> bool:
    """Whether a school's 2020 pupils exceed a default size cap (九年一贯制: both stages together)."""
    if s.kind == "nine_year":
        return sum(st.pupils for st in s.stages.values()) > SIZE_CAP["nine_year"]
    return any(st.pupils > SIZE_CAP[st.stage] for st in s.stages.values() if st.stage in SIZE_CAP)


def _facts(schools, totals, fig, n_public, tw) -> dict:
    rows = [(s, st) for s in schools for st in s.stages.values()]
    by_kind: dict[str, int] = {}
    for s in schools:
        by_kind[s.kind] = by_kind.get(s.kind, 0) + 1
    compulsory = ("primary", "junior", "nine_year", "complete_secondary", "teaching_point", "senior")
    crowded = [(s, st) for s, st in rows if st.pupils > st.places]
    return {
        "schools": len(schools),
        "by_kind": dict(sorted(by_kind.items())),
        "public_compulsory": sum(1 for s in schools if s.ownership == "public" and s.kind in compulsory),
        "n_public": n_public,
        "totals": totals,
        "figures": fig,
        "pupils": {st: sum(x.pupils for s, x in rows if x.stage == st) for st in STAGES},
        "places": {st: sum(x.places for s, x in rows if x.stage == st) for st in STAGES},
        "public_kg": sum(x.pupils for s, x in rows if x.stage == "kindergarten" and s.ownership == "public"),
        "crowded_rows": len(crowded),
        "crowded_town": sum(1 for s, _ in crowded if tw[s.township_id]["level"] != "街道"),
        "stage_rows": len(rows),
        "max_class_size": max(st.pupils / st.classes for _, st in rows if st.classes),
        "over_cap": [s.name for s in schools if over_cap(s)],
        "largest": {st: max((x.pupils for s, x in rows if x.stage == st), default=0) for st in STAGES},
        "teaching_points": by_kind.get("teaching_point", 0),
    }
