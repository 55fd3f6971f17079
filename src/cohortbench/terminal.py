"""Rich output for the terminal, shared by the CLI and the demo (below both): the console every
command prints with, and leaderboard tables of the public leaderboard document."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

#: width for a log or pipe; Rich's default there is 80 columns, which wraps a leaderboard to pieces
PIPE_WIDTH = 150


def make_console() -> Console:
    """The terminal's own width on a terminal; PIPE_WIDTH when stdout is redirected."""
    return Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)


def _fmt(item: dict[str, Any] | None) -> str:
    if not item or item.get("value") is None:
        return "—"
    low, high = item.get("low"), item.get("high")
    if low is None or high is None:
        return f"{item['value']:.2f}"
    return f"{item['value']:.2f} [{low:.2f}–{high:.2f}]"


def leaderboard_table(body: dict[str, Any], *, title: str | None = None) -> Table:
    """Claimed / out-of-the-box / after fine-tuning / critical recall, each with its 95% interval."""
    table = Table(title=title or f"{body['workspace']} leaderboard ({body['metric']}, 95% CI)")
    for column in ("#", "contributor", "model", "claimed", "out-of-the-box", "after fine-tuning"):
        table.add_column(column)
    table.add_column(f"recall of {body['critical_class']}")
    table.add_column("transfer")
    table.add_column("")
    for row in body["rows"]:
        table.add_row(
            str(row["rank"]),
            row["contributor"],
            f"{row['model']} ({row['framework']})",
            f"{row['claimed']:.2f}" if row.get("claimed") is not None else "—",
            _fmt(row.get("baseline")),
            _fmt(row.get("finetuned")),
            _fmt(row.get("critical_recall")),
            f"{row['transfer_ratio']:.2f}" if row.get("transfer_ratio") is not None else "—",
            f"⚠ {row['warning']}" if row.get("warning") else "",
        )
    return table


def holdup_table(rows: list[Any]) -> Table:
    """Each model's score per cohort version, its change against the first, and the drop flag."""
    table = Table(
        "submission", "contributor", "model", "version", "phase", "score (95% CI)", "vs first", "drop"
    )
    for row in rows:
        for p in row.points:
            score = "-" if p.value is None else f"{p.value:.3f} ({_num(p.low)}-{_num(p.high)})"
            diff = "" if p.difference is None else f"{p.difference:+.3f}"
            if p.difference_low is not None and p.difference_high is not None:
                diff += f" ({p.difference_low:+.3f} to {p.difference_high:+.3f}, paired)"
            elif p.paired is False:
                diff += " (unpaired)"
            table.add_row(
                f"#{p.submission_id}", row.contributor, row.model, str(p.version), p.phase, score, diff,
                "[red]significant drop[/red]" if p.dropped else "",
            )  # fmt: skip
    return table


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value:.3f}"
