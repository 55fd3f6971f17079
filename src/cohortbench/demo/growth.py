"""The demo's last act: the DILI workspace stays active.

A second hospital of the owner's network (generator site `workspace-b`, the same population on
another transaminase analyser) sends a batch; the owner grows the cohort (holdout fixed), reads the
drift report, which should flag ALT and AST and nothing else, re-runs the three contributors on the
new version and reads how each model holds up.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from cohortbench.cohorts import generate
from cohortbench.cohorts.sites import SECOND_SITE
from cohortbench.errors import CohortbenchError
from cohortbench.service import Platform, drift, growth, holdup, rerun
from cohortbench.service.local_admin import local_admin
from cohortbench.store.models import Submission
from cohortbench.terminal import holdup_table, make_console

console = make_console()
TERMINAL = ("succeeded", "failed", "cancelled")
WAIT_SECONDS = 1800.0


def grow_and_rerun(
    platform: Platform, workspace: str = "dili", batch: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Grow `workspace` by the second site's batch (or `batch`), report drift, re-run its submissions.

    A worker must be running (the demo's embedded one): this waits for the re-runs to end.
    """
    console.rule(f"the {workspace} workspace grows: a batch from site {SECOND_SITE}")
    if batch is None:
        batch = generate(workspace, site=SECOND_SITE)
    with platform.session() as session:
        owner, _token = local_admin(session)
        version = growth.grow(platform, session, actor=owner, name=workspace, batch=batch)
        report = drift.between_versions(
            platform,
            session,
            actor=owner,
            name=workspace,
            reference=version.version - 1,
            current=version.version,
        )
        made = rerun.rerun(session, actor=owner, name=workspace, version=version.version)
        ids, number = [m.id for m in made], version.version
        console.print(
            f"cohort version {number}: {version.n_records:,} records ({version.n_train:,} train / "
            f"{version.n_holdout:,} holdout, fixed)"
        )
    top = sorted(report.features, key=lambda f: -f.psi)[:5]
    console.print(
        f"drift of the batch at FDR {report.fdr:g}: flagged {', '.join(report.flagged) or 'nothing'}"
    )
    console.print("  largest PSI: " + ", ".join(f"{f.name} {f.psi:.2f}" for f in top))
    console.print(f"re-running {len(ids)} submission(s) on version {number} (charged to the owner)")
    _wait(platform, ids)
    with platform.session() as session:
        owner, _token = local_admin(session)
        rows = holdup.holds_up(platform, session, actor=owner, name=workspace)
    console.print(holdup_table(rows))
    return {
        "version": number,
        "flagged": report.flagged,
        "psi": {f.name: f.psi for f in report.features},
        "reruns": ids,
        "holdup": [
            {
                "contributor": r.contributor,
                "model": r.model,
                "dropped": r.dropped,
                "points": [
                    {"version": p.version, "value": p.value, "low": p.low, "high": p.high} for p in r.points
                ],
            }
            for r in rows
        ],
    }


def _wait(platform: Platform, ids: list[int]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with platform.session() as session:
            statuses = [s.status for s in (session.get(Submission, i) for i in ids) if s is not None]
        if all(s in TERMINAL for s in statuses):
            return
        time.sleep(0.5)
    raise CohortbenchError(f"the re-runs {ids} did not finish within {WAIT_SECONDS:.0f} s")
