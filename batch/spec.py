"""Batch files: a base scenario and a list or grid of overrides, each a variant to run.

A batch file (``scenarios/*-batch.toml``)::

    name = "demo-batch"
    base = "demo.toml"                      # relative to the batch file

    [[variants]]
    name = "cap40"                          # folder name of the variant's run
    description = "小学班额 40"
    "policy.class_cap.primary" = 40         # dotted key = the scenario key it overrides

    [grid]                                  # every combination of these lists is a variant
    "policy.design_variant" = ["low", "high"]

    [common]                                # applied to every variant first (a variant may override)
    "solver.time_limit_s" = 120

With both ``[[variants]]`` and ``[grid]``, every listed variant is combined with every grid point.
A file without ``base``/``variants``/``grid`` is an ordinary scenario file: one variant, no overrides.

Every key is checked before anything runs: an unknown key — in the batch file or in an override path —
is an `InputError` naming the file, line and the nearest valid key, and each variant's scenario is
built and validated exactly as ``xuewei run`` would (`xuewei.pipeline.load_inputs`).
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel

from xuewei import __version__
from xuewei.data.tomlio import read_toml
from xuewei.errors import InputError, Problem, raise_if
from xuewei.forecaster.config import ForecastConfig
from xuewei.labels import KIND_ZH
from xuewei.optimizer.policy import PolicyConfig
from xuewei.reports.runfolder import safe_name
from xuewei.scenario import STAGES, Scenario, resolve_scenario_path

TOP_KEYS = ("base", "name", "description", "common", "variants", "grid", "warm_start")
VARIANT_KEYS = ("name", "description")
OVERRIDE_TOP = ("region", "horizon", "forecast", "policy", "solver", "outputs")
SECTIONS: dict[str, type[BaseModel]] = {"forecast": ForecastConfig, "policy": PolicyConfig}
# Inside a batch each variant runs on one core: the variants already run side by side, so a variant does
# not start a process pool of its own (on Dask its independent models go to the same cluster as tasks
# instead: xuewei.optimizer.dask_solve).
FORCED_OVERRIDES = {"solver": {"threads": 1, "workers": 1}}  # variants already run side by side


@dataclass
class Variant:
    """One run of a batch.

    Attributes
    ----------
    name : str
        Variant name; also its run folder's name under the batch output folder.
    scenario : pathlib.Path
        The base scenario file.
    overrides : dict
        The variant's own overrides, dotted key → value, in file order.
    common : dict
        The batch file's ``[common]`` overrides (applied before the variant's own).
    source : str
        The file the variant was written in (for messages).
    lines : dict
        Dotted key → line in ``source`` (for messages).
    description : str
    key : str
        ``batch_key``: hash of the resolved scenario, the input files and the xuewei version
        (set by `validate_variants`).
    """

    name: str
    scenario: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    common: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    lines: dict[str, int] = field(default_factory=dict)
    description: str = ""
    key: str = ""
    warm_from: str = ""  # the variant whose layout this one starts from (batch file's ``warm_start``)
    region_id: str = ""  # set by `validate_variants`

    def run_overrides(self, extra: dict | None = None) -> dict:
        """Nested overrides for `xuewei.scenario.load_scenario`: the user's, the variant's name, one thread."""
        out: dict = {"name": self.name}
        if self.description:
            out["description"] = self.description
        for dotted, value in {**self.common, **self.overrides}.items():
            _set_dotted(out, dotted, value)
        for dotted, value in _flatten(extra or {}):
            _set_dotted(out, dotted, value)
        for dotted, value in _flatten(FORCED_OVERRIDES):
            _set_dotted(out, dotted, value)
        return out

    def overrides_text(self) -> str:
        """``policy.class_cap.primary=40; ...`` for tables and charts."""
        return "; ".join(f"{k}={_fmt(v)}" for k, v in self.overrides.items())


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _set_dotted(out: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    node = out
    for part in parts[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = node[part] = {}
        node = nxt
    node[parts[-1]] = value


def _flatten(data: dict, prefix: str = ""):
    """(dotted key, leaf value) pairs; ``"a.b" = 1`` and ``a.b = 1`` (a nested table) give the same key."""
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            yield from _flatten(value, dotted)
        else:
            yield dotted, value


# ---- override paths ---------------------------------------------------------------------------

def _dict_keys(model: type[BaseModel], name: str) -> list[str] | None:
    """Valid keys below a dict-valued section field; ``None``: any key; ``[]``: not a table."""
    if name == "close_below_pupils":
        return list(KIND_ZH)
    if name == "births_series":
        return None
    info = model.model_fields[name]
    default = info.default_factory() if info.default_factory is not None else info.default
    if not isinstance(default, dict):
        return []
    keys = [str(k) for k in default]
    if set(keys) <= set(STAGES):
        return list(STAGES)
    return keys


def _children(parts: tuple[str, ...]) -> list[str] | None:
    """Valid keys below ``parts`` of a scenario; ``None`` means any key is allowed."""
    if not parts:
        return list(OVERRIDE_TOP)
    top = parts[0]
    if len(parts) == 1:
        if top in SECTIONS:
            return list(SECTIONS[top].model_fields)
        ann = Scenario.model_fields[top].annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return list(ann.model_fields)
        return []
    if len(parts) == 2 and top in SECTIONS:
        return _dict_keys(SECTIONS[top], parts[1])
    return []


def override_path_problem(dotted: str) -> tuple[str, str] | None:
    """``None`` if ``dotted`` names a scenario key; else (what was expected, hint with the nearest key)."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        valid = _children(tuple(parts[:i]))
        if valid is None:
            return None
        if part in valid:
            continue
        if not valid:
            return ("可覆盖的情景键", f"“{'.'.join(parts[:i])}”是单个值，不能再有下级键“{part}”。")
        near = difflib.get_close_matches(part, valid, n=1, cutoff=0.5)
        if near:
            fixed = ".".join(parts[:i] + [near[0]] + parts[i + 1:])
            return ("已知的情景键", f"未知的键；是否应为“{fixed}”？")
        where = ".".join(parts[:i]) or "顶层"
        return ("已知的情景键", f"未知的键；{where} 下可用的键：" + "、".join(valid[:30]))
    return None


# ---- reading batch files ------------------------------------------------------------------------

def _header_lines(lines: list[str], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return [i + 1 for i, line in enumerate(lines) if rx.match(line)]


def _find_line(lines: list[str], dotted: str, start: int = 1, end: int | None = None) -> int:
    """Line (1-based) where ``dotted`` is written between ``start`` and ``end``; ``start`` if not found."""
    parts = dotted.split(".")
    rx = [re.compile(r'^\s*"' + re.escape(dotted) + r'"\s*='),
          re.compile(r"^\s*\[\[?\s*" + r"\s*\.\s*".join(rf'"?{re.escape(p)}"?' for p in parts) + r"\s*\]"),
          re.compile(r"^\s*" + r"\s*\.\s*".join(rf'"?{re.escape(p)}"?' for p in parts) + r"\s*="),
          re.compile(r'(^|[\s{,])"?' + re.escape(parts[-1]) + r'"?\s*=')]
    end = len(lines) if end is None else end
    for pattern in rx:
        for i in range(max(start, 1), end + 1):
            if pattern.search(lines[i - 1]):
                return i
    return start


def load_batch_file(path: Path) -> list[Variant]:
    """The variants of one batch file (or the single variant of a scenario file); paths checked."""
    data, text = read_toml(path)
    if not any(k in data for k in ("base", "variants", "grid")):
        name = safe_name(str(data.get("name") or path.stem))
        return [Variant(name=name, scenario=path, source=str(path))]
    lines = text.splitlines()
    label = str(path)
    problems: list[Problem] = []
    for key in data:
        if key not in TOP_KEYS:
            near = difflib.get_close_matches(key, TOP_KEYS, n=1, cutoff=0.5)
            hint = f"未知的键；是否应为“{near[0]}”？" if near else "批量文件的键：" + "、".join(TOP_KEYS)
            if "." in key or key in OVERRIDE_TOP:
                hint += "覆盖情景的键要写在 [[variants]] 或 [grid] 下。"
            problems.append(Problem(file=label, row=_find_line(lines, key), field=key, expected="已知的键",
                                    found=key, hint=hint))
    base = data.get("base")
    scenario = None
    if not isinstance(base, str) or not base:
        problems.append(Problem(file=label, row=_find_line(lines, "base"), field="base",
                                expected="基础情景文件（相对本批量文件的路径）", found=base if base else "缺失"))
    else:
        cand = (path.parent / base).resolve()
        if cand.is_file():
            scenario = cand
        else:
            problems.append(Problem(file=label, row=_find_line(lines, "base"), field="base",
                                    expected="存在的情景文件（相对本批量文件）", found=base, hint=f"找不到 {cand}"))

    listed: list[tuple[str, str, dict, dict]] = []  # name, description, overrides, lines
    raw_variants = data.get("variants", [])
    headers = _header_lines(lines, r"^\s*\[\[\s*variants\s*\]\]")
    if not isinstance(raw_variants, list) or not all(isinstance(v, dict) for v in raw_variants):
        problems.append(Problem(file=label, row=_find_line(lines, "variants"), field="variants",
                                expected="[[variants]] 表的列表", found=type(raw_variants).__name__))
        raw_variants = []
    for i, raw in enumerate(raw_variants):
        start = headers[i] if i < len(headers) else 1
        end = headers[i + 1] - 1 if i + 1 < len(headers) else None
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            problems.append(Problem(file=label, row=start, field=f"variants[{i + 1}].name",
                                    expected="变体名称（文本，用作结果文件夹名）", found=name if name else "缺失"))
            name = f"variant{i + 1}"
        elif safe_name(name) != name:
            problems.append(Problem(file=label, row=_find_line(lines, "name", start, end), field="name",
                                    expected="可作文件夹名的变体名称（字母、数字、汉字、- _ .）", found=name,
                                    hint=f"例如“{safe_name(name)}”。"))
        desc = raw.get("description", "")
        over, where = {}, {}
        for dotted, value in _flatten({k: v for k, v in raw.items() if k not in VARIANT_KEYS}):
            over[dotted] = value
            where[dotted] = _find_line(lines, dotted, start, end)
        listed.append((name, str(desc), over, where))

    common, common_lines = {}, {}
    if "common" in data:
        start = (_header_lines(lines, r"^\s*\[\s*common\s*\]") or [1])[0]
        if not isinstance(data["common"], dict):
            problems.append(Problem(file=label, row=start, field="common", expected="键 = 值 的表",
                                    found=_fmt(data["common"])))
        else:
            for dotted, value in _flatten(data["common"]):
                common[dotted] = value
                common_lines[dotted] = _find_line(lines, dotted, start)

    grid_points: list[tuple[str, dict, dict]] = [("", {}, {})]
    grid = data.get("grid")
    if grid is not None:
        start = (_header_lines(lines, r"^\s*\[\s*grid\s*\]") or [1])[0]
        if not isinstance(grid, dict) or not grid:
            problems.append(Problem(file=label, row=start, field="grid", expected="键 = 取值列表 的表", found=str(grid)))
        else:
            axes = []
            for dotted, values in _flatten(grid):
                row = _find_line(lines, dotted, start)
                if not isinstance(values, list) or not values:
                    problems.append(Problem(file=label, row=row, field=dotted, expected="非空的取值列表，如 [40, 45]",
                                            found=_fmt(values)))
                    continue
                axes.append((dotted, values, row))
            if axes:
                grid_points = []
                for combo in itertools.product(*[a[1] for a in axes]):
                    label_parts = [f"{d.split('.')[-1]}-{_fmt(v)}" for (d, _, _), v in zip(axes, combo)]
                    grid_points.append((safe_name("_".join(label_parts)), {d: v for (d, _, _), v in zip(axes, combo)},
                                        {d: r for d, _, r in axes}))
    if not listed and grid is None:
        problems.append(Problem(file=label, expected="至少一个 [[variants]] 或一个 [grid]", found="都没有"))

    seen_paths = set()
    for _, _, over, where in [(None, None, common, common_lines)] + listed + [(None, None, g[1], g[2]) for g in grid_points]:
        for dotted in over:
            if dotted in seen_paths:
                continue
            seen_paths.add(dotted)
            bad = override_path_problem(dotted)
            if bad:
                problems.append(Problem(file=label, row=where.get(dotted), field=dotted, expected=bad[0],
                                        found=dotted, hint=bad[1]))
    raise_if(problems)

    variants = []
    for name, desc, over, where in listed or [("", "", {}, {})]:
        for gname, gover, gwhere in grid_points:
            full = "_".join(p for p in (name, gname) if p) or "base"
            variants.append(Variant(name=full, scenario=scenario,
                                    overrides=_rebase_region({**over, **gover}, path),
                                    common=_rebase_region(common, path),
                                    source=label, lines={**common_lines, **where, **gwhere}, description=desc))
    if "warm_start" in data:
        warm = data["warm_start"]
        names = [v.name for v in variants]
        if not isinstance(warm, str) or warm not in names:
            near = difflib.get_close_matches(str(warm), names, n=1)
            raise_if([Problem(file=label, row=_find_line(lines, "warm_start"), field="warm_start",
                              expected="本批量文件中一个变体的名称（其余变体从它的布局热启动）", found=_fmt(warm),
                              hint=f"是否应为“{near[0]}”？" if near else "变体：" + "、".join(names[:10]))])
        for v in variants:
            if v.name != warm:
                v.warm_from = warm
                v.lines["warm_start"] = _find_line(lines, "warm_start")
    return variants


def _rebase_region(over: dict, path: Path) -> dict:
    """A relative ``region`` override is relative to the batch file."""
    region = over.get("region")
    if isinstance(region, str) and not Path(region).is_absolute() and (path.parent / region / "region.toml").is_file():
        over = dict(over, region=str((path.parent / region).resolve()))
    return over


def load_variants(paths: list[str | Path]) -> list[Variant]:
    """Every variant of the given batch or scenario files, with unique names (not yet validated)."""
    variants: list[Variant] = []
    for ref in paths:
        variants += load_batch_file(resolve_scenario_path(ref))
    problems, seen = [], {}
    for v in variants:
        if v.name in seen:
            problems.append(Problem(file=v.source, row=v.lines.get("name"), field="name", expected="不重复的变体名称",
                                    found=v.name, hint=f"与 {seen[v.name]} 中的变体重名。"))
        seen.setdefault(v.name, v.source)
    raise_if(problems)
    return variants


# ---- validation ------------------------------------------------------------------------------------

def _relabel(v: Variant, p: Problem) -> Problem:
    """A problem found while building a variant's scenario, pointed at the override that caused it."""
    prefix = ""
    for sect in SECTIONS:
        if p.file.endswith(f" [{sect}]"):
            prefix = sect + "."
    dotted = prefix + (p.field or "")
    for key in {**v.common, **v.overrides}:
        if dotted == key or key.startswith(dotted + ".") or (p.field and dotted.startswith(key + ".")):
            return Problem(file=v.source, row=v.lines.get(key), field=key, expected=p.expected, found=p.found,
                           hint=f"变体“{v.name}”。" + (p.hint or ""))
    return Problem(file=p.file, row=p.row, field=p.field, expected=p.expected, found=p.found,
                   hint=f"（批量文件 {v.source} 的变体“{v.name}”）" + (p.hint or ""))


def batch_key(scenario, fconf, policy, path: Path, region) -> str:
    """Hash of what decides a run's result: resolved scenario and sections, input file hashes, xuewei version."""
    from xuewei.reports.run_outputs import input_hashes

    hashes = input_hashes(SimpleNamespace(scenario_path=path, region=region))
    payload = {"xuewei": __version__, "scenario": scenario.model_dump(mode="json"),
               "forecast": fconf.model_dump(mode="json"), "policy": policy.model_dump(mode="json"),
               "inputs": {k: v["sha256"] for k, v in hashes.items()}}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def validate_variants(variants: list[Variant], extra: dict | None = None) -> list[Variant]:
    """Build every variant's scenario, region and policy as a run would; set each `Variant.key`.

    Raises
    ------
    InputError
        Listing every problem of every variant, pointed at the batch file's line where possible.
    """
    from xuewei import pipeline

    problems: list[Problem] = []
    for v in variants:
        try:
            scenario, path, region, fconf, policy = pipeline.load_inputs(v.scenario, v.run_overrides(extra))
            policy.budget_for(len(scenario.horizon.periods))
        except InputError as err:
            problems += [_relabel(v, p) for p in err.problems]
            continue
        except ValueError as err:  # budget list of the wrong length
            key = next((k for k in {**v.common, **v.overrides} if k.startswith("policy.budget_wan_yuan")), None)
            problems.append(Problem(file=v.source, row=v.lines.get(key), field=key or "policy.budget_wan_yuan",
                                    expected="每个规划期一个数，或一个数用于各期", found=str(err),
                                    hint=f"变体“{v.name}”。"))
            continue
        v.key = batch_key(scenario, fconf, policy, path, region)
        v.region_id = region.meta.id
    by_name = {v.name: v for v in variants}
    for v in variants:  # a warm-started variant's result also depends on its source's
        src = by_name.get(v.warm_from) if v.warm_from else None
        if v.warm_from and src is None:
            problems.append(Problem(file=v.source, row=v.lines.get("warm_start"), field="warm_start",
                                    expected="要运行的变体", found=v.warm_from,
                                    hint=f"变体“{v.name}”从它热启动，但它不在本次运行的变体中。"))
        elif src is not None and src.key and v.key:
            if src.region_id != v.region_id:
                problems.append(Problem(file=v.source, row=v.lines.get("warm_start"), field="warm_start",
                                        expected="与热启动来源同一区域的变体", found=f"{v.name}：{v.region_id}",
                                        hint=f"来源“{src.name}”的区域是 {src.region_id}。"))
            v.key = hashlib.sha256(f"{v.key}|warm_start|{src.key}".encode()).hexdigest()
    raise_if(problems)
    return variants
