"""Check a run against the plan its region names, at every level the plan's tables allow.

Four levels, each a tidy table with the plan's figure, the run's figure for the same year and area, a
status (一致 / 偏离 / 无法核对) with its reason, and the plan's verbatim quote:

1. ``schools`` 逐校: per school the plan lists (tables declaring ``per_school``, e.g. 巫溪 表3–表6), its
   planned classes and places beside the run's for the same school and stage;
2. ``actions`` 学段 × 调整: the plan's counts of schools built, merged, closed, converted, kept (江阳 专栏7,
   乐山 专栏14, 内江 专栏5/7, 桓台 表2), and per stage from the per-school rows, beside the run's schools
   with the mapped actions (`optimizer.plan_items.ACTION_WORDS`);
3. ``places`` 学位递增: new places by district × stage (内江 专栏6; matched by admin code or name through
   ``townships.county_id``), and by township × stage from the per-school rows;
4. ``targets`` 总量指标: pupils by stage, 公办园 share, 大班额, 大校额 and class size in the target year.

``levels`` says, per level, how many rows were compared and why the rest could not be. Where the plan
covers a wider area than the region (a city plan, one county's pack) or a narrower one, only what
matches by admin code is compared, and the notes say so (`area_match`). A plan never stops a run:
whatever its tables hold, `check_against_plan` returns; a problem with the plan file itself is found
when the region is loaded, before anything is solved (`data.plans.plan_of_region`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xuewei.data.plans import Plan, load_plan, resolve_plan_path
from xuewei.labels import ACTION_ZH, KIND_ZH, STAGE_ZH
from xuewei.optimizer import plan_items

log = logging.getLogger(__name__)

CONSISTENT, DEVIATES, UNCHECKED = "一致", "偏离", "无法核对"
AMOUNT_TOLERANCE = 0.05   # pupils and places within ±5 % of the plan read as 一致 [fraction]
ABOUT_TOLERANCE = 0.10    # a count printed “左右” (about) within ±10 %, at least ±1 school [fraction]
ALL_PUPILS_COLUMNS = ("pupils_all", "pupils_total", "all_pupils")       # demand.csv: all pupils (公办+民办)
PUBLIC_PUPILS_COLUMNS = ("pupils_public", "public_pupils", "pupils")    # demand.csv: public pupils
# numerator of a share target, each over ALL_PUPILS_COLUMNS: 公办 (the layout's own pupils) and 普惠
SHARE_COLUMNS = {"public_share": ("pupils_public", "public_pupils", "pupils"), "inclusive_share": ("pupils_inclusive",)}
ACTION_PLAN_ZH = {**ACTION_ZH, "reduce": "缩减"}
LEVELS = {"schools": "逐校", "actions": "学段×调整", "places": "学位递增", "targets": "总量指标"}
KNOWN_ACTIONS = ("build", "expand", "merge", "close", "convert", "reduce", "keep")
# A school's actions over the periods up to the plan's year, read as one: the end state decides.
NET_ORDER = ("build", "convert", "expand", "reduce")


def _zh_list(codes, table) -> str:
    return "、".join(table.get(c, c) for c in codes)


def _stages_zh(stages) -> str:
    return "、".join(STAGE_ZH.get(s, s) for s in stages)


# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaMatch:
    """What part of the run the plan's own area covers.

    Attributes
    ----------
    relation : str
        ``same`` (one area), ``plan_wider`` (a city plan, a county's region), ``plan_narrower`` (a county's
        plan, a city's region: only the townships with that ``county_id``) or ``other``.
    townships : frozenset or None
        The region's townships inside the plan's area; None for all of them.
    sentence : str
        The match said in Chinese, for the notes.
    """

    relation: str
    townships: frozenset | None
    sentence: str


def _prefecture(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and code[4:] == "00" and code[2:4] != "00"


def _county_ids(region) -> pd.Series:
    tw = region.townships
    if "county_id" not in tw:
        return pd.Series("", index=tw["township_id"].astype(str))
    return pd.Series(tw["county_id"].fillna("").astype(str).str.strip().to_numpy(), index=tw["township_id"].astype(str))


def area_match(plan: Plan, region) -> AreaMatch:
    """How the plan's area (``admin_code``) and the region's relate; see `AreaMatch`."""
    pcode, rcode = str(plan.admin_code or "").strip(), str(region.meta.admin_code).strip()
    pname, rname = plan.region or plan.name, region.meta.name
    if pcode and pcode == rcode:
        return AreaMatch("same", None, f"规划与本区域为同一地区（{rname}，{rcode}），全部对照。")
    if pcode and _prefecture(pcode) and rcode[:4] == pcode[:4]:
        return AreaMatch("plan_wider", None,
                         f"规划覆盖 {pname}（{pcode}）全市，本区域 {rname}（{rcode}）是其中之一：全市合计的数不能与本区域对照"
                         f"（标为无法核对），按区县分列的行只对照代码为 {rcode} 的一行；比率和“消除”类目标按本区域计。")
    if pcode and _prefecture(rcode) and pcode[:4] == rcode[:4]:
        county = _county_ids(region)
        inside = frozenset(county.index[county == pcode])
        if inside:
            return AreaMatch("plan_narrower", inside,
                             f"规划只覆盖 {pname}（{pcode}），本区域 {rname}（{rcode}）更大：只对照 county_id 为 {pcode} 的 "
                             f"{len(inside)} 个乡镇。")
        return AreaMatch("other", frozenset(),
                         f"规划只覆盖 {pname}（{pcode}），本区域 {rname}（{rcode}）的乡镇中没有 county_id 为 {pcode} 的，无可对照的部分。")
    return AreaMatch("other", frozenset(),
                     f"规划属 {pname}（{pcode or '未填代码'}），本区域为 {rname}（{rcode}），两者不是同一地区，也不相互包含：不能对照，"
                     f"下列各行均为无法核对。")


# ------------------------------------------------------------------------------------------------------
class RunFigures:
    """The run's own figures, restricted to the townships a plan area covers (None: all).

    Works on a fresh `pipeline.RunResult` and on a `reports.stored_run.RunTables` alike.
    """

    def __init__(self, run, townships: frozenset | None = None):
        self.run = run
        self.region = run.region
        self.policy = run.policy
        self.base_year = int(run.base_year)
        sites = run.layout.sites
        self.periods = sorted(int(p) for p in sites["period"].unique())
        tw = pd.concat([self.region.schools.set_index("school_id")["township_id"]]
                       + ([self.region.candidate_sites.set_index("site_id")["township_id"]]
                          if self.region.candidate_sites is not None else [])
                       + ([run.actions.set_index("school_id")["township_id"]] if len(run.actions) else []))
        self.site_township = tw[~tw.index.duplicated()].astype(str)
        self.townships = townships
        self.sites = self._inside(sites, "site_id")
        self.actions = self._inside(run.actions, "school_id")
        self.schools = self._inside(run.schools, "school_id") if run.schools is not None else pd.DataFrame()
        d = run.demand
        if townships is not None and "township_id" in d:
            d = d[d["township_id"].astype(str).isin(townships)]
        variant = getattr(self.policy, "design_variant", "mid")
        self.demand = d[d["variant"] == variant] if "variant" in d and variant in set(d["variant"]) else d
        self.all_column = next((c for c in ALL_PUPILS_COLUMNS if c in d), None)
        self.public_column = next((c for c in PUBLIC_PUPILS_COLUMNS if c in d), "pupils")

    def _inside(self, df: pd.DataFrame, id_col: str) -> pd.DataFrame:
        if self.townships is None or df is None or not len(df):
            return df
        return df[df[id_col].astype(str).map(self.site_township).isin(self.townships)]

    def period_for(self, year: int) -> int | None:
        """The first run period at or after ``year`` (None if the run ends earlier)."""
        return next((p for p in self.periods if p >= year), None)

    def optimised_stages(self) -> set[str]:
        return set(self.sites["stage"]) if len(self.sites) else set(self.run.layout.sites["stage"])

    # --- pupils ---------------------------------------------------------------------------------------
    def pupils(self, stages, year: int, column: str) -> float:
        d = self.demand
        return float(d.loc[(d["year"] == year) & d["stage"].isin(stages), column].sum())

    def base_private_share(self, stages) -> float | None:
        """Share of base-year pupils of ``stages`` in private schools [fraction] (None: no pupils known)."""
        ss = self.region.school_stages
        if ss is None or "pupils" not in ss:
            return None
        base = ss[(ss["year"] == self.base_year) & ss["stage"].isin(stages)]
        if self.townships is not None:
            base = base[base["school_id"].astype(str).map(self.site_township).isin(self.townships)]
        own = base["school_id"].map(self.region.schools.set_index("school_id")["ownership"])
        total = float(pd.to_numeric(base["pupils"], errors="coerce").fillna(0).sum())
        if total <= 0:
            return None
        private = float(pd.to_numeric(base.loc[own == "private", "pupils"], errors="coerce").fillna(0).sum())
        return private / total

    # --- layout ---------------------------------------------------------------------------------------
    def places(self, stages, period: int) -> float:
        s = self.sites
        return float(s.loc[(s["period"] == period) & s["stage"].isin(stages), "places"].sum())

    def places_added(self, stages, period: int, townships=None) -> tuple[float, float]:
        """New places by ``period`` over the base year: (gross: the sum of increases, net) [places]."""
        s = self.sites[(self.sites["period"] == period) & self.sites["stage"].isin(stages)]
        if townships is not None:
            s = s[s["site_id"].astype(str).map(self.site_township).isin(townships)]
        cap = s["stage"].map(self.policy.class_cap).astype(float)
        delta = s["places"].astype(float) - s["classes_before"].astype(float) * cap
        return float(delta.clip(lower=0).sum()), float(delta.sum())

    def school_actions(self, period: int) -> pd.DataFrame:
        """One row per school: its actions up to ``period`` read as one, and its kind of school.

        A school that ends closed or merged counts as such; else one built, converted, expanded or cut
        (缩减) in any period counts as that, in this order; else kept. The kind is the school's
        ``kind`` (for a new school: from the stages it opens with).
        """
        from xuewei.optimizer.actions import kind_of

        a = self.actions[self.actions["period"] <= period].sort_values(["school_id", "period"])
        if not len(a):
            return pd.DataFrame(columns=["school_id", "action", "kind", "township_id"])
        rows = []
        for sid, g in a.groupby("school_id", sort=True):
            acts = list(g["action"])
            last = acts[-1]
            net = last if last in ("close", "merge") else next((x for x in NET_ORDER if x in acts), None)
            if net is None:
                net = "keep" if all(x == "keep" for x in acts) else next(x for x in acts if x != "keep")
            kind = str(g["kind"].iloc[0])
            if kind not in KIND_ZH:
                stages = set(filter(None, str(g["stages_after"].iloc[-1] or g["stages_before"].iloc[0]).split(";")))
                kind = kind_of(stages, 99, village=False)
            rows.append({"school_id": sid, "action": net, "kind": kind, "township_id": str(g["township_id"].iloc[0])})
        return pd.DataFrame(rows)

    def class_sizes(self, stages, period: int) -> pd.DataFrame:
        s = self.schools
        if not len(s):
            return s
        return s[(s["period"] == period) & s["stage"].isin(stages) & (s["classes"] > 0)]


# ------------------------------------------------------------------------------------------------------
def _status_amount(plan_value: float, run_value: float, comparison: str, tolerance: float = AMOUNT_TOLERANCE):
    """(status, reason) of an amount against a target read with ``comparison`` (≈ ≥ > ≤ =0 or exact)."""
    if comparison == "=0":
        return (CONSISTENT, "") if run_value <= 0 else (DEVIATES, f"规划要求为零，运行为 {run_value:,.0f}")
    if comparison == "≥":
        return (CONSISTENT, "") if run_value >= plan_value - 1e-9 else (DEVIATES, "低于规划的下限")
    if comparison == ">":
        return (CONSISTENT, "") if run_value > plan_value else (DEVIATES, "未超过规划值")
    if comparison == "≤":
        return (CONSISTENT, "") if run_value <= plan_value + 1e-9 else (DEVIATES, "超过规划的上限")
    if comparison == "≈":
        if plan_value == 0:
            return (CONSISTENT, "") if run_value == 0 else (DEVIATES, "规划为 0")
        rel = (run_value - plan_value) / abs(plan_value)
        return (CONSISTENT, "") if abs(rel) <= tolerance + 1e-12 else (
            DEVIATES, f"差 {rel:+.1%}，超出 ±{tolerance:.0%}")
    return (CONSISTENT, "") if abs(run_value - plan_value) < 1e-9 else (DEVIATES, "")


def _status_count(plan_count: float, count_text: str, qualifier: str, run_count: float):
    if np.isnan(plan_count):
        m = re.match(r"^\s*(\d+)\s*[—\-~～至]+\s*(\d+)\s*$", count_text)
        if m:
            lo, hi = float(m.group(1)), float(m.group(2))
            return (CONSISTENT, "") if lo <= run_count <= hi else (DEVIATES, f"不在规划区间 {count_text} 内")
        return UNCHECKED, f"规划数印作“{count_text}”，不是确定的所数"
    if qualifier == "≈":
        tol = max(1.0, ABOUT_TOLERANCE * plan_count)
        return (CONSISTENT, "") if abs(run_count - plan_count) <= tol else (DEVIATES, f"超出“左右”（±{tol:g} 所）")
    if qualifier in ("≥", ">", "≤"):
        return _status_amount(plan_count, run_count, qualifier)
    return (CONSISTENT, "") if run_count == plan_count else (DEVIATES, "")


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


# --- level 1: per school ----------------------------------------------------------------------------
SCHOOL_COLUMNS = ["table", "plan_name", "school_id", "stages", "year", "classes_before", "places_before",
                  "classes_plan", "places_plan", "classes_run", "places_run", "classes_diff", "places_diff",
                  "plan_action", "run_action", "status", "reason", "source_quote"]


def link_sites(region, rows: pd.DataFrame) -> pd.Series:
    """Region site id of each plan row: through ``schools.plan_rows`` (``表4:先锋小学``) or a candidate
    site's name (the plan writes 凤凰中学（高中部） for the new 凤凰中学); "" when none."""
    link: dict[tuple[str, str], str] = {}
    if "plan_rows" in region.schools:
        for sid, refs in zip(region.schools["school_id"], region.schools["plan_rows"].fillna("")):
            for ref in re.split(r"[;；]", str(refs)):
                if ":" in ref:
                    tid, name = ref.split(":", 1)
                    link[(tid.strip(), name.strip())] = sid
    cand = {} if region.candidate_sites is None else dict(zip(region.candidate_sites["name"],
                                                              region.candidate_sites["site_id"]))

    def candidate(name: str) -> str:
        return cand.get(name, cand.get(re.sub(r"（[^）]*部）$", "", name), ""))

    return pd.Series([link.get((t, n), candidate(n)) for t, n in zip(rows["table"], rows["plan_name"])],
                     index=rows.index, dtype=object)


def check_schools(plan: Plan, fig: RunFigures, area: AreaMatch, period: int) -> pd.DataFrame:
    rows = plan_items.school_rows(plan)
    if not len(rows):
        return _frame([], SCHOOL_COLUMNS)
    rows["school_id"] = link_sites(fig.region, rows) if area.relation != "other" else ""
    at = fig.run.layout.sites[fig.run.layout.sites["period"] == period]
    optimised = set(at["stage"])
    # The run's classes and places of each row's school over the row's stages (a 九年一贯制 row: both).
    pairs = rows[["school_id", "stages"]].explode("stages").rename(columns={"stages": "stage"})
    got = pairs.reset_index().merge(at[["site_id", "stage", "classes", "places"]],
                                    left_on=["school_id", "stage"], right_on=["site_id", "stage"], how="left")
    sums = got.groupby("index")[["classes", "places"]].sum()
    ok = (rows["school_id"] != "") & rows["stages"].map(lambda st: any(g in optimised for g in st))
    cr = sums["classes"].reindex(rows.index).where(ok)
    pr = sums["places"].reindex(rows.index).where(ok)
    cb, cp = rows["classes_before"], rows["classes_plan"]
    status = np.select([pd.Series(area.relation == "other", index=rows.index), rows["school_id"] == "", ~ok, cr == cp],
                       [UNCHECKED, UNCHECKED, UNCHECKED, CONSISTENT], DEVIATES)
    reason = np.select(
        [pd.Series(area.relation == "other", index=rows.index), rows["school_id"] == "", ~ok, cr == cp],
        ["规划与本区域不是同一地区", "区域数据中找不到该校（schools.csv 的 plan_rows 或备选用地名称）",
         "该学段（" + rows["stages"].map(_stages_zh) + "）不在本次运行的规划范围内", ""],
        "运行 " + cr.map("{:g}".format) + " 班，规划 " + cp.map("{:g}".format) + " 班")
    run_action = np.select([~ok, (cb == 0) & (cr > 0), (cb > 0) & (cr == 0), cr > cb, cr < cb],
                           ["", "build", "close", "expand", "reduce"], "keep")
    out = rows.assign(stages=rows["stages"].map(";".join), classes_run=cr, places_run=pr, classes_diff=cr - cp,
                      places_diff=pr - rows["places_plan"], run_action=run_action, status=status, reason=reason)
    return out[SCHOOL_COLUMNS].reset_index(drop=True)


# --- level 2: 学段 × 调整 -----------------------------------------------------------------------------
ACTION_COLUMNS = ["source", "area", "scope", "category", "kinds_zh", "run_actions_zh", "plan_schools",
                  "run_schools", "difference_schools", "status", "reason", "source_quote"]


def _area_townships(fig: RunFigures, area_label: str, area_code: str):
    """Townships of a plan's area row (by ``county_id`` = code, else = name) and how they matched."""
    county = _county_ids(fig.region)
    if fig.townships is not None:
        county = county[county.index.isin(fig.townships)]
    for key, how in ((area_code, f"行政区划代码 {area_code}"), (area_label, "区县名称")):
        if key and (county == key).any():
            return frozenset(county.index[county == key]), how
    return None, ""


def _area_scope(fig: RunFigures, area: AreaMatch, label: str, code: str, is_total: bool):
    """(townships or None for the whole run, how matched, reason if it cannot be compared)."""
    rcode = str(fig.region.meta.admin_code)
    if area.relation == "other":
        return None, "", "规划与本区域不是同一地区"
    if not label:  # the plan gives one figure for its whole area
        if area.relation == "plan_wider":
            return None, "", "规划数为全市合计，本区域只是其中之一"
        return None, "全域", ""
    if is_total:
        if area.relation == "plan_wider":
            return None, "", "规划数为全市合计，本区域只是其中之一"
        return None, "全域（合计行）", ""
    if area.relation == "plan_wider":
        if code and code == rcode:
            return None, f"行政区划代码 {code}（本区域）", ""
        return None, "", "skip"
    towns, how = _area_townships(fig, label, code)
    if towns:
        return towns, how, ""
    if "county_id" not in fig.region.townships:
        return None, "", "区域的 townships.csv 没有 county_id，不能按区县分列"
    return None, "", f"区域乡镇的 county_id 中没有“{label}”" + (f"（{code}）" if code else "（该地区无行政区划代码）")


def check_actions(plan: Plan, fig: RunFigures, area: AreaMatch, period: int) -> tuple[pd.DataFrame, list[dict]]:
    counts, skipped = plan_items.adjustment_counts(plan)
    per_school = fig.school_actions(period)
    optimised = fig.optimised_stages()
    out = []
    for r in counts.to_dict("records"):
        towns, how, reason = _area_scope(fig, area, r["area"], r["area_code"], r["is_total"])
        if reason == "skip":
            continue
        kinds = r["kinds"]
        sel = per_school[per_school["action"].isin(r["actions"]) & per_school["kind"].isin(kinds)]
        if towns is not None:
            sel = sel[sel["township_id"].isin(towns)]
        run_count = float(len(sel)) if not reason else np.nan  # no run figure for an area the run lacks
        if reason:
            status = UNCHECKED
        else:
            status, reason = _status_count(r["count_schools"], r["count_text"], r["qualifier"], run_count)
            uncovered = [k for k in kinds if k in ("vocational", "special")]
            if uncovered and set(kinds) <= {"vocational", "special"}:
                status, reason = UNCHECKED, f"运行不规划{_zh_list(uncovered, KIND_ZH)}"
        out.append({"source": r["table"], "area": r["area"] or "全域", "scope": r["scope"], "category": r["category"],
                    "kinds_zh": "全部" if set(kinds) == set(plan_items.ALL_KINDS) else _zh_list(kinds, KIND_ZH),
                    "run_actions_zh": _zh_list(r["actions"], ACTION_PLAN_ZH), "plan_schools": r["count_schools"],
                    "run_schools": run_count, "difference_schools": run_count - r["count_schools"],
                    "status": status, "reason": reason + (f"（按{how}）" if how and how != "全域" else ""),
                    "source_quote": r["source_quote"]})
    out += _per_school_counts(plan, fig, area, period, optimised)
    return _frame(out, ACTION_COLUMNS), skipped


def _per_school_counts(plan: Plan, fig: RunFigures, area: AreaMatch, period: int, optimised: set) -> list[dict]:
    """Per stage × action from the per-school rows (the plan lists only schools it changes, so no 保留)."""
    rows = plan_items.school_rows(plan)
    if not len(rows):
        return []
    sites = fig.run.layout.sites
    at = sites[sites["period"] == period]
    run_action = np.select(
        [(at["origin"] != "existing") & (at["classes_before"] == 0) & (at["classes"] > 0),
         (at["classes_before"] > 0) & (at["classes"] == 0), at["classes"] > at["classes_before"],
         (at["classes"] < at["classes_before"]) & (at["classes"] > 0)],
        ["build", "close", "expand", "reduce"], "keep")
    run_counts = pd.Series(run_action, index=at.index).groupby(at["stage"].to_numpy()).value_counts()
    tables = "、".join(dict.fromkeys(rows["table"]))
    plan_counts = rows.assign(stage=rows["stages"].map(list)).explode("stage").groupby(["stage", "plan_action"]).size()
    out = []
    for (stage, action), n in plan_counts.items():
        if action == "keep":
            continue
        rc = float(run_counts.get((stage, action), 0))
        if area.relation == "other":
            status, reason = UNCHECKED, "规划与本区域不是同一地区"
        elif stage not in optimised:
            status, reason = UNCHECKED, f"运行不规划{STAGE_ZH.get(stage, stage)}"
        else:
            status, reason = (CONSISTENT, "") if rc == n else (DEVIATES, "")
        out.append({"source": f"{tables}（逐校汇总）", "area": "全域", "scope": STAGE_ZH.get(stage, stage),
                    "category": ACTION_PLAN_ZH.get(action, action), "kinds_zh": f"{STAGE_ZH.get(stage, stage)}学段",
                    "run_actions_zh": ACTION_PLAN_ZH.get(action, action), "plan_schools": float(n),
                    "run_schools": rc, "difference_schools": rc - n, "status": status,
                    "reason": reason or "按学段计（一所学校的一个学段为一处）", "source_quote": ""})
    return out


# --- level 3: 学位递增 -------------------------------------------------------------------------------
PLACES_COLUMNS = ["source", "area_level", "area", "area_code", "matched_by", "stage_label", "stages_zh",
                  "plan_places_added", "run_places_added", "run_places_net", "difference_places", "status", "reason",
                  "source_quote"]


def check_places(plan: Plan, fig: RunFigures, area: AreaMatch, period: int) -> pd.DataFrame:
    optimised = fig.optimised_stages()
    out = []
    for r in plan_items.places_added(plan).to_dict("records"):
        towns, how, reason = _area_scope(fig, area, r["area"], r["area_code"], r["is_total"])
        if reason == "skip":
            continue
        missing = [s for s in r["stages"] if s not in optimised]
        gross, net = fig.places_added([s for s in r["stages"] if s in optimised], period, towns)
        if reason:  # no run figure for an area the run lacks
            status, gross, net = UNCHECKED, np.nan, np.nan
        elif missing:
            status, reason = UNCHECKED, f"运行不规划{_stages_zh(missing)}学位"
        else:
            status, reason = _status_amount(r["places"], gross, "≈")
        out.append({"source": r["table"], "area_level": "合计" if r["is_total"] else "区县", "area": r["area"],
                    "area_code": r["area_code"], "matched_by": how, "stage_label": r["stage_label"],
                    "stages_zh": _stages_zh(r["stages"]), "plan_places_added": r["places"],
                    "run_places_added": gross if not missing else np.nan, "run_places_net": net if not missing else np.nan,
                    "difference_places": (gross - r["places"]) if not missing else np.nan, "status": status,
                    "reason": reason, "source_quote": r["source_quote"]})
    out += _per_school_places(plan, fig, area, period, optimised)
    return _frame(out, PLACES_COLUMNS)


def _per_school_places(plan: Plan, fig: RunFigures, area: AreaMatch, period: int, optimised: set) -> list[dict]:
    """学位递增 by township × stage from the per-school rows (new places = after − before, where positive)."""
    rows = plan_items.school_rows(plan)
    if not len(rows) or area.relation == "other":
        return []
    rows["school_id"] = link_sites(fig.region, rows)
    rows = rows[rows["school_id"] != ""].copy()
    rows["stage"] = rows["stages"].map(lambda s: s[0])  # a two-stage row (九年一贯制) counts under its first stage
    rows["township_id"] = rows["school_id"].map(fig.site_township)
    rows["added"] = (rows["places_plan"] - rows["places_before"]).clip(lower=0)
    names = fig.region.townships.set_index(fig.region.townships["township_id"].astype(str))["name"]
    tables = "、".join(dict.fromkeys(rows["table"]))
    out = []
    for (tw, stage), added in rows.groupby(["township_id", "stage"])["added"].sum().items():
        if stage not in optimised:
            gross = net = np.nan
            status, reason = UNCHECKED, f"运行不规划{STAGE_ZH.get(stage, stage)}学位"
        else:
            gross, net = fig.places_added([stage], period, frozenset([tw]))
            status, reason = _status_amount(float(added), gross, "≈")
        out.append({"source": f"{tables}（逐校汇总）", "area_level": "乡镇", "area": names.get(tw, tw), "area_code": tw,
                    "matched_by": "学校所在乡镇", "stage_label": STAGE_ZH.get(stage, stage), "stages_zh": STAGE_ZH.get(stage, stage),
                    "plan_places_added": float(added), "run_places_added": gross, "run_places_net": net,
                    "difference_places": gross - float(added), "status": status,
                    "reason": reason or "规划只列有调整的学校；运行计入该乡镇全部学校的新增学位", "source_quote": ""})
    return out


# --- level 4: headline targets ------------------------------------------------------------------------
TARGET_COLUMNS = ["source", "indicator", "metric", "metric_zh", "stages_zh", "year", "run_year", "plan_value_text",
                  "comparison", "plan_value", "run_value", "difference", "unit", "run_places", "status", "reason",
                  "source_quote"]


def check_targets(plan: Plan, fig: RunFigures, area: AreaMatch) -> pd.DataFrame:
    t = plan_items.headline_targets(plan)
    t = t[(t["year"] > fig.base_year) & (t["year"] <= max(plan.horizon, fig.base_year + 1))]
    years = set(fig.demand["year"]) if len(fig.demand) else set()
    demand_stages = set(fig.demand["stage"]) if len(fig.demand) else set()
    optimised = fig.optimised_stages()
    oversized = _oversized_class()
    out = []
    for r in t.to_dict("records"):
        metric, stages, year = r["metric"], tuple(r["stages"]), int(r["year"])
        plan_value = r["value"] * r["scale"] if metric else np.nan
        row = {"source": r["table"], "indicator": r["indicator"], "metric": metric,
               "metric_zh": plan_items.METRICS.get(metric, ""), "stages_zh": _stages_zh(stages), "year": year,
               "run_year": np.nan, "plan_value_text": r["value_text"], "comparison": r["comparison"],
               "plan_value": plan_value, "run_value": np.nan, "difference": np.nan,
               "unit": {"pupils": "人", "public_share": "%", "inclusive_share": "%", "oversized_classes": "班",
                        "large_schools": "所",
                        "class_size_max": "人/班"}.get(metric, r["unit"]),
               "run_places": np.nan, "status": UNCHECKED, "reason": r["read_note"], "source_quote": r["source_quote"]}
        out.append(row)
        if not metric:
            continue
        if area.relation == "other":
            row["reason"] = "规划与本区域不是同一地区"
            continue
        if metric == "pupils" and area.relation == "plan_wider":
            row["reason"] = "规划数为全市合计，本区域只是其中之一"
            continue
        if metric in ("pupils", "public_share", "inclusive_share"):
            if year not in years:
                row["reason"] = f"运行的需求预测没有 {year} 年"
                continue
            missing = [s for s in stages if s not in demand_stages]
            if missing:
                row["reason"] = f"运行不预测{_stages_zh(missing)}学生"
                continue
            row["run_year"] = year
        else:
            period = fig.period_for(year)
            if period is None:
                row["reason"] = f"运行最后一期为 {fig.periods[-1]} 年，早于 {year} 年"
                continue
            missing = [s for s in stages if s not in optimised]
            if missing:
                row["reason"] = f"运行不规划{_stages_zh(missing)}"
                continue
            row["run_year"] = period
        note = "" if row["run_year"] == year else f"运行无 {year} 年的布局，取 {row['run_year']:.0f} 年"
        if metric == "pupils":
            period = fig.period_for(year)
            if period is not None:
                row["run_places"] = fig.places([s for s in stages if s in optimised], period)
            if fig.all_column:
                run_value, col_note = fig.pupils(stages, year, fig.all_column), f"全部学生（demand.csv 的 {fig.all_column}）"
            else:
                run_value = fig.pupils(stages, year, fig.public_column)
                private = fig.base_private_share(stages)
                row["run_value"] = run_value
                if private is not None and private > 0:
                    row["reason"] = (f"运行只预测公办学生（demand.csv 没有 {ALL_PUPILS_COLUMNS[0]} 列）；基准年 {fig.base_year} "
                                     f"民办学生占 {private:.1%}，规划数含民办，不能直接对照")
                    continue
                col_note = "公办学生（基准年无民办学生，即全部学生）"
            row["run_value"] = run_value
            status, reason = _status_amount(plan_value, run_value, r["comparison"])
            row["status"], row["reason"] = status, "；".join(x for x in (reason, col_note, r["read_note"], note) if x)
        elif metric in ("public_share", "inclusive_share"):
            part = SHARE_COLUMNS[metric]
            part_col = next((c for c in part if c in fig.demand), None)
            if not fig.all_column or part_col is None:
                private = fig.base_private_share(stages) if metric == "public_share" else None
                base = "" if private is None else f"；基准年 {fig.base_year} 公办园在园幼儿占比为 {1 - private:.1%}"
                missing = "、".join(c for c in (ALL_PUPILS_COLUMNS[0], part[0]) if c not in fig.demand)
                row["reason"] = f"demand.csv 没有 {missing} 列（全部在园幼儿与{r['indicator']}的分子），无法算占比{base}"
                continue
            num = fig.pupils(stages, year, part_col)
            allp = fig.pupils(stages, year, fig.all_column)
            if allp <= 0:
                row["reason"] = f"运行 {year} 年在园幼儿为 0"
                continue
            run_value = 100.0 * num / allp
            row["run_value"] = run_value
            status, reason = _status_amount(plan_value, run_value, r["comparison"])
            wider = "规划为全市目标，此为本区域的占比" if area.relation == "plan_wider" else ""
            row["status"] = status
            row["reason"] = "；".join(x for x in (reason, f"= {part_col} ÷ {fig.all_column}", wider) if x)
        elif metric == "oversized_classes":
            cs = fig.class_sizes(stages, int(row["run_year"]))
            run_value = float(cs.loc[cs["avg_class_size"] >= oversized, "classes"].sum()) if len(cs) else 0.0
            row["run_value"] = run_value
            status, reason = _status_amount(0.0, run_value, "=0")
            row["status"] = status
            row["reason"] = "；".join(x for x in (reason, f"按各校平均班额 ≥ {oversized} 人计（运行不知逐班人数）", note) if x)
            if r["value_text"].startswith("基本") and status == DEVIATES:
                row["reason"] += "；规划为“基本消除”，未给容许的比例"
        elif metric == "large_schools":
            if r["threshold"] is None or (isinstance(r["threshold"], float) and np.isnan(r["threshold"])):
                row["reason"] = "规划本行未给大校额的人数标准（如“5000人以上”），无法核对"
                continue
            cs = fig.class_sizes(stages, int(row["run_year"]))
            per_school = cs.groupby("school_id")["pupils"].sum() if len(cs) else pd.Series(dtype=float)
            run_value = float((per_school >= r["threshold"]).sum())
            row["run_value"] = run_value
            status, reason = _status_amount(0.0, run_value, "=0")
            row["status"] = status
            row["reason"] = "；".join(x for x in (reason, f"{r['threshold']:.0f} 人及以上的学校数", note) if x)
        elif metric == "class_size_max":
            cs = fig.class_sizes(stages, int(row["run_year"]))
            run_value = float(cs["avg_class_size"].max()) if len(cs) else 0.0
            row["run_value"] = run_value
            status, reason = _status_amount(plan_value, run_value, r["comparison"] or "≤")
            row["status"] = status
            row["reason"] = "；".join(x for x in (reason, "各校平均班额的最大值", note) if x)
        if not np.isnan(row["run_value"]) and not np.isnan(plan_value):
            row["difference"] = row["run_value"] - plan_value
    return _frame(out, TARGET_COLUMNS)


def _oversized_class() -> int:
    from xuewei.data.standards import standard

    return int(standard("oversized_class.large"))


# ------------------------------------------------------------------------------------------------------
LEVEL_COLUMNS = ["level", "level_zh", "plan_tables", "rows", "consistent", "deviating", "unchecked", "status", "reason"]


def _level_row(level: str, tables: str, df: pd.DataFrame | None, none_reason: str, error: str = "",
               other: str = "") -> dict:
    if error:
        return {"level": level, "level_zh": LEVELS[level], "plan_tables": tables, "rows": 0, "consistent": 0,
                "deviating": 0, "unchecked": 0, "status": UNCHECKED, "reason": error}
    if df is None or not len(df):
        status, reason = ("规划无此层级", none_reason) if not tables else (UNCHECKED, other or "规划表中没有可对照的行")
        return {"level": level, "level_zh": LEVELS[level], "plan_tables": tables, "rows": 0, "consistent": 0,
                "deviating": 0, "unchecked": 0, "status": status, "reason": reason}
    n = df["status"].value_counts()
    c, d, u = int(n.get(CONSISTENT, 0)), int(n.get(DEVIATES, 0)), int(n.get(UNCHECKED, 0))
    reasons = df.loc[df["status"] == UNCHECKED, "reason"].value_counts()
    why = "；".join(f"{k}（{v} 行）" for k, v in reasons.head(4).items())
    status = "已核对" if u == 0 else "无法核对" if c + d == 0 else "部分核对"
    return {"level": level, "level_zh": LEVELS[level], "plan_tables": tables, "rows": len(df), "consistent": c,
            "deviating": d, "unchecked": u, "status": status, "reason": why}


def _tables_with(plan: Plan, attr: str) -> str:
    return "、".join(t.id for t in plan.tables if getattr(t, attr))


def plan_for(ref, base=None) -> Plan:
    """A plan from an id (``wuxi``), a loaded `Plan`, or a ``.toml`` path (relative to ``base``)."""
    if isinstance(ref, Plan):
        return ref
    return load_plan(resolve_plan_path(ref, base))


def check_against_plan(run, plan_ref) -> dict:
    """Every comparison of a run (`pipeline.RunResult` or `reports.stored_run.RunTables`) with a plan.

    Parameters
    ----------
    run
        The run's tables (``region, policy, base_year, demand, actions, schools, layout.sites``).
    plan_ref : str, Path or Plan
        A bundled plan id, a plan file, or a loaded plan.

    Returns
    -------
    dict
        ``plan, plan_name, horizon`` (the run period compared) ``, target_year, relation, levels, schools,
        actions, places, targets, notes``; the tables as described in docs/outputs.md.
    """
    plan = plan_for(plan_ref, getattr(run.region, "path", None))
    area = area_match(plan, run.region)
    fig = RunFigures(run, area.townships if area.relation == "plan_narrower" else None)
    target = plan.horizon
    period = fig.period_for(target) or fig.periods[-1]
    results: dict[str, pd.DataFrame] = {}
    errors: dict[str, str] = {}
    skipped: list[dict] = []
    for level, fn in (("schools", lambda: check_schools(plan, fig, area, period)),
                      ("actions", lambda: check_actions(plan, fig, area, period)),
                      ("places", lambda: check_places(plan, fig, area, period)),
                      ("targets", lambda: check_targets(plan, fig, area))):
        try:
            out = fn()
        except Exception as err:  # a plan never stops a run: the level is reported as not checked
            log.warning("对照规划 %s 的“%s”时出错：%r", plan.id, LEVELS[level], err)
            errors[level] = f"核对时出错（{type(err).__name__}: {err}），请把此信息报告给开发者"
            out = None
        if level == "actions" and out is not None:
            out, skipped = out
        results[level] = out if out is not None else _frame([], {"schools": SCHOOL_COLUMNS, "actions": ACTION_COLUMNS,
                                                                 "places": PLACES_COLUMNS, "targets": TARGET_COLUMNS}[level])
    per_school = _tables_with(plan, "per_school")
    other = "规划与本区域不是同一地区" if area.relation == "other" else ""
    levels = pd.DataFrame([
        _level_row("schools", per_school, results["schools"], "规划没有逐校布局表", errors.get("schools", ""), other),
        _level_row("actions", "、".join(x for x in (_tables_with(plan, "adjustments"), per_school) if x),
                   results["actions"], "规划没有学段×调整计数的表（也没有可汇总的逐校表）", errors.get("actions", ""), other),
        _level_row("places", "、".join(x for x in (_tables_with(plan, "places_added"), per_school) if x),
                   results["places"], "规划没有学位递增表（也没有可汇总的逐校表）", errors.get("places", ""), other),
        _level_row("targets", "、".join(dict.fromkeys(results["targets"]["source"])) if len(results["targets"]) else "",
                   results["targets"], "规划没有规划期内年份的指标", errors.get("targets", ""), other),
    ], columns=LEVEL_COLUMNS)
    notes = [f"对照规划：{plan.name}（原文 {plan.source}），规划期末 {target} 年；运行的布局取 {period} 年"
             + ("" if period == target else f"（运行规划期为 {'、'.join(map(str, fig.periods))}，取 {target} 年及以后的第一期）")
             + "，需求预测取各指标自己的年份。",
             area.sentence,
             "状态：一致 / 偏离 / 无法核对（原因写在 reason 列）。学生数、学位在规划数 ±5% 内为一致；所数须相等"
             "（印作“左右”的 ±10%、至少 ±1 所，“以上”“超过”按下限）；公办园占比、普惠率按规划值为下限；“消除”“化解”按零。",
             "调整类别与运行动作的对应：新建→新建；改扩建、扩建→改扩建；新(改、扩)建→新建+改扩建；撤销→撤销；合并→合并；"
             "撤并→撤销+合并；转变、调整办学类型→转变；缩减、分流→缩减；保留→保留+缩减（该表没有改扩建类时也含改扩建）。"
             "运行按学校计：一所学校在规划期末前各期的动作合为一个（期末撤销或合并的计为撤销或合并，否则依次为新建、转变、"
             "改扩建、缩减，都没有为保留）；运行的“合并”是撤销且原学生六成以上去往同一学校的撤销。"]
    if fig.all_column:
        notes.append(f"学生数取 demand.csv 的全部学生列 {fig.all_column}（设计方案 {getattr(fig.policy, 'design_variant', 'mid')}）；"
                     "公办园占比 = 公办 ÷ 全部，普惠率 = 普惠 ÷ 全部（pupils_inclusive）。")
    else:
        notes.append("demand.csv 只有公办学生（pupils）：规划的在校生总数（含民办）只在区域基准年没有民办学生的学段对照；"
                     f"公办园占比、普惠率需要全部在园幼儿列（{ALL_PUPILS_COLUMNS[0]}），有此列时自动对照。")
    if skipped:
        notes.append("调整表中未对照的行：" + "；".join(f"{x['table']} {x['text']}（{x['reason']}）" for x in skipped[:8])
                     + (f" 等 {len(skipped)} 行" if len(skipped) > 8 else "") + "。")
    return {"plan": plan.id, "plan_name": plan.name, "horizon": int(period), "target_year": int(target),
            "relation": area.relation, "levels": levels, "notes": notes, **results}


def plan_sentence(plan: Plan) -> str:
    """What a plan allows to be checked, in one sentence (for ``xuewei audit`` on a plan without per-school rows)."""
    parts = []
    if _tables_with(plan, "per_school"):
        parts.append(f"逐校布局（{_tables_with(plan, 'per_school')}；并由其汇总学段×调整与分乡镇的学位递增）")
    if _tables_with(plan, "adjustments"):
        parts.append(f"学段×调整计数（{_tables_with(plan, 'adjustments')}）")
    if _tables_with(plan, "places_added"):
        parts.append(f"学位递增（{_tables_with(plan, 'places_added')}）")
    targets = plan_items.headline_targets(plan)
    read = targets[(targets["metric"] != "") & (targets["year"] > plan.horizon - 5)]  # a five-year plan's own years
    if len(read):
        parts.append(f"总量指标（{'、'.join(dict.fromkeys(read['table']))}：" + "、".join(
            dict.fromkeys(plan_items.METRICS[m].split("（")[0] for m in read["metric"])) + "）")
    return "、".join(parts) if parts else "无可与运行对照的表"
