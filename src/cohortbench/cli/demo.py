"""`cohortbench demo`: both reference evaluations end to end, then the web pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the pages at the end")] = True,
    port: Annotated[int, typer.Option(help="Port of the web pages and API")] = 8000,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Demo data directory (wiped)")] = Path(
        ".cohortbench/demo"
    ),
    examples: Annotated[Path, typer.Option("--examples", help="Folder of the example bundles")] = Path(
        "examples"
    ),
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples per interval")] = 2000,
    repeats: Annotated[int, typer.Option(help="Permutation-importance repeats")] = 3,
) -> None:
    """Create the DILI and neuromuscular workspaces, run every contributor's submission, print the boards."""
    from cohortbench.demo import DemoOptions, run_demo

    run_demo(
        DemoOptions(
            data_dir=data_dir,
            examples_dir=examples,
            port=port,
            serve=serve,
            bootstrap_resamples=resamples,
            importance_repeats=repeats,
        )
    )
