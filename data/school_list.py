"""A school list that carries its own classes and pupils, in place of ``school_stages.csv``.

Many bureaus keep one table of schools (学校名称, 办学类型, 所在乡镇, 班数, 在校生数 …) rather than one
row per school and stage. When a region has no ``school_stages`` file and ``schools`` has classes
and pupils columns, `school_stages_from_schools` makes the stage table from it: one row per school
in the base year, the stage from the school's kind (教学点 → 小学). A school that teaches several
stages (九年一贯制, 完全中学, 十二年一贯制) cannot be split and must be given in ``school_stages.csv``.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from xuewei.data.grade_columns import MeltedGrades
from xuewei.errors import Problem

log = logging.getLogger("xuewei")

#: The stage a single-stage kind of school teaches.
STAGE_OF_KIND = {"kindergarten": "kindergarten", "primary": "primary", "teaching_point": "primary",
                 "junior": "junior", "senior": "senior", "vocational": "vocational", "special": "special"}
#: The counts a school list may carry: these ``school_stages`` columns, under their headers there.
COUNTS = ("classes", "places", "pupils")


def count_columns(schools: pd.DataFrame) -> dict[str, str]:
    """``{school_stages column: header in schools}`` for the counts the school list carries, under the
    headers ``school_stages`` itself accepts (``data/schema/school_stages.csv``).

    >>> count_columns(pd.DataFrame(columns=["school_id", "班数", "在校生数"]))
    {'classes': '班数', 'pupils': '在校生数'}
    """
    from xuewei.data.tables import load_schema

    headers = {c.name: (c.name, *c.aliases) for c in load_schema("school_stages") if c.name in COUNTS}
    found = {}
    for col in COUNTS:
        header = next((h for h in headers[col] if h in schools.columns), None)
        if header is not None:
            found[col] = header
    return found


def school_stages_from_schools(schools: pd.DataFrame, label: str, base_year: int,
                               problems: list[Problem]) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """The stage table made from a school list's own classes and pupils, and the list without them.

    Parameters
    ----------
    schools : DataFrame
        ``schools`` as validated (``kind`` read), with classes and pupils columns under any header of
        `COUNT_HEADERS`.
    label : str
        The schools file, for messages.
    base_year : int
        The region's base year [year]: the year of the counts.
    problems : list of Problem
        Appended to: a multi-stage school, or a count that cannot be read (row of the schools file).

    Returns
    -------
    (DataFrame or None, DataFrame)
        ``school_stages`` rows (typed as the schema) — None when the list has no classes and pupils —
        and ``schools`` without the count columns.
    """
    from xuewei.data.tables import validate_frame

    cols = count_columns(schools)
    if not {"classes", "pupils"} <= set(cols):
        return None, schools
    stage = schools["kind"].map(STAGE_OF_KIND)
    for i in np.flatnonzero(stage.isna().to_numpy() & schools["kind"].notna().to_numpy())[:20]:
        problems.append(Problem(file=label, row=int(i) + 2, field="kind", expected="单一学段的学校（幼儿园、小学、教学点、初中、高中、中职、特教）",
                                found=str(schools["kind"].iloc[i]),
                                hint="一所学校有几个学段时，请在 school_stages.csv 中按学段分行给出班数和学生数。"))
    single = np.flatnonzero(stage.notna().to_numpy())
    raw = pd.DataFrame({"school_id": schools["school_id"].iloc[single].astype(str).to_numpy(),
                        "stage": stage.iloc[single].to_numpy(), "year": str(base_year)})
    for col in ("classes", "places", "pupils"):
        raw[col] = schools[cols[col]].iloc[single].astype(str).to_numpy() if col in cols else ""
    own: list[Problem] = []
    stages = validate_frame(raw, "school_stages", label, problems=own)
    header = {c: h for c, h in cols.items()}
    problems += [dataclasses.replace(p, field=header.get(p.field, p.field))
                 for p in MeltedGrades(rows=single + 2, headers=[]).remap(own)]
    log.warning("文件 %s：没有 school_stages 表，按学校表自带的%s（%d 所单一学段学校，%d 年）生成各校学段的班数与学生数。",
                label, "、".join(f"“{cols[c]}”" for c in ("classes", "places", "pupils") if c in cols), len(single), base_year)
    return stages, schools.drop(columns=list(cols.values()))
