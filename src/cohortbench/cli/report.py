"""`cohortbench report SUBMISSION --out report.html [--pdf]`: the evidence report of one submission."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cohortbench.cli.common import DEFAULT_DATA_DIR, DataDir, as_admin


def report(
    submission: Annotated[int, typer.Argument(help="Submission id")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write")] = Path("report.html"),
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print it to PDF (same name, .pdf) with Chromium")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Write one self-contained HTML evidence report (inline CSS and SVG) for a local deployment's owner."""
    from cohortbench.web.report import issue_report, write_pdf

    with as_admin(data_dir) as (platform, session, admin):
        html = issue_report(platform, session, actor=admin, submission_id=submission)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    typer.echo(f"wrote {out}")
    if pdf:
        typer.echo(f"wrote {write_pdf(out, out.with_suffix('.pdf'))}")
