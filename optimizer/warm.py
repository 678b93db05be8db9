"""Warm start from an earlier run (``solver.warm_start``, ``xuewei run --warm-start``, a batch's ``warm_start``).

The earlier run's layout (``layout_sites.csv``: which schools are open in each period) seeds this
run's models: each model is first solved with the openings fixed at the earlier run's, and the solver
starts from that answer when it is cheaper than the greedy start (`xuewei.optimizer.layout._solve_group`).
So a variant of a batch (a smaller class cap, a budget, another birth path) is never solved worse than
"the baseline's schools, re-planned for this variant" — differences between variants then come from
the policy, less from where each model's search happened to stop.

This module only reads and checks the earlier run: the folder (or its ``layout_sites.csv``), its
columns, and that it planned the same region (``manifest.json``). It never writes to it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from xuewei.errors import InputError, Problem

SITES_FILE = "layout_sites.csv"
COLUMNS = ("site_id", "stage", "period", "open")
FIELD = "solver.warm_start"


def _problem(file, expected: str, found=None, row=None, field: str = FIELD, hint: str | None = None) -> InputError:
    return InputError(Problem(file=str(file), row=row, field=field, expected=expected, found=found, hint=hint))


def _refuse_first(bad: pd.Series, col: pd.Series, file: Path, expected: str, field: str) -> None:
    """Raise for the first row where ``bad`` holds (rows counted as in the file: header = 1)."""
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise _problem(file, expected, found=col.iloc[i], row=i + 2, field=field)


def _open_values(col: pd.Series, file: Path) -> pd.Series:
    """``open`` as bool: True/False as written by xuewei, also 1/0 and 是/否 (a table edited by hand)."""
    text = col.astype(str).str.strip().str.lower()
    truth = {"true": True, "1": True, "是": True, "false": False, "0": False, "否": False}
    value = text.map(truth)
    _refuse_first(value.isna(), col, file, "True 或 False（也接受 1/0、是/否）", "open")
    return value.astype(bool)


def read_warm_source(path: str | Path, region_id: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Read an earlier run's layout for a warm start.

    Parameters
    ----------
    path : str or pathlib.Path
        The earlier run's output folder, or its ``layout_sites.csv``.
    region_id : str, optional
        This run's region id; when the earlier run's ``manifest.json`` names another region, the
        warm start is refused (site ids of two regions may look alike).

    Returns
    -------
    (pandas.DataFrame, dict)
        ``stage, site_id, period, open`` (one row per school × stage × period; also ``classes`` when the
        file has it), and what to record
        of the source: ``path``, ``sha256`` of the table, the source's ``scenario`` and ``region``.

    Raises
    ------
    InputError
        Missing folder or file, missing column, an ``open`` value that is not true/false, or
        another region — naming the file, row and field.
    """
    given = Path(path)
    file = given / SITES_FILE if given.is_dir() else given
    if not file.is_file():
        hint = (f"应为一次已完成运行的输出文件夹（内含 {SITES_FILE}）或该文件本身。" if given.exists()
                else "路径不存在。")
        raise _problem(given, f"已完成运行的输出文件夹或其 {SITES_FILE}", found=str(path), hint=hint)
    raw = file.read_bytes()
    try:
        table = pd.read_csv(file, encoding="utf-8-sig", dtype={"site_id": str, "stage": str})
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise _problem(file, f"xuewei 写出的 {SITES_FILE}（UTF-8 CSV）", found=type(err).__name__) from err
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise _problem(file, "含列 " + "、".join(COLUMNS), found="缺少 " + "、".join(missing), field=missing[0])
    periods = pd.to_numeric(table["period"], errors="coerce")
    _refuse_first(periods.isna(), table["period"], file, "规划期的年份（整数）", "period")
    out = pd.DataFrame({"stage": table["stage"].astype(str).str.strip(), "site_id": table["site_id"].astype(str).str.strip(),
                        "period": periods.astype(int), "open": _open_values(table["open"], file)})
    if "classes" in table:  # optional (xuewei writes it): the class counts are a hint for the solver
        classes = pd.to_numeric(table["classes"], errors="coerce")
        _refuse_first(classes.isna() | (classes < 0), table["classes"], file, "班数（非负整数）", "classes")
        out["classes"] = classes.round().astype(int)
    meta = {"path": str(file.resolve()), "sha256": hashlib.sha256(raw).hexdigest(), "scenario": None, "region": None}
    manifest = file.parent / "manifest.json"
    if manifest.is_file():
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            info = {}
        meta["scenario"] = (info.get("scenario") or {}).get("name")
        meta["region"] = (info.get("region") or {}).get("id")
        if region_id is not None and meta["region"] not in (None, region_id):
            raise _problem(manifest, f"与本次同一区域（{region_id}）的运行", found=meta["region"], field="region.id",
                           hint="热启动只能取同一区域的布局。")
    return out, meta
