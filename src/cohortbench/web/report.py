"""The evidence report: one self-contained HTML file (inline CSS and SVG, no requests) per submission.

It binds the numbers to the audit chain: the report shows the chain's head when it was issued,
and issuing it appends a `report.issue` entry carrying that head, so the file can later be
checked against the log. Access: the workspace owner and the contributor who submitted.

Rendering (`report_html`) is a pure read. Issuing (`issue_report`, what the page and the CLI call)
adds only O(1) work to it: it reads the head (the last entry) and appends one entry. The chain is
not verified on every issue (a walk over the whole log per download); `cohortbench audit verify`
does that, and the head printed in the report is what it checks against.
"""

from __future__ import annotations

import platform as host
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench import __version__
from cohortbench.bundles import RUNTIME_PACKAGES
from cohortbench.errors import NotFoundError, ValidationError
from cohortbench.service import eda
from cohortbench.service.platform import Platform
from cohortbench.service.submissions import get_submission
from cohortbench.service.workspaces import latest_version
from cohortbench.store import audit
from cohortbench.store.models import AuditEntry, CohortVersion, User
from cohortbench.web import figures, views
from cohortbench.web.render import render

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


def report_context(
    platform: Platform, session: Session, *, actor: User, submission_id: int
) -> dict[str, Any]:
    """Everything the report shows; raises NotFoundError for anyone but the owner and the submitter."""
    if not views.may_report(session, actor, submission_id):
        raise NotFoundError(f"no submission {submission_id}")
    ctx = views.submission_page(platform, session, actor, submission_id)
    submission, workspace, role = get_submission(session, actor=actor, submission_id=submission_id)
    release = eda.workspace_eda(platform, session, actor=actor, name=workspace.name)
    ctx.update(
        eda=release,
        class_chart=figures.class_distribution(release, ctx["labels"]),
        cohort=session.get(CohortVersion, submission.cohort_version_id) or latest_version(session, workspace),
        manifest=dict(submission.manifest or {}),
        runtime=_runtime(submission.framework),
        trail=_trail(session, submission_id, owner=role == "owner"),
        issued_at=datetime.now(UTC),
        issued_to=actor.display_name or actor.name,
        version=__version__,
    )
    if role == "owner":
        ctx.update(views.owner_drift(platform, session, actor, workspace.name))
    return ctx


def _runtime(framework: str) -> dict[str, Any]:
    return {
        "python": host.python_version(),
        "cohortbench": __version__,
        "packages": dict(sorted(RUNTIME_PACKAGES.items())),
        "framework": framework,
    }


def _trail(session: Session, submission_id: int, *, owner: bool) -> list[AuditEntry]:
    """This submission's entries of the audit log (creation, each run's result).

    A contributor's report lists only the submission's own entries: the time each run ended
    would tell them how long each phase took, to the second (a channel, see privacy.channels).
    """
    target = f"%submission:{submission_id}%"
    query = select(AuditEntry).where(AuditEntry.target.like(target)).order_by(AuditEntry.id)
    return [
        e
        for e in session.scalars(query)
        if e.target.endswith(f"submission:{submission_id}")
        or (owner and f"submission:{submission_id}/" in e.target)
    ]


def report_html(
    platform: Platform, session: Session, *, actor: User, submission_id: int
) -> tuple[str, audit.Head]:
    """The report and the audit chain's head it shows; it records nothing of its own. The head is
    read after the context, whose EDA may be released (and logged) on a workspace's first report."""
    ctx = report_context(platform, session, actor=actor, submission_id=submission_id)
    head = audit.head(session)
    return render("report.html", chain=head, **ctx), head


def issue_report(platform: Platform, session: Session, *, actor: User, submission_id: int) -> str:
    """Render the report and record its issue, with the head it shows, in the audit log."""
    body, head = report_html(platform, session, actor=actor, submission_id=submission_id)
    _submission, workspace, _role = get_submission(session, actor=actor, submission_id=submission_id)
    audit.append(
        session,
        actor=actor.name,
        action="report.issue",
        target=f"workspace:{workspace.name}/submission:{submission_id}",
        payload={"head_hash": head.head_hash, "n_entries": head.n_entries},
    )
    return body


def write_pdf(html_file: Path, pdf_file: Path, *, chromium: str = CHROMIUM, timeout: float = 120.0) -> Path:
    """Print the report to PDF with headless Chromium (no network, a throwaway profile)."""
    if not Path(chromium).exists():
        raise ValidationError(f"--pdf needs Chromium at {chromium} (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="cohortbench-chromium-") as profile:
        argv = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_file.resolve()}",
        ]
        done = subprocess.run([*argv, html_file.resolve().as_uri()], capture_output=True, timeout=timeout)
    if done.returncode != 0 or not pdf_file.exists():
        raise ValidationError(f"Chromium could not print the report (exit {done.returncode})")
    return pdf_file
