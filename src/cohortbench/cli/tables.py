"""The terminal output the command modules print with; it lives in cohortbench.terminal, below the
CLI and the demo, so that the demo need not import the CLI."""

from cohortbench.terminal import PIPE_WIDTH, leaderboard_table, make_console

__all__ = ["PIPE_WIDTH", "leaderboard_table", "make_console"]
