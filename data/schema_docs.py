"""Render the input schemas, and the Chinese writings of their category values
(``data/schema/values.csv``), as Markdown tables for ``docs/data-format.md``.

Run ``python -m xuewei.data.schema_docs`` to refresh the generated part of the doc; a test fails
when the doc and the schema files disagree.
"""

from __future__ import annotations

import sys

from xuewei.data.paths import PACKAGE_ROOT
from xuewei.data.region import TABLES
from xuewei.data.tables import load_schema, value_rows

BEGIN = "<!-- BEGIN GENERATED: schema tables -->"
END = "<!-- END GENERATED: schema tables -->"
DTYPE_ZH = {"id": "编号（文本）", "str": "文本", "int": "整数", "float": "数值", "bool": "0/1", "stages": "学段列表（;分隔）"}
DOC = PACKAGE_ROOT / "docs" / "data-format.md"


def schema_markdown() -> str:
    parts = []
    for name, (required, unique) in TABLES.items():
        need = "必需" if required else "可选"
        uniq = f"，`{unique}` 唯一" if unique else ""
        parts.append(f"### `{name}`（{need}{uniq}）\n")
        parts.append("| 列 | 类型 | 单位 | 必填 | 缺省 | 允许值 | 最小值 | 也认的表头 | 说明 |")
        parts.append("|---|---|---|---|---|---|---|---|---|")
        for c in load_schema(name):
            parts.append("| " + " | ".join([
                f"`{c.name}`", DTYPE_ZH[c.dtype], c.unit, "是" if c.required and c.default == "" else "否",
                c.default, "、".join(c.allowed), "" if c.min is None else f"{c.min:g}", "、".join(c.aliases),
                c.description]) + " |")
        parts.append("")
    parts.append(values_markdown())
    return "\n".join(parts)


def values_markdown() -> str:
    """The table of ``data/schema/values.csv``: which writings each category column reads as which code."""
    parts = ["### 类别值的中文写法（`data/schema/values.csv`）\n",
             "类别列可以直接写下表中的中文（或代码本身）。比较时忽略所有空格（含全角空格）、全角与半角之别和英文大小写；"
             "读入时按代码理解，并对每列给出一条警告，列出按哪种写法读取。代码为空的行是常见但不能确定含义的写法："
             "会报错并给出说明。表中没有的写法报错，并给出最接近的代码（“您是否想写……？”）。\n",
             "| 表.列 | 代码 | 也认的写法 | 说明 |", "|---|---|---|---|"]
    for row in value_rows():
        targets = "、".join(f"`{t}`" for t in row["columns"].split("|"))
        code = f"`{row['code']}`" if row["code"] else "（报错）"
        parts.append(f"| {targets} | {code} | {'、'.join(filter(None, row['names'].split('|')))} | {row['note']} |")
    parts.append("")
    return "\n".join(parts)


def render(doc_text: str) -> str:
    head, rest = doc_text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{schema_markdown()}\n{END}{tail}"


if __name__ == "__main__":
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
