"""The evidence report: self-contained, bound to the audit chain, for the owner and the submitter only;
and `cohortbench report` writing it (and its PDF, rendered to PNG for a look)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cohortbench.cli.app import app as cli
from cohortbench.store import audit
from cohortbench.store.models import AuditEntry, User
from cohortbench.web.report import report_html
from tests.artifacts import ARTIFACTS as TEST_ARTIFACTS

from .conftest import WebDeployment

ARTIFACTS = TEST_ARTIFACTS


def test_report_is_self_contained_and_complete(app: Any, web: WebDeployment) -> None:
    sid = web.submissions["alice-gbm"]
    html = web.client(app, "owner").get(f"/s/{sid}/report").text
    assert "<script" not in html and "<link" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the report must make no request"
    assert "url(http" not in html
    for needle in ("0" * 64, "sklearn", "Recall of class 3", "Negative transfer", "Head hash", "Python 3."):
        assert needle in html, needle
    # class distribution + the eight charts of the submission (ROC, PR included) + the owner's drift chart
    assert html.count("<svg") == 10
    assert "Drift (owner only)" in html and "holdout of version 1" in html


def test_report_binds_to_the_audit_head_and_is_logged(app: Any, web: WebDeployment) -> None:
    sid = web.submissions["bob-xgb"]
    # the first report of a workspace releases its EDA aggregates (an audit entry of its own):
    # issue one first, so the head captured below is the one the next report binds to
    web.client(app, "owner").get(f"/s/{sid}/report")
    with web.platform.session() as session:
        head = audit.verify(session).head_hash
    html = web.client(app, "owner").get(f"/s/{sid}/report").text
    assert head in html
    with web.platform.session() as session:
        last = session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
        assert last is not None and last.action == "report.issue" and last.payload["head_hash"] == head
        assert audit.verify(session).ok


def test_report_is_for_the_owner_and_the_submitter_only(app: Any, web: WebDeployment) -> None:
    sid = web.submissions["carol-net"]
    assert web.client(app, "carol").get(f"/s/{sid}/report").status_code == 200
    for who in ("alice", "bob", "mallory"):
        assert web.client(app, who).get(f"/s/{sid}/report").status_code == 404


def test_contributor_report_keeps_resources_coarse(app: Any, web: WebDeployment) -> None:
    html = web.client(app, "carol").get(f"/s/{web.submissions['carol-net']}/report").text
    assert "0-60 s" in html and "42.0 s" not in html
    assert "Drift" not in html  # the drift report is the owner's


def test_report_download_is_an_attachment(app: Any, web: WebDeployment) -> None:
    response = web.client(app, "owner").get(f"/s/{web.submissions['alice-gbm']}/report?download=1")
    assert 'attachment; filename="cohortbench-report-' in response.headers["content-disposition"]


def test_cli_refuses_an_unknown_submission(web: WebDeployment, tmp_path: Path) -> None:
    data_dir = str(web.platform.settings.data_dir)
    result = CliRunner().invoke(
        cli, ["report", "999", "--out", str(tmp_path / "r.html"), "--data-dir", data_dir]
    )
    assert result.exit_code != 0
    assert not (tmp_path / "r.html").exists()


@pytest.mark.browser
def test_cli_writes_html_and_pdf(web: WebDeployment) -> None:
    """The owner's command on a local deployment; the PDF's first page is saved as PNG to look at."""
    out = ARTIFACTS / "report" / "report.html"
    data_dir = str(web.platform.settings.data_dir)
    args = ["report", str(web.submissions["bob-xgb"]), "--out", str(out), "--pdf", "--data-dir", data_dir]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "bob-xgb on" in out.read_text()
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(out.with_name("page"))], check=True)
        assert list(out.parent.glob("page-*.png"))


def test_rendering_the_report_records_nothing(web: WebDeployment) -> None:
    """`report_html` is a read: only issuing (the page, the CLI) appends its `report.issue` entry."""
    sid = web.submissions["bob-xgb"]
    with web.platform.session() as session:
        owner = session.query(User).filter_by(name="owner").one()
        report_html(web.platform, session, actor=owner, submission_id=sid)  # releases the EDA once
    with web.platform.session() as session:
        before = audit.head(session)
        body, head = report_html(web.platform, session, actor=owner, submission_id=sid)
        assert head == before == audit.head(session) and before.head_hash in body
