"""What a plan's tables say, read into tidy items that a run can be set beside.

Four kinds of item, one function each; every item keeps the plan's table id and verbatim quote:

- `school_rows`: per-school rows of tables that declare ``per_school`` (巫溪 表3–表6): classes and
  places before and after, the plan's own action;
- `adjustment_counts`: 学段 × 调整 counts of tables that declare ``adjustments`` (江阳 专栏7, 乐山 专栏14,
  内江 专栏5/专栏7, 桓台 表2): the count, the run actions it is compared with (`category_actions`) and
  the kinds of school it covers (`scope_kinds`);
- `places_added`: 学位递增 by area × stage of tables that declare ``places_added`` (内江 专栏6) [places];
- `headline_targets`: indicator rows by year, read as one of `METRICS` (pupils by stage, 公办园 share,
  大班额, 大校额, class size) or kept with the reason they cannot be read.

The reading rules are word lists, written out below and in docs/plans-format.md, so that a planner can
see why a row was read as it was. Nothing here looks at a run (see `plan_check`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from xuewei.data.plans import Plan

# --- 调整 categories → the run's actions (see optimizer/actions.py) ------------------------------------
# Matched on the category text with brackets and punctuation removed, so 新(改、扩)建 reads as 新改扩建.
ACTION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("新改扩建", ("build", "expand")),
    ("新建", ("build",)),
    ("扩建", ("expand",)),
    ("改建", ("expand",)),
    ("撤并", ("close", "merge")),
    ("撤销", ("close",)),
    ("合并", ("merge",)),
    ("并入", ("merge",)),
    ("转变", ("convert",)),
    ("办学类型", ("convert",)),
    ("转型", ("convert",)),
    ("保留", ("keep",)),
    ("缩减", ("reduce",)),
    ("分流", ("reduce",)),
)
# A plan's 保留 also counts the run's schools that only shrank (缩减), and those that grew when the same
# table has no 改扩建 category of its own (江阳 专栏7: 新建/合并/撤销/调整/保留).
KEEP_ALSO = ("reduce",)

# --- 学段 words → kinds of school (schools.csv `kind`) ------------------------------------------------
ALL_KINDS = ("kindergarten", "primary", "teaching_point", "junior", "nine_year", "complete_secondary", "senior",
             "vocational", "special")
SCOPE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("中小学", ("primary", "junior", "nine_year", "complete_secondary", "senior")),
    ("九年一贯制", ("nine_year",)),
    ("完全中学", ("complete_secondary",)),
    ("教学点", ("teaching_point",)),
    ("幼儿园", ("kindergarten",)),
    ("学前", ("kindergarten",)),
    ("义务教育", ("primary", "teaching_point", "junior", "nine_year")),
    ("初级中学", ("junior",)),
    ("初中", ("junior",)),
    ("小学", ("primary",)),
    ("普通高中", ("senior", "complete_secondary")),
    ("高中", ("senior", "complete_secondary")),
    ("中学", ("junior", "complete_secondary", "senior")),
    ("中职", ("vocational",)),
    ("职业", ("vocational",)),
    ("特殊教育", ("special",)),
)

# --- indicator names → metrics -------------------------------------------------------------------------
METRICS = {"pupils": "在校生（人）", "public_share": "公办园在园幼儿占比（%）",
           "inclusive_share": "普惠性幼儿园在园幼儿占比（%）", "oversized_classes": "大班额（班）",
           "large_schools": "大校额（所）", "class_size_max": "最大平均班额（人/班）"}
# Stage words of a pupils indicator, most specific first; read from the indicator's name, else its group.
PUPIL_STAGE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("义务教育", ("primary", "junior")),
    ("高中阶段", ("senior", "vocational")),
    ("高中段", ("senior", "vocational")),
    ("普通高中", ("senior",)),
    ("中等职业", ("vocational",)),
    ("中职", ("vocational",)),
    ("普通小学", ("primary",)),
    ("小学", ("primary",)),
    ("普通初中", ("junior",)),
    ("初中", ("junior",)),
    ("学前", ("kindergarten",)),
    ("幼儿", ("kindergarten",)),
    ("在园", ("kindergarten",)),
)
CLASS_STAGE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("义务教育", ("primary", "junior")), ("普通高中", ("senior",)), ("高中", ("senior",)), ("小学", ("primary",)),
    ("初中", ("junior",)), ("幼儿", ("kindergarten",)), ("学前", ("kindergarten",)))
PUPIL_WORDS = ("在校", "在园", "幼儿数", "学生数", "在学", "人数")
NOT_PUPILS = ("率", "比", "年限", "教师", "毕业", "就业", "覆盖")
ELIMINATE = ("消除", "化解")
SCALE = {"万人": 10_000.0, "人": 1.0, "万": 10_000.0}
UNITS = (*SCALE, "%", "个", "所", "年", "班", "人/班")
NAME_FIELDS = ("主要指标", "指标", "事项")
GROUP_FIELDS = ("分类", "类别", "学段")
_PUNCT = re.compile(r"[\s()（）、，,。；;：:“”\"'《》\[\]【】/—-]+")
_BRACKET_UNIT = re.compile(r"[（(]([^（）()]*)[)）]\s*$")
_NUMBER = re.compile(r"^\s*(＞|>|≥|>=|不低于|超过|达到)?\s*(\d+(?:\.\d+)?)\s*(%)?\s*(以上|左右)?\s*$")


def _plain(text) -> str:
    return _PUNCT.sub("", str(text or ""))


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


def category_actions(text: str) -> tuple[str, ...]:
    """The run actions a plan's 调整 category counts, e.g. ``新(改、扩)建`` → ``("build", "expand")``.

    >>> category_actions("调整公办学校办学类型"), category_actions("拟撤销"), category_actions("实施学校")
    (('convert',), ('close',), ())
    """
    plain, out = _plain(text), []
    for word, actions in ACTION_WORDS:
        if word in plain:
            out += [a for a in actions if a not in out]
            plain = plain.replace(word, "")
    return tuple(out)


def scope_kinds(text: str) -> tuple[str, ...]:
    """Kinds of school a plan's 学段 text covers; every kind when it names none.

    >>> scope_kinds("中小学（幼儿园）")
    ('primary', 'junior', 'nine_year', 'complete_secondary', 'senior', 'kindergarten')
    """
    plain, out = _plain(text), []
    for word, kinds in SCOPE_WORDS:
        if word in plain:
            out += [k for k in kinds if k not in out]
            plain = plain.replace(word, "")
    return tuple(out) or ALL_KINDS


def _stages_from(words, *texts) -> tuple[str, ...]:
    for text in texts:
        plain = _plain(text)
        for word, stages in words:
            if word in plain:
                return stages
    return ()


# ------------------------------------------------------------------------------------------------------
def school_rows(plan: Plan) -> pd.DataFrame:
    """Per-school rows of every table declaring ``per_school``, one row per school and table.

    A school printed on several rows (巫溪 表3 县幼儿园: 2021 and 2025) keeps its first row's
    "before" and its last row's "after". Stages are declared per table, else read from the name
    (小学 → primary; 初中/中学 → junior; otherwise both compulsory stages, as for 九年一贯制).

    Returns
    -------
    DataFrame
        ``table, plan_name, year, stages, classes_before, places_before, classes_plan, places_plan,
        plan_action, source_quote``; classes [classes], places [places]; ``plan_action`` is build,
        expand, reduce or keep.
    """
    rows = []
    for t in plan.tables:
        ps = t.per_school
        if not ps:
            continue
        skip = set(ps.get("skip", []))
        by_school: dict[str, list[dict]] = {}
        for r in t.rows:
            name = str(r.get(ps["name"], "")).strip()
            if name and name not in skip:
                by_school.setdefault(name, []).append(r)
        for name, rs in by_school.items():
            first, last = rs[0], rs[-1]
            year = ps.get("year", plan.horizon)
            year = str(last.get(year, "")).replace("年", "").strip() if isinstance(year, str) else str(year)
            stages = tuple(ps["stages"]) if "stages" in ps else (
                ("primary",) if "小学" in name else ("junior",) if ("初中" in name or "中学" in name)
                else ("primary", "junior"))
            rows.append({"table": t.id, "plan_name": name, "year": year or str(plan.horizon), "stages": stages,
                         "classes_before": _num(first.get(ps["classes_before"])),
                         "places_before": _num(first.get(ps.get("places_before", ""))),
                         "classes_plan": _num(last.get(ps["classes_after"])),
                         "places_plan": _num(last.get(ps.get("places_after", ""))),
                         "source_quote": " / ".join(str(r["source_quote"]) for r in rs)})
    cols = ["table", "plan_name", "year", "stages", "classes_before", "places_before", "classes_plan", "places_plan",
            "plan_action", "source_quote"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    out["plan_action"] = np.select(
        [out["classes_before"] == 0, out["classes_plan"] > out["classes_before"],
         out["classes_plan"] < out["classes_before"]], ["build", "expand", "reduce"], "keep")
    return out[cols]


def _qualifier(*texts) -> str:
    text = "".join(str(t or "") for t in texts)
    for word, q in (("不超过", "≤"), ("以内", "≤"), ("以上", "≥"), ("超过", ">"), ("不低于", "≥"), ("左右", "≈")):
        if word in text:
            return q
    return ""


def adjustment_counts(plan: Plan) -> tuple[pd.DataFrame, list[dict]]:
    """学段 × 调整 counts of every table declaring ``adjustments``.

    Long tables name the category in ``item_field`` and the count in ``count_field`` (江阳 专栏7:
    事项 / 数量); wide ones have one column per category (内江 专栏5: 撤销、合并、转变). Rows whose
    category is no school action (实施项目、校舍面积) or whose unit is not 所/个 are returned apart,
    with the reason.

    Returns
    -------
    counts : DataFrame
        ``table, area, is_total, area_code, scope, category, count_schools, count_text, qualifier,
        actions, kinds, source_quote``; ``count_schools`` [schools] is NaN when printed as a range or
        a word (1—2, 若干), then ``count_text`` holds it.
    skipped : list of dict
        ``table, text, reason`` per row not compared.
    """
    rows, skipped = [], []
    for t in plan.tables:
        adj = t.adjustments
        if not adj:
            continue
        codes = adj.get("area_codes", {})
        stage_field = adj.get("stage_field")
        if "count_fields" in adj:
            cells = [(r, col, r.get(col), "") for r in t.rows for col in adj["count_fields"]]
        else:
            cells = [(r, r.get(adj["item_field"], ""), r.get(adj["count_field"]), str(r.get("单位", "")))
                     for r in t.rows]
        table_rows = []
        for r, category, count, unit in cells:
            scope = str(r.get(stage_field, "")) if stage_field else ""
            area = str(r.get(adj["area_field"], "")) if adj.get("area_field") else ""
            actions = category_actions(category)
            if not actions:
                skipped.append({"table": t.id, "text": f"{scope}{category} {count}{unit}",
                                "reason": "不是学校的新建、改扩建、撤并、转变或保留"})
                continue
            if unit and not unit.startswith(("所", "个")):
                skipped.append({"table": t.id, "text": f"{scope}{category} {count}{unit}",
                                "reason": f"单位为“{unit}”，不是学校数"})
                continue
            kinds = scope_kinds(scope) if scope.strip() else scope_kinds(category)
            number = count if isinstance(count, (int, float)) and not isinstance(count, bool) else np.nan
            table_rows.append({"table": t.id, "area": area, "is_total": bool(area) and area == adj.get("total_label"),
                               "area_code": codes.get(area, ""), "scope": scope, "category": str(category),
                               "count_schools": float(number), "count_text": str(count),
                               "qualifier": _qualifier(unit, r.get("备注", ""), count),
                               "actions": actions, "kinds": kinds, "source_quote": r["source_quote"]})
        has_expand = any("expand" in x["actions"] for x in table_rows)
        for x in table_rows:
            if x["actions"] == ("keep",):
                x["actions"] = ("keep",) + KEEP_ALSO + (() if has_expand else ("expand",))
        rows += table_rows
    cols = ["table", "area", "is_total", "area_code", "scope", "category", "count_schools", "count_text", "qualifier",
            "actions", "kinds", "source_quote"]
    return pd.DataFrame(rows, columns=cols), skipped


def places_added(plan: Plan) -> pd.DataFrame:
    """学位递增 of every table declaring ``places_added``: one row per area × stage column.

    Returns
    -------
    DataFrame
        ``table, area, is_total, area_code, stage_label, stages, places, source_quote`` [places].
    """
    rows = []
    for t in plan.tables:
        pa = t.places_added
        if not pa:
            continue
        codes = pa.get("area_codes", {})
        for r in t.rows:
            area = str(r.get(pa["area_field"], ""))
            for col, stages in pa["stage_fields"].items():
                value = r.get(col)
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    continue
                rows.append({"table": t.id, "area": area, "is_total": area == pa.get("total_label"),
                             "area_code": codes.get(area, ""), "stage_label": col, "stages": tuple(stages),
                             "places": float(value), "source_quote": r["source_quote"]})
    return pd.DataFrame(rows, columns=["table", "area", "is_total", "area_code", "stage_label", "stages", "places",
                                       "source_quote"])


# ------------------------------------------------------------------------------------------------------
def _field(row: dict, names) -> tuple[str, str]:
    for n in names:
        if n in row:
            return n, str(row[n])
    return "", ""


def _parse_target(value, unit: str, remark: str, name: str) -> tuple[float, str, str]:
    """``(number, comparison, printed)`` of a target cell; comparison ``≈ ≥ > ≤ =0`` or ``""`` (unread)."""
    printed = str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), _qualifier(unit, remark, name), printed
    text = str(value).strip()
    if any(w in text for w in ELIMINATE):
        return 0.0, "=0", printed
    m = _NUMBER.match(text)
    if m:
        q = {"＞": ">", ">": ">", "≥": "≥", ">=": "≥", "不低于": "≥", "超过": ">", "达到": "≥"}.get(m.group(1) or "", "")
        q = q or {"以上": "≥", "左右": "≈"}.get(m.group(4) or "", "") or _qualifier(unit, remark)
        return float(m.group(2)), q, printed
    return np.nan, "", printed


def _unit_of(row: dict, name: str) -> str:
    unit = str(row.get("单位", "")).strip()
    if unit and unit != "-":
        return unit.replace("以上", "").replace("左右", "")
    m = _BRACKET_UNIT.search(name)
    return m.group(1) if m and m.group(1) in UNITS else ""


def _read_indicator(name: str, group: str) -> tuple[str, tuple[str, ...], float | None]:
    """``(metric, stages, threshold)`` of one indicator, or ``("", (), None)`` when it is none of `METRICS`."""
    plain = _plain(name)
    if "大班额" in plain:
        return "oversized_classes", _stages_from(CLASS_STAGE_WORDS, group, name) or ("primary", "junior", "senior"), None
    m = re.search(r"(\d+)人以上", plain)
    if "大校额" in plain or ("人以上" in plain and "校" in plain and any(w in plain for w in ELIMINATE)):
        return "large_schools", _stages_from(CLASS_STAGE_WORDS, name, group), float(m.group(1)) if m else None
    if "班额不超过" in plain:
        return "class_size_max", _stages_from(CLASS_STAGE_WORDS, group, name), None
    if "公办" in plain and any(w in plain for w in ("占比", "比率", "比例")) and any(w in plain for w in ("幼儿", "园")):
        return "public_share", ("kindergarten",), None
    if "普惠" in plain and any(w in plain for w in ("率", "占比", "比例")) and any(w in plain for w in ("幼儿", "园")):
        return "inclusive_share", ("kindergarten",), None  # 普惠性幼儿园覆盖率 = 普惠园在园幼儿 ÷ 在园幼儿
    bare = plain.removeprefix("其中")
    is_stage_word = any(bare == w or bare == w + "教育" for w, _ in PUPIL_STAGE_WORDS)
    if (any(w in plain for w in PUPIL_WORDS) or is_stage_word) and not any(w in plain for w in NOT_PUPILS):
        return "pupils", _stages_from(PUPIL_STAGE_WORDS, bare, group), None
    return "", (), None


def headline_targets(plan: Plan) -> pd.DataFrame:
    """Every indicator row of the plan by year, read as a metric or kept with why it is not.

    Read are indicator tables (``kind = "indicator"``) with year columns (``2025年``) or 年份/目标
    columns, and sentence tables that declare ``target_year``. A pupils row without a unit of its own
    (巫溪 表2 “其中：普通小学”) takes the unit of the pupils row above it in the same group; a table's
    ``read_as`` overrides a misprinted unit, with its note.

    Returns
    -------
    DataFrame
        ``table, indicator, group, year, metric, stages, threshold, value, comparison, value_text, unit,
        scale, read_note, source_quote``; ``metric`` is "" for rows not read (then ``read_note`` says
        why); ``value`` × ``scale`` is in the metric's unit (`METRICS`).
    """
    rows = []
    for t in plan.tables:
        years = t.year_columns()
        by_year_fields = "年份" in t.columns and "目标" in t.columns
        if not (t.kind == "indicator" and (years or by_year_fields)) and t.target_year is None:
            continue
        read_as = {r["row"]: r for r in t.read_as}
        group_header = ""
        last_unit: dict[str, str] = {}
        for j, r in enumerate(t.rows, start=1):
            _, name = _field(r, NAME_FIELDS)
            gfield, group = _field(r, GROUP_FIELDS)
            cells = ([(y, r.get(col)) for col, y in years.items()] if years else
                     [(r.get("年份"), r.get("目标"))] if by_year_fields else [(t.target_year, r.get("数量"))])
            if all(str(v).strip() == "" for _, v in cells):
                group_header = name  # a group title row (江阳、桓台 主要指标表)
                continue
            group = group or group_header
            metric, stages, threshold = _read_indicator(name, group)
            unit = _unit_of(r, name)
            note = ""
            if j in read_as:
                unit, note = read_as[j]["unit"], read_as[j]["note"]
            if metric == "pupils":
                if unit in SCALE:
                    last_unit[group] = unit
                elif not unit:
                    unit = last_unit.get(group, "")
                    note = note or (f"单位取同组上一行的“{unit}”" if unit else "")
            if metric == "large_schools" and threshold is None and "人" in unit:
                threshold = _num(r.get("数量"))
            if metric and not stages:
                metric, note = "", f"学段（{group or name}）不是本工具规划的学段"
            elif metric == "pupils" and unit not in SCALE:
                metric, note = "", f"单位不明（“{unit}”），无法换算为人数"
            elif not metric:
                note = "不是在校生、公办园占比、大班额、大校额或班额指标（入学率、教师、投入等本工具不计算）"
            for year, value in cells:
                if str(value).strip() == "" or not str(year).strip().isdigit():
                    continue
                number, comparison, printed = _parse_target(value, str(r.get("单位", "")), str(r.get("备注", "")),
                                                            name)
                if metric == "large_schools" and threshold is not None and not isinstance(value, str):
                    number, comparison = 0.0, "=0"  # 全面消除5000人以上普通高中校点: none above the threshold
                if metric in ("pupils", "public_share", "inclusive_share") and comparison == "":
                    comparison = "≈" if metric == "pupils" else "≥"
                if metric and np.isnan(number):
                    row_note = f"目标“{printed}”不是可比的数"
                    row_metric = ""
                else:
                    row_note, row_metric = note, metric
                rows.append({"table": t.id, "indicator": name, "group": group, "year": int(year),
                             "metric": row_metric, "stages": stages, "threshold": threshold, "value": number,
                             "comparison": comparison if row_metric else "", "value_text": printed, "unit": unit,
                             "scale": SCALE.get(unit, 1.0) if row_metric == "pupils" else 1.0,
                             "read_note": row_note, "source_quote": r["source_quote"]})
    return pd.DataFrame(rows, columns=["table", "indicator", "group", "year", "metric", "stages", "threshold", "value",
                                       "comparison", "value_text", "unit", "scale", "read_note", "source_quote"])
