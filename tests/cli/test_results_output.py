"""What `cohortbench results` prints for a failed submission, and the SDK's progress in a log."""

from __future__ import annotations

import io
from typing import Any

import pytest

from cohortbench.cli import contribute
from cohortbench.client import Progress, Submission, SubmissionResult, format_error

ERROR = {"code": "bad_predictions", "exc_type": "ValueError", "detail": "not_finite"}


def _result(status: str, error: dict[str, Any] | None, runs: list[dict[str, Any]]) -> SubmissionResult:
    return SubmissionResult(Submission(7, "tiny", "tiny-lr", "sklearn", status, error), runs)


def test_a_failed_submission_prints_its_error_not_an_empty_frame(capsys: pytest.CaptureFixture[str]) -> None:
    runs = [{"phase": "baseline", "status": "failed", "error": ERROR, "headline": {}}]
    contribute.print_result(_result("failed", ERROR, runs))
    out = capsys.readouterr().out
    assert "submission 7: failed" in out
    assert "error: bad_predictions (ValueError): not_finite" in out
    assert "no scores" in out
    assert "Empty DataFrame" not in out and "Index: []" not in out


def test_a_phase_error_is_named_with_its_phase(capsys: pytest.CaptureFixture[str]) -> None:
    fine_error = {"code": "timeout", "exc_type": None, "detail": None}
    runs = [
        {"phase": "baseline", "status": "succeeded", "error": None, "headline": {"macro_f1": {"value": 0.5}}},
        {"phase": "finetune", "status": "failed", "error": fine_error, "headline": {}},
    ]
    contribute.print_result(_result("failed", None, runs))
    out = capsys.readouterr().out
    assert "finetune error: timeout" in out and "macro_f1" in out and "0.5" in out


def test_format_error() -> None:
    assert format_error(None) is None
    assert format_error({"code": "crashed", "exc_type": "KeyError"}) == "crashed (KeyError)"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _body(status: str, baseline: str, finetune: str) -> dict[str, Any]:
    return {
        "status": status,
        "runs": [{"phase": "baseline", "status": baseline}, {"phase": "finetune", "status": finetune}],
    }


def test_progress_off_a_terminal_writes_one_line_per_state_change() -> None:
    stream, clock = io.StringIO(), Clock()  # StringIO is not a terminal
    progress = Progress(7, stream, clock=clock)
    polls = [("queued", "queued", "queued")] * 5 + [("running", "running", "queued")] * 20
    polls += [("running", "succeeded", "running")] * 30 + [("succeeded", "succeeded", "succeeded")]
    for poll in polls:
        clock.now += 1.0
        progress.update(_body(*poll))
    progress.close(_body(*polls[-1]))
    text = stream.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and len(lines) == 4
    assert lines[1].startswith("submission 7: running") and "baseline running 0.0 s" in lines[1]
    assert "baseline succeeded 20.0 s" in lines[2] and "finetune running 0.0 s" in lines[2]
    assert "[2/2 phases]" in lines[3] and "finetune succeeded 30.0 s" in lines[3]


def test_progress_on_a_terminal_redraws_one_line() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream, clock = Tty(), Clock()
    progress = Progress(7, stream, clock=clock)
    for _ in range(3):
        clock.now += 1.0
        progress.update(_body("running", "running", "queued"))
    progress.close(_body("running", "running", "queued"))
    assert stream.getvalue().count("\r") == 3 and stream.getvalue().endswith("\n")
