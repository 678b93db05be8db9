"""Population by age group (七普 tables: 0–4岁, 5–9岁, …, 85岁及以上) as single years of age.

The forecaster needs children by single year of age; a county's census tables give five-year groups.
`split_age_groups` reads the groups written in ``population_by_age``'s ``age`` column and splits each
into single ages by monotone (PCHIP) interpolation of the cumulative count at the group bounds, so
no age is negative and every group keeps its total; an open group (85岁及以上) stays one row with
``open_ended`` = 1. The same method as the bundled packs' builders (`data/builders/demography.py`).
"""

from __future__ import annotations

import logging
import re
import unicodedata

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

from xuewei.data.grade_columns import MeltedGrades
from xuewei.errors import InputError, Problem

log = logging.getLogger("xuewei")

_RANGE = re.compile(r"^(\d{1,3})\s*(?:岁)?\s*(?:-|－|—|–|~|～|至|到)\s*(\d{1,3})\s*(?:岁|周岁)?$")
_OPEN = re.compile(r"^(\d{1,3})\s*(?:岁|周岁)?\s*(?:及以上|以上|及其以上|\+|或以上)$")
_ONE = re.compile(r"^(\d{1,3})\s*(?:岁|周岁)$")


def read_age_group(text) -> tuple[int, int | None] | None:
    """An age group as ``(lowest, highest)`` years of age, ``highest`` None for an open group; None
    for a plain number or anything else.

    >>> [read_age_group(t) for t in ("0-4岁", "5～9", "85岁及以上", "100+", "0岁", "3", "15至19周岁", "老年")]
    [(0, 4), (5, 9), (85, None), (100, None), (0, 0), None, (15, 19), None]
    """
    t = unicodedata.normalize("NFKC", str(text)).strip().replace(" ", "")
    if m := _RANGE.match(t):
        lo, hi = int(m.group(1)), int(m.group(2))
        return (lo, hi) if lo <= hi else None
    if m := _OPEN.match(t):
        return int(m.group(1)), None
    if m := _ONE.match(t):
        return int(m.group(1)), int(m.group(1))
    return None


def single_ages(lows: np.ndarray, highs: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Persons by single age ``lows[0]`` … ``highs[-1]`` from contiguous closed groups [persons].

    The cumulative count at the group bounds is interpolated by PCHIP (monotone where the data are),
    so each group's single ages sum to its count and none is negative.

    >>> single_ages(np.array([0, 5]), np.array([4, 9]), np.array([500.0, 500.0])).round(1).tolist()
    [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]
    """
    knots = np.append(lows, highs[-1] + 1).astype(float)
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    if len(knots) == 2:  # one group: spread evenly
        return np.full(int(highs[-1] - lows[0] + 1), counts[0] / (highs[-1] - lows[0] + 1))
    values = np.diff(PchipInterpolator(knots, cum)(np.arange(lows[0], highs[-1] + 2, dtype=float)))
    return np.clip(values, 0.0, None)


def split_age_groups(df: pd.DataFrame, label: str) -> tuple[pd.DataFrame, MeltedGrades | None]:
    """``population_by_age`` rows whose ``age`` is a group (0-4岁, 85岁及以上) as single-age rows.

    Parameters
    ----------
    df : DataFrame
        The table as strings, headers read (``area_id, year, age, persons`` …).
    label : str
        The file, for messages.

    Returns
    -------
    (DataFrame, MeltedGrades or None)
        The single-age rows (strings; other columns of a group's row repeated) and the file row of
        each; the table unchanged and None when no ``age`` cell is a group.

    Raises
    ------
    InputError
        Groups of one area and year that overlap or leave a gap, naming the row.

    Examples
    --------
    >>> t = pd.DataFrame({"area_id": "A", "year": "2020", "age": ["0-4岁", "5-9岁", "10岁及以上"],
    ...                   "persons": ["500", "400", "3000"]})
    >>> out, src = split_age_groups(t, "p.csv")
    >>> out["age"].tolist()[:3], out["open_ended"].tolist()[-2:], src.rows.tolist()[-1]
    (['0', '1', '2'], ['0', '1'], 4)
    >>> round(sum(float(p) for p in out["persons"][:5]))
    500
    """
    if not {"age", "persons", "area_id", "year"} <= set(df.columns):
        return df, None
    if df["age"].map(read_age_group).isna().all():
        return df, None
    text = df["age"].map(lambda a: unicodedata.normalize("NFKC", str(a)).strip())
    plain = text.str.fullmatch(r"\d{1,3}")
    groups = pd.Series([(int(t), int(t)) if p else read_age_group(t) for t, p in zip(text, plain)], index=df.index,
                       dtype=object)
    problems: list[Problem] = []
    for i in np.flatnonzero(groups.isna().to_numpy())[:20]:
        problems.append(Problem(file=label, row=int(i) + 2, field="age", expected="单岁年龄或年龄组（如 0-4岁、85岁及以上）",
                                found=str(df["age"].iloc[i])))
    if problems:
        raise InputError(problems)
    persons = pd.to_numeric(df["persons"].astype(str).str.replace(",", "", regex=False).map(
        lambda v: unicodedata.normalize("NFKC", v)), errors="coerce")
    out_rows, source = [], []
    for _, block in df.groupby([df["area_id"].astype(str), df["year"].astype(str)], sort=False):
        idx = block.index.to_numpy()
        order = idx[np.argsort([groups[i][0] for i in idx], kind="stable")]
        lows = np.array([groups[i][0] for i in order])
        highs = np.array([groups[i][1] if groups[i][1] is not None else -1 for i in order])
        opened = np.array([groups[i][1] is None for i in order])
        for k in range(1, len(order)):
            if opened[k - 1] or lows[k] != highs[k - 1] + 1:
                problems.append(Problem(file=label, row=int(order[k]) + 2, field="age",
                                        expected=f"紧接上一组（{df['age'][order[k - 1]]}）的年龄组", found=str(df["age"][order[k]]),
                                        hint="同一地区、年份的年龄组须首尾相接、不重叠；开口组（如 85岁及以上）只能在最后。"))
        counts = persons[order]
        for i in order[(counts.isna() | (counts < 0)).to_numpy()]:  # a group's count must be read to split it
            problems.append(Problem(file=label, row=int(i) + 2, field="persons", expected="非负数值（人数）",
                                    found=str(df["persons"][i]) or "（空）"))
        if problems:
            continue
        closed = order[~opened]
        if len(closed):
            ages = single_ages(lows[~opened], highs[~opened], persons[closed].to_numpy(float))
            at = np.arange(lows[~opened][0], highs[~opened][-1] + 1)
            group_of = np.searchsorted(highs[~opened], at)  # the closed group each single age is in
            for a, v, g in zip(at, ages, group_of):
                out_rows.append({**block.loc[closed[g]].to_dict(), "age": str(a), "open_ended": "0", "persons": repr(float(v))})
                source.append(int(closed[g]) + 2)
        for i in order[opened]:
            out_rows.append({**block.loc[i].to_dict(), "age": str(groups[i][0]), "open_ended": "1"})
            source.append(int(i) + 2)
    if problems:
        raise InputError(problems[:20])
    out = pd.DataFrame(out_rows, columns=list(dict.fromkeys([*df.columns, "open_ended"])))
    n_groups = int((~plain).sum())
    log.warning("文件 %s：%d 行按年龄组给出（如“%s”）：按累计人数单调插值（PCHIP）拆成单岁，各组合计不变；开口组（如 85岁及以上）保留一行。",
                label, n_groups, df["age"][np.flatnonzero((~plain).to_numpy())[0]])
    return out, MeltedGrades(rows=np.array(source), headers=[], axis="age", value="persons")
