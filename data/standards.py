"""National standards and default parameters, each with its source (``data/standards.toml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from xuewei.data.tomlio import tomllib
from xuewei.data.paths import DATA_DIR

STATUSES = ("standard", "policy", "assumption")


@dataclass(frozen=True)
class Standard:
    key: str
    value: Any
    unit: str
    status: str
    source: str


@lru_cache(maxsize=1)
def load_standards() -> dict[str, Standard]:
    """All entries, keyed by their dotted name (e.g. ``"class_cap.primary"``)."""
    raw = tomllib.loads((DATA_DIR / "standards.toml").read_text(encoding="utf-8"))
    out: dict[str, Standard] = {}

    def walk(prefix: str, node: dict) -> None:
        if "value" in node and "source" in node:
            out[prefix] = Standard(prefix, node["value"], node.get("unit", ""), node.get("status", "assumption"),
                                   node["source"])
            return
        for key, child in node.items():
            walk(f"{prefix}.{key}" if prefix else key, child)

    walk("", raw)
    return out


def standard(key: str) -> Any:
    """The value of one entry; raises KeyError naming the known keys."""
    table = load_standards()
    if key not in table:
        raise KeyError(f"unknown standard {key!r}; known: {', '.join(sorted(table))}")
    return table[key].value
