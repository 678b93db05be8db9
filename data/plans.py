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
PLAN_STAGES = ("kindergarten", "primary", "junior", "senior", "vocational", "special")
_WS = re.compile(r"\s+")
_YEAR_COLUMN = re.compile(r"^(\d{4})年")


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
    per_school: dict = field(default_factory=dict)
    adjustments: dict = field(default_factory=dict)
    places_added: dict = field(default_factory=dict)
    target_year: int | None = None
    read_as: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "unit": self.unit, "kind": self.kind,
                "columns": self.columns, "rows": self.rows, "notes": self.notes, "checks": self.checks}

    def year_columns(self) -> dict[str, int]:
        """Columns named by a year (``2025年``), except achieved figures (``2020年完成情况``): column → year."""
        out = {}
        for col in self.columns:
            m = _YEAR_COLUMN.match(col)
            if m and not any(w in col for w in ("完成", "实现", "实际")):
                out[col] = int(m.group(1))
        return out


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
    target_year: int | None = None

    @property
    def horizon(self) -> int:
        """The plan's last year [year]: ``target_year`` as written, else the latest year column of its tables."""
        if self.target_year:
            return int(self.target_year)
        years = [y for t in self.tables for y in t.year_columns().values()]
        return max(years) if years else 2025

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


def resolve_plan_path(ref: str | Path, base: Path | None = None) -> Path:
    """A plan reference as a file: a bundled id (``wuxi``) or a ``.toml`` path, relative to ``base``.

    Raises
    ------
    InputError
        An unknown id or a missing file, naming both.
    """
    path = Path(ref)
    if path.suffix != ".toml":
        return plan_path(str(ref))
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if not path.is_file():
        raise InputError(Problem(file=str(path), field="plan", expected="存在的规划文件（.toml）或已收录的规划编号："
                                 + "、".join(available_plans()), found="找不到"))
    return path


def plan_of_region(region) -> Plan | None:
    """The plan a region names in ``region.toml`` (``plan = "wuxi"`` or a file), loaded; ``None`` if none.

    Called before anything is solved, so a missing or malformed plan file stops a run at once.
    """
    ref = getattr(region.meta, "plan", None)
    if not ref:
        return None
    return load_plan(resolve_plan_path(ref, getattr(region, "path", None)))


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
    if problems:
        raise InputError(problems)
    for key in ("plan", "name", "source"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            problems.append(Problem(file=str(path), field=key, expected="非空文本", found=repr(raw[key])))
    if isinstance(raw["source"], str) and (Path(raw["source"]).name != raw["source"] or raw["source"].startswith(".")):
        problems.append(Problem(file=str(path), field="source", expected="data/plans/seeds/ 中的原文文件名（不含路径）",
                                found=raw["source"]))
    if not isinstance(raw["tables"], list) or not all(isinstance(t, dict) for t in raw["tables"]):
        problems.append(Problem(file=str(path), field="tables", expected="表的数组（[[tables]]）",
                                found=type(raw["tables"]).__name__))
    target_year = raw.get("target_year")
    if target_year is not None and (not isinstance(target_year, int) or isinstance(target_year, bool)
                                    or not 1949 <= target_year <= 2100):
        problems.append(Problem(file=str(path), field="target_year", expected="规划期末年份（整数，如 2025）",
                                found=repr(target_year)))
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
        decl = _declarations(t, list(columns), where)
        if isinstance(decl, list):
            problems += decl
            continue
        tables.append(PlanTable(id=t["id"], title=t["title"], unit=t.get("unit", ""), kind=kind,
                                columns=list(columns), rows=list(t["rows"]), notes=list(t.get("notes", [])),
                                checks=list(t.get("checks", [])), **decl))
    if problems:
        raise InputError(problems)
    return Plan(id=raw["plan"], name=raw["name"], region=raw.get("region", ""), admin_code=str(raw.get("admin_code", "")),
                source=raw["source"], tables=tables, notes=list(raw.get("notes", [])), issued=raw.get("issued", ""),
                path=path, target_year=target_year)


def _declarations(t: dict, columns: list[str], where: str) -> dict | list[Problem]:
    """How a table is compared with a run (docs/plans-format.md “对照声明”): the optional
    ``per_school``, ``adjustments``, ``places_added``, ``target_year`` and ``read_as`` of one table.

    Returns the checked declarations, or the problems found (each naming the table and key).
    """
    problems: list[Problem] = []
    known = set(columns)

    def bad(key: str, expected: str, found) -> None:
        problems.append(Problem(file=where, field=key, expected=expected, found=str(found)))

    def fields(key: str, spec: dict, names: list[str], required: bool) -> None:
        for name in names:
            value = spec.get(name)
            if value is None:
                if required:
                    bad(f"{key}.{name}", "本表的列名", "缺失")
            elif not isinstance(value, str) or value not in known:
                bad(f"{key}.{name}", "本表的列名之一：" + "、".join(columns), value)

    def stages(key: str, value) -> None:
        if not isinstance(value, list) or not value or not set(value) <= set(PLAN_STAGES):
            bad(key, "学段代码的数组：" + "、".join(PLAN_STAGES), value)

    out: dict = {}
    for key in ("per_school", "adjustments", "places_added"):
        if key in t and not isinstance(t[key], dict):
            bad(key, "内联表或 [tables.%s] 小节" % key, type(t[key]).__name__)
    if problems:
        return problems
    ps = t.get("per_school")
    if ps is not None:
        fields("per_school", ps, ["name", "classes_before", "classes_after"], True)
        fields("per_school", ps, ["places_before", "places_after"], False)
        year = ps.get("year")
        if isinstance(year, str):
            fields("per_school", ps, ["year"], True)
        elif year is not None and (not isinstance(year, int) or isinstance(year, bool)):
            bad("per_school.year", "年份所在的列名，或全部行共同的年份（整数）", year)
        if "stages" in ps:
            stages("per_school.stages", ps["stages"])
        if not isinstance(ps.get("skip", []), list):
            bad("per_school.skip", "不是学校的行的名称（数组，如 [\"合计\"]）", ps.get("skip"))
        out["per_school"] = dict(ps)
    adj = t.get("adjustments")
    if adj is not None:
        fields("adjustments", adj, ["stage_field"], False)
        if "count_fields" in adj:
            cf = adj["count_fields"]
            if not isinstance(cf, list) or not cf or not set(cf) <= known:
                bad("adjustments.count_fields", "本表中调整类别的列名（数组）", cf)
        else:
            fields("adjustments", adj, ["item_field", "count_field"], True)
        out["adjustments"] = dict(adj)
    pa = t.get("places_added")
    if pa is not None:
        fields("places_added", pa, ["area_field"], True)
        sf = pa.get("stage_fields")
        if not isinstance(sf, dict) or not sf or not set(sf) <= known:
            bad("places_added.stage_fields", "列名 → 学段代码数组 的内联表", sf)
        else:
            for col, st in sf.items():
                stages(f"places_added.stage_fields.{col}", st)
        codes = pa.get("area_codes", {})
        if not isinstance(codes, dict) or not all(isinstance(v, str) for v in codes.values()):
            bad("places_added.area_codes", "地区名 → 行政区划代码（文本）的内联表", codes)
        out["places_added"] = dict(pa)
    ty = t.get("target_year")
    if ty is not None:
        if not isinstance(ty, int) or isinstance(ty, bool) or not 1949 <= ty <= 2100:
            bad("target_year", "本表数字所指的年份（整数）", ty)
        out["target_year"] = ty
    read_as = t.get("read_as", [])
    n_rows = len(t.get("rows", []))
    if not isinstance(read_as, list) or not all(
            isinstance(r, dict) and isinstance(r.get("row"), int) and 1 <= r["row"] <= n_rows
            and isinstance(r.get("unit"), str) and str(r.get("note", "")).strip() for r in read_as):
        bad("read_as", f"[[tables.read_as]]：row（1–{n_rows}）、unit 与说明原因的 note", read_as)
    out["read_as"] = list(read_as) if isinstance(read_as, list) else []
    return problems or out


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
