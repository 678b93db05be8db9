"""The ``xuewei backtest`` command (``xuewei forecast`` is wired by the scenario layer)."""

from __future__ import annotations

import argparse
import json
import sys

from xuewei.errors import InputError, Problem
from xuewei.forecaster.backtest import METHODS, BacktestResult, run_backtest
from xuewei.forecaster.history import build_history, detect_break_years, read_births, read_enrollment

METHOD_ZH = {"model": "升级比模型", "persistence": "持续法", "trend": "线性趋势"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="预测回测（滚动起点，对比持续法与线性趋势）",
        description="按年级在校生历史回测升级比模型：只用起点及以前的年份拟合，预测其后若干年，与实际比较，"
                    "并与持续法、线性趋势对比。",
    )
    p.add_argument("--enrollment", required=True, metavar="E.csv", help="在校生表：area, year, grade, pupils")
    p.add_argument("--births", metavar="B.csv", help="出生数表：area, year, births（可选）")
    p.add_argument("--origin", required=True, metavar="YEAR|A:B", help="预测起点年份，或 A:B 表示逐年滚动起点")
    p.add_argument("--horizon", required=True, type=int, metavar="H", help="预测年数")
    p.add_argument("--entry-age", type=int, default=6, metavar="N",
                   help="一年级入学年龄（默认 6：g 年级 t 年的学生出生于 t−(g+5) 年）")
    p.add_argument("--break-years", default="auto", metavar="auto|none|Y1,Y2",
                   help="结构断点年份（不拟合、不评分）。auto（默认）：总数偏离前后两年均值超过 10%% 的年份")
    p.add_argument("--json", action="store_true", help="以 JSON 输出结果（说明写到标准错误）")
    p.set_defaults(func=handle)


def parse_origins(text: str) -> list[int]:
    """``"2010"`` → [2010]; ``"2005:2008"`` → [2005, 2006, 2007, 2008]."""
    try:
        if ":" in text:
            a, b = (int(v) for v in text.split(":", 1))
            if b < a:
                raise ValueError
        else:
            a = b = int(text)
    except ValueError:
        raise InputError(Problem(file="--origin", expected="年份 YEAR 或区间 A:B（A≤B）", found=text)) from None
    if b - a + 1 > MAX_ORIGINS:
        raise InputError(Problem(file="--origin", expected=f"不超过 {MAX_ORIGINS} 年的起点区间", found=text))
    return list(range(a, b + 1))


def parse_breaks(text: str, enrollment) -> tuple[int, ...]:
    if text == "auto":
        return detect_break_years(enrollment)
    if text == "none":
        return ()
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InputError(Problem(file="--break-years", expected="auto、none 或逗号分隔的年份", found=text)) from None


MAX_HORIZON = 30  #: years; no grade history is long enough to score more
MAX_ORIGINS = 100


def handle(args: argparse.Namespace) -> int:
    if not 1 <= args.horizon <= MAX_HORIZON:
        raise InputError(Problem(file="--horizon", expected=f"1–{MAX_HORIZON} 之间的整数（年）", found=str(args.horizon)))
    if not 3 <= args.entry_age <= 9:
        raise InputError(Problem(file="--entry-age", expected="3–9 之间的整数", found=str(args.entry_age)))
    origins = parse_origins(args.origin)
    enrollment = read_enrollment(args.enrollment)
    births = read_births(args.births) if args.births else None
    breaks = parse_breaks(args.break_years, enrollment)
    hist = build_history(enrollment, births, args.entry_age, breaks, births_file=str(args.births))
    result = run_backtest(hist, origins, args.horizon)
    summary = result.summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        for note in result.notes:
            print(f"说明：{note}", file=sys.stderr)
    else:
        print(render(result, summary))
    return 0


def mean_over_horizons(block: dict) -> float | None:
    values = [v["mape"] for v in block.values() if v["mape"] is not None]
    return sum(values) / len(values) if values else None


def render(result: BacktestResult, summary: dict) -> str:
    """Chinese text report of a backtest."""
    lines = [f"回测：起点 {result.origins[0]}–{result.origins[-1]}，预测 1–{result.horizon} 年；"
             f"误差为实际值的百分比（MAPE 平均绝对百分比误差；偏差 = 预测偏高为正）。"]
    for title, blocks in (("各地区（按年级加总）", summary), ("合计（各地区相加）", summary["total"])):
        lines.append(f"\n{title}")
        lines.append(f"{'年限':>4} " + " ".join(f"{METHOD_ZH[m]:>14}" for m in METHODS) + "   （MAPE% / 偏差% / 个数）")
        for h in range(1, result.horizon + 1):
            cells = []
            for m in METHODS:
                v = blocks[m][str(h)]
                cells.append("—".rjust(16) if v["mape"] is None else f"{v['mape']:6.2f}/{v['bias']:+6.2f}/{v['n']:<3d}")
            lines.append(f"{h:>4} " + " ".join(f"{c:>16}" for c in cells))
        means = {m: mean_over_horizons(blocks[m]) for m in METHODS}
        text = "，".join(f"{METHOD_ZH[m]} {v:.2f}%" for m, v in means.items() if v is not None)
        lines.append(f"各年限平均 MAPE：{text}")
        if all(v is not None for v in means.values()):
            beats = means["model"] < means["persistence"] and means["model"] < means["trend"]
            lines.append("模型优于持续法和线性趋势。" if beats else "模型未能同时优于持续法和线性趋势。")
    if result.choices:
        lines.append("\n各起点的组合方法与权重（只用起点及以前的年份定出）：")
        for y, label in result.choices.items():
            lines.append(f"  {y}：{label}")
    for note in result.notes:
        lines.append(f"说明：{note}")
    return "\n".join(lines)
