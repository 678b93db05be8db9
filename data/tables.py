"""Read one input table (CSV, Excel or a point layer) and validate it against its schema.

A schema is a CSV in ``data/schema/`` with one row per column:
``column,dtype,unit,required,default,allowed,min,aliases,description``. The same files drive
validation, defaults and the tables in ``docs/data-format.md``.

Every problem found in a file is collected and raised at once as one `InputError`, naming the
file, the spreadsheet row (header = row 1) and the column. Unambiguous common variants (a BOM,
a GBK-encoded export, a known Chinese header) are accepted with a warning on the ``xuewei`` logger.
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from xuewei.data.paths import DATA_DIR
from xuewei.errors import InputError, Problem
from xuewei.labels import LABEL_READERS

log = logging.getLogger("xuewei")

DTYPES = ("id", "str", "int", "float", "bool", "stages")
GEOMETRY_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
TABLE_SUFFIXES = (".csv", ".xlsx") + GEOMETRY_SUFFIXES
MAX_ABS_VALUE = 1e9  # no count, coordinate [m or degree] or year in a county's tables is larger
_TRUE = {"1", "true", "yes", "y", "是", "t"}
_FALSE = {"0", "false", "no", "n", "否", "f", ""}


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    unit: str
    required: bool
    default: str
    allowed: tuple[str, ...]
    min: float | None
    aliases: tuple[str, ...]
    description: str


@lru_cache(maxsize=None)
def load_schema(name: str) -> tuple[Column, ...]:
    """The columns of input table ``name`` (e.g. ``"schools"``)."""
    path = DATA_DIR / "schema" / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols = []
    for r in rows:
        assert r["dtype"] in DTYPES, f"{path}: bad dtype {r['dtype']}"
        cols.append(Column(
            name=r["column"], dtype=r["dtype"], unit=r["unit"], required=r["required"] == "1",
            default=r["default"], allowed=tuple(a for a in r["allowed"].split("|") if a),
            min=float(r["min"]) if r["min"] else None,
            aliases=tuple(a for a in r["aliases"].split("|") if a), description=r["description"]))
    return tuple(cols)


def schema_names() -> list[str]:
    """The input tables that have a schema (``data/schema/values.csv`` is not one)."""
    return sorted(p.stem for p in (DATA_DIR / "schema").glob("*.csv") if p.stem != "values")


@dataclass(frozen=True)
class ValueName:
    """One way planners write a category value (a row of ``data/schema/values.csv``).

    ``code`` is the code it is read as; ``""`` marks a known writing that is refused, with ``note``
    (e.g. 村 as a township's tier) as the hint.
    """

    name: str
    code: str
    note: str


@lru_cache(maxsize=None)
def value_rows() -> tuple[dict[str, str], ...]:
    """The rows of ``data/schema/values.csv``: ``columns`` (``table.column``, ``|``-separated), ``code``,
    ``names`` (``|``-separated writings) and ``note``."""
    with (DATA_DIR / "schema" / "values.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def normalise_value(value: str) -> str:
    """A category value as compared: NFKC (full-width letters, digits and spaces → half-width), no
    whitespace anywhere, case-folded. ``" 幼 儿 园　"`` → ``"幼儿园"``, ``"Primary"`` → ``"primary"``."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).casefold()


def plain_count(text: str) -> str:
    """A count as digits: full-width digits (１２３) and thousands separators (1,234) read plainly;
    anything else as it was (NFKC).

    >>> plain_count("１,２３４"), plain_count("12,34"), plain_count("")
    ('1234', '12,34', '')
    """
    text = unicodedata.normalize("NFKC", text)
    return text.replace(",", "") if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", text) else text


def ids_by_unique_name(df: pd.DataFrame, id_col: str) -> dict[str, str]:
    """``{name as compared (`normalise_value`): id}`` for the rows of ``df`` whose name no other row
    shares — the names that may stand for their ids.

    >>> ids_by_unique_name(pd.DataFrame({"s": ["S1", "S2", "S3"], "name": ["一小", "一小", "城厢 镇"]}), "s")
    {'城厢镇': 'S3'}
    """
    if df is None or "name" not in df or id_col not in df:
        return {}
    names = df["name"].astype(str).map(normalise_value)
    unique = names[~names.duplicated(keep=False)]
    return dict(zip(unique, df.loc[unique.index, id_col].astype(str)))


@lru_cache(maxsize=None)
def value_names(table: str, column: str) -> dict[str, ValueName]:
    """The writings accepted (or refused with a note) for ``table.column``, keyed by `normalise_value`."""
    out: dict[str, ValueName] = {}
    for row in value_rows():
        if f"{table}.{column}" in row["columns"].split("|"):
            for name in filter(None, row["names"].split("|")):
                out[normalise_value(name)] = ValueName(name, row["code"], row["note"])
    return out


def value_zh(table: str, column: str, code: str) -> str:
    """The first Chinese name of ``code`` for ``table.column`` (``nine_year`` → ``九年一贯制``); ``""``
    when it has none or is Chinese itself."""
    name = next((v.name for v in value_names(table, column).values() if v.code == code), "")
    return "" if name == code else name


def value_label(table: str, column: str, code: str) -> str:
    """``code`` with its Chinese name: ``nine_year（九年一贯制）``; the code alone when it has none."""
    zh = value_zh(table, column, code)
    return f"{code}（{zh}）" if zh else code


def did_you_mean(value: str, choices: dict[str, str], labels: dict[str, str] | None = None,
                 cutoff: float = 0.5) -> str | None:
    """``您是否想写“…”？`` naming the choice nearest ``value`` (`difflib` ratio of `normalise_value`
    forms), or None when none reaches ``cutoff``.

    ``choices`` maps each writing to compare with to the value to suggest (``{"九年一贯制": "nine_year",
    "nine_year": "nine_year"}``); ``labels`` adds a gloss to a suggestion (``“nine_year”（九年一贯制）``).
    Up to three suggestions equally near are all named.
    """
    key = normalise_value(value)
    scored = sorted(((difflib.SequenceMatcher(None, key, normalise_value(k)).ratio(), v) for k, v in choices.items()),
                    key=lambda t: -t[0])
    if not scored or scored[0][0] < cutoff:
        return None
    best: list[str] = []
    for score, v in scored:
        if score < scored[0][0] - 1e-9 or len(best) == 3:
            break
        if v not in best:
            best.append(v)
    labels = labels or {}
    return "您是否想写" + "或".join(f"“{b}”" + (f"（{labels[b]}）" if labels.get(b) else "") for b in best) + "？"


# How plausibly a non-ASCII character stands in a Chinese county's table: 1 for those of GB 2312
# (common hanzi, CJK punctuation, full-width forms, pinyin letters, ° × ÷ ‰ ℃ …) other than Greek and
# Cyrillic letters, and for a few symbols GB 2312 lacks; 0.5 for other CJK ideographs (rare hanzi of
# place names); 0 for the rest. A GBK file misread as UTF-8 yields the rest (学位 → “ѧλ”).
_EXTRA_PLAUSIBLE = set("·©®²³µ¼½¾€–—")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")  # CJK ideographs


@lru_cache(maxsize=65536)
def _char_plausibility(ch: str) -> float:
    if ch in _EXTRA_PLAUSIBLE:
        return 1.0
    if "\u0370" <= ch <= "\u04ff":
        return 0.0
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return 0.5 if _CJK.fullmatch(ch) else 0.0
    return 1.0


def plausibility(text: str) -> float:
    """Mean plausibility of the non-ASCII characters of ``text`` in a Chinese table (1.0 when there are
    none): 1 for GB 2312 characters other than Greek and Cyrillic letters and a few symbols, 0.5 for
    other CJK ideographs, 0 for the rest."""
    counts = Counter(text)
    total = sum(n for ch, n in counts.items() if ch >= "\x80")
    if total == 0:
        return 1.0
    return sum(n * _char_plausibility(ch) for ch, n in counts.items() if ch >= "\x80") / total


def decode_text(raw: bytes, label: str, what: str = "CSV") -> str:
    """Bytes of a text table → text: UTF-8 (BOM or not), UTF-16 with BOM (Excel “Unicode 文本”), or GBK.

    GBK/GB18030 (what Excel writes on a Chinese Windows) and UTF-16 are accepted with a warning.
    Some GBK text is also valid UTF-8 (学位 in GBK reads as UTF-8 “ѧλ”). A file without a BOM that
    reads as both is taken as GBK only when its UTF-8 reading has no CJK ideograph and its GBK
    reading is more plausibly Chinese (`plausibility`); otherwise as UTF-8 (so a UTF-8 file of rare
    hanzi, or of “°”, “©”, “é” and no hanzi, stays UTF-8). A file with a UTF-8 BOM is UTF-8.
    ``benchmarks/encoding_choice.py`` measures the choice on tables cut from real text.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(Problem(file=label, expected=f"UTF-8 或 GBK 编码的 {what}", found="损坏的 UTF-16 文本",
                                     hint="请在 Excel 中另存为“CSV UTF-8”。")) from None
        log.warning("文件 %s 是 UTF-16 编码（Excel“Unicode 文本”），已按 UTF-16 读取。", label)
        return text
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise InputError(Problem(file=label, expected=f"UTF-8 或 GBK 编码的 {what}", found="无法识别的编码",
                                     hint="请在 Excel 中另存为“CSV UTF-8”。")) from None
        log.warning("文件 %s 不是 UTF-8 编码，已按 GBK/GB18030 读取。", label)
    else:
        if not raw.startswith(b"\xef\xbb\xbf") and not raw.isascii() and not _CJK.search(text):
            try:
                gbk = raw.decode("gb18030")
            except UnicodeDecodeError:
                gbk = None
            if gbk is not None and plausibility(gbk) > plausibility(text):
                log.warning("文件 %s 既可按 UTF-8 也可按 GBK 读取；按 UTF-8 读出的字符（如“%s”）不像中文，已按 GBK/GB18030 读取。",
                            label, next((ch for ch in text if ch >= "\x80" and _char_plausibility(ch) < 1), ""))
                text = gbk
    if raw.startswith(b"\xef\xbb\xbf"):
        log.info("文件 %s 带 BOM，已忽略。", label)
    if "\x00" in text:
        raise InputError(Problem(file=label, expected=f"文本格式的 {what}", found="含空字符（二进制文件？）",
                                 hint="请在 Excel 中另存为“CSV UTF-8”。"))
    return text


def sniff_separator(text: str, label: str) -> str:
    """``","``, or a tab/semicolon when the header row has those and no comma (accepted with a warning)."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    if "," in header:
        return ","
    for sep, name in (("\t", "制表符"), (";", "分号")):
        if sep in header:
            log.warning("文件 %s 以%s分隔，已按%s分隔读取。", label, name, name)
            return sep
    return ","


def _read_text_table(path: Path, label: str) -> pd.DataFrame:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(Problem(file=label, expected="含表头和数据的表格", found="空文件"))
    text = decode_text(raw, label)
    if not text.strip():
        raise InputError(Problem(file=label, expected="含表头和数据的表格", found="空文件"))
    sep = sniff_separator(text, label)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(Problem(file=label, expected="规整的 CSV 表格（每行列数一致）", found=str(err).strip())) from None
    # pandas renames a repeated header "x" to "x.1"; report it as the repeated column it is.
    first_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    try:
        header = next(csv.reader(io.StringIO(first_line), delimiter=sep), [])
    except csv.Error:  # a stray carriage return or NUL inside the header: pandas already read it
        header = [str(c) for c in df.columns]
    names = [h.strip() for h in header]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise InputError(Problem(file=label, row=1, field=dupes[0], expected="不重复的列名", found="重复列",
                                 hint="同一列名出现了两次，请删除或改名其中一列。"))
    return df


def read_excel_sheet(path: Path, label: str, year_sheets: bool = False) -> pd.DataFrame:
    """The first non-empty sheet of an .xlsx workbook as strings; merged header cells refused.

    With ``year_sheets`` (a table with a year column), a workbook kept one sheet per year is read
    whole (`xuewei.data.grade_columns.stack_year_sheets`)."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as err:  # openpyxl raises many types for a broken workbook
        raise InputError(Problem(file=label, expected="可读取的 Excel（.xlsx）文件", found=f"{type(err).__name__}: {err}")) from None
    nonempty = {k: v for k, v in sheets.items() if not v.empty}
    if not nonempty:
        raise InputError(Problem(file=label, expected="含表头和数据的工作表", found="所有工作表均为空"))
    for name, sheet in nonempty.items():
        unnamed = [c for c in sheet.columns if str(c).startswith("Unnamed:")]
        if unnamed and len(unnamed) < len(sheet.columns):
            where = label if len(nonempty) == 1 else f"{label}（工作表“{name}”）"
            raise InputError(Problem(file=where, row=1, field=str(unnamed[0]), expected="每列都有表头",
                                     found="空表头（可能是合并单元格）", hint="请取消表头的合并单元格，使每列只有一行表头。"))
    if year_sheets and len(nonempty) > 1:
        from xuewei.data.grade_columns import stack_year_sheets

        stacked = stack_year_sheets(nonempty, label)
        if stacked is not None:
            return stacked
    name, df = next(iter(nonempty.items()))
    if len(nonempty) > 1:
        log.warning("文件 %s 有多个工作表，只读取第一个非空工作表“%s”。", label, name)
    return df


def _read_geometry(path: Path, label: str) -> tuple[pd.DataFrame, str | None]:
    import geopandas as gpd

    try:
        gdf = gpd.read_file(path)
    except Exception as err:
        raise InputError(Problem(file=label, expected="可读取的 GeoPackage/GeoJSON/Shapefile", found=str(err))) from None
    if gdf.empty:
        raise InputError(Problem(file=label, expected="至少一个要素", found="空图层"))
    geom = gdf.geometry
    bad = geom.isna() | geom.is_empty | (geom.geom_type != "Point")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(Problem(file=label, row=i + 2, field="geometry", expected="点要素",
                                 found=str(geom.iloc[i].geom_type if geom.iloc[i] is not None else "空")))
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(str)
    df["lon"] = geom.x.map(repr)
    df["lat"] = geom.y.map(repr)
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    return df, crs


def read_raw(path: Path, label: str | None = None, year_sheets: bool = False) -> tuple[pd.DataFrame, str | None]:
    """The file as a frame of strings, plus the CRS a geometry file declares (else None);
    ``year_sheets``: see `read_excel_sheet`."""
    label = label or str(path)
    if not path.exists():
        raise InputError(Problem(file=label, expected="存在的文件", found="找不到该文件"))
    if path.is_dir():
        raise InputError(Problem(file=label, expected="文件", found="这是一个文件夹", hint="请把该表存为同名文件。"))
    try:
        with open(path, "rb"):
            pass
    except OSError as err:  # permission denied, a broken link, ...
        raise InputError(Problem(file=label, expected="可读取的文件", found=err.strerror or type(err).__name__)) from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_text_table(path, label), None
    if suffix == ".xlsx":
        return read_excel_sheet(path, label, year_sheets), None
    if suffix in GEOMETRY_SUFFIXES:
        return _read_geometry(path, label)
    raise InputError(Problem(file=label, expected="CSV、Excel（.xlsx）、GeoPackage、GeoJSON 或 Shapefile", found=suffix or "无扩展名"))


def _rename_aliases(df: pd.DataFrame, schema: tuple[Column, ...], label: str) -> pd.DataFrame:
    df = df.rename(columns=lambda c: str(c).strip().lstrip("\ufeff"))
    dupes = df.columns[df.columns.duplicated()].tolist()
    if dupes:
        raise InputError(Problem(file=label, row=1, field=dupes[0], expected="不重复的列名", found="重复列"))
    return df.rename(columns=header_mapping(df.columns, {col.name: col.aliases for col in schema}, label))


def _header_key(header) -> str:
    """A header as compared with the names and aliases: stripped, lower case, runs of spaces and
    hyphens as one ``_``.

    >>> _header_key(" School Year"), _header_key("Enrolled-Count"), _header_key("学年")
    ('school_year', 'enrolled_count', '学年')
    """
    return re.sub(r"[\s\-]+", "_", str(header).strip().lower())


def header_mapping(columns, aliases: dict[str, tuple[str, ...]], label: str) -> dict[str, str]:
    """``{header in the file: column name}`` for the columns a file names another way, with one
    warning per file: the English name in another case (``School_ID``, ``Pupils``), or a known alias
    (学校代码). Columns the file already names exactly are left alone."""
    present = list(columns)
    mapping: dict[str, str] = {}
    spelled = {}  # one spelling per header: lower case, spaces and hyphens as "_" (School Year → school_year)
    for c in present:
        spelled.setdefault(_header_key(c), c)
    for name, names in aliases.items():
        if name in present:
            continue
        same = [c for c in present if _header_key(c) == name and c not in mapping]
        found = same[0] if len(same) == 1 else next(
            (spelled[_header_key(a)] for a in names if _header_key(a) in spelled and spelled[_header_key(a)] not in mapping),
            None)
        if found is not None:
            mapping[found] = name
    if mapping:
        log.warning("文件 %s：列%s读取。", label, "、".join(f"“{k}”按“{v}”" for k, v in mapping.items()))
    return mapping


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask) + 2  # spreadsheet rows: header is row 1


def _translate(values: pd.Series, codes: dict[str, str], names: dict[str, ValueName], table: str, col: Column,
               label: str, problems: list[Problem], rows: np.ndarray | None = None) -> pd.Series:
    """Map the non-empty ``values`` to codes: a code as written; a code in another case or width, or
    a writing of ``data/schema/values.csv`` (幼儿园 → kindergarten), with one warning per column;
    anything else is a problem naming the nearest allowed value.

    ``codes`` maps each `normalise_value` of an allowed cell to the code it is read as; ``rows`` gives
    each value's spreadsheet row (default: its position + 2). Unreadable cells come back as None.
    """
    rows = _rows(np.ones(len(values), bool)) if rows is None else rows
    exact = set(codes.values())
    translated: dict[str, str] = {}
    refused: dict[str, str | None] = {}
    for value in pd.unique(values[~values.isin(exact)]):
        key = normalise_value(value)
        known = names.get(key)
        if key in codes:
            translated[value] = codes[key]
        elif known is not None and known.code in exact:
            translated[value] = known.code
        elif known is not None and known.code == "" and known.note:
            refused[value] = known.note
        else:
            choices = {c: c for c in exact} | {v.name: v.code for v in names.values() if v.code in exact}
            refused[value] = did_you_mean(value, choices, {c: value_zh(table, col.name, c) for c in exact})
    if translated:
        where = values.map(translated)
        parts = []
        for value, code in list(translated.items())[:6]:
            hit = rows[(values == value).to_numpy()]
            at = "、".join(str(int(r)) for r in hit[:3]) + (f" 等 {len(hit)} 行" if len(hit) > 3 else " 行")
            parts.append(f"“{value}”→{code}（第 {at}）")
        more = f"等 {len(translated)} 种写法" if len(translated) > 6 else ""
        log.warning("文件 %s 字段“%s”：%s%s已按代码读取。", label, col.name, "；".join(parts), more)
    else:
        where = pd.Series(index=values.index, dtype=object)
    if refused:
        expected = "、".join(value_label(table, col.name, c) for c in col.allowed) if col.allowed else "0 或 1"
        bad = values.isin(list(refused)).to_numpy()
        for i in np.flatnonzero(bad)[:20]:
            value = values.iloc[i]
            problems.append(Problem(file=label, row=int(rows[i]), field=col.name, expected=expected, found=value,
                                    hint=refused[value]))
    out = values.where(values.isin(exact), where)
    return out.where(~values.isin(list(refused)), None)


def _coerce(df: pd.DataFrame, col: Column, label: str, problems: list[Problem], table: str = "") -> pd.Series:
    text = df[col.name].astype(str).str.strip()
    empty = (text == "") | text.str.lower().isin(["nan", "none", "null"])
    if col.required and col.default == "":
        for r in _rows(empty.to_numpy())[:20]:
            problems.append(Problem(file=label, row=int(r), field=col.name, expected="非空值", found="空"))
    text = text.mask(empty, col.default)
    names = value_names(table, col.name)
    if col.dtype in ("id", "str"):
        out = text
        if col.dtype == "id" and text.str.match(r"^\d+\.0$").any():
            bad = text.str.match(r"^\d+\.0$").to_numpy()
            r = int(_rows(bad)[0])
            problems.append(Problem(file=label, row=r, field=col.name, expected="编号（文本）", found=text.iloc[r - 2],
                                    hint="编号被存成了小数，请在 Excel 中把该列设为“文本”格式后重新导出。"))
        if col.allowed and not text.isin(col.allowed + ("",)).all():
            filled = (text != "").to_numpy()
            codes = {normalise_value(c): c for c in col.allowed}
            out = text.copy()
            out[filled] = _translate(text[filled], codes, names, table, col, label, problems, _rows(filled))
        return out
    if col.dtype == "bool":
        # 1/0, 是/否, true/false, yes/no are read silently; a column's own writings (城镇 → 1) with a warning
        low = text.str.lower()
        out = low.isin(_TRUE)
        other = (~low.isin(_TRUE | _FALSE)).to_numpy()
        if other.any():
            silent = {normalise_value(v): ("1" if v in _TRUE else "0") for v in (_TRUE | _FALSE) - {""}}
            pre = text[other].map(lambda v: silent.get(normalise_value(v), v))
            read = _translate(pre, {"1": "1", "0": "0"}, names, table, col, label, problems, _rows(other))
            out[other] = (read == "1").to_numpy()
        return out
    if col.dtype == "stages":
        parts = text.map(lambda v: [p.strip() for p in re.split(r"[;；,，、/]", v) if p.strip()])
        seps = text[text.str.contains(r"[；,，、/]", regex=True)]
        if len(seps):
            log.warning("文件 %s 第 %d 行字段“%s”：“%s”按分号分隔的学段列表读取。", label, int(seps.index[0]) + 2,
                        col.name, seps.iloc[0])
        flat = parts.explode().dropna()
        rows = flat.index.to_numpy() + 2
        codes = {normalise_value(c): c for c in col.allowed}
        read = _translate(flat.astype(str).reset_index(drop=True), codes, names, table, col, label, problems, rows)
        read.index = flat.index
        good = read.dropna().groupby(level=0).agg(tuple)
        return pd.Series([good.get(i, ()) for i in range(len(text))], index=text.index, dtype=object)
    if col.name in LABEL_READERS:  # 一年级, 初一, 大班; 2019年, 2019-2020学年 as a bureau's table writes them
        named, note = LABEL_READERS[col.name](text.tolist())
        if note:
            log.warning("文件 %s 字段“%s”：%s。", label, col.name, note)
            text = pd.Series(named, index=text.index)
    # Full-width digits and signs (１２３，－５) typed with a Chinese input method: read as ASCII.
    folded = text.map(lambda v: unicodedata.normalize("NFKC", v))
    changed = folded != text
    if changed.any():
        r = int(_rows(changed.to_numpy())[0])
        log.warning("文件 %s 第 %d 行字段“%s”含全角字符“%s”，已按半角读取。", label, r, col.name, text.iloc[r - 2])
        text = folded
    num = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    bad = num.isna() & (text != "")
    for r in _rows(bad.to_numpy())[:20]:
        problems.append(Problem(file=label, row=int(r), field=col.name, expected="数值", found=text.iloc[r - 2]))
    finite = num.notna()
    inf = finite & ~np.isfinite(num.fillna(0))
    for r in _rows(inf.to_numpy())[:20]:
        problems.append(Problem(file=label, row=int(r), field=col.name, expected="有限数值", found=text.iloc[r - 2]))
    huge = finite & ~inf & (np.abs(num.fillna(0)) > MAX_ABS_VALUE)
    for r in _rows(huge.to_numpy())[:20]:
        problems.append(Problem(file=label, row=int(r), field=col.name, expected="绝对值不超过 10 亿的数",
                                found=text.iloc[r - 2], hint="数值过大，多半是单位或列填错。"))
    inf = inf | huge  # keep them out of the checks and the cast below
    num = num.mask(inf)
    if col.dtype == "int":
        frac = finite & ~inf & (np.abs(num - np.round(num)) > 1e-9)
        for r in _rows(frac.to_numpy())[:20]:
            problems.append(Problem(file=label, row=int(r), field=col.name, expected="整数", found=text.iloc[r - 2]))
        num = num.mask(frac)
    if col.min is not None:
        low = finite & ~inf & (num < col.min)
        expected = "非负数" if col.min == 0 else f"不小于 {col.min:g} 的数"
        for r in _rows(low.to_numpy())[:20]:
            problems.append(Problem(file=label, row=int(r), field=col.name, expected=expected, found=text.iloc[r - 2]))
        num = num.mask(low)  # a wrong cell is missing to the checks across rows and files
    if col.dtype == "int":
        return num.round().astype("Int64") if num.isna().any() else num.round().astype("int64")
    return num.astype(float)


def validate_frame(df: pd.DataFrame, schema_name: str, label: str, *, unique: str | None = None,
                   problems: list[Problem] | None = None) -> pd.DataFrame | None:
    """Check and type a frame of strings against schema ``schema_name``.

    Without ``problems``, every problem found is raised at once as one `InputError`. With a list,
    the problems are appended to it and the best frame possible is returned, so that checks across
    files can still run: cells that cannot be read are missing (NaN/None), a required column the file
    lacks is all missing and named in ``attrs["missing_columns"]``; None for a table without rows.
    """
    raise_at_end = problems is None
    problems = [] if problems is None else problems
    before = len(problems)
    stacked = df.attrs.get("stacked")  # one sheet per year: rows of the sheets
    schema = load_schema(schema_name)
    df = _rename_aliases(df, schema, label)
    # Excel exports often end in blank rows; drop only trailing ones so row numbers stay true.
    if len(df.columns):
        blank = (df.astype(str).apply(lambda s: s.str.strip()) == "").all(axis=1).to_numpy()
        filled = np.flatnonzero(~blank)
        df = df.iloc[: (filled[-1] + 1 if len(filled) else 0)].reset_index(drop=True)
    if df.empty:
        problems.append(Problem(file=label, expected="至少一行数据", found="只有表头或为空"))
        if raise_at_end:
            raise InputError(problems)
        return None
    melted = None
    if schema_name == "grades":  # one column per grade (or year), as yearbooks and plans print it
        from xuewei.data.grade_columns import melt_grade_columns

        df, melted = melt_grade_columns(df, label)
    elif schema_name == "births":  # one column per year
        from xuewei.data.grade_columns import melt_year_columns

        df, melted = melt_year_columns(df, label, "township_id", "births")
    elif schema_name == "population_by_age":  # census age groups (0-4岁 …) as single ages
        from xuewei.data.age_groups import split_age_groups

        df, melted = split_age_groups(df, label)
    known = {c.name for c in schema}
    missing = []
    for col in schema:
        if col.name not in df.columns:
            if col.required and col.default == "":
                near = difflib.get_close_matches(col.name, [c for c in df.columns if c not in known], n=1)
                hint = f"是否是列“{near[0]}”？" if near else f"请添加列“{col.name}”（{col.description}）。"
                problems.append(Problem(file=label, row=1, field=col.name, expected="必需的列", found="缺失", hint=hint))
                missing.append(col.name)
                continue
            df[col.name] = col.default
    out = df.copy()
    for col in schema:
        if col.name in missing:
            out[col.name] = None
        else:
            out[col.name] = _coerce(df, col, label, problems, schema_name)
    if unique and unique not in missing:
        dup = out[unique].duplicated(keep="first") & (out[unique] != "")
        for r in _rows(dup.to_numpy())[:20]:
            problems.append(Problem(file=label, row=int(r), field=unique, expected="不重复的编号",
                                    found=str(out[unique].iloc[r - 2]), hint="该编号在前面已出现。"))
    if melted is not None:  # rows and columns of the file, not of the tidy rows
        problems[before:] = melted.remap(problems[before:])
    if stacked is not None:
        problems[before:] = stacked.remap(problems[before:])
    if raise_at_end and len(problems) > before:
        raise InputError(problems)
    ordered = [c.name for c in schema] + [c for c in out.columns if c not in known]
    out = out[ordered]
    out.attrs["source_file"] = label
    out.attrs["missing_columns"] = tuple(missing)
    return out


def read_table(path: Path, schema_name: str, *, label: str | None = None, unique: str | None = None,
               problems: list[Problem] | None = None) -> tuple[pd.DataFrame | None, str | None]:
    """Read and validate one table file. Returns the typed frame and any CRS the file declares.

    With ``problems``, a file that cannot be read at all, or whose cells are wrong, adds to the list
    instead of raising (see `validate_frame`); the frame is then None or partly missing.
    """
    label = label or str(path)
    try:
        raw, crs = read_raw(path, label, year_sheets=any(c.name == "year" for c in load_schema(schema_name)))
        return validate_frame(raw, schema_name, label, unique=unique, problems=problems), crs
    except InputError as err:  # with ``problems``: a file that cannot be read at all (or a repeated header)
        if problems is None:
            raise
        problems += err.problems
        return None, None
