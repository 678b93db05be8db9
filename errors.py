"""Error types shared by every layer.

`InputError` is for anything the user can fix in their files (exit code 2);
`SolveError` is for a solver that failed to produce an answer (exit code 1);
`DiskFullError` is for an output disk without room (exit code 4).
Messages are in Chinese because planners read them; field names stay as in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Parameters
    ----------
    file : str
        The file (or scenario key path) at fault, as the user named it.
    row : int or None
        Row as a spreadsheet shows it: the header is row 1, the first data row is row 2.
        ``None`` when the problem concerns the whole file or a column.
    field : str or None
        Column or key name, exactly as in the file.
    expected : str
        What was expected, in Chinese (e.g. "非负整数").
    found : str or None
        What was found (shortened when long).
    hint : str or None
        How to fix it, in Chinese.
    """

    file: str
    row: int | None = None
    field: str | None = None
    expected: str = ""
    found: str | None = None
    hint: str | None = None

    def zh(self) -> str:
        where = [f"文件 {self.file}"]
        if self.row is not None:
            where.append(f"第 {self.row} 行")
        if self.field is not None:
            where.append(f"字段“{self.field}”")
        text = "，".join(where) + "："
        if self.expected:
            text += f"应为{self.expected}"
        if self.found is not None:
            found = str(self.found)
            if len(found) > 60:
                found = found[:57] + "..."
            text += f"，实际为“{found}”"
        text += "。"
        if self.hint:
            text += self.hint
        return text


class XueweiError(Exception):
    """Base class of the errors xuewei raises on purpose."""

    exit_code = 1


class InputError(XueweiError, ValueError):
    """Bad input: one or more problems, all listed in one message (exit code 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str, file: str | Path | None = None):
        if isinstance(problems, str):
            problems = [Problem(file=str(file) if file is not None else "（输入）", expected="", hint=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self.message())

    def __reduce__(self):  # keep every problem when raised in a worker process
        return (type(self), (self.problems,))

    def message(self) -> str:
        if len(self.problems) == 1:
            return "输入有误：" + self.problems[0].zh()
        lines = [f"输入有误（共 {len(self.problems)} 处）："]
        shown = self.problems[:50]
        lines += [f"  - {p.zh()}" for p in shown]
        if len(self.problems) > len(shown):
            lines.append(f"  ……另有 {len(self.problems) - len(shown)} 处未列出")
        return "\n".join(lines)


class SolveError(XueweiError, RuntimeError):
    """The solver returned no usable answer; carries its status and gap."""

    exit_code = 1

    def __init__(self, message: str, status: str | None = None, gap: float | None = None):
        self.status = status
        self.gap = gap
        super().__init__(message)

    def __reduce__(self):  # keep status and gap when raised in a worker process
        return (type(self), (str(self), self.status, self.gap))


class DiskFullError(XueweiError, OSError):
    """The output folder's disk is full (or will be): says which folder, how much room is free and
    roughly how much a run needs (exit code 4). Nothing half-written is left behind."""

    exit_code = 4

    def __init__(self, folder: str | Path, free_bytes: int | None = None, need_bytes: int | None = None,
                 before: bool = False):
        self.folder, self.free_bytes, self.need_bytes, self.before = str(folder), free_bytes, need_bytes, before
        text = f"磁盘空间不足：输出文件夹 {folder} 所在的磁盘"
        text += "剩余空间不够本次运行写出结果" if before else "已写满，结果未能写完（未留下任何不完整的输出）"
        if free_bytes is not None:
            text += f"；现剩余约 {_mb(free_bytes)}"
        if need_bytes is not None:
            text += f"，本次运行约需 {_mb(need_bytes)}"
        text += "。请清理该磁盘，或用 --out 指定空间充足的文件夹后重试。"
        if before:
            text += "（尚未开始计算。）"
        super().__init__(text)

    def __reduce__(self):  # keep the fields when raised in a worker process
        return (type(self), (self.folder, self.free_bytes, self.need_bytes, self.before))


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n < 1e9 else f"{n / 1e9:.1f} GB"


def raise_if(problems: list[Problem]) -> None:
    """Raise one `InputError` listing every problem, if there are any."""
    if problems:
        raise InputError(problems)
