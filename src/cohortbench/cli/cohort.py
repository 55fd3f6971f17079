"""`cohortbench cohort ...`: generate the reference cohorts to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cohortbench.errors import ValidationError

app = typer.Typer(help="Reference cohorts (DILI, neuromuscular).", no_args_is_help=True)


def parse_seed(text: str) -> int:
    """The seed as an int; parsed here so a bad value is a one-line error, not a usage box."""
    if not text.strip().isdigit():
        raise ValidationError(f"--seed must be a non-negative integer, got {text!r}")
    return int(text)


@app.command("generate")
def generate(
    name: Annotated[str, typer.Argument(help="dili or neuromuscular")],
    out: Annotated[Path, typer.Option("--out", help="Output file, .csv or .parquet")],
    seed: Annotated[str, typer.Option(help="Random seed (non-negative integer)")] = "0",
    site: Annotated[
        str, typer.Option(help="'workspace' (default) or a shifted site, e.g. pharma-internal")
    ] = "workspace",
) -> None:
    """Write a reference cohort (or a shifted-site cohort of the same schema) to FILE."""
    from cohortbench import cohorts

    frame = cohorts.generate(name, seed=parse_seed(seed), site=site)
    cohorts.save_frame(frame, out)
    spec = cohorts.get_spec(name)
    Console(stderr=True).print(
        f"wrote {len(frame):,} records x {len(spec.features)} features of {name!r} (site {site}) to {out}"
    )
