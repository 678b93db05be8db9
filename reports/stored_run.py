"""One run's tables in one shape, whether fresh from `pipeline.run` or read back from its run folder.

Maps, hearing packs, the workbook and the HTML report all draw from a `RunTables`, so
``xuewei maps RUN_DIR`` and ``xuewei pack RUN_DIR`` work on any finished run folder: the region is
reloaded from the path in ``manifest.json`` (refused if its files changed since the run), the
policy and periods come from the manifest, the results from the folder's CSVs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from xuewei.errors import InputError, Problem

# Columns read as text (ids look like numbers: 500238001001 must not become a float).
ID_COLUMNS = {"node_id": str, "school_id": str, "site_id": str, "township_id": str, "merged_into": str,
              "stages_before": str, "stages_after": str, "from_school": str, "to_school": str}
RUN_TABLES = ("demand", "actions", "assignments", "schools", "summary", "unserved", "audit", "solver", "layout_sites")


@dataclass
class RunTables:
    """Everything a map, pack, workbook or report needs of one run.

    Attributes
    ----------
    region : xuewei.data.region.Region
        The region (WGS-84 ``lon``/``lat`` tables, boundary, metric CRS).
    policy : xuewei.optimizer.policy.PolicyConfig
        The run's policy (class caps, detour factor, design variant).
    scenario_name : str
    periods : list of int
        Planning periods [year].
    base_year : int
        Year of the school statistics the run starts from [year].
    created : str
        Date of the run (``YYYY-MM-DD``, UTC).
    demand, actions, assignments, schools, summary, unserved, violations, sites, solver : DataFrame
        As written to ``demand.csv``, ``actions.csv``, ``assignments.csv``, ``schools.csv``, ``summary.csv``,
        ``unserved.csv``, ``audit.csv``, ``layout_sites.csv``, ``solver.csv``.
    plan_check : dict
        As `optimizer.plan_check.check_against_plan` returns it: ``plan, horizon, levels, schools, actions,
        places, targets, notes`` (empty when the region names no plan).
    manifest : dict
        The run's manifest (empty for a fresh run before it is written).
    assumptions : list of str
        The forecast's assumptions and data notes, in Chinese (``demand.attrs["assumptions"]``; stored in
        ``manifest.json`` as ``forecast_assumptions``).
    grade_methods : dict
        Township id → {stage: ``township`` | ``schools`` | ``county``}: the stages forecast from a grade
        history and whose (the others by the cohort model); ``forecast_grade_methods`` in ``manifest.json``.
    """

    region: object
    policy: object
    scenario_name: str
    periods: list[int]
    base_year: int
    created: str
    demand: pd.DataFrame
    actions: pd.DataFrame
    assignments: pd.DataFrame
    schools: pd.DataFrame
    summary: pd.DataFrame
    unserved: pd.DataFrame
    violations: pd.DataFrame
    sites: pd.DataFrame
    solver: pd.DataFrame
    plan_check: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    base_flows: pd.DataFrame = field(default_factory=pd.DataFrame)  # catchments_base.csv (empty: older run)
    catchment_changes: pd.DataFrame = field(default_factory=pd.DataFrame)  # catchment_changes.csv
    assumptions: list[str] = field(default_factory=list)  # the forecast's notes (manifest.json forecast_assumptions)
    grade_methods: dict = field(default_factory=dict)  # township → {stage: whose grade history} (forecast_grade_methods)

    @property
    def synthetic(self) -> bool:
        return bool(self.region.meta.synthetic)

    @property
    def layout(self):
        """A `LayoutResult` view, so `optimizer.plan_check.check_against_plan` accepts a stored run."""
        from xuewei.optimizer.layout import LayoutResult

        return LayoutResult(sites=self.sites, assignments=self.assignments, unserved=self.unserved,
                            summary=self.solver)

    def township_names(self) -> pd.Series:
        """Township name by ``township_id``."""
        return self.region.townships.set_index("township_id")["name"]


def from_result(result) -> RunTables:
    """The tables of a fresh `pipeline.RunResult` (nothing read from disk)."""
    return RunTables(region=result.region, policy=result.policy, scenario_name=result.scenario.name,
                     periods=list(result.scenario.horizon.periods), base_year=int(result.base_year),
                     created=datetime.now(timezone.utc).strftime("%Y-%m-%d"), demand=result.demand,
                     actions=result.actions, assignments=result.layout.assignments, schools=result.schools,
                     summary=result.summary, unserved=result.unserved, violations=result.violations,
                     sites=result.layout.sites, solver=result.layout.summary, plan_check=dict(result.plan_check or {}),
                     base_flows=_or_empty(result.base_flows), catchment_changes=_or_empty(result.catchment_changes),
                     assumptions=list(result.demand.attrs.get("assumptions", [])),
                     grade_methods=dict(result.demand.attrs.get("grade_methods", {})))


def _or_empty(df) -> pd.DataFrame:
    return pd.DataFrame() if df is None else df


def _read_manifest(run_dir: Path) -> dict:
    man_path = run_dir / "manifest.json"
    if not run_dir.is_dir() or not man_path.is_file():
        raise InputError(Problem(file=str(run_dir), expected="xuewei run 的输出文件夹（含 manifest.json）", found="不是",
                                 hint="先运行 xuewei run，再对其输出文件夹使用本命令。"))
    try:
        man = json.loads(man_path.read_text(encoding="utf-8"))
        man["region"]["path"], man["inputs"], man["policy"], man["scenario"]["resolved"]["horizon"]["periods"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise InputError(Problem(file=str(man_path), expected="完整的运行清单", found=f"缺少或无法读取：{err}")) from None
    return man


def check_inputs_unchanged(run_dir: Path, manifest: dict, skip: tuple[str, ...] = ("plan", "scenario")) -> None:
    """Refuse a run folder whose region files changed or vanished since the run (its maps would lie).

    Raises
    ------
    InputError
        Naming every changed input, with the hint to run again.
    """
    from xuewei.reports.runfolder import file_sha256

    stale = [k for k, v in manifest["inputs"].items() if k not in skip and
             (not Path(v["path"]).is_file() or file_sha256(Path(v["path"])) != v["sha256"])]
    if stale:
        raise InputError(Problem(file=str(run_dir), field="manifest.json inputs", expected="与运行时相同的输入文件",
                                 found="已改变或缺失：" + "、".join(sorted(stale)),
                                 hint="输入已变，结果过时：请重新运行 xuewei run。"))


def _read_csv(run_dir: Path, name: str, required: bool = True) -> pd.DataFrame:
    path = run_dir / f"{name}.csv"
    if not path.is_file():
        if required:
            raise InputError(Problem(file=str(path), expected=f"运行结果表 {name}.csv", found="缺失",
                                     hint="运行文件夹不完整：请重新运行 xuewei run。"))
        return pd.DataFrame()
    df = pd.read_csv(path, dtype=ID_COLUMNS, encoding="utf-8-sig", keep_default_na=True)
    for col in ("merged_into", "stages_before", "stages_after"):
        if col in df:
            df[col] = df[col].fillna("")
    for col in ("boarding", "open", "status_quo_far"):  # booleans written as True/False
        if col in df:
            df[col] = df[col].astype(str).str.lower().isin(["true", "1"])
    return df


def read_run(run_dir: str | Path) -> RunTables:
    """Read a finished run folder back.

    Parameters
    ----------
    run_dir : str or Path
        Folder written by ``xuewei run``.

    Raises
    ------
    InputError
        Not a run folder, an incomplete manifest or table, or region files changed since the run.
    """
    from xuewei.data.region import load_region
    from xuewei.optimizer.policy import PolicyConfig

    run_dir = Path(run_dir)
    man = _read_manifest(run_dir)
    check_inputs_unchanged(run_dir, man)
    region = load_region(Path(man["region"]["path"]))
    policy = PolicyConfig.model_validate(man["policy"])
    horizon = man["scenario"]["resolved"]["horizon"]
    t = {name: _read_csv(run_dir, name, required=name not in ("audit", "solver", "unserved")) for name in RUN_TABLES}
    from xuewei.reports.plan_sections import read_csvs

    plan_check = read_csvs(run_dir)
    return RunTables(region=region, policy=policy, scenario_name=man["scenario"].get("name", ""),
                     periods=[int(p) for p in horizon["periods"]],
                     base_year=int(horizon.get("base_year") or region.meta.base_year),
                     created=str(man.get("created_utc", ""))[:10], demand=t["demand"], actions=t["actions"],
                     assignments=t["assignments"], schools=t["schools"], summary=t["summary"],
                     unserved=t["unserved"], violations=t["audit"], sites=t["layout_sites"], solver=t["solver"],
                     plan_check=plan_check, manifest=man,
                     base_flows=_read_csv(run_dir, "catchments_base", required=False),
                     catchment_changes=_read_csv(run_dir, "catchment_changes", required=False),
                     assumptions=[str(a) for a in man.get("forecast_assumptions", [])],
                     grade_methods=dict(man.get("forecast_grade_methods", {})))
