"""Grade tables written one column per grade, as statistical yearbooks and school returns print them.

A bureau's table is often::

    地区, 学年, 一年级, 二年级, 三年级, 四年级, 五年级, 六年级, 合计
    城厢镇, 2019, 412, 405, 398, 377, 380, 366, 2338

or, as plans print it, one row per area and grade and one column per year (``地区, 年级, 2019年,
2020年, …``). `melt_grade_columns` turns either into the tidy ``area, year, grade, pupils`` rows the
forecaster reads (one row per area, year and grade), with a warning. An empty cell is a grade the area did not have
that year (a new school adding a grade a year), not zero. A total column (合计, 小计, 总计) is
checked against the grades' sum and not read. Every problem found later on the tidy rows is
pointed back at the file's own row and column (`MeltedGrades.remap`).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata

import numpy as np
import pandas as pd

from xuewei.data.tables import normalise_value, plain_count
from xuewei.errors import InputError, Problem
from xuewei.labels import LABEL_READERS

log = logging.getLogger("xuewei")

#: Headers of a total column (as `normalise_value` gives them).
TOTAL_HEADERS = frozenset({"合计", "小计", "总计", "总数", "共计", "合计人数", "在校生合计", "total", "sum"})
#: Names of an area row that is the sum of the others (as `normalise_value` gives them).
TOTAL_AREAS = TOTAL_HEADERS | frozenset({"全县", "全区", "全市", "全旗", "全镇", "全省", "县合计", "全县合计", "区合计",
                                         "市合计", "all"})
#: The grades a column header may stand for (小班 = −2 … 高三 = 12; 13 for a 五四制 高中 reading).
GRADE_RANGE = (-3, 13)
EMPTY = frozenset({"", "nan", "none", "null"})


@dataclasses.dataclass
class MeltedGrades:
    """Where each tidy row came from in the wide file.

    Attributes
    ----------
    rows : ndarray of int
        Spreadsheet row (header = 1) of each tidy row.
    headers : list of str
        The file's header of each tidy row's cell (e.g. ``一年级``, or ``2019年`` with years as columns);
        empty when the columns are the file's own (only rows moved: age groups split into single ages).
    axis : str
        ``grade`` (one column per grade) or ``year`` (one column per year).
    value : str
        The tidy column of the cells (``pupils``, ``births``).
    """

    rows: np.ndarray
    headers: list[str]
    axis: str = "grade"  # the tidy column the file spreads over its columns
    value: str = "pupils"  # the tidy column the cells hold

    def remap(self, problems: list[Problem]) -> list[Problem]:
        """Problems found on the tidy rows, pointed at the file's row, and at the grade column for a
        grade or pupils cell.

        >>> m = MeltedGrades(rows=np.array([2, 2, 3]), headers=["一年级", "二年级", "一年级"])
        >>> m.remap([Problem(file="g.csv", row=4, field="pupils", expected="非负整数", found="-1")])[0]
        Problem(file='g.csv', row=3, field='一年级', expected='非负整数', found='-1', hint=None)
        """
        out = []
        for p in problems:
            i = None if p.row is None else p.row - 2
            if i is None or not 0 <= i < len(self.rows):
                out.append(p)
                continue
            field = self.headers[i] if self.headers and p.field in (self.value, self.axis) else p.field
            out.append(dataclasses.replace(p, row=int(self.rows[i]), field=field))
        return out


def is_total_area(name: str) -> bool:
    """Whether an area is named as a total (合计, 全县, 总计 …) rather than a place.

    >>> is_total_area("全 县"), is_total_area("合计"), is_total_area("城厢镇")
    (True, True, False)
    """
    return normalise_value(name) in TOTAL_AREAS


#: What a wide table's header may add to a grade or year (``一年级（人）``, ``2019年出生人数``).
_HEADER_UNIT = re.compile(r"\s*([（(]\s*(人|个|名)\s*[)）]|在校生数|在校学生数|在校生|学生数|学生|人数|出生人数|出生人口|出生数)$")


def _bare(header) -> str:
    """A column header without the unit or count it names.

    >>> [_bare(h) for h in ("一年级（人）", "初一在校生", "2019年出生人数", "合计")]
    ['一年级', '初一', '2019年', '合计']
    """
    text = str(header).strip()
    while True:
        shorter = _HEADER_UNIT.sub("", text)
        if shorter == text or not shorter:
            return text
        text = shorter


def _number(text: str) -> float:
    text = unicodedata.normalize("NFKC", str(text)).replace(",", "").strip()
    try:
        return float(text)
    except ValueError:
        return np.nan


def _one_column_each(value_of: dict[str, int], what: str, label: str) -> list[Problem]:
    """A problem for each column that stands for the same grade (year) as an earlier one."""
    seen: dict[int, str] = {}
    problems = []
    for header, v in value_of.items():
        if v in seen:
            problems.append(Problem(file=label, row=1, field=header, expected=f"每个{what}只有一列",
                                    found=f"与列“{seen[v]}”同为{what} {v}"))
        seen.setdefault(v, header)
    return problems


def _cells(df: pd.DataFrame, headers: list[str], label: str) -> tuple[np.ndarray, np.ndarray]:
    """The counts of ``headers`` as plain text (a warning naming the file's row and column where
    full-width digits or thousands separators were read) and where they are not empty."""
    written = df[headers].astype(str).apply(lambda s: s.str.strip())
    cells = written.apply(lambda s: s.map(plain_count)).to_numpy()
    changed = np.argwhere(cells != written.to_numpy())
    if len(changed):
        r, c = changed[0]
        log.warning("文件 %s 第 %d 行起（列“%s”）含全角数字或千位分隔符（如“%s”），已按 %s 读取。", label, r + 2,
                    headers[c], written.iat[r, c], cells[r, c])
    return cells, ~np.isin(np.char.lower(cells.astype(str)), list(EMPTY))


#: What a header may stand for when the table is spread over it: (valid range, one column per …).
SPREAD = {"grade": ((-3, 13), "年级"), "year": ((1949, 2100), "年份")}


def melt_grade_columns(df: pd.DataFrame, label: str) -> tuple[pd.DataFrame, MeltedGrades | None]:
    """A wide grade table as tidy ``area, year, grade, pupils`` rows.

    Two layouts are read: ``area, year`` and one column per grade (``一年级``, ``初一``, ``3``), as
    yearbooks print it; or ``area, grade`` and one column per year (``2019``, ``2019年``,
    ``2019-2020学年``), as plans print it. A total column (合计) — or, with years as columns, a total
    row — is checked against the sum and not read.

    Parameters
    ----------
    df : DataFrame
        The file as strings, its headers already read (``area`` and ``year`` or ``grade`` named).
    label : str
        The file, for messages.

    Returns
    -------
    (DataFrame, MeltedGrades or None)
        The tidy rows (strings; empty cells left out) and where each came from; the table unchanged
        and None when it is tidy (both ``year`` and ``grade``; or a ``pupils`` column and fewer than
        two grade columns), or has no column named as a grade (or year). A ``pupils`` column (在校生)
        beside two or more grade columns is their total.

    Raises
    ------
    InputError
        Two columns for the same grade (year), or an area and year (grade) on two rows.

    Examples
    --------
    >>> wide = pd.DataFrame({"area": ["A", "A"], "year": ["2019", "2020"], "一年级": ["10", "11"],
    ...                      "二年级": ["", "9"], "合计": ["10", "20"]})
    >>> tidy, src = melt_grade_columns(wide, "g.csv")
    >>> tidy.values.tolist()
    [['A', '2019', '1', '10'], ['A', '2020', '1', '11'], ['A', '2020', '2', '9']]
    >>> src.rows.tolist(), src.headers
    ([2, 3, 3], ['一年级', '一年级', '二年级'])
    >>> by_year = pd.DataFrame({"area": ["A", "A", "A"], "grade": ["一年级", "二年级", "合计"],
    ...                         "2019年": ["10", "", "10"], "2020年": ["11", "9", "20"]})
    >>> melt_grade_columns(by_year, "g.csv")[0].values.tolist()
    [['A', '2019', '一年级', '10'], ['A', '2020', '一年级', '11'], ['A', '2020', '二年级', '9']]
    """
    cols = set(df.columns)
    if "area" not in cols or ("year" in cols) == ("grade" in cols):
        return df, None
    axis = "grade" if "year" in cols else "year"  # the one spread over the columns
    kept = "year" if axis == "grade" else "grade"
    (lo, hi), what = SPREAD[axis]
    others = [c for c in df.columns if c not in ("area", kept)]
    read, _ = LABEL_READERS[axis]([_bare(c) for c in others])
    value_of: dict[str, int] = {}
    for header, text in zip(others, read):
        if str(text).lstrip("-").isdigit() and lo <= int(text) <= hi:
            value_of[header] = int(text)
    if not value_of or ("pupils" in cols and len(value_of) < 2):
        return df, None  # a tidy table (its pupils column), or not a grade table
    problems = _one_column_each(value_of, what, label)
    keys = df[["area", kept]].astype(str).apply(lambda s: s.str.strip())
    total_row = keys[kept].map(normalise_value).isin(TOTAL_HEADERS).to_numpy()
    dup = keys.duplicated(keep="first").to_numpy() & (keys["area"] != "").to_numpy()
    other = SPREAD[kept][1]
    for i in np.flatnonzero(dup)[:20]:
        problems.append(Problem(file=label, row=int(i) + 2, field=None, expected=f"每个地区、{other}只占一行",
                                found=f"重复的 地区={keys['area'].iloc[i]}, {other}={keys[kept].iloc[i]}",
                                hint="请删除或合并重复行。"))
    if problems:
        raise InputError(problems)
    headers = list(value_of)
    cells, present = _cells(df, headers, label)
    numbers = np.where(present, np.vectorize(_number, otypes=[float])(cells), 0.0)
    i, j = np.nonzero(present & ~total_row[:, None])  # row-major: by row, then by column as in the file
    tidy = pd.DataFrame({"area": df["area"].to_numpy()[i], kept: df[kept].to_numpy()[i],
                         axis: [str(value_of[headers[k]]) for k in j], "pupils": cells[i, j]})[
        ["area", "year", "grade", "pupils"]]
    source = MeltedGrades(rows=i + 2, headers=[headers[k] for k in j], axis=axis)
    # a column read as "pupils" (在校生) beside the grades' columns is their total
    totals = [c for c in others if normalise_value(c) in TOTAL_HEADERS or c == "pupils"]
    ignored = [c for c in others if c not in value_of and c not in totals]
    note = []
    for c in totals:
        total = df[c].map(_number).to_numpy(float)
        summed = numbers.sum(axis=1)
        off = np.flatnonzero(np.isfinite(total) & (np.abs(total - summed) > 0.5) & ~total_row)
        if len(off):
            r = int(off[0])
            note.append(f"“{c}”列有 {len(off)} 行不等于各{what}之和（如第 {r + 2} 行：{df[c].iloc[r]} 对 {summed[r]:g}），请核对；该列不读入")
        else:
            note.append(f"“{c}”列与各{what}之和一致，不读入")
    if total_row.any():  # a 合计 row per area: the sum of that area's other rows, column by column
        areas = keys["area"].to_numpy()
        off = [int(r) for r in np.flatnonzero(total_row)
               if np.abs(numbers[(areas == areas[r]) & ~total_row].sum(axis=0) - numbers[r]).max() > 0.5]
        note.append(f"{int(total_row.sum())} 个合计行" + (f"有 {len(off)} 行不等于各{other}之和（如第 {off[0] + 2} 行），请核对"
                                                         if off else f"与各{other}之和一致") + "，不读入")
    if ignored:
        note.append(f"不是{what}、未读入的列：" + "、".join(f"“{c}”" for c in ignored[:8]))
    log.warning("文件 %s：每个%s一列（%s）：按“一行一个地区、年份、年级”读取，空格视为该年没有该年级（不是 0）%s。", label, what,
                "、".join(f"“{h}”→{value_of[h]}" for h in headers[:13]), "".join("；" + n for n in note))
    return tidy, source


def melt_year_columns(df: pd.DataFrame, label: str, key: str, value: str) -> tuple[pd.DataFrame, MeltedGrades | None]:
    """A table with one row per place and one column per year (``乡镇, 2016年, 2017年, …``, as births
    are often compiled) as tidy ``key, year, value`` rows, with a warning; empty cells left out.

    Returns the table unchanged and None when it has a ``year`` or ``value`` column, or fewer than two
    columns named as years. A total column (合计) is not read.

    >>> b = pd.DataFrame({"township_id": ["T1", "T2"], "2019年": ["10", "7"], "2020年": ["11", ""], "合计": ["21", "7"]})
    >>> tidy, src = melt_year_columns(b, "births.csv", "township_id", "births")
    >>> tidy.values.tolist(), src.rows.tolist(), src.headers
    ([['T1', '2019', '10'], ['T1', '2020', '11'], ['T2', '2019', '7']], [2, 2, 3], ['2019年', '2020年', '2019年'])
    """
    cols = set(df.columns)
    if key not in cols or "year" in cols or value in cols:
        return df, None
    others = [c for c in df.columns if c != key]
    read, _ = LABEL_READERS["year"]([_bare(c) for c in others])
    lo, hi = SPREAD["year"][0]
    year_of = {h: int(t) for h, t in zip(others, read) if str(t).isdigit() and lo <= int(t) <= hi}
    if len(year_of) < 2:
        return df, None
    problems = _one_column_each(year_of, "年份", label)
    keys = df[key].astype(str).str.strip()
    for i in np.flatnonzero((keys.duplicated(keep="first") & (keys != "")).to_numpy())[:20]:
        problems.append(Problem(file=label, row=int(i) + 2, field=key, expected="每个地区只占一行", found=f"重复的 {keys.iloc[i]}",
                                hint="请删除或合并重复行。"))
    if problems:
        raise InputError(problems)
    headers = list(year_of)
    cells, present = _cells(df, headers, label)
    i, j = np.nonzero(present)
    tidy = pd.DataFrame({key: df[key].to_numpy()[i], "year": [str(year_of[headers[k]]) for k in j], value: cells[i, j]})
    ignored = [c for c in others if c not in year_of and normalise_value(c) not in TOTAL_HEADERS]
    log.warning("文件 %s：每个年份一列（%s）：按“一行一个地区、年份”读取，空格视为没有该年的数%s。", label,
                "、".join(f"“{h}”→{year_of[h]}" for h in headers[:8]) + ("……" if len(headers) > 8 else ""),
                "；不是年份、未读入的列：" + "、".join(f"“{c}”" for c in ignored[:8]) if ignored else "")
    return tidy, MeltedGrades(rows=i + 2, headers=[headers[k] for k in j], axis="year", value=value)


#: Headers that already give the year (as `normalise_value` gives them): a workbook with them is not stacked.
YEAR_HEADERS = frozenset({"year", "年份", "学年", "年度", "统计年份", "出生年份"})


@dataclasses.dataclass
class StackedSheets:
    """Rows of a workbook with one sheet per year, stacked into one table; where each row came from.

    Attributes
    ----------
    label : str
        The workbook, for messages.
    sheets : list of str
        The sheet of each stacked row.
    rows : ndarray of int
        The spreadsheet row of each stacked row in its sheet (header = 1).
    """

    label: str
    sheets: list[str]
    rows: np.ndarray

    def remap(self, problems: list[Problem]) -> list[Problem]:
        """Problems found on the stacked rows, pointed at the sheet and its row.

        >>> s = StackedSheets("g.xlsx", ["2019年", "2020年"], np.array([2, 2]))
        >>> s.remap([Problem(file="g.xlsx", row=3, field="pupils")])[0].file
        'g.xlsx（工作表“2020年”）'
        """
        out = []
        for p in problems:
            i = None if p.row is None else p.row - 2
            if i is None or not 0 <= i < len(self.rows):
                out.append(p)
            else:
                out.append(dataclasses.replace(p, file=f"{self.label}（工作表“{self.sheets[i]}”）", row=int(self.rows[i])))
        return out


def stack_year_sheets(sheets: dict[str, pd.DataFrame], label: str) -> pd.DataFrame | None:
    """A workbook kept one sheet per year (sheets ``2019年``, ``2020学年`` … with the same header and no
    year column) as one table with a ``year`` column taken from the sheet names, with a warning; its
    ``attrs["stacked"]`` is a `StackedSheets`. None when the workbook is not kept so.

    >>> book = {"2019年": pd.DataFrame({"乡镇": ["A"], "一年级": ["10"]}), "2020年": pd.DataFrame({"乡镇": ["A"], "一年级": ["11"]})}
    >>> stack_year_sheets(book, "g.xlsx").values.tolist()
    [['A', '2019', '10'], ['A', '2020', '11']]
    """
    if len(sheets) < 2:
        return None
    names = list(sheets)
    read, _ = LABEL_READERS["year"]([_bare(n) for n in names])
    lo, hi = SPREAD["year"][0]
    if not all(str(t).isdigit() and lo <= int(t) <= hi for t in read):
        return None
    header = list(sheets[names[0]].columns)
    if any(normalise_value(c) in YEAR_HEADERS for c in header):
        return None
    differ = [n for n in names if list(sheets[n].columns) != header]
    if differ:
        raise InputError(Problem(file=f"{label}（工作表“{differ[0]}”）", row=1, expected=f"与工作表“{names[0]}”相同的表头",
                                 found="、".join(map(str, sheets[differ[0]].columns)),
                                 hint="每年一个工作表时，各工作表的列须相同、顺序相同。"))
    parts = [df.assign(year=str(y))[[header[0], "year", *header[1:]]] for (name, df), y in zip(sheets.items(), read)]
    out = pd.concat(parts, ignore_index=True)
    out.attrs["stacked"] = StackedSheets(label, [n for n, df in sheets.items() for _ in range(len(df))],
                                         np.concatenate([np.arange(len(df)) + 2 for df in sheets.values()]))
    log.warning("文件 %s：%d 个以年份命名的工作表（%s）按每个工作表一年读取，年份取自工作表名。", label, len(names),
                "、".join(names[:6]) + ("……" if len(names) > 6 else ""))
    return out
