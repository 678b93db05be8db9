"""Catchment figures of one run folder: unserved demand, school changes, schools cut hard.

Prints, for a folder written by ``xuewei run --out RUN``:

- **unserved share**: unserved pupils / all design pupils (assigned + unserved), over every stage and
  period [share];
- **changes away from a still-open school**: village × stage transitions (one period to the next;
  with ``catchments_base.csv`` also base year → first period) in which at least
  ``--min-share`` of the village's pupils leave a school that still hosts the stage in the new
  period, against all transitions of villages with pupils at both ends. Split by whether the base
  year is included, so a run without base flows compares with one that has them;
- **schools cut hard**: existing schools still open whose classes (all stages) fall below 70 % of
  their base-year classes in some period, with the action labels they got (``actions.csv``).

Usage::

    python benchmarks/catchment_metrics.py RUN [RUN ...] [--min-share 0.005] [--list N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

CUT_SHARE = 0.3  #: a school "cut hard" keeps fewer than (1 - CUT_SHARE) of its base-year classes


def _read(run: Path, name: str) -> pd.DataFrame | None:
    f = run / name
    return pd.read_csv(f, encoding="utf-8-sig", dtype={"node_id": str, "school_id": str, "site_id": str,
                                                       "from_school": str, "to_school": str}) if f.exists() else None


def _shares(a: pd.DataFrame) -> pd.DataFrame:
    """``node_id, stage, period, school_id, frac``: each village's pupils by school as a share."""
    tot = a.groupby(["node_id", "stage", "period"])["pupils"].transform("sum")
    return a.assign(frac=np.where(tot > 0, a["pupils"] / tot.where(tot > 0, 1.0), 0.0))[
        ["node_id", "stage", "period", "school_id", "frac"]]


def transitions(assign: pd.DataFrame, open_sites: pd.DataFrame, base: pd.DataFrame | None,
                min_share: float) -> pd.DataFrame:
    """One row per village × stage × transition: ``moved_open`` (share of pupils leaving a school
    still open for the stage), ``moved_any`` (share changing school at all), ``pupils`` (now)."""
    periods = sorted(assign["period"].unique())
    frames = [_shares(assign)]
    chain = list(periods)
    if base is not None and len(base):
        base_year = int(base["year"].iloc[0]) if "year" in base else periods[0] - 1
        frames.append(_shares(base.assign(period=base_year)))
        chain = [base_year] + chain
    sh = pd.concat(frames, ignore_index=True)
    rows = []
    for prev, cur in zip(chain[:-1], chain[1:]):
        a = sh[sh["period"] == prev].rename(columns={"frac": "f_prev"}).drop(columns="period")
        b = sh[sh["period"] == cur].rename(columns={"frac": "f_cur"}).drop(columns="period")
        both = a[["node_id", "stage"]].drop_duplicates().merge(b[["node_id", "stage"]].drop_duplicates())
        m = a.merge(b, on=["node_id", "stage", "school_id"], how="outer").fillna({"f_prev": 0.0, "f_cur": 0.0})
        m = m.merge(both, on=["node_id", "stage"])
        still = open_sites[open_sites["period"] == cur][["site_id", "stage"]].rename(columns={"site_id": "school_id"})
        m = m.merge(still.assign(still_open=True), on=["school_id", "stage"], how="left")
        m["still_open"] = m["still_open"].eq(True)
        # Base-year pupils with no school in reach (empty school_id in catchments_base.csv) left nothing.
        m["loss"] = (m["f_prev"] - m["f_cur"]).clip(lower=0).where(m["school_id"].fillna("") != "", 0.0)
        g = m.groupby(["node_id", "stage"])
        out = pd.DataFrame({"moved_any": g["loss"].sum(),
                            "moved_open": m[m["still_open"]].groupby(["node_id", "stage"])["loss"].sum()}).fillna(0.0)
        out = out.reset_index().assign(prev=prev, period=cur)
        rows.append(out)
    t = pd.concat(rows, ignore_index=True)
    t["changed"] = t["moved_any"] >= min_share
    t["away_from_open"] = t["moved_open"] >= min_share
    t["from_base"] = t["prev"] == chain[0] if base is not None and len(base) else False
    return t


def cut_periods(sites: pd.DataFrame) -> pd.DataFrame:
    """Per existing school × period, still open, more than CUT_SHARE below its base-year classes:
    ``site_id, period, before, classes, cut``. ``sites`` has ``open`` as booleans."""
    ex = sites[sites["origin"] == "existing"]
    per = ex.groupby(["site_id", "period"]).agg(before=("classes_before", "sum"), classes=("classes", "sum"),
                                                is_open=("open", "any")).reset_index()
    per = per[per["is_open"] & (per["before"] > 0)]
    per["cut"] = 1 - per["classes"] / per["before"]
    # the same test as `xuewei.optimizer.actions` (7 of 10 classes is not "more than 30 % below")
    return per[per["classes"] < (1 - CUT_SHARE) * per["before"]].sort_values(["site_id", "period"])


def cut_schools(sites: pd.DataFrame, actions: pd.DataFrame | None) -> pd.DataFrame:
    """Existing schools still open with fewer than 70 % of their base-year classes in some period."""
    worst = cut_periods(sites).sort_values("cut", ascending=False).drop_duplicates("site_id")
    if actions is not None:
        labels = actions.groupby("school_id")["action_zh"].agg(lambda s: "→".join(s.astype(str)))
        worst = worst.assign(labels=worst["site_id"].map(labels).fillna(""))
    return worst.sort_values("cut", ascending=False).reset_index(drop=True)


def run_figures(run: Path, min_share: float = 0.005) -> dict:
    """What a run folder says about its catchments: ``sites`` (``open`` as booleans), ``actions``,
    ``base`` (base-year flows or None), ``served`` and ``unserved`` pupils, and ``t`` (`transitions`)."""
    assign = _read(run, "assignments.csv")
    sites = _read(run, "layout_sites.csv")
    sites = sites.assign(open=sites["open"].astype(str).isin(["True", "true", "1"]))
    unserved = _read(run, "unserved.csv")
    base = _read(run, "catchments_base.csv")
    return {"sites": sites, "actions": _read(run, "actions.csv"), "base": base,
            "served": float(assign["pupils"].sum()),
            "unserved": float(unserved["pupils"].sum()) if unserved is not None and len(unserved) else 0.0,
            "t": transitions(assign, sites[sites["open"]], base, min_share)}


def measure(run: Path, min_share: float = 0.005, show: int = 10) -> dict:
    fig = run_figures(run, min_share)
    served, un, t, base = fig["served"], fig["unserved"], fig["t"], fig["base"]
    periods_only = t[~t["from_base"]]
    cut = cut_schools(fig["sites"], fig["actions"])
    out = {"run": str(run), "unserved_pupils": un, "demand_pupils": served + un,
           "unserved_share": un / (served + un) if served + un else 0.0,
           "transitions_periods": len(periods_only), "away_periods": int(periods_only["away_from_open"].sum()),
           "transitions_all": len(t), "away_all": int(t["away_from_open"].sum()),
           "changed_all": int(t["changed"].sum()), "cut_schools": len(cut)}
    print(f"== {run}")
    print(f"未安排：{un:,.0f} / {served + un:,.0f} 人 = {out['unserved_share']:.2%}")
    print(f"离开仍开办学校的村×学段变动（规划期之间）：{out['away_periods']} / {out['transitions_periods']} = "
          f"{out['away_periods'] / max(1, out['transitions_periods']):.1%}")
    if base is not None and len(base):
        print(f"离开仍开办学校的村×学段变动（含基准年→首期）：{out['away_all']} / {out['transitions_all']} = "
              f"{out['away_all'] / max(1, out['transitions_all']):.1%}；换校（任何原因）{out['changed_all']}")
    else:
        print("（运行文件夹无 catchments_base.csv：基准年→首期未计）")
    by = t.groupby(["stage", "period"])["away_from_open"].agg(["sum", "count"])
    print("按学段 × 期：" + "；".join(f"{g}/{p} {int(r['sum'])}/{int(r['count'])}" for (g, p), r in by.iterrows()))
    print(f"现有学校班数减少 30% 以上（仍开办）：{len(cut)} 所")
    if len(cut):
        show_cols = [c for c in ("site_id", "period", "before", "classes", "cut", "labels") if c in cut]
        print(cut[show_cols].head(show).to_string(index=False))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", type=Path, nargs="+")
    p.add_argument("--min-share", type=float, default=0.005, help="一个村的学生至少有这一比例换校才算变动")
    p.add_argument("--list", type=int, default=10, help="列出多少所被大幅削减的学校")
    a = p.parse_args(argv)
    for run in a.runs:
        measure(run, a.min_share, a.list)


if __name__ == "__main__":
    main()
