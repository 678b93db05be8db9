"""Scenario files (``scenarios/*.toml``): a strict, typed schema with ``extends`` and overrides.

A scenario names its region, horizon, forecast options, policy and solver options. Unknown keys are
errors that name the file, line and the nearest valid key. ``extends = "other.toml"`` loads the other
file first (relative to this one) and overrides it key by key.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xuewei.data.paths import SCENARIOS_DIR
from xuewei.data.region import check_inside, resolve_region_path
from xuewei.data.tomlio import key_line, read_toml, validate_model
from xuewei.errors import InputError, Problem

Stage = Literal["kindergarten", "primary", "junior", "senior"]
STAGES: tuple[str, ...] = ("kindergarten", "primary", "junior", "senior")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Horizon(_Strict):
    """Years: the base year of the data, and the periods at which the layout is decided."""

    base_year: int | None = Field(default=None, ge=1949, le=2100, description="基准年；缺省取区域的 base_year")
    periods: list[Annotated[int, Field(ge=1950, le=2150)]] = Field(
        default=[2025, 2030, 2035], min_length=1, max_length=20, description="规划期末年份（递增）")

    @model_validator(mode="after")
    def _increasing(self):
        if any(b <= a for a, b in zip(self.periods, self.periods[1:])):
            raise ValueError("periods 必须严格递增")
        return self


class SolverOptions(_Strict):
    """Integer-program solver options."""

    name: Literal["highs", "cbc", "scip"] = Field(default="highs", description="求解器：highs（默认）、cbc 或 scip（需另装 pyscipopt）")
    reproducible: bool = Field(
        default=True,
        description="可复现模式（缺省）：每个模型按分支节点数（max_nodes）停止，单线程、随机种子固定，同一情景与输入"
                    "在任何机器上得到逐字节相同的结果表；false 则按时限（time_limit_s）停止，结果可能随机器忙闲而变")
    max_nodes: int = Field(default=1, ge=1, le=10_000_000,
                           description="可复现模式下每个模型的分支节点上限（1 = 只解根节点：LP、割平面与启发式）")
    time_limit_s: float = Field(
        default=600.0, gt=0, le=7 * 86400,
        description="求解时限 [s]：按时限模式下为整个求解的时限；可复现模式下为每个模型的保险时限"
                    "（触发时该模型记为“按时限停止”，结果不再保证可复现）")
    gap_rel: float = Field(default=0.005, ge=0, le=1, description="相对最优间隙")
    threads: int = Field(default=2, ge=1, le=64, description="按时限模式下的求解器线程数（可复现模式每个模型一个线程）")
    local_search: int = Field(
        default=0, ge=0, le=20,
        description="求解前对初始解做局部搜索的轮数（每轮把每所学校与共享村最多的几所学校一起重新优化：改划片、互换、撤并、"
                    "开办）；0 为不做。确定性：同一模型总得到同一结果")
    polish_nodes: int = Field(
        default=1, ge=0, le=1_000_000,
        description="可复现模式下，某模型求解后间隙仍大于 gap_rel 且大于 1% 时，把各校各期“开办与否”固定为该答案，在剩下的划片、班数、"
                    "床位问题上再解一次（至多这么多个分支节点；1 = 只解其根节点），取较省的答案；间隙仍对整个模型的下界计算。0 为不做。确定性")
    refine_sweeps: int = Field(
        default=1, ge=0, le=20,
        description="可复现模式下，某模型求解（及固定开办决策再解）后间隙仍大于 gap_rel 且大于 1% 时，在该答案上做局部搜索的轮数："
                    "每所学校与共享村最多的 4 所学校一起重新优化开办、班数与划片，其余不动，只保留更省的结果；间隙仍对整个模型的下界计算。"
                    "0 为不做。确定性")
    finish_nodes: int = Field(
        default=300, ge=0, le=1_000_000,
        description="可复现模式下，配对少于 1,000 的小模型（不论多小）在上面几步之后间隙仍大于 2%（且大于 gap_rel）时，从该答案出发对整个模型"
                    "再做分支定界，至多这么多个分支节点，取较省的答案与较高的下界。0 为不做。确定性")
    swap_rounds: int = Field(
        default=3, ge=0, le=20,
        description="可复现模式下，配对少于 1,000 的小模型在分支定界（finish_nodes）之后间隙仍大于 2%（且大于 gap_rel）时，再做几轮“开办互换”："
                    "一所学校或地块改变各期开办与否，或撤掉一处、另开一处；先用固定开办后的线性松弛给所有改动排序，再把最有希望的几个"
                    "固定开办求整数解，只保留更省的结果；间隙仍对整个模型的下界计算。0 为不做。确定性")
    warm_start: str | None = Field(
        default=None,
        description="热启动：一次已完成运行（同一区域）的输出文件夹或其 layout_sites.csv（相对本情景文件）。每个模型先把各校各期"
                    "“开办与否”固定为那次运行的取值解一次，比贪心初始解省就从这个答案出发，所以结果不会比“沿用那次的学校、为本情景重排”更贵。"
                    "批量中用批量文件的 warm_start 指定基准变体。确定性：同一来源得到同一结果")
    workers: int | None = Field(
        default=None, ge=1, le=64,
        description="同时求解的模型数（进程数）：各学段、各独立片区是互不相关的模型；缺省为 CPU 核数（最多 8），1 为逐个求解")

    def worker_count(self) -> int:
        """``workers``, or the machine's CPU count (at most 8) when not set."""
        if self.workers is not None:
            return self.workers
        return max(1, min(8, os.cpu_count() or 1))


class Outputs(_Strict):
    """What a run writes."""

    maps: bool = True
    workbook: bool = True
    report: bool = True


class Scenario(_Strict):
    """One planning scenario."""

    name: str = Field(description="情景名称")
    description: str = ""
    extends: str | None = Field(default=None, description="继承的情景文件（相对本文件）")
    region: str = Field(description="区域文件夹（相对本文件）或内置区域编号")
    horizon: Horizon = Horizon()
    forecast: dict[str, Any] = Field(default_factory=dict, description="预测选项（见 docs/forecast.md）")
    policy: dict[str, Any] = Field(default_factory=dict, description="布局政策（见 docs/layout.md）")
    solver: SolverOptions = SolverOptions()
    outputs: Outputs = Outputs()


def deep_merge(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``, recursing into tables; lists and values are replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_scenario_path(ref: str | Path | None) -> Path:
    if ref is None:
        return SCENARIOS_DIR / "demo.toml"
    path = Path(ref)
    if path.is_file():
        return path.resolve()
    bundled = SCENARIOS_DIR / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    if not path.is_absolute() and bundled.is_file():
        return bundled
    raise InputError(Problem(file=str(ref), expected="存在的情景文件（.toml）或内置情景名", found="找不到该文件",
                             hint="内置情景：" + "、".join(sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml")))))


def load_scenario_dict(path: Path, _chain: tuple[Path, ...] = ()) -> tuple[dict, str]:
    """The merged raw data of a scenario and its ``extends`` chain, plus the leaf file's text."""
    if path in _chain:
        raise InputError(Problem(file=str(path), field="extends", expected="无循环的继承关系",
                                 found=" → ".join(p.name for p in _chain + (path,))))
    data, text = read_toml(path)
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str) or not parent.strip():
            raise InputError(Problem(file=str(path), row=key_line(text, "extends"), field="extends",
                                     expected="情景文件名（文本，如 \"base.toml\"）", found=repr(parent)))
        ppath = path.parent / parent
        if not ppath.is_file():
            raise InputError(Problem(file=str(path), row=key_line(text, "extends"), field="extends",
                                     expected="存在的情景文件", found=parent))
        if not Path(parent).is_absolute():
            check_inside(ppath, path.parent, str(path), "extends", parent)
        ppath = ppath.resolve()
        base, _ = load_scenario_dict(ppath, _chain + (path,))
        # A relative region path belongs to the file that wrote it.
        if "region" in base and "region" not in data:
            data = dict(data, region=_rebase(base["region"], ppath))
        data = deep_merge(base, data)
    return data, text


def _rebase(region, parent_file: Path):
    """The parent's relative region path, made absolute (after the parent's own path check)."""
    if not isinstance(region, str) or Path(region).is_absolute():
        return region
    cand = parent_file.parent / region
    if (cand / "region.toml").is_file():
        check_inside(cand, parent_file.parent, str(parent_file), "region", region)
        return str(cand.resolve())
    return region


def load_scenario(ref: str | Path | None = None, overrides: dict | None = None) -> tuple[Scenario, Path]:
    """Load, merge and validate a scenario; returns it and its path."""
    path = resolve_scenario_path(ref)
    data, text = load_scenario_dict(path)
    if overrides:
        data = deep_merge(data, overrides)
    scenario = validate_model(Scenario, data, str(path), text)
    # Name the scenario file (and the line of `region`) when its region cannot be found or escapes.
    resolve_region_path(scenario.region, path.parent, label=str(path), row=key_line(text, "region"))
    return scenario, path
