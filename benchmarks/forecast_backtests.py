"""Rolling-origin backtests of the enrolment forecaster on every real series we have.

Run: ``nice python benchmarks/forecast_backtests.py [--only NAME,NAME] [--out benchmarks/results] [--by-origin]``.
Writes ``forecast_backtests.md`` (the tables quoted in docs/forecast.md §3) and
``forecast_backtests.csv`` (one row per series × level × method × horizon). Each series is run
exactly as ``xuewei backtest`` runs it (rolling origins, years ≤ origin only, break years auto).
``--by-origin`` also prints, per series, each origin's total MAPE averaged over its scored horizons
and the combination used there (to see which origins make a series fail); it writes nothing.

Series (see each folder's PROVENANCE.md; ECASD lives in the shared real-data folder):

====================  ==================================================================  =========
name                  what                                                                births
====================  ==================================================================  =========
ecasd_district        Eau Claire (WI, USA) school district, K–5, 1998–2024                yes / no
ecasd_school          its elementary schools (some open or close in the period)          no
nz_regions            New Zealand, 16 regional councils, school roll by age 5–17, 1996–2016  yes / no
nyc_districts         New York City, 32 community school districts, K–12, 2013–2020        no
nyc_schools_manhattan New York City, 291 schools of districts 1–6, K–12, 2013–2020 (late  no
                      starting schools and grades)
au_states             Australia, 8 states/territories, students by age 5–17, 2006–2020    no
sg_primary            Singapore, primary schools (one area), P1–P6 by age, 1984–2016      yes / no
md_counties           Maryland (USA), 24 county school systems, K–12, 2002–2024 (added     no
                      after the combination's default was fixed: out of sample)
====================  ==================================================================  =========
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _table import markdown  # noqa: E402

from xuewei.forecaster.backtest import run_backtest  # noqa: E402
from xuewei.forecaster.history import build_history, detect_break_years, read_births, read_enrollment  # noqa: E402

# The converted series are not committed (made from fetched snapshots: see realdata/README.md).
REAL = Path(os.environ.get("XUEWEI_REALDATA", HERE / "realdata"))
ECASD = Path(os.environ.get("XUEWEI_ECASD", HERE.parent.parent / "shared" / "realdata" / "ecasd_eau_claire"))
if not ECASD.is_dir():
    ECASD = Path("/work/shared/realdata/ecasd_eau_claire")

#: name → (enrolment file, births file or None, origins "A:B", horizon, entry age)
SERIES: dict[str, tuple[Path, Path | None, str, int, int]] = {
    "ecasd_district+births": (ECASD / "enrollment_district.csv", ECASD / "births.csv", "2003:2023", 5, 6),
    "ecasd_district": (ECASD / "enrollment_district.csv", None, "2003:2023", 5, 6),
    "ecasd_school": (ECASD / "enrollment_school.csv", None, "2003:2023", 5, 6),
    "nz_regions+births": (REAL / "nz_regions" / "enrollment.csv", REAL / "nz_regions" / "births.csv", "2003:2015", 5, 6),
    "nz_regions": (REAL / "nz_regions" / "enrollment.csv", None, "1998:2015", 5, 6),
    "nyc_districts": (REAL / "nyc_districts" / "enrollment_district.csv", None, "2014:2019", 5, 6),
    "nyc_schools_manhattan": (REAL / "nyc_districts" / "enrollment_school_manhattan.csv", None, "2014:2019", 5, 6),
    "au_states": (REAL / "au_states" / "enrollment.csv", None, "2008:2019", 5, 6),
    # grade 1 = P1, entered in the year a child turns 7: births of t − 7 (entry age 7)
    "sg_primary+births": (REAL / "sg_primary" / "enrollment.csv", REAL / "sg_primary" / "births.csv", "1986:2015", 5, 7),
    "sg_primary": (REAL / "sg_primary" / "enrollment.csv", None, "1986:2015", 5, 7),
    # kindergarten = grade 0 at age 5; 2020 (COVID) is found as a break year or not by the same rule as elsewhere
    "md_counties": (REAL / "md_counties" / "enrollment.csv", None, "2004:2023", 5, 5),
}
METHOD_ZH = {"model": "模型", "persistence": "持续法", "trend": "线性趋势"}


def _backtest(name: str):
    e_path, b_path, origins, horizon, entry_age = SERIES[name]
    enrollment = read_enrollment(e_path)
    births = read_births(b_path) if b_path else None
    hist = build_history(enrollment, births, entry_age, detect_break_years(enrollment))
    a, b = (int(v) for v in origins.split(":"))
    return run_backtest(hist, list(range(a, b + 1)), horizon)


def by_origin(name: str) -> pd.DataFrame:
    """Per origin: total APE of each method averaged over the scored horizons [%], and the combination."""
    result = _backtest(name)
    cases = result.cases[result.cases["level"] == "total"]
    ape = (cases["forecast"] - cases["actual"]).abs() / cases["actual"] * 100
    wide = cases.assign(ape=ape).pivot_table(index="origin", columns="method", values="ape", aggfunc="mean")
    out = pd.DataFrame({"起点": wide.index, "模型 APE%": wide["model"].round(2).to_numpy(),
                        "持续法 APE%": wide["persistence"].round(2).to_numpy(),
                        "线性趋势 APE%": wide["trend"].round(2).to_numpy()})
    out["组合"] = [result.choices.get(int(o), "") for o in wide.index]
    return out


def run_one(name: str) -> tuple[pd.DataFrame, float]:
    """Backtest summary of one series as tidy rows, and the seconds it took."""
    start = time.perf_counter()
    summary = _backtest(name).summary()
    rows = []
    for level, blocks in (("area", summary), ("total", summary["total"])):
        for method in ("model", "persistence", "trend"):
            for h, cell in blocks[method].items():
                rows.append({"series": name, "level": level, "method": method, "horizon": int(h),
                             "mape_pct": cell["mape"], "bias_pct": cell["bias"], "n": cell["n"]})
    return pd.DataFrame(rows), time.perf_counter() - start


def series_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per level × horizon (plus the mean over horizons): MAPE of each method [%]."""
    wide = rows.pivot_table(index=["level", "horizon"], columns="method", values="mape_pct").reset_index()
    out = []
    for level, grp in wide.groupby("level", sort=False):
        grp = grp.sort_values("horizon")
        mean = grp[["model", "persistence", "trend"]].mean()
        for r in [*grp.itertuples(index=False), None]:
            vals = mean if r is None else pd.Series({"model": r.model, "persistence": r.persistence, "trend": r.trend})
            best = min(vals["persistence"], vals["trend"])
            out.append({"层级": "各地区" if level == "area" else "合计",
                        "年限": "平均" if r is None else int(r.horizon),
                        "模型 MAPE%": round(vals["model"], 2), "持续法 MAPE%": round(vals["persistence"], 2),
                        "线性趋势 MAPE%": round(vals["trend"], 2),
                        "模型 − 较好基准（百分点）": round(vals["model"] - best, 2)})
    return pd.DataFrame(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", help="comma-separated series names")
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--by-origin", action="store_true", help="print each origin's errors instead of the tables")
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else list(SERIES)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    all_rows, text = [], ["# 预测回测：全部真实序列", "",
                          "由 `python benchmarks/forecast_backtests.py` 生成；MAPE 为各起点平均的平均绝对百分比误差（%）。", ""]
    missing = [n for n in names if not SERIES[n][0].is_file()]
    for name in missing:
        print(f"跳过 {name}：缺少 {SERIES[name][0]}（见 benchmarks/realdata/README.md：按 PROVENANCE.md 取得并换算）",
              file=sys.stderr)
    names = [n for n in names if n not in missing]
    if args.by_origin:
        for name in names:
            print(f"## {name}（各起点：合计 APE 在已评分年限上的平均）\n\n{markdown(by_origin(name))}\n", flush=True)
        return 0
    for name in names:
        rows, secs = run_one(name)
        all_rows.append(rows)
        e_path, b_path, origins, horizon, _ = SERIES[name]
        text += [f"## {name}", "", f"起点 {origins}，预测 1–{horizon} 年，{'含' if b_path else '不含'}出生数；用时 {secs:.0f} s。", "",
                 markdown(series_table(rows))]
        print("\n".join(text[-5:]), flush=True)
        print(f"{name}: {secs:.1f} s", file=sys.stderr)
    table = pd.concat(all_rows, ignore_index=True)
    if not args.only and not missing:
        table.to_csv(out / "forecast_backtests.csv", index=False)
        (out / "forecast_backtests.md").write_text("\n".join(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
