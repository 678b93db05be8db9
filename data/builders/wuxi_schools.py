"""Schools of the 巫溪 demo pack (build time only, not used at runtime).

Real: the per-school rows of the plan's 表3–表6 (``data/plans/wuxi.toml``) with their 2020 classes and
places (职教中心: classes and pupils), and the 2020 county totals of 表1 and of the text
(202 schools; 在园幼儿 12,353, 小学 33,301, 初中 17,198, 普高 10,348, 中职 3,093).

Synthetic, flagged row by row: the township of a school whose name names none, every position, the
stages the tables do not give, the unnamed schools and 教学点 that make up the 202, and all pupils
except 职教中心's. The rules are in :func:`build_schools` and the pack's README.
"""

from __future__ import annotations

import re

import numpy as np

from xuewei.data.builders.common import CAP, KIND_STAGES, School, Stage, short_name, village_stem
from xuewei.data.builders.demography import largest_remainder

YEAR = 2020
#: 2020 county totals, 表1 (万人 ×10,000) and the text's "全县有各级各类学校202所".
TOTAL_SCHOOLS = 202
TOTAL_PUPILS = {"kindergarten": 12353, "primary": 33301, "junior": 17198, "senior": 10348,
                "vocational": 3093}
#: Target ratio pupils / places per stage for the synthetic capacity (assumption).
TARGET_USE = {"kindergarten": 0.88, "primary": 0.88, "junior": 0.92}
#: Share of 城区 (宁河街道, 柏杨街道, 城厢镇) in the primary + junior places: "城区中小学承载全县近40%的
#: 办学容量" (plan text); the synthetic 城区 schools are sized to reach it.
URBAN_CORE_SHARE = 0.38
URBAN_CORE = ("宁河街道", "柏杨街道", "城厢镇")
N_PRIVATE_KG = 34
KG_SUFFIX = re.compile(r"^(?P<parent>.+小学)(附设园|附设幼儿园|幼儿园)$")
PART_SUFFIX = re.compile(r"（(初中部|高中部)）$")

#: Named schools whose township no name gives, with the plan text that places them in 城区 where it
#: exists. They go to 宁河街道 (the county seat's larger 街道), flagged as a guess.
CITY_EVIDENCE = {
    "思源实验学校": "调整城区初中布局，新增思源实验学校24个班初中规模",
    "珠海实验小学": "改扩建宁河初中、城厢中学、镇泉小学，收回珠海实验小学校舍资源",
    "镇泉小学": "改扩建宁河初中、城厢中学、镇泉小学",
}
#: Schools named in the plan text (not in 表3–表6) that existed in 2020, with the quote.
TEXT_SCHOOLS = {
    "城厢中学": ("junior", "改扩建宁河初中、城厢中学、镇泉小学"),
    "古路小学": ("primary", "新建文峰第二小学、改扩建古路小学、塘坊小学等中心乡镇小学"),
    "天元幼儿园": ("kindergarten", "建成白马、天元等5个幼儿园"),
    "特殊教育学校": ("special", "完成特殊教育学校迁建扩容，新建规模达到18个班"),
}


def _int(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def plan_rows(plan: dict) -> dict:
    """The tables 表3…表6 of the plan TOML, keyed by id."""
    return {t["id"]: t for t in plan["tables"] if t["id"] in ("表3", "表4", "表5", "表6")}


def _col(columns, *needles):
    for c in columns:
        if all(n in c for n in needles):
            return c
    raise KeyError(f"no column with {needles} in {columns}")


def read_plan_schools(plan: dict):
    """Split the plan's rows into 2020 stages of existing schools and planned new schools.

    Returns
    -------
    existing : dict[str, dict]
        School name → {"kind", "stages": {stage: Stage}, "plan_rows": [...], "quotes": [...]}.
    planned : list[dict]
        New schools (0 or blank 2020 classes, no existing parent): name, stages, classes after the
        plan, the table and its row.
    """
    tables = plan_rows(plan)
    existing: dict[str, dict] = {}
    planned: list[dict] = []

    def entry(name, kind):
        e = existing.setdefault(name, {"kind": kind, "stages": {}, "plan_rows": [], "quotes": []})
        return e

    # 表3: kindergartens and 附设园 (first row of a school = its 2020 state).
    t = tables["表3"]
    c_cls, c_pl = _col(t["columns"], "现有", "班级"), _col(t["columns"], "现有", "容量")
    a_cls = _col(t["columns"], "调整后", "班级")
    seen = set()
    for r in t["rows"]:
        name = r["学校"]
        if name in seen:
            continue
        seen.add(name)
        cls, pl = _int(r[c_cls]), _int(r[c_pl])
        m = KG_SUFFIX.match(name)
        if m:  # a kindergarten attached to a primary school
            e = entry(m.group("parent"), "primary")
            e["plan_rows"].append(f"表3:{name}")
            if cls:
                e["stages"]["kindergarten"] = Stage("kindergarten", cls, pl, real_fields=["classes", "places"],
                                                    note=f"表3 {name} 现有规模")
        elif cls:
            e = entry(name, "kindergarten")
            e["plan_rows"].append(f"表3:{name}")
            e["stages"]["kindergarten"] = Stage("kindergarten", cls, pl, real_fields=["classes", "places"],
                                                note=f"表3 {name} 现有规模")
        else:
            planned.append({"name": name, "stages": ["kindergarten"], "max_classes": r[a_cls],
                            "row": f"表3:{name}", "year": r["调整年份"]})
    # 表4: compulsory schools.
    t = tables["表4"]
    c_cls, c_pl = _col(t["columns"], "现有", "班级"), _col(t["columns"], "现有", "容量")
    a_cls = _col(t["columns"], "调整后", "班级")
    for r in t["rows"]:
        raw = r["学校"]
        cls, pl = _int(r[c_cls]), _int(r[c_pl])
        base = PART_SUFFIX.sub("", raw)
        if "初中部" in raw or "初中" in base or base.endswith("中学"):
            stage, kind = "junior", "junior"
        elif base.endswith("学校"):
            stage, kind = "primary", "nine_year"
        else:
            stage, kind = "primary", "primary"
        if not cls:
            planned.append({"name": raw, "stages": [stage] if kind != "nine_year" else ["primary", "junior"],
                            "max_classes": r[a_cls], "row": f"表4:{raw}", "year": r["调整年份"]})
            continue
        e = entry(base, kind)
        e["plan_rows"].append(f"表4:{raw}")
        if kind == "nine_year":
            # One school total in the table; split 2:1 primary:junior (synthetic split, real total).
            pc = round(cls * 2 / 3)
            pp = round(pl * pc / cls)
            note = f"表4 {raw} 现有规模 {cls}班{pl}人 为全校合计（实）；学段拆分 2:1 为合成"
            e["stages"]["primary"] = Stage("primary", pc, pp, note=note)
            e["stages"]["junior"] = Stage("junior", cls - pc, pl - pp, note=note)
            e["school_total"] = (cls, pl)
        else:
            e["stages"][stage] = Stage(stage, cls, pl, real_fields=["classes", "places"], note=f"表4 {raw} 现有规模")
    # 表5: senior high schools (part of complete secondary schools).
    t = tables["表5"]
    c_cls = _col(t["columns"], "现有", "班级")
    c_pl = _col(t["columns"], "现有", "容量")
    a_cls = [c for c in t["columns"] if "2025" in c and "教学班" in c][0]
    for r in t["rows"]:
        raw = r["学校名称"]
        if raw == "合计":
            continue
        base = PART_SUFFIX.sub("", raw)
        cls, pl = _int(r[c_cls]), _int(r[c_pl])
        if not cls:
            planned.append({"name": raw, "stages": ["senior"], "max_classes": r[a_cls], "row": f"表5:{raw}",
                            "year": 2025})
            continue
        e = entry(base, "complete_secondary")
        e["kind"] = "complete_secondary"
        e["plan_rows"].append(f"表5:{raw}")
        e["stages"]["senior"] = Stage("senior", cls, pl, real_fields=["classes", "places"], note=f"表5 {raw} 现有规模(2020)")
    # 表6: the vocational school; its 2020 column is pupils, not places.
    t = tables["表6"]
    c_cls = _col(t["columns"], "现有", "教学班")
    c_pu = _col(t["columns"], "现有", "学生")
    for r in t["rows"]:
        if r["学校名称"] == "合计":
            continue
        e = entry(r["学校名称"], "vocational")
        e["plan_rows"].append(f"表6:{r['学校名称']}")
        cls = r[c_cls]
        e["stages"]["vocational"] = Stage("vocational", cls, cls * CAP["vocational"], pupils=r[c_pu],
                                          real_fields=["classes", "pupils"],
                                          note=f"表6 {r['学校名称']} 现有规模(2020)；学位=班数×50 为合成")
    # Merge the two parts of 凤凰中学 etc. into one planned site.
    merged: dict[str, dict] = {}
    for p in planned:
        base = PART_SUFFIX.sub("", p["name"])
        if base in merged:
            merged[base]["stages"] += [s for s in p["stages"] if s not in merged[base]["stages"]]
            merged[base]["max_classes"] += p["max_classes"]
            merged[base]["row"] += ";" + p["row"]
        else:
            merged[base] = dict(p, name=base)
    return existing, list(merged.values())


# --------------------------------------------------------------------------------------------------
# Township of a named school
# --------------------------------------------------------------------------------------------------

def locate_named(name: str, townships: list[dict], nodes: list[dict], fallback_rank: list[str]):
    """Township of a named school, the village node it names (or ""), and the rule used.

    Rules in order: (1) the name contains a township's short name (宁河初中 → 宁河街道);
    (2) it contains exactly one village's or community's stem (龙门小学 → 龙门村, 上磺镇; several → the
    lowest code, still rule name_village); (3) the plan text puts it in 城区 (:data:`CITY_EVIDENCE`) or it
    is a county-level school (巫溪中学, 县幼儿园, 职教中心, 特殊教育学校) → 宁河街道 (guess);
    (4) otherwise the next township of ``fallback_rank`` (guess).
    """
    for t in sorted(townships, key=lambda t: -len(short_name(t["name"]))):
        if short_name(t["name"]) in name:
            return t["township_id"], "", "name_township"
    if name not in CITY_EVIDENCE:
        hits = [n for n in nodes if len(village_stem(n["name"])) >= 2 and village_stem(n["name"]) in name]
        if hits:
            hit = min(hits, key=lambda n: n["node_id"])
            return hit["township_id"], hit["node_id"], "name_village"
    seat = next(t for t in townships if t["name"] == "宁河街道")
    if name in CITY_EVIDENCE or name.startswith(("巫溪", "县", "职教", "特殊")):
        return seat["township_id"], "", "text_city" if name in CITY_EVIDENCE else "guess"
    return fallback_rank.pop(0), "", "guess"


# --------------------------------------------------------------------------------------------------
# The whole school list
# --------------------------------------------------------------------------------------------------

def build_schools(plan: dict, townships: list[dict], nodes: list[dict], rng: np.random.Generator):
    """Named schools from the plan plus synthetic ones, sized so the 2020 totals of 表1 hold.

    Parameters
    ----------
    plan : dict
        Parsed ``data/plans/wuxi.toml``.
    townships : list of dict
        ``township_id, name, level, tier, population, rural_population``.
    nodes : list of dict
        ``node_id, name, township_id, kind, urban, population``.
    rng : numpy.random.Generator
        The generator's seeded stream.

    Returns
    -------
    (list[School], list[dict], dict)
        Schools (positions not yet set), the plan's new schools (for candidate sites), and facts for
        the README (counts by kind, crowded rows, 城区 share).
    """
    tw = {t["township_id"]: t for t in townships}
    by_name = {t["name"]: t for t in townships}
    core_ids = {by_name[n]["township_id"] for n in URBAN_CORE}
    existing, planned = read_plan_schools(plan)
    for name, (stage, quote) in TEXT_SCHOOLS.items():
        kind = stage
        e = existing.setdefault(name, {"kind": kind, "stages": {}, "plan_rows": [], "quotes": []})
        e["quotes"].append(quote)

    # Fallback township for unlocatable village-school names: rural townships ranked by number of
    # villages, those without a named school first.
    named_tids = set()
    for name in existing:
        for t in sorted(townships, key=lambda t: -len(short_name(t["name"]))):
            if short_name(t["name"]) in name:
                named_tids.add(t["township_id"])
    n_villages = {t["township_id"]: sum(1 for n in nodes if n["township_id"] == t["township_id"]) for t in townships}
    fallback = sorted((t["township_id"] for t in townships if t["tier"] == "township_seat"),
                      key=lambda i: (i in named_tids, -n_villages[i], i))

    schools: list[School] = []
    for name in sorted(existing, key=lambda n: (existing[n]["plan_rows"][:1] or ["表9"], n)):
        e = existing[name]
        tid, node, rule = locate_named(name, townships, nodes, fallback)
        src = []
        if e["plan_rows"]:
            src.append("规划 " + "、".join(e["plan_rows"]))
        src += [f"正文“{q}”" for q in e["quotes"]]
        s = School(name=name, kind=e["kind"], township_id=tid, named=True, township_rule=rule,
                   source="；".join(src), plan_rows=list(e["plan_rows"]), village_node=node,
                   role="core" if tid in core_ids else "named")
        for st in e["stages"].values():
            s.add(st)
        if "school_total" in e:
            s.school_total = e["school_total"]
        schools.append(s)

    # Stages every kind must offer; the missing ones are synthetic and sized below.
    for s in schools:
        for stage in KIND_STAGES[s.kind]:
            if stage not in s.stages:
                s.add(Stage(stage, 0, 0, note="合成"))

    # Structural synthetic schools: a centre school in every township without a primary stage, a
    # junior school in every 镇/街道 without one (the larger half of the 乡 get a 九年一贯制 instead).
    pop = {t["township_id"]: t["population"] for t in townships}
    xiang = sorted((t["township_id"] for t in townships if t["level"] == "乡"), key=lambda i: -pop[i])
    big_xiang = set(xiang[: (len(xiang) + 1) // 2])
    for t in townships:
        tid = t["township_id"]
        short = short_name(t["name"])
        prim = any(s.township_id == tid and "primary" in s.stages for s in schools)
        jun = any(s.township_id == tid and "junior" in s.stages for s in schools)
        if not prim:
            if t["level"] == "乡" and tid in big_xiang and not jun:
                sc = School(f"{short}九年一贯制学校（合成）", "nine_year", tid, False, "synthetic", "合成：乡中心校",
                            role="centre")
                jun = True
            else:
                sc = School(f"{short}中心小学（合成）", "primary", tid, False, "synthetic", "合成：乡镇中心小学",
                            role="centre")
            for stage in KIND_STAGES[sc.kind]:
                sc.add(Stage(stage, 0, 0, note="合成"))
            schools.append(sc)
        if not jun and (t["level"] != "乡" or tid in big_xiang):
            sc = School(f"{short}中学（合成）", "junior", tid, False, "synthetic", "合成：乡镇初级中学", role="centre")
            sc.add(Stage("junior", 0, 0, note="合成"))
            schools.append(sc)
    # Kindergarten: every township offers it — as a 附设园 of its synthetic centre school, else as a
    # synthetic public kindergarten.
    for t in townships:
        tid = t["township_id"]
        if any(s.township_id == tid and "kindergarten" in s.stages for s in schools):
            continue
        centre = [s for s in schools if s.township_id == tid and not s.named and s.role == "centre"
                  and "primary" in s.stages]
        if centre:
            centre[0].add(Stage("kindergarten", 0, 0, note="合成：附设园"))
        else:
            sc = School(f"{short_name(t['name'])}中心幼儿园（合成）", "kindergarten", tid, False, "synthetic",
                        "合成：乡镇中心幼儿园", role="centre")
            sc.add(Stage("kindergarten", 0, 0, note="合成"))
            schools.append(sc)

    # 城区 capacity: synthetic primary and junior schools until 城区 holds URBAN_CORE_SHARE of the
    # primary + junior + senior places.
    t_places = {st: TOTAL_PUPILS[st] / TARGET_USE[st] for st in TARGET_USE}
    senior_places = sum(s.stages["senior"].places for s in schools if "senior" in s.stages)
    core_target = URBAN_CORE_SHARE * (t_places["primary"] + t_places["junior"] + senior_places)
    core_known = sum(st.places for s in schools if s.township_id in core_ids
                     for st in s.stages.values() if st.stage in ("primary", "junior", "senior"))
    gap = max(0.0, core_target - core_known)
    share_p = t_places["primary"] / (t_places["primary"] + t_places["junior"])
    core_gap = {"primary": gap * share_p, "junior": gap * (1 - share_p)}
    core_flex = {st: [s for s in schools if s.township_id in core_ids and st in s.stages
                      and not s.stages[st].real_fields and s.kind != "nine_year"] for st in ("primary", "junior")}
    core_seq = sorted(core_ids)
    size = {"primary": 36 * CAP["primary"], "junior": 30 * CAP["junior"]}
    k = 0
    for st in ("primary", "junior"):
        need = int(np.ceil(core_gap[st] / size[st])) - len(core_flex[st])
        for j in range(max(0, need)):
            tid = core_seq[k % len(core_seq)]
            k += 1
            label = "小学" if st == "primary" else "初级中学"
            sc = School(f"{short_name(tw[tid]['name'])}{label}（合成{j + 1}）", st, tid, False, "synthetic",
                        "合成：城区学校，按规划“城区中小学承载全县近40%的办学容量”补足", role="core")
            sc.add(Stage(st, 0, 0, note="合成"))
            schools.append(sc)
            core_flex[st].append(sc)
    for s in schools:
        if s.township_id in core_ids and not s.named:
            s.role = "core"

    # Special school and private kindergartens.
    n_fixed_private = N_PRIVATE_KG
    urban_pop = {t["township_id"]: t["population"] - t["rural_population"] for t in townships}
    tids = [t["township_id"] for t in townships]
    alloc = largest_remainder([urban_pop[i] for i in tids], n_fixed_private)
    for tid, n in zip(tids, alloc):
        for j in range(n):
            sc = School(f"{short_name(tw[tid]['name'])}民办幼儿园（合成{j + 1}）", "kindergarten", tid, False,
                        "synthetic", "合成：民办幼儿园", ownership="private", role="private_kg")
            sc.add(Stage("kindergarten", 0, 0, note="合成"))
            schools.append(sc)

    # Village schools and 教学点 fill the count to 202, by rural population, one per village.
    rest = TOTAL_SCHOOLS - len(schools)
    if rest < 0:
        raise ValueError(f"already {len(schools)} schools before the village schools")
    rural_ids = [t["township_id"] for t in townships if t["township_id"] not in core_ids]
    n_tp = int(round(rest * 0.55))
    n_vp = rest - n_tp
    used_nodes = {s.village_node for s in schools if s.village_node}
    for role, count in (("village", n_vp), ("teaching_point", n_tp)):
        alloc = largest_remainder([tw[i]["rural_population"] for i in rural_ids], count)
        for tid, n in zip(rural_ids, alloc):
            cands = [v for v in nodes if v["township_id"] == tid and not v["urban"] and v["node_id"] not in used_nodes]
            if len(cands) < n:
                cands = [v for v in nodes if v["township_id"] == tid and v["node_id"] not in used_nodes]
            w = np.array([v["population"] for v in cands], dtype=float)
            pick = rng.choice(len(cands), size=n, replace=False, p=w / w.sum()) if n else []
            for i in sorted(int(p) for p in pick):
                v = cands[i]
                used_nodes.add(v["node_id"])
                stem = village_stem(v["name"])
                if role == "village":
                    sc = School(f"{stem}小学（合成）", "primary", tid, False, "synthetic", "合成：村小",
                                role="village", village_node=v["node_id"])
                else:
                    sc = School(f"{stem}教学点（合成）", "teaching_point", tid, False, "synthetic",
                                "合成：村级教学点", role="teaching_point", village_node=v["node_id"])
                sc.add(Stage("primary", 0, 0, note="合成"))
                schools.append(sc)

    _size(schools, tw, core_ids, core_gap, rng)
    _pupils(schools, tw, core_ids, rng)
    _beds(schools, core_ids)
    facts = _facts(schools, core_ids)
    return schools, planned, facts


def _cap(s: School, stage: str) -> int:
    return CAP["teaching_point"] if s.kind == "teaching_point" else CAP[stage]


def _size(schools, tw, core_ids, core_gap, rng):
    """Classes and places of every synthetic stage row.

    Fixed sizes: 教学点 1–3 classes, 村小 3–6 classes, special school 6 classes. Flexible rows share
    what each stage still needs to reach places = pupils / TARGET_USE; 城区 rows share ``core_gap``,
    the others the rest, in proportion to the township's population (× 2.5 for private kindergartens
    in 城区), with seeded noise; classes are whole, at least 2 (kindergarten) / 6 (primary) / 3 (junior).
    """
    for s in schools:
        for st in s.stages.values():
            if st.real_fields or st.classes:
                continue
            if s.role == "teaching_point":
                st.classes = int(rng.integers(1, 4))
            elif s.role == "village":
                st.classes = int(rng.integers(3, 7))
            elif st.stage == "special":
                st.classes = 6
            else:
                continue
            st.places = st.classes * _cap(s, st.stage)
            st.note = st.note or "合成"
    for stage in ("kindergarten", "primary", "junior"):
        target = TOTAL_PUPILS[stage] / TARGET_USE[stage]
        rows = [(s, s.stages[stage]) for s in schools if stage in s.stages]
        fixed = sum(st.places for s, st in rows if st.places)
        flex = [(s, st) for s, st in rows if not st.places]
        core = [(s, st) for s, st in flex if s.township_id in core_ids] if stage != "kindergarten" else []
        rural = [r for r in flex if r not in core]
        core_amount = core_gap.get(stage, 0.0) if core else 0.0
        groups = [(core, core_amount), (rural, max(0.0, target - fixed - core_amount))]
        for group, amount in groups:
            if not group:
                continue
            w = []
            for s, st in group:
                base = tw[s.township_id]["population"] ** 0.5
                if s.role == "private_kg":
                    base *= 2.5 if s.township_id in core_ids else 1.0
                w.append(base * float(np.exp(rng.normal(0.0, 0.2))))
            w = np.array(w) / sum(w) * amount
            lo = {"kindergarten": 2, "primary": 6, "junior": 3}[stage]
            for (s, st), a in zip(group, w):
                st.classes = max(lo, int(round(a / _cap(s, stage))))
                st.places = st.classes * _cap(s, stage)
                st.note = st.note or "合成"


#: Pupils per place before scaling to the county total (assumption, after the plan's "农村‘空’、
#: 城镇‘挤’" and "城区...大班额问题突出").
USE_BY_ROLE = {"core": 1.10, "named": 0.88, "centre": 0.88, "private_kg": 0.85, "village": 0.55,
               "teaching_point": 0.45}


def _pupils(schools, tw, core_ids, rng):
    """Pupils per stage row, summing exactly to the 表1 total of the stage.

    Each row's weight is places × use factor (:data:`USE_BY_ROLE`) × lognormal noise (σ 0.06). Rows
    outside 城区 are capped at their places; 城区 rows are not (the plan: "城区中小学……学位不足，大班额
    问题突出"). A common factor k is found by bisection so that Σ min(cap, k·w) = total; the values are
    then floored and the remainder handed out by largest fraction among rows below their cap.
    """
    for stage, total in TOTAL_PUPILS.items():
        rows = [(s, s.stages[stage]) for s in schools if stage in s.stages]
        real = [st for s, st in rows if "pupils" in st.real_fields]
        if real:
            if sum(st.pupils for st in real) != total or len(real) != len(rows):
                raise ValueError(f"{stage}: real pupils do not make the total")
            continue
        w, cap = [], []
        for s, st in rows:
            use = USE_BY_ROLE["core"] if s.township_id in core_ids else USE_BY_ROLE.get(s.role, 0.9)
            if tw[s.township_id]["tier"] == "central_town" and s.role in ("named", "centre"):
                use = 0.97
            w.append(st.places * use * float(np.exp(rng.normal(0.0, 0.06))))
            cap.append(np.inf if s.township_id in core_ids else float(st.places))
        w, cap = np.array(w), np.array(cap)
        if np.isinf(cap).sum() == 0 and cap.sum() < total:
            raise ValueError(f"{stage}: places {cap.sum()} < pupils {total} and no uncapped row")

        def filled(k):
            return np.minimum(cap, k * w)

        lo, hi = 0.0, 1.0
        while filled(hi).sum() < total:
            hi *= 2.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if filled(mid).sum() < total:
                lo = mid
            else:
                hi = mid
        vals = filled(hi)
        base = np.floor(vals).astype(int)
        short = int(total - base.sum())
        room = base + 1 <= cap
        order = [i for i in np.lexsort((np.arange(len(vals)), -(vals - base))) if room[i]]
        if short < 0 or short > len(order):
            raise ValueError(f"{stage}: cannot round pupils to {total}")
        for i in order[:short]:
            base[i] += 1
        for (s, st), p in zip(rows, base):
            st.pupils = int(p)
    for s in schools:
        if "special" in s.stages:
            st = s.stages["special"]
            st.pupils = int(round(st.places * 0.8))


def _beds(schools, core_ids):
    """Boarding beds (synthetic): outside 城区, 60% of junior and 70% of senior/vocational places and 20%
    of the primary places of centre and named schools; in 城区, 40% of senior/vocational places;
    rounded to 10."""
    for s in schools:
        beds = 0.0
        rural = s.township_id not in core_ids
        for st in s.stages.values():
            if st.stage == "junior" and rural:
                beds += 0.6 * st.places
            elif st.stage in ("senior", "vocational"):
                beds += (0.7 if rural else 0.4) * st.places
            elif st.stage == "primary" and rural and s.role in ("centre", "named"):
                beds += 0.2 * st.places
        s.boarding_beds = int(round(beds / 10.0)) * 10


def _facts(schools, core_ids):
    rows = [(s, st) for s in schools for st in s.stages.values()]
    by_kind: dict[str, int] = {}
    for s in schools:
        by_kind[s.kind] = by_kind.get(s.kind, 0) + 1
    core = sum(st.places for s, st in rows if s.township_id in core_ids and st.stage in ("primary", "junior", "senior"))
    allp = sum(st.places for s, st in rows if st.stage in ("primary", "junior", "senior"))
    return {
        "schools": len(schools),
        "by_kind": dict(sorted(by_kind.items())),
        "named": sum(1 for s in schools if s.named),
        "named_table": sum(1 for s in schools if s.named and s.plan_rows),
        "named_text": sum(1 for s in schools if s.named and not s.plan_rows),
        "crowded_rows": sum(1 for s, st in rows if st.pupils > st.places),
        "stage_rows": len(rows),
        "core_share": round(core / allp, 3),
        "pupils": {st: sum(x.pupils for s, x in rows if x.stage == st) for st in TOTAL_PUPILS},
        "places": {st: sum(x.places for s, x in rows if x.stage == st) for st in TOTAL_PUPILS},
    }
