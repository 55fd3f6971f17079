"""One sandboxed process serves both phases: train data only after the baseline is fixed, limits per phase."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohortbench.errors import ValidationError
from cohortbench.sandbox import CPU_PEAK_FLOP_PER_CORE_S, RunOutcome, RunRequest, SandboxSession
from tests.sandbox.conftest import CLASSES, TEST_LIMITS, write_phase_bundle

pytestmark = pytest.mark.sandbox


def requests(root: Path, holdout: pd.DataFrame, **fine: object) -> tuple[RunRequest, RunRequest]:
    base = RunRequest("baseline", root, CLASSES, holdout, limits=TEST_LIMITS)
    train = {"train_features": holdout, "train_labels": np.arange(len(holdout)) % 3}
    return base, replace(base, phase="finetune", **{**train, **fine})  # type: ignore[arg-type]


def both(tmp_path: Path, holdout: pd.DataFrame, **code: str) -> tuple[RunOutcome, RunOutcome, int]:
    """Baseline then finetune in one session: (baseline, finetune, processes started)."""
    base, fine = requests(write_phase_bundle(tmp_path / "b", **code), holdout)
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        first = box.run(base)
        second = box.run(fine, last=True)
    return first, second, box.processes_started


def test_the_baseline_sees_no_train_data_and_the_finetune_does(tmp_path: Path, holdout: pd.DataFrame) -> None:
    baseline = """
    if train_files():
        return np.tile([1.0, 0.0, 0.0], (n, 1))
    """
    finetune = (
        "value = float(os.listdir('/job/input') == ['finetune'] and len(train_files()) == 2 and len(X) == 12)"
    )
    base, fine, started = both(tmp_path, holdout, baseline=baseline, finetune=finetune)
    assert base.ok and fine.ok, (base.owner_log, fine.owner_log)
    assert base.predictions is not None and np.allclose(base.predictions, 1 / 3), "baseline saw train data"
    assert fine.losses == (1.0,), "the finetune did not see its train data"
    assert started == 1


def test_both_phases_run_in_the_same_process(tmp_path: Path, holdout: pd.DataFrame) -> None:
    """The private /tmp lives as long as the sandboxed process: the finetune finds the baseline's mark."""
    baseline = "open('/tmp/mark', 'w').write(str(os.getpid()))"
    finetune = "value = float(os.path.exists('/tmp/mark'))"
    base, fine, started = both(tmp_path, holdout, baseline=baseline, finetune=finetune)
    assert base.ok and fine.ok
    assert fine.losses == (1.0,)
    assert started == 1
    assert fine.resources.cpu_seconds < base.resources.cpu_seconds, "the finetune paid the start-up again"


@pytest.mark.parametrize(
    "death", ["os._exit(3)", "import ctypes\nctypes.string_at(0)"], ids=["exit", "segfault"]
)
def test_a_baseline_that_kills_its_interpreter_leaves_the_finetune_a_fresh_one(
    tmp_path: Path, holdout: pd.DataFrame, death: str
) -> None:
    baseline = f"open('/tmp/mark', 'w').write('x')\n{death}"
    finetune = "value = float(not os.path.exists('/tmp/mark'))"
    base, fine, started = both(tmp_path, holdout, baseline=baseline, finetune=finetune)
    assert base.status == "crashed" and base.predictions is None
    assert fine.ok and fine.losses == (1.0,), "the finetune ran in the dead baseline's sandbox"
    assert started == 2


def test_a_baseline_busy_loop_times_out_and_the_finetune_still_runs(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    base, fine = requests(write_phase_bundle(tmp_path / "b", baseline="while True:\n    pass"), holdout)
    base = replace(base, limits=replace(TEST_LIMITS, wall_seconds=2.0))
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        first = box.run(base)
        second = box.run(fine, last=True)
    assert first.status == "timeout"
    assert 2.0 <= first.resources.wall_seconds < 6.0
    assert second.ok and box.processes_started == 2


@pytest.mark.parametrize("capped_by", ["budget", "limits"])
def test_the_per_phase_cpu_cap_kills_a_cpu_burning_finetune(
    tmp_path: Path, holdout: pd.DataFrame, capped_by: str
) -> None:
    """The kernel's RLIMIT_CPU is sized for both phases: only the host's per-phase count stops this."""
    fields: dict[str, object] = (
        {"budget_flop": 3 * CPU_PEAK_FLOP_PER_CORE_S}
        if capped_by == "budget"
        else {"limits": replace(TEST_LIMITS, cpu_seconds=3)}
    )
    root = write_phase_bundle(tmp_path / "b", finetune="while True:\n    pass")
    base, fine = requests(root, holdout, **fields)
    with SandboxSession(root, tmp_path / "w") as box:
        assert box.run(base).ok
        outcome = box.run(fine, last=True)
    assert outcome.status == ("budget_exceeded" if capped_by == "budget" else "timeout")
    assert outcome.resources.cpu_seconds == pytest.approx(3, abs=1.5)
    assert box.processes_started == 1


def test_the_baseline_cpu_is_not_charged_to_the_finetune(tmp_path: Path, holdout: pd.DataFrame) -> None:
    burn = """
    start = time.process_time()
    while time.process_time() - start < 2.5:
        pass
    """
    root = write_phase_bundle(tmp_path / "b", baseline=burn)
    base, fine = requests(root, holdout, budget_flop=3 * CPU_PEAK_FLOP_PER_CORE_S)
    with SandboxSession(root, tmp_path / "w") as box:
        first = box.run(base)
        second = box.run(fine, last=True)
    assert first.ok and first.resources.cpu_seconds >= 2.5
    assert second.ok, second.status
    assert second.resources.cpu_seconds < 1.5 and box.processes_started == 1


def test_a_forged_done_cannot_bring_train_data_into_the_baseline(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    """Contributor code answers "done" itself, then waits for the train data: too late for the baseline."""
    baseline = """
    done_fd = int(open('/proc/self/cmdline', 'rb').read().split(b'\\0')[-2])
    os.write(done_fd, b'{"done": 1}\\n')
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not os.path.exists(TRAIN):
        time.sleep(0.01)
    if os.path.exists(TRAIN):
        open('/tmp/saw_train', 'w').write('x')
        return np.tile([1.0, 0.0, 0.0], (n, 1))
    """
    finetune = "time.sleep(1)\nvalue = float(os.path.exists('/tmp/saw_train'))"
    base, fine = requests(write_phase_bundle(tmp_path / "b", baseline=baseline, finetune=finetune), holdout)
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        first = box.run(base)
        late = tmp_path / "w" / "output" / "baseline" / "predictions.npy"
        assert not late.exists()
        # not last: the finetune ends on "done", and the baseline's own, late "done" must not end it
        second = box.run(fine)
    assert first.status == "bad_predictions" and first.predictions is None
    assert second.ok and second.losses == (1.0,), "the forging baseline never saw train data, even later"
    assert np.allclose(np.load(late)[:, 0], 1.0), "the late write happened, and the outcome did not take it"
    assert box.processes_started == 1


def test_the_process_is_frozen_between_phases(tmp_path: Path, holdout: pd.DataFrame) -> None:
    baseline = """
    def tick():
        while True:
            open('/job/output/baseline/tick', 'w').write(repr(time.time()))
            time.sleep(0.01)
    threading.Thread(target=tick, daemon=True).start()
    time.sleep(0.1)
    """
    base, fine = requests(write_phase_bundle(tmp_path / "b", baseline=baseline), holdout)
    tick = tmp_path / "w" / "output" / "baseline" / "tick"
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        assert box.run(base).ok
        before = tick.read_text()
        time.sleep(0.5)
        assert tick.read_text() == before
        assert box.run(fine, last=True).ok
    assert tick.read_text() != before, "the thread ran again during the finetune"


def test_a_finetune_over_the_budget_is_never_staged_or_sent(tmp_path: Path, holdout: pd.DataFrame) -> None:
    base, fine = requests(write_phase_bundle(tmp_path / "b"), holdout, budget_flop=0.0)
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        assert box.run(base).ok
        assert box.run(fine, last=True).status == "budget_exceeded"
        with pytest.raises(ValidationError, match="already ran"):
            box.run(base)
    assert not (tmp_path / "w" / "input" / "finetune").exists()
    assert not (tmp_path / "w" / "output" / "finetune").exists()


def test_no_baseline_after_a_finetune(tmp_path: Path, holdout: pd.DataFrame) -> None:
    """The train data staged for a finetune stays in the job folder: a later baseline would see it."""
    base, fine = requests(write_phase_bundle(tmp_path / "b"), holdout)
    with SandboxSession(base.bundle_dir, tmp_path / "w") as box:
        assert box.run(fine).ok
        with pytest.raises(ValidationError, match="before the finetune"):
            box.run(base, last=True)


def test_each_phase_keeps_the_logs_that_arrived_during_it(tmp_path: Path, holdout: pd.DataFrame) -> None:
    baseline = "print('from the baseline')\nprint('baseline err', file=sys.stderr)"
    finetune = "print('from the finetune')\nvalue = 1.0"
    base, fine, started = both(tmp_path, holdout, baseline=baseline, finetune=finetune)
    assert base.owner_log.stdout == "from the baseline\n" and "baseline err" in base.owner_log.stderr
    assert fine.owner_log.stdout == "from the finetune\n" and "baseline" not in fine.owner_log.stderr
    assert started == 1
