"""In-sandbox entry point: `python -m cohortbench.sandbox.entry JOB_DIR COMMAND_FD DONE_FD [PRELOAD]`.

Runs under the run's unprivileged uid with no network. It imports once (PRELOAD, comma-separated
module names, first: a warm sandbox imports the runtime before any bundle is staged), then serves
phases: it
waits for a command line `{"seq": N, "phase": ..., "last": ...}` on COMMAND_FD, reads
JOB_DIR/input/PHASE (job.json, Parquet, npy), loads the bundle afresh from JOB_DIR/bundle, runs the
phase and writes JOB_DIR/output/PHASE: predictions.npy, permuted.npy (the permuted copies of the
holdout, predicted a chunk of copies per call: permuting.py), losses.json, resources.json and
weights/ (finetune), or error.json on failure; then answers `{"done": N}` on DONE_FD. After a
"last" phase it exits (status 1 if the phase failed), as a one-phase run always did.

Contributor code runs in this very process, so it could overwrite any of these files or write to
either pipe: the launcher re-validates everything it reads back, measures time and CPU itself, and
stages the next phase's inputs only after it has read this phase's outputs. A forged "done" only
cuts the contributor's own phase short.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cohortbench.bundles.plan import Plan
from cohortbench.sandbox import outputs as out
from cohortbench.sandbox import permuting, pipes
from cohortbench.sandbox.errors import code_for_exception
from cohortbench.sandbox.frames import read_frame


def _predict(model: Any, frame: pd.DataFrame, n_classes: int) -> np.ndarray:
    """predict_proba as a float64 array, checked enough to fail early with bad_predictions."""
    proba = np.asarray(model.predict_proba(frame), dtype=np.float64)
    out.check_probabilities(proba, n_rows=len(frame), n_classes=n_classes)
    return proba


def _load(bundle_dir: Path) -> Any:
    from cohortbench.bundles import load_model, validate_bundle

    return load_model(bundle_dir, validate_bundle(bundle_dir))


def run(job_dir: Path, phase: str) -> None:
    """One phase; any exception propagates to `serve`, which files it as error.json."""
    input_dir, output_dir = job_dir / "input" / phase, job_dir / "output" / phase
    bundle_dir = job_dir / "bundle"
    job = json.loads((input_dir / "job.json").read_text())
    classes = list(job["classes"])
    holdout = read_frame(input_dir / "holdout.parquet")
    model = _load(bundle_dir)
    losses: list[float] = []
    if job["phase"] == "finetune":
        # in column chunks, like the holdout: a wide table read whole peaks at several times its size
        train = read_frame(input_dir / "train.parquet")
        labels = np.load(input_dir / "train_labels.npy", allow_pickle=False)
        plan = Plan.from_dict(job["plan"])
        losses = [
            float(v) for v in model.fine_tune(train, labels, plan, classes=classes, device=job["device"])
        ]
        out.check_budget(getattr(model, "flop_count", None), job.get("budget_flop"))
        model.save(output_dir / "weights")
    np.save(output_dir / out.PREDICTIONS, _predict(model, holdout, len(classes)))
    specs = job["permutations"]
    if specs:
        stack = permuting.predict_permuted(model.predict_proba, holdout, specs, len(classes))
        np.save(output_dir / out.PERMUTED, stack)
    out.write_json(output_dir / out.LOSSES, losses[: int(job["max_loss_points"]) + 1])
    flop = getattr(model, "flop_count", None)
    out.write_json(
        output_dir / out.RESOURCES, {"flop": flop, "n_parameters": getattr(model, "n_parameters", None)}
    )


def _error_document(exc: BaseException, bundle_dir: Path) -> dict[str, Any]:
    """error.json: code, type, bundle frames (raw: the launcher sanitizes), and the owner-only text."""
    frames = []
    root = str(bundle_dir.resolve()) + "/"
    for fs in traceback.extract_tb(exc.__traceback__):
        if fs.filename.startswith(root):
            frames.append({"file": fs.filename[len(root) :], "line": fs.lineno, "function": fs.name})
    return {
        "code": code_for_exception(exc),
        "exc_type": [cls.__name__ for cls in type(exc).__mro__],
        "frames": frames[-out.MAX_FRAMES :],
        "message": str(exc)[: out.MAX_MESSAGE_CHARS],
        "traceback": "".join(traceback.format_exception(exc))[-out.MAX_MESSAGE_CHARS :],
    }


def serve(job_dir: Path, phase: str) -> bool:
    """Run one phase; on failure write its error.json. True if it succeeded."""
    try:
        run(job_dir, phase)
    except BaseException as exc:  # everything, including SystemExit from contributor code
        # writing may fail too (e.g. MemoryError again): the exit status or the missing files tell
        with contextlib.suppress(BaseException):
            out.write_json(job_dir / "output" / phase / out.ERROR, _error_document(exc, job_dir / "bundle"))
        return False
    return True


def _report(done_fd: int, seq: int) -> None:
    """Flush what the phase printed (it belongs to this phase), then answer "done"."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    with contextlib.suppress(BaseException):  # a closed pipe: the host's wall clock ends the phase
        os.write(done_fd, json.dumps({"done": seq}).encode() + b"\n")


def preload(modules: list[str]) -> None:
    """Import the runtime ahead of any bundle (a warm sandbox); a module that fails is skipped: the
    phase that needs it imports it again and files the error as its own."""
    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def exit_with_host(commands_fd: int) -> None:
    """Exit at once when the host's end of the command pipe closes, even in the middle of a phase.

    The host closes it only after killing the sandbox, or by dying. bwrap dies with the worker
    (--die-with-parent) but this interpreter did not: setpriv's uid change clears the parent-death
    signal, and a dying root-owned parent may not signal another uid even when it is set again, so
    a killed worker left a phase running to its CPU limit. As pid 1 of the sandbox's namespace,
    this process exiting takes everything in the sandbox with it.
    """
    import select
    import threading

    poller = select.poll()
    poller.register(commands_fd, 0)  # POLLHUP, POLLERR and POLLNVAL are always reported

    def watch() -> None:
        while True:
            if any(event & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, event in poller.poll()):
                os._exit(HOST_GONE)

    threading.Thread(target=watch, name="host-watch", daemon=True).start()


#: exit status when the host went away (nobody reads it: the host is gone)
HOST_GONE = 70
#: the "done" number a warm sandbox answers when it has done importing (phases count from 1); it
#: comes before any contributor code runs, so the host may trust it (SandboxProcess.hand_over)
READY = 0


def main(argv: list[str]) -> int:
    """Serve commands until a "last" phase (exit 0 if it succeeded, else 1) or the pipe closes."""
    job_dir, commands_fd, done_fd = Path(argv[1]), int(argv[2]), int(argv[3])
    pipes.keep_private(commands_fd, done_fd)  # not for what contributor code execs or forks
    exit_with_host(commands_fd)
    if len(argv) > 4:
        preload([m for m in argv[4].split(",") if m])
        _report(done_fd, READY)
    sys.path.insert(0, str(job_dir / "bundle"))
    commands = os.fdopen(commands_fd, "rb")
    while line := commands.readline(4096):
        importlib.invalidate_caches()  # a warm sandbox's bundle/ was empty when it started
        command = json.loads(line)
        phase, seq = str(command["phase"]), int(command["seq"])
        if phase not in ("baseline", "finetune"):
            return 2
        ok = serve(job_dir, phase)
        _report(done_fd, seq)
        if command.get("last"):
            leave(0 if ok else 1)
    return 0


def leave(status: int) -> None:
    """Exit as a normal exit would, less the interpreter's teardown.

    Non-daemon threads are waited for and the exit handlers run (contributor code's too: they count
    in a last phase, as they always did), the streams are flushed; then the process ends without
    tearing down every module, which with the runtime loaded took 0.75-1 s of the last phase's
    wall time (nearly all of the host's grace, process.EXIT_GRACE_SECONDS).
    """
    import atexit
    import threading

    with contextlib.suppress(BaseException):
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join()
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
