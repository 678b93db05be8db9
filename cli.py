"""The `xuewei` command: one exception boundary around the subcommands.

Each subcommand lives in its own module, which exposes ``register(subparsers)``;
the parser it adds must set ``func`` (``args.func(args) -> int``).
Exit codes: 0 success, 2 bad input, 3 policy cannot be fully served, 4 output disk full, 1 internal
error; 141 when the reader of the output went away (a closed pipe), as for Unix tools.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from xuewei import __version__
from xuewei.errors import DiskFullError, XueweiError
from xuewei.reports.runfolder import is_disk_full, stop_workers_on_interrupt

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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        with stop_workers_on_interrupt():
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a reader that went away shows here, inside the boundary
            return code
    except BrokenPipeError:
        return _reader_gone()
    except XueweiError as err:
        if args.debug:
            traceback.print_exc()
        print(f"错误：{err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except Exception as err:  # the boundary: anything unplanned is an internal error
        if is_disk_full(err):
            full = DiskFullError(getattr(err, "filename", None) or "（输出文件夹）")
            print(f"错误：{full}", file=sys.stderr)
            return full.exit_code
        if args.debug:
            traceback.print_exc()
        else:
            print(f"内部错误：{type(err).__name__}: {err}\n（加 --debug 查看调用栈，并请报告此问题）", file=sys.stderr)
        return 1


def _reader_gone() -> int:
    """The reader of our output went away (``xuewei plans show … | head``): stop quietly, as Unix
    tools do, with the exit code of a process ended by SIGPIPE (128 + 13)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
    except (OSError, ValueError):
        pass
    return 141


if __name__ == "__main__":
    sys.exit(main())
