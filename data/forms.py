"""The forms in which planners really keep a region's tables, read into the pack's own.

Run by `xuewei.data.region.load_region` after each table is read, before references are checked:

- `ids_for_names`: a township or school written by name where its code belongs;
- `stages_from_school_list`: a school list carrying its own classes and pupils instead of
  ``school_stages.csv`` (`xuewei.data.school_list`);
- `fill_stage_years`: a stage table without years is the base year's;
- `fill_places`: places left out, from classes × the national standard class size;
- `warn_without_county_seat`: no township of tier ``county_seat``.

Each says what it did in a warning; none touches the files.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from xuewei.data.tables import value_zh
from xuewei.errors import Problem

log = logging.getLogger("xuewei")


def usable(tables: dict[str, pd.DataFrame], table: str, column: str) -> bool:
    """Whether ``table`` was read and its ``column`` is there and readable."""
    return table in tables and column in tables[table] and column not in tables[table].attrs.get("missing_columns", ())


def ids_for_names(tables: dict[str, pd.DataFrame], labels: dict[str, str], table: str, column: str, target: str,
                   target_col: str, bad: pd.Series) -> pd.Series:
    """Read a name written where an id belongs (城厢镇 for 500238001) as the id, when exactly one row
    of ``target`` has that name (compared as `normalise_value`), with one warning per column; the
    table's column is replaced, the file is not touched. Returns the column."""
    from xuewei.data.tables import ids_by_unique_name, normalise_value

    by_name = ids_by_unique_name(tables[target], target_col)
    values = tables[table][column]
    mapped = values[bad].astype(str).map(normalise_value).map(by_name).dropna()
    if len(mapped):
        first = mapped.index[0]
        log.warning("文件 %s 字段“%s”：%d 行写的是名称而非编号（如第 %d 行“%s”），已按 %s 中唯一同名的一行读作编号（“%s”）。",
                    labels[table], column, len(mapped), int(values.index.get_loc(first)) + 2,
                    values[first], Path(labels[target]).name, mapped[first])
        values = values.copy()
        values[mapped.index] = mapped
        tables[table][column] = values
    return values


#: Standard class size used for places a school's row does not give (``data/standards.toml``).
PLACES_CAP = {"kindergarten": "class_cap.kindergarten", "primary": "class_cap.primary", "junior": "class_cap.junior",
              "senior": "class_cap.senior"}


def fill_stage_years(tables: dict[str, pd.DataFrame], labels: dict[str, str], base_year: int | None) -> None:
    """``school_stages`` rows without a year (the column left out, or a cell blank) are the base year's
    statistics — the only year a school list is usually given for —, with a warning."""
    if "school_stages" not in tables or "year" not in tables["school_stages"] or base_year is None:
        return
    ss = tables["school_stages"]
    empty = ss["year"].isna()
    if empty.any():
        ss = ss.copy()
        ss["year"] = ss["year"].astype("Int64").fillna(int(base_year)).astype("int64")
        log.warning("文件 %s：%d 行没有年份，按基准年 %d 计。", labels["school_stages"], int(empty.sum()), base_year)
        tables["school_stages"] = ss


def fill_places(tables: dict[str, pd.DataFrame], labels: dict[str, str], problems: list[Problem]) -> None:
    """Places a ``school_stages`` row leaves empty (bureaus often know classes and pupils only) are
    classes × the national standard class size of the stage (a 教学点's primary: 30), with a warning;
    a stage without a standard size (中职, 特教) must give them."""
    from xuewei.data.standards import standard

    if not usable(tables, "school_stages", "classes") or "places" not in tables["school_stages"]:
        return
    ss = tables["school_stages"]
    empty = ss["places"].isna() & ss["classes"].notna()
    if not empty.any():
        return
    kind = ss["school_id"].map(dict(zip(tables["schools"]["school_id"], tables["schools"]["kind"]))) \
        if usable(tables, "schools", "kind") else pd.Series("", index=ss.index)
    cap = ss["stage"].map(lambda g: standard(PLACES_CAP[g]) if g in PLACES_CAP else np.nan).astype(float)
    cap = cap.mask((ss["stage"] == "primary") & (kind == "teaching_point"), float(standard("class_cap.primary_incomplete")))
    fill = empty & cap.notna()
    for i in np.flatnonzero((empty & cap.isna()).to_numpy())[:20]:
        problems.append(Problem(file=labels["school_stages"], row=int(i) + 2, field="places", expected="学位数",
                                found="空", hint="该学段没有国家标准班额可据以推算，请填写学位数。"))
    if fill.any():
        ss = ss.copy()
        ss["places"] = ss["places"].astype("Float64").mask(fill, ss["classes"] * cap).round().astype("Int64")
        if not ss["places"].isna().any():
            ss["places"] = ss["places"].astype("int64")
        used = sorted({(g, int(c)) for g, c in zip(ss.loc[fill, "stage"], cap[fill])})
        log.warning("文件 %s：%d 行没有学位数，按班数 × 国家标准班额推算（%s；GB 50099-2011、《幼儿园工作规程》）。",
                    labels["school_stages"], int(fill.sum()), "、".join(f"{value_zh('school_stages', 'stage', g)} {c} 人/班"
                                                                          for g, c in used))
        tables["school_stages"] = ss


def stages_from_school_list(tables: dict[str, pd.DataFrame], labels: dict[str, str], problems: list[Problem],
                             folder: Path, base_year: int | None) -> None:
    """No ``school_stages`` file: make it from the school list's own classes and pupils
    (`xuewei.data.school_list`), or report the missing table."""
    from xuewei.data.school_list import school_stages_from_schools

    missing = Problem(file=str(folder / "school_stages.csv"), expected="必需的数据表", found="缺失",
                      hint="或在 schools 表中给出各校的班数和在校生数（单一学段的学校）。")
    if "schools" not in tables or "kind" not in tables["schools"] or base_year is None:
        problems.append(missing)
        return
    stages, schools = school_stages_from_schools(tables["schools"], labels["schools"], base_year, problems)
    if stages is None:
        problems.append(missing)
        return
    tables["school_stages"], tables["schools"], labels["school_stages"] = stages, schools, labels["schools"]


def warn_without_county_seat(tables: dict[str, pd.DataFrame], labels: dict[str, str]) -> None:
    """Warn when a county (a ``county_id`` group, or the whole region) has no township of tier
    ``county_seat``: senior schools may then only stay where they are, and no pupil moves to the
    county seat — almost always a tier left blank (read as ``township_seat``) rather than a county
    without a 县城."""
    if not usable(tables, "townships", "tier"):
        return
    t = tables["townships"]
    groups = t["county_id"].astype(str).str.strip() if usable(tables, "townships", "county_id") else pd.Series("", index=t.index)
    for county, tiers in t["tier"].groupby(groups):
        if not (tiers == "county_seat").any():
            where = f"区县“{county}”" if county else "本区域"
            log.warning("文件 %s：%s没有层级为 county_seat（县城）的乡镇：普通高中只能在县城新建或扩建、县城的学位规则也用不上。"
                        "请在 tier 列标出县城所在的街道或镇（未填的按 township_seat 乡镇驻地计）。", labels["townships"], where)
