"""Render the input schemas as Markdown tables for ``docs/data-format.md``.

Run ``python -m xuewei.data.schema_docs`` to refresh the generated part of the doc; a test fails
when the doc and the schema files disagree.
"""

from __future__ import annotations

import sys

from xuewei.data.paths import PACKAGE_ROOT
from xuewei.data.region import TABLES
from xuewei.data.tables import load_schema

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
    return "\n".join(parts)


def render(doc_text: str) -> str:
    head, rest = doc_text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{schema_markdown()}\n{END}{tail}"


if __name__ == "__main__":
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
