"""Error types shared by every layer.

`InputError` is for anything the user can fix in their files (exit code 2);
`SolveError` is for a solver that failed to produce an answer (exit code 1).
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


def raise_if(problems: list[Problem]) -> None:
    """Raise one `InputError` listing every problem, if there are any."""
    if problems:
        raise InputError(problems)
