"""The `xuewei` command: one exception boundary around the subcommands.

Each subcommand lives in its own module, which exposes ``register(subparsers)``;
the parser it adds must set ``func`` (``args.func(args) -> int``).
Exit codes: 0 success, 2 bad input, 3 policy cannot be fully served, 1 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from xuewei import __version__
from xuewei.errors import XueweiError
from xuewei.reports.runfolder import stop_workers_on_interrupt

# Modules that add subcommands, in the order `--help` lists them.
COMMAND_MODULES: list[str] = [
    "xuewei.commands",
    "xuewei.data.commands",
    "xuewei.optimizer.commands",
    "xuewei.forecaster.commands",
    "xuewei.reports.commands",
    "xuewei.batch.commands",
    "xuewei.reports.rerun",
]

# Listed in `--help` so planners see the whole tool; they land with their issues.
PLANNED = {
    "run": "按情景完成预测→优化→核查→输出（默认演示县巫溪）",
    "forecast": "学位需求预测（分地点、学段、年份、方案）",
    "backtest": "预测回测（滚动起点，对比持续法与线性趋势）",
    "bench": "设施选址标准算例求解（pmed / cap / sscflp）",
    "check": "运行结果对照规划表",
    "audit": "把规划自身的布局作为情景审计",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xuewei",
        description="学位规划工具：预测学位需求，优化学校布局，对照规划表核查。",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"xuewei {__version__}")
    parser.add_argument("--debug", action="store_true", help="出错时显示完整调用栈（供开发者排查）")
    sub = parser.add_subparsers(dest="command", metavar="命令")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    pending = {k: v for k, v in PLANNED.items() if k not in sub.choices}
    if pending:
        parser.epilog = "计划中、尚未提供的命令：\n" + "\n".join(
            f"  {k:<10}{v}" for k, v in pending.items()
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        with stop_workers_on_interrupt():
            return int(args.func(args) or 0)
    except XueweiError as err:
        if args.debug:
            traceback.print_exc()
        print(f"错误：{err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except Exception as err:  # the boundary: anything unplanned is an internal error
        if args.debug:
            traceback.print_exc()
        else:
            print(f"内部错误：{type(err).__name__}: {err}\n（加 --debug 查看调用栈，并请报告此问题）", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
