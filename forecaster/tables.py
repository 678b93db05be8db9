"""Reading and checking the small CSV tables the forecaster takes (backtest inputs).

Every problem found in a file is collected and raised together as one `InputError`, naming the
file, the spreadsheet row (header = row 1) and the column.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from xuewei.data.tables import plain_count
from xuewei.errors import InputError, Problem

MAX_PROBLEMS = 50
MAX_ABS_VALUE = 1e9  #: larger numbers are refused (typos, wrong units), so casts cannot overflow
log = logging.getLogger("xuewei")


def read_csv_text(path: str | Path) -> pd.DataFrame:
    """Read a CSV as strings (UTF-8 with or without BOM, else GB18030 as Excel writes it in China).

    Raises
    ------
    InputError
        If the file is missing, empty or not a readable CSV.
    """
    from xuewei.data.tables import decode_text, sniff_separator

    path = Path(path)
    if path.is_dir():
        raise InputError(Problem(file=str(path), expected="CSV 文件", found="这是一个文件夹", hint="请给出文件的路径。"))
    if not path.is_file():
        raise InputError(Problem(file=str(path), expected="存在的 CSV 文件", found="文件不存在",
                                 hint="请检查路径。"))
    if path.suffix.lower() == ".xlsx":  # an Excel workbook: its first non-empty sheet, as the region loader reads it
        from xuewei.data.tables import read_excel_sheet

        df = read_excel_sheet(path, str(path), year_sheets=True)
        df.columns = [str(c).strip() for c in df.columns]
        return df
    text = decode_text(path.read_bytes(), str(path))
    if not text.strip():
        raise InputError(Problem(file=str(path), expected="含表头和数据的 CSV 表格", found="空文件"))
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True,
                         sep=sniff_separator(text, str(path)))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(Problem(file=str(path), expected="可读的 CSV 表格（首行为表头）", found=str(err),
                                 hint="请用 Excel“另存为 CSV UTF-8”重新导出。")) from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def rename_aliases(df: pd.DataFrame, file: str, aliases: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Rename known Chinese headers (e.g. 年份 → year) and English names in another case to the
    English column names, with a warning (`xuewei.data.tables.header_mapping`)."""
    from xuewei.data.tables import header_mapping

    return df.rename(columns=header_mapping(df.columns, aliases, file))


def require_columns(df: pd.DataFrame, file: str, columns: list[str]) -> None:
    """Raise `InputError` listing every required column the table lacks."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError([
            Problem(file=file, row=1, field=c, expected=f"表头含列“{c}”", found="、".join(df.columns) or "（空表头）",
                    hint=f"所需列：{', '.join(columns)}。")
            for c in missing
        ])


def parse_int_column(df: pd.DataFrame, file: str, column: str, problems: list[Problem],
                     nonnegative: bool = False, what: str = "整数") -> np.ndarray:
    """Parse a column of integers; append a `Problem` per bad cell. Bad cells come back as -1."""
    raw = df[column].astype(str).str.strip()
    # Full-width digits (１２３) from a Chinese input method and thousands separators (1,234) as Excel
    # shows counts: unambiguous for integer counts, read with a warning.
    text = raw.map(plain_count)
    changed = (text != raw).to_numpy()
    if changed.any():
        i = int(np.flatnonzero(changed)[0])
        log.warning("文件 %s 第 %d 行起字段“%s”含全角数字或千位分隔符（如“%s”），已按 %s 读取。", file, i + 2, column,
                    raw.iloc[i], text.iloc[i])
    num = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)
    num[~np.isfinite(num) | (np.abs(np.nan_to_num(num)) > MAX_ABS_VALUE)] = np.nan  # inf, 1e30: not counts
    bad_num = np.isnan(num)
    bad_int = ~bad_num & (np.abs(num - np.round(num)) > 1e-9)
    bad_neg = ~bad_num & nonnegative & (num < 0)
    expected = ("非负" if nonnegative else "") + what
    for i in np.nonzero(bad_num | bad_int | bad_neg)[0]:
        if len(problems) >= MAX_PROBLEMS:
            break
        problems.append(Problem(file=file, row=int(i) + 2, field=column, expected=expected, found=raw.iloc[i] or "（空）"))
    out = np.where(bad_num | bad_int | bad_neg, -1, np.round(np.nan_to_num(num))).astype(np.int64)
    return out


def check_duplicates(df: pd.DataFrame, file: str, keys: list[str], problems: list[Problem]) -> None:
    """Append a `Problem` for every repeated key."""
    dup = df.duplicated(keys, keep="first")
    for i in np.nonzero(dup.to_numpy())[0][: MAX_PROBLEMS]:
        key = ", ".join(f"{k}={df[k].iloc[i]}" for k in keys)
        problems.append(Problem(file=file, row=int(i) + 2, field=None, expected="每个键只出现一次",
                                found=f"重复的 {key}", hint="请删除或合并重复行。"))
