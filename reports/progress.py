"""A live display of the layout solve: models done of total, elapsed time, worst gap so far.

In a terminal it is a `rich` progress bar on stderr; in a log file (not a terminal) it prints a line
when a tenth of the models is done and when all are, so a log shows progress without a flood.
"""

from __future__ import annotations

import contextlib
import sys
import time

import pandas as pd


def gap_text(gap) -> str:
    """``1.23%``, or ``—`` for a model without a bound."""
    return "—" if gap is None or pd.isna(gap) else f"{gap:.2%}"


class SolveProgress:
    """Tracks solved models; ``update(done, total, summary)`` is `solve_layout`'s ``on_model``."""

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.start = time.perf_counter()
        self.worst: float | None = None
        self.worst_model = ""
        self.total = 0
        self.done = 0
        self._progress = None
        self._task = None
        self._next_line = 0

    def status(self) -> str:
        worst = f"最差间隙 {gap_text(self.worst)}（{self.worst_model}）" if self.worst is not None else "最差间隙 —"
        return worst

    def update(self, done: int, total: int, summary: dict) -> None:
        self.done, self.total = done, total
        gap = summary.get("gap")
        if gap is not None and not pd.isna(gap) and (self.worst is None or gap > self.worst):
            self.worst, self.worst_model = float(gap), str(summary.get("model", ""))
        if self._progress is not None:
            if self._task is None:
                self._task = self._progress.add_task("求解布局模型", total=total, status="")
            self._progress.update(self._task, completed=done, total=total, status=self.status())
        elif done >= self._next_line or done == total:
            elapsed = time.perf_counter() - self.start
            print(f"[{time.strftime('%H:%M:%S')}] 求解：已解 {done}/{total} 个模型，用时 {elapsed:.0f} 秒，{self.status()}",
                  file=sys.stderr, flush=True)
            self._next_line = done + max(1, total // 10)

    @contextlib.contextmanager
    def live(self):
        """A rich progress bar while the block runs (only in a terminal)."""
        if not self.console.is_terminal:
            yield self
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = [TextColumn("{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("{task.fields[status]}")]
        with Progress(*columns, console=self.console, transient=False) as progress:
            self._progress = progress
            try:
                yield self
            finally:
                self._progress = None
