"""The `cohortbench` command: one Typer app, one module per command group."""

from cohortbench.cli.app import app, main

__all__ = ["app", "main"]
