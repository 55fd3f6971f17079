"""`cohortbench cohort ...`: generate the reference cohorts to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cohortbench import cohorts
from cohortbench.errors import ValidationError

app = typer.Typer(help="Reference cohorts (DILI, neuromuscular).", no_args_is_help=True)


@app.command("generate")
def generate(
    name: Annotated[str, typer.Argument(help="dili or neuromuscular")],
    out: Annotated[Path, typer.Option("--out", help="Output file, .csv or .parquet")],
    seed: Annotated[int, typer.Option(help="Random seed (non-negative)")] = 0,
    site: Annotated[str, typer.Option(help="'workspace' (default) or a shifted site, e.g. pharma-internal")] = "workspace",
) -> None:
    """Write a reference cohort (or a shifted-site cohort of the same schema) to FILE."""
    if seed < 0:
        raise ValidationError(f"--seed must be a non-negative integer, got {seed}")
    frame = cohorts.generate(name, seed=seed, site=site)
    cohorts.save_frame(frame, out)
    spec = cohorts.get_spec(name)
    Console(stderr=True).print(
        f"wrote {len(frame):,} records x {len(spec.features)} features of {name!r} (site {site}) to {out}"
    )
