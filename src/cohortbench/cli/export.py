"""`cohortbench export holdout|predictions`: an owner's own data, to CSV or Parquet (audited)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cohortbench.cli.common import DEFAULT_DATA_DIR, DataDir, as_admin

app = typer.Typer(help="Export your own data (owners; every export is audited).", no_args_is_help=True)

Out = Annotated[Path, typer.Option("--out", help="File to write: .csv or .parquet")]


@app.command("holdout")
def holdout(
    name: Annotated[str, typer.Argument(help="Workspace name")],
    out: Out,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """The holdout patient ids of workspace NAME (its current cohort version)."""
    from cohortbench.service import exports

    exports.check_suffix(out)
    with as_admin(data_dir) as (platform, session, admin):
        frame = exports.holdout_ids(platform, session, actor=admin, name=name)
        exports.write(frame, out)  # inside the transaction: a failed write leaves no audit entry
    typer.echo(f"wrote {len(frame):,} holdout ids of {name} to {out}")


@app.command("predictions")
def predictions(
    submission: Annotated[int, typer.Argument(help="Submission id")],
    out: Out,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Patient id, true label and each phase's class probabilities of SUBMISSION, in holdout-id order."""
    from cohortbench.service import exports

    exports.check_suffix(out)
    with as_admin(data_dir) as (platform, session, admin):
        frame = exports.predictions(platform, session, actor=admin, submission_id=submission)
        exports.write(frame, out)
    typer.echo(f"wrote predictions of submission {submission} for {len(frame):,} holdout patients to {out}")
