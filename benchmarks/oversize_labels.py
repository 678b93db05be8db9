"""Existing schools whose classes drop by more than 30 %, and the labels a run gives them.

Reads the ``actions.csv`` (and ``layout_sites.csv``) of one or more run folders written by
``xuewei run``; for each run prints

- per period, existing schools with fewer than 70 % of the previous period's classes (base year
  for the first period) and their label — a cut this large labelled 保留 is a silent cut;
- per school, those whose classes at some period are below 70 % of the base year's, with the
  sequence of their labels; the school is *silently cut* when every label up to that period is 保留;
- how the rows labelled 缩减 explain the drop (reason codes of actions.csv, runs from this version on);
- the schools above a size cap or with 大班额 in the base year (as ``xuewei validate`` warns, with the
  run's own policy): their classes, pupils and labels in each period.

Usage::

    python benchmarks/oversize_labels.py RUN_DIR [RUN_DIR ...] [--out FILE.md]

e.g. ``xuewei run scenarios/demo.toml --out /tmp/demo && python benchmarks/oversize_labels.py /tmp/demo``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import markdown  # noqa: E402

CUT = 0.3  #: share of classes lost that counts as a big cut


def existing_actions(run_dir: Path) -> pd.DataFrame:
    """Actions of the schools that exist in the base year (not candidate or village sites)."""
    a = pd.read_csv(run_dir / "actions.csv", encoding="utf-8-sig", dtype={"township_id": str})
    sites = pd.read_csv(run_dir / "layout_sites.csv", encoding="utf-8-sig")
    existing = set(sites.loc[(sites["origin"] == "existing") & (sites["classes_before"] > 0), "site_id"])
    a = a[a["school_id"].isin(existing)].sort_values(["school_id", "period"]).copy()
    a["base_classes"] = a["school_id"].map(a.groupby("school_id")["classes_before"].first())
    return a


def period_cuts(a: pd.DataFrame) -> pd.DataFrame:
    """Rows whose classes fall below (1 − CUT) × the previous period's (schools still open)."""
    cut = a[(a["classes_after"] > 0) & (a["classes_after"] < (1 - CUT) * a["classes_before"])]
    cols = ["school_id", "name", "period", "classes_before", "classes_after", "action_zh"]
    if "reason" in cut:
        cols.append("reason")
    return cut[cols]


def cumulative_cuts(a: pd.DataFrame) -> pd.DataFrame:
    """Per school whose classes fall below (1 − CUT) × base at some period: its labels and whether
    the cut was silent (every label up to the first such period is 保留)."""
    rows = []
    for sid, g in a.groupby("school_id", sort=True):
        g = g.sort_values("period")
        below = (g["classes_after"] > 0) & (g["classes_after"] < (1 - CUT) * g["base_classes"])
        if not below.any():
            continue
        first = int(below.to_numpy().argmax())
        labels = g["action_zh"].tolist()
        rows.append({"school_id": sid, "name": g["name"].iloc[0], "base_classes": int(g["base_classes"].iloc[0]),
                     "classes": "→".join(str(int(c)) for c in g["classes_after"]),
                     "labels": "→".join(labels), "silent": all(x == "保留" for x in labels[:first + 1])})
    return pd.DataFrame(rows, columns=["school_id", "name", "base_classes", "classes", "labels", "silent"])


def oversize_paths(run_dir: Path, a: pd.DataFrame) -> pd.DataFrame:
    """Base-year over-size / 大班额 schools: classes, pupils and label per period."""
    import json

    from xuewei.data.region import load_region
    from xuewei.optimizer.oversize import base_year_breaches
    from xuewei.optimizer.policy import PolicyConfig

    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    policy = PolicyConfig(**{k: v for k, v in manifest["policy"].items() if k in PolicyConfig.model_fields})
    region = load_region(Path(manifest["region"]["path"]))
    base = manifest["scenario"]["resolved"]["horizon"].get("base_year") or region.meta.base_year
    ids = base_year_breaches(region, policy, base)["school_id"]
    sch = pd.read_csv(run_dir / "schools.csv", encoding="utf-8-sig")
    pupils = sch.groupby(["school_id", "period"])["pupils"].sum()
    rows = []
    for sid in ids:
        g = a[a["school_id"] == sid].sort_values("period")
        if g.empty:
            continue
        rows.append({"school_id": sid, "name": g["name"].iloc[0], "base_classes": int(g["base_classes"].iloc[0]),
                     "classes": "→".join(str(int(c)) for c in g["classes_after"]),
                     "pupils": "→".join(f"{pupils.get((sid, p), 0.0):.0f}" for p in g["period"]),
                     "labels": "→".join(g["action_zh"])})
    return pd.DataFrame(rows, columns=["school_id", "name", "base_classes", "classes", "pupils", "labels"])


def report(run_dir: Path) -> str:
    a = existing_actions(run_dir)
    per = period_cuts(a)
    cum = cumulative_cuts(a)
    lines = [f"## {run_dir}", "",
             f"- existing schools: {a['school_id'].nunique()}; school × period rows: {len(a)}",
             f"- rows cut by more than {CUT:.0%} of the previous period's classes: {len(per)}, "
             f"labelled 保留: {int((per['action_zh'] == '保留').sum())}",
             f"- schools below {1 - CUT:.0%} of their base-year classes at some period: {len(cum)}, "
             f"silently cut (保留 all the way): {int(cum['silent'].sum()) if len(cum) else 0}", ""]
    if len(per):
        lines += ["### Period cuts > 30 %", "", markdown(per.astype(object)), ""]
        lines += ["Labels: " + ", ".join(f"{k} {v}" for k, v in per["action_zh"].value_counts().items()), ""]
    if "reason" in a:
        shrink = a[a["action"] == "shrink"]
        codes = shrink["reason"].fillna("").str.split(";").explode().value_counts()
        lines += ["### Reason codes of the 缩减 rows", "",
                  ", ".join(f"{k} {v}" for k, v in codes.items() if k) + f" (rows: {len(shrink)})", ""]
    over = oversize_paths(run_dir, a)
    if len(over):
        lines += ["### Schools over a size cap or with 大班额 in the base year", "", markdown(over.astype(object)), ""]
    if len(cum):
        lines += ["### Schools below 70 % of their base-year classes", "", markdown(cum.astype(object)), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    text = "\n".join(report(r) for r in args.runs)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
