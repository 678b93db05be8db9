"""What happens to each school in each period: 保留/改扩建/缩减/新建/合并/撤销/转变, derived from the layout.

The model decides classes per school × stage × period; the action is read off the change from the
previous period (the base year for the first):

- 新建 build: a candidate site opens;
- 撤销 close / 合并 merge: every stage of the school closes; it is a merge when at least
  ``MERGE_SHARE`` of its former pupils go to one school (named in ``merged_into``);
- 转变 convert: the kind of school changes because its stages change — 小学→幼儿园, 初中→九年一贯制
  (加办小学), 初中→完全中学 (加办普通高中); the reason names the stages added and dropped. A primary
  school that opens or drops kindergarten classes (附设园) stays a primary school, and a school whose
  stages stay the same never converts (a village primary school shrinking to 教学点 size is 缩减);
- 改扩建 expand: more classes than before;
- 缩减 shrink: fewer classes than before (the reason says why: the size rules of an over-size school,
  fewer pupils where it draws from, pupils moved to other schools — named —, stages dropped);
- 保留 keep: the same number of classes.

Every row carries ``reason`` (codes) and ``reason_zh`` (one Chinese sentence from the row's own
numbers), the school's kind after the period (``kind_after``, ``kind_after_zh``), its pupils before and after,
and where pupils who left went (``pupils_to``: ``school_id:pupils;…``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xuewei.labels import ACTION_ZH, KIND_ZH, STAGE_ZH
from xuewei.optimizer.oversize import limits_table
from xuewei.optimizer.policy import PolicyConfig

MERGE_SHARE = 0.6
CUT_NOTE_SHARE = 0.3  #: a school kept this period but this share or more below its base-year classes says so
TEACHING_POINT_CLASSES = 4

ACTION_COLUMNS = ["school_id", "name", "kind", "township_id", "period", "action", "action_zh", "classes_before",
                  "classes_after", "places_before", "places_after", "merged_into", "boarding_beds_after",
                  "cost_wan_yuan", "stages_before", "stages_after", "kind_after", "kind_after_zh", "pupils_before",
                  "pupils_after", "reason", "reason_zh", "pupils_to"]
MOVED_NAMES = 3  #: destinations of moved pupils named in ``reason_zh`` (the rest as “等”)


def kind_of(stages: set, primary_classes: int, village: bool = True) -> str:
    """The kind of school a set of stages makes (the 办学类型 a convert action changes).

    A primary school of at most `TEACHING_POINT_CLASSES` classes away from a township seat is a 教学点.
    """
    if {"primary", "junior", "senior"} <= set(stages):
        return "twelve_year"
    if "primary" in stages and "junior" in stages:
        return "nine_year"
    if "junior" in stages and "senior" in stages:
        return "complete_secondary"
    if "primary" in stages:
        return "teaching_point" if village and primary_classes <= TEACHING_POINT_CLASSES else "primary"
    for kind in ("junior", "senior", "kindergarten"):
        if kind in stages:
            return kind
    return ";".join(sorted(stages))


def capital_cost(sites: pd.DataFrame, policy: PolicyConfig, base_year: int, stage_data=None) -> pd.DataFrame:
    """Capital per site × stage × period [万元]: classes beyond the most ever built (``classes_built``
    where the layout gives it), new schools, beds —
    counted as the layout model counts it (`xuewei.optimizer.layout.add_stage`), so that the sum over a
    period equals what the model spent under ``budget_wan_yuan``.

    With ``stage_data`` (the model's `StageData`), each site's fixed cost of opening
    (``build_fixed``: a village kindergarten's is not a full school's) and its beds today come from
    the model; without it, every candidate site costs ``build_fixed_wan_yuan`` and beds are counted
    from the first period's."""
    s = sites.sort_values(["site_id", "stage", "period"]).copy()
    grp = s.groupby(["site_id", "stage"], sort=False)
    built = np.maximum(s["classes"], s["classes_before"])
    if "classes_built" in s:  # the model may build a class a period before it is used (under a budget)
        built = np.maximum(built, s["classes_built"])
    s["high_water"] = built.groupby([s["site_id"], s["stage"]]).cummax()
    prev_hw = grp["high_water"].shift(1).fillna(s["classes_before"])
    prev_beds = grp["boarding_beds"].shift(1)
    fixed = pd.Series(policy.build_fixed_wan_yuan, index=s.index, dtype=float)
    first_beds = grp["boarding_beds"].transform("first")
    if stage_data is not None:
        model = pd.concat([sd.sites.reindex(columns=["site_id", "build_fixed", "beds0"]).assign(stage=sd.stage)
                           for sd in stage_data], ignore_index=True)
        model = model.drop_duplicates(["site_id", "stage"]).set_index(["site_id", "stage"])
        key = pd.MultiIndex.from_frame(s[["site_id", "stage"]])
        fixed = pd.Series(model["build_fixed"].reindex(key).to_numpy(float), index=s.index).fillna(fixed)
        first_beds = pd.Series(model["beds0"].reindex(key).to_numpy(float), index=s.index).fillna(first_beds)
    unit = np.where(s["origin"] == "candidate", s["stage"].map(policy.build_per_class_wan_yuan),
                    s["stage"].map(policy.expand_per_class_wan_yuan)).astype(float)
    opened = (s["origin"] == "candidate") & s["open"] & ~grp["open"].shift(1, fill_value=False).astype(bool)
    beds_added = (s["boarding_beds"] - prev_beds.fillna(first_beds)).clip(lower=0)
    s["cost_wan_yuan"] = (unit * (s["high_water"] - prev_hw).clip(lower=0) + opened * fixed
                          + beds_added * policy.bed_wan_yuan)
    return s


def _baseline_catchment(stage_data) -> pd.DataFrame:
    """Each village's school today (the catchment before any change): the calibrated base-year
    school of each catchment unit where the model has them, else the nearest school hosting the stage."""
    rows = []
    for sd in stage_data:
        if sd.base_site is not None:
            has = sd.base_site >= 0
            rows.append(pd.DataFrame({"node_id": sd.node_ids[has], "stage": sd.stage,
                                      "school_id": sd.sites["site_id"].to_numpy()[sd.base_site[has]],
                                      "pupils": sd.demand[has, 0], "part": sd.part, "unit": np.flatnonzero(has)}))
            continue
        existing = (sd.sites["origin"].to_numpy() == "existing") & (sd.sites["c0"].to_numpy() > 0)
        ok = existing[sd.pair_site]
        pn, ps, km = sd.pair_node[ok], sd.pair_site[ok], sd.pair_km[ok]
        order = np.lexsort((km, pn))
        first = np.unique(pn[order], return_index=True)[1]
        pick = order[first]
        rows.append(pd.DataFrame({"node_id": sd.node_ids[pn[pick]], "stage": sd.stage,
                                  "school_id": sd.sites["site_id"].to_numpy()[ps[pick]],
                                  "pupils": sd.demand[pn[pick], 0]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["node_id", "stage", "school_id", "pupils"])


def _stages_zh(stages) -> str:
    return "、".join(STAGE_ZH.get(g, g) for g in sorted(stages, key=list(STAGE_ZH).index) if g)


def _kind_zh(kind: str) -> str:
    return KIND_ZH.get(kind, "村级幼儿园" if kind == "village_kindergarten" else kind)


def _n(v: float) -> str:
    return f"{v:,.0f}"


def _flows(stage_data, assignments: pd.DataFrame, periods: list) -> dict:
    """Where each school's former catchment (its villages the period before; the first period: the
    villages nearest to it) is now [pupils]: ``flow`` (pupils now at ``to_school`` from ``from_school``'s
    catchment, with their ``share`` of it), ``moved_in`` (per school, pupils from other catchments),
    ``before`` (the catchment's pupils the period before; the first period: in this period),
    ``now`` (its pupils in this period) and ``unserved`` (of those, pupils no school takes).
    A village split between schools counts for each in proportion."""
    before = _baseline_catchment(stage_data).assign(period=periods[0])
    # Catchment units (several per village: calibrated base-year flows, big villages split) are
    # followed one by one when the assignments carry them.
    units = ["part", "unit"] if {"part", "unit"} <= set(assignments.columns) and {"part", "unit"} <= set(before.columns) \
        else []
    later = assignments.copy()
    later["next_period"] = later["period"].map(dict(zip(periods[:-1], periods[1:])))
    later = later.dropna(subset=["next_period"])[["node_id", "stage", *units, "school_id", "pupils", "next_period"]]
    later = later.rename(columns={"next_period": "period"})
    keys = ["node_id", "stage", "period", *units]
    old = pd.concat([before, later], ignore_index=True).rename(columns={"school_id": "from_school"})
    old["f"] = old["pupils"] / old.groupby(keys)["pupils"].transform("sum").where(lambda x: x > 0)
    old["f"] = old["f"].fillna(1.0 / old.groupby(keys)["pupils"].transform("size"))
    demand = pd.concat([pd.DataFrame({"node_id": np.repeat(sd.node_ids, len(sd.periods)), "stage": sd.stage,
                                      "period": np.tile(sd.periods, len(sd.node_ids)),
                                      "part": sd.part, "unit": np.repeat(np.arange(len(sd.node_ids)), len(sd.periods)),
                                      "demand": sd.demand.reshape(-1)}) for sd in stage_data], ignore_index=True)
    if not units:  # villages, not units: one demand row per village
        demand = demand.groupby(["node_id", "stage", "period"], as_index=False)["demand"].sum()
    now = assignments[keys + ["school_id", "pupils"]].rename(columns={"school_id": "to_school", "pupils": "pupils_now"})
    assigned = now.groupby(keys)["pupils_now"].sum()
    old = old.merge(demand, on=keys, how="left").fillna({"demand": 0.0})
    old["assigned"] = pd.MultiIndex.from_frame(old[keys]).map(assigned).fillna(0.0).to_numpy(float)
    old["demand_now"] = old["demand"] * old["f"]
    old["unserved_now"] = (old["demand"] - old["assigned"]).clip(lower=0.0) * old["f"]
    moves = old[keys + ["from_school", "f"]].merge(now, on=keys, how="inner")
    moves["pupils_now"] *= moves["f"]
    moves = moves[moves["from_school"] != moves["to_school"]]
    flow = moves.groupby(["from_school", "period", "to_school"], as_index=False)["pupils_now"].sum()
    by = old.groupby(["from_school", "period"])
    total = by["pupils"].sum()
    flow["share"] = flow["pupils_now"] / flow.set_index(["from_school", "period"]).index.map(total).to_numpy(float)
    return {"flow": flow, "moved_in": moves.groupby(["to_school", "period"])["pupils_now"].sum(), "before": total,
            "now": by["demand_now"].sum(), "unserved": by["unserved_now"].sum()}


def classify(before: set, after: set, origin: str, classes_before: float, classes_after: float,
             merge_share: float, stage_shrank: bool = False) -> str:
    """The action code of one school in one period from its stages and classes before and after.
    ``stage_shrank``: a stage it keeps lost classes (e.g. a village primary 5→3 classes that opens a
    2-class 附设园: the same 5 classes in all, but its primary is cut, so not 保留).

    >>> classify({"primary"}, {"primary"}, "candidate", 6, 4, 0.0)  # built earlier, now fewer classes
    'shrink'
    >>> classify({"kindergarten", "primary"}, {"primary"}, "existing", 8, 8, 0.0)  # drops its 附设园
    'keep'
    >>> classify({"primary"}, {"kindergarten", "primary"}, "existing", 5, 5, 0.0, stage_shrank=True)
    'shrink'
    >>> classify({"junior"}, {"junior", "senior"}, "existing", 12, 20, 0.0)
    'convert'
    """
    if not before and after:
        return "build" if origin == "candidate" else "convert"
    if before and not after:
        return "merge" if merge_share >= MERGE_SHARE else "close"
    if kind_of(before, 99, False) != kind_of(after, 99, False):
        return "convert"
    if classes_after > classes_before:
        return "expand"
    if classes_after < classes_before or stage_shrank:
        return "shrink"
    return "keep"


def derive_actions(region, sites: pd.DataFrame, assignments: pd.DataFrame, stage_data, policy: PolicyConfig,
                   base_year: int) -> pd.DataFrame:
    """One row per school (and opened candidate site) × period, with the reason in Chinese."""
    s = capital_cost(sites, policy, base_year, stage_data)
    periods = sorted(s["period"].unique())
    cap = s["stage"].map(policy.class_cap).astype(float)
    s["places_after"] = s["classes"] * cap
    prev_classes = s.groupby(["site_id", "stage"])["classes"].shift(1).fillna(s["classes_before"])
    s["prev_classes"] = prev_classes.astype(int)
    s["places_prev"] = s["prev_classes"] * cap
    per = s.groupby(["site_id", "period"], sort=True).agg(
        classes_before=("prev_classes", "sum"), classes_after=("classes", "sum"),
        places_before=("places_prev", "sum"), places_after=("places_after", "sum"),
        boarding_beds_after=("boarding_beds", "sum"), cost_wan_yuan=("cost_wan_yuan", "sum"),
        pupils_after=("pupils", "sum"), origin=("origin", "first"), tier=("tier", "first")).reset_index()
    stages_before = s[s["prev_classes"] > 0].groupby(["site_id", "period"])["stage"].agg(lambda x: ";".join(sorted(x)))
    stages_after = s[s["classes"] > 0].groupby(["site_id", "period"])["stage"].agg(lambda x: ";".join(sorted(x)))
    per = per.join(stages_before.rename("stages_before"), on=["site_id", "period"])
    per = per.join(stages_after.rename("stages_after"), on=["site_id", "period"])
    per[["stages_before", "stages_after"]] = per[["stages_before", "stages_after"]].fillna("")
    per = per[(per["stages_before"] != "") | (per["stages_after"] != "")].copy()

    info = pd.concat([sd.sites[["site_id", "name", "kind", "township_id"]] for sd in stage_data])
    info = info.drop_duplicates("site_id").set_index("site_id")
    per = per.join(info, on="site_id")
    names = info["name"]

    # Pupils before: the base year's (optimised stages) for the first period, else the previous period's.
    p0 = pd.concat([sd.sites[["site_id", "pupils0"]] for sd in stage_data if "pupils0" in sd.sites])
    p0 = p0.groupby("site_id")["pupils0"].sum() if len(p0) else pd.Series(dtype=float)
    prev_after = per.sort_values("period").groupby("site_id")["pupils_after"].shift(1)
    first = per["period"] == periods[0]
    per["pupils_before"] = np.where(first, per["site_id"].map(p0).fillna(0.0), prev_after.reindex(per.index))
    per["pupils_before"] = per["pupils_before"].fillna(0.0)

    flows = _flows(stage_data, assignments, periods)
    flow, moved_in = flows["flow"], flows["moved_in"]
    best = flow.sort_values("share", ascending=False).drop_duplicates(["from_school", "period"])
    best = best.set_index(["from_school", "period"])
    dest = flow.sort_values(["pupils_now", "to_school"], ascending=[False, True]).groupby(["from_school", "period"])
    dest = {key: list(zip(g["to_school"], g["pupils_now"])) for key, g in dest}
    rules = _rule_notes(stage_data, policy)
    crowded = _crowded_classes(stage_data, policy)
    stage_p0 = {(site, sd.stage): float(p) for sd in stage_data if "pupils0" in sd.sites
                for site, p in zip(sd.sites["site_id"], sd.sites["pupils0"])}
    s["prev_pupils"] = s.groupby(["site_id", "stage"])["pupils"].shift(1)
    first_rows = s["prev_pupils"].isna()
    s.loc[first_rows, "prev_pupils"] = [stage_p0.get(k, 0.0) for k in zip(s.loc[first_rows, "site_id"],
                                                                          s.loc[first_rows, "stage"])]
    s["class_cap"] = s["stage"].map(policy.class_cap)
    by_stage = {key: list(zip(g["stage"], g["prev_classes"], g["classes"], g["prev_pupils"], g["pupils"], g["class_cap"]))
                for key, g in s[(s["prev_classes"] > 0) | (s["classes"] > 0)].groupby(["site_id", "period"])}

    kept_stage_cut = s[(s["prev_classes"] > 0) & (s["classes"] > 0) & (s["classes"] < s["prev_classes"])]
    kept_stage_cut = set(zip(kept_stage_cut["site_id"], kept_stage_cut["period"]))
    actions, merged_into, kinds_after, reasons, texts, moved_to = [], [], [], [], [], []
    kind_now: dict = {}
    for r in per.sort_values("period").itertuples(index=False):
        before_set = set(filter(None, r.stages_before.split(";")))
        after_set = set(filter(None, r.stages_after.split(";")))
        key = (r.site_id, r.period)
        share = float(best.loc[key, "share"]) if key in best.index else 0.0
        action = classify(before_set, after_set, r.origin, r.classes_before, r.classes_after, share,
                          stage_shrank=key in kept_stage_cut)
        target = str(best.loc[key, "to_school"]) if action == "merge" else ""
        kind_before = kind_now.get(r.site_id, "" if r.origin == "candidate" else r.kind)
        if after_set and not kind_before and r.kind == "village_kindergarten":
            kind_after = r.kind
        elif after_set and (action == "convert" or not kind_before):
            kind_after = kind_of(after_set, 99, False)
        else:  # the same kind (a 教学点 opening 附设园 stays a 教学点); a closed school: none
            kind_after = kind_before if after_set else ""
        kind_now[r.site_id] = kind_after or kind_before
        out = dest.get(key, [])
        codes, text = _reason(action, r, before_set, after_set, kind_before, kind_after, out,
                              float(moved_in.get(key, 0.0)), rules.get(key, []), names, target,
                              crowded.get(r.site_id, []) if r.period == periods[0] else [], by_stage.get(key, []),
                              {k: float(flows[k].get(key, 0.0)) for k in ("before", "now", "unserved")},
                              r.period == periods[0])
        actions.append(action), merged_into.append(target), kinds_after.append(kind_after)
        reasons.append(";".join(codes)), texts.append(text)
        moved_to.append(";".join(f"{t}:{p:.0f}" for t, p in out if p >= 0.5))
    per = per.sort_values("period")
    per["action"], per["merged_into"], per["kind_after"] = actions, merged_into, kinds_after
    per["reason"], per["reason_zh"], per["pupils_to"] = reasons, texts, moved_to
    per["action_zh"] = per["action"].map(ACTION_ZH)
    # 保留 is this period's story; a school kept now but well below its base-year classes says when it shrank.
    base_classes = per["site_id"].map(s[s["period"] == periods[0]].groupby("site_id")["classes_before"].sum())
    # (classes in the base year make it an existing school, whatever ``origin`` its first stage row has:
    # a primary school that may convert to a kindergarten has a "convert" kindergarten row)
    below = (per["action"] == "keep") & (base_classes > 0) & \
        (per["classes_after"] < (1 - CUT_NOTE_SHARE) * base_classes)
    if below.any():
        per.loc[below, "reason_zh"] = [
            f"{t}（比基准年 {b:.0f} 班少 {1 - a / b:.0%}：此前的规划期已缩减，本期不变）"
            for t, a, b in zip(per.loc[below, "reason_zh"], per.loc[below, "classes_after"], base_classes[below])]
    per["kind_after_zh"] = [_kind_zh(k) for k in per["kind_after"].where(per["kind_after"] != "", per["kind"])]
    # A candidate site has no kind of its own: it is the kind of school it opens as.
    first_kind = per[per["kind_after"] != ""].sort_values("period").drop_duplicates("site_id")
    first_kind = first_kind.set_index("site_id")["kind_after"]
    cand = per["kind"] == "candidate"
    per.loc[cand, "kind"] = per.loc[cand, "site_id"].map(first_kind).fillna("candidate")
    per = per.rename(columns={"site_id": "school_id"})
    return per[ACTION_COLUMNS].sort_values(["period", "school_id"]).reset_index(drop=True)


def _rule_notes(stage_data, policy: PolicyConfig) -> dict:
    """Per (site, period): the size rules an over-size school is brought down by, one note per stage:
    ``(stage, kind, pupils0, classes0, allowed_pupils, rule_pupils, key, value)``."""
    from xuewei.data.standards import standard

    lim = limits_table(stage_data, policy)
    big = float(standard("oversized_class.large"))
    notes: dict = {}
    for r in lim.itertuples(index=False):
        size_cap = policy.school_size_cap.get(r.stage)
        if size_cap is not None and r.pupils0 > size_cap:
            rule = ("school_size_cap", f"school_size_cap.{r.stage}", size_cap)
        else:
            rule = ("oversized_class", f"class_cap.{r.stage}", policy.class_cap[r.stage])
        avg0 = r.pupils0 / r.classes0 if r.classes0 else 0.0
        notes.setdefault((r.site_id, r.period), []).append(
            (r.stage, rule[0], r.pupils0, avg0, r.allowed_pupils, r.rule_pupils, rule[1], rule[2], avg0 >= big))
    return notes


def _crowded_classes(stage_data, policy: PolicyConfig) -> dict:
    """Per existing site: ``(stage, average class size)`` of the stages whose base-year classes are
    above the class cap [pupils/class] (大班额 when at or above ``oversized_class.large``)."""
    out: dict = {}
    for sd in stage_data:
        if "pupils0" not in sd.sites:
            continue
        c0 = sd.sites["c0"].to_numpy(float)
        avg = np.divide(sd.sites["pupils0"].to_numpy(float), c0, out=np.zeros(len(c0)), where=c0 > 0)
        for j in np.flatnonzero(avg > policy.class_cap[sd.stage] + 1e-9):
            out.setdefault(sd.sites["site_id"].iloc[j], []).append((sd.stage, float(avg[j])))
    return out


def _classes_text(by_stage) -> str:
    """``小学 24→21 班、学前 0→4 班`` (stages whose classes change), or ``班数 12 不变``."""
    order = list(STAGE_ZH)
    rows = sorted(by_stage, key=lambda x: order.index(x[0]) if x[0] in order else 99)
    changed = [f"{STAGE_ZH.get(g, g)} {a:.0f}→{b:.0f} 班" for g, a, b, *_ in rows if a != b]
    return "、".join(changed) if changed else f"班数 {sum(b for _, _, b, *_ in rows):.0f} 不变"


def _reason(action, r, before_set, after_set, kind_before, kind_after, out, moved_in, rules, names, target,
            crowded=(), by_stage=(), catchment=None, first=False):
    """Reason codes and one Chinese sentence for one school × period.

    A size rule is named only where it binds (the stage had more pupils than this period allows);
    today's crowded classes only where the stage gains classes to relieve them. ``catchment``: the
    former catchment's pupils ``before`` and ``now`` and those of them ``unserved`` (`_flows`);
    ``first``: the first period, whose catchment is each village's nearest school today."""
    catchment = catchment or {"before": 0.0, "now": 0.0, "unserved": 0.0}
    from xuewei.data.standards import standard

    codes, parts = [], []
    big, huge = float(standard("oversized_class.large")), float(standard("oversized_class.super_large"))
    grew = {g for g, a, b, *_ in by_stage if b > a}
    prev_pupils = {g: p for g, _, _, p, *_ in by_stage}
    for stage, avg in crowded:  # first period: classes above the cap today, relieved by more classes
        if stage not in grew:
            continue
        label = "（超大班额）" if avg >= huge else "（大班额）" if avg >= big else ""
        codes.append("oversized_class")
        parts.append(f"{STAGE_ZH[stage]}基准年平均班额 {avg:.0f} 人{label}，超过班额上限，增班消除")
    pb, pa = float(r.pupils_before), float(r.pupils_after)
    head = f"{_classes_text(by_stage)}，学生 {_n(pb)}→{_n(pa)} 人"
    added, dropped = after_set - before_set, before_set - after_set
    if action == "build":
        return ["build"], (f"新建{_kind_zh(kind_after)}，开设{_stages_zh(after_set)}，{r.classes_after:.0f} 班，"
                           f"就读 {_n(pa)} 人")
    if action in ("merge", "close"):
        moved = sum(p for _, p in out)
        where = "、".join(f"{names.get(t, t)}（{_n(p)} 人）" for t, p in out[:MOVED_NAMES] if p >= 0.5)
        if action == "merge":
            return ["merge"], f"学生（期初 {_n(pb)} 人）主要并入{names.get(target, target)}，本校撤销"
        return ["close"], (f"学生（期初 {_n(pb)} 人）分流到就近学校" + (f"：{where}" + ("等" if len(out) > MOVED_NAMES else "")
                                                            if where and moved >= 0.5 else "") + "，本校撤销")
    if action == "convert":
        change = "；".join(x for x in (f"加办{_stages_zh(added)}" if added else "",
                                       f"停办{_stages_zh(dropped)}" if dropped else "") if x)
        codes.append("stages_changed")
        parts.append(f"办学类型转变：{_kind_zh(kind_before) if kind_before else '无'} → {_kind_zh(kind_after)}（{change}）")
    elif added or dropped:
        codes.append("stages_changed")
        parts.append("；".join(x for x in (f"加办{_stages_zh(added)}" if added else "",
                                           f"停办{_stages_zh(dropped)}" if dropped else "") if x))
    for stage, rule, p0, avg0, allowed, limit, key, value, crowded_big in rules:
        must = prev_pupils.get(stage, 0.0) - allowed  # pupils the rule sends elsewhere this period
        if must < 0.5 or action not in ("shrink", "convert", "keep", "expand"):
            continue
        if rule == "school_size_cap":
            note = (f"{STAGE_ZH[stage]}基准年 {_n(p0)} 人，超过规模上限 {key} = {value:g} 人，"
                    f"按 oversize_target_year 逐期降低，本期最多 {_n(allowed)} 人（须分流 {_n(must)} 人）")
        else:
            note = (f"{STAGE_ZH[stage]}基准年平均班额 {avg0:.0f} 人{'（大班额）' if crowded_big else ''}，按班额上限 {key} = "
                    f"{value:g} 人/班容纳不下，按 oversize_target_year 逐期降低，本期最多 {_n(allowed)} 人（须分流 {_n(must)} 人）")
        codes.append(rule)
        parts.append(note)
    moved = sum(p for _, p in out)
    if action in ("shrink", "convert", "keep", "expand") and moved >= 0.5 and pa < pb - 0.5:
        where = "、".join(f"{names.get(t, t)}（{_n(p)} 人）" for t, p in out[:MOVED_NAMES] if p >= 0.5)
        codes.append("reassigned")
        parts.append(f"{_n(moved)} 人改去{where}" + ("等" if len(out) > MOVED_NAMES else ""))
    if action in ("shrink", "convert", "keep", "expand") and moved_in >= 0.5 and pa < pb - 0.5:
        parts.append(f"另有 {_n(moved_in)} 人从别的学校的片区划入")
    shrinking = action in ("shrink", "keep", "convert", "expand") and pa < pb - 0.5
    if shrinking and catchment["unserved"] >= 0.5:
        codes.append("unserved")
        parts.append(f"{_n(catchment['unserved'])} 人未能安排（见 unserved.csv）")
    if not first:
        fewer = catchment["before"] - catchment["now"]  # the former catchment's own change in pupils
        if shrinking and fewer >= 0.5:
            codes.append("fewer_pupils")
            parts.append(f"原片区生源减少 {_n(fewer)} 人")
    elif shrinking and catchment["now"] < pb - 0.5:
        # The first period: today's pupils by village are not known; say what its nearest villages have.
        codes.append("fewer_pupils")
        parts.append(f"就近的村（社区）本期生源 {_n(catchment['now'])} 人，少于基准年在校生 {_n(pb)} 人")
    if action == "expand":
        if pa > float(r.places_before):
            parts.insert(0, f"需求 {_n(pa)} 人，原学位 {_n(r.places_before)} 个不足，增至 {_n(r.places_after)} 个")
            codes.insert(0, "demand")
    if action == "shrink" and not codes:  # as many pupils, packed into fewer classes
        codes.append("classes")
        parts += [f"{STAGE_ZH.get(g, g)} {p:,.0f} 人按班额上限 {q:g} 人/班只需 {b:.0f} 班"
                  for g, a_, b, _, p, q in by_stage if b < a_]
    if action == "keep":
        used = pa / r.places_after if r.places_after > 0 else 0.0
        if not parts:
            codes.append("enough_places")
        parts.insert(0, f"学位够用（使用率 {used:.0%}）" if used <= 1.0 + 1e-9 else
                     f"学生 {_n(pa)} 人多于标准学位 {_n(r.places_after)} 个（过渡期，逐期分流）")
    return list(dict.fromkeys(codes)), head + "：" + "；".join(parts) if parts else head
