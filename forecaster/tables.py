"""Reading and checking the small CSV tables the forecaster takes (backtest inputs).

Every problem found in a file is collected and raised together as one `InputError`, naming the
file, the spreadsheet row (header = row 1) and the column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from xuewei.errors import InputError, Problem

MAX_PROBLEMS = 50


def read_csv_text(path: str | Path) -> pd.DataFrame:
    """Read a CSV as strings (UTF-8 with or without BOM, else GB18030 as Excel writes it in China).

    Raises
    ------
    InputError
        If the file is missing, empty or not a readable CSV.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem(file=str(path), expected="存在的 CSV 文件", found="文件不存在",
                                 hint="请检查路径。"))
    last: Exception | None = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, skipinitialspace=True)
            break
        except UnicodeDecodeError as err:
            last = err
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise InputError(Problem(file=str(path), expected="可读的 CSV 表格（首行为表头）", found=str(err),
                                     hint="请用 Excel“另存为 CSV UTF-8”重新导出。")) from None
    else:
        raise InputError(Problem(file=str(path), expected="UTF-8 或 GB18030 编码的 CSV", found=str(last),
                                 hint="请用 Excel“另存为 CSV UTF-8”重新导出。"))
    df.columns = [str(c).strip() for c in df.columns]
    return df


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
    num = pd.to_numeric(raw, errors="coerce").to_numpy(float)
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
