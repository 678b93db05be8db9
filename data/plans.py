"""The five plans' tables: load, check against their seed text, and look up.

Each plan lives in ``data/plans/<id>.toml`` (format: docs/plans-format.md). Every row keeps the
verbatim ``source_quote`` it was read from, so every number can be found in the plan text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from xuewei.data.tomlio import tomllib
from xuewei.data.paths import PLANS_DIR
from xuewei.errors import InputError, Problem

PLAN_IDS = ("leshan", "jiangyang", "neijiang", "wuxi", "huantai")
TABLE_KINDS = ("indicator", "layout", "places", "projects", "sentence")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class PlanTable:
    id: str
    title: str
    unit: str
    kind: str
    columns: list[str]
    rows: list[dict]
    notes: list[str] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "unit": self.unit, "kind": self.kind,
                "columns": self.columns, "rows": self.rows, "notes": self.notes, "checks": self.checks}


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    region: str
    admin_code: str
    source: str
    tables: list[PlanTable]
    notes: list[str] = field(default_factory=list)
    issued: str = ""
    path: Path | None = None

    def table(self, table_id: str) -> PlanTable:
        for t in self.tables:
            if t.id == table_id:
                return t
        known = "、".join(t.id for t in self.tables)
        raise InputError(Problem(file=str(self.path or self.id), field="--table", expected=f"本规划的表之一：{known}",
                                 found=table_id))


def normalise_ws(text: str) -> str:
    """Fold every run of whitespace to one space, so a quote matches across the seed's table breaks."""
    return _WS.sub(" ", text).strip()


def plan_path(plan_id: str) -> Path:
    path = PLANS_DIR / f"{plan_id}.toml"
    if not path.is_file():
        known = "、".join(sorted(p.stem for p in PLANS_DIR.glob("*.toml")))
        raise InputError(Problem(file="规划编号", field="plan", expected=f"已收录的规划之一：{known}", found=plan_id))
    return path


def available_plans() -> list[str]:
    return sorted(p.stem for p in PLANS_DIR.glob("*.toml"))


def load_plan(plan_id_or_path: str | Path) -> Plan:
    """Read one plan file and check its structure (not its quotes; see `check_quotes`)."""
    path = Path(plan_id_or_path)
    if path.suffix != ".toml":
        path = plan_path(str(plan_id_or_path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError(Problem(file=str(path), expected="可读的 UTF-8 TOML 文件", found=str(err))) from None
    problems: list[Problem] = []
    for key in ("plan", "name", "source", "tables"):
        if key not in raw:
            problems.append(Problem(file=str(path), field=key, expected="必填项", found="缺失"))
    for key in ("plan", "name", "source"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            problems.append(Problem(file=str(path), field=key, expected="非空文本", found=repr(raw[key])))
    if isinstance(raw["source"], str) and (Path(raw["source"]).name != raw["source"] or raw["source"].startswith(".")):
        problems.append(Problem(file=str(path), field="source", expected="data/plans/seeds/ 中的原文文件名（不含路径）",
                                found=raw["source"]))
    if not isinstance(raw["tables"], list) or not all(isinstance(t, dict) for t in raw["tables"]):
        problems.append(Problem(file=str(path), field="tables", expected="表的数组（[[tables]]）",
                                found=type(raw["tables"]).__name__))
    if problems:
        raise InputError(problems)
    tables = []
    seen: set[str] = set()
    for i, t in enumerate(raw["tables"]):
        where = f"{path.name} tables[{i}]"
        for key in ("id", "title", "rows"):
            if key not in t:
                problems.append(Problem(file=where, field=key, expected="必填项", found="缺失"))
        if not isinstance(t.get("rows", []), list) or not all(isinstance(r, dict) for r in t.get("rows", [])):
            problems.append(Problem(file=where, field="rows", expected="行的数组（每行是一个内联表）",
                                    found=str(t.get("rows"))))
            continue
        for key in ("columns", "notes", "checks"):
            if key in t and not isinstance(t[key], list):
                problems.append(Problem(file=where, field=key, expected="数组", found=repr(t[key])))
        for key in ("id", "title"):
            if key in t and not isinstance(t[key], str):
                problems.append(Problem(file=where, field=key, expected="文本", found=repr(t[key])))
        if problems:
            continue
        if "id" in t:
            if t["id"] in seen:
                problems.append(Problem(file=where, field="id", expected="表编号不重复", found=t["id"]))
            seen.add(t["id"])
        kind = t.get("kind", "indicator")
        if kind not in TABLE_KINDS:
            problems.append(Problem(file=where, field="kind", expected="、".join(TABLE_KINDS), found=kind))
        for j, row in enumerate(t.get("rows", [])):
            if not str(row.get("source_quote", "")).strip():
                problems.append(Problem(file=where, row=j + 1, field="source_quote", expected="原文引文", found="缺失"))
        if problems:
            continue
        columns = t.get("columns") or [k for k in t["rows"][0] if k != "source_quote"] if t["rows"] else []
        tables.append(PlanTable(id=t["id"], title=t["title"], unit=t.get("unit", ""), kind=kind,
                                columns=list(columns), rows=list(t["rows"]), notes=list(t.get("notes", [])),
                                checks=list(t.get("checks", []))))
    if problems:
        raise InputError(problems)
    return Plan(id=raw["plan"], name=raw["name"], region=raw.get("region", ""), admin_code=str(raw.get("admin_code", "")),
                source=raw["source"], tables=tables, notes=list(raw.get("notes", [])), issued=raw.get("issued", ""),
                path=path)


def read_seed(plan: Plan) -> str:
    """The plan's source text from ``data/plans/seeds/`` (a bare file name; never a path elsewhere)."""
    from xuewei.data.paths import SEEDS_DIR

    label = str(plan.path or plan.id)
    path = SEEDS_DIR / plan.source
    if Path(plan.source).name != plan.source or not path.is_file():
        raise InputError(Problem(file=label, field="source", expected="data/plans/seeds/ 中存在的原文文件名",
                                 found=plan.source))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(Problem(file=str(path), expected="UTF-8 编码的原文", found="无法按 UTF-8 读取")) from None


def missing_quotes(plan: Plan, seed_text: str) -> list[tuple[str, int, str]]:
    """Rows whose ``source_quote`` is not in the seed text: ``(table_id, row_number, quote)``."""
    haystack = normalise_ws(seed_text)
    out = []
    for t in plan.tables:
        for j, row in enumerate(t.rows):
            if normalise_ws(str(row["source_quote"])) not in haystack:
                out.append((t.id, j + 1, row["source_quote"]))
    return out


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def evaluate_check(table: PlanTable, check: dict) -> list[str]:
    """Differences found by one ``[[tables.checks]]`` entry (empty list = it balances)."""
    diffs: list[str] = []
    kind = check.get("type")
    if kind == "column_total":
        key, label = check["key"], check["total_label"]
        totals = [r for r in table.rows if r.get(key) == label]
        others = [r for r in table.rows if r.get(key) != label and r.get(key) not in check.get("exclude", [])]
        if len(totals) != 1:
            return [f"找不到唯一的合计行 {key}={label}"]
        for col in check["columns"]:
            printed = _number(totals[0].get(col))
            vals = [_number(r.get(col)) for r in others]
            computed = sum(v for v in vals if v is not None)
            if printed is None or abs(printed - computed) > 1e-6 * max(1.0, abs(printed)):
                diffs.append(f"{col}: 印刷合计 {totals[0].get(col)}，分项之和 {computed:g}")
    elif kind == "row_total":
        total, parts = check["total"], check["parts"]
        for j, r in enumerate(table.rows):
            if "rows" in check and r.get(check.get("key", "")) not in check["rows"]:
                continue
            printed = _number(r.get(total))
            vals = [_number(r.get(p)) for p in parts]
            if printed is None or any(v is None for v in vals):
                continue
            computed = sum(vals)
            if abs(printed - computed) > 1e-6 * max(1.0, abs(printed)):
                diffs.append(f"第 {j + 1} 行 {total}: 印刷 {r.get(total)}，分项之和 {computed:g}")
    else:
        diffs.append(f"未知的核对类型 {kind}")
    return diffs
