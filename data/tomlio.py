"""TOML files a planner edits by hand: read them, and turn schema errors into readable problems."""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as the tomli package
    import tomli as tomllib

from pydantic import BaseModel, ValidationError

from xuewei.errors import InputError, Problem

_PYDANTIC_ZH = {
    "missing": "必填项",
    "extra_forbidden": "已知的键",
    "int_parsing": "整数",
    "int_type": "整数",
    "int_from_float": "整数",
    "float_parsing": "数值",
    "float_type": "数值",
    "bool_parsing": "true 或 false",
    "bool_type": "true 或 false",
    "string_type": "文本",
    "list_type": "列表",
    "dict_type": "表（键值对）",
    "literal_error": "允许的取值之一",
    "greater_than": "更大的数",
    "greater_than_equal": "更大的数",
    "less_than": "更小的数",
    "less_than_equal": "更小的数",
}

_BOUNDS = {"greater_than": "大于 {} 的数", "greater_than_equal": "不小于 {} 的数",
           "less_than": "小于 {} 的数", "less_than_equal": "不大于 {} 的数"}


def read_toml(path: Path, label: str | None = None) -> tuple[dict, str]:
    """Parse a TOML file; returns the data and its text (for locating keys in messages)."""
    label = label or str(path)
    if not path.is_file():
        raise InputError(Problem(file=label, expected="存在的 TOML 文件", found="找不到该文件"))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(Problem(file=label, expected="UTF-8 编码的 TOML 文件", found="无法按 UTF-8 读取")) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+)", str(err))
        raise InputError(Problem(file=label, row=int(m.group(1)) if m else None, expected="合法的 TOML 语法",
                                 found=str(err))) from None
    problems = [Problem(file=label, row=key_line(text, key), field=key, expected="有限的数",
                        found=repr(value), hint="TOML 的 nan/inf 不是可用的参数值，请写一个具体的数。")
                for key, value in _non_finite(data)]
    if problems:
        raise InputError(problems)
    return data, text


def _non_finite(data, prefix: str = ""):
    """``(dotted key, value)`` of every nan/inf float in parsed TOML (a planner never means those)."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, float) and not math.isfinite(value):
            yield dotted, value
        elif isinstance(value, (dict, list)):
            yield from _non_finite(value, dotted)


def key_line(text: str, dotted: str) -> int | None:
    """Best-effort line number of the last part of a dotted key in a TOML text."""
    parts = [x for x in dotted.split(".") if not x.isdigit()] or [dotted]  # list items: the list's key
    last = parts[-1]
    pattern = re.compile(rf'^\s*(\[+\s*)?("?{re.escape(last)}"?)\s*(=|\]|\.)', re.M)
    for m in pattern.finditer(text):
        return text.count("\n", 0, m.start()) + 1
    m = re.search(re.escape(last), text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The valid keys of the (sub)model that ``loc`` points into, for 'did you mean' hints."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or not isinstance(part, str):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        current = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return list(current.model_fields) if current is not None else []


def validate_model(model: type[BaseModel], data: dict, label: str, text: str = ""):
    """Build ``model`` from ``data``; every schema error becomes one `Problem`."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            loc = tuple(p for p in e["loc"])
            dotted = ".".join(str(p) for p in loc)
            expected = _PYDANTIC_ZH.get(e["type"], e["msg"])
            hint = None
            if e["type"] == "extra_forbidden":
                near = difflib.get_close_matches(str(loc[-1]), _fields_at(model, loc), n=1)
                hint = f"未知的键；是否应为“{near[0]}”？" if near else "未知的键，请删除或改正。"
                found = str(loc[-1])
            elif e["type"] == "missing":
                found = "缺失"
            else:
                found = str(e.get("input"))
                if e["type"] == "literal_error":
                    expected = "以下取值之一：" + e["msg"].split("Input should be ")[-1]
                elif e["type"] in _BOUNDS and e.get("ctx"):
                    limit = next(iter(e["ctx"].values()))
                    expected = _BOUNDS[e["type"]].format(limit)
                elif e["type"] not in _PYDANTIC_ZH:
                    hint = e["msg"]
            problems.append(Problem(file=label, row=key_line(text, dotted) if text else None, field=dotted,
                                    expected=expected, found=found, hint=hint))
        raise InputError(problems) from None
