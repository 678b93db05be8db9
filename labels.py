"""Chinese labels for the English codes used in tables (the glossary of DESIGN.md), and grade numbers
from the grade names tables use (一年级, 初一, 大班)."""

import re
import unicodedata

STAGE_ZH = {"kindergarten": "学前", "primary": "小学", "junior": "初中", "senior": "普通高中",
            "vocational": "中职", "special": "特殊教育"}
KIND_ZH = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "nine_year": "九年一贯制",
           "complete_secondary": "完全中学", "senior": "高中", "twelve_year": "十二年一贯制", "teaching_point": "教学点",
           "vocational": "中职学校", "special": "特殊教育学校"}
ACTION_ZH = {"keep": "保留", "expand": "改扩建", "shrink": "缩减", "build": "新建", "merge": "合并", "close": "撤销",
             "convert": "转变"}
VARIANT_ZH = {"low": "低方案", "mid": "中方案", "high": "高方案"}
TIER_ZH = {"county_seat": "县城", "cluster_centre": "片区中心", "central_town": "中心镇", "township_seat": "乡镇驻地"}


def model_zh(name: str) -> str:
    """A layout model's name in Chinese: ``junior#2`` → 初中（第 2 片）."""
    stage, _, part = name.partition("#")
    label = "+".join(STAGE_ZH.get(g, g) for g in stage.split("+"))
    return f"{label}（第 {part} 片）" if part else label


_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "十一": 11, "十二": 12}
#: Kindergarten classes, the years before grade 1 (小学一年级 = 1).
_KINDERGARTEN = {"托班": -3, "小班": -2, "中班": -1, "大班": 0, "学前班": 0}


def grade_number(text: str, primary_years: int = 6) -> int | None:
    """The grade number (小学一年级 = 1, 初一 = 7, 高一 = 10, 大班 = 0) of a grade written in words, or
    ``None`` when the text is not a grade name. Numbers themselves are left to the caller.

    ``primary_years`` = 5 reads the 五四制 (初一 = 6, …, 初四 = 9).

    >>> [grade_number(t) for t in ["一年级", "小学六年级", "小三", "初一", "初中三年级", "七年级", "高二", "高中一年级"]]
    [1, 6, 3, 7, 9, 7, 11, 10]
    >>> [grade_number(t) for t in ["大班", "幼儿园小班", "中班", "5年级", "Grade 4", "K", "PK", "三班", "2"]]
    [0, -2, -1, 5, 4, 0, -1, None, None]
    >>> [grade_number(t) for t in ["Grade K", "Kinder", "TK", "1st", "12th grade", "P1", "P6", "S1", "Sec 4", "中一"]]
    [0, 0, -1, 1, 12, 1, 6, 7, 10, 7]
    >>> [grade_number(t, primary_years=5) for t in ["初一", "初四", "小五", "小六", "高一"]]
    [6, 9, 5, None, 10]
    """
    t = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()
    t = re.sub(r"^(幼儿园|学前)", "", t)
    if t in _KINDERGARTEN:
        return _KINDERGARTEN[t]
    if t in ("k", "kg", "kindergarten", "kinder", "gradek", "gk"):
        return 0
    if t in ("pk", "pre-k", "prek", "prekindergarten", "pre-kindergarten", "tk"):  # TK: transitional kindergarten
        return -1
    m = re.fullmatch(r"(?:grade|g|yr|year)(\d{1,2})", t) or re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)(?:grade)?", t)
    if m:
        return int(m.group(1))
    # Singapore / Hong Kong: P1–P6 primary, S1–S6 (Sec, Form, 中一 …) secondary after six primary years
    m = re.fullmatch(r"(?:p|pri|primary)([1-6])", t)
    if m:
        return int(m.group(1))
    m = re.fullmatch(r"(?:s|sec|secondary|f|form)([1-6])", t) or re.fullmatch(r"中([一二三四五六])", t)
    if m:
        n = m.group(1)
        return 6 + (int(n) if n.isdigit() else _CN_DIGITS[n])
    m = re.fullmatch(r"(小学|初中|高中|小|初|高)?([一二三四五六七八九十]{1,2}|\d{1,2})(年级)?", t)
    if not m or (m.group(1) is None and m.group(3) is None):
        return None  # a bare number is a number, and "三班" is a class, not a grade
    n = int(m.group(2)) if m.group(2).isdigit() else _CN_DIGITS.get(m.group(2))
    school = {"小学": "p", "小": "p", "初中": "j", "初": "j", "高中": "s", "高": "s"}.get(m.group(1) or "")
    first, years = {"p": (0, primary_years), "j": (primary_years, 9 - primary_years), "s": (9, 3)}.get(school, (0, 12))
    if n is None or not 1 <= n <= years:
        return None
    return first + n


def read_grade_names(values) -> tuple[list, str | None]:
    """Grades of a table column as numbers where they are written as names (``一年级``, ``初一``, ``大班``).

    Returns the values with every recognised name replaced by its number (as text; other cells as
    they were) and a Chinese note for the warning (``None`` when no cell was a name). The 五四制 is
    assumed when ``初四`` (or ``初中四年级``) appears, otherwise the 六三制.

    >>> read_grade_names(["初一", "初四", "7"])
    (['6', '9', '7'], '年级按名称读取（出现“初四”，按五四制：初一 = 6 年级）：“初一”→6、“初四”→9')
    >>> read_grade_names(["1", "2"])
    (['1', '2'], None)
    """
    texts = [str(v) for v in values]
    five_four = any(grade_number(t, 5) == 9 and grade_number(t, 6) is None for t in set(texts))
    years = 5 if five_four else 6
    out, seen = [], {}
    for t in texts:
        n = grade_number(t, years)
        if n is None:  # a number, or not a grade name: left to the number check
            out.append(t)
        else:
            out.append(str(n))
            seen.setdefault(t, n)
    if not seen:
        return out, None
    system = "出现“初四”，按五四制：初一 = 6 年级" if five_four else "按六三制：初一 = 7 年级"
    examples = "、".join(f"“{k}”→{v}" for k, v in list(seen.items())[:6])
    return out, f"年级按名称读取（{system}）：{examples}"


def read_year_labels(values) -> tuple[list, str | None]:
    """Years of a table column as numbers where they carry a unit or are school years: ``2019年``,
    ``2019学年`` → 2019; ``2019-2020``, ``2019-20学年``, ``2019/2020`` → 2019 (the autumn term's year).

    Returns the values with every such label replaced by its year (as text; other cells as they were)
    and a Chinese note for the warning (``None`` when no cell was changed). A date (``2019-09-01``) is
    not read: its school year depends on the month.

    >>> read_year_labels(["2019年", "2019-2020学年", "2020/21", "2021", "2019-2021", "2019-09-01"])[0]
    ['2019', '2019', '2020', '2021', '2019-2021', '2019-09-01']
    >>> read_year_labels(["SY2019-20", "2019-20 School Year", "Fall 2019"])[0]
    ['2019', '2019', '2019']
    >>> read_year_labels(["2019", "2020"])
    (['2019', '2020'], None)
    """
    out, seen = [], {}
    for v in values:
        bare = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v)))
        # English school-year words around the years: SY2019-20, 2019-20 School Year, Fall 2019
        t = re.sub(r"^(?:sy|schoolyear|fall|autumn)|(?:schoolyear|sy|fall|autumn)$", "", bare, flags=re.IGNORECASE)
        year = None
        m = re.fullmatch(r"(\d{4})(年|学年|年度)?", t)
        if m and (m.group(2) or t != bare):  # a plain 2019 is a number, not a label
            year = int(m.group(1))
        m = re.fullmatch(r"(\d{4})[-–—/~至](\d{2}|\d{4})(?:学年|学年度|年度)?", t)
        if m:
            first, second = int(m.group(1)), m.group(2)
            if (first + 1) % (100 if len(second) == 2 else 10**4) == int(second):
                year = first
        if year is None:
            out.append(v if isinstance(v, str) else str(v))
        else:
            out.append(str(year))
            seen.setdefault(str(v), year)
    if not seen:
        return out, None
    examples = "、".join(f"“{k}”→{y}" for k, y in list(seen.items())[:4])
    return out, f"年份按学年或带单位的写法读取（学年取秋季学期开学的年份）：{examples}"


#: Columns whose cells may be written as labels, and how they are read as numbers.
LABEL_READERS = {"grade": read_grade_names, "year": read_year_labels}
