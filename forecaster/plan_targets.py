"""The forecast beside a plan's own targets (巫溪 表2), reported, never forced to match.

Pupil targets are compared with ``pupils_all`` (the plan counts public and private pupils); share
targets (公办园在园幼儿占比, 在园幼儿普惠率) with the run's own share of all pupils in that year.
"""

from __future__ import annotations

import pandas as pd

from xuewei.data.plans import load_plan

# plan id → (table, indicator as printed, stage, what, multiplier, note); what = column of demand.csv
# summed (pupils) or the share ``<column>/pupils_all`` (share, plan value in percent)
TARGETS = {
    "wuxi": [
        ("表2", "在园幼儿数（万人）", "kindergarten", "pupils_all", 10_000, "规划与预测都为全部在园幼儿（公办+民办）"),
        ("表2", "公办园在园幼儿占比", "kindergarten", "share:pupils_public", 0.01, "预测的公办占比 = pupils_public ÷ pupils_all"),
        ("表2", "在园幼儿普惠率", "kindergarten", "share:pupils_inclusive", 0.01, "预测的普惠率 = pupils_inclusive ÷ pupils_all"),
        ("表2", "其中：普通小学", "primary", "pupils_all", 10_000, ""),
        ("表2", "普通初中", "junior", "pupils_all", 10_000, ""),
        ("表2", "其中：普通高中", "senior", "pupils_all", 10_000, "规划表头印作“在校学生数（人）”，数值实为万人"),
    ],
}
YEAR_COLUMNS = {2022: "2022年", 2025: "2025年"}


def compare_with_plan(demand: pd.DataFrame, plan_id: str) -> pd.DataFrame | None:
    """County totals (or shares) of the forecast, each variant, beside the plan's targets, with the quote.

    Columns: ``stage, year, variant, indicator_kind`` (pupils|share), ``forecast`` and ``plan_target``
    (pupils [人] or share [fraction]), ``difference``, ``difference_pct`` (relative, %), ``plan_indicator``,
    ``note``, ``source_quote``.
    """
    if plan_id not in TARGETS:
        return None
    plan = load_plan(plan_id)
    cols = [c for c in ("pupils", "pupils_all", "pupils_public", "pupils_inclusive") if c in demand.columns]
    totals = demand.groupby(["stage", "variant", "year"])[cols].sum()
    rows = []
    for table_id, indicator, stage, what, mult, note in TARGETS[plan_id]:
        row = next(r for r in plan.table(table_id).rows if r.get("主要指标") == indicator)
        for year, col in YEAR_COLUMNS.items():
            target = row.get(col)
            if not isinstance(target, (int, float)):
                continue
            for variant in sorted(demand["variant"].unique()):
                if (stage, variant, year) not in totals.index:
                    continue
                cell = totals.loc[(stage, variant, year)]
                if what.startswith("share:"):
                    num = what.split(":", 1)[1]
                    if num not in cell or cell.get("pupils_all", 0) <= 0:
                        continue
                    got, kind, digits = float(cell[num] / cell["pupils_all"]), "share", 4
                else:
                    got, kind, digits = float(cell[what if what in cell else "pupils"]), "pupils", 0
                want = target * mult
                rows.append({"stage": stage, "year": year, "variant": variant, "indicator_kind": kind,
                             "forecast": round(got, digits), "plan_target": round(want, digits),
                             "difference": round(got - want, digits),
                             "difference_pct": round(100 * (got / want - 1), 1) if want else None,
                             "plan_indicator": indicator, "note": note, "source_quote": row["source_quote"]})
    return pd.DataFrame(rows) if rows else None
